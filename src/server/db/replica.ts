// The read handle (DATABASE_READ_URL): a PostgreSQL streaming replica that takes the long reads —
// dashboards, reports, exports and the nightly run's passes over the archive — off the primary.
// Writes never go there (a standby refuses them: SQLSTATE 25006). What must see the request's own
// writes, and whatever runs in a transaction, stays on the primary.
//
// A replica that cannot be reached does not take the application down: a read that cannot get a
// replica connection gets a primary one (a warning once, counted in /metrics), and the replica is
// tried again REPLICA_RETRY_MS later. A read the replica cancels (its connection dropped, or a
// conflict with recovery) outside a transaction is run again on the primary.
import pg from 'pg';
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type { Database } from './schema.js';

/** After a failed connection, reads go to the primary this long before the replica is tried again. */
export const REPLICA_RETRY_MS = 10_000;
/** How long opening a replica connection may take before the read goes to the primary. */
export const REPLICA_CONNECT_TIMEOUT_MS = 2_000;

export type ReplicaState = 'streaming' | 'paused' | 'down' | 'not_in_recovery';

export interface ReplicaStatus {
  state: ReplicaState;
  /** Seconds since the last transaction the replica replayed, 0 when it has replayed all the primary wrote. */
  lagSeconds: number | null;
  /** WAL bytes the primary wrote that the replica has not replayed. */
  lagBytes: number | null;
  /** Why reads go to the primary now (state 'down'). */
  error: string | null;
}

export interface ReplicaCounters {
  /** Read statements run on the replica. */
  replicaQueries: number;
  /** Read connections given to the primary because the replica could not be reached. */
  fallbacks: number;
  /** Reads the replica cancelled and the primary ran again. */
  retried: number;
}

// Connection-level failures (the replica stopped, restarted or cannot be reached yet).
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (still starting)
]);

function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (e?.code && CONNECTION_CODES.has(e.code)) return true;
  return /Connection terminated|not queryable|timeout exceeded when trying to connect/i.test(e?.message ?? '');
}

/** A standby cancels a read whose rows the replay needs to remove (conflict with recovery). */
function isRecoveryConflict(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return e?.code === '40001' && /conflict with recovery/i.test(e.message ?? '');
}

export class ReadReplica {
  readonly kysely: Kysely<Database>;
  readonly pool: pg.Pool;
  private downUntil = 0;
  private lastError: string | null = null;
  private readonly counters: ReplicaCounters = { replicaQueries: 0, fallbacks: 0, retried: 0 };
  private readonly wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();

