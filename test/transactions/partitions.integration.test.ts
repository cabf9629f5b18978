// Monthly partitions of fuel_transaction on PostgreSQL (migration 0035, the partitions job): an
// installation holding rows is converted with its ids, references, indexes and sequence; an empty one
// gets this month, the 24 before it, three ahead and DEFAULT; a sale's key stays unique across months, so a repeat
// with another time is a conflict and never a second row, on the COPY path and the insert path
// alike; the job adds months ahead once and gives DEFAULT's months a partition of their own. On
// SQLite the migration and the job change nothing.
import { afterAll, beforeAll, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import { describeEngines, openFresh } from '../helpers/engines.js';
import { expectRollupsMatchRows } from './helpers.js';
import { COPY_FROM_ROWS } from '../../src/server/modules/transactions/transactions.queries.js';
import { IngestService } from '../../src/server/modules/transactions/ingest.service.js';
import {
  addMonths,
  ensurePartitions,
  nextMonth,
  partitionMonths,
} from '../../src/server/modules/transactions/partitions.js';
import { transactionPartitionsJob } from '../../src/server/modules/transactions/partitions.job.js';
import { runJob } from '../../src/server/jobs/job-runner.js';
import { migrateToLatest } from '../../src/server/db/migrate.js';
import type { Database } from '../../src/server/db/schema.js';
import type { Db } from '../../src/server/db/connection.js';

const NOW = '2026-11-20T00:00:00.000Z';

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

/** HQ (1) and one station (2) in Shanghai, written directly. */
async function units(k: Kysely<Database>): Promise<void> {
  await sql`insert into org_level_kind (code, name_zh, name_en, rank)
    values ('hq', '总公司', 'HQ', 1), ('station', '加油站', 'Station', 4) on conflict do nothing`.execute(k);
  await sql`insert into org_unit (id, parent_id, kind_code, code, name, time_zone, path, depth, created_at, updated_at)
    values (1, null, 'hq', 'HQ', '总公司', 'Asia/Shanghai', '/1/', 1, ${NOW}, ${NOW}),
           (2, 1, 'station', 'S1', '一站', 'Asia/Shanghai', '/1/2/', 2, ${NOW}, ${NOW})`.execute(k);
}

const count = async (k: Kysely<Database>, table: 'fuel_transaction' | 'fuel_transaction_key') =>
  Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(k)).rows[0]!.n);

/** The partition (PostgreSQL) each row of these external ids sits in. */
async function partitionsOf(k: Kysely<Database>, ids: string[]): Promise<Record<string, string>> {
  const { rows } = await sql<{ external_id: string; part: string }>`select external_id, tableoid::regclass::text as part
    from fuel_transaction where external_id in (${sql.join(ids)})`.execute(k);
  return Object.fromEntries(rows.map((r) => [r.external_id, r.part]));
}

const sale = (externalId: string, occurredAt: string, extra: Record<string, unknown> = {}) => ({
  externalId,
  occurredAt,
  stationCode: 'S1',
  product: '92#',
  volumeMl: 40_000,
  amountFen: 30_000,
  ...extra,
});

