// 拜访: the calendar of planned visits (mine or my unit's; month and week views, an agenda on a phone),
// my plan of the month (make it, add, move and remove visits, submit it), and the plans waiting for my
// approval. The weekly summary has a page of its own.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Button,
  Calendar,
  Card,
  DatePicker,
  Empty,
  Flex,
  List,
  Segmented,
  Space,
  Spin,
  Tabs,
  Tag,
  Typography,
} from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { useMe } from '../../shared/session.js';
import { Page } from '../../shared/page.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { useShowError } from '../../shared/errors.js';
import { PlanStateTag, VisitStateTag, type CalendarVisit } from './labels.js';
import { PlanView } from './plan-view.js';

const D = 'YYYY-MM-DD';

function VisitLine({ v, showOwner }: { v: CalendarVisit; showOwner: boolean }) {
  return (
    <Link to={`/visits/${v.id}`} data-testid={`cal-visit-${v.id}`} style={{ display: 'block', fontSize: 12 }}>
      {dayjs(v.plannedAt).format('HH:mm')} {v.customerName}
      {showOwner ? ` · ${v.ownerName}` : ''}
    </Link>
  );
}

function CalendarTab() {
  const { t } = useTranslation();
  const me = useMe();
  const isPhone = useIsPhone();
  const [who, setWho] = useState<'mine' | 'unit'>('mine');
  const [view, setView] = useState<'month' | 'week' | 'agenda'>(isPhone ? 'agenda' : 'month');
  const [anchor, setAnchor] = useState<Dayjs>(dayjs());
  const from =
    view === 'month' ? anchor.startOf('month') : view === 'week' ? anchor.startOf('week') : anchor.startOf('day');
  const to = view === 'month' ? anchor.endOf('month') : view === 'week' ? from.add(6, 'day') : from.add(30, 'day');
  const q = useQuery({
    queryKey: ['visits', 'calendar', who, from.format(D), to.format(D)],
    queryFn: () =>
      unwrap(
        client.GET('/api/visits/calendar', {
          params: {
            query: {
              from: from.format(D),
              to: to.format(D),
              ...(who === 'unit' && me.data ? { orgUnitId: me.data.orgUnitId } : {}),
            },
          },
        }),
      ),
  });
  const byDay = new Map<string, CalendarVisit[]>();
  for (const v of q.data ?? []) byDay.set(v.plannedDay, [...(byDay.get(v.plannedDay) ?? []), v]);
  const showOwner = who === 'unit';
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Flex gap={8} wrap align="center">
        <Segmented
          value={who}
          onChange={(v) => setWho(v as 'mine' | 'unit')}
          options={[
            { value: 'mine', label: t('visits.mine') },
            { value: 'unit', label: t('visits.unit') },
          ]}
        />
        <Segmented
          value={view}
          onChange={(v) => setView(v as 'month' | 'week' | 'agenda')}
          options={[
            { value: 'month', label: t('visits.monthView') },
            { value: 'week', label: t('visits.weekView') },
            { value: 'agenda', label: t('visits.agenda') },
          ]}
        />
        <DatePicker
          value={anchor}
          picker={view === 'month' ? 'month' : 'date'}
          onChange={(d) => d && setAnchor(d)}
          allowClear={false}
        />
      </Flex>
      {q.isLoading ? (
        <Spin />
      ) : view === 'month' && !isPhone ? (
        <Calendar
          value={anchor}
          onPanelChange={(d) => setAnchor(d)}
          onSelect={(d) => setAnchor(d)}
          headerRender={() => null}
          cellRender={(d, info) =>
            info.type === 'date'
              ? (byDay.get(d.format(D)) ?? []).map((v) => <VisitLine key={v.id} v={v} showOwner={showOwner} />)
              : null
          }
        />
      ) : view === 'week' && !isPhone ? (
        <div style={{ display: 'grid', gridTemplateColumns: 'repeat(7, 1fr)', gap: 8 }}>
          {Array.from({ length: 7 }, (_, i) => from.add(i, 'day')).map((d) => (
            <Card key={d.format(D)} size="small" title={d.format('MM-DD ddd')}>
              {(byDay.get(d.format(D)) ?? []).map((v) => (
                <div key={v.id} style={{ marginBottom: 6 }}>
                  <VisitLine v={v} showOwner={showOwner} />
                  <VisitStateTag state={v.state} />
                </div>
              ))}
            </Card>
          ))}
        </div>
      ) : (q.data ?? []).length === 0 ? (
        <Empty description={t('visits.nothingPlanned')} />
      ) : (
        <List
          data-testid="visit-agenda"
          dataSource={q.data ?? []}
          renderItem={(v) => (
            <List.Item>
              <Link to={`/visits/${v.id}`} style={{ color: 'inherit', width: '100%' }}>
                <Flex vertical>
                  <Flex gap={6} wrap align="center">
                    <Typography.Text strong>{v.customerName}</Typography.Text>
                    <VisitStateTag state={v.state} />
                    {v.planState !== 'approved' && <PlanStateTag state={v.planState} />}
                  </Flex>
                  <Typography.Text type="secondary">
                    {dayjs(v.plannedAt).format('MM-DD ddd HH:mm')} · {v.orgUnitName}
                    {showOwner ? ` · ${v.ownerName}` : ''}
                  </Typography.Text>
                </Flex>
              </Link>
            </List.Item>
          )}
        />
      )}
    </Space>
  );
}

