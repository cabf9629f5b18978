// Back-tests on generated histories whose truth is known (test/helpers/churn-sim.ts), on both
// engines: recall and false alerts per rule; the replay raises what the nightly run, fed the same
// days night by night, raises; the route is the policy owner's, bounded and scoped.
import { beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session, type TestContext } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { send, type Txn } from '../transactions/helpers.js';
import { simulateStations, truthFigures, type SimCustomer } from '../helpers/churn-sim.js';
import { AlertsService } from '../../src/server/modules/alerts/alerts.service.js';
import { BacktestService } from '../../src/server/modules/alerts/backtest.service.js';
import { addDays } from '../../src/domain/anomaly-rules.js';
import { DEFAULT_POLICIES } from '../../src/domain/policies.js';

const STATION_CODES = ['B1-A1-S1', 'B1-A1-S2', 'B2-A1-S1'];
const stationIds = (tree: Tree) => [tree.station1, tree.station2, tree.station3];

/** The generated customers in the archive (created through the API) and their visits up to `until` sent as sales. */
async function load(
  ctx: TestContext,
  admin: Session,
  tree: Tree,
  sims: SimCustomer[],
  until: string,
): Promise<{ key: string; ids: number[] }> {
  const key = (
    await ok<{ key: string }>(call(ctx.app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.hq }), 201)
  ).key;
  const ids: number[] = [];
  for (const s of sims) {
    const body = {
      kind: 'individual',
      orgUnitId: stationIds(tree)[s.station],
      name: `模拟${s.index}`,
      vehicles: [{ plate: s.plate }],
    };
    ids.push((await ok<{ id: number }>(call(ctx.app, admin, 'POST', '/api/customers', body), 201)).id);
  }
  await sendDays(ctx, key, sims, (day) => day <= until);
  return { key, ids };
}

/** Send the visits on the days `wanted` picks, 2,000 rows a request. */
async function sendDays(
  ctx: TestContext,
  key: string,
  sims: SimCustomer[],
  wanted: (day: string) => boolean,
): Promise<void> {
  const rows: Txn[] = [];
  for (const s of sims) {
    for (const v of s.visits) {
      if (!wanted(v.day)) continue;
      rows.push({
        externalId: `sim-${s.index}-${v.day}`,
        occurredAt: `${v.day}T09:30:00+08:00`,
        stationCode: STATION_CODES[s.station],
        plate: s.plate,
        product: '92#',
        volumeMl: Math.round(v.litres * 1000),
        amountFen: Math.round(v.litres * 760),
      });
    }
  }
  for (let i = 0; i < rows.length; i += 2000) {
    const res = await ok<{ inserted: number; rejected: number }>(
      send(ctx.app, key, { source: 'pos', transactions: rows.slice(i, i + 2000) }),
    );
    expect(res.rejected).toBe(0);
  }
}

