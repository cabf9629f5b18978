import { Flex, Typography } from 'antd';
import type { ReactNode } from 'react';

/** A page's title row (with its main actions) above its content. */
export function Page({ title, extra, children }: { title: ReactNode; extra?: ReactNode; children: ReactNode }) {
  return (
    <div className="fc-page">
      <Flex className="fc-page-head" justify="space-between" align="center" wrap gap={8}>
        <Typography.Title level={4} style={{ margin: 0 }}>
          {title}
        </Typography.Title>
        {extra && (
          <Flex gap={8} wrap>
            {extra}
          </Flex>
        )}
      </Flex>
      {children}
    </div>
  );
}
