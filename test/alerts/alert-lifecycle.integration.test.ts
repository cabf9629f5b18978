// The alert lifecycle on both engines: a run as of a night reads nothing bought after it; an alert
// about an absence resolves itself with the purchase that ended it (ingest or pump), a decline does
// not; one alert per lapse across rules, nights and a month boundary; the counts per unit and the
// reason a branch was left out, as the alerts page reads them.
import { beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { send, type Txn } from '../transactions/helpers.js';
import { AlertsService } from '../../src/server/modules/alerts/alerts.service.js';
import { runJob } from '../../src/server/jobs/job-runner.js';
import { nightlyAlertsJob } from '../../src/server/modules/alerts/alerts.job.js';
import { addDays } from '../../src/domain/anomaly-rules.js';
import { DEFAULT_POLICIES } from '../../src/domain/policies.js';
import { createRng, simulateParetoNbd } from '../../src/domain/churn-models/simulate.js';

const policy = DEFAULT_POLICIES.anomaly;
const NIGHT = '2026-11-25';

/** Every `step` days from `from` to `to`. */
function every(step: number, from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, step)) out.push(d);
  return out;
}

/** Six months of 300 L, three fill-ups a month, and October as given. */
function months(october: number): [string, number][] {
  const out: [string, number][] = [];
  for (const m of ['2026-04', '2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10']) {
    const litres = m === '2026-10' ? october : 300;
    if (litres > 0) for (const d of ['03', '13', '23']) out.push([`${m}-${d}`, litres / 3]);
  }
  return out;
}

