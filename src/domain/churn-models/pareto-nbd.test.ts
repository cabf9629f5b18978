import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fitParetoNbd,
  paretoNbdConditionalExpectedTransactions,
  paretoNbdExpectedTransactions,
  paretoNbdLogLikelihood,
  paretoNbdPAlive,
  paretoNbdTotalLogLikelihood,
  type ParetoNbdParams,
} from './pareto-nbd.js';
import { createRng, simulateParetoNbd } from './simulate.js';
import { hyp2f1, hyp2f1UnitA, lgamma } from './special.js';

// 99.9% quantile of χ² with 4 degrees of freedom: bound for 2·(LL(θ̂) − LL(θ_true)).
const CHI2_4DF_999 = 18.467;

const params = fc.record({
  r: fc.double({ min: 0.01, max: 20, noNaN: true }),
  alpha: fc.double({ min: 0.05, max: 100, noNaN: true }),
  s: fc.double({ min: 0.01, max: 20, noNaN: true }),
  beta: fc.double({ min: 0.05, max: 100, noNaN: true }),
});
const history = fc
  .record({
    x: fc.integer({ min: 0, max: 200 }),
    T: fc.double({ min: 0.1, max: 200, noNaN: true }),
    share: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ x, T, share }) => ({ x, T, tx: x === 0 ? 0 : share * T }));

/** Composite Simpson's rule on [lo, hi] with n (even) intervals. */
function simpson(f: (u: number) => number, lo: number, hi: number, n = 4000): number {
  const h = (hi - lo) / n;
  let sum = f(lo) + f(hi);
  for (let i = 1; i < n; i++) sum += (i % 2 === 1 ? 4 : 2) * f(lo + i * h);
  return (sum * h) / 3;
}

/**
 * Reference likelihood straight from the model: alive at T, or dead at τ ∈ (t_x, T] —
 * L = Γ(r+x)α^rβ^s/Γ(r) · [ (α+T)^{−(r+x)}(β+T)^{−s} + s ∫_{t_x}^{T} (α+τ)^{−(r+x)}(β+τ)^{−(s+1)} dτ ].
 */
function referenceLogLikelihood(p: ParetoNbdParams, x: number, tx: number, T: number): number {
  const logFront = lgamma(p.r + x) - lgamma(p.r) + p.r * Math.log(p.alpha) + p.s * Math.log(p.beta);
  const logAlive = -(p.r + x) * Math.log(p.alpha + T) - p.s * Math.log(p.beta + T);
  // Integrand scaled by the alive term: (α+τ)^{−(r+x)} alone underflows to subnormals for x ≈ 150.
  const scaled = (u: number): number =>
    Math.exp(-(p.r + x) * Math.log(p.alpha + u) - (p.s + 1) * Math.log(p.beta + u) - logAlive);
  const dead = tx < T ? p.s * simpson(scaled, tx, T, 20_000) : 0;
  return logFront + logAlive + Math.log1p(dead);
}

