// Churn cases on both engines: every step and who may take it (an attendant opens a natural loss, the
// level above sends someone for a second attempt, nobody else does; another branch sees nothing),
// exit surveys, win-backs on reading and at night, every write audited, the catalogue as data, the
// churn.assign grant on an existing database, and the loss rate against a direct count of the rows.
import { beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { send, type Txn } from '../transactions/helpers.js';
import { runJob } from '../../src/server/jobs/job-runner.js';
import { JOBS } from '../../src/server/jobs/index.js';
import { churnWinBacksJob } from '../../src/server/modules/churn-cases/churn-cases.job.js';
import { grantChurnAssign } from '../../src/server/db/migrations/0021-churn-cases.js';
import { countAdministrators } from '../../src/server/auth/rights.js';
import { monthlyRate } from '../../src/domain/churn-case-workflow.js';
import { addMonths } from '../../src/domain/kpi.js';

interface Case {
  id: number;
  state: string;
  category: string;
  lossKind: { code: string };
  lostMonth: string | null;
  lostDay: string | null;
  alertId: number | null;
  survey: { reasonCode: string; freeText: string | null } | null;
  secondAttempt: { assigneeUserId: number; dueDay: string; overdue: boolean } | null;
  wonBack: { at: string; day: string | null } | null;
  allowedActions: string[];
  canRecordSurvey: boolean;
  events: { action: string; fromState: string | null; toState: string; actorName: string; bySystem: boolean }[];
}

const NOW = new Date('2026-11-20T03:00:00Z');
const survey = { reasonCode: 'location', freeText: '搬到外地了' };

describeEngines('churn cases', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  let key: string;
  const s = new Map<string, Session>();
  const u = new Map<string, number>();
  let seq = 0;
  let plateNo = 0;

  /** A customer at `unit` who bought on these days. */
  const customer = async (unit: number, stationCode: string, days: string[]) => {
    const plate = `冀B${String(10000 + ++plateNo)}`;
    const { id } = await ok<{ id: number }>(
      call(ctx.app, admin, 'POST', '/api/customers', {
        kind: 'individual',
        orgUnitId: unit,
        name: `客户${plateNo}`,
        surname: '李',
        vehicles: [{ plate }],
      }),
      201,
    );
    if (days.length > 0) await buy(plate, stationCode, days);
    return { id, plate };
  };
  const buy = async (plate: string, stationCode: string, days: string[]) => {
    const rows: Txn[] = days.map((d) => ({
      externalId: `c${++seq}`,
      occurredAt: `${d}T10:00:00+08:00`,
      stationCode,
      plate,
      product: '0#柴油',
      volumeMl: 50_000,
      amountFen: 39_000,
    }));
    const res = await ok<{ rejected: number; attached: number }>(
      send(ctx.app, key, { source: 'pos', transactions: rows }),
    );
    expect(res.rejected).toBe(0);
    expect(res.attached).toBe(rows.length);
  };
  const alert = async (customerId: number, orgUnitId: number, episode = '2026-10-20') =>
    Number(
      (
        await ctx.db.kysely
          .insertInto('alert')
          .values({
            customer_id: customerId,
            org_unit_id: orgUnitId,
            kind: 'cadence',
            episode,
            status: 'open',
            opened_at: NOW.toISOString(),
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id,
    );
  const open = (who: string, alertId: number, body: unknown) =>
    call(ctx.app, s.get(who)!, 'POST', `/api/churn-cases/from-alert/${alertId}`, body);
  const act = (who: string, id: number, step: string, body: unknown) =>
    call(ctx.app, s.get(who)!, 'POST', `/api/churn-cases/${id}/${step}`, body);
  const read = (who: string, id: number) => call(ctx.app, s.get(who)!, 'GET', `/api/churn-cases/${id}`);
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
  const audits = async (caseId: number) =>
    (
      await sql<{
        action: string;
        actor_name: string;
      }>`select action, actor_name from audit_log where entity = 'churn_case' and entity_id = ${String(caseId)} order by id`.execute(
        ctx.db.kysely,
      )
    ).rows;

  beforeAll(async () => {
    ctx.now.value = NOW;
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    key = (
      await ok<{ key: string }>(call(ctx.app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.hq }), 201)
    ).key;
    const people: [string, number, string][] = [
      ['jiayou', tree.station1, 'attendant'],
      ['zhanzhang', tree.station1, 'station_manager'],
      ['pianqu', tree.area1, 'area_customer_manager'],
      ['daibiao', tree.area1, 'sales_rep'],
      ['guanli', tree.branch1, 'branch_customer_admin'],
      ['guanli_zhan', tree.station1, 'branch_customer_admin'],
      ['guanli2', tree.branch2, 'branch_customer_admin'],
      ['jiayou3', tree.station3, 'attendant'],
      ['shenji', tree.branch1, 'auditor'],
      ['yingxiao', tree.hq, 'hq_marketing'],
    ];
    for (const [name, unit, role] of people) {
      u.set(name, await createUser(ctx.app, admin, name, unit, [role]));
      s.set(name, await login(ctx.app, name, USER_PASSWORD));
    }
  }, 120_000);

  it('registers the nightly win-back check', () => {
    expect(JOBS).toContain(churnWinBacksJob);
  });

  it('serves the kinds of loss and the reasons as data', async () => {
    const catalog = await ok<{
      lossKinds: { code: string; category: string }[];
      reasons: { code: string; needsText: boolean }[];
    }>(call(ctx.app, s.get('jiayou')!, 'GET', '/api/churn-cases/catalog'));
    expect(catalog.lossKinds.filter((k) => k.category === 'natural').map((k) => k.code)).toEqual([
      'closed',
      'moved_away',
      'project_ended',
      'vehicle_sold',
    ]);
    expect(catalog.lossKinds.filter((k) => k.category === 'non_natural').map((k) => k.code)).toEqual([
      'all',
      'part',
      'organisation',
    ]);
    expect(catalog.reasons.map((r) => r.code)).toEqual([
      'price',
      'service',
      'quality',
      'location',
      'competitor_offer',
      'other',
    ]);
    expect(catalog.reasons.find((r) => r.code === 'other')!.needsText).toBe(true);
  });

  it('lets an attendant turn his alert into a natural loss with its exit survey, closing the alert, audited', async () => {
    const c = await customer(tree.station1, 'B1-A1-S1', ['2026-10-01', '2026-10-05', '2026-10-09']);
    const a = await alert(c.id, tree.station1);
    // A natural loss is lost at once: without the survey it is refused, and nothing is written.
    await denied(
      open('jiayou', a, { category: 'natural', lossKind: 'moved_away', note: '打电话说搬去外地' }),
      422,
      'EXIT_SURVEY_REQUIRED',
      'body.survey',
    );
    await denied(
      open('jiayou', a, { category: 'natural', lossKind: 'all', note: 'x', survey }),
      400,
      'VALIDATION_FAILED',
      'body.lossKind',
    );
    await denied(
      open('jiayou', a, { category: 'natural', lossKind: 'moved_away', note: 'x', survey: { reasonCode: 'other' } }),
      400,
      'VALIDATION_FAILED',
      'body.survey.freeText',
    );
    await denied(
      open('jiayou', a, { category: 'natural', lossKind: 'moved_away', note: 'x', survey: { reasonCode: 'weather' } }),
      400,
      'VALIDATION_FAILED',
      'body.survey.reasonCode',
    );
    await denied(
      open('shenji', a, { category: 'natural', lossKind: 'moved_away', note: 'x', survey }),
      403,
      'PERMISSION_DENIED',
    );
    await denied(
      open('jiayou3', a, { category: 'natural', lossKind: 'moved_away', note: 'x', survey }),
      403,
      'SCOPE_DENIED',
    );
    expect(await ctx.db.kysely.selectFrom('churn_case').select('id').where('customer_id', '=', c.id).execute()).toEqual(
      [],
    );

    const made = await ok<Case>(
      open('jiayou', a, { category: 'natural', lossKind: 'moved_away', note: '打电话说搬去外地', survey }),
      201,
    );
    expect(made).toMatchObject({
      state: 'lost',
      category: 'natural',
      lossKind: { code: 'moved_away' },
      lostDay: '2026-11-20',
      lostMonth: '2026-11',
      alertId: a,
      survey,
    });
    expect(made.events.map((e) => [e.action, e.fromState, e.toState])).toEqual([['open', null, 'lost']]);
    // Nothing more for anyone to do but correct the survey.
    expect(made.allowedActions).toEqual([]);
    expect(made.canRecordSurvey).toBe(true);
    const closed = await ctx.db.kysely
      .selectFrom('alert')
      .select(['status', 'contact_made', 'action_taken'])
      .where('id', '=', a)
      .executeTakeFirstOrThrow();
    expect(closed).toEqual({
      status: 'closed',
      contact_made: '打电话说搬去外地',
      action_taken: `churn_case:${made.id}`,
    });
    expect(await audits(made.id)).toEqual([{ action: 'create', actor_name: 'jiayou' }]);
    const alertAudit = await sql<{
      n: number;
    }>`select count(*) as n from audit_log where entity = 'alert' and entity_id = ${String(a)} and action = 'close'`.execute(
      ctx.db.kysely,
    );
    expect(Number(alertAudit.rows[0]!.n)).toBe(1);

    // One case per alert, one live case per customer.
    await denied(
      open('jiayou', a, { category: 'natural', lossKind: 'closed', note: 'again', survey }),
      409,
      'CHURN_CASE_EXISTS',
    );
    const second = await alert(c.id, tree.station1, '2026-11-01');
    await denied(
      open('zhanzhang', second, { category: 'non_natural', lossKind: 'all', note: 'again' }),
      409,
      'CHURN_CASE_EXISTS',
    );
  });

  it('walks a non-natural loss through the report, the second attempt by the level above, and the loss', async () => {
    const c = await customer(tree.station1, 'B1-A1-S1', ['2026-09-01', '2026-09-10', '2026-09-20', '2026-10-01']);
    const made = await ok<Case>(
      open('zhanzhang', await alert(c.id, tree.station1), {
        category: 'non_natural',
        lossKind: 'organisation',
        note: '车队整体转到竞争对手',
      }),
      201,
    );
    expect(made.state).toBe('open');
    expect(made.lostMonth).toBeNull();
    expect(made.allowedActions).toEqual(['report']);

    // Nobody assigns before the report is written.
    await denied(
      act('pianqu', made.id, 'assign', { assigneeUserId: u.get('daibiao'), dueDay: '2026-11-30' }),
      409,
      'CONFLICT',
    );
    await denied(act('shenji', made.id, 'report', { report: '报告' }), 403, 'PERMISSION_DENIED');
    await denied(act('guanli2', made.id, 'report', { report: '报告' }), 403, 'SCOPE_DENIED');
    const reported = await ok<Case>(
      act('jiayou', made.id, 'report', { report: '车队老板说对方每升便宜 0.3 元，请上级出面' }),
    );
    expect(reported.state).toBe('reported');
    await denied(act('jiayou', made.id, 'report', { report: '再报一次' }), 409, 'CONFLICT');

    // The second attempt is the level above's: never an attendant or a station manager (no right),
    // never a branch admin working at the station itself (not above), never another branch (scope).
    const due = { assigneeUserId: u.get('daibiao'), dueDay: '2026-11-30' };
    await denied(act('jiayou', made.id, 'assign', due), 403, 'PERMISSION_DENIED');
    await denied(act('zhanzhang', made.id, 'assign', due), 403, 'PERMISSION_DENIED');
    await denied(act('guanli_zhan', made.id, 'assign', due), 403, 'CHURN_LEVEL_DENIED');
    await denied(act('guanli2', made.id, 'assign', due), 403, 'SCOPE_DENIED');
    await denied(
      call(ctx.app, s.get('jiayou')!, 'GET', `/api/churn-cases/${made.id}/assignees`),
      403,
      'PERMISSION_DENIED',
    );
    expect((await ok<Case>(read('pianqu', made.id))).allowedActions).toEqual(['assign']);
    expect((await ok<Case>(read('jiayou', made.id))).allowedActions).toEqual([]);

    // Those who may be sent: at the case's unit or above it, inside the assigner's subtree, able to change customers.
    const people = await ok<{ id: number }[]>(
      call(ctx.app, s.get('pianqu')!, 'GET', `/api/churn-cases/${made.id}/assignees`),
    );
    const names = people.map((p) => [...u].find(([, id]) => id === p.id)?.[0]).sort();
    expect(names).toEqual(['daibiao', 'guanli_zhan', 'jiayou', 'pianqu', 'zhanzhang']);
    await denied(
      act('pianqu', made.id, 'assign', { assigneeUserId: u.get('guanli'), dueDay: '2026-11-30' }),
      422,
      'ASSIGNEE_NOT_ELIGIBLE',
      'body.assigneeUserId',
    );
    await denied(
      act('pianqu', made.id, 'assign', { assigneeUserId: u.get('shenji'), dueDay: '2026-11-30' }),
      422,
      'ASSIGNEE_NOT_ELIGIBLE',
      'body.assigneeUserId',
    );
    await denied(
      act('pianqu', made.id, 'assign', { assigneeUserId: u.get('daibiao'), dueDay: '2026-11-20' }),
      400,
      'VALIDATION_FAILED',
      'body.dueDay',
    );
    await denied(
      act('pianqu', made.id, 'assign', { assigneeUserId: u.get('daibiao'), dueDay: '2027-12-01' }),
      400,
      'VALIDATION_FAILED',
      'body.dueDay',
    );
    await denied(
      act('pianqu', made.id, 'assign', { assigneeUserId: u.get('daibiao'), dueDay: '2027-02-29' }),
      400,
      'VALIDATION_FAILED',
      'body.dueDay',
    );
    const assigned = await ok<Case>(act('pianqu', made.id, 'assign', { ...due, note: '带上价格方案去谈' }));
    expect(assigned.state).toBe('second_attempt');
    expect(assigned.secondAttempt).toMatchObject({
      assigneeUserId: u.get('daibiao'),
      dueDay: '2026-11-30',
      overdue: false,
    });
    // A branch admin above may name someone else.
    const reassigned = await ok<Case>(
      act('guanli', made.id, 'assign', { assigneeUserId: u.get('pianqu'), dueDay: '2026-12-05' }),
    );
    expect(reassigned.secondAttempt).toMatchObject({ assigneeUserId: u.get('pianqu'), dueDay: '2026-12-05' });
    await ok(act('guanli', made.id, 'assign', due));

    // The outcome: by the person sent or the level above; nobody else at the station.
    await denied(act('jiayou', made.id, 'retain', { note: '我去说了' }), 403, 'CHURN_LEVEL_DENIED');
    await denied(act('zhanzhang', made.id, 'confirm-lost', { note: '不回来了', survey }), 403, 'CHURN_LEVEL_DENIED');
    expect((await ok<Case>(read('daibiao', made.id))).allowedActions).toEqual(['retain', 'confirm_lost']);
    await denied(
      act('daibiao', made.id, 'confirm-lost', { note: '对方价格低，谈不拢' }),
      422,
      'EXIT_SURVEY_REQUIRED',
      'body.survey',
    );
    // Past its due day the attempt shows as overdue (the day moved back for the look, then restored).
    await ctx.db.kysely.updateTable('churn_case').set({ due_day: '2026-11-19' }).where('id', '=', made.id).execute();
    expect((await ok<Case>(read('daibiao', made.id))).secondAttempt!.overdue).toBe(true);
    await ctx.db.kysely.updateTable('churn_case').set({ due_day: '2026-11-30' }).where('id', '=', made.id).execute();
    const lost = await ok<Case>(
      act('daibiao', made.id, 'confirm-lost', {
        note: '对方价格低，谈不拢',
        survey: { reasonCode: 'competitor_offer', freeText: '每升便宜三毛' },
      }),
    );
    expect(lost).toMatchObject({
      state: 'lost',
      lostDay: '2026-11-20',
      lostMonth: '2026-11',
      survey: { reasonCode: 'competitor_offer' },
    });
    expect(lost.events.map((e) => e.action)).toEqual(['open', 'report', 'assign', 'assign', 'assign', 'confirm_lost']);
    await denied(act('guanli', made.id, 'retain', { note: '晚了' }), 409, 'CONFLICT');
    // Every step is in the audit log, by the person who took it.
    expect((await audits(made.id)).map((a) => `${a.action}:${a.actor_name}`)).toEqual([
      'create:zhanzhang',
      'report:jiayou',
      'assign:pianqu',
      'assign:guanli',
      'assign:guanli',
      'confirm_lost:daibiao',
    ]);
  });

  it('keeps a customer the second attempt won, and opens a new case for him later', async () => {
    const c = await customer(tree.station2, 'B1-A1-S2', ['2026-09-05', '2026-10-05']);
    const made = await ok<Case>(
      open('pianqu', await alert(c.id, tree.station2), {
        category: 'non_natural',
        lossKind: 'part',
        note: '柴油改去别家加',
      }),
      201,
    );
    // A station's people work on their own station's customers only.
    await denied(act('zhanzhang', made.id, 'report', { report: '一半的车改去别家' }), 403, 'SCOPE_DENIED');
    await ok(act('daibiao', made.id, 'report', { report: '一半的车改去别家' }));
    // Whoever is sent must see the case: not a station manager of another station.
    await denied(
      act('guanli', made.id, 'assign', { assigneeUserId: u.get('zhanzhang'), dueDay: '2026-11-25' }),
      422,
      'ASSIGNEE_NOT_ELIGIBLE',
    );
    await ok(act('guanli', made.id, 'assign', { assigneeUserId: u.get('daibiao'), dueDay: '2026-11-25' }));
    const kept = await ok<Case>(act('daibiao', made.id, 'retain', { note: '给了团队卡，答应回来' }));
    expect(kept.state).toBe('retained');
    expect(kept.canRecordSurvey).toBe(false);
    await denied(
      call(ctx.app, s.get('daibiao')!, 'PUT', `/api/churn-cases/${made.id}/exit-survey`, survey),
      409,
      'CONFLICT',
    );
    // Retained is no live case: his next lapse may become one.
    await ok(
      open('daibiao', await alert(c.id, tree.station2, '2026-11-10'), {
        category: 'natural',
        lossKind: 'vehicle_sold',
        note: '车卖了',
        survey,
      }),
      201,
    );
  });

  it('shows a case to its own organisation only', async () => {
    const c = await customer(tree.station1, 'B1-A1-S1', ['2026-10-02']);
    const made = await ok<Case>(
      open('zhanzhang', await alert(c.id, tree.station1), {
        category: 'natural',
        lossKind: 'closed',
        note: '公司注销',
        survey,
      }),
      201,
    );
    await denied(read('guanli2', made.id), 403, 'SCOPE_DENIED');
    await denied(read('jiayou3', made.id), 403, 'SCOPE_DENIED');
    await denied(read('shenji', made.id), 403, 'PERMISSION_DENIED');
    await denied(
      call(ctx.app, s.get('guanli2')!, 'PUT', `/api/churn-cases/${made.id}/exit-survey`, survey),
      403,
      'SCOPE_DENIED',
    );
    const theirs = await ok<{ total: number; items: { id: number }[] }>(
      call(ctx.app, s.get('guanli2')!, 'GET', '/api/churn-cases?pageSize=200'),
    );
    expect(theirs.items.map((i) => i.id)).not.toContain(made.id);
    await denied(
      call(ctx.app, s.get('guanli2')!, 'GET', `/api/churn-cases?orgUnitId=${tree.station1}`),
      403,
      'SCOPE_DENIED',
      'querystring.orgUnitId',
    );
    const ours = await ok<{ items: { id: number }[] }>(
      call(ctx.app, s.get('jiayou')!, 'GET', '/api/churn-cases?pageSize=200'),
    );
    expect(ours.items.map((i) => i.id)).toContain(made.id);
    const byAlert = await ok<{ items: { id: number }[] }>(
      call(ctx.app, s.get('jiayou')!, 'GET', `/api/churn-cases?alertIds=${made.alertId},999999`),
    );
    expect(byAlert.items.map((i) => i.id)).toEqual([made.id]);
    // HQ sees everything.
    await ok(read('yingxiao', made.id));
  });

  it('records and corrects the exit survey, audited with before and after', async () => {
    const c = await customer(tree.station1, 'B1-A1-S1', ['2026-10-03']);
    const made = await ok<Case>(
      open('zhanzhang', await alert(c.id, tree.station1), { category: 'non_natural', lossKind: 'all', note: '不来了' }),
      201,
    );
    expect(made.survey).toBeNull();
    await denied(
      call(ctx.app, s.get('jiayou')!, 'PUT', `/api/churn-cases/${made.id}/exit-survey`, {
        reasonCode: 'other',
        freeText: '  ',
      }),
      400,
      'VALIDATION_FAILED',
      'body.freeText',
    );
    await ok(
      call(ctx.app, s.get('jiayou')!, 'PUT', `/api/churn-cases/${made.id}/exit-survey`, { reasonCode: 'price' }),
    );
    const fixed = await ok<Case>(
      call(ctx.app, s.get('jiayou')!, 'PUT', `/api/churn-cases/${made.id}/exit-survey`, {
        reasonCode: 'service',
        freeText: '说加油员态度差',
      }),
    );
    expect(fixed.survey).toMatchObject({ reasonCode: 'service', freeText: '说加油员态度差' });
    const rows = await sql<{
      before_json: string | null;
      after_json: string;
    }>`select before_json, after_json from audit_log where entity = 'churn_case' and entity_id = ${String(made.id)} and action = 'exit_survey' order by id`.execute(
      ctx.db.kysely,
    );
    expect(
      rows.rows.map((r) => [
        r.before_json && JSON.parse(r.before_json).reasonCode,
        JSON.parse(r.after_json).reasonCode,
      ]),
    ).toEqual([
      [null, 'price'],
      ['price', 'service'],
    ]);
    // The survey on file lets the loss be confirmed without another.
    await ok(act('zhanzhang', made.id, 'report', { report: '全部流失' }));
    await ok(act('pianqu', made.id, 'assign', { assigneeUserId: u.get('daibiao'), dueDay: '2026-11-28' }));
    expect((await ok<Case>(act('daibiao', made.id, 'confirm-lost', { note: '电话不接' }))).state).toBe('lost');
  });

  it('records a win-back when the customer buys again: on reading the case, and at night for the rest', async () => {
    const a = await customer(tree.station1, 'B1-A1-S1', ['2026-10-04', '2026-10-08']);
    const b = await customer(tree.station1, 'B1-A1-S1', ['2026-10-04', '2026-10-09']);
    const caseA = await ok<Case>(
      open('jiayou', await alert(a.id, tree.station1), {
        category: 'natural',
        lossKind: 'project_ended',
        note: '工地完工',
        survey,
      }),
      201,
    );
    const caseB = await ok<Case>(
      open('zhanzhang', await alert(b.id, tree.station1), { category: 'non_natural', lossKind: 'all', note: '不来了' }),
      201,
    );
    // A purchase on a day already on file is no return.
    await buy(a.plate, 'B1-A1-S1', ['2026-10-08']);
    expect((await ok<Case>(read('jiayou', caseA.id))).state).toBe('lost');

    await buy(a.plate, 'B1-A1-S1', ['2026-11-18', '2026-11-19']);
    await buy(b.plate, 'B1-A1-S1', ['2026-11-19']);
    const back = await ok<Case>(read('jiayou', caseA.id));
    expect(back.state).toBe('won_back');
    expect(back.wonBack!.day).toBe('2026-11-18');
    expect(back.events.at(-1)).toMatchObject({
      action: 'win_back',
      fromState: 'lost',
      toState: 'won_back',
      bySystem: true,
    });
    const txn = await ctx.db.kysely
      .selectFrom('churn_case')
      .select('won_back_txn_id')
      .where('id', '=', caseA.id)
      .executeTakeFirstOrThrow();
    const first = await ctx.db.kysely
      .selectFrom('fuel_transaction')
      .select('business_day')
      .where('id', '=', Number(txn.won_back_txn_id))
      .executeTakeFirstOrThrow();
    expect(first.business_day).toBe('2026-11-18');
    expect((await audits(caseA.id)).map((r) => `${r.action}:${r.actor_name}`)).toEqual([
      'create:jiayou',
      'win_back:job:churn-win-backs',
    ]);

    // Nobody read B's case: the nightly check finds him.
    const before = await ctx.db.kysely
      .selectFrom('churn_case')
      .select('state')
      .where('id', '=', caseB.id)
      .executeTakeFirstOrThrow();
    expect(before.state).toBe('open');
    const run = await runJob(ctx.db.kysely, churnWinBacksJob, '2026-11-20', { now: NOW });
    expect(run).toMatchObject({ status: 'done', detail: { wonBack: 1 } });
    expect((await ok<Case>(read('zhanzhang', caseB.id))).state).toBe('won_back');
    // Won back is final: nothing more to take, no survey to change.
    await denied(act('zhanzhang', caseB.id, 'report', { report: '迟了' }), 409, 'CONFLICT');
    expect((await runJob(ctx.db.kysely, churnWinBacksJob, '2026-11-21', { now: NOW })).status).toBe('done');
    expect(
      await ctx.db.kysely.selectFrom('churn_case_event').select('id').where('action', '=', 'win_back').execute(),
    ).toHaveLength(2);
  });

  it('keeps a unit with churn cases from being deleted', async () => {
    const empty = await ok<{ id: number }>(
      call(ctx.app, admin, 'POST', '/api/org/units', {
        parentId: tree.area1,
        kindCode: 'station',
        code: 'B1-A1-S9',
        name: '已撤并加油站',
      }),
      201,
    );
    const c = await customer(tree.station1, 'B1-A1-S1', ['2026-10-07']);
    const at = NOW.toISOString();
    // Lost there, then the customer record moved on: the case stays with the unit.
    await ctx.db.kysely
      .insertInto('churn_case')
      .values({
        customer_id: c.id,
        org_unit_id: empty.id,
        category: 'natural',
        loss_kind_code: 'closed',
        state: 'lost',
        note: '站点撤并',
        opened_at: at,
        updated_at: at,
      })
      .execute();
    await denied(call(ctx.app, admin, 'DELETE', `/api/org/units/${empty.id}`), 409, 'ORG_UNIT_IN_USE');
  });

  it('keeps the catalogue as data HQ edits: renamed, retired, added, never removed', async () => {
    const catalog = await ok<{ lossKinds: any[]; reasons: any[] }>(
      call(ctx.app, s.get('yingxiao')!, 'GET', '/api/churn-cases/catalog'),
    );
    const reasons = [
      ...catalog.reasons.map((r) => (r.code === 'quality' ? { ...r, nameZh: '油品质量问题', active: false } : r)),
      { code: 'route_change', nameZh: '线路变化', nameEn: 'Route changed', needsText: false, sort: 55, active: true },
    ];
    await denied(
      call(ctx.app, s.get('jiayou')!, 'PUT', '/api/churn-cases/catalog', { lossKinds: catalog.lossKinds, reasons }),
      403,
      'PERMISSION_DENIED',
    );
    await denied(
      call(ctx.app, s.get('yingxiao')!, 'PUT', '/api/churn-cases/catalog', {
        lossKinds: catalog.lossKinds,
        reasons: reasons.filter((r) => r.code !== 'price'),
      }),
      400,
      'VALIDATION_FAILED',
      'body.reasons',
    );
    const flipped = catalog.lossKinds.map((k) => (k.code === 'closed' ? { ...k, category: 'non_natural' } : k));
    await denied(
      call(ctx.app, s.get('yingxiao')!, 'PUT', '/api/churn-cases/catalog', { lossKinds: flipped, reasons }),
      400,
      'VALIDATION_FAILED',
      'body.lossKinds.0.category',
    );
    const saved = await ok<{ reasons: { code: string; nameZh: string; active: boolean }[] }>(
      call(ctx.app, s.get('yingxiao')!, 'PUT', '/api/churn-cases/catalog', { lossKinds: catalog.lossKinds, reasons }),
    );
    expect(saved.reasons.find((r) => r.code === 'quality')).toMatchObject({ nameZh: '油品质量问题', active: false });
    expect(saved.reasons.map((r) => r.code)).toContain('route_change');
    // A retired reason is no longer offered; the new one is.
    const c = await customer(tree.station1, 'B1-A1-S1', ['2026-10-06']);
    const a = await alert(c.id, tree.station1);
    await denied(
      open('jiayou', a, { category: 'natural', lossKind: 'moved_away', note: 'x', survey: { reasonCode: 'quality' } }),
      400,
      'VALIDATION_FAILED',
      'body.survey.reasonCode',
    );
    expect(
      (
        await ok<Case>(
          open('jiayou', a, {
            category: 'natural',
            lossKind: 'moved_away',
            note: '换了线路',
            survey: { reasonCode: 'route_change' },
          }),
          201,
        )
      ).survey!.reasonCode,
    ).toBe('route_change');
    const audit = await sql<{
      n: number;
    }>`select count(*) as n from audit_log where entity = 'churn_catalog' and action = 'update'`.execute(ctx.db.kysely);
    expect(Number(audit.rows[0]!.n)).toBe(1);
  });
});

describeEngines('churn loss rate', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  const MONTHS = ['2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10', '2026-11'];

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    const key = (
      await ok<{ key: string }>(call(ctx.app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.hq }), 201)
    ).key;
    // A small linear congruential generator: the same "random" history on every run and engine.
    let seed = 20261120;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const stations = [
      { unit: tree.station1, code: 'B1-A1-S1' },
      { unit: tree.station2, code: 'B1-A1-S2' },
      { unit: tree.station3, code: 'B2-A1-S1' },
    ];
    const rows: Record<string, unknown>[] = [];
    const customers: { id: number; unit: number }[] = [];
    for (let i = 0; i < 90; i++) {
      const st = stations[i % 3]!;
      const plate = `冀C${String(20000 + i)}`;
      const { id } = await ok<{ id: number }>(
        call(ctx.app, admin, 'POST', '/api/customers', {
          kind: 'individual',
          orgUnitId: st.unit,
          name: `客户${i}`,
          vehicles: [{ plate }],
        }),
        201,
      );
      customers.push({ id, unit: st.unit });
      for (const m of MONTHS) {
        if (rand() < 0.6)
          rows.push({
            externalId: `r${i}-${m}`,
            occurredAt: `${m}-${String(1 + Math.floor(rand() * 27)).padStart(2, '0')}T09:00:00+08:00`,
            stationCode: st.code,
            plate,
            product: '0#柴油',
            volumeMl: 40_000,
            amountFen: 31_000,
          });
      }
    }
    await ok(send(ctx.app, key, { source: 'pos', transactions: rows }));
    // A third of them lost: natural at once in a month of their own, the admin opening the case then.
    for (const c of customers.filter(() => rand() < 0.35)) {
      const month = MONTHS[1 + Math.floor(rand() * 6)]!;
      ctx.now.value = new Date(`${month}-15T04:00:00Z`);
      const at = ctx.now.value.toISOString();
      const alertId = Number(
        (
          await ctx.db.kysely
            .insertInto('alert')
            .values({
              customer_id: c.id,
              org_unit_id: c.unit,
              kind: 'cadence',
              episode: month,
              status: 'open',
              opened_at: at,
            })
            .returning('id')
            .executeTakeFirstOrThrow()
        ).id,
      );
      const natural = rand() < 0.5;
      const body = natural
        ? { category: 'natural', lossKind: 'moved_away', note: '搬走', survey: { reasonCode: 'location' } }
        : { category: 'non_natural', lossKind: 'all', note: '不来了' };
      const made = await ok<{ id: number }>(
        call(ctx.app, admin, 'POST', `/api/churn-cases/from-alert/${alertId}`, body),
        201,
      );
      if (!natural) {
        await ok(call(ctx.app, admin, 'POST', `/api/churn-cases/${made.id}/report`, { report: '报告' }));
        await ok(
          call(ctx.app, admin, 'POST', `/api/churn-cases/${made.id}/assign`, {
            assigneeUserId: (
              await ok<{ id: number }[]>(call(ctx.app, admin, 'GET', `/api/churn-cases/${made.id}/assignees`))
            )[0]!.id,
            dueDay: `${month}-28`,
          }),
        );
        await ok(
          call(ctx.app, admin, 'POST', `/api/churn-cases/${made.id}/confirm-lost`, {
            note: '没谈成',
            survey: { reasonCode: 'price' },
          }),
        );
      }
    }
    ctx.now.value = new Date('2026-11-25T04:00:00Z');
  }, 240_000);

  /** Counted again from the raw rows: cases by the month of their loss, buyers by the month before. */
  async function direct(unitPath: string, month: string) {
    const lost = await sql<{ category: string; n: number }>`
      select k.category, count(*) as n from churn_case k join org_unit o on o.id = k.org_unit_id
      where k.lost_month = ${month} and o.path like ${`${unitPath}%`} group by k.category`.execute(ctx.db.kysely);
    const before = addMonths(month, -1);
    const active = await sql<{ n: number }>`
      select count(distinct t.customer_id) as n from fuel_transaction t join customer c on c.id = t.customer_id join org_unit o on o.id = c.org_unit_id
      where t.business_day >= ${`${before}-01`} and t.business_day <= ${`${before}-31`} and o.path like ${`${unitPath}%`}`.execute(
      ctx.db.kysely,
    );
    const natural = Number(lost.rows.find((r) => r.category === 'natural')?.n ?? 0);
    const nonNatural = Number(lost.rows.find((r) => r.category === 'non_natural')?.n ?? 0);
    const activeAtStart = Number(active.rows[0]!.n);
    return {
      lost: natural + nonNatural,
      natural,
      nonNatural,
      activeAtStart,
      rate: activeAtStart > 0 ? (natural + nonNatural) / activeAtStart : null,
    };
  }
  const pathOf = async (id: number) =>
    (await ctx.db.kysely.selectFrom('org_unit').select('path').where('id', '=', id).executeTakeFirstOrThrow()).path;

  it('gives lost ÷ active at the start per month and per child unit, as counted from the rows', async () => {
    const r = await ok<any>(
      call(ctx.app, admin, 'GET', `/api/churn-cases/loss-rate/${tree.hq}?month=2026-11&months=6`),
    );
    expect(r.trend.map((t: { month: string }) => t.month)).toEqual(MONTHS.slice(1));
    expect(r.normalYearlyRate).toBe(0.1);
    expect(r.normalMonthlyRate).toBeCloseTo(monthlyRate(0.1), 12);
    const hqPath = await pathOf(tree.hq);
    let lostSeen = 0;
    for (const t of r.trend) {
      const d = await direct(hqPath, t.month);
      expect({
        month: t.month,
        lost: t.lost,
        natural: t.natural,
        nonNatural: t.nonNatural,
        activeAtStart: t.activeAtStart,
      }).toEqual({
        month: t.month,
        lost: d.lost,
        natural: d.natural,
        nonNatural: d.nonNatural,
        activeAtStart: d.activeAtStart,
      });
      expect(t.rate).toBeCloseTo(d.rate!, 12);
      expect(t.aboveNormal).toBe(d.rate! > monthlyRate(0.1));
      lostSeen += t.lost;
    }
    // The generated history is what it claims: losses in every month, both kinds.
    expect(lostSeen).toBeGreaterThan(20);
    expect(r.trend.every((t: { lost: number }) => t.lost > 0)).toBe(true);
    expect(r.trend.some((t: { nonNatural: number }) => t.nonNatural > 0)).toBe(true);

    // Drill-down: the children of HQ are the branches, then the areas, then the stations.
    for (const [unit, children] of [
      [tree.hq, [tree.branch1, tree.branch2]],
      [tree.branch1, [tree.area1]],
      [tree.area1, [tree.station1, tree.station2]],
    ] as const) {
      for (const month of ['2026-08', '2026-11']) {
        const x = await ok<any>(call(ctx.app, admin, 'GET', `/api/churn-cases/loss-rate/${unit}?month=${month}`));
        expect(x.children.map((c: { id: number }) => c.id)).toEqual(children);
        for (const child of x.children) {
          const d = await direct(await pathOf(child.id), month);
          expect([child.id, child.lost, child.activeAtStart]).toEqual([child.id, d.lost, d.activeAtStart]);
        }
        const d = await direct(await pathOf(unit), month);
        expect([x.lost, x.activeAtStart]).toEqual([d.lost, d.activeAtStart]);
      }
    }
  });

  it('drills from a unit and month to its lost customers’ cases', async () => {
    const list = await ok<{ total: number; items: { lostMonth: string }[] }>(
      call(ctx.app, admin, 'GET', `/api/churn-cases?orgUnitId=${tree.area1}&lostMonth=2026-09&pageSize=200`),
    );
    const d = await direct(await pathOf(tree.area1), '2026-09');
    expect(list.total).toBe(d.lost);
    expect(list.items.every((i) => i.lostMonth === '2026-09')).toBe(true);
  });

  it('keeps the loss rate to the units a person may see', async () => {
    await createUser(ctx.app, admin, 'b2', tree.branch2, ['branch_customer_admin']);
    const b2 = await login(ctx.app, 'b2', USER_PASSWORD);
    await ok(call(ctx.app, b2, 'GET', `/api/churn-cases/loss-rate/${tree.branch2}`));
    const res = await call(ctx.app, b2, 'GET', `/api/churn-cases/loss-rate/${tree.branch1}`);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('SCOPE_DENIED');
    await createUser(ctx.app, admin, 'att', tree.station1, ['attendant']);
    const att = await login(ctx.app, 'att', USER_PASSWORD);
    expect((await call(ctx.app, att, 'GET', `/api/churn-cases/loss-rate/${tree.station1}`)).json().error.code).toBe(
      'PERMISSION_DENIED',
    );
  });
});

