// Top-ups (充值) from card systems. Rows are checked one by one (a bad row is reported by number and
// field while the rest land), then stored in chunks, each chunk in one database transaction with
// the per-station daily rollup it adds to. A row's key is (namespace, source, external id), the
// namespace being the sender's org unit: re-sending a row changes nothing (only rows the insert
// stored are added to the rollup); re-sending its key with other content is refused as a conflict.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { engineOf, type Engine } from '../../db/dialect.js';
import { AppError } from '../../errors.js';
import { parseTopup, topupDifferences, type ParsedTopup } from '../../../domain/card-topup.js';
import { SYSTEM_NAMESPACE } from '../../../domain/fuel-transaction.js';
import {
  checkSource,
  MAX_REPORTED_ERRORS,
  UnreadableRow,
  type IngestInput,
  type RowError,
} from '../transactions/ingest.service.js';
import {
  placeRows,
  resolveStations,
  settleOnFile,
  type Placed,
  type PlacementReject,
  type RowKind,
  type StationUnit,
} from '../transactions/placement.js';
import { transactionsQueries } from '../transactions/transactions.queries.js';
import { topupsQueries as q, type TopupRow } from './topups.queries.js';

/** Rows per database transaction: top-ups are few beside sales, so chunks stay short. */
export const TOPUP_CHUNK_ROWS = 5_000;

/** The code of a row that repeats the key of a top-up on file (or earlier in its batch) with other content. */
export const TOPUP_CONFLICT = 'TOPUP_CONFLICT';

export interface TopupIngestResult {
  batchId: number;
  received: number;
  inserted: number;
  duplicates: number;
  rejected: number;
  /** Rejected rows that repeat an external id with other content (`TOPUP_CONFLICT`). */
  conflicts: number;
  /** Inserted top-ups whose card belongs to a customer on file. */
  attached: number;
  errors: RowError[];
  errorsTruncated: boolean;
}

export interface TopupProblem {
  row: number;
  severity: 'error';
  field: string | null;
  message: string;
  /** The ingest's code (TOPUP_CONFLICT, STATION_REQUIRED, …) and what it names, for the import to word. */
  code: string;
  params?: Record<string, string | number>;
}

const codeOf = (p: { code: string; message: string; params?: Record<string, string | number> }) => ({
  code: p.code,
  message: p.message,
  ...(p.params && { params: p.params }),
});

interface Pending extends ParsedTopup {
  rowNo: number;
}

/** Top-ups of one sender and source: how a placed row becomes a stored one, and how repeats are compared. */
interface TopupKind extends RowKind<Pending, TopupRow> {
  namespace: number;
  source: string;
}

function topupKind(namespace: number, source: string): TopupKind {
  return {
    namespace,
    source,
    conflictCode: TOPUP_CONFLICT,
    differs: topupDifferences,
    build: (p, at) => ({
      namespace,
      source,
      externalId: p.externalId,
      occurredAt: at.occurredAt,
      timeMs: at.timeMs,
      businessDay: at.businessDay,
      orgUnitId: at.orgUnitId,
      cardNo: p.cardNo,
      customerId: null,
      amountFen: p.amountFen,
      bonusFen: p.bonusFen,
      payment: p.payment,
    }),
  };
}

/** A customer now holds these cards: top-ups that were waiting for them become his. */
export function attachWaitingTopups(trx: Kysely<Database>, cards: string[]): Promise<number> {
  return q.attachWaiting(trx, engineOf(trx), cards);
}

