import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICIES } from './policies.js';
import {
  declineFinding,
  declineMonthsOf,
  declineRecovered,
  median,
  robustSpread,
  type MonthFigures,
} from './decline-rule.js';

const policy = DEFAULT_POLICIES.anomaly;
const TODAY = '2026-12-02'; // the last complete month is November

/** Litres per month, oldest first, ending with last month; `fillLitres` a fill-up. */
function months(litres: number[], fillLitres = 50, today = TODAY, p = policy): Map<string, MonthFigures> {
  const window = declineMonthsOf(p, today);
  const start = window.length - litres.length;
  const out = new Map<string, MonthFigures>();
  litres.forEach((l, i) => {
    const month = window[start + i];
    if (month && l > 0)
      out.set(month, { volumeMl: Math.round(l * 1000), fills: Math.max(1, Math.round(l / fillLitres)) });
  });
  return out;
}

describe('decline rule: the months it reads', () => {
  it('reads the baseline months and then the last complete month', () => {
    expect(declineMonthsOf(policy, TODAY)).toEqual([
      '2026-05',
      '2026-06',
      '2026-07',
      '2026-08',
      '2026-09',
      '2026-10',
      '2026-11',
    ]);
    expect(declineMonthsOf({ declineBaselineMonths: 3 }, '2026-01-01')).toEqual([
      '2025-09',
      '2025-10',
      '2025-11',
      '2025-12',
    ]);
  });
  it('has a median and a robust spread', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(robustSpread([10, 10, 10, 10])).toBe(0);
    expect(robustSpread([9, 10, 11, 100])).toBeCloseTo(1.4826, 4);
  });
});

describe('decline rule: regulars are not flagged', () => {
  it('does not flag a steady regular buying a little less each month (2,863.8 → 2,831.2 → 2,671.2 → 2,637.6 L)', () => {
    expect(declineFinding(policy, months([2900, 2950, 2880, 2863.8, 2831.2, 2671.2, 2637.6], 60), TODAY)).toBeNull();
    // Even with the baseline made of those months alone.
    const short = { ...policy, declineBaselineMonths: 3 };
    expect(declineFinding(short, months([2863.8, 2831.2, 2671.2, 2637.6], 60, TODAY, short), TODAY)).toBeNull();
  });
  it('does not flag a regular with ±10% months, nor one whose fill-ups swing between two and one a month', () => {
    expect(declineFinding(policy, months([300, 330, 270, 310, 290, 320, 271]), TODAY)).toBeNull();
    // 40 L a fill-up, every 20 days: 80 or 40 L a month.
    expect(declineFinding(policy, months([80, 40, 80, 40, 80, 80, 40], 40), TODAY)).toBeNull();
  });
  it('does not flag an irregular buyer, nor one without a baseline', () => {
    expect(declineFinding(policy, months([0, 500, 0, 800, 100, 900, 60], 100), TODAY)).toBeNull();
    expect(declineFinding(policy, months([0, 0, 0, 0, 0, 120, 10]), TODAY)).toBeNull();
    // Three fill-ups in the baseline are fewer than the policy's minimum visits.
    expect(declineFinding(policy, months([0, 0, 0, 50, 50, 50, 0]), TODAY)).toBeNull();
  });
});

describe('decline rule: collapses are flagged', () => {
  it('flags a customer whose volume collapsed even though the last month ticked up (34.8 → 38.1 L)', () => {
    const f = declineFinding(policy, months([2800, 2750, 2900, 1200, 300, 34.8, 38.1]), TODAY);
    expect(f).toMatchObject({
      episode: '2026-09',
      baselineMl: 1_975_000,
      share: 0.019,
      threshold: 0.6,
      spreadFactor: 1.5,
    });
    expect(f!.months.at(-1)).toEqual({ month: '2026-11', volumeMl: 38_100 });
    expect(f!.months).toHaveLength(7);
  });
  it('keeps the first month of the collapse as the episode while it lasts', () => {
    // One month later the same collapse is still dated from September.
    const later = months([2750, 2900, 1200, 300, 34.8, 38.1, 40], 50, '2027-01-02');
    expect(declineFinding(policy, later, '2027-01-02')?.episode).toBe('2026-09');
  });
  it('flags a fall to a third, to nothing, and a steady slide once below the share', () => {
    expect(declineFinding(policy, months([300, 300, 300, 300, 300, 300, 100], 100), TODAY)?.episode).toBe('2026-11');
    expect(declineFinding(policy, months([300, 300, 300, 300, 300, 300, 0], 100), TODAY)?.episode).toBe('2026-11');
    // −25% a month: 560 L is below 60% of 1,000 and more than 1.5 fill-ups short.
    expect(declineFinding(policy, months([1000, 1000, 1000, 1000, 1000, 750, 560], 60), TODAY)).toMatchObject({
      episode: '2026-11',
      share: 0.56,
    });
    expect(declineFinding(policy, months([1000, 1000, 1000, 1000, 1000, 1000, 750], 60), TODAY)).toBeNull();
  });
  it('leaves a fall of one fill-up of three alone, and follows the policy when it asks for less', () => {
    // 300 → 100 L as 3 → 1 fill-ups of 100 L: 200 L short, not more than 1.5 × 100.
    expect(declineFinding(policy, months([300, 300, 300, 300, 300, 300, 150], 100), TODAY)).toBeNull();
    expect(
      declineFinding({ ...policy, declineSpread: 1 }, months([300, 300, 300, 300, 300, 300, 150], 100), TODAY),
    ).not.toBeNull();
    expect(
      declineFinding({ ...policy, declineShare: 0.4 }, months([300, 300, 300, 300, 300, 300, 150], 100), TODAY),
    ).toBeNull();
  });
  it('recovers when a later month is back at the share of the baseline', () => {
    const f = declineFinding(policy, months([300, 300, 300, 300, 300, 300, 0], 100), TODAY)!;
    expect(declineRecovered(f, 179_000)).toBe(false);
    expect(declineRecovered(f, 180_000)).toBe(true);
  });
});
