// Every difference between SQLite and PostgreSQL lives here. Services never ask which engine runs.
import {
  CompiledQuery,
  PostgresAdapter,
  sql,
  type Expression,
  type Kysely,
  type RawBuilder,
  type SelectQueryBuilder,
  type SqlBool,
} from 'kysely';
import type SQLite from 'better-sqlite3';
import type pg from 'pg';
import type { Database } from './schema.js';

export type Engine = 'sqlite' | 'postgres';

/** Case-insensitive substring match (SQLite LIKE is case-insensitive for ASCII already). */
export function ilike(
  engine: Engine,
  column: Expression<unknown> | RawBuilder<unknown>,
  pattern: string,
): RawBuilder<SqlBool> {
  return engine === 'postgres'
    ? sql<SqlBool>`${column} ilike ${pattern}`
    : sql<SqlBool>`${column} like ${pattern} escape '\\'`;
}

/** Escape LIKE wildcards in user text. */
export function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (m) => `\\${m}`);
}

/** True when the error is a unique-constraint violation, on either engine. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string } | null;
  return e?.code === '23503' || e?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** `column` starts with `prefix`, using a btree index on both engines. */
export function prefixRange(engine: Engine, column: Expression<unknown>, prefix: string): RawBuilder<SqlBool> {
  // PostgreSQL's text_pattern_ops index serves LIKE 'x%'; SQLite's LIKE ignores a BINARY index, a range does not.
  return engine === 'postgres'
    ? sql<SqlBool>`${column} like ${`${likeEscape(prefix)}%`}`
    : sql<SqlBool>`(${column} >= ${prefix} and ${column} < ${`${prefix}\u{10FFFF}`})`;
}

/** Vehicle ids whose plate contains `key` (3+ characters), via FTS5 trigram or pg_trgm. */
export function plateContains(db: Kysely<Database>, engine: Engine, key: string) {
  // Normalised plates hold only letters, digits and CJK; dropping wildcards keeps the FTS5 trigram index usable (it ignores LIKE … ESCAPE).
  const pattern = `%${key.replace(/[\\%_]/g, '')}%`;
  if (engine === 'postgres')
    return db
      .selectFrom('vehicle')
      .select('id')
      .where(sql<SqlBool>`plate like ${pattern}`);
  return db
    .selectFrom(sql<{ id: number }>`(select rowid as id from vehicle_plate_fts where plate like ${pattern})`.as('fts'))
    .select('fts.id');
}

/** A correlated list of `column` values joined by the unit separator (U+001F), or null when empty. */
export function groupConcat(
  engine: Engine,
  from: SelectQueryBuilder<any, any, any>,
  column: string,
): RawBuilder<string | null> {
  const agg =
    engine === 'postgres'
      ? sql`string_agg(${sql.ref(column)}, chr(31))`
      : sql`group_concat(${sql.ref(column)}, char(31))`;
  return sql<string | null>`(${from.select(agg.as('v'))})`;
}

/**
 * Whether a query holds the process's event loop (and its one connection) until it is done: SQLite's
 * driver is synchronous, so a long transaction keeps every other request waiting; PostgreSQL's waits on I/O.
 */
export function queriesHoldEventLoop(engine: Engine): boolean {
  return engine === 'sqlite';
}

