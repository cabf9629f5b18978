// IANA time zones the browser knows, Asia/Shanghai first (the default in China).
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

/** The zone's own name in the reader's language (Asia/Shanghai: 中国标准时间), or the id when the browser has none. */
export function timeZoneName(zone: string, locale: string): string {
  try {
    const part = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'long' })
      .formatToParts(new Date())
      .find((p) => p.type === 'timeZoneName');
    return part?.value ?? zone;
  } catch {
    return zone;
  }
}

export function timeZoneOptions(): { value: string; label: string }[] {
  let zones: string[];
  try {
    zones = Intl.supportedValuesOf('timeZone');
  } catch {
    zones = [];
  }
  const rest = zones.filter((z) => z !== DEFAULT_TIME_ZONE && z !== 'UTC');
  return [DEFAULT_TIME_ZONE, 'UTC', ...rest].map((z) => ({ value: z, label: z }));
}
