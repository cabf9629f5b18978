import { beforeAll, expect, it, vi } from 'vitest';
import pg from 'pg';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { expectRollupsMatchRows, send, sendNdjson, type Txn } from './helpers.js';
import { COPY_FROM_ROWS } from '../../src/server/modules/transactions/transactions.queries.js';

const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();

describeEngines('transaction ingest', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  let attendant: Session; // at station 1
  let keyB1: string; // branch 1: stations 1 and 2
  let keyS3: string; // station 3, branch 2
  let zhao: number; // card 9000000001, plate 冀A10001
  let qian: number; // plate 冀A10002

  const customer = async (body: Record<string, unknown>) =>
    (
      await ok<{ id: number }>(
        call(ctx.app, admin, 'POST', '/api/customers', { kind: 'individual', orgUnitId: tree.station1, ...body }),
        201,
      )
    ).id;
  const newKey = async (orgUnitId: number) =>
    await ok<{ id: number; key: string }>(
      call(ctx.app, admin, 'POST', '/api/api-keys', { name: `POS ${orgUnitId}`, orgUnitId }),
      201,
    );
  const txn = (externalId: string, extra: Partial<Txn> = {}): Txn => ({
    externalId,
    occurredAt: at(600),
    stationCode: 'B1-A1-S1',
    product: '92#',
    volumeMl: 40_000,
    amountFen: 30_000,
    ...extra,
  });
  const rowsOf = (customerId: number) =>
    ctx.db.kysely
      .selectFrom('fuel_transaction')
      .selectAll()
      .where('customer_id', '=', customerId)
      .orderBy('id')
      .execute();
  const month = (customerId: number) =>
    ctx.db.kysely.selectFrom('customer_month').selectAll().where('customer_id', '=', customerId).execute();

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    await createUser(ctx.app, admin, 'jiayou', tree.station1, ['attendant']);
    attendant = await login(ctx.app, 'jiayou', USER_PASSWORD);
    keyB1 = (await newKey(tree.branch1)).key;
    keyS3 = (await newKey(tree.station3)).key;
    zhao = await customer({ name: '赵师傅', cards: ['9000000001'], vehicles: [{ plate: '冀A10001' }] });
    qian = await customer({ name: '钱师傅', vehicles: [{ plate: '冀A10002' }] });
  });

  it('takes an API key, not a session: no key, a wrong key and a revoked key are refused', async () => {
    const body = { source: 'pos', transactions: [txn('auth-1')] };
    const none = await send(ctx.app, null, body);
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('NOT_AUTHENTICATED');
    const session = await ctx.app.inject({
      method: 'POST',
      url: '/api/ingest/transactions',
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
      payload: body,
    });
    expect(session.statusCode).toBe(401);
    const wrong = await send(ctx.app, `fck_${'x'.repeat(43)}`, body);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('API_KEY_INVALID');
    const k = await newKey(tree.station1);
    expect((await send(ctx.app, k.key, body)).statusCode).toBe(200);
    await ok(call(ctx.app, admin, 'POST', `/api/api-keys/${k.id}/revoke`));
    const revoked = await send(ctx.app, k.key, { source: 'pos', transactions: [txn('auth-2')] });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().error.message).toMatch(/revoked/);
    const keys = await ok<{ id: number; keyPrefix: string; revokedAt: string | null; lastUsedAt: string | null }[]>(
      call(ctx.app, admin, 'GET', '/api/api-keys'),
    );
    const listed = keys.find((x) => x.id === k.id)!;
    expect(listed.revokedAt).not.toBeNull();
    expect(listed.lastUsedAt).not.toBeNull();
    expect(k.key.startsWith(listed.keyPrefix)).toBe(true);
    // Only the hash is stored.
    const stored = await ctx.db.kysely
      .selectFrom('api_key')
      .select('key_hash')
      .where('id', '=', k.id)
      .executeTakeFirstOrThrow();
    expect(stored.key_hash).not.toContain(k.key.slice(4, 20));
  });

  it('rejects rows for stations outside the key’s subtree, and lands the rest', async () => {
    const res = await ok(
      send(ctx.app, keyS3, {
        source: 'pos',
        transactions: [
          txn('scope-1', { stationCode: 'B2-A1-S1' }),
          txn('scope-2', { stationCode: 'B1-A1-S1' }),
          txn('scope-3', { stationCode: undefined }),
        ],
      }),
    );
    expect(res).toMatchObject({ received: 3, inserted: 2, rejected: 1 });
    expect(res.errors).toEqual([
      {
        row: 2,
        externalId: 'scope-2',
        field: 'stationCode',
        code: 'STATION_OUT_OF_SCOPE',
        message: expect.any(String),
      },
    ]);
    // A row without a station code belongs to the key's own unit.
    const own = await ctx.db.kysely
      .selectFrom('fuel_transaction')
      .select('org_unit_id')
      .where('external_id', '=', 'scope-3')
      .executeTakeFirstOrThrow();
    expect(own.org_unit_id).toBe(tree.station3);
  });

  it('is idempotent: re-sending a batch changes nothing', async () => {
    const rows = Array.from({ length: 25 }, (_, i) =>
      txn(`idem-${i}`, {
        cardNo: i % 2 ? '9000000001' : undefined,
        plate: i % 3 === 0 ? '冀A10002' : undefined,
        volumeMl: 30_000 + i,
        amountFen: 20_000 + i,
      }),
    );
    const first = await ok(send(ctx.app, keyB1, { source: 'ic-card', transactions: rows }));
    expect(first).toMatchObject({ received: 25, inserted: 25, duplicates: 0, rejected: 0 });
    const before = {
      txns: await ctx.db.kysely
        .selectFrom('fuel_transaction')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
      zhao: await month(zhao),
      qian: await month(qian),
    };
    const again = await ok(send(ctx.app, keyB1, { source: 'ic-card', transactions: [...rows, rows[0]] }));
    expect(again).toMatchObject({ received: 26, inserted: 0, duplicates: 26, rejected: 0, attached: 0 });
    const after = {
      txns: await ctx.db.kysely
        .selectFrom('fuel_transaction')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
      zhao: await month(zhao),
      qian: await month(qian),
    };
    expect(after).toEqual(before);
    // The same external id from another source is another sale.
    expect(await ok(send(ctx.app, keyB1, { source: 'pos', transactions: [rows[0]] }))).toMatchObject({ inserted: 1 });
    const batch = await ctx.db.kysely
      .selectFrom('ingest_batch')
      .selectAll()
      .where('id', '=', again.batchId)
      .executeTakeFirstOrThrow();
    expect(batch).toMatchObject({ source: 'ic-card', rows_received: 26, inserted: 0, duplicates: 26, rejected: 0 });
    await expectRollupsMatchRows(ctx.db.kysely);
  });

  it('stores a large chunk whole, and a re-sent one overlapping it exactly once (COPY and its fallback on PostgreSQL)', async () => {
    const n = COPY_FROM_ROWS + 100;
    // Every COPY statement the app sends to PostgreSQL, to show that path is the one taken.
    const queries = vi.spyOn(pg.Client.prototype, 'query');
    const copies = () =>
      queries.mock.calls.filter(([q]) =>
        /^copy fuel_transaction\b/.test(String((q as { text?: string } | null)?.text ?? '')),
      ).length;
    // External ids as POS systems make them, including characters COPY's text format escapes.
    const ext = (i: number) => (i % 50 === 7 ? `big\t${i}\\x\r\nz` : `big-${i}`);
    const rows = Array.from({ length: n }, (_, i) =>
      txn(ext(i), {
        occurredAt: at(2000 + i),
        cardNo: i % 4 === 0 ? '9000000001' : undefined,
        plate: i % 4 === 1 ? '冀A10002' : i % 4 === 2 ? `冀B${String(i).padStart(5, '0')}` : undefined,
        volumeMl: 20_000 + i,
        amountFen: 15_000 + i,
      }),
    );
    const count = async () =>
      Number(
        (
          await ctx.db.kysely
            .selectFrom('fuel_transaction')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('external_id', 'like', 'big%')
            .executeTakeFirstOrThrow()
        ).n,
      );
    const first = await ok(send(ctx.app, keyB1, { source: 'copy-test', transactions: rows.slice(0, n - 100) }));
    expect(first).toMatchObject({
      received: n - 100,
      inserted: n - 100,
      duplicates: 0,
      rejected: 0,
      attached: (n - 100) / 2,
    });
    expect(await count()).toBe(n - 100);
    expect(copies()).toBe(engine === 'postgres' ? 1 : 0);
    const stored = await ctx.db.kysely
      .selectFrom('fuel_transaction')
      .select(['external_id', 'customer_id', 'volume_ml'])
      .where('source', '=', 'copy-test')
      .where('external_id', '=', ext(7))
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ external_id: ext(7), customer_id: null, volume_ml: 20_007 });
    // All of it again and 100 more: only the 100 are new.
    const again = await ok(send(ctx.app, keyB1, { source: 'copy-test', transactions: rows }));
    expect(again).toMatchObject({ received: n, inserted: 100, duplicates: n - 100, rejected: 0 });
    // The second COPY met the rows on file and was rolled back to its savepoint; the insert took over.
    expect(copies()).toBe(engine === 'postgres' ? 2 : 0);
    queries.mockRestore();
    expect(await count()).toBe(n);
    const ids = await ctx.db.kysely
      .selectFrom('fuel_transaction')
      .select('id')
      .where('source', '=', 'copy-test')
      .execute();
    expect(new Set(ids.map((r) => r.id)).size).toBe(n);
    await expectRollupsMatchRows(ctx.db.kysely);
  });

  it('attaches a row to its customer by card first, then by plate', async () => {
    await ok(
      send(ctx.app, keyB1, {
        source: 'pos',
        transactions: [
          txn('att-card', { cardNo: '9000 0000 01', plate: '冀A10002' }),
          txn('att-plate', { cardNo: '9999999999', plate: '冀a·10002' }),
          txn('att-none', { cardNo: '8888888888', plate: '冀A99999' }),
        ],
      }),
    );
    const byExt = async (id: string) =>
      await ctx.db.kysely
        .selectFrom('fuel_transaction')
        .select(['customer_id', 'card_no', 'plate'])
        .where('source', '=', 'pos')
        .where('external_id', '=', id)
        .executeTakeFirstOrThrow();
    expect(await byExt('att-card')).toEqual({ customer_id: zhao, card_no: '9000000001', plate: '冀A10002' });
    expect((await byExt('att-plate')).customer_id).toBe(qian);
    expect((await byExt('att-none')).customer_id).toBeNull();
    await expectRollupsMatchRows(ctx.db.kysely);
  });

  it('reports bad rows with their number and field while the rest land', async () => {
    const res = await ok(
      send(ctx.app, keyB1, {
        source: 'pos',
        transactions: [
          txn('bad-0'),
          txn('bad-1', { plate: '冀I12345' }),
          { ...txn('bad-2'), amountFen: undefined },
          txn('bad-3', { stationCode: 'NOPE' }),
          txn('bad-4', { volumeMl: 'forty' as never }),
          txn('bad-5', { colour: 'red' }),
          'not an object',
          txn('bad-7', { occurredAt: '2026-02-30T08:00:00+08:00' }),
          txn('bad-8'),
        ],
      }),
    );
    expect(res).toMatchObject({ received: 9, inserted: 2, rejected: 7 });
    expect(res.errors.map((e: { row: number; field: string; code: string }) => [e.row, e.field, e.code])).toEqual([
      [2, 'plate', 'INVALID'],
      [3, 'amountFen', 'REQUIRED'],
      [5, 'volumeMl', 'WRONG_TYPE'],
      [6, 'colour', 'UNKNOWN_FIELD'],
      [7, '', 'NOT_AN_OBJECT'],
      [8, 'occurredAt', 'INVALID'],
      [4, 'stationCode', 'STATION_UNKNOWN'],
    ]);
    expect(res.errors[0].message).toMatch(/I or O/);
    // The envelope itself is checked like any body.
    const bad = await send(ctx.app, keyB1, { source: 'pos', transactions: 'nope' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe('body.transactions');
    const reserved = await send(ctx.app, keyB1, { source: 'pump', transactions: [] });
    expect(reserved.json().error.field).toBe('body.source');
  });

  it('streams NDJSON, naming lines that are not JSON', async () => {
    const lines = [
      JSON.stringify(txn('nd-1')),
      '{"externalId": "nd-2",',
      '',
      JSON.stringify(txn('nd-3', { occurredAt: '2026-11-01 08:30:00', volumeLitres: 12.5, volumeMl: undefined })),
    ];
    const res = await ok(sendNdjson(ctx.app, keyB1, 'pos-nd', lines));
    expect(res).toMatchObject({ received: 3, inserted: 2, rejected: 1 });
    expect(res.errors[0]).toMatchObject({ row: 2, code: 'BAD_JSON' });
    // A time without an offset is the station's wall clock (Asia/Shanghai).
    const row = await ctx.db.kysely
      .selectFrom('fuel_transaction')
      .select(['occurred_at', 'business_day', 'volume_ml'])
      .where('source', '=', 'pos-nd')
      .where('external_id', '=', 'nd-3')
      .executeTakeFirstOrThrow();
    expect(new Date(row.occurred_at).toISOString()).toBe('2026-11-01T00:30:00.000Z');
    expect(row).toMatchObject({ business_day: '2026-11-01', volume_ml: 12_500 });
    const noSource = await ctx.app.inject({
      method: 'POST',
      url: '/api/ingest/transactions',
      headers: { authorization: `Bearer ${keyB1}`, 'content-type': 'application/x-ndjson' },
      payload: lines[0],
    });
    expect(noSource.json().error.field).toBe('querystring.source');
  });

  it('attaches waiting rows when their plate or card is added to a customer', async () => {
    await ok(
      send(ctx.app, keyB1, {
        source: 'pos',
        transactions: [
          txn('late-1', { plate: '冀B77777' }),
          txn('late-2', { plate: '冀B77777', occurredAt: at(3000) }),
          txn('late-3', { cardNo: '7000000007' }),
        ],
      }),
    );
    const sun = await customer({ name: '孙师傅', vehicles: [{ plate: '冀B77777' }] });
    expect((await rowsOf(sun)).map((r) => r.external_id).sort()).toEqual(['late-1', 'late-2']);
    const c = await ok<{ version: number }>(call(ctx.app, admin, 'GET', `/api/customers/${sun}`));
    await ok(call(ctx.app, admin, 'PATCH', `/api/customers/${sun}`, { version: c.version, cards: ['7000000007'] }));
    expect((await rowsOf(sun)).length).toBe(3);
    const cadence = await ctx.db.kysely
      .selectFrom('customer')
      .select(['visit_count', 'usual_interval_days'])
      .where('id', '=', sun)
      .executeTakeFirstOrThrow();
    expect(cadence.visit_count).toBeGreaterThanOrEqual(2);
    await expectRollupsMatchRows(ctx.db.kysely);
  });

  it('counts a fill-up recorded at the pump and the card system’s row for it once', async () => {
    const li = await customer({ name: '李师傅', cards: ['9000000005'], vehicles: [{ plate: '冀A10005' }] });
    // The attendant records the fill-up; it counts at once.
    await ok(
      call(ctx.app, attendant, 'POST', '/api/pump/visits', { customerId: li, product: '0#柴油', volumeLitres: 200 }),
      201,
    );
    expect(await month(li)).toEqual([
      expect.objectContaining({ product: '0#柴油', volume_ml: 200_000, txn_count: 1, amount_fen: 0 }),
    ]);
    // The card system's row for the same fill-up arrives: it takes the pump row's place.
    const res = await ok(
      send(ctx.app, keyB1, {
        source: 'ic-card',
        transactions: [
          txn('pump-1', {
            cardNo: '9000000005',
            product: '0#柴油',
            volumeMl: 203_000,
            amountFen: 150_000,
            occurredAt: at(5),
          }),
        ],
      }),
    );
    expect(res).toMatchObject({ inserted: 1, superseded: 1 });
    expect(await month(li)).toEqual([
      expect.objectContaining({ product: '0#柴油', volume_ml: 203_000, txn_count: 1, amount_fen: 150_000 }),
    ]);
    const rows = await rowsOf(li);
    expect(rows.map((r) => [r.source, r.visit_id !== null])).toEqual([['ic-card', true]]);
    // A different product, or a volume 10% off, is another fill-up.
    await ok(
      call(ctx.app, attendant, 'POST', '/api/pump/visits', { customerId: li, product: '0#柴油', volumeLitres: 100 }),
      201,
    );
    await ok(
      send(ctx.app, keyB1, {
        source: 'ic-card',
        transactions: [
          txn('pump-2', {
            cardNo: '9000000005',
            product: '0#柴油',
            volumeMl: 110_000,
            amountFen: 80_000,
            occurredAt: at(1),
          }),
        ],
      }),
    );
    expect((await month(li))[0]).toMatchObject({ txn_count: 3 });
    // The card row first, then the attendant's record: the visit links to the row, nothing is added.
    await ok(
      send(ctx.app, keyB1, {
        source: 'ic-card',
        transactions: [
          txn('pump-3', {
            cardNo: '9000000005',
            product: '92#',
            volumeMl: 45_000,
            amountFen: 35_000,
            occurredAt: at(2),
          }),
        ],
      }),
    );
    await ok(
      call(ctx.app, attendant, 'POST', '/api/pump/visits', { customerId: li, product: '92#', volumeLitres: 44.5 }),
      201,
    );
    const after = await rowsOf(li);
    expect(after.filter((r) => r.product === '92#').map((r) => [r.source, r.visit_id !== null])).toEqual([
      ['ic-card', true],
    ]);
    await expectRollupsMatchRows(ctx.db.kysely);
  });

  it('moves transactions and rollups with a merge and back with its undo', async () => {
    const a = await customer({ name: '周师傅', vehicles: [{ plate: '冀A20001' }] });
    const b = await customer({ name: '周师傅', vehicles: [{ plate: '冀A20002' }], confirmDuplicate: true });
    await ok(
      send(ctx.app, keyB1, {
        source: 'pos',
        transactions: [
          txn('m-1', { plate: '冀A20001', occurredAt: at(60 * 24 * 40) }),
          txn('m-2', { plate: '冀A20002', occurredAt: at(60 * 24 * 10) }),
          txn('m-3', { plate: '冀A20002', occurredAt: at(60) }),
        ],
      }),
    );
    const { mergeId } = await ok(call(ctx.app, admin, 'POST', `/api/customers/${a}/merge`, { mergedId: b }));
    expect((await rowsOf(a)).length).toBe(3);
    expect(await rowsOf(b)).toEqual([]);
    expect(await month(b)).toEqual([]);
    const merged = await ctx.db.kysely
      .selectFrom('customer')
      .select(['visit_count', 'usual_interval_days'])
      .where('id', '=', a)
      .executeTakeFirstOrThrow();
    expect(merged.visit_count).toBe(3);
    await expectRollupsMatchRows(ctx.db.kysely);
    await ok(call(ctx.app, admin, 'POST', `/api/customers/${a}/merges/${mergeId}/undo`));
    expect((await rowsOf(a)).map((r) => r.external_id)).toEqual(['m-1']);
    expect((await rowsOf(b)).map((r) => r.external_id)).toEqual(['m-2', 'm-3']);
    await expectRollupsMatchRows(ctx.db.kysely);
  });

  it('lists a customer’s transactions newest first and his monthly volume this year and last', async () => {
    const year = new Date().getUTCFullYear();
    const wu = await customer({ name: '吴师傅', cards: ['9000000009'] });
    await ok(
      send(ctx.app, keyB1, {
        source: 'pos',
        transactions: [
          txn('v-1', {
            cardNo: '9000000009',
            occurredAt: `${year - 1}-03-10T10:00:00+08:00`,
            volumeMl: 50_000,
            amountFen: 40_000,
          }),
          txn('v-2', {
            cardNo: '9000000009',
            occurredAt: `${year}-01-05T10:00:00+08:00`,
            volumeMl: 60_000,
            amountFen: 48_000,
          }),
          txn('v-3', {
            cardNo: '9000000009',
            occurredAt: `${year}-01-20T10:00:00+08:00`,
            product: '95#',
            volumeMl: 30_000,
            amountFen: 26_000,
          }),
        ],
      }),
    );
    const page = await ok(call(ctx.app, attendant, 'GET', `/api/customers/${wu}/transactions?pageSize=2`));
    expect(page.total).toBe(3);
    expect(page.items.map((t: { externalId: string }) => t.externalId)).toEqual(['v-3', 'v-2']);
    const vol = await ok(call(ctx.app, attendant, 'GET', `/api/customers/${wu}/volume-monthly?year=${year}`));
    expect(vol.totals).toEqual({
      thisYear: { volumeMl: 90_000, amountFen: 74_000, txnCount: 2 },
      lastYear: { volumeMl: 50_000, amountFen: 40_000, txnCount: 1 },
    });
    expect(vol.months[0].thisYear.volumeMl).toBe(90_000);
    expect(vol.months[2].lastYear.volumeMl).toBe(50_000);
    expect(vol.products.map((p: { product: string }) => p.product).sort()).toEqual(['92#', '95#']);
    expect(vol.cadence.visitCount).toBe(3);
    // Another branch's customer is out of scope.
    await createUser(ctx.app, admin, 'b2staff', tree.station3, ['station_manager']);
    const other = await login(ctx.app, 'b2staff', USER_PASSWORD);
    expect((await call(ctx.app, other, 'GET', `/api/customers/${wu}/transactions`)).json().error.code).toBe(
      'SCOPE_DENIED',
    );
  });

  it('refuses the API-key routes to users without apikey.manage', async () => {
    await createUser(ctx.app, admin, 'zhanzhang', tree.station1, ['station_manager']);
    const manager = await login(ctx.app, 'zhanzhang', USER_PASSWORD);
    const key = await newKey(tree.station1);
    for (const [method, url] of [
      ['GET', '/api/api-keys'],
      ['POST', '/api/api-keys'],
      ['POST', `/api/api-keys/${key.id}/revoke`],
    ] as const) {
      const res = await call(ctx.app, manager, method, url, method === 'POST' ? { name: 'x' } : undefined);
      expect(res.statusCode, url).toBe(403);
      expect(res.json().error.code).toBe('PERMISSION_DENIED');
    }
    // Creating and revoking are audited; the secret never reaches the log.
    const audit = await ctx.db.kysely
      .selectFrom('audit_log')
      .select(['action', 'after_json'])
      .where('entity', '=', 'api_key')
      .execute();
    expect(audit.map((a) => a.action)).toContain('create');
    expect(audit.map((a) => a.action)).toContain('revoke');
    expect(JSON.stringify(audit)).not.toContain(key.key);
  });
});
