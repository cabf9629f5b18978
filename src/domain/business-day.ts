// Instants are UTC; the business day and month are the station's calendar in its own time zone.

const DAY_MS = 86_400_000;
// Offsets change at most every quarter hour (zones with :30 and :45 offsets switch on those marks).
const BUCKET_MS = 15 * 60_000;

interface ZoneCache {
  format: Intl.DateTimeFormat;
  offsets: Map<number, number>;
}
const zones = new Map<string, ZoneCache>();

function zone(timeZone: string): ZoneCache {
  let z = zones.get(timeZone);
  if (!z) {
    z = {
      format: new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      }),
      offsets: new Map(),
    };
    zones.set(timeZone, z);
  }
  return z;
}

/** Milliseconds to add to a UTC instant to read the wall clock of `timeZone` (Asia/Shanghai: +8 h). */
export function zoneOffsetMs(timeZone: string, utcMs: number): number {
  const z = zone(timeZone);
  const bucket = Math.floor(utcMs / BUCKET_MS);
  let offset = z.offsets.get(bucket);
  if (offset === undefined) {
    const at = bucket * BUCKET_MS;
    const parts: Record<string, number> = {};
    for (const p of z.format.formatToParts(new Date(at))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
    offset = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) - at;
    // A year of quarter hours is 35,000 entries per zone; start over rather than grow without end.
    if (z.offsets.size > 200_000) z.offsets.clear();
    z.offsets.set(bucket, offset);
  }
  return offset;
}

/** The UTC instant of a wall-clock time in `timeZone` (given as if it were UTC). */
export function zonedToUtc(wallMs: number, timeZone: string): number {
  // Two passes settle the offset on either side of a daylight-saving change.
  const first = wallMs - zoneOffsetMs(timeZone, wallMs);
  return wallMs - zoneOffsetMs(timeZone, first);
}

const dayText = new Map<number, string>();

/** 'YYYY-MM-DD' of the instant in `timeZone`. */
export function businessDay(utcMs: number, timeZone: string): string {
  // Millions of rows fall on a few hundred days: format each day once.
  const day = Math.floor((utcMs + zoneOffsetMs(timeZone, utcMs)) / DAY_MS);
  let text = dayText.get(day);
  if (text === undefined) {
    text = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (dayText.size > 100_000) dayText.clear();
    dayText.set(day, text);
  }
  return text;
}

/** Days since 1970-01-01 of a 'YYYY-MM-DD' day. */
export function dayNumber(day: string): number {
  return Math.round(Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10))) / DAY_MS);
}

/**
 * The usual interval between visits: the mean gap between consecutive visit days. The gaps
 * telescope, so it is (last day − first day) / (visit days − 1) and stays exact under incremental
 * updates; null until there are two visit days.
 */
export function meanIntervalDays(firstDay: string | null, lastDay: string | null, visitDays: number): number | null {
  if (firstDay === null || lastDay === null || visitDays < 2) return null;
  return (dayNumber(lastDay) - dayNumber(firstDay)) / (visitDays - 1);
}
