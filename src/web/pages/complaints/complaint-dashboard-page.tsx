// 投诉分析: the three rates (response, resolution, satisfaction), SLA compliance, repeat complaints and
// rectification closure of any unit of the reader's subtree, per month; the child units as bars and
// cards to drill down, the categories and channels of the month, and the figures as XLSX. The unit
// and month live in the address, so a drill-down can be shared and the back button climbs back up.
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import {
  Alert,
  Button,
  Card,
  Col,
  DatePicker,
  Empty,
  Flex,
  List,
  Row,
  Spin,
  Statistic,
  Table,
  Tag,
  Typography,
  type TableColumnsType,
} from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { client, unwrap, type ApiData } from '../../api/client.js';
import { errorText } from '../../shared/errors.js';
import { Chart, type ChartOption } from '../../shared/chart.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { Page } from '../../shared/page.js';
import { useCurrentUser } from '../../shared/session.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { BLUE, GREY, ORANGE, TEAL, percent } from '../dashboards/format.js';
import { named } from './labels.js';

type Stats = ApiData<'/api/complaint-stats/{id}'>;
type Figures = Omit<Stats['trend'][number], 'month'>;

/** Each rate with the counts it is made of. */
const RATES = [
  { key: 'responseRate', part: 'respondedInTime', whole: 'responseDue' },
  { key: 'resolutionRate', part: 'closed', whole: 'taken' },
  { key: 'satisfactionRate', part: 'satisfied', whole: 'rated' },
  { key: 'slaRate', part: 'stagesInTime', whole: 'stagesFinished' },
  { key: 'repeatRate', part: 'repeats', whole: 'taken' },
  { key: 'rectificationRate', part: 'rectified', whole: 'reachedRectify' },
] as const;
type RateKey = (typeof RATES)[number]['key'];
const RED = '#cf1322';
const PURPLE = '#722ed1';
const COLORS: Record<RateKey, string> = {
  responseRate: BLUE,
  resolutionRate: TEAL,
  satisfactionRate: ORANGE,
  slaRate: PURPLE,
  repeatRate: RED,
  rectificationRate: '#389e0d',
};
const pct = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 10);

