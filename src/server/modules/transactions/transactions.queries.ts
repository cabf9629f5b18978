// SQL of the transaction side. Lists of keys are bound as one parameter (`oneOf`), and many rows
// travel in few statements (`bulkStatements`), so a chunk of thousands of rows costs a handful of queries.
// On SQLite the per-row writers of a chunk run one prepared statement per row instead
// (`sqliteStatement`): the engine is in-process, so a row costs what the engine does, while a
// many-row `with v as (values …)` statement costs SQLite more than the rows themselves.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CompiledQuery, sql, type Kysely, type SqlBool } from 'kysely';
import { from as copyFrom } from 'pg-copy-streams';
import type { Database } from '../../db/schema.js';
import type { StationUnit } from './placement.js';
import {
  bulkStatements,
  copyField,
  isUniqueViolation,
  oneOf,
  pgClientOf,
  sqliteStatement,
  type BulkColumn,
  type Engine,
} from '../../db/dialect.js';

/** One transaction as the rules see it; `id` is known once stored. */
export interface TxnRow {
  id?: number;
  /** The sender's namespace (`SYSTEM_NAMESPACE` for the pump); with source and external id, the row's key. */
  namespace: number;
  source: string;
  externalId: string;
  occurredAt: string;
  timeMs: number;
  businessDay: string;
  orgUnitId: number;
  customerId: number | null;
  cardNo: string | null;
  plate: string | null;
  product: string;
  businessLine: string;
  volumeMl: number;
  unitPriceFen: number | null;
  amountFen: number | null;
  payment: string | null;
  visitId: number | null;
}

export interface CustomerCadence {
  id: number;
  visit_count: number;
  first_visit_at: string | null;
  last_visit_at: string | null;
  first_visit_day: string | null;
  last_visit_day: string | null;
}

const TXN_COLUMNS: BulkColumn[] = [
  { name: 'namespace', pg: 'bigint' },
  { name: 'source', pg: 'text' },
  { name: 'external_id', pg: 'text' },
  { name: 'occurred_at', pg: 'timestamptz' },
  { name: 'business_day', pg: 'text' },
  { name: 'org_unit_id', pg: 'bigint' },
  { name: 'customer_id', pg: 'bigint' },
  { name: 'card_no', pg: 'text' },
  { name: 'plate', pg: 'text' },
  { name: 'product', pg: 'text' },
  { name: 'business_line', pg: 'text' },
  { name: 'volume_ml', pg: 'integer' },
  { name: 'unit_price_fen', pg: 'integer' },
  { name: 'amount_fen', pg: 'integer' },
  { name: 'payment', pg: 'text' },
  { name: 'visit_id', pg: 'bigint' },
  { name: 'ingest_batch_id', pg: 'bigint' },
  { name: 'created_at', pg: 'timestamptz' },
];
// PostgreSQL: fuel_transaction is partitioned by month (migration 0035) and cannot hold the key as a
// unique constraint; fuel_transaction_key does. The key is claimed first, with the id the row takes;
// only rows whose key was free are stored.
const INSERT_TXN_PG = `, k as (insert into fuel_transaction_key (namespace, source, external_id, txn_id, business_day)
    select namespace, source, external_id, nextval('fuel_transaction_id_seq'), business_day from v where true
    on conflict (namespace, source, external_id) do nothing returning namespace, source, external_id, txn_id)
  insert into fuel_transaction (id, ${TXN_COLUMNS.map((c) => c.name).join(', ')})
  select k.txn_id, v.* from v join k using (namespace, source, external_id) returning id, external_id`;
const INSERT_TXN_ROW = `insert into fuel_transaction (${TXN_COLUMNS.map((c) => c.name).join(', ')})
  values (${TXN_COLUMNS.map(() => '?').join(', ')}) on conflict (namespace, source, external_id) do nothing`;

const MONTH_COLUMNS: BulkColumn[] = [
  { name: 'month', pg: 'text' },
  { name: 'customer_id', pg: 'bigint' },
  { name: 'product', pg: 'text' },
  { name: 'volume_ml', pg: 'bigint' },
  { name: 'amount_fen', pg: 'bigint' },
  { name: 'txn_count', pg: 'integer' },
];
const MONTH_CONFLICT = `on conflict (month, customer_id, product) do update set volume_ml = customer_month.volume_ml + excluded.volume_ml,
  amount_fen = customer_month.amount_fen + excluded.amount_fen, txn_count = customer_month.txn_count + excluded.txn_count`;
