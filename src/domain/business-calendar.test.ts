import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addWorkingDays,
  addWorkingTime,
  holidayStarts,
  isWorkingDay,
  nearestWorkingDay,
  nextWorkingDayStart,
  nextWorkingInstant,
  parseClock,
  unitCalendar,
  weekday,
  workingDaysBetween,
  workingSpan,
  workingTimeBetween,
  yearDays,
  type OverrideDay,
} from './business-calendar.js';
import { birthdaysBetween, chinaStatutoryDays, lunarBirthdayInYear, lunarLeapMonth } from './china-calendar.js';
import { addDays } from './day-arithmetic.js';

const HOURS = { startMinute: 8 * 60 + 30, endMinute: 17 * 60 + 30 };
const H = 3_600_000;

function cal(timeZone = 'Asia/Shanghai', overridesTopDown: OverrideDay[][] = []) {
  return unitCalendar({ timeZone, hours: HOURS, statutory: chinaStatutoryDays, overridesTopDown });
}

describe('statutory days from chinese-days', () => {
  const c = cal();
  it('knows the weekday of a day', () => {
    expect(weekday('1970-01-01')).toBe(4);
    expect(weekday('2026-02-14')).toBe(6);
    expect(weekday('2026-12-06')).toBe(0);
  });
  it('Spring Festival 2026: 15–23 February off, Saturday 14 and Saturday 28 February worked', () => {
    for (let d = '2026-02-15'; d <= '2026-02-23'; d = addDays(d, 1)) expect(isWorkingDay(c, d), d).toBe(false);
    expect(isWorkingDay(c, '2026-02-14')).toBe(true);
    expect(isWorkingDay(c, '2026-02-28')).toBe(true);
    expect(c.markOf('2026-02-14')).toMatchObject({ kind: 'workday', name: '春节', source: 'statutory' });
    expect(isWorkingDay(c, '2026-02-13')).toBe(true);
    expect(isWorkingDay(c, '2026-02-24')).toBe(true);
  });
  it('National Day 2026: 1–7 October off, Sunday 20 September and Saturday 10 October worked', () => {
    for (let d = '2026-10-01'; d <= '2026-10-07'; d = addDays(d, 1)) expect(isWorkingDay(c, d)).toBe(false);
    expect(isWorkingDay(c, '2026-09-20')).toBe(true);
    expect(isWorkingDay(c, '2026-10-10')).toBe(true);
  });
  it('an ordinary weekend is off and an ordinary weekday is worked', () => {
    expect(isWorkingDay(c, '2026-03-07')).toBe(false);
    expect(isWorkingDay(c, '2026-03-09')).toBe(true);
    expect(c.markOf('2026-03-09')).toBeUndefined();
  });
  it('finds the first day of each holiday', () => {
    expect(holidayStarts(c, '2026-01-01', '2026-12-31').map((h) => `${h.day} ${h.name}`)).toEqual([
      '2026-01-01 元旦',
      '2026-02-15 春节',
      '2026-04-04 清明',
      '2026-05-01 劳动节',
      '2026-06-19 端午',
      '2026-09-25 中秋',
      '2026-10-01 国庆节',
    ]);
  });
  it('lists a year day by day', () => {
    const days = yearDays(c, 2026);
    expect(days).toHaveLength(365);
    expect(days.filter((d) => d.working)).toHaveLength(
      days.filter((d) => !d.weekend).length -
        days.filter((d) => d.mark?.kind === 'holiday' && !d.weekend).length +
        days.filter((d) => d.mark?.kind === 'workday' && d.weekend).length,
    );
  });
});

