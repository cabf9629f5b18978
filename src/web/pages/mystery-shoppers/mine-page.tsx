// 我的暗访: a mystery shopper's own assignments, as cards for a phone; open ones first.
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Button, Card, Empty, Flex, Spin, Tag, Typography } from 'antd';
import { client, unwrap } from '../../api/client.js';
import { Page } from '../../shared/page.js';
import { MYSTERY_KEY, ResultTag, windowText } from './shared.js';

export function MysteryMinePage() {
  const { t } = useTranslation();
  const mine = useQuery({
    queryKey: [...MYSTERY_KEY, 'mine'],
    queryFn: () => unwrap(client.GET('/api/mystery/my-assignments')),
  });
  const items = mine.data ?? [];
  return (
    <Page title={t('mystery.mine.title')}>
      <Spin spinning={mine.isFetching}>
        {items.length === 0 ? (
          <Empty description={t('mystery.mine.empty')} />
        ) : (
          <Flex vertical gap={8}>
            {items.map((a) => (
              <Card size="small" key={a.id} data-testid={`mystery-mine-${a.id}`}>
                <Flex gap={6} wrap align="center">
                  <Typography.Text strong>{a.orgUnitName}</Typography.Text>
                  <Tag color={a.state === 'open' ? 'blue' : 'default'}>
                    {t(`mystery.assignments.states.${a.state as 'open'}`)}
                  </Tag>
                  {a.visit && <ResultTag visit={a.visit} />}
                </Flex>
                <Typography.Text type="secondary" style={{ display: 'block' }}>
                  {a.formTitle} · {windowText(t, a)}
                </Typography.Text>
                {a.note && <div style={{ overflowWrap: 'anywhere' }}>{a.note}</div>}
                {a.state === 'open' && (
                  <Link to={`/mystery/visit/${a.id}`}>
                    <Button type="primary" block style={{ marginTop: 8 }} data-testid={`mystery-start-${a.id}`}>
                      {t('mystery.mine.start')}
                    </Button>
                  </Link>
                )}
              </Card>
            ))}
          </Flex>
        )}
      </Spin>
    </Page>
  );
}
