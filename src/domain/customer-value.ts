// What a customer is worth over the next year: his branch's churn model (BG/NBD or Pareto/NBD, the
// better fit of the night) gives P(alive) and the visits to expect, the branch's Gamma-Gamma spend
// model what each visit will bring, and the value is their product. Visits are visit days, as the
// churn models count them; spend per visit is a visit day's takings.
import { bgnbdConditionalExpectedPurchases, bgnbdPAlive, type BgnbdParams } from './churn-models/bgnbd.js';
import {
  fitGammaGamma,
  gammaGammaExpectedSpend,
  type GammaGammaFit,
  type GammaGammaParams,
} from './churn-models/gamma-gamma.js';
import { paretoNbdScore, type ParetoNbdParams } from './churn-models/pareto-nbd.js';
import type { RfmTriplet } from './churn-models/rfm.js';

/** The churn models whose fits a value can be built on (as stored by the nightly model rule). */
export type VisitModel = { model: 'bgnbd'; params: BgnbdParams } | { model: 'pareto_nbd'; params: ParetoNbdParams };

/** Days of the "12-month" value, and of the short horizon the alerts also use. */
export const VALUE_HORIZON_DAYS = 365;
export const SHORT_HORIZON_DAYS = 30;

/** Fewer customers with a known spend than this, and a branch's spend model is not fitted. */
export const MIN_CUSTOMERS_FOR_SPEND = 50;

/** One customer's takings as the spend model sees them: visit days with a known amount, and their sum. */
export interface SpendHistory {
  visitDays: number;
  amountFen: number;
}

export interface CustomerValue {
  pAlive: number;
  expectedVisits30d: number;
  expectedVisits365d: number;
  /** His own mean takings per visit day, fen; null without a visit of known amount. */
  ownSpendPerVisitFen: number | null;
  /** Gamma-Gamma's expected takings of his next visits, fen; null without a spend model. */
  spendPerVisitFen: number | null;
  /** Expected visits in the next 365 days × expected spend per visit, fen, not discounted. */
  value12mFen: number | null;
}

/** P(alive) and the expected visits in the next `days` days, the models' time being weeks. */
export function visitOutlook(m: VisitModel, h: RfmTriplet, days: number): { pAlive: number; expected: number } {
  const weeks = days / 7;
  if (m.model === 'bgnbd') {
    return {
      pAlive: bgnbdPAlive(m.params, h.x, h.tx, h.T),
      expected: bgnbdConditionalExpectedPurchases(m.params, weeks, h.x, h.tx, h.T),
    };
  }
  return paretoNbdScore(m.params, weeks, h.x, h.tx, h.T);
}

/** Gamma-Gamma's observation of a customer: x visit days and their mean in yuan; null without one. */
export function spendObservation(s: SpendHistory): { x: number; mean: number } | null {
  if (!(s.visitDays >= 1) || !(s.amountFen > 0)) return null;
  return { x: s.visitDays, mean: s.amountFen / 100 / s.visitDays };
}

/** Fit a branch's spend model on its customers' takings (yuan internally); null with too few of them. */
export function fitSpend(histories: readonly SpendHistory[]): GammaGammaFit | null {
  const data = histories.map(spendObservation).filter((o): o is { x: number; mean: number } => o !== null);
  if (data.length < MIN_CUSTOMERS_FOR_SPEND) return null;
  return fitGammaGamma(data);
}

/**
 * The customer's outlook and value. Undiscounted: over one year a discount rate of a few percent would
 * move the figure by less than the models' own uncertainty, and "a year's takings" is what a branch
 * reads it as. A customer with no visit of known amount is expected to spend the branch's mean.
 */
export function customerValue(
  m: VisitModel,
  spend: GammaGammaParams | null,
  h: RfmTriplet,
  s: SpendHistory,
): CustomerValue {
  const short = visitOutlook(m, h, SHORT_HORIZON_DAYS);
  const year = visitOutlook(m, h, VALUE_HORIZON_DAYS);
  const own = spendObservation(s);
  let spendYuan: number | null = null;
  if (spend) {
    const e = own ? gammaGammaExpectedSpend(spend, own.x, own.mean) : gammaGammaExpectedSpend(spend, 0, 0);
    spendYuan = Number.isFinite(e) ? e : null;
  }
  return {
    pAlive: short.pAlive,
    expectedVisits30d: short.expected,
    expectedVisits365d: year.expected,
    ownSpendPerVisitFen: own ? Math.round(own.mean * 100) : null,
    spendPerVisitFen: spendYuan === null ? null : Math.round(spendYuan * 100),
    value12mFen: spendYuan === null ? null : Math.round(year.expected * spendYuan * 100),
  };
}

/**
 * The unit a customer's models are fitted for, as the nightly model rule groups customers: the nearest
 * branch on his unit's path, else (above any branch, or in a tree without branches) the top unit.
 */
export function modelGroupOf(path: string, isBranch: (unitId: number) => boolean): number {
  const ids = path.split('/').filter(Boolean).map(Number);
  return ids.find(isBranch) ?? ids[0]!;
}