export function ComplaintDashboardPage() {
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
    queryKey: ['complaint-stats', unitId, month],
    queryFn: () =>
      unwrap(client.GET('/api/complaint-stats/{id}', { params: { path: { id: unitId }, query: { month } } })),
    placeholderData: keepPreviousData,
  });
  const d = q.data;
  const rateName = (k: RateKey) => t(`complaintStats.rates.${k}`);

  const trend = useMemo<ChartOption | null>(() => {
    if (!d) return null;
    const shown: RateKey[] = ['responseRate', 'resolutionRate', 'satisfactionRate', 'slaRate'];
    return {
      color: [GREY, ...shown.map((k) => COLORS[k])],
      tooltip: { trigger: 'axis' },
      legend: { top: 0, type: 'scroll' },
      grid: { left: 40, right: 40, top: 36, bottom: 28 },
      xAxis: { type: 'category', data: d.trend.map((m) => m.month.slice(2)) },
      yAxis: [
        { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
        { type: 'value', minInterval: 1, splitLine: { show: false } },
      ],
      series: [
        { name: t('complaintStats.taken'), type: 'bar', yAxisIndex: 1, data: d.trend.map((m) => m.taken) },
        ...shown.map((k) => ({
          name: rateName(k),
          type: 'line',
          data: d.trend.map((m) => pct(m[k])),
          connectNulls: false,
          symbolSize: 6,
        })),
      ],
    };
  }, [d, t]);

  const units = useMemo<ChartOption | null>(() => {
    if (!d || d.children.length === 0) return null;
    const shown: RateKey[] = ['responseRate', 'resolutionRate', 'satisfactionRate'];
    return {
      color: shown.map((k) => COLORS[k]),
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? `${v}%` : '—') },
      legend: { top: 0, type: 'scroll' },
      grid: { left: isPhone ? 96 : 140, right: 16, top: 36, bottom: 24 },
      yAxis: {
        type: 'category',
        inverse: true,
        data: d.children.map((c) => c.name),
        axisLabel: { width: isPhone ? 88 : 130, overflow: 'truncate' },
      },
      xAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
      series: shown.map((k) => ({
        name: rateName(k),
        type: 'bar',
        data: d.children.map((c) => pct(c[k])),
      })),
    };
  }, [d, t, isPhone]);

  const rateCell = (f: Figures, k: RateKey) => {
    const r = RATES.find((x) => x.key === k)!;
    return (
      <span>
        {percent(f[k])}
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {' '}
          {f[r.part]}/{f[r.whole]}
        </Typography.Text>
      </span>
    );
  };
  const rateColumns = <T extends Figures>(): TableColumnsType<T> => [
    { title: t('complaintStats.taken'), dataIndex: 'taken', align: 'right' },
    { title: t('complaintStats.open'), dataIndex: 'open', align: 'right' },
    ...RATES.map((r) => ({
      title: rateName(r.key),
      key: r.key,
      align: 'right' as const,
      render: (_: unknown, f: T) => rateCell(f, r.key),
    })),
  ];
  /** A row of figures as a card, for phones. */
  const FigureCard = ({ title, f, onOpen }: { title: string; f: Figures; onOpen?: () => void }) => (
    <Card size="small" style={{ marginBottom: 8 }}>
      {onOpen ? (
        <a onClick={onOpen}>
          <Typography.Text strong>{title}</Typography.Text>
        </a>
      ) : (
        <Typography.Text strong>{title}</Typography.Text>
      )}
      <Flex wrap gap={4} style={{ marginTop: 4 }}>
        <Tag>{t('complaintStats.takenN', { n: f.taken })}</Tag>
        {f.open > 0 && <Tag color="orange">{t('complaintStats.openN', { n: f.open })}</Tag>}
        {RATES.map((r) => (
          <Tag key={r.key}>
            {rateName(r.key)} {percent(f[r.key])}
          </Tag>
        ))}
      </Flex>
    </Card>
  );
  const breakdown = <T extends Figures>(rows: T[], title: (r: T) => string, testId: string, onOpen?: (r: T) => void) =>
    rows.length === 0 ? (
      <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('complaintStats.none')} />
    ) : isPhone ? (
      <List
        dataSource={rows}
        split={false}
        data-testid={testId}
        renderItem={(r) => <FigureCard title={title(r)} f={r} onOpen={onOpen ? () => onOpen(r) : undefined} />}
      />
    ) : (
      <Table<T>
        size="small"
        rowKey={(r) => title(r)}
        pagination={false}
        scroll={{ x: 'max-content' }}
        data-testid={testId}
        dataSource={rows}
        columns={[
          {
            title: t('complaintStats.name'),
            key: 'name',
            render: (_v, r) => (onOpen ? <a onClick={() => onOpen(r)}>{title(r)}</a> : title(r)),
          },
          ...rateColumns<T>(),
        ]}
      />
    );

  const download = `/api/complaint-stats/${unitId}/xlsx?${new URLSearchParams({ month }).toString()}`;
  return (
    <Page
      title={t('complaintStats.title')}
      extra={
        <>
          <OrgTreeSelect
            value={unitId}
            onChange={(id) => id && set({ unit: id })}
            style={{ width: isPhone ? '100%' : 240 }}
            data-testid="cstats-unit"
          />
          <DatePicker
            picker="month"
            allowClear={false}
            value={dayjs(`${month}-01`)}
            onChange={(v: Dayjs | null) => v && set({ month: v.format('YYYY-MM') })}
            disabledDate={(v) => v.isAfter(dayjs(), 'month')}
            style={{ width: isPhone ? '100%' : 140 }}
            data-testid="cstats-month"
          />
          <Button href={download} icon={<DownloadOutlined />} data-testid="cstats-xlsx">
            {t('complaintStats.download')}
          </Button>
        </>
      }
    >
      <Typography.Paragraph type="secondary">{t('complaintStats.intro')}</Typography.Paragraph>
      {q.error && <Alert type="error" showIcon title={errorText(q.error)} style={{ marginBottom: 12 }} />}
      {!d ? (
        q.isPending && <Spin />
      ) : (
        <div data-testid="cstats">
          <Row gutter={[12, 12]} style={{ marginBottom: 12 }}>
            <Col xs={12} md={8} lg={6} xl={3}>
              <Card size="small" style={{ height: '100%' }}>
                <Statistic title={t('complaintStats.taken')} value={d.taken} />
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t('complaintStats.openOverdue', { open: d.open, overdue: d.overdue })}
                </Typography.Text>
              </Card>
            </Col>
            {RATES.map((r) => (
              <Col key={r.key} xs={12} md={8} lg={6} xl={3}>
                <Card size="small" style={{ height: '100%' }} data-testid={`cstats-${r.key}`}>
                  <Statistic title={rateName(r.key)} value={percent(d[r.key])} />
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {t(`complaintStats.help.${r.key}`, { part: d[r.part], whole: d[r.whole] })}
                  </Typography.Text>
                </Card>
              </Col>
            ))}
          </Row>
          <Card size="small" title={t('complaintStats.trend', { n: d.trend.length })} style={{ marginBottom: 12 }}>
            {trend && <Chart option={trend} height={280} testId="cstats-trend" />}
          </Card>
          {d.children.length > 0 && (
            <Card size="small" title={t('complaintStats.children', { month: d.month })} style={{ marginBottom: 12 }}>
              {units && (
                <Chart option={units} height={Math.max(160, 40 + d.children.length * 56)} testId="cstats-units" />
              )}
              {breakdown(
                d.children,
                (c) => c.name,
                'cstats-children',
                (c) => set({ unit: c.id }),
              )}
            </Card>
          )}
          <Row gutter={[12, 12]}>
            <Col xs={24}>
              <Card size="small" title={t('complaintStats.byCategory', { month: d.month })}>
                {breakdown(d.byCategory, (c) => named(c), 'cstats-categories')}
              </Card>
            </Col>
            <Col xs={24}>
              <Card size="small" title={t('complaintStats.byChannel', { month: d.month })}>
                {breakdown(d.byChannel, (c) => t(`complaints.channels.${c.channel as 'station'}`), 'cstats-channels')}
              </Card>
            </Col>
          </Row>
        </div>
      )}
    </Page>
  );
}
