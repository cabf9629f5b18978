import { describe, expect, it } from 'vitest';
import { bgnbdConditionalExpectedPurchases, bgnbdPAlive } from './churn-models/bgnbd.js';
import { gammaGammaExpectedSpend, gammaGammaPopulationMean } from './churn-models/gamma-gamma.js';
import { paretoNbdScore } from './churn-models/pareto-nbd.js';
import { createRng, simulateGammaGamma } from './churn-models/simulate.js';
import {
  MIN_CUSTOMERS_FOR_SPEND,
  customerValue,
  fitSpend,
  modelGroupOf,
  spendObservation,
  visitOutlook,
  type VisitModel,
} from './customer-value.js';

const bg: VisitModel = { model: 'bgnbd', params: { r: 2, alpha: 3, a: 0.5, b: 8 } };
const pn: VisitModel = { model: 'pareto_nbd', params: { r: 2, alpha: 3, s: 0.5, beta: 30 } };
const spend = { p: 6, q: 4, gamma: 150 };
const history = { x: 20, tx: 30, T: 32 };

describe('customer value', () => {
  it('is the visits of the next 365 days times the expected spend per visit, in fen', () => {
    const v = customerValue(bg, spend, history, { visitDays: 21, amountFen: 21 * 28_000 });
    const visits = bgnbdConditionalExpectedPurchases(bg.params as never, 365 / 7, 20, 30, 32);
    const perVisit = gammaGammaExpectedSpend(spend, 21, 280);
    expect(v.pAlive).toBe(bgnbdPAlive(bg.params as never, 20, 30, 32));
    expect(v.expectedVisits365d).toBe(visits);
    expect(v.expectedVisits30d).toBe(bgnbdConditionalExpectedPurchases(bg.params as never, 30 / 7, 20, 30, 32));
    expect(v.ownSpendPerVisitFen).toBe(28_000);
    expect(v.spendPerVisitFen).toBe(Math.round(perVisit * 100));
    expect(v.value12mFen).toBe(Math.round(visits * perVisit * 100));
  });

  it('works the same on a Pareto/NBD fit', () => {
    const v = customerValue(pn, spend, history, { visitDays: 21, amountFen: 21 * 28_000 });
    const year = paretoNbdScore(pn.params as never, 365 / 7, 20, 30, 32);
    expect(v.pAlive).toBe(year.pAlive);
    expect(v.expectedVisits365d).toBe(year.expected);
    expect(visitOutlook(pn, history, 30).expected).toBeLessThan(year.expected);
  });

  it('expects the branch mean of a customer with no sale of known amount, and no value without a spend model', () => {
    const unknown = customerValue(bg, spend, history, { visitDays: 0, amountFen: 0 });
    expect(unknown.ownSpendPerVisitFen).toBeNull();
    expect(unknown.spendPerVisitFen).toBe(Math.round(gammaGammaPopulationMean(spend) * 100));
    const noModel = customerValue(bg, null, history, { visitDays: 3, amountFen: 90_000 });
    expect(noModel).toMatchObject({ spendPerVisitFen: null, value12mFen: null, ownSpendPerVisitFen: 30_000 });
    expect(noModel.expectedVisits365d).toBeGreaterThan(0);
    // q ≤ 1: the branch mean is infinite, so a customer without a known amount has no value.
    expect(
      customerValue(bg, { p: 2, q: 0.9, gamma: 100 }, history, { visitDays: 0, amountFen: 0 }).value12mFen,
    ).toBeNull();
  });

  it('fits the spend model in yuan from takings in fen, and not on too few customers', () => {
    expect(spendObservation({ visitDays: 4, amountFen: 120_000 })).toEqual({ x: 4, mean: 300 });
    expect(spendObservation({ visitDays: 0, amountFen: 0 })).toBeNull();
    const rng = createRng(7);
    const sims = simulateGammaGamma(
      spend,
      Array.from({ length: 400 }, () => 1 + Math.floor(rng() * 30)),
      rng,
    );
    const takings = sims.map((c) => ({ visitDays: c.x, amountFen: Math.round(c.mean * c.x * 100) }));
    const fit = fitSpend(takings);
    expect(fit).not.toBeNull();
    expect(Math.abs(gammaGammaPopulationMean(fit!.params) / 300 - 1)).toBeLessThan(0.1);
    expect(fitSpend(takings.slice(0, MIN_CUSTOMERS_FOR_SPEND - 1))).toBeNull();
  });

  it('groups customers by their nearest branch, else the top unit', () => {
    const branches = new Set([7]);
    expect(modelGroupOf('/1/7/23/40/', (id) => branches.has(id))).toBe(7);
    expect(modelGroupOf('/1/9/', (id) => branches.has(id))).toBe(1);
  });
});
