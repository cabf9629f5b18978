// Pareto/NBD model (Schmittlein, Morrison & Colombo 1987). Purchases follow Poisson(λ) with
// λ ~ Gamma(r, α); the lifetime is Exponential(μ) with μ ~ Gamma(s, β). Likelihood in the
// 2F1 form of Fader & Hardie, "A Note on Deriving the Pareto/NBD Model and Related Expressions"
// (as in BTYD's pnbd.LL), evaluated in log space.

import { fitPositive, type MultiStartOptions } from './optimize.js';
import { aggregateTriplets, assertValidTriplet, type RfmTriplet, type WeightedRfmTriplet } from './rfm.js';
import { hyp2f1UnitA, lgamma, logDiffExp, logSumExp } from './special.js';

export interface ParetoNbdParams {
  r: number;
  alpha: number;
  s: number;
  beta: number;
}

export interface ParetoNbdFit {
  params: ParetoNbdParams;
  logLikelihood: number;
  evaluations: number;
  /** False when the optimum sits on the boundary (a parameter drifting towards 0 or ∞): a degenerate fit. */
  converged: boolean;
}

function assertValidParams({ r, alpha, s, beta }: ParetoNbdParams): void {
  if (![r, alpha, s, beta].every((v) => Number.isFinite(v) && v > 0)) {
    throw new RangeError(
      `Pareto/NBD parameters must be positive and finite, got ${JSON.stringify({ r, alpha, s, beta })}`,
    );
  }
}

/**
 * ln[2F1(a, b; a + 1; z) / (m + t)^a] with z = d/(m + t), d = |α − β|, m = max(α, β), μ = min(α, β).
 * Euler's transformation gives (1−z)^{1−b} 2F1(1, a+1−b; a+1; z): a + 1 − b > 0, so Gauss's continued
 * fraction applies with positive coefficients, and it stays fast as z → 1 (μ ≪ m), where the power
 * series needs thousands of terms. ln(1−z) is taken as ln(μ+t) − ln(m+t): 1 − z itself would lose
 * all its digits there and, multiplied by a large b, wreck the likelihood.
 */
function logScaledHyp2f1(
  a: number,
  b: number,
  d: number,
  m: number,
  mu: number,
  t: number,
  maxTerms?: number,
  tolerance?: number,
): number {
  const logMT = Math.log(m + t);
  const log1mz = Math.log(mu + t) - logMT;
  return (1 - b) * log1mz + Math.log(hyp2f1UnitA(a + 1 - b, a + 1, d / (m + t), { maxTerms, tolerance })) - a * logMT;
}

/**
 * Continued-fraction steps one likelihood term may take while fitting. Far out towards a degenerate
 * boundary (β/α in the millions) a term needs tens of thousands of steps, for thousands of terms per
 * evaluation; such points are treated as infeasible (NaN → +∞) instead, which keeps a branch's fit
 * within seconds. Scoring a customer keeps the full budget.
 */
export const FIT_MAX_TERMS = 2_000;

/**
 * ln A₀, where s/(r+s+x)·A₀ = s ∫_{t_x}^{T} dτ / ((α+τ)^{r+x} (β+τ)^{s+1}) is the likelihood share
 * of histories where the customer dies between t_x and T. The 2F1 argument |α−β|/(max(α,β)+t) < 1
 * in both branches (α ≥ β: b = s+1, α < β: b = r+x).
 */
function logA0({ r, alpha, s, beta }: ParetoNbdParams, x: number, tx: number, T: number): number {
  const rsx = r + s + x;
  const alphaIsMax = alpha >= beta;
  const b = alphaIsMax ? s + 1 : r + x;
  const [m, mu] = alphaIsMax ? [alpha, beta] : [beta, alpha];
  const d = m - mu;
  const atTx = logScaledHyp2f1(rsx, b, d, m, mu, tx);
  const atT = logScaledHyp2f1(rsx, b, d, m, mu, T);
  // The integral is ≥ 0; at t_x ≈ T rounding can flip the sign of the difference.
  if (!(atTx > atT)) return Number.isNaN(atTx) || Number.isNaN(atT) ? NaN : -Infinity;
  return logDiffExp(atTx, atT);
}

// Unchecked core shared by the public per-customer function and the fitting loop.
function logLikelihoodUnchecked(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, s, beta } = params;
  const part1 = lgamma(r + x) - lgamma(r) + r * Math.log(alpha) + s * Math.log(beta);
  // Still alive at T.
  const part2 = -(r + x) * Math.log(alpha + T) - s * Math.log(beta + T);
  // Died in (t_x, T].
  const part3 = Math.log(s) - Math.log(r + s + x) + logA0(params, x, tx, T);
  return part1 + logSumExp(part2, part3);
}

