// Ingest: transactions from card, e-ledger and POS systems. Rows are checked one by one (a bad row
// is reported by number and field while the rest land), then stored in chunks, each chunk in one
// database transaction with its customer look-ups and rollup updates. A row's key is (namespace,
// source, external id), the namespace being the sender's org unit: a repeat of a key with the same
// content is a duplicate and changes nothing, one with other content is refused as a conflict.
import { ingestRejected, ingestRows } from '../../metrics.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import {
  SHARED_ROLLUP_WRITER_ROWS,
  lockRollupCustomers,
  serialiseRollupWriters,
  shareRollupWriters,
  type Engine,
} from '../../db/dialect.js';
import { AppError } from '../../errors.js';
import {
  PUMP_SOURCE,
  SOURCE_PATTERN,
  SYSTEM_NAMESPACE,
  parseTransaction,
  saleDifferences,
  type ParsedTransaction,
} from '../../../domain/fuel-transaction.js';
import { transactionsQueries as q, type CustomerCadence, type TxnRow } from './transactions.queries.js';
import { storeRows } from './rollups.js';
import {
  placeRows,
  resolveStations,
  settleOnFile,
  type PlacementReject,
  type Placed,
  type RowKind,
  type StationUnit,
} from './placement.js';

/**
 * Rows per database transaction, unless INGEST_CHUNK_ROWS says otherwise. Larger chunks write each
 * touched page once for more rows: a chunk of sales touches most pages of the customer table and of
 * `fuel_transaction`'s index by customer whatever its size. SQLite, 5,000,000 rows (2026-12-03):
 * 0.44 of the raw rate at 20,000, 0.51 at 50,000 (the raw load commits every 50,000 too); PostgreSQL
 * showed no difference at 1,000,000. The price is on SQLite: every other request waits for the chunk
 * to finish: 2.9 s a chunk on average over that run at 50,000 rows, 1.3 s at 20,000. JSON requests
 * (1 MiB, a few thousand rows) are one chunk anyway; this matters for long NDJSON streams.
 */
export const CHUNK_ROWS = 50_000;
/** Errors listed in a reply; the counts are always complete. */
export const MAX_REPORTED_ERRORS = 1000;

/** A row that could not even be read (a line of NDJSON that is not JSON). */
export class UnreadableRow {
  constructor(readonly message: string) {}
}

export interface RowError {
  /** 1-based position of the row in the batch (for NDJSON, among the non-empty lines). */
  row: number;
  externalId: string | null;
  field: string;
  code: string;
  message: string;
}

export interface IngestInput {
  source: string;
  rows: Iterable<unknown> | AsyncIterable<unknown>;
  /**
   * The sender's org unit (its API key's): the namespace of the rows' external ids, and the station of
   * rows that name none, when it is a station.
   */
  senderUnitId: number;
  /** Rows may name stations only inside this org path. */
  scopePath: string;
  apiKeyId?: number | null;
  userId?: number | null;
}

export interface IngestResult {
  batchId: number;
  received: number;
  inserted: number;
  duplicates: number;
  rejected: number;
  /** Rejected rows that repeat an external id with other content (`TRANSACTION_CONFLICT`). */
  conflicts: number;
  /** Inserted rows that found their customer by card or plate. */
  attached: number;
  /** Hand-recorded fill-ups that an inserted row replaced. */
  superseded: number;
  errors: RowError[];
  errorsTruncated: boolean;
}

/** A row of an import chunk the ingest refused: its code (TRANSACTION_CONFLICT, STATION_REQUIRED, …) and what it names. */
export interface ChunkProblem {
  row: number;
  severity: 'error';
  field: string | null;
  message: string;
  code: string;
  params?: Record<string, string | number>;
}

const codeOf = (p: { code: string; message: string; params?: Record<string, string | number> }) => ({
  code: p.code,
  message: p.message,
  ...(p.params && { params: p.params }),
});

/** The code of a row that repeats the key of a sale on file (or earlier in its batch) with other content. */
export const TRANSACTION_CONFLICT = 'TRANSACTION_CONFLICT';

type Unit = StationUnit;

interface Pending extends ParsedTransaction {
  rowNo: number;
}

/** Sales of one sender and source: how a placed row becomes a stored one, and how repeats are compared. */
interface SaleKind extends RowKind<Pending, TxnRow> {
  namespace: number;
  source: string;
}

function saleKind(namespace: number, source: string): SaleKind {
  return {
    namespace,
    source,
    conflictCode: TRANSACTION_CONFLICT,
    differs: saleDifferences,
    build: (p, at) => ({
      namespace,
      source,
      externalId: p.externalId,
      occurredAt: at.occurredAt,
      timeMs: at.timeMs,
      businessDay: at.businessDay,
      orgUnitId: at.orgUnitId,
      customerId: null,
      cardNo: p.cardNo,
      plate: p.plate,
      product: p.product,
      businessLine: p.businessLine,
      volumeMl: p.volumeMl,
      unitPriceFen: p.unitPriceFen,
      amountFen: p.amountFen,
      payment: p.payment,
      visitId: null,
    }),
  };
}

