// Dashboards, key customers and card suggestions over sales sent through the real ingest across two
// years. Every figure is checked against plain SQL over the raw fuel_transaction rows (and the
// customer, alert and rating tables), computed here independently of the service.
import { beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { send, type Txn } from '../transactions/helpers.js';

function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DIESEL = '0#柴油';
// The random sales fall in these months; the hand-built example has January 2026 to itself.
const MONTHS = ['2025-02', '2025-03', '2026-02', '2026-03'];
/** Month starts in Asia/Shanghai (no daylight saving: always UTC+8). */
const monthStart = (m: string) =>
  new Date(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)) - 1, 1) - 8 * 3_600_000).toISOString();
const nextMonth = (m: string) => {
  const i = Number(m.slice(0, 4)) * 12 + Number(m.slice(5, 7));
  return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
};
const lastYear = (m: string) => `${Number(m.slice(0, 4)) - 1}${m.slice(4)}`;
const g = (cur: number, base: number) => (base === 0 ? null : (cur - base) / base);
const sh = (part: number, whole: number) => (whole === 0 ? null : part / whole);

describeEngines('dashboards, key customers and card suggestions', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  let key: string;
  let b2Manager: Session;
  let attendant: Session;
  let ownerId: number;
  const hand: Record<string, number> = {};

  const rows = async <T = Record<string, unknown>>(text: string, ...params: unknown[]) => {
    const parts = text.split('?');
    const q = sql<T>(Object.assign([...parts], { raw: parts }) as unknown as TemplateStringsArray, ...params);
    return (await q.execute(ctx.db.kysely)).rows;
  };
  const subtree = async (unitId: number) =>
    (
      await rows<{ id: number }>(
        `select s.id from org_unit s, org_unit u where u.id = ? and s.path like u.path || '%'`,
        unitId,
      )
    ).map((r) => Number(r.id));
  const inList = (ids: number[]) => `(${ids.map(Number).join(',')})`;

  beforeAll(async () => {
    // The company's clock: sales up to April 2026 are in the past.
    ctx.now.value = new Date('2026-04-20T04:00:00Z');
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    key = (
      await ok<{ key: string }>(call(ctx.app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.hq }), 201)
    ).key;
    await createUser(ctx.app, admin, 'b2_manager', tree.branch2, ['branch_manager']);
    b2Manager = await login(ctx.app, 'b2_manager', USER_PASSWORD);
    await createUser(ctx.app, admin, 'jiayou', tree.branch1, ['attendant']);
    attendant = await login(ctx.app, 'jiayou', USER_PASSWORD);
    ownerId = await createUser(ctx.app, admin, 'kehu', tree.station3, ['sales_rep']);

    // ---- random company: customers at three stations, sales over two years -----------------
    const rnd = prng(20260201);
    const stations = [
      { id: tree.station1, code: 'B1-A1-S1' },
      { id: tree.station2, code: 'B1-A1-S2' },
      { id: tree.station3, code: 'B2-A1-S1' },
    ];
    const customers: { id: number; plate: string; card: string | null }[] = [];
    for (let i = 0; i < 18; i++) {
      const plate = `冀A${String(50000 + i)}`;
      const card = i % 3 === 0 ? `7000000${String(100 + i)}` : null;
      const home = stations[i % 3]!;
      const kind = i % 4 === 0 ? 'organisation' : 'individual';
      const c = await ok<{ id: number }>(
        call(ctx.app, admin, 'POST', '/api/customers', {
          kind,
          orgUnitId: home.id,
          name: `客户${i}`,
          vehicles: [{ plate }],
          cards: card ? [card] : [],
          confirmDuplicate: true,
        }),
        201,
      );
      customers.push({ id: c.id, plate, card });
      // Records were opened over two years, some in the months the dashboards look at.
      const created = new Date(
        Date.UTC(2025, Math.floor(rnd() * 15), 2 + Math.floor(rnd() * 26), Math.floor(rnd() * 24)),
      ).toISOString();
      await ctx.db.kysely.updateTable('customer').set({ created_at: created }).where('id', '=', c.id).execute();
    }
    const txns: Txn[] = [];
    let seq = 0;
    for (const month of MONTHS) {
      for (let i = 0; i < 90; i++) {
        const st = stations[Math.floor(rnd() * 3)]!;
        const product = ['92#', '95#', DIESEL][Math.floor(rnd() * 3)]!;
        const litres = 10 + Math.floor(rnd() * 150);
        const day = 2 + Math.floor(rnd() * 26);
        const t: Txn = {
          externalId: `r${++seq}`,
          occurredAt: new Date(
            Date.UTC(
              Number(month.slice(0, 4)),
              Number(month.slice(5, 7)) - 1,
              day,
              Math.floor(rnd() * 24),
              Math.floor(rnd() * 60),
            ),
          ).toISOString(),
          stationCode: st.code,
          product,
          volumeMl: litres * 1000 + Math.floor(rnd() * 1000),
          amountFen: litres * 750,
        };
        const r = rnd();
        const c = customers[Math.floor(rnd() * customers.length)]!;
        if (r < 0.6) t.plate = c.plate;
        else if (r < 0.75 && c.card) t.cardNo = c.card;
        else if (r < 0.85) t.plate = `冀B${String(10000 + i)}`;
        if (rnd() < 0.3) t.payment = ['cash', 'card', 'mobile'][Math.floor(rnd() * 3)]!;
        txns.push(t);
      }
    }
    const res = await ok<{ inserted: number; rejected: number }>(
      send(ctx.app, key, { source: 'pos', transactions: txns }),
    );
    expect(res).toMatchObject({ inserted: txns.length, rejected: 0 });

    // Alerts and star ratings are other features' tables; a few rows stand in for their work.
    const alert = (customerId: number, unit: number, episode: string, opened: string, closed: string | null) =>
      ctx.db.kysely
        .insertInto('alert')
        .values({
          customer_id: customerId,
          org_unit_id: unit,
          kind: 'overdue',
          episode,
          status: closed ? 'closed' : 'open',
          opened_at: opened,
          closed_at: closed,
        })
        .execute();
    await alert(customers[0]!.id, tree.station1, 'e1', '2026-02-03T02:00:00.000Z', '2026-02-10T02:00:00.000Z');
    await alert(customers[1]!.id, tree.station2, 'e2', '2026-02-20T02:00:00.000Z', null);
    await alert(customers[3]!.id, tree.station1, 'e3', '2026-01-20T02:00:00.000Z', '2026-02-01T01:00:00.000Z');
    await alert(customers[2]!.id, tree.station3, 'e4', '2026-02-05T02:00:00.000Z', '2026-03-02T01:00:00.000Z');
    // 1 March, 01:00 in Shanghai: a March alert, though still February in UTC.
    await alert(customers[5]!.id, tree.station3, 'e5', '2026-02-28T17:00:00.000Z', null);
    const batch = async (unit: number) =>
      (
        await ctx.db.kysely
          .insertInto('rating_batch')
          .values({ period: '2026-02', org_unit_id: unit, status: 'final', computed_at: '2026-03-02T00:00:00.000Z' })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    const b1 = await batch(tree.branch1);
    const b2 = await batch(tree.branch2);
    for (const [i, c] of customers.entries()) {
      const stars = i % 5;
      await ctx.db.kysely
        .insertInto('customer_rating')
        .values({
          batch_id: i % 3 === 2 ? b2 : b1,
          customer_id: c.id,
          period: '2026-02',
          computed_stars: stars,
          stars,
          status: 'final',
          updated_at: '2026-03-02T00:00:00.000Z',
        })
        .execute();
    }

    // ---- hand-built example: station 3 in January 2026 ------------------------------------
    // 100 sales, 10,000 L: seven diesel sales of at least 800 yuan carry 4,100 L (7% / 41%).
    const mk = async (name: string, plate: string, extra: Record<string, unknown>) =>
      (
        await ok<{ id: number }>(
          call(ctx.app, admin, 'POST', '/api/customers', {
            kind: 'individual',
            orgUnitId: tree.station3,
            name,
            vehicles: [{ plate, model: '解放J6' }],
            confirmDuplicate: true,
            // Created for nobody unless the case names an owner (the creator would own him otherwise).
            ownerUserId: null,
            ...extra,
          }),
          201,
        )
      ).id;
    const full = { phones: [{ phone: '13800138000' }], products: DIESEL, routes: '保定—石家庄' };
    hand.A = await mk('甲', '冀F10001', { ...full, ownerUserId: ownerId, cards: ['8000000001'] });
    hand.B = await mk('乙', '冀F10002', { ...full, phones: [{ phone: '13800138001' }] });
    hand.C = await mk('丙', '冀F10003', { ownerUserId: ownerId, products: DIESEL, routes: '保定—天津' });
    const small = ['D', 'E', 'F', 'G', 'H', 'I', 'J'];
    for (const [i, s] of small.entries()) hand[s] = await mk(`小${s}`, `冀F2000${i}`, { ownerUserId: ownerId });
    const plateOf = (k: string) =>
      k === 'A' ? '冀F10001' : k === 'B' ? '冀F10002' : k === 'C' ? '冀F10003' : `冀F2000${small.indexOf(k)}`;
    const jan: Txn[] = [];
    const sale = (who: string | null, product: string, litres: number, amountFen: number) =>
      jan.push({
        externalId: `h${jan.length + 1}`,
        occurredAt: `2026-01-${String(2 + (jan.length % 27)).padStart(2, '0')}T03:00:00Z`,
        stationCode: 'B2-A1-S1',
        product,
        volumeMl: litres * 1000,
        amountFen,
        ...(who && { plate: plateOf(who) }),
      });
    for (const who of ['A', 'A', 'A', 'B', 'B', 'C']) sale(who, DIESEL, 600, 450_000);
    sale('C', DIESEL, 500, 375_000);
    const smallCounts: Record<string, number> = { D: 5, E: 4, F: 3, G: 2, H: 2, I: 1, J: 1 };
    for (const [who, count] of Object.entries(smallCounts))
      for (let i = 0; i < count; i++) sale(who, DIESEL, 63, 47_250);
    sale(null, '92#', 104, 90_000); // at least 800 yuan, but not a key product
    sale(null, DIESEL, 63, 79_999); // one fen short of large
    while (jan.length < 100) sale(null, DIESEL, 63, 47_250);
    await ok(send(ctx.app, key, { source: 'ic-card', transactions: jan }));
  }, 120_000);

  /** Every headline figure of a unit for a month, straight from the rows. */
  async function expected(unitId: number, month: string) {
    const ids = await subtree(unitId);
    const ly = lastYear(month);
    const salesOf = async (m: string) => {
      const [r] = await rows(
        `select coalesce(sum(volume_ml), 0) as v, coalesce(sum(amount_fen), 0) as a, count(*) as n,
           coalesce(sum(case when payment = 'card' or (payment is null and card_no is not null) then amount_fen else 0 end), 0) as card
         from fuel_transaction where org_unit_id in ${inList(ids)} and substr(business_day, 1, 7) = ?`,
        m,
      );
      return {
        volumeMl: Number(r!.v),
        amountFen: Number(r!.a),
        txnCount: Number(r!.n),
        cardAmountFen: Number(r!.card),
      };
    };
    const cur = await salesOf(month);
    const prev = await salesOf(ly);
    const products = await rows(
      `select product, sum(case when substr(business_day, 1, 7) = ? then volume_ml else 0 end) as v, sum(case when substr(business_day, 1, 7) = ? then volume_ml else 0 end) as lv
       from fuel_transaction where org_unit_id in ${inList(ids)} and substr(business_day, 1, 7) in (?, ?) group by product`,
      month,
      ly,
      month,
      ly,
    );
    const count = async (before: string, from?: string) => {
      const [r] = await rows(
        `select count(*) as n from customer where merged_into_id is null and org_unit_id in ${inList(ids)} and created_at < ? ${from ? 'and created_at >= ?' : ''}`,
        before,
        ...(from ? [from] : []),
      );
      return Number(r!.n);
    };
    const total = await count(monthStart(nextMonth(month)));
    const totalLy = await count(monthStart(nextMonth(ly)));
    const newCount = await count(monthStart(nextMonth(month)), monthStart(month));
    const perCustomer = await rows(
      `select customer_id, sum(volume_ml) as v from fuel_transaction where customer_id is not null and org_unit_id in ${inList(ids)} and substr(business_day, 1, 7) = ? group by customer_id`,
      month,
    );
    const volumes = perCustomer.map((r) => Number(r.v)).sort((a, b) => b - a);
    const top = Math.ceil(volumes.length * 0.2);
    const topVolume = volumes.slice(0, top).reduce((a, b) => a + b, 0);
    return {
      cur,
      prev,
      products: new Map(products.map((r) => [r.product as string, { v: Number(r.v), lv: Number(r.lv) }])),
      total,
      totalLy,
      newCount,
      customers: volumes.length,
      top,
      topVolume,
      customerVolume: volumes.reduce((a, b) => a + b, 0),
      ids,
    };
  }

  it('gives every dashboard figure of every unit as the raw rows say', async () => {
    let nonEmpty = 0;
    for (const unitId of [tree.hq, tree.branch1, tree.area1, tree.station1, tree.station3]) {
      for (const month of ['2026-02', '2026-03']) {
        const d = await ok(call(ctx.app, admin, 'GET', `/api/dashboards/unit/${unitId}?month=${month}`));
        const e = await expected(unitId, month);
        const label = `unit ${unitId} ${month}`;
        expect(d.month, label).toBe(month);
        expect(d.lastYearMonth).toBe(lastYear(month));
        expect(d.sales, label).toEqual({
          volumeMl: e.cur.volumeMl,
          amountFen: e.cur.amountFen,
          txnCount: e.cur.txnCount,
          cardAmountFen: e.cur.cardAmountFen,
          cardShare: sh(e.cur.cardAmountFen, e.cur.amountFen),
          lastYearVolumeMl: e.prev.volumeMl,
          lastYearAmountFen: e.prev.amountFen,
          volumeGrowth: g(e.cur.volumeMl, e.prev.volumeMl),
          amountGrowth: g(e.cur.amountFen, e.prev.amountFen),
        });
        if (e.cur.volumeMl > 0 && e.prev.volumeMl > 0) nonEmpty++;
        expect(d.products.length, label).toBe(e.products.size);
        for (const p of d.products) {
          const x = e.products.get(p.product)!;
          expect(p, `${label} ${p.product}`).toMatchObject({
            volumeMl: x.v,
            lastYearVolumeMl: x.lv,
            growth: g(x.v, x.lv),
          });
        }
        expect(d.customers, label).toMatchObject({
          total: e.total,
          lastYearTotal: e.totalLy,
          growth: g(e.total, e.totalLy),
          new: e.newCount,
        });
        expect(d.customers.byKind.reduce((a: number, k: { count: number }) => a + k.count, 0)).toBe(e.total);
        expect(d.keyCustomers, label).toMatchObject({
          customers: e.customers,
          topCustomers: e.top,
          topVolumeMl: e.topVolume,
          customerVolumeMl: e.customerVolume,
          shareOfSales: sh(e.topVolume, e.cur.volumeMl),
        });
      }
    }
    // The data did cover both years at every level checked.
    expect(nonEmpty).toBeGreaterThanOrEqual(8);
  });

  it('splits customers by kind and counts the active ones', async () => {
    const d = await ok(call(ctx.app, admin, 'GET', `/api/dashboards/unit/${tree.branch1}?month=2026-02`));
    const ids = await subtree(tree.branch1);
    const kinds = await rows(
      `select kind, count(*) as n from customer where merged_into_id is null and org_unit_id in ${inList(ids)} and created_at < ? group by kind`,
      monthStart('2026-03'),
    );
    expect(
      Object.fromEntries(d.customers.byKind.map((k: { kind: string; count: number }) => [k.kind, k.count])),
    ).toEqual(Object.fromEntries(kinds.map((k) => [k.kind, Number(k.n)])));
    expect(d.customers.byKind.some((k: { kind: string }) => k.kind === 'organisation')).toBe(true);
    const [active] = await rows(
      `select count(distinct t.customer_id) as n from fuel_transaction t join customer c on c.id = t.customer_id where c.org_unit_id in ${inList(ids)} and substr(t.business_day, 1, 7) = '2026-02'`,
    );
    expect(d.customers.active).toBe(Number(active!.n));
  });

  it('gives the children of a unit the same headline figures, for drill-down', async () => {
    const d = await ok(call(ctx.app, admin, 'GET', `/api/dashboards/unit/${tree.hq}?month=2026-02`));
    expect(d.children.map((c: { id: number }) => c.id).sort()).toEqual([tree.branch1, tree.branch2].sort());
    for (const child of d.children) {
      const e = await expected(child.id, '2026-02');
      expect(child, `child ${child.id}`).toMatchObject({
        customers: e.total,
        newCustomers: e.newCount,
        customersGrowth: g(e.total, e.totalLy),
        volumeMl: e.cur.volumeMl,
        lastYearVolumeMl: e.prev.volumeMl,
        volumeGrowth: g(e.cur.volumeMl, e.prev.volumeMl),
        amountFen: e.cur.amountFen,
        cardShare: sh(e.cur.cardAmountFen, e.cur.amountFen),
        keyCustomerShare: sh(e.topVolume, e.cur.volumeMl),
      });
    }
    // The children add up to the parent (every station sits under one branch).
    expect(d.children.reduce((a: number, c: { volumeMl: number }) => a + c.volumeMl, 0)).toBe(d.sales.volumeMl);
    const area = await ok(call(ctx.app, admin, 'GET', `/api/dashboards/unit/${tree.area1}?month=2026-02`));
    expect(area.children.map((c: { id: number }) => c.id).sort()).toEqual([tree.station1, tree.station2].sort());
    const station = await ok(call(ctx.app, admin, 'GET', `/api/dashboards/unit/${tree.station1}?month=2026-02`));
    expect(station.children).toEqual([]);
  });

  it('counts alerts opened and closed in the month, and the stars given for it', async () => {
    const hq = await ok(call(ctx.app, admin, 'GET', `/api/dashboards/unit/${tree.hq}?month=2026-02`));
    // e1 opened and closed in February; e2 opened; e3 closed (opened in January); e4 opened (closed in March).
    expect(hq.alerts).toEqual({ opened: 3, closed: 2 });
    const b1 = await ok(call(ctx.app, admin, 'GET', `/api/dashboards/unit/${tree.branch1}?month=2026-02`));
    expect(b1.alerts).toEqual({ opened: 2, closed: 2 });
    const ids = await subtree(tree.branch1);
    const stars = await rows(
      `select r.stars, count(*) as n from customer_rating r join customer c on c.id = r.customer_id where r.period = '2026-02' and c.org_unit_id in ${inList(ids)} group by r.stars`,
    );
    const want = [0, 1, 2, 3, 4].map((s) => ({
      stars: s,
      count: Number(stars.find((r) => Number(r.stars) === s)?.n ?? 0),
    }));
    expect(b1.stars).toEqual(want);
    expect(want.reduce((a, s) => a + s.count, 0)).toBeGreaterThan(0);
    const empty = await ok(call(ctx.app, admin, 'GET', `/api/dashboards/unit/${tree.hq}?month=2026-03`));
    expect(empty.stars.every((s: { count: number }) => s.count === 0)).toBe(true);
    // e5 opened on 1 March (Shanghai time); e4 was closed on 2 March.
    expect(empty.alerts).toEqual({ opened: 1, closed: 1 });
  });

  it('gives the key-customer shares of the hand-built example', async () => {
    const k = await ok(call(ctx.app, admin, 'GET', `/api/key-customers?orgUnitId=${tree.station3}&month=2026-01`));
    expect(k.policy).toEqual({ products: ['0#柴油', '-10#柴油'], minTransactionYuan: 800, topShare: 0.2 });
    expect(k.large).toMatchObject({ txnCount: 7, volumeMl: 4_100_000, allTxnCount: 100, allVolumeMl: 10_000_000 });
    expect(k.large.txnShare).toBeCloseTo(0.07, 10);
    expect(k.large.volumeShare).toBeCloseTo(0.41, 10);
    // Ten customers: the top two (A 1,800 L, B 1,200 L) of 5,234 L bought by customers, of 10,000 L sold.
    expect(k.top).toMatchObject({
      customers: 10,
      topCustomers: 2,
      topVolumeMl: 3_000_000,
      customerVolumeMl: 5_234_000,
      unitVolumeMl: 10_000_000,
    });
    expect(k.top.shareOfSales).toBeCloseTo(0.3, 10);
    expect(k.top.shareOfCustomers).toBeCloseTo(3000 / 5234, 10);
    expect(k.days.reduce((a: number, d: { volumeMl: number }) => a + d.volumeMl, 0)).toBe(10_000_000);
    expect(k.days.reduce((a: number, d: { largeVolumeMl: number }) => a + d.largeVolumeMl, 0)).toBe(4_100_000);
    // A has an owner and a full archive; B has nobody looking after him.
    expect(k.unattended.map((u: { customerId: number }) => u.customerId)).toEqual([hand.B]);
    expect(k.unattended[0]).toMatchObject({ noOwner: true, profileStep: 3, volumeMl: 1_200_000 });
    // The dashboard gives the same share.
    const d = await ok(call(ctx.app, admin, 'GET', `/api/dashboards/unit/${tree.station3}?month=2026-01`));
    expect(d.keyCustomers.shareOfSales).toBeCloseTo(0.3, 10);
  });

  it('follows the key-customer policy HQ sets', async () => {
    await ok(
      call(ctx.app, admin, 'PUT', '/api/policies/key_customer', {
        body: { products: ['0#柴油'], minTransactionYuan: 470, topShare: 0.3 },
      }),
    );
    try {
      const k = await ok(call(ctx.app, admin, 'GET', `/api/key-customers?orgUnitId=${tree.station3}&month=2026-01`));
      // At 470 yuan every diesel sale is large: the 472.50 ones and the one of 799.99 too.
      const [r] = await rows(
        `select count(*) as n, sum(volume_ml) as v from fuel_transaction where org_unit_id = ? and substr(business_day, 1, 7) = '2026-01' and product = '0#柴油' and amount_fen >= 47000`,
        tree.station3,
      );
      expect(k.large).toMatchObject({ txnCount: Number(r!.n), volumeMl: Number(r!.v) });
      expect(k.large.txnCount).toBe(99);
      // Three of ten: C (1,100 L) joins; he has an owner but no phone (step 2).
      expect(k.top).toMatchObject({ topCustomers: 3, topVolumeMl: 4_100_000 });
      expect(k.unattended.map((u: { customerId: number }) => u.customerId)).toEqual([hand.B, hand.C]);
      expect(k.unattended[1]).toMatchObject({ noOwner: false, profileStep: 2, nextQuestion: 'ask_phone' });
    } finally {
      await ok(
        call(ctx.app, admin, 'PUT', '/api/policies/key_customer', {
          body: { products: ['0#柴油', '-10#柴油'], minTransactionYuan: 800, topShare: 0.2 },
        }),
      );
    }
  });

  it('suggests a card to customers without one who spent enough, with the saving', async () => {
    const s = await ok(call(ctx.app, admin, 'GET', `/api/card-suggestions?orgUnitId=${tree.station3}&month=2026-01`));
    expect(s.policy).toEqual({ discountRate: 0.02, minMonthlyYuan: 3000 });
    // A holds a card; B (9,000 yuan) and C (8,250 yuan) do not; D spent 2,362.50 yuan, under the floor.
    expect(s.items.map((i: { customerId: number }) => i.customerId)).toEqual([hand.B, hand.C]);
    expect(s.total).toBe(2);
    const spent = await rows(
      `select customer_id, sum(amount_fen) as a from fuel_transaction where customer_id in (?, ?) and substr(business_day, 1, 7) = '2026-01' group by customer_id`,
      hand.B,
      hand.C,
    );
    for (const item of s.items) {
      const a = Number(spent.find((r) => Number(r.customer_id) === item.customerId)!.a);
      expect(item.amountFen).toBe(a);
      expect(item.savingFen).toBe(Math.round(a * 0.02));
    }
    expect(s.items[0]).toMatchObject({ amountFen: 900_000, savingFen: 18_000 });

    // Over the random company: every card-less customer at or over the floor, biggest first, paged.
    const all = await ok(
      call(ctx.app, admin, 'GET', `/api/card-suggestions?orgUnitId=${tree.hq}&month=2026-02&pageSize=200`),
    );
    const want = await rows(
      `select c.id, sum(t.amount_fen) as a from fuel_transaction t join customer c on c.id = t.customer_id
       where substr(t.business_day, 1, 7) = '2026-02' and not exists (select 1 from fuel_card f where f.customer_id = c.id)
       group by c.id having sum(t.amount_fen) >= 300000 order by sum(t.amount_fen) desc, c.id`,
    );
    expect(want.length).toBeGreaterThan(0);
    expect(all.items.map((i: { customerId: number; amountFen: number }) => [i.customerId, i.amountFen])).toEqual(
      want.map((r) => [Number(r.id), Number(r.a)]),
    );
    const page2 = await ok(
      call(ctx.app, admin, 'GET', `/api/card-suggestions?orgUnitId=${tree.hq}&month=2026-02&pageSize=1&page=2`),
    );
    expect(page2.total).toBe(want.length);
    expect(page2.items.map((i: { customerId: number }) => i.customerId)).toEqual(
      want.length > 1 ? [Number(want[1]!.id)] : [],
    );
  });

  it('defaults to the current month (card suggestions: the month before)', async () => {
    const d = await ok(call(ctx.app, admin, 'GET', `/api/dashboards/unit/${tree.hq}`));
    expect(d.month).toBe('2026-04');
    const s = await ok(call(ctx.app, admin, 'GET', `/api/card-suggestions?orgUnitId=${tree.hq}`));
    expect(s.month).toBe('2026-03');
  });

  it('keeps each unit to the users who may see it', async () => {
    // A branch-2 manager sees branch 2, not branch 1 nor HQ.
    await ok(call(ctx.app, b2Manager, 'GET', `/api/dashboards/unit/${tree.branch2}?month=2026-02`));
    for (const url of [
      `/api/dashboards/unit/${tree.branch1}?month=2026-02`,
      `/api/dashboards/unit/${tree.hq}`,
      `/api/key-customers?orgUnitId=${tree.branch1}`,
      `/api/card-suggestions?orgUnitId=${tree.station1}`,
    ]) {
      const res = await call(ctx.app, b2Manager, 'GET', url);
      expect(res.statusCode, url).toBe(403);
      expect(res.json().error.code, url).toBe('SCOPE_DENIED');
    }
    // Attendants have no dashboard at all, even of their own unit.
    for (const url of [
      `/api/dashboards/unit/${tree.branch1}`,
      `/api/key-customers?orgUnitId=${tree.branch1}`,
      `/api/card-suggestions?orgUnitId=${tree.branch1}`,
    ]) {
      const res = await call(ctx.app, attendant, 'GET', url);
      expect(res.statusCode, url).toBe(403);
      expect(res.json().error.code, url).toBe('PERMISSION_DENIED');
    }
    const missing = await call(ctx.app, admin, 'GET', `/api/key-customers?orgUnitId=999999`);
    expect(missing.statusCode).toBe(404);
    const badMonth = await call(ctx.app, admin, 'GET', `/api/dashboards/unit/${tree.hq}?month=2026-13`);
    expect(badMonth.statusCode).toBe(400);
  });

  it('names only customers the user may read, while the shares count everybody', async () => {
    // A branch-1 customer becomes station 3's biggest buyer in April 2026.
    const outsider = (
      await ok<{ id: number }>(
        call(ctx.app, admin, 'POST', '/api/customers', {
          kind: 'individual',
          orgUnitId: tree.station1,
          name: '外来',
          vehicles: [{ plate: '冀A99999' }],
          confirmDuplicate: true,
        }),
        201,
      )
    ).id;
    await ok(
      send(ctx.app, key, {
        source: 'ic-card',
        transactions: [
          {
            externalId: 'o1',
            occurredAt: '2026-04-10T03:00:00Z',
            stationCode: 'B2-A1-S1',
            product: DIESEL,
            volumeMl: 900_000,
            amountFen: 675_000,
            plate: '冀A99999',
          },
          {
            externalId: 'o2',
            occurredAt: '2026-04-11T03:00:00Z',
            stationCode: 'B2-A1-S1',
            product: DIESEL,
            volumeMl: 100_000,
            amountFen: 75_000,
            plate: '冀F10002',
          },
        ],
      }),
    );
    const asAdmin = await ok(
      call(ctx.app, admin, 'GET', `/api/key-customers?orgUnitId=${tree.station3}&month=2026-04`),
    );
    expect(asAdmin.unattended.map((u: { customerId: number }) => u.customerId)).toEqual([outsider]);
    const asB2 = await ok(
      call(ctx.app, b2Manager, 'GET', `/api/key-customers?orgUnitId=${tree.station3}&month=2026-04`),
    );
    expect(asB2.top).toEqual(asAdmin.top);
    expect(asB2.unattended).toEqual([]);
  });
});
