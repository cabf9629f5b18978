// BG/NBD model (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way").
// Purchases follow Poisson(λ) with λ ~ Gamma(r, α); after each repeat purchase the customer
// drops out with probability p ~ Beta(a, b). Time unit: whatever t_x and T use (weeks in rfm.ts).

import { fitPositive, type MultiStartOptions } from './optimize.js';
import { aggregateTriplets, assertValidTriplet, type RfmTriplet, type WeightedRfmTriplet } from './rfm.js';
import { lgamma, logHypergeometricTail, logSumExp, type Hyp2f1Options } from './special.js';

export interface BgnbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

export interface BgnbdFit {
  params: BgnbdParams;
  logLikelihood: number;
  evaluations: number;
  /** False when the optimum sits on the boundary (a parameter drifting towards 0 or ∞): a degenerate fit. */
  converged: boolean;
}

function assertValidParams({ r, alpha, a, b }: BgnbdParams): void {
  if (![r, alpha, a, b].every((v) => Number.isFinite(v) && v > 0)) {
    throw new RangeError(`BG/NBD parameters must be positive and finite, got ${JSON.stringify({ r, alpha, a, b })}`);
  }
}

// Unchecked core shared by the public per-customer function and the fitting loop.
function logLikelihoodUnchecked({ r, alpha, a, b }: BgnbdParams, x: number, tx: number, T: number): number {
  const rx = r + x;
  const a1 = lgamma(rx) - lgamma(r) + r * Math.log(alpha);
  const a2 = lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x);
  const a3 = -rx * Math.log(alpha + T);
  // Drop-out just after the last purchase is only possible once a repeat purchase happened.
  const a4 = x > 0 ? Math.log(a) - Math.log(b + x - 1) - rx * Math.log(alpha + tx) : -Infinity;
  return a1 + a2 + logSumExp(a3, a4);
}

/** ln L(r, α, a, b | x, t_x, T) of one customer. */
export function bgnbdLogLikelihood(params: BgnbdParams, x: number, tx: number, T: number): number {
  assertValidParams(params);
  assertValidTriplet({ x, tx, T });
  return logLikelihoodUnchecked(params, x, tx, T);
}

/** Σ ln L over customers; an optional count weights a row (as produced by aggregateTriplets). */
export function bgnbdTotalLogLikelihood(
  params: BgnbdParams,
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

/**
 * −Σ ln L over log-parameters for the optimiser. Same formula as logLikelihoodUnchecked, with the
 * lgamma terms computed once per distinct x (23 values on CDNOW instead of ~1,000 rows).
 */
function makeNegativeLogLikelihood(rows: readonly WeightedRfmTriplet[]): (theta: readonly number[]) => number {
  const distinctX = [...new Set(rows.map((row) => row.x))];
  const xIndex = new Map(distinctX.map((x, i) => [x, i]));
  const rowX = Int32Array.from(rows, (row) => xIndex.get(row.x) ?? 0);
  const constPart = new Float64Array(distinctX.length);
  const dropPart = new Float64Array(distinctX.length);
  return (theta) => {
    // Beyond e^±30 the parameters are degenerate and lgamma/log lose all precision.
    if (theta.length !== 4 || theta.some((v) => !(Math.abs(v) <= 30))) return Infinity;
    const [r, alpha, a, b] = theta.map(Math.exp) as [number, number, number, number];
    const shared = -lgamma(r) + r * Math.log(alpha) + lgamma(a + b) - lgamma(b);
    distinctX.forEach((x, i) => {
      constPart[i] = shared + lgamma(r + x) + lgamma(b + x) - lgamma(a + b + x);
      dropPart[i] = x > 0 ? Math.log(a) - Math.log(b + x - 1) : -Infinity;
    });
    let total = 0;
    rows.forEach((row, k) => {
      const i = rowX[k] ?? 0;
      const rx = r + row.x;
      const alive = -rx * Math.log(alpha + row.T);
      const dropped = (dropPart[i] ?? NaN) - rx * Math.log(alpha + row.tx);
      total += row.count * ((constPart[i] ?? NaN) + logSumExp(alive, dropped));
    });
    return -total;
  };
}

export interface BgnbdFitOptions extends MultiStartOptions {
  /** Starting points; by default a handful spread over plausible magnitudes. */
  starts?: readonly BgnbdParams[];
}

function defaultStarts(data: readonly RfmTriplet[]): BgnbdParams[] {
  // Scale α so that the starting mean purchase rate r/α matches the pooled rate Σx / ΣT.
  let xSum = 0;
  let tSum = 0;
  for (const { x, T } of data) {
    xSum += x;
    tSum += T;
  }
  const rate = xSum > 0 && tSum > 0 ? xSum / tSum : 0.1;
  return [
    { r: 1, alpha: 1, a: 1, b: 1 },
    { r: 0.5, alpha: 0.5 / rate, a: 0.5, b: 2 },
    { r: 2, alpha: 2 / rate, a: 2, b: 5 },
    { r: 0.1, alpha: 0.1 / rate, a: 0.2, b: 0.5 },
  ];
}

/** Maximum-likelihood fit, optimising the log-parameters with multi-start Nelder–Mead. */
export function fitBgnbd(data: readonly (RfmTriplet & { count?: number })[], options: BgnbdFitOptions = {}): BgnbdFit {
  if (data.length === 0) throw new RangeError('fitBgnbd: no customers');
  for (const row of data) assertValidTriplet(row);
  const rows = aggregateTriplets(data);
  const starts = options.starts ?? defaultStarts(rows);
  starts.forEach(assertValidParams);
  return fitPositive<keyof BgnbdParams>(['r', 'alpha', 'a', 'b'], makeNegativeLogLikelihood(rows), starts, options);
}

/** P(customer still alive at T | x, t_x, T); 1 for x = 0 since drop-out only follows a repeat purchase. */
export function bgnbdPAlive(params: BgnbdParams, x: number, tx: number, T: number): number {
  assertValidParams(params);
  assertValidTriplet({ x, tx, T });
  if (x === 0) return 1;
  const { r, alpha, a, b } = params;
  const logOdds = Math.log(a) - Math.log(b + x - 1) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx));
  // 1 / (1 + e^logOdds), written to stay accurate for large |logOdds|.
  return logOdds > 0 ? Math.exp(-logOdds) / (1 + Math.exp(-logOdds)) : 1 / (1 + Math.exp(logOdds));
}

