// Visits at the size of a branch: 200,000 customers, 2,000 employees and a year of visits, on SQLite
// and PostgreSQL.
//
// Per engine a fresh database gets the migrations and a branch (10 areas × 10 stations), 2,000
// employees owning 100 customers each, last two months of sales (customer_month), a rating per
// customer, open alerts for 5%, and a year of visits: an approved plan per employee and month, its
// planned visits (about one a week each), the records of most of them, follow-ups and problems.
// Seeding is timed but not what is measured.
//
// Measured, each beside a baseline of the same engine in the same run:
//   plans   — the monthly job proposing next month's plan for all 2,000 owners (VisitPlansService.generate,
//             writing the plans and their visits), against a plain scan of the rows it reads (owned
//             customers, their latest ratings, two months of sales, open alerts, last visits);
//   summary — the Monday summary of the branch for last week (VisitSummaryService.compute, then
//             generateAll as the job runs it), against plain counts of the same week's rows.
//
//   npx tsx bench/visits.ts [--customers 200000] [--employees 2000] [--engines sqlite,postgres] [--reps 3]
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openDb, type Db } from '../src/server/db/connection.js';
import { prepareDatabase } from '../src/server/bootstrap.js';
import { VisitPlansService } from '../src/server/modules/visits/visit-plans.service.js';
import { VisitSummaryService } from '../src/server/modules/visits/visit-summary.service.js';
import { addDays, addMonths } from '../src/domain/day-arithmetic.js';
import { businessDay } from '../src/domain/business-day.js';
import { weekStart } from '../src/domain/visit-plan.js';
import { freshDatabase } from './lib/fresh-db.js';

const { values: args } = parseArgs({
  options: {
    customers: { type: 'string', default: '200000' },
    employees: { type: 'string', default: '2000' },
    engines: { type: 'string', default: 'sqlite,postgres' },
    reps: { type: 'string', default: '3' },
  },
});
const CUSTOMERS = Number(args.customers);
const EMPLOYEES = Number(args.employees);
const REPS = Number(args.reps);
const TZ = 'Asia/Shanghai';
const NOW = new Date();
const TODAY = businessDay(NOW.getTime(), TZ);
const THIS_MONTH = TODAY.slice(0, 7);
const NEXT_MONTH = addMonths(THIS_MONTH, 1);
const LAST_WEEK = addDays(weekStart(TODAY), -7);

function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function insertMany(db: Db, table: string, rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const per = Math.max(1, Math.floor(30_000 / Object.keys(rows[0]!).length));
  for (let i = 0; i < rows.length; i += per)
    await db.kysely
      .insertInto(table as never)
      .values(rows.slice(i, i + per) as never)
      .execute();
}

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

