import { describe, expect, it } from 'vitest';
import { declineBackDay, nightsOf, quantile, ruleFigures, verdictOf, type ReplayAlert } from './backtest.js';
import { isCalendarDay, monthEnd } from './day-arithmetic.js';

const alert = (over: Partial<ReplayAlert>): ReplayAlert => ({
  customerId: 1,
  orgUnitId: 9,
  kind: 'cadence',
  lapse: '2026-10-01',
  day: '2026-10-20',
  delayDays: 4,
  ...over,
});

describe('back-test verdicts', () => {
  it('tells false alerts from true ones by the follow-up days and the end of the data', () => {
    expect(verdictOf(alert({}), '2026-11-19', '2026-12-31', 30)).toBe('came_back');
    expect(verdictOf(alert({}), '2026-11-20', '2026-12-31', 30)).toBe('came_back_later');
    expect(verdictOf(alert({}), null, '2026-11-19', 30)).toBe('never_came_back');
    expect(verdictOf(alert({}), null, '2026-11-18', 30)).toBe('undecided');
  });
  it('finds a decliner back once his volume over the follow-up days reaches the share of his baseline', () => {
    const a = { day: '2026-11-30', baselineMl: 300_000, threshold: 0.6 };
    // Needs 0.6 × 300 L × 30 / 30.44 ≈ 177.4 L within any 30 days.
    expect(
      declineBackDay(
        a,
        [
          { day: '2026-12-05', volumeMl: 100_000 },
          { day: '2026-12-20', volumeMl: 80_000 },
        ],
        30,
      ),
    ).toBe('2026-12-20');
    expect(
      declineBackDay(
        a,
        [
          { day: '2026-12-05', volumeMl: 100_000 },
          { day: '2027-01-20', volumeMl: 80_000 },
        ],
        30,
      ),
    ).toBeNull();
  });
  it('sums figures per rule with the delay after the expected visit', () => {
    const alerts = [
      { alert: alert({ delayDays: 3.5 }), verdict: 'never_came_back' as const },
      { alert: alert({ customerId: 2, delayDays: 4 }), verdict: 'came_back' as const },
      { alert: alert({ customerId: 3, delayDays: 10 }), verdict: 'undecided' as const },
      { alert: alert({ customerId: 4, kind: 'decline', delayDays: null }), verdict: 'never_came_back' as const },
    ];
    const [cadence, decline, model] = ruleFigures(alerts);
    expect(cadence).toEqual({
      rule: 'cadence',
      raised: 3,
      customers: 3,
      cameBack: 1,
      cameBackLater: 0,
      neverCameBack: 1,
      undecided: 1,
      falseShare: 0.5,
      delayDays: { n: 3, median: 4, p90: 10 },
    });
    expect(decline).toMatchObject({
      raised: 1,
      neverCameBack: 1,
      falseShare: 0,
      delayDays: { n: 0, median: null, p90: null },
    });
    expect(model).toMatchObject({ raised: 0, falseShare: null });
  });
  it('takes quantiles by nearest rank and lists the nights', () => {
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
    expect(quantile([], 0.5)).toBeNull();
    expect(nightsOf('2026-10-30', '2026-11-01')).toEqual(['2026-10-30', '2026-10-31', '2026-11-01']);
    expect(monthEnd('2028-02')).toBe('2028-02-29');
    expect(['2026-02-28', '2028-02-29'].map(isCalendarDay)).toEqual([true, true]);
    expect(['2026-02-29', '2026-13-01', '2026-1-01', '9999-99-99'].map(isCalendarDay)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});
