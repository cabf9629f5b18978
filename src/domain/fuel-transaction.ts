// Fuel sales as card, e-ledger and POS systems send them: checking and normalising one row, and the
// rule by which such a row and a fill-up recorded by hand at the pump are the same purchase.
import { parsePlate } from './plate.js';
import { parseCardNo } from './card.js';

export const BUSINESS_LINES = ['retail', 'wholesale', 'card', 'non_oil', 'lubricant'] as const;
export type BusinessLine = (typeof BUSINESS_LINES)[number];

export const PAYMENTS = ['card', 'cash', 'bank_card', 'mobile', 'credit', 'voucher', 'other'] as const;
export type Payment = (typeof PAYMENTS)[number];

/** The fields a row may carry (JSON names). Exactly one of volumeMl and volumeLitres. */
export const TRANSACTION_FIELDS = [
  'externalId',
  'occurredAt',
  'stationCode',
  'cardNo',
  'plate',
  'product',
  'businessLine',
  'volumeMl',
  'volumeLitres',
  'unitPriceFen',
  'amountFen',
  'payment',
] as const;

/** Sources other systems may use; 'pump' is reserved for fill-ups recorded by hand in this system. */
export const SOURCE_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,31}$/;
export const PUMP_SOURCE = 'pump';

/**
 * A row is the same sale as one on file when it has the same (namespace, source, external id). A
 * sender's namespace is the id of the org unit its API key (or an import) belongs to, so one sender
 * cannot claim another's external ids. Namespace 0 holds what this system records itself (fill-ups at
 * the pump) and imported rows on file from before namespaces, whose importing unit is not known.
 */
export const SYSTEM_NAMESPACE = 0;

export const MAX_VOLUME_ML = 2_000_000_000;
export const MAX_AMOUNT_FEN = 2_000_000_000;
export const MAX_UNIT_PRICE_FEN = 10_000_000;
/** Clocks of stations and card systems drift; a sale more than a day ahead of ours is a wrong date. */
const MAX_FUTURE_MS = 86_400_000;

export interface ParsedTransaction {
  externalId: string;
  /** Epoch ms; when `local`, the wall-clock time read as if UTC, to be placed in the station's time zone. */
  timeMs: number;
  local: boolean;
  /** The time as sent when it already is a canonical UTC instant (2026-11-22T00:30:00.000Z), else null. */
  utcText: string | null;
  stationCode: string | null;
  cardNo: string | null;
  plate: string | null;
  product: string;
  businessLine: BusinessLine;
  volumeMl: number;
  unitPriceFen: number | null;
  amountFen: number;
  /** As sent; when absent and a card number is present, the sale counts as paid by card. */
  payment: Payment | null;
}

export interface RowProblem {
  field: string;
  code: 'NOT_AN_OBJECT' | 'UNKNOWN_FIELD' | 'REQUIRED' | 'WRONG_TYPE' | 'OUT_OF_RANGE' | 'INVALID';
  message: string;
  /** What the message says in figures (bounds), for a reader who words it in his own language. */
  params?: Record<string, number | string>;
}

export type ParseResult = { ok: true; value: ParsedTransaction } | { ok: false; problems: RowProblem[] };

const FIELD_SET = new Set<string>(TRANSACTION_FIELDS);
const LINE_SET = new Set<string>(BUSINESS_LINES);
const PAYMENT_SET = new Set<string>(PAYMENTS);
// 2026-11-22T08:30:00+08:00, 2026-11-22 08:30:00.123Z, 2026-11-22T08:30 (the station's wall clock).
const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** An ISO-8601 date-time: with Z or an offset it is an instant; without, the station's wall clock. */
export function parseTime(text: string): { ok: true; ms: number; local: boolean } | { ok: false; reason: string } {
  const m = TIME.exec(text.trim());
  if (!m) return { ok: false, reason: `${JSON.stringify(text)} is not a date-time like 2026-11-22T08:30:00+08:00` };
  const [y, mo, d, h, mi] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
  const s = m[6] ? Number(m[6]) : 0;
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59)
    return { ok: false, reason: `${JSON.stringify(text)} is not a valid date-time` };
  const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (new Date(wall).getUTCDate() !== d) return { ok: false, reason: `${JSON.stringify(text)} is not a calendar date` };
  const zone = m[8];
  if (!zone) return { ok: true, ms: wall, local: true };
  if (zone === 'Z' || zone === 'z') return { ok: true, ms: wall, local: false };
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMin = Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2)) : 0);
  if (offsetMin > 14 * 60) return { ok: false, reason: `${JSON.stringify(text)} has an impossible offset` };
  return { ok: true, ms: wall - sign * offsetMin * 60_000, local: false };
}