describe('Pareto/NBD likelihood', () => {
  const cases = [
    { x: 0, tx: 0, T: 38 },
    { x: 2, tx: 11.3, T: 38 },
    { x: 9, tx: 30, T: 38 },
    { x: 150, tx: 37, T: 38 },
    { x: 4, tx: 38, T: 38 },
  ];

  it.each([
    ['α > β', { r: 0.553, alpha: 10.578, s: 0.606, beta: 3.1 }],
    ['α < β', { r: 0.553, alpha: 10.578, s: 0.606, beta: 41.7 }],
    ['α = β', { r: 1.7, alpha: 8, s: 2.2, beta: 8 }],
    ['α ≫ β', { r: 0.3, alpha: 90, s: 0.4, beta: 0.2 }],
  ] as const)('matches numerical integration of the model (%s)', (_label, p) => {
    for (const { x, tx, T } of cases) {
      expect(paretoNbdLogLikelihood(p, x, tx, T)).toBeCloseTo(referenceLogLikelihood(p, x, tx, T), 7);
    }
  });

  // Independent values: mpmath at 50 digits, closed form cross-checked against quad() of the integral.
  it.each([
    [
      'α ≫ β',
      { r: 0.3, alpha: 90, s: 0.4, beta: 0.2 },
      [-0.020964642677744183, -12.226717931807782, -129.57473537405858],
    ],
    [
      'CDNOW',
      { r: 0.553, alpha: 10.578, s: 0.606, beta: 11.669 },
      [-0.51815589778208689, -8.5119696811846489, 18.191745374543472],
    ],
    ['α < β', { r: 2.5, alpha: 3, s: 0.9, beta: 60 }, [-3.5904371945354233, -10.176873403679437, 48.347775592619505]],
    // 2F1 argument → 1 with a large b: ln(1 − z) must not be formed as log1p(−z).
    [
      'β ≪ α, large s',
      { r: 2, alpha: 500, s: 60, beta: 0.05 },
      [-3.3898187204205264e-6, -336.22535461787423, -729.62100778878677],
    ],
    [
      'α ≪ β',
      { r: 0.5, alpha: 0.02, s: 40, beta: 300 },
      [-2.4515002003567819, -10.652627663930104, 48.688730267505732],
    ],
  ] as const)('matches high-precision reference values (%s)', (_label, p, expected) => {
    const histories = [
      [0, 0, 38],
      [2, 11.3, 38],
      [150, 37, 38],
    ] as const;
    histories.forEach(([x, tx, T], i) => {
      const want = expected[i] ?? NaN;
      expect(Math.abs(paretoNbdLogLikelihood(p, x, tx, T) - want)).toBeLessThan(1e-11 * Math.max(1, Math.abs(want)));
    });
  });

  it('hyp2f1UnitA (continued fraction) agrees with the power series', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 200, noNaN: true }),
        fc.double({ min: 0.01, max: 200, noNaN: true }),
        fc.double({ min: 0, max: 0.95, noNaN: true }),
        (b, gap, z) => {
          const series = hyp2f1(1, b, b + gap, z);
          expect(Math.abs(hyp2f1UnitA(b, b + gap, z) / series - 1)).toBeLessThan(1e-12);
        },
      ),
    );
    // Near z = 1 the fraction needs a few hundred steps where the series needs ~10⁵ terms.
    const z = 0.99999;
    expect(hyp2f1UnitA(2, 3, z)).toBeCloseTo((-2 * (z + Math.log1p(-z))) / (z * z), 8);
  });

  it('is continuous across the α = β branch switch', () => {
    const at = (alpha: number): number => paretoNbdLogLikelihood({ r: 0.55, alpha, s: 0.6, beta: 11 }, 3, 20, 39);
    expect(at(11 * (1 + 1e-9))).toBeCloseTo(at(11), 8);
    expect(at(11 * (1 - 1e-9))).toBeCloseTo(at(11), 8);
  });

  it('is finite over a wide parameter range', () => {
    fc.assert(
      fc.property(params, history, (p, h) => {
        expect(Number.isFinite(paretoNbdLogLikelihood(p, h.x, h.tx, h.T))).toBe(true);
      }),
    );
  });
});

describe('Pareto/NBD P(alive) and expectations', () => {
  it('P(alive) is in [0, 1], 1 at t_x = T, and decreases as t_x moves away from T', () => {
    fc.assert(
      fc.property(params, history, fc.double({ min: 0, max: 1, noNaN: true }), (p, h, shrink) => {
        const pAlive = paretoNbdPAlive(p, h.x, h.tx, h.T);
        expect(pAlive).toBeGreaterThanOrEqual(0);
        expect(pAlive).toBeLessThanOrEqual(1);
        expect(paretoNbdPAlive(p, h.x, h.T, h.T)).toBe(1);
        expect(paretoNbdPAlive(p, h.x, h.tx * shrink, h.T)).toBeLessThanOrEqual(pAlive * (1 + 1e-12));
      }),
    );
  });

  it('P(alive) falls the longer a customer stays silent', () => {
    const p: ParetoNbdParams = { r: 0.553, alpha: 10.578, s: 0.606, beta: 11.669 };
    const values = [0, 5, 10, 20, 40].map((gap) => paretoNbdPAlive(p, 2, 10, 10 + gap));
    expect(values[0]).toBe(1);
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeLessThan(values[i - 1] ?? 0);
  });

  it('E[Y(t) | x, t_x, T] is ≥ 0, 0 at t = 0 and increasing in t', () => {
    fc.assert(
      fc.property(params, history, fc.double({ min: 0.01, max: 100, noNaN: true }), (p, h, t) => {
        expect(paretoNbdConditionalExpectedTransactions(p, 0, h.x, h.tx, h.T)).toBe(0);
        const e1 = paretoNbdConditionalExpectedTransactions(p, t, h.x, h.tx, h.T);
        const e2 = paretoNbdConditionalExpectedTransactions(p, 2 * t, h.x, h.tx, h.T);
        expect(e1).toBeGreaterThanOrEqual(0);
        expect(e2).toBeGreaterThanOrEqual(e1);
      }),
    );
  });

  it('E[Y(t) | …] agrees with BTYD pnbd.ConditionalExpectedTransactions and is continuous at s = 1', () => {
    const p: ParetoNbdParams = { r: 0.553, alpha: 10.578, s: 0.606, beta: 11.669 };
    const [t, x, tx, T] = [39, 3, 20, 38];
    const btyd =
      (((p.r + x) * (p.beta + T)) / ((p.alpha + T) * (p.s - 1))) *
      (1 - Math.pow((p.beta + T) / (p.beta + T + t), p.s - 1)) *
      paretoNbdPAlive(p, x, tx, T);
    expect(paretoNbdConditionalExpectedTransactions(p, t, x, tx, T)).toBeCloseTo(btyd, 10);
    const at = (s: number): number => paretoNbdConditionalExpectedTransactions({ ...p, s }, t, x, tx, T);
    expect(at(1)).toBeCloseTo(at(1 + 1e-8), 6);
    expect(at(1)).toBeCloseTo(at(1 - 1e-8), 6);
  });

  it('unconditional E[Y(t)] matches simulation', () => {
    const p: ParetoNbdParams = { r: 0.8, alpha: 5, s: 1.5, beta: 20 };
    const rng = createRng(7);
    const sim = simulateParetoNbd(p, new Array<number>(40_000).fill(26), 0, rng);
    const mean = sim.reduce((s, c) => s + c.x, 0) / sim.length;
    expect(Math.abs(mean / paretoNbdExpectedTransactions(p, 26) - 1)).toBeLessThan(0.03);
  });

  it('rejects impossible histories and parameters', () => {
    const p: ParetoNbdParams = { r: 1, alpha: 1, s: 1, beta: 1 };
    expect(() => paretoNbdPAlive(p, 1, 5, 4)).toThrow(RangeError);
    expect(() => paretoNbdLogLikelihood({ ...p, beta: -1 }, 1, 1, 4)).toThrow(RangeError);
    expect(() => paretoNbdConditionalExpectedTransactions(p, -1, 1, 1, 4)).toThrow(RangeError);
  });
});