export class TopupsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
    private readonly now: () => Date = () => new Date(),
    private readonly chunkRows = TOPUP_CHUNK_ROWS,
  ) {}

  async ingest(input: IngestInput): Promise<TopupIngestResult> {
    checkSource(input.source);
    const home = await transactionsQueries.stationById(this.db, input.senderUnitId);
    if (!home) throw new AppError('NOT_FOUND', `org unit ${input.senderUnitId} not found`);
    const units = new Map<string, StationUnit | null>([[home.code, home]]);
    const kind = topupKind(input.senderUnitId, input.source);

    const { id: batchId } = await this.db
      .insertInto('ingest_batch')
      .values({
        source: input.source,
        api_key_id: input.apiKeyId ?? null,
        user_id: input.userId ?? null,
        received_at: this.now().toISOString(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const result: TopupIngestResult = {
      batchId,
      received: 0,
      inserted: 0,
      duplicates: 0,
      rejected: 0,
      conflicts: 0,
      attached: 0,
      errors: [],
      errorsTruncated: false,
    };
    // One row counts once among the rejected, however many of its fields are wrong.
    const reject: PlacementReject = (row, externalId, issues) => {
      result.rejected++;
      for (const p of issues) {
        if (result.errors.length >= MAX_REPORTED_ERRORS) result.errorsTruncated = true;
        else result.errors.push({ row, externalId, field: p.field, code: p.code, message: p.message });
      }
    };

    const nowMs = this.now().getTime();
    let pending: Pending[] = [];
    const accept = (raw: unknown): boolean => {
      const rowNo = ++result.received;
      if (raw instanceof UnreadableRow) {
        reject(rowNo, null, [{ field: '', code: 'BAD_JSON', message: raw.message }]);
        return false;
      }
      const parsed = parseTopup(raw, nowMs);
      if (!parsed.ok) {
        const id = (raw as { externalId?: unknown } | null)?.externalId;
        reject(rowNo, typeof id === 'string' || typeof id === 'number' ? String(id) : null, parsed.problems);
        return false;
      }
      pending.push({ ...parsed.value, rowNo });
      return pending.length >= this.chunkRows;
    };
    const flush = async () => {
      const chunk = pending;
      pending = [];
      await resolveStations(this.db, this.engine, chunk, units);
      const placed = placeRows(chunk, units, home, input.scopePath, reject, kind);
      const stored = await this.db.transaction().execute(async (trx) => {
        const out = await this.storePlaced(trx, placed, kind, batchId, reject);
        await trx
          .updateTable('ingest_batch')
          .set((eb) => ({
            inserted: eb('inserted', '+', out.inserted),
            duplicates: eb('duplicates', '+', out.duplicates),
            attached: eb('attached', '+', out.attached),
          }))
          .where('id', '=', batchId)
          .execute();
        return out;
      });
      result.inserted += stored.inserted;
      result.duplicates += stored.duplicates;
      result.conflicts += placed.conflicts + stored.conflicts;
      result.attached += stored.attached;
    };
    if (Symbol.asyncIterator in input.rows) {
      for await (const raw of input.rows) if (accept(raw)) await flush();
    } else {
      for (const raw of input.rows) if (accept(raw)) await flush();
    }
    if (pending.length) await flush();
    await this.db
      .updateTable('ingest_batch')
      .set({ finished_at: this.now().toISOString(), rows_received: result.received, rejected: result.rejected })
      .where('id', '=', batchId)
      .execute();
    return result;
  }

  /**
   * One chunk inside the caller's transaction, for the import center: rows are checked (a dry run
   * stops there) and stored as the API stores them, under the caller's source, in the namespace of the
   * importing unit.
   */
  async ingestChunk(
    trx: Kysely<Database>,
    rows: { rowNumber: number; topup: object }[],
    opts: { source: string; orgUnitId: number; write: boolean },
  ): Promise<{ inserted: number; duplicates: number; problems: TopupProblem[] }> {
    checkSource(opts.source);
    const problems: TopupProblem[] = [];
    const home = await transactionsQueries.stationById(trx, opts.orgUnitId);
    if (!home) throw new AppError('NOT_FOUND', `org unit ${opts.orgUnitId} not found`);
    const units = new Map<string, StationUnit | null>([[home.code, home]]);
    const kind = topupKind(opts.orgUnitId, opts.source);
    const nowMs = this.now().getTime();
    const pending: Pending[] = [];
    for (const r of rows) {
      const parsed = parseTopup(r.topup, nowMs);
      if (parsed.ok) pending.push({ ...parsed.value, rowNo: r.rowNumber });
      else
        for (const p of parsed.problems)
          problems.push({ row: r.rowNumber, severity: 'error', field: p.field || null, ...codeOf(p) });
    }
    await resolveStations(trx, this.engine, pending, units);
    const reject: PlacementReject = (row, _id, issues) => {
      for (const p of issues) problems.push({ row, severity: 'error', field: p.field, ...codeOf(p) });
    };
    const placed = placeRows(pending, units, home, home.path, reject, kind);
    if (!opts.write) return { inserted: 0, duplicates: 0, problems };
    // Top-ups imported before namespaces existed are on file in the system's namespace: importing such
    // a file again finds them there rather than storing its rows a second time.
    const ids = placed.rows.map((r) => r.externalId);
    const earlier = await q.onFile(trx, this.engine, SYSTEM_NAMESPACE, opts.source, ids);
    const stored = await this.storePlaced(trx, placed, kind, null, reject, earlier);
    return { inserted: stored.inserted, duplicates: stored.duplicates, problems };
  }

  /** Store placed rows; rows whose key is on file (or in `known`) are duplicates or conflicts. */
  private async storePlaced(
    trx: Kysely<Database>,
    placed: Placed<TopupRow>,
    kind: TopupKind,
    batchId: number | null,
    reject: PlacementReject,
    known?: Map<string, TopupRow>,
  ): Promise<{ inserted: number; attached: number; duplicates: number; conflicts: number }> {
    const onFile = new Map(known);
    const rows = onFile.size ? placed.rows.filter((r) => !onFile.has(r.externalId)) : placed.rows;
    const stored = await this.store(trx, rows, batchId);
    const missing: string[] = [];
    for (const r of rows) if (!stored.ids.has(r.externalId)) missing.push(r.externalId);
    for (const [id, r] of await q.onFile(trx, this.engine, kind.namespace, kind.source, missing)) onFile.set(id, r);
    const settled = settleOnFile(placed, (r) => stored.ids.has(r.externalId), onFile, kind, reject);
    return { inserted: stored.inserted, attached: stored.attached, ...settled };
  }

  /** Attach rows to their card holders, insert them, and add the ones stored now to the rollup. */
  private async store(
    trx: Kysely<Database>,
    rows: TopupRow[],
    batchId: number | null,
  ): Promise<{ ids: Set<string>; inserted: number; attached: number }> {
    if (rows.length === 0) return { ids: new Set(), inserted: 0, attached: 0 };
    const holders = await q.cardHolders(trx, this.engine, [...new Set(rows.map((r) => r.cardNo))]);
    for (const r of rows) r.customerId = holders.get(r.cardNo) ?? null;
    const stored = await q.insert(trx, this.engine, rows, batchId, this.now().toISOString());
    const days = new Map<string, [number, string, number, number, number]>();
    let inserted = 0;
    let attached = 0;
    for (const r of rows) {
      if (!stored.has(r.externalId)) continue;
      inserted++;
      if (r.customerId !== null) attached++;
      const key = `${r.orgUnitId}|${r.businessDay}`;
      const d = days.get(key);
      if (d) {
        d[2] += r.amountFen;
        d[3] += r.bonusFen;
        d[4] += 1;
      } else days.set(key, [r.orgUnitId, r.businessDay, r.amountFen, r.bonusFen, 1]);
    }
    await q.addStationDays(trx, this.engine, [...days.values()]);
    return { ids: stored, inserted, attached };
  }
}