/** The engine a Kysely instance or transaction runs on, for helpers that other modules call with only a transaction. */
export function engineOf(db: Kysely<any>): Engine {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * Run `read` without PostgreSQL's JIT compilation, in a transaction of its own. For reads that plan
 * expensive but run short: a list of ids against the 25 monthly partitions of fuel_transaction is
 * costed past jit_optimize_above_cost and spent 1.3 s compiling 159 functions to run for 0.6 s.
 * `db` must not be a transaction already. SQLite has no JIT.
 *
 * On a read replica's handle a read in a transaction is not run again on the primary when the
 * replica cancels it (see replica.ts), so a read that fails here is run once more as an ordinary
 * read, which is.
 */
export async function withoutJit<T>(db: Kysely<any>, read: (db: Kysely<any>) => Promise<T>): Promise<T> {
  if (engineOf(db) !== 'postgres') return read(db);
  try {
    return await db.transaction().execute(async (trx) => {
      await sql`set local jit = off`.execute(trx);
      return read(trx);
    });
  } catch {
    return read(db);
  }
}

const sqliteConnections = new WeakMap<object, SQLite.Database>();
const sqliteStatements = new WeakMap<SQLite.Database, Map<string, SQLite.Statement>>();

/** Called once when a SQLite database is opened, so that `sqliteStatement` finds its connection. */
export function registerSqliteConnection(db: Kysely<any>, database: SQLite.Database): void {
  // A transaction shares its Kysely instance's adapter, so the adapter identifies the connection.
  sqliteConnections.set(db.getExecutor().adapter, database);
}

/**
 * A prepared statement on the connection under a SQLite Kysely instance or transaction, for writers
 * that run thousands of one-row statements: through Kysely each costs a promise and a round of the
 * query pipeline, here it costs what the engine does. SQLite has one connection that runs one
 * statement at a time, so inside a Kysely transaction the statement is part of that transaction.
 */
export function sqliteStatement(db: Kysely<any>, text: string): SQLite.Statement {
  // Outside a transaction the statement could land in another caller's open transaction.
  if (!db.isTransaction) throw new Error('sqliteStatement runs only inside a transaction');
  const database = sqliteConnections.get(db.getExecutor().adapter);
  if (!database) throw new Error('not a registered SQLite database');
  let cache = sqliteStatements.get(database);
  if (!cache) sqliteStatements.set(database, (cache = new Map()));
  let stmt = cache.get(text);
  if (!stmt) cache.set(text, (stmt = database.prepare(text)));
  return stmt;
}

const pgClients = new WeakMap<object, Map<number, pg.PoolClient>>();
const pgPools = new WeakMap<object, pg.Pool>();

/** The pg pool under a PostgreSQL Kysely instance (for its use and wait figures), or null on SQLite. */
export function pgPoolOf(db: Kysely<any>): pg.Pool | null {
  return pgPools.get(db.getExecutor().adapter) ?? null;
}

/** Called once when a PostgreSQL pool is opened, so that `pgClientOf` finds its connections. */
export function registerPgPool(db: Kysely<any>, pool: pg.Pool): void {
  const byPid = new Map<number, pg.PoolClient>();
  pgClients.set(db.getExecutor().adapter, byPid);
  pgPools.set(db.getExecutor().adapter, pool);
  const pidOf = (client: pg.PoolClient) => (client as unknown as { processID: number | null }).processID;
  pool.on('connect', (client) => {
    const pid = pidOf(client);
    if (pid !== null) byPid.set(pid, client);
  });
  pool.on('remove', (client) => {
    const pid = pidOf(client);
    if (pid !== null && byPid.get(pid) === client) byPid.delete(pid);
  });
}

/**
 * The pg client under a PostgreSQL Kysely transaction, for what Kysely cannot send (COPY). The
 * transaction holds its connection until it ends, so the client is this transaction's alone while
 * the caller awaits it; found by the server process id the connection reports.
 */
export async function pgClientOf(db: Kysely<any>): Promise<pg.PoolClient> {
  if (!db.isTransaction) throw new Error('pgClientOf runs only inside a transaction');
  const byPid = pgClients.get(db.getExecutor().adapter);
  if (!byPid) throw new Error('not a registered PostgreSQL pool');
  const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
  const client = byPid.get(Number(rows[0]!.pid));
  if (!client) throw new Error("the transaction's connection is not known");
  return client;
}

/** A value as a field of COPY's text format. */
export function copyField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const text = typeof v === 'string' ? v : String(v);
  return COPY_SPECIAL.test(text) ? text.replace(COPY_SPECIALS, (c) => COPY_ESCAPES[c]!) : text;
}
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * `column` is one of `values`, bound as one parameter whatever their number: the statement text
 * stays the same (SQLite reuses the prepared statement) and a long list never meets a parameter limit.
 */
export function oneOf(
  engine: Engine,
  column: Expression<unknown> | RawBuilder<unknown>,
  values: readonly (string | number)[],
): RawBuilder<SqlBool> {
  // PostgreSQL infers the array's type from the column, so the literal needs no cast.
  return engine === 'postgres'
    ? sql<SqlBool>`${column} = any(${pgArrayLiteral(values)})`
    : sql<SqlBool>`${column} in (select value from json_each(${JSON.stringify(values)}))`;
}

