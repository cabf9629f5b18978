import { expect, it } from 'vitest';
import { describeEngines, openFresh } from '../helpers/engines.js';
import { prepareDatabase } from '../../src/server/bootstrap.js';
import { dayIn, previousMonthIn, runJob, staleClaims, type JobDefinition } from '../../src/server/jobs/job-runner.js';
import { migrateToLatest, migrationNames } from '../../src/server/db/migrate.js';
import { openDb } from '../../src/server/db/connection.js';
import { freshDatabase } from '../helpers/engines.js';

describeEngines('job runner', (engine) => {
  it('runs a period once, retries a failed one, re-runs a finished one only when forced', async () => {
    const { db, close } = await openFresh(engine, { migrated: true });
    try {
      await prepareDatabase(db);
      let runs = 0;
      let fail = true;
      const job: JobDefinition = {
        name: 'test-job',
        cron: '0 2 * * *',
        periodOf: (now, tz) => dayIn(now, tz),
        run: async () => {
          runs++;
          if (fail) throw new Error('boom');
          return { runs };
        },
      };
      expect(await runJob(db.kysely, job, '2026-11-22')).toEqual({ status: 'failed', error: 'boom' });
      fail = false;
      expect(await runJob(db.kysely, job, '2026-11-22')).toEqual({ status: 'done', detail: { runs: 2 } });
      expect(await runJob(db.kysely, job, '2026-11-22')).toEqual({ status: 'skipped', reason: 'already_done' });
      // Two at once: exactly one runs.
      const both = await Promise.all([runJob(db.kysely, job, '2026-11-23'), runJob(db.kysely, job, '2026-11-23')]);
      expect(both.filter((o) => o.status === 'done')).toHaveLength(1);
      expect((await runJob(db.kysely, job, '2026-11-22', { force: true })).status).toBe('done');
      expect(runs).toBe(4);
    } finally {
      await close();
    }
  });

  it('takes over a claim whose process stopped beating, and leaves a beating one alone', async () => {
    const { db, close } = await openFresh(engine, { migrated: true });
    try {
      await prepareDatabase(db);
      let runs = 0;
      let release: () => void = () => undefined;
      const job: JobDefinition = {
        name: 'lease-job',
        cron: '0 2 * * *',
        periodOf: (now, tz) => dayIn(now, tz),
        run: async () => {
          runs++;
          await new Promise<void>((r) => (release = r));
          return { runs };
        },
      };
      // Instance A claims and keeps beating every 50 ms while it runs.
      const a = runJob(db.kysely, job, '2026-12-01', { runner: 'a:1', heartbeatMs: 50, staleMs: 400 });
      await new Promise((r) => setTimeout(r, 600));
      // B tries after the stale bound: A's beat is fresh, so B leaves it.
      expect(await runJob(db.kysely, job, '2026-12-01', { runner: 'b:2', staleMs: 400 })).toEqual({
        status: 'skipped',
        reason: 'running',
      });
      expect(await staleClaims(db.kysely, 400)).toEqual([]);
      release();
      expect((await a).status).toBe('done');

      // A process killed mid-run: its claim is 'running' with a beat ten minutes old.
      const old = new Date(Date.now() - 600_000).toISOString();
      await db.kysely
        .insertInto('job_run')
        .values({
          job: 'lease-job',
          period: '2026-12-02',
          status: 'running',
          started_at: old,
          finished_at: null,
          detail: null,
          heartbeat_at: old,
          runner: 'dead:9',
        })
        .execute();
      // A run on file before leases (no beat) is judged by its start.
      await db.kysely
        .insertInto('job_run')
        .values({
          job: 'lease-job',
          period: '2026-12-03',
          status: 'running',
          started_at: old,
          finished_at: null,
          detail: null,
        })
        .execute();
      const stale = await staleClaims(db.kysely, 60_000);
      expect(stale.map((s) => s.period).sort()).toEqual(['2026-12-02', '2026-12-03']);
      const logs: string[] = [];
      const taken = runJob(db.kysely, job, '2026-12-02', { runner: 'b:2', staleMs: 60_000, log: (m) => logs.push(m) });
      await new Promise((r) => setTimeout(r, 50));
      // While B runs it, nobody else takes it.
      expect((await runJob(db.kysely, job, '2026-12-02', { runner: 'c:3', staleMs: 60_000 })).status).toBe('skipped');
      release();
      expect((await taken).status).toBe('done');
      expect(logs.some((l) => l.includes('took over'))).toBe(true);
      const row = await db.kysely
        .selectFrom('job_run')
        .select(['status', 'runner'])
        .where('job', '=', 'lease-job')
        .where('period', '=', '2026-12-02')
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ status: 'done', runner: 'b:2' });
      expect(runs).toBe(2);
    } finally {
      await close();
    }
  });

  it('applies the migrations once when several instances start together', async () => {
    const fresh = await freshDatabase(engine);
    const dbs = [0, 1, 2].map(() => openDb({ url: fresh.url, poolSize: 2 }));
    try {
      const applied = await Promise.allSettled(dbs.map((d) => migrateToLatest(d)));
      // SQLite's single writer and PostgreSQL's advisory lock let one instance apply each migration.
      const names = applied.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
      expect(names.sort()).toEqual(migrationNames());
      expect(applied.filter((r) => r.status === 'rejected')).toEqual([]);
      const rows = await dbs[0]!.kysely
        .selectFrom('schema_migration' as never)
        .select(({ fn }) => fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(rows.n)).toBe(migrationNames().length);
    } finally {
      for (const d of dbs) await d.close();
      await fresh.drop();
    }
  });

  it('works out days and months in the company time zone', () => {
    const lateUtc = new Date('2026-11-30T17:30:00Z'); // 01:30 on 1 December in Shanghai
    expect(dayIn(lateUtc, 'Asia/Shanghai')).toBe('2026-12-01');
    expect(dayIn(lateUtc, 'UTC')).toBe('2026-11-30');
    expect(previousMonthIn(lateUtc, 'Asia/Shanghai')).toBe('2026-11');
    expect(previousMonthIn(new Date('2026-01-02T00:00:00Z'), 'Asia/Shanghai')).toBe('2025-12');
  });
});
