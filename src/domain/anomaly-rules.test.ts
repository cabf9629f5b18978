import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICIES, type AnomalyPolicy } from './policies.js';
import {
  addDays,
  addMonths,
  cadenceFinding,
  cadenceLastDayBefore,
  evenSample,
  fitBranch,
  modelFinding,
  modelJudges,
  purchaseResolves,
  rfmOfCadence,
  scoreCustomer,
} from './anomaly-rules.js';
import { createRng, simulateParetoNbd } from './churn-models/simulate.js';

const policy: AnomalyPolicy = {
  ...DEFAULT_POLICIES.anomaly,
  graceDays: 3,
  minVisits: 4,
  pAliveBelow: 0.3,
  modelMinHistoryDays: 56,
};

describe('day and month arithmetic', () => {
  it('crosses month and year ends', () => {
    expect(addDays('2026-11-30', 1)).toBe('2026-12-01');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addMonths('2026-01', -1)).toBe('2025-12');
    expect(addMonths('2026-11', 2)).toBe('2027-01');
    expect(addMonths('2026-03', -15)).toBe('2024-12');
  });
});

describe('cadence rule', () => {
  const regular = { visitCount: 10, usualIntervalDays: 2, lastVisitDay: '2026-11-20' };
  it('flags a customer only once he is more than interval + grace days away', () => {
    // Every 2 days, grace 3: 5 days away is still fine, 6 is overdue.
    expect(cadenceFinding(policy, regular, '2026-11-24')).toBeNull(); // 4 days: 2 past the interval
    expect(cadenceFinding(policy, regular, '2026-11-25')).toBeNull(); // 5 days: exactly interval + grace
    expect(cadenceFinding(policy, regular, '2026-11-26')).toEqual({
      episode: '2026-11-20',
      usualIntervalDays: 2,
      lastVisitDay: '2026-11-20',
      daysSince: 6,
      graceDays: 3,
      overdueByDays: 1,
    });
  });
  it('compares against a fractional interval', () => {
    const c = { ...regular, usualIntervalDays: 2.1 };
    expect(cadenceFinding(policy, c, '2026-11-25')).toBeNull();
    expect(cadenceFinding(policy, c, '2026-11-26')?.overdueByDays).toBe(0.9);
  });
  it('ignores customers without enough visits or without an interval', () => {
    expect(cadenceFinding(policy, { ...regular, visitCount: 3 }, '2026-12-20')).toBeNull();
    expect(cadenceFinding(policy, { ...regular, usualIntervalDays: null }, '2026-12-20')).toBeNull();
    expect(cadenceFinding(policy, { ...regular, lastVisitDay: null }, '2026-12-20')).toBeNull();
  });
  it('keys the episode by the last visit day, so a new visit opens a new one', () => {
    expect(cadenceFinding(policy, regular, '2026-12-20')?.episode).toBe('2026-11-20');
    expect(cadenceFinding(policy, { ...regular, lastVisitDay: '2026-12-01' }, '2026-12-20')?.episode).toBe(
      '2026-12-01',
    );
  });
  it('pre-filters on a day no overdue customer can be after', () => {
    expect(cadenceLastDayBefore(policy, '2026-11-26')).toBe('2026-11-22');
    expect(
      cadenceFinding(policy, { ...regular, usualIntervalDays: 1, lastVisitDay: '2026-11-21' }, '2026-11-26'),
    ).not.toBeNull();
    expect(
      cadenceFinding(policy, { ...regular, usualIntervalDays: 1, lastVisitDay: '2026-11-22' }, '2026-11-26'),
    ).toBeNull();
  });
});

describe('alert lifecycle', () => {
  it('ends an absence with any purchase after its last visit day, never a decline', () => {
    expect(purchaseResolves({ kind: 'cadence', lapse: '2026-11-20' }, '2026-11-21')).toBe(true);
    expect(purchaseResolves({ kind: 'model', lapse: '2026-11-20' }, '2026-12-01')).toBe(true);
    expect(purchaseResolves({ kind: 'cadence', lapse: '2026-11-20' }, '2026-11-20')).toBe(false);
    expect(purchaseResolves({ kind: 'decline', lapse: '2026-10' }, '2026-11-21')).toBe(false);
  });
});