/**
 * E[X(t) | alive at T] = E over p ~ Beta(a, b+x) of [1 − (1 + p·u)^{−(r+x)}] / p with u = t/(α+T): an alive
 * customer's rate is Gamma(r+x, α+T) and his drop-out probability Beta(a, b+x) after x repeat purchases,
 * and (1 − e^{−λpt})/p purchases are expected of rate λ and drop-out p. In closed form (FHL 2005, eq. 10)
 * it is (c/q)·[1 − F] with F = 2F1(A, q; c; −u), A = r+x, q = a−1, c = a+b+x−1, evaluated through one of
 * the two Pfaff transformations to z = u/(1+u) ∈ [0, 1):
 *   F = (1−z)^q · 2F1(q, c−A; c; z)   (E, while q ≤ A)   and   F = (1−z)^A · 2F1(A, b+x; c; z)   (P, q > A).
 * The series' terms grow like (1−z)^{−m} before they fall, m the first parameter: the smaller one is taken,
 * and the tail is summed scaled (logHypergeometricTail) — for a = 300, b = 150,000 the E form's terms pass
 * 10^308 while (1−z)^q underflows, and their product was 0·∞ = NaN. Each bracket is split as
 * [1 − (1−z)^m] − (1−z)^m·[2F1 − 1], the first part by expm1, and form E's 1/q taken into its series, so
 * that a → 1 (q → 0, where the literal formula is 0/0) and x = 0 with a + b → 1 (c → 0) stay exact.
 */
function aliveExpectation(A: number, a: number, bx: number, u: number, options: Hyp2f1Options): number {
  const q = a - 1;
  const c = a + bx - 1;
  const z = u / (1 + u);
  // ln(1 − z) = −ln(1 + u), exact even where z rounds to 1.
  const log1mz = -Math.log1p(u);
  if (q <= A) {
    // c·[F(q, c−A; c; z) − 1]/q = Σ_{n≥1} (c−A)_n (q+1)_{n−1} / ((c+1)_{n−1} n!) zⁿ; c + n > 0 for n ≥ 1 as c > −1.
    const tail = logHypergeometricTail((c - A) * z, c - A, q, c, z, options);
    const powerTerm = Math.abs(q) < 1e-12 ? -log1mz : -Math.expm1(q * log1mz) / q;
    return c * powerTerm - tail.sign * Math.exp(q * log1mz + tail.log);
  }
  // q > A > 0, so c = q + b + x > 0: Σ_{n≥1} (A)_n (b+x)_n / ((c)_n n!) zⁿ = F(A, b+x; c; z) − 1.
  const tail = logHypergeometricTail(((A * bx) / c) * z, A, bx, c, z, options);
  return (c / q) * (-Math.expm1(A * log1mz) - tail.sign * Math.exp(A * log1mz + tail.log));
}

/**
 * E[X(t) | x, t_x, T]: expected purchases in the next t periods (FHL 2005, eq. 10). Throws
 * SeriesNotConvergedError rather than return a partial sum when the series needs more than
 * `options.maxTerms` terms (default 1,000,000).
 */
export function bgnbdConditionalExpectedPurchases(
  params: BgnbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
  options: Hyp2f1Options = {},
): number {
  assertValidParams(params);
  assertValidTriplet({ x, tx, T });
  if (!(t >= 0) || !Number.isFinite(t)) throw new RangeError(`t must be finite and ≥ 0, got ${t}`);
  if (t === 0) return 0;
  const { r, alpha, a, b } = params;
  const alive = aliveExpectation(r + x, a, b + x, t / (alpha + T), options);
  // FHL's denominator 1 + δ·(a/(b+x−1))·((α+T)/(α+t_x))^{r+x} is exactly 1 / P(alive).
  return alive * bgnbdPAlive(params, x, tx, T);
}

/** E[X(t)] for a customer just acquired (t periods after the first purchase). */
export function bgnbdExpectedPurchases(params: BgnbdParams, t: number): number {
  return bgnbdConditionalExpectedPurchases(params, t, 0, 0, 0);
}
