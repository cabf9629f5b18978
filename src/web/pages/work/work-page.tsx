// 我的待办: everything assigned to me or waiting in a queue I take, by due time; what I finished.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Card, Col, Empty, Flex, List, Pagination, Row, Segmented, Select, Statistic, Tag, Typography } from 'antd';
import { ClockCircleOutlined, TeamOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { Page } from '../../shared/page.js';
import { Chart } from '../../shared/chart.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { WORK_KEY, useWorkCounts, workLink, type WorkItem } from '../../shared/work.js';

const PAGE_SIZE = 20;
type Kind = WorkItem['kind'];

export function DueText({ item }: { item: Pick<WorkItem, 'dueAt' | 'overdue' | 'state' | 'doneAt'> }) {
  const { t } = useTranslation();
  if (item.state !== 'open')
    return (
      <Typography.Text type="secondary">
        {t('work.doneAt', { at: dayjs(item.doneAt ?? item.dueAt).format('YYYY-MM-DD HH:mm') })}
      </Typography.Text>
    );
  const due = dayjs(item.dueAt);
  const today = due.isSame(dayjs(), 'day');
  return (
    <Typography.Text type={item.overdue ? 'danger' : today ? 'warning' : 'secondary'} data-testid="work-due">
      <ClockCircleOutlined />{' '}
      {item.overdue
        ? t('work.overdueSince', { at: due.format('MM-DD HH:mm') })
        : today
          ? t('work.dueToday', { at: due.format('HH:mm') })
          : t('work.dueAt', { at: due.format('YYYY-MM-DD HH:mm') })}
    </Typography.Text>
  );
}

export function WorkRow({ item }: { item: WorkItem }) {
  const { t } = useTranslation();
  return (
    <List.Item data-testid={`work-item-${item.kind}-${item.recordId}`}>
      <Flex vertical gap={2} style={{ width: '100%' }}>
        <Flex justify="space-between" gap={8} wrap>
          <Link to={workLink(item)}>
            <Tag color={item.overdue ? 'red' : 'blue'}>{t(`work.kinds.${item.kind}`)}</Tag>
            <Typography.Text strong>{item.subject}</Typography.Text>
          </Link>
          {item.queue && (
            <Tag icon={<TeamOutlined />} color="purple">
              {t('work.queue')}
            </Tag>
          )}
        </Flex>
        <Flex justify="space-between" gap={8} wrap>
          <Typography.Text type="secondary">{item.orgUnitName}</Typography.Text>
          <DueText item={item} />
        </Flex>
      </Flex>
    </List.Item>
  );
}

export function WorkPage() {
  const { t } = useTranslation();
  const isPhone = useIsPhone();
  const [params, setParams] = useSearchParams();
  const state = params.get('state') === 'done' ? 'done' : 'open';
  const kind = (params.get('kind') ?? undefined) as Kind | undefined;
  const [page, setPage] = useState(1);
  const counts = useWorkCounts();
  const items = useQuery({
    queryKey: [...WORK_KEY, 'inbox', state, kind, page],
    queryFn: () =>
      unwrap(
        client.GET('/api/work/inbox', {
          params: { query: { state, page, pageSize: PAGE_SIZE, ...(kind && { kind }) } },
        }),
      ),
  });
  const set = (next: Record<string, string | undefined>) => {
    const merged = new URLSearchParams(params);
    for (const [k, v] of Object.entries(next)) {
      if (v) merged.set(k, v);
      else merged.delete(k);
    }
    setPage(1);
    setParams(merged);
  };
  const c = counts.data;
  const kinds = c ? Object.entries(c.byKind).sort((a, b) => b[1] - a[1]) : [];

  return (
    <Page title={t('work.title')}>
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={kinds.length > 1 ? 12 : 24}>
          <Card loading={counts.isPending} data-testid="work-counts">
            <Row gutter={12}>
              <Col span={8}>
                <Statistic title={t('work.open')} value={c?.total ?? 0} />
              </Col>
              <Col span={8}>
                <Statistic title={t('work.dueTodayCount')} value={c?.dueToday ?? 0} />
              </Col>
              <Col span={8}>
                <Statistic
                  title={t('work.overdue')}
                  value={c?.overdue ?? 0}
                  valueStyle={c?.overdue ? { color: '#cf1322' } : undefined}
                />
              </Col>
            </Row>
          </Card>
        </Col>
        {kinds.length > 1 && (
          <Col xs={24} lg={12}>
            <Card title={t('work.byKind')} size="small">
              <Chart
                height={Math.max(120, kinds.length * 28)}
                option={{
                  grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
                  xAxis: { type: 'value', minInterval: 1 },
                  yAxis: {
                    type: 'category',
                    inverse: true,
                    data: kinds.map(([k]) => t(`work.kinds.${k as Kind}`)),
                  },
                  series: [{ type: 'bar', data: kinds.map(([, n]) => n), label: { show: true, position: 'right' } }],
                }}
              />
            </Card>
          </Col>
        )}
      </Row>
      <Card style={{ marginTop: 16 }}>
        <Flex gap={8} wrap style={{ marginBottom: 8 }}>
          <Segmented
            value={state}
            onChange={(v) => set({ state: v === 'done' ? 'done' : undefined })}
            options={[
              { value: 'open', label: t('work.tabOpen') },
              { value: 'done', label: t('work.tabDone') },
            ]}
            data-testid="work-state"
          />
          <Select
            allowClear
            placeholder={t('work.allKinds')}
            style={{ minWidth: isPhone ? 140 : 200 }}
            value={kind}
            onChange={(v: Kind | undefined) => set({ kind: v })}
            options={kinds.map(([k, n]) => ({ value: k, label: `${t(`work.kinds.${k as Kind}`)} (${n})` }))}
          />
        </Flex>
        <List
          loading={items.isPending}
          dataSource={items.data?.items ?? []}
          locale={{
            emptyText: (
              <Empty
                image={Empty.PRESENTED_IMAGE_SIMPLE}
                description={state === 'open' ? t('work.nothingOpen') : t('work.nothingDone')}
              />
            ),
          }}
          renderItem={(item) => <WorkRow item={item} />}
          data-testid="work-list"
        />
        {(items.data?.total ?? 0) > PAGE_SIZE && (
          <Pagination
            style={{ marginTop: 12, textAlign: 'right' }}
            current={page}
            pageSize={PAGE_SIZE}
            total={items.data?.total ?? 0}
            onChange={setPage}
            showSizeChanger={false}
            simple={isPhone}
          />
        )}
      </Card>
    </Page>
  );
}
