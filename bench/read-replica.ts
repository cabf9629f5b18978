// A dashboard read on the primary beside the same read on a streaming replica (DATABASE_READ_URL), in
// the same run, on a database seeded by bench/nightly.ts. The replica is a hot standby of the local
// cluster started here (test/helpers/standby.ts: pg_basebackup into a temporary directory, a second
// postmaster on a free loopback port); it needs root. Dashboard snapshots are off, so every call
// computes its figures; calls on the primary and on the replica alternate, so both see the same load.
//
//   npx tsx bench/nightly.ts --customers 100000 --engines postgres --seed-only --keep   (prints --pg-db URL)
//   npx tsx bench/read-replica.ts --pg-db URL [--reps 9]
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openDb, type Db } from '../src/server/db/connection.js';
import { DashboardsService } from '../src/server/modules/dashboards/dashboards.service.js';
import type { Principal } from '../src/server/auth/principal.js';
import { PERMISSIONS } from '../src/domain/permissions.js';
import { Standby, standbyUnavailable, until } from '../test/helpers/standby.js';

const { values: args } = parseArgs({
  options: { 'pg-db': { type: 'string' }, reps: { type: 'string', default: '9' } },
});
const url = args['pg-db'];
const REPS = Number(args.reps);
const why = url ? standbyUnavailable() : 'no --pg-db (seed one with bench/nightly.ts --seed-only --keep)';
if (why) {
  console.log(`read-replica: skipped: ${why}`);
  process.exit(0);
}

const adminUrl = new URL(url!);
const dbName = adminUrl.pathname.slice(1);
adminUrl.pathname = '/postgres';
const standby = new Standby(adminUrl.toString());

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function principalAt(db: Db, kind: string): Promise<{ principal: Principal; unitId: number }> {
  const unit = await db.kysely
    .selectFrom('org_unit')
    .select(['id', 'path'])
    .where('kind_code', '=', kind)
    .orderBy('id')
    .executeTakeFirstOrThrow();
  const hq = await db.kysely
    .selectFrom('org_unit')
    .select(['id', 'path'])
    .where('parent_id', 'is', null)
    .executeTakeFirstOrThrow();
  return {
    unitId: Number(unit.id),
    principal: {
      userId: 1,
      username: 'bench',
      displayName: 'bench',
      orgUnitId: Number(hq.id),
      orgPath: hq.path,
      grantPaths: [],
      grantWritePaths: [],
      permissions: new Set(PERMISSIONS),
      roleCodes: ['admin'],
      locale: 'zh-CN',
      sessionId: 'x',
      csrfToken: 'x',
    },
  };
}

try {
  const t0 = Date.now();
  await standby.start();
  await until('the replica to accept connections', async () => {
    const r = await standby.query<{ r: boolean }>(dbName, 'select pg_is_in_recovery() as r');
    return r[0]?.r === true;
  });
  console.log(`read-replica: base backup and standby start ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const primary = openDb({ url: url!, poolSize: 4 });
  const withReplica = openDb({ url: url!, readUrl: standby.url(dbName), poolSize: 4 });
  const onReplica = (await sql<{ r: boolean }>`select pg_is_in_recovery() as r`.execute(withReplica.read)).rows[0]!.r;
  if (!onReplica) throw new Error('the read handle is not on the standby');
  const customers = await primary.kysely
    .selectFrom('customer')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  console.log(`read-replica: ${Number(customers.n).toLocaleString('en')} customers; ${REPS} reps, alternating`);
  for (const level of ['hq', 'branch', 'station']) {
    const { principal, unitId } = await principalAt(primary, level);
    const services = {
      primary: new DashboardsService(primary.kysely, 'postgres', () => new Date(), { snapshotMinutes: 0 }),
      replica: new DashboardsService(withReplica.kysely, 'postgres', () => new Date(), { snapshotMinutes: 0 }),
    };
    const times: Record<'primary' | 'replica', number[]> = { primary: [], replica: [] };
    for (const which of ['primary', 'replica'] as const) await services[which].unitDashboard(principal, unitId); // warm-up
    for (let i = 0; i < REPS; i++) {
      for (const which of i % 2 === 0 ? (['primary', 'replica'] as const) : (['replica', 'primary'] as const)) {
        const t = process.hrtime.bigint();
        await services[which].unitDashboard(principal, unitId);
        times[which].push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }
    const fmt = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return `p50 ${pct(s, 0.5).toFixed(0)} ms, min ${s[0]!.toFixed(0)} ms`;
    };
    console.log(
      `  ${level} overview, this month: primary ${fmt(times.primary)}; replica ${fmt(times.replica)} (${
        withReplica.replica!.stats().replicaQueries
      } statements on the replica so far)`,
    );
  }
  await primary.close();
  await withReplica.close();
} finally {
  await standby.remove();
}
