// DATABASE_READ_URL: a streaming replica started here on loopback (pg_basebackup of the local
// PostgreSQL into a temporary directory, a second postmaster on a free port). Dashboards, reports,
// exports and the nightly run read there — shown by pausing the replica's replay: a fresh write on
// the primary is missing from a dashboard and an export while the request path sees it; writes never
// go there (the read handle refuses them, the app's succeed); readiness shows the lag; a replica
// further behind than DATABASE_READ_MAX_LAG_SECONDS is passed over until it catches up; a read the
// standby cancels for a conflict with recovery is answered by the primary; and when the replica stops,
// reads fall back to the primary with a warning and a metric, and the app stays ready.
//
// PostgreSQL only, and the test must act as the postgres OS user: it runs as root (CI does), else it
// is skipped with a message — unless REQUIRE_PG=1, which turns that into a failure.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { prepareDatabase } from '../../src/server/bootstrap.js';
import { openDb, type Db } from '../../src/server/db/connection.js';
import { readerOf } from '../../src/server/db/replica.js';
import { runJob } from '../../src/server/jobs/job-runner.js';
import { nightlyAlertsJob } from '../../src/server/modules/alerts/alerts.job.js';
import { dashboardSnapshotsJob } from '../../src/server/modules/dashboards/dashboards.job.js';
import { PG_ADMIN_URL, freshDatabase, isPgAvailable } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, testConfig, type Session, type TestApp } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { insertComplaintRecords } from '../complaints/records.js';
import { Standby, standbyUnavailable, until } from '../helpers/standby.js';

const pgReady = await isPgAvailable();
const reason = pgReady ? standbyUnavailable() : `PostgreSQL not reachable at ${PG_ADMIN_URL}`;
if (reason) {
  if (process.env.REQUIRE_PG === '1') throw new Error(`REQUIRE_PG=1 but the read-replica test cannot run: ${reason}`);
  console.warn(`[tests] read replica: skipped (${reason})`);
}
console.warn('[tests] read replica: PostgreSQL only (SQLite has no replica); no SQLite run');

