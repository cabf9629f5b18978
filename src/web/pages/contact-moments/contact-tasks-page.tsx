// 必访联系: contact tasks for price changes, holidays, weather warnings and birthdays, mine or my
// organisation's, by due time; each card opens the task, where its assignee records the contact.
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Card, Empty, Flex, List, Segmented, Select, Spin, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { Page } from '../../shared/page.js';
import { KIND_COLORS, MOMENT_KINDS, type ContactTask } from './labels.js';

const PAGE_SIZE = 20;

export function TaskCard({ task }: { task: ContactTask }) {
  const { t } = useTranslation();
  const overdue = task.state === 'open' && dayjs(task.dueAt).isBefore(dayjs());
  return (
    <Link to={`/contact-tasks/${task.id}`} style={{ color: 'inherit', display: 'block' }}>
      <Card size="small" hoverable data-testid={`contact-task-${task.id}`}>
        <Flex gap={6} wrap align="center">
          <Typography.Text strong>{task.customer.name}</Typography.Text>
          <Tag color={KIND_COLORS[task.momentKind]}>{t(`moments.kinds.${task.momentKind}`)}</Tag>
          {task.state === 'done' ? (
            <Tag color="green">{t(`moments.outcomes.${task.outcome ?? 'phone'}`)}</Tag>
          ) : (
            overdue && <Tag color="red">{t('moments.overdue')}</Tag>
          )}
        </Flex>
        <div style={{ margin: '4px 0', overflowWrap: 'anywhere' }}>{task.title}</div>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {[
            t('moments.momentDay', { day: task.momentDay }),
            t('moments.dueAt', { at: dayjs(task.dueAt).format('MM-DD HH:mm') }),
            task.assigneeName ?? t('moments.noAssignee'),
            task.orgUnitName,
          ].join(' · ')}
        </Typography.Text>
      </Card>
    </Link>
  );
}

export function ContactTasksPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const mine = params.get('all') !== '1';
  const state = params.get('state') === 'done' ? 'done' : 'open';
  const kindParam = params.get('kind');
  const kind = (MOMENT_KINDS as readonly string[]).includes(kindParam ?? '')
    ? (kindParam as (typeof MOMENT_KINDS)[number])
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
  const tasks = useQuery({
    queryKey: ['contact-tasks', { mine, state, kind, page }],
    queryFn: () =>
      unwrap(
        client.GET('/api/contact-tasks', {
          params: {
            query: { page, pageSize: PAGE_SIZE, state, ...(mine && { mine: true }), ...(kind && { kind }) },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const items = tasks.data?.items ?? [];
  const total = tasks.data?.total ?? 0;
  return (
    <Page title={t('moments.tasksTitle')}>
      <Typography.Paragraph type="secondary">{t('moments.tasksIntro')}</Typography.Paragraph>
      <Flex gap={8} wrap style={{ marginBottom: 12 }}>
        <Segmented
          value={mine ? 'mine' : 'all'}
          onChange={(v) => set({ all: v === 'all' ? '1' : null })}
          options={[
            { value: 'mine', label: t('moments.mine') },
            { value: 'all', label: t('moments.all') },
          ]}
          data-testid="contact-scope"
        />
        <Segmented
          value={state}
          onChange={(v) => set({ state: v === 'done' ? 'done' : null })}
          options={[
            { value: 'open', label: t('moments.open') },
            { value: 'done', label: t('moments.done') },
          ]}
        />
        <Select
          style={{ minWidth: 130 }}
          value={kind ?? ''}
          onChange={(v: string) => set({ kind: v === '' ? null : v })}
          options={[
            { value: '', label: t('moments.allKinds') },
            ...MOMENT_KINDS.map((k) => ({ value: k, label: t(`moments.kinds.${k}`) })),
          ]}
        />
      </Flex>
      <Spin spinning={tasks.isFetching}>
        {items.length === 0 ? (
          <Empty description={t(state === 'open' ? 'moments.noOpenTasks' : 'moments.noDoneTasks')} />
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
            renderItem={(task) => (
              <List.Item style={{ padding: '4px 0', display: 'block' }}>
                <TaskCard task={task} />
              </List.Item>
            )}
          />
        )}
      </Spin>
    </Page>
  );
}