describeEngines('monthly partitions: migration 0035 on rows already on file', (engine) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await openFresh(engine));
  });
  afterAll(() => close());

  it('converts the table with its ids, references, indexes and sequence; repeats stay single', async () => {
    const migrator = new Migrator({
      db: db.kysely,
      provider: { getMigrations: () => migrationsBefore('0035') },
      migrationTableName: 'schema_migration',
      migrationLockTableName: 'schema_migration_lock',
    });
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const k = db.kysely;
    await units(k);
    await sql`insert into customer (id, org_unit_id, code, kind, created_at, updated_at)
      values (1, 2, 'C1', 'individual', ${NOW}, ${NOW})`.execute(k);
    const txn = (id: number, ns: number, source: string, ext: string, at: string, customer: number | null) =>
      sql`(${id}, ${ns}, ${source}, ${ext}, ${at}, ${at.slice(0, 10)}, 2, ${customer}, '92#', 40000, 30000, ${NOW})`;
    await sql`insert into fuel_transaction (id, namespace, source, external_id, occurred_at, business_day, org_unit_id,
        customer_id, product, volume_ml, amount_fen, created_at)
      values ${sql.join([
        txn(1, 2, 'pos', 'x-1', '2025-01-15T02:00:00.000Z', 1),
        txn(2, 1, 'pos', 'x-2', '2026-11-20T02:00:00.000Z', 1),
        txn(3, 0, 'pump', '7', '2026-11-20T03:00:00.000Z', 1),
        txn(4, 2, 'pos', 'x-4', '2026-12-01T02:00:00.000Z', null),
        txn(5, 2, 'pos', 'x-5', '2026-12-02T02:00:00.000Z', null),
        // A stray date: its month gets no partition from the migration (DEFAULT holds it).
        txn(6, 2, 'pos', 'x-6', '2001-03-03T02:00:00.000Z', null),
      ])}`.execute(k);
    await sql`delete from fuel_transaction where id = 5`.execute(k);
    await sql`insert into customer_merge (id, survivor_id, merged_id, snapshot, at) values (1, 1, 1, '{}', ${NOW})`.execute(
      k,
    );
    await sql`insert into customer_merge_txn (merge_id, txn_id) values (1, 1), (1, 3)`.execute(k);
    if (engine === 'postgres') await sql`select setval('fuel_transaction_id_seq', 6)`.execute(k);
    const before = await k.selectFrom('fuel_transaction').selectAll().orderBy('id').execute();

    expect(await migrateToLatest(db)).toContain('0035-monthly-partitions');

    expect(await k.selectFrom('fuel_transaction').selectAll().orderBy('id').execute()).toEqual(before);
    const merged = await k.selectFrom('customer_merge_txn').select('txn_id').orderBy('txn_id').execute();
    expect(merged.map((r) => r.txn_id)).toEqual([1, 3]);
    if (engine === 'postgres') {
      const kind = await sql<{
        relkind: string;
      }>`select relkind from pg_class where relname = 'fuel_transaction'`.execute(k);
      expect(kind.rows[0]!.relkind).toBe('p');
      // A partition per month from the oldest row (or 24 months back) to three months past today (or past the newest row).
      const months = await partitionMonths(k);
      const today = new Date().toISOString().slice(0, 7);
      const last = addMonths(today > '2026-12' ? today : '2026-12', 3);
      expect(months[0]).toBe(addMonths(today, -24) < '2025-01' ? addMonths(today, -24) : '2025-01');
      expect(months.at(-1)).toBe(last);
      for (let i = 1; i < months.length; i++) expect(months[i]).toBe(nextMonth(months[i - 1]!));
      expect(await partitionsOf(k, ['x-1', 'x-2', 'x-4', 'x-6'])).toEqual({
        'x-6': 'fuel_transaction_default',
        'x-1': 'fuel_transaction_p2025_01',
        'x-2': 'fuel_transaction_p2026_11',
        'x-4': 'fuel_transaction_p2026_12',
      });
      const parts = await sql<{ name: string }>`select c.relname as name from pg_inherits i
        join pg_class c on c.oid = i.inhrelid where i.inhparent = 'fuel_transaction'::regclass`.execute(k);
      expect(parts.rows.map((r) => r.name)).toContain('fuel_transaction_default');
      // The keys, with each row's id and day.
      expect(await k.selectFrom('fuel_transaction_key').selectAll().orderBy('txn_id').execute()).toEqual([
        { namespace: 2, source: 'pos', external_id: 'x-1', txn_id: 1, business_day: '2025-01-15' },
        { namespace: 1, source: 'pos', external_id: 'x-2', txn_id: 2, business_day: '2026-11-20' },
        { namespace: 0, source: 'pump', external_id: '7', txn_id: 3, business_day: '2026-11-20' },
        { namespace: 2, source: 'pos', external_id: 'x-4', txn_id: 4, business_day: '2026-12-01' },
        { namespace: 2, source: 'pos', external_id: 'x-6', txn_id: 6, business_day: '2001-03-03' },
      ]);
      const indexes = await sql<{ name: string }>`select indexname as name from pg_indexes
        where tablename = 'fuel_transaction'`.execute(k);
      expect(indexes.rows.map((r) => r.name).sort()).toEqual(
        [
          'fuel_transaction_customer_idx',
          'fuel_transaction_pkey',
          'fuel_transaction_pump_idx',
          'fuel_transaction_unattached_card_idx',
          'fuel_transaction_unattached_plate_idx',
          'fuel_transaction_unit_day_idx',
        ].sort(),
      );
      // Foreign keys came back: a row for a unit that does not exist is refused.
      await expect(
        sql`insert into fuel_transaction (namespace, source, external_id, occurred_at, business_day, org_unit_id,
            product, volume_ml, created_at) values (9, 'pos', 'orphan', ${NOW}, '2026-11-20', 999, '92#', 1, ${NOW})`.execute(
          k,
        ),
      ).rejects.toThrow(/foreign key/i);
      // A row deleted takes its key and merge entries with it (as the cascade did).
      await sql`delete from fuel_transaction where id = 3`.execute(k);
      expect(await count(k, 'fuel_transaction_key')).toBe(4);
      expect((await k.selectFrom('customer_merge_txn').select('txn_id').execute()).map((r) => r.txn_id)).toEqual([1]);
    } else {
      const tables = await sql<{ name: string }>`select name from sqlite_master
        where type = 'table' and name like 'fuel_transaction%'`.execute(k);
      expect(tables.rows.map((r) => r.name)).toEqual(['fuel_transaction']);
    }

    // The station's sale sent again: the same content is a duplicate; dated another month it is a
    // conflict, not a second row in that month's partition.
    const ingest = new IngestService(k, db.engine, () => new Date(NOW));
    const input = (rows: unknown[]) => ({ source: 'pos', rows, senderUnitId: 2, scopePath: '/1/2/' });
    expect(await ingest.ingest(input([sale('x-1', '2025-01-15T02:00:00.000Z')]))).toMatchObject({
      inserted: 0,
      duplicates: 1,
    });
    const moved = await ingest.ingest(input([sale('x-1', '2026-11-19T02:00:00.000Z')]));
    expect(moved).toMatchObject({ inserted: 0, duplicates: 0, rejected: 1, conflicts: 1 });
    expect(moved.errors.map((e) => e.code)).toEqual(['TRANSACTION_CONFLICT']);
    const fresh = await ingest.ingest(input([sale('x-new', '2026-11-19T02:00:00.000Z')]));
    expect(fresh).toMatchObject({ inserted: 1 });
    const newest = await k
      .selectFrom('fuel_transaction')
      .select('id')
      .where('external_id', '=', 'x-new')
      .executeTakeFirstOrThrow();
    expect(newest.id).toBeGreaterThan(6);
    expect(await k.selectFrom('fuel_transaction').select('id').where('external_id', '=', 'x-1').execute()).toHaveLength(
      1,
    );
  });
});

