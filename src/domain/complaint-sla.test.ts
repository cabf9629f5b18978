import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isWorkingDay, unitCalendar, workingTimeBetween, type OverrideDay } from './business-calendar.js';
import { businessDay } from './business-day.js';
import { chinaStatutoryDays } from './china-calendar.js';
import {
  ANY,
  DEFAULT_SLA_RULES,
  SLA_LEVELS,
  allowanceOf,
  checkExtensionDecision,
  checkExtensionRequest,
  checkRules,
  clockAt,
  levelInstants,
  levelsDue,
  nextLevel,
  percentFromInstants,
  ruleFor,
  type SlaClock,
} from './complaint-sla.js';

const HOURS = { startMinute: 8 * 60 + 30, endMinute: 17 * 60 + 30 };
const H = 3_600_000;
const cal = (timeZone = 'Asia/Shanghai', overrides: OverrideDay[][] = []) =>
  unitCalendar({ timeZone, hours: HOURS, statutory: chinaStatutoryDays, overridesTopDown: overrides });
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const clock = (over: Partial<SlaClock>): SlaClock => ({
  mode: 'working',
  startMs: 0,
  allowanceMs: 9 * H,
  pausedMs: 0,
  pausedAtMs: null,
  ...over,
});
const known = {
  categories: ['safety', 'mass_incident', 'regulator', 'media', 'station_service', 'finance'],
  severities: ['critical', 'major', 'general', 'minor'],
};

describe('the SLA matrix', () => {
  it('takes the most specific row: category and severity, category, severity, any', () => {
    const rules = [
      ...DEFAULT_SLA_RULES,
      { ...DEFAULT_SLA_RULES[0]!, categoryCode: 'finance', severityCode: 'minor', verify: 7 },
    ];
    expect(ruleFor(rules, 'safety', 'minor')!.unit).toBe('clock_hours');
    expect(ruleFor(rules, 'finance', 'minor')!.verify).toBe(7);
    expect(ruleFor(rules, 'finance', 'major')!.severityCode).toBe('major');
    expect(ruleFor(rules, 'finance', 'unknown')!.severityCode).toBe(ANY);
    expect(ruleFor([], 'finance', 'minor')).toBeNull();
  });
  it('safety is dispatched within 1 hour and answered within 2, on the clock, even on a holiday', () => {
    const rule = ruleFor(DEFAULT_SLA_RULES, 'safety', 'general')!;
    const c = cal();
    const v = allowanceOf(rule, 'verify', c);
    const r = allowanceOf(rule, 'review', c);
    expect(v).toEqual({ mode: 'clock', ms: H });
    expect(v.ms + r.ms).toBe(2 * H);
    const start = at('2026-02-17T03:00:00Z'); // Spring Festival
    const inst = levelInstants(clock({ mode: 'clock', startMs: start, allowanceMs: v.ms }), c)!;
    expect(iso(inst[100])).toBe('2026-02-17T04:00:00.000Z');
    expect(iso(inst[50])).toBe('2026-02-17T03:30:00.000Z');
  });
  it('validates a matrix: known codes, units, whole amounts, one row each, a catch-all kept', () => {
    expect(checkRules(DEFAULT_SLA_RULES, known)).toEqual([]);
    const bad = [
      { ...DEFAULT_SLA_RULES[0]!, categoryCode: 'nope' },
      { ...DEFAULT_SLA_RULES[4]!, verify: 0 },
      { ...DEFAULT_SLA_RULES[4]! },
      { ...DEFAULT_SLA_RULES[5]!, unit: 'fortnights' as never },
    ];
    const fields = checkRules(bad, known).map((p) => `${p.index}:${p.field}`);
    expect(fields).toEqual(['0:categoryCode', '1:verify', '2:categoryCode', '3:unit', '4:categoryCode']);
  });
});