/** A text field of a row (a safe integer is taken as its digits), trimmed; a problem is added when it is wrong. */
export function text(v: unknown, field: string, max: number, problems: RowProblem[], required: boolean): string | null {
  if (v === undefined || v === null || v === '') {
    if (required) problems.push({ field, code: 'REQUIRED', message: `${field} is required` });
    return null;
  }
  if (typeof v === 'number' && Number.isSafeInteger(v)) v = String(v);
  if (typeof v !== 'string') {
    problems.push({ field, code: 'WRONG_TYPE', message: `${field} must be a string` });
    return null;
  }
  // PostgreSQL cannot store U+0000 in text; such a row is refused alone rather than failing its chunk.
  if (v.includes('\u0000')) {
    problems.push({ field, code: 'INVALID', message: `${field} must not contain the character U+0000` });
    return null;
  }
  const t = v.trim();
  if (t.length === 0 || t.length > max) {
    problems.push({
      field,
      code: t.length === 0 ? 'REQUIRED' : 'OUT_OF_RANGE',
      message: `${field} must be 1–${max} characters`,
      params: { maxChars: max },
    });
    return null;
  }
  return t;
}

/** An optional integer field of a row within [min, max]; a problem is added when it is wrong. */
export function integer(v: unknown, field: string, min: number, max: number, problems: RowProblem[]): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    problems.push({ field, code: 'WRONG_TYPE', message: `${field} must be an integer` });
    return null;
  }
  if (v < min || v > max) {
    const params = { min, max };
    problems.push({ field, code: 'OUT_OF_RANGE', message: `${field} must be between ${min} and ${max}`, params });
    return null;
  }
  return v;
}

/**
 * The required `occurredAt` of a row: an ISO-8601 date-time from 2000 up to a day ahead of `nowMs`.
 * On a problem the time is 0 and the problem is added.
 */
export function occurredAt(
  v: unknown,
  nowMs: number,
  problems: RowProblem[],
): { timeMs: number; local: boolean; utcText: string | null } {
  const none = { timeMs: 0, local: false, utcText: null };
  if (v === undefined || v === null || v === '')
    problems.push({ field: 'occurredAt', code: 'REQUIRED', message: 'occurredAt is required' });
  else if (typeof v !== 'string')
    problems.push({ field: 'occurredAt', code: 'WRONG_TYPE', message: 'occurredAt must be a date-time string' });
  else {
    const t = parseTime(v);
    if (!t.ok) problems.push({ field: 'occurredAt', code: 'INVALID', message: t.reason });
    // A wall-clock time is at most 14 h away from UTC, which the day's margin covers.
    else if (t.ms > nowMs + MAX_FUTURE_MS + (t.local ? 14 * 3_600_000 : 0))
      problems.push({
        field: 'occurredAt',
        code: 'OUT_OF_RANGE',
        message: `occurredAt ${v} is in the future`,
        params: { when: 'future' },
      });
    else if (t.ms < Date.UTC(2000, 0, 1))
      problems.push({
        field: 'occurredAt',
        code: 'OUT_OF_RANGE',
        message: `occurredAt ${v} is before 2000`,
        params: { when: 'before2000' },
      });
    else return { timeMs: t.ms, local: t.local, utcText: !t.local && v.length === 24 && CANONICAL.test(v) ? v : null };
  }
  return none;
}

/**
 * Check one row and normalise it (card number, plate). Every problem is reported with the field
 * it concerns, so a sender can fix all of a row at once. `nowMs` bounds sales dated in the future.
 */