describeEngines('alert lifecycle', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  let key: string;
  const ids = new Map<string, number>();
  let seq = 0;
  const svcAt = (night: string) =>
    new AlertsService(ctx.db.kysely, () => new Date(`${addDays(night, 1)}T01:30:00+08:00`));
  const alertsOf = (k: string) =>
    ctx.db.kysely
      .selectFrom('alert')
      .select(['id', 'kind', 'episode', 'lapse', 'status', 'resolution', 'resolved_day', 'resolved_txn_id', 'detail'])
      .where('customer_id', '=', ids.get(k)!)
      .orderBy('id')
      .execute();
  const ingest = async (plate: string, days: [string, number][]) => {
    const rows: Txn[] = days.map(([day, litres]) => ({
      externalId: `t${++seq}`,
      occurredAt: `${day}T10:00:00+08:00`,
      stationCode: 'B1-A1-S1',
      plate,
      product: '92#',
      volumeMl: Math.round(litres * 1000),
      amountFen: Math.round(litres * 750),
    }));
    const res = await ok<{ inserted: number; rejected: number }>(
      send(ctx.app, key, { source: 'pos', transactions: rows }),
    );
    expect(res.rejected).toBe(0);
  };
  const customer = async (k: string, days: [string, number][]) => {
    const plate = `冀B${String(70000 + ids.size)}`;
    const { id } = await ok<{ id: number }>(
      call(ctx.app, admin, 'POST', '/api/customers', {
        kind: 'individual',
        orgUnitId: tree.station1,
        name: k,
        vehicles: [{ plate }],
      }),
      201,
    );
    ids.set(k, id);
    if (days.length) await ingest(plate, days);
    return plate;
  };
  const plates = new Map<string, string>();
  const at = (days: string[], litres = 40): [string, number][] => days.map((d) => [d, litres]);

  beforeAll(async () => {
    ctx.now.value = new Date('2026-12-10T02:00:00Z');
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    key = (
      await ok<{ key: string }>(call(ctx.app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.hq }), 201)
    ).key;
    // Every 2 days to the 20th, then back on the 30th: as of the 25th he is away.
    plates.set('back-later', await customer('back-later', at([...every(2, '2026-11-02', '2026-11-20'), '2026-11-30'])));
    // First seen after the night: not there as of it.
    plates.set('newcomer', await customer('newcomer', at(['2026-11-28', '2026-11-29'])));
    plates.set('away', await customer('away', at(every(2, '2026-11-02', '2026-11-18'))));
    plates.set('pumped', await customer('pumped', at(every(2, '2026-11-03', '2026-11-17'))));
    plates.set('closed-by-hand', await customer('closed-by-hand', at(every(2, '2026-11-04', '2026-11-16'))));
    plates.set('decliner', await customer('decliner', [...months(30), ['2026-11-10', 5], ['2026-11-20', 5]]));
  }, 120_000);

  it('judges a night only by what was bought up to it', async () => {
    // The same night, counted only: the later purchase (30th) is not seen, the newcomer is not there.
    const dry = await svcAt(NIGHT).runRules({ day: NIGHT, dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(await ctx.db.kysely.selectFrom('alert').select('id').execute()).toEqual([]);
    expect(await ctx.db.kysely.selectFrom('customer_churn_score').select('customer_id').execute()).toEqual([]);
    const wet = await svcAt(NIGHT).runRules({ day: NIGHT });
    expect(wet.raised).toEqual(dry.raised);
    expect(wet.raised.cadence).toBe(4); // back-later, away, pumped, closed-by-hand
    const [a] = await alertsOf('back-later');
    expect(JSON.parse(a!.detail!)).toMatchObject({ lastVisitDay: '2026-11-20', daysSince: 6, usualIntervalDays: 2 });
    expect(a).toMatchObject({ kind: 'cadence', episode: '2026-11-20', lapse: '2026-11-20' });
    // A run for a past night resolves at once what a purchase on file has ended since: the 30th.
    const txn = await ctx.db.kysely
      .selectFrom('fuel_transaction')
      .select('id')
      .where('customer_id', '=', ids.get('back-later')!)
      .where('business_day', '=', '2026-11-30')
      .executeTakeFirstOrThrow();
    expect(a).toMatchObject({
      status: 'resolved',
      resolution: 'returned',
      resolved_day: '2026-11-30',
      resolved_txn_id: txn.id,
    });
    expect(wet.resolved.returned).toBe(1);
    expect(await alertsOf('newcomer')).toEqual([]);
    // The newcomer has no score: he had no history by the night (no branch is fitted here anyway).
    expect(wet.skippedBranches.map((b) => b.reason)).toEqual(['too_few_customers']);
    // The decline rule read only complete months: October against April–September.
    expect((await alertsOf('decliner')).map((x) => [x.kind, x.episode, x.status])).toEqual([
      ['decline', '2026-10', 'open'],
    ]);
  });

  it('resolves an absence when the customer buys again, with the purchase that did it', async () => {
    const before = await alertsOf('away');
    expect(before.map((x) => x.status)).toEqual(['open']);
    await ingest(plates.get('away')!, [['2026-11-27', 35]]);
    const txn = await ctx.db.kysely
      .selectFrom('fuel_transaction')
      .select('id')
      .where('customer_id', '=', ids.get('away')!)
      .where('business_day', '=', '2026-11-27')
      .executeTakeFirstOrThrow();
    const [after] = await alertsOf('away');
    expect(after).toMatchObject({
      id: before[0]!.id,
      status: 'resolved',
      resolution: 'returned',
      resolved_day: '2026-11-27',
      resolved_txn_id: txn.id,
    });
    // A purchase on or before the lapse's day is not a return: the decliner's alert stays open
    // whatever he buys, and a hand-closed alert keeps what was recorded.
    await ingest(plates.get('decliner')!, [['2026-11-28', 5]]);
    expect((await alertsOf('decliner')).map((x) => x.status)).toEqual(['open']);
    const closing = (await alertsOf('closed-by-hand'))[0]!;
    await ok(
      call(ctx.app, admin, 'POST', `/api/alerts/${closing.id}/close`, {
        contactMade: '电话',
        reasonFound: '出差',
        actionTaken: '提醒回站',
      }),
    );
    await ingest(plates.get('closed-by-hand')!, [['2026-11-29', 30]]);
    expect(await alertsOf('closed-by-hand')).toMatchObject([
      { status: 'closed', resolution: null, resolved_txn_id: null },
    ]);
  });

  it('resolves an absence with a fill-up recorded at the pump', async () => {
    const attendant = await createUser(ctx.app, admin, 'jiayou', tree.station1, ['attendant']);
    expect(attendant).toBeGreaterThan(0);
    const s = await login(ctx.app, 'jiayou', USER_PASSWORD);
    expect((await alertsOf('pumped'))[0]!.status).toBe('open');
    const visit = await ok<{ visitId: number }>(
      call(ctx.app, s, 'POST', '/api/pump/visits', { plate: plates.get('pumped')!, product: '92#', volumeLitres: 38 }),
      201,
    );
    const row = await ctx.db.kysely
      .selectFrom('fuel_transaction')
      .select(['id', 'business_day'])
      .where('visit_id', '=', visit.visitId)
      .executeTakeFirstOrThrow();
    expect(await alertsOf('pumped')).toMatchObject([
      { status: 'resolved', resolution: 'returned', resolved_txn_id: row.id, resolved_day: row.business_day },
    ]);
  });

  it('counts per unit what became of the alerts, and the attendant reads the counts but may not back-test', async () => {
    const summary = await ok<{
      units: {
        orgUnitId: number;
        raised: number;
        open: number;
        closed: number;
        resolvedReturned: number;
        resolvedRecovered: number;
      }[];
    }>(call(ctx.app, admin, 'GET', '/api/alerts/summary?days=60'));
    expect(summary.units).toEqual([
      expect.objectContaining({
        orgUnitId: tree.station1,
        raised: 5,
        open: 1,
        closed: 1,
        resolvedReturned: 3,
        resolvedRecovered: 0,
      }),
    ]);
    const s = await login(ctx.app, 'jiayou', USER_PASSWORD);
    expect((await ok<{ units: unknown[] }>(call(ctx.app, s, 'GET', '/api/alerts/summary'))).units).toHaveLength(1);
    const denied = await call(ctx.app, s, 'POST', '/api/alerts/backtest', { from: '2026-11-01', to: '2026-11-05' });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('PERMISSION_DENIED');
    const bad = await call(ctx.app, admin, 'GET', '/api/alerts/summary?days=0');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe('querystring.days');
  });

  it('resolves a decline when a later month is back at his volume', async () => {
    // November brings him back to 250 L (of 300): the December night resolves it.
    await ingest(plates.get('decliner')!, [['2026-11-29', 240]]);
    const r = await svcAt('2026-12-01').runRules({ day: '2026-12-01' });
    expect(r.resolved.recovered).toBe(1);
    expect(await alertsOf('decliner')).toMatchObject([
      {
        kind: 'decline',
        status: 'resolved',
        resolution: 'recovered',
        resolved_day: '2026-11-30',
        resolved_txn_id: null,
      },
    ]);
  });
});