describeEngines('monthly partitions: keys across months, the job', (engine) => {
  let db: Db;
  let close: () => Promise<void>;
  let k: Kysely<Database>;
  beforeAll(async () => {
    ({ db, close } = await openFresh(engine));
    await migrateToLatest(db);
    k = db.kysely;
    await units(k);
  });
  afterAll(() => close());

  const ingest = () => new IngestService(k, db.engine, () => new Date(NOW));
  const input = (rows: unknown[], source = 'pos') => ({ source, rows, senderUnitId: 2, scopePath: '/1/2/' });

  it('an empty database has this month, 24 before it, three ahead and DEFAULT (PostgreSQL)', async () => {
    if (engine !== 'postgres') {
      expect(await ensurePartitions(k, new Date(NOW))).toEqual({ created: [], moved: 0 });
      return;
    }
    const today = new Date().toISOString().slice(0, 7);
    const want = Array.from({ length: 28 }, (_, i) => addMonths(today, i - 24));
    expect(await partitionMonths(k)).toEqual(want);
  });

  it('keeps a key single when the repeat falls in another month, on the COPY path and the insert path', async () => {
    const n = COPY_FROM_ROWS + 10;
    // Sales of October and November 2026 (November 1st 02:00 in Shanghai is still October 31st UTC).
    const rows = Array.from({ length: n }, (_, i) =>
      sale(`m-${i}`, new Date(Date.parse('2026-10-25T02:00:00.000Z') + i * 3_600_000).toISOString(), {
        volumeMl: 20_000 + i,
      }),
    );
    expect(await ingest().ingest(input(rows))).toMatchObject({ inserted: n, rejected: 0 });
    // All of them again, each a month later: every one a conflict, none stored (COPY meets the keys).
    const later = rows.map((r) => ({
      ...r,
      occurredAt: new Date(Date.parse(r.occurredAt) - 30 * 86_400_000).toISOString(),
    }));
    const res = await ingest().ingest(input([...later, sale('m-fresh', '2026-09-03T02:00:00.000Z')]));
    expect(res).toMatchObject({ inserted: 1, duplicates: 0, rejected: n, conflicts: n });
    expect(new Set(res.errors.map((e) => `${e.field}:${e.code}`))).toEqual(
      new Set(['occurredAt:TRANSACTION_CONFLICT']),
    );
    // A single repeat (the insert path, under COPY's threshold), old and then far back.
    for (const at of ['2026-08-01T02:00:00.000Z', '2019-05-05T02:00:00.000Z']) {
      expect(await ingest().ingest(input([sale('m-3', at, { volumeMl: 20_003 })]))).toMatchObject({
        inserted: 0,
        conflicts: 1,
      });
    }
    expect(await ingest().ingest(input([sale('m-3', rows[3]!.occurredAt, { volumeMl: 20_003 })]))).toMatchObject({
      inserted: 0,
      duplicates: 1,
    });
    expect(await count(k, 'fuel_transaction')).toBe(n + 1);
    // A sale long ago has no partition of its own yet: it lands in DEFAULT, the insert does not fail.
    expect(await ingest().ingest(input([sale('old-1', '2019-05-05T02:00:00.000Z')]))).toMatchObject({ inserted: 1 });
    // The engine itself refuses a second row with a key on file, whatever its day.
    await expect(
      sql`insert into fuel_transaction (namespace, source, external_id, occurred_at, business_day, org_unit_id,
          product, volume_ml, created_at)
        values (2, 'pos', 'm-3', '2030-01-01T00:00:00.000Z', '2030-01-01', 2, '92#', 1, ${NOW})`.execute(k),
    ).rejects.toThrow(/unique/i);
    if (engine === 'postgres') {
      expect(await count(k, 'fuel_transaction_key')).toBe(await count(k, 'fuel_transaction'));
      expect(await partitionsOf(k, ['old-1', 'm-0'])).toEqual({
        'old-1': 'fuel_transaction_default',
        'm-0': 'fuel_transaction_p2026_10',
      });
    }
    await expectRollupsMatchRows(k);
  });

  it('the job adds the months ahead once and gives DEFAULT’s months partitions of their own', async () => {
    const at = new Date('2031-06-10T01:30:00.000Z');
    const first = await runJob(k, transactionPartitionsJob, '2031-06-10', { now: at });
    if (engine !== 'postgres') {
      expect(first).toEqual({ status: 'done', detail: { created: [], moved: 0 } });
      return;
    }
    const total = await count(k, 'fuel_transaction');
    expect(first.status).toBe('done');
    const detail = (first as unknown as { detail: { created: string[]; moved: number } }).detail;
    // DEFAULT's month, then the 24 months before June 2031 and three after it.
    expect(detail.created[0]).toBe('2019-05');
    expect(detail.created.slice(1)).toEqual(Array.from({ length: 28 }, (_, i) => addMonths('2031-06', i - 24)));
    expect(detail.moved).toBe(1);
    const left = await sql<{ n: number }>`select count(*) as n from fuel_transaction_default`.execute(k);
    expect(Number(left.rows[0]!.n)).toBe(0);
    expect(await count(k, 'fuel_transaction')).toBe(total);
    // Moved rows keep their keys (the key triggers stand aside while rows leave DEFAULT).
    expect(await count(k, 'fuel_transaction_key')).toBe(total);
    expect(await partitionsOf(k, ['old-1', 'm-0'])).toEqual({
      'old-1': 'fuel_transaction_p2019_05',
      'm-0': 'fuel_transaction_p2026_10',
    });
    // The months in between stay without a partition of their own: a late sale of theirs would go to DEFAULT.
    expect(await partitionMonths(k)).not.toContain('2028-01');
    // The new partitions carry the indexes, keys and triggers: a repeat is still a duplicate, a changed one a conflict.
    expect(await ingest().ingest(input([sale('old-1', '2019-05-05T02:00:00.000Z')]))).toMatchObject({
      duplicates: 1,
    });
    await expect(
      sql`insert into fuel_transaction (namespace, source, external_id, occurred_at, business_day, org_unit_id,
          product, volume_ml, created_at)
        values (2, 'pos', 'old-1', '2031-07-01T00:00:00.000Z', '2031-07-01', 2, '92#', 1, ${NOW})`.execute(k),
    ).rejects.toThrow(/unique/i);
    // Again the next day: nothing to do.
    expect(await ensurePartitions(k, new Date('2031-06-11T01:30:00.000Z'))).toEqual({ created: [], moved: 0 });
    // A month later one more month ahead.
    expect(await ensurePartitions(k, new Date('2031-07-02T01:30:00.000Z'))).toEqual({ created: ['2031-10'], moved: 0 });
    await expectRollupsMatchRows(k);
  });
});
