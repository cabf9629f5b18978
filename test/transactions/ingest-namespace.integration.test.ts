// Who owns an external id, and what a repeat of one is. Sales and top-ups are keyed by (namespace,
// source, external id), the namespace being the sender's org unit: one sender cannot claim another's
// ids. A repeat with the same content is a duplicate; with other content it is refused as a conflict,
// per field, within a batch and against rows on file, on the COPY path too. A row is booked only at a
// station. Rows on file before migration 0017 keep their keys.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import pg from 'pg';
import { Migrator, sql, type Migration } from 'kysely';
import fs from 'node:fs';
import path from 'node:path';
import { describeEngines, openFresh } from '../helpers/engines.js';
import { call, ok, setupAdmin, useTestApp, type Session, type TestApp } from '../helpers/app.js';
import { buildTree, type Tree } from '../helpers/fixtures.js';
import { expectRollupsMatchRows, send, sendNdjson, type Txn } from './helpers.js';
import { COPY_FROM_ROWS } from '../../src/server/modules/transactions/transactions.queries.js';
import { IngestService } from '../../src/server/modules/transactions/ingest.service.js';
import { TopupsService } from '../../src/server/modules/topups/topups.service.js';
import { TransactionRowImporter } from '../../src/server/modules/imports/transaction-rows.js';
import { TopupRowImporter } from '../../src/server/modules/imports/topup-rows.js';
import { topupSinkOf, transactionSinkOf } from '../../src/server/modules/imports/transaction-sink.js';
import { migrateToLatest } from '../../src/server/db/migrate.js';
import type { Db } from '../../src/server/db/connection.js';

interface RowError {
  row: number;
  externalId: string | null;
  field: string;
  code: string;
  message: string;
}

const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
const errorsOf = (res: { errors: RowError[] }) => res.errors.map((e) => [e.row, e.field, e.code]);

function sendTopups(app: TestApp, key: string, body: unknown) {
  return app.inject({
    method: 'POST',
    url: '/api/ingest/topups',
    headers: { authorization: `Bearer ${key}` },
    payload: body as Record<string, unknown>,
  });
}

