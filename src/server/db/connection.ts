import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';
import { registerPgPool, registerSqliteConnection, type Engine } from './dialect.js';
import { DEFAULT_READ_MAX_LAG_SECONDS, ReadReplica, registerReader } from './replica.js';

export interface Db {
  kysely: Kysely<Database>;
  /**
   * Where long reads go (dashboards, reports, exports, the nightly run): the streaming replica of
   * `readUrl` when one is configured, else `kysely` itself. Never for writes. Services find it with
   * `readerOf(kysely)`.
   */
  read: Kysely<Database>;
  /** The replica behind `read` (its state and lag), or null. */
  replica: ReadReplica | null;
  engine: Engine;
  close(): Promise<void>;
}

export interface DbOptions {
  /** `postgres://…` selects PostgreSQL; anything else is a SQLite file path (or ':memory:'). */
  url: string;
  poolSize?: number;
  /** A PostgreSQL streaming replica of `url` (DATABASE_READ_URL) for the long reads; PostgreSQL only. */
  readUrl?: string | null;
  /** Reads leave the replica while its lag is above this many seconds (DATABASE_READ_MAX_LAG_SECONDS); 0: no limit. */
  readMaxLagSeconds?: number;
}

let pgParsersSet = false;
function setPgParsers(): void {
  if (pgParsersSet) return;
  pgParsersSet = true;
  // pg returns int8 (count(*), bigserial ids) as strings; our ids and counts fit in a double.
  pg.types.setTypeParser(20, (v) => Number(v));
  // numeric stays a string in pg; sums of integer columns come back as numeric.
  pg.types.setTypeParser(1700, (v) => Number(v));
  // Instants travel as ISO strings on both engines.
  pg.types.setTypeParser(1184, (v) => new Date(v).toISOString());
  pg.types.setTypeParser(1114, (v) => new Date(`${v}Z`).toISOString());
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

export function openDb(options: DbOptions): Db {
  if (isPostgresUrl(options.url)) {
    setPgParsers();
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10 });
    // An idle connection the server ends (a restart, a terminated backend) is dropped from the pool and
    // replaced on next use; without a listener the pool would re-throw it and end the process.
    pool.on('error', (err) => {
      process.emitWarning(`PostgreSQL idle connection lost: ${err.message}`, { code: 'FORECOURT_PG_IDLE' });
    });
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    registerPgPool(kysely, pool);
    const replica = options.readUrl
      ? new ReadReplica(options.readUrl, pool, {
          poolSize: options.poolSize ?? 10,
          maxLagSeconds: options.readMaxLagSeconds ?? DEFAULT_READ_MAX_LAG_SECONDS,
        })
      : null;
    const read = replica?.kysely ?? kysely;
    registerReader(kysely, read, replica);
    return {
      kysely,
      read,
      replica,
      engine: 'postgres',
      close: async () => {
        await replica?.close();
        await kysely.destroy();
      },
    };
  }
  if (options.readUrl) throw new Error('DATABASE_READ_URL needs PostgreSQL (DATABASE_URL=postgres://…)');
  if (options.url !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(options.url)), { recursive: true });
  const database = new SQLite(options.url);
  database.pragma('journal_mode = WAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  database.pragma('synchronous = NORMAL');
  database.pragma('cache_size = -65536');
  // Reads through a memory map of the file instead of a read() per page that misses the 64 MB cache:
  // the pump lookup's candidates (a station's plates ending in three digits, and their customers)
  // are scattered over the whole file, and mapped they cost a third (0.57 against 1.71 ms at
  // 1,000,000 customers). Writes still go through the WAL; an address range, not memory.
  database.pragma(`mmap_size = ${SQLITE_MMAP_BYTES}`);
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  registerSqliteConnection(kysely, database);
  return { kysely, read: kysely, replica: null, engine: 'sqlite', close: () => kysely.destroy() };
}

/** How much of a SQLite file is read through a memory map (1 GiB: the archive of a large branch). */
const SQLITE_MMAP_BYTES = 1024 * 1024 * 1024;

/**
 * Kysely prepares every query anew; on SQLite preparing costs as much as running a small query.
 * Reusing prepared statements by SQL text is safe because Kysely runs one query at a time per connection.
 */
function withStatementCache(database: SQLite.Database, size = 500) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string): SQLite.Statement {
      let stmt = cache.get(sql);
      if (stmt) {
        // Refresh its place so the least recently used statement is evicted first.
        cache.delete(sql);
      } else {
        stmt = database.prepare(sql);
        if (cache.size >= size) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sql, stmt);
      return stmt;
    },
  };
}
