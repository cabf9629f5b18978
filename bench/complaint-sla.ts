// The complaint SLA sweep at scale: N cases (default 1,000,000; a fifth open, the rest closed) over 100
// stations, each open stage with its stored level instants and the levels already fired as a sweep at
// T0 would leave them. Measures the sweep five minutes later (warnings, breaches, 督办 with their trail
// rows and inbox items) against a plain scan of the open cases' deadlines in the same run, and the
// complaint list's p50/p99 for an HQ user (first page with its total).
//   npx tsx bench/complaint-sla.ts [--cases N] [--runs N] [--engines sqlite,postgres]
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openDb, type Db } from '../src/server/db/connection.js';
import { prepareDatabase } from '../src/server/bootstrap.js';
import { ComplaintSlaService } from '../src/server/modules/complaints/complaint-sla.service.js';
import { ComplaintsService } from '../src/server/modules/complaints/complaints.service.js';
import { PERMISSIONS, type Permission } from '../src/domain/permissions.js';
import type { Principal } from '../src/server/auth/principal.js';
import { freshDatabase } from './lib/fresh-db.js';

const { values: args } = parseArgs({
  options: {
    cases: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
    listRuns: { type: 'string', default: '100' },
    engines: { type: 'string', default: 'sqlite,postgres' },
  },
});
const CASES = Number(args.cases);
const RUNS = Number(args.runs);
const LIST_RUNS = Number(args.listRuns);
const STATIONS = 100;
const T0 = Date.parse('2026-12-01T02:00:00Z');
const H = 3_600_000;
const LEVELS = [50, 75, 90, 100, 125];