describeEngines('back-test on generated histories', (engine) => {
  const ctx = useTestApp(engine);
  const FROM = '2026-10-07';
  const TO = '2026-12-05';
  const sims = simulateStations({ seed: 18, customers: 300, stations: 3, from: FROM, to: TO });
  let admin: Session;
  let tree: Tree;
  let ids: number[] = [];

  beforeAll(async () => {
    ctx.now.value = new Date('2026-12-10T02:00:00Z');
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    ({ ids } = await load(ctx, admin, tree, sims, TO));
  }, 300_000);

  it('finds the churners within a week of the visit they missed and the decliners, and leaves the regulars alone', async () => {
    const { report, alerts } = await new BacktestService(ctx.db.kysely, () => ctx.now.value!).replay({
      from: FROM,
      to: TO,
    });
    expect(report.nights).toBe(60);
    expect(report.customers).toBe(sims.length);
    const indexOf = new Map(ids.map((id, i) => [id, i]));
    const raised = alerts.map((a) => ({ index: indexOf.get(a.customerId)!, day: a.day, kind: a.kind }));
    const all = truthFigures(sims, raised);
    const perRule = Object.fromEntries(['cadence', 'decline', 'model'].map((r) => [r, truthFigures(sims, raised, r)]));
    console.log(
      `[${engine}] back-test of ${report.nights} nights over ${report.customers} customers in ${report.seconds} s`,
      JSON.stringify({ all, perRule, rules: report.rules }),
    );

    expect(all.churner.customers).toBeGreaterThan(20);
    expect(all.decliner.customers).toBeGreaterThan(20);
    expect(all.churner.recall).toBeGreaterThanOrEqual(0.95);
    expect(all.decliner.recall).toBeGreaterThanOrEqual(0.9);
    expect(all.regular.falseRate).toBeLessThanOrEqual(0.05);
    // Each rule does its part: the cadence rule finds the churners, the decline rule the decliners
    // and never a regular.
    expect(perRule.cadence!.churner.recall).toBeGreaterThanOrEqual(0.9);
    expect(perRule.decline!.decliner.recall).toBeGreaterThanOrEqual(0.85);
    expect(perRule.decline!.regular.alerted).toBe(0);
    // The report: the churners' alerts came 3 to 5 days after the visit they missed.
    const cadence = report.rules.find((r) => r.rule === 'cadence')!;
    expect(cadence.delayDays.median).toBeGreaterThanOrEqual(3);
    expect(cadence.delayDays.median).toBeLessThanOrEqual(5);
    expect(cadence.raised).toBe(cadence.cameBack + cadence.cameBackLater + cadence.neverCameBack + cadence.undecided);
    // Churners never came back; a regular's alert (if any) was a false one.
    for (const a of alerts) {
      const s = sims[indexOf.get(a.customerId)!]!;
      if (s.kind === 'churner' && a.kind !== 'decline' && a.day >= s.lastVisit!)
        expect(['never_came_back', 'undecided']).toContain(a.verdict);
    }
    // Per station: the same alerts, split by the customer's station.
    const byStation = report.stations.reduce((n, s) => n + s.rules.reduce((m, r) => m + r.raised, 0), 0);
    expect(byStation).toBe(alerts.length);
    expect(report.stations.map((s) => s.orgUnitId).sort()).toEqual(stationIds(tree).sort());
    // Nothing was written.
    expect(await ctx.db.kysely.selectFrom('alert').select('id').execute()).toEqual([]);
    expect(await ctx.db.kysely.selectFrom('churn_model_fit').select('id').execute()).toEqual([]);
  }, 300_000);

  it('tries a policy from the route, for the policy owner only, within bounds, over his subtree', async () => {
    const looser = { ...DEFAULT_POLICIES.anomaly, declineShare: 0.9, declineSpread: 0.5 };
    const body = { from: '2026-11-20', to: TO, followUpDays: 14 };
    const base = await ok<{
      rules: { rule: string; raised: number }[];
      policy: unknown;
      nights: number;
      followUpDays: number;
    }>(call(ctx.app, admin, 'POST', '/api/alerts/backtest', body));
    const tried = await ok<{ rules: { rule: string; raised: number }[]; policy: unknown }>(
      call(ctx.app, admin, 'POST', '/api/alerts/backtest', { ...body, policy: looser }),
    );
    expect(base).toMatchObject({ nights: 16, followUpDays: 14, policy: DEFAULT_POLICIES.anomaly });
    expect(tried.policy).toEqual(looser);
    const declines = (r: { rules: { rule: string; raised: number }[] }) =>
      r.rules.find((x) => x.rule === 'decline')!.raised;
    expect(declines(tried)).toBeGreaterThan(declines(base));
    // Nothing of the candidate was saved.
    expect(await ctx.db.kysely.selectFrom('policy_version').select('id').execute()).toEqual([]);

    const refused = async (payload: unknown, field: string) => {
      const res = await call(ctx.app, admin, 'POST', '/api/alerts/backtest', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'VALIDATION_FAILED', field });
    };
    await refused({ from: TO, to: '2026-11-20' }, 'body.to');
    await refused({ from: '2026-08-01', to: TO }, 'body.from');
    await refused({ from: '2026-12-08', to: '2026-12-10' }, 'body.to');
    await refused({ from: '2026-11-20', to: TO, policy: { ...looser, declineShare: 2 } }, 'body.policy.declineShare');
    await refused({ from: '2026-11-20', to: TO, followUpDays: 0 }, 'body.followUpDays');
    await refused({ from: '2026-02-30', to: TO }, 'body.from');
    const run = await call(ctx.app, admin, 'POST', '/api/alerts/run', { date: '2026-13-01' });
    expect(run.statusCode).toBe(400);
    expect(run.json().error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.date' });

    await createUser(ctx.app, admin, 'zhanzhang', tree.station1, ['station_manager']);
    const manager = await login(ctx.app, 'zhanzhang', USER_PASSWORD);
    const denied = await call(ctx.app, manager, 'POST', '/api/alerts/backtest', body);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('PERMISSION_DENIED');
    await createUser(ctx.app, admin, 'yingxiao', tree.hq, ['hq_marketing']);
    const marketing = await login(ctx.app, 'yingxiao', USER_PASSWORD);
    expect(
      (await ok<{ customers: number }>(call(ctx.app, marketing, 'POST', '/api/alerts/backtest', body))).customers,
    ).toBe(sims.length);

    // A branch's back-test reads only the branch's customers.
    const branch2 = await new BacktestService(ctx.db.kysely, () => ctx.now.value!).replay({
      from: '2026-11-20',
      to: TO,
      scopePath: (
        await ctx.db.kysely
          .selectFrom('org_unit')
          .select('path')
          .where('id', '=', tree.branch2)
          .executeTakeFirstOrThrow()
      ).path,
    });
    expect(branch2.report.customers).toBe(sims.filter((s) => s.station === 2).length);
    expect(branch2.alerts.every((a) => a.orgUnitId === tree.station3)).toBe(true);
  }, 300_000);
});

