// SLA clocks of the complaint stages (DOMAIN.md "Complaints"; 12345 hotline practice): a matrix of
// category × severity gives each stage an allowance, either on the wall clock (safety and mass
// incidents: dispatched within 1 hour, answered within 2) or in working time on the business calendar
// of the unit that owns the stage (general cases: working hours and days, with China's holidays and
// make-up working days and the unit's own overrides). A clock stops only for a named reason and the
// due time moves by the working time it stood still; an approved extension adds to the allowance.
// Warnings fall at 50/75/90 %, the breach at 100 %, and the written reminder (督办) to the level above
// at 125 %; their instants are computed once per change and stored, so the sweep that fires them is
// a range query rather than calendar arithmetic per case. Pure: no database, no clock.
import { addWorkingTime, workingTimeBetween, type UnitCalendar } from './business-calendar.js';
import { COMPLAINT_STAGES, type ComplaintStage } from './complaint-workflow.js';

// ── The matrix ──────────────────────────────────────────────────────────────────────────────────
export const SLA_UNITS = ['clock_hours', 'working_hours', 'working_days'] as const;
/** clock_hours: hours on the wall clock; working_hours / working_days: on the owner's business calendar. */
export type SlaUnit = (typeof SLA_UNITS)[number];
export type SlaMode = 'clock' | 'working';

/** Any category or any severity in a matrix row. */
export const ANY = '*';

export interface SlaRule {
  categoryCode: string;
  severityCode: string;
  unit: SlaUnit;
  /** The allowance of each stage in `unit`. */
  verify: number;
  review: number;
  rectify: number;
  callback: number;
  archive: number;
}

/**
 * The defaults, modelled on tiered hotline practice: safety and mass incidents are dispatched within
 * an hour and answered within two, on the clock, whatever the day; regulator and media cases run on
 * working hours close to their reply deadline; the rest by severity, critical on the clock and the
 * others in working days.
 */
export const DEFAULT_SLA_RULES: readonly SlaRule[] = [
  r('safety', ANY, 'clock_hours', 1, 1, 24, 24, 48),
  r('mass_incident', ANY, 'clock_hours', 1, 1, 24, 24, 48),
  r('regulator', ANY, 'working_hours', 2, 4, 16, 8, 16),
  r('media', ANY, 'working_hours', 2, 4, 16, 8, 16),
  r(ANY, 'critical', 'clock_hours', 2, 2, 24, 24, 24),
  r(ANY, 'major', 'working_hours', 4, 8, 24, 8, 16),
  r(ANY, 'general', 'working_days', 1, 2, 5, 2, 3),
  r(ANY, 'minor', 'working_days', 2, 3, 10, 3, 5),
  r(ANY, ANY, 'working_days', 1, 2, 5, 2, 3),
];
function r(
  categoryCode: string,
  severityCode: string,
  unit: SlaUnit,
  verify: number,
  review: number,
  rectify: number,
  callback: number,
  archive: number,
): SlaRule {
  return { categoryCode, severityCode, unit, verify, review, rectify, callback, archive };
}

/** The most specific row: category and severity, then category, then severity, then the catch-all. */
export function ruleFor(rules: readonly SlaRule[], category: string, severity: string): SlaRule | null {
  const find = (c: string, s: string) => rules.find((x) => x.categoryCode === c && x.severityCode === s);
  return find(category, severity) ?? find(category, ANY) ?? find(ANY, severity) ?? find(ANY, ANY) ?? null;
}

export type SlaRuleProblem = { index: number; field: string; message: string };

