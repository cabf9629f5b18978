// The one business calendar (docs/architecture.md "Work that people do"): which days are working days
// in an org unit and how much working time lies between two instants. SLAs, reminders and plans all ask
// it. A day is a working day by the weekly pattern (Monday–Friday) unless marked otherwise: China's
// statutory holidays and make-up working days (调休, e.g. Saturday 2026-02-14) come from a maintained
// library, and a company's own overrides (per org unit, nearest unit up the tree wins) sit on top.
// Working hours are wall-clock times in the unit's own time zone, so a DST zone gets a shorter or
// longer instant span on the days its clocks change.
import { businessDay, dayNumber, zonedToUtc } from './business-day.js';
import { addDays, isCalendarDay } from './day-arithmetic.js';

export const DAY_KINDS = ['holiday', 'workday'] as const;
/** holiday: a day off whatever its weekday; workday: a working day whatever its weekday (a make-up day). */
export type DayKind = (typeof DAY_KINDS)[number];

export interface DayMark {
  kind: DayKind;
  /** The holiday the mark belongs to ('春节', or the company's own words); null for an unnamed override. */
  name: string | null;
  /** The English name of a statutory holiday ('Spring Festival'). */
  nameEn?: string;
  source: 'statutory' | 'override';
}

/** Working hours as minutes after local midnight (08:30 = 510). */
export interface WorkingHours {
  startMinute: number;
  endMinute: number;
}

export interface UnitCalendar {
  timeZone: string;
  hours: WorkingHours;
  /** The mark of a day, or undefined for a day that follows the weekly pattern. */
  markOf: (day: string) => DayMark | undefined;
}

/** Days from the statutory source: day → kind and name. */
export type StatutoryDays = (day: string) => { kind: DayKind; name: string; nameEn: string } | undefined;

export interface OverrideDay {
  day: string;
  kind: DayKind;
  name: string | null;
}

/**
 * A unit's calendar: statutory marks, then overrides of the units on its path from the top down, so a
 * unit's own override beats its branch's, which beats HQ's, which beats the statutory mark.
 * `overridesTopDown[0]` is the top unit's list.
 */
