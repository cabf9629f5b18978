// Ingest: transactions from card, e-ledger and POS systems. Rows are checked one by one (a bad row
// is reported by number and field while the rest land), then stored in chunks, each chunk in one
// database transaction with its customer look-ups and rollup updates.
import type { ControlledTransaction, Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { serialiseRollupWriters, type Engine } from '../../db/dialect.js';
import { AppError } from '../../errors.js';
import { PUMP_SOURCE, SOURCE_PATTERN, parseTransaction, type ParsedTransaction, type RowProblem } from '../../../domain/fuel-transaction.js';
import { transactionsQueries as q, type CustomerCadence, type TxnRow } from './transactions.queries.js';
import { RowStore } from './rollups.js';
import { placeRows, resolveStations, type StationUnit } from './placement.js';

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
/**
 * On PostgreSQL a chunk is stored in parts of this many rows inside its one transaction: the server
 * stores a part while this process checks the next. SQLite runs in this process, so there a chunk is
 * one part.
 */
export const PART_ROWS = 10_000;
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
  /** Rows without a station code belong to this unit. */
  defaultOrgUnitId: number;
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
  /** Inserted rows that found their customer by card or plate. */
  attached: number;
  /** Hand-recorded fill-ups that an inserted row replaced. */
  superseded: number;
  errors: RowError[];
  errorsTruncated: boolean;
}

type Unit = StationUnit;

interface Pending extends ParsedTransaction {
  rowNo: number;
}

/** A chunk being stored: its transaction, opened with its first part and committed after its last. */
interface OpenChunk {
  trx: ControlledTransaction<Database> | null;
  store: RowStore | null;
  /** Rows handed to the chunk so far. */
  rows: number;
  /** External ids placed in this chunk: a repeat within the chunk is a duplicate. */
  seen: Set<string>;
  inserted: number;
  duplicates: number;
}

type Reject = (row: number, externalId: string | null, p: Pick<RowProblem, 'field' | 'message'> & { code: string }) => void;

/** Sources are short machine names; 'pump' belongs to fill-ups recorded by hand. */
export function checkSource(source: string): void {
  if (!SOURCE_PATTERN.test(source) || source === PUMP_SOURCE) {
    throw new AppError('VALIDATION_FAILED', `source must be 1–32 lower-case letters, digits, '_', '.' or '-', and not '${PUMP_SOURCE}'`, 'source');
  }
}

