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
      // The last visit no later than the night judged (the day before TODAY): the run reads as of it.
      const txDays = Math.min(Math.round(c.tx * 7), Tdays - 1);
      const x = Math.min(c.x, txDays);
      const first = addDays(TODAY, -Tdays);
      const row = await ctx.db.kysely
        .insertInto('customer')
        .values({
          org_unit_id: orgUnitId,
          code: `${prefix}${String(i).padStart(4, '0')}`,
          kind: 'individual',
          name: null,
          created_at: now,
          updated_at: now,
          visit_count: x + 1,
          first_visit_day: first,
          last_visit_day: addDays(first, txDays),
          usual_interval_days: x > 0 ? txDays / x : null,
        })
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
    expect(result.skippedBranches).toEqual([
      {
        orgUnitId: tree.branch2,
        name: '保定分公司',
        customers: 30,
        reason: 'too_few_customers',
        minimum: policy.modelMinCustomers,
      },
    ]);

    const fits = await ctx.db.kysely.selectFrom('churn_model_fit').selectAll().execute();
    expect(fits.map((f) => [Number(f.org_unit_id), f.model, f.period, Number(f.customers)]).sort()).toEqual([
      [tree.branch1, 'bgnbd', PERIOD, 160],
      [tree.branch1, 'pareto_nbd', PERIOD, 160],
    ]);
    const chosen = fits.find((f) => JSON.parse(f.params).chosen)!;
    expect(Number(chosen.log_likelihood)).toBe(Math.max(...fits.map((f) => Number(f.log_likelihood))));

    const scores = new Map(
      (await ctx.db.kysely.selectFrom('customer_churn_score').selectAll().execute()).map((s) => [
        Number(s.customer_id),
        s,
      ]),
    );
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

    // The regulars scored below the threshold: each has exactly one alert, about his lapse (his last
    // visit day). Those the cadence rule found overdue first hold it as a cadence alert.
    const expected = branch1
      .filter((s) => s.visitCount >= policy.minVisits && Number(scores.get(s.id)!.p_alive) < policy.pAliveBelow)
      .map((s) => s.id)
      .sort((a, b) => a - b);
    expect(expected.length).toBeGreaterThan(5);
    const lastDay = new Map(
      (await ctx.db.kysely.selectFrom('customer').select(['id', 'last_visit_day']).execute()).map((c) => [
        Number(c.id),
        c.last_visit_day,
      ]),
    );
    const all = await ctx.db.kysely
      .selectFrom('alert')
      .select(['customer_id', 'kind', 'episode', 'lapse', 'status'])
      .execute();
    for (const id of expected) {
      const mine = all.filter((a) => Number(a.customer_id) === id);
      expect(mine, String(id)).toHaveLength(1);
      expect(mine[0]).toMatchObject({ episode: lastDay.get(id), lapse: lastDay.get(id), status: 'open' });
    }
    expect(all.filter((a) => a.kind === 'model').length).toBe(result.raised.model);
    expect(result.alreadyOpen).toBe(expected.length - result.raised.model);

    // With a grace the cadence rule never reaches, the model rule raises them itself.
    await ctx.db.kysely.deleteFrom('alert').execute();
    const relaxed = { ...policy, graceDays: 60 };
    await ctx.db.kysely
      .insertInto('policy_version')
      .values({
        kind: 'anomaly',
        body: JSON.stringify(relaxed),
        note: null,
        created_by: null,
        created_at: new Date().toISOString(),
      })
      .execute();
    const alone = await svc.runRules({ day: PERIOD });
    const alerts = await ctx.db.kysely
      .selectFrom('alert')
      .select(['customer_id', 'kind', 'episode', 'detail'])
      .orderBy('customer_id')
      .execute();
    // (Those away longer than twice their interval and 60 days are still the cadence rule's.)
    const overdue = new Set(alerts.filter((a) => a.kind === 'cadence').map((a) => Number(a.customer_id)));
    const model = alerts.filter((a) => a.kind === 'model');
    expect(model.map((a) => Number(a.customer_id))).toEqual(expected.filter((id) => !overdue.has(id)));
    expect(model.length).toBeGreaterThanOrEqual(5);
    expect(model.every((a) => a.episode === lastDay.get(Number(a.customer_id)))).toBe(true);
    expect(JSON.parse(model[0]!.detail!)).toMatchObject({ model: chosen.model, threshold: policy.pAliveBelow });
    // Most of the alerts are true dropouts.
    const truth = new Map(sims.map((s) => [s.id, s.alive]));
    expect(expected.filter((id) => !truth.get(id)).length / expected.length).toBeGreaterThan(0.7);
    expect(alone.raised.model).toBe(model.length);

    // A second run the same night, and the first night of next month, raise nothing new: the lapses are the same.
    expect((await svc.runRules({ day: PERIOD })).raised).toEqual({ cadence: 0, decline: 0, model: 0 });
    const nextMonth = await new AlertsService(ctx.db.kysely, () => new Date('2026-12-01T01:30:00Z')).runRules({
      day: '2026-11-30',
    });
    expect(nextMonth.raised.model).toBe(0);
    expect(nextMonth.alreadyOpen).toBeGreaterThanOrEqual(expected.length);
    await ctx.db.kysely.deleteFrom('policy_version').execute();
    await ctx.db.kysely.deleteFrom('churn_model_fit').where('period', '=', '2026-11-30').execute();
    expect(await ctx.db.kysely.selectFrom('churn_model_fit').select('id').execute()).toHaveLength(2);
  }, 120_000);

  it(`scores with the branch's fit for ${REFIT_DAYS - 1} more nights, then refits`, async () => {
    const run = (day: string) =>
      new AlertsService(ctx.db.kysely, () => new Date(`${addDays(day, 1)}T01:30:00Z`)).runRules({ day });
    const fitsOf = async () =>
      (
        await ctx.db.kysely.selectFrom('churn_model_fit').select(['org_unit_id', 'period']).orderBy('period').execute()
      ).map((f) => [Number(f.org_unit_id), f.period]);

    // The last night of the week: no new fit, every customer scored again with the stored one.
    const lastOfWeek = addDays(PERIOD, REFIT_DAYS - 1);
    const reused = await run(lastOfWeek);
    expect(reused).toMatchObject({ reusedFits: 1, fittedBranches: 1, scoredCustomers: 160 });
    expect(await fitsOf()).toEqual([
      [tree.branch1, PERIOD],
      [tree.branch1, PERIOD],
    ]);
    const scoredAt = new Set(
      (await ctx.db.kysely.selectFrom('customer_churn_score').select('scored_at').execute()).map((s) =>
        s.scored_at.slice(0, 10),
      ),
    );
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
