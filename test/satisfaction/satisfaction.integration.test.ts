// Satisfaction on both engines: complaint callbacks with CSAT/NPS answers and unreachable attempts on
// different days; the survey-contact ledger and its cool-down (a callback is always allowed but counts
// against a survey); seeded, stratified sampling that is reproducible and leaves out cooled-down
// customers (checked against a direct SQL count); NPS against a hand-computed example; scope and
// permission denials; low scores proposing revisits; work items and audit.
import { beforeAll, expect, it } from 'vitest';
import sharp from 'sharp';
import { sql } from 'kysely';
import { describeEngines } from '../helpers/engines.js';
import { ADMIN_PASSWORD, call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';

const DAY = 86_400_000;
const T0 = new Date('2026-12-07T02:00:00Z');

interface Survey {
  id: number;
  eligible: number;
  seed: number;
  totals: {
    targets: number;
    answered: number;
    nps: number | null;
    promoters: number;
    detractors: number;
    responseRate: number | null;
    averageRating: number | null;
    distribution: number[];
  };
  byUnit: { orgUnitId: number; targets: number }[];
  targets: { id: number; customerId: number; orgUnitId: number; state: string }[];
}

describeEngines('satisfaction', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  const s = new Map<string, Session>();
  let jpeg: Buffer;
  let phoneNo = 0;
  /** Customers with a phone: 12 at station 1, 6 at station 2; 2 without a phone at station 1. */
  const st1: number[] = [];
  const st2: number[] = [];
  let noPhone: number[] = [];

  const as = (who: string) => (who === 'admin' ? admin : s.get(who)!);
  /** Move the clock; sessions idle that long have ended, so everyone signs in again. */
  const at = async (ms: number) => {
    ctx.now.value = new Date(T0.getTime() + ms);
    for (const name of [...s.keys()]) s.set(name, await login(ctx.app, name, USER_PASSWORD));
    admin = await login(ctx.app, 'admin', ADMIN_PASSWORD);
  };
  const customer = async (unit: number, phone: boolean) => {
    const n = ++phoneNo;
    const { id } = await ok<{ id: number }>(
      call(ctx.app, admin, 'POST', '/api/customers', {
        kind: 'individual',
        orgUnitId: unit,
        name: `满意度客户${n}`,
        surname: '孙',
        ...(phone && { phones: [{ phone: `1391000${String(n).padStart(4, '0')}` }] }),
      }),
      201,
    );
    return id;
  };
  const expectError = async (
    res: Promise<{ statusCode: number; json: () => any; body: string }>,
    status: number,
    code: string,
    field?: string,
  ) => {
    const r = await res;
    expect(r.statusCode, r.body).toBe(status);
    expect(r.json().error.code).toBe(code);
    if (field) expect(r.json().error.field).toBe(field);
    return r.json();
  };
  const step = (who: string, id: number, body: Record<string, unknown>) =>
    body.action === 'callback'
      ? call(ctx.app, as(who), 'POST', `/api/complaints/${id}/callback`, { ...body, action: undefined })
      : call(ctx.app, as(who), 'POST', `/api/complaints/${id}/steps`, body);
  /** A complaint about the customer, taken, verified, reviewed and rectified: it waits for its callback. */
  const toCallback = async (customerId: number) => {
    const c = await ok<{ id: number }>(
      call(ctx.app, as('zhanzhang'), 'POST', '/api/complaints', {
        channel: 'station',
        categoryCode: 'station_service',
        severityCode: 'general',
        orgUnitId: tree.station1,
        content: '服务态度差',
        customerId,
      }),
      201,
    );
    await ok(step('zhanzhang', c.id, { action: 'verify', note: '属实' }));
    await ok(step('pianqu', c.id, { action: 'review', note: '同意' }));
    const up = await ctx.app.inject({
      method: 'POST',
      url: `/api/complaints/${c.id}/attachments?fileName=a.jpg`,
      headers: {
        cookie: as('zhanzhang').cookie,
        'x-csrf-token': as('zhanzhang').csrf,
        'content-type': 'application/octet-stream',
      },
      payload: jpeg,
    });
    expect(up.statusCode, up.body).toBe(201);
    await ok(step('zhanzhang', c.id, { action: 'rectify', note: '已整改' }));
    return c.id;
  };
  const ledger = (customerId: number) =>
    ctx.db.kysely
      .selectFrom('survey_contact')
      .select(['reason', 'source_id'])
      .where('customer_id', '=', customerId)
      .orderBy('id')
      .execute();

  beforeAll(async () => {
    ctx.now.value = T0;
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    const people: [string, number, string][] = [
      ['zhanzhang', tree.station1, 'station_manager'],
      ['zhanzhang3', tree.station3, 'station_manager'],
      ['pianqu', tree.area1, 'area_customer_manager'],
      ['kefu', tree.area1, 'cs_agent'],
      ['yingxiao', tree.hq, 'hq_marketing'],
      ['jiayou', tree.station1, 'attendant'],
    ];
    for (const [name, unit, role] of people) {
      await createUser(ctx.app, admin, name, unit, [role]);
      s.set(name, await login(ctx.app, name, USER_PASSWORD));
    }
    for (let i = 0; i < 12; i++) st1.push(await customer(tree.station1, true));
    for (let i = 0; i < 6; i++) st2.push(await customer(tree.station2, true));
    noPhone = [await customer(tree.station1, false), await customer(tree.station1, false)];
    await customer(tree.station3, true);
    jpeg = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#39c' } })
      .jpeg()
      .toBuffer();
  }, 120_000);

  it('serves the policy to callers and lets only policy writers change it', async () => {
    const p = await ok<{ versionId: number | null; body: Record<string, unknown> }>(
      call(ctx.app, as('kefu'), 'GET', '/api/satisfaction/policy'),
    );
    expect(p.versionId).toBeNull();
    expect(p.body).toMatchObject({
      askCsat: true,
      askNps: true,
      askCes: false,
      coolDownDays: 30,
      unreachableAttempts: 3,
    });
    await expectError(
      call(ctx.app, as('zhanzhang'), 'PUT', '/api/satisfaction/policy', { ...p.body }),
      403,
      'PERMISSION_DENIED',
    );
    await expectError(call(ctx.app, as('jiayou'), 'GET', '/api/satisfaction/policy'), 403, 'PERMISSION_DENIED');
    const saved = await ok<{ versionId: number }>(
      call(ctx.app, as('yingxiao'), 'PUT', '/api/satisfaction/policy', {
        ...p.body,
        maxContacts: 3,
        note: '每季度最多三次',
      }),
    );
    expect(saved.versionId).toBeGreaterThan(0);
    const audit = await ctx.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'satisfaction_policy_save')
      .execute();
    expect(audit).toHaveLength(1);
  });

  it('records a callback with its CSAT and NPS answers on the case and in the contact ledger', async () => {
    const id = await toCallback(st1[0]!);
    // CES is not asked under the policy: refused, naming the field.
    await expectError(
      step('kefu', id, { action: 'callback', note: '客户满意', rating: 4, ces: 3 }),
      400,
      'VALIDATION_FAILED',
      'body.ces',
    );
    const done = await ok<{ state: string; rating: number }>(
      step('kefu', id, { action: 'callback', note: '客户满意', rating: 4, csat: 5, nps: 9 }),
    );
    expect(done).toMatchObject({ state: 'archive', rating: 4 });
    const cb = await ok<{
      callbacks: { result: string; rating: number; csat: number; nps: number; ces: number | null }[];
    }>(call(ctx.app, as('zhanzhang'), 'GET', `/api/complaints/${id}/callbacks`));
    expect(cb.callbacks).toEqual([
      expect.objectContaining({ result: 'reached', rating: 4, csat: 5, nps: 9, ces: null }),
    ]);
    expect(await ledger(st1[0]!)).toEqual([{ reason: 'complaint_callback', source_id: id }]);
    // The callback (mandatory) counts: the customer is now in cool-down for surveys.
    const status = await ok<{ decision: { ok: boolean; reason?: string; until?: string } }>(
      call(ctx.app, as('kefu'), 'GET', `/api/satisfaction/customers/${st1[0]}/contacts`),
    );
    expect(status.decision).toMatchObject({
      ok: false,
      reason: 'cool_down',
      until: new Date(T0.getTime() + 30 * DAY).toISOString(),
    });
  });

  it('closes a callback as unreachable only after attempts on three different days', async () => {
    const id = await toCallback(st1[1]!);
    await expectError(
      call(ctx.app, as('jiayou'), 'POST', `/api/complaints/${id}/callback-attempts`, {}),
      403,
      'PERMISSION_DENIED',
    );
    await ok(call(ctx.app, as('kefu'), 'POST', `/api/complaints/${id}/callback-attempts`, { note: '无人接听' }), 201);
    await at(2 * 3_600_000);
    const same = await ok<{ unreachableDays: number; mayCloseUnreachable: boolean }>(
      call(ctx.app, as('kefu'), 'POST', `/api/complaints/${id}/callback-attempts`, {}),
      201,
    );
    expect(same).toMatchObject({ unreachableDays: 1, mayCloseUnreachable: false });
    await expectError(
      step('kefu', id, { action: 'callback', note: '联系不上', unreachable: true }),
      422,
      'CALLBACK_ATTEMPTS_NEEDED',
    );
    await at(DAY);
    await ok(call(ctx.app, as('kefu'), 'POST', `/api/complaints/${id}/callback-attempts`, {}), 201);
    await at(2 * DAY);
    const third = await ok<{ unreachableDays: number; mayCloseUnreachable: boolean }>(
      call(ctx.app, as('kefu'), 'POST', `/api/complaints/${id}/callback-attempts`, {}),
      201,
    );
    expect(third).toMatchObject({ unreachableDays: 3, mayCloseUnreachable: true });
    const closed = await ok<{ state: string; rating: number | null }>(
      step('kefu', id, { action: 'callback', note: '三次联系不上', unreachable: true }),
    );
    expect(closed).toMatchObject({ state: 'archive', rating: null });
    // Nobody was reached: nothing in the ledger.
    expect(await ledger(st1[1]!)).toEqual([]);
    await at(0);
  });

  it('reopens an unsatisfied callback one level up and proposes a revisit for the customer', async () => {
    const id = await toCallback(st1[2]!);
    const r = await ok<{ state: string; levelUp: number }>(
      step('kefu', id, { action: 'callback', note: '不满意', rating: 2 }),
    );
    expect(r).toMatchObject({ state: 'verify', levelUp: 1 });
    const plans = await ok<{ items: { id: number; source: string; sourceKind: string; customer: { id: number } }[] }>(
      call(ctx.app, as('pianqu'), 'GET', `/api/satisfaction/revisits?customerId=${st1[2]}`),
    );
    expect(plans.items).toEqual([expect.objectContaining({ source: 'low_score', sourceKind: 'complaint' })]);
    // In the inbox of the customer's owner.
    const owner = await ctx.db.kysely
      .selectFrom('customer')
      .select('owner_user_id')
      .where('id', '=', st1[2]!)
      .executeTakeFirstOrThrow();
    const work = await ctx.db.kysely
      .selectFrom('work_item')
      .select(['state', 'assignee_user_id'])
      .where('kind', '=', 'revisit')
      .where('record_id', '=', plans.items[0]!.id)
      .execute();
    expect(
      work.map((w) => ({ state: w.state, assignee: w.assignee_user_id === null ? null : Number(w.assignee_user_id) })),
    ).toEqual([{ state: 'open', assignee: owner.owner_user_id === null ? null : Number(owner.owner_user_id) }]);
  });

  it('samples reproducibly by seed, per station, leaving out cooled-down customers and those without a phone', async () => {
    const body = { orgUnitId: tree.area1, sampleSize: 9, seed: 42 };
    const a = await ok<{ eligible: number; sample: number[] }>(
      call(ctx.app, as('pianqu'), 'POST', '/api/satisfaction/surveys/preview', body),
    );
    const b = await ok<{ eligible: number; sample: number[] }>(
      call(ctx.app, as('pianqu'), 'POST', '/api/satisfaction/surveys/preview', body),
    );
    expect(a.sample).toEqual(b.sample);
    expect(a.sample).toHaveLength(9);
    const other = await ok<{ sample: number[] }>(
      call(ctx.app, as('pianqu'), 'POST', '/api/satisfaction/surveys/preview', { ...body, seed: 7 }),
    );
    expect(other.sample).not.toEqual(a.sample);
    // The direct count: customers under the area with a phone and no survey contact in the cool-down.
    const since = new Date(T0.getTime() - 30 * DAY).toISOString();
    const area = await ctx.db.kysely
      .selectFrom('org_unit')
      .select('path')
      .where('id', '=', tree.area1)
      .executeTakeFirstOrThrow();
    const direct = await sql<{ n: number | string }>`
      select count(*) as n from customer c join org_unit o on o.id = c.org_unit_id
      where o.path like ${`${area.path}%`} and c.merged_into_id is null
        and exists (select 1 from customer_phone cp where cp.customer_id = c.id)
        and not exists (select 1 from survey_contact sc where sc.customer_id = c.id and sc.contacted_at >= ${since})`.execute(
      ctx.db.kysely,
    );
    expect(a.eligible).toBe(Number(direct.rows[0]!.n));
    // st1[0] and st1[2] were reached by complaint callbacks; the two without a phone never count.
    expect(a.eligible).toBe(18 - 2);
    expect(a.sample).not.toContain(st1[0]);
    expect(a.sample).not.toContain(st1[2]);
    for (const x of noPhone) expect(a.sample).not.toContain(x);
    // Stratified: station 1 has 10 of 16 eligible, station 2 has 6; 9 drawn → 5.6 and 3.4 → 6 and 3.
    expect(a.sample.filter((x) => st1.includes(x))).toHaveLength(6);
    expect(a.sample.filter((x) => st2.includes(x))).toHaveLength(3);
  });

  let survey: Survey;
  it('starts a survey: the sample a seed draws, a call in the callers’ inbox for each', async () => {
    await expectError(
      call(ctx.app, as('zhanzhang'), 'POST', '/api/satisfaction/surveys', {
        name: '十二月',
        orgUnitId: tree.station1,
        dueAt: '2026-12-20T00:00:00Z',
      }),
      403,
      'PERMISSION_DENIED',
    );
    await expectError(
      call(ctx.app, as('pianqu'), 'POST', '/api/satisfaction/surveys/preview', { orgUnitId: tree.station3 }),
      403,
      'SCOPE_DENIED',
      'body.orgUnitId',
    );
    const preview = await ok<{ sample: number[] }>(
      call(ctx.app, as('pianqu'), 'POST', '/api/satisfaction/surveys/preview', {
        orgUnitId: tree.area1,
        sampleSize: 8,
        seed: 2026,
      }),
    );
    survey = await ok<Survey>(
      call(ctx.app, as('pianqu'), 'POST', '/api/satisfaction/surveys', {
        name: '十二月满意度调查',
        orgUnitId: tree.area1,
        sampleSize: 8,
        seed: 2026,
        dueAt: '2026-12-20T00:00:00Z',
      }),
      201,
    );
    expect(survey.targets.map((t) => t.customerId).sort((x, y) => x - y)).toEqual(
      [...preview.sample].sort((x, y) => x - y),
    );
    expect(survey.eligible).toBe(16);
    const items = await ctx.db.kysely
      .selectFrom('work_item')
      .select(['record_id', 'permission', 'state'])
      .where('kind', '=', 'survey_call')
      .execute();
    expect(items.map((i) => Number(i.record_id)).sort((x, y) => x - y)).toEqual(
      survey.targets.map((t) => t.id).sort((x, y) => x - y),
    );
    expect(items.every((i) => i.permission === 'satisfaction.call' && i.state === 'open')).toBe(true);
    // A second survey now finds those eight waiting in this one.
    const again = await ok<{ eligible: number }>(
      call(ctx.app, as('pianqu'), 'POST', '/api/satisfaction/surveys/preview', { orgUnitId: tree.area1 }),
    );
    expect(again.eligible).toBe(16 - 8);
  });

  it('refuses a survey call to a customer a callback reached meanwhile (cool-down), and scope outside', async () => {
    const t = survey.targets[0]!;
    const id = await toCallback(t.customerId);
    await ok(step('kefu', id, { action: 'callback', note: '满意', rating: 5 }));
    const call1 = await ok<{ contact: { ok: boolean; reason?: string } }>(
      call(ctx.app, as('kefu'), 'GET', `/api/satisfaction/calls/${t.id}`),
    );
    expect(call1.contact).toMatchObject({ ok: false, reason: 'cool_down' });
    await expectError(
      call(ctx.app, as('kefu'), 'POST', `/api/satisfaction/calls/${t.id}/outcome`, { outcome: 'answered', rating: 5 }),
      409,
      'SURVEY_COOL_DOWN',
    );
    await expectError(
      call(ctx.app, as('zhanzhang3'), 'GET', `/api/satisfaction/surveys/${survey.id}`),
      403,
      'SCOPE_DENIED',
    );
    await expectError(call(ctx.app, as('zhanzhang3'), 'GET', `/api/satisfaction/calls/${t.id}`), 403, 'SCOPE_DENIED');
    await expectError(call(ctx.app, as('jiayou'), 'GET', '/api/satisfaction/surveys'), 403, 'PERMISSION_DENIED');
    const theirs = await ok<{ items: { id: number }[] }>(
      call(ctx.app, as('zhanzhang3'), 'GET', '/api/satisfaction/surveys'),
    );
    expect(theirs.items.map((x) => x.id)).not.toContain(survey.id);
  });

  it('records outcomes and computes results per station, NPS as in the hand-worked example', async () => {
    // Seven calls left: six answer (NPS 10, 9, 9, 8, 6, 2), one refuses.
    const rest = survey.targets.slice(1);
    const answers = [
      { rating: 5, csat: 5, nps: 10 },
      { rating: 5, csat: 4, nps: 9 },
      { rating: 4, csat: 4, nps: 9 },
      { rating: 4, csat: 3, nps: 8 },
      { rating: 3, csat: 3, nps: 6 },
      { rating: 1, csat: 1, nps: 2 },
    ];
    await expectError(
      call(ctx.app, as('kefu'), 'POST', `/api/satisfaction/calls/${rest[0]!.id}/outcome`, {
        outcome: 'answered',
        rating: 5,
        ces: 2,
      }),
      400,
      'VALIDATION_FAILED',
      'body.ces',
    );
    await ok(
      call(ctx.app, as('kefu'), 'POST', `/api/satisfaction/calls/${rest[0]!.id}/outcome`, { outcome: 'unreachable' }),
    );
    for (const [i, a] of answers.entries())
      await ok(
        call(ctx.app, as('kefu'), 'POST', `/api/satisfaction/calls/${rest[i]!.id}/outcome`, {
          outcome: 'answered',
          ...a,
          comment: '好',
        }),
      );
    await ok(
      call(ctx.app, as('kefu'), 'POST', `/api/satisfaction/calls/${rest[6]!.id}/outcome`, { outcome: 'refused' }),
    );
    await expectError(
      call(ctx.app, as('kefu'), 'POST', `/api/satisfaction/calls/${rest[6]!.id}/outcome`, {
        outcome: 'answered',
        rating: 3,
      }),
      409,
      'CONFLICT',
    );
    const r = await ok<Survey>(call(ctx.app, as('pianqu'), 'GET', `/api/satisfaction/surveys/${survey.id}`));
    // 3 promoters, 1 passive, 2 detractors of 6: (3 − 2) / 6 = 16.7 %.
    expect(r.totals).toMatchObject({
      targets: 8,
      answered: 6,
      promoters: 3,
      detractors: 2,
      nps: 16.7,
      responseRate: 75,
    });
    expect(r.totals.averageRating).toBe(3.67);
    expect(r.totals.distribution).toEqual([1, 0, 1, 2, 2]);
    expect(r.byUnit.reduce((n, u) => n + u.targets, 0)).toBe(8);
    // Each reached customer is in the ledger; the calls left the inbox.
    expect(await ledger(rest[1]!.customerId)).toEqual([{ reason: 'survey', source_id: rest[1]!.id }]);
    const open = await ctx.db.kysely
      .selectFrom('work_item')
      .select('record_id')
      .where('kind', '=', 'survey_call')
      .where('state', '=', 'open')
      .execute();
    expect(open.map((x) => Number(x.record_id)).sort()).toEqual([survey.targets[0]!.id].sort());
    // The one who gave 1 got a revisit proposed.
    const plans = await ok<{ items: { sourceKind: string }[] }>(
      call(ctx.app, as('pianqu'), 'GET', `/api/satisfaction/revisits?customerId=${rest[5]!.customerId}`),
    );
    expect(plans.items).toEqual([expect.objectContaining({ sourceKind: 'survey_target' })]);
    const audit = await ctx.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('entity', '=', 'survey_target')
      .execute();
    expect(audit.filter((x) => x.action === 'survey_call_answered')).toHaveLength(6);
  });

  it('plans a revisit with an owner, shows it in his inbox, records the outcome into the ledger', async () => {
    const target = st2.find((x) => !survey.targets.some((t) => t.customerId === x))!;
    await expectError(
      call(ctx.app, as('zhanzhang3'), 'POST', '/api/satisfaction/revisits', {
        customerId: target,
        plannedFor: '2026-12-10T02:00:00Z',
        purpose: '回访',
      }),
      403,
      'SCOPE_DENIED',
    );
    const plan = await ok<{ id: number; ownerName: string; state: string; version: number }>(
      call(ctx.app, as('pianqu'), 'POST', '/api/satisfaction/revisits', {
        customerId: target,
        plannedFor: '2026-12-10T02:00:00Z',
        purpose: '了解油品意见',
      }),
      201,
    );
    expect(plan.state).toBe('planned');
    const item = await ctx.db.kysely
      .selectFrom('work_item')
      .select(['assignee_user_id', 'due_at', 'state'])
      .where('kind', '=', 'revisit')
      .where('record_id', '=', plan.id)
      .executeTakeFirstOrThrow();
    expect(item.state).toBe('open');
    expect(new Date(item.due_at).toISOString()).toBe('2026-12-10T02:00:00.000Z');
    await expectError(
      call(ctx.app, as('zhanzhang3'), 'POST', `/api/satisfaction/revisits/${plan.id}/outcome`, {
        reached: true,
        outcome: 'x',
      }),
      403,
      'SCOPE_DENIED',
    );
    const done = await ok<{ state: string; reached: boolean; rating: number }>(
      call(ctx.app, as('pianqu'), 'POST', `/api/satisfaction/revisits/${plan.id}/outcome`, {
        reached: true,
        rating: 4,
        outcome: '客户认可',
        version: plan.version,
      }),
    );
    expect(done).toMatchObject({ state: 'done', reached: true, rating: 4 });
    expect(await ledger(target)).toEqual([{ reason: 'revisit', source_id: plan.id }]);
    // A station revisited as a whole, then cancelled.
    const st = await ok<{ id: number; customer: null }>(
      call(ctx.app, as('pianqu'), 'POST', '/api/satisfaction/revisits', {
        orgUnitId: tree.station2,
        plannedFor: '2026-12-12T02:00:00Z',
        purpose: '站点整体回访',
      }),
      201,
    );
    expect(st.customer).toBeNull();
    const c = await ok<{ state: string }>(
      call(ctx.app, as('pianqu'), 'POST', `/api/satisfaction/revisits/${st.id}/cancel`, { reason: '改期' }),
    );
    expect(c.state).toBe('cancelled');
    const w = await ctx.db.kysely
      .selectFrom('work_item')
      .select('state')
      .where('kind', '=', 'revisit')
      .where('record_id', '=', st.id)
      .executeTakeFirstOrThrow();
    expect(w.state).toBe('cancelled');
  });

  it('closes a survey: calls not made leave the inbox', async () => {
    await expectError(
      call(ctx.app, as('kefu'), 'POST', `/api/satisfaction/surveys/${survey.id}/close`, {}),
      403,
      'PERMISSION_DENIED',
    );
    const r = await ok<{ state: string }>(
      call(ctx.app, as('pianqu'), 'POST', `/api/satisfaction/surveys/${survey.id}/close`, {}),
    );
    expect(r.state).toBe('closed');
    const open = await ctx.db.kysely
      .selectFrom('work_item')
      .select('id')
      .where('kind', '=', 'survey_call')
      .where('state', '=', 'open')
      .execute();
    expect(open).toEqual([]);
  });
});