export function unitCalendar(input: {
  timeZone: string;
  hours: WorkingHours;
  statutory: StatutoryDays;
  overridesTopDown: readonly (readonly OverrideDay[])[];
}): UnitCalendar {
  const merged = new Map<string, DayMark>();
  for (const list of input.overridesTopDown)
    for (const o of list) merged.set(o.day, { kind: o.kind, name: o.name, source: 'override' });
  return {
    timeZone: input.timeZone,
    hours: input.hours,
    markOf: (day) => {
      const own = merged.get(day);
      if (own) return own;
      const s = input.statutory(day);
      return s && { kind: s.kind, name: s.name, nameEn: s.nameEn, source: 'statutory' };
    },
  };
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(day: string): number {
  // 1970-01-01 was a Thursday.
  return (((dayNumber(day) + 4) % 7) + 7) % 7;
}

export function isWorkingDay(cal: UnitCalendar, day: string): boolean {
  const mark = cal.markOf(day);
  if (mark) return mark.kind === 'workday';
  const w = weekday(day);
  return w !== 0 && w !== 6;
}

// No calendar has a year without working days; a run this long means every day was marked off.
const MAX_SCAN_DAYS = 3_700;

function noWorkingDay(): Error {
  return new Error(`no working day within ${MAX_SCAN_DAYS} days: every day is marked as a holiday`);
}

/** The first working day on or after `day` (`step` −1: on or before). */
export function nearestWorkingDay(cal: UnitCalendar, day: string, step: 1 | -1 = 1): string {
  let d = day;
  for (let i = 0; i < MAX_SCAN_DAYS; i++) {
    if (isWorkingDay(cal, d)) return d;
    d = addDays(d, step);
  }
  throw noWorkingDay();
}

/**
 * The working day `n` working days after `day` (before it when n < 0). From a day off, the count starts
 * at the day itself: one working day after Saturday is the Monday after it (Tuesday if Monday is off), as
 * "within 1 working day" is read. n = 0 gives `day` itself when it is a working day, else the next one.
 */
export function addWorkingDays(cal: UnitCalendar, day: string, n: number): string {
  if (!Number.isInteger(n)) throw new Error(`n must be an integer, got ${n}`);
  if (n === 0) return nearestWorkingDay(cal, day, 1);
  const step = n > 0 ? 1 : -1;
  let left = Math.abs(n);
  let d = day;
  let scanned = 0;
  while (left > 0) {
    d = addDays(d, step);
    if (isWorkingDay(cal, d)) left--;
    else if (++scanned > MAX_SCAN_DAYS) throw noWorkingDay();
  }
  return d;
}

/** Working days in [from, to) (negative when to < from). */
export function workingDaysBetween(cal: UnitCalendar, from: string, to: string): number {
  if (to < from) return -workingDaysBetween(cal, to, from);
  let n = 0;
  for (let d = from; d < to; d = addDays(d, 1)) if (isWorkingDay(cal, d)) n++;
  return n;
}

const MINUTE_MS = 60_000;

/** The working hours of `day` as UTC instants [start, end), or null on a day off. */
export function workingSpan(cal: UnitCalendar, day: string): { start: number; end: number } | null {
  if (!isWorkingDay(cal, day)) return null;
  const midnight = dayNumber(day) * 86_400_000;
  const start = zonedToUtc(midnight + cal.hours.startMinute * MINUTE_MS, cal.timeZone);
  const end = zonedToUtc(midnight + cal.hours.endMinute * MINUTE_MS, cal.timeZone);
  return end > start ? { start, end } : null;
}

function localDay(cal: UnitCalendar, atMs: number): string {
  return businessDay(atMs, cal.timeZone);
}

/** The start of the working hours of the first working day that starts at or after `atMs`. */
export function nextWorkingDayStart(cal: UnitCalendar, atMs: number): number {
  let d = addDays(localDay(cal, atMs), -1);
  for (let i = 0; i < MAX_SCAN_DAYS; i++) {
    const span = workingSpan(cal, d);
    if (span && span.start >= atMs) return span.start;
    d = addDays(d, 1);
  }
  throw noWorkingDay();
}

/** `atMs` itself inside working hours, else the start of the next working hours (an SLA clock's "now"). */
export function nextWorkingInstant(cal: UnitCalendar, atMs: number): number {
  const span = workingSpan(cal, localDay(cal, atMs));
  if (span && atMs >= span.start && atMs < span.end) return atMs;
  return nextWorkingDayStart(cal, atMs);
}

/** Milliseconds of working time in [fromMs, toMs); 0 when to ≤ from. */
export function workingTimeBetween(cal: UnitCalendar, fromMs: number, toMs: number): number {
  if (toMs <= fromMs) return 0;
  let total = 0;
  const last = localDay(cal, toMs);
  for (let d = addDays(localDay(cal, fromMs), -1); d <= addDays(last, 1); d = addDays(d, 1)) {
    const span = workingSpan(cal, d);
    if (!span) continue;
    const a = Math.max(span.start, fromMs);
    const b = Math.min(span.end, toMs);
    if (b > a) total += b - a;
  }
  return total;
}

/** The instant at which `workMs` of working time have passed since `fromMs` (an SLA's deadline). */
export function addWorkingTime(cal: UnitCalendar, fromMs: number, workMs: number): number {
  if (workMs < 0) throw new Error('workMs must not be negative');
  let at = nextWorkingInstant(cal, fromMs);
  let left = workMs;
  for (let i = 0; i < MAX_SCAN_DAYS * 2; i++) {
    const span = workingSpan(cal, localDay(cal, at))!;
    const room = span.end - at;
    if (left <= room) return at + left;
    left -= room;
    at = nextWorkingDayStart(cal, span.end);
  }
  throw noWorkingDay();
}

/** The first day of each holiday in [from, to]: a holiday mark whose day before is not the same holiday. */
export function holidayStarts(cal: UnitCalendar, from: string, to: string): { day: string; name: string | null }[] {
  const out: { day: string; name: string | null }[] = [];
  let before = cal.markOf(addDays(from, -1));
  for (let d = from; d <= to; d = addDays(d, 1)) {
    const mark = cal.markOf(d);
    if (mark?.kind === 'holiday' && !(before?.kind === 'holiday' && before.name === mark.name))
      out.push({ day: d, name: mark.name });
    before = mark;
  }
  return out;
}

/** Every day of a year with its working-day verdict and mark: what the calendar page shows. */
export function yearDays(
  cal: UnitCalendar,
  year: number,
): { day: string; working: boolean; weekend: boolean; mark: DayMark | null }[] {
  const out = [];
  for (let d = `${year}-01-01`; d.startsWith(String(year)); d = addDays(d, 1)) {
    const w = weekday(d);
    out.push({ day: d, working: isWorkingDay(cal, d), weekend: w === 0 || w === 6, mark: cal.markOf(d) ?? null });
  }
  return out;
}

/** 'HH:MM' → minutes after midnight, or null when it is no time of day. */
export function parseClock(text: string): number | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

export function formatClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

export { isCalendarDay };
