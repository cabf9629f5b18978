// The start page: my work (counts and the next items due), what needs doing today in my unit (open
// alerts, today's visits), then my usual pages. Attendants start at the pump instead, and those who
// look after customers at their inbox (see startPathOf).
import { useTranslation } from 'react-i18next';
import { Link, Navigate } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Card, Col, Descriptions, Empty, Flex, List, Row, Statistic, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { startPathOf, useAccess } from '../../access.js';
import { PAGES, inMenuFor } from '../../routes.js';
import { currentLocale } from '../../i18n/index.js';
import { useOrgUnits, useRoles } from '../../shared/queries.js';
import { useCurrentUser } from '../../shared/session.js';
import { WORK_KEY, useWorkCounts } from '../../shared/work.js';
import { WorkRow } from '../work/work-page.js';

const litres = (ml: number | null) =>
  ml === null ? '—' : (ml / 1000).toLocaleString('zh-CN', { maximumFractionDigits: 1 });

function TodayVisits() {
  const { t } = useTranslation();
  const visits = useQuery({
    queryKey: ['visits-today'],
    queryFn: () => unwrap(client.GET('/api/pump/visits/today', { params: { query: { limit: 5 } } })),
  });
  const d = visits.data;
  return (
    <Card
      title={t('home.todayVisits')}
      loading={visits.isPending}
      extra={<Link to="/pump">{t('menu.pump')}</Link>}
      data-testid="home-visits"
    >
      {d && (
        <>
          <Row gutter={12} style={{ marginBottom: 8 }}>
            <Col span={12}>
              <Statistic title={t('home.visitCount')} value={d.count} />
            </Col>
            <Col span={12}>
              <Statistic title={t('home.visitLitres')} value={litres(d.volumeMl)} />
            </Col>
          </Row>
          <List
            size="small"
            dataSource={d.items}
            locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('home.noVisits')} /> }}
            renderItem={(v) => (
              <List.Item>
                <Flex justify="space-between" style={{ width: '100%' }} gap={8} wrap>
                  <span>
                    {v.customerId ? (
                      <Link to={`/customers/${v.customerId}`}>{v.plate ?? v.greeting ?? '—'}</Link>
                    ) : (
                      (v.plate ?? '—')
                    )}
                    {v.greeting && v.plate ? ` · ${v.greeting}` : ''}
                  </span>
                  <Typography.Text type="secondary">
                    {dayjs(v.at).format('HH:mm')} {v.product ?? ''}{' '}
                    {v.volumeMl !== null ? t('home.litresValue', { v: litres(v.volumeMl) }) : ''}
                  </Typography.Text>
                </Flex>
              </List.Item>
            )}
          />
        </>
      )}
    </Card>
  );
}

function MyWork() {
  const { t } = useTranslation();
  const counts = useWorkCounts();
  const next = useQuery({
    queryKey: [...WORK_KEY, 'inbox', 'home'],
    queryFn: () => unwrap(client.GET('/api/work/inbox', { params: { query: { page: 1, pageSize: 5 } } })),
  });
  const c = counts.data;
  return (
    <Card
      title={t('home.myWork')}
      loading={counts.isPending || next.isPending}
      extra={<Link to="/work">{t('menu.work')}</Link>}
      data-testid="home-work"
    >
      <Row gutter={12} style={{ marginBottom: 8 }}>
        <Col span={8}>
          <Statistic title={t('home.workOpen')} value={c?.total ?? 0} />
        </Col>
        <Col span={8}>
          <Statistic title={t('home.workDueToday')} value={c?.dueToday ?? 0} />
        </Col>
        <Col span={8}>
          <Statistic
            title={t('home.workOverdue')}
            value={c?.overdue ?? 0}
            valueStyle={c?.overdue ? { color: '#cf1322' } : undefined}
          />
        </Col>
      </Row>
      <List
        size="small"
        dataSource={next.data?.items ?? []}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('home.noWork')} /> }}
        renderItem={(item) => <WorkRow item={item} />}
      />
    </Card>
  );
}

function OpenAlerts() {
  const { t } = useTranslation();
  const alerts = useQuery({
    queryKey: ['alerts-open-home'],
    queryFn: () => unwrap(client.GET('/api/alerts', { params: { query: { status: 'open', page: 1, pageSize: 5 } } })),
  });
  const d = alerts.data;
  return (
    <Card
      title={t('home.openAlerts')}
      loading={alerts.isPending}
      extra={<Link to="/alerts">{t('menu.alerts')}</Link>}
      data-testid="home-alerts"
    >
      {d && (
        <>
          <Statistic title={t('home.openAlertCount')} value={d.total} style={{ marginBottom: 8 }} />
          <List
            size="small"
            dataSource={d.items}
            locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('home.noAlerts')} /> }}
            renderItem={(a) => (
              <List.Item>
                <Flex justify="space-between" style={{ width: '100%' }} gap={8} wrap>
                  <Link to={`/customers/${a.customer.id}`}>
                    {a.customer.greeting ?? a.customer.name ?? a.customer.plate ?? a.customer.code}
                  </Link>
                  <Tag color="orange">{t(`alerts.kinds.${a.kind}`)}</Tag>
                </Flex>
              </List.Item>
            )}
          />
        </>
      )}
    </Card>
  );
}

export function HomePage() {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const access = useAccess();
  const units = useOrgUnits(access.canReadOrg);
  const roles = useRoles();
  if (startPathOf(access) === '/pump') return <Navigate to="/pump" replace />;
  const unit = units.data?.find((u) => u.id === me.orgUnitId);
  const zh = currentLocale() === 'zh-CN';
  const roleName = (code: string) => {
    const r = roles.data?.find((x) => x.code === code);
    return r ? (zh ? r.nameZh : r.nameEn) : code;
  };
  const links = PAGES.filter((p) => p.descKey && inMenuFor(p, access));
  const desc = (key: NonNullable<(typeof PAGES)[number]['descKey']>) =>
    key === 'orgDesc' && !access.canWriteOrg ? t('home.orgDescRead') : t(`home.${key}`);

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
              {me.roles.length === 0
                ? t('common.none')
                : me.roles.map((code) => (
                    <Tag key={code} color="blue">
                      {roleName(code)}
                    </Tag>
                  ))}
            </Flex>
          </Descriptions.Item>
        </Descriptions>
      </Card>
      <MyWork />
      {(access.canReadAlerts || access.canReadCustomers) && (
        <Row gutter={[16, 16]}>
          {access.canReadAlerts && (
            <Col xs={24} lg={12}>
              <OpenAlerts />
            </Col>
          )}
          {access.canReadCustomers && (
            <Col xs={24} lg={12}>
              <TodayVisits />
            </Col>
          )}
        </Row>
      )}
      <Card title={t('home.quickLinks')}>
        {links.length === 0 ? (
          <Empty description={t('home.noLinks')} />
        ) : (
          <Row gutter={[16, 16]}>
            {links.map((p) => (
              <Col key={p.path} xs={24} sm={12} lg={8}>
                <Link to={p.path}>
                  <Card hoverable size="small">
                    <Card.Meta
                      avatar={<span style={{ fontSize: 22, color: '#0b6bcb' }}>{p.icon}</span>}
                      title={t(`menu.${p.menuKey}`)}
                      description={p.descKey ? desc(p.descKey) : null}
                    />
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