(reason ? describe.skip : describe)('read replica (DATABASE_READ_URL) [postgres]', () => {
  const standby = new Standby(PG_ADMIN_URL);
  let fresh: { url: string; drop: () => Promise<void> };
  let dbName: string;
  let db: Db;
  let app: TestApp;
  let admin: Session;
  let b2Manager: Session;
  let tree: Tree;
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }) => {
    if (w.code === 'FORECOURT_PG_REPLICA') warnings.push(w.message);
  };
  let paused = false;

  /** Wait until the replica has replayed everything the primary wrote so far. */
  const caughtUp = async () => {
    const { rows } = await sql<{ lsn: string }>`select pg_current_wal_lsn()::text as lsn`.execute(db.kysely);
    const target = rows[0]!.lsn;
    await until('the replica to catch up', async () => {
      const r = await standby.query<{ ok: boolean }>(
        dbName,
        `select pg_last_wal_replay_lsn() >= '${target}'::pg_lsn as ok`,
      );
      return r[0]?.ok === true;
    });
  };

  const dashboardCustomers = async (s: Session, unit: number, on: TestApp = app) =>
    (await ok<{ customers: { total: number } }>(call(on, s, 'GET', `/api/dashboards/unit/${unit}`))).customers.total;
  /** HQ's customers active at the start of November 2026 (those who bought in October), as the loss rate counts them. */
  const lossRateActive = async () =>
    (
      await ok<{ activeAtStart: number }>(
        call(app, admin, 'GET', `/api/churn-cases/loss-rate/${tree.hq}?month=2026-11&months=1&refresh=true`),
      )
    ).activeAtStart;
  const boughtInOctober = (customerId: number) =>
    db.kysely
      .insertInto('customer_month')
      .values({
        customer_id: customerId,
        month: '2026-10',
        product: '92',
        volume_ml: 40_000,
        amount_fen: 30_000,
        txn_count: 1,
      })
      .execute();
  const exportCsv = async () => {
    const res = await call(app, admin, 'GET', '/api/customers/export?format=csv');
    expect(res.statusCode).toBe(200);
    return res.body;
  };
  const complaintsTaken = async () =>
    (await ok<{ taken: number }>(call(app, admin, 'GET', `/api/complaint-stats/${tree.hq}`))).taken;
  const ready = async (on: TestApp = app) => {
    const res = await on.inject({ method: 'GET', url: '/api/health/ready' });
    return { status: res.statusCode, body: res.json() };
  };
  const metricsOf = async (on: TestApp) => {
    const res = await on.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(res.statusCode).toBe(200);
    return res.body;
  };
  const pauseReplay = async () => {
    await standby.query(dbName, 'select pg_wal_replay_pause()');
    paused = true;
    await until('replay to pause', async () => {
      const r = await standby.query<{ s: string }>(dbName, 'select pg_get_wal_replay_pause_state() as s');
      return r[0]?.s === 'paused';
    });
  };
  const resumeReplay = async () => {
    await standby.query(dbName, 'select pg_wal_replay_resume()');
    paused = false;
  };
  const newCustomer = async (name: string) =>
    ok<{ id: number; code: string }>(
      call(app, admin, 'POST', '/api/customers', { kind: 'individual', orgUnitId: tree.station1, name }),
      201,
    );

  beforeAll(async () => {
    process.on('warning', onWarning);
    fresh = await freshDatabase('postgres');
    dbName = new URL(fresh.url).pathname.slice(1);
    const t0 = Date.now();
    await standby.start();
    try {
      await until('the replica to accept connections with the test database', async () => {
        const r = await standby.query<{ r: boolean }>(dbName, 'select pg_is_in_recovery() as r');
        return r[0]?.r === true;
      });
    } catch (err) {
      throw new Error(`${String(err)}\n${standby.output}`);
    }
    console.warn(`[tests] read replica: base backup and standby start took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // No lag limit on this instance: the tests that pause replay read the paused replica however long
    // they take on a busy machine. The limit is shown on a second instance below.
    db = openDb({ url: fresh.url, readUrl: standby.url(dbName), poolSize: 4, readMaxLagSeconds: 0 });
    await prepareDatabase(db);
    app = await buildApp({ db, config: testConfig(), webRoot: null });
    await app.ready();
    admin = await setupAdmin(app);
    tree = await buildTree(app, admin);
    await createUser(app, admin, 'b2_manager', tree.branch2, ['branch_manager']);
    b2Manager = await login(app, 'b2_manager', USER_PASSWORD);
    await newCustomer('赵师傅');
    await caughtUp();
  }, 420_000);

  afterAll(async () => {
    process.off('warning', onWarning);
    if (paused) await standby.query(dbName, 'select pg_wal_replay_resume()').catch(() => undefined);
    await app?.close();
    await db?.close();
    await standby.remove();
    await fresh?.drop();
  }, 60_000);

  it('gives the app a read handle on the standby: it reads there and refuses writes', async () => {
    expect(db.replica).not.toBeNull();
    const inRecovery = async (k: typeof db.kysely) =>
      (await sql<{ r: boolean }>`select pg_is_in_recovery() as r`.execute(k)).rows[0]!.r;
    expect(await inRecovery(db.read)).toBe(true);
    expect(await inRecovery(db.kysely)).toBe(false);
    // A write sent to the read handle by mistake is refused by the standby, not run on the primary.
    await expect(
      db.read.updateTable('org_unit').set({ name: 'x' }).where('id', '=', tree.station1).execute(),
    ).rejects.toMatchObject({ code: '25006' });
    // A transaction stays on the primary: what it reads must see what it wrote.
    await db.kysely.transaction().execute(async (trx) => {
      expect(readerOf(trx)).toBe(trx);
      expect(await inRecovery(readerOf(db.kysely))).toBe(true);
    });
  });

  it('serves dashboards, exports, complaint figures and the loss rate from the replica, while writes and the request path use the primary', async () => {
    const first = await newCustomer('钱师傅');
    await insertComplaintRecords(db.kysely, tree.station1);
    await boughtInOctober(first.id);
    await caughtUp();
    expect(await dashboardCustomers(admin, tree.hq)).toBe(2);
    const takenBefore = await complaintsTaken();
    expect(takenBefore).toBe(1);
    expect(await exportCsv()).toContain(first.code);
    expect(await lossRateActive()).toBe(1);

    // Stop the replica's replay: from now on it shows the database as it is at this moment.
    await pauseReplay();
    // Lag is measured from the last transaction the replica replayed.
    await new Promise((r) => setTimeout(r, 1100));

    // Writes succeed (they go to the primary), and the request path reads them back at once.
    const fresh1 = await newCustomer('孙师傅');
    const back = await ok<{ id: number; code: string }>(call(app, admin, 'GET', `/api/customers/${fresh1.id}`));
    expect(back.code).toBe(fresh1.code);
    await insertComplaintRecords(db.kysely, tree.station1);
    await boughtInOctober(fresh1.id);
    const searched = await ok<{ total: number }>(call(app, admin, 'GET', `/api/customers?q=${fresh1.code}`));
    expect(searched.total).toBe(1);

    // The long reads come from the paused replica: the fresh customer and complaint are not there yet.
    expect(await dashboardCustomers(admin, tree.hq)).toBe(2);
    expect(await complaintsTaken()).toBe(takenBefore);
    // The loss rate's counts too (its snapshot is written on the primary: refresh=true computes anew).
    expect(await lossRateActive()).toBe(1);
    const csv = await exportCsv();
    expect(csv).toContain(first.code);
    expect(csv).not.toContain(fresh1.code);
    // The export's audit entry was written (on the primary) all the same.
    const audits = await db.kysely
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('action', '=', 'export')
      .executeTakeFirstOrThrow();
    expect(Number(audits.n)).toBeGreaterThanOrEqual(2);
    // Scope is checked as ever: a branch manager may not read the other branch's dashboard.
    const denied = await call(app, b2Manager, 'GET', `/api/dashboards/unit/${tree.branch1}`);
    expect(denied.statusCode).toBe(403);
    expect(await dashboardCustomers(b2Manager, tree.branch2)).toBe(0);

    // Readiness: ready, with the replica paused and behind.
    const r = await ready();
    expect(r.status).toBe(200);
    expect(r.body.replica).toMatchObject({ state: 'paused', readsOn: 'replica', error: null });
    expect(r.body.replica.lagBytes).toBeGreaterThan(0);
    expect(r.body.replica.lagSeconds).toBeGreaterThan(0);

    // Replay resumed: the replica catches up and the dashboard shows what was written.
    await resumeReplay();
    await caughtUp();
    expect(await dashboardCustomers(admin, tree.hq)).toBe(3);
    expect(await complaintsTaken()).toBe(takenBefore + 1);
    expect(await lossRateActive()).toBe(2);
    expect(await exportCsv()).toContain(fresh1.code);
    const after = await ready();
    expect(after.body.replica.state).toBe('streaming');
    expect(after.body.replica.lagSeconds).toBeLessThan(5);
  });

  it('runs the nightly jobs reading from the replica and writing to the primary', async () => {
    const before = db.replica!.stats().replicaQueries;
    const alerts = await runJob(db.kysely, nightlyAlertsJob, '2026-11-30', { now: new Date('2026-12-01T02:00:00Z') });
    expect(alerts.status).toBe('done');
    const afterAlerts = db.replica!.stats().replicaQueries;
    expect(afterAlerts).toBeGreaterThan(before);
    // Dashboard snapshots: figures read on the replica, the snapshots written on the primary.
    const snaps = await runJob(db.kysely, dashboardSnapshotsJob, '2026-12-01');
    expect(snaps.status).toBe('done');
    expect(db.replica!.stats().replicaQueries).toBeGreaterThan(afterAlerts);
    const stored = await db.kysely
      .selectFrom('dashboard_snapshot')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(stored.n)).toBeGreaterThan(0);
    const runs = await db.kysely.selectFrom('job_run').select(['job', 'status']).execute();
    expect(runs.filter((r) => r.status === 'done').map((r) => r.job)).toEqual(
      expect.arrayContaining(['nightly-alerts', 'dashboard-snapshots']),
    );
  });

  it('sends reads to the primary while the replica lags more than DATABASE_READ_MAX_LAG_SECONDS, and back once it has caught up', async () => {
    // A second instance on the same primary and replica, with a limit of 1 s (the first one has none).
    const db2 = openDb({ url: fresh.url, readUrl: standby.url(dbName), poolSize: 2, readMaxLagSeconds: 1 });
    const app2 = await buildApp({ db: db2, config: testConfig({ databaseReadMaxLagSeconds: 1 }), webRoot: null });
    try {
      await app2.ready();
      await caughtUp();
      const replica2 = db2.replica!;
      const r0 = await ready(app2);
      expect(r0.body.replica).toMatchObject({ readsOn: 'replica', maxLagSeconds: 1, detail: null });
      const before = await dashboardCustomers(admin, tree.hq, app2);
      warnings.length = 0;

      // Replay paused, one write: the replica's lag (time since the last transaction it replayed, while
      // WAL waits) grows past 1 s; the instance's own periodic measurement moves its reads to the primary.
      await pauseReplay();
      await newCustomer('周师傅');
      await until('reads to leave the lagging replica', async () => replica2.stats().lagging, 60_000);
      const r = await ready(app2);
      expect(r.status).toBe(200);
      expect(r.body.replica).toMatchObject({ state: 'paused', readsOn: 'primary', maxLagSeconds: 1 });
      expect(r.body.replica.lagSeconds).toBeGreaterThan(1);
      expect(r.body.replica.detail).toMatch(/^reads go to the primary: replica lag [\d.]+ s > 1 s$/);
      // The dashboard is read on the primary: the fresh customer is there, though the replica lacks it.
      const onReplica = await standby.query<{ n: number }>(dbName, 'select count(*)::int as n from customer');
      const onPrimary = await db.kysely
        .selectFrom('customer')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(onReplica[0]!.n).toBe(Number(onPrimary.n) - 1);
      const queries = replica2.stats().replicaQueries;
      expect(await dashboardCustomers(admin, tree.hq, app2)).toBe(before + 1);
      expect(replica2.stats().replicaQueries).toBe(queries);
      // The first instance, without a limit, still reads the paused replica.
      expect(await dashboardCustomers(admin, tree.hq)).toBe(before);
      expect((await ready()).body.replica).toMatchObject({ readsOn: 'replica', maxLagSeconds: null, detail: null });
      // Logged once, however many measurements found the replica behind.
      await ready(app2);
      expect(warnings.filter((w) => /lag .* reads go to the primary/.test(w))).toHaveLength(1);
      expect(await metricsOf(app2)).toMatch(/^forecourt_db_replica_lag_switches_total\{to="primary"\} 1$/m);

      // Replay resumed: once a measurement finds it under the limit, reads go back to the replica.
      await resumeReplay();
      await caughtUp();
      await until('reads to go back to the replica', async () => !replica2.stats().lagging, 30_000);
      expect((await ready(app2)).body.replica).toMatchObject({ state: 'streaming', readsOn: 'replica', detail: null });
      expect(await dashboardCustomers(admin, tree.hq, app2)).toBe(before + 1);
      expect(replica2.stats().replicaQueries).toBeGreaterThan(queries);
      expect(warnings.filter((w) => w.includes('reads go to it again'))).toHaveLength(1);
      const m = await metricsOf(app2);
      expect(m).toMatch(/^forecourt_db_replica_lag_switches_total\{to="primary"\} 1$/m);
      expect(m).toMatch(/^forecourt_db_replica_lag_switches_total\{to="replica"\} 1$/m);
      warnings.length = 0;
    } finally {
      if (paused) await resumeReplay().catch(() => undefined);
      await app2.close();
      await db2.close();
    }
  }, 120_000);

  it('answers a read the replica cancels for a conflict with recovery from the primary, outside a transaction only', async () => {
    await sql`create table replica_conflict_probe (id integer primary key, note text)`.execute(db.kysely);
    await sql`insert into replica_conflict_probe select g, 'row ' || g from generate_series(1, 1000) g`.execute(
      db.kysely,
    );
    await caughtUp();
    // The standby waits 100 ms (not 30 s) before it cancels what holds back its replay.
    await standby.query(dbName, "alter system set max_standby_streaming_delay = '100ms'");
    await standby.query(dbName, 'select pg_reload_conf()');
    const conflicts = async () =>
      Number(
        (
          await standby.query<{ n: string }>(
            dbName,
            'select confl_snapshot as n from pg_stat_database_conflicts where datname = current_database()',
          )
        )[0]!.n,
      );
    try {
      await until('the standby to take the new delay', async () => {
        const r = await standby.query<{ d: string }>(
          dbName,
          "select current_setting('max_standby_streaming_delay') as d",
        );
        return r[0]?.d === '100ms';
      });
      // A long read on the replica: its snapshot (taken at its start) still sees the rows deleted below.
      const slowCount = (k: typeof db.kysely) =>
        sql<{ n: number }>`select (select count(*)::int from replica_conflict_probe) as n from pg_sleep(3)`.execute(k);
      /** Rows deleted on the primary and vacuumed away while `reading` holds its snapshot on the replica. */
      const removeUnder = async <T>(reading: Promise<T>, ids: [number, number]) => {
        await until('the slow read to run on the replica', async () => {
          const r = await standby.query<{ n: number }>(
            dbName,
            "select count(*)::int as n from pg_stat_activity where state = 'active' and query like '%from pg_sleep(3)%' and pid <> pg_backend_pid()",
          );
          return r[0]!.n > 0;
        });
        await sql`delete from replica_conflict_probe where id between ${ids[0]} and ${ids[1]}`.execute(db.kysely);
        await sql`vacuum replica_conflict_probe`.execute(db.kysely);
        return reading;
      };

      const conflictsBefore = await conflicts();
      const retried = db.replica!.stats().retried;
      const answer = await removeUnder(slowCount(readerOf(db.kysely)), [1, 400]);
      // The replica would have answered 1000 (its snapshot predates the delete); the primary, asked
      // again after the cancel, answers with the rows there are now.
      expect(answer.rows[0]!.n).toBe(600);
      expect(db.replica!.stats().retried).toBe(retried + 1);
      await until('the standby to count the conflict', async () => (await conflicts()) > conflictsBefore, 10_000);
      const m = await metricsOf(app);
      expect(Number(/^forecourt_db_replica_retries_total (\d+)$/m.exec(m)?.[1])).toBe(retried + 1);
      // The replica is not marked down for it: the next read goes there.
      expect((await sql<{ r: boolean }>`select pg_is_in_recovery() as r`.execute(readerOf(db.kysely))).rows[0]!.r).toBe(
        true,
      );

      // Inside a transaction the cancel is the caller's error: a retry on the primary would mix two snapshots.
      await caughtUp();
      const inTransaction = db.read.transaction().execute((trx) => slowCount(trx));
      await expect(removeUnder(inTransaction, [401, 500])).rejects.toMatchObject({
        code: '40001',
        message: expect.stringMatching(/conflict with recovery/),
      });
      expect(db.replica!.stats().retried).toBe(retried + 1);

      // A transaction idle between two statements is ended with its session. That is the caller's
      // error too, and it says nothing about the replica: reads stay there, with no warning.
      await caughtUp();
      const warned = warnings.length;
      const ended = await conflicts();
      const idle = db.read
        .transaction()
        .setIsolationLevel('repeatable read')
        .execute(async (trx) => {
          // The snapshot is taken here and held while the transaction waits.
          await sql`select count(*)::int as n from replica_conflict_probe`.execute(trx);
          await sql`delete from replica_conflict_probe where id between 501 and 600`.execute(db.kysely);
          await sql`vacuum replica_conflict_probe`.execute(db.kysely);
          await until('the standby to end the idle transaction', async () => (await conflicts()) > ended, 10_000);
          await new Promise((r) => setTimeout(r, 200));
          return sql`select 1 as one`.execute(trx);
        });
      await expect(idle).rejects.toThrow();
      expect(db.replica!.stats().down).toBe(false);
      expect(warnings.slice(warned)).toEqual([]);
      expect((await sql<{ r: boolean }>`select pg_is_in_recovery() as r`.execute(readerOf(db.kysely))).rows[0]!.r).toBe(
        true,
      );
      expect(db.replica!.stats().retried).toBe(retried + 1);
    } finally {
      await standby.query(dbName, 'alter system reset max_standby_streaming_delay').catch(() => undefined);
      await standby.query(dbName, 'select pg_reload_conf()').catch(() => undefined);
    }
  }, 120_000);

  it('runs a read again on the primary when the replica ends its connection, and goes back to the replica later', async () => {
    const retried = db.replica!.stats().retried;
    const inRecovery = await db.read.connection().execute(async (c) => {
      const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(c)).rows[0]!.pid;
      await standby.query(dbName, `select pg_terminate_backend(${Number(pid)})`);
      // The connection's end reaches the client between two statements: no crash, and the next
      // statement runs on the primary.
      await new Promise((r) => setTimeout(r, 300));
      return (await sql<{ r: boolean }>`select pg_is_in_recovery() as r`.execute(c)).rows[0]!.r;
    });
    expect(inRecovery).toBe(false);
    expect(db.replica!.stats().retried).toBe(retried + 1);
    expect((await ready()).body.replica.readsOn).toBe('primary');
    // Tried again after REPLICA_RETRY_MS: reads are back on the replica.
    await until(
      'reads to go back to the replica',
      async () => (await sql<{ r: boolean }>`select pg_is_in_recovery() as r`.execute(db.read)).rows[0]!.r,
      30_000,
    );
    expect(warnings.some((w) => w.includes('reachable again'))).toBe(true);
    warnings.length = 0;
  }, 60_000);

  it('falls back to the primary when the replica stops: reads answer, readiness stays ready, a warning and a metric say so', async () => {
    const fallbacksBefore = db.replica!.stats().fallbacks;
    await standby.stop();
    // The primary answers the dashboard now, with everything written.
    expect(await dashboardCustomers(admin, tree.hq)).toBe(4);
    expect(await exportCsv()).toContain('钱师傅');
    expect(db.replica!.stats().fallbacks).toBeGreaterThan(fallbacksBefore);
    expect(warnings.some((w) => w.includes('read replica unreachable'))).toBe(true);

    const r = await ready();
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('ready');
    expect(r.body.replica).toMatchObject({ state: 'down', readsOn: 'primary', lagSeconds: null });
    expect(typeof r.body.replica.error).toBe('string');

    const metrics = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(/^forecourt_db_replica_up 0$/m);
    expect(metrics.body).toMatch(/^forecourt_db_replica_lag_seconds -1$/m);
    const fallbacks = Number(/^forecourt_db_replica_fallbacks_total (\d+)$/m.exec(metrics.body)?.[1]);
    expect(fallbacks).toBeGreaterThan(0);

    // The app's writes go on as before.
    await newCustomer('李师傅');
    expect(await dashboardCustomers(admin, tree.hq)).toBe(5);
  });
});