  constructor(
    url: string,
    private readonly primary: pg.Pool,
    poolSize: number,
    private readonly warn: (message: string) => void = (m) => process.emitWarning(m, { code: 'FORECOURT_PG_REPLICA' }),
  ) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: poolSize,
      connectionTimeoutMillis: REPLICA_CONNECT_TIMEOUT_MS,
    });
    // An idle replica connection that ends (the replica stopped) is dropped, not re-thrown.
    this.pool.on('error', (err) => this.markDown(err));
    const router: PostgresPool = { connect: () => this.connect(), end: () => this.pool.end() };
    this.kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool: router }) });
  }

  get isDown(): boolean {
    return Date.now() < this.downUntil;
  }

  stats(): ReplicaCounters & { down: boolean } {
    return { ...this.counters, down: this.isDown };
  }

  private markDown(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (!this.isDown && this.lastError === null)
      this.warn(`read replica unreachable, reads go to the primary: ${message}`);
    this.lastError = message;
    this.downUntil = Date.now() + REPLICA_RETRY_MS;
  }

  private markUp(): void {
    if (this.lastError !== null) this.warn('read replica reachable again, reads go to it');
    this.lastError = null;
    this.downUntil = 0;
  }

  private async connect(): Promise<PostgresPoolClient> {
    if (!this.isDown) {
      try {
        const client = await this.pool.connect();
        this.markUp();
        return this.wrap(client);
      } catch (err) {
        this.markDown(err);
      }
    }
    this.counters.fallbacks++;
    return this.primary.connect();
  }

  /** A replica client whose reads outside a transaction are run again on the primary if the replica drops them. */
  private wrap(client: pg.PoolClient): PostgresPoolClient {
    const known = this.wrapped.get(client);
    if (known) return known;
    let inTransaction = false;
    let broken = false;
    // The pool listens for errors of idle clients only: one that ends while a read holds it (the
    // replica stopped between two statements) would throw from the event emitter and end the process.
    client.on('error', (err) => {
      broken = true;
      this.markDown(err);
    });
    const onPrimary = async (text: string, params: readonly unknown[]) => {
      const other = await this.primary.connect();
      try {
        return await other.query(text, params as unknown[]);
      } finally {
        other.release();
      }
    };
    const query = async (text: string, params: readonly unknown[]) => {
      if (/^\s*(begin|start transaction)\b/i.test(text)) inTransaction = true;
      try {
        this.counters.replicaQueries++;
        const result = await client.query(text, params as unknown[]);
        if (/^\s*(commit|rollback)\s*$/i.test(text)) inTransaction = false;
        return result;
      } catch (err) {
        if (/^\s*(commit|rollback)\s*$/i.test(text)) inTransaction = false;
        const dropped = isConnectionError(err);
        if (dropped) {
          broken = true;
          this.markDown(err);
        }
        if (inTransaction || !(dropped || isRecoveryConflict(err))) throw err;
        this.counters.retried++;
        return onPrimary(text, params);
      }
    };
    const out = {
      query: (textOrCursor: unknown, params?: readonly unknown[]) =>
        typeof textOrCursor === 'string'
          ? query(textOrCursor, params ?? [])
          : client.query(textOrCursor as pg.Submittable),
      release: () => {
        inTransaction = false;
        client.release(broken);
      },
    } as unknown as PostgresPoolClient;
    this.wrapped.set(client, out);
    return out;
  }

  /**
   * Where the replica stands: streaming (or paused) with its lag behind the primary, down, or a
   * server that is not a standby at all. Asks the replica itself, not the read router.
   */
  async status(): Promise<ReplicaStatus> {
    if (this.isDown) return { state: 'down', lagSeconds: null, lagBytes: null, error: this.lastError };
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      this.markDown(err);
      return { state: 'down', lagSeconds: null, lagBytes: null, error: this.lastError };
    }
    let r: { in_recovery: boolean; paused: boolean | null; replay_lsn: string | null; replay_age: number | null };
    try {
      const { rows } = await client.query<typeof r>(
        `select pg_is_in_recovery() as in_recovery,
                case when pg_is_in_recovery() then pg_is_wal_replay_paused() end as paused,
                pg_last_wal_replay_lsn()::text as replay_lsn,
                extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 as replay_age`,
      );
      client.release();
      r = rows[0]!;
    } catch (err) {
      client.release(true);
      if (isConnectionError(err)) this.markDown(err);
      return {
        state: 'down',
        lagSeconds: null,
        lagBytes: null,
        error: err instanceof Error ? err.message : String(err),
      };
    }
    this.markUp();
    if (!r.in_recovery) return { state: 'not_in_recovery', lagSeconds: null, lagBytes: null, error: null };
    const behind = r.replay_lsn
      ? await this.primary
          .query<{ b: number }>('select pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::float8 as b', [r.replay_lsn])
          .then((res) => res.rows[0]?.b ?? null)
          .catch(() => null)
      : null;
    const lagBytes = behind === null ? null : Math.max(0, Number(behind));
    // All the primary wrote is replayed: no lag, however long ago its last transaction was.
    const lagSeconds =
      lagBytes === 0 ? 0 : r.replay_age === null ? null : Math.max(0, Math.round(Number(r.replay_age) * 1000) / 1000);
    return { state: r.paused ? 'paused' : 'streaming', lagSeconds, lagBytes, error: null };
  }

  close(): Promise<void> {
    return this.kysely.destroy();
  }
}

// ---- finding the read handle of a primary --------------------------------------------------------

const readers = new WeakMap<object, Kysely<Database>>();
const replicas = new WeakMap<object, ReadReplica>();

/** Called once when a database is opened: `read` is where `primary`'s long reads go. */
export function registerReader(primary: Kysely<any>, read: Kysely<Database>, replica: ReadReplica | null): void {
  readers.set(primary.getExecutor().adapter, read);
  if (replica) replicas.set(primary.getExecutor().adapter, replica);
}

/**
 * Where a service sends its long reads: the replica's handle when one is configured, else `db`
 * itself. Inside a transaction it is the transaction: what it reads must see what it wrote.
 */
export function readerOf(db: Kysely<Database>): Kysely<Database> {
  if (db.isTransaction) return db;
  return readers.get(db.getExecutor().adapter) ?? db;
}

/** The replica behind a primary's read handle, or null (none configured, or SQLite). */
export function replicaOf(db: Kysely<any>): ReadReplica | null {
  return replicas.get(db.getExecutor().adapter) ?? null;
}
