// One monthly plan: its prospects (in a draft, their importance and follower are set here), the two
// approvals in order, the dispatch, the progress by stage, and the branch's weekly sampling of stations.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  App,
  Button,
  Card,
  Empty,
  Flex,
  Form,
  Input,
  List,
  Modal,
  Radio,
  Select,
  Spin,
  Steps,
  Tag,
  Timeline,
  Typography,
} from 'antd';
import dayjs from 'dayjs';
import { ApiError, client, unwrap } from '../../api/client.js';
import { errorText } from '../../shared/errors.js';
import { useMe } from '../../shared/session.js';
import { Page } from '../../shared/page.js';
import { ProgressBoard } from './prospects-page.js';
import {
  IMPORTANCES,
  IMPORTANCE_COLORS,
  PLAN_STATE_COLORS,
  STAGE_COLORS,
  type Importance,
  type Plan,
} from './labels.js';

type Item = { prospectId: number; importance: Importance; followerUserId: number | null };
type Decision = { route: 'dept-approval' | 'leader-approval'; decision: 'approve' | 'reject' };

const fmt = (v: string | null | undefined) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : '');

function useErrorText() {
  const { t } = useTranslation();
  return (err: unknown) => {
    if (err instanceof ApiError && err.code === 'APPROVER_NOT_ELIGIBLE') return t('devPlans.errors.approver');
    if (err instanceof ApiError && err.code === 'ASSIGNEE_NOT_ELIGIBLE') return t('devPlans.errors.follower');
    return errorText(err);
  };
}

function FollowerSelect({
  prospectId,
  importance,
  value,
  onChange,
}: {
  prospectId: number;
  importance: Importance;
  value: number | null;
  onChange: (v: number | null) => void;
}) {
  const { t } = useTranslation();
  const q = useQuery({
    queryKey: ['prospects', 'followers', prospectId, importance],
    queryFn: () =>
      unwrap(
        client.GET('/api/prospects/{id}/followers', { params: { path: { id: prospectId }, query: { importance } } }),
      ),
  });
  return (
    <Select
      style={{ minWidth: 160 }}
      allowClear
      placeholder={t('devPlans.chooseFollower')}
      loading={q.isPending}
      value={value ?? undefined}
      onChange={(v: number | undefined) => onChange(v ?? null)}
      options={(q.data?.people ?? []).map((u) => ({
        value: u.id,
        label: `${u.displayName}（${q.data?.unit?.name ?? ''}）`,
      }))}
      data-testid={`plan-follower-${prospectId}`}
    />
  );
}

