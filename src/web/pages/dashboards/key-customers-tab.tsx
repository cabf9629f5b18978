// Key customers of the unit in the month: how much the top customers and the large sales carry,
// day by day, and the top customers nobody owns or whose archive is not complete.
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { Alert, Card, Col, Empty, List, Row, Segmented, Statistic, Table, Tag, Typography } from 'antd';
import { Chart, type ChartOption } from '../../shared/chart.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { BLUE, ORANGE, litres, litresText, percent, yuanText, type KeyCustomers } from './format.js';

type Unattended = KeyCustomers['unattended'][number];
/** The list's order: the month's volume, or the 12-month value from the branch's models. */
export type KeySort = 'volume' | 'value';

export function KeyCustomersTab({
  data,
  sort,
  onSort,
}: {
  data: KeyCustomers;
  sort: KeySort;
  onSort: (sort: KeySort) => void;
}) {
  const { t } = useTranslation();
  const isPhone = useIsPhone();
  const k = data;

  const daysOption = useMemo<ChartOption>(
    () => ({
      color: [ORANGE, BLUE],
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 56, right: 12, top: 32, bottom: 28 },
      xAxis: { type: 'category', data: k.days.map((d) => d.day.slice(8)) },
      yAxis: { type: 'value', name: t('dashboard.litres') },
      series: [
        { name: t('dashboard.largeSales'), type: 'bar', stack: 'v', data: k.days.map((d) => litres(d.largeVolumeMl)) },
        {
          name: t('dashboard.otherSalesVolume'),
          type: 'bar',
          stack: 'v',
          data: k.days.map((d) => litres(d.volumeMl - d.largeVolumeMl)),
        },
      ],
    }),
    [k, t],
  );

  const step = (u: Unattended) => (
    <>
      {u.noOwner && <Tag color="red">{t('dashboard.noOwner')}</Tag>}
      {u.profileStep < 3 && <Tag color="orange">{t('dashboard.profileStep', { step: u.profileStep })}</Tag>}
    </>
  );
  const name = (u: Unattended) => <Link to={`/customers/${u.customerId}`}>{u.name ?? u.code}</Link>;
  // Whole yuan: the models give no more.
  const value = (u: Unattended) =>
    u.value12mFen == null ? t('dashboard.noValue') : yuanText(Math.round(u.value12mFen / 100) * 100);
  const byValue = sort === 'value';
  const sorter = (
    <Segmented<KeySort>
      size="small"
      value={sort}
      onChange={onSort}
      options={[
        { value: 'volume', label: t('dashboard.sortByVolume') },
        { value: 'value', label: t('dashboard.sortByValue') },
      ]}
      data-testid="key-sort"
    />
  );

  return (
    <>
      <Alert
        type="info"
        showIcon
        style={{ marginBottom: 12 }}
        title={t('dashboard.keyPolicy', {
          share: percent(k.policy.topShare, 0),
          yuan: k.policy.minTransactionYuan.toLocaleString('zh-CN'),
          products: k.policy.products.join('、'),
        })}
      />
      <Row gutter={[12, 12]} style={{ marginBottom: 12 }}>
        <Col xs={12} md={6}>
          <Card size="small" data-testid="key-top-share">
            <Statistic
              title={t('dashboard.topShareOfSales', { share: percent(k.policy.topShare, 0) })}
              value={percent(k.top.shareOfSales)}
            />
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t('dashboard.topOfCustomers', { count: k.top.topCustomers, total: k.top.customers })}
            </Typography.Text>
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title={t('dashboard.topShareOfCustomers')} value={percent(k.top.shareOfCustomers)} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small" data-testid="key-large-share">
            <Statistic title={t('dashboard.largeTxnShare')} value={percent(k.large.txnShare)} />
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {k.large.txnCount} / {k.large.allTxnCount}
            </Typography.Text>
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title={t('dashboard.largeVolumeShare')} value={percent(k.large.volumeShare)} />
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {litresText(k.large.volumeMl)} / {litresText(k.large.allVolumeMl)} L
            </Typography.Text>
          </Card>
        </Col>
      </Row>
      <Card size="small" title={t('dashboard.largeByDay')} style={{ marginBottom: 12 }}>
        {k.days.length ? (
          <Chart option={daysOption} height={260} testId="key-days-chart" />
        ) : (
          <Empty description={t('dashboard.noSales')} />
        )}
      </Card>
      <Card
        size="small"
        title={t('dashboard.unattended', { count: k.unattendedTotal })}
        extra={sorter}
        data-testid="key-unattended"
      >
        {isPhone ? (
          <List
            dataSource={k.unattended}
            locale={{ emptyText: t('dashboard.allAttended') }}
            renderItem={(u) => (
              <Card size="small" style={{ marginBottom: 8 }}>
                <Typography.Text strong>{name(u)}</Typography.Text>{' '}
                <Typography.Text type="secondary">{u.orgUnitName}</Typography.Text>
                <div style={{ margin: '4px 0' }}>
                  {litresText(u.volumeMl)} L · ¥{yuanText(u.amountFen)}
                  {byValue && ` · ${t('dashboard.value12m')} ${value(u)}`}
                </div>
                {step(u)}
              </Card>
            )}
          />
        ) : (
          <Table<Unattended>
            size="small"
            rowKey="customerId"
            dataSource={k.unattended}
            pagination={{ pageSize: 20, hideOnSinglePage: true }}
            locale={{ emptyText: t('dashboard.allAttended') }}
            scroll={{ x: 720 }}
            columns={[
              { title: t('customers.name'), key: 'name', render: (_x, u) => name(u) },
              { title: t('customers.code'), dataIndex: 'code' },
              { title: t('customers.orgUnit'), dataIndex: 'orgUnitName' },
              { title: t('dashboard.volumeL'), dataIndex: 'volumeMl', align: 'right' as const, render: litresText },
              {
                title: t('dashboard.amountYuan'),
                dataIndex: 'amountFen',
                align: 'right' as const,
                render: (f: number) => yuanText(f),
              },
              ...(byValue
                ? [
                    {
                      title: t('dashboard.value12m'),
                      key: 'value',
                      align: 'right' as const,
                      render: (_x: unknown, u: Unattended) => value(u),
                    },
                  ]
                : []),
              { title: t('customers.owner'), dataIndex: 'ownerName', render: (o: string | null) => o ?? '—' },
              { title: t('dashboard.why'), key: 'why', render: (_x, u) => step(u) },
            ]}
          />
        )}
      </Card>
    </>
  );
}