export function parseTransaction(raw: unknown, nowMs: number): ParseResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return {
      ok: false,
      problems: [{ field: '', code: 'NOT_AN_OBJECT', message: 'a transaction must be a JSON object' }],
    };
  const r = raw as Record<string, unknown>;
  const problems: RowProblem[] = [];
  for (const key in r)
    if (!FIELD_SET.has(key)) problems.push({ field: key, code: 'UNKNOWN_FIELD', message: `unknown field ${key}` });

  const externalId = text(r.externalId, 'externalId', 64, problems, true);
  const { timeMs, local, utcText } = occurredAt(r.occurredAt, nowMs, problems);
  const stationCode = text(r.stationCode, 'stationCode', 64, problems, false);

  let cardNo: string | null = null;
  const cardText = text(r.cardNo, 'cardNo', 40, problems, false);
  if (cardText !== null) {
    const c = parseCardNo(cardText);
    if (c.ok) cardNo = c.cardNo;
    else problems.push({ field: 'cardNo', code: 'INVALID', message: c.reason });
  }
  let plate: string | null = null;
  const plateText = text(r.plate, 'plate', 20, problems, false);
  if (plateText !== null) {
    const p = parsePlate(plateText);
    if (p.ok) plate = p.plate;
    else problems.push({ field: 'plate', code: 'INVALID', message: p.reason });
  }

  const product = text(r.product, 'product', 32, problems, true);
  let businessLine: BusinessLine = 'retail';
  if (r.businessLine !== undefined && r.businessLine !== null) {
    if (typeof r.businessLine === 'string' && LINE_SET.has(r.businessLine))
      businessLine = r.businessLine as BusinessLine;
    else
      problems.push({
        field: 'businessLine',
        code: 'INVALID',
        message: `businessLine must be one of ${BUSINESS_LINES.join(', ')}`,
      });
  }

  let volumeMl: number | null = null;
  if (r.volumeMl !== undefined && r.volumeMl !== null && r.volumeLitres !== undefined && r.volumeLitres !== null) {
    problems.push({ field: 'volumeLitres', code: 'INVALID', message: 'give volumeMl or volumeLitres, not both' });
  } else if (r.volumeLitres !== undefined && r.volumeLitres !== null) {
    const l = r.volumeLitres;
    if (typeof l !== 'number' || !Number.isFinite(l))
      problems.push({ field: 'volumeLitres', code: 'WRONG_TYPE', message: 'volumeLitres must be a number' });
    else if (l <= 0 || l * 1000 > MAX_VOLUME_ML)
      problems.push({
        field: 'volumeLitres',
        code: 'OUT_OF_RANGE',
        message: `volumeLitres must be above 0 and at most ${MAX_VOLUME_ML / 1000}`,
      });
    else volumeMl = Math.max(1, Math.round(l * 1000));
  } else {
    volumeMl = integer(r.volumeMl, 'volumeMl', 1, MAX_VOLUME_ML, problems);
    if (volumeMl === null && (r.volumeMl === undefined || r.volumeMl === null))
      problems.push({ field: 'volumeMl', code: 'REQUIRED', message: 'volumeMl or volumeLitres is required' });
  }
  const amountFen = integer(r.amountFen, 'amountFen', 0, MAX_AMOUNT_FEN, problems);
  if (r.amountFen === undefined || r.amountFen === null)
    problems.push({ field: 'amountFen', code: 'REQUIRED', message: 'amountFen is required' });
  const unitPriceFen = integer(r.unitPriceFen, 'unitPriceFen', 0, MAX_UNIT_PRICE_FEN, problems);

  let payment: Payment | null = null;
  if (r.payment !== undefined && r.payment !== null) {
    if (typeof r.payment === 'string' && PAYMENT_SET.has(r.payment)) payment = r.payment as Payment;
    else problems.push({ field: 'payment', code: 'INVALID', message: `payment must be one of ${PAYMENTS.join(', ')}` });
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      externalId: externalId!,
      timeMs,
      local,
      utcText,
      stationCode,
      cardNo,
      plate,
      product: product!,
      businessLine,
      volumeMl: volumeMl!,
      unitPriceFen,
      amountFen: amountFen!,
      payment,
    },
  };
}

/** What a sale says: a repeat of its key must say the same, or it is a conflict, not a duplicate. */
export interface SaleContent {
  timeMs: number;
  /** The station it is booked at. */
  orgUnitId: number;
  cardNo: string | null;
  plate: string | null;
  product: string;
  businessLine: string;
  volumeMl: number;
  unitPriceFen: number | null;
  amountFen: number | null;
  payment: string | null;
}

/** The row fields (JSON names) in which `again` differs from `first`; none when it is the same sale sent again. */
export function saleDifferences(first: SaleContent, again: SaleContent): string[] {
  const out: string[] = [];
  if (first.timeMs !== again.timeMs) out.push('occurredAt');
  if (first.orgUnitId !== again.orgUnitId) out.push('stationCode');
  if (first.cardNo !== again.cardNo) out.push('cardNo');
  if (first.plate !== again.plate) out.push('plate');
  if (first.product !== again.product) out.push('product');
  if (first.businessLine !== again.businessLine) out.push('businessLine');
  if (first.volumeMl !== again.volumeMl) out.push('volumeMl');
  if (first.unitPriceFen !== again.unitPriceFen) out.push('unitPriceFen');
  if (first.amountFen !== again.amountFen) out.push('amountFen');
  if (first.payment !== again.payment) out.push('payment');
  return out;
}

/** Whether a sale counts toward the card share of a station's takings. */
export function paidByCard(payment: string | null, cardNo: string | null): boolean {
  return payment === 'card' || (payment === null && cardNo !== null);
}

/** A card or POS row replaces a hand-recorded fill-up within this time of it… */
export const PUMP_MATCH_WINDOW_MS = 30 * 60_000;
/** …whose volume is within this share of the row's volume. */
export const PUMP_MATCH_VOLUME_SHARE = 0.05;

export interface FillUp {
  customerId: number;
  orgUnitId: number;
  product: string;
  timeMs: number;
  volumeMl: number;
}

/**
 * The rule that makes a fill-up count once: the card system's row and the attendant's record are
 * the same purchase when they are for the same customer, station and product, within 30 minutes,
 * and the volumes differ by at most 5% of the card row's volume.
 */
export function sameFillUp(row: FillUp, pump: FillUp): boolean {
  return (
    row.customerId === pump.customerId &&
    row.orgUnitId === pump.orgUnitId &&
    row.product === pump.product &&
    Math.abs(row.timeMs - pump.timeMs) <= PUMP_MATCH_WINDOW_MS &&
    Math.abs(row.volumeMl - pump.volumeMl) <= PUMP_MATCH_VOLUME_SHARE * row.volumeMl
  );
}
