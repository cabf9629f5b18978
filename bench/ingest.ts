// Transaction ingest with rollups, beside the raw engine loading the same rows in the same run.
// For each engine, two fresh databases get the migrations and the same customers (cards and plates);
// one is loaded raw (better-sqlite3 prepared inserts in one transaction per batch; PostgreSQL COPY),
// the other through IngestService.ingest: validation and normalisation of every row, station look-up,
// customer by card then plate, idempotent insert, replacement of hand-recorded fill-ups, and the
// rollups (customer_month, station_day, the customers' cadence) in the same transaction per chunk.
//   npx tsx bench/ingest.ts [--rows 5000000] [--customers 100000] [--batch 50000] [--chunk 20000] [--engines sqlite,postgres]
//   BENCH_INGEST_ROWS=200000 npm run bench -- ingest      (a quick run)
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { openDb, type Db } from '../src/server/db/connection.js';
import { prepareDatabase } from '../src/server/bootstrap.js';
import { bulkStatements, type BulkColumn } from '../src/server/db/dialect.js';
import { CHUNK_ROWS, IngestService } from '../src/server/modules/transactions/ingest.service.js';
import { transactionsQueries } from '../src/server/modules/transactions/transactions.queries.js';
import { businessDay } from '../src/domain/business-day.js';
import { freshDatabase } from './lib/fresh-db.js';

const { values: args } = parseArgs({
  strict: false,
  options: {
    rows: { type: 'string', default: process.env.BENCH_INGEST_ROWS ?? '5000000' },
    customers: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '50000' },
    chunk: { type: 'string', default: String(CHUNK_ROWS) },
    engines: { type: 'string', default: 'sqlite,postgres' },
    profile: { type: 'boolean', default: false },
  },
});
const ROWS = Number(args.rows);
const CUSTOMERS = Number(args.customers);
const BATCH = Number(args.batch);
const CHUNK = Number(args.chunk);
const STATIONS = 40;
const TZ = 'Asia/Shanghai';
const START = Date.UTC(2025, 10, 22);
const SPAN = 365 * 86_400_000;
const PRODUCTS = [
  ['92#', 760],
  ['92#', 760],
  ['95#', 810],
  ['0#柴油', 720],
  ['0#柴油', 720],
] as const;