function MyPlanTab() {
  const { t } = useTranslation();
  const me = useMe();
  const qc = useQueryClient();
  const showError = useShowError();
  const [month, setMonth] = useState<Dayjs>(dayjs().startOf('month'));
  const m = month.format('YYYY-MM');
  const list = useQuery({
    queryKey: ['visits', 'plans', 'mine', m],
    queryFn: () =>
      unwrap(client.GET('/api/visit-plans', { params: { query: { month: m, ownerUserId: me.data!.userId } } })),
    enabled: !!me.data,
  });
  const make = useMutation({
    mutationFn: () => unwrap(client.POST('/api/visit-plans/mine', { body: { month: m } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['visits'] }),
    onError: (e) => showError(e),
  });
  const planId = list.data?.[0]?.id;
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <DatePicker picker="month" value={month} onChange={(d) => d && setMonth(d)} allowClear={false} />
      {list.isLoading ? (
        <Spin />
      ) : planId ? (
        <PlanView id={planId} />
      ) : (
        <Empty description={t('visits.noPlan')}>
          <Button type="primary" loading={make.isPending} onClick={() => make.mutate()} data-testid="make-plan">
            {t('visits.makePlan')}
          </Button>
        </Empty>
      )}
    </Space>
  );
}

function ApprovalsTab() {
  const { t } = useTranslation();
  const [month, setMonth] = useState<Dayjs>(dayjs().startOf('month'));
  const m = month.format('YYYY-MM');
  const q = useQuery({
    queryKey: ['visits', 'plans', 'submitted', m],
    queryFn: () => unwrap(client.GET('/api/visit-plans', { params: { query: { month: m, state: 'submitted' } } })),
  });
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <DatePicker picker="month" value={month} onChange={(d) => d && setMonth(d)} allowClear={false} />
      {(q.data ?? []).length === 0 && !q.isLoading ? (
        <Empty description={t('visits.nothingToApprove')} />
      ) : (
        <List
          loading={q.isLoading}
          dataSource={q.data ?? []}
          renderItem={(p) => (
            <List.Item>
              <Link to={`/visits/plans/${p.id}`} style={{ color: 'inherit' }}>
                <Flex gap={6} wrap align="center">
                  <Typography.Text strong>{t('visits.planOf', { name: p.ownerName, month: p.month })}</Typography.Text>
                  <PlanStateTag state={p.state} />
                  <Tag>{t('visits.visits', { done: p.done, n: p.visits })}</Tag>
                  <Typography.Text type="secondary">{p.orgUnitName}</Typography.Text>
                </Flex>
              </Link>
            </List.Item>
          )}
        />
      )}
    </Space>
  );
}

export function VisitsPage() {
  const { t } = useTranslation();
  const access = useAccess();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') ?? 'calendar';
  const items = [
    { key: 'calendar', label: t('visits.tabs.calendar'), children: <CalendarTab /> },
    ...(access.canWriteCustomers ? [{ key: 'plan', label: t('visits.tabs.plan'), children: <MyPlanTab /> }] : []),
    ...(access.canApproveVisits
      ? [{ key: 'approvals', label: t('visits.tabs.approvals'), children: <ApprovalsTab /> }]
      : []),
  ];
  return (
    <Page
      title={t('visits.title')}
      extra={
        access.canReadDashboards && (
          <Button onClick={() => navigate('/visits/summary')} data-testid="open-summary">
            {t('visits.tabs.summary')}
          </Button>
        )
      }
    >
      <Tabs activeKey={tab} onChange={(k) => setParams({ tab: k })} items={items} destroyInactiveTabPane />
    </Page>
  );
}
