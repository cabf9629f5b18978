// The decline rule: is a customer's last complete month far below his own usual volume, further
// than his normal ups and downs explain? A regular who buys a few per cent less each month is not a
// decline; one whose volume collapsed is, even when the last month ticked up from the bottom.
//
// His baseline is the median of the `declineBaselineMonths` complete months before the last one (a
// month without purchases counts as zero, so a customer who bought in fewer than half of them has
// none). The last month is a decline when it is below `declineShare` of the baseline and the
// shortfall exceeds `declineSpread` times his normal variation: the spread of his baseline months,
// as 1.4826 × their median absolute deviation, or one typical fill-up if that is larger — a
// customer who fills up twice a month swings by a whole fill-up between months without anything
// being wrong. The collapse so far (the last month and the months just before it that are below
// the share too) is left out of the spread, or it would hide itself; its months are averaged and
// the spread divided by √(their number): two months at a tenth of his volume say more than one.
import type { AnomalyPolicy } from './policies.js';
import { addMonths } from './day-arithmetic.js';

export type DeclinePolicy = Pick<
  AnomalyPolicy,
  'minVisits' | 'declineBaselineMonths' | 'declineShare' | 'declineSpread'
>;

/** One complete month of a customer's purchases, over all products. */
export interface MonthFigures {
  volumeMl: number;
  /** Transactions in the month (fill-ups). */
  fills: number;
}

export interface MonthVolume {
  month: string;
  volumeMl: number;
}

export interface DeclineFinding {
  /**
   * The first month of the collapse: the earliest of the months up to the last one that are all
   * below the share of the baseline. It stays the same while the collapse lasts, so one collapse
   * raises one alert however many months it is found in.
   */
  episode: string;
  /** The baseline months and the last month, oldest first. */
  months: MonthVolume[];
  /** The median of the baseline months. */
  baselineMl: number;
  /** The normal variation the shortfall was measured against (ml). */
  spreadMl: number;
  /** The last month's volume as a share of the baseline, to three decimals. */
  share: number;
  /** The policy's share and spread factor. */
  threshold: number;
  spreadFactor: number;
}

/** The months the rule reads as of `today`: the baseline months, then the last complete month. */
export function declineMonthsOf(policy: Pick<DeclinePolicy, 'declineBaselineMonths'>, today: string): string[] {
  const last = addMonths(today.slice(0, 7), -1);
  const n = policy.declineBaselineMonths;
  return Array.from({ length: n + 1 }, (_, i) => addMonths(last, i - n));
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** 1.4826 × the median absolute deviation: the standard deviation of normal data, robust to outliers. */
export function robustSpread(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const m = median(values);
  return 1.4826 * median(values.map((v) => Math.abs(v - m)));
}

/** The decline finding for a customer's months (keyed 'YYYY-MM'; missing months are zero), or null. */
export function declineFinding(
  policy: DeclinePolicy,
  byMonth: ReadonlyMap<string, MonthFigures>,
  today: string,
): DeclineFinding | null {
  const window = declineMonthsOf(policy, today);
  const months = window.map((month) => ({ month, volumeMl: byMonth.get(month)?.volumeMl ?? 0 }));
  const baseline = months.slice(0, -1);
  const last = months.at(-1)!.volumeMl;
  let fills = 0;
  let total = 0;
  for (const m of window.slice(0, -1)) {
    fills += byMonth.get(m)?.fills ?? 0;
    total += byMonth.get(m)?.volumeMl ?? 0;
  }
  // Too few purchases for a baseline to mean anything.
  if (fills < policy.minVisits) return null;
  const base = median(baseline.map((m) => m.volumeMl));
  if (!(base > 0)) return null;
  const floor = policy.declineShare * base;
  if (!(last < floor)) return null;
  // The collapse so far: the last month and the months before it below the share. It is not his
  // normal variation; and the longer it lasts, the less of it chance explains (the mean of k
  // months varies by 1/√k of one month's variation).
  let first = months.length - 1;
  while (first > 0 && months[first - 1]!.volumeMl < floor) first--;
  const run = months.slice(first).map((m) => m.volumeMl);
  const recent = run.reduce((a, b) => a + b, 0) / run.length;
  const spread = Math.max(robustSpread(baseline.slice(0, first).map((m) => m.volumeMl)), total / fills);
  if (!(base - recent > (policy.declineSpread * spread) / Math.sqrt(run.length))) return null;
  return {
    episode: months[first]!.month,
    months,
    baselineMl: Math.round(base),
    spreadMl: Math.round(spread),
    share: Math.round((last / base) * 1000) / 1000,
    threshold: policy.declineShare,
    spreadFactor: policy.declineSpread,
  };
}

/**
 * Whether a customer under a decline alert is back to his volume: a complete month after the
 * alert's months at or above the share of the baseline the alert was raised against.
 */
export function declineRecovered(alert: { baselineMl: number; threshold: number }, monthVolumeMl: number): boolean {
  return monthVolumeMl >= alert.threshold * alert.baselineMl;
}
