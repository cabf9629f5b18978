// The unit's headline figures for the month beside the same month last year, its charts, and its
// child units for drill-down.
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Card, Col, Empty, List, Row, Statistic, Table, Tag, Typography } from 'antd';
import { Chart, type ChartOption } from '../../shared/chart.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import {
  BLUE,
  GREY,
  ORANGE,
  TEAL,
  growthColor,
  litres,
  litresText,
  percent,
  signedPercent,
  yuanText,
  type Dashboard,
} from './format.js';

type Child = Dashboard['children'][number];

/** On a phone, pie labels sit on their slices (outlined, to read on light ones); empty slices get none. */
const PHONE_PIE_LABEL = {
  position: 'inside' as const,
  color: '#fff',
  textBorderColor: 'rgba(0, 0, 0, 0.55)',
  textBorderWidth: 2,
  formatter: (p: { percent?: number }) => (p.percent ? `${p.percent}%` : ''),
};

function Growth({ value }: { value: number | null }) {
  const { t } = useTranslation();
  return (
    <Typography.Text style={{ color: growthColor(value), fontSize: 12 }}>
      {t('dashboard.yoy')} {signedPercent(value)}
    </Typography.Text>
  );
}

function Figure({
  title,
  value,
  suffix,
  growth,
  note,
  testId,
}: {
  title: string;
  value: string | number;
  suffix?: string;
  growth?: number | null;
  note?: string;
  testId?: string;
}) {
  return (
    <Card size="small" style={{ height: '100%' }} data-testid={testId}>
      <Statistic title={title} value={value} suffix={suffix} />
      {growth !== undefined && <Growth value={growth} />}
      {note && (
        <Typography.Text type="secondary" style={{ fontSize: 12, display: 'block' }}>
          {note}
        </Typography.Text>
      )}
    </Card>
  );
}

