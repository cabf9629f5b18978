// Development plans on both engines: a station surveys prospects (phones masked for readers without
// customer.phone), the branch compiles the month's plan, the department head and then the leader
// approve it — nobody his own plan, nobody both slots, nobody of another branch — and it is dispatched
// by importance to followers at the branch, the area and the station; progress up to a signature makes
// a customer owned by the follower; work items open and close at each step; the weekly sample; the
// overdue flags with a controlled clock; the permissions granted on an existing database.
import { beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { runJob } from '../../src/server/jobs/job-runner.js';
import { JOBS } from '../../src/server/jobs/index.js';
import { devPlanOverdueJob } from '../../src/server/modules/prospects/prospects.job.js';
import { grantProspectPermissions } from '../../src/server/db/migrations/0026-prospects.js';

interface Prospect {
  id: number;
  orgUnitId: number;
  stage: string;
  importance: string;
  phone: string | null;
  dueDay: string | null;
  overdue: boolean;
  overdueSince: string | null;
  followerUserId: number | null;
  dispatchUnit: { id: number; kindCode: string } | null;
  customer: { id: number; code: string } | null;
  allowedActions: string[];
  version: number;
  events: { action: string; fromStage: string | null; toStage: string; day: string }[];
}
interface Plan {
  id: number;
  state: string;
  dueDay: string;
  overdue: boolean;
  overdueSince: string | null;
  waitingFor: string | null;
  version: number;
  allowedActions: string[];
  counts: Record<string, number>;
  prospects: Prospect[];
  events: { action: string; fromState: string | null; toState: string; actorName: string }[];
  samples: { id: number; stationId: number; week: string; finding: string | null; snapshot: Record<string, number> }[];
}

const NOW = new Date('2026-12-01T02:00:00Z'); // 10:00 in Shanghai, Tuesday 1 December

describeEngines('development plans', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  const s = new Map<string, Session>();
  const u = new Map<string, number>();
  let phoneNo = 0;

  const as = (who: string) => s.get(who)!;
  const denied = async (
    res: Promise<{ statusCode: number; json: () => any; body: string }>,
    status: number,
    code: string,
    field?: string,
  ) => {
    const r = await res;
    expect(r.statusCode, r.body).toBe(status);
    expect(r.json().error.code).toBe(code);
    if (field) expect(r.json().error.field).toBe(field);
  };
  const survey = (who: string, body: Record<string, unknown>) =>
    call(ctx.app, as(who), 'POST', '/api/prospects', {
      kind: 'organisation',
      name: `物流公司${++phoneNo}`,
      contactName: '王经理',
      phone: `1391234${String(phoneNo).padStart(4, '0')}`,
      vehicleCount: 12,
      monthlyLitres: 30000,
      demand: '重卡柴油，每月约 30 吨',
      fuelUse: '运输',
      settlementMethod: '月结',
      competitor: '民营加油站',
      importance: 'general',
      ...body,
    });
  const plan = (who: string, id: number) => call(ctx.app, as(who), 'GET', `/api/dev-plans/${id}`);
  const step = (who: string, id: number, path: string, body: unknown = {}) =>
    call(ctx.app, as(who), 'POST', `/api/dev-plans/${id}/${path}`, body);
  const progress = (who: string, id: number, body: unknown) =>
    call(ctx.app, as(who), 'POST', `/api/prospects/${id}/progress`, body);
  const work = async (kind: string, recordId: number) =>
    ctx.db.kysely
      .selectFrom('work_item')
      .select(['assignee_user_id', 'permission', 'state', 'due_at', 'org_unit_id', 'excluded_user_ids'])
      .where('kind', '=', kind)
      .where('record_id', '=', recordId)
      .executeTakeFirst();
  const inbox = async (who: string) =>
    (await ok<{ items: { kind: string; recordId: number }[] }>(call(ctx.app, as(who), 'GET', '/api/work/inbox'))).items;

  beforeAll(async () => {
    ctx.now.value = NOW;
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    const people: [string, number, string[]][] = [
      ['jiayou', tree.station1, ['attendant']],
      ['zhanzhang', tree.station1, ['station_manager']],
      ['zhanzhang2', tree.station2, ['station_manager']],
      ['pianqu', tree.area1, ['area_customer_manager']],
      ['guanli', tree.branch1, ['branch_customer_admin']],
      ['daibiao', tree.branch1, ['sales_rep']],
      ['zhuguan', tree.branch1, ['branch_dept_head']],
      ['jingli', tree.branch1, ['branch_manager']],
      // Holds every slot: may take any one of them, never two on one plan, never on a plan he compiled.
      ['quanneng', tree.branch1, ['branch_customer_admin', 'branch_dept_head', 'branch_manager']],
      ['zhuguan2', tree.branch2, ['branch_dept_head']],
      ['guanli2', tree.branch2, ['branch_customer_admin']],
    ];
    for (const [name, unit, roles] of people) {
      u.set(name, await createUser(ctx.app, admin, name, unit, roles));
      s.set(name, await login(ctx.app, name, USER_PASSWORD));
    }
  }, 120_000);

  it('registers the nightly overdue flag', () => {
    expect(JOBS).toContain(devPlanOverdueJob);
  });

  it('records a survey at the station, masks the phone for an attendant, refuses bad input and another branch', async () => {
    const made = await ok<Prospect>(survey('zhanzhang', { phone: '139-1234-0000', importance: 'secondary' }), 201);
    expect(made).toMatchObject({ stage: 'surveyed', importance: 'secondary', phone: '13912340000' });
    expect(made.events.map((e) => [e.action, e.toStage])).toEqual([['survey', 'surveyed']]);
    const seen = await ok<Prospect>(call(ctx.app, as('jiayou'), 'GET', `/api/prospects/${made.id}`));
    expect(seen.phone).not.toBe('13912340000');
    expect(seen.phone).toMatch(/\*/);
    await denied(survey('zhanzhang', { phone: '12345' }), 400, 'VALIDATION_FAILED', 'body.phone');
    await denied(survey('zhanzhang', { demand: '   ' }), 400, 'VALIDATION_FAILED', 'body.demand');
    await denied(survey('zhanzhang', { importance: 'urgent' }), 400, 'VALIDATION_FAILED', 'body.importance');
    await denied(survey('zhanzhang', { orgUnitId: tree.station3 }), 403, 'SCOPE_DENIED', 'body.orgUnitId');
    await denied(call(ctx.app, as('guanli2'), 'GET', `/api/prospects/${made.id}`), 403, 'SCOPE_DENIED');
    // A phone already in the archive: said so, recorded only when confirmed.
    await ok(
      call(ctx.app, admin, 'POST', '/api/customers', {
        kind: 'individual',
        orgUnitId: tree.station1,
        name: '老客户',
        phones: [{ phone: '13700000001' }],
      }),
      201,
    );
    await denied(survey('zhanzhang', { phone: '13700000001' }), 409, 'DUPLICATE_SUSPECTED', 'body.phone');
    await ok(survey('zhanzhang', { phone: '13700000001', confirmDuplicate: true }), 201);
    const audit = await sql<{ action: string; after_json: string }>`select action, after_json from audit_log
      where entity = 'prospect' and entity_id = ${String(made.id)}`.execute(ctx.db.kysely);
    expect(audit.rows.map((r) => r.action)).toEqual(['create']);
    // The audit keeps the phone masked like the screens of readers without the right.
    expect(audit.rows[0]!.after_json).not.toContain('13912340000');
  });

  it('walks a plan through both approvals, refusing self-approval, one person twice, the wrong slot and order', async () => {
    const a = await ok<Prospect>(survey('zhanzhang', { importance: 'important' }), 201);
    const b = await ok<Prospect>(survey('zhanzhang2', { importance: 'secondary', orgUnitId: tree.station2 }), 201);
    const c = await ok<Prospect>(survey('zhanzhang', { importance: 'general' }), 201);
    // Only the branch plans, for a branch.
    await denied(
      call(ctx.app, as('zhanzhang'), 'POST', '/api/dev-plans', { orgUnitId: tree.branch1, month: '2026-12' }),
      403,
      'PERMISSION_DENIED',
    );
    await denied(
      call(ctx.app, as('guanli'), 'POST', '/api/dev-plans', { orgUnitId: tree.area1, month: '2026-12' }),
      400,
      'VALIDATION_FAILED',
      'body.orgUnitId',
    );
    await denied(
      call(ctx.app, as('guanli'), 'POST', '/api/dev-plans', { orgUnitId: tree.branch2, month: '2026-12' }),
      403,
      'SCOPE_DENIED',
    );
    const made = await ok<Plan>(
      call(ctx.app, as('guanli'), 'POST', '/api/dev-plans', {
        orgUnitId: tree.branch1,
        month: '2026-12',
        dueDay: '2026-12-05',
      }),
      201,
    );
    expect(made.state).toBe('draft');
    const inPlan = new Map(made.prospects.map((x) => [x.id, x]));
    for (const x of [a, b, c]) expect(inPlan.has(x.id)).toBe(true);
    // Each proposed to the unit his importance names: branch, area, station.
    expect(inPlan.get(a.id)!.dispatchUnit).toMatchObject({ id: tree.branch1, kindCode: 'branch' });
    expect(inPlan.get(b.id)!.dispatchUnit).toMatchObject({ id: tree.area1, kindCode: 'area' });
    expect(inPlan.get(c.id)!.dispatchUnit).toMatchObject({ id: tree.station1, kindCode: 'station' });
    // The surveyor follows where he may (the station), the first person there elsewhere.
    expect(inPlan.get(c.id)!.followerUserId).toBe(u.get('zhanzhang'));
    await denied(
      call(ctx.app, as('guanli'), 'POST', '/api/dev-plans', { orgUnitId: tree.branch1, month: '2026-12' }),
      409,
      'CONFLICT',
      'body.month',
    );

    // Followers at the wrong level are refused, naming the row.
    const items = made.prospects.map((x) => ({
      prospectId: x.id,
      importance: x.importance,
      followerUserId: x.id === a.id ? u.get('daibiao')! : x.id === b.id ? u.get('pianqu')! : x.followerUserId,
    }));
    const put = (who: string, body: unknown) => call(ctx.app, as(who), 'PUT', `/api/dev-plans/${made.id}/items`, body);
    const wrong = items.map((i) => (i.prospectId === b.id ? { ...i, followerUserId: u.get('zhanzhang')! } : i));
    const bIndex = items.findIndex((i) => i.prospectId === b.id);
    await denied(
      put('guanli', { items: wrong, version: made.version }),
      422,
      'ASSIGNEE_NOT_ELIGIBLE',
      `body.items.${bIndex}.followerUserId`,
    );
    const edited = await ok<Plan>(put('guanli', { items, version: made.version }));
    expect(edited.prospects.find((x) => x.id === a.id)!.followerUserId).toBe(u.get('daibiao'));
    await denied(put('guanli', { items, version: made.version }), 409, 'VERSION_CONFLICT', 'body.version');

    // Nothing is approved before it is submitted; no approval item yet.
    await denied(step('zhuguan', made.id, 'dept-approval', { decision: 'approve' }), 409, 'CONFLICT');
    expect(await work('dev_plan_approval', made.id)).toBeUndefined();
    const submitted = await ok<Plan>(step('guanli', made.id, 'submit'));
    expect(submitted).toMatchObject({ state: 'submitted', waitingFor: 'prospect.approve' });
    expect(await work('dev_plan_approval', made.id)).toMatchObject({
      assignee_user_id: null,
      permission: 'prospect.approve',
      state: 'open',
      org_unit_id: tree.branch1,
    });
    expect((await inbox('zhuguan')).some((w) => w.kind === 'dev_plan_approval' && w.recordId === made.id)).toBe(true);
    expect((await inbox('jingli')).some((w) => w.kind === 'dev_plan_approval')).toBe(false);

    // The leader's slot is not yet; the head of another branch sees nothing; a sales rep may not.
    await denied(step('jingli', made.id, 'leader-approval', { decision: 'approve' }), 409, 'CONFLICT');
    await denied(step('zhuguan2', made.id, 'dept-approval', { decision: 'approve' }), 403, 'SCOPE_DENIED');
    await denied(step('daibiao', made.id, 'dept-approval', { decision: 'approve' }), 403, 'PERMISSION_DENIED');
    await denied(
      step('zhuguan', made.id, 'dept-approval', { decision: 'reject' }),
      400,
      'VALIDATION_FAILED',
      'body.note',
    );

    const headed = await ok<Plan>(step('quanneng', made.id, 'dept-approval', { decision: 'approve', note: '同意' }));
    expect(headed).toMatchObject({ state: 'dept_approved', waitingFor: 'prospect.finalize' });
    expect(await work('dev_plan_approval', made.id)).toMatchObject({ permission: 'prospect.finalize', state: 'open' });
    // The same person may not take the second slot too; nor is it offered to him.
    expect(headed.allowedActions).not.toContain('approve_leader');
    await denied(step('quanneng', made.id, 'leader-approval', { decision: 'approve' }), 403, 'APPROVER_NOT_ELIGIBLE');
    expect((await inbox('quanneng')).some((w) => w.kind === 'dev_plan_approval')).toBe(false);
    expect((await inbox('jingli')).some((w) => w.kind === 'dev_plan_approval' && w.recordId === made.id)).toBe(true);

    // The leader sends it back: both approvals void, the item closed, edits allowed again.
    const back = await ok<Plan>(
      step('jingli', made.id, 'leader-approval', { decision: 'reject', note: '重要客户太少' }),
    );
    expect(back).toMatchObject({ state: 'draft', waitingFor: null });
    expect((await work('dev_plan_approval', made.id))!.state).toBe('cancelled');

    await ok(step('guanli', made.id, 'submit'));
    await ok(step('zhuguan', made.id, 'dept-approval', { decision: 'approve' }));
    await denied(step('guanli', made.id, 'dispatch'), 409, 'CONFLICT');
    const approved = await ok<Plan>(step('jingli', made.id, 'leader-approval', { decision: 'approve' }));
    expect(approved.state).toBe('approved');
    expect((await work('dev_plan_approval', made.id))!.state).toBe('done');

    // Dispatch: every prospect to his follower, due in a week, with a work item each.
    await denied(step('zhuguan', made.id, 'dispatch'), 403, 'PERMISSION_DENIED');
    const out = await ok<Plan>(step('guanli', made.id, 'dispatch'));
    expect(out.state).toBe('dispatched');
    for (const x of out.prospects) {
      expect(x.stage).toBe('dispatched');
      expect(x.dueDay).toBe('2026-12-08');
      const w = await work('prospect', x.id);
      expect(w).toMatchObject({ assignee_user_id: x.followerUserId, state: 'open' });
      // The end of the due day in Shanghai.
      expect(new Date(w!.due_at).toISOString()).toBe('2026-12-08T15:59:59.000Z');
    }
    expect(out.events.map((e) => e.action)).toEqual([
      'compile',
      'submit',
      'approve_dept',
      'reject_leader',
      'submit',
      'approve_dept',
      'approve_leader',
      'dispatch',
    ]);
    const audit = await sql<{ action: string }>`select action from audit_log where entity = 'dev_plan'
      and entity_id = ${String(made.id)} order by id`.execute(ctx.db.kysely);
    expect(audit.rows.map((r) => r.action)).toEqual([
      'create',
      'update',
      'plan_submit',
      'plan_approve_dept',
      'plan_reject_leader',
      'plan_submit',
      'plan_approve_dept',
      'plan_approve_leader',
      'plan_dispatch',
    ]);
  });

  it('refuses a compiler approving his own plan', async () => {
    await ok(survey('zhanzhang', {}), 201);
    const own = await ok<Plan>(
      call(ctx.app, as('quanneng'), 'POST', '/api/dev-plans', { orgUnitId: tree.branch1, month: '2027-01' }),
      201,
    );
    await ok(step('quanneng', own.id, 'submit'));
    await denied(step('quanneng', own.id, 'dept-approval', { decision: 'approve' }), 403, 'APPROVER_NOT_ELIGIBLE');
    await denied(
      step('quanneng', own.id, 'dept-approval', { decision: 'reject', note: 'x' }),
      403,
      'APPROVER_NOT_ELIGIBLE',
    );
    // The queue is not his either.
    expect((await work('dev_plan_approval', own.id))!.excluded_user_ids).toContain(`,${u.get('quanneng')},`);
    expect((await inbox('quanneng')).some((w) => w.kind === 'dev_plan_approval' && w.recordId === own.id)).toBe(false);
  });

  it('moves prospects on by their follower or the branch, refusing others, and a signature makes a customer he owns', async () => {
    const plans = await ok<{ items: { id: number; month: string }[] }>(
      call(ctx.app, as('guanli'), 'GET', '/api/dev-plans?month=2026-12'),
    );
    const p = await ok<Plan>(plan('guanli', plans.items[0]!.id));
    const station = p.prospects.find((x) => x.dispatchUnit!.kindCode === 'station')!;
    const area = p.prospects.find((x) => x.dispatchUnit!.kindCode === 'area')!;
    const branch = p.prospects.find((x) => x.dispatchUnit!.kindCode === 'branch')!;

    // The station's general prospect: a colleague at the station who is not the follower may not; the attendant may not.
    await denied(progress('jiayou', station.id, { action: 'contact', note: '打了电话' }), 403, 'PERMISSION_DENIED');
    // The area's prospect: the station below the area sees a unit outside its subtree.
    await denied(progress('zhanzhang', area.id, { action: 'contact', note: 'x' }), 403, 'SCOPE_DENIED');
    await denied(progress('pianqu', area.id, { action: 'sign', note: 'x' }), 400, 'VALIDATION_FAILED');
    await denied(
      call(ctx.app, as('pianqu'), 'POST', `/api/prospects/${area.id}/sign`, { note: '签了' }),
      409,
      'CONFLICT',
    );
    await denied(
      progress('pianqu', area.id, { action: 'contact', note: 'x', nextDueDay: '2026-11-30' }),
      400,
      'VALIDATION_FAILED',
      'body.nextDueDay',
    );
    await denied(
      progress('pianqu', area.id, { action: 'contact', note: 'x', day: '2026-12-02' }),
      400,
      'VALIDATION_FAILED',
      'body.day',
    );
    const contacted = await ok<Prospect>(
      progress('pianqu', area.id, {
        action: 'contact',
        note: '见了车队长',
        day: '2026-11-30',
        nextDueDay: '2026-12-10',
      }),
    );
    expect(contacted).toMatchObject({ stage: 'contacted', dueDay: '2026-12-10' });
    expect(contacted.events.at(-1)).toMatchObject({ action: 'contact', day: '2026-11-30', toStage: 'contacted' });
    expect(new Date((await work('prospect', area.id))!.due_at).toISOString()).toBe('2026-12-10T15:59:59.000Z');
    // The branch's planner may record too (checking up); a note keeps the stage and moves the due day.
    const noted = await ok<Prospect>(progress('guanli', area.id, { action: 'note', note: '督促报价' }));
    expect(noted).toMatchObject({ stage: 'contacted', dueDay: '2026-12-15' });
    const offered = await ok<Prospect>(progress('pianqu', area.id, { action: 'offer', note: '报价 7.2 元/升' }));
    expect(offered).toMatchObject({ stage: 'offered', dueDay: '2026-12-31' });

    const signed = await ok<{ prospect: Prospect; customerId: number; customerCode: string }>(
      call(ctx.app, as('pianqu'), 'POST', `/api/prospects/${area.id}/sign`, { note: '签订年度协议' }),
    );
    expect(signed.prospect).toMatchObject({ stage: 'signed', dueDay: null, customer: { id: signed.customerId } });
    expect(signed.prospect.allowedActions).toEqual([]);
    const cust = await ctx.db.kysely
      .selectFrom('customer')
      .select(['owner_user_id', 'org_unit_id', 'kind', 'code', 'settlement_method', 'other_stations'])
      .where('id', '=', signed.customerId)
      .executeTakeFirstOrThrow();
    expect(cust).toMatchObject({
      owner_user_id: u.get('pianqu'),
      org_unit_id: area.orgUnitId,
      kind: 'organisation',
      code: signed.customerCode,
      settlement_method: '月结',
      other_stations: '民营加油站',
    });
    const created = await sql<{ n: number }>`select count(*) as n from audit_log where entity = 'customer'
      and action = 'create' and entity_id = ${String(signed.customerId)}`.execute(ctx.db.kysely);
    expect(Number(created.rows[0]!.n)).toBe(1);
    expect((await work('prospect', area.id))!.state).toBe('done');
    await denied(progress('pianqu', area.id, { action: 'lose', note: 'x' }), 409, 'CONFLICT');

    // Lost: closed, its item done; the branch's important prospect is followed by the rep at the branch.
    await denied(progress('zhanzhang', branch.id, { action: 'note', note: 'x' }), 403, 'SCOPE_DENIED');
    const lost = await ok<Prospect>(progress('daibiao', branch.id, { action: 'lose', note: '已与竞争对手签约' }));
    expect(lost.stage).toBe('lost');
    expect((await work('prospect', branch.id))!.state).toBe('done');

    // A signature whose customer is refused leaves the prospect as it was (one transaction).
    await ok(progress('zhanzhang', station.id, { action: 'contact', note: '电话联系' }));
    await ok(
      call(ctx.app, admin, 'POST', '/api/customers', {
        kind: 'individual',
        orgUnitId: tree.station1,
        name: '撞号',
        confirmDuplicate: true,
        phones: [
          {
            phone: (
              await ctx.db.kysely
                .selectFrom('prospect')
                .select('phone')
                .where('id', '=', station.id)
                .executeTakeFirstOrThrow()
            ).phone!,
          },
        ],
      }),
      201,
    );
    await denied(
      call(ctx.app, as('zhanzhang'), 'POST', `/api/prospects/${station.id}/sign`, { note: '签了' }),
      409,
      'DUPLICATE_SUSPECTED',
    );
    expect((await ok<Prospect>(call(ctx.app, as('zhanzhang'), 'GET', `/api/prospects/${station.id}`))).stage).toBe(
      'contacted',
    );
    expect((await work('prospect', station.id))!.state).toBe('open');
    const second = await ok<{ prospect: Prospect }>(
      call(ctx.app, as('zhanzhang'), 'POST', `/api/prospects/${station.id}/sign`, {
        note: '签了',
        confirmDuplicate: true,
      }),
    );
    expect(second.prospect.stage).toBe('signed');

    const board = await ok<{ stages: { stage: string; count: number }[]; total: number }>(
      call(ctx.app, as('guanli'), 'GET', `/api/prospects/board?planId=${p.id}`),
    );
    const count = (st: string) => board.stages.find((x) => x.stage === st)!.count;
    expect(count('signed')).toBe(2);
    expect(count('lost')).toBe(1);
    expect(board.total).toBe(p.prospects.length);
  });

  it('samples stations each week and records the check', async () => {
    const plans = await ok<{ items: { id: number }[] }>(
      call(ctx.app, as('guanli'), 'GET', '/api/dev-plans?month=2026-12'),
    );
    const id = plans.items[0]!.id;
    const picked = await ok<Plan>(step('guanli', id, 'samples', { count: 5 }));
    expect(picked.samples.length).toBe(2); // the plan's two stations
    expect(picked.samples.every((x) => x.week === '2026-11-30')).toBe(true);
    // Picking again the same week adds nothing.
    expect((await ok<Plan>(step('guanli', id, 'samples', {}))).samples.length).toBe(2);
    await denied(
      step('guanli', id, 'samples', { stationIds: [tree.station3] }),
      400,
      'VALIDATION_FAILED',
      'body.stationIds.0',
    );
    const one = picked.samples[0]!;
    await denied(
      step('zhanzhang', id, `samples/${one.id}`, { finding: 'slow', note: '进度慢' }),
      403,
      'PERMISSION_DENIED',
    );
    const checked = await ok<Plan>(
      step('guanli', id, `samples/${one.id}`, { finding: 'slow', note: '两周未联系，专项督办' }),
    );
    expect(checked.samples.find((x) => x.id === one.id)).toMatchObject({ finding: 'slow' });
  });

  it('flags plans and prospects overdue with the clock, once, and clears a prospect’s flag on progress', async () => {
    // A plan of branch 2 left undispatched, a prospect of it never contacted.
    await ok(survey('guanli2', { orgUnitId: tree.station3, importance: 'general' }), 201);
    const p2 = await ok<Plan>(
      call(ctx.app, as('guanli2'), 'POST', '/api/dev-plans', {
        orgUnitId: tree.branch2,
        month: '2026-12',
        dueDay: '2026-12-03',
      }),
      201,
    );
    expect(p2.overdue).toBe(false);
    const plans = await ok<{ items: { id: number }[] }>(
      call(ctx.app, as('guanli'), 'GET', '/api/dev-plans?month=2026-12'),
    );
    const p1 = await ok<Plan>(plan('guanli', plans.items[0]!.id));
    // Under way and due before the 10th (a contact made on the 1st is due a fortnight later).
    const live = p1.prospects.filter(
      (x) => ['dispatched', 'contacted', 'offered'].includes(x.stage) && x.dueDay! < '2026-12-10',
    );
    expect(live.length).toBeGreaterThan(0);

    // Sessions end after 12 hours: sign in again on each day the clock is moved to.
    const relogin = async () => {
      for (const name of u.keys()) s.set(name, await login(ctx.app, name, USER_PASSWORD));
    };
    ctx.now.value = new Date('2026-12-04T02:00:00Z');
    await relogin();
    expect((await ok<Plan>(plan('guanli2', p2.id))).overdue).toBe(true);
    ctx.now.value = new Date('2026-12-09T17:00:00Z'); // 01:00 on the 10th in Shanghai
    await relogin();
    const overdue = await ok<{ total: number; items: Prospect[] }>(
      call(ctx.app, as('guanli'), 'GET', '/api/prospects?overdue=true'),
    );
    expect(overdue.items.map((x) => x.id).sort()).toEqual(live.map((x) => x.id).sort());
    expect(overdue.items.every((x) => x.overdue)).toBe(true);
    const first = await runJob(ctx.db.kysely, devPlanOverdueJob, '2026-12-10', { now: ctx.now.value });
    expect(first).toMatchObject({ status: 'done', detail: { plans: 1, prospects: live.length } });
    const again = await runJob(ctx.db.kysely, devPlanOverdueJob, '2026-12-10', { now: ctx.now.value, force: true });
    expect(again).toMatchObject({ status: 'done', detail: { plans: 0, prospects: 0 } });
    const flagged = await ok<Prospect>(call(ctx.app, as('guanli'), 'GET', `/api/prospects/${live[0]!.id}`));
    expect(flagged).toMatchObject({ overdue: true, overdueSince: '2026-12-10' });
    expect(flagged.events.at(-1)!.action).toBe('overdue');
    expect((await ok<Plan>(plan('guanli2', p2.id))).overdueSince).toBe('2026-12-10');
    const follower = [...u.entries()].find(([, id]) => id === live[0]!.followerUserId)![0];
    const moved = await ok<Prospect>(progress(follower, live[0]!.id, { action: 'note', note: '再次联系' }));
    expect(moved).toMatchObject({ overdue: false, overdueSince: null, dueDay: '2026-12-17' });
    ctx.now.value = NOW;
    await relogin();
  });

  it('gives the development-plan permissions to existing roles on an old database', async () => {
    const roleId = async (code: string) =>
      Number(
        (await ctx.db.kysely.selectFrom('role').select('id').where('code', '=', code).executeTakeFirstOrThrow()).id,
      );
    const remove = async () =>
      ctx.db.kysely.deleteFrom('role_permission').where('permission', 'like', 'prospect.%').execute();
    const held = async (code: string) =>
      (
        await ctx.db.kysely
          .selectFrom('role_permission')
          .select('permission')
          .where('role_id', '=', await roleId(code))
          .where('permission', 'like', 'prospect.%')
          .orderBy('permission')
          .execute()
      ).map((r) => r.permission);
    await remove();
    await grantProspectPermissions(ctx.db.kysely);
    expect(await held('branch_customer_admin')).toEqual(['prospect.plan']);
    expect(await held('branch_dept_head')).toEqual(['prospect.approve']);
    expect(await held('branch_manager')).toEqual(['prospect.finalize']);
    expect(await held('admin')).toEqual(['prospect.approve', 'prospect.finalize', 'prospect.plan']);
    expect(await held('attendant')).toEqual([]);
    // Twice changes nothing.
    await grantProspectPermissions(ctx.db.kysely);
    expect(await held('admin')).toEqual(['prospect.approve', 'prospect.finalize', 'prospect.plan']);
  });
});
