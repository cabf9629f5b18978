import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { App } from '../../http.js';
import type { Db } from '../../db/connection.js';
import { AppError } from '../../errors.js';
import { migrationNames } from '../../db/migrate.js';
import type { AppMetrics } from '../../metrics.js';

const Status = Type.Object({ status: Type.String(), engine: Type.String() });

// The read replica (DATABASE_READ_URL) as readiness reports it; absent when none is configured.
const Replica = Type.Optional(
  Type.Object(
    {
      state: Type.Union([
        Type.Literal('streaming'),
        Type.Literal('paused'),
        Type.Literal('down'),
        Type.Literal('not_in_recovery'),
      ]),
      lagSeconds: Type.Union([Type.Number(), Type.Null()]),
      lagBytes: Type.Union([Type.Number(), Type.Null()]),
      readsOn: Type.Union([Type.Literal('replica'), Type.Literal('primary')]),
      error: Type.Union([Type.String(), Type.Null()]),
      maxLagSeconds: Type.Union([Type.Number(), Type.Null()], {
        description: 'DATABASE_READ_MAX_LAG_SECONDS; null: no limit',
      }),
      detail: Type.Union([Type.String(), Type.Null()], {
        description: 'Why reads go to the primary, e.g. "reads go to the primary: replica lag 45 s > 30 s"',
      }),
    },
    {
      description:
        'The read replica: its state, how far its replay is behind the primary, and where reads go now. A replica that is down, or further behind than DATABASE_READ_MAX_LAG_SECONDS, leaves the instance ready: reads go to the primary.',
    },
  ),
);

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

export function healthRoutes(app: App, db: Db, metrics: AppMetrics, metricsToken: string | null): void {
  const reachable = async () => {
    try {
      await sql`select 1`.execute(db.kysely);
      return true;
    } catch {
      return false;
    }
  };

  app.get('/api/health', {
    config: { access: { public: true } },
    schema: {
      tags: ['system'],
      summary: 'Liveness and database reachability',
      response: { 200: Status, 503: Status },
    },
    handler: async (_req, reply) =>
      (await reachable())
        ? { status: 'ok', engine: db.engine }
        : reply.code(503).send({ status: 'db_unreachable', engine: db.engine }),
  });

  // For a process supervisor: the process answers. Nothing else is checked, so a database outage
  // does not get every instance restarted.
  app.get('/api/health/live', {
    config: { access: { public: true } },
    schema: { tags: ['system'], summary: 'Liveness: the process answers requests', response: { 200: Status } },
    handler: async () => ({ status: 'ok', engine: db.engine }),
  });

  // For a load balancer: send traffic only while the database answers and carries every migration
  // this code knows (an instance started before another finished migrating waits).
  app.get('/api/health/ready', {
    config: { access: { public: true } },
    schema: {
      tags: ['system'],
      summary: 'Readiness: the database answers and carries every migration of this version',
      description:
        'With a read replica (DATABASE_READ_URL), `replica` gives its state and lag; a replica that is down does not make the instance unready, its reads go to the primary.',
      response: {
        200: Type.Object({
          status: Type.String(),
          engine: Type.String(),
          migrations: Type.Integer(),
          replica: Replica,
        }),
        503: Type.Object({ status: Type.String(), engine: Type.String(), missing: Type.Array(Type.String()) }),
      },
    },
    handler: async (_req, reply) => {
      if (!(await reachable()))
        return reply.code(503).send({ status: 'db_unreachable', engine: db.engine, missing: [] });
      const known = migrationNames();
      let applied: Set<string>;
      try {
        const rows = await db.kysely
          .selectFrom('schema_migration' as never)
          .select('name' as never)
          .execute();
        applied = new Set(rows.map((r) => (r as { name: string }).name));
      } catch {
        applied = new Set();
      }
      const missing = known.filter((m) => !applied.has(m));
      if (missing.length > 0) return reply.code(503).send({ status: 'migrating', engine: db.engine, missing });
      if (!db.replica) return { status: 'ready', engine: db.engine, migrations: known.length };
      return { status: 'ready', engine: db.engine, migrations: known.length, replica: await db.replica.status() };
    },
  });

  app.get('/metrics', {
    config: { access: { public: true } },
    schema: {
      tags: ['system'],
      summary:
        'Prometheus metrics: request latency per route and status, database pool, event loop, jobs, ingest, imports, outbox',
      description:
        'With METRICS_TOKEN set, send it as `Authorization: Bearer …`; without it, only requests from the loopback address are answered.',
    },
    handler: async (req, reply) => {
      const allowed = metricsToken
        ? req.headers.authorization === `Bearer ${metricsToken}`
        : isLoopback(req.socket.remoteAddress);
      if (!allowed) throw new AppError('PERMISSION_DENIED', 'metrics are for the monitoring system (METRICS_TOKEN)');
      const { contentType, body } = await metrics.text();
      return reply.type(contentType).send(body);
    },
  });
}
