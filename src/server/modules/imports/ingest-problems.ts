// Rows of a transaction or top-up file that the ingest refused, as the import center's own problems:
// the ingest's code (TRANSACTION_CONFLICT, STATION_REQUIRED, OUT_OF_RANGE, …) becomes a problem code
// worded when read in the reader's language, the field is named as the import names it (amount, not
// amountFen) and the value quoted is the one the row sent. A code the import does not know still
// reads as a sentence in the reader's language, never as the ingest's English.
import type { RowProblem } from './customer-rows.js';
import { encodeProblem, type ProblemCode, type ProblemParams } from './problems.js';

/** What the ingests return for a refused row of an import chunk. */
export interface IngestRowProblem {
  row: number;
  severity: 'error';
  field: string | null;
  message: string;
  code?: string;
  params?: Record<string, string | number>;
}

/** The ingest's JSON names of the fields that the import calls otherwise. */
const FIELD: Record<string, string> = {
  volumeMl: 'volumeLitres',
  amountFen: 'amount',
  unitPriceFen: 'unitPrice',
  bonusFen: 'bonus',
};

const shown = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number') return String(v);
  return typeof v === 'string' ? v : JSON.stringify(v);
};

/** A value the row sent, as the file had it (money and litres back in yuan and litres). */
function valueOf(sent: Record<string, unknown> | undefined, field: string): string {
  if (!sent) return '';
  if (field === 'volumeMl' && typeof sent.volumeMl === 'number') return String(sent.volumeMl / 1000);
  if (/Fen$/.test(field) && typeof sent[field] === 'number') return ((sent[field] as number) / 100).toFixed(2);
  return shown(sent[field]);
}

export function fromIngest(
  p: IngestRowProblem,
  sent: Record<string, unknown> | undefined,
  kind: 'transaction' | 'topup',
): RowProblem {
  const raw = p.field ?? '';
  const field = FIELD[raw] ?? raw;
  const value = valueOf(sent, raw);
  const params = p.params ?? {};
  let code: ProblemCode;
  let out: ProblemParams = { value };
  switch (p.code) {
    case 'TRANSACTION_CONFLICT':
    case 'TOPUP_CONFLICT':
      code = 'CONFLICT';
      out = { externalId: shown(params.externalId), firstRow: Number(params.firstRow ?? 0), kind };
      break;
    case 'STATION_UNKNOWN':
    case 'STATION_OUT_OF_SCOPE':
    case 'NOT_A_STATION':
    case 'STATION_REQUIRED':
      code = p.code;
      out = { value: shown(params.value) || value };
      break;
    case 'REQUIRED':
      code = 'REQUIRED';
      break;
    case 'OUT_OF_RANGE':
      if (params.when === 'future') code = 'FUTURE';
      else if (params.when === 'before2000') code = 'BEFORE_2000';
      else if (params.maxChars !== undefined) {
        code = 'TOO_LONG';
        out = { value, maxChars: Number(params.maxChars) };
      } else code = 'OUT_OF_RANGE';
      break;
    case 'INVALID':
      code =
        raw === 'cardNo'
          ? 'BAD_CARD'
          : raw === 'plate'
            ? 'BAD_PLATE'
            : raw === 'occurredAt'
              ? 'NOT_DATE_TIME'
              : raw === 'payment' || raw === 'businessLine'
                ? 'NOT_ALLOWED'
                : 'REFUSED';
      break;
    case 'WRONG_TYPE':
      code = raw === 'occurredAt' ? 'NOT_DATE_TIME' : 'NOT_ALLOWED';
      break;
    default:
      code = 'REFUSED';
      out = { ingestCode: p.code ?? '' };
  }
  return { row: p.row, severity: 'error', field: field || null, message: encodeProblem(code, out) };
}
