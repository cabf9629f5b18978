// Top-up rows from an import go through the same service as the card systems' API, under the source
// 'import': idempotent on the row's external id (or, without one, a hash of the row), so importing
// a file twice records each top-up once.
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { RowProblem } from './customer-rows.js';
import { fromIngest, type IngestRowProblem } from './ingest-problems.js';
import { IMPORT_SOURCE } from './transaction-rows.js';

export interface ImportedTopup {
  externalId: string;
  occurredAt: string;
  stationCode?: string;
  cardNo?: string;
  amountFen?: number;
  bonusFen?: number;
  payment?: string;
}

/** What the import needs of the top-up ingest: one chunk inside the caller's transaction. */
export interface TopupSink {
  ingestChunk(
    trx: Kysely<Database>,
    rows: { rowNumber: number; topup: ImportedTopup }[],
    opts: { source: string; orgUnitId: number; write: boolean },
  ): Promise<{ inserted: number; duplicates: number; problems: IngestRowProblem[] }>;
}

const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
const int = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : undefined);

/** The converted row as an ingest top-up; without an external id, a hash of what identifies the top-up. */
export function topupOf(value: Record<string, unknown>): ImportedTopup {
  const t: ImportedTopup = {
    externalId: '',
    occurredAt: text(value.occurredAt) ?? '',
    stationCode: text(value.stationCode),
    cardNo: text(value.cardNo),
    amountFen: int(value.amountFen),
    bonusFen: int(value.bonusFen),
    payment: text(value.payment),
  };
  t.externalId =
    text(value.externalId) ??
    `h:${crypto
      .createHash('sha256')
      .update(JSON.stringify(['topup', t.occurredAt, t.stationCode, t.cardNo, t.amountFen, t.bonusFen]))
      .digest('hex')
      .slice(0, 32)}`;
  // The ingest reads JSON: absent fields are left out, not sent as undefined.
  return Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as unknown as ImportedTopup;
}

export class TopupRowImporter {
  constructor(
    private readonly sink: TopupSink,
    private readonly orgUnitId: number,
  ) {}

  /** The chunk through the ingest; what it refused is worded by the import (problems.ts), not in its English. */
  async apply(
    trx: Kysely<Database>,
    rows: { rowNumber: number; value: Record<string, unknown> }[],
    write: boolean,
  ): Promise<{ inserted: number; duplicates: number; problems: RowProblem[] }> {
    const sent = rows.map((r) => ({ rowNumber: r.rowNumber, topup: topupOf(r.value) }));
    const r = await this.sink.ingestChunk(trx, sent, { source: IMPORT_SOURCE, orgUnitId: this.orgUnitId, write });
    const byRow = new Map(sent.map((x) => [x.rowNumber, x.topup as unknown as Record<string, unknown>]));
    return { ...r, problems: r.problems.map((p) => fromIngest(p, byRow.get(p.row), 'topup')) };
  }
}