describeEngines('ingest keys, conflicts and stations', (engine) => {
  // Chunks of 1,000 rows: a chunk is large enough for COPY, and a long batch spans chunks.
  const ctx = useTestApp(engine, { ingestChunkRows: 1000 });
  let admin: Session;
  let tree: Tree;
  const keys = {} as Record<'hq' | 'branch1' | 'area1' | 'station1' | 'station3', string>;

  const base = at(600);
  const txn = (externalId: string, extra: Partial<Txn> = {}): Txn => ({
    externalId,
    occurredAt: base,
    stationCode: 'B1-A1-S1',
    product: '92#',
    volumeMl: 40_000,
    amountFen: 30_000,
    ...extra,
  });
  const stored = (source: string, externalId: string) =>
    ctx.db.kysely
      .selectFrom('fuel_transaction')
      .select(['namespace', 'org_unit_id', 'amount_fen', 'volume_ml', 'product'])
      .where('source', '=', source)
      .where('external_id', '=', externalId)
      .orderBy('id')
      .execute();

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    for (const unit of ['hq', 'branch1', 'area1', 'station1', 'station3'] as const) {
      const body = { name: `POS ${unit}`, orgUnitId: tree[unit] };
      keys[unit] = (await ok<{ key: string }>(call(ctx.app, admin, 'POST', '/api/api-keys', body), 201)).key;
    }
    await ok(
      call(ctx.app, admin, 'POST', '/api/customers', {
        kind: 'individual',
        orgUnitId: tree.station1,
        name: '赵师傅',
        cards: ['9000000001'],
      }),
      201,
    );
  });

  it('lands the HQ sale whose source and external id a station key sent first for its own station', async () => {
    // The station's key claims pos-1/future-1 ahead of time, for its own station.
    const early = await ok(
      send(ctx.app, keys.station1, {
        source: 'pos-1',
        transactions: [txn('future-1', { stationCode: undefined, occurredAt: at(30) })],
      }),
    );
    expect(early).toMatchObject({ inserted: 1, duplicates: 0, rejected: 0 });
    // The genuine sale comes later from HQ's key, for another station: it is HQ's own, and lands.
    const genuine = txn('future-1', { stationCode: 'B1-A1-S2', volumeMl: 52_000, amountFen: 41_600 });
    const res = await ok(send(ctx.app, keys.hq, { source: 'pos-1', transactions: [genuine] }));
    expect(res).toMatchObject({ received: 1, inserted: 1, duplicates: 0, rejected: 0, conflicts: 0, errors: [] });
    expect(await stored('pos-1', 'future-1')).toEqual([
      { namespace: tree.station1, org_unit_id: tree.station1, amount_fen: 30_000, volume_ml: 40_000, product: '92#' },
      { namespace: tree.hq, org_unit_id: tree.station2, amount_fen: 41_600, volume_ml: 52_000, product: '92#' },
    ]);
    // Each sender's repeats are judged against its own row only.
    expect(await ok(send(ctx.app, keys.hq, { source: 'pos-1', transactions: [genuine] }))).toMatchObject({
      inserted: 0,
      duplicates: 1,
      conflicts: 0,
    });
    const changed = await ok(send(ctx.app, keys.hq, { source: 'pos-1', transactions: [{ ...genuine, amountFen: 1 }] }));
    expect(changed).toMatchObject({ inserted: 0, duplicates: 0, rejected: 1, conflicts: 1 });
    expect(changed.errors).toEqual([
      {
        row: 1,
        externalId: 'future-1',
        field: 'amountFen',
        code: 'TRANSACTION_CONFLICT',
        message: expect.stringMatching(/on file/),
      },
    ]);
    const mine = await ok(
      send(ctx.app, keys.station1, {
        source: 'pos-1',
        transactions: [txn('future-1', { stationCode: undefined, occurredAt: at(20) })],
      }),
    );
    expect(errorsOf(mine)).toEqual([[1, 'occurredAt', 'TRANSACTION_CONFLICT']]);
    expect((await stored('pos-1', 'future-1')).map((r) => r.amount_fen)).toEqual([30_000, 41_600]);
    await expectRollupsMatchRows(ctx.db.kysely);
  });

  it('counts an identical repeat in a batch as a duplicate, refuses a changed one naming row and fields', async () => {
    const rows = [
      txn('in-a'),
      txn('in-b', { cardNo: '9000000001' }),
      txn('in-a'),
      txn('in-a', { amountFen: 30_001, volumeMl: 40_001 }),
      txn('in-c'),
      txn('in-b', { cardNo: '9000000001', stationCode: 'B1-A1-S2' }),
    ];
    const res = await ok(send(ctx.app, keys.branch1, { source: 'pos-in', transactions: rows }));
    expect(res).toMatchObject({ received: 6, inserted: 3, duplicates: 1, rejected: 2, conflicts: 2, attached: 1 });
    expect(errorsOf(res)).toEqual([
      [4, 'volumeMl', 'TRANSACTION_CONFLICT'],
      [4, 'amountFen', 'TRANSACTION_CONFLICT'],
      [6, 'stationCode', 'TRANSACTION_CONFLICT'],
    ]);
    expect(res.errors[0].message).toMatch(/in-a came in row 1/);
    // The first of the rows is the one stored.
    expect(await stored('pos-in', 'in-a')).toEqual([
      expect.objectContaining({ amount_fen: 30_000, volume_ml: 40_000, org_unit_id: tree.station1 }),
    ]);
    const batch = await ctx.db.kysely
      .selectFrom('ingest_batch')
      .selectAll()
      .where('id', '=', res.batchId)
      .executeTakeFirstOrThrow();
    expect(batch).toMatchObject({ rows_received: 6, inserted: 3, duplicates: 1, rejected: 2 });
    await expectRollupsMatchRows(ctx.db.kysely);
  });

  it('refuses a re-sent row whose time, station, card, plate, product, volume or amount changed', async () => {
    const first = [
      txn('x-same', { cardNo: '9000000001' }),
      txn('x-time'),
      txn('x-station'),
      txn('x-card', { cardNo: '9000000001' }),
      txn('x-plate', { plate: '冀A10001' }),
      txn('x-product'),
      txn('x-volume'),
      txn('x-amount'),
      txn('x-twice'),
    ];
    expect(await ok(send(ctx.app, keys.branch1, { source: 'pos-x', transactions: first }))).toMatchObject({
      inserted: 9,
      rejected: 0,
    });
    const before = await ctx.db.kysely
      .selectFrom('station_day')
      .selectAll()
      .orderBy('org_unit_id')
      .orderBy('day')
      .orderBy('product')
      .execute();
    const again = [
      txn('x-same', { cardNo: '9000 0000 01' }),
      txn('x-time', { occurredAt: at(660) }),
      txn('x-station', { stationCode: 'B1-A1-S2' }),
      txn('x-card', { cardNo: '9000000002' }),
      txn('x-plate', { plate: '冀A10002' }),
      txn('x-product', { product: '95#' }),
      txn('x-volume', { volumeLitres: 40.5, volumeMl: undefined }),
      txn('x-amount', { amountFen: 29_000 }),
      // A changed row sent twice: both copies are refused, neither counts as a duplicate.
      txn('x-twice', { payment: 'cash' }),
      txn('x-twice', { payment: 'cash' }),
    ];
    const res = await ok(send(ctx.app, keys.branch1, { source: 'pos-x', transactions: again }));
    expect(res).toMatchObject({ received: 10, inserted: 0, duplicates: 1, rejected: 9, conflicts: 9 });
    expect(errorsOf(res)).toEqual([
      [2, 'occurredAt', 'TRANSACTION_CONFLICT'],
      [3, 'stationCode', 'TRANSACTION_CONFLICT'],
      [4, 'cardNo', 'TRANSACTION_CONFLICT'],
      [5, 'plate', 'TRANSACTION_CONFLICT'],
      [6, 'product', 'TRANSACTION_CONFLICT'],
      [7, 'volumeMl', 'TRANSACTION_CONFLICT'],
      [8, 'amountFen', 'TRANSACTION_CONFLICT'],
      [9, 'payment', 'TRANSACTION_CONFLICT'],
      [10, 'payment', 'TRANSACTION_CONFLICT'],
    ]);
    expect(res.errors.map((e: RowError) => e.externalId)).toEqual([
      'x-time',
      'x-station',
      'x-card',
      'x-plate',
      'x-product',
      'x-volume',
      'x-amount',
      'x-twice',
      'x-twice',
    ]);
    expect(
      await ctx.db.kysely
        .selectFrom('station_day')
        .selectAll()
        .orderBy('org_unit_id')
        .orderBy('day')
        .orderBy('product')
        .execute(),
    ).toEqual(before);
    expect(await stored('pos-x', 'x-product')).toEqual([expect.objectContaining({ product: '92#' })]);
    await expectRollupsMatchRows(ctx.db.kysely);
  });

  it(`judges repeats on the COPY path (${COPY_FROM_ROWS} rows or more) and across the chunks of an NDJSON batch`, async () => {
    const queries = vi.spyOn(pg.Client.prototype, 'query');
    const copies = () =>
      queries.mock.calls.filter(([q]) =>
        /^copy fuel_transaction\b/.test(String((q as { text?: string } | null)?.text ?? '')),
      ).length;
    try {
      const n = COPY_FROM_ROWS + 100;
      const rows = Array.from({ length: n }, (_, i) =>
        txn(`c-${i}`, { occurredAt: at(2000 + i), volumeMl: 20_000 + i, amountFen: 15_000 + i }),
      );
      // One chunk: the repeats within it are judged before the COPY, which then meets no row on file.
      const first = await ok(
        send(ctx.app, keys.branch1, {
          source: 'copy-x',
          transactions: [...rows, rows[5], { ...rows[6]!, amountFen: 1 }],
        }),
      );
      expect(first).toMatchObject({ received: n + 2, inserted: n, duplicates: 1, rejected: 1, conflicts: 1 });
      expect(errorsOf(first)).toEqual([[n + 2, 'amountFen', 'TRANSACTION_CONFLICT']]);
      expect(copies()).toBe(engine === 'postgres' ? 1 : 0);

      // The same external ids from another sender are that sender's own: its COPY meets nothing on file.
      const other = rows.map((r) => ({ ...r, stationCode: 'B2-A1-S1' }));
      expect(await ok(send(ctx.app, keys.station3, { source: 'copy-x', transactions: other }))).toMatchObject({
        inserted: n,
        duplicates: 0,
        conflicts: 0,
      });
      expect(copies()).toBe(engine === 'postgres' ? 2 : 0);

      // All of it again with 100 new rows and 3 changed: the COPY meets the rows on file and the insert
      // takes over; the changed rows are refused, the rest are duplicates.
      const fresh = Array.from({ length: 100 }, (_, i) => txn(`c-new-${i}`, { occurredAt: at(5000 + i) }));
      const again = [...rows, ...fresh];
      again[10] = { ...again[10]!, volumeMl: 1 };
      again[20] = { ...again[20]!, product: '0#柴油' };
      again[30] = { ...again[30]!, stationCode: 'B1-A1-S2' };
      const res = await ok(send(ctx.app, keys.branch1, { source: 'copy-x', transactions: again }));
      expect(res).toMatchObject({ received: n + 100, inserted: 100, duplicates: n - 3, rejected: 3, conflicts: 3 });
      expect(errorsOf(res)).toEqual([
        [11, 'volumeMl', 'TRANSACTION_CONFLICT'],
        [21, 'product', 'TRANSACTION_CONFLICT'],
        [31, 'stationCode', 'TRANSACTION_CONFLICT'],
      ]);
      expect(copies()).toBe(engine === 'postgres' ? 3 : 0);

      // One NDJSON batch of 1,100 rows is two chunks (1,000 by COPY, then 100): repeats in the second
      // chunk of rows from the first are judged against what the first stored.
      const long = Array.from({ length: 1100 }, (_, i) => txn(`nd-${i}`, { occurredAt: at(9000 + i) }));
      long[1050] = { ...long[3]!, amountFen: 12_345 };
      long[1060] = long[4]!;
      const nd = await ok(
        sendNdjson(
          ctx.app,
          keys.branch1,
          'copy-nd',
          long.map((r) => JSON.stringify(r)),
        ),
      );
      expect(nd).toMatchObject({ received: 1100, inserted: 1098, duplicates: 1, rejected: 1, conflicts: 1 });
      expect(errorsOf(nd)).toEqual([[1051, 'amountFen', 'TRANSACTION_CONFLICT']]);
      expect(copies()).toBe(engine === 'postgres' ? 4 : 0);
    } finally {
      queries.mockRestore();
    }
    const count = await ctx.db.kysely
      .selectFrom('fuel_transaction')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('source', '=', 'copy-x')
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(2 * (COPY_FROM_ROWS + 100) + 100);
    await expectRollupsMatchRows(ctx.db.kysely);
  });

  it('books a sale only at a station: a key above stations must name one, a station key may omit it', async () => {
    const res = await ok(
      send(ctx.app, keys.area1, {
        source: 'pos-st',
        transactions: [
          txn('st-1', { stationCode: undefined }),
          txn('st-2', { stationCode: 'B1-A1' }),
          txn('st-3', { stationCode: 'B1-A1-S2' }),
        ],
      }),
    );
    expect(res).toMatchObject({ received: 3, inserted: 1, rejected: 2 });
    expect(res.errors).toEqual([
      {
        row: 1,
        externalId: 'st-1',
        field: 'stationCode',
        code: 'STATION_REQUIRED',
        message: expect.stringMatching(/area/),
      },
      { row: 2, externalId: 'st-2', field: 'stationCode', code: 'NOT_A_STATION', message: expect.any(String) },
    ]);
    for (const key of [keys.hq, keys.branch1]) {
      const above = await ok(
        send(ctx.app, key, { source: 'pos-st', transactions: [txn('st-4', { stationCode: undefined })] }),
      );
      expect(above).toMatchObject({
        inserted: 0,
        rejected: 1,
        errors: [{ row: 1, field: 'stationCode', code: 'STATION_REQUIRED' }],
      });
    }
    const rows = await ctx.db.kysely
      .selectFrom('fuel_transaction')
      .select(['external_id', 'org_unit_id'])
      .where('source', '=', 'pos-st')
      .execute();
    expect(rows).toEqual([{ external_id: 'st-3', org_unit_id: tree.station2 }]);
    const own = await ok(
      send(ctx.app, keys.station3, { source: 'pos-st', transactions: [txn('st-5', { stationCode: undefined })] }),
    );
    expect(own).toMatchObject({ inserted: 1, rejected: 0 });
    expect((await stored('pos-st', 'st-5'))[0]).toMatchObject({ org_unit_id: tree.station3, namespace: tree.station3 });
  });

  it('keys top-ups the same way: separate senders, duplicates and conflicts, stations', async () => {
    const t = (externalId: string, extra: Record<string, unknown> = {}) => ({
      externalId,
      occurredAt: '2026-10-15T09:00:00+08:00',
      stationCode: 'B1-A1-S1',
      cardNo: '9000000001',
      amountFen: 100_000,
      ...extra,
    });
    const early = await ok(
      sendTopups(ctx.app, keys.station1, {
        source: 'ic',
        topups: [t('future-1', { stationCode: undefined, amountFen: 1 })],
      }),
    );
    expect(early).toMatchObject({ inserted: 1, rejected: 0 });
    const genuine = await ok(
      sendTopups(ctx.app, keys.hq, { source: 'ic', topups: [t('future-1', { stationCode: 'B1-A1-S2' })] }),
    );
    expect(genuine).toMatchObject({ inserted: 1, duplicates: 0, conflicts: 0, errors: [] });
    const topups = await ctx.db.kysely
      .selectFrom('card_topup')
      .select(['namespace', 'org_unit_id', 'amount_fen'])
      .where('external_id', '=', 'future-1')
      .orderBy('id')
      .execute();
    expect(topups).toEqual([
      { namespace: tree.station1, org_unit_id: tree.station1, amount_fen: 1 },
      { namespace: tree.hq, org_unit_id: tree.station2, amount_fen: 100_000 },
    ]);

    const batch = [
      t('tu-1'),
      t('tu-2'),
      t('tu-1'),
      t('tu-1', { bonusFen: 500 }),
      t('tu-3', { stationCode: undefined }),
    ];
    const res = await ok(sendTopups(ctx.app, keys.area1, { source: 'ic', topups: batch }));
    expect(res).toMatchObject({ received: 5, inserted: 2, duplicates: 1, rejected: 2, conflicts: 1 });
    expect(errorsOf(res)).toEqual([
      [4, 'bonusFen', 'TOPUP_CONFLICT'],
      [5, 'stationCode', 'STATION_REQUIRED'],
    ]);
    const again = await ok(
      sendTopups(ctx.app, keys.area1, {
        source: 'ic',
        topups: [t('tu-1'), t('tu-2', { amountFen: 99_999, cardNo: '9000000002' })],
      }),
    );
    expect(again).toMatchObject({ inserted: 0, duplicates: 1, rejected: 1, conflicts: 1 });
    expect(errorsOf(again)).toEqual([
      [2, 'cardNo', 'TOPUP_CONFLICT'],
      [2, 'amountFen', 'TOPUP_CONFLICT'],
    ]);
    const days = await sql<
      Record<string, unknown>
    >`select sum(amount_fen) as a, sum(topup_count) as n from station_day_topup`.execute(ctx.db.kysely);
    const rows = await sql<Record<string, unknown>>`select sum(amount_fen) as a, count(*) as n from card_topup`.execute(
      ctx.db.kysely,
    );
    expect({ a: Number(days.rows[0]!.a), n: Number(days.rows[0]!.n) }).toEqual({
      a: Number(rows.rows[0]!.a),
      n: Number(rows.rows[0]!.n),
    });
  });

  it('gives imported rows the importing unit’s namespace, and finds rows imported before namespaces', async () => {
    const importRows = async (unit: number, values: Record<string, unknown>[]) =>
      ctx.db.kysely.transaction().execute((trx) =>
        new TransactionRowImporter(transactionSinkOf(ctx.db), unit).apply(
          trx,
          values.map((value, i) => ({ rowNumber: i + 2, value })),
          true,
        ),
      );
    const row = (externalId: string, extra: Record<string, unknown> = {}) => ({
      externalId,
      occurredAt: '2026-11-20 08:00',
      stationCode: 'B1-A1-S1',
      product: '92#',
      volumeMl: 30_000,
      amountFen: 24_000,
      ...extra,
    });
    expect(
      await importRows(tree.branch1, [row('imp-1'), row('imp-2'), row('imp-3', { stationCode: undefined })]),
    ).toMatchObject({
      inserted: 2,
      duplicates: 0,
      problems: [{ row: 4, field: 'stationCode' }],
    });
    const again = await importRows(tree.branch1, [row('imp-1'), row('imp-2', { amountFen: 1 })]);
    expect(again).toMatchObject({
      inserted: 0,
      duplicates: 1,
      // Worded when read (problems.ts): a conflict with the row on file, under the import's name of the field.
      problems: [{ row: 3, field: 'amount', message: expect.stringMatching(/^\{"c":"CONFLICT".*"firstRow":0/) }],
    });
    // Another unit's import has its own namespace.
    expect(await importRows(tree.station1, [row('imp-1', { stationCode: undefined })])).toMatchObject({
      inserted: 1,
      problems: [],
    });
    const namespaces = await ctx.db.kysely
      .selectFrom('fuel_transaction')
      .select('namespace')
      .where('source', '=', 'import')
      .where('external_id', '=', 'imp-1')
      .orderBy('id')
      .execute();
    expect(namespaces.map((r) => r.namespace)).toEqual([tree.branch1, tree.station1]);

    // A row imported before namespaces (namespace 0) is found by a later import of the same file.
    await ctx.db.kysely
      .updateTable('fuel_transaction')
      .set({ namespace: 0 })
      .where('source', '=', 'import')
      .where('external_id', '=', 'imp-2')
      .execute();
    expect(await importRows(tree.hq, [row('imp-2')])).toMatchObject({ inserted: 0, duplicates: 1, problems: [] });
    expect(await importRows(tree.hq, [row('imp-2', { volumeMl: 1 })])).toMatchObject({
      inserted: 0,
      duplicates: 0,
      problems: [{ field: 'volumeLitres' }],
    });

    const topups = (unit: number, values: Record<string, unknown>[]) =>
      ctx.db.kysely.transaction().execute((trx) =>
        new TopupRowImporter(topupSinkOf(ctx.db), unit).apply(
          trx,
          values.map((value, i) => ({ rowNumber: i + 2, value })),
          true,
        ),
      );
    const topup = {
      externalId: 'imp-t',
      occurredAt: '2026-11-20 08:00',
      stationCode: 'B1-A1-S1',
      cardNo: '9000000001',
      amountFen: 5_000,
    };
    expect(await topups(tree.branch1, [topup, topup])).toMatchObject({ inserted: 1, duplicates: 1, problems: [] });
    expect(await topups(tree.branch1, [{ ...topup, amountFen: 6_000 }])).toMatchObject({
      inserted: 0,
      problems: [{ row: 2, field: 'amount' }],
    });
    await expectRollupsMatchRows(ctx.db.kysely);
  });
});

