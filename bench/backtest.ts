// A back-test of 60 nights against 60 single nightly runs, on generated station histories whose
// truth is known (test/helpers/churn-sim.ts: regulars, churners, decliners, casual buyers).
//
// Per engine a fresh database gets the migrations, an org tree (HQ, 4 branches, 16 areas, 80
// stations, a station manager each), the customers and their sales (240 days before the first
// night to the last, which is yesterday), loaded raw with the secondary indexes dropped and rebuilt,
// then the rollups built by set-based SQL (bench/lib/rollups.ts). Seeding is timed, not measured.
//
// Measured in this process, one after the other, after one dry run to warm the caches:
//   back-test — BacktestService.replay over the 60 nights (reads the archive once, writes nothing);
//   singles   — AlertsService.runRules as of each of the 60 nights in turn, as the nightly job runs
//               (alerts, resolutions, scores and the weekly fits written), on the same database,
//               whose sales after each night are on file: each run reads its customers' visits up
//               to the night from their rows.
// The ratio back-test / sum of singles is the figure; the truth figures (churners alerted within 7
// days of the visit they missed, decliners flagged, regulars alerted at least once) come from the
// back-test's alerts.
//
//   npx tsx bench/backtest.ts [--customers 100000] [--nights 60] [--engines sqlite,postgres] [--singles N] [--keep]
//                             [--sqlite-db FILE] [--pg-db URL]
// --singles N measures the first N single runs only (and says so); --keep leaves the databases;
// --sqlite-db / --pg-db measure a database seeded before by --keep (its alerts and fits cleared).
import { parseArgs } from 'node:util';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { openDb, type Db } from '../src/server/db/connection.js';
import { secondaryIndexes } from './lib/indexes.js';
import { prepareDatabase } from '../src/server/bootstrap.js';
import { AlertsService } from '../src/server/modules/alerts/alerts.service.js';
import { BacktestService } from '../src/server/modules/alerts/backtest.service.js';
import { resolveOnPurchase } from '../src/server/modules/alerts/alert-lifecycle.js';
import { addDays } from '../src/domain/day-arithmetic.js';
import { simulateStations, truthFigures, type SimCustomer } from '../test/helpers/churn-sim.js';
import { freshDatabase } from './lib/fresh-db.js';
import { buildRollups } from './lib/rollups.js';

const { values: args } = parseArgs({
  options: {
    customers: { type: 'string', default: process.env.BENCH_BACKTEST_CUSTOMERS ?? '100000' },
    nights: { type: 'string', default: '60' },
    engines: { type: 'string', default: 'sqlite,postgres' },
    singles: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'sqlite-db': { type: 'string' },
    'pg-db': { type: 'string' },
  },
});
const CUSTOMERS = Number(args.customers);
const NIGHTS = Number(args.nights);
const SINGLES = Math.min(NIGHTS, Number(args.singles ?? NIGHTS));
const TZ = 'Asia/Shanghai';
const BRANCHES = 4;
const AREAS = 4;
const STATIONS = 5;
const TZ_MS = 8 * 3_600_000;
const today = new Date(Date.now() + TZ_MS).toISOString().slice(0, 10);
const TO = addDays(today, -1);
const FROM = addDays(TO, -(NIGHTS - 1));
const SEED = 2026;

const secondsSince = (mark: number) => Math.round((Date.now() - mark) / 100) / 10;
const fmt = (n: number) => n.toLocaleString('en-US');

interface Tree {
  stations: number[];
}