function Items({ plan, editable }: { plan: Plan; editable: boolean }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const errText = useErrorText();
  const [items, setItems] = useState<Item[]>([]);
  const [saving, setSaving] = useState(false);
  useEffect(() => {
    setItems(
      plan.prospects.map((p) => ({ prospectId: p.id, importance: p.importance, followerUserId: p.followerUserId })),
    );
  }, [plan]);
  const byId = new Map(plan.prospects.map((p) => [p.id, p]));
  const change = (id: number, patch: Partial<Item>) =>
    setItems((xs) => xs.map((x) => (x.prospectId === id ? { ...x, ...patch } : x)));
  const save = async () => {
    setSaving(true);
    try {
      await unwrap(
        client.PUT('/api/dev-plans/{id}/items', {
          params: { path: { id: plan.id } },
          body: { items, version: plan.version },
        }),
      );
      void message.success(t('devPlans.itemsSaved'));
      await queryClient.invalidateQueries({ queryKey: ['prospects'] });
    } catch (err) {
      void message.error(errText(err));
    } finally {
      setSaving(false);
    }
  };
  if (items.length === 0) return <Empty description={t('devPlans.noItems')} />;
  return (
    <>
      <List
        dataSource={items}
        split={false}
        renderItem={(it) => {
          const p = byId.get(it.prospectId);
          if (!p) return null;
          return (
            <List.Item style={{ padding: '4px 0', display: 'block' }}>
              <Card size="small" data-testid={`plan-item-${p.id}`}>
                <Flex gap={6} wrap align="center" justify="space-between">
                  <Flex gap={6} wrap align="center">
                    <Link to={`/prospects/${p.id}`}>
                      <Typography.Text strong>{p.name}</Typography.Text>
                    </Link>
                    <Tag color={STAGE_COLORS[p.stage]}>{t(`prospects.stages.${p.stage}`)}</Tag>
                    {p.overdue && <Tag color="red">{t('prospects.overdue')}</Tag>}
                    <Typography.Text type="secondary">{p.orgUnitName}</Typography.Text>
                  </Flex>
                  {editable ? (
                    <Flex gap={6} wrap align="center">
                      <Select
                        value={it.importance}
                        onChange={(v: Importance) => change(p.id, { importance: v, followerUserId: null })}
                        options={IMPORTANCES.map((i) => ({ value: i, label: t(`prospects.importances.${i}`) }))}
                        style={{ minWidth: 96 }}
                      />
                      <FollowerSelect
                        prospectId={p.id}
                        importance={it.importance}
                        value={it.followerUserId}
                        onChange={(v) => change(p.id, { followerUserId: v })}
                      />
                      <Button size="small" onClick={() => setItems((xs) => xs.filter((x) => x.prospectId !== p.id))}>
                        {t('devPlans.removeItem')}
                      </Button>
                    </Flex>
                  ) : (
                    <Flex gap={6} wrap align="center">
                      <Tag color={IMPORTANCE_COLORS[p.importance]}>{t(`prospects.importances.${p.importance}`)}</Tag>
                      <Typography.Text>
                        {p.dispatchUnit?.name ?? ''} · {p.followerName ?? t('prospects.noFollower')}
                      </Typography.Text>
                    </Flex>
                  )}
                </Flex>
                <div style={{ overflowWrap: 'anywhere' }}>{p.demand}</div>
              </Card>
            </List.Item>
          );
        }}
      />
      {editable && (
        <Button type="primary" onClick={() => void save()} loading={saving} data-testid="plan-items-save">
          {t('devPlans.saveItems')}
        </Button>
      )}
    </>
  );
}

function Sampling({ plan, canPlan }: { plan: Plan; canPlan: boolean }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [checking, setChecking] = useState<number | null>(null);
  const [form] = Form.useForm<{ finding: 'on_track' | 'slow'; note: string }>();
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['prospects'] });
  const pick = async () => {
    try {
      await unwrap(client.POST('/api/dev-plans/{id}/samples', { params: { path: { id: plan.id } }, body: {} }));
      void message.success(t('devPlans.picked'));
      await refresh();
    } catch (err) {
      void message.error(errorText(err));
    }
  };
  const check = async (v: { finding: 'on_track' | 'slow'; note: string }) => {
    try {
      await unwrap(
        client.POST('/api/dev-plans/{id}/samples/{sampleId}', {
          params: { path: { id: plan.id, sampleId: checking! } },
          body: v,
        }),
      );
      setChecking(null);
      form.resetFields();
      await refresh();
    } catch (err) {
      void message.error(errorText(err));
    }
  };
  return (
    <Card
      size="small"
      title={t('devPlans.sampling')}
      style={{ marginBottom: 12 }}
      extra={
        canPlan &&
        plan.state === 'dispatched' && (
          <Button size="small" onClick={() => void pick()} data-testid="plan-pick">
            {t('devPlans.pick')}
          </Button>
        )
      }
    >
      <Typography.Paragraph type="secondary">{t('devPlans.samplingIntro')}</Typography.Paragraph>
      {plan.samples.length === 0 ? (
        <Empty description={t('devPlans.noSamples')} />
      ) : (
        <List
          dataSource={plan.samples}
          split={false}
          renderItem={(s) => (
            <List.Item style={{ padding: '4px 0', display: 'block' }}>
              <Card size="small" data-testid={`plan-sample-${s.id}`}>
                <Flex gap={6} wrap align="center" justify="space-between">
                  <Flex gap={6} wrap align="center">
                    <Typography.Text strong>{s.stationName}</Typography.Text>
                    <Typography.Text type="secondary">{t('devPlans.week', { week: s.week })}</Typography.Text>
                    {s.finding ? (
                      <Tag color={s.finding === 'slow' ? 'red' : 'green'}>{t(`devPlans.findings.${s.finding}`)}</Tag>
                    ) : (
                      <Tag>{t('devPlans.unchecked')}</Tag>
                    )}
                  </Flex>
                  {canPlan && (
                    <Button size="small" onClick={() => setChecking(s.id)} data-testid={`plan-check-${s.id}`}>
                      {t('devPlans.check')}
                    </Button>
                  )}
                </Flex>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t('devPlans.snapshot')}：
                  {Object.entries(s.snapshot)
                    .map(([stage, n]) => `${t(`prospects.stages.${stage}`, { defaultValue: stage })} ${n}`)
                    .join('、') || '—'}
                </Typography.Text>
                {s.note && <div style={{ overflowWrap: 'anywhere' }}>{s.note}</div>}
              </Card>
            </List.Item>
          )}
        />
      )}
      <Modal
        open={checking !== null}
        title={t('devPlans.check')}
        onCancel={() => setChecking(null)}
        onOk={() => form.submit()}
      >
        <Form form={form} layout="vertical" initialValues={{ finding: 'on_track' }} onFinish={(v) => void check(v)}>
          <Form.Item name="finding" label={t('devPlans.finding')}>
            <Radio.Group>
              <Radio value="on_track">{t('devPlans.findings.on_track')}</Radio>
              <Radio value="slow">{t('devPlans.findings.slow')}</Radio>
            </Radio.Group>
          </Form.Item>
          <Form.Item
            name="note"
            label={t('devPlans.checkNote')}
            rules={[{ required: true, whitespace: true, message: t('validation.required') }]}
          >
            <Input.TextArea rows={3} maxLength={4000} />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}

