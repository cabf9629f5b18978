// One source row turned into the fields an importer takes: cells read by the column mapping, dates
// and numbers in the forms spreadsheets hold them (date cells, Excel serial numbers, 2026/11/22 8:30,
// 2026年11月22日, "1,234.50元"), yuan to fen, litres to millilitres. A problem names the field.
import type { Cell } from './read.js';
import type { ImportKind } from './mapping.js';
import type { ProblemCode, ProblemParams } from '../problems.js';

/** A field's problem as a code and its parameters (worded when read, see ../problems.ts). */
export interface FieldError {
  field?: string;
  code: ProblemCode;
  params?: ProblemParams;
}

/** A failed row keeps the fields that did convert, so the archive's checks can name theirs too. */
export type Converted =
  { ok: true; value: Record<string, unknown> } | { ok: false; errors: FieldError[]; value: Record<string, unknown> };

/** Excel's day 0 is 1899-12-30 (the 1900 leap-year bug included). */
const EXCEL_EPOCH_MS = Date.UTC(1899, 11, 30);
const DAY_MS = 86_400_000;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** A Date from exceljs holds the sheet's wall clock as UTC fields. */
function wallClock(d: Date, withTime: boolean): string {
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  return withTime ? `${day}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}` : day;
}

function fromSerial(n: number): Date | null {
  // 1950 … 2150: a number outside is not a date serial.
  if (!(n > 18_264 && n < 91_311)) return null;
  return new Date(EXCEL_EPOCH_MS + Math.round((n * DAY_MS) / 1000) * 1000);
}

function halfWidth(s: string): string {
  return s.normalize('NFKC').trim();
}

const DATE_TEXT = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/;
const COMPACT_DATE = /^(\d{4})(\d{2})(\d{2})$/;
const DATE_TIME_TEXT =
  /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+|T)(\d{1,2})\s*[:时]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})(?:\.(\d{1,9}))?\s*秒?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const COMPACT_DATE_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/;

function validDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/** A calendar date as YYYY-MM-DD, or null. */
export function parseDateCell(c: Cell): string | null {
  if (c === null) return null;
  if (c instanceof Date) return wallClock(c, false);
  if (typeof c === 'number') {
    const d = fromSerial(c);
    if (d) return wallClock(d, false);
    const m = COMPACT_DATE.exec(String(c));
    return m && validDate(+m[1]!, +m[2]!, +m[3]!) ? `${m[1]}-${m[2]}-${m[3]}` : null;
  }
  const s = halfWidth(String(c));
  const m = DATE_TEXT.exec(s) ?? COMPACT_DATE.exec(s);
  if (!m) return null;
  const [y, mo, d] = [+m[1]!, +m[2]!, +m[3]!];
  return validDate(y, mo, d) ? `${y}-${pad(mo)}-${pad(d)}` : null;
}

/**
 * A date-time as the ingest reads it: YYYY-MM-DDTHH:mm:ss (the station's wall clock), with the
 * offset kept when the cell gives one. A date alone is midnight; `timeOfDay` comes from its own column.
 */