describe('working days', () => {
  const c = cal();
  it('counts across the Spring Festival', () => {
    // Friday 13 Feb + 1 working day = Saturday 14 (a make-up day); + 2 = Tuesday 24.
    expect(addWorkingDays(c, '2026-02-13', 1)).toBe('2026-02-14');
    expect(addWorkingDays(c, '2026-02-13', 2)).toBe('2026-02-24');
    expect(addWorkingDays(c, '2026-02-24', -1)).toBe('2026-02-14');
    expect(addWorkingDays(c, '2026-02-15', 0)).toBe('2026-02-24');
    expect(workingDaysBetween(c, '2026-02-13', '2026-02-25')).toBe(3);
  });
  it('crosses a year boundary', () => {
    // Wednesday 31 Dec 2025 + 1 = Sunday 4 Jan 2026 (make-up for New Year's Day, 1–3 Jan off).
    expect(addWorkingDays(c, '2025-12-31', 1)).toBe('2026-01-04');
    expect(addWorkingDays(c, '2026-01-04', -1)).toBe('2025-12-31');
    expect(nearestWorkingDay(c, '2026-01-01')).toBe('2026-01-04');
    expect(nearestWorkingDay(c, '2026-01-01', -1)).toBe('2025-12-31');
  });
  it('applies overrides, the nearest unit winning', () => {
    const hq: OverrideDay[] = [
      { day: '2026-03-09', kind: 'holiday', name: '公司日' },
      { day: '2026-02-16', kind: 'workday', name: null },
    ];
    const branch: OverrideDay[] = [{ day: '2026-03-09', kind: 'workday', name: null }];
    expect(isWorkingDay(cal('Asia/Shanghai', [hq]), '2026-03-09')).toBe(false);
    expect(isWorkingDay(cal('Asia/Shanghai', [hq]), '2026-02-16')).toBe(true);
    expect(isWorkingDay(cal('Asia/Shanghai', [hq, branch]), '2026-03-09')).toBe(true);
    expect(cal('Asia/Shanghai', [hq]).markOf('2026-03-09')).toMatchObject({ source: 'override', name: '公司日' });
  });
  it('refuses a fractional count and fails plainly when no day is a working day', () => {
    expect(() => addWorkingDays(c, '2026-01-01', 1.5)).toThrow(/integer/);
    const never = unitCalendar({
      timeZone: 'UTC',
      hours: HOURS,
      statutory: () => ({ kind: 'holiday', name: 'x', nameEn: 'x' }),
      overridesTopDown: [],
    });
    expect(() => addWorkingDays(never, '2026-01-01', 1)).toThrow(/no working day/);
  });
  it('property: adding n working days lands on a working day n working days away', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 365 * 3 }), fc.integer({ min: -40, max: 40 }), (offset, n) => {
        const day = addDays('2024-01-01', offset);
        const to = addWorkingDays(c, day, n);
        expect(isWorkingDay(c, to)).toBe(true);
        if (n > 0) expect(workingDaysBetween(c, day, to)).toBe(n - 1 + (isWorkingDay(c, day) ? 1 : 0));
        if (n > 0) expect(workingDaysBetween(c, addDays(day, 1), addDays(to, 1))).toBe(n);
        if (n < 0) expect(workingDaysBetween(c, to, day)).toBe(-n);
      }),
    );
  });
});