export function DevPlanPage() {
  const { t } = useTranslation();
  const id = Number(useParams().id);
  const me = useMe().data;
  const canPlan = me?.permissions.includes('prospect.plan') ?? false;
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const errText = useErrorText();
  const [decision, setDecision] = useState<Decision | null>(null);
  const [note, setNote] = useState('');
  const q = useQuery({
    queryKey: ['prospects', 'plan', id],
    queryFn: () => unwrap(client.GET('/api/dev-plans/{id}', { params: { path: { id } } })),
  });
  const board = useQuery({
    queryKey: ['prospects', 'board', 'plan', id],
    queryFn: () => unwrap(client.GET('/api/prospects/board', { params: { query: { planId: id } } })),
  });
  const plan = q.data;
  if (!plan) return <Spin spinning={q.isPending}>{q.isError && <Empty />}</Spin>;
  const may = (a: string) => plan.allowedActions.includes(a);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['prospects'] });

  const run = async (path: 'submit' | 'dispatch') => {
    try {
      await unwrap(client.POST(`/api/dev-plans/{id}/${path}`, { params: { path: { id } }, body: {} }));
      void message.success(t('devPlans.done'));
      await refresh();
    } catch (err) {
      void message.error(errText(err));
    }
  };
  const decide = async () => {
    if (!decision) return;
    try {
      await unwrap(
        client.POST(`/api/dev-plans/{id}/${decision.route}`, {
          params: { path: { id } },
          body: { decision: decision.decision, ...(note.trim() && { note: note.trim() }) },
        }),
      );
      setDecision(null);
      setNote('');
      void message.success(t('devPlans.done'));
      await refresh();
    } catch (err) {
      void message.error(errText(err));
    }
  };

  // Dispatched: every step is behind it.
  const current = { draft: 0, submitted: 1, dept_approved: 2, approved: 3, dispatched: 5 }[plan.state];
  return (
    <Page title={`${plan.orgUnitName} ${plan.month} ${t('devPlans.title')}`}>
      <Flex gap={6} wrap style={{ marginBottom: 12 }}>
        <Tag color={PLAN_STATE_COLORS[plan.state]} data-testid="plan-state">
          {t(`devPlans.states.${plan.state}`)}
        </Tag>
        {plan.overdue && <Tag color="red">{t('devPlans.overdue')}</Tag>}
        <Tag>
          {t('devPlans.dueDay')} {plan.dueDay}
        </Tag>
      </Flex>
      <Card size="small" style={{ marginBottom: 12 }}>
        <Steps
          size="small"
          current={current}
          responsive
          items={[
            { title: t('devPlans.compiledBy', { name: plan.compiledByName ?? '' }) },
            { title: t('devPlans.submit') },
            {
              title: t('devPlans.deptApproval'),
              description: plan.deptApproval
                ? t('devPlans.approvedBy', { name: plan.deptApproval.byName ?? '', at: fmt(plan.deptApproval.at) })
                : undefined,
            },
            {
              title: t('devPlans.leaderApproval'),
              description: plan.leaderApproval
                ? t('devPlans.approvedBy', { name: plan.leaderApproval.byName ?? '', at: fmt(plan.leaderApproval.at) })
                : undefined,
            },
            { title: t('devPlans.dispatched'), description: plan.dispatched ? fmt(plan.dispatched.at) : undefined },
          ]}
        />
        <Flex gap={8} wrap style={{ marginTop: 12 }}>
          {may('submit') && (
            <Button type="primary" onClick={() => void run('submit')} data-testid="plan-submit">
              {t('devPlans.submit')}
            </Button>
          )}
          {may('approve_dept') && (
            <Button
              type="primary"
              onClick={() => setDecision({ route: 'dept-approval', decision: 'approve' })}
              data-testid="plan-approve-dept"
            >
              {t('devPlans.deptApproval')}：{t('devPlans.approve')}
            </Button>
          )}
          {may('reject_dept') && (
            <Button danger onClick={() => setDecision({ route: 'dept-approval', decision: 'reject' })}>
              {t('devPlans.reject')}
            </Button>
          )}
          {may('approve_leader') && (
            <Button
              type="primary"
              onClick={() => setDecision({ route: 'leader-approval', decision: 'approve' })}
              data-testid="plan-approve-leader"
            >
              {t('devPlans.leaderApproval')}：{t('devPlans.approve')}
            </Button>
          )}
          {may('reject_leader') && (
            <Button danger onClick={() => setDecision({ route: 'leader-approval', decision: 'reject' })}>
              {t('devPlans.reject')}
            </Button>
          )}
          {may('dispatch') && (
            <Button type="primary" onClick={() => void run('dispatch')} data-testid="plan-dispatch">
              {t('devPlans.dispatch')}
            </Button>
          )}
        </Flex>
      </Card>
      <Card size="small" title={t('devPlans.progress')} style={{ marginBottom: 12 }}>
        <ProgressBoard board={board.data} />
      </Card>
      <Card size="small" title={t('devPlans.items')} style={{ marginBottom: 12 }}>
        <Items plan={plan} editable={plan.state === 'draft' && canPlan} />
      </Card>
      <Sampling plan={plan} canPlan={canPlan} />
      <Card size="small" title={t('devPlans.trail')}>
        <Timeline
          items={plan.events.map((e) => ({
            color: e.action.startsWith('reject') || e.action === 'overdue' ? 'red' : 'blue',
            children: (
              <div>
                <Typography.Text strong>{t(`devPlans.events.${e.action}`, { defaultValue: e.action })}</Typography.Text>{' '}
                <Typography.Text type="secondary">
                  {e.actorName} · {fmt(e.at)}
                </Typography.Text>
                {e.note && <div style={{ overflowWrap: 'anywhere' }}>{e.note}</div>}
              </div>
            ),
          }))}
        />
      </Card>
      <Modal
        open={decision !== null}
        title={decision?.decision === 'reject' ? t('devPlans.reject') : t('devPlans.approve')}
        onCancel={() => setDecision(null)}
        onOk={() => void decide()}
        okButtonProps={{ ...({ 'data-testid': 'plan-decision-ok' } as object) }}
      >
        <Input.TextArea
          rows={3}
          maxLength={4000}
          value={note}
          onChange={(e) => setNote(e.target.value)}
          placeholder={decision?.decision === 'reject' ? t('devPlans.rejectNote') : t('devPlans.approveNote')}
          data-testid="plan-decision-note"
        />
      </Modal>
    </Page>
  );
}