/** ln L(r, α, s, β | x, t_x, T) of one customer. */
export function paretoNbdLogLikelihood(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  assertValidParams(params);
  assertValidTriplet({ x, tx, T });
  return logLikelihoodUnchecked(params, x, tx, T);
}

/** Σ ln L over customers; an optional count weights a row (as produced by aggregateTriplets). */
export function paretoNbdTotalLogLikelihood(
  params: ParetoNbdParams,
  data: readonly (RfmTriplet & { count?: number })[],
): number {
  assertValidParams(params);
  let total = 0;
  for (const row of data) {
    assertValidTriplet(row);
    total += (row.count ?? 1) * logLikelihoodUnchecked(params, row.x, row.tx, row.T);
  }
  return total;
}

/** Indexes rows by the distinct values of a key, so per-key terms are computed once per evaluation. */
function indexBy<K>(rows: readonly WeightedRfmTriplet[], key: (row: WeightedRfmTriplet) => K) {
  const index = new Map<K, number>();
  const firsts: WeightedRfmTriplet[] = [];
  const rowIndex = Int32Array.from(rows, (row) => {
    const k = key(row);
    let i = index.get(k);
    if (i === undefined) {
      i = firsts.length;
      index.set(k, i);
      firsts.push(row);
    }
    return i;
  });
  return { firsts, rowIndex };
}

/**
 * −Σ ln L over log-parameters for the optimiser. Same formula as logLikelihoodUnchecked, with
 * lgamma cached per distinct x and the two 2F1 terms per distinct (x, T) and (x, t_x): on CDNOW
 * ~1,050 hypergeometric evaluations per likelihood instead of ~2,030.
 */
function makeNegativeLogLikelihood(
  rows: readonly WeightedRfmTriplet[],
  termTolerance?: number,
): (theta: readonly number[]) => number {
  const byX = indexBy(rows, (row) => row.x);
  const byXT = indexBy(rows, (row) => `${row.x}|${row.T}`);
  const byXTx = indexBy(rows, (row) => `${row.x}|${row.tx}`);
  const lgammaPart = new Float64Array(byX.firsts.length);
  const deadWeight = new Float64Array(byX.firsts.length);
  const atT = new Float64Array(byXT.firsts.length);
  const alivePart = new Float64Array(byXT.firsts.length);
  const atTx = new Float64Array(byXTx.firsts.length);
  return (theta) => {
    // Beyond e^±30 the parameters are degenerate and lgamma/log lose all precision.
    if (theta.length !== 4 || theta.some((v) => !(Math.abs(v) <= 30))) return Infinity;
    const [r, alpha, s, beta] = theta.map(Math.exp) as [number, number, number, number];
    const alphaIsMax = alpha >= beta;
    const [m, mu] = alphaIsMax ? [alpha, beta] : [beta, alpha];
    const d = m - mu;
    const logTerm = (x: number, t: number): number =>
      logScaledHyp2f1(r + s + x, alphaIsMax ? s + 1 : r + x, d, m, mu, t, FIT_MAX_TERMS, termTolerance);
    const shared = -lgamma(r) + r * Math.log(alpha) + s * Math.log(beta);
    byX.firsts.forEach(({ x }, i) => {
      lgammaPart[i] = shared + lgamma(r + x);
      deadWeight[i] = Math.log(s) - Math.log(r + s + x);
    });
    byXT.firsts.forEach(({ x, T }, i) => {
      atT[i] = logTerm(x, T);
      alivePart[i] = -(r + x) * Math.log(alpha + T) - s * Math.log(beta + T);
    });
    byXTx.firsts.forEach(({ x, tx }, i) => {
      atTx[i] = logTerm(x, tx);
    });
    let total = 0;
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k] as WeightedRfmTriplet;
      const iX = byX.rowIndex[k] ?? 0;
      const iT = byXT.rowIndex[k] ?? 0;
      const upper = atTx[byXTx.rowIndex[k] ?? 0] ?? NaN;
      const lower = atT[iT] ?? NaN;
      if (Number.isNaN(upper) || Number.isNaN(lower)) return Infinity;
      // The integral is ≥ 0; at t_x ≈ T rounding can flip the sign of the difference.
      const logA0 = upper > lower ? logDiffExp(upper, lower) : -Infinity;
      const dead = (deadWeight[iX] ?? NaN) + logA0;
      total += row.count * ((lgammaPart[iX] ?? NaN) + logSumExp(alivePart[iT] ?? NaN, dead));
    }
    return -total;
  };
}

