// 流失率: per month, customers lost over customers active at the month's start (those who bought in
// the month before), against the normal rate of the policy; the child units for drill-down, and from
// any unit and month to the cases of the customers it lost.
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import {
  Alert,
  Card,
  Col,
  Empty,
  List,
  Row,
  Spin,
  Statistic,
  Table,
  Tag,
  Typography,
  type TableColumnsType,
} from 'antd';
import { client, unwrap, type ApiData } from '../../api/client.js';
import { errorText } from '../../shared/errors.js';
import { Chart, type ChartOption } from '../../shared/chart.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { BLUE, ORANGE, percent } from './format.js';
import { AsOfBar, useSnapshotQuery } from './snapshot.js';

type LossRate = ApiData<'/api/churn-cases/loss-rate/{id}'>;
type Child = LossRate['children'][number];

const casesLink = (unit: { id: number; name: string }, month: string) =>
  `/churn-cases?${new URLSearchParams({ unit: String(unit.id), month, unitName: unit.name }).toString()}`;

function RateTag({ rate, above }: { rate: number | null; above: boolean }) {
  const { t } = useTranslation();
  if (rate === null) return <Tag>{t('churn.lossRate.noBase')}</Tag>;
  return (
    <Tag color={above ? 'red' : 'green'}>{above ? t('churn.lossRate.aboveNormal') : t('churn.lossRate.normalTag')}</Tag>
  );
}

export function ChurnTab({
  unitId,
  month,
  onOpenUnit,
}: {
  unitId: number;
  month: string;
  onOpenUnit: (id: number) => void;
}) {
  const { t } = useTranslation();
  const isPhone = useIsPhone();
  const { query, refresh, refreshing } = useSnapshotQuery(['loss-rate', unitId, month], (fresh) =>
    unwrap(
      client.GET('/api/churn-cases/loss-rate/{id}', {
        params: { path: { id: unitId }, query: { month, ...(fresh && { refresh: true }) } },
      }),
    ),
  );
  const d = query.data;

  const option = useMemo<ChartOption | null>(() => {
    if (!d) return null;
    const pct = (v: number | null) => (v === null ? null : Math.round(v * 10000) / 100);
    return {
      color: [BLUE, ORANGE],
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? `${v}%` : '—') },
      legend: { top: 0 },
      grid: { left: 44, right: 12, top: 32, bottom: 28 },
      xAxis: { type: 'category', data: d.trend.map((m) => m.month.slice(2)) },
      yAxis: { type: 'value', axisLabel: { formatter: '{value}%' } },
      series: [
        {
          name: t('churn.lossRate.rateSeries'),
          type: 'line',
          data: d.trend.map((m) => pct(m.rate)),
          connectNulls: false,
          symbolSize: 6,
        },
        {
          name: t('churn.lossRate.normalSeries'),
          type: 'line',
          data: d.trend.map(() => pct(d.normalMonthlyRate)),
          symbol: 'none',
          lineStyle: { type: 'dashed' },
        },
      ],
    };
  }, [d, t]);

  if (query.error) return <Alert type="error" showIcon title={errorText(query.error)} />;
  if (!d || !option) return <Spin />;

  const normal = t('churn.lossRate.normal', {
    monthly: percent(d.normalMonthlyRate, 2),
    yearly: percent(d.normalYearlyRate, 0),
  });
  const span = { xs: 12, sm: 12, md: 6 };
  const childColumns: TableColumnsType<Child> = [
    {
      title: t('churn.lossRate.children'),
      dataIndex: 'name',
      render: (name: string, c) => <a onClick={() => onOpenUnit(c.id)}>{name}</a>,
    },
    {
      title: t('churn.lossRate.rate'),
      dataIndex: 'rate',
      align: 'right',
      render: (r: number | null, c) => (
        <>
          {percent(r, 2)} <RateTag rate={r} above={c.aboveNormal} />
        </>
      ),
    },
    { title: t('churn.lossRate.lost'), dataIndex: 'lost', align: 'right' },
    { title: t('churn.lossRate.activeAtStart'), dataIndex: 'activeAtStart', align: 'right' },
    { title: t('churn.lossRate.wonBack'), dataIndex: 'wonBack', align: 'right' },
    {
      title: '',
      key: 'cases',
      render: (_v, c) => (c.lost > 0 ? <Link to={casesLink(c, d.month)}>{t('churn.lossRate.viewCases')}</Link> : null),
    },
  ];

  return (
    <div data-testid="dash-churn">
      <AsOfBar asOf={d.asOf} onRefresh={() => void refresh()} refreshing={refreshing} />
      <Row gutter={[12, 12]} style={{ marginBottom: 12 }}>
        <Col {...span}>
          <Card size="small" style={{ height: '100%' }} data-testid="dash-loss-rate">
            <Statistic title={t('churn.lossRate.rate')} value={percent(d.rate, 2)} />
            <RateTag rate={d.rate} above={d.aboveNormal} />
            <Typography.Text type="secondary" style={{ fontSize: 12, display: 'block' }}>
              {normal}
            </Typography.Text>
          </Card>
        </Col>
        <Col {...span}>
          <Card size="small" style={{ height: '100%' }}>
            <Statistic title={t('churn.lossRate.lost')} value={d.lost} />
            <Typography.Text type="secondary" style={{ fontSize: 12, display: 'block' }}>
              {t('churn.lossRate.split', { natural: d.natural, nonNatural: d.nonNatural })}
            </Typography.Text>
            {d.lost > 0 && (
              <Link to={casesLink(d.unit, d.month)} data-testid="dash-churn-cases">
                {t('churn.lossRate.viewCases')}
              </Link>
            )}
          </Card>
        </Col>
        <Col {...span}>
          <Card size="small" style={{ height: '100%' }}>
            <Statistic title={t('churn.lossRate.activeAtStart')} value={d.activeAtStart} />
            <Typography.Text type="secondary" style={{ fontSize: 12, display: 'block' }}>
              {t('churn.lossRate.activeHelp')}
            </Typography.Text>
          </Card>
        </Col>
        <Col {...span}>
          <Card size="small" style={{ height: '100%' }}>
            <Statistic title={t('churn.lossRate.wonBack')} value={d.wonBack} />
          </Card>
        </Col>
      </Row>
      <Card size="small" title={t('churn.lossRate.trend', { n: d.trend.length })} style={{ marginBottom: 12 }}>
        <Chart option={option} height={260} testId="dash-churn-chart" />
      </Card>
      <Card size="small" title={t('churn.lossRate.children')} data-testid="dash-churn-children">
        {d.children.length === 0 ? (
          <Empty description={t('churn.lossRate.noChildren')} />
        ) : isPhone ? (
          <List
            dataSource={d.children}
            renderItem={(c) => (
              <Card size="small" style={{ marginBottom: 8 }}>
                <a onClick={() => onOpenUnit(c.id)}>
                  <Typography.Text strong>{c.name}</Typography.Text>
                </a>
                <div style={{ marginTop: 4 }}>
                  <Tag>
                    {t('churn.lossRate.rate')} {percent(c.rate, 2)}
                  </Tag>
                  <RateTag rate={c.rate} above={c.aboveNormal} />
                  <Tag>
                    {t('churn.lossRate.lost')} {c.lost} / {c.activeAtStart}
                  </Tag>
                </div>
                {c.lost > 0 && <Link to={casesLink(c, d.month)}>{t('churn.lossRate.viewCases')}</Link>}
              </Card>
            )}
          />
        ) : (
          <Table<Child> size="small" rowKey="id" columns={childColumns} dataSource={d.children} pagination={false} />
        )}
      </Card>
    </div>
  );
}
