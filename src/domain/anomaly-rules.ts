// When a customer becomes a task for the person who looks after him: overdue against his own
// cadence, volume collapsed against his own baseline (decline-rule.ts), or a churn model that no
// longer believes he is active. Each finding carries the lapse it is about, shared by the rules:
// an absence is keyed by the last visit day before it (the cadence and the model rule find the
// same one), a decline by the first month of the collapse. One lapse raises one alert, however
// many rules and nights find it; a customer has at most one open alert.
import type { AnomalyPolicy } from './policies.js';
import { addDays, addMonths, daysBetween } from './day-arithmetic.js';
import { bgnbdConditionalExpectedPurchases, bgnbdPAlive, fitBgnbd, type BgnbdParams } from './churn-models/bgnbd.js';
import {
  fitParetoNbd,
  paretoNbdScore,
  type ParetoNbdFitOptions,
  type ParetoNbdParams,
} from './churn-models/pareto-nbd.js';
import type { RfmTriplet } from './churn-models/rfm.js';
import type { MultiStartOptions } from './churn-models/optimize.js';
import { SeriesNotConvergedError } from './churn-models/special.js';

export { addDays, addMonths, daysBetween };

/** The rules, in the order they are raised: of two findings about one customer in a night, the first wins. */
export const ALERT_KINDS = ['cadence', 'decline', 'model'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** Open; closed by a person with what was done; resolved by itself (the customer came back). */
export const ALERT_STATUSES = ['open', 'closed', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** How an alert resolved itself: a purchase after an absence, or a month back at his volume after a decline. */
export const RESOLUTIONS = ['returned', 'recovered'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/** The rules that find an absence: their lapse is the last visit day, and any later purchase ends it. */
export const ABSENCE_KINDS: readonly AlertKind[] = ['cadence', 'model'];

/** Whether a purchase on `day` ends an open alert's lapse: a purchase after the absence began. */
export function purchaseResolves(alert: { kind: string; lapse: string }, day: string): boolean {
  return (ABSENCE_KINDS as readonly string[]).includes(alert.kind) && day > alert.lapse;
}

/** Why the model rule left a branch out of a night. */
export const SKIP_REASONS = ['too_few_customers', 'fit_failed'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

// ---- cadence -------------------------------------------------------------------------------

export interface CadenceFacts {
  visitCount: number;
  usualIntervalDays: number | null;
  lastVisitDay: string | null;
}

export interface CadenceFinding {
  episode: string;
  usualIntervalDays: number;
  lastVisitDay: string;
  daysSince: number;
  graceDays: number;
  /** Days beyond interval + grace. */
  overdueByDays: number;
}

/**
 * A regular customer is overdue when more days than his usual interval plus the grace have passed
 * since his last visit day. The episode is that last visit day: a new visit ends it.
 */
export function cadenceFinding(policy: AnomalyPolicy, c: CadenceFacts, today: string): CadenceFinding | null {
  if (c.visitCount < policy.minVisits || c.usualIntervalDays === null || c.lastVisitDay === null) return null;
  const daysSince = daysBetween(c.lastVisitDay, today);
  const limit = c.usualIntervalDays + policy.graceDays;
  if (!(daysSince > limit)) return null;
  return {
    episode: c.lastVisitDay,
    usualIntervalDays: round1(c.usualIntervalDays),
    lastVisitDay: c.lastVisitDay,
    daysSince,
    graceDays: policy.graceDays,
    overdueByDays: round1(daysSince - limit),
  };
}

/** Customers whose last visit day is before this cannot be overdue yet (the interval is at least one day). */
export function cadenceLastDayBefore(policy: AnomalyPolicy, today: string): string {
  return addDays(today, -(policy.graceDays + 1));
}

// ---- churn model ---------------------------------------------------------------------------

export const CHURN_MODELS = ['bgnbd', 'pareto_nbd'] as const;
export type ChurnModel = (typeof CHURN_MODELS)[number];

/** Fitting cost grows with distinct histories; parameters from an even sample this large are stable. */
export const MAX_CUSTOMERS_TO_FIT = 3000;
/** Options of a branch's fits: the optimiser's, and the Pareto/NBD terms' tolerance. */
export type NightlyFitOptions = MultiStartOptions & Pick<ParetoNbdFitOptions, 'termTolerance'>;

/**
 * Tolerances of the nightly fits: looser than the optimiser's defaults (which reproduce published
 * estimates to their printed digits), because what the night needs is each customer's P(alive) to
 * three decimals. On fuel-station histories, where neither model has an interior optimum and the
 * search crawls towards a boundary, the defaults cost 8,500 Pareto/NBD likelihood evaluations (71 s
 * for a 3,000-customer sample of a 240,000-customer branch); these cost about 950 (4.8 s) and move
 * no customer's P(alive) by more than 1e-4. (Also stopping a stalled search after 100 evaluations
 * gaining less than 0.05, with one restart, took 3.5 s but moved P(alive) by 1.3e-3 on simulated
 * histories.) Pareto/NBD's likelihood terms are summed to 11 digits instead of 15 while fitting: a
 * third fewer continued-fraction steps, the dominant cost, for a log-likelihood off by about 1e-9
 * of itself, far inside fAbsTol.
 */
export const NIGHTLY_FIT_OPTIONS: NightlyFitOptions = {
  fAbsTol: 1e-4,
  fRelTol: 1e-9,
  xTol: 1e-3,
  screenFAbsTol: 0.1,
  screenXTol: 0.05,
  maxRestarts: 2,
  stallEvaluations: 200,
  stallFTol: 0.01,
  termTolerance: 1e-11,
};
/** The expected-purchases horizon: the next 30 days, in weeks. */
export const HORIZON_WEEKS = 30 / 7;

export interface CadenceSpan {
  visitCount: number;
  firstVisitDay: string | null;
  lastVisitDay: string | null;
}

/** (x, t_x, T) in weeks from the cadence columns: repeat visit days, last − first, today − first. */
export function rfmOfCadence(c: CadenceSpan, today: string): RfmTriplet | null {
  if (c.visitCount < 1 || c.firstVisitDay === null || c.lastVisitDay === null) return null;
  const T = daysBetween(c.firstVisitDay, today);
  const tx = daysBetween(c.firstVisitDay, c.lastVisitDay);
  if (T <= 0 || tx < 0 || tx > T) return null;
  return { x: c.visitCount - 1, tx: tx / 7, T: T / 7 };
}

/** Every k-th row, so that at most `max` remain (a deterministic, even sample). */
export function evenSample<T>(rows: readonly T[], max: number): T[] {
  if (rows.length <= max) return [...rows];
  const step = rows.length / max;
  return Array.from({ length: max }, (_, i) => rows[Math.floor(i * step)]!);
}

export interface ModelFit {
  model: ChurnModel;
  params: BgnbdParams | ParetoNbdParams;
  logLikelihood: number;
  converged: boolean;
}

export interface BranchFit {
  fits: ModelFit[];
  /** The model with the better log-likelihood, the one customers are scored with. */
  chosen: ModelFit;
  /** Customers the parameters were fitted on (a sample of large branches). */
  fittedOn: number;
}

/** Fit BG/NBD and Pareto/NBD to a branch's histories and keep the better one (one that scores and converged before one that does not). */
export function fitBranch(
  triplets: readonly RfmTriplet[],
  options: NightlyFitOptions = NIGHTLY_FIT_OPTIONS,
): BranchFit {
  const sample = evenSample(triplets, MAX_CUSTOMERS_TO_FIT);
  const bg = fitBgnbd(sample, options);
  const pn = fitParetoNbd(sample, options);
  const fits: ModelFit[] = [
    { model: 'bgnbd', params: bg.params, logLikelihood: bg.logLikelihood, converged: bg.converged },
    { model: 'pareto_nbd', params: pn.params, logLikelihood: pn.logLikelihood, converged: pn.converged },
  ];
  // The better log-likelihood among fits that score the sample and converged, in that order: a fit that
  // ran off to a boundary (e.g. BG/NBD with a, b → ∞) can edge out the other by a hair yet give scores
  // that overflow for every customer.
  const probe = sample.slice(0, 50);
  const rank = (f: ModelFit) =>
    (probe.every((t) => isFiniteScore(scoreCustomer(f, t))) ? 2 : 0) + (f.converged ? 1 : 0);
  const best = Math.max(...fits.map(rank));
  const chosen = fits.filter((f) => rank(f) === best).reduce((a, b) => (b.logLikelihood > a.logLikelihood ? b : a));
  return { fits, chosen, fittedOn: sample.length };
}

export interface ChurnScore {
  pAlive: number;
  expected30d: number;
}

const isFiniteScore = (s: ChurnScore) => Number.isFinite(s.pAlive) && Number.isFinite(s.expected30d);

export function scoreCustomer(fit: ModelFit, t: RfmTriplet): ChurnScore {
  if (fit.model === 'bgnbd') {
    const p = fit.params as BgnbdParams;
    const pAlive = bgnbdPAlive(p, t.x, t.tx, t.T);
    try {
      return { pAlive, expected30d: bgnbdConditionalExpectedPurchases(p, HORIZON_WEEKS, t.x, t.tx, t.T) };
    } catch (err) {
      // A series past its term budget has no figure: the customer goes unscored (as a non-finite score
      // does) rather than the whole night failing.
      if (err instanceof SeriesNotConvergedError) return { pAlive, expected30d: NaN };
      throw err;
    }
  }
  const s = paretoNbdScore(fit.params as ParetoNbdParams, HORIZON_WEEKS, t.x, t.tx, t.T);
  return { pAlive: s.pAlive, expected30d: s.expected };
}

export interface ModelFinding {
  /** The lapse: his last visit day, as the cadence rule keys it. */
  episode: string;
  model: ChurnModel;
  pAlive: number;
  expected30d: number;
  threshold: number;
}

export type ModelFacts = CadenceSpan;

/** Whether the model rule judges this customer at all: a regular with history enough (the policy's minimums). */
export function modelJudges(policy: AnomalyPolicy, c: ModelFacts, today: string): boolean {
  return (
    c.visitCount >= policy.minVisits &&
    c.firstVisitDay !== null &&
    daysBetween(c.firstVisitDay, today) >= policy.modelMinHistoryDays
  );
}

/** A regular customer the model gives a low chance of still being active; the lapse is his last visit day. */
export function modelFinding(
  policy: AnomalyPolicy,
  c: ModelFacts,
  model: ChurnModel,
  score: ChurnScore,
  today: string,
): ModelFinding | null {
  if (!modelJudges(policy, c, today) || c.lastVisitDay === null || !(score.pAlive < policy.pAliveBelow)) return null;
  return {
    episode: c.lastVisitDay,
    model,
    pAlive: round3(score.pAlive),
    expected30d: round3(score.expected30d),
    threshold: policy.pAliveBelow,
  };
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