const UPSERT_MONTH = `insert into customer_month (month, customer_id, product, volume_ml, amount_fen, txn_count) select * from v where true ${MONTH_CONFLICT}`;
const UPSERT_MONTH_ROW = `insert into customer_month (month, customer_id, product, volume_ml, amount_fen, txn_count) values (?, ?, ?, ?, ?, ?) ${MONTH_CONFLICT}`;

const DAY_COLUMNS: BulkColumn[] = [
  { name: 'org_unit_id', pg: 'bigint' },
  { name: 'day', pg: 'text' },
  { name: 'product', pg: 'text' },
  { name: 'volume_ml', pg: 'bigint' },
  { name: 'amount_fen', pg: 'bigint' },
  { name: 'txn_count', pg: 'integer' },
  { name: 'card_amount_fen', pg: 'bigint' },
];
const DAY_CONFLICT = `on conflict (org_unit_id, day, product) do update set volume_ml = station_day.volume_ml + excluded.volume_ml,
  amount_fen = station_day.amount_fen + excluded.amount_fen, txn_count = station_day.txn_count + excluded.txn_count,
  card_amount_fen = station_day.card_amount_fen + excluded.card_amount_fen`;
const UPSERT_DAY = `insert into station_day (org_unit_id, day, product, volume_ml, amount_fen, txn_count, card_amount_fen) select * from v where true ${DAY_CONFLICT}`;
const UPSERT_DAY_ROW = `insert into station_day (org_unit_id, day, product, volume_ml, amount_fen, txn_count, card_amount_fen) values (?, ?, ?, ?, ?, ?, ?) ${DAY_CONFLICT}`;

const CADENCE_COLUMNS: BulkColumn[] = [
  { name: 'id', pg: 'bigint' },
  { name: 'visit_count', pg: 'integer' },
  { name: 'first_visit_at', pg: 'timestamptz' },
  { name: 'last_visit_at', pg: 'timestamptz' },
  { name: 'first_visit_day', pg: 'text' },
  { name: 'last_visit_day', pg: 'text' },
  { name: 'usual_interval_days', pg: 'double precision' },
];
const UPDATE_CADENCE = `update customer set visit_count = v.visit_count, first_visit_at = v.first_visit_at, last_visit_at = v.last_visit_at,
  first_visit_day = v.first_visit_day, last_visit_day = v.last_visit_day, usual_interval_days = v.usual_interval_days from v where customer.id = v.id`;
// better-sqlite3 binds only plain `?` by position, so the id (first in a cadence row) is moved last.
const UPDATE_CADENCE_ROW = `update customer set visit_count = ?, first_visit_at = ?, last_visit_at = ?, first_visit_day = ?, last_visit_day = ?, usual_interval_days = ? where id = ?`;

/** What stored rows add to the rollups: rows for station_day, customer_month and the cadence columns. */
export interface RollupRows {
  days: unknown[][];
  months: unknown[][];
  cadences: unknown[][];
}

/** PostgreSQL: the statements that add rollup rows — station days, customer months, then the cadence columns. */
function pgRollupStatements(rows: Partial<RollupRows>): CompiledQuery[] {
  return [
    ...bulkStatements('postgres', DAY_COLUMNS, rows.days ?? [], UPSERT_DAY),
    ...bulkStatements('postgres', MONTH_COLUMNS, rows.months ?? [], UPSERT_MONTH),
    ...bulkStatements('postgres', CADENCE_COLUMNS, rows.cadences ?? [], UPDATE_CADENCE),
  ];
}

async function runAll(db: Kysely<Database>, statements: CompiledQuery[]): Promise<void> {
  for (const q of statements) await db.executeQuery(q);
}

const SELECT_TXN = [
  'id',
  'namespace',
  'source',
  'external_id',
  'occurred_at',
  'business_day',
  'org_unit_id',
  'customer_id',
  'card_no',
  'plate',
  'product',
  'business_line',
  'volume_ml',
  'unit_price_fen',
  'amount_fen',
  'payment',
  'visit_id',
] as const;

const ON_FILE_ROW = `select ${SELECT_TXN.join(', ')} from fuel_transaction
  where namespace = ? and source = ? and external_id = ?`;

