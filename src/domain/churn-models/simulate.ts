// Seeded simulation of customer bases from known BG/NBD, Pareto/NBD or Gamma-Gamma parameters (for tests and demos).

import type { BgnbdParams } from './bgnbd.js';
import type { GammaGammaParams } from './gamma-gamma.js';
import type { ParetoNbdParams } from './pareto-nbd.js';
import type { RfmTriplet } from './rfm.js';

export type Rng = () => number;

/** sfc32 seeded through splitmix32: fast, 128-bit state, reproducible across platforms. */
export function createRng(seed: number): Rng {
  let s = seed >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  // Discard the first outputs: sfc32 mixes its state in a dozen rounds.
  for (let i = 0; i < 12; i++) next();
  // 53-bit uniform in (0, 1): zero excluded so that −ln U is finite.
  return () => {
    const hi = next() >>> 5;
    const lo = next() >>> 6;
    return (hi * 67108864 + lo + 0.5) / 9007199254740992;
  };
}

export function sampleNormal(rng: Rng): number {
  // Box–Muller; one of the pair is enough here.
  return Math.sqrt(-2 * Math.log(rng())) * Math.cos(2 * Math.PI * rng());
}

export function sampleExponential(rng: Rng, rate: number): number {
  return -Math.log(rng()) / rate;
}

/** Gamma(shape, rate) by Marsaglia & Tsang (2000), boosted for shape < 1. */
export function sampleGamma(rng: Rng, shape: number, rate: number): number {
  if (shape < 1) return sampleGamma(rng, shape + 1, rate) * Math.pow(rng(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return (d * v) / rate;
  }
}

export function sampleBeta(rng: Rng, a: number, b: number): number {
  const x = sampleGamma(rng, a, 1);
  const y = sampleGamma(rng, b, 1);
  return x / (x + y);
}

export interface SimulatedCustomer extends RfmTriplet {
  /** Repeat purchases in (T, T + holdout]. */
  xHoldout: number;
  /** Ground truth: still active at the end of calibration. */
  aliveAtT: boolean;
}

/**
 * One BG/NBD customer per entry of Ts (each observed from its first purchase at 0 to T) and
 * followed for `holdout` more periods. Drop-out can only happen right after a repeat purchase.
 */
export function simulateBgnbd(
  params: BgnbdParams,
  Ts: readonly number[],
  holdout: number,
  rng: Rng,
): SimulatedCustomer[] {
  return Ts.map((T) => {
    const lambda = sampleGamma(rng, params.r, params.alpha);
    const p = sampleBeta(rng, params.a, params.b);
    let x = 0;
    let tx = 0;
    let xHoldout = 0;
    let aliveAtT = true;
    let t = 0;
    for (;;) {
      t += sampleExponential(rng, lambda);
      if (t > T + holdout) break;
      if (t <= T) {
        x++;
        tx = t;
      } else {
        xHoldout++;
      }
      if (rng() < p) {
        if (t <= T) aliveAtT = false;
        break;
      }
    }
    return { x, tx, T, xHoldout, aliveAtT };
  });
}

/** One Pareto/NBD customer per entry of Ts, with an exponential lifetime starting at the first purchase. */
export function simulateParetoNbd(
  params: ParetoNbdParams,
  Ts: readonly number[],
  holdout: number,
  rng: Rng,
): SimulatedCustomer[] {
  return Ts.map((T) => {
    const lambda = sampleGamma(rng, params.r, params.alpha);
    const mu = sampleGamma(rng, params.s, params.beta);
    const lifetime = sampleExponential(rng, mu);
    const end = Math.min(lifetime, T + holdout);
    let x = 0;
    let tx = 0;
    let xHoldout = 0;
    let t = 0;
    for (;;) {
      t += sampleExponential(rng, lambda);
      if (t > end) break;
      if (t <= T) {
        x++;
        tx = t;
      } else {
        xHoldout++;
      }
    }
    return { x, tx, T, xHoldout, aliveAtT: lifetime > T };
  });
}

export interface SimulatedSpend {
  x: number;
  /** Mean value of the customer's x transactions. */
  mean: number;
  /** Ground truth: his expected value per transaction, p/ν. */
  expected: number;
}

/** One Gamma-Gamma customer per entry of xs: ν ~ Gamma(q, γ), then x transactions worth Gamma(p, ν) each. */
export function simulateGammaGamma(params: GammaGammaParams, xs: readonly number[], rng: Rng): SimulatedSpend[] {
  return xs.map((x) => {
    const nu = sampleGamma(rng, params.q, params.gamma);
    let sum = 0;
    for (let j = 0; j < x; j++) sum += sampleGamma(rng, params.p, nu);
    return { x, mean: sum / x, expected: params.p / nu };
  });
}
