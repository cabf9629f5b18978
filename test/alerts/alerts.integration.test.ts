// Churn and anomaly alerts on generated histories: the customers each rule should flag are worked
// out again here from the raw transaction rows, and the queue is checked for scope, roles and audit.
import { beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { send, type Txn } from '../transactions/helpers.js';
import { runJob } from '../../src/server/jobs/job-runner.js';
import { JOBS } from '../../src/server/jobs/index.js';
import { nightlyAlertsJob } from '../../src/server/modules/alerts/alerts.job.js';
import { addDays, daysBetween } from '../../src/domain/anomaly-rules.js';
import { DEFAULT_POLICIES } from '../../src/domain/policies.js';
import { declineFinding } from '../../src/domain/decline-rule.js';
import { alertsQueries } from '../../src/server/modules/alerts/alerts.queries.js';

const PERIOD = '2026-11-25'; // data complete through this day; the rules judge as of the 26th
const TODAY = addDays(PERIOD, 1);
const policy = DEFAULT_POLICIES.anomaly;

interface Plan {
  key: string;
  unit: 'station1' | 'station2' | 'station3';
  /** Visit days with litres bought. */
  days: [string, number][];
  owned?: boolean;
}

/** Every `step` days from `from` to `to`, `litres` each. */
function every(step: number, from: string, to: string, litres = 40): [string, number][] {
  const out: [string, number][] = [];
  for (let d = from; d <= to; d = addDays(d, step)) out.push([d, litres]);
  return out;
}

/** The same litres in each of April–September. */
function six(litres: number): Record<string, number> {
  return Object.fromEntries(['2026-04', '2026-05', '2026-06', '2026-07', '2026-08', '2026-09'].map((m) => [m, litres]));
}

/** A few fill-ups in each month, adding up to the month's litres. */
function monthly(litresByMonth: Record<string, number>): [string, number][] {
  return Object.entries(litresByMonth).flatMap(([month, litres]) =>
    litres === 0
      ? []
      : [5, 15, 25].map((d) => [`${month}-${String(d).padStart(2, '0')}`, litres / 3] as [string, number]),
  );
}

const PLANS: Plan[] = [
  // Cadence: every 2 days, grace 3, so more than 5 days away is overdue.
  { key: 'overdue', unit: 'station1', days: every(2, '2026-11-02', '2026-11-20') }, // 6 days away
  { key: 'at-limit', unit: 'station1', days: every(2, '2026-11-03', '2026-11-21') }, // 5 days: interval + grace exactly
  { key: 'two-past', unit: 'station1', days: every(2, '2026-11-04', '2026-11-22') }, // 4 days: 2 past the interval
  { key: 'loyal', unit: 'station1', days: every(2, '2026-11-01', '2026-11-25') },
  { key: 'too-few', unit: 'station1', days: every(2, '2026-11-01', '2026-11-05') }, // 3 visits
  { key: 'owned', unit: 'station1', days: every(3, '2026-10-20', '2026-11-14'), owned: true },
  { key: 'unmanaged-station', unit: 'station2', days: every(2, '2026-11-01', '2026-11-15') },
  { key: 'other-branch', unit: 'station3', days: every(2, '2026-11-01', '2026-11-13') },
  // Decline: October against the median of April–September.
  { key: 'decliner', unit: 'station1', days: [...monthly({ ...six(300), '2026-10': 60 }), ['2026-11-24', 30]] },
  { key: 'dips', unit: 'station1', days: [...monthly({ ...six(300), '2026-10': 240 }), ['2026-11-24', 30]] },
  { key: 'stops', unit: 'station2', days: monthly({ ...six(300), '2026-10': 0 }) },
  { key: 'steady', unit: 'station1', days: [...monthly({ ...six(300), '2026-10': 300 }), ['2026-11-24', 30]] },
  { key: 'decliner-b2', unit: 'station3', days: [...monthly({ ...six(900), '2026-10': 60 }), ['2026-11-23', 30]] },
  // The cases: a regular a few per cent down each month, and a collapse that ticked up.
  {
    key: 'slide',
    unit: 'station1',
    days: [
      ...monthly({
        '2026-04': 2950,
        '2026-05': 2900,
        '2026-06': 2880,
        '2026-07': 2863.8,
        '2026-08': 2831.2,
        '2026-09': 2671.2,
        '2026-10': 2637.6,
      }),
      ['2026-11-24', 30],
    ],
  },
  {
    key: 'ticked-up',
    unit: 'station1',
    days: [
      ...monthly({
        '2026-04': 1000,
        '2026-05': 1000,
        '2026-06': 1000,
        '2026-07': 1000,
        '2026-08': 300,
        '2026-09': 34.8,
        '2026-10': 38.1,
      }),
      ['2026-11-24', 30],
    ],
  },
];

interface AlertItem {
  id: number;
  kind: string;
  episode: string;
  status: string;
  assigneeUserId: number | null;
  detail: Record<string, unknown>;
  customer: { id: number; plate: string | null; name: string | null; code: string; greeting: string | null };
  closedByName: string | null;
  contactMade: string | null;
}

describeEngines('churn and anomaly alerts', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  let key: string;
  const ids = new Map<string, number>();
  const users = new Map<string, number>();
  const sessions = new Map<string, Session>();
  let seq = 0;

  const ingest = async (plate: string, days: [string, number][], stationCode: string) => {
    const rows: Txn[] = days.map(([day, litres]) => ({
      externalId: `t${++seq}`,
      occurredAt: `${day}T10:00:00+08:00`,
      stationCode,
      plate,
      product: '0#柴油',
      volumeMl: Math.round(litres * 1000),
      amountFen: Math.round(litres * 780),
    }));
    const res = await ok<{ inserted: number; attached: number; rejected: number }>(
      send(ctx.app, key, { source: 'pos', transactions: rows }),
    );
    expect(res.rejected).toBe(0);
    expect(res.attached).toBe(rows.length);
  };
  const stationCode = { station1: 'B1-A1-S1', station2: 'B1-A1-S2', station3: 'B2-A1-S1' } as const;
  const alerts = async (where = '') =>
    (
      await sql<{
        customer_id: number;
        kind: string;
        episode: string;
        status: string;
        assignee_user_id: number | null;
      }>`select customer_id, kind, episode, status, assignee_user_id from alert ${sql.raw(where)} order by customer_id, kind, episode`.execute(
        ctx.db.kysely,
      )
    ).rows.map((r) => ({
      ...r,
      customer_id: Number(r.customer_id),
      assignee_user_id: r.assignee_user_id === null ? null : Number(r.assignee_user_id),
    }));
  const keyOf = (customerId: number) => [...ids].find(([, id]) => id === customerId)![0];

  beforeAll(async () => {
    ctx.now.value = new Date('2026-12-10T02:00:00Z');
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    key = (
      await ok<{ key: string }>(call(ctx.app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.hq }), 201)
    ).key;
    const people: [string, number, string][] = [
      ['zhanzhang1', tree.station1, 'station_manager'],
      ['zhanzhang1b', tree.station1, 'station_manager'],
      ['pianqu', tree.area1, 'station_manager'],
      ['zhanzhang3', tree.station3, 'station_manager'],
      ['daibiao', tree.area1, 'sales_rep'],
      ['jiayou', tree.station1, 'attendant'],
      ['shenji', tree.branch1, 'auditor'],
      ['guanli2', tree.branch2, 'branch_customer_admin'],
    ];
    for (const [u, unit, role] of people) {
      users.set(u, await createUser(ctx.app, admin, u, unit, [role]));
      sessions.set(u, await login(ctx.app, u, USER_PASSWORD));
    }
    let n = 0;
    for (const plan of PLANS) {
      const plate = `冀A${String(50000 + ++n)}`;
      const body = {
        kind: 'individual',
        orgUnitId: tree[plan.unit],
        name: `客户${n}号`,
        surname: '王',
        vehicles: [{ plate }],
        // Whoever creates a customer owns him unless told otherwise: the unowned ones are created for nobody.
        ownerUserId: plan.owned ? users.get('daibiao') : null,
      };
      const { id } = await ok<{ id: number }>(call(ctx.app, admin, 'POST', '/api/customers', body), 201);
      ids.set(plan.key, id);
      await ingest(plate, plan.days, stationCode[plan.unit]);
    }
  }, 120_000);

  it('registers the nightly job for yesterday in the company time zone', () => {
    expect(JOBS).toContain(nightlyAlertsJob);
    expect(nightlyAlertsJob.cron).toBe('30 1 * * *');
    expect(nightlyAlertsJob.periodOf(new Date('2026-11-25T17:30:00Z'), 'Asia/Shanghai')).toBe(PERIOD);
  });

  it('raises exactly the overdue regulars and the falling customers, once', async () => {
    const first = await runJob(ctx.db.kysely, nightlyAlertsJob, PERIOD);
    expect(first.status, JSON.stringify(first)).toBe('done');
    const detail = (first as { detail: Record<string, any> }).detail;

    // Worked out again from the raw rows: visit days, the mean gap, days since the last one.
    const days = await sql<{ customer_id: number; n: number; first_day: string; last_day: string }>`
      select customer_id, count(distinct business_day) as n, min(business_day) as first_day, max(business_day) as last_day
      from fuel_transaction where customer_id is not null group by customer_id`.execute(ctx.db.kysely);
    const overdue = days.rows
      .filter(
        (r) =>
          Number(r.n) >= policy.minVisits &&
          daysBetween(r.last_day, TODAY) > daysBetween(r.first_day, r.last_day) / (Number(r.n) - 1) + policy.graceDays,
      )
      .map((r) => keyOf(Number(r.customer_id)))
      .sort();
    // The generated histories are what they claim: the customers at or inside the limit are not in it.
    expect(overdue).toEqual(['other-branch', 'overdue', 'owned', 'stops', 'unmanaged-station']);
    // The decline rule on each customer's months summed from the raw rows; a customer away (the
    // cadence rule's tonight) is not judged for a decline.
    const months = await sql<{ customer_id: number; month: string; v: number; n: number }>`
      select customer_id, substr(business_day, 1, 7) as month, sum(volume_ml) as v, count(*) as n
      from fuel_transaction where customer_id is not null group by customer_id, substr(business_day, 1, 7)`.execute(
      ctx.db.kysely,
    );
    const figures = (id: number) =>
      new Map(
        months.rows
          .filter((r) => Number(r.customer_id) === id)
          .map((r) => [r.month, { volumeMl: Number(r.v), fills: Number(r.n) }]),
      );
    const findings = new Map([...ids].map(([k, id]) => [k, declineFinding(policy, figures(id), TODAY)]));
    const falling = [...findings]
      .filter(([k, f]) => f && !overdue.includes(k))
      .map(([k]) => k)
      .sort();
    expect(falling).toEqual(['decliner', 'decliner-b2', 'ticked-up']);
    // Stopping altogether is a decline too, but he is away: one lapse, one alert, the cadence rule's.
    expect(findings.get('stops')).not.toBeNull();
    expect(findings.get('slide')).toBeNull();
    expect(findings.get('dips')).toBeNull();

    const raised = await alerts();
    expect(
      raised
        .filter((a) => a.kind === 'cadence')
        .map((a) => keyOf(a.customer_id))
        .sort(),
    ).toEqual(overdue);
    expect(
      raised
        .filter((a) => a.kind === 'decline')
        .map((a) => keyOf(a.customer_id))
        .sort(),
    ).toEqual(falling);
    // The episode is the collapse's first month.
    expect(
      raised
        .filter((a) => a.kind === 'decline')
        .map((a) => [keyOf(a.customer_id), a.episode])
        .sort(),
    ).toEqual([
      ['decliner', '2026-10'],
      ['decliner-b2', '2026-10'],
      ['ticked-up', '2026-08'],
    ]);
    expect(raised.find((a) => a.kind === 'cadence' && a.customer_id === ids.get('overdue'))?.episode).toBe(
      '2026-11-20',
    );
    expect(detail.raised).toEqual({ cadence: overdue.length, decline: falling.length, model: 0 });
    // Branches this small are not fitted, and the job says so.
    expect(detail.fittedBranches).toBe(0);
    expect(detail.skippedBranches.map((b: { orgUnitId: number; reason: string }) => [b.orgUnitId, b.reason])).toEqual([
      [tree.branch1, 'too_few_customers'],
      [tree.branch2, 'too_few_customers'],
    ]);

    // Assignees: the owner; else the station manager of the unit (lowest id), else of the nearest unit above.
    const assignee = (k: string) =>
      raised.find((a) => a.kind === 'cadence' && a.customer_id === ids.get(k))?.assignee_user_id;
    expect(assignee('overdue')).toBe(users.get('zhanzhang1'));
    expect(assignee('owned')).toBe(users.get('daibiao'));
    expect(assignee('unmanaged-station')).toBe(users.get('pianqu'));
    expect(assignee('other-branch')).toBe(users.get('zhanzhang3'));

    // The same night again, forced: nothing new.
    const again = await runJob(ctx.db.kysely, nightlyAlertsJob, PERIOD, { force: true });
    expect(again.status).toBe('done');
    const d2 = (again as { detail: Record<string, any> }).detail;
    expect(d2.raised).toEqual({ cadence: 0, decline: 0, model: 0 });
    expect(d2.alreadyOpen).toBe(raised.length);
    expect(await alerts()).toEqual(raised);
    // Without force the runner does not even start it.
    expect(await runJob(ctx.db.kysely, nightlyAlertsJob, PERIOD)).toEqual({
      status: 'skipped',
      reason: 'already_done',
    });
  });

  it('reads monthly volumes and fill-ups by month for a run of ids and for scattered ones alike', async () => {
    const months = ['2026-07', '2026-08', '2026-09', '2026-10', '2026-11'];
    const rows = await sql<{ customer_id: number; month: string; v: number; n: number }>`
      select customer_id, substr(business_day, 1, 7) as month, sum(volume_ml) as v, count(*) as n from fuel_transaction
      where customer_id is not null and business_day >= '2026-07-01' group by customer_id, substr(business_day, 1, 7)`.execute(
      ctx.db.kysely,
    );
    const expected = (wanted: number[]) => {
      const out = new Map<number, Map<string, { volumeMl: number; fills: number }>>();
      for (const r of rows.rows) {
        const id = Number(r.customer_id);
        if (!wanted.includes(id)) continue;
        if (!out.has(id)) out.set(id, new Map());
        out.get(id)!.set(r.month, { volumeMl: Number(r.v), fills: Number(r.n) });
      }
      return out;
    };
    const all = [...ids.values()].sort((a, b) => a - b);
    // Every customer: a run of ids. Two ends and a far stranger: ids too scattered for a range.
    const run = all.filter((id) => id !== ids.get('loyal'));
    const scattered = [all[0]!, all.at(-1)!, all.at(-1)! + 10_000];
    for (const wanted of [run, scattered]) {
      const got = await alertsQueries.monthlyFigures(ctx.db.kysely, engine, wanted, months);
      expect(got).toEqual(expected(wanted));
    }
    expect(expected(run).has(ids.get('decliner')!)).toBe(true);
  });

  it('explains the alert and lists it for the assignee, with the customer to greet', async () => {
    const mine = await ok<{ total: number; items: AlertItem[] }>(
      call(ctx.app, sessions.get('zhanzhang1')!, 'GET', '/api/alerts?mine=true&status=open'),
    );
    expect(mine.items.every((a) => a.assigneeUserId === users.get('zhanzhang1'))).toBe(true);
    const a = mine.items.find((x) => x.kind === 'cadence' && x.customer.id === ids.get('overdue'))!;
    expect(a.detail).toMatchObject({
      usualIntervalDays: 2,
      lastVisitDay: '2026-11-20',
      daysSince: 6,
      graceDays: 3,
      overdueByDays: 1,
    });
    expect(a.customer).toMatchObject({ plate: '冀A50001', greeting: '王师傅' });
    const dec = await ok<{ items: AlertItem[] }>(call(ctx.app, admin, 'GET', '/api/alerts?kind=decline'));
    const why = dec.items.find((x) => x.customer.id === ids.get('decliner'))!.detail;
    expect(why.months).toEqual([
      ...['2026-04', '2026-05', '2026-06', '2026-07', '2026-08', '2026-09'].map((month) => ({
        month,
        volumeMl: 300_000,
      })),
      { month: '2026-10', volumeMl: 60_000 },
    ]);
    expect(why).toMatchObject({
      baselineMl: 300_000,
      share: 0.2,
      threshold: 0.6,
      spreadFactor: 1.5,
      spreadMl: 100_000,
    });
    // Paged, newest first.
    const page = await ok<{ total: number; items: AlertItem[] }>(
      call(ctx.app, admin, 'GET', '/api/alerts?pageSize=2&page=1'),
    );
    expect(page.items).toHaveLength(2);
    expect(page.total).toBe((await alerts()).length);
    expect(page.items[0]!.id).toBeGreaterThan(page.items[1]!.id);
  });

  it('keeps another branch out of the queue, and read-only roles from closing', async () => {
    const b2 = sessions.get('zhanzhang3')!;
    const listed = await ok<{ items: AlertItem[] }>(call(ctx.app, b2, 'GET', '/api/alerts'));
    expect(listed.items.map((a) => keyOf(a.customer.id)).sort()).toEqual(['decliner-b2', 'other-branch']);
    const theirs = (
      await ok<{ items: AlertItem[] }>(call(ctx.app, admin, 'GET', `/api/alerts?customerId=${ids.get('overdue')}`))
    ).items[0]!;
    const get = await call(ctx.app, b2, 'GET', `/api/alerts/${theirs.id}`);
    expect(get.statusCode).toBe(403);
    expect(get.json().error.code).toBe('SCOPE_DENIED');
    const close = await call(ctx.app, b2, 'POST', `/api/alerts/${theirs.id}/close`, {
      contactMade: '电话',
      reasonFound: '无',
      actionTaken: '无',
    });
    expect(close.statusCode).toBe(403);
    expect(close.json().error.code).toBe('SCOPE_DENIED');
    const auditor = await call(ctx.app, sessions.get('shenji')!, 'GET', '/api/alerts');
    expect(auditor.statusCode).toBe(403);
    expect(auditor.json().error.code).toBe('PERMISSION_DENIED');
    const run = await call(ctx.app, sessions.get('zhanzhang1')!, 'POST', '/api/alerts/run', {});
    expect(run.statusCode).toBe(403);
    expect(run.json().error.code).toBe('PERMISSION_DENIED');
  });

  it('closes an alert only with all three answers, and audits it', async () => {
    const s = sessions.get('jiayou')!;
    const target = (
      await ok<{ items: AlertItem[] }>(
        call(ctx.app, s, 'GET', `/api/alerts?customerId=${ids.get('overdue')}&kind=cadence`),
      )
    ).items[0]!;
    const missing = await call(ctx.app, s, 'POST', `/api/alerts/${target.id}/close`, {
      contactMade: '已电话联系',
      reasonFound: '换了线路',
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.field).toBe('body.actionTaken');
    const blank = await call(ctx.app, s, 'POST', `/api/alerts/${target.id}/close`, {
      contactMade: '已电话联系',
      reasonFound: '   ',
      actionTaken: '送优惠券',
    });
    expect(blank.statusCode).toBe(400);
    expect(blank.json().error.field).toBe('body.reasonFound');
    expect((await ok<AlertItem>(call(ctx.app, s, 'GET', `/api/alerts/${target.id}`))).status).toBe('open');

    const closed = await ok<AlertItem>(
      call(ctx.app, s, 'POST', `/api/alerts/${target.id}/close`, {
        contactMade: '已电话联系',
        reasonFound: '换了线路',
        actionTaken: '介绍新线路上的站点优惠',
      }),
    );
    expect(closed).toMatchObject({ status: 'closed', closedByName: '用户jiayou', contactMade: '已电话联系' });
    const twice = await call(ctx.app, s, 'POST', `/api/alerts/${target.id}/close`, {
      contactMade: 'a',
      reasonFound: 'b',
      actionTaken: 'c',
    });
    expect(twice.statusCode).toBe(409);
    const audit = await ctx.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('entity', '=', 'alert')
      .where('entity_id', '=', String(target.id))
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'close', actor_name: 'jiayou' });
    expect(JSON.parse(audit[0]!.after_json!)).toMatchObject({ status: 'closed', reasonFound: '换了线路' });
    const row = await ctx.db.kysely
      .selectFrom('alert')
      .select(['closed_by', 'closed_at'])
      .where('id', '=', target.id)
      .executeTakeFirstOrThrow();
    expect(Number(row.closed_by)).toBe(users.get('jiayou'));
    expect(row.closed_at).not.toBeNull();
    const closedList = await ok<{ items: AlertItem[] }>(call(ctx.app, s, 'GET', '/api/alerts?status=closed'));
    expect(closedList.items.map((a) => a.id)).toEqual([target.id]);
    // A closed episode is not raised again.
    const rerun = await runJob(ctx.db.kysely, nightlyAlertsJob, PERIOD, { force: true });
    expect((rerun as { detail: Record<string, any> }).detail).toMatchObject({
      raised: { cadence: 0, decline: 0, model: 0 },
      alreadyClosed: 1,
    });
  });

  it('opens a new episode after a new visit and a later lapse', async () => {
    await ingest('冀A50001', [['2026-11-27', 40]], stationCode.station1);
    // Back on the 27th: on the 28th he is not overdue.
    await ok(call(ctx.app, admin, 'POST', '/api/alerts/run', { date: '2026-11-27' }));
    expect(
      (await alerts(`where kind = 'cadence' and customer_id = ${ids.get('overdue')}`)).map((a) => a.episode),
    ).toEqual(['2026-11-20']);
    const later = await ok<{ raised: Record<string, number>; period: string }>(
      call(ctx.app, admin, 'POST', '/api/alerts/run', { date: '2026-12-05' }),
    );
    expect(later.period).toBe('2026-12-05');
    const mine = (await alerts(`where kind = 'cadence' and customer_id = ${ids.get('overdue')}`)).map((a) => [
      a.episode,
      a.status,
    ]);
    expect(mine).toEqual([
      ['2026-11-20', 'closed'],
      ['2026-11-27', 'open'],
    ]);
  });

  it('runs by hand over the own subtree only', async () => {
    await ctx.db.kysely.deleteFrom('alert').execute();
    const res = await ok<{ raised: { cadence: number; decline: number } }>(
      call(ctx.app, sessions.get('guanli2')!, 'POST', '/api/alerts/run', { date: PERIOD }),
    );
    const rows = await alerts();
    expect(rows.map((a) => keyOf(a.customer_id)).sort()).toEqual(['decliner-b2', 'other-branch']);
    expect(res.raised.cadence + res.raised.decline).toBe(2);
    const audit = await ctx.db.kysely
      .selectFrom('audit_log')
      .select(['action', 'actor_name'])
      .where('entity', '=', 'alert_rules')
      .execute();
    expect(audit.map((a) => a.actor_name)).toContain('guanli2');
  });
});