const CADENCE_SELECT = [
  'c.id',
  'c.visit_count',
  'c.first_visit_at',
  'c.last_visit_at',
  'c.first_visit_day',
  'c.last_visit_day',
] as const;
const CADENCE_COLS = CADENCE_SELECT.join(', ');
const CARD_HOLDER_ROW = `select ${CADENCE_COLS} from fuel_card f join customer c on c.id = f.customer_id where f.card_no = ? and c.merged_into_id is null`;
const PLATE_HOLDER_ROW = `select ${CADENCE_COLS} from vehicle v join customer c on c.id = v.customer_id where v.plate = ? and c.merged_into_id is null order by c.id limit 1`;

function cadenceOf(
  r: Omit<CustomerCadence, 'id' | 'visit_count'> & { id: number | string; visit_count: number | string },
): CustomerCadence {
  return {
    id: Number(r.id),
    visit_count: Number(r.visit_count),
    first_visit_at: r.first_visit_at,
    last_visit_at: r.last_visit_at,
    first_visit_day: r.first_visit_day,
    last_visit_day: r.last_visit_day,
  };
}

function toRow(r: Record<string, unknown>): TxnRow {
  return {
    id: Number(r.id),
    namespace: Number(r.namespace),
    source: r.source as string,
    externalId: r.external_id as string,
    occurredAt: r.occurred_at as string,
    timeMs: Date.parse(r.occurred_at as string),
    businessDay: r.business_day as string,
    orgUnitId: Number(r.org_unit_id),
    customerId: r.customer_id === null ? null : Number(r.customer_id),
    cardNo: r.card_no as string | null,
    plate: r.plate as string | null,
    product: r.product as string,
    businessLine: r.business_line as string,
    volumeMl: Number(r.volume_ml),
    unitPriceFen: r.unit_price_fen === null ? null : Number(r.unit_price_fen),
    amountFen: r.amount_fen === null ? null : Number(r.amount_fen),
    payment: r.payment as string | null,
    visitId: r.visit_id === null ? null : Number(r.visit_id),
  };
}

/** SQLite: one prepared statement run once per row (each row's values in the statement's parameter order). */
function runPerRow(db: Kysely<Database>, text: string, rows: unknown[][]): void {
  if (rows.length === 0) return;
  const stmt = sqliteStatement(db, text);
  for (const r of rows) stmt.run(r);
}

/** SQLite: each key's holder by one prepared look-up. */
function holdersByRow(db: Kysely<Database>, text: string, keys: string[]): Map<string, CustomerCadence> {
  const stmt = sqliteStatement(db, text);
  const out = new Map<string, CustomerCadence>();
  for (const k of keys) {
    const r = stmt.get(k) as Parameters<typeof cadenceOf>[0] | undefined;
    if (r) out.set(k, cadenceOf(r));
  }
  return out;
}

/** On PostgreSQL, chunks of at least this many rows are first tried with COPY. */
export const COPY_FROM_ROWS = 500;
const TXN_SEQUENCE = 'fuel_transaction_id_seq';
const COPY_TXN = `copy fuel_transaction (id, ${TXN_COLUMNS.map((c) => c.name).join(', ')}) from stdin`;
/**
 * PostgreSQL: this transaction writes its rows' keys itself. A row trigger (migration 0035) writes the
 * key of a row stored by any other writer, one statement per row; its condition reads this setting,
 * so the ingest's COPY keeps its batched inserts and writes the keys by a second COPY.
 */
const KEYS_WRITTEN = CompiledQuery.raw(`select set_config('forecourt.txn_keys', 'written', true)`);
const COPY_KEY = `copy fuel_transaction_key (namespace, source, external_id, txn_id, business_day) from stdin`;

/**
 * PostgreSQL: store rows with COPY, ids taken from the sequence first, in a savepoint: the rows, then
 * their keys into fuel_transaction_key (see `KEYS_WRITTEN`). COPY has no `on conflict`: if any key is
 * already on file the savepoint is rolled back and false returned, and the caller inserts skipping
 * those rows. The caller holds the rollup lock, which every writer of fuel_transaction takes, so rows on file are the only conflicts (a re-sent or overlapping batch).
 * The insert of 1,000,000 rows in 20,000-row chunks took 28.6 s this way against 38.9 s with
 * `insert … select from unnest(…) on conflict do nothing returning` (bench/ingest.ts --profile).
 */
