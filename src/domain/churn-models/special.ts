// Special functions for the customer-base models: log-gamma, Gauss's 2F1, log-space sums.

// Lanczos approximation with g = 7, n = 9 (Numerical Recipes / Godfrey): ~1e-15 relative accuracy.
const LANCZOS_G = 7;
const LANCZOS_COEFFICIENTS: readonly number[] = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** ln|Γ(x)|; +Infinity at the poles (0, −1, −2, …). */
export function lgamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x <= 0 && Number.isInteger(x)) return Infinity;
  if (x < 0.5) {
    // Reflection Γ(x)Γ(1−x) = π / sin(πx) keeps the Lanczos sum in its accurate range.
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  }
  const z = x - 1;
  let sum = 0;
  let k = 0;
  for (const c of LANCZOS_COEFFICIENTS) {
    sum += k === 0 ? c : c / (z + k);
    k++;
  }
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b). */
export function lbeta(a: number, b: number): number {
  return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/** A series that did not reach its accuracy within its term budget: the caller must not use a partial sum. */
export class SeriesNotConvergedError extends RangeError {
  constructor(
    readonly series: string,
    readonly terms: number,
  ) {
    super(`${series}: no convergence within ${terms} terms`);
    this.name = 'SeriesNotConvergedError';
  }
}

// 2^600: terms and sums are rescaled by this exact power of two before they could overflow.
const RESCALE = 2 ** 600;
const LOG_RESCALE = 600 * Math.LN2;

/**
 * ln|Σ_{n≥1} tₙ| and its sign, for t₁ = first and t_{n+1} = tₙ · (u+n)(v+n) / ((w+n)(n+1)) · z with
 * 0 ≤ z < 1: the tail of a 2F1-type series, kept scaled by powers of two so that terms far beyond
 * the double range (for a large u or v and z near 1 they grow like (1−z)^−min(u,v) before they
 * fall) neither overflow nor turn a product with a tiny prefactor into 0·∞. w + n > 0 for n ≥ 1
 * is the caller's to ensure. Throws SeriesNotConvergedError when maxTerms terms do not reach a
 * relative accuracy of `tolerance`.
 */
export function logHypergeometricTail(
  first: number,
  u: number,
  v: number,
  w: number,
  z: number,
  options: Hyp2f1Options = {},
): { log: number; sign: number } {
  const tolerance = options.tolerance ?? 1e-15;
  const maxTerms = options.maxTerms ?? 1_000_000;
  if (![first, u, v, w, z].every(Number.isFinite) || !(z >= 0 && z < 1)) {
    throw new RangeError(`logHypergeometricTail: need finite arguments and 0 ≤ z < 1, got z=${z}`);
  }
  let term = first;
  let sum = first;
  let scale = 0;
  for (let n = 1; term !== 0; n++) {
    if (n > maxTerms) throw new SeriesNotConvergedError('hypergeometric series', maxTerms);
    term *= (((u + n) * (v + n)) / ((w + n) * (n + 1))) * z;
    sum += term;
    if (Math.abs(term) > RESCALE || Math.abs(sum) > RESCALE) {
      term /= RESCALE;
      sum /= RESCALE;
      scale += LOG_RESCALE;
    }
    // The term ratio tends monotonically to z: once below 1, the tail is below |term|·ρ/(1−ρ).
    const rho = Math.max(Math.abs(((u + n + 1) * (v + n + 1)) / ((w + n + 1) * (n + 2))) * z, z);
    if (rho < 1 && (Math.abs(term) * rho) / (1 - rho) <= tolerance * Math.abs(sum)) break;
  }
  if (sum === 0) return { log: -Infinity, sign: 0 };
  return { log: Math.log(Math.abs(sum)) + scale, sign: Math.sign(sum) };
}

export interface Hyp2f1Options {
  /** Relative accuracy asked of the truncated series. */
  tolerance?: number;
  /** Convergence guard: give up (NaN) after this many terms. */
  maxTerms?: number;
}

/**
 * Gauss hypergeometric 2F1(a, b; c; z) by its power series, for |z| < 1.
 * Returns NaN when |z| ≥ 1, when c is a non-positive integer, or when the series has not
 * converged within maxTerms (so an optimiser can treat the point as infeasible).
 */
export function hyp2f1(a: number, b: number, c: number, z: number, options: Hyp2f1Options = {}): number {
  const tolerance = options.tolerance ?? 1e-15;
  const maxTerms = options.maxTerms ?? 100_000;
  if (![a, b, c, z].every(Number.isFinite)) return NaN;
  if (c <= 0 && Number.isInteger(c)) return NaN;
  if (z === 0) return 1;
  const absZ = Math.abs(z);
  if (absZ >= 1) return NaN;

  let term = 1;
  let sum = 1;
  for (let n = 0; n < maxTerms; n++) {
    const ratio = ((a + n) * (b + n)) / ((c + n) * (n + 1));
    term *= ratio * z;
    sum += term;
    // A negative-integer a or b makes the series a polynomial.
    if (term === 0) return sum;
    if (!Number.isFinite(sum)) return NaN;
    // The term ratio tends monotonically to |z|, so the tail is below |term|·ρ/(1−ρ) with ρ the larger of the two.
    const rho = Math.max(Math.abs(((a + n + 1) * (b + n + 1)) / ((c + n + 1) * (n + 2))) * absZ, absZ);
    if (rho < 1 && (Math.abs(term) * rho) / (1 - rho) <= tolerance * Math.abs(sum)) return sum;
  }
  return NaN;
}

/**
 * 2F1(1, b; c; z) for z < 1 by Gauss's continued fraction (the ratio 2F1(b, 1; c; z) / 2F1(b, 0; c − 1; z)),
 * evaluated with the modified Lentz method. It needs O(1/√(1−z)) steps where the power series needs
 * O(1/(1−z)), which matters when z → 1. Partial numerators are positive for b > 0 and c > 1
 * (then every step is well conditioned); returns NaN if maxTerms steps do not suffice.
 */
export function hyp2f1UnitA(b: number, c: number, z: number, options: Hyp2f1Options = {}): number {
  const tolerance = options.tolerance ?? 1e-15;
  const maxTerms = options.maxTerms ?? 100_000;
  if (![b, c, z].every(Number.isFinite) || z >= 1) return NaN;
  if (c <= 0 && Number.isInteger(c)) return NaN;
  if (z === 0) return 1;
  const TINY = 1e-300;
  // f = 1 / (1 − k₁z / (1 − k₂z / (1 − …))); Lentz on b₀ = 0, a₁ = 1, then aⱼ₊₁ = −kⱼz, bⱼ = 1.
  const c1 = c - 1;
  let f = TINY;
  let cLentz = f;
  let d = 0;
  for (let j = 1; j <= maxTerms; j++) {
    let a: number;
    if (j === 1) a = 1;
    else {
      const k = j - 1;
      const n = Math.floor(k / 2);
      const coefficient =
        k % 2 === 1
          ? ((b + n) * (c1 + n)) / ((c1 + 2 * n) * (c1 + 2 * n + 1))
          : (n * (c1 - b + n)) / ((c1 + 2 * n - 1) * (c1 + 2 * n));
      a = -coefficient * z;
    }
    d = 1 + a * d;
    if (d === 0) d = TINY;
    cLentz = 1 + a / cLentz;
    if (cLentz === 0) cLentz = TINY;
    d = 1 / d;
    const delta = cLentz * d;
    f *= delta;
    if (!Number.isFinite(f)) return NaN;
    if (Math.abs(delta - 1) <= tolerance) return f;
  }
  return NaN;
}

/** ln(e^a + e^b) without overflow. */
export function logSumExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  if (m === Infinity) return Infinity;
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** ln Σ e^{xᵢ}; −Infinity for an empty list. */
export function logSumExpArray(xs: readonly number[]): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  if (m === -Infinity || m === Infinity || Number.isNaN(m)) return xs.some(Number.isNaN) ? NaN : m;
  let sum = 0;
  for (const x of xs) sum += Math.exp(x - m);
  return m + Math.log(sum);
}

/** ln(e^a − e^b) for a ≥ b; −Infinity when a = b, NaN when a < b. */
export function logDiffExp(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (a < b) return NaN;
  if (a === b) return -Infinity;
  return a + Math.log(-Math.expm1(b - a));
}