describeEngines('back-test against the nightly runs', (engine) => {
  const ctx = useTestApp(engine);
  // Thirteen nights across a month's end, so that the decline rule judges a new month in them.
  const FROM = '2026-10-25';
  const TO = '2026-11-06';
  // Churners leave from five months before the first night on: the models learn from those who left
  // that a customer can leave (on steady histories alone they fit no drop-out at all).
  const sims = simulateStations({
    seed: 7,
    customers: 170,
    stations: 3,
    from: addDays(FROM, -150),
    historyDays: 200,
    to: TO,
    churners: 0.3,
    decliners: 0.15,
  });
  let admin: Session;
  let tree: Tree;

  beforeAll(async () => {
    ctx.now.value = new Date('2026-12-10T02:00:00Z');
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
  }, 60_000);

  it('raises and resolves what the nightly run raises and resolves, fed the same days night by night', async () => {
    // A longer grace and a higher line than the defaults, so that the model rule finds some lapses first.
    await ok(
      call(ctx.app, admin, 'PUT', '/api/policies/anomaly', {
        body: { ...DEFAULT_POLICIES.anomaly, graceDays: 60, pAliveBelow: 0.5 },
      }),
    );
    const { key } = await load(ctx, admin, tree, sims, addDays(FROM, -1));
    for (let night = FROM; night <= TO; night = addDays(night, 1)) {
      await sendDays(ctx, key, sims, (day) => day === night);
      const svc = new AlertsService(ctx.db.kysely, () => new Date(`${addDays(night, 1)}T01:30:00+08:00`));
      await svc.runRules({ day: night });
    }
    const nightly = (
      await ctx.db.kysely
        .selectFrom('alert')
        .select(['customer_id', 'kind', 'lapse', 'opened_at', 'resolved_day'])
        .execute()
    )
      .map(
        (a) =>
          `${Number(a.customer_id)} ${a.kind} ${a.lapse} ${new Date(a.opened_at).toISOString().slice(0, 10)} ${a.resolved_day ?? '-'}`,
      )
      .sort();
    const { alerts, report } = await new BacktestService(ctx.db.kysely, () => ctx.now.value!).replay({
      from: FROM,
      to: TO,
    });
    const replayed = alerts.map((a) => `${a.customerId} ${a.kind} ${a.lapse} ${a.day} ${a.resolvedDay ?? '-'}`).sort();
    expect(replayed).toEqual(nightly);
    // Every rule had its say, and the model rule was fitted as the nightly run fitted it.
    for (const kind of ['cadence', 'decline', 'model'])
      expect(
        nightly.some((a) => a.split(' ')[1] === kind),
        kind,
      ).toBe(true);
    expect(nightly.some((a) => !a.endsWith('-'))).toBe(true);
    const fits = await ctx.db.kysely
      .selectFrom('churn_model_fit')
      .select(['org_unit_id', 'period'])
      .where('params', 'like', '%"chosen":true%')
      .execute();
    expect(report.model.fits).toBe(fits.length);
  }, 300_000);
});
