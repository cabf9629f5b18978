// The read handle (DATABASE_READ_URL): a PostgreSQL streaming replica that takes the long reads —
// dashboards, reports, exports and the nightly run's passes over the archive — off the primary.
// Writes never go there (a standby refuses them: SQLSTATE 25006). What must see the request's own
// writes, and whatever runs in a transaction, stays on the primary.
//
// A replica that cannot be reached does not take the application down: a read that cannot get a
// replica connection gets a primary one (a warning once, counted in /metrics), and the replica is
// tried again REPLICA_RETRY_MS later. A read the replica cancels (its connection dropped, or a
// conflict with recovery) outside a transaction is run again on the primary.
//
// A replica too far behind is passed over the same way: with a limit (DATABASE_READ_MAX_LAG_SECONDS)
// its lag is measured every REPLICA_LAG_CHECK_MS by status() — the figure readiness reports — and
// while it stays above the limit reads get primary connections (a warning each way, counted in
// /metrics); the first measurement under the limit sends them back.
import pg from 'pg';
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type { Database } from './schema.js';

/** After a failed connection, reads go to the primary this long before the replica is tried again. */
export const REPLICA_RETRY_MS = 10_000;
/** How long opening a replica connection may take before the read goes to the primary. */
export const REPLICA_CONNECT_TIMEOUT_MS = 2_000;
/** DATABASE_READ_MAX_LAG_SECONDS when unset: reads leave a replica further behind than this. */
export const DEFAULT_READ_MAX_LAG_SECONDS = 30;
/** How often the replica's lag is measured when a limit is set. */
export const REPLICA_LAG_CHECK_MS = 5_000;
/**
 * The lag must stay above the limit this long (two measurements at least this far apart) before reads
 * leave the replica: on a quiet primary a WAL record not yet replayed (a checkpoint, a snapshot of
 * running transactions) makes the lag read as the time since the last commit for a few milliseconds.
 */
export const REPLICA_LAG_CONFIRM_MS = 1_000;

export type ReplicaState = 'streaming' | 'paused' | 'down' | 'not_in_recovery';

export interface ReplicaStatus {
  state: ReplicaState;
  /** Seconds since the last transaction the replica replayed, 0 when it has replayed all the primary wrote. */
  lagSeconds: number | null;
  /** WAL bytes the primary wrote that the replica has not replayed. */
  lagBytes: number | null;
  /** The replica's error (state 'down'). */
  error: string | null;
  /** Where reads go now: the primary while the replica is down or further behind than the limit. */
  readsOn: 'replica' | 'primary';
  /** DATABASE_READ_MAX_LAG_SECONDS, null for no limit. */
  maxLagSeconds: number | null;
  /** Why reads go to the primary ("reads go to the primary: replica lag 45 s > 30 s"), else null. */
  detail: string | null;
}

export interface ReplicaOptions {
  poolSize: number;
  /** Reads go to the primary while the replica's lag is above this many seconds; 0: no limit. */
  maxLagSeconds?: number;
  warn?: (message: string) => void;
}

export interface ReplicaCounters {
  /** Read statements run on the replica. */
  replicaQueries: number;
  /** Read connections given to the primary because the replica could not be reached. */
  fallbacks: number;
  /** Reads the replica cancelled and the primary ran again. */
  retried: number;
  /** Times reads left the replica because its lag went above the limit. */
  lagToPrimary: number;
  /** Times they came back once its lag was under the limit again. */
  lagToReplica: number;
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

/**
 * A standby cancels a read that holds back its replay longer than max_standby_streaming_delay:
 * "canceling statement due to conflict with recovery", SQLSTATE 40001 (rows the replay must remove, a
 * lock it must take) or 40P01 (a buffer-pin deadlock with the replay). A session idle inside a
 * transaction is ended instead: "terminating connection due to conflict with recovery", severity FATAL.
 */
function isRecoveryConflict(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return (e?.code === '40001' || e?.code === '40P01') && /conflict with recovery/i.test(e.message ?? '');
}

const seconds = (s: number) => (s >= 10 ? Math.round(s) : Math.round(s * 10) / 10);

export class ReadReplica {
  readonly kysely: Kysely<Database>;
  readonly pool: pg.Pool;
  readonly maxLagSeconds: number;
  private downUntil = 0;
  private lastError: string | null = null;
  /** Since when the measured lag has been above the limit (null: under it, or not measured). */
  private overLimitSince: number | null = null;
  /** The last lag measured while reads are on the primary because of it, else null. */
  private laggingBy: number | null = null;
  private readonly lagTimer: NodeJS.Timeout | null = null;
  private readonly warn: (message: string) => void;
  private readonly counters: ReplicaCounters = {
    replicaQueries: 0,
    fallbacks: 0,
    retried: 0,
    lagToPrimary: 0,
    lagToReplica: 0,
  };
  private readonly wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();

