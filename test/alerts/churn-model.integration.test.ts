// The model rule on a simulated customer base whose dropouts are known: the fitted models give the
// dropouts a low chance of still being active, and the alerts follow the stored scores exactly.
import { beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { setupAdmin, useTestApp } from '../helpers/app.js';
import { buildTree, type Tree } from '../helpers/fixtures.js';
import { AlertsService, REFIT_DAYS } from '../../src/server/modules/alerts/alerts.service.js';
import { addDays } from '../../src/domain/anomaly-rules.js';
import { DEFAULT_POLICIES } from '../../src/domain/policies.js';
import { createRng, simulateParetoNbd } from '../../src/domain/churn-models/simulate.js';

const PERIOD = '2026-11-25';
const TODAY = addDays(PERIOD, 1);
const policy = DEFAULT_POLICIES.anomaly;

interface Simulated {
  id: number;
  alive: boolean;
  visitCount: number;
}

describeEngines('churn model alerts', (engine) => {
  const ctx = useTestApp(engine);
  let tree: Tree;
  const sims: Simulated[] = [];

  /** Customers whose cadence columns carry a simulated history (time in weeks, rounded to days). */
  const seed = async (orgUnitId: number, count: number, rngSeed: number, prefix: string) => {
    const rng = createRng(rngSeed);
    const Ts = Array.from({ length: count }, () => Math.round((20 + rng() * 20) * 7) / 7);
    const base = simulateParetoNbd({ r: 3, alpha: 2, s: 0.8, beta: 25 }, Ts, 0, rng);
    const now = new Date().toISOString();
    for (const [i, c] of base.entries()) {
      const Tdays = Math.round(c.T * 7);
      const txDays = Math.min(Math.round(c.tx * 7), Tdays);
      const x = Math.min(c.x, txDays);
      const first = addDays(TODAY, -Tdays);
      const row = await ctx.db.kysely
        .insertInto('customer')
        .values({ org_unit_id: orgUnitId, code: `${prefix}${String(i).padStart(4, '0')}`, kind: 'individual', name: null, created_at: now, updated_at: now, visit_count: x + 1, first_visit_day: first, last_visit_day: addDays(first, txDays), usual_interval_days: x > 0 ? txDays / x : null })
        .returning('id')
        .executeTakeFirstOrThrow();
      sims.push({ id: Number(row.id), alive: c.aliveAtT, visitCount: x + 1 });
    }
  };

  beforeAll(async () => {
    const admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    await seed(tree.station1, 160, 11, 'SIM1-');
    await seed(tree.station3, 30, 12, 'SIM2-'); // too few to fit
  }, 120_000);

  it('fits the large branch, skips the small one and scores dropouts low', async () => {
    const svc = new AlertsService(ctx.db.kysely, () => new Date('2026-11-26T01:30:00Z'));
    const result = await svc.runRules({ day: PERIOD });
    expect(result.fittedBranches).toBe(1);
    expect(result.skippedBranches).toEqual([{ orgUnitId: tree.branch2, name: '保定分公司', customers: 30, reason: 'too_few_customers' }]);

    const fits = await ctx.db.kysely.selectFrom('churn_model_fit').selectAll().execute();
    expect(fits.map((f) => [Number(f.org_unit_id), f.model, f.period, Number(f.customers)]).sort()).toEqual([
      [tree.branch1, 'bgnbd', PERIOD, 160],
      [tree.branch1, 'pareto_nbd', PERIOD, 160],
    ]);
    const chosen = fits.find((f) => JSON.parse(f.params).chosen)!;
    expect(Number(chosen.log_likelihood)).toBe(Math.max(...fits.map((f) => Number(f.log_likelihood))));

    const scores = new Map((await ctx.db.kysely.selectFrom('customer_churn_score').selectAll().execute()).map((s) => [Number(s.customer_id), s]));
    const branch1 = sims.slice(0, 160);
    expect(scores.size).toBe(160);
    expect([...scores.values()].every((s) => s.model === chosen.model)).toBe(true);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const regular = branch1.filter((s) => s.visitCount >= policy.minVisits);
    const deadP = regular.filter((s) => !s.alive).map((s) => Number(scores.get(s.id)!.p_alive));
    const aliveP = regular.filter((s) => s.alive).map((s) => Number(scores.get(s.id)!.p_alive));
    expect(deadP.length).toBeGreaterThan(15);
    expect(mean(deadP)).toBeLessThan(0.5);
    expect(mean(aliveP)).toBeGreaterThan(0.8);
    expect([...scores.values()].every((s) => Number(s.expected_30d) >= 0)).toBe(true);

    // Alerts: exactly the regulars scored below the threshold, one per month.
    const expected = branch1.filter((s) => s.visitCount >= policy.minVisits && Number(scores.get(s.id)!.p_alive) < policy.pAliveBelow).map((s) => s.id).sort((a, b) => a - b);
    const alerts = await ctx.db.kysely.selectFrom('alert').select(['customer_id', 'episode', 'detail']).where('kind', '=', 'model').orderBy('customer_id').execute();
    expect(alerts.map((a) => Number(a.customer_id))).toEqual(expected);
    expect(expected.length).toBeGreaterThan(5);
    expect(new Set(alerts.map((a) => a.episode))).toEqual(new Set([TODAY.slice(0, 7)]));
    expect(JSON.parse(alerts[0]!.detail!)).toMatchObject({ model: chosen.model, threshold: policy.pAliveBelow });
    // Most of the alerts are true dropouts.
    const truth = new Map(sims.map((s) => [s.id, s.alive]));
    expect(expected.filter((id) => !truth.get(id)).length / expected.length).toBeGreaterThan(0.7);
    expect(result.raised.model).toBe(expected.length);

    // A second run the same night scores with the fit it just made and raises nothing new.
    const again = await svc.runRules({ day: PERIOD });
    expect(again.raised).toEqual({ cadence: 0, decline: 0, model: 0 });
    // The simulated lapses trip the cadence rule too; every alert of the first run is found open.
    expect(again.alreadyOpen).toBe((await ctx.db.kysely.selectFrom('alert').select('id').execute()).length);
    expect(await ctx.db.kysely.selectFrom('churn_model_fit').select('id').execute()).toHaveLength(2);
  }, 120_000);

  it(`scores with the branch's fit for ${REFIT_DAYS - 1} more nights, then refits`, async () => {
    const run = (day: string) => new AlertsService(ctx.db.kysely, () => new Date(`${addDays(day, 1)}T01:30:00Z`)).runRules({ day });
    const fitsOf = async () => (await ctx.db.kysely.selectFrom('churn_model_fit').select(['org_unit_id', 'period']).orderBy('period').execute()).map((f) => [Number(f.org_unit_id), f.period]);

    // The last night of the week: no new fit, every customer scored again with the stored one.
    const lastOfWeek = addDays(PERIOD, REFIT_DAYS - 1);
    const reused = await run(lastOfWeek);
    expect(reused).toMatchObject({ reusedFits: 1, fittedBranches: 1, scoredCustomers: 160 });
    expect(await fitsOf()).toEqual([
      [tree.branch1, PERIOD],
      [tree.branch1, PERIOD],
    ]);
    const scoredAt = new Set((await ctx.db.kysely.selectFrom('customer_churn_score').select('scored_at').execute()).map((s) => s.scored_at.slice(0, 10)));
    expect(scoredAt).toEqual(new Set([addDays(lastOfWeek, 1)]));

    // A week after the fit the branch is fitted again.
    const next = addDays(PERIOD, REFIT_DAYS);
    const refitted = await run(next);
    expect(refitted).toMatchObject({ reusedFits: 0, fittedBranches: 1, scoredCustomers: 160 });
    expect(await fitsOf()).toEqual([
      [tree.branch1, PERIOD],
      [tree.branch1, PERIOD],
      [tree.branch1, next],
      [tree.branch1, next],
    ]);
  }, 120_000);
});