describeEngines('an anomaly policy saved before the decline baseline', (engine) => {
  const ctx = useTestApp(engine);
  it('is read with the new fields at their defaults and without the retired one', async () => {
    const admin = await setupAdmin(ctx.app);
    const old = { graceDays: 5, minVisits: 4, declineMonths: 3, pAliveBelow: 0.2 };
    await ctx.db.kysely
      .insertInto('policy_version')
      .values({
        kind: 'anomaly',
        body: JSON.stringify(old),
        note: null,
        created_by: null,
        created_at: new Date().toISOString(),
      })
      .execute();
    const all = await ok<{ kind: string; body: Record<string, number> }[]>(
      call(ctx.app, admin, 'GET', '/api/policies'),
    );
    expect(all.find((p) => p.kind === 'anomaly')!.body).toEqual({ ...policy, graceDays: 5, pAliveBelow: 0.2 });
    // Saving it back as read is accepted; the retired field on its own is refused.
    expect(
      (await call(ctx.app, admin, 'PUT', '/api/policies/anomaly', { body: { ...policy, graceDays: 5 } })).statusCode,
    ).toBe(200);
    const retired = await call(ctx.app, admin, 'PUT', '/api/policies/anomaly', {
      body: { ...policy, declineMonths: 3 },
    });
    expect(retired.statusCode).toBe(400);
    expect(retired.json().error.code).toBe('VALIDATION_FAILED');
  });
});