describe('churn model rule', () => {
  it('builds (x, t_x, T) in weeks from the cadence columns', () => {
    expect(
      rfmOfCadence({ visitCount: 5, firstVisitDay: '2026-10-01', lastVisitDay: '2026-10-29' }, '2026-11-26'),
    ).toEqual({ x: 4, tx: 4, T: 8 });
    expect(
      rfmOfCadence({ visitCount: 1, firstVisitDay: '2026-11-19', lastVisitDay: '2026-11-19' }, '2026-11-26'),
    ).toEqual({ x: 0, tx: 0, T: 1 });
    expect(rfmOfCadence({ visitCount: 0, firstVisitDay: null, lastVisitDay: null }, '2026-11-26')).toBeNull();
    // First seen today: nothing observed yet.
    expect(
      rfmOfCadence({ visitCount: 1, firstVisitDay: '2026-11-26', lastVisitDay: '2026-11-26' }, '2026-11-26'),
    ).toBeNull();
  });

  it('samples evenly', () => {
    expect(evenSample([1, 2, 3], 5)).toEqual([1, 2, 3]);
    expect(evenSample([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 5)).toEqual([0, 2, 4, 6, 8]);
  });

  it('scores simulated dropouts below the customers still active', () => {
    const rng = createRng(7);
    // Weekly-ish buyers observed for 20–40 weeks, a third of whom leave within the period.
    const Ts = Array.from({ length: 300 }, () => Math.round((20 + rng() * 20) * 7) / 7);
    const sim = simulateParetoNbd({ r: 3, alpha: 2, s: 0.8, beta: 25 }, Ts, 0, rng).map((c) => ({
      ...c,
      tx: Math.min(Math.round(c.tx * 7) / 7, c.T),
    }));
    const fit = fitBranch(sim);
    expect(fit.fits.map((f) => f.model)).toEqual(['bgnbd', 'pareto_nbd']);
    expect(fit.chosen.logLikelihood).toBe(Math.max(...fit.fits.map((f) => f.logLikelihood)));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const dead = sim.filter((c) => !c.aliveAtT && c.x >= 3).map((c) => scoreCustomer(fit.chosen, c).pAlive);
    const alive = sim.filter((c) => c.aliveAtT && c.x >= 3).map((c) => scoreCustomer(fit.chosen, c).pAlive);
    expect(dead.length).toBeGreaterThan(20);
    expect(mean(dead)).toBeLessThan(0.5);
    expect(mean(alive)).toBeGreaterThan(0.8);
    expect(scoreCustomer(fit.chosen, sim[0]!).expected30d).toBeGreaterThanOrEqual(0);
  });

  it('fits with the nightly tolerances to the scores a tight fit gives', () => {
    const rng = createRng(11);
    const Ts = Array.from({ length: 1500 }, () => Math.round((30 + rng() * 70) * 7) / 7);
    // Frequent buyers who rarely leave: the kind of history that has no interior optimum.
    const sim = simulateParetoNbd({ r: 1, alpha: 5, s: 0.3, beta: 400 }, Ts, 0, rng).map((c) => ({
      ...c,
      tx: Math.min(Math.round(c.tx * 7) / 7, c.T),
    }));
    const tight = fitBranch(sim, {});
    const nightly = fitBranch(sim);
    for (const model of ['bgnbd', 'pareto_nbd']) {
      const a = tight.fits.find((f) => f.model === model)!;
      const b = nightly.fits.find((f) => f.model === model)!;
      expect(Math.abs(a.logLikelihood - b.logLikelihood), model).toBeLessThan(0.05);
      for (const c of sim)
        expect(Math.abs(scoreCustomer(a, c).pAlive - scoreCustomer(b, c).pAlive), model).toBeLessThan(1e-3);
    }
    expect(nightly.chosen.model).toBe(tight.chosen.model);
  });

  it('raises for regular customers below the threshold, keyed by the last visit day like the cadence rule', () => {
    const regular = { visitCount: 6, firstVisitDay: '2026-08-01', lastVisitDay: '2026-10-20' };
    expect(modelFinding(policy, regular, 'bgnbd', { pAlive: 0.12345, expected30d: 0.4 }, '2026-12-02')).toEqual({
      episode: '2026-10-20',
      model: 'bgnbd',
      pAlive: 0.123,
      expected30d: 0.4,
      threshold: 0.3,
    });
    // The next night, and the next month, it is the same lapse.
    expect(modelFinding(policy, regular, 'bgnbd', { pAlive: 0.1, expected30d: 0.4 }, '2027-01-02')?.episode).toBe(
      '2026-10-20',
    );
    expect(modelFinding(policy, regular, 'bgnbd', { pAlive: 0.3, expected30d: 0.4 }, '2026-12-02')).toBeNull();
    expect(
      modelFinding(policy, { ...regular, visitCount: 3 }, 'bgnbd', { pAlive: 0.01, expected30d: 0 }, '2026-12-02'),
    ).toBeNull();
  });

  it('judges only customers with the history the policy asks for', () => {
    const c = { visitCount: 6, firstVisitDay: '2026-10-07', lastVisitDay: '2026-11-20' };
    expect(modelJudges(policy, c, '2026-12-02')).toBe(true); // 56 days
    expect(modelJudges(policy, c, '2026-12-01')).toBe(false);
    expect(modelJudges({ ...policy, modelMinHistoryDays: 0 }, c, '2026-12-01')).toBe(true);
    expect(modelJudges({ ...policy, minVisits: 7 }, c, '2026-12-02')).toBe(false);
    expect(
      modelFinding({ ...policy, pAliveBelow: 0.5 }, c, 'pareto_nbd', { pAlive: 0.4, expected30d: 1 }, '2026-12-01'),
    ).toBeNull();
    expect(
      modelFinding({ ...policy, pAliveBelow: 0.5 }, c, 'pareto_nbd', { pAlive: 0.4, expected30d: 1 }, '2026-12-02')
        ?.threshold,
    ).toBe(0.5);
  });
});
