// Customer value on a simulated branch whose spend parameters are known: the nightly job fits the spend
// model beside the churn models, a customer's value is read through the API exactly as the stored fits
// give it, scoped like the customer, and the key-customer list ranks by it.
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { buildTree, createUser, USER_PASSWORD, type Tree } from '../helpers/fixtures.js';
import { runJob } from '../../src/server/jobs/job-runner.js';
import { nightlyAlertsJob } from '../../src/server/modules/alerts/alerts.job.js';
import { addDays } from '../../src/domain/anomaly-rules.js';
import { customerValue, type VisitModel } from '../../src/domain/customer-value.js';
import { gammaGammaPopulationMean, type GammaGammaParams } from '../../src/domain/churn-models/gamma-gamma.js';
import { createRng, sampleGamma, simulateParetoNbd } from '../../src/domain/churn-models/simulate.js';

const PERIOD = '2026-11-25';
const TODAY = addDays(PERIOD, 1);
/** Spend per visit in yuan: a mean of pγ/(q − 1) = ¥300. */
const SPEND: GammaGammaParams = { p: 6, q: 4, gamma: 150 };

interface Value {
  customerId: number;
  asOf: string;
  missing: string | null;
  model: 'bgnbd' | 'pareto_nbd' | null;
  modelFittedFor: string | null;
  spendFittedFor: string | null;
  spendVisits: number;
  pAlive?: number | null;
  expectedVisits30d?: number | null;
  expectedVisits365d?: number | null;
  ownSpendPerVisitFen?: number | null;
  spendPerVisitFen?: number | null;
  value12mFen?: number | null;
}

