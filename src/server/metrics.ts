// What operators scrape at /metrics (Prometheus text format, prom-client): request latency per route
// and status, the database pool, the event loop, jobs, ingest, imports in progress and the outbox.
// Counters that code elsewhere bumps (ingest rows) live in one process-wide registry; what the
// database knows (jobs, imports, outbox) is read when scraped; the rest belongs to each app.
import client from 'prom-client';
import { sql, type Kysely } from 'kysely';
import type { Database } from './db/schema.js';
import { pgPoolOf, type Engine } from './db/dialect.js';
import { replicaOf } from './db/replica.js';

const processRegistry = new client.Registry();

/** Sales rows the ingest stored, by how they came (api, import). */
export const ingestRows = new client.Counter({
  name: 'forecourt_ingest_rows_total',
  help: 'Sales rows stored by the ingest',
  labelNames: ['source'] as const,
  registers: [processRegistry],
});
export const ingestRejected = new client.Counter({
  name: 'forecourt_ingest_rejected_rows_total',
  help: 'Sales rows the ingest refused',
  registers: [processRegistry],
});
let defaultsCollected = false;

export class AppMetrics {
  readonly registry = new client.Registry();
  readonly httpDuration = new client.Histogram({
    name: 'forecourt_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
    registers: [this.registry],
  });

  constructor(db: Kysely<Database>, engine: Engine) {
    const registry = this.registry;
    new client.Gauge({
      name: 'forecourt_db_pool_connections',
      help: 'PostgreSQL pool connections by state (total, idle, waiting clients); SQLite has one connection',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const pool = pgPoolOf(db);
        if (!pool) {
          this.set({ state: 'total' }, 1);
          return;
        }
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
    const replica = replicaOf(db);
    if (replica) {
      // The read replica (DATABASE_READ_URL): where reads went, and how far behind it is at scrape time
      // (asked once per scrape for both gauges).
      let asked: { at: number; status: ReturnType<typeof replica.status> } | null = null;
      const status = () => {
        if (!asked || Date.now() - asked.at > 1000) asked = { at: Date.now(), status: replica.status() };
        return asked.status;
      };
      new client.Counter({
        name: 'forecourt_db_replica_queries_total',
        help: 'Read statements run on the read replica',
        registers: [registry],
        collect() {
          this.reset();
          this.inc(replica.stats().replicaQueries);
        },
      });
      new client.Counter({
        name: 'forecourt_db_replica_fallbacks_total',
        help: 'Read connections taken from the primary because the read replica could not be reached',
        registers: [registry],
        collect() {
          this.reset();
          this.inc(replica.stats().fallbacks);
        },
      });
      new client.Counter({
        name: 'forecourt_db_replica_retries_total',
        help: 'Reads the replica dropped or cancelled (conflict with recovery) and the primary ran again',
        registers: [registry],
        collect() {
          this.reset();
          this.inc(replica.stats().retried);
        },
      });
      new client.Counter({
        name: 'forecourt_db_replica_lag_switches_total',
        help: 'Times reads left the read replica for the primary (to="primary") because its lag went above DATABASE_READ_MAX_LAG_SECONDS, and came back (to="replica")',
        labelNames: ['to'] as const,
        registers: [registry],
        collect() {
          this.reset();
          const s = replica.stats();
          this.inc({ to: 'primary' }, s.lagToPrimary);
          this.inc({ to: 'replica' }, s.lagToReplica);
        },
      });
      new client.Gauge({
        name: 'forecourt_db_replica_up',
        help: 'Whether reads go to the read replica (1) or, the replica being unreachable, to the primary (0)',
        registers: [registry],
        async collect() {
          this.set((await status()).state === 'down' ? 0 : 1);
        },
      });
      new client.Gauge({
        name: 'forecourt_db_replica_lag_seconds',
        help: 'Seconds since the last transaction the read replica replayed (0: all replayed; -1: unknown or down)',
        registers: [registry],
        async collect() {
          this.set((await status()).lagSeconds ?? -1);
        },
      });
    }
    new client.Gauge({
      name: 'forecourt_job_runs',
      help: 'Scheduled job runs recorded, by job and status',
      labelNames: ['job', 'status'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        const rows = await db
          .selectFrom('job_run')
          .select(['job', 'status', (eb) => eb.fn.countAll<number>().as('n')])
          .groupBy(['job', 'status'])
          .execute();
        for (const r of rows) this.set({ job: r.job, status: r.status }, Number(r.n));
      },
    });
    new client.Gauge({
      name: 'forecourt_job_last_duration_seconds',
      help: 'How long the latest finished run of each job took',
      labelNames: ['job'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        const seconds =
          engine === 'postgres'
            ? sql<number>`extract(epoch from (finished_at - started_at))`
            : sql<number>`(julianday(finished_at) - julianday(started_at)) * 86400`;
        const rows = await sql<{ job: string; s: number }>`select j.job, ${seconds} as s from job_run j
          where j.finished_at is not null and j.id = (select max(k.id) from job_run k where k.job = j.job and k.finished_at is not null)`.execute(
          db,
        );
        for (const r of rows.rows) this.set({ job: r.job }, Number(r.s));
      },
    });
    new client.Gauge({
      name: 'forecourt_import_progress_rows',
      help: 'Imports being checked or committed: rows done and rows in the file, by job',
      labelNames: ['job_id', 'status', 'of'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        const rows = await db
          .selectFrom('import_job')
          .select(['id', 'status', 'rows_done', 'rows_total'])
          .where('status', 'in', ['checking', 'committing'])
          .execute();
        for (const r of rows) {
          this.set({ job_id: String(r.id), status: r.status, of: 'done' }, Number(r.rows_done));
          this.set({ job_id: String(r.id), status: r.status, of: 'total' }, Number(r.rows_total ?? 0));
        }
      },
    });
    new client.Gauge({
      name: 'forecourt_outbox_depth',
      help: 'Messages waiting in the outbox, by channel',
      labelNames: ['channel'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        const rows = await db
          .selectFrom('outbox_message')
          .select(['channel', (eb) => eb.fn.countAll<number>().as('n')])
          .where('status', '=', 'pending')
          .groupBy('channel')
          .execute();
        for (const r of rows) this.set({ channel: r.channel }, Number(r.n));
      },
    });
  }

  /** The text a scrape gets: this app's figures, the process-wide counters, Node's own (event-loop lag, heap, GC). */
  async text(): Promise<{ contentType: string; body: string }> {
    if (!defaultsCollected) {
      defaultsCollected = true;
      client.collectDefaultMetrics({ register: processRegistry, prefix: 'forecourt_' });
    }
    const merged = client.Registry.merge([this.registry, processRegistry]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }
}
