// China's statutory holidays and make-up working days, and lunar dates, from maintained libraries
// rather than typed in: chinese-days carries the State Council's yearly notices (a year appears once
// the notice is out, usually in November of the year before); tyme4ts converts lunar dates.
import chineseDays from 'chinese-days';
import { LunarDay, LunarMonth, LunarYear } from 'tyme4ts';
import type { StatutoryDays } from './business-calendar.js';

// The library names a marked day "Spring Festival,春节,4"; an ordinary day by its weekday ("Monday").
const cache = new Map<string, ReturnType<StatutoryDays>>();

/** The statutory mark of a day in mainland China: a public holiday, a make-up working day, or nothing. */
export const chinaStatutoryDays: StatutoryDays = (day) => {
  if (cache.has(day)) return cache.get(day);
  const detail = chineseDays.getDayDetail(day);
  const parts = detail.name.split(',');
  const mark =
    parts.length >= 2
      ? { kind: detail.work ? ('workday' as const) : ('holiday' as const), name: parts[1]!, nameEn: parts[0]! }
      : undefined;
  if (cache.size > 50_000) cache.clear();
  cache.set(day, mark);
  return mark;
};

/**
 * The solar day on which a lunar birthday (month 1–12, day 1–30 of the lunar calendar) falls in lunar
 * year `lunarYear`. Birthdays are kept in the ordinary month: in a year with a leap month of the same
 * number (闰六月), the first, ordinary month is the birthday's. A 30th in a month of 29 days is kept on
 * the 29th, the month's last day (people keep the birthday in that month rather than move it on).
 */
export function lunarBirthdayInYear(lunarYear: number, month: number, day: number): string {
  if (!Number.isInteger(month) || month < 1 || month > 12) throw new Error(`lunar month ${month} is out of range`);
  if (!Number.isInteger(day) || day < 1 || day > 30) throw new Error(`lunar day ${day} is out of range`);
  const days = LunarMonth.fromYm(lunarYear, month).getDayCount();
  const solar = LunarDay.fromYmd(lunarYear, month, Math.min(day, days)).getSolarDay();
  return `${solar.getYear()}-${String(solar.getMonth()).padStart(2, '0')}-${String(solar.getDay()).padStart(2, '0')}`;
}

/** The leap month of a lunar year (1–12), or 0. */
export function lunarLeapMonth(lunarYear: number): number {
  return LunarYear.fromYear(lunarYear).getLeapMonth();
}

/** The solar days in [from, to] on which a birthday falls; `birthday` is 'YYYY-MM-DD' (lunar: the lunar month and day). */
export function birthdaysBetween(birthday: string, calendar: 'solar' | 'lunar', from: string, to: string): string[] {
  const month = Number(birthday.slice(5, 7));
  const day = Number(birthday.slice(8, 10));
  const firstYear = Number(from.slice(0, 4));
  const lastYear = Number(to.slice(0, 4));
  const out = new Set<string>();
  // A lunar year starts in January or February: its 11th and 12th months fall in the next solar year.
  for (let y = firstYear - 1; y <= lastYear; y++) {
    let d: string;
    if (calendar === 'lunar') d = lunarBirthdayInYear(y, month, day);
    else {
      const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
      // Born on 29 February: the 28th in other years.
      const dd = month === 2 && day === 29 && !leap ? 28 : day;
      d = `${y}-${String(month).padStart(2, '0')}-${String(dd).padStart(2, '0')}`;
    }
    if (d >= from && d <= to) out.add(d);
  }
  return [...out].sort();
}
