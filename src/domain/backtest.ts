// What a back-test reports: for each alert a replay would have raised, whether the customer came
// back — a false alert — or stayed away, and how long after his expected next visit it was raised;
// summed per rule, overall and per station.
import { ALERT_KINDS, type AlertKind } from './anomaly-rules.js';
import { addDays, daysBetween } from './day-arithmetic.js';

/** An alert a replay raised. */
export interface ReplayAlert {
  customerId: number;
  /** The customer's org unit (his station, as a rule). */
  orgUnitId: number;
  kind: AlertKind;
  lapse: string;
  /** The night it was raised for: data complete through this day, read the next morning. */
  day: string;
  /** Days from the expected next visit (last visit + usual interval) to the morning it was read; absences only. */
  delayDays: number | null;
  /** A decline's baseline and share: recovery is judged against them. */
  baselineMl?: number;
  threshold?: number;
}

/**
 * came_back: bought again (after a decline: at his usual rate) within the follow-up days — a false
 * alert; came_back_later: only after them; never_came_back: not through the end of the data, which
 * runs at least the follow-up days past the alert — a true one; undecided: not back yet, with
 * fewer days of data after the alert than the follow-up.
 */
export const VERDICTS = ['came_back', 'came_back_later', 'never_came_back', 'undecided'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** The verdict on an alert from the first day the customer was back (null: not through `lastDataDay`). */
export function verdictOf(
  alert: Pick<ReplayAlert, 'day'>,
  backDay: string | null,
  lastDataDay: string,
  followUpDays: number,
): Verdict {
  if (backDay !== null) return daysBetween(alert.day, backDay) <= followUpDays ? 'came_back' : 'came_back_later';
  return daysBetween(alert.day, lastDataDay) >= followUpDays ? 'never_came_back' : 'undecided';
}

/**
 * The first day after a decline alert on which the customer's volume since the alert reaches his
 * usual rate (the share of his baseline, per 30.44 days) over a window of the follow-up days, or
 * null. `days` are his purchase days after the alert, in order, with their volumes.
 */
export function declineBackDay(
  alert: Pick<ReplayAlert, 'day' | 'baselineMl' | 'threshold'>,
  days: readonly { day: string; volumeMl: number }[],
  followUpDays: number,
): string | null {
  const need = (alert.threshold ?? 0) * (alert.baselineMl ?? 0) * (followUpDays / 30.44);
  let sum = 0;
  let from = 0;
  for (let i = 0; i < days.length; i++) {
    const d = days[i]!;
    sum += d.volumeMl;
    // Only the follow-up days up to this one count: drop purchases older than the window.
    while (daysBetween(days[from]!.day, d.day) >= followUpDays) sum -= days[from++]!.volumeMl;
    if (sum >= need && need > 0) return d.day;
  }
  return null;
}

export interface DelayStats {
  /** Alerts with a delay (absences). */
  n: number;
  median: number | null;
  p90: number | null;
}

export interface RuleFigures {
  rule: AlertKind;
  raised: number;
  /** Distinct customers alerted. */
  customers: number;
  cameBack: number;
  cameBackLater: number;
  neverCameBack: number;
  undecided: number;
  /** Came back within the follow-up days, of the alerts decided (false alerts). */
  falseShare: number | null;
  delayDays: DelayStats;
}

/** The value at or above share q of the sorted values (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

/** Figures per rule (every rule listed, in rule order) for alerts and their verdicts. */
export function ruleFigures(alerts: readonly { alert: ReplayAlert; verdict: Verdict }[]): RuleFigures[] {
  return ALERT_KINDS.map((rule) => {
    const mine = alerts.filter((a) => a.alert.kind === rule);
    const count = (v: Verdict) => mine.filter((a) => a.verdict === v).length;
    const delays = mine
      .map((a) => a.alert.delayDays)
      .filter((d): d is number => d !== null)
      .sort((a, b) => a - b);
    const cameBack = count('came_back');
    const decided = mine.length - count('undecided');
    return {
      rule,
      raised: mine.length,
      customers: new Set(mine.map((a) => a.alert.customerId)).size,
      cameBack,
      cameBackLater: count('came_back_later'),
      neverCameBack: count('never_came_back'),
      undecided: count('undecided'),
      falseShare: decided > 0 ? Math.round((cameBack / decided) * 1000) / 1000 : null,
      delayDays: { n: delays.length, median: quantile(delays, 0.5), p90: quantile(delays, 0.9) },
    };
  });
}

/** The nights of a back-test, first to last. */
export function nightsOf(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}
