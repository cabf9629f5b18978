import { CHUNK_ROWS } from './modules/transactions/ingest.service.js';
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from './modules/imports/parse/limits.js';
import { DEFAULT_READ_MAX_LAG_SECONDS } from './db/replica.js';

export interface Config {
  databaseUrl: string;
  /**
   * A PostgreSQL streaming replica of DATABASE_URL (DATABASE_READ_URL) that dashboards, reports,
   * exports and the nightly run read from; null: everything on DATABASE_URL.
   */
  databaseReadUrl: string | null;
  /**
   * While the replica's replay is further behind than this many seconds, its reads go to the primary
   * (DATABASE_READ_MAX_LAG_SECONDS); 0: no limit.
   */
  databaseReadMaxLagSeconds: number;
  host: string;
  port: number;
  /** Session ends after this long without a request. */
  sessionIdleMinutes: number;
  /** Session ends this long after sign-in, whatever happens. */
  sessionAbsoluteHours: number;
  /** Failed sign-ins in a row before the account is locked. */
  lockoutThreshold: number;
  lockoutMinutes: number;
  /** Sign-in attempts per minute from one address. */
  loginRateLimitPerMinute: number;
  /** Send the Secure cookie attribute (behind HTTPS). */
  secureCookies: boolean;
  /**
   * Origins (`https://crm.example.com`) besides the request's own host from which a signed-in browser may
   * send state-changing requests (ALLOWED_ORIGINS, comma-separated).
   */
  allowedOrigins: string[];
  logLevel: string;
  /**
   * Dashboards over a subtree are served from a snapshot this many minutes old at most; an older
   * one is served while a new one is computed. 0: every call computes its figures.
   */
  dashboardSnapshotMinutes: number;
  /**
   * Sales stored per database transaction by the ingest API. Larger chunks write each touched page
   * once for more rows; on SQLite every other request waits for a chunk to finish.
   */
  ingestChunkRows: number;
  /**
   * What the import center's reader may spend on one file (IMPORT_MAX_XLSX_MB,
   * IMPORT_MAX_SHARED_STRINGS_MB, IMPORT_MAX_CELL_CHARS, IMPORT_MAX_COLUMNS, IMPORT_MAX_ROWS); a file
   * past one is refused with IMPORT_LIMIT_EXCEEDED naming it.
   */
  importLimits: ImportLimits;
  /**
   * Bearer token a Prometheus scrape of /metrics must send (METRICS_TOKEN). Unset: /metrics answers
   * requests from this machine only (the loopback address).
   */
  metricsToken: string | null;
  /**
   * How long a signed-in session's principal (user, unit, roles, permissions, grants) is served from
   * memory (PRINCIPAL_CACHE_MS). Changes made through this instance, and on PostgreSQL through any
   * instance, take effect at once; ones it cannot hear of (another process on the same SQLite file,
   * the CLI) within this bound. 0 rebuilds the principal on every request.
   */
  principalCacheMs: number;
  /**
   * Hours the initial passwords an import of users generated wait for their download
   * (IMPORT_PASSWORD_TTL_HOURS); then a job deletes them and the users' passwords are reset by hand.
   */
  importPasswordTtlHours: number;
  webRoot: string | null;
}

function int(value: string | undefined, fallback: number): number {
  const n = value === undefined ? NaN : Number.parseInt(value, 10);
  return Number.isFinite(n) ? n : fallback;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    databaseUrl: env.DATABASE_URL || env.FORECOURT_DB || './data/forecourt.db',
    databaseReadUrl: env.DATABASE_READ_URL || null,
    databaseReadMaxLagSeconds: Math.max(0, int(env.DATABASE_READ_MAX_LAG_SECONDS, DEFAULT_READ_MAX_LAG_SECONDS)),
    host: env.HOST || '127.0.0.1',
    port: int(env.PORT, 3000),
    sessionIdleMinutes: int(env.SESSION_IDLE_MINUTES, 30),
    sessionAbsoluteHours: int(env.SESSION_ABSOLUTE_HOURS, 12),
    lockoutThreshold: int(env.LOCKOUT_THRESHOLD, 5),
    lockoutMinutes: int(env.LOCKOUT_MINUTES, 15),
    loginRateLimitPerMinute: int(env.LOGIN_RATE_LIMIT, 20),
    secureCookies: env.SECURE_COOKIES === '1',
    allowedOrigins: (env.ALLOWED_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== ''),
    logLevel: env.LOG_LEVEL || 'info',
    dashboardSnapshotMinutes: int(env.DASHBOARD_SNAPSHOT_MINUTES, 15),
    ingestChunkRows: Math.max(1, int(env.INGEST_CHUNK_ROWS, CHUNK_ROWS)),
    importLimits: {
      xlsxMb: Math.max(1, int(env.IMPORT_MAX_XLSX_MB, DEFAULT_IMPORT_LIMITS.xlsxMb)),
      sharedStringsMb: Math.max(1, int(env.IMPORT_MAX_SHARED_STRINGS_MB, DEFAULT_IMPORT_LIMITS.sharedStringsMb)),
      cellChars: Math.max(1, int(env.IMPORT_MAX_CELL_CHARS, DEFAULT_IMPORT_LIMITS.cellChars)),
      columns: Math.max(1, int(env.IMPORT_MAX_COLUMNS, DEFAULT_IMPORT_LIMITS.columns)),
      rows: Math.max(1, int(env.IMPORT_MAX_ROWS, DEFAULT_IMPORT_LIMITS.rows)),
    },
    metricsToken: env.METRICS_TOKEN || null,
    principalCacheMs: Math.max(0, int(env.PRINCIPAL_CACHE_MS, 5000)),
    importPasswordTtlHours: Math.max(1, int(env.IMPORT_PASSWORD_TTL_HOURS, 72)),
    webRoot: env.WEB_ROOT ?? null,
  };
}
