// Top-ups (充值) from card systems. Rows are checked one by one (a bad row is reported by number and
// field while the rest land), then stored in chunks, each chunk in one database transaction with
// the per-station daily rollup it adds to. Re-sending a row (same source and external id) changes
// nothing: only rows the insert stored are added to the rollup.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { engineOf, type Engine } from '../../db/dialect.js';
import { AppError } from '../../errors.js';
import { parseTopup, type ParsedTopup } from '../../../domain/card-topup.js';
import { checkSource, MAX_REPORTED_ERRORS, UnreadableRow, type IngestInput, type RowError } from '../transactions/ingest.service.js';
import { placeRows, resolveStations, type StationUnit } from '../transactions/placement.js';
import { transactionsQueries } from '../transactions/transactions.queries.js';
import { topupsQueries as q, type TopupRow } from './topups.queries.js';

/** Rows per database transaction: top-ups are few beside sales, so chunks stay short. */
export const TOPUP_CHUNK_ROWS = 5_000;

export interface TopupIngestResult {
  batchId: number;
  received: number;
  inserted: number;
  duplicates: number;
  rejected: number;
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
}

interface Pending extends ParsedTopup {
  rowNo: number;
}

type Reject = (row: number, externalId: string | null, p: { field: string; code: string; message: string }) => void;

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
    const home = await transactionsQueries.stationById(this.db, input.defaultOrgUnitId);
    if (!home) throw new AppError('NOT_FOUND', `org unit ${input.defaultOrgUnitId} not found`);
    const units = new Map<string, StationUnit | null>([[home.code, home]]);

    const { id: batchId } = await this.db
      .insertInto('ingest_batch')
      .values({ source: input.source, api_key_id: input.apiKeyId ?? null, user_id: input.userId ?? null, received_at: this.now().toISOString() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const result: TopupIngestResult = { batchId, received: 0, inserted: 0, duplicates: 0, rejected: 0, attached: 0, errors: [], errorsTruncated: false };
    const reject: Reject = (row, externalId, p) => {
      result.rejected++;
      if (result.errors.length < MAX_REPORTED_ERRORS) result.errors.push({ row, externalId, field: p.field, code: p.code, message: p.message });
      else result.errorsTruncated = true;
    };

    const nowMs = this.now().getTime();
    let pending: Pending[] = [];
    const accept = (raw: unknown): boolean => {
      const rowNo = ++result.received;
      if (raw instanceof UnreadableRow) {
        reject(rowNo, null, { field: '', code: 'BAD_JSON', message: raw.message });
        return false;
      }
      const parsed = parseTopup(raw, nowMs);
      if (!parsed.ok) {
        const id = (raw as { externalId?: unknown } | null)?.externalId;
        const externalId = typeof id === 'string' || typeof id === 'number' ? String(id) : null;
        // One row counts once among the rejected, however many of its fields are wrong.
        result.rejected++;
        for (const p of parsed.problems) {
          if (result.errors.length < MAX_REPORTED_ERRORS) result.errors.push({ row: rowNo, externalId, field: p.field, code: p.code, message: p.message });
          else result.errorsTruncated = true;
        }
        return false;
      }
      pending.push({ ...parsed.value, rowNo });
      return pending.length >= this.chunkRows;
    };
    const flush = async () => {
      const chunk = pending;
      pending = [];
      await resolveStations(this.db, this.engine, chunk, units);
      const { rows, duplicates } = this.prepare(input.source, input.scopePath, chunk, units, home, reject);
      const stored = await this.db.transaction().execute(async (trx) => {
        const out = await this.store(trx, rows, batchId);
        await trx
          .updateTable('ingest_batch')
          .set((eb) => ({ inserted: eb('inserted', '+', out.inserted), duplicates: eb('duplicates', '+', rows.length - out.inserted + duplicates), attached: eb('attached', '+', out.attached) }))
          .where('id', '=', batchId)
          .execute();
        return out;
      });
      result.inserted += stored.inserted;
      result.duplicates += rows.length - stored.inserted + duplicates;
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
   * stops there) and stored as the API stores them, under the caller's source.
   */
  async ingestChunk(trx: Kysely<Database>, rows: { rowNumber: number; topup: object }[], opts: { source: string; orgUnitId: number; write: boolean }): Promise<{ inserted: number; duplicates: number; problems: TopupProblem[] }> {
    checkSource(opts.source);
    const problems: TopupProblem[] = [];
    const home = await transactionsQueries.stationById(trx, opts.orgUnitId);
    if (!home) throw new AppError('NOT_FOUND', `org unit ${opts.orgUnitId} not found`);
    const units = new Map<string, StationUnit | null>([[home.code, home]]);
    const nowMs = this.now().getTime();
    const pending: Pending[] = [];
    for (const r of rows) {
      const parsed = parseTopup(r.topup, nowMs);
      if (parsed.ok) pending.push({ ...parsed.value, rowNo: r.rowNumber });
      else for (const p of parsed.problems) problems.push({ row: r.rowNumber, severity: 'error', field: p.field || null, message: p.message });
    }
    await resolveStations(trx, this.engine, pending, units);
    const { rows: ready, duplicates } = this.prepare(opts.source, home.path, pending, units, home, (row, _id, p) => problems.push({ row, severity: 'error', field: p.field, message: p.message }));
    if (!opts.write) return { inserted: 0, duplicates: 0, problems };
    const stored = await this.store(trx, ready, null);
    return { inserted: stored.inserted, duplicates: duplicates + ready.length - stored.inserted, problems };
  }

  /** Place rows at their stations (in scope) and on the station's calendar; drop repeats within the chunk. */
  private prepare(source: string, scopePath: string, chunk: Pending[], units: Map<string, StationUnit | null>, home: StationUnit, reject: Reject): { rows: TopupRow[]; duplicates: number } {
    return placeRows(chunk, units, home, scopePath, reject, (p, at) => ({
      source,
      externalId: p.externalId,
      occurredAt: at.occurredAt,
      businessDay: at.businessDay,
      orgUnitId: at.orgUnitId,
      cardNo: p.cardNo,
      customerId: null,
      amountFen: p.amountFen,
      bonusFen: p.bonusFen,
      payment: p.payment,
    }));
  }

  /** Attach rows to their card holders, insert them, and add the ones stored now to the rollup. */
  private async store(trx: Kysely<Database>, rows: TopupRow[], batchId: number | null): Promise<{ inserted: number; attached: number }> {
    if (rows.length === 0) return { inserted: 0, attached: 0 };
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
    return { inserted, attached };
  }
}