describeEngines('churn loss rate as a dashboard snapshot', (engine) => {
  const ctx = useTestApp(engine, { dashboardSnapshotMinutes: 15 });

  it('serves the figures as computed until they are old or a refresh is asked for', async () => {
    ctx.now.value = new Date('2026-11-20T03:00:00Z');
    const admin = await setupAdmin(ctx.app);
    const tree = await buildTree(ctx.app, admin);
    const key = (
      await ok<{ key: string }>(call(ctx.app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.hq }), 201)
    ).key;
    const lose = async (plate: string) => {
      const { id } = await ok<{ id: number }>(
        call(ctx.app, admin, 'POST', '/api/customers', {
          kind: 'individual',
          orgUnitId: tree.station1,
          name: plate,
          vehicles: [{ plate }],
        }),
        201,
      );
      await ok(
        send(ctx.app, key, {
          source: 'pos',
          transactions: [
            {
              externalId: plate,
              occurredAt: '2026-10-10T10:00:00+08:00',
              stationCode: 'B1-A1-S1',
              plate,
              product: '0#柴油',
              volumeMl: 40_000,
              amountFen: 31_000,
            },
          ],
        }),
      );
      const alertId = Number(
        (
          await ctx.db.kysely
            .insertInto('alert')
            .values({
              customer_id: id,
              org_unit_id: tree.station1,
              kind: 'cadence',
              episode: '2026-10-10',
              status: 'open',
              opened_at: ctx.now.value!.toISOString(),
            })
            .returning('id')
            .executeTakeFirstOrThrow()
        ).id,
      );
      await ok(
        call(ctx.app, admin, 'POST', `/api/churn-cases/from-alert/${alertId}`, {
          category: 'natural',
          lossKind: 'closed',
          note: '停业',
          survey: { reasonCode: 'price' },
        }),
        201,
      );
    };
    const rate = (extra = '') =>
      ok<{ lost: number; activeAtStart: number; asOf: string }>(
        call(ctx.app, admin, 'GET', `/api/churn-cases/loss-rate/${tree.hq}?month=2026-11${extra}`),
      );
    await lose('冀D10001');
    const first = await rate();
    expect([first.lost, first.activeAtStart]).toEqual([1, 1]);
    await lose('冀D10002');
    ctx.now.value = new Date('2026-11-20T03:10:00Z');
    expect(await rate()).toEqual(first);
    const fresh = await rate('&refresh=true');
    expect([fresh.lost, fresh.activeAtStart]).toEqual([2, 2]);
    expect(fresh.asOf).toBe('2026-11-20T03:10:00.000Z');
  });
});

