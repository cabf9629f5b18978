// 流失原因分析: why lost customers left (their exit surveys, by the month of the loss) as stacked bars
// per month, with the complaints taken in the same months beside them; per station, its losses by
// reason next to its complaints by category, so a manager sees whether the stations losing customers
// are the ones complained about. Any unit of the reader's subtree; unit and month in the address.
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Alert, Card, DatePicker, Empty, Flex, List, Spin, Table, Tag, Typography, type TableColumnsType } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { client, unwrap, type ApiData } from '../../api/client.js';
import { errorText } from '../../shared/errors.js';
import { Chart, type ChartOption } from '../../shared/chart.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { Page } from '../../shared/page.js';
import { useCurrentUser } from '../../shared/session.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { named } from './labels.js';

type Exit = ApiData<'/api/exit-analysis/{id}'>;
type Station = Exit['stations'][number];

const PALETTE = ['#0b6bcb', '#fa8c16', '#13a8a8', '#722ed1', '#eb2f96', '#8c8c8c', '#389e0d', '#d4b106'];

export function ExitAnalysisPage() {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const isPhone = useIsPhone();
  const [params, setParams] = useSearchParams();
  const unitId = Number(params.get('unit')) || me.orgUnitId;
  const month = /^\d{4}-\d{2}$/.test(params.get('month') ?? '') ? params.get('month')! : dayjs().format('YYYY-MM');
  const set = (next: Partial<{ unit: number; month: string }>) => {
    const p = new URLSearchParams(params);
    if (next.unit !== undefined) p.set('unit', String(next.unit));
    if (next.month !== undefined) p.set('month', next.month);
    setParams(p);
  };
  const q = useQuery({
    queryKey: ['exit-analysis', unitId, month],
    queryFn: () =>
      unwrap(client.GET('/api/exit-analysis/{id}', { params: { path: { id: unitId }, query: { month } } })),
    placeholderData: keepPreviousData,
  });
  const d = q.data;
  const reasonName = useMemo(() => new Map((d?.reasons ?? []).map((r) => [r.code, named(r)])), [d]);
  const categoryName = useMemo(() => new Map((d?.categories ?? []).map((c) => [c.code, named(c)])), [d]);

  const option = useMemo<ChartOption | null>(() => {
    if (!d) return null;
    const used = d.reasons.filter((r) => d.trend.some((m) => m.byReason.some((x) => x.code === r.code)));
    return {
      color: [...used.map((_, i) => PALETTE[i % PALETTE.length]!), '#cf1322'],
      tooltip: { trigger: 'axis' },
      legend: { top: 0, type: 'scroll' },
      grid: { left: 36, right: 36, top: 36, bottom: 28 },
      xAxis: { type: 'category', data: d.months.map((m) => m.slice(2)) },
      yAxis: [
        { type: 'value', minInterval: 1 },
        { type: 'value', minInterval: 1, splitLine: { show: false } },
      ],
      series: [
        ...used.map((r) => ({
          name: named(r),
          type: 'bar',
          stack: 'lost',
          data: d.trend.map((m) => m.byReason.find((x) => x.code === r.code)?.count ?? 0),
        })),
        {
          name: t('exitAnalysis.complaints'),
          type: 'line',
          yAxisIndex: 1,
          data: d.trend.map((m) => m.complaints),
          symbolSize: 6,
        },
      ],
    };
  }, [d, t]);

  const tags = (xs: { code: string; count: number }[], names: Map<string, string>, color?: string) =>
    xs.length === 0 ? (
      <Typography.Text type="secondary">—</Typography.Text>
    ) : (
      <Flex wrap gap={4}>
        {xs.map((x) => (
          <Tag key={x.code} color={color}>
            {names.get(x.code) ?? x.code} {x.count}
          </Tag>
        ))}
      </Flex>
    );
  const monthsLine = (s: Station) => (
    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
      {s.months
        .filter((m) => m.lost > 0 || m.complaints > 0)
        .map((m) => t('exitAnalysis.monthCell', { month: m.month.slice(5), lost: m.lost, complaints: m.complaints }))
        .join('；')}
    </Typography.Text>
  );
  const complaintsLink = (s: Station) => `/complaints?${new URLSearchParams({ unit: String(s.id) }).toString()}`;
  const columns: TableColumnsType<Station> = [
    { title: t('exitAnalysis.station'), dataIndex: 'name' },
    { title: t('exitAnalysis.lost'), dataIndex: 'lost', align: 'right' },
    { title: t('exitAnalysis.reasons'), key: 'reasons', render: (_v, s) => tags(s.byReason, reasonName, 'volcano') },
    {
      title: t('exitAnalysis.complaints'),
      dataIndex: 'complaints',
      align: 'right',
      render: (n: number, s) => (n > 0 ? <Link to={complaintsLink(s)}>{n}</Link> : n),
    },
    { title: t('exitAnalysis.categories'), key: 'categories', render: (_v, s) => tags(s.byCategory, categoryName) },
    { title: t('exitAnalysis.byMonth'), key: 'months', render: (_v, s) => monthsLine(s) },
  ];

  return (
    <Page
      title={t('exitAnalysis.title')}
      extra={
        <>
          <OrgTreeSelect
            value={unitId}
            onChange={(id) => id && set({ unit: id })}
            style={{ width: isPhone ? '100%' : 240 }}
            data-testid="exit-unit"
          />
          <DatePicker
            picker="month"
            allowClear={false}
            value={dayjs(`${month}-01`)}
            onChange={(v: Dayjs | null) => v && set({ month: v.format('YYYY-MM') })}
            disabledDate={(v) => v.isAfter(dayjs(), 'month')}
            style={{ width: isPhone ? '100%' : 140 }}
            data-testid="exit-month"
          />
        </>
      }
    >
      <Typography.Paragraph type="secondary">{t('exitAnalysis.intro')}</Typography.Paragraph>
      {q.error && <Alert type="error" showIcon title={errorText(q.error)} style={{ marginBottom: 12 }} />}
      {!d || !option ? (
        q.isPending && <Spin />
      ) : (
        <div data-testid="exit-analysis">
          <Card
            size="small"
            title={t('exitAnalysis.chart', { from: d.months[0], to: d.month })}
            style={{ marginBottom: 12 }}
          >
            <Chart option={option} height={280} testId="exit-chart" />
          </Card>
          <Card size="small" title={t('exitAnalysis.perStation')}>
            {d.stations.length === 0 ? (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('exitAnalysis.none')} />
            ) : isPhone ? (
              <List
                dataSource={d.stations}
                split={false}
                data-testid="exit-stations"
                renderItem={(s) => (
                  <Card size="small" style={{ marginBottom: 8 }}>
                    <Typography.Text strong>{s.name}</Typography.Text>
                    <div style={{ marginTop: 4 }}>
                      <Typography.Text>{t('exitAnalysis.lostN', { n: s.lost })}</Typography.Text>
                      {tags(s.byReason, reasonName, 'volcano')}
                    </div>
                    <div style={{ marginTop: 4 }}>
                      {s.complaints > 0 ? (
                        <Link to={complaintsLink(s)}>{t('exitAnalysis.complaintsN', { n: s.complaints })}</Link>
                      ) : (
                        <Typography.Text>{t('exitAnalysis.complaintsN', { n: 0 })}</Typography.Text>
                      )}
                      {tags(s.byCategory, categoryName)}
                    </div>
                    <div style={{ marginTop: 4 }}>{monthsLine(s)}</div>
                  </Card>
                )}
              />
            ) : (
              <Table<Station>
                size="small"
                rowKey="id"
                pagination={{ pageSize: 20, hideOnSinglePage: true }}
                scroll={{ x: 'max-content' }}
                columns={columns}
                dataSource={d.stations}
                data-testid="exit-stations"
              />
            )}
          </Card>
        </div>
      )}
    </Page>
  );
}
