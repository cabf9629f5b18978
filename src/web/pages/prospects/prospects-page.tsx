// 客户开发: the progress board (prospects by stage, stacked by importance, overdue counted) and the list
// of prospects of my subtree, as cards (they read well on a phone and a desk alike).
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Button, Card, Empty, Flex, List, Segmented, Select, Spin, Statistic, Switch, Tag, Typography } from 'antd';
import { FormOutlined, ScheduleOutlined } from '@ant-design/icons';
import { client, unwrap } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { Chart, type ChartOption } from '../../shared/chart.js';
import { Page } from '../../shared/page.js';
import {
  IMPORTANCES,
  IMPORTANCE_CHART,
  IMPORTANCE_COLORS,
  STAGES,
  STAGE_COLORS,
  type Board,
  type ProspectItem,
  type Stage,
} from './labels.js';

const PAGE_SIZE = 20;

/** Prospects by stage, stacked by importance: where the month's development stands at a glance. */
export function ProgressBoard({ board }: { board: Board | undefined }) {
  const { t } = useTranslation();
  const option = useMemo<ChartOption>(
    () => ({
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { top: 0 },
      grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: STAGES.map((s) => t(`prospects.stages.${s}`)) },
      yAxis: { type: 'value', minInterval: 1 },
      series: IMPORTANCES.map((i) => ({
        name: t(`prospects.importances.${i}`),
        type: 'bar',
        stack: 'all',
        itemStyle: { color: IMPORTANCE_CHART[i] },
        data: STAGES.map((s) => board?.stages.find((x) => x.stage === s)?.byImportance[i] ?? 0),
      })),
    }),
    [board, t],
  );
  if (!board) return <Spin />;
  if (board.total === 0) return <Empty description={t('prospects.boardEmpty')} />;
  return (
    <>
      <Flex gap={24} wrap style={{ marginBottom: 8 }}>
        <Statistic title={t('prospects.board')} value={t('prospects.total', { count: board.total })} />
        {board.overdue > 0 && (
          <Statistic
            title={t('prospects.overdue')}
            value={t('prospects.overdueCount', { count: board.overdue })}
            valueStyle={{ color: '#cf1322' }}
          />
        )}
      </Flex>
      <Chart option={option} height={240} testId="prospect-board-chart" />
    </>
  );
}

export function ProspectCard({ p }: { p: ProspectItem }) {
  const { t } = useTranslation();
  return (
    <Link to={`/prospects/${p.id}`} style={{ color: 'inherit', display: 'block' }}>
      <Card size="small" hoverable data-testid={`prospect-${p.id}`}>
        <Flex gap={6} wrap align="center">
          <Typography.Text strong>{p.name}</Typography.Text>
          <Tag color={IMPORTANCE_COLORS[p.importance]}>{t(`prospects.importances.${p.importance}`)}</Tag>
          <Tag color={STAGE_COLORS[p.stage]}>{t(`prospects.stages.${p.stage}`)}</Tag>
          {p.overdue && <Tag color="red">{t('prospects.overdue')}</Tag>}
        </Flex>
        <div style={{ margin: '4px 0', overflowWrap: 'anywhere' }}>{p.demand}</div>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {[
            p.orgUnitName,
            p.followerName && `${t('prospects.follower')}：${p.followerName}`,
            p.dueDay && p.stage !== 'signed' && p.stage !== 'lost' && t('prospects.dueDay', { day: p.dueDay }),
            p.customer && t('prospects.customerLink', { code: p.customer.code }),
          ]
            .filter(Boolean)
            .join(' · ')}
        </Typography.Text>
      </Card>
    </Link>
  );
}

export function ProspectsPage() {
  const { t } = useTranslation();
  const access = useAccess();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const mine = params.get('mine') === '1';
  const overdue = params.get('overdue') === '1';
  const stage = (STAGES as readonly string[]).includes(params.get('stage') ?? '')
    ? (params.get('stage') as Stage)
    : undefined;
  const page = Number(params.get('page')) || 1;
  const set = (next: Record<string, string | null>) => {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(next)) {
      if (v === null) p.delete(k);
      else p.set(k, v);
    }
    if (!('page' in next)) p.delete('page');
    setParams(p);
  };

  const board = useQuery({
    queryKey: ['prospects', 'board'],
    queryFn: () => unwrap(client.GET('/api/prospects/board', { params: { query: {} } })),
  });
  const list = useQuery({
    queryKey: ['prospects', 'list', { mine, overdue, stage, page }],
    queryFn: () =>
      unwrap(
        client.GET('/api/prospects', {
          params: {
            query: {
              page,
              pageSize: PAGE_SIZE,
              ...(mine && { mine: true }),
              ...(overdue && { overdue: true }),
              ...(stage && { stage }),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const items = list.data?.items ?? [];
  const total = list.data?.total ?? 0;

  return (
    <Page
      title={t('prospects.title')}
      extra={
        <>
          {access.canWriteCustomers && (
            <Button
              type="primary"
              icon={<FormOutlined />}
              onClick={() => navigate('/prospects/new')}
              data-testid="prospect-new"
            >
              {t('prospects.survey')}
            </Button>
          )}
          <Button icon={<ScheduleOutlined />} onClick={() => navigate('/prospects/plans')}>
            {t('devPlans.title')}
          </Button>
        </>
      }
    >
      <Typography.Paragraph type="secondary">{t('prospects.intro')}</Typography.Paragraph>
      <Card size="small" style={{ marginBottom: 12 }}>
        <ProgressBoard board={board.data} />
      </Card>
      <Flex gap={8} wrap style={{ marginBottom: 12 }} align="center">
        <Segmented
          value={mine ? 'mine' : 'all'}
          onChange={(v) => set({ mine: v === 'mine' ? '1' : null })}
          options={[
            { value: 'all', label: t('prospects.all') },
            { value: 'mine', label: t('prospects.mine') },
          ]}
          data-testid="prospect-scope"
        />
        <Select
          style={{ minWidth: 130 }}
          value={stage ?? ''}
          onChange={(v: string) => set({ stage: v === '' ? null : v })}
          options={[
            { value: '', label: t('prospects.allStages') },
            ...STAGES.map((s) => ({ value: s, label: t(`prospects.stages.${s}`) })),
          ]}
        />
        <Flex gap={6} align="center">
          <Switch size="small" checked={overdue} onChange={(v) => set({ overdue: v ? '1' : null })} />
          <span>{t('prospects.overdueOnly')}</span>
        </Flex>
      </Flex>
      <Spin spinning={list.isFetching}>
        {items.length === 0 ? (
          <Empty description={t('prospects.empty')} />
        ) : (
          <List
            dataSource={items}
            split={false}
            pagination={
              total > PAGE_SIZE
                ? {
                    current: page,
                    pageSize: PAGE_SIZE,
                    total,
                    onChange: (p) => set({ page: String(p) }),
                    size: 'small',
                    showSizeChanger: false,
                  }
                : false
            }
            renderItem={(p) => (
              <List.Item style={{ padding: '4px 0', display: 'block' }}>
                <ProspectCard p={p} />
              </List.Item>
            )}
          />
        )}
      </Spin>
    </Page>
  );
}
