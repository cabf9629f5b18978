import { describe, expect, it } from 'vitest';
import {
  fitGammaGamma,
  gammaGammaExpectedSpend,
  gammaGammaLogLikelihood,
  gammaGammaPopulationMean,
  gammaGammaTotalLogLikelihood,
  type GammaGammaParams,
} from './gamma-gamma.js';
import { createRng, simulateGammaGamma } from './simulate.js';
import { lgamma } from './special.js';

// 99.9% quantile of χ² with 3 degrees of freedom: bound for 2·(LL(θ̂) − LL(θ_true)).
const CHI2_3DF_999 = 16.266;

/** Composite Simpson's rule on [lo, hi] with n (even) intervals. */
function simpson(f: (u: number) => number, lo: number, hi: number, n = 20_000): number {
  const h = (hi - lo) / n;
  let sum = f(lo) + f(hi);
  for (let i = 1; i < n; i++) sum += (i % 2 === 1 ? 4 : 2) * f(lo + i * h);
  return (sum * h) / 3;
}

describe('Gamma-Gamma closed forms', () => {
  const params: GammaGammaParams = { p: 3, q: 5, gamma: 40 };

  it('the density of m̄ integrates the Gamma(px, νx) density of a mean over ν ~ Gamma(q, γ)', () => {
    const x = 3;
    const mean = 25;
    const { p, q, gamma } = params;
    // m̄ | ν ~ Gamma(px, νx); ν ~ Gamma(q, γ) (rates).
    const logGammaPdf = (v: number, shape: number, rate: number) =>
      shape * Math.log(rate) - lgamma(shape) + (shape - 1) * Math.log(v) - rate * v;
    const integrand = (nu: number) =>
      nu <= 0 ? 0 : Math.exp(logGammaPdf(mean, p * x, nu * x) + logGammaPdf(nu, q, gamma));
    const numeric = simpson(integrand, 0, 2);
    expect(Math.exp(gammaGammaLogLikelihood(params, x, mean))).toBeCloseTo(numeric, 10);
  });

  it('integrates to one over m̄', () => {
    const density = (m: number) => (m <= 0 ? 0 : Math.exp(gammaGammaLogLikelihood(params, 2, m)));
    expect(simpson(density, 0, 2000, 200_000)).toBeCloseTo(1, 4);
  });

  it('the conditional expectation is the weighted mean of the own and the population mean', () => {
    const { p, q } = params;
    const population = gammaGammaPopulationMean(params);
    expect(population).toBeCloseTo((3 * 40) / 4, 12);
    for (const x of [1, 2, 10, 100]) {
      const w = (p * x) / (p * x + q - 1);
      expect(gammaGammaExpectedSpend(params, x, 50)).toBeCloseTo(w * 50 + (1 - w) * population, 10);
    }
    expect(gammaGammaExpectedSpend(params, 0, 0)).toBe(population);
    // With many transactions the own mean wins.
    expect(gammaGammaExpectedSpend(params, 10_000, 50)).toBeCloseTo(50, 1);
  });

  it('has no finite mean where q ≤ 1 and refuses impossible spend and parameters', () => {
    expect(gammaGammaPopulationMean({ p: 2, q: 0.8, gamma: 3 })).toBeNaN();
    expect(gammaGammaExpectedSpend({ p: 0.1, q: 0.5, gamma: 3 }, 1, 10)).toBeNaN();
    expect(gammaGammaExpectedSpend({ p: 2, q: 0.8, gamma: 3 }, 1, 10)).toBeGreaterThan(0);
    expect(() => gammaGammaLogLikelihood(params, 0, 10)).toThrow(RangeError);
    expect(() => gammaGammaLogLikelihood(params, 1.5, 10)).toThrow(RangeError);
    expect(() => gammaGammaLogLikelihood(params, 1, 0)).toThrow(RangeError);
    expect(() => gammaGammaLogLikelihood({ p: 0, q: 1, gamma: 1 }, 1, 1)).toThrow(RangeError);
    expect(() => fitGammaGamma([])).toThrow(RangeError);
  });
});

describe('Gamma-Gamma on simulated spend', () => {
  // Fuel-station-like: a fill-up of ¥300 on average, 1 to 40 fill-ups per customer.
  const truth: GammaGammaParams = { p: 6, q: 4, gamma: 150 };
  const rng = createRng(20_261);
  const xs = Array.from({ length: 6000 }, () => 1 + Math.floor(rng() * 40));
  const customers = simulateGammaGamma(truth, xs, rng);
  const fit = fitGammaGamma(customers);

  it('recovers the generating parameters', () => {
    expect(fit.converged).toBe(true);
    // Within the sampling error: a likelihood-ratio bound first.
    expect(2 * (fit.logLikelihood - gammaGammaTotalLogLikelihood(truth, customers))).toBeLessThan(CHI2_3DF_999);
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(gammaGammaTotalLogLikelihood(truth, customers));
    // Only means are observed, so p and γ trade against each other along a ridge (over nine seeds p was
    // off by −21% to +65%, γ the other way); q and the mean spend pγ/(q − 1) they imply are pinned down
    // (within 4% and 1.3% over those seeds).
    expect(Math.abs(fit.params.q / truth.q - 1)).toBeLessThan(0.06);
    expect(Math.abs(gammaGammaPopulationMean(fit.params) / gammaGammaPopulationMean(truth) - 1)).toBeLessThan(0.025);
    expect(fit.params.p / truth.p).toBeGreaterThan(0.5);
    expect(fit.params.p / truth.p).toBeLessThan(2);
  });

  it('predicts a customer’s spend better than his own mean when he has few purchases', () => {
    const few = customers.filter((c) => c.x <= 3);
    const rmse = (f: (c: (typeof few)[number]) => number) =>
      Math.sqrt(few.reduce((s, c) => s + (f(c) - c.expected) ** 2, 0) / few.length);
    const own = rmse((c) => c.mean);
    const model = rmse((c) => gammaGammaExpectedSpend(fit.params, c.x, c.mean));
    expect(model).toBeLessThan(0.85 * own);
  });

  it('gives the same optimum from user-supplied starting points', () => {
    const again = fitGammaGamma(customers, { starts: [{ p: 1, q: 10, gamma: 1000 }] });
    expect(again.logLikelihood).toBeCloseTo(fit.logLikelihood, 4);
    expect(again.params.p).toBeCloseTo(fit.params.p, 2);
  });
});