describe('working-time clocks', () => {
  const general = ruleFor(DEFAULT_SLA_RULES, 'station_service', 'general')!;
  it('one working day taken on the Friday before Spring Festival 2026 is due on the make-up Saturday', () => {
    const c = cal();
    const a = allowanceOf(general, 'verify', c);
    expect(a).toEqual({ mode: 'working', ms: 9 * H });
    // Friday 13 Feb 2026, 10:30 Beijing; Saturday 14 Feb is worked, 15–23 Feb are off.
    const start = at('2026-02-13T02:30:00Z');
    const inst = levelInstants(clock({ startMs: start, allowanceMs: a.ms }), c)!;
    expect(iso(inst[100])).toBe('2026-02-14T02:30:00.000Z');
    // Two working days from the same start skip the whole holiday to Tuesday 24 Feb.
    const two = levelInstants(clock({ startMs: start, allowanceMs: 2 * a.ms }), c)!;
    expect(iso(two[100])).toBe('2026-02-24T02:30:00.000Z');
  });
  it('a unit override (a local holiday) moves the due time, in the unit’s own time zone', () => {
    const start = at('2026-12-07T14:30:00Z'); // Monday 09:30 in New York
    const ny = cal('America/New_York');
    const off = cal('America/New_York', [[{ day: '2026-12-08', kind: 'holiday', name: null }]]);
    const due = (c: ReturnType<typeof cal>) =>
      iso(levelInstants(clock({ startMs: start, allowanceMs: 9 * H }), c)![100]);
    expect(due(ny)).toBe('2026-12-08T14:30:00.000Z');
    expect(due(off)).toBe('2026-12-09T14:30:00.000Z');
  });
  it('a pause moves the due time by the working time it lasted; a paused clock has no instants', () => {
    const c = cal();
    const start = at('2026-12-07T01:00:00Z'); // Monday 09:00 Beijing
    const running = clock({ startMs: start });
    expect(levelInstants({ ...running, pausedAtMs: start + H }, c)).toBeNull();
    // Paused from Monday 12:00 to Tuesday 12:00 Beijing: 9 working hours stood still.
    const paused = workingTimeBetween(c, at('2026-12-07T04:00:00Z'), at('2026-12-08T04:00:00Z'));
    expect(paused).toBe(9 * H);
    const before = levelInstants(running, c)!;
    const after = levelInstants({ ...running, pausedMs: paused }, c)!;
    expect(workingTimeBetween(c, before[100], after[100])).toBe(9 * H);
    const now = at('2026-12-07T05:00:00Z');
    const stood = clockAt({ ...running, pausedAtMs: now }, c, now + 5 * H);
    expect(stood.state).toBe('paused');
    expect(stood.usedMs).toBe(4 * H); // 09:00–13:00 Beijing, then the clock stood still
  });
});

describe('levels', () => {
  it('fires each level once: what is due above the fired level, and what comes next', () => {
    const inst = { 50: 10, 75: 20, 90: 30, 100: 40, 125: 50 };
    expect(levelsDue(inst, 0, 25)).toEqual([50, 75]);
    expect(levelsDue(inst, 75, 25)).toEqual([]);
    expect(levelsDue(inst, 75, 45)).toEqual([90, 100]);
    expect(nextLevel(inst, 75)).toEqual({ level: 90, atMs: 30 });
    expect(nextLevel(inst, 125)).toBeNull();
    expect(nextLevel(null, 0)).toBeNull();
  });
  it('reads a share from the stored instants, exact at the levels', () => {
    const inst = [50, 75, 90, 100, 125];
    expect(percentFromInstants(0, inst, 75)).toBe(75);
    expect(percentFromInstants(0, inst, 95)).toBe(95);
    expect(percentFromInstants(0, inst, 150)).toBe(150);
    expect(percentFromInstants(0, [null, null, null, null, null], 10)).toBeNull();
  });
});