describeEngines('churn.assign on a database from before it', (engine) => {
  const ctx = useTestApp(engine);

  it('goes to the built-in roles above the station and to every role that held the whole catalogue', async () => {
    await setupAdmin(ctx.app);
    const db = ctx.db.kysely;
    // As the database was before migration 0021: nobody holds churn.assign.
    await db.deleteFrom('role_permission').where('permission', '=', 'churn.assign').execute();
    const now = new Date().toISOString();
    const role = async (code: string, permissions: string[]) => {
      const { id } = await db
        .insertInto('role')
        .values({ code, name_zh: code, name_en: code, builtin: 0, created_at: now, updated_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (permissions.length > 0)
        await db
          .insertInto('role_permission')
          .values(permissions.map((permission) => ({ role_id: id, permission })))
          .execute();
    };
    const old = (
      await db
        .selectFrom('role_permission as rp')
        .innerJoin('role as r', 'r.id', 'rp.role_id')
        .select('rp.permission')
        .where('r.code', '=', 'admin')
        .execute()
    ).map((r) => r.permission);
    await role('custom_full', old);
    await role('custom_small', ['customer.read', 'alert.read']);
    expect(await countAdministrators(db)).toBe(0);
    await grantChurnAssign(db);
    await grantChurnAssign(db); // twice changes nothing
    const holders = (
      await db
        .selectFrom('role_permission as rp')
        .innerJoin('role as r', 'r.id', 'rp.role_id')
        .select('r.code')
        .where('rp.permission', '=', 'churn.assign')
        .orderBy('r.code')
        .execute()
    ).map((r) => r.code);
    expect(holders).toEqual([
      'admin',
      'area_customer_manager',
      'branch_customer_admin',
      'branch_dept_head',
      'branch_manager',
      'custom_full',
      'hq_marketing',
    ]);
    expect(await countAdministrators(db)).toBe(1);
  });
});

describe('churn loss rate arithmetic', () => {
  it('compounds the normal monthly rate to the yearly one', () => {
    expect(1 - Math.pow(1 - monthlyRate(0.1), 12)).toBeCloseTo(0.1, 12);
  });
});