/** What is wrong with a matrix HQ wants to save (empty when it may be saved). */
export function checkRules(
  rules: readonly SlaRule[],
  known: { categories: readonly string[]; severities: readonly string[] },
): SlaRuleProblem[] {
  const out: SlaRuleProblem[] = [];
  const seen = new Set<string>();
  rules.forEach((x, index) => {
    const key = `${x.categoryCode}|${x.severityCode}`;
    if (seen.has(key)) out.push({ index, field: 'categoryCode', message: 'this category and severity are set twice' });
    seen.add(key);
    if (x.categoryCode !== ANY && !known.categories.includes(x.categoryCode))
      out.push({ index, field: 'categoryCode', message: `no category ${x.categoryCode}` });
    if (x.severityCode !== ANY && !known.severities.includes(x.severityCode))
      out.push({ index, field: 'severityCode', message: `no severity ${x.severityCode}` });
    if (!(SLA_UNITS as readonly string[]).includes(x.unit))
      out.push({ index, field: 'unit', message: 'clock_hours, working_hours or working_days' });
    const max = x.unit === 'working_days' ? 60 : 1000;
    for (const stage of COMPLAINT_STAGES) {
      const v = x[stage];
      if (!Number.isInteger(v) || v < 1 || v > max)
        out.push({ index, field: stage, message: `a whole number from 1 to ${max}` });
    }
  });
  if (!seen.has(`${ANY}|${ANY}`))
    out.push({ index: rules.length, field: 'categoryCode', message: 'keep a row for any category and any severity' });
  return out;
}

// ── Allowances ──────────────────────────────────────────────────────────────────────────────────
const HOUR_MS = 3_600_000;

export function modeOf(unit: SlaUnit): SlaMode {
  return unit === 'clock_hours' ? 'clock' : 'working';
}

/** Working time of one working day on this calendar (its working hours). */
export function workingDayMs(cal: UnitCalendar): number {
  return (cal.hours.endMinute - cal.hours.startMinute) * 60_000;
}

/** An amount in a unit as milliseconds of the clock's own time (wall clock or working time). */
export function amountMs(unit: SlaUnit, amount: number, cal: UnitCalendar): number {
  return Math.round(unit === 'working_days' ? amount * workingDayMs(cal) : amount * HOUR_MS);
}

export function allowanceOf(rule: SlaRule, stage: ComplaintStage, cal: UnitCalendar): { mode: SlaMode; ms: number } {
  return { mode: modeOf(rule.unit), ms: amountMs(rule.unit, rule[stage], cal) };
}

/** Time of the clock's kind in [from, to): wall-clock or working milliseconds. */
export function measure(mode: SlaMode, cal: UnitCalendar, fromMs: number, toMs: number): number {
  if (mode === 'clock') return Math.max(0, toMs - fromMs);
  return workingTimeBetween(cal, fromMs, toMs);
}

/** The instant `ms` of the clock's time after `fromMs`. */
export function advance(mode: SlaMode, cal: UnitCalendar, fromMs: number, ms: number): number {
  if (mode === 'clock') return fromMs + ms;
  return addWorkingTime(cal, fromMs, ms);
}

// ── A stage's clock ─────────────────────────────────────────────────────────────────────────────
/** The levels the sweep fires, once each per stage occurrence: warnings, the breach, the written reminder. */
export const SLA_LEVELS = [50, 75, 90, 100, 125] as const;
export type SlaLevel = (typeof SLA_LEVELS)[number];
export const BREACH_LEVEL = 100;
export const SUPERVISE_LEVEL = 125;

export interface SlaClock {
  mode: SlaMode;
  startMs: number;
  /** The allowance with approved extensions. */
  allowanceMs: number;
  /** Clock time stood still in finished pauses. */
  pausedMs: number;
  /** Set while the clock is paused. */
  pausedAtMs: number | null;
}

/** The instant each level falls at; null while paused (nothing falls due while the clock stands). */
export function levelInstants(clock: SlaClock, cal: UnitCalendar): Record<SlaLevel, number> | null {
  if (clock.pausedAtMs !== null) return null;
  const at = (pct: number) =>
    advance(clock.mode, cal, clock.startMs, Math.round((clock.allowanceMs * pct) / 100) + clock.pausedMs);
  return { 50: at(50), 75: at(75), 90: at(90), 100: at(100), 125: at(125) };
}

/** The first level above `fired` and its instant: what the sweep waits for next (null when none). */
export function nextLevel(
  instants: Record<SlaLevel, number> | null,
  fired: number,
): { level: SlaLevel; atMs: number } | null {
  if (!instants) return null;
  for (const level of SLA_LEVELS) if (level > fired) return { level, atMs: instants[level] };
  return null;
}

/** Levels that fell due by `nowMs` and have not fired yet, lowest first. */
export function levelsDue(
  instants: Partial<Record<SlaLevel, number | null>>,
  fired: number,
  nowMs: number,
): SlaLevel[] {
  return SLA_LEVELS.filter((l) => l > fired && instants[l] != null && instants[l]! <= nowMs);
}