async function seed(db: Db): Promise<{ branchId: number }> {
  const at = NOW.toISOString();
  const k = db.kysely;
  const unit = async (parent: number | null, parentPath: string, kind: string, code: string, depth: number) => {
    const r = await k
      .insertInto('org_unit')
      .values({
        parent_id: parent,
        kind_code: kind,
        code,
        name: code,
        time_zone: TZ,
        path: '/',
        depth,
        created_at: at,
        updated_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const id = Number(r.id);
    const path = `${parentPath}${id}/`;
    await k.updateTable('org_unit').set({ path }).where('id', '=', id).execute();
    return { id, path };
  };
  const hq = await unit(null, '/', 'hq', 'HQ', 1);
  const branch = await unit(hq.id, hq.path, 'branch', 'B1', 2);
  const areas: { id: number; path: string }[] = [];
  const stations: number[] = [];
  for (let a = 0; a < 10; a++) {
    const area = await unit(branch.id, branch.path, 'area', `B1-A${a}`, 3);
    areas.push(area);
    for (let s = 0; s < 10; s++) stations.push((await unit(area.id, area.path, 'station', `B1-A${a}-S${s}`, 4)).id);
  }
  // Employees: a tenth at the areas, the rest at stations.
  await insertMany(
    db,
    'app_user',
    Array.from({ length: EMPLOYEES }, (_, i) => ({
      username: `e${i}`,
      display_name: `员工${i}`,
      org_unit_id: i % 10 === 0 ? areas[i % areas.length]!.id : stations[i % stations.length]!,
      password_hash: 'x',
      locale: 'zh-CN',
      active: 1,
      password_changed_at: at,
      created_at: at,
      updated_at: at,
    })),
  );
  const users = (await k.selectFrom('app_user').select(['id', 'org_unit_id']).orderBy('id').execute()).map((u) => ({
    id: Number(u.id),
    unit: Number(u.org_unit_id),
  }));
  const r = rng(42);
  await insertMany(
    db,
    'customer',
    Array.from({ length: CUSTOMERS }, (_, i) => {
      const owner = users[i % users.length]!;
      const unitId = stations.includes(owner.unit) ? owner.unit : stations[i % stations.length]!;
      return {
        org_unit_id: unitId,
        code: `C${i}`,
        kind: i % 5 === 0 ? 'organisation' : 'individual',
        name: `客户${i}`,
        owner_user_id: owner.id,
        created_at: at,
        updated_at: at,
      };
    }),
  );
  const customers = (
    await k.selectFrom('customer').select(['id', 'org_unit_id', 'owner_user_id']).orderBy('id').execute()
  ).map((c) => ({
    id: Number(c.id),
    unit: Number(c.org_unit_id),
    owner: Number(c.owner_user_id),
  }));
  const last = addMonths(THIS_MONTH, -1);
  const prev = addMonths(THIS_MONTH, -2);
  const months: Record<string, unknown>[] = [];
  for (const c of customers) {
    const base = Math.floor(r() * 3000);
    months.push({
      customer_id: c.id,
      month: prev,
      product: '0#柴油',
      volume_ml: base * 1000,
      amount_fen: base * 700,
      txn_count: 4,
    });
    const now = r() < 0.1 ? Math.floor(base * 0.4) : base;
    months.push({
      customer_id: c.id,
      month: last,
      product: '0#柴油',
      volume_ml: now * 1000,
      amount_fen: now * 700,
      txn_count: 4,
    });
  }
  await insertMany(db, 'customer_month', months);
  const batch = await k
    .insertInto('rating_batch')
    .values({
      period: last,
      org_unit_id: branch.id,
      status: 'final',
      policy_version_id: null,
      computed_at: at,
      proposed_by: null,
      proposed_at: null,
      low_approved_by: null,
      low_approved_at: null,
      high_reviewed_by: null,
      high_reviewed_at: null,
      high_approved_by: null,
      high_approved_at: null,
      finalized_at: at,
      note: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const classes = ['VIP', 'A', 'A', 'B', 'B', 'B', 'C', 'C', 'C', 'C'];
  await insertMany(
    db,
    'customer_rating',
    customers.map((c, i) => ({
      batch_id: Number(batch.id),
      customer_id: c.id,
      period: last,
      computed_stars: 2,
      stars: 2,
      class: classes[i % classes.length],
      status: 'final',
      benefits: null,
      note: null,
      updated_at: at,
    })),
  );
  await insertMany(
    db,
    'alert',
    customers
      .filter((_, i) => i % 20 === 0)
      .map((c) => ({
        customer_id: c.id,
        org_unit_id: c.unit,
        kind: 'cadence',
        episode: TODAY,
        status: 'open',
        opened_at: at,
      })),
  );
  // A year of visits: a plan per employee and month, about a visit a week each, most of them recorded.
  const plans: Record<string, unknown>[] = [];
  for (let m = 12; m >= 1; m--)
    for (const u of users)
      plans.push({
        owner_user_id: u.id,
        org_unit_id: u.unit,
        month: addMonths(THIS_MONTH, -m + 1),
        state: 'approved',
        submitted_at: at,
        decided_by: null,
        decided_at: at,
        decision_note: null,
        created_at: at,
        updated_at: at,
      });
  await insertMany(db, 'visit_plan', plans);
  const planIds = new Map(
    (await k.selectFrom('visit_plan').select(['id', 'owner_user_id', 'month']).execute()).map((p) => [
      `${p.owner_user_id}:${p.month}`,
      Number(p.id),
    ]),
  );
  const byOwner = new Map<number, typeof customers>();
  for (const c of customers) byOwner.set(c.owner, [...(byOwner.get(c.owner) ?? []), c]);
  const planned: Record<string, unknown>[] = [];
  for (let d = 364; d >= 1; d -= 7)
    for (const u of users) {
      const day = addDays(TODAY, -d + Math.floor(r() * 5));
      if (day > TODAY) continue;
      const own = byOwner.get(u.id) ?? [];
      const c = own[Math.floor(r() * own.length)];
      if (!c) continue;
      const planId = planIds.get(`${u.id}:${day.slice(0, 7)}`);
      if (!planId) continue;
      planned.push({
        plan_id: planId,
        customer_id: c.id,
        org_unit_id: c.unit,
        owner_user_id: u.id,
        planned_day: day,
        planned_at: `${day}T02:00:00.000Z`,
        reason: 'policy',
        reason_detail: null,
        state: r() < 0.85 ? 'done' : 'planned',
        appointed_at: null,
        appointment_note: null,
        record_id: null,
        created_at: at,
        updated_at: at,
      });
    }
  await insertMany(db, 'planned_visit', planned);
  const records = planned
    .filter((p) => p.state === 'done')
    .map((p) => ({
      customer_id: p.customer_id,
      org_unit_id: p.org_unit_id,
      user_id: p.owner_user_id,
      planned_visit_id: null,
      visited_at: p.planned_at,
      visited_day: p.planned_day,
      assessment: '{"price":{"compared":"same"}}',
      market_outlook: null,
      competitors_better: null,
      note: null,
      check_in_lat: null,
      check_in_lng: null,
      check_in_accuracy_m: null,
      check_in_at: null,
      created_at: at,
    }));
  await insertMany(db, 'visit_record', records);
  const recs = await k
    .selectFrom('visit_record')
    .select(['id', 'customer_id', 'org_unit_id', 'user_id', 'visited_day'])
    .where(sql<boolean>`id % 3 = 0`)
    .execute();
  await insertMany(
    db,
    'visit_follow_up',
    recs.map((x, i) => ({
      record_id: Number(x.id),
      customer_id: Number(x.customer_id),
      org_unit_id: Number(x.org_unit_id),
      owner_user_id: Number(x.user_id),
      action: '回访',
      due_day: addDays(x.visited_day, 7),
      due_at: `${addDays(x.visited_day, 7)}T10:00:00.000Z`,
      state: i % 4 === 0 ? 'open' : 'done',
      done_at: i % 4 === 0 ? null : `${addDays(x.visited_day, 5)}T10:00:00.000Z`,
      done_by: null,
      created_at: at,
    })),
  );
  await insertMany(
    db,
    'visit_problem',
    recs
      .filter((_, i) => i % 20 === 0)
      .map((x) => ({
        record_id: Number(x.id),
        customer_id: Number(x.customer_id),
        origin_unit_id: Number(x.org_unit_id),
        org_unit_id: branch.id,
        raised_by: Number(x.user_id),
        text: '价格问题',
        state: 'open',
        raised_at: at,
        raised_day: x.visited_day,
        resolved_at: null,
        updated_at: at,
      })),
  );
  if (db.engine === 'postgres') await sql`analyze`.execute(k);
  else await sql`analyze`.execute(k);
  console.log(
    `  seeded: ${customers.length} customers, ${users.length} employees, ${planned.length} planned visits, ${records.length} records, ${recs.length} follow-ups`,
  );
  return { branchId: branch.id };
}

async function baselinePlans(db: Db): Promise<number> {
  const t0 = process.hrtime.bigint();
  const k = db.kysely;
  await k
    .selectFrom('customer')
    .select(['id', 'owner_user_id', 'org_unit_id'])
    .where('owner_user_id', 'is not', null)
    .execute();
  await k.selectFrom('customer_rating').select(['customer_id', 'period', 'class']).execute();
  await k
    .selectFrom('customer_month')
    .select(['customer_id', 'month', 'volume_ml'])
    .where('month', 'in', [addMonths(NEXT_MONTH, -1), addMonths(NEXT_MONTH, -2)])
    .execute();
  await k.selectFrom('alert').select('customer_id').where('status', '=', 'open').execute();
  await k.selectFrom('visit_record').select(['customer_id', 'visited_day']).execute();
  return ms(t0);
}

async function baselineSummary(db: Db): Promise<number> {
  const t0 = process.hrtime.bigint();
  const k = db.kysely;
  const we = addDays(LAST_WEEK, 6);
  await k
    .selectFrom('planned_visit')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('planned_day', '>=', LAST_WEEK)
    .where('planned_day', '<=', we)
    .execute();
  await k
    .selectFrom('visit_record')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('visited_day', '>=', LAST_WEEK)
    .where('visited_day', '<=', we)
    .execute();
  await k
    .selectFrom('visit_problem')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('raised_day', '>=', LAST_WEEK)
    .where('raised_day', '<=', we)
    .execute();
  await k
    .selectFrom('visit_follow_up')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('state', '=', 'open')
    .execute();
  return ms(t0);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const engine of args.engines.split(',') as ('sqlite' | 'postgres')[]) {
  console.log(`\n## ${engine}: ${CUSTOMERS} customers, ${EMPLOYEES} employees`);
  const fresh = await freshDatabase(engine, 'visits');
  const db = openDb({ url: fresh.url });
  try {
    await prepareDatabase(db);
    const t0 = process.hrtime.bigint();
    const { branchId } = await seed(db);
    console.log(`  seeding: ${(ms(t0) / 1000).toFixed(1)} s`);

    const plans = new VisitPlansService(db.kysely, () => NOW);
    const genTimes: number[] = [];
    const baseTimes: number[] = [];
    let made = { plans: 0, visits: 0 };
    for (let i = 0; i < REPS; i++) {
      await db.kysely.deleteFrom('visit_plan').where('month', '=', NEXT_MONTH).execute();
      baseTimes.push(await baselinePlans(db));
      const t = process.hrtime.bigint();
      made = await plans.generate(NEXT_MONTH);
      genTimes.push(ms(t));
    }
    console.log(
      `  plans for ${NEXT_MONTH}: ${made.plans} plans, ${made.visits} visits; median ${(median(genTimes) / 1000).toFixed(2)} s ` +
        `(runs ${genTimes.map((x) => (x / 1000).toFixed(2)).join(', ')}); baseline scan ${(median(baseTimes) / 1000).toFixed(2)} s; ×${(median(genTimes) / median(baseTimes)).toFixed(2)}`,
    );

    const summary = new VisitSummaryService(db.kysely, () => NOW);
    const sumTimes: number[] = [];
    const jobTimes: number[] = [];
    const sumBase: number[] = [];
    let totals = {};
    for (let i = 0; i < REPS; i++) {
      sumBase.push(await baselineSummary(db));
      let t = process.hrtime.bigint();
      totals = (await summary.compute(branchId, LAST_WEEK)).totals;
      sumTimes.push(ms(t));
      t = process.hrtime.bigint();
      await summary.generateAll();
      jobTimes.push(ms(t));
    }
    console.log(
      `  Monday summary of ${LAST_WEEK}: ${JSON.stringify(totals)}; compute median ${(median(sumTimes) / 1000).toFixed(2)} s, ` +
        `job ${(median(jobTimes) / 1000).toFixed(2)} s; baseline counts ${(median(sumBase) / 1000).toFixed(3)} s; ×${(median(sumTimes) / median(sumBase)).toFixed(2)}`,
    );
  } finally {
    await db.close();
    if (!process.env.KEEP) await fresh.drop();
  }
}
