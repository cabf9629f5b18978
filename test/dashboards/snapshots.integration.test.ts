// Dashboard snapshots (DASHBOARD_SNAPSHOT_MINUTES): an answer is computed once and kept; it is served
// as it is while young, served while a new one is computed once older, computed at once past a day or
// under a new policy version, and named customers from outside the unit's subtree are still filtered
// per user. The figures themselves are checked against the raw rows in dashboards.integration.test.
import { beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { send, type Txn } from '../transactions/helpers.js';
import { runJob } from '../../src/server/jobs/job-runner.js';
import { dashboardSnapshotsJob } from '../../src/server/modules/dashboards/dashboards.job.js';

const DIESEL = '0#柴油';
const T0 = new Date('2026-04-20T04:00:00.000Z');
const minutes = (m: number) => new Date(T0.getTime() + m * 60_000);

describeEngines('dashboard snapshots', (engine) => {
  const ctx = useTestApp(engine, {
    dashboardSnapshotMinutes: 15,
    sessionIdleMinutes: 10 * 24 * 60,
    sessionAbsoluteHours: 10 * 24,
  });
  let admin: Session;
  let b2Manager: Session;
  let tree: Tree;
  let key: string;
  let seq = 0;
  let outsider: number;

  const sale = (
    stationCode: string,
    plate: string | null,
    litres: number,
    day = '2026-04-10',
    extra: Partial<Txn> = {},
  ): Txn => ({
    externalId: `s${++seq}`,
    occurredAt: `${day}T03:00:00Z`,
    stationCode,
    product: DIESEL,
    volumeMl: litres * 1000,
    amountFen: litres * 750,
    ...(plate && { plate }),
    ...extra,
  });
  const ingest = async (...txns: Txn[]) => {
    const r = await ok<{ inserted: number }>(send(ctx.app, key, { source: 'pos', transactions: txns }));
    expect(r.inserted).toBe(txns.length);
  };
  const get = <T = any>(s: Session, url: string) => ok<T>(call(ctx.app, s, 'GET', url));

  beforeAll(async () => {
    ctx.now.value = T0;
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    key = (
      await ok<{ key: string }>(call(ctx.app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.hq }), 201)
    ).key;
    await createUser(ctx.app, admin, 'b2_manager', tree.branch2, ['branch_manager']);
    b2Manager = await login(ctx.app, 'b2_manager', USER_PASSWORD);
    const customer = async (orgUnitId: number, name: string, plate: string) =>
      (
        await ok<{ id: number }>(
          call(ctx.app, admin, 'POST', '/api/customers', {
            kind: 'individual',
            orgUnitId,
            name,
            vehicles: [{ plate }],
            confirmDuplicate: true,
          }),
          201,
        )
      ).id;
    await customer(tree.station3, '本站大户', '冀F30001');
    await customer(tree.station3, '本站小户', '冀F30002');
    // On file in branch 1, the biggest buyer at branch 2's station.
    outsider = await customer(tree.station1, '外来大户', '冀A30003');
    await customer(tree.station1, '一分公司', '冀A30004');
    await ingest(
      sale('B2-A1-S1', '冀F30001', 500),
      sale('B2-A1-S1', '冀F30002', 20),
      sale('B2-A1-S1', '冀A30003', 900),
      sale('B1-A1-S1', '冀A30004', 600),
      sale('B1-A1-S1', null, 50),
      sale('B2-A1-S1', '冀F30001', 400, '2026-03-10'),
    );
  }, 120_000);

  it('serves a snapshot while it is younger than the configured age, and computes when asked to', async () => {
    ctx.now.value = T0;
    const first = await get(admin, `/api/dashboards/unit/${tree.hq}?month=2026-04`);
    expect(first.asOf).toBe(T0.toISOString());
    expect(first.sales.volumeMl).toBe(2_070_000);
    const [{ n }] = (await ctx.db.kysely
      .selectFrom('dashboard_snapshot')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('org_unit_id', '=', tree.hq)
      .execute()) as [{ n: number }];
    expect(Number(n)).toBe(1);

    await ingest(sale('B1-A1-S1', null, 30));
    ctx.now.value = minutes(10);
    // Ten minutes on: the same figures, and the reply says when they were computed.
    expect(await get(admin, `/api/dashboards/unit/${tree.hq}?month=2026-04`)).toEqual(first);
    // A branch's dashboard had no snapshot: computed now, with the new sale.
    const branch = await get(admin, `/api/dashboards/unit/${tree.branch1}?month=2026-04`);
    expect(branch).toMatchObject({ asOf: minutes(10).toISOString(), sales: { volumeMl: 680_000 } });

    const fresh = await get(admin, `/api/dashboards/unit/${tree.hq}?month=2026-04&refresh=true`);
    expect(fresh.asOf).toBe(minutes(10).toISOString());
    expect(fresh.sales.volumeMl).toBe(2_100_000);
    // An anonymous sale: only the sales figures (and what is a share of them) move.
    for (const part of ['customers', 'topUps', 'alerts', 'stars']) expect(fresh[part], part).toEqual(first[part]);
    expect(fresh.keyCustomers).toEqual({ ...first.keyCustomers, shareOfSales: 900_000 / 2_100_000 });
    expect(fresh.sales.txnCount).toBe(first.sales.txnCount + 1);
  });

  it('serves an older snapshot while computing a new one, and computes at once past a day', async () => {
    await ingest(sale('B1-A1-S1', null, 40));
    ctx.now.value = minutes(30);
    const stale = await get(admin, `/api/dashboards/unit/${tree.hq}?month=2026-04`);
    expect(stale).toMatchObject({ asOf: minutes(10).toISOString(), sales: { volumeMl: 2_100_000 } });
    // The new one lands in the background.
    let next = stale;
    for (let i = 0; i < 100 && next.asOf === stale.asOf; i++) {
      await new Promise((r) => setTimeout(r, 50));
      next = await get(admin, `/api/dashboards/unit/${tree.hq}?month=2026-04`);
    }
    expect(next).toMatchObject({ asOf: minutes(30).toISOString(), sales: { volumeMl: 2_140_000 } });

    await ingest(sale('B1-A1-S1', null, 10));
    ctx.now.value = minutes(30 + 25 * 60);
    const late = await get(admin, `/api/dashboards/unit/${tree.hq}?month=2026-04`);
    expect(late).toMatchObject({ asOf: minutes(30 + 25 * 60).toISOString(), sales: { volumeMl: 2_150_000 } });
  });

  it('computes again when HQ changes the policy the figures rest on', async () => {
    ctx.now.value = minutes(2000);
    const before = await get(admin, `/api/key-customers?orgUnitId=${tree.station3}&month=2026-04`);
    expect(before.policy.topShare).toBe(0.2);
    ctx.now.value = minutes(2001);
    await ok(
      call(ctx.app, admin, 'PUT', '/api/policies/key_customer', {
        body: { products: [DIESEL], minTransactionYuan: 800, topShare: 0.5 },
      }),
    );
    const after = await get(admin, `/api/key-customers?orgUnitId=${tree.station3}&month=2026-04`);
    expect(after.asOf).toBe(minutes(2001).toISOString());
    expect(after.policy.topShare).toBe(0.5);
    expect(after.top.topCustomers).toBe(2);
    const overview = await get(admin, `/api/dashboards/unit/${tree.station3}?month=2026-04`);
    expect(overview.keyCustomers.topShare).toBe(0.5);
  });

  it('names key customers from outside the unit only to users who may read them, from the same snapshot', async () => {
    ctx.now.value = minutes(3000);
    const asAdmin = await get(admin, `/api/key-customers?orgUnitId=${tree.station3}&month=2026-04&refresh=true`);
    const asB2 = await get(b2Manager, `/api/key-customers?orgUnitId=${tree.station3}&month=2026-04`);
    expect(asB2.asOf).toBe(asAdmin.asOf);
    expect(asB2.top).toEqual(asAdmin.top);
    // Top half of three buyers: the outsider (900 L) and the station's own (500 L); neither has an owner.
    expect(asAdmin.unattended.map((u: { customerId: number }) => u.customerId)[0]).toBe(outsider);
    expect(asAdmin.unattendedTotal).toBe(2);
    expect(asB2.unattended.map((u: { customerId: number }) => u.customerId)).not.toContain(outsider);
    expect(asB2.unattendedTotal).toBe(1);
    expect(asB2.unattended).toEqual(asAdmin.unattended.slice(1));
  });

  it('pages card suggestions from one snapshot', async () => {
    ctx.now.value = minutes(4000);
    await ok(call(ctx.app, admin, 'PUT', '/api/policies/card', { body: { discountRate: 0.02, minMonthlyYuan: 200 } }));
    const all = await get(admin, `/api/card-suggestions?orgUnitId=${tree.hq}&month=2026-04&pageSize=50`);
    expect(all.items.map((i: { amountFen: number }) => i.amountFen)).toEqual([675_000, 450_000, 375_000]);
    expect(all.total).toBe(3);
    const page2 = await get(admin, `/api/card-suggestions?orgUnitId=${tree.hq}&month=2026-04&pageSize=1&page=2`);
    expect(page2).toMatchObject({ total: 3, asOf: all.asOf, items: [all.items[1]] });
  });

  it('computes every unit’s snapshots in the morning job, and dashboards then serve them', async () => {
    const morning = new Date('2026-04-23T20:30:00.000Z');
    ctx.now.value = morning;
    const out = await runJob(ctx.db.kysely, dashboardSnapshotsJob, '2026-04-24', { now: morning });
    expect(out.status).toBe('done');
    const units = await ctx.db.kysely.selectFrom('org_unit').select('id').execute();
    expect(out.status === 'done' && out.detail).toEqual({ units: units.length, snapshots: units.length * 3 });
    const at = await ctx.db.kysely
      .selectFrom('dashboard_snapshot')
      .select(['kind', 'org_unit_id', 'month', 'computed_at'])
      .where('computed_at', '=', morning.toISOString())
      .execute();
    expect(at).toHaveLength(units.length * 3);
    // This month's overview and key customers, last month's card suggestions.
    expect(new Set(at.map((r) => `${r.kind} ${r.month}`))).toEqual(
      new Set(['overview 2026-04', 'key_customers 2026-04', 'card_suggestions 2026-03']),
    );
    ctx.now.value = new Date(morning.getTime() + 60_000);
    const d = await get(admin, `/api/dashboards/unit/${tree.area1}`);
    expect(d.asOf).toBe(morning.toISOString());
  });
});