export function OverviewTab({ data, onOpenUnit }: { data: Dashboard; onOpenUnit: (id: number) => void }) {
  const { t } = useTranslation();
  const isPhone = useIsPhone();
  const d = data;

  const productsOption = useMemo<ChartOption>(
    () => ({
      color: [BLUE, '#bfbfbf'],
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 56, right: 12, top: 32, bottom: 28 },
      xAxis: { type: 'category', data: d.products.map((p) => p.product) },
      yAxis: { type: 'value', name: t('dashboard.litres') },
      series: [
        { name: d.month, type: 'bar', data: d.products.map((p) => litres(p.volumeMl)) },
        { name: d.lastYearMonth, type: 'bar', data: d.products.map((p) => litres(p.lastYearVolumeMl)) },
      ],
    }),
    [d, t],
  );

  const cardOption = useMemo<ChartOption>(
    () => ({
      color: [BLUE, GREY],
      tooltip: { trigger: 'item' },
      legend: { bottom: 0 },
      series: [
        {
          type: 'pie',
          radius: ['45%', '70%'],
          // On a phone the labels sit on the slices: beside them they have no room.
          label: isPhone ? PHONE_PIE_LABEL : { formatter: '{d}%' },
          percentPrecision: 1,
          data: [
            { name: t('dashboard.cardSales'), value: d.sales.cardAmountFen / 100 },
            { name: t('dashboard.otherSales'), value: Math.max(0, d.sales.amountFen - d.sales.cardAmountFen) / 100 },
          ],
        },
      ],
    }),
    [d, t, isPhone],
  );

  const keyOption = useMemo<ChartOption>(() => {
    const k = d.keyCustomers;
    return {
      color: [ORANGE, TEAL, GREY],
      tooltip: { trigger: 'item' },
      legend: { bottom: 0, type: 'scroll' },
      series: [
        {
          type: 'pie',
          radius: '65%',
          // On a phone the labels sit on the slices: beside them they have no room.
          label: isPhone ? PHONE_PIE_LABEL : { formatter: '{d}%' },
          percentPrecision: 1,
          data: [
            { name: t('dashboard.topCustomers', { share: percent(k.topShare, 0) }), value: litres(k.topVolumeMl) },
            { name: t('dashboard.otherCustomers'), value: litres(k.customerVolumeMl - k.topVolumeMl) },
            { name: t('dashboard.unknownBuyers'), value: litres(Math.max(0, d.sales.volumeMl - k.customerVolumeMl)) },
          ],
        },
      ],
    };
  }, [d, t, isPhone]);

  const starsOption = useMemo<ChartOption>(
    () => ({
      color: ['#faad14'],
      tooltip: { trigger: 'axis' },
      grid: { left: 40, right: 12, top: 16, bottom: 28 },
      xAxis: { type: 'category', data: d.stars.map((s) => t('dashboard.stars', { count: s.stars })) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [{ type: 'bar', name: t('dashboard.customersRated'), data: d.stars.map((s) => s.count) }],
    }),
    [d, t],
  );

  const rated = d.stars.reduce((a, s) => a + s.count, 0);
  const span = { xs: 12, md: 8, xl: 6 };
  const chartSpan = { xs: 24, lg: 12 };

  const childColumns = [
    {
      title: t('dashboard.unit'),
      dataIndex: 'name',
      render: (name: string, c: Child) => <Typography.Link onClick={() => onOpenUnit(c.id)}>{name}</Typography.Link>,
    },
    { title: t('dashboard.customers'), dataIndex: 'customers', align: 'right' as const },
    { title: t('dashboard.newCustomers'), dataIndex: 'newCustomers', align: 'right' as const },
    { title: t('dashboard.volumeL'), dataIndex: 'volumeMl', align: 'right' as const, render: litresText },
    {
      title: t('dashboard.yoy'),
      dataIndex: 'volumeGrowth',
      align: 'right' as const,
      render: (g: number | null) => <span style={{ color: growthColor(g) }}>{signedPercent(g)}</span>,
    },
    {
      title: t('dashboard.cardShare'),
      dataIndex: 'cardShare',
      align: 'right' as const,
      render: (s: number | null) => percent(s),
    },
    {
      title: t('dashboard.keyShare'),
      dataIndex: 'keyCustomerShare',
      align: 'right' as const,
      render: (s: number | null) => percent(s),
    },
  ];

  return (
    <>
      <Row gutter={[12, 12]} style={{ marginBottom: 12 }}>
        <Col {...span}>
          {/* The split by kind is of all customers on file, so it sits under their total. */}
          <Figure
            title={t('dashboard.customers')}
            value={d.customers.total}
            growth={d.customers.growth}
            testId="dash-customers"
            note={d.customers.byKind
              .map((k) => `${t(`customers.kinds.${k.kind as 'individual'}`, { defaultValue: k.kind })} ${k.count}`)
              .join(' · ')}
          />
        </Col>
        <Col {...span}>
          <Figure title={t('dashboard.newCustomers')} value={d.customers.new} growth={d.customers.newGrowth} />
        </Col>
        <Col {...span}>
          <Figure title={t('dashboard.activeCustomers')} value={d.customers.active} />
        </Col>
        <Col {...span}>
          <Figure
            title={t('dashboard.volumeL')}
            value={litresText(d.sales.volumeMl)}
            growth={d.sales.volumeGrowth}
            testId="dash-volume"
          />
        </Col>
        <Col {...span}>
          <Figure title={t('dashboard.amountYuan')} value={yuanText(d.sales.amountFen)} growth={d.sales.amountGrowth} />
        </Col>
        <Col {...span}>
          <Figure title={t('dashboard.cardShare')} value={percent(d.sales.cardShare)} />
        </Col>
        <Col {...span}>
          <Figure
            title={t('dashboard.topUpsYuan')}
            value={yuanText(d.topUps.amountFen)}
            growth={d.topUps.growth}
            note={t('dashboard.topUpsNote', { count: d.topUps.count, bonus: yuanText(d.topUps.bonusFen) })}
            testId="dash-topups"
          />
        </Col>
        <Col {...span}>
          <Figure
            title={t('dashboard.keyShare')}
            value={percent(d.keyCustomers.shareOfSales)}
            note={t('dashboard.keyShareNote', {
              share: percent(d.keyCustomers.topShare, 0),
              count: d.keyCustomers.topCustomers,
            })}
          />
        </Col>
        <Col {...span}>
          <Figure
            title={t('dashboard.alerts')}
            value={`${d.alerts.opened} / ${d.alerts.closed}`}
            note={t('dashboard.alertsNote')}
          />
        </Col>
      </Row>
      <Row gutter={[12, 12]} style={{ marginBottom: 12 }}>
        <Col {...chartSpan}>
          <Card size="small" title={t('dashboard.productsYoy')}>
            {d.products.length ? (
              <Chart option={productsOption} height={260} testId="dash-products-chart" />
            ) : (
              <Empty description={t('dashboard.noSales')} />
            )}
          </Card>
        </Col>
        <Col {...chartSpan}>
          <Card size="small" title={t('dashboard.cardShareChart')}>
            {d.sales.amountFen > 0 ? (
              <Chart option={cardOption} height={260} testId="dash-card-chart" />
            ) : (
              <Empty description={t('dashboard.noSales')} />
            )}
          </Card>
        </Col>
        <Col {...chartSpan}>
          <Card size="small" title={t('dashboard.keyShareChart')}>
            {d.sales.volumeMl > 0 ? (
              <Chart option={keyOption} height={260} testId="dash-key-chart" />
            ) : (
              <Empty description={t('dashboard.noSales')} />
            )}
          </Card>
        </Col>
        <Col {...chartSpan}>
          <Card size="small" title={t('dashboard.starsChart')}>
            {rated > 0 ? (
              <Chart option={starsOption} height={260} testId="dash-stars-chart" />
            ) : (
              <Empty description={t('dashboard.noRatings')} />
            )}
          </Card>
        </Col>
      </Row>
      {d.children.length > 0 && (
        <Card size="small" title={t('dashboard.children')} data-testid="dash-children">
          {isPhone ? (
            <List
              dataSource={d.children}
              renderItem={(c) => (
                <Card size="small" style={{ marginBottom: 8 }} onClick={() => onOpenUnit(c.id)}>
                  <Typography.Text strong>{c.name}</Typography.Text>
                  <div style={{ marginTop: 4 }}>
                    <Tag>
                      {t('dashboard.customers')} {c.customers}
                    </Tag>
                    <Tag>
                      {t('dashboard.volumeL')} {litresText(c.volumeMl)}
                    </Tag>
                    <Tag color={c.volumeGrowth !== null && c.volumeGrowth < 0 ? 'red' : 'green'}>
                      {t('dashboard.yoy')} {signedPercent(c.volumeGrowth)}
                    </Tag>
                    <Tag>
                      {t('dashboard.cardShare')} {percent(c.cardShare)}
                    </Tag>
                  </div>
                </Card>
              )}
            />
          ) : (
            <Table<Child>
              size="small"
              rowKey="id"
              columns={childColumns}
              dataSource={d.children}
              pagination={false}
              onRow={(c) => ({ onClick: () => onOpenUnit(c.id), style: { cursor: 'pointer' } })}
            />
          )}
        </Card>
      )}
    </>
  );
}