export function parseDateTimeCell(c: Cell, timeOfDay: Cell = null): string | null {
  if (c === null) return null;
  let base: string | null = null;
  if (c instanceof Date) base = wallClock(c, true);
  else if (typeof c === 'number') {
    const d = fromSerial(c);
    if (d) base = wallClock(d, true);
    else {
      const m = COMPACT_DATE_TIME.exec(String(c));
      if (m) base = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}`;
      else if (COMPACT_DATE.test(String(c))) base = parseDateCell(c) && `${parseDateCell(c)}T00:00:00`;
    }
  } else {
    const s = halfWidth(String(c));
    const m = DATE_TIME_TEXT.exec(s);
    const cm = COMPACT_DATE_TIME.exec(s);
    if (m) {
      const [y, mo, d, h, mi, sec] = [+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, m[6] ? +m[6] : 0];
      if (!validDate(y, mo, d) || h > 23 || mi > 59 || sec > 59) return null;
      base = `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(sec)}${m[7] ? `.${m[7]}` : ''}${m[8] ?? ''}`;
    } else if (cm) {
      if (!validDate(+cm[1]!, +cm[2]!, +cm[3]!)) return null;
      base = `${cm[1]}-${cm[2]}-${cm[3]}T${cm[4]}:${cm[5]}:${cm[6] ?? '00'}`;
    } else {
      const day = parseDateCell(s);
      if (day) base = `${day}T00:00:00`;
    }
  }
  if (base === null || timeOfDay === null) return base;
  const t = parseTimeOfDay(timeOfDay);
  return t === null ? null : `${base.slice(0, 10)}T${t}`;
}

/** A time of day (08:30, 8:30:15, a time cell, or Excel's fraction of a day) as HH:mm:ss. */
export function parseTimeOfDay(c: Cell): string | null {
  if (c === null) return null;
  if (c instanceof Date) return `${pad(c.getUTCHours())}:${pad(c.getUTCMinutes())}:${pad(c.getUTCSeconds())}`;
  if (typeof c === 'number') {
    if (!(c >= 0 && c < 1)) return null;
    const sec = Math.round(c * 86_400);
    return `${pad(Math.floor(sec / 3600) % 24)}:${pad(Math.floor(sec / 60) % 60)}:${pad(sec % 60)}`;
  }
  const m = /^(\d{1,2})\s*[:时]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2}))?\s*秒?$/.exec(halfWidth(String(c)));
  if (!m || +m[1]! > 23 || +m[2]! > 59 || (m[3] !== undefined && +m[3] > 59)) return null;
  return `${pad(+m[1]!)}:${pad(+m[2]!)}:${pad(m[3] ? +m[3] : 0)}`;
}

/** A number as spreadsheets and people write it: 1,234.50 · ¥12 · 35.5升 · 35.5L. */
export function parseNumberCell(c: Cell): number | null {
  if (c === null) return null;
  if (typeof c === 'number') return Number.isFinite(c) ? c : null;
  if (typeof c !== 'string') return null;
  const s = halfWidth(c)
    .replace(/[,\s¥$]|元|升|公升|rmb|cny/gi, '')
    .replace(/l$/i, '');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(s)) return null;
  return Number(s);
}

function text(c: Cell): string | null {
  if (c === null) return null;
  if (c instanceof Date) return wallClock(c, false);
  if (typeof c === 'number') return String(c);
  const s = String(c).trim();
  return s === '' ? null : s;
}

/** Cards, phones and ids stored as numbers past 15 digits have already lost digits in the spreadsheet. */
function lostDigits(c: Cell): boolean {
  return typeof c === 'number' && (!Number.isSafeInteger(c) || Math.abs(c) >= 1e15);
}

// How card systems and e-ledgers write the payment; anything else goes to the ingest as written.
const PAYMENT_WORDS: Record<string, string> = {
  加油卡: 'card',
  IC卡: 'card',
  卡: 'card',
  油卡: 'card',
  现金: 'cash',
  银行卡: 'bank_card',
  刷卡: 'bank_card',
  信用卡: 'bank_card',
  微信: 'mobile',
  支付宝: 'mobile',
  扫码: 'mobile',
  移动支付: 'mobile',
  转账: 'transfer',
  对公转账: 'transfer',
  银行转账: 'transfer',
  挂账: 'credit',
  记账: 'credit',
  赊账: 'credit',
  券: 'voucher',
  代金券: 'voucher',
  优惠券: 'voucher',
  其他: 'other',
};

const WHOLE_TEXT_FIELDS = new Set(['cardNo', 'phone', 'phone2', 'externalId', 'plate', 'mobile']);

function cellsByField(
  mapping: Record<string, string>,
  header: readonly string[],
  cells: readonly Cell[],
): Map<string, Cell> {
  const out = new Map<string, Cell>();
  for (let i = 0; i < header.length; i++) {
    const field = mapping[header[i]!];
    if (!field || out.has(field)) continue;
    const c = cells[i];
    out.set(field, c === undefined ? null : c);
  }
  return out;
}

/** The time of a sale or top-up: one date-time column, or a date column and a time column. */
function occurredAtOf(by: Map<string, Cell>, value: Record<string, unknown>, errors: FieldError[]): void {
  const at = by.get('occurredAt') ?? null;
  if (at === null) errors.push({ field: 'occurredAt', code: 'REQUIRED' });
  else {
    const t = parseDateTimeCell(at, by.get('occurredTime') ?? null);
    if (t === null) errors.push({ field: 'occurredAt', code: 'NOT_DATE_TIME', params: { value: text(at) ?? '' } });
    else value.occurredAt = t;
  }
}

/** An amount in yuan as fen; undefined when the cell is empty or wrong (then with an error). */
function fenOf(by: Map<string, Cell>, field: string, errors: FieldError[]): number | undefined {
  const c = by.get(field) ?? null;
  if (c === null) return undefined;
  const n = parseNumberCell(c);
  if (n === null || n < 0) {
    errors.push({ field, code: 'NOT_AMOUNT', params: { value: text(c) ?? '' } });
    return undefined;
  }
  return Math.round(n * 100);
}

/** Text fields as written; the payment in the card systems' words becomes the ingest's. */
function textsOf(by: Map<string, Cell>, fields: readonly string[], value: Record<string, unknown>): void {
  for (const f of fields) {
    const v = text(by.get(f) ?? null);
    if (v !== null) value[f] = v;
  }
  if (typeof value.payment === 'string') value.payment = PAYMENT_WORDS[value.payment] ?? value.payment;
}

export function convertRow(
  kind: ImportKind,
  mapping: Record<string, string>,
  cells: readonly unknown[],
  _rowNumber: number,
  header: readonly string[],
): Converted {
  const by = cellsByField(mapping, header, cells as Cell[]);
  const errors: FieldError[] = [];
  const value: Record<string, unknown> = {};
  for (const [field, c] of by) {
    // PostgreSQL cannot store U+0000 in text: the row is refused by field, not the whole import.
    if (typeof c === 'string' && c.includes('\u0000')) errors.push({ field, code: 'CONTROL_CHAR' });
    if (WHOLE_TEXT_FIELDS.has(field) && lostDigits(c)) {
      errors.push({ field, code: 'LOST_DIGITS', params: { value: String(c) } });
    }
  }
  if (kind === 'transactions') {
    occurredAtOf(by, value, errors);
    const litres = by.get('volumeLitres') ?? null;
    const l = parseNumberCell(litres);
    if (litres === null) errors.push({ field: 'volumeLitres', code: 'REQUIRED' });
    else if (l === null || l <= 0)
      errors.push({ field: 'volumeLitres', code: 'NOT_VOLUME', params: { value: text(litres) ?? '' } });
    else value.volumeMl = Math.max(1, Math.round(l * 1000));
    const unitPriceFen = fenOf(by, 'unitPrice', errors);
    let amountFen = fenOf(by, 'amount', errors);
    // Without an amount, litres × unit price is what the customer paid.
    if (amountFen === undefined && unitPriceFen !== undefined && typeof value.volumeMl === 'number')
      amountFen = Math.round((unitPriceFen * value.volumeMl) / 1000);
    if (amountFen === undefined && !errors.some((e) => e.field === 'amount' || e.field === 'unitPrice'))
      errors.push({ field: 'amount', code: 'REQUIRED' });
    if (unitPriceFen !== undefined) value.unitPriceFen = unitPriceFen;
    if (amountFen !== undefined) value.amountFen = amountFen;
    textsOf(by, ['externalId', 'stationCode', 'cardNo', 'plate', 'product', 'payment'], value);
    if (value.product === undefined) errors.push({ field: 'product', code: 'REQUIRED' });
  } else if (kind === 'topups') {
    occurredAtOf(by, value, errors);
    const amountFen = fenOf(by, 'amount', errors);
    if (amountFen === undefined) {
      if (!errors.some((e) => e.field === 'amount')) errors.push({ field: 'amount', code: 'REQUIRED' });
    } else if (amountFen <= 0) errors.push({ field: 'amount', code: 'NOT_POSITIVE' });
    else value.amountFen = amountFen;
    const bonusFen = fenOf(by, 'bonus', errors);
    if (bonusFen !== undefined) value.bonusFen = bonusFen;
    textsOf(by, ['externalId', 'stationCode', 'cardNo', 'payment'], value);
    if (value.cardNo === undefined) errors.push({ field: 'cardNo', code: 'REQUIRED' });
  } else {
    for (const [field, c] of by) {
      if (field === 'birthday') {
        if (c === null) continue;
        const d = parseDateCell(c);
        if (d === null) errors.push({ field, code: 'NOT_DATE', params: { value: text(c) ?? '' } });
        else value.birthday = d;
        continue;
      }
      const v = text(c);
      if (v !== null) value[field] = v;
    }
    if (kind === 'cards' && value.cardNo === undefined) errors.push({ field: 'cardNo', code: 'REQUIRED' });
  }
  return errors.length ? { ok: false, errors, value } : { ok: true, value };
}
