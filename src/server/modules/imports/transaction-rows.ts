// Transaction rows from an import go through the same ingest as the POS and card systems, under
// the source 'import': idempotent on the row's external id (or, without one, a hash of the row), so
// importing a file twice records each fill-up once.
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { RowProblem } from './customer-rows.js';
import { fromIngest, type IngestRowProblem } from './ingest-problems.js';

export const IMPORT_SOURCE = 'import';

export interface ImportedTransaction {
  externalId: string;
  occurredAt: string;
  stationCode?: string;
  cardNo?: string;
  plate?: string;
  product?: string;
  volumeMl: number;
  unitPriceFen?: number;
  amountFen?: number;
}

/** What the import needs of the transaction ingest: one chunk inside the caller's transaction. */
export interface TransactionSink {
  ingestChunk(
    trx: Kysely<Database>,
    rows: { rowNumber: number; tx: ImportedTransaction }[],
    opts: { source: string; orgUnitId: number; write: boolean },
  ): Promise<{ inserted: number; duplicates: number; problems: IngestRowProblem[] }>;
}

function text(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  const s = (v instanceof Date ? v.toISOString() : String(v)).trim();
  return s === '' ? undefined : s;
}

function int(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : undefined;
}

/** The converted row as an ingest transaction; without an external id, a hash of what identifies the fill-up. */
export function transactionOf(value: Record<string, unknown>): ImportedTransaction {
  const at = value.occurredAt instanceof Date ? value.occurredAt.toISOString() : text(value.occurredAt);
  const tx: ImportedTransaction = {
    externalId: '',
    occurredAt: at!,
    stationCode: text(value.stationCode),
    cardNo: text(value.cardNo),
    plate: text(value.plate),
    product: text(value.product),
    volumeMl: int(value.volumeMl) ?? 0,
    unitPriceFen: int(value.unitPriceFen),
    amountFen: int(value.amountFen),
  };
  const given = text(value.externalId);
  tx.externalId =
    given ??
    `h:${crypto
      .createHash('sha256')
      .update(
        JSON.stringify([tx.occurredAt, tx.stationCode, tx.cardNo, tx.plate, tx.product, tx.volumeMl, tx.amountFen]),
      )
      .digest('hex')
      .slice(0, 32)}`;
  // The ingest reads JSON: absent fields are left out, not sent as undefined.
  return Object.fromEntries(Object.entries(tx).filter(([, v]) => v !== undefined)) as unknown as ImportedTransaction;
}

export class TransactionRowImporter {
  constructor(
    private readonly sink: TransactionSink,
    private readonly orgUnitId: number,
  ) {}

  /** The chunk through the ingest; what it refused is worded by the import (problems.ts), not in its English. */
  async apply(
    trx: Kysely<Database>,
    rows: { rowNumber: number; value: Record<string, unknown> }[],
    write: boolean,
  ): Promise<{ inserted: number; duplicates: number; problems: RowProblem[] }> {
    const sent = rows.map((r) => ({ rowNumber: r.rowNumber, tx: transactionOf(r.value) }));
    const r = await this.sink.ingestChunk(trx, sent, { source: IMPORT_SOURCE, orgUnitId: this.orgUnitId, write });
    const byRow = new Map(sent.map((x) => [x.rowNumber, x.tx as unknown as Record<string, unknown>]));
    return { ...r, problems: r.problems.map((p) => fromIngest(p, byRow.get(p.row), 'transaction')) };
  }
}
