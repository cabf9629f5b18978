import { Card, Flex, Typography } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { LanguageSwitch } from '../layout/language-switch.js';

/** The frame of the signed-out pages (setup, login): one card on a banded background. */
export function AuthLayout({
  title,
  subtitle,
  children,
}: {
  title: ReactNode;
  subtitle?: ReactNode;
  children: ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <div className="fc-auth-wrap">
      <Card className="fc-auth-card" variant="borderless" style={{ boxShadow: '0 8px 24px rgba(11, 61, 110, 0.18)' }}>
        <Flex justify="space-between" align="center" style={{ marginBottom: 4 }}>
          <Flex align="center" gap={8}>
            <span className="fc-brand-mark">F</span>
            <Typography.Text strong>
              {t('app.name')} · {t('app.title')}
            </Typography.Text>
          </Flex>
          <LanguageSwitch signedIn={false} />
        </Flex>
        <Typography.Title level={3} style={{ marginTop: 12, marginBottom: subtitle ? 4 : 20 }}>
          {title}
        </Typography.Title>
        {subtitle && (
          <Typography.Paragraph type="secondary" style={{ marginBottom: 20 }}>
            {subtitle}
          </Typography.Paragraph>
        )}
        {children}
      </Card>
    </div>
  );
}