async function copyNew(
  db: Kysely<Database>,
  rows: TxnRow[],
  values: unknown[][],
  ids: Map<string, number>,
): Promise<boolean> {
  const client = await pgClientOf(db);
  const reserved = (
    await client.query<{ id: number }>(`select nextval('${TXN_SEQUENCE}') as id from generate_series(1, $1)`, [
      rows.length,
    ])
  ).rows;
  const lines = function* () {
    for (let start = 0; start < values.length; start += 1000) {
      let text = '';
      for (let i = start; i < Math.min(values.length, start + 1000); i++) {
        text += reserved[i]!.id;
        for (const v of values[i]!) text += '\t' + copyField(v);
        text += '\n';
      }
      yield text;
    }
  };
  const keys = function* () {
    for (let start = 0; start < rows.length; start += 1000) {
      let text = '';
      for (let i = start; i < Math.min(rows.length, start + 1000); i++) {
        const r = rows[i]!;
        text += `${r.namespace}\t${copyField(r.source)}\t${copyField(r.externalId)}\t${reserved[i]!.id}\t${r.businessDay}\n`;
      }
      yield text;
    }
  };
  await client.query('savepoint fuel_copy');
  try {
    await pipeline(Readable.from(lines()), client.query(copyFrom(COPY_TXN)));
    await pipeline(Readable.from(keys()), client.query(copyFrom(COPY_KEY)));
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    await client.query('rollback to savepoint fuel_copy');
    return false;
  }
  await client.query('release savepoint fuel_copy');
  rows.forEach((r, i) => ids.set(r.externalId, Number(reserved[i]!.id)));
  return true;
}

