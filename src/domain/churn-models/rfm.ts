// Event log → calibration summary (x, t_x, T) per customer, as BTYD's elog2cbs builds it.

const MS_PER_DAY = 86_400_000;
const DAYS_PER_WEEK = 7;

/** The per-customer statistics the BG/NBD and Pareto/NBD likelihoods need (time in weeks). */
export interface RfmTriplet {
  /** Repeat purchases (distinct purchase days after the first) in the calibration period. */
  x: number;
  /** Time of the last calibration purchase, measured from the first purchase. */
  tx: number;
  /** Length of observation: calibration end − first purchase. */
  T: number;
}

/** Identical triplets collapsed, so likelihoods are evaluated once per distinct history. */
export interface WeightedRfmTriplet extends RfmTriplet {
  count: number;
}

export interface PurchaseEvent<Id extends string | number = string | number> {
  customerId: Id;
  /** Calendar day, 'YYYY-MM-DD', or a Date read by its UTC calendar day. */
  date: string | Date;
}

export interface CustomerSummary<Id extends string | number = string | number> extends RfmTriplet {
  customerId: Id;
  /** First purchase day, 'YYYY-MM-DD'. */
  firstPurchase: string;
  /** Repeat purchases (distinct days) in the holdout period; only when a holdout end is given. */
  xHoldout?: number;
}

export interface SummaryOptions {
  /** Last day of the calibration period (inclusive). */
  calibrationEnd: string | Date;
  /** Last day of the holdout period (inclusive); the holdout starts the day after calibrationEnd. */
  holdoutEnd?: string | Date;
}

export interface CalibrationSummary<Id extends string | number = string | number> {
  /** Customers whose first purchase falls in the calibration period, in order of first appearance. */
  customers: CustomerSummary<Id>[];
  /** Holdout length in weeks, when a holdout end is given. */
  holdoutLength?: number;
}

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 (UTC) of a calendar day; throws on malformed or impossible dates. */
export function dayNumber(date: string | Date): number {
  if (date instanceof Date) {
    const ms = date.getTime();
    if (Number.isNaN(ms)) throw new RangeError('Invalid Date');
    // UTC calendar day, matching how JavaScript parses 'YYYY-MM-DD' strings.
    return Math.floor(ms / MS_PER_DAY);
  }
  const m = ISO_DAY.exec(date);
  if (m === null) throw new RangeError(`Expected a 'YYYY-MM-DD' date, got '${date}'`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  // Date.UTC silently rolls 1997-02-30 over to March; reject instead.
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) {
    throw new RangeError(`Not a calendar day: '${date}'`);
  }
  return ms / MS_PER_DAY;
}

function isoDay(dayNum: number): string {
  return new Date(dayNum * MS_PER_DAY).toISOString().slice(0, 10);
}

interface Accumulator {
  calibrationDays: Set<number>;
  holdoutDays: Set<number>;
}

/**
 * Summarise an event log: same-day purchases are merged, time is in weeks (days / 7),
 * events after the holdout end (or after the calibration end without holdout) are ignored,
 * and customers whose first purchase is after the calibration end are left out.
 */
export function summarizeEvents<Id extends string | number>(
  events: Iterable<PurchaseEvent<Id>>,
  options: SummaryOptions,
): CalibrationSummary<Id> {
  const calEnd = dayNumber(options.calibrationEnd);
  const holdEnd = options.holdoutEnd === undefined ? undefined : dayNumber(options.holdoutEnd);
  if (holdEnd !== undefined && holdEnd <= calEnd) {
    throw new RangeError('holdoutEnd must be after calibrationEnd');
  }

  const byCustomer = new Map<Id, Accumulator>();
  for (const event of events) {
    const day = dayNumber(event.date);
    let acc = byCustomer.get(event.customerId);
    if (acc === undefined) {
      acc = { calibrationDays: new Set(), holdoutDays: new Set() };
      byCustomer.set(event.customerId, acc);
    }
    if (day <= calEnd) acc.calibrationDays.add(day);
    else if (holdEnd !== undefined && day <= holdEnd) acc.holdoutDays.add(day);
  }

  const customers: CustomerSummary<Id>[] = [];
  for (const [customerId, acc] of byCustomer) {
    if (acc.calibrationDays.size === 0) continue;
    let first = Infinity;
    let last = -Infinity;
    for (const d of acc.calibrationDays) {
      if (d < first) first = d;
      if (d > last) last = d;
    }
    const summary: CustomerSummary<Id> = {
      customerId,
      x: acc.calibrationDays.size - 1,
      tx: (last - first) / DAYS_PER_WEEK,
      T: (calEnd - first) / DAYS_PER_WEEK,
      firstPurchase: isoDay(first),
    };
    if (holdEnd !== undefined) summary.xHoldout = acc.holdoutDays.size;
    customers.push(summary);
  }

  const result: CalibrationSummary<Id> = { customers };
  if (holdEnd !== undefined) result.holdoutLength = (holdEnd - calEnd) / DAYS_PER_WEEK;
  return result;
}

/** Collapse identical (x, t_x, T) histories into weighted rows; weights add up (missing count = 1). */
export function aggregateTriplets(data: Iterable<RfmTriplet & { count?: number }>): WeightedRfmTriplet[] {
  const groups = new Map<string, WeightedRfmTriplet>();
  for (const { x, tx, T, count } of data) {
    const key = `${x}|${tx}|${T}`;
    const weight = count ?? 1;
    const g = groups.get(key);
    if (g === undefined) groups.set(key, { x, tx, T, count: weight });
    else g.count += weight;
  }
  return [...groups.values()];
}

/** Throws on a history no customer could have (the likelihoods would silently return nonsense). */
export function assertValidTriplet({ x, tx, T }: RfmTriplet): void {
  if (!Number.isInteger(x) || x < 0) throw new RangeError(`x must be a non-negative integer, got ${x}`);
  if (!(tx >= 0) || !(T >= tx) || !Number.isFinite(T)) {
    throw new RangeError(`need 0 ≤ t_x ≤ T < ∞, got t_x=${tx}, T=${T}`);
  }
}
