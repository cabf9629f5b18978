// Benefits from consecutive final months (a month without a final rating breaks the run), messages
// queued once per customer and month, the monthly job through the runner, and the policy in force.
import { beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { runJob } from '../../src/server/jobs/job-runner.js';
import { JOBS } from '../../src/server/jobs/index.js';
import { monthlyRatingJob } from '../../src/server/modules/ratings/ratings.job.js';
import { approveAll, customer, fill } from './helpers.js';

interface Rating {
  customerId: number;
  stars: number;
  benefits: string[];
}

describeEngines('star rating benefits and the monthly job', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let hq: Session;
  let b1: Session;
  let tree: Tree;
  let key: string;
  let x: number;
  let y: number;
  let z: number;
  let w: number;

  const ratingsOf = async (period: string) => {
    const [batch] = await ok<{ id: number; orgUnitId: number }[]>(
      call(ctx.app, b1, 'GET', `/api/ratings/batches?period=${period}`),
    );
    const d = await ok<{ ratings: { items: Rating[] } }>(
      call(ctx.app, b1, 'GET', `/api/ratings/batches/${batch!.id}?pageSize=200`),
    );
    return new Map(d.ratings.items.map((r) => [r.customerId, r]));
  };
  const rateAndApprove = async (period: string) => {
    const [out] = await ok<{ batchId: number }[]>(call(ctx.app, b1, 'POST', '/api/ratings/compute', { period }));
    await approveAll(ctx.app, out!.batchId, { branch: b1, hq, leader: admin });
  };

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    await createUser(ctx.app, admin, 'mkt', tree.hq, ['hq_marketing']);
    await createUser(ctx.app, admin, 'b1admin', tree.branch1, ['branch_customer_admin']);
    hq = await login(ctx.app, 'mkt', USER_PASSWORD);
    b1 = await login(ctx.app, 'b1admin', USER_PASSWORD);
    key = (
      await ok<{ key: string }>(call(ctx.app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.hq }), 201)
    ).key;
    x = await customer(ctx.app, admin, tree.station1, '冀A30001');
    y = await customer(ctx.app, admin, tree.station1, '冀A30002');
    z = await customer(ctx.app, admin, tree.station2, '冀A30003');
    w = await customer(ctx.app, admin, tree.station3, '冀F30001');
    // x: 3 stars every month; y: 2 stars from March; z: 3 stars in March and May, nothing in April.
    for (const m of ['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06', '2026-07'])
      await fill(ctx.app, key, '冀A30001', 'B1-A1-S1', m, [3500]);
    for (const m of ['2026-03', '2026-04', '2026-05', '2026-07'])
      await fill(ctx.app, key, '冀A30002', 'B1-A1-S1', m, [1200]);
    for (const m of ['2026-03', '2026-05']) await fill(ctx.app, key, '冀A30003', 'B1-A1-S2', m, [3500]);
    await fill(ctx.app, key, '冀F30001', 'B2-A1-S1', '2026-06', [1200]);
  }, 120_000);

  it('grants supply priority after 2 months at 2+ stars and the discount after 3 at 3+, a missing month breaking the run', async () => {
    // February is never rated: that month is missing from every history.
    for (const m of ['2026-01', '2026-03', '2026-04']) await rateAndApprove(m);
    // A message for May queued before (an earlier attempt): finalizing must not add a second.
    await ctx.db.kysely
      .insertInto('outbox_message')
      .values({
        customer_id: x,
        channel: 'sms',
        template: 'rating_result',
        payload: '{"earlier":true}',
        dedupe_key: `rating:2026-05:${x}`,
        status: 'pending',
        created_at: new Date().toISOString(),
        sent_at: null,
        error: null,
      })
      .execute();
    await rateAndApprove('2026-05');

    const benefits = async (m: string) =>
      Object.fromEntries(
        [...(await ratingsOf(m))].map(([id, r]) => [id === x ? 'x' : id === y ? 'y' : 'z', [r.stars, r.benefits]]),
      );
    expect(await benefits('2026-01')).toEqual({ x: [3, []], y: [0, []], z: [0, []] });
    expect(await benefits('2026-03')).toEqual({ x: [3, []], y: [2, []], z: [3, []] });
    expect(await benefits('2026-04')).toEqual({ x: [3, ['supply_priority']], y: [2, ['supply_priority']], z: [0, []] });
    expect(await benefits('2026-05')).toEqual({
      x: [3, ['supply_priority', 'discount_5_per_ton']],
      y: [2, ['supply_priority']],
      z: [3, []],
    });

    const may = await ctx.db.kysely
      .selectFrom('outbox_message')
      .selectAll()
      .where('template', '=', 'rating_result')
      .where('dedupe_key', 'like', 'rating:2026-05:%')
      .execute();
    expect(may).toHaveLength(3);
    expect(may.filter((m) => m.customer_id === x).map((m) => m.payload)).toEqual(['{"earlier":true}']);
    expect(JSON.parse(may.find((m) => m.customer_id === y)!.payload)).toEqual({
      period: '2026-05',
      stars: 2,
      class: 'B',
      benefits: ['supply_priority'],
    });
  });

  it('computes every branch once per period through the job runner', async () => {
    expect(JOBS.map((j) => j.name)).toContain('monthly-rating');
    expect(monthlyRatingJob.cron).toBe('0 2 2 * *');
    // 01:00 on 2 July in Shanghai is still 1 July in UTC: the period is June either way.
    expect(monthlyRatingJob.periodOf(new Date('2026-07-01T17:00:00Z'), 'Asia/Shanghai')).toBe('2026-06');
    expect(monthlyRatingJob.periodOf(new Date('2026-01-01T17:00:00Z'), 'Asia/Shanghai')).toBe('2025-12');

    const first = await runJob(ctx.db.kysely, monthlyRatingJob, '2026-06');
    expect(first).toEqual({
      status: 'done',
      detail: { batches: 2, computed: 2, recomputed: 0, locked: 0, customers: 4 },
    });
    expect(await runJob(ctx.db.kysely, monthlyRatingJob, '2026-06')).toEqual({
      status: 'skipped',
      reason: 'already_done',
    });
    const forced = await runJob(ctx.db.kysely, monthlyRatingJob, '2026-06', { force: true });
    expect(forced).toMatchObject({ status: 'done', detail: { recomputed: 2, customers: 4 } });

    const batches = await ctx.db.kysely
      .selectFrom('rating_batch')
      .select(['org_unit_id', 'status'])
      .where('period', '=', '2026-06')
      .orderBy('org_unit_id')
      .execute();
    expect(batches).toEqual([
      { org_unit_id: tree.branch1, status: 'computed' },
      { org_unit_id: tree.branch2, status: 'computed' },
    ]);
    const rated = await ctx.db.kysely
      .selectFrom('customer_rating')
      .select(['customer_id', 'stars'])
      .where('period', '=', '2026-06')
      .orderBy('customer_id')
      .execute();
    expect(rated).toEqual([
      { customer_id: x, stars: 3 },
      { customer_id: y, stars: 0 },
      { customer_id: z, stars: 0 },
      { customer_id: w, stars: 2 },
    ]);
    const audit = await ctx.db.kysely
      .selectFrom('audit_log')
      .select('actor_name')
      .where('entity', '=', 'rating_batch')
      .where('action', '=', 'compute')
      .where('actor_user_id', 'is', null)
      .execute();
    expect(audit).toHaveLength(4);
    expect(audit.every((a) => a.actor_name === 'job:monthly-rating')).toBe(true);
  });

  it('rates by the policy in force and keeps its version on the batch', async () => {
    const saved = await ok<{ versionId: number }>(
      call(ctx.app, hq, 'PUT', '/api/policies/star_rating', {
        body: { basis: 'amount', thresholds: { default: [1000, 5000, 20000, 50000] }, computeDay: 2, finalDay: 5 },
        note: '按金额评定',
      }),
    );
    const [out] = await ok<{ batchId: number }[]>(
      call(ctx.app, b1, 'POST', '/api/ratings/compute', { period: '2026-07' }),
    );
    const batch = await ok<{ policyVersionId: number | null; basis: string }>(
      call(ctx.app, b1, 'GET', `/api/ratings/batches/${out!.batchId}`),
    );
    expect(batch).toMatchObject({ policyVersionId: saved.versionId, basis: 'amount' });
    const r = await ratingsOf('2026-07');
    // x: 3500 L at 7.50 = 26,250 yuan → 3 stars; y: 1200 L = 9,000 yuan → 2 stars.
    expect([r.get(x)!.stars, r.get(y)!.stars, r.get(z)!.stars]).toEqual([3, 2, 0]);
  });
});