export const transactionsQueries = {
  /** The sender's own unit: the default station and the scope of what it may send. */
  async stationById(db: Kysely<Database>, id: number): Promise<(StationUnit & { code: string }) | undefined> {
    const r = await db
      .selectFrom('org_unit')
      .select(['id', 'code', 'path', 'time_zone', 'kind_code'])
      .where('id', '=', id)
      .executeTakeFirst();
    return r && { id: Number(r.id), code: r.code, path: r.path, timeZone: r.time_zone, kind: r.kind_code };
  },

  async stationsByCode(db: Kysely<Database>, engine: Engine, codes: string[]): Promise<Map<string, StationUnit>> {
    if (codes.length === 0) return new Map();
    const rows = await db
      .selectFrom('org_unit')
      .select(['id', 'code', 'path', 'time_zone', 'kind_code'])
      .where((eb) => oneOf(engine, eb.ref('code'), codes))
      .execute();
    return new Map(
      rows.map((r) => [r.code, { id: Number(r.id), path: r.path, timeZone: r.time_zone, kind: r.kind_code }]),
    );
  },

  /**
   * Insert rows; those whose (namespace, source, external id) is already stored are skipped. The rows
   * share one namespace and source. Returns the ids of the rows stored now by external id.
   */
  async insert(
    db: Kysely<Database>,
    engine: Engine,
    rows: TxnRow[],
    batchId: number | null,
    now: string,
  ): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    if (engine === 'sqlite') {
      const stmt = sqliteStatement(db, INSERT_TXN_ROW);
      for (const r of rows) {
        const res = stmt.run(
          r.namespace,
          r.source,
          r.externalId,
          r.occurredAt,
          r.businessDay,
          r.orgUnitId,
          r.customerId,
          r.cardNo,
          r.plate,
          r.product,
          r.businessLine,
          r.volumeMl,
          r.unitPriceFen,
          r.amountFen,
          r.payment,
          r.visitId,
          batchId,
          now,
        );
        if (res.changes > 0) ids.set(r.externalId, Number(res.lastInsertRowid));
      }
      return ids;
    }
    const values = rows.map((r) => [
      r.namespace,
      r.source,
      r.externalId,
      r.occurredAt,
      r.businessDay,
      r.orgUnitId,
      r.customerId,
      r.cardNo,
      r.plate,
      r.product,
      r.businessLine,
      r.volumeMl,
      r.unitPriceFen,
      r.amountFen,
      r.payment,
      r.visitId,
      batchId,
      now,
    ]);
    await db.executeQuery(KEYS_WRITTEN);
    if (rows.length >= COPY_FROM_ROWS && (await copyNew(db, rows, values, ids))) return ids;
    for (const q of bulkStatements(engine, TXN_COLUMNS, values, INSERT_TXN_PG, 500)) {
      for (const r of (await db.executeQuery<{ id: number; external_id: string }>(q)).rows)
        ids.set(r.external_id, Number(r.id));
    }
    return ids;
  },

  /** The rows on file under these keys of one namespace and source, by external id. */
  async onFile(
    db: Kysely<Database>,
    engine: Engine,
    namespace: number,
    source: string,
    externalIds: string[],
  ): Promise<Map<string, TxnRow>> {
    const out = new Map<string, TxnRow>();
    if (externalIds.length === 0) return out;
    if (engine === 'sqlite') {
      const stmt = sqliteStatement(db, ON_FILE_ROW);
      for (const id of externalIds) {
        const r = stmt.get(namespace, source, id) as Record<string, unknown> | undefined;
        if (r) out.set(id, toRow(r));
      }
      return out;
    }
    // The key table gives each row's id and day. Each row is then fetched on its own (the `limit`
    // keeps the planner from turning this into a join over every partition), and its day leaves one
    // partition to probe.
    const { rows } = await sql<Record<string, unknown> & { external_id: string }>`select t.* from fuel_transaction_key k
      cross join lateral (select ${sql.join(SELECT_TXN.map((c) => sql.ref(`f.${c}`)))} from fuel_transaction f
        where f.id = k.txn_id and f.business_day = k.business_day limit 1) t
      where k.namespace = ${namespace} and k.source = ${source} and ${oneOf(engine, sql.ref('k.external_id'), externalIds)}`.execute(
      db,
    );
    for (const r of rows) out.set(r.external_id, toRow(r));
    return out;
  },

  /** Live customers holding these cards, with their cadence (read here rather than in a query of its own). */
  async cardHolders(db: Kysely<Database>, engine: Engine, cards: string[]): Promise<Map<string, CustomerCadence>> {
    if (cards.length === 0) return new Map();
    if (engine === 'sqlite') return holdersByRow(db, CARD_HOLDER_ROW, cards);
    const rows = await db
      .selectFrom('fuel_card as f')
      .innerJoin('customer as c', 'c.id', 'f.customer_id')
      .select(['f.card_no', ...CADENCE_SELECT])
      .where('c.merged_into_id', 'is', null)
      .where((eb) => oneOf(engine, eb.ref('f.card_no'), cards))
      .execute();
    return new Map(rows.map((r) => [r.card_no, cadenceOf(r)]));
  },

  /** Live customers holding these plates, with their cadence; where duplicates share a plate, the oldest record. */
  async plateHolders(db: Kysely<Database>, engine: Engine, plates: string[]): Promise<Map<string, CustomerCadence>> {
    if (plates.length === 0) return new Map();
    if (engine === 'sqlite') return holdersByRow(db, PLATE_HOLDER_ROW, plates);
    const rows = await db
      .selectFrom('vehicle as v')
      .innerJoin('customer as c', 'c.id', 'v.customer_id')
      .select(['v.plate', ...CADENCE_SELECT])
      .where('c.merged_into_id', 'is', null)
      .where((eb) => oneOf(engine, eb.ref('v.plate'), plates))
      .execute();
    const out = new Map<string, CustomerCadence>();
    for (const r of rows) {
      const seen = out.get(r.plate);
      if (!seen || Number(r.id) < seen.id) out.set(r.plate, cadenceOf(r));
    }
    return out;
  },

  async cadences(db: Kysely<Database>, engine: Engine, ids: number[]): Promise<Map<number, CustomerCadence>> {
    if (ids.length === 0) return new Map();
    const rows = await db
      .selectFrom('customer as c')
      .select(CADENCE_SELECT)
      .where((eb) => oneOf(engine, eb.ref('c.id'), ids))
      .execute();
    return new Map(rows.map((r) => [Number(r.id), cadenceOf(r)]));
  },

  /** The (customer, day) pairs already on file between two days, as `${customer}|${day}`. */
  async visitDays(
    db: Kysely<Database>,
    engine: Engine,
    ids: number[],
    fromDay: string,
    toDay: string,
  ): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await db
      .selectFrom('fuel_transaction')
      .select(['customer_id', 'business_day'])
      .distinct()
      .where((eb) => oneOf(engine, eb.ref('customer_id'), ids))
      .where('business_day', '>=', fromDay)
      .where('business_day', '<=', toDay)
      .execute();
    return new Set(rows.map((r) => `${r.customer_id}|${r.business_day}`));
  },

  /** Hand-recorded fill-ups of these customers between two instants. */
  async pumpRows(db: Kysely<Database>, engine: Engine, ids: number[], from: string, to: string): Promise<TxnRow[]> {
    if (ids.length === 0) return [];
    const rows = await db
      .selectFrom('fuel_transaction')
      .select([...SELECT_TXN])
      // The literal lets the engines use the partial index of pump rows.
      .where(sql.raw<SqlBool>(`source = 'pump'`))
      .where((eb) => oneOf(engine, eb.ref('customer_id'), ids))
      .where('occurred_at', '>=', from)
      .where('occurred_at', '<=', to)
      .execute();
    return rows.map((r) => toRow(r));
  },

  /** Card and POS rows of a customer between two instants that no hand-recorded visit is linked to yet. */
  async unlinkedRows(db: Kysely<Database>, customerId: number, from: string, to: string): Promise<TxnRow[]> {
    const rows = await db
      .selectFrom('fuel_transaction')
      .select([...SELECT_TXN])
      .where('customer_id', '=', customerId)
      .where('source', '!=', 'pump')
      .where('visit_id', 'is', null)
      .where('occurred_at', '>=', from)
      .where('occurred_at', '<=', to)
      .execute();
    return rows.map((r) => toRow(r));
  },

  /** Rows still without a customer that carry one of these cards or plates. */
  async unattached(db: Kysely<Database>, engine: Engine, cards: string[], plates: string[]): Promise<TxnRow[]> {
    const out: TxnRow[] = [];
    if (cards.length)
      out.push(
        ...(
          await db
            .selectFrom('fuel_transaction')
            .select([...SELECT_TXN])
            .where('customer_id', 'is', null)
            .where('card_no', 'is not', null)
            .where((eb) => oneOf(engine, eb.ref('card_no'), cards))
            .execute()
        ).map((r) => toRow(r)),
      );
    if (plates.length) {
      const seen = new Set(out.map((r) => r.id));
      const byPlate = await db
        .selectFrom('fuel_transaction')
        .select([...SELECT_TXN])
        .where('customer_id', 'is', null)
        .where('plate', 'is not', null)
        .where((eb) => oneOf(engine, eb.ref('plate'), plates))
        .execute();
      for (const r of byPlate) if (!seen.has(Number(r.id))) out.push(toRow(r));
    }
    return out;
  },

  async setCustomer(db: Kysely<Database>, engine: Engine, ids: number[], customerId: number): Promise<void> {
    if (ids.length)
      await db
        .updateTable('fuel_transaction')
        .set({ customer_id: customerId })
        .where((eb) => oneOf(engine, eb.ref('id'), ids))
        .execute();
  },

  async deleteRows(db: Kysely<Database>, engine: Engine, ids: number[]): Promise<void> {
    // PostgreSQL: a trigger (migration 0035) frees the rows' keys and drops their merge entries.
    if (ids.length)
      await db
        .deleteFrom('fuel_transaction')
        .where((eb) => oneOf(engine, eb.ref('id'), ids))
        .execute();
  },

  async linkVisit(db: Kysely<Database>, txnId: number, visitId: number | null): Promise<void> {
    await db.updateTable('fuel_transaction').set({ visit_id: visitId }).where('id', '=', txnId).execute();
  },

  /** Add to the monthly rollup; rows are (month, customer id, product, volume, amount, count). */
  async addCustomerMonths(db: Kysely<Database>, engine: Engine, rows: unknown[][]): Promise<void> {
    if (engine === 'sqlite') return runPerRow(db, UPSERT_MONTH_ROW, rows);
    await runAll(db, pgRollupStatements({ months: rows }));
  },

  async addStationDays(db: Kysely<Database>, engine: Engine, rows: unknown[][]): Promise<void> {
    if (engine === 'sqlite') return runPerRow(db, UPSERT_DAY_ROW, rows);
    await runAll(db, pgRollupStatements({ days: rows }));
  },

  /** Station days whose last sale was taken away. */
  async dropEmptyStationDays(db: Kysely<Database>, engine: Engine, unitIds: number[]): Promise<void> {
    if (unitIds.length)
      await db
        .deleteFrom('station_day')
        .where((eb) => oneOf(engine, eb.ref('org_unit_id'), unitIds))
        .where('txn_count', '<=', 0)
        .execute();
  },

  async writeCadences(db: Kysely<Database>, engine: Engine, rows: unknown[][]): Promise<void> {
    if (engine === 'sqlite')
      return runPerRow(
        db,
        UPDATE_CADENCE_ROW,
        rows.map(([id, ...rest]) => [...rest, id]),
      );
    await runAll(db, pgRollupStatements({ cadences: rows }));
  },

  /** PostgreSQL: a chunk's rollup statements, built ahead of running them — their array parameters are most of the work. */
  rollupStatements(rows: RollupRows): CompiledQuery[] {
    return pgRollupStatements(rows);
  },

  runAll,

  /** Rebuild these customers' monthly rollup from their rows. */
  async rebuildCustomerMonths(db: Kysely<Database>, engine: Engine, ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    // Keyed by month first: the months on file are found by a walk down the key (one seek per
    // month), then each is probed for these customers.
    const { rows: onFile } = await sql<{ month: string | null }>`with recursive m(month) as (
        select min(month) from customer_month
        union all select (select min(c.month) from customer_month c where c.month > m.month) from m where m.month is not null)
      select month from m where month is not null`.execute(db);
    const months = onFile.map((r) => r.month!);
    if (months.length)
      await db
        .deleteFrom('customer_month')
        .where('month', 'in', months)
        .where((eb) => oneOf(engine, eb.ref('customer_id'), ids))
        .execute();
    const month = sql<string>`substr(business_day, 1, 7)`;
    await db
      .insertInto('customer_month')
      .columns(['customer_id', 'month', 'product', 'volume_ml', 'amount_fen', 'txn_count'])
      .expression(
        db
          .selectFrom('fuel_transaction')
          .select((eb) => [
            'customer_id',
            month.as('month'),
            'product',
            eb.fn.sum<number>('volume_ml').as('volume_ml'),
            sql<number>`coalesce(sum(amount_fen), 0)`.as('amount_fen'),
            eb.fn.countAll<number>().as('txn_count'),
          ])
          .where((eb) => oneOf(engine, eb.ref('customer_id'), ids))
          .groupBy(['customer_id', month, 'product']) as never,
      )
      .execute();
  },

  /** Visit days, first and last fill-up per customer, straight from the rows. */
  async cadenceFromRows(db: Kysely<Database>, engine: Engine, ids: number[]) {
    if (ids.length === 0) return [];
    const rows = await db
      .selectFrom('fuel_transaction')
      .select((eb) => [
        'customer_id',
        eb.fn.count<number>('business_day').distinct().as('days'),
        eb.fn.min<string>('occurred_at').as('first_at'),
        eb.fn.max<string>('occurred_at').as('last_at'),
        eb.fn.min<string>('business_day').as('first_day'),
        eb.fn.max<string>('business_day').as('last_day'),
      ])
      .where((eb) => oneOf(engine, eb.ref('customer_id'), ids))
      .groupBy('customer_id')
      .execute();
    return rows.map((r) => ({
      customerId: Number(r.customer_id),
      days: Number(r.days),
      firstAt: r.first_at,
      lastAt: r.last_at,
      firstDay: r.first_day,
      lastDay: r.last_day,
    }));
  },

  async lastVisits(db: Kysely<Database>, engine: Engine, ids: number[]): Promise<Map<number, string>> {
    if (ids.length === 0) return new Map();
    const rows = await db
      .selectFrom('visit')
      .select((eb) => ['customer_id', eb.fn.max<string>('at').as('at')])
      .where((eb) => oneOf(engine, eb.ref('customer_id'), ids))
      .groupBy('customer_id')
      .execute();
    return new Map(rows.map((r) => [Number(r.customer_id), r.at]));
  },

  /** Remember which rows a merge moves, then move them. */
  async moveForMerge(db: Kysely<Database>, mergeId: number, fromId: number, toId: number): Promise<void> {
    await db
      .insertInto('customer_merge_txn')
      .columns(['merge_id', 'txn_id'])
      .expression(
        db
          .selectFrom('fuel_transaction')
          .select([sql.lit(mergeId).as('merge_id'), 'id'])
          .where('customer_id', '=', fromId),
      )
      .execute();
    await db.updateTable('fuel_transaction').set({ customer_id: toId }).where('customer_id', '=', fromId).execute();
  },

  async moveBack(db: Kysely<Database>, mergeId: number, survivorId: number, mergedId: number): Promise<void> {
    await db
      .updateTable('fuel_transaction')
      .set({ customer_id: mergedId })
      .where('customer_id', '=', survivorId)
      .where('id', 'in', db.selectFrom('customer_merge_txn').select('txn_id').where('merge_id', '=', mergeId))
      .execute();
  },
};