export class IngestService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
    private readonly now: () => Date = () => new Date(),
    readonly chunkRows = CHUNK_ROWS,
    /** Rows per part on PostgreSQL (see PART_ROWS). */
    private readonly partRowsOnPg = PART_ROWS,
  ) {}

  async ingest(input: IngestInput): Promise<IngestResult> {
    checkSource(input.source);
    const home = await q.stationById(this.db, input.defaultOrgUnitId);
    if (!home) throw new AppError('NOT_FOUND', `org unit ${input.defaultOrgUnitId} not found`);
    const homeUnit: Unit = home;
    const units = new Map<string, Unit | null>([[home.code, homeUnit]]);

    const receivedAt = this.now().toISOString();
    const { id: batchId } = await this.db
      .insertInto('ingest_batch')
      .values({ source: input.source, api_key_id: input.apiKeyId ?? null, user_id: input.userId ?? null, received_at: receivedAt })
      .returning('id')
      .executeTakeFirstOrThrow();
    const result: IngestResult = { batchId, received: 0, inserted: 0, duplicates: 0, rejected: 0, attached: 0, superseded: 0, errors: [], errorsTruncated: false };
    const reject: Reject = (row, externalId, p) => {
      if (result.errors.length < MAX_REPORTED_ERRORS) result.errors.push({ row, externalId, field: p.field, code: p.code, message: p.message });
      else result.errorsTruncated = true;
    };

    const nowMs = this.now().getTime();
    const partRows = this.engine === 'postgres' ? Math.min(this.partRowsOnPg, this.chunkRows) : this.chunkRows;
    let pending: Pending[] = [];
    /** The chunk whose parts are being handed over. */
    let chunk: OpenChunk | null = null;
    /** Check one row; true when a part is ready to store. */
    const accept = (raw: unknown): boolean => {
      const rowNo = ++result.received;
      if (raw instanceof UnreadableRow) {
        result.rejected++;
        reject(rowNo, null, { field: '', code: 'BAD_JSON', message: raw.message });
        return false;
      }
      const parsed = parseTransaction(raw, nowMs);
      if (!parsed.ok) {
        result.rejected++;
        const id = (raw as { externalId?: unknown } | null)?.externalId;
        for (const p of parsed.problems) reject(rowNo, typeof id === 'string' || typeof id === 'number' ? String(id) : null, p);
        return false;
      }
      const row = parsed.value as Pending;
      row.rowNo = rowNo;
      pending.push(row);
      // A chunk's last part takes only what the chunk has room for.
      return pending.length >= Math.min(partRows, this.chunkRows - (chunk?.rows ?? 0));
    };
    // A part is stored while the next one is read and checked: on PostgreSQL the database works
    // while this process parses. One part is stored at a time, in order; a chunk's parts share its
    // transaction.
    let storing: Promise<void> = Promise.resolve();
    const flush = async (last: boolean) => {
      const part = pending;
      pending = [];
      await storing;
      const into: OpenChunk = (chunk ??= { trx: null, store: null, rows: 0, seen: new Set(), inserted: 0, duplicates: 0 });
      into.rows += part.length;
      const closes = last || into.rows >= this.chunkRows;
      if (closes) chunk = null;
      storing = this.storePart(input, batchId, into, part, closes, units, homeUnit, result, reject);
      storing.catch(() => undefined); // awaited at the next flush or the end
    };
    try {
      if (Symbol.asyncIterator in input.rows) {
        for await (const raw of input.rows) if (accept(raw)) await flush(false);
      } else {
        for (const raw of input.rows) if (accept(raw)) await flush(false);
      }
      if (pending.length || chunk) await flush(true);
      await storing;
    } catch (err) {
      // A chunk left open (the input failed between its parts) is rolled back.
      await storing.catch(() => undefined);
      const open = chunk as OpenChunk | null;
      if (open?.trx) await open.trx.rollback().execute().catch(() => undefined);
      throw err;
    }
    await this.db
      .updateTable('ingest_batch')
      .set({ finished_at: this.now().toISOString(), rows_received: result.received, rejected: result.rejected })
      .where('id', '=', batchId)
      .execute();
    return result;
  }

  /**
   * One chunk inside the caller's transaction, for the import center: rows are checked (a dry run
   * stops there) and stored as the API stores them, under the caller's source.
   */
  async ingestChunk(
    trx: Kysely<Database>,
    rows: { rowNumber: number; tx: object }[],
    opts: { source: string; orgUnitId: number; write: boolean },
  ): Promise<{ inserted: number; duplicates: number; problems: { row: number; severity: 'error'; field: string | null; message: string }[] }> {
    const problems: { row: number; severity: 'error'; field: string | null; message: string }[] = [];
    const home = await q.stationById(trx, opts.orgUnitId);
    if (!home) throw new AppError('NOT_FOUND', `org unit ${opts.orgUnitId} not found`);
    const homeUnit: Unit = home;
    const units = new Map<string, Unit | null>([[home.code, homeUnit]]);
    const nowMs = this.now().getTime();
    const pending: Pending[] = [];
    for (const r of rows) {
      const parsed = parseTransaction(r.tx, nowMs);
      if (parsed.ok) pending.push(Object.assign(parsed.value, { rowNo: r.rowNumber }));
      else for (const p of parsed.problems) problems.push({ row: r.rowNumber, severity: 'error', field: p.field || null, message: p.message });
    }
    await resolveStations(trx, this.engine, pending, units);
    const { rows: ready, duplicates } = this.prepare(opts.source, homeUnit.path, pending, units, homeUnit, (row, _id, p) => problems.push({ row, severity: 'error', field: p.field, message: p.message }));
    if (!opts.write) return { inserted: 0, duplicates: 0, problems };
    await serialiseRollupWriters(trx);
    const store = new RowStore(trx, this.engine, { batchId: null, now: this.now().toISOString(), replacePump: true });
    const inserted = await this.addPart(trx, store, ready);
    await store.finish();
    return { inserted, duplicates: duplicates + ready.length - inserted, problems };
  }

  /** Place rows at their stations (in scope) and in time; drop repeats within the chunk. */
  private prepare(source: string, scopePath: string, chunk: Pending[], units: Map<string, Unit | null>, home: Unit, reject: Reject, seen?: Set<string>): { rows: TxnRow[]; duplicates: number } {
    return placeRows(chunk, units, home, scopePath, reject, seen, (p, at) => ({
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
    }));
  }

  /** Find each row's customer (card first, then plate) and store the rows; returns how many were new. */
  private async addPart(trx: Kysely<Database>, store: RowStore, rows: TxnRow[]): Promise<number> {
    if (rows.length === 0) return 0;
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
    return store.add(rows, known);
  }

  /** Store one part of a chunk: the chunk's transaction opens with its first part; with `closes`, the rollups are written and it commits. */
  private async storePart(input: IngestInput, batchId: number, chunk: OpenChunk, part: Pending[], closes: boolean, units: Map<string, Unit | null>, home: Unit, result: IngestResult, reject: Reject): Promise<void> {
    try {
      if (!chunk.trx) {
        chunk.trx = await this.db.startTransaction().execute();
        await serialiseRollupWriters(chunk.trx);
        chunk.store = new RowStore(chunk.trx, this.engine, { batchId, now: this.now().toISOString(), replacePump: true });
      }
      const trx = chunk.trx;
      await resolveStations(trx, this.engine, part, units);
      const { rows, duplicates } = this.prepare(
        input.source,
        input.scopePath,
        part,
        units,
        home,
        (row, id, p) => {
          result.rejected++;
          reject(row, id, p);
        },
        chunk.seen,
      );
      const inserted = await this.addPart(trx, chunk.store!, rows);
      chunk.inserted += inserted;
      chunk.duplicates += duplicates + rows.length - inserted;
      if (!closes) return;
      const out = await chunk.store!.finish();
      let attached = 0;
      for (const r of out.inserted) if (r.customerId !== null) attached++;
      if (chunk.inserted + chunk.duplicates > 0) {
        await trx
          .updateTable('ingest_batch')
          .set((eb) => ({
            inserted: eb('inserted', '+', chunk.inserted),
            duplicates: eb('duplicates', '+', chunk.duplicates),
            attached: eb('attached', '+', attached),
            superseded: eb('superseded', '+', out.superseded),
          }))
          .where('id', '=', batchId)
          .execute();
      }
      await trx.commit().execute();
      result.inserted += chunk.inserted;
      result.duplicates += chunk.duplicates;
      result.attached += attached;
      result.superseded += out.superseded;
    } catch (err) {
      await chunk.trx?.rollback().execute().catch(() => undefined);
      chunk.trx = null;
      throw err;
    }
  }
}
