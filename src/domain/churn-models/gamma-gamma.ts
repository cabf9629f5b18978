// Gamma-Gamma model of spend per transaction (Colombo & Jiang 1999; Fader, Hardie & Lee 2005, "RFM and
// CLV: Using Iso-Value Curves for Customer Base Analysis"; Fader & Hardie 2013, "The Gamma-Gamma Model
// of Monetary Value"). A customer's transactions are worth zⱼ ~ Gamma(p, ν) each; across customers
// ν ~ Gamma(q, γ). What is observed of a customer is x transactions and their mean m̄; the model gives
// the expected value of his next transactions, a weighted mean of m̄ and the population's mean.
// It assumes spend independent of how often and how long a customer buys (BG/NBD and Pareto/NBD).

import { fitPositive, type MultiStartOptions } from './optimize.js';
import { lgamma } from './special.js';

export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
}

/** One customer's spend: x transactions (≥ 1) whose mean value is `mean` (> 0); `count` weights a row. */
export interface SpendObservation {
  x: number;
  mean: number;
  count?: number;
}

export interface GammaGammaFit {
  params: GammaGammaParams;
  logLikelihood: number;
  evaluations: number;
  /** False when the optimum sits on the boundary (e.g. q, γ → ∞ when every customer spends alike). */
  converged: boolean;
}

function assertValidParams({ p, q, gamma }: GammaGammaParams): void {
  if (![p, q, gamma].every((v) => Number.isFinite(v) && v > 0)) {
    throw new RangeError(`Gamma-Gamma parameters must be positive and finite, got ${JSON.stringify({ p, q, gamma })}`);
  }
}

/** Throws on a spend no customer could have shown (the likelihood would silently be nonsense). */
export function assertValidSpend({ x, mean }: SpendObservation): void {
  if (!Number.isInteger(x) || x < 1) throw new RangeError(`x must be a positive integer, got ${x}`);
  if (!(mean > 0) || !Number.isFinite(mean))
    throw new RangeError(`mean spend must be positive and finite, got ${mean}`);
}

/**
 * ln f(m̄ | p, q, γ, x), the density of the observed mean (Fader & Hardie 2013, eq. 1a):
 * Γ(px+q) / (Γ(px) Γ(q)) · γ^q m̄^{px−1} x^{px} / (γ + m̄x)^{px+q}.
 */
export function gammaGammaLogLikelihood(params: GammaGammaParams, x: number, mean: number): number {
  assertValidParams(params);
  assertValidSpend({ x, mean });
  const { p, q, gamma } = params;
  const px = p * x;
  return (
    lgamma(px + q) -
    lgamma(px) -
    lgamma(q) +
    q * Math.log(gamma) +
    (px - 1) * Math.log(mean) +
    px * Math.log(x) -
    (px + q) * Math.log(gamma + mean * x)
  );
}

/** Σ ln f over customers, each row weighted by its count (default 1). */
export function gammaGammaTotalLogLikelihood(params: GammaGammaParams, data: readonly SpendObservation[]): number {
  let total = 0;
  for (const row of data) total += (row.count ?? 1) * gammaGammaLogLikelihood(params, row.x, row.mean);
  return total;
}

/** −Σ ln f over log-parameters for the optimiser, the lgamma terms computed once per distinct x. */
function makeNegativeLogLikelihood(data: readonly SpendObservation[]): (theta: readonly number[]) => number {
  const distinctX = [...new Set(data.map((row) => row.x))];
  const xIndex = new Map(distinctX.map((x, i) => [x, i]));
  const rowX = Int32Array.from(data, (row) => xIndex.get(row.x) ?? 0);
  const xs = Float64Array.from(data, (row) => row.x);
  const means = Float64Array.from(data, (row) => row.mean);
  const weights = Float64Array.from(data, (row) => row.count ?? 1);
  const logMeans = means.map(Math.log);
  const logXs = xs.map(Math.log);
  const perX = new Float64Array(distinctX.length);
  return (theta) => {
    // Beyond e^±30 the parameters are degenerate and lgamma/log lose all precision.
    if (theta.length !== 3 || theta.some((v) => !(Math.abs(v) <= 30))) return Infinity;
    const [p, q, gamma] = theta.map(Math.exp) as [number, number, number];
    const shared = -lgamma(q) + q * Math.log(gamma);
    distinctX.forEach((x, i) => {
      perX[i] = shared + lgamma(p * x + q) - lgamma(p * x);
    });
    let total = 0;
    for (let k = 0; k < xs.length; k++) {
      const px = p * xs[k]!;
      const ll =
        perX[rowX[k]!]! + (px - 1) * logMeans[k]! + px * logXs[k]! - (px + q) * Math.log(gamma + means[k]! * xs[k]!);
      total += weights[k]! * ll;
    }
    return -total;
  };
}

export interface GammaGammaFitOptions extends MultiStartOptions {
  /** Starting points; by default a few spread over plausible shapes, scaled to the data's mean spend. */
  starts?: readonly GammaGammaParams[];
}

function defaultStarts(data: readonly SpendObservation[]): GammaGammaParams[] {
  // Scale γ so that the starting population mean pγ/(q − 1) is the data's mean spend.
  let sum = 0;
  let n = 0;
  for (const row of data) {
    sum += (row.count ?? 1) * row.mean;
    n += row.count ?? 1;
  }
  const mean = sum / n;
  return [
    { p: 1, q: 1, gamma: 1 },
    { p: 2, q: 3, gamma: mean },
    { p: 6, q: 4, gamma: mean / 2 },
    { p: 0.5, q: 2, gamma: 2 * mean },
  ];
}

/** Maximum-likelihood fit over customers with at least one transaction, by multi-start Nelder–Mead on ln p, ln q, ln γ. */
export function fitGammaGamma(data: readonly SpendObservation[], options: GammaGammaFitOptions = {}): GammaGammaFit {
  if (data.length === 0) throw new RangeError('fitGammaGamma: no customers');
  for (const row of data) assertValidSpend(row);
  const starts = options.starts ?? defaultStarts(data);
  starts.forEach(assertValidParams);
  return fitPositive<keyof GammaGammaParams>(['p', 'q', 'gamma'], makeNegativeLogLikelihood(data), starts, options);
}

/** E[Z] of a customer nobody has seen buy: pγ/(q − 1); infinite (NaN here) unless q > 1. */
export function gammaGammaPopulationMean(params: GammaGammaParams): number {
  assertValidParams(params);
  const { p, q, gamma } = params;
  return q > 1 ? (p * gamma) / (q - 1) : NaN;
}

/**
 * E[Z | x, m̄]: the expected value of the customer's next transactions (Fader & Hardie 2013, eq. 5),
 * (γ + m̄x)p / (px + q − 1) — the weight px/(px + q − 1) on his own mean grows with x. x = 0 gives the
 * population mean. NaN where the posterior mean is infinite (px + q ≤ 1).
 */
export function gammaGammaExpectedSpend(params: GammaGammaParams, x: number, mean: number): number {
  assertValidParams(params);
  if (x === 0) return gammaGammaPopulationMean(params);
  assertValidSpend({ x, mean });
  const { p, q, gamma } = params;
  const denominator = p * x + q - 1;
  return denominator > 0 ? ((gamma + mean * x) * p) / denominator : NaN;
}