describe('working time', () => {
  const sh = cal('Asia/Shanghai');
  const at = (iso: string) => Date.parse(iso);
  it('takes the working hours in the unit’s zone', () => {
    const span = workingSpan(sh, '2026-03-09')!;
    expect(new Date(span.start).toISOString()).toBe('2026-03-09T00:30:00.000Z');
    expect(new Date(span.end).toISOString()).toBe('2026-03-09T09:30:00.000Z');
    expect(workingSpan(sh, '2026-03-07')).toBeNull();
    // The make-up Saturday has working hours.
    expect(workingSpan(sh, '2026-02-14')).not.toBeNull();
  });
  it('counts working hours across a weekend and the Spring Festival', () => {
    // Friday 13 Feb 16:30 local → Tuesday 24 Feb 09:30 local: 1 h + Saturday 14 (9 h) + 1 h.
    expect(workingTimeBetween(sh, at('2026-02-13T08:30:00Z'), at('2026-02-24T01:30:00Z'))).toBe(11 * H);
    expect(workingTimeBetween(sh, at('2026-02-24T01:30:00Z'), at('2026-02-13T08:30:00Z'))).toBe(0);
  });
  it('counts across a year boundary', () => {
    // 31 Dec 2025 17:00 local → 4 Jan 2026 09:30 local: 0.5 h + 1 h.
    expect(workingTimeBetween(sh, at('2025-12-31T09:00:00Z'), at('2026-01-04T01:30:00Z'))).toBe(1.5 * H);
    expect(new Date(addWorkingTime(sh, at('2025-12-31T09:00:00Z'), 1.5 * H)).toISOString()).toBe(
      '2026-01-04T01:30:00.000Z',
    );
  });
  it('finds the next working day start', () => {
    // Friday 13 Feb 18:00 local → Saturday 14 Feb 08:30 local (make-up day).
    expect(new Date(nextWorkingDayStart(sh, at('2026-02-13T10:00:00Z'))).toISOString()).toBe(
      '2026-02-14T00:30:00.000Z',
    );
    // Saturday 14 Feb 18:00 local → Tuesday 24 Feb 08:30.
    expect(new Date(nextWorkingDayStart(sh, at('2026-02-14T10:00:00Z'))).toISOString()).toBe(
      '2026-02-24T00:30:00.000Z',
    );
    // Before the start of a working day: that day's start.
    expect(new Date(nextWorkingDayStart(sh, at('2026-03-09T00:00:00Z'))).toISOString()).toBe(
      '2026-03-09T00:30:00.000Z',
    );
    // Inside working hours: the instant itself is working time; the next start is tomorrow's.
    expect(nextWorkingInstant(sh, at('2026-03-09T02:00:00Z'))).toBe(at('2026-03-09T02:00:00Z'));
    expect(new Date(nextWorkingDayStart(sh, at('2026-03-09T02:00:00Z'))).toISOString()).toBe(
      '2026-03-10T00:30:00.000Z',
    );
  });
  it('reads the hours in a zone west of UTC (the statutory days still apply to its calendar days)', () => {
    const ur = cal('Asia/Urumqi');
    // Urumqi is UTC+6: 08:30 local is 02:30 UTC.
    expect(new Date(workingSpan(ur, '2026-03-09')!.start).toISOString()).toBe('2026-03-09T02:30:00.000Z');
    const ny = cal('America/New_York');
    expect(new Date(workingSpan(ny, '2026-03-09')!.start).toISOString()).toBe('2026-03-09T12:30:00.000Z');
    // Friday 6 March (EST, UTC−5) 08:30 → Monday 9 March (EDT, UTC−4, clocks changed on Sunday 8).
    expect(workingTimeBetween(ny, at('2026-03-06T13:30:00Z'), at('2026-03-09T12:30:00Z'))).toBe(9 * H);
  });
  it('a DST day with working hours across the change is an hour shorter', () => {
    const ny = unitCalendar({
      timeZone: 'America/New_York',
      hours: { startMinute: 0, endMinute: 23 * 60 },
      statutory: () => undefined,
      overridesTopDown: [[{ day: '2026-03-08', kind: 'workday', name: null }]],
    });
    const span = workingSpan(ny, '2026-03-08')!;
    expect(span.end - span.start).toBe(22 * H);
  });

  const zones = ['Asia/Shanghai', 'America/New_York', 'Europe/London', 'Asia/Kolkata', 'UTC'];
  const instant = fc.integer({ min: Date.parse('2024-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') });
  it('property: working time is additive, bounded by elapsed time, and inverted by addWorkingTime', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        instant,
        fc.integer({ min: 0, max: 20 * 24 * H }),
        fc.integer({ min: 0, max: 20 * 24 * H }),
        (zone, a, d1, d2) => {
          const c = cal(zone);
          const b = a + d1;
          const e = b + d2;
          const ab = workingTimeBetween(c, a, b);
          expect(ab).toBeLessThanOrEqual(b - a);
          expect(ab + workingTimeBetween(c, b, e)).toBe(workingTimeBetween(c, a, e));
          const w = Math.min(ab, 50 * H);
          const end = addWorkingTime(c, a, w);
          expect(workingTimeBetween(c, a, end)).toBe(w);
          const start = nextWorkingDayStart(c, a);
          expect(start).toBeGreaterThanOrEqual(a);
          expect(workingTimeBetween(c, a, start)).toBeLessThanOrEqual(9 * H);
        },
      ),
      { numRuns: 300 },
    );
  });
  it('property: the next working day start is the start of working hours on a working day', () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), instant, (zone, a) => {
        const c = cal(zone);
        const s = nextWorkingDayStart(c, a);
        const later = workingTimeBetween(c, s, s + 60_000);
        expect(later).toBe(60_000);
        expect(workingTimeBetween(c, s - 60_000, s)).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
  it('reads clock times', () => {
    expect(parseClock('08:30')).toBe(510);
    expect(parseClock('24:00')).toBeNull();
    expect(parseClock('8:30')).toBeNull();
  });
});

