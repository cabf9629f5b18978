// The work inbox at scale: one person with 5,000 open items (and as many done) among 1,000,000
// items of 2,000 people and the unit queues, on SQLite and PostgreSQL. Reports p50/p99 of the
// inbox page (first page, by due time, with the total) and of the counts, each beside the plain
// indexed select of the same person's rows measured in the same run.
//   npx tsx bench/inbox.ts [--items N] [--mine N] [--runs N] [--engines sqlite,postgres]
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openDb, type Db } from '../src/server/db/connection.js';
import { prepareDatabase } from '../src/server/bootstrap.js';
import { WorkService } from '../src/server/modules/work/work.service.js';
import { WORK_KINDS } from '../src/server/modules/work/work-items.js';
import { PERMISSIONS, type Permission } from '../src/domain/permissions.js';
import type { Principal } from '../src/server/auth/principal.js';
import { freshDatabase } from './lib/fresh-db.js';

const { values: args } = parseArgs({
  options: {
    items: { type: 'string', default: '1000000' },
    mine: { type: 'string', default: '5000' },
    users: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '300' },
    engines: { type: 'string', default: 'sqlite,postgres' },
  },
});
const ITEMS = Number(args.items);
const MINE = Number(args.mine);
const USERS = Number(args.users);
const RUNS = Number(args.runs);
const STATIONS = 100;
const NOW = new Date('2026-12-01T02:00:00Z');

function mulberry32(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
async function time(fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 20; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function seed(db: Db): Promise<{ principal: Principal }> {
  const k = db.kysely;
  const at = NOW.toISOString();
  const hq = await k.selectFrom('org_unit').select(['id', 'path']).where('parent_id', 'is', null).executeTakeFirst();
  let hqId: number;
  let hqPath: string;
  if (hq) {
    hqId = Number(hq.id);
    hqPath = hq.path;
  } else {
    const r = await k
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
    hqId = Number(r.id);
    hqPath = `/${hqId}/`;
    await k.updateTable('org_unit').set({ path: hqPath }).where('id', '=', hqId).execute();
  }
  const stations: { id: number; path: string }[] = [];
  for (let i = 0; i < STATIONS; i++) {
    const r = await k
      .insertInto('org_unit')
      .values({
        parent_id: hqId,
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
    const path = `${hqPath}${Number(r.id)}/`;
    await k.updateTable('org_unit').set({ path }).where('id', '=', Number(r.id)).execute();
    stations.push({ id: Number(r.id), path });
  }
  const userIds: number[] = [];
  for (let i = 0; i < USERS; i += 500) {
    const rows = Array.from({ length: Math.min(500, USERS - i) }, (_, j) => ({
      username: `u${i + j}`,
      display_name: `用户${i + j}`,
      org_unit_id: stations[(i + j) % STATIONS]!.id,
      password_hash: 'x',
      locale: 'zh-CN',
      password_changed_at: at,
      active: 1,
      created_at: at,
      updated_at: at,
    }));
    const ids = await k
      .insertInto('app_user')
      .values(rows as never)
      .returning('id')
      .execute();
    userIds.push(...ids.map((r) => Number(r.id)));
  }
  const me = userIds[0]!;
  const meStation = stations[0]!;
  const rnd = mulberry32(7);
  const kinds = WORK_KINDS.filter((x) => x !== 'access_approval');
  let n = 0;
  const batch: Record<string, unknown>[] = [];
  const flush = async () => {
    for (let i = 0; i < batch.length; i += 1000)
      await k
        .insertInto('work_item')
        .values(batch.slice(i, i + 1000) as never)
        .execute();
    batch.length = 0;
  };
  while (n < ITEMS) {
    // Mine first: MINE open and MINE done; then everyone else's, a tenth of them queue items.
    const mineOpen = n < MINE;
    const mineDone = n >= MINE && n < 2 * MINE;
    const queue = !mineOpen && !mineDone && rnd() < 0.1;
    const station = mineOpen || mineDone ? meStation : stations[Math.floor(rnd() * STATIONS)]!;
    const due = new Date(NOW.getTime() + Math.floor((rnd() - 0.3) * 30 * 86_400_000)).toISOString();
    const done = mineDone || (!mineOpen && rnd() < 0.5);
    batch.push({
      kind: kinds[Math.floor(rnd() * kinds.length)],
      record_id: n + 1,
      assignee_user_id: queue ? null : mineOpen || mineDone ? me : userIds[1 + Math.floor(rnd() * (USERS - 1))],
      permission: queue ? 'rating.approve' : null,
      queue_key: '',
      excluded_user_ids: null,
      org_unit_id: station.id,
      org_path: station.path,
      customer_id: n + 1,
      subject: `客户${n}`,
      due_at: due,
      state: done ? 'done' : 'open',
      created_at: at,
      updated_at: at,
      done_at: done ? at : null,
    });
    n++;
    if (batch.length >= 20_000) await flush();
  }
  await flush();
  if (db.engine === 'postgres') await sql`analyze work_item`.execute(k);
  else await sql`analyze`.execute(k);
  const principal: Principal = {
    userId: me,
    username: 'u0',
    displayName: '用户0',
    orgUnitId: meStation.id,
    orgPath: meStation.path,
    grantPaths: [],
    grantWritePaths: [],
    permissions: new Set<Permission>(PERMISSIONS.filter((p) => p !== 'rating.approve')),
    roleCodes: ['sales_rep'],
    locale: 'zh-CN',
    sessionId: 'x',
    csrfToken: 'x',
  };
  return { principal };
}

for (const engine of args.engines.split(',') as ('sqlite' | 'postgres')[]) {
  const fresh = await freshDatabase(engine, 'inbox');
  const db = openDb({ url: fresh.url });
  try {
    await prepareDatabase(db);
    const t0 = Date.now();
    const { principal } = await seed(db);
    console.log(`${engine}: ${ITEMS.toLocaleString()} items seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const svc = new WorkService(db.kysely, () => NOW);
    const first = await svc.inbox(principal, { page: 1, pageSize: 20 });
    const counted = await svc.counts(principal);
    console.log(`${engine}: inbox total ${first.total}, counts total ${counted.total} (expected ${MINE})`);
    const plainPage = () =>
      db.kysely
        .selectFrom('work_item')
        .selectAll()
        .where('assignee_user_id', '=', principal.userId)
        .where('state', '=', 'open')
        .orderBy('due_at')
        .limit(20)
        .execute();
    const plainCount = () =>
      db.kysely
        .selectFrom('work_item')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('assignee_user_id', '=', principal.userId)
        .where('state', '=', 'open')
        .executeTakeFirst();
    const base = await time(plainPage);
    const page = await time(() => svc.inbox(principal, { page: 1, pageSize: 20 }));
    const baseCount = await time(plainCount);
    const counts = await time(() => svc.counts(principal));
    console.log(
      `${engine}: inbox page p50 ${ms(pct(page, 50))} p99 ${ms(pct(page, 99))}; plain indexed select of 20 p50 ${ms(pct(base, 50))} p99 ${ms(pct(base, 99))}; ×${(pct(page, 99) / pct(base, 99)).toFixed(1)} at p99`,
    );
    console.log(
      `${engine}: counts p50 ${ms(pct(counts, 50))} p99 ${ms(pct(counts, 99))}; plain indexed count p50 ${ms(pct(baseCount, 50))} p99 ${ms(pct(baseCount, 99))}; ×${(pct(counts, 99) / pct(baseCount, 99)).toFixed(1)} at p99`,
    );
  } finally {
    await db.close();
    await fresh.drop();
  }
}
