// The monthly star rating: figures from the month's purchases, the approval flow step by step with
// who may take each step, re-runs that change nothing twice, and the messages of a final rating.
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { customer, fill, sumsFromRows } from './helpers.js';

interface Batch {
  id: number;
  period: string;
  orgUnitId: number;
  status: string;
  nextAction: string | null;
  customerCount: number;
  distribution: number[];
  proposed: { byName: string | null; at: string } | null;
  lowApproved: { byName: string | null; at: string } | null;
  highReviewed: { byName: string | null; at: string } | null;
  finalized: { byName: string | null; at: string } | null;
}
interface Rating {
  customerId: number;
  computedStars: number;
  stars: number;
  class: string | null;
  volumeMl: number;
  amountFen: number;
  status: string;
  benefits: string[];
  note: string | null;
}
type Detail = Batch & {
  ratings: { total: number; items: Rating[] };
  totals: { volumeMl: number; amountFen: number };
  adjusted: number;
};

describeEngines('monthly star rating', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  let key: string;
  const s = {} as Record<'hq' | 'b1' | 'b2' | 'area' | 'station' | 'auditor' | 'deptHead', Session>;
  const c = {} as Record<'c1' | 'c2' | 'c3' | 'c4' | 'c5' | 'c6' | 'c7' | 'c8', number>;
  const P = '2026-09';
  let b1Batch: number;
  let b2Batch: number;

  const detail = async (id: number, who: Session = admin) =>
    ok<Detail>(call(ctx.app, who, 'GET', `/api/ratings/batches/${id}?pageSize=200`));
  const step = (who: Session, id: number, path: string, body: unknown = {}) =>
    call(ctx.app, who, 'POST', `/api/ratings/batches/${id}/${path}`, body);
  const expectError = async (
    res: Promise<{ statusCode: number; json: () => any; body: string }>,
    status: number,
    code: string,
  ) => {
    const r = await res;
    expect(r.statusCode, r.body).toBe(status);
    expect(r.json().error.code).toBe(code);
    return r.json().error as { code: string; field?: string };
  };

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    const users: [keyof typeof s, number, string][] = [
      ['hq', tree.hq, 'hq_marketing'],
      ['b1', tree.branch1, 'branch_customer_admin'],
      ['deptHead', tree.branch1, 'branch_dept_head'],
      ['b2', tree.branch2, 'branch_customer_admin'],
      ['area', tree.area1, 'area_customer_manager'],
      ['station', tree.station1, 'station_manager'],
      ['auditor', tree.hq, 'auditor'],
    ];
    for (const [name, unit, role] of users) {
      await createUser(ctx.app, admin, `r_${name}`, unit, [role]);
      s[name] = await login(ctx.app, `r_${name}`, USER_PASSWORD);
    }
    key = (
      await ok<{ key: string }>(call(ctx.app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.hq }), 201)
    ).key;

    c.c1 = await customer(ctx.app, admin, tree.station1, '冀A10001');
    c.c2 = await customer(ctx.app, admin, tree.station1, '冀A10002');
    c.c3 = await customer(ctx.app, admin, tree.station2, '冀A10003', 'organisation');
    c.c4 = await customer(ctx.app, admin, tree.station2, '冀A10004');
    c.c5 = await customer(ctx.app, admin, tree.area1, '冀A10005');
    c.c6 = await customer(ctx.app, admin, tree.station1, '冀A10006');
    c.c7 = await customer(ctx.app, admin, tree.branch1, '冀A10007');
    c.c8 = await customer(ctx.app, admin, tree.station3, '冀F20001');
    await fill(ctx.app, key, '冀A10001', 'B1-A1-S1', P, [600, 500]);
    // Just outside the month on the station's calendar: not counted.
    await fill(ctx.app, key, '冀A10001', 'B1-A1-S1', P, [100], '2026-08-31T23:30:00+08:00');
    await fill(ctx.app, key, '冀A10001', 'B1-A1-S1', P, [100], '2026-10-01T00:10:00+08:00');
    await fill(ctx.app, key, '冀A10002', 'B1-A1-S2', P, [2000, 1500]);
    await fill(ctx.app, key, '冀A10003', 'B1-A1-S2', P, [6000]);
    await fill(ctx.app, key, '冀A10004', 'B1-A1-S1', P, [150]);
    await fill(ctx.app, key, '冀A10005', 'B1-A1-S1', P, [300]);
    await fill(ctx.app, key, '冀A10006', 'B1-A1-S1', P, [2000]);
    await fill(ctx.app, key, '冀A10007', 'B1-A1-S2', P, [4000, 5000]);
    await fill(ctx.app, key, '冀F20001', 'B2-A1-S1', P, [1200]);
    // A merged duplicate is not rated; his purchases count for the survivor.
    await ok(call(ctx.app, admin, 'POST', `/api/customers/${c.c1}/merge`, { mergedId: c.c6 }));
  }, 120_000);

  describe('computation', () => {
    it('rates every live customer of each branch from the month’s purchases, equal to a sum over the raw rows', async () => {
      const outcomes = await ok<{ batchId: number; orgUnitId: number; outcome: string; customers: number }[]>(
        call(ctx.app, admin, 'POST', '/api/ratings/compute', { period: P }),
      );
      expect(outcomes.map((o) => [o.orgUnitId, o.outcome, o.customers])).toEqual([
        [tree.branch1, 'computed', 6],
        [tree.branch2, 'computed', 1],
      ]);
      b1Batch = outcomes[0]!.batchId;
      b2Batch = outcomes[1]!.batchId;
      const d = await detail(b1Batch);
      const sums = await sumsFromRows(ctx.db.kysely, P);
      expect(d.ratings.total).toBe(6);
      for (const r of d.ratings.items)
        expect({ id: r.customerId, v: r.volumeMl, a: r.amountFen }).toEqual({
          id: r.customerId,
          v: sums.get(r.customerId)?.volumeMl ?? 0,
          a: sums.get(r.customerId)?.amountFen ?? 0,
        });
      // Litres by hand: the merged duplicate's 2000 count for c1; the organisation has its own thresholds.
      const byId = new Map(d.ratings.items.map((r) => [r.customerId, r]));
      expect(byId.get(c.c1)!.volumeMl).toBe(3_100_000);
      expect(byId.has(c.c6)).toBe(false);
      const stars = Object.fromEntries(
        (['c1', 'c2', 'c3', 'c4', 'c5', 'c7'] as const).map((k) => [k, byId.get(c[k])!.stars]),
      );
      expect(stars).toEqual({ c1: 3, c2: 3, c3: 2, c4: 0, c5: 1, c7: 4 });
      expect(byId.get(c.c7)!.class).toBe('VIP');
      expect(byId.get(c.c3)!.class).toBe('B');
      expect(d.distribution).toEqual([1, 1, 1, 2, 1]);
      expect(d.totals.volumeMl).toBe([...sums].filter(([id]) => byId.has(id)).reduce((a, [, x]) => a + x.volumeMl, 0));
      expect(d.status).toBe('computed');
      expect(d.nextAction).toBe('propose');
    });

    it('recomputes a batch still computed without duplicating anything, picking up new rows', async () => {
      await fill(ctx.app, key, '冀A10004', 'B1-A1-S1', P, [100]);
      const outcomes = await ok<{ batchId: number; outcome: string }[]>(
        call(ctx.app, s.b1, 'POST', '/api/ratings/compute', { period: P }),
      );
      // The branch computes only its own batch.
      expect(outcomes).toEqual([expect.objectContaining({ batchId: b1Batch, outcome: 'recomputed' })]);
      const rows = await ctx.db.kysely
        .selectFrom('customer_rating')
        .select(['customer_id', 'stars', 'basis_volume_ml'])
        .where('period', '=', P)
        .execute();
      expect(rows).toHaveLength(7);
      expect(rows.find((r) => r.customer_id === c.c4)).toMatchObject({ stars: 1 });
      expect(Number(rows.find((r) => r.customer_id === c.c4)!.basis_volume_ml)).toBe(250_000);
      const batches = await ctx.db.kysely.selectFrom('rating_batch').select('id').where('period', '=', P).execute();
      expect(batches).toHaveLength(2);
      // 1 star now: c4 and c5.
      expect((await detail(b1Batch)).distribution).toEqual([0, 2, 1, 2, 1]);
    });

    it('refuses a month that has not ended, and compute without rating.propose', async () => {
      const err = await expectError(
        call(ctx.app, s.b1, 'POST', '/api/ratings/compute', { period: '2999-01' }),
        400,
        'VALIDATION_FAILED',
      );
      expect(err.field).toBe('body.period');
      await expectError(call(ctx.app, s.hq, 'POST', '/api/ratings/compute', { period: P }), 403, 'PERMISSION_DENIED');
      await expectError(
        call(ctx.app, s.b1, 'POST', '/api/ratings/compute', { period: '2026-13' }),
        400,
        'VALIDATION_FAILED',
      );
    });
  });

  describe('reading', () => {
    it('lists the batches of the own subtree only', async () => {
      const all = await ok<Batch[]>(call(ctx.app, s.auditor, 'GET', `/api/ratings/batches?period=${P}`));
      expect(all.map((b) => b.id).sort()).toEqual([b1Batch, b2Batch].sort());
      const b1 = await ok<Batch[]>(call(ctx.app, s.b1, 'GET', `/api/ratings/batches?period=${P}`));
      expect(b1.map((b) => b.id)).toEqual([b1Batch]);
      // An area is below the branch: the branch's batch is not in its subtree.
      expect(await ok<Batch[]>(call(ctx.app, s.area, 'GET', '/api/ratings/batches'))).toEqual([]);
      await expectError(call(ctx.app, s.area, 'GET', `/api/ratings/batches/${b1Batch}`), 403, 'SCOPE_DENIED');
      await expectError(call(ctx.app, s.b1, 'GET', `/api/ratings/batches/${b2Batch}`), 403, 'SCOPE_DENIED');
      await expectError(call(ctx.app, s.station, 'GET', '/api/ratings/batches'), 403, 'PERMISSION_DENIED');
      const filtered = await ok<Detail>(call(ctx.app, s.b1, 'GET', `/api/ratings/batches/${b1Batch}?stars=3`));
      expect(filtered.ratings.items.map((r) => r.customerId).sort()).toEqual([c.c1, c.c2].sort());
    });

    it('finds a batch’s customers by part of the name, organisation or code', async () => {
      const ids = async (query: string) =>
        (await ok<Detail>(call(ctx.app, s.b1, 'GET', `/api/ratings/batches/${b1Batch}?${query}`))).ratings.items.map(
          (r) => r.customerId,
        );
      expect(await ids(`q=${encodeURIComponent('A10003')}`)).toEqual([c.c3]);
      expect(await ids(`q=${encodeURIComponent('单位')}`)).toEqual([c.c3]);
      // Wildcards in the text are matched literally.
      expect(await ids('q=%25')).toEqual([]);
      const all = await detail(b1Batch);
      const c7 = all.ratings.items.find((r) => r.customerId === c.c7) as Rating & { code: string };
      expect(await ids(`q=${encodeURIComponent(c7.code)}`)).toContain(c.c7);
      expect(await ids(`q=${encodeURIComponent('客户')}&stars=4`)).toEqual([c.c7]);
      await expectError(call(ctx.app, s.b1, 'GET', `/api/ratings/batches/${b1Batch}?q=`), 400, 'VALIDATION_FAILED');
    });
  });

  describe('approval flow', () => {
    it('enforces the order, the permission of each step and the scope', async () => {
      await expectError(step(s.hq, b1Batch, 'approve-low'), 409, 'CONFLICT');
      await expectError(step(admin, b1Batch, 'finalize'), 409, 'CONFLICT');
      await expectError(step(s.hq, b1Batch, 'propose'), 403, 'PERMISSION_DENIED');
      await expectError(step(s.b1, b2Batch, 'propose'), 403, 'SCOPE_DENIED');
      await expectError(step(s.auditor, b1Batch, 'propose'), 403, 'PERMISSION_DENIED');

      const proposed = await ok<Batch>(step(s.b1, b1Batch, 'propose', { note: '已核对' }));
      expect(proposed.status).toBe('proposed');
      expect(proposed.proposed?.byName).toBe('用户r_b1');
      await expectError(step(s.deptHead, b1Batch, 'propose'), 409, 'CONFLICT');

      // Once proposed, a recompute leaves the batch as it is.
      await fill(ctx.app, key, '冀A10005', 'B1-A1-S1', P, [5000]);
      const again = await ok<{ batchId: number; outcome: string }[]>(
        call(ctx.app, s.b1, 'POST', '/api/ratings/compute', { period: P }),
      );
      expect(again).toEqual([expect.objectContaining({ batchId: b1Batch, outcome: 'locked' })]);
      expect((await detail(b1Batch)).distribution).toEqual([0, 2, 1, 2, 1]);

      await expectError(step(s.b1, b1Batch, 'approve-low'), 403, 'PERMISSION_DENIED');
      await expectError(step(s.hq, b1Batch, 'review-high'), 409, 'CONFLICT');
      const low = await ok<Batch>(step(s.hq, b1Batch, 'approve-low'));
      expect(low.status).toBe('low_approved');
      expect(low.lowApproved?.byName).toBe('用户r_hq');
    });

    it('lets HQ adjust only 3–4-star customers in the high review, with a note, all or nothing', async () => {
      const refused = await expectError(
        step(s.hq, b1Batch, 'review-high', {
          adjustments: [
            { customerId: c.c2, stars: 4, note: '长期合作' },
            { customerId: c.c3, stars: 3, note: '想提星' },
          ],
        }),
        400,
        'VALIDATION_FAILED',
      );
      expect(refused.field).toBe('body.adjustments.1.stars');
      expect((await detail(b1Batch)).status).toBe('low_approved');
      const notInBatch = await expectError(
        step(s.hq, b1Batch, 'review-high', { adjustments: [{ customerId: c.c8, stars: 4, note: 'x' }] }),
        400,
        'VALIDATION_FAILED',
      );
      expect(notInBatch.field).toBe('body.adjustments.0.customerId');
      await expectError(step(s.b1, b1Batch, 'review-high', {}), 403, 'PERMISSION_DENIED');

      const reviewed = await ok<Batch>(
        step(s.hq, b1Batch, 'review-high', {
          adjustments: [
            { customerId: c.c2, stars: 4, note: '长期合作' },
            { customerId: c.c1, stars: 2, note: '含合并前数据' },
          ],
        }),
      );
      expect(reviewed.status).toBe('high_reviewed');
      expect(reviewed.distribution).toEqual([0, 2, 2, 0, 2]);
      const d = await detail(b1Batch);
      expect(d.adjusted).toBe(2);
      expect(d.ratings.items.find((r) => r.customerId === c.c2)).toMatchObject({
        computedStars: 3,
        stars: 4,
        class: 'VIP',
        note: '长期合作',
      });
      expect(d.ratings.items.find((r) => r.customerId === c.c1)).toMatchObject({
        computedStars: 3,
        stars: 2,
        class: 'B',
      });
    });

    it('is made final by leadership only; then benefits apply and every customer is told once', async () => {
      await expectError(step(s.hq, b1Batch, 'finalize'), 403, 'PERMISSION_DENIED');
      await expectError(step(s.b1, b1Batch, 'finalize'), 403, 'PERMISSION_DENIED');
      const final = await ok<Batch>(step(admin, b1Batch, 'finalize'));
      expect(final.status).toBe('final');
      expect(final.nextAction).toBeNull();
      expect(final.finalized?.byName).toBe('系统管理员');
      const d = await detail(b1Batch);
      expect(d.ratings.items.every((r) => r.status === 'final')).toBe(true);
      // A first rated month earns nothing that needs two in a row.
      expect(d.ratings.items.every((r) => r.benefits.length === 0)).toBe(true);

      const messages = await ctx.db.kysely
        .selectFrom('outbox_message')
        .selectAll()
        .where('dedupe_key', 'like', `%${P}%`)
        .orderBy('id')
        .execute();
      const results = messages.filter((m) => m.template === 'rating_result');
      expect(results.map((m) => m.customer_id).sort()).toEqual(d.ratings.items.map((r) => r.customerId).sort());
      expect(results.every((m) => m.channel === 'sms' && m.dedupe_key === `rating:${P}:${m.customer_id}`)).toBe(true);
      expect(JSON.parse(results.find((m) => m.customer_id === c.c2)!.payload)).toEqual({
        period: P,
        stars: 4,
        class: 'VIP',
        benefits: [],
      });
      const coaching = messages.filter((m) => m.template === 'rating_coaching');
      expect(coaching.map((m) => m.customer_id).sort()).toEqual([c.c4, c.c5].sort());
      // c4 bought 250 L; 2 stars start at 1000 L.
      expect(JSON.parse(coaching.find((m) => m.customer_id === c.c4)!.payload)).toMatchObject({
        stars: 1,
        basis: 'volume',
        figure: 250,
        needed: 750,
      });

      await expectError(step(admin, b1Batch, 'finalize'), 409, 'CONFLICT');
      await expectError(step(admin, b1Batch, 'propose'), 409, 'CONFLICT');
      const after = await ctx.db.kysely
        .selectFrom('outbox_message')
        .select('id')
        .where('dedupe_key', 'like', `%${P}%`)
        .execute();
      expect(after).toHaveLength(messages.length);
    });

    it('keeps who and when of every step, and audits every write', async () => {
      const d = await detail(b1Batch);
      for (const k of ['proposed', 'lowApproved', 'highReviewed', 'finalized'] as const)
        expect(d[k]?.at, k).toMatch(/^\d{4}-\d\d-\d\dT/);
      const row = await ctx.db.kysely
        .selectFrom('rating_batch')
        .selectAll()
        .where('id', '=', b1Batch)
        .executeTakeFirstOrThrow();
      expect(
        [row.proposed_by, row.low_approved_by, row.high_reviewed_by, row.high_approved_by].every((x) => x !== null),
      ).toBe(true);
      const audit = await ctx.db.kysely
        .selectFrom('audit_log')
        .select(['action', 'actor_name'])
        .where('entity', '=', 'rating_batch')
        .where('entity_id', '=', String(b1Batch))
        .orderBy('id')
        .execute();
      expect(audit.map((a) => a.action)).toEqual([
        'compute',
        'compute',
        'propose',
        'approve_low',
        'review_high',
        'finalize',
      ]);
    });

    it('shows a customer his rating history, within scope', async () => {
      const h = await ok<{ period: string; stars: number; computedStars: number; status: string }[]>(
        call(ctx.app, s.b1, 'GET', `/api/customers/${c.c2}/ratings`),
      );
      expect(h).toEqual([expect.objectContaining({ period: P, stars: 4, computedStars: 3, status: 'final' })]);
      await expectError(call(ctx.app, s.b2, 'GET', `/api/customers/${c.c2}/ratings`), 403, 'SCOPE_DENIED');
    });
  });

  it('gives the stars and class of the default policy exactly at its thresholds and 1 ml below', async () => {
    // The default policy by hand: individuals 200 / 1,000 / 3,000 / 8,000 L, organisations 1,000 /
    // 5,000 / 15,000 / 40,000 L for 1–4 stars; classes VIP 4, A 3, B 2, C 0 stars.
    const P2 = '2026-07';
    const cases: [string, string, number, number, string][] = [
      ['individual', '冀F30001', 199.999, 0, 'C'],
      ['individual', '冀F30002', 200, 1, 'C'],
      ['individual', '冀F30003', 999.999, 1, 'C'],
      ['individual', '冀F30004', 1000, 2, 'B'],
      ['individual', '冀F30005', 2999.999, 2, 'B'],
      ['individual', '冀F30006', 3000, 3, 'A'],
      ['individual', '冀F30007', 7999.999, 3, 'A'],
      ['individual', '冀F30008', 8000, 4, 'VIP'],
      ['organisation', '冀F30009', 999.999, 0, 'C'],
      ['organisation', '冀F30010', 1000, 1, 'C'],
      ['organisation', '冀F30011', 39999.999, 3, 'A'],
      ['organisation', '冀F30012', 40000, 4, 'VIP'],
    ];
    const ids = new Map<number, [number, string]>();
    for (const [kind, plate, litres, stars, klass] of cases) {
      ids.set(await customer(ctx.app, admin, tree.station3, plate, kind), [stars, klass]);
      await fill(ctx.app, key, plate, 'B2-A1-S1', P2, [litres]);
    }
    const outcomes = await ok<{ batchId: number; orgUnitId: number; customers: number }[]>(
      call(ctx.app, admin, 'POST', '/api/ratings/compute', { period: P2 }),
    );
    const b2 = outcomes.find((o) => o.orgUnitId === tree.branch2)!;
    // Branch 2's customers: these twelve and c8, who bought nothing in July.
    expect(b2.customers).toBe(13);
    const d = await detail(b2.batchId);
    const got = new Map(d.ratings.items.map((r) => [r.customerId, [r.computedStars, r.class]]));
    for (const [id, want] of ids) expect(got.get(id), `customer ${id}`).toEqual(want);
    expect(got.get(c.c8)).toEqual([0, 'C']);
    expect(d.distribution).toEqual([3, 3, 2, 3, 2]);
  });
});
