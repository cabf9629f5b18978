// The nightly run and the dashboards at the size of a large network: 1,000,000 customers and
// 20,000,000 fuel transactions over two years, on SQLite and PostgreSQL.
//
// Per engine a fresh database gets the migrations, an org tree (HQ, 4 branches, 16 areas, 320
// stations, a station manager each), the customers, their cards and two years of transactions
// (regulars with a usual interval, some drifting away, some declining, fleets, occasional buyers,
// anonymous rows), then the rollups (customer_month, station_day, the customers' cadence columns)
// built by set-based SQL from the rows. Seeding is timed but is not what is measured.
//
// Measured, each in a child process of its own so that peak RSS is the job's:
//   nightly    — the archive's first alerts run (the night before; every alert of the history new),
//                then the first night of the month: the monthly rating for the month just ended and
//                the nightly alerts job refitting every branch, through runJob as the scheduler calls
//                them, then the next night; beside two baselines of the same engine (a full scan of
//                customer_month; an insert … select of one row per customer);
//   dashboards — each dashboard service call for HQ, a branch, an area and a station, repeated.
//
//   npx tsx bench/nightly.ts [--customers 1000000] [--transactions 20000000] [--engines sqlite,postgres]
//                            [--reps 30] [--keep] [--seed-only] [--dashboards-only | --nightly-only] [--sqlite-db FILE] [--pg-db URL]
//   BENCH_NIGHTLY_CUSTOMERS=100000 npm run bench -- nightly     (a quick run: 20 transactions a customer)
// --keep leaves the seeded databases in place and prints where; --sqlite-db / --pg-db measure an
// already seeded database again (its earlier job output is cleared first) without seeding;
// --seed-only --keep seeds and stops.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { openDb, type Db } from '../src/server/db/connection.js';
import { engineOf } from '../src/server/db/dialect.js';
import { secondaryIndexes } from './lib/indexes.js';
import { prepareDatabase } from '../src/server/bootstrap.js';
import { runJob } from '../src/server/jobs/job-runner.js';
import { monthlyRatingJob } from '../src/server/modules/ratings/ratings.job.js';
import { nightlyAlertsJob } from '../src/server/modules/alerts/alerts.job.js';
import { DashboardsService } from '../src/server/modules/dashboards/dashboards.service.js';
import type { Principal } from '../src/server/auth/principal.js';
import { PERMISSIONS } from '../src/domain/permissions.js';
import { addMonths } from '../src/domain/kpi.js';
import { freshDatabase } from './lib/fresh-db.js';
import { buildRollups } from './lib/rollups.js';

const { values: args } = parseArgs({
  options: {
    customers: { type: 'string', default: process.env.BENCH_NIGHTLY_CUSTOMERS ?? '1000000' },
    transactions: { type: 'string' },
    engines: { type: 'string', default: 'sqlite,postgres' },
    reps: { type: 'string', default: '30' },
    keep: { type: 'boolean', default: false },
    'seed-only': { type: 'boolean', default: false },
    'dashboards-only': { type: 'boolean', default: false },
    'nightly-only': { type: 'boolean', default: false },
    'sqlite-db': { type: 'string' },
    'pg-db': { type: 'string' },
    child: { type: 'string' },
    url: { type: 'string' },
  },
});
const CUSTOMERS = Number(args.customers);
const TXNS = Number(args.transactions ?? CUSTOMERS * 20);
const REPS = Number(args.reps);
const TZ = 'Asia/Shanghai';
const TZ_OFFSET_MS = 8 * 3_600_000; // Asia/Shanghai has no daylight saving
const DAYS = 730;
const BRANCHES = 4;
const AREAS_PER_BRANCH = 4;
const STATIONS_PER_AREA = 20;
const ANON_SHARE = 0.15;

// ---- time: the data ends yesterday (company time zone); the night's jobs run at 01:30 today ----

const DAY_MS = 86_400_000;
const localToday = Math.floor((Date.now() + TZ_OFFSET_MS) / DAY_MS); // days since epoch, local
const FIRST_DAY = localToday - DAYS;
const dayString = (d: number) => new Date(d * DAY_MS).toISOString().slice(0, 10);
const DAY_STRINGS = Array.from({ length: DAYS }, (_, i) => dayString(FIRST_DAY + i));
const YESTERDAY = dayString(localToday - 1);
const RUN_AT = new Date(localToday * DAY_MS - TZ_OFFSET_MS + 90 * 60_000); // 01:30 local today
const THIS_MONTH = dayString(localToday).slice(0, 7);
const LAST_MONTH = addMonths(THIS_MONTH, -1);
/** 'YYYY-MM-DDTHH:' of local hour h of day index d, in UTC. */
const hourPrefix: string[] = [];
for (let d = 0; d < DAYS; d++)
  for (let h = 0; h < 24; h++)
    hourPrefix.push(new Date((FIRST_DAY + d) * DAY_MS - TZ_OFFSET_MS + h * 3_600_000).toISOString().slice(0, 14));