export type SlaState = 'ok' | 'warning' | 'late' | 'breached' | 'paused';

/** The band a share of the allowance puts a clock in (the colour on the list and the case page). */
export function stateOf(percent: number, paused: boolean): SlaState {
  if (paused) return 'paused';
  if (percent >= 100) return 'breached';
  if (percent >= 90) return 'late';
  if (percent >= 50) return 'warning';
  return 'ok';
}

/** Where a clock stands at `nowMs`: time used and left (of its own kind), the share, the due instant. */
export function clockAt(clock: SlaClock, cal: UnitCalendar, nowMs: number) {
  const until = clock.pausedAtMs ?? nowMs;
  const used = Math.max(0, measure(clock.mode, cal, clock.startMs, until) - clock.pausedMs);
  const percent = clock.allowanceMs > 0 ? (used / clock.allowanceMs) * 100 : 100;
  const instants = levelInstants(clock, cal);
  return {
    usedMs: used,
    leftMs: clock.allowanceMs - used,
    percent,
    dueMs: instants ? instants[100] : null,
    state: stateOf(percent, clock.pausedAtMs !== null),
  };
}

/**
 * The share of the allowance used at `nowMs` read from the stored instants alone (start, 50, 75, 90,
 * 100, 125 %), linear between them: exact at every level, close enough between them for a list,
 * and free of calendar arithmetic per row.
 */
export function percentFromInstants(
  startMs: number,
  instants: readonly (number | null)[],
  nowMs: number,
): number | null {
  const points: [number, number][] = [[startMs, 0]];
  SLA_LEVELS.forEach((level, i) => {
    const at = instants[i];
    if (at != null) points.push([at, level]);
  });
  if (points.length < 2) return null;
  if (nowMs <= startMs) return 0;
  for (let i = 1; i < points.length; i++) {
    const [t1, p1] = points[i]!;
    const [t0, p0] = points[i - 1]!;
    if (nowMs <= t1) return t1 === t0 ? p1 : p0 + ((p1 - p0) * (nowMs - t0)) / (t1 - t0);
  }
  // Past the last level: on at the pace of the last segment.
  const [t1, p1] = points[points.length - 1]!;
  const [t0, p0] = points[points.length - 2]!;
  return t1 === t0 ? p1 : p1 + ((p1 - p0) * (nowMs - t1)) / (t1 - t0);
}

// ── Pauses and extensions ───────────────────────────────────────────────────────────────────────
/** The only reasons a clock may stand still. */
export const PAUSE_REASONS = ['waiting_customer', 'fuel_test', 'regulator', 'judicial'] as const;
export type PauseReason = (typeof PAUSE_REASONS)[number];
export function isPauseReason(v: string): v is PauseReason {
  return (PAUSE_REASONS as readonly string[]).includes(v);
}

export type ExtensionRefusal = 'after_deadline' | 'paused' | 'pending' | 'own' | 'not_above' | 'decided';

/** May an extension be asked now? Only before the deadline, on a running clock, one at a time. */
export function checkExtensionRequest(opts: {
  nowMs: number;
  dueMs: number | null;
  paused: boolean;
  pending: boolean;
}): ExtensionRefusal | null {
  if (opts.paused) return 'paused';
  if (opts.dueMs === null || opts.nowMs >= opts.dueMs) return 'after_deadline';
  if (opts.pending) return 'pending';
  return null;
}

/**
 * May this person decide an extension? The level above the owning unit decides: someone whose unit
 * is a strict ancestor of it, never the person who asked.
 */
export function checkExtensionDecision(opts: {
  deciderUserId: number;
  requesterUserId: number | null;
  deciderPath: string;
  ownerPath: string;
  pending: boolean;
}): ExtensionRefusal | null {
  if (!opts.pending) return 'decided';
  if (opts.requesterUserId !== null && opts.deciderUserId === opts.requesterUserId) return 'own';
  if (!isAbove(opts.deciderPath, opts.ownerPath)) return 'not_above';
  return null;
}

/** Is `upper` a strict ancestor of `lower` (materialised paths '/1/2/')? */
export function isAbove(upper: string, lower: string): boolean {
  return lower !== upper && lower.startsWith(upper);
}
