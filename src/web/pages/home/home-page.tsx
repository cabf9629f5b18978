import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { Card, Col, Descriptions, Empty, Flex, Row, Tag, Typography } from 'antd';
import { useAccess } from '../../access.js';
import { PAGES } from '../../routes.js';
import { currentLocale } from '../../i18n/index.js';
import { useOrgUnits, useRoles } from '../../shared/queries.js';
import { useCurrentUser } from '../../shared/session.js';

// A welcome page for now; dashboards with charts come with the customer features.
export function HomePage() {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const access = useAccess();
  const units = useOrgUnits(access.canReadOrg);
  const roles = useRoles();
  const unit = units.data?.find((u) => u.id === me.orgUnitId);
  const zh = currentLocale() === 'zh-CN';
  const roleName = (code: string) => {
    const r = roles.data?.find((x) => x.code === code);
    return r ? (zh ? r.nameZh : r.nameEn) : code;
  };
  const links = PAGES.filter((p) => p.descKey && (!p.access || access[p.access]));

  return (
    <Flex vertical gap={16}>
      <Card>
        <Typography.Title level={3} style={{ marginTop: 0 }} data-testid="welcome">
          {t('home.welcome', { name: me.displayName })}
        </Typography.Title>
        <Descriptions column={1} size="small">
          <Descriptions.Item label={t('home.orgUnit')}>
            <span data-testid="home-org-unit">{unit?.name ?? '—'}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('home.roles')}>
            <Flex gap={4} wrap>
              {me.roles.length === 0 ? t('common.none') : me.roles.map((code) => <Tag key={code} color="blue">{roleName(code)}</Tag>)}
            </Flex>
          </Descriptions.Item>
        </Descriptions>
      </Card>
      <Card title={t('home.quickLinks')}>
        {links.length === 0 ? (
          <Empty description={t('home.noLinks')} />
        ) : (
          <Row gutter={[16, 16]}>
            {links.map((p) => (
              <Col key={p.path} xs={24} sm={12} lg={8}>
                <Link to={p.path}>
                  <Card hoverable size="small">
                    <Card.Meta avatar={<span style={{ fontSize: 22, color: '#0b6bcb' }}>{p.icon}</span>} title={t(`menu.${p.menuKey}`)} description={p.descKey ? t(`home.${p.descKey}`) : null} />
                  </Card>
                </Link>
              </Col>
            ))}
          </Row>
        )}
      </Card>
    </Flex>
  );
}