function mulberry32(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const median = (xs: number[]) => pct(xs, 50);
const ms = (x: number) => `${x.toFixed(1)} ms`;
const iso = (x: number) => new Date(x).toISOString();

async function seed(db: Db): Promise<Principal> {
  const k = db.kysely;
  const at = iso(T0);
  const hq = await k
    .insertInto('org_unit')
    .values({
      parent_id: null,
      kind_code: 'hq',
      code: 'HQ',
      name: '总部',
      time_zone: 'Asia/Shanghai',
      path: '/',
      depth: 1,
      created_at: at,
      updated_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const hqPath = `/${Number(hq.id)}/`;
  await k.updateTable('org_unit').set({ path: hqPath }).where('id', '=', Number(hq.id)).execute();
  const stations: number[] = [];
  for (let i = 0; i < STATIONS; i++) {
    const r = await k
      .insertInto('org_unit')
      .values({
        parent_id: Number(hq.id),
        kind_code: 'station',
        code: `S${i}`,
        name: `加油站${i}`,
        time_zone: 'Asia/Shanghai',
        path: 'x',
        depth: 2,
        created_at: at,
        updated_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await k
      .updateTable('org_unit')
      .set({ path: `${hqPath}${Number(r.id)}/` })
      .where('id', '=', Number(r.id))
      .execute();
    stations.push(Number(r.id));
  }
  const rnd = mulberry32(11);
  const batch: Record<string, unknown>[] = [];
  const flush = async () => {
    for (let i = 0; i < batch.length; i += 800)
      await k
        .insertInto('complaint')
        .values(batch.slice(i, i + 800) as never)
        .execute();
    batch.length = 0;
  };
  for (let n = 0; n < CASES; n++) {
    const open = rnd() < 0.2;
    const unit = stations[Math.floor(rnd() * STATIONS)]!;
    const allowance = [2, 24, 72, 120][Math.floor(rnd() * 4)]! * H;
    const start = T0 - Math.floor(rnd() * 1.5 * allowance);
    const inst = LEVELS.map((l) => start + Math.round((allowance * l) / 100));
    const fired = open ? ([0, ...LEVELS.filter((l, i) => inst[i]! <= T0)].pop() ?? 0) : 0;
    const nextI = LEVELS.findIndex((l) => l > fired);
    batch.push({
      case_no: `TS-B-${n}`,
      channel: 'station',
      category_code: 'station_service',
      severity_code: 'general',
      org_unit_id: unit,
      owner_unit_id: unit,
      content: '加油员态度不好',
      emergency: 0,
      state: open ? 'verify' : 'closed',
      stage_started_at: iso(start),
      stage_due_at: open ? iso(inst[3]!) : null,
      taken_at: iso(start),
      closed_at: open ? null : iso(start + allowance),
      updated_at: at,
      sla_mode: 'clock',
      sla_allowance_ms: allowance,
      sla_paused_ms: 0,
      sla_warn50_at: open ? iso(inst[0]!) : null,
      sla_warn75_at: open ? iso(inst[1]!) : null,
      sla_warn90_at: open ? iso(inst[2]!) : null,
      sla_supervise_at: open ? iso(inst[4]!) : null,
      sla_fired: fired,
      sla_next_at: open && nextI >= 0 ? iso(inst[nextI]!) : null,
      hq_watch: open && fired >= 100 ? 1 : 0,
    });
    if (batch.length >= 20_000) await flush();
  }
  await flush();
  await sql`analyze`.execute(k);
  return {
    userId: 1,
    username: 'hq',
    displayName: '总部',
    orgUnitId: Number(hq.id),
    orgPath: hqPath,
    grantPaths: [],
    grantWritePaths: [],
    permissions: new Set<Permission>(PERMISSIONS),
    roleCodes: ['hq_marketing'],
    locale: 'zh-CN',
    sessionId: 'x',
    csrfToken: 'x',
  };
}

for (const engine of args.engines.split(',') as ('sqlite' | 'postgres')[]) {
  const fresh = await freshDatabase(engine, 'complaint_sla');
  const db = openDb({ url: fresh.url });
  try {
    await prepareDatabase(db);
    const t0 = Date.now();
    const hq = await seed(db);
    console.log(`${engine}: ${CASES.toLocaleString()} cases seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const open = await db.kysely
      .selectFrom('complaint')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', 'verify')
      .executeTakeFirstOrThrow();
    const scans: number[] = [];
    const sweeps: number[] = [];
    const fired: Awaited<ReturnType<ComplaintSlaService['sweep']>>[] = [];
    for (let i = 1; i <= RUNS; i++) {
      // The baseline: every open case's deadline, read once.
      let t = process.hrtime.bigint();
      const rows = await db.kysely
        .selectFrom('complaint')
        .select(['id', 'stage_due_at'])
        .where('state', 'in', ['verify', 'review', 'rectify', 'callback', 'archive'])
        .execute();
      scans.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (rows.length !== Number(open.n)) throw new Error('scan read the wrong rows');
      // The sweep five minutes on from the last one.
      const now = new Date(T0 + i * 300_000);
      t = process.hrtime.bigint();
      fired.push(await new ComplaintSlaService(db.kysely, () => now).sweep());
      sweeps.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const list = new ComplaintsService(
      db.kysely,
      { put: async () => undefined, get: async () => null, delete: async () => undefined } as never,
      () => new Date(T0 + RUNS * 300_000),
    );
    const lat: number[] = [];
    for (let i = 0; i < LIST_RUNS + 5; i++) {
      const t = process.hrtime.bigint();
      await list.list(hq, { page: 1, pageSize: 20 });
      if (i >= 5) lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const total = fired.reduce((a, f) => ({ w: a.w + f.warnings, b: a.b + f.breaches, s: a.s + f.supervised }), {
      w: 0,
      b: 0,
      s: 0,
    });
    console.log(
      `${engine}: ${Number(open.n).toLocaleString()} open cases; per 5-minute sweep on average ${(total.w / RUNS).toFixed(0)} warnings, ${(total.b / RUNS).toFixed(0)} breaches, ${(total.s / RUNS).toFixed(0)} 督办`,
    );
    console.log(
      `${engine}: plain scan of open deadlines (baseline) median ${ms(median(scans))}; SLA sweep median ${ms(median(sweeps))} = ${(median(sweeps) / median(scans)).toFixed(2)}× baseline (target ≤ 3×)`,
    );
    console.log(
      `${engine}: complaint list for HQ (first page + total): p50 ${ms(pct(lat, 50))}, p99 ${ms(pct(lat, 99))}`,
    );
  } finally {
    await db.close();
    await fresh.drop();
  }
}