  constructor(
    url: string,
    private readonly primary: pg.Pool,
    options: ReplicaOptions,
  ) {
    this.warn = options.warn ?? ((m) => process.emitWarning(m, { code: 'FORECOURT_PG_REPLICA' }));
    this.maxLagSeconds = Math.max(0, options.maxLagSeconds ?? 0);
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize,
      connectionTimeoutMillis: REPLICA_CONNECT_TIMEOUT_MS,
    });
    // An idle replica connection that ends (the replica stopped) is dropped, not re-thrown.
    this.pool.on('error', (err) => {
      if (!isRecoveryConflict(err)) this.markDown(err);
    });
    const router: PostgresPool = { connect: () => this.connect(), end: () => this.pool.end() };
    this.kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool: router }) });
    if (this.maxLagSeconds > 0) {
      // status() never rejects; the catch is for a bug, which must not end the process from a timer.
      this.lagTimer = setInterval(() => void this.status().catch(() => undefined), REPLICA_LAG_CHECK_MS);
      this.lagTimer.unref();
    }
  }

  get isDown(): boolean {
    return Date.now() < this.downUntil;
  }

  /** Reads go to the primary because the replica's lag is above the limit. */
  get isLagging(): boolean {
    return this.laggingBy !== null;
  }

  stats(): ReplicaCounters & { down: boolean; lagging: boolean } {
    return { ...this.counters, down: this.isDown, lagging: this.isLagging };
  }

  /** A lag just measured: reads leave the replica once it has stayed above the limit, and come back below it. */
  private judgeLag(lagSeconds: number | null): void {
    if (this.maxLagSeconds === 0 || lagSeconds === null) return;
    if (lagSeconds <= this.maxLagSeconds) {
      this.overLimitSince = null;
      if (this.laggingBy !== null) {
        this.laggingBy = null;
        this.counters.lagToReplica++;
        this.warn(`read replica lag ${seconds(lagSeconds)} s ≤ ${this.maxLagSeconds} s: reads go to it again`);
      }
      return;
    }
    if (this.laggingBy !== null) {
      this.laggingBy = lagSeconds;
      return;
    }
    const now = Date.now();
    this.overLimitSince ??= now;
    if (now - this.overLimitSince < REPLICA_LAG_CONFIRM_MS) return;
    this.laggingBy = lagSeconds;
    this.counters.lagToPrimary++;
    this.warn(`read replica lag ${seconds(lagSeconds)} s > ${this.maxLagSeconds} s: reads go to the primary`);
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
    if (this.isLagging) return this.primary.connect();
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
    // A transaction idle between its statements that holds back the replay is ended with its session
    // ("terminating connection due to conflict with recovery"): the replica is up, and the errors the
    // dead connection gives afterwards (not queryable, terminated) must not mark it down.
    let endedByConflict = false;
    // The pool listens for errors of idle clients only: one that ends while a read holds it (the
    // replica stopped between two statements) would throw from the event emitter and end the process.
    client.on('error', (err) => {
      broken = true;
      if (isRecoveryConflict(err)) endedByConflict = true;
      else if (!endedByConflict) this.markDown(err);
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
      // The end of a transaction belongs to it: a commit or rollback run on another connection
      // would end nothing there and answer as if it had.
      const ending = /^\s*(commit|rollback)\s*$/i.test(text);
      try {
        this.counters.replicaQueries++;
        const result = await client.query(text, params as unknown[]);
        if (ending) inTransaction = false;
        return result;
      } catch (err) {
        const dropped = isConnectionError(err);
        if (isRecoveryConflict(err) && (err as { severity?: string }).severity === 'FATAL') {
          broken = true;
          endedByConflict = true;
        }
        if (dropped) {
          broken = true;
          if (!endedByConflict) this.markDown(err);
        }
        if (ending) inTransaction = false;
        if (ending || inTransaction || !(dropped || isRecoveryConflict(err))) throw err;
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
   * server that is not a standby at all, and where reads go. Asks the replica itself, not the read
   * router. Each measurement of the lag is held against the limit (see judgeLag).
   */
  async status(): Promise<ReplicaStatus> {
    const measured = await this.measure();
    if (measured.state !== 'down') this.judgeLag(measured.lagSeconds);
    const maxLagSeconds = this.maxLagSeconds > 0 ? this.maxLagSeconds : null;
    if (measured.state === 'down')
      return { ...measured, readsOn: 'primary', maxLagSeconds, detail: 'reads go to the primary: replica unreachable' };
    if (this.laggingBy !== null) {
      const detail = `reads go to the primary: replica lag ${seconds(this.laggingBy)} s > ${this.maxLagSeconds} s`;
      return { ...measured, readsOn: 'primary', maxLagSeconds, detail };
    }
    return { ...measured, readsOn: 'replica', maxLagSeconds, detail: null };
  }

  private async measure(): Promise<Pick<ReplicaStatus, 'state' | 'lagSeconds' | 'lagBytes' | 'error'>> {
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
    if (this.lagTimer) clearInterval(this.lagTimer);
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
