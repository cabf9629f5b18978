// Headline figures of the dashboards and key-customer analysis: growth, shares, "the top 20%",
// and the month arithmetic they are compared over. Pure functions; the figures come from rollups.

/** Growth from `base` to `current` (0.25 = +25%); null when there is no base to grow from. */
export function growth(current: number, base: number): number | null {
  if (base === 0) return null;
  return (current - base) / base;
}

/** `part` as a share of `whole` (0–1); null when the whole is zero. */
export function shareOf(part: number, whole: number): number | null {
  if (whole === 0) return null;
  return part / whole;
}

/** How many of `n` customers make up the top `share` of them: rounded up, at least one when any. */
export function topCount(n: number, share: number): number {
  if (n <= 0 || share <= 0) return 0;
  // 0.7 × 10 is 7.000000000000001 in floating point; it must not round up to 8.
  return Math.min(n, Math.max(1, Math.ceil(n * share - 1e-9)));
}

export interface TopShare {
  /** Customers with any volume. */
  customers: number;
  /** Of them, how many count as the top. */
  topCustomers: number;
  topVolume: number;
  totalVolume: number;
  /** topVolume / totalVolume, null when nobody bought anything. */
  share: number | null;
}

/** The share of the total carried by the top `share` of the values (biggest first). */
export function topShareOf(values: readonly number[], share: number): TopShare {
  const sorted = values.filter((v) => v > 0).sort((a, b) => b - a);
  const top = topCount(sorted.length, share);
  let topVolume = 0;
  let totalVolume = 0;
  sorted.forEach((v, i) => {
    totalVolume += v;
    if (i < top) topVolume += v;
  });
  return {
    customers: sorted.length,
    topCustomers: top,
    topVolume,
    totalVolume,
    share: shareOf(topVolume, totalVolume),
  };
}

/** A sale of at least `minYuan` counts as large (amounts are in fen). */
export function isLargeSale(amountFen: number | null, minYuan: number): boolean {
  return amountFen !== null && amountFen >= Math.round(minYuan * 100);
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isMonth(text: string): boolean {
  return MONTH.test(text);
}

/** The month `delta` months after `month` ('YYYY-MM'); negative goes back. */
export function addMonths(month: string, delta: number): string {
  const m = MONTH.exec(month);
  if (!m) throw new Error(`not a month: ${month}`);
  const index = Number(m[1]) * 12 + Number(m[2]) - 1 + delta;
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;
}

export function sameMonthLastYear(month: string): string {
  return addMonths(month, -12);
}

/** First and last business day of a month, for ranges over 'YYYY-MM-DD' columns. */
export function monthDays(month: string): { first: string; last: string } {
  const next = addMonths(month, 1);
  const lastDay = new Date(Date.UTC(Number(next.slice(0, 4)), Number(next.slice(5, 7)) - 1, 0)).getUTCDate();
  return { first: `${month}-01`, last: `${month}-${String(lastDay).padStart(2, '0')}` };
}