export interface ParetoNbdFitOptions extends MultiStartOptions {
  /** Starting points; by default a handful spread over plausible magnitudes. */
  starts?: readonly ParetoNbdParams[];
  /**
   * Relative tolerance of each likelihood term's continued fraction while fitting (default 1e-15).
   * Each factor of 10 costs about 1/15 of the steps, and an optimiser stopping at an absolute
   * log-likelihood tolerance needs nowhere near 15 digits of each term.
   */
  termTolerance?: number;
}

function defaultStarts(data: readonly RfmTriplet[]): ParetoNbdParams[] {
  // Scale α (β) so that the starting purchase rate r/α (death rate s/β) is of the data's order.
  let xSum = 0;
  let tSum = 0;
  for (const { x, T } of data) {
    xSum += x;
    tSum += T;
  }
  const meanT = data.length > 0 ? tSum / data.length : 1;
  const rate = xSum > 0 && tSum > 0 ? xSum / tSum : 0.1;
  return [
    { r: 1, alpha: 1, s: 1, beta: 1 },
    { r: 0.5, alpha: 0.5 / rate, s: 0.5, beta: 0.5 * meanT },
    { r: 2, alpha: 2 / rate, s: 2, beta: 2 * meanT },
    { r: 0.1, alpha: 0.1 / rate, s: 0.2, beta: 0.2 * meanT },
  ];
}

/** Maximum-likelihood fit, optimising the log-parameters with multi-start Nelder–Mead. */
export function fitParetoNbd(
  data: readonly (RfmTriplet & { count?: number })[],
  options: ParetoNbdFitOptions = {},
): ParetoNbdFit {
  if (data.length === 0) throw new RangeError('fitParetoNbd: no customers');
  for (const row of data) assertValidTriplet(row);
  const rows = aggregateTriplets(data);
  const starts = options.starts ?? defaultStarts(rows);
  starts.forEach(assertValidParams);
  return fitPositive<keyof ParetoNbdParams>(
    ['r', 'alpha', 's', 'beta'],
    makeNegativeLogLikelihood(rows, options.termTolerance),
    starts,
    options,
  );
}

/** P(customer still alive at T | x, t_x, T). */
export function paretoNbdPAlive(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  assertValidParams(params);
  assertValidTriplet({ x, tx, T });
  const { r, alpha, s, beta } = params;
  // P(alive) = 1 / (1 + (s/(r+s+x)) (α+T)^{r+x} (β+T)^s A₀): the dead-share over the alive-share.
  const logOdds =
    Math.log(s) -
    Math.log(r + s + x) +
    (r + x) * Math.log(alpha + T) +
    s * Math.log(beta + T) +
    logA0(params, x, tx, T);
  if (logOdds === -Infinity) return 1;
  return logOdds > 0 ? Math.exp(-logOdds) / (1 + Math.exp(-logOdds)) : 1 / (1 + Math.exp(logOdds));
}

/** [1 − (k)^{−(s−1)}] / (s − 1) with k = 1 + t/(β+T); tends to ln k as s → 1. */
function survivalIntegral(s: number, logK: number): number {
  const q = s - 1;
  return Math.abs(q) < 1e-12 ? logK : -Math.expm1(-q * logK) / q;
}

/** E[Y(t) | x, t_x, T]: expected transactions in the next t periods (Schmittlein et al. 1987; BTYD). */
export function paretoNbdConditionalExpectedTransactions(
  params: ParetoNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  return paretoNbdScore(params, t, x, tx, T).expected;
}

/**
 * P(alive) and E[Y(t) | x, t_x, T] together: the expectation is P(alive) times the expectation of a
 * customer known to be alive, so the costly part (two hypergeometric functions) is computed once.
 */
export function paretoNbdScore(
  params: ParetoNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): { pAlive: number; expected: number } {
  if (!(t >= 0) || !Number.isFinite(t)) throw new RangeError(`t must be finite and ≥ 0, got ${t}`);
  const pAlive = paretoNbdPAlive(params, x, tx, T);
  const { r, alpha, s, beta } = params;
  const logK = Math.log1p(t / (beta + T));
  return { pAlive, expected: (((r + x) * (beta + T)) / (alpha + T)) * survivalIntegral(s, logK) * pAlive };
}

/** E[Y(t)] for a customer just acquired: rβ/(α(s−1)) [1 − (β/(β+t))^{s−1}]. */
export function paretoNbdExpectedTransactions(params: ParetoNbdParams, t: number): number {
  assertValidParams(params);
  if (!(t >= 0) || !Number.isFinite(t)) throw new RangeError(`t must be finite and ≥ 0, got ${t}`);
  const { r, alpha, s, beta } = params;
  return ((r * beta) / alpha) * survivalIntegral(s, Math.log1p(t / beta));
}