describe('lunar birthdays', () => {
  it('turns a lunar date into this year’s solar day', () => {
    // Lunar 2026-01-01 is the Spring Festival, 17 Feb 2026.
    expect(lunarBirthdayInYear(2026, 1, 1)).toBe('2026-02-17');
    // Mid-autumn: lunar 8/15 of 2026 is 25 Sep 2026.
    expect(lunarBirthdayInYear(2026, 8, 15)).toBe('2026-09-25');
  });
  it('keeps a birthday in the ordinary month of a year with a leap month of that number', () => {
    // 2025 has a leap sixth month (闰六月): 6/1 is 25 June, the leap 6/1 is 25 July.
    expect(lunarLeapMonth(2025)).toBe(6);
    expect(lunarBirthdayInYear(2025, 6, 1)).toBe('2025-06-25');
  });
  it('keeps a 30th in a 29-day month on the 29th', () => {
    // The second lunar month of 2026 has 29 days: 2/30 falls on 2/29, 17 April 2026 (2/1 is 18 March).
    expect(lunarBirthdayInYear(2026, 2, 29)).toBe('2026-04-16');
    expect(lunarBirthdayInYear(2026, 2, 30)).toBe('2026-04-16');
    // The first month has 30 days: the 30th is its own day.
    expect(lunarBirthdayInYear(2026, 1, 30)).toBe('2026-03-18');
  });
  it('finds the birthdays in a window, across the solar new year', () => {
    // Lunar 12/20 of lunar year 2025 falls on 7 Feb 2026.
    expect(birthdaysBetween('1980-12-20', 'lunar', '2026-01-01', '2026-12-31')).toEqual(['2026-02-07']);
    expect(birthdaysBetween('1990-03-15', 'solar', '2026-03-10', '2026-03-20')).toEqual(['2026-03-15']);
    expect(birthdaysBetween('1992-02-29', 'solar', '2027-02-01', '2027-03-01')).toEqual(['2027-02-28']);
    expect(birthdaysBetween('1990-03-15', 'solar', '2026-03-16', '2026-03-20')).toEqual([]);
  });
  it('refuses a lunar month or day out of range', () => {
    expect(() => lunarBirthdayInYear(2026, 13, 1)).toThrow(/month/);
    expect(() => lunarBirthdayInYear(2026, 1, 31)).toThrow(/day/);
  });
  it('property: every lunar birthday falls within its lunar year', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1950, max: 2090 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 30 }),
        (y, m, d) => {
          const day = lunarBirthdayInYear(y, m, d);
          expect(day >= lunarBirthdayInYear(y, 1, 1)).toBe(true);
          expect(day < lunarBirthdayInYear(y + 1, 1, 1)).toBe(true);
          if (d > 1) expect(day > lunarBirthdayInYear(y, m, 1)).toBe(true);
        },
      ),
    );
  });
});
