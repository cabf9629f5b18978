// What operators see, on both engines: a request id on every response (a trusted proxy's kept, a
// forged one replaced), liveness and readiness (not ready while a migration is missing), and
// /metrics in Prometheus format — only for the monitoring system — with request latency per route,
// ingest rows, job runs, imports and the outbox read from the database.
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { send } from '../transactions/helpers.js';
import { migrationNames } from '../../src/server/db/migrate.js';
import { requestIdOf } from '../../src/server/request-id.js';

describe('request ids', () => {
  it('keeps a trusted proxy’s id that looks like one and makes a new one otherwise', () => {
    expect(requestIdOf('abc-123', true)).toBe('abc-123');
    expect(requestIdOf('abc-123', false)).not.toBe('abc-123');
    expect(requestIdOf('bad id\nwith a newline', true)).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdOf('x'.repeat(65), true)).toHaveLength(36);
    expect(requestIdOf(undefined, true)).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describeEngines('operations', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let key: string;

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    const units = await ok<{ id: number; parentId: number | null }[]>(call(ctx.app, admin, 'GET', '/api/org/units'));
    const hq = units.find((u) => u.parentId === null)!.id;
    const station = await ok<{ id: number }>(
      call(ctx.app, admin, 'POST', '/api/org/units', { parentId: hq, kindCode: 'station', code: 'S1', name: '一号站' }),
      201,
    );
    key = (
      await ok<{ key: string }>(
        call(ctx.app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: station.id }),
        201,
      )
    ).key;
  }, 60_000);

  it('answers every request with its id, different each time', async () => {
    const a = await ctx.app.inject({ method: 'GET', url: '/api/health/live' });
    const b = await ctx.app.inject({ method: 'GET', url: '/api/nothing-here' });
    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.statusCode).toBe(404);
    expect(b.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    // Without a trusted proxy, a caller cannot choose the id that goes into the logs.
    const c = await ctx.app.inject({ method: 'GET', url: '/api/health/live', headers: { 'x-request-id': 'mine' } });
    expect(c.headers['x-request-id']).not.toBe('mine');
  });

  it('is live, and ready only with every migration applied', async () => {
    expect((await ctx.app.inject({ method: 'GET', url: '/api/health/live' })).json()).toMatchObject({ status: 'ok' });
    const ready = await ctx.app.inject({ method: 'GET', url: '/api/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', engine, migrations: migrationNames().length });
    const last = migrationNames().at(-1)!;
    await ctx.db.kysely
      .deleteFrom('schema_migration' as never)
      .where('name' as never, '=', last as never)
      .execute();
    try {
      const notYet = await ctx.app.inject({ method: 'GET', url: '/api/health/ready' });
      expect(notYet.statusCode).toBe(503);
      expect(notYet.json()).toMatchObject({ status: 'migrating', missing: [last] });
    } finally {
      await ctx.db.kysely
        .insertInto('schema_migration' as never)
        .values({ name: last, timestamp: new Date().toISOString() } as never)
        .execute();
    }
    expect((await ctx.app.inject({ method: 'GET', url: '/api/health/ready' })).statusCode).toBe(200);
  });

  it('serves Prometheus metrics to this machine only, with latency per route and what the database holds', async () => {
    const far = await ctx.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.1.2.3' });
    expect(far.statusCode).toBe(403);

    await ctx.app.inject({ method: 'GET', url: '/api/health/live' });
    const res = await send(ctx.app, key, {
      source: 'pos',
      transactions: [
        {
          externalId: 'm1',
          occurredAt: '2026-11-20T09:00:00+08:00',
          plate: '冀A00001',
          product: '92#汽油',
          volumeMl: 40_000,
          amountFen: 31_000,
        },
      ],
    });
    expect(res.statusCode).toBe(200);
    const at = new Date().toISOString();
    await ctx.db.kysely
      .insertInto('job_run')
      .values({ job: 'nightly-alerts', period: '2026-11-19', status: 'done', started_at: at, finished_at: at })
      .execute();
    await ctx.db.kysely
      .insertInto('outbox_message')
      .values({
        customer_id: null,
        channel: 'sms',
        template: 't',
        payload: '{}',
        dedupe_key: 'k1',
        status: 'pending',
        created_at: at,
      })
      .execute();

    const m = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    expect(m.statusCode).toBe(200);
    expect(m.headers['content-type']).toContain('text/plain');
    const text = m.body;
    expect(text).toMatch(
      /forecourt_http_request_duration_seconds_count\{method="GET",route="\/api\/health\/live",status="200"\} [1-9]/,
    );
    expect(text).toMatch(/forecourt_ingest_rows_total\{source="api"\} [1-9]/);
    expect(text).toContain('forecourt_job_runs{job="nightly-alerts",status="done"} 1');
    expect(text).toContain('forecourt_outbox_depth{channel="sms"} 1');
    expect(text).toMatch(/forecourt_db_pool_connections\{state="total"\} [1-9]/);
    expect(text).toContain('forecourt_nodejs_eventloop_lag_seconds');
  });
});

describeEngines('operations with a metrics token', (engine) => {
  const ctx = useTestApp(engine, { metricsToken: 'scrape-secret' });
  it('asks for the token, from this machine too', async () => {
    expect((await ctx.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(403);
    const wrong = { authorization: 'Bearer nope' };
    expect((await ctx.app.inject({ method: 'GET', url: '/metrics', headers: wrong })).statusCode).toBe(403);
    const right = await ctx.app.inject({
      method: 'GET',
      url: '/metrics',
      remoteAddress: '10.1.2.3',
      headers: { authorization: 'Bearer scrape-secret' },
    });
    expect(right.statusCode).toBe(200);
    expect(right.body).toContain('forecourt_http_request_duration_seconds');
  });
});