const two = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

// ---- deterministic data -------------------------------------------------------------------------

function mulberry32(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const customerRng = (id: number) => mulberry32(Math.imul(id, 2654435761) ^ 0x5eed);

interface Tree {
  hqId: number;
  branchIds: number[];
  areaIds: number[];
  /** Stations with their area's stations (where a customer buys when away from home). */
  stations: { id: number; areaStations: number[] }[];
  /** Cumulative weights: stations differ in size. */
  cumulative: number[];
  managerOf: Map<number, number>;
  adminId: number;
}

function pickStation(tree: Tree, u: number): number {
  const c = tree.cumulative;
  let lo = 0;
  let hi = c.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (c[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const PRICE: Record<string, number> = { '92#': 752, '95#': 803, '0#柴油': 721 };

type Kind = 'occasional' | 'regular' | 'drifting' | 'declining' | 'fleet';
interface CustomerPlan {
  kind: Kind;
  station: number;
  start: number;
  interval: number;
  card: boolean;
  ownerManaged: boolean;
}

function planOf(id: number, tree: Tree): CustomerPlan {
  const r = customerRng(id);
  const u = r();
  const kind: Kind =
    u < 0.34 ? 'occasional' : u < 0.79 ? 'regular' : u < 0.89 ? 'drifting' : u < 0.99 ? 'declining' : 'fleet';
  const station = pickStation(tree, r());
  const start = r() < 0.6 ? 0 : Math.floor(r() * (DAYS - 60));
  // Log-normal usual interval around 12 days for cars, 2–5 days for fleets.
  const normal = Math.sqrt(-2 * Math.log(r() || 1e-9)) * Math.cos(2 * Math.PI * r());
  const interval = kind === 'fleet' ? 2 + r() * 3 : Math.min(60, Math.max(3, Math.exp(Math.log(12) + 0.6 * normal)));
  return { kind, station, start, interval, card: r() < 0.4, ownerManaged: r() < 0.1 };
}

interface TxnSink {
  txn(
    source: string,
    externalId: number,
    day: number,
    hour: number,
    minute: number,
    second: number,
    stationId: number,
    customerId: number | null,
    cardNo: string | null,
    plate: string | null,
    product: string,
    volumeMl: number,
    payment: string,
  ): void;
}

/** One customer's fill-ups (and the anonymous rows that come with him); returns how many attached rows. */
function generateCustomer(
  id: number,
  tree: Tree,
  plan: CustomerPlan,
  scale: number,
  anonPerCustomer: number,
  seq: { n: number; anon: number },
  sink: TxnSink | null,
): { fixed: number; scaled: number } {
  const r = customerRng(id ^ 0x7fffffff);
  const home = tree.stations[plan.station]!;
  const product = plan.kind === 'fleet' ? '0#柴油' : r() < 0.7 ? '92#' : '95#';
  const cardNo = plan.card ? `9${String(id).padStart(11, '0')}` : null;
  const baseLitres = plan.kind === 'fleet' ? 150 + r() * 250 : 25 + r() * 35;
  let fixed = 0;
  let scaled = 0;
  const emit = (day: number, litres: number) => {
    if (!sink) return;
    const away = r() < 0.15;
    const station = away ? home.areaStations[Math.floor(r() * home.areaStations.length)]! : home.id;
    const payment = cardNo !== null && r() < 0.7 ? 'card' : r() < 0.6 ? 'wechat' : 'cash';
    const volumeMl = Math.round(litres * (0.8 + r() * 0.4) * 1000);
    sink.txn(
      payment === 'card' ? 'card' : 'pos',
      seq.n++,
      day,
      6 + Math.floor(r() * 16),
      Math.floor(r() * 60),
      Math.floor(r() * 60),
      station,
      id,
      payment === 'card' ? cardNo : null,
      null,
      product,
      volumeMl,
      payment,
    );
  };
  if (plan.kind === 'occasional') {
    const n = 1 + Math.floor(r() * 4);
    for (let i = 0; i < n; i++) emit(plan.start + Math.floor(r() * (DAYS - plan.start)), baseLitres);
    fixed = n;
  } else {
    const interval = plan.interval * scale;
    const stop = plan.kind === 'drifting' ? DAYS - 20 - Math.floor(r() * 150) : DAYS;
    const declineFrom = DAYS - 200;
    for (let t = plan.start + r() * interval; t < stop;) {
      const day = Math.floor(t);
      const into = plan.kind === 'declining' && day > declineFrom ? (day - declineFrom) / 200 : 0;
      emit(day, baseLitres * (1 - 0.6 * into));
      if (plan.kind !== 'fleet' && r() < 0.03) emit(day, 20); // a second fill-up the same day
      scaled++;
      // Gaps vary as a gamma of shape 2 around the usual interval (a Poisson buyer would be shape 1).
      t += interval * (-(Math.log(1 - r()) + Math.log(1 - r())) / 2) * (1 + 2 * into);
    }
  }
  // Anonymous rows (walk-in customers, unknown plates) keep pace with the customers.
  if (sink) {
    seq.anon += anonPerCustomer;
    while (seq.anon >= 1) {
      seq.anon--;
      const s = tree.stations[pickStation(tree, r())]!;
      const p = r() < 0.7 ? '92#' : r() < 0.5 ? '95#' : '0#柴油';
      const pay = r() < 0.6 ? 'wechat' : 'cash';
      sink.txn(
        'pos',
        seq.n++,
        Math.floor(r() * DAYS),
        6 + Math.floor(r() * 16),
        Math.floor(r() * 60),
        Math.floor(r() * 60),
        s.id,
        null,
        null,
        r() < 0.5 ? `冀X${String(Math.floor(r() * 1e5)).padStart(5, '0')}` : null,
        p,
        Math.round((20 + r() * 40) * 1000),
        pay,
      );
    }
  }
  return { fixed, scaled };
}

/** The interval scale that makes the customers' rows add up to (1 − anonymous share) of the target, from a sample. */
function calibrate(tree: Tree): { scale: number; anonPerCustomer: number } {
  const step = Math.max(1, Math.floor(CUSTOMERS / 20_000));
  let fixed = 0;
  let scaled = 0;
  let n = 0;
  const seq = { n: 0, anon: 0 };
  for (let id = 1; id <= CUSTOMERS; id += step, n++) {
    const c = generateCustomer(id, tree, planOf(id, tree), 1, 0, seq, null);
    fixed += c.fixed;
    scaled += c.scaled * 1.03; // same-day second fill-ups
  }
  const perCustomer = (TXNS * (1 - ANON_SHARE)) / CUSTOMERS;
  const scale = Math.max(0.1, scaled / n / Math.max(0.5, perCustomer - fixed / n));
  return { scale, anonPerCustomer: (TXNS * ANON_SHARE) / CUSTOMERS };
}

// ---- seeding --------------------------------------------------------------------------------------

async function seedTree(db: Db): Promise<Tree> {
  const k = db.kysely;
  const now = new Date().toISOString();
  const rnd = mulberry32(42);
  const unit = async (parent: { id: number; path: string } | null, kind: string, code: string, name: string) => {
    const r = await k
      .insertInto('org_unit')
      .values({
        parent_id: parent?.id ?? null,
        kind_code: kind,
        code,
        name,
        time_zone: TZ,
        path: 'x',
        depth: parent ? parent.path.split('/').filter(Boolean).length + 1 : 1,
        created_at: now,
        updated_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const p = `${parent?.path ?? '/'}${r.id}/`;
    await k.updateTable('org_unit').set({ path: p }).where('id', '=', r.id).execute();
    return { id: Number(r.id), path: p };
  };
  const role = async (code: string) =>
    Number((await k.selectFrom('role').select('id').where('code', '=', code).executeTakeFirstOrThrow()).id);
  const managerRole = await role('station_manager');
  const user = async (username: string, orgUnitId: number, roleId: number) => {
    const u = await k
      .insertInto('app_user')
      .values({
        username,
        display_name: username,
        org_unit_id: orgUnitId,
        password_hash: 'not-a-hash',
        locale: 'zh-CN',
        active: 1,
        password_changed_at: now,
        created_at: now,
        updated_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await k.insertInto('user_role').values({ user_id: u.id, role_id: roleId }).execute();
    return Number(u.id);
  };
  const hq = await unit(null, 'hq', 'HQ', '总公司');
  const adminId = await user('bench-admin', hq.id, await role('admin'));
  const tree: Tree = {
    hqId: hq.id,
    branchIds: [],
    areaIds: [],
    stations: [],
    cumulative: [],
    managerOf: new Map(),
    adminId,
  };
  let total = 0;
  for (let b = 0; b < BRANCHES; b++) {
    const branch = await unit(hq, 'branch', `B${b}`, `分公司${b}`);
    tree.branchIds.push(branch.id);
    for (let a = 0; a < AREAS_PER_BRANCH; a++) {
      const area = await unit(branch, 'area', `B${b}-A${a}`, `片区${b}-${a}`);
      tree.areaIds.push(area.id);
      const ids: number[] = [];
      for (let s = 0; s < STATIONS_PER_AREA; s++) {
        const st = await unit(area, 'station', `B${b}-A${a}-S${s}`, `加油站${b}-${a}-${s}`);
        ids.push(st.id);
        tree.managerOf.set(st.id, await user(`mgr-${st.id}`, st.id, managerRole));
        total += 0.3 + rnd() * 1.7; // busy stations sell several times what quiet ones do
        tree.cumulative.push(total);
      }
      for (const id of ids) tree.stations.push({ id, areaStations: ids });
    }
  }
  tree.cumulative = tree.cumulative.map((c) => c / total);
  return tree;
}

const TXN_COLUMNS =
  'source, external_id, occurred_at, business_day, org_unit_id, customer_id, card_no, plate, product, business_line, volume_ml, unit_price_fen, amount_fen, payment, created_at';

interface SeedResult {
  tree: Tree;
  rows: number;
  seconds: { load: number; indexes: number; rollups: number; total: number };
}

async function seed(engine: 'sqlite' | 'postgres', url: string): Promise<SeedResult> {
  const started = Date.now();
  const db = openDb({ url });
  await prepareDatabase(db);
  const tree = await seedTree(db);
  const { scale, anonPerCustomer } = calibrate(tree);
  const dropped = [...(await secondaryIndexes(db, 'fuel_transaction')), ...(await secondaryIndexes(db, 'customer'))];
  for (const ix of dropped) await sql.raw(`drop index ${ix.name}`).execute(db.kysely);
  await db.close();

  const now = new Date().toISOString();
  const customerRow = (id: number, plan: CustomerPlan): unknown[] => {
    const created =
      plan.start === 0
        ? `202${Math.floor(customerRng(id)() * 4)}-0${1 + (id % 9)}-1${id % 10}T02:00:00.000Z`
        : `${DAY_STRINGS[plan.start]}T01:00:00.000Z`;
    return [
      id,
      tree.stations[plan.station]!.id,
      `C${String(id).padStart(8, '0')}`,
      plan.kind === 'fleet' ? 'company' : 'individual',
      plan.kind === 'fleet' ? `车队${id}` : `客户${id}`,
      plan.kind === 'fleet' ? null : '王',
      plan.ownerManaged ? tree.managerOf.get(tree.stations[plan.station]!.id)! : null,
      created,
      now,
    ];
  };
  const seq = { n: 1, anon: 0 };
  const t0 = Date.now();
  if (engine === 'sqlite') {
    const raw = new SQLite(url);
    raw.pragma('journal_mode = OFF');
    raw.pragma('synchronous = OFF');
    raw.pragma('foreign_keys = OFF');
    raw.pragma('cache_size = -1000000');
    const insC = raw.prepare(
      'insert into customer (id, org_unit_id, code, kind, name, surname, owner_user_id, look_after, version, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, 0, 1, ?, ?)',
    );
    const insCard = raw.prepare(
      "insert into fuel_card (customer_id, card_no, status, created_at) values (?, ?, 'active', ?)",
    );
    const PER = 100;
    const one = `(${TXN_COLUMNS.split(',')
      .map(() => '?')
      .join(', ')})`;
    const insMany = raw.prepare(
      `insert into fuel_transaction (${TXN_COLUMNS}) values ${new Array(PER).fill(one).join(', ')}`,
    );
    const insOne = raw.prepare(`insert into fuel_transaction (${TXN_COLUMNS}) values ${one}`);
    let params: unknown[] = [];
    const sink: TxnSink = {
      txn(
        source,
        externalId,
        day,
        hour,
        minute,
        second,
        stationId,
        customerId,
        cardNo,
        plate,
        product,
        volumeMl,
        payment,
      ) {
        const at = `${hourPrefix[day * 24 + hour]}${two[minute]}:${two[second]}.000Z`;
        params.push(
          source,
          String(externalId),
          at,
          DAY_STRINGS[day],
          stationId,
          customerId,
          cardNo,
          plate,
          product,
          'retail',
          volumeMl,
          PRICE[product]!,
          Math.round((volumeMl * PRICE[product]!) / 1000),
          payment,
          at,
        );
        if (params.length === PER * 15) {
          insMany.run(params);
          params = [];
        }
      },
    };
    raw.exec('begin');
    for (let id = 1; id <= CUSTOMERS; id++) {
      const plan = planOf(id, tree);
      insC.run(customerRow(id, plan));
      if (plan.card) insCard.run(id, `9${String(id).padStart(11, '0')}`, now);
      generateCustomer(id, tree, plan, scale, anonPerCustomer, seq, sink);
      if (id % 20_000 === 0) {
        raw.exec('commit');
        raw.exec('begin');
      }
    }
    for (let i = 0; i < params.length; i += 15) insOne.run(params.slice(i, i + 15));
    raw.exec('commit');
    raw.close();
  } else {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('set synchronous_commit = off');
    // Foreign keys are checked by triggers; the seed is consistent by construction.
    for (const t of ['customer', 'fuel_card', 'fuel_transaction'])
      await client.query(`alter table ${t} disable trigger all`);
    // Partitioned by month (migration 0035): the sales' keys are written below in one statement
    // rather than by the key trigger, row by row.
    const keyed = (await client.query(`select to_regclass('fuel_transaction_key') as t`)).rows[0].t !== null;
    if (keyed) await client.query(`select set_config('forecourt.txn_keys', 'written', false)`);
    const nul = (v: unknown) => (v === null ? '\\N' : String(v));
    const copy = (statement: string, lines: Iterable<string>) =>
      pipeline(Readable.from(inBlocks(lines)), client.query(copyFrom(statement)));
    await copy(
      'copy customer (id, org_unit_id, code, kind, name, surname, owner_user_id, look_after, version, created_at, updated_at) from stdin',
      (function* () {
        for (let id = 1; id <= CUSTOMERS; id++) {
          const c = customerRow(id, planOf(id, tree));
          yield `${c[0]}\t${c[1]}\t${c[2]}\t${c[3]}\t${c[4]}\t${nul(c[5])}\t${nul(c[6])}\t0\t1\t${c[7]}\t${c[8]}\n`;
        }
      })(),
    );
    await copy(
      'copy fuel_card (customer_id, card_no, status, created_at) from stdin',
      (function* () {
        for (let id = 1; id <= CUSTOMERS; id++)
          if (planOf(id, tree).card) yield `${id}\t9${String(id).padStart(11, '0')}\tactive\t${now}\n`;
      })(),
    );
    await copy(
      `copy fuel_transaction (${TXN_COLUMNS}) from stdin`,
      (function* () {
        const pending: string[] = [];
        const sink: TxnSink = {
          txn(
            source,
            externalId,
            day,
            hour,
            minute,
            second,
            stationId,
            customerId,
            cardNo,
            plate,
            product,
            volumeMl,
            payment,
          ) {
            const at = `${hourPrefix[day * 24 + hour]}${two[minute]}:${two[second]}.000Z`;
            pending.push(
              `${source}\t${externalId}\t${at}\t${DAY_STRINGS[day]}\t${stationId}\t${nul(customerId)}\t${nul(cardNo)}\t${nul(plate)}\t${product}\tretail\t${volumeMl}\t${PRICE[product]}\t${Math.round((volumeMl * PRICE[product]!) / 1000)}\t${payment}\t${at}\n`,
            );
          },
        };
        for (let id = 1; id <= CUSTOMERS; id++) {
          generateCustomer(id, tree, planOf(id, tree), scale, anonPerCustomer, seq, sink);
          yield* pending;
          pending.length = 0;
        }
      })(),
    );
    for (const t of ['customer', 'fuel_card', 'fuel_transaction'])
      await client.query(`alter table ${t} enable trigger all`);
    if (keyed) {
      // Filled first and indexed after: one sort instead of 20,000,000 random index insertions.
      await client.query(`alter table fuel_transaction_key drop constraint fuel_transaction_key_pk`);
      await client.query(`insert into fuel_transaction_key (namespace, source, external_id, txn_id, business_day)
        select namespace, source, external_id, id, business_day from fuel_transaction`);
      await client.query(`set maintenance_work_mem = '1GB'`);
      await client.query(`alter table fuel_transaction_key add constraint fuel_transaction_key_pk
        primary key (namespace, source, external_id)`);
    }
    await client.query(`select setval('customer_id_seq', ${CUSTOMERS})`);
    await client.end();
  }
  const load = (Date.now() - t0) / 1000;
  const rows = seq.n - 1;

  const db2 = openDb({ url });
  const t1 = Date.now();
  if (engine === 'postgres') await sql.raw("set maintenance_work_mem = '1GB'").execute(db2.kysely);
  for (const ix of dropped) await sql.raw(ix.ddl).execute(db2.kysely);
  const indexes = (Date.now() - t1) / 1000;
  const t2 = Date.now();
  await buildRollups(db2);
  const rollups = (Date.now() - t2) / 1000;
  await db2.close();
  return { tree, rows, seconds: { load, indexes, rollups, total: (Date.now() - started) / 1000 } };
}

/** Lines joined into blocks of about 1 MB, so COPY gets few large writes and its backpressure paces the generator. */
function* inBlocks(lines: Iterable<string>): Generator<string> {
  let buf: string[] = [];
  let size = 0;
  for (const line of lines) {
    buf.push(line);
    size += line.length;
    if (size > 1 << 20) {
      yield buf.join('');
      buf = [];
      size = 0;
    }
  }
  if (buf.length) yield buf.join('');
}

// ---- measuring (child processes) ------------------------------------------------------------------

interface NightlyReport {
  baselineScan: number;
  baselineInsert: number;
  /** The night before, the archive's first alerts run: every alert of the seeded history is new. */
  firstEver: number;
  firstEverDetail: Record<string, unknown>;
  rating: number;
  ratingDetail: Record<string, unknown>;
  alerts: number;
  alertsDetail: Record<string, unknown>;
  /** The next night: the same job with the branch fits of the night before (refitted weekly). */
  nextAlerts: number;
  nextAlertsDetail: Record<string, unknown>;
  maxRssMb: number;
}

function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  return fn().then((v) => [v, Number(process.hrtime.bigint() - t) / 1e9]);
}

async function childNightly(url: string): Promise<NightlyReport> {
  const db = openDb({ url });
  await prepareDatabase(db);
  const k = db.kysely;
  // What an earlier measurement on this database left behind: every run starts from the seed.
  for (const t of [
    'alert',
    'customer_churn_score',
    'churn_model_fit',
    'outbox_message',
    'customer_rating',
    'rating_batch',
    'job_run',
  ] as const)
    await k.deleteFrom(t).execute();
  await k.deleteFrom('work_item').where('kind', '=', 'alert').execute();
  // Those deletes leave dead rows that autovacuum would otherwise clean up during the measurement.
  if (engineOf(k) === 'postgres')
    await sql`vacuum (analyze) alert, customer_churn_score, churn_model_fit, customer_rating, rating_batch, work_item, job_run`.execute(
      k,
    );
  // Baselines: a plain full scan of the monthly rollup, and one row per customer written by the engine itself.
  const [, baselineScan] = await timed(() => sql`select count(*), sum(volume_ml) from customer_month`.execute(k));
  // A run stopped halfway may have left it behind.
  await sql`drop table if exists bench_baseline`.execute(k);
  await sql`create table bench_baseline (customer_id bigint primary key, p_alive double precision not null, scored_at varchar(32) not null)`.execute(
    k,
  );
  const [, baselineInsert] = await timed(() =>
    sql`insert into bench_baseline select id, 0.5, ${RUN_AT.toISOString()} from customer`.execute(k),
  );
  await sql`drop table bench_baseline`.execute(k);

  const log = () => undefined;
  // The night before: the archive's first alerts run ever, where every alert of two years' history is
  // new (a one-off, reported apart). A running installation comes to the first night of a month with
  // last night's alerts in place; its fits are taken away so that this night refits every branch too.
  const [before, beforeSeconds] = await timed(() =>
    runJob(k, nightlyAlertsJob, dayString(localToday - 2), {
      now: new Date(RUN_AT.getTime() - DAY_MS),
      force: true,
      log,
    }),
  );
  if (before.status !== 'done') throw new Error(`nightly-alerts, the night before: ${JSON.stringify(before)}`);
  await k.deleteFrom('churn_model_fit').execute();
  const [rating, ratingSeconds] = await timed(() =>
    runJob(k, monthlyRatingJob, LAST_MONTH, { now: RUN_AT, force: true, log }),
  );
  const [alerts, alertsSeconds] = await timed(() =>
    runJob(k, nightlyAlertsJob, YESTERDAY, { now: RUN_AT, force: true, log }),
  );
  const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  const [next, nextSeconds] = await timed(() =>
    runJob(k, nightlyAlertsJob, dayString(localToday), { now: new Date(RUN_AT.getTime() + DAY_MS), force: true, log }),
  );
  await db.close();
  if (next.status !== 'done') throw new Error(`nightly-alerts, next night: ${JSON.stringify(next)}`);
  if (rating.status !== 'done') throw new Error(`monthly-rating: ${JSON.stringify(rating)}`);
  if (alerts.status !== 'done') throw new Error(`nightly-alerts: ${JSON.stringify(alerts)}`);
  return {
    baselineScan,
    baselineInsert,
    firstEver: beforeSeconds,
    firstEverDetail: before.detail,
    rating: ratingSeconds,
    ratingDetail: rating.detail,
    alerts: alertsSeconds,
    alertsDetail: alerts.detail,
    nextAlerts: nextSeconds,
    nextAlertsDetail: next.detail,
    maxRssMb,
  };
}

interface Latency {
  level: string;
  call: string;
  /** Computed from the rollups (what a refresh, a missing snapshot or the morning job costs). */
  computed: { p50: number; p95: number; reps: number };
  /** Served from the snapshot the computation left (what a reader gets while it is fresh). */
  served: { p50: number; p95: number; reps: number };
}

interface DashboardsReport {
  latencies: Latency[];
  /** The morning job: every unit's snapshots computed. */
  job: { seconds: number; units: number; snapshots: number };
  /** Size of the largest snapshot body. */
  largestSnapshotKb: number;
}

async function childDashboards(url: string): Promise<DashboardsReport> {
  const db = openDb({ url });
  await prepareDatabase(db);
  const k = db.kysely;
  await k.deleteFrom('dashboard_snapshot').execute();
  const pick = async (kind: string) => {
    const r = await k
      .selectFrom('org_unit')
      .select(['id', 'path'])
      .where('kind_code', '=', kind)
      .orderBy('id')
      .execute();
    return r[0]!;
  };
  const hq = await pick('hq');
  const admin = await k
    .selectFrom('app_user')
    .select('id')
    .where('username', '=', 'bench-admin')
    .executeTakeFirstOrThrow();
  const principal: Principal = {
    userId: Number(admin.id),
    username: 'bench-admin',
    displayName: 'bench-admin',
    orgUnitId: Number(hq.id),
    orgPath: hq.path,
    grantPaths: [],
    grantWritePaths: [],
    permissions: new Set(PERMISSIONS),
    roleCodes: ['admin'],
    locale: 'zh-CN',
    sessionId: 'x',
    csrfToken: 'x',
  };
  // "Now" is during today's business hours, so this month is open and includes yesterday's rows
  // (early in a month that is a day or two: last month is the full-month case).
  const now = () => new Date(RUN_AT.getTime() + 9 * 3_600_000);
  // As the server runs by default: snapshots younger than 15 minutes are served.
  const svc = new DashboardsService(k, db.engine, now, { snapshotMinutes: 15 });
  const time = async (fn: () => Promise<unknown>, reps: number) => {
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t = process.hrtime.bigint();
      await fn();
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    times.sort((a, b) => a - b);
    return { p50: pct(times, 0.5), p95: pct(times, 0.95), reps };
  };
  const out: Latency[] = [];
  for (const level of ['hq', 'branch', 'area', 'station']) {
    const unit = await pick(level);
    const id = Number(unit.id);
    const calls: [string, (refresh: boolean) => Promise<unknown>][] = [
      ['overview, this month', (refresh) => svc.unitDashboard(principal, id, undefined, { refresh })],
      ['overview, last month', (refresh) => svc.unitDashboard(principal, id, LAST_MONTH, { refresh })],
      ['key customers, this month', (refresh) => svc.keyCustomers(principal, id, undefined, { refresh })],
      ['key customers, last month', (refresh) => svc.keyCustomers(principal, id, LAST_MONTH, { refresh })],
      [
        'card suggestions (last month, page 1)',
        (refresh) => svc.cardSuggestions(principal, id, undefined, 1, 20, { refresh }),
      ],
      [
        'card suggestions (last month, page 50)',
        (refresh) => svc.cardSuggestions(principal, id, undefined, 50, 20, { refresh }),
      ],
    ];
    for (const [call, fn] of calls) {
      await fn(true); // warm-up
      // Computing costs seconds over a large subtree: fewer repetitions there.
      const computed = await time(() => fn(true), level === 'station' ? REPS : Math.min(REPS, 5));
      const served = await time(() => fn(false), REPS);
      out.push({ level, call, computed, served });
    }
  }
  await k.deleteFrom('dashboard_snapshot').execute();
  const t = process.hrtime.bigint();
  const job = await svc.refreshSnapshots();
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const sizes = await k
    .selectFrom('dashboard_snapshot')
    .select((eb) => eb.fn.max(sql<number>`length(body)`).as('n'))
    .executeTakeFirstOrThrow();
  await db.close();
  return { latencies: out, job: { ...job, seconds }, largestSnapshotKb: Math.round(Number(sizes.n) / 1024) };
}

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function runChild<T>(mode: string, url: string): Promise<T> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', self, '--child', mode, '--url', url, '--customers', String(CUSTOMERS), '--reps', String(REPS)],
    {
      cwd: path.resolve(path.dirname(self), '..'),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  return new Promise<T>((resolve, reject) => {
    let result: T | undefined;
    child.on('message', (m) => (result = m as T));
    child.on('exit', (code, signal) =>
      result !== undefined
        ? resolve(result)
        : reject(new Error(`${mode} child exited (${signal ?? code}) without a result`)),
    );
  });
}

// ---- main -----------------------------------------------------------------------------------------

const s1 = (x: number) => `${x.toFixed(1)} s`;
const ms = (x: number) => `${x < 10 ? x.toFixed(1) : x.toFixed(0)} ms`;

async function measureNightly(engine: 'sqlite' | 'postgres', url: string): Promise<void> {
  const n = await runChild<NightlyReport>('nightly', url);
  const a = n.alertsDetail as {
    raised?: Record<string, number>;
    phaseSeconds?: Record<string, number>;
    scoredCustomers?: number;
    fittedBranches?: number;
  };
  const total = n.rating + n.alerts;
  const e = n.firstEverDetail as { raised?: Record<string, number>; phaseSeconds?: Record<string, number> };
  console.log(
    `  the archive's first alerts run, ${dayString(localToday - 2)} (every alert of the history new, a one-off): ${s1(n.firstEver)}, raised ${JSON.stringify(e.raised)}`,
  );
  for (const [phase, sec] of Object.entries(e.phaseSeconds ?? {})) console.log(`      ${phase.padEnd(22)}  ${s1(sec)}`);
  console.log(
    `  first night of the month (rating ${LAST_MONTH} + alerts for ${YESTERDAY}, every branch refitted): ${s1(total)}, peak RSS ${n.maxRssMb} MB`,
  );
  console.log(`    monthly rating            ${s1(n.rating)}  ${JSON.stringify(n.ratingDetail)}`);
  console.log(
    `    nightly alerts            ${s1(n.alerts)}  raised ${JSON.stringify(a.raised)}, scored ${a.scoredCustomers}, fitted ${a.fittedBranches} branches`,
  );
  for (const [phase, sec] of Object.entries(a.phaseSeconds ?? {})) console.log(`      ${phase.padEnd(22)}  ${s1(sec)}`);
  const b = n.nextAlertsDetail as {
    raised?: Record<string, number>;
    phaseSeconds?: Record<string, number>;
    reusedFits?: number;
  };
  console.log(
    `  the next night (alerts only, the fits of the night before reused: ${b.reusedFits} branches): ${s1(n.nextAlerts)}, raised ${JSON.stringify(b.raised)}`,
  );
  for (const [phase, sec] of Object.entries(b.phaseSeconds ?? {})) console.log(`      ${phase.padEnd(22)}  ${s1(sec)}`);
  console.log(
    `    baseline: full scan of customer_month  ${s1(n.baselineScan)} (nightly ×${(total / n.baselineScan).toFixed(0)})`,
  );
  console.log(
    `    baseline: insert … select, one row per customer  ${s1(n.baselineInsert)} (nightly ×${(total / n.baselineInsert).toFixed(0)})`,
  );
  const verdict = (sec: number) => (sec < 60 ? 'met' : 'NOT met');
  console.log(
    `    target: under 60 s — first night ${verdict(total)} (${s1(total)}), next night ${verdict(n.nextAlerts)} (${s1(n.nextAlerts)})`,
  );
}

async function runEngine(engine: 'sqlite' | 'postgres'): Promise<void> {
  console.log(`\n== ${engine} ==`);
  const reuse = engine === 'sqlite' ? args['sqlite-db'] : args['pg-db'];
  let url: string;
  let drop = async () => {};
  if (reuse) {
    url = reuse;
    console.log(`  measuring the seeded database ${url}`);
  } else {
    const fresh = await freshDatabase(engine, 'nightly');
    url = fresh.url;
    drop = fresh.drop;
    const s = await seed(engine, url);
    const size = engine === 'sqlite' ? `, file ${(fs.statSync(url).size / 2 ** 30).toFixed(1)} GiB` : '';
    console.log(
      `  seeded ${CUSTOMERS.toLocaleString()} customers, ${s.rows.toLocaleString()} transactions over ${DAYS} days (to ${YESTERDAY}) in ${s1(s.seconds.total)}: load ${s1(s.seconds.load)}, indexes ${s1(s.seconds.indexes)}, rollups ${s1(s.seconds.rollups)}${size}`,
    );
  }
  try {
    if (args['seed-only']) return;
    if (!args['dashboards-only']) await measureNightly(engine, url);
    if (args['nightly-only']) return;

    const d = await runChild<DashboardsReport>('dashboards', url);
    console.log(`  dashboards (ms): computed = from the rollups (refresh), served = from the snapshot it left`);
    console.log(
      `    ${'level'.padEnd(8)} ${'call'.padEnd(40)} ${'computed p50'.padStart(13)} ${'p95'.padStart(9)} ${'served p50'.padStart(11)} ${'p95'.padStart(9)} ${'ratio p95'.padStart(10)}`,
    );
    for (const x of d.latencies) {
      const ratio = x.computed.p95 / x.served.p95;
      console.log(
        `    ${x.level.padEnd(8)} ${x.call.padEnd(40)} ${ms(x.computed.p50).padStart(13)} ${ms(x.computed.p95).padStart(9)} ${ms(x.served.p50).padStart(11)} ${ms(x.served.p95).padStart(9)} ${`×${ratio.toFixed(0)}`.padStart(10)}${x.served.p95 >= 100 ? '  served over 100 ms' : ''}`,
      );
    }
    console.log(
      `    (computed: ${d.latencies[0]?.computed.reps} calls above station level, ${REPS} at a station; served: ${REPS} calls; each after a warm-up)`,
    );
    console.log(
      `  morning job, every unit's snapshots (${d.job.units} units, ${d.job.snapshots} snapshots): ${s1(d.job.seconds)}; largest snapshot ${d.largestSnapshotKb} KiB`,
    );
  } finally {
    if (args.keep && !reuse) console.log(`  kept: --${engine === 'sqlite' ? 'sqlite-db' : 'pg-db'} ${url}`);
    else if (!reuse) await drop();
  }
}

if (args.child) {
  const url = args.url!;
  const result = args.child === 'nightly' ? await childNightly(url) : await childDashboards(url);
  process.send!(result, () => process.exit(0));
} else {
  console.log(
    `nightly: ${CUSTOMERS.toLocaleString()} customers, ~${TXNS.toLocaleString()} transactions, engines ${args.engines}`,
  );
  for (const engine of args.engines.split(',') as ('sqlite' | 'postgres')[]) await runEngine(engine);
}
