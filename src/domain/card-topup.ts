// Fuel-card top-ups (充值) as card systems send them: checking and normalising one row. The card
// number and the time follow the rules of fuel sales; a top-up has no product and no volume.
import { parseCardNo } from './card.js';
import { MAX_AMOUNT_FEN, integer, occurredAt, text, type RowProblem } from './fuel-transaction.js';

/** How the money for a top-up was paid. */
export const TOPUP_PAYMENTS = ['cash', 'bank_card', 'mobile', 'transfer', 'credit', 'voucher', 'other'] as const;
export type TopupPayment = (typeof TOPUP_PAYMENTS)[number];

/** The fields a row may carry (JSON names). */
export const TOPUP_FIELDS = [
  'externalId',
  'occurredAt',
  'stationCode',
  'cardNo',
  'amountFen',
  'bonusFen',
  'payment',
] as const;

export interface ParsedTopup {
  externalId: string;
  /** Epoch ms; when `local`, the wall-clock time read as if UTC, to be placed in the station's time zone. */
  timeMs: number;
  local: boolean;
  /** The time as sent when it already is a canonical UTC instant, else null. */
  utcText: string | null;
  stationCode: string | null;
  cardNo: string;
  /** Money paid onto the card, in fen; more than zero. */
  amountFen: number;
  /** What the card system gave on top (赠送), in fen; 0 when not sent. */
  bonusFen: number;
  payment: TopupPayment | null;
}

export type TopupParseResult = { ok: true; value: ParsedTopup } | { ok: false; problems: RowProblem[] };

const FIELD_SET = new Set<string>(TOPUP_FIELDS);
const PAYMENT_SET = new Set<string>(TOPUP_PAYMENTS);

/** Check one top-up row; every problem names its field. `nowMs` bounds top-ups dated in the future. */
export function parseTopup(raw: unknown, nowMs: number): TopupParseResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, problems: [{ field: '', code: 'NOT_AN_OBJECT', message: 'a top-up must be a JSON object' }] };
  const r = raw as Record<string, unknown>;
  const problems: RowProblem[] = [];
  for (const key in r)
    if (!FIELD_SET.has(key)) problems.push({ field: key, code: 'UNKNOWN_FIELD', message: `unknown field ${key}` });

  const externalId = text(r.externalId, 'externalId', 64, problems, true);
  const time = occurredAt(r.occurredAt, nowMs, problems);
  const stationCode = text(r.stationCode, 'stationCode', 64, problems, false);

  let cardNo: string | null = null;
  const cardText = text(r.cardNo, 'cardNo', 40, problems, true);
  if (cardText !== null) {
    const c = parseCardNo(cardText);
    if (c.ok) cardNo = c.cardNo;
    else problems.push({ field: 'cardNo', code: 'INVALID', message: c.reason });
  }

  const amountFen = integer(r.amountFen, 'amountFen', 1, MAX_AMOUNT_FEN, problems);
  if (r.amountFen === undefined || r.amountFen === null)
    problems.push({ field: 'amountFen', code: 'REQUIRED', message: 'amountFen is required' });
  const bonusFen = integer(r.bonusFen, 'bonusFen', 0, MAX_AMOUNT_FEN, problems) ?? 0;

  let payment: TopupPayment | null = null;
  if (r.payment !== undefined && r.payment !== null) {
    if (typeof r.payment === 'string' && PAYMENT_SET.has(r.payment)) payment = r.payment as TopupPayment;
    else
      problems.push({
        field: 'payment',
        code: 'INVALID',
        message: `payment must be one of ${TOPUP_PAYMENTS.join(', ')}`,
      });
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: { externalId: externalId!, ...time, stationCode, cardNo: cardNo!, amountFen: amountFen!, bonusFen, payment },
  };
}

/** What a top-up says: a repeat of its key must say the same, or it is a conflict, not a duplicate. */
export interface TopupContent {
  timeMs: number;
  /** The station it is booked at. */
  orgUnitId: number;
  cardNo: string;
  amountFen: number;
  bonusFen: number;
  payment: string | null;
}

/** The row fields (JSON names) in which `again` differs from `first`; none when it is the same top-up sent again. */
export function topupDifferences(first: TopupContent, again: TopupContent): string[] {
  const out: string[] = [];
  if (first.timeMs !== again.timeMs) out.push('occurredAt');
  if (first.orgUnitId !== again.orgUnitId) out.push('stationCode');
  if (first.cardNo !== again.cardNo) out.push('cardNo');
  if (first.amountFen !== again.amountFen) out.push('amountFen');
  if (first.bonusFen !== again.bonusFen) out.push('bonusFen');
  if (first.payment !== again.payment) out.push('payment');
  return out;
}