describe('extensions', () => {
  it('are asked before the deadline on a running clock, one at a time', () => {
    expect(checkExtensionRequest({ nowMs: 1, dueMs: 2, paused: false, pending: false })).toBeNull();
    expect(checkExtensionRequest({ nowMs: 2, dueMs: 2, paused: false, pending: false })).toBe('after_deadline');
    expect(checkExtensionRequest({ nowMs: 1, dueMs: 2, paused: true, pending: false })).toBe('paused');
    expect(checkExtensionRequest({ nowMs: 1, dueMs: 2, paused: false, pending: true })).toBe('pending');
  });
  it('are decided by the level above, never by the asker or the owner itself', () => {
    const base = { deciderUserId: 1, requesterUserId: 2, deciderPath: '/1/2/', ownerPath: '/1/2/3/', pending: true };
    expect(checkExtensionDecision(base)).toBeNull();
    expect(checkExtensionDecision({ ...base, requesterUserId: 1 })).toBe('own');
    expect(checkExtensionDecision({ ...base, deciderPath: '/1/2/3/' })).toBe('not_above');
    expect(checkExtensionDecision({ ...base, deciderPath: '/1/5/' })).toBe('not_above');
    expect(checkExtensionDecision({ ...base, pending: false })).toBe('decided');
  });
});

describe('properties over holidays, make-up days and time zones', () => {
  const zones = ['Asia/Shanghai', 'Asia/Urumqi', 'America/New_York', 'Europe/London', 'UTC'];
  const instant = fc.integer({ min: at('2024-01-01T00:00:00Z'), max: at('2027-06-01T00:00:00Z') });
  const day = fc
    .integer({ min: 0, max: 900 })
    .map((n) => new Date(at('2024-01-01T00:00:00Z') + n * 86_400_000).toISOString().slice(0, 10));
  const overrides = fc.array(
    fc.record({ day, kind: fc.constantFrom('holiday' as const, 'workday' as const), name: fc.constant(null) }),
    { maxLength: 12 },
  );
  it('levels are in order, each at its share of the working time, never on a day off', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        overrides,
        instant,
        fc.integer({ min: 1, max: 15 * 9 }),
        fc.integer({ min: 0, max: 20 * H }),
        (zone, over, start, hours, pausedMs) => {
          const c = cal(zone, [over]);
          const k = clock({ startMs: start, allowanceMs: hours * H, pausedMs });
          const inst = levelInstants(k, c)!;
          for (let i = 1; i < SLA_LEVELS.length; i++)
            expect(inst[SLA_LEVELS[i]!]).toBeGreaterThanOrEqual(inst[SLA_LEVELS[i - 1]!]);
          expect(workingTimeBetween(c, start, inst[100])).toBe(hours * H + pausedMs);
          expect(workingTimeBetween(c, start, inst[50])).toBe(Math.round(hours * H * 0.5) + pausedMs);
          // A deadline falls inside (or at the end of) working hours of a working day.
          expect(isWorkingDay(c, businessDay(inst[100] - 1, zone))).toBe(true);
          const there = clockAt(k, c, inst[100]);
          expect(there.usedMs).toBe(hours * H);
          expect(there.state).toBe('breached');
        },
      ),
      { numRuns: 200 },
    );
  });
  it('a pause of any length moves the due time by exactly the working time it stood still', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        overrides,
        instant,
        fc.integer({ min: 0, max: 10 * 24 * H }),
        fc.integer({ min: 0, max: 10 * 24 * H }),
        (zone, over, start, into, length) => {
          const c = cal(zone, [over]);
          const k = clock({ startMs: start, allowanceMs: 27 * H });
          const pauseAt = start + into;
          const stood = workingTimeBetween(c, pauseAt, pauseAt + length);
          const before = levelInstants(k, c)![100];
          const after = levelInstants({ ...k, pausedMs: stood }, c)![100];
          expect(workingTimeBetween(c, before, after)).toBe(stood);
          // The time used is the same at the pause's start and its end.
          const used = clockAt({ ...k, pausedAtMs: pauseAt }, c, pauseAt + length).usedMs;
          expect(clockAt({ ...k, pausedMs: stood }, c, pauseAt + length).usedMs).toBe(used);
        },
      ),
      { numRuns: 200 },
    );
  });
  it('clock-hour clocks ignore the calendar altogether', () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), overrides, instant, fc.integer({ min: 1, max: 100 }), (z, o, s, h) => {
        const inst = levelInstants(clock({ mode: 'clock', startMs: s, allowanceMs: h * H }), cal(z, [o]))!;
        expect(inst[100] - s).toBe(h * H);
        expect(inst[125] - s).toBe(Math.round(h * H * 1.25));
      }),
      { numRuns: 100 },
    );
  });
});