describeEngines('customer value', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  const branch1: { id: number; visitDays: number; amountFen: number }[] = [];
  let branch2Customer = 0;
  let neverBought = 0;

  /** Customers with a simulated cadence and one sale of Gamma-Gamma takings per visit day. */
  const seed = async (stationId: number, count: number, rngSeed: number, prefix: string) => {
    const rng = createRng(rngSeed);
    const Ts = Array.from({ length: count }, () => Math.round((20 + rng() * 20) * 7) / 7);
    const base = simulateParetoNbd({ r: 3, alpha: 2, s: 0.8, beta: 25 }, Ts, 0, rng);
    const now = new Date().toISOString();
    const sales: Record<string, unknown>[] = [];
    const seeded: { id: number; visitDays: number; amountFen: number }[] = [];
    for (const [i, c] of base.entries()) {
      const Tdays = Math.round(c.T * 7);
      const txDays = Math.min(Math.round(c.tx * 7), Tdays);
      const x = Math.min(c.x, txDays);
      const first = addDays(TODAY, -Tdays);
      // The first and last visit days, and x − 1 distinct days between them.
      const days = new Set([first, addDays(first, txDays)]);
      while (days.size < x + 1) days.add(addDays(first, 1 + Math.floor(rng() * (txDays - 1))));
      const row = await ctx.db.kysely
        .insertInto('customer')
        .values({
          org_unit_id: stationId,
          code: `${prefix}${String(i).padStart(4, '0')}`,
          kind: 'individual',
          name: `${prefix}${i}`,
          created_at: now,
          updated_at: now,
          visit_count: x + 1,
          first_visit_day: first,
          last_visit_day: addDays(first, txDays),
          usual_interval_days: x > 0 ? txDays / x : null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const id = Number(row.id);
      const nu = sampleGamma(rng, SPEND.q, SPEND.gamma);
      let amountFen = 0;
      for (const day of days) {
        const fen = Math.max(100, Math.round(sampleGamma(rng, SPEND.p, nu) * 100));
        amountFen += fen;
        sales.push({
          source: 'pos',
          external_id: `${prefix}${i}-${day}`,
          occurred_at: `${day}T02:00:00.000Z`,
          business_day: day,
          org_unit_id: stationId,
          customer_id: id,
          product: '0#柴油',
          volume_ml: Math.round((fen / 750) * 1000),
          unit_price_fen: 750,
          amount_fen: fen,
          created_at: now,
        });
      }
      seeded.push({ id, visitDays: days.size, amountFen });
    }
    for (let i = 0; i < sales.length; i += 500) {
      await ctx.db.kysely
        .insertInto('fuel_transaction')
        .values(sales.slice(i, i + 500) as never)
        .execute();
    }
    return seeded;
  };

  const value = (s: Session, id: number) => call(ctx.app, s, 'GET', `/api/customers/${id}/value`);

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    branch1.push(...(await seed(tree.station1, 200, 31, 'V1-')));
    branch2Customer = (await seed(tree.station3, 10, 32, 'V2-'))[0]!.id; // too few to fit
    const now = new Date().toISOString();
    neverBought = Number(
      (
        await ctx.db.kysely
          .insertInto('customer')
          .values({
            org_unit_id: tree.station1,
            code: 'V1-NONE',
            kind: 'individual',
            name: '新客户',
            created_at: now,
            updated_at: now,
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id,
    );
    await createUser(ctx.app, admin, 'sm1', tree.station1, ['station_manager']);
    const outcome = await runJob(ctx.db.kysely, nightlyAlertsJob, PERIOD, { now: new Date(`${TODAY}T01:30:00+08:00`) });
    expect(outcome.status).toBe('done');
    ctx.now.value = new Date(`${TODAY}T09:00:00+08:00`);
  }, 180_000);

  it('fits the spend model in the nightly job, beside the churn models of the same branch', async () => {
    const fits = await ctx.db.kysely
      .selectFrom('churn_model_fit')
      .selectAll()
      .where('model', '=', 'gamma_gamma')
      .execute();
    expect(fits.map((f) => [Number(f.org_unit_id), f.period, Number(f.customers)])).toEqual([
      [tree.branch1, PERIOD, 201],
    ]);
    const params = JSON.parse(fits[0]!.params) as GammaGammaParams & { converged: boolean; fittedOn: number };
    expect(params.fittedOn).toBe(200);
    // Over 200 customers only the mean spend is pinned down well: within 10% of the ¥300 simulated.
    expect(Math.abs(gammaGammaPopulationMean(params) / gammaGammaPopulationMean(SPEND) - 1)).toBeLessThan(0.1);
    // A second run of the night fits nothing again.
    const again = await runJob(ctx.db.kysely, nightlyAlertsJob, PERIOD, {
      now: new Date(`${TODAY}T02:00:00+08:00`),
      force: true,
    });
    expect(again).toMatchObject({ status: 'done', detail: { spendFits: { fitted: 0, tooFew: 0 } } });
  });

  it("gives a customer's P(alive), visits, spend and value exactly as the stored fits do", async () => {
    const fits = await ctx.db.kysely
      .selectFrom('churn_model_fit')
      .selectAll()
      .where('org_unit_id', '=', tree.branch1)
      .execute();
    const chosen = fits.find((f) => f.model !== 'gamma_gamma' && JSON.parse(f.params).chosen === true)!;
    const {
      chosen: _c,
      converged: _v,
      fittedOn: _f,
      ...churnParams
    } = JSON.parse(chosen.params) as Record<string, number>;
    const spendParams = JSON.parse(fits.find((f) => f.model === 'gamma_gamma')!.params) as GammaGammaParams;
    const model = { model: chosen.model, params: churnParams } as unknown as VisitModel;

    let checked = 0;
    for (const c of branch1.filter((_, i) => i % 20 === 0)) {
      const v = await ok<Value>(value(admin, c.id));
      const row = await ctx.db.kysely
        .selectFrom('customer')
        .selectAll()
        .where('id', '=', c.id)
        .executeTakeFirstOrThrow();
      const T = (Date.parse(TODAY) - Date.parse(row.first_visit_day!)) / 86_400_000 / 7;
      const tx = (Date.parse(row.last_visit_day!) - Date.parse(row.first_visit_day!)) / 86_400_000 / 7;
      const expected = customerValue(model, spendParams, { x: row.visit_count - 1, tx, T }, c);
      expect(v).toMatchObject({
        customerId: c.id,
        asOf: TODAY,
        missing: null,
        model: chosen.model,
        modelFittedFor: PERIOD,
        spendFittedFor: PERIOD,
        spendVisits: c.visitDays,
      });
      expect(v.pAlive).toBeCloseTo(expected.pAlive, 12);
      expect(v.expectedVisits30d).toBeCloseTo(expected.expectedVisits30d, 10);
      expect(v.expectedVisits365d).toBeCloseTo(expected.expectedVisits365d, 10);
      expect(v.ownSpendPerVisitFen).toBe(Math.round(c.amountFen / c.visitDays));
      expect(v.spendPerVisitFen).toBe(expected.spendPerVisitFen);
      expect(v.value12mFen).toBe(expected.value12mFen);
      // The figures hang together: a year holds more visits than a month, and the value is visits × spend.
      expect(v.expectedVisits365d!).toBeGreaterThanOrEqual(v.expectedVisits30d!);
      expect(Math.abs(v.value12mFen! - v.expectedVisits365d! * v.spendPerVisitFen!)).toBeLessThanOrEqual(
        v.expectedVisits365d! / 2 + 1,
      );
      // Gamma-Gamma pulls his own mean towards the branch's.
      const population = gammaGammaPopulationMean(spendParams) * 100;
      const own = v.ownSpendPerVisitFen!;
      expect(v.spendPerVisitFen!).toBeGreaterThanOrEqual(Math.min(own, population) - 1);
      expect(v.spendPerVisitFen!).toBeLessThanOrEqual(Math.max(own, population) + 1);
      checked++;
    }
    expect(checked).toBe(10);
  });

  it('says why figures are missing: no visit yet, or no model for the branch', async () => {
    expect(await ok<Value>(value(admin, neverBought))).toMatchObject({ missing: 'no_history', spendVisits: 0 });
    expect(await ok<Value>(value(admin, neverBought))).not.toHaveProperty('value12mFen');
    expect(await ok<Value>(value(admin, branch2Customer))).toMatchObject({
      missing: 'no_model',
      model: null,
      spendFittedFor: null,
    });
    expect((await value(admin, 999_999)).statusCode).toBe(404);
  });

  it("is scoped like the customer: another branch's customer is refused", async () => {
    const sm = await login(ctx.app, 'sm1', USER_PASSWORD);
    expect((await value(sm, branch1[0]!.id)).statusCode).toBe(200);
    const denied = await value(sm, branch2Customer);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('SCOPE_DENIED');
    expect((await call(ctx.app, null, 'GET', `/api/customers/${branch1[0]!.id}/value`)).statusCode).toBe(401);
  });

  describe('key customers ranked by value', () => {
    const list = (sort?: string) =>
      ok<{ sort: string; unattended: { customerId: number; volumeMl: number; value12mFen?: number | null }[] }>(
        call(
          ctx.app,
          admin,
          'GET',
          `/api/key-customers?orgUnitId=${tree.branch1}&month=${TODAY.slice(0, 7)}${sort ? `&sort=${sort}` : ''}`,
        ),
      );

    it('orders the same customers by their 12-month value, highest first', async () => {
      const byVolume = await list();
      const byValue = await list('value');
      expect(byVolume.sort).toBe('volume');
      expect(byValue.sort).toBe('value');
      expect(byVolume.unattended.length).toBeGreaterThan(10);
      expect(byVolume.unattended.every((u) => !('value12mFen' in u))).toBe(true);
      expect(byValue.unattended.map((u) => u.customerId).sort()).toEqual(
        byVolume.unattended.map((u) => u.customerId).sort(),
      );
      const values = byValue.unattended.map((u) => u.value12mFen ?? null);
      expect(values.every((v) => typeof v === 'number')).toBe(true);
      expect(values).toEqual([...values].sort((a, b) => b! - a!));
      // Not the volume order: the month's volume is not next year's value.
      expect(byValue.unattended.map((u) => u.customerId)).not.toEqual(byVolume.unattended.map((u) => u.customerId));
      const top = byValue.unattended[0]!;
      expect((await ok<Value>(value(admin, top.customerId))).value12mFen).toBe(top.value12mFen);
    });

    it('refuses an unknown order', async () => {
      const res = await call(ctx.app, admin, 'GET', `/api/key-customers?orgUnitId=${tree.branch1}&sort=price`);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.field).toContain('sort');
    });
  });
});