function mulberry32(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERIAL = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ'; // plates never use I or O
/** A distinct valid plate for every i below 34^5. */
function plateOf(i: number): string {
  let serial = '';
  for (let n = i, k = 0; k < 5; k++, n = Math.floor(n / SERIAL.length)) serial = SERIAL[n % SERIAL.length]! + serial;
  return `冀${'ABCDEFGH'[i % 8]}${serial}`;
}
const cardOf = (i: number) => `9000${String(i).padStart(8, '0')}`;
/** Customer i has plate i; three in five also have a card. */
const hasCard = (i: number) => i % 5 < 3;

/** One sale as a POS or card system sends it, and the columns the raw engine stores for it. */
interface Generated {
  wire: Record<string, unknown>;
  raw: unknown[];
}

/** Rows `from`..`to` of the year, in time order; deterministic, so both loads get the same rows. */
function generate(from: number, to: number, stationIds: number[], customerIds: number[], namespace = 0): Generated[] {
  const rnd = mulberry32(from + 1);
  const out: Generated[] = [];
  for (let i = from; i < to; i++) {
    const timeMs = START + Math.floor((i / ROWS) * SPAN);
    const s = Math.floor(rnd() * STATIONS);
    const [product, price] = PRODUCTS[Math.floor(rnd() * PRODUCTS.length)]!;
    const volumeMl = 20_000 + Math.floor(rnd() * 180_000);
    const amountFen = Math.round((volumeMl / 1000) * price);
    const who = rnd();
    let cardNo: string | null = null;
    let plate: string | null = null;
    let customer: number | null = null;
    if (who < 0.7) {
      // A known customer, by card where he has one and uses it, else by plate.
      const c = Math.floor(rnd() * CUSTOMERS);
      customer = customerIds[c]!;
      if (hasCard(c) && rnd() < 0.8) cardNo = cardOf(c);
      else plate = plateOf(c);
    } else if (who < 0.85) {
      plate = plateOf(CUSTOMERS + Math.floor(rnd() * CUSTOMERS)); // a plate nobody has on file yet
    }
    const occurredAt = new Date(timeMs).toISOString();
    const day = businessDay(timeMs, TZ);
    const payment = cardNo ? 'card' : rnd() < 0.5 ? 'cash' : 'mobile';
    out.push({
      wire: {
        externalId: `T${i}`,
        occurredAt,
        stationCode: `S${s}`,
        ...(cardNo && { cardNo }),
        ...(plate && { plate }),
        product,
        volumeMl,
        unitPriceFen: price,
        amountFen,
        payment,
      },
      raw: [
        namespace,
        'bench',
        `T${i}`,
        occurredAt,
        day,
        stationIds[s],
        customer,
        cardNo,
        plate,
        product,
        'retail',
        volumeMl,
        price,
        amountFen,
        payment,
        null,
        null,
        occurredAt,
      ],
    });
  }
  return out;
}

const RAW_COLUMNS =
  'namespace, source, external_id, occurred_at, business_day, org_unit_id, customer_id, card_no, plate, product, business_line, volume_ml, unit_price_fen, amount_fen, payment, visit_id, ingest_batch_id, created_at';

/** The org tree (HQ and 40 stations) and the customers with their plates and cards. */
async function seed(
  db: Db,
): Promise<{ hq: { id: number; path: string }; stationIds: number[]; customerIds: number[] }> {
  await prepareDatabase(db);
  const k = db.kysely;
  const now = new Date().toISOString();
  const hq = await k
    .insertInto('org_unit')
    .values({
      parent_id: null,
      kind_code: 'hq',
      code: 'HQ',
      name: '总公司',
      time_zone: TZ,
      path: 'x',
      depth: 1,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await k
    .updateTable('org_unit')
    .set({ path: `/${hq.id}/` })
    .where('id', '=', hq.id)
    .execute();
  const stationIds: number[] = [];
  for (let s = 0; s < STATIONS; s++) {
    const r = await k
      .insertInto('org_unit')
      .values({
        parent_id: hq.id,
        kind_code: 'station',
        code: `S${s}`,
        name: `站${s}`,
        time_zone: TZ,
        path: 'x',
        depth: 2,
        created_at: now,
        updated_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await k
      .updateTable('org_unit')
      .set({ path: `/${hq.id}/${r.id}/` })
      .where('id', '=', r.id)
      .execute();
    stationIds.push(r.id);
  }
  const cols = (names: [string, BulkColumn['pg']][]) => names.map(([name, p]) => ({ name, pg: p }));
  const customerIds = Array.from({ length: CUSTOMERS }, (_, i) => i + 1);
  await k.transaction().execute(async (trx) => {
    const customers = customerIds.map((id, i) => [
      id,
      stationIds[i % STATIONS],
      `C${String(id).padStart(8, '0')}`,
      'individual',
      now,
      now,
    ]);
    for (const q of bulkStatements(
      db.engine,
      cols([
        ['id', 'bigint'],
        ['org_unit_id', 'bigint'],
        ['code', 'text'],
        ['kind', 'text'],
        ['created_at', 'timestamptz'],
        ['updated_at', 'timestamptz'],
      ]),
      customers,
      'insert into customer (id, org_unit_id, code, kind, created_at, updated_at) select * from v where true',
    ))
      await trx.executeQuery(q);
    const vehicles = customerIds.map((id, i) => [id, plateOf(i), [...plateOf(i)].reverse().join(''), 'standard', now]);
    for (const q of bulkStatements(
      db.engine,
      cols([
        ['customer_id', 'bigint'],
        ['plate', 'text'],
        ['plate_reversed', 'text'],
        ['plate_kind', 'text'],
        ['created_at', 'timestamptz'],
      ]),
      vehicles,
      'insert into vehicle (customer_id, plate, plate_reversed, plate_kind, created_at) select * from v where true',
    ))
      await trx.executeQuery(q);
    const cards = customerIds.filter((_, i) => hasCard(i)).map((id) => [id, cardOf(id - 1), now]);
    for (const q of bulkStatements(
      db.engine,
      cols([
        ['customer_id', 'bigint'],
        ['card_no', 'text'],
        ['created_at', 'timestamptz'],
      ]),
      cards,
      'insert into fuel_card (customer_id, card_no, created_at) select * from v where true',
    ))
      await trx.executeQuery(q);
  });
  // Ids were given explicitly; later customers must not collide with them.
  if (db.engine === 'postgres')
    await sql`select setval('customer_id_seq', (select max(id) from customer))`.execute(db.kysely);
  return { hq: { id: hq.id, path: `/${hq.id}/` }, stationIds, customerIds };
}

/** The rows straight into the table, in the namespace the ingest gives them (the sender's unit, here HQ). */
async function loadRaw(
  engine: 'sqlite' | 'postgres',
  url: string,
  stationIds: number[],
  customerIds: number[],
  namespace: number,
): Promise<number> {
  let ms = 0;
  if (engine === 'sqlite') {
    const raw = new SQLite(url);
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.pragma('foreign_keys = ON');
    raw.pragma('cache_size = -65536');
    const insert = raw.prepare(
      `insert into fuel_transaction (${RAW_COLUMNS}) values (${RAW_COLUMNS.split(',')
        .map(() => '?')
        .join(', ')})`,
    );
    const load = raw.transaction((rows: Generated[]) => {
      for (const r of rows) insert.run(r.raw);
    });
    for (let from = 0; from < ROWS; from += BATCH) {
      const rows = generate(from, Math.min(ROWS, from + BATCH), stationIds, customerIds, namespace);
      const t = performance.now();
      load(rows);
      ms += performance.now() - t;
    }
    raw.close();
    return ms;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const field = (v: unknown) => (v === null ? '\\N' : String(v));
  // Partitioned by month (migration 0035): the keys live in fuel_transaction_key. The least a writer
  // can do is what the ingest does — ids from the sequence, the rows by COPY, their keys by a second
  // COPY — rather than leave the keys to the per-row trigger.
  const keyed = (await client.query(`select to_regclass('fuel_transaction_key') as t`)).rows[0].t !== null;
  const at = (name: string) => RAW_COLUMNS.split(', ').indexOf(name);
  const keyCols = ['namespace', 'source', 'external_id', 'business_day'].map(at);
  for (let from = 0; from < ROWS; from += BATCH) {
    const rows = generate(from, Math.min(ROWS, from + BATCH), stationIds, customerIds, namespace);
    const t = performance.now();
    await client.query('begin');
    if (keyed) {
      await client.query(`select set_config('forecourt.txn_keys', 'written', true)`);
      const ids = (
        await client.query<{ id: string }>(
          `select nextval('fuel_transaction_id_seq') as id from generate_series(1, $1)`,
          [rows.length],
        )
      ).rows;
      const lines = function* () {
        for (let i = 0; i < rows.length; i += 1000)
          yield rows
            .slice(i, i + 1000)
            .map((r, j) => ids[i + j]!.id + '\t' + r.raw.map(field).join('\t') + '\n')
            .join('');
      };
      const keys = function* () {
        for (let i = 0; i < rows.length; i += 1000)
          yield rows
            .slice(i, i + 1000)
            .map((r, j) => {
              const [ns, src, ext, day] = keyCols.map((c) => field(r.raw[c]));
              return `${ns}\t${src}\t${ext}\t${ids[i + j]!.id}\t${day}\n`;
            })
            .join('');
      };
      await pipeline(
        Readable.from(lines()),
        client.query(copyFrom(`copy fuel_transaction (id, ${RAW_COLUMNS}) from stdin`)),
      );
      await pipeline(
        Readable.from(keys()),
        client.query(
          copyFrom(`copy fuel_transaction_key (namespace, source, external_id, txn_id, business_day) from stdin`),
        ),
      );
      await client.query('commit');
      ms += performance.now() - t;
      continue;
    }
    const lines = function* () {
      for (let i = 0; i < rows.length; i += 1000)
        yield rows
          .slice(i, i + 1000)
          .map((r) => r.raw.map(field).join('\t') + '\n')
          .join('');
    };
    await pipeline(Readable.from(lines()), client.query(copyFrom(`copy fuel_transaction (${RAW_COLUMNS}) from stdin`)));
    await client.query('commit');
    ms += performance.now() - t;
  }
  await client.end();
  return ms;
}

async function loadIngest(db: Db, hq: { id: number; path: string }, stationIds: number[], customerIds: number[]) {
  const svc = new IngestService(db.kysely, db.engine, () => new Date(), CHUNK);
  let ms = 0;
  const totals = { inserted: 0, duplicates: 0, rejected: 0, attached: 0 };
  for (let from = 0; from < ROWS; from += BATCH) {
    const rows = generate(from, Math.min(ROWS, from + BATCH), stationIds, customerIds).map((r) => r.wire);
    const t = performance.now();
    const res = await svc.ingest({ source: 'bench', rows, senderUnitId: hq.id, scopePath: hq.path });
    ms += performance.now() - t;
    totals.inserted += res.inserted;
    totals.duplicates += res.duplicates;
    totals.rejected += res.rejected;
    totals.attached += res.attached;
    if (res.rejected) throw new Error(`rows rejected: ${JSON.stringify(res.errors.slice(0, 3))}`);
  }
  // Re-sending a batch stores nothing.
  const again = generate(0, Math.min(ROWS, BATCH), stationIds, customerIds).map((r) => r.wire);
  const t = performance.now();
  const dup = await svc.ingest({ source: 'bench', rows: again, senderUnitId: hq.id, scopePath: hq.path });
  const resendMs = performance.now() - t;
  if (dup.inserted !== 0 || dup.duplicates !== again.length)
    throw new Error(`re-send stored rows: ${JSON.stringify(dup)}`);
  return { ms, totals, resend: { rows: again.length, ms: resendMs } };
}

async function check(db: Db) {
  const k = db.kysely;
  const txns = await k
    .selectFrom('fuel_transaction')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('volume_ml').as('v')])
    .executeTakeFirstOrThrow();
  const days = await k
    .selectFrom('station_day')
    .select((eb) => [eb.fn.sum<number>('txn_count').as('n'), eb.fn.sum<number>('volume_ml').as('v')])
    .executeTakeFirstOrThrow();
  const months = await k
    .selectFrom('customer_month')
    .select((eb) => eb.fn.sum<number>('txn_count').as('n'))
    .executeTakeFirstOrThrow();
  const attached = await k
    .selectFrom('fuel_transaction')
    .select((eb) => eb.fn.count<number>('customer_id').as('n'))
    .executeTakeFirstOrThrow();
  const visits = await k
    .selectFrom('customer')
    .select((eb) => [eb.fn.sum<number>('visit_count').as('n'), eb.fn.avg<number>('usual_interval_days').as('gap')])
    .executeTakeFirstOrThrow();
  if (Number(txns.n) !== Number(days.n) || Number(txns.v) !== Number(days.v))
    throw new Error('station_day does not add up to the rows');
  if (Number(attached.n) !== Number(months.n)) throw new Error('customer_month does not add up to the attached rows');
  return {
    rows: Number(txns.n),
    attached: Number(attached.n),
    visitDays: Number(visits.n),
    meanGap: Number(visits.gap),
  };
}

/** With --profile: the time spent in each query of the transaction module, summed over the ingest run. */
const profile = new Map<string, { calls: number; ms: number }>();
function startProfile(): void {
  const queries = transactionsQueries as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const [name, fn] of Object.entries(queries)) {
    queries[name] = (...a: unknown[]) => {
      const t = performance.now();
      const done = () => {
        const p = profile.get(name) ?? { calls: 0, ms: 0 };
        p.calls++;
        p.ms += performance.now() - t;
        profile.set(name, p);
      };
      const out = fn(...a);
      if (out instanceof Promise) return out.finally(done);
      done();
      return out;
    };
  }
}
function printProfile(totalMs: number): void {
  let inQueries = 0;
  for (const [name, p] of [...profile].sort((a, b) => b[1].ms - a[1].ms)) {
    inQueries += p.ms;
    console.log(
      `    ${name.padEnd(24)} ${String(p.calls).padStart(6)} calls ${(p.ms / 1000).toFixed(2).padStart(7)} s  ${((100 * p.ms) / totalMs).toFixed(1).padStart(5)}%`,
    );
  }
  console.log(
    `    ${'(outside these queries)'.padEnd(24)} ${''.padStart(12)} ${((totalMs - inQueries) / 1000).toFixed(2).padStart(7)} s  ${((100 * (totalMs - inQueries)) / totalMs).toFixed(1).padStart(5)}%`,
  );
  profile.clear();
}
if (args.profile) startProfile();

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * Before each timed load: the operating system writes out what earlier steps left dirty (a dropped
 * 3 GB database is still being written back otherwise) and PostgreSQL checkpoints, so neither load
 * pays for what came before it.
 */
async function settle(engine: 'sqlite' | 'postgres', url: string): Promise<void> {
  if (engine === 'postgres') {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('checkpoint');
    } catch (e) {
      console.log(`  (no checkpoint before the load: ${(e as Error).message})`);
    } finally {
      await client.end();
    }
  }
  execFileSync('sync');
}

async function runEngine(engine: 'sqlite' | 'postgres') {
  console.log(`\n== ${engine} ==`);
  const rawDb = await freshDatabase(engine, 'raw');
  const ingestDb = await freshDatabase(engine, 'ingest');
  try {
    let db = openDb({ url: rawDb.url });
    const seeded = await seed(db);
    await db.close();
    await settle(engine, rawDb.url);
    const rawMs = await loadRaw(engine, rawDb.url, seeded.stationIds, seeded.customerIds, seeded.hq.id);
    await rawDb.drop();

    db = openDb({ url: ingestDb.url });
    const t0 = performance.now();
    await seed(db);
    console.log(
      `  seeded ${fmt(CUSTOMERS)} customers (${fmt(CUSTOMERS)} plates, ${fmt((CUSTOMERS * 3) / 5)} cards) and ${STATIONS} stations in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    await settle(engine, ingestDb.url);
    const ing = await loadIngest(db, seeded.hq, seeded.stationIds, seeded.customerIds);
    const facts = await check(db);
    await db.close();

    const rawRate = (ROWS / rawMs) * 1000;
    const ingRate = (ROWS / ing.ms) * 1000;
    console.log(
      `  raw ${engine === 'sqlite' ? 'prepared inserts' : 'COPY'} (baseline)  ${fmt(ROWS)} rows in ${(rawMs / 1000).toFixed(1)} s  ${fmt(rawRate).padStart(9)} rows/s`,
    );
    console.log(
      `  ingest with rollups          ${fmt(ROWS)} rows in ${(ing.ms / 1000).toFixed(1)} s  ${fmt(ingRate).padStart(9)} rows/s  ×${(ingRate / rawRate).toFixed(2)} of raw`,
    );
    if (args.profile) printProfile(ing.ms + ing.resend.ms);
    console.log(
      `  re-send of ${fmt(ing.resend.rows)} rows (all duplicates)  ${fmt((ing.resend.rows / ing.resend.ms) * 1000)} rows/s`,
    );
    console.log(
      `  stored ${fmt(facts.rows)} rows, ${fmt(facts.attached)} attached (${((100 * facts.attached) / facts.rows).toFixed(1)}%); rollups add up; ${fmt(facts.visitDays)} visit days, mean usual interval ${facts.meanGap.toFixed(1)} days`,
    );
  } finally {
    await rawDb.drop().catch(() => undefined);
    await ingestDb.drop();
  }
}

console.log(
  `ingest: ${fmt(ROWS)} transactions over a year, ${fmt(CUSTOMERS)} customers, ${STATIONS} stations, batches of ${fmt(BATCH)} stored in chunks of ${fmt(CHUNK)}; ${os.cpus().length} cores; node ${process.version}`,
);
for (const engine of String(args.engines).split(',') as ('sqlite' | 'postgres')[]) await runEngine(engine);