interface Stored {
  inserted: number;
  duplicates: number;
  conflicts: number;
  attached: number;
  superseded: number;
}

/** Sources are short machine names; 'pump' belongs to fill-ups recorded by hand. */
export function checkSource(source: string): void {
  if (!SOURCE_PATTERN.test(source) || source === PUMP_SOURCE) {
    throw new AppError(
      'VALIDATION_FAILED',
      `source must be 1–32 lower-case letters, digits, '_', '.' or '-', and not '${PUMP_SOURCE}'`,
      'source',
    );
  }
}

export class IngestService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
    private readonly now: () => Date = () => new Date(),
    readonly chunkRows = CHUNK_ROWS,
  ) {}

  async ingest(input: IngestInput): Promise<IngestResult> {
    checkSource(input.source);
    const home = await q.stationById(this.db, input.senderUnitId);
    if (!home) throw new AppError('NOT_FOUND', `org unit ${input.senderUnitId} not found`);
    const homeUnit: Unit = home;
    const units = new Map<string, Unit | null>([[home.code, homeUnit]]);
    const kind = saleKind(input.senderUnitId, input.source);

    const receivedAt = this.now().toISOString();
    const { id: batchId } = await this.db
      .insertInto('ingest_batch')
      .values({
        source: input.source,
        api_key_id: input.apiKeyId ?? null,
        user_id: input.userId ?? null,
        received_at: receivedAt,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const result: IngestResult = {
      batchId,
      received: 0,
      inserted: 0,
      duplicates: 0,
      rejected: 0,
      conflicts: 0,
      attached: 0,
      superseded: 0,
      errors: [],
      errorsTruncated: false,
    };
    // A refused row counts once, however many of its fields are wrong.
    const reject: PlacementReject = (row, externalId, issues) => {
      result.rejected++;
      for (const p of issues) {
        if (result.errors.length >= MAX_REPORTED_ERRORS) result.errorsTruncated = true;
        else result.errors.push({ row, externalId, field: p.field, code: p.code, message: p.message });
      }
    };

    const nowMs = this.now().getTime();
    let pending: Pending[] = [];
    /** Check one row; true when a chunk is ready to store. */
    const accept = (raw: unknown): boolean => {
      const rowNo = ++result.received;
      if (raw instanceof UnreadableRow) {
        reject(rowNo, null, [{ field: '', code: 'BAD_JSON', message: raw.message }]);
        return false;
      }
      const parsed = parseTransaction(raw, nowMs);
      if (!parsed.ok) {
        const id = (raw as { externalId?: unknown } | null)?.externalId;
        reject(rowNo, typeof id === 'string' || typeof id === 'number' ? String(id) : null, parsed.problems);
        return false;
      }
      const row = parsed.value as Pending;
      row.rowNo = rowNo;
      pending.push(row);
      return pending.length >= this.chunkRows;
    };
    // A chunk is stored while the next one is read and checked: on PostgreSQL the database works
    // while this process parses. One chunk is stored at a time, in order.
    let storing: Promise<void> = Promise.resolve();
    const flush = async () => {
      const chunk = pending;
      pending = [];
      await storing;
      storing = this.storeChunk(input, batchId, chunk, units, homeUnit, kind, result, reject);
      storing.catch(() => undefined); // awaited at the next flush or the end
    };
    if (Symbol.asyncIterator in input.rows) {
      for await (const raw of input.rows) if (accept(raw)) await flush();
    } else {
      for (const raw of input.rows) if (accept(raw)) await flush();
    }
    if (pending.length) await flush();
    await storing;
    await this.db
      .updateTable('ingest_batch')
      .set({ finished_at: this.now().toISOString(), rows_received: result.received, rejected: result.rejected })
      .where('id', '=', batchId)
      .execute();
    ingestRows.inc({ source: 'api' }, result.inserted);
    ingestRejected.inc(result.rejected);
    return result;
  }

  /**
   * One chunk inside the caller's transaction, for the import center: rows are checked (a dry run
   * stops there) and stored as the API stores them, under the caller's source, in the namespace of the
   * importing unit.
   */
  async ingestChunk(
    trx: Kysely<Database>,
    rows: { rowNumber: number; tx: object }[],
    opts: { source: string; orgUnitId: number; write: boolean },
  ): Promise<{ inserted: number; duplicates: number; problems: ChunkProblem[] }> {
    const problems: ChunkProblem[] = [];
    const home = await q.stationById(trx, opts.orgUnitId);
    if (!home) throw new AppError('NOT_FOUND', `org unit ${opts.orgUnitId} not found`);
    const homeUnit: Unit = home;
    const units = new Map<string, Unit | null>([[home.code, homeUnit]]);
    const kind = saleKind(opts.orgUnitId, opts.source);
    const nowMs = this.now().getTime();
    const pending: Pending[] = [];
    for (const r of rows) {
      const parsed = parseTransaction(r.tx, nowMs);
      if (parsed.ok) pending.push(Object.assign(parsed.value, { rowNo: r.rowNumber }));
      else
        for (const p of parsed.problems)
          problems.push({ row: r.rowNumber, severity: 'error', field: p.field || null, ...codeOf(p) });
    }
    await resolveStations(trx, this.engine, pending, units);
    const reject: PlacementReject = (row, _id, issues) => {
      for (const p of issues) problems.push({ row, severity: 'error', field: p.field, ...codeOf(p) });
    };
    const placed = placeRows(pending, units, homeUnit, homeUnit.path, reject, kind);
    if (!opts.write) return { inserted: 0, duplicates: 0, problems };
    // Rows imported before namespaces existed are on file in the system's namespace: importing such a
    // file again finds them there rather than storing its rows a second time.
    const ids = placed.rows.map((r) => r.externalId);
    const earlier = await q.onFile(trx, this.engine, SYSTEM_NAMESPACE, opts.source, ids);
    const stored = await this.storePlaced(trx, placed, kind, null, reject, earlier);
    return { inserted: stored.inserted, duplicates: stored.duplicates, problems };
  }

  /**
   * Store placed rows: each finds its customer (card first, then plate) and is stored with its
   * rollups; rows whose key is on file (or in `onFile` already) are duplicates or conflicts.
   */
  private async storePlaced(
    trx: Kysely<Database>,
    placed: Placed<TxnRow>,
    kind: SaleKind,
    batchId: number | null,
    reject: PlacementReject,
    known?: Map<string, TxnRow>,
  ): Promise<Stored> {
    const onFile = new Map(known);
    const rows = onFile.size ? placed.rows.filter((r) => !onFile.has(r.externalId)) : placed.rows;
    const out = await this.attachAndStore(trx, rows, batchId);
    const missing: string[] = [];
    for (const r of rows) if (r.id === undefined) missing.push(r.externalId);
    for (const [id, r] of await q.onFile(trx, this.engine, kind.namespace, kind.source, missing)) onFile.set(id, r);
    return { ...out, ...settleOnFile(placed, (r) => r.id !== undefined, onFile, kind, reject) };
  }

  /** Find each row's customer (card first, then plate) and store the rows with their rollups. */
  private async attachAndStore(trx: Kysely<Database>, rows: TxnRow[], batchId: number | null) {
    if (rows.length === 0) return { inserted: 0, attached: 0, superseded: 0 };
    // A station's few sales run beside other writers, holding only their customers; a big batch
    // holds them all off. Either level is taken before the holders are looked up.
    const small = rows.length <= SHARED_ROLLUP_WRITER_ROWS;
    if (small) await shareRollupWriters(trx);
    else await serialiseRollupWriters(trx);
    const cards = new Set<string>();
    for (const r of rows) if (r.cardNo !== null) cards.add(r.cardNo);
    const byCard = await q.cardHolders(trx, this.engine, [...cards]);
    const known = new Map<number, CustomerCadence>();
    const plates = new Set<string>();
    for (const r of rows) {
      const holder = r.cardNo === null ? undefined : byCard.get(r.cardNo);
      if (holder !== undefined) {
        r.customerId = holder.id;
        known.set(holder.id, holder);
      } else if (r.plate !== null) plates.add(r.plate);
    }
    const byPlate = await q.plateHolders(trx, this.engine, [...plates]);
    for (const r of rows) {
      if (r.customerId !== null || r.plate === null) continue;
      const holder = byPlate.get(r.plate);
      if (holder === undefined) continue;
      r.customerId = holder.id;
      known.set(holder.id, holder);
    }

    if (small) await lockRollupCustomers(trx, [...known.keys()]);
    const out = await storeRows(trx, this.engine, rows, {
      batchId,
      now: this.now().toISOString(),
      replacePump: true,
      // Read before the customers were held, so another writer may have changed them since: storeRows reads them again.
      cadences: small && this.engine === 'postgres' ? undefined : known,
    });
    let attached = 0;
    for (const r of out.inserted) if (r.customerId !== null) attached++;
    return { inserted: out.inserted.length, attached, superseded: out.superseded };
  }

  private async storeChunk(
    input: IngestInput,
    batchId: number,
    chunk: Pending[],
    units: Map<string, Unit | null>,
    home: Unit,
    kind: SaleKind,
    result: IngestResult,
    reject: PlacementReject,
  ): Promise<void> {
    await resolveStations(this.db, this.engine, chunk, units);
    const placed = placeRows(chunk, units, home, input.scopePath, reject, kind);
    const stored = await this.db.transaction().execute(async (trx) => {
      const out = await this.storePlaced(trx, placed, kind, batchId, reject);
      if (out.inserted + out.duplicates > 0) {
        await trx
          .updateTable('ingest_batch')
          .set((eb) => ({
            inserted: eb('inserted', '+', out.inserted),
            duplicates: eb('duplicates', '+', out.duplicates),
            attached: eb('attached', '+', out.attached),
            superseded: eb('superseded', '+', out.superseded),
          }))
          .where('id', '=', batchId)
          .execute();
      }
      return out;
    });
    result.inserted += stored.inserted;
    result.duplicates += stored.duplicates;
    result.conflicts += placed.conflicts + stored.conflicts;
    result.attached += stored.attached;
    result.superseded += stored.superseded;
  }
}