describeEngines('one alert per lapse', (engine) => {
  const ctx = useTestApp(engine);
  let tree: Tree;
  let admin: Session;
  const sims: { id: number; lastDay: string }[] = [];
  const svcAt = (night: string) =>
    new AlertsService(ctx.db.kysely, () => new Date(`${addDays(night, 1)}T01:30:00+08:00`));

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    // Simulated customers (their cadence columns), judged from the night of 10-29 on.
    const rng = createRng(5);
    const today = '2026-10-30';
    const Ts = Array.from({ length: 200 }, () => Math.round((20 + rng() * 20) * 7) / 7);
    const now = new Date().toISOString();
    for (const [i, c] of simulateParetoNbd({ r: 3, alpha: 2, s: 0.8, beta: 25 }, Ts, 0, rng).entries()) {
      const Tdays = Math.round(c.T * 7);
      const txDays = Math.min(Math.round(c.tx * 7), Tdays - 1);
      const x = Math.min(c.x, txDays);
      const first = addDays(today, -Tdays);
      const lastDay = addDays(first, txDays);
      const row = await ctx.db.kysely
        .insertInto('customer')
        .values({
          org_unit_id: tree.station1,
          code: `LAP${String(i).padStart(4, '0')}`,
          kind: 'individual',
          name: null,
          created_at: now,
          updated_at: now,
          visit_count: x + 1,
          first_visit_day: first,
          last_visit_day: lastDay,
          usual_interval_days: x > 0 ? txDays / x : null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      sims.push({ id: Number(row.id), lastDay });
    }
  }, 120_000);

  it('raises a model lapse once across two nights and a month boundary, and one alert per lapse across the rules', async () => {
    // The cadence rule out of the way: only the model rule finds these lapses.
    await ctx.db.kysely
      .insertInto('policy_version')
      .values({
        kind: 'anomaly',
        body: JSON.stringify({ ...policy, graceDays: 60 }),
        note: null,
        created_by: null,
        created_at: new Date().toISOString(),
      })
      .execute();
    const first = await svcAt('2026-10-29').runRules({ day: '2026-10-29' });
    expect(first.raised.model).toBeGreaterThan(5);
    const second = await svcAt('2026-10-30').runRules({ day: '2026-10-30' });
    const third = await svcAt('2026-10-31').runRules({ day: '2026-10-31' });
    const november = await svcAt('2026-11-01').runRules({ day: '2026-11-01' });
    const model = await ctx.db.kysely
      .selectFrom('alert')
      .select(['customer_id', 'episode', 'opened_at'])
      .where('kind', '=', 'model')
      .execute();
    // Customers whose P(alive) fell below the line only later get their first alert later; nobody twice.
    expect(new Set(model.map((a) => Number(a.customer_id))).size).toBe(model.length);
    expect(model.length).toBe(first.raised.model + second.raised.model + third.raised.model + november.raised.model);
    expect(november.alreadyOpen).toBeGreaterThanOrEqual(first.raised.model);
    const lastDay = new Map(sims.map((s) => [s.id, s.lastDay]));
    expect(model.every((a) => a.episode === lastDay.get(Number(a.customer_id)))).toBe(true);

    // A closed lapse is not raised again by another night, nor by another rule.
    const one = model[0]!;
    const [row] = await ctx.db.kysely
      .selectFrom('alert')
      .select('id')
      .where('customer_id', '=', one.customer_id)
      .execute();
    await ok(
      call(ctx.app, admin, 'POST', `/api/alerts/${row!.id}/close`, {
        contactMade: '电话',
        reasonFound: '换了工作',
        actionTaken: '介绍优惠',
      }),
    );
    await ctx.db.kysely.deleteFrom('policy_version').execute();
    const withCadence = await svcAt('2026-11-02').runRules({ day: '2026-11-02' });
    const mine = await ctx.db.kysely
      .selectFrom('alert')
      .select(['kind', 'status'])
      .where('customer_id', '=', one.customer_id)
      .execute();
    expect(mine).toEqual([{ kind: 'model', status: 'closed' }]);
    expect(withCadence.alreadyClosed).toBeGreaterThanOrEqual(1);
    // With the default grace the cadence rule finds the other lapses first; each customer still has one alert.
    const all = await ctx.db.kysely.selectFrom('alert').select(['customer_id', 'kind']).execute();
    expect(new Set(all.map((a) => Number(a.customer_id))).size).toBe(all.length);
    expect(withCadence.raised.cadence).toBeGreaterThan(0);
  }, 120_000);

  it('reports the branches the model rule left out, and why, to those they concern', async () => {
    await runJob(ctx.db.kysely, nightlyAlertsJob, '2026-11-03');
    const latest = await ok<{
      period: string;
      skippedBranches: { orgUnitId: number; reason: string; minimum?: number }[];
    } | null>(call(ctx.app, admin, 'GET', '/api/alerts/runs/latest'));
    expect(latest?.period).toBe('2026-11-03');
    // Branch 2 has no customers with a history: not even a group; branch 1 is fitted.
    expect(latest?.skippedBranches).toEqual([]);
    await ctx.db.kysely
      .insertInto('policy_version')
      .values({
        kind: 'anomaly',
        body: JSON.stringify({ ...policy, modelMinCustomers: 1000 }),
        note: null,
        created_by: null,
        created_at: new Date().toISOString(),
      })
      .execute();
    await runJob(ctx.db.kysely, nightlyAlertsJob, '2026-11-04');
    const again = await ok<{
      skippedBranches: { orgUnitId: number; reason: string; minimum?: number; customers: number }[];
    }>(call(ctx.app, admin, 'GET', '/api/alerts/runs/latest'));
    expect(again.skippedBranches).toEqual([
      expect.objectContaining({ orgUnitId: tree.branch1, reason: 'too_few_customers', minimum: 1000, customers: 200 }),
    ]);
    // A station manager of branch 2 is not concerned with branch 1's fits.
    await createUser(ctx.app, admin, 'zhanzhang3', tree.station3, ['station_manager']);
    const s3 = await login(ctx.app, 'zhanzhang3', USER_PASSWORD);
    expect(
      (await ok<{ skippedBranches: unknown[] }>(call(ctx.app, s3, 'GET', '/api/alerts/runs/latest'))).skippedBranches,
    ).toEqual([]);
    await createUser(ctx.app, admin, 'zhanzhang1', tree.station1, ['station_manager']);
    const s1 = await login(ctx.app, 'zhanzhang1', USER_PASSWORD);
    expect(
      (await ok<{ skippedBranches: unknown[] }>(call(ctx.app, s1, 'GET', '/api/alerts/runs/latest'))).skippedBranches,
    ).toHaveLength(1);
    await ctx.db.kysely.deleteFrom('policy_version').execute();
  }, 120_000);
});
