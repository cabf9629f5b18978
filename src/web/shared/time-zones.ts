// IANA time zones the browser knows, Asia/Shanghai first (the default in China).
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

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