/** The migrations before `upTo` in src/server/db/migrations by name, as migrate.ts lists them. */
async function migrationsBefore(upTo: string): Promise<Record<string, Migration>> {
  const dir = path.resolve(import.meta.dirname, '../../src/server/db/migrations');
  const out: Record<string, Migration> = {};
  for (const f of fs
    .readdirSync(dir)
    .filter((x) => /^\d{4}-.*\.ts$/.test(x) && x < upTo)
    .sort()) {
    out[f.slice(0, -'.ts'.length)] = (await import(path.join(dir, f))) as Migration;
  }
  return out;
}

describeEngines('migration 0017 (ingest namespaces) on rows already on file', (engine) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await openFresh(engine));
  });
  afterAll(() => close());

  it('gives each row its batch key’s unit (0 without a key), keeps references and ids, keys by namespace', async () => {
    const migrations = await migrationsBefore('0017');
    const migrator = new Migrator({
      db: db.kysely,
      provider: { getMigrations: async () => migrations },
      migrationTableName: 'schema_migration',
      migrationLockTableName: 'schema_migration_lock',
    });
    expect((await migrator.migrateToLatest()).error).toBeUndefined();

    const k = db.kysely;
    const now = '2026-11-20T00:00:00.000Z';
    const run = (text: string) => sql.raw(text).execute(k);
    await run(`insert into org_level_kind (code, name_zh, name_en, rank)
      values ('hq', '总公司', 'HQ', 1), ('station', '加油站', 'Station', 4)`);
    await run(`insert into org_unit (id, parent_id, kind_code, code, name, time_zone, path, depth, created_at, updated_at)
      values (1, null, 'hq', 'HQ', '总公司', 'Asia/Shanghai', '/1/', 1, '${now}', '${now}'),
             (2, 1, 'station', 'S1', '一站', 'Asia/Shanghai', '/1/2/', 2, '${now}', '${now}')`);
    await run(`insert into api_key (id, org_unit_id, name, key_prefix, key_hash, created_at)
      values (1, 2, 'station', 'fck_a', 'h1', '${now}'), (2, 1, 'hq', 'fck_b', 'h2', '${now}')`);
    await run(`insert into ingest_batch (id, source, api_key_id, received_at)
      values (1, 'pos', 1, '${now}'), (2, 'pos', 2, '${now}')`);
    await run(`insert into customer (id, org_unit_id, code, kind, created_at, updated_at)
      values (1, 2, 'C1', 'individual', '${now}', '${now}')`);
    const txn = (id: number, source: string, ext: string, batch: number | null) =>
      `(${id}, '${source}', '${ext}', '2026-11-20T00:30:00.000Z', '2026-11-20', 2, 1, null, null, '92#', 'retail', ` +
      `40000, null, 30000, null, null, ${batch ?? 'null'}, '${now}')`;
    const kept = [
      txn(1, 'pos', 'x-1', 1),
      txn(2, 'pos', 'x-2', 2),
      txn(3, 'pump', '7', null),
      txn(4, 'import', 'h:1', null),
    ];
    await run(`insert into fuel_transaction (id, source, external_id, occurred_at, business_day, org_unit_id, customer_id,
        card_no, plate, product, business_line, volume_ml, unit_price_fen, amount_fen, payment, visit_id, ingest_batch_id,
        created_at)
      values ${[...kept, txn(5, 'pos', 'x-5', 1)].join(', ')}`);
    // The last row went (a replaced fill-up, say): its id is never handed out again.
    await run(`delete from fuel_transaction where id = 5`);
    await run(`insert into customer_merge (id, survivor_id, merged_id, snapshot, at) values (1, 1, 1, '{}', '${now}')`);
    await run(`insert into customer_merge_txn (merge_id, txn_id) values (1, 1), (1, 3)`);
    await run(`insert into card_topup (source, external_id, occurred_at, business_day, org_unit_id, card_no, amount_fen,
        ingest_batch_id, created_at)
      values ('ic', 't-1', '${now}', '2026-11-20', 2, '9000000001', 100, 1, '${now}'),
             ('import', 't-2', '${now}', '2026-11-20', 2, '9000000001', 100, null, '${now}')`);
    if (engine === 'postgres') {
      await run(`select setval('fuel_transaction_id_seq', 5)`);
      await run(`select setval('ingest_batch_id_seq', 2)`);
    }

    const applied = await migrateToLatest(db);
    expect(applied).toContain('0017-ingest-namespace');

    const txns = await k
      .selectFrom('fuel_transaction')
      .select(['id', 'namespace', 'source', 'external_id'])
      .orderBy('id')
      .execute();
    expect(txns).toEqual([
      { id: 1, namespace: 2, source: 'pos', external_id: 'x-1' },
      { id: 2, namespace: 1, source: 'pos', external_id: 'x-2' },
      { id: 3, namespace: 0, source: 'pump', external_id: '7' },
      { id: 4, namespace: 0, source: 'import', external_id: 'h:1' },
    ]);
    const merged = await k.selectFrom('customer_merge_txn').select('txn_id').orderBy('txn_id').execute();
    expect(merged.map((r) => r.txn_id)).toEqual([1, 3]);
    const topups = await k
      .selectFrom('card_topup')
      .select(['namespace', 'external_id'])
      .orderBy('external_id')
      .execute();
    expect(topups).toEqual([
      { namespace: 2, external_id: 't-1' },
      { namespace: 0, external_id: 't-2' },
    ]);
    // The indexes came back with the table.
    const indexes =
      engine === 'sqlite'
        ? (
            await sql<{
              name: string;
            }>`select name from sqlite_master where type = 'index' and tbl_name = 'fuel_transaction'`.execute(k)
          ).rows
        : (
            await sql<{
              name: string;
            }>`select indexname as name from pg_indexes where tablename = 'fuel_transaction'`.execute(k)
          ).rows;
    expect(indexes.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        'fuel_transaction_pump_idx',
        'fuel_transaction_unit_day_idx',
        'fuel_transaction_customer_idx',
      ]),
    );
    // Foreign keys are on again after the rebuild.
    if (engine === 'sqlite')
      expect(Number((await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(k)).rows[0]?.foreign_keys)).toBe(
        1,
      );

    // The station's sale sent again by the station's key is a duplicate; the same key from HQ's key is HQ's own.
    const ingest = new IngestService(k, db.engine);
    const sale = {
      externalId: 'x-1',
      occurredAt: '2026-11-20T00:30:00.000Z',
      stationCode: 'S1',
      product: '92#',
      volumeMl: 40_000,
      amountFen: 30_000,
    };
    expect(await ingest.ingest({ source: 'pos', rows: [sale], senderUnitId: 2, scopePath: '/1/2/' })).toMatchObject({
      inserted: 0,
      duplicates: 1,
      rejected: 0,
    });
    const hq = await ingest.ingest({ source: 'pos', rows: [sale], senderUnitId: 1, scopePath: '/1/' });
    expect(hq).toMatchObject({ inserted: 1, duplicates: 0, rejected: 0 });
    const newest = await k
      .selectFrom('fuel_transaction')
      .select(['id', 'namespace'])
      .where('external_id', '=', 'x-1')
      .where('namespace', '=', 1)
      .executeTakeFirstOrThrow();
    expect(newest.id).toBeGreaterThan(5);
    // The same key twice in one namespace is refused by the engine itself.
    await expect(
      sql`insert into fuel_transaction (namespace, source, external_id, occurred_at, business_day, org_unit_id, product,
          volume_ml, created_at)
        values (1, 'pos', 'x-1', ${now}, '2026-11-20', 2, '92#', 1, ${now})`.execute(k),
    ).rejects.toThrow(/unique/i);
    const topup = new TopupsService(k, db.engine);
    const again = { externalId: 't-1', occurredAt: now, stationCode: 'S1', cardNo: '9000000001', amountFen: 100 };
    expect(await topup.ingest({ source: 'ic', rows: [again], senderUnitId: 2, scopePath: '/1/2/' })).toMatchObject({
      inserted: 0,
      duplicates: 1,
    });
  });
});