describe('Pareto/NBD on simulated customers', () => {
  const truth: ParetoNbdParams = { r: 0.55, alpha: 10.5, s: 0.6, beta: 11.7 };
  const rng = createRng(19870101);
  // Cohort observed 52–104 weeks; 39-week holdout to check the forecasts.
  const Ts = Array.from({ length: 5000 }, () => 52 + Math.floor(rng() * 53));
  const customers = simulateParetoNbd(truth, Ts, 39, rng);

  it('recovers the generating parameters', { timeout: 30_000 }, () => {
    const fit = fitParetoNbd(customers);
    const llTruth = paretoNbdTotalLogLikelihood(truth, customers);
    expect(fit.converged).toBe(true);
    // The optimiser's fast objective and the reference formula agree at the optimum.
    expect(paretoNbdTotalLogLikelihood(fit.params, customers)).toBeCloseTo(fit.logLikelihood, 6);
    // A maximum-likelihood fit is at least as likely as the truth, and not implausibly more so.
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(llTruth);
    expect(2 * (fit.logLikelihood - llTruth)).toBeLessThan(CHI2_4DF_999);
    // s and β are nearly collinear (only s/β, the mean death rate, is sharply identified): wider bands.
    const rel = (fitted: number, actual: number): number => Math.abs(fitted / actual - 1);
    expect(rel(fit.params.r, truth.r)).toBeLessThan(0.15);
    expect(rel(fit.params.alpha, truth.alpha)).toBeLessThan(0.2);
    expect(rel(fit.params.s, truth.s)).toBeLessThan(0.35);
    expect(rel(fit.params.beta, truth.beta)).toBeLessThan(0.5);
    expect(rel(fit.params.r / fit.params.alpha, truth.r / truth.alpha)).toBeLessThan(0.1);
    expect(rel(fit.params.s / fit.params.beta, truth.s / truth.beta)).toBeLessThan(0.2);
  });

  it('P(alive) is calibrated against who is really alive', () => {
    const mean = customers.reduce((s, c) => s + paretoNbdPAlive(truth, c.x, c.tx, c.T), 0) / customers.length;
    const actual = customers.filter((c) => c.aliveAtT).length / customers.length;
    expect(Math.abs(mean - actual)).toBeLessThan(0.02);
  });

  it('conditional expectations forecast the holdout transactions', () => {
    const expected = customers.reduce(
      (s, c) => s + paretoNbdConditionalExpectedTransactions(truth, 39, c.x, c.tx, c.T),
      0,
    );
    const actual = customers.reduce((s, c) => s + c.xHoldout, 0);
    expect(Math.abs(expected / actual - 1)).toBeLessThan(0.1);
  });
});
