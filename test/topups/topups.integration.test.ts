// Fuel-card top-ups through POST /api/ingest/topups: idempotent re-sending, bad rows reported while
// the rest land, keys bound to their branch, the daily rollup against a plain SQL sum of the rows,
// and the dashboard's top-up figure against the same sum.
import { beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import iconv from 'iconv-lite';
import { describeEngines } from '../helpers/engines.js';
import { call, ok, setupAdmin, useTestApp, type Session, type TestApp } from '../helpers/app.js';
import { buildTree, type Tree } from '../helpers/fixtures.js';

interface Topup {
  externalId: string;
  occurredAt: string;
  stationCode?: string;
  cardNo?: string;
  amountFen?: number;
  bonusFen?: number;
  payment?: string;
  [extra: string]: unknown;
}

function send(app: TestApp, key: string | null, body: unknown, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/api/ingest/topups',
    headers: { ...(key && { authorization: `Bearer ${key}` }), ...headers },
    payload: body as Record<string, unknown>,
  });
}

const num = (v: unknown) => Number(v ?? 0);

describeEngines('card top-ups', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  let keyB1: string; // branch 1: stations 1 and 2
  let keyHq: string;
  let zhao: number; // card 9000000001

  const topup = (externalId: string, extra: Partial<Topup> = {}): Topup => ({
    externalId,
    occurredAt: '2026-10-15T09:00:00+08:00',
    stationCode: 'B1-A1-S1',
    cardNo: '9000000001',
    amountFen: 100_000,
    ...extra,
  });
  const count = async () =>
    Number(
      (
        await ctx.db.kysely
          .selectFrom('card_topup')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const rollup = async () =>
    (
      await ctx.db.kysely.selectFrom('station_day_topup').selectAll().orderBy('org_unit_id').orderBy('day').execute()
    ).map((r) => ({
      org_unit_id: num(r.org_unit_id),
      day: r.day,
      amount_fen: num(r.amount_fen),
      bonus_fen: num(r.bonus_fen),
      topup_count: num(r.topup_count),
    }));
  const rollupFromRows = async () =>
    (
      await sql<
        Record<string, unknown>
      >`select org_unit_id, business_day as day, sum(amount_fen) as amount_fen, sum(bonus_fen) as bonus_fen, count(*) as topup_count
        from card_topup group by org_unit_id, business_day order by org_unit_id, business_day`.execute(ctx.db.kysely)
    ).rows.map((r) => ({
      org_unit_id: num(r.org_unit_id),
      day: r.day,
      amount_fen: num(r.amount_fen),
      bonus_fen: num(r.bonus_fen),
      topup_count: num(r.topup_count),
    }));

  beforeAll(async () => {
    ctx.now.value = new Date('2026-11-20T04:00:00Z');
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    keyB1 = (
      await ok<{ key: string }>(
        call(ctx.app, admin, 'POST', '/api/api-keys', { name: 'IC B1', orgUnitId: tree.branch1 }),
        201,
      )
    ).key;
    keyHq = (
      await ok<{ key: string }>(
        call(ctx.app, admin, 'POST', '/api/api-keys', { name: 'IC HQ', orgUnitId: tree.hq }),
        201,
      )
    ).key;
    zhao = (
      await ok<{ id: number }>(
        call(ctx.app, admin, 'POST', '/api/customers', {
          kind: 'individual',
          orgUnitId: tree.station1,
          name: '赵师傅',
          cards: ['9000000001'],
        }),
        201,
      )
    ).id;
  });

  it('stores top-ups on the station’s calendar day, attached to the card holder, and re-sending changes nothing', async () => {
    const rows = [
      topup('t-1', { bonusFen: 2_000, payment: 'mobile' }),
      // 23:30 on the station's wall clock is still the 15th there.
      topup('t-2', {
        occurredAt: '2026-10-15T23:30:00',
        stationCode: 'B1-A1-S2',
        cardNo: '9000-0000-02',
        amountFen: 50_000,
      }),
      // 17:00 UTC is 01:00 on the 1st of November in Shanghai.
      topup('t-3', { occurredAt: '2026-10-31T17:00:00Z', amountFen: 30_000 }),
      topup('t-4', { stationCode: undefined, amountFen: 12_345 }),
    ];
    const first = await ok(send(ctx.app, keyB1, { source: 'ic-card', topups: rows }));
    // A top-up is booked at a station: a branch's key must name it.
    expect(first).toMatchObject({ received: 4, inserted: 3, duplicates: 0, rejected: 1, attached: 2 });
    expect(first.errors).toEqual([
      { row: 4, externalId: 't-4', field: 'stationCode', code: 'STATION_REQUIRED', message: expect.any(String) },
    ]);
    const stored = await ctx.db.kysely.selectFrom('card_topup').selectAll().orderBy('external_id').execute();
    expect(
      stored.map((r) => [
        r.external_id,
        r.business_day,
        num(r.org_unit_id),
        r.card_no,
        r.customer_id === null ? null : num(r.customer_id),
        num(r.amount_fen),
        num(r.bonus_fen),
        r.payment,
      ]),
    ).toEqual([
      ['t-1', '2026-10-15', tree.station1, '9000000001', zhao, 100_000, 2_000, 'mobile'],
      ['t-2', '2026-10-15', tree.station2, '9000000002', null, 50_000, 0, null],
      ['t-3', '2026-11-01', tree.station1, '9000000001', zhao, 30_000, 0, null],
    ]);
    expect(new Date(stored[1]!.occurred_at).toISOString()).toBe('2026-10-15T15:30:00.000Z');
    expect(new Date(stored[2]!.occurred_at).toISOString()).toBe('2026-10-31T17:00:00.000Z');

    const before = { n: await count(), days: await rollup() };
    const again = await ok(send(ctx.app, keyB1, { source: 'ic-card', topups: [...rows, rows[0]] }));
    expect(again).toMatchObject({ received: 5, inserted: 0, duplicates: 4, rejected: 1, attached: 0 });
    expect({ n: await count(), days: await rollup() }).toEqual(before);
    expect(before.days).toEqual(await rollupFromRows());
    // The same external id from another source is another top-up.
    expect(await ok(send(ctx.app, keyB1, { source: 'ic-card-2', topups: [rows[0]] }))).toMatchObject({ inserted: 1 });
  });

  it('reports each bad row by number, field and code while the rest land', async () => {
    const res = await ok(
      send(ctx.app, keyB1, {
        source: 'ic-card',
        topups: [
          topup('bad-ok-1'),
          topup('bad-2', { cardNo: undefined }),
          topup('bad-ok-3', { bonusFen: 500 }),
          topup('bad-4', { amountFen: -5, payment: 'gold' }),
          topup('bad-5', { stationCode: 'NO-SUCH' }),
          'not an object',
          topup('bad-ok-7', { occurredAt: '2026-10-16 08:00' }),
        ],
      }),
    );
    expect(res).toMatchObject({ received: 7, inserted: 3, rejected: 4, duplicates: 0 });
    expect(res.errors.map((e: { row: number; field: string; code: string }) => [e.row, e.field, e.code])).toEqual([
      [2, 'cardNo', 'REQUIRED'],
      [4, 'amountFen', 'OUT_OF_RANGE'],
      [4, 'payment', 'INVALID'],
      [6, '', 'NOT_AN_OBJECT'],
      [5, 'stationCode', 'STATION_UNKNOWN'],
    ]);
    const landed = await ctx.db.kysely
      .selectFrom('card_topup')
      .select('external_id')
      .where('external_id', 'like', 'bad-%')
      .orderBy('external_id')
      .execute();
    expect(landed.map((r) => r.external_id)).toEqual(['bad-ok-1', 'bad-ok-3', 'bad-ok-7']);
    expect(await rollup()).toEqual(await rollupFromRows());
  });

  it('takes NDJSON, naming a line that is not JSON by its number', async () => {
    const lines = [JSON.stringify(topup('nd-1')), '', '{not json', JSON.stringify(topup('nd-3', { amountFen: 7_000 }))];
    const res = await ok(
      ctx.app.inject({
        method: 'POST',
        url: '/api/ingest/topups?source=ic-card',
        headers: { authorization: `Bearer ${keyB1}`, 'content-type': 'application/x-ndjson' },
        payload: lines.join('\n'),
      }),
    );
    expect(res).toMatchObject({
      received: 3,
      inserted: 2,
      rejected: 1,
      errors: [{ row: 2, field: '', code: 'BAD_JSON' }],
    });
    const noSource = await ctx.app.inject({
      method: 'POST',
      url: '/api/ingest/topups',
      headers: { authorization: `Bearer ${keyB1}`, 'content-type': 'application/x-ndjson' },
      payload: lines[0],
    });
    expect(noSource.statusCode).toBe(400);
    expect(noSource.json().error.field).toBe('querystring.source');
  });

  it("denies a key of one branch the other branch's stations, and anything without a key", async () => {
    const n = await count();
    const res = await ok(
      send(ctx.app, keyB1, { source: 'ic-card', topups: [topup('deny-1', { stationCode: 'B2-A1-S1' })] }),
    );
    expect(res).toMatchObject({
      received: 1,
      inserted: 0,
      rejected: 1,
      errors: [{ row: 1, externalId: 'deny-1', field: 'stationCode', code: 'STATION_OUT_OF_SCOPE' }],
    });
    expect(await count()).toBe(n);
    const none = await send(ctx.app, null, { source: 'ic-card', topups: [topup('deny-2')] });
    expect(none.statusCode).toBe(401);
    const session = await ctx.app.inject({
      method: 'POST',
      url: '/api/ingest/topups',
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
      payload: { source: 'ic-card', topups: [topup('deny-3')] },
    });
    expect(session.statusCode).toBe(401);
    const wrong = await send(ctx.app, `fck_${'x'.repeat(43)}`, { source: 'ic-card', topups: [topup('deny-4')] });
    expect(wrong.json().error.code).toBe('API_KEY_INVALID');
    const pump = await send(ctx.app, keyB1, { source: 'pump', topups: [topup('deny-5')] });
    expect(pump.statusCode).toBe(400);
    expect(pump.json().error.field).toBe('body.source');
    expect(await count()).toBe(n);
  });

  it('attaches waiting top-ups when a customer gets the card', async () => {
    const waiting = () =>
      ctx.db.kysely.selectFrom('card_topup').select('customer_id').where('card_no', '=', '9000000002').execute();
    expect((await waiting()).every((r) => r.customer_id === null)).toBe(true);
    const qian = (
      await ok<{ id: number }>(
        call(ctx.app, admin, 'POST', '/api/customers', {
          kind: 'individual',
          orgUnitId: tree.station2,
          name: '钱师傅',
          cards: ['9000000002'],
        }),
        201,
      )
    ).id;
    const rows = await waiting();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => num(r.customer_id) === qian)).toBe(true);
  });

  it('imports top-ups from a GBK CSV with Chinese headers through the same service; a re-import changes nothing', async () => {
    const csv = [
      '充值时间,卡号,充值金额(元),赠送金额,站点编码,流水号,支付方式',
      '2026/10/20 08:30,9000000001,"1,000.00",20,B1-A1-S1,IMP-1,微信',
      '2026-10-20 09:00,9000000001,abc,,B1-A1-S1,IMP-2,现金',
      '2026-10-20 09:30,,500,,B1-A1-S2,IMP-3,现金',
      '2026-10-20 10:00,9000000003,300,,B2-A1-S1,IMP-4,现金',
      '2026-10-21 23:59,9000000003,250.5,,B1-A1-S2,,银行卡',
    ].join('\r\n');
    const file = iconv.encode(csv, 'gb18030');
    const run = async () => {
      const up = await ctx.app.inject({
        method: 'POST',
        url: `/api/imports?fileName=${encodeURIComponent('充值.csv')}&orgUnitId=${tree.branch1}`,
        headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'application/octet-stream' },
        payload: file,
      });
      expect(up.statusCode, up.body).toBe(201);
      const id = up.json().id as number;
      const inspected = await ok<{ suggested: Record<string, string> }>(
        call(ctx.app, admin, 'POST', `/api/imports/${id}/inspect`, { kind: 'topups' }),
      );
      expect(inspected.suggested).toEqual({
        充值时间: 'occurredAt',
        卡号: 'cardNo',
        '充值金额(元)': 'amount',
        赠送金额: 'bonus',
        站点编码: 'stationCode',
        流水号: 'externalId',
        支付方式: 'payment',
      });
      await ok(
        call(ctx.app, admin, 'PUT', `/api/imports/${id}/mapping`, { kind: 'topups', mapping: inspected.suggested }),
      );
      const dry = await ok<{ job: { rowsOk: number; rowsRejected: number } }>(
        call(ctx.app, admin, 'POST', `/api/imports/${id}/dry-run`),
      );
      await ok(call(ctx.app, admin, 'POST', `/api/imports/${id}/commit`), 202);
      let job: Record<string, any> = {};
      for (let i = 0; i < 400 && job.status !== 'done' && job.status !== 'failed'; i++) {
        await new Promise((r) => setTimeout(r, 25));
        job = await ok(call(ctx.app, admin, 'GET', `/api/imports/${id}`));
      }
      const problems = await ok<{ row: number; field: string | null }[]>(
        call(ctx.app, admin, 'GET', `/api/imports/${id}/problems?phase=commit`),
      );
      return { dry: dry.job, job, problems };
    };
    const first = await run();
    expect(first.dry).toMatchObject({ rowsOk: 2, rowsRejected: 3 });
    expect(first.job).toMatchObject({ status: 'done', rowsOk: 2, rowsRejected: 3, createdCount: 2 });
    expect(first.problems.map((p) => [p.row, p.field])).toEqual([
      [3, 'amount'],
      [4, 'cardNo'],
      [5, 'stationCode'],
    ]);
    const stored = await ctx.db.kysely
      .selectFrom('card_topup')
      .selectAll()
      .where('source', '=', 'import')
      .orderBy('occurred_at')
      .execute();
    expect(
      stored.map((r) => [
        r.external_id.startsWith('h:') ? 'hash' : r.external_id,
        r.business_day,
        num(r.org_unit_id),
        num(r.amount_fen),
        num(r.bonus_fen),
        r.payment,
        r.customer_id === null ? null : num(r.customer_id),
      ]),
    ).toEqual([
      ['IMP-1', '2026-10-20', tree.station1, 100_000, 2_000, 'mobile', zhao],
      ['hash', '2026-10-21', tree.station2, 25_050, 0, 'bank_card', null],
    ]);
    const before = { n: await count(), days: await rollup() };
    const again = await run();
    expect(again.job).toMatchObject({ status: 'done', rowsOk: 2, createdCount: 0 });
    expect({ n: await count(), days: await rollup() }).toEqual(before);
    expect(before.days).toEqual(await rollupFromRows());
  });

  it('keeps the rollup equal to the rows over many batches, and the dashboard equal to SQL over the rows', async () => {
    // Random top-ups over this October and last year's, in batches that overlap (re-sent rows count once).
    let seed = 7;
    const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const stations = ['B1-A1-S1', 'B1-A1-S2', 'B2-A1-S1'];
    const all: Topup[] = [];
    for (let i = 0; i < 300; i++) {
      const year = rnd() < 0.5 ? 2025 : 2026;
      const day = 1 + Math.floor(rnd() * 31);
      const hour = Math.floor(rnd() * 24);
      all.push({
        externalId: `r-${i}`,
        occurredAt: `${year}-10-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:15:00`,
        stationCode: stations[Math.floor(rnd() * 3)]!,
        cardNo: `9100${String(Math.floor(rnd() * 40)).padStart(6, '0')}`,
        amountFen: 1 + Math.floor(rnd() * 500_000),
        ...(rnd() < 0.3 && { bonusFen: Math.floor(rnd() * 10_000) }),
      });
    }
    for (let start = 0; start < all.length; start += 70) {
      const res = await ok(
        send(ctx.app, keyHq, { source: 'card-sys', topups: all.slice(Math.max(0, start - 20), start + 70) }),
      );
      expect(res.rejected).toBe(0);
    }
    expect(
      Number(
        (
          await sql<{ n: number }>`select count(*) as n from card_topup where source = 'card-sys'`.execute(
            ctx.db.kysely,
          )
        ).rows[0]!.n,
      ),
    ).toBe(300);
    expect(await rollup()).toEqual(await rollupFromRows());

    const sumOf = async (unitId: number, month: string) => {
      const r = await sql<{ amount: number; bonus: number; n: number }>`
        select coalesce(sum(t.amount_fen), 0) as amount, coalesce(sum(t.bonus_fen), 0) as bonus, count(t.id) as n
        from card_topup t join org_unit s on s.id = t.org_unit_id join org_unit u on u.id = ${unitId}
        where s.path like u.path || '%' and substr(t.business_day, 1, 7) = ${month}`.execute(ctx.db.kysely);
      return { amount: num(r.rows[0]!.amount), bonus: num(r.rows[0]!.bonus), n: num(r.rows[0]!.n) };
    };
    for (const unitId of [tree.hq, tree.branch1, tree.area1, tree.station1, tree.station3]) {
      const d = await ok(call(ctx.app, admin, 'GET', `/api/dashboards/unit/${unitId}?month=2026-10`));
      const cur = await sumOf(unitId, '2026-10');
      const ly = await sumOf(unitId, '2025-10');
      expect(cur.n).toBeGreaterThan(0);
      expect(d.topUps, `unit ${unitId}`).toEqual({
        amountFen: cur.amount,
        bonusFen: cur.bonus,
        count: cur.n,
        lastYearAmountFen: ly.amount,
        lastYearCount: ly.n,
        growth: ly.amount === 0 ? null : (cur.amount - ly.amount) / ly.amount,
      });
    }
  });
});