async function seedTree(db: Db): Promise<Tree> {
  const k = db.kysely;
  const now = new Date().toISOString();
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
    const path = `${parent?.path ?? '/'}${r.id}/`;
    await k.updateTable('org_unit').set({ path }).where('id', '=', r.id).execute();
    return { id: Number(r.id), path };
  };
  const managerRole = Number(
    (await k.selectFrom('role').select('id').where('code', '=', 'station_manager').executeTakeFirstOrThrow()).id,
  );
  const hq = await unit(null, 'hq', 'HQ', '总公司');
  const stations: number[] = [];
  for (let b = 0; b < BRANCHES; b++) {
    const branch = await unit(hq, 'branch', `B${b}`, `分公司${b}`);
    for (let a = 0; a < AREAS; a++) {
      const area = await unit(branch, 'area', `B${b}-A${a}`, `片区${b}-${a}`);
      for (let s = 0; s < STATIONS; s++) {
        const st = await unit(area, 'station', `B${b}-A${a}-S${s}`, `加油站${b}-${a}-${s}`);
        stations.push(st.id);
        const u = await k
          .insertInto('app_user')
          .values({
            username: `mgr-${st.id}`,
            display_name: `站长${st.id}`,
            org_unit_id: st.id,
            password_hash: 'not-a-hash',
            locale: 'zh-CN',
            active: 1,
            password_changed_at: now,
            created_at: now,
            updated_at: now,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await k.insertInto('user_role').values({ user_id: u.id, role_id: managerRole }).execute();
      }
    }
  }
  return { stations };
}

const TXN_COLUMNS =
  'source, external_id, occurred_at, business_day, org_unit_id, customer_id, product, business_line, volume_ml, unit_price_fen, amount_fen, payment, created_at';
const PRICE = 760;

/** One sale per visit at his station: [external id, occurred at, business day, station, customer, volume ml, amount fen]. */
function* salesOf(
  sims: SimCustomer[],
  stations: number[],
): Generator<[string, string, string, number, number, number, number]> {
  for (const s of sims) {
    const station = stations[s.station % stations.length]!;
    for (const v of s.visits) {
      const ml = Math.round(v.litres * 1000);
      // 09:30 local on the business day.
      const at = `${v.day}T01:30:00.000Z`;
      yield [`${s.index}-${v.day}`, at, v.day, station, s.index + 1, ml, Math.round((ml * PRICE) / 1000)];
    }
  }
}

async function seed(
  engine: 'sqlite' | 'postgres',
  url: string,
  sims: SimCustomer[],
): Promise<{ rows: number; seconds: number }> {
  const started = Date.now();
  const db = openDb({ url });
  await prepareDatabase(db);
  const tree = await seedTree(db);
  const dropped = [...(await secondaryIndexes(db, 'fuel_transaction')), ...(await secondaryIndexes(db, 'customer'))];
  for (const ix of dropped) await sql.raw(`drop index ${ix.name}`).execute(db.kysely);
  await db.close();
  const now = new Date().toISOString();
  const stationOf = (s: SimCustomer) => tree.stations[s.station % tree.stations.length]!;
  let rows = 0;
  if (engine === 'sqlite') {
    const raw = new SQLite(url);
    raw.pragma('journal_mode = OFF');
    raw.pragma('synchronous = OFF');
    raw.pragma('foreign_keys = OFF');
    const insC = raw.prepare(
      'insert into customer (id, org_unit_id, code, kind, name, look_after, version, created_at, updated_at) values (?, ?, ?, ?, ?, 0, 1, ?, ?)',
    );
    const insT = raw.prepare(
      `insert into fuel_transaction (${TXN_COLUMNS}) values ('pos', ?, ?, ?, ?, ?, '92#', 'retail', ?, ${PRICE}, ?, 'wechat', ?)`,
    );
    raw.exec('begin');
    for (const s of sims)
      insC.run(
        s.index + 1,
        stationOf(s),
        `C${String(s.index + 1).padStart(8, '0')}`,
        'individual',
        `客户${s.index + 1}`,
        now,
        now,
      );
    for (const [ext, at, day, station, customer, ml, fen] of salesOf(sims, tree.stations)) {
      insT.run(ext, at, day, station, customer, ml, fen, at);
      if (++rows % 200_000 === 0) {
        raw.exec('commit');
        raw.exec('begin');
      }
    }
    raw.exec('commit');
    raw.close();
  } else {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('set synchronous_commit = off');
    for (const t of ['customer', 'fuel_transaction']) await client.query(`alter table ${t} disable trigger all`);
    const blocks = function* (lines: Iterable<string>) {
      let buf: string[] = [];
      for (const l of lines) {
        buf.push(l);
        if (buf.length >= 5000) {
          yield buf.join('');
          buf = [];
        }
      }
      if (buf.length) yield buf.join('');
    };
    await pipeline(
      Readable.from(
        blocks(
          (function* () {
            for (const s of sims)
              yield `${s.index + 1}\t${stationOf(s)}\tC${String(s.index + 1).padStart(8, '0')}\tindividual\t客户${s.index + 1}\t0\t1\t${now}\t${now}\n`;
          })(),
        ),
      ),
      client.query(
        copyFrom(
          'copy customer (id, org_unit_id, code, kind, name, look_after, version, created_at, updated_at) from stdin',
        ),
      ),
    );
    await pipeline(
      Readable.from(
        blocks(
          (function* () {
            for (const [ext, at, day, station, customer, ml, fen] of salesOf(sims, tree.stations)) {
              rows++;
              yield `pos\t${ext}\t${at}\t${day}\t${station}\t${customer}\t92#\tretail\t${ml}\t${PRICE}\t${fen}\twechat\t${at}\n`;
            }
          })(),
        ),
      ),
      client.query(copyFrom(`copy fuel_transaction (${TXN_COLUMNS}) from stdin`)),
    );
    for (const t of ['customer', 'fuel_transaction']) await client.query(`alter table ${t} enable trigger all`);
    await client.query(`select setval('customer_id_seq', ${sims.length})`);
    await client.end();
  }
  const db2 = openDb({ url });
  if (engine === 'postgres') await sql.raw("set maintenance_work_mem = '1GB'").execute(db2.kysely);
  for (const ix of dropped) await sql.raw(ix.ddl).execute(db2.kysely);
  await buildRollups(db2);
  if (engine === 'postgres') await sql`vacuum analyze`.execute(db2.kysely);
  await db2.close();
  return { rows, seconds: secondsSince(started) };
}

interface EngineFigures {
  engine: string;
  rows: number;
  seedSeconds: number | null;
  backtestSeconds: number;
  backtestRuns: number[];
  resolveMs: Record<string, number[]>;
  openAlerts: number;
  backtestPhases: Record<string, number>;
  singles: number;
  singlesSeconds: number;
  singleSlowest: number;
  singleFastest: number;
  ratio: number;
  projectedRatio: number;
  truth: ReturnType<typeof truthFigures>;
  perRule: Record<string, ReturnType<typeof truthFigures>>;
  rules: unknown;
}

async function measure(
  engine: 'sqlite' | 'postgres',
  url: string,
  sims: SimCustomer[],
  seeded: { rows: number; seconds: number } | null,
): Promise<EngineFigures> {
  const db = openDb({ url });
  try {
    await prepareDatabase(db);
    await db.kysely.deleteFrom('alert').execute();
    await db.kysely.deleteFrom('churn_model_fit').execute();
    await db.kysely.deleteFrom('customer_churn_score').execute();
    const rows =
      seeded?.rows ??
      Number(
        (
          await db.kysely
            .selectFrom('fuel_transaction')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const serviceAt = (night: string) =>
      new AlertsService(db.kysely, () => new Date(Date.parse(`${addDays(night, 1)}T01:30:00+08:00`)));
    // Warm the caches as a real night would find them.
    await serviceAt(TO).runRules({ day: TO, dryRun: true });

    // The machine may be shared: the back-test runs before and after the single runs, and the mean counts.
    const backtest = async (label: string) => {
      const mark = Date.now();
      const out = await new BacktestService(db.kysely, () => new Date(Date.now())).replay({ from: FROM, to: TO });
      const seconds = secondsSince(mark);
      console.log(
        `[${engine}] back-test of ${out.report.nights} nights (${label}): ${seconds} s`,
        JSON.stringify(out.report.phaseSeconds),
      );
      return { ...out, seconds };
    };
    const first = await backtest('before the single runs');
    const { report, alerts } = first;
    let mark = Date.now();

    const times: number[] = [];
    for (let i = 0; i < SINGLES; i++) {
      const night = addDays(FROM, i);
      mark = Date.now();
      const r = await serviceAt(night).runRules({ day: night });
      times.push((Date.now() - mark) / 1000);
      console.log(
        `[${engine}] single run ${i + 1}/${SINGLES} (${night}): ${times.at(-1)!.toFixed(1)} s, raised ${JSON.stringify(r.raised)}, resolved ${JSON.stringify(r.resolved)}, phases ${JSON.stringify(r.phaseSeconds)}`,
      );
    }
    const singlesSeconds = Math.round(times.reduce((a, b) => a + b, 0) * 10) / 10;
    const second = await backtest('after the single runs');
    const backtestSeconds = Math.round(((first.seconds + second.seconds) / 2) * 10) / 10;
    // What resolving on a purchase adds to a chunk of the ingest, rolled back: the look-up alone (a
    // 50,000-row chunk of customers without an open alert, as a day's sales mostly are), and the
    // worst case (a chunk of every other customer, all of whose open alerts end).
    const openIds = new Set(
      (await db.kysely.selectFrom('alert').select('customer_id').where('status', '=', 'open').execute()).map((a) =>
        Number(a.customer_id),
      ),
    );
    const quiet = sims.map((s) => s.index + 1).filter((id) => !openIds.has(id));
    const chunks = {
      lookup: Array.from({ length: 50_000 }, (_, i) => ({
        id: 1e12 + i,
        customerId: quiet[(i * 7919) % quiet.length]!,
        businessDay: today,
      })),
      worst: Array.from({ length: 50_000 }, (_, i) => ({
        id: 1e12 + i,
        customerId: 1 + ((i * 2) % sims.length),
        businessDay: today,
      })),
    };
    const resolveMs: Record<string, number[]> = { lookup: [], worst: [] };
    for (const [name, chunk] of Object.entries(chunks)) {
      for (let rep = 0; rep < 5; rep++) {
        await db.kysely
          .transaction()
          .execute(async (trx) => {
            const m = Date.now();
            const n = await resolveOnPurchase(trx, db.engine, chunk, new Date().toISOString());
            resolveMs[name]!.push(Date.now() - m);
            if (rep === 0) console.log(`[${engine}] resolve on purchase (${name}): ${fmt(n)} alerts resolved`);
            throw new Error('rollback');
          })
          .catch(() => undefined);
      }
    }
    const open = openIds.size;
    console.log(
      `[${engine}] resolve on purchase, 50,000-row chunk, ${fmt(open)} customers with an open alert: ${JSON.stringify(resolveMs)} ms`,
    );
    const raised = alerts.map((a) => ({ index: a.customerId - 1, day: a.day, kind: a.kind }));
    const perRule = Object.fromEntries(['cadence', 'decline', 'model'].map((r) => [r, truthFigures(sims, raised, r)]));
    return {
      engine,
      rows,
      seedSeconds: seeded?.seconds ?? null,
      backtestSeconds,
      backtestPhases: report.phaseSeconds,
      singles: SINGLES,
      singlesSeconds,
      singleSlowest: Math.round(Math.max(...times) * 10) / 10,
      singleFastest: Math.round(Math.min(...times) * 10) / 10,
      backtestRuns: [first.seconds, second.seconds],
      resolveMs,
      openAlerts: open,
      ratio: Math.round((backtestSeconds / singlesSeconds) * 1000) / 1000,
      // With fewer singles measured, their mean stands for the rest.
      projectedRatio: Math.round((backtestSeconds / ((singlesSeconds / SINGLES) * NIGHTS)) * 1000) / 1000,
      truth: truthFigures(sims, raised),
      perRule,
      rules: report.rules,
    };
  } finally {
    await db.close();
  }
}

const engines = args.engines.split(',').filter(Boolean) as ('sqlite' | 'postgres')[];
console.log(
  `back-test bench: ${fmt(CUSTOMERS)} customers, nights ${FROM} – ${TO} (${NIGHTS}), ${SINGLES} single runs; ${new Date().toISOString()}`,
);
const t0 = Date.now();
const sims = simulateStations({
  seed: SEED,
  customers: CUSTOMERS,
  stations: BRANCHES * AREAS * STATIONS,
  from: FROM,
  to: TO,
});
console.log(`generated ${fmt(sims.reduce((n, s) => n + s.visits.length, 0))} visits in ${secondsSince(t0)} s`);
const results: EngineFigures[] = [];
for (const engine of engines) {
  const given = engine === 'sqlite' ? args['sqlite-db'] : args['pg-db'];
  const fresh = given ? null : await freshDatabase(engine, 'backtest');
  const url = given ?? fresh!.url;
  try {
    const seeded = given ? null : await seed(engine, url, sims);
    if (seeded) console.log(`[${engine}] seeded ${fmt(seeded.rows)} sales in ${seeded.seconds} s`);
    results.push(await measure(engine, url, sims, seeded));
  } finally {
    if (fresh && !args.keep) await fresh.drop();
    else console.log(`[${engine}] kept: ${url}`);
  }
}
for (const r of results) {
  console.log(
    `\n[${r.engine}] ${fmt(CUSTOMERS)} customers, ${fmt(r.rows)} sales: back-test ${r.backtestSeconds} s (${r.backtestRuns.join(' and ')}) against ${r.singles} single runs ${r.singlesSeconds} s (${r.singleFastest}–${r.singleSlowest} s each): ×${r.ratio}${r.singles < NIGHTS ? ` (projected to ${NIGHTS}: ×${r.projectedRatio})` : ''}`,
  );
  console.log(
    JSON.stringify({
      truth: r.truth,
      perRule: r.perRule,
      rules: r.rules,
      phases: r.backtestPhases,
      resolveMs: r.resolveMs,
      openAlerts: r.openAlerts,
    }),
  );
}
process.exit(0);