const NEEDS_ESCAPE = /[\\"]/;
const ESCAPED = /[\\"]/g;

/**
 * A PostgreSQL array literal (`{"a","b\"c",NULL,1}`) for a parameter. pg turns a JavaScript array
 * into the same text element by element, at about five times the cost. Built by appending to one
 * string: 2.3× faster than joining an array of parts (30,000 numbers, dates or short texts).
 */
export function pgArrayLiteral(values: readonly unknown[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const v = values[i];
    if (v === null || v === undefined) out += 'NULL';
    else if (typeof v === 'number' || typeof v === 'bigint') out += String(v);
    else {
      const text =
        typeof v === 'string'
          ? v
          : v instanceof Date
            ? v.toISOString()
            : typeof v === 'object'
              ? JSON.stringify(v)
              : String(v);
      out += NEEDS_ESCAPE.test(text) ? '"' + text.replace(ESCAPED, '\\$&') + '"' : '"' + text + '"';
    }
  }
  return out + '}';
}

/**
 * Writers that read rollups and then write them take their turn. SQLite already runs one writer at
 * a time; on PostgreSQL a transaction-scoped advisory lock has two levels:
 *
 * - `serialiseRollupWriters` waits for every other writer and holds them all off: merges, a customer
 *   who gains cards or plates (rows waiting for them are looked up under it), big batches.
 * - `shareRollupWriters` lets small writers (a fill-up at the pump, a station's few sales) run beside
 *   each other. Each then holds its customers with `lockRollupCustomers`, before it reads their
 *   cadence and writes any row of theirs, so two writers of one customer still take turns.
 *
 * A transaction takes the exclusive level, if at all, before the shared one (never shared, then
 * exclusive: two such would wait for each other).
 */
export async function serialiseRollupWriters(db: Kysely<any>): Promise<void> {
  if (engineOf(db) === 'postgres') await sql`select pg_advisory_xact_lock(${ROLLUP_LOCK})`.execute(db);
}

/** The shared level of the rollup writers' lock (see `serialiseRollupWriters`). */
export async function shareRollupWriters(db: Kysely<any>): Promise<void> {
  if (engineOf(db) === 'postgres') await sql`select pg_advisory_xact_lock_shared(${ROLLUP_LOCK})`.execute(db);
}

/**
 * Hold these customers' rollups for the rest of the transaction (PostgreSQL; taken after
 * `shareRollupWriters`). Keys are taken in ascending order, so two writers never hold one each of
 * the other's; they live in the two-key space of advisory locks, apart from the bigint lock above.
 */
export async function lockRollupCustomers(db: Kysely<any>, customerIds: readonly number[]): Promise<void> {
  if (engineOf(db) !== 'postgres' || customerIds.length === 0) return;
  const keys = [...new Set(customerIds.map((id) => id % 2_147_483_647))].sort((a, b) => a - b);
  // A function scan of unnest returns the array's elements in order, so the locks are taken in order.
  await sql`select pg_advisory_xact_lock(${ROLLUP_LOCK}::int, k) from unnest(${pgArrayLiteral(keys)}::int[]) as k`.execute(
    db,
  );
}
const ROLLUP_LOCK = 0x46435458; // "FCTX"

/** A batch with more rows than this takes the exclusive level: holding each customer would cost more. */
export const SHARED_ROLLUP_WRITER_ROWS = 64;

/** A column of a bulk statement and its PostgreSQL array element type. */
export interface BulkColumn {
  name: string;
  pg: 'text' | 'bigint' | 'integer' | 'timestamptz' | 'double precision';
}

const SQLITE_MAX_PARAMS = 32_000;
const PG_MAX_ROWS = 50_000;
const statementText = new Map<string, string>();

/**
 * Many rows in few statements: `with v(columns) as (<rows>) <body>`, where the rows are a
 * `values` list on SQLite and `unnest` of one array per column on PostgreSQL (a fixed number of
 * parameters, however many rows). `body` reads the rows from `v`; SQLite needs `where true` before
 * an `on conflict` clause of an `insert … select`, so bodies carry it.
 */
export function bulkStatements(
  engine: Engine,
  columns: readonly BulkColumn[],
  rows: readonly unknown[][],
  body: string,
  maxRows = 1000,
): CompiledQuery[] {
  const names = columns.map((c) => c.name).join(', ');
  const out: CompiledQuery[] = [];
  if (engine === 'postgres') {
    const arrays = columns.map((c, i) => `$${i + 1}::${c.pg}[]`).join(', ');
    const text = `with v (${names}) as (select * from unnest(${arrays})) ${body}`;
    for (let start = 0; start < rows.length; start += PG_MAX_ROWS) {
      const part = rows.slice(start, start + PG_MAX_ROWS);
      out.push(
        CompiledQuery.raw(
          text,
          columns.map((_, i) => pgArrayLiteral(part.map((r) => r[i]))),
        ),
      );
    }
    return out;
  }
  const per = Math.max(1, Math.min(maxRows, Math.floor(SQLITE_MAX_PARAMS / columns.length)));
  for (let start = 0; start < rows.length; start += per) {
    const part = rows.slice(start, start + per);
    const key = `${part.length}|${columns.length}|${names}|${body}`;
    let text = statementText.get(key);
    if (text === undefined) {
      const one = `(${columns.map(() => '?').join(', ')})`;
      text = `with v (${names}) as (values ${new Array(part.length).fill(one).join(', ')}) ${body}`;
      if (statementText.size > 200) statementText.clear();
      statementText.set(key, text);
    }
    const params: unknown[] = new Array(part.length * columns.length);
    let k = 0;
    for (const r of part) for (let i = 0; i < columns.length; i++) params[k++] = r[i];
    out.push(CompiledQuery.raw(text, params));
  }
  return out;
}
