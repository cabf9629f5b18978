// A customer-archive CSV import (`forecourt import`, the same code as the web import center) beside
// the raw engine loading the same customers, already normalised, into the same tables.
// The file is what an old archive export looks like: Chinese headers, GBK, messy plates and phones,
// 1% of rows bad, 2% of rows a second record of an earlier customer. Our import runs as its own
// process under /usr/bin/time, so its peak memory is measured; a smaller file is imported first to
// show that memory does not grow with the file.
//   npx tsx bench/import-customers.ts [--rows 1000000] [--small 100000] [--engines sqlite,postgres]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import iconv from 'iconv-lite';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import SQLite from 'better-sqlite3';
import { openDb, type Db } from '../src/server/db/connection.js';
import { prepareDatabase } from '../src/server/bootstrap.js';
import { buildDemo } from '../src/cli/commands/demo.js';
import { freshDatabase } from './lib/fresh-db.js';

const { values: args } = parseArgs({
  strict: false,
  options: {
    rows: { type: 'string', default: '1000000' },
    small: { type: 'string', default: '100000' },
    engines: { type: 'string', default: 'sqlite,postgres' },
  },
});
const ROWS = Number(args.rows);
const SMALL = Number(args.small);
const ENGINES = String(args.engines).split(',') as ('sqlite' | 'postgres')[];
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin/forecourt.mjs');
const STATION = 'SJZ-CA-01';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const PROVINCES = ['冀', '京', '津', '晋', '鲁', '豫'];
const LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

interface Person {
  name: string;
  phone: string;
  plate: string;
  card: string | null;
}

/** Customer i, the same in the file and in the raw load. */
function person(i: number): Person {
  const k = Math.floor(i / 100_000);
  const plate = `${PROVINCES[k % PROVINCES.length]}${LETTERS[Math.floor(k / PROVINCES.length) % LETTERS.length]}${String(i % 100_000).padStart(5, '0')}`;
  return {
    name: `客户${i}`,
    phone: `139${String(i).padStart(8, '0')}`,
    plate,
    card: i % 3 === 0 ? `9${String(i).padStart(15, '0')}` : null,
  };
}

/** The file a user would export: GBK, CRLF, Chinese headers, messy spellings, bad rows, repeats. */
async function writeFile(file: string, rows: number): Promise<{ good: number; bad: number; customers: number }> {
  let good = 0;
  let bad = 0;
  let next = 0;
  async function* lines() {
    yield iconv.encode('客户名称,手机,车牌号,车型,加油卡号,备注\r\n', 'gbk');
    let buf: string[] = [];
    for (let r = 0; r < rows; r++) {
      let line: string;
      if (r % 100 === 99) {
        line = `坏行${r},12345,XYZ${r},,,`;
        bad++;
      } else if (r % 50 === 49 && next > 10) {
        // A second record of an earlier customer, written another way.
        const p = person(Math.floor(next / 2));
        line = `${p.name},${p.phone.slice(0, 3)}-${p.phone.slice(3, 7)}-${p.phone.slice(7)},${p.plate.toLowerCase()},,,第二次登记`;
        good++;
      } else {
        const p = person(next++);
        const phone = r % 7 === 0 ? `+86 ${p.phone}` : p.phone;
        const plate = r % 5 === 0 ? `${p.plate.slice(0, 2)}·${p.plate.slice(2)}` : p.plate;
        line = `${p.name},${phone},${plate},解放J6,${p.card ?? ''},老档案`;
        good++;
      }
      buf.push(line);
      if (buf.length === 10_000) {
        yield iconv.encode(`${buf.join('\r\n')}\r\n`, 'gbk');
        buf = [];
      }
    }
    if (buf.length) yield iconv.encode(`${buf.join('\r\n')}\r\n`, 'gbk');
  }
  await pipeline(Readable.from(lines()), fs.createWriteStream(file));
  return { good, bad, customers: next };
}

async function count(db: Db, table: 'customer' | 'vehicle' | 'customer_phone' | 'fuel_card'): Promise<number> {
  return Number(
    (
      await db.kysely
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
}

/** The same customers, normalised, straight into the tables: prepared inserts (SQLite) or COPY (PostgreSQL). */
async function rawLoad(
  engine: 'sqlite' | 'postgres',
  url: string,
  orgUnitId: number,
  customers: number,
): Promise<number> {
  const now = new Date().toISOString();
  const base = 10_000_000;
  const started = performance.now();
  if (engine === 'sqlite') {
    const db = new SQLite(url);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const c = db.prepare(
      'insert into customer (id, org_unit_id, code, kind, name, notes, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const ph = db.prepare("insert into customer_phone (customer_id, phone, kind) values (?, ?, 'mobile')");
    const v = db.prepare(
      'insert into vehicle (customer_id, plate, plate_reversed, plate_kind, model, created_at) values (?, ?, ?, ?, ?, ?)',
    );
    const fc = db.prepare('insert into fuel_card (customer_id, card_no, created_at) values (?, ?, ?)');
    const batch = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const p = person(i);
        const id = base + i;
        c.run(id, orgUnitId, `RAW${i}`, 'individual', p.name, '老档案', now, now);
        ph.run(id, p.phone);
        v.run(id, p.plate, [...p.plate].reverse().join(''), 'standard', '解放J6', now);
        if (p.card) fc.run(id, p.card, now);
      }
    });
    for (let i = 0; i < customers; i += 50_000) batch(i, Math.min(customers, i + 50_000));
    db.close();
  } else {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const copy = async (sqlText: string, rows: () => Generator<string>) => {
      await pipeline(Readable.from(rows()), client.query(copyFrom(sqlText)));
    };
    for (let from = 0; from < customers; from += 50_000) {
      const to = Math.min(customers, from + 50_000);
      await client.query('begin');
      await copy(
        'copy customer (id, org_unit_id, code, kind, name, notes, created_at, updated_at) from stdin',
        function* () {
          for (let i = from; i < to; i++)
            yield `${base + i}\t${orgUnitId}\tRAW${i}\tindividual\t${person(i).name}\t老档案\t${now}\t${now}\n`;
        },
      );
      await copy('copy customer_phone (customer_id, phone, kind) from stdin', function* () {
        for (let i = from; i < to; i++) yield `${base + i}\t${person(i).phone}\tmobile\n`;
      });
      await copy(
        'copy vehicle (customer_id, plate, plate_reversed, plate_kind, model, created_at) from stdin',
        function* () {
          for (let i = from; i < to; i++) {
            const p = person(i).plate;
            yield `${base + i}\t${p}\t${[...p].reverse().join('')}\tstandard\t解放J6\t${now}\n`;
          }
        },
      );
      await copy('copy fuel_card (customer_id, card_no, created_at) from stdin', function* () {
        for (let i = from; i < to; i++) {
          const card = person(i).card;
          if (card) yield `${base + i}\t${card}\t${now}\n`;
        }
      });
      await client.query('commit');
    }
    await client.end();
  }
  return (performance.now() - started) / 1000;
}

/** `forecourt import` in its own process; wall time and peak resident memory from /usr/bin/time. */
function importRun(url: string, file: string): { seconds: number; peakMb: number; stdout: string } {
  const started = performance.now();
  const r = spawnSync(
    '/usr/bin/time',
    ['-v', process.execPath, BIN, 'import', file, '--kind', 'customers', '--user', 'admin', '--org', STATION],
    { env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`import failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  return { seconds, peakMb: kb / 1024, stdout: r.stdout };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-bench-import-'));
try {
  const big = path.join(dir, 'archive.csv');
  const small = path.join(dir, 'archive-small.csv');
  const t0 = performance.now();
  const bigInfo = await writeFile(big, ROWS);
  const smallInfo = await writeFile(small, SMALL);
  console.log(
    `import-customers: ${fmt(ROWS)}-row GBK CSV (${(fs.statSync(big).size / 1024 / 1024).toFixed(0)} MB, ${fmt(bigInfo.customers)} distinct customers, ${fmt(bigInfo.bad)} bad rows) and a ${fmt(SMALL)}-row one, written in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${os.cpus().length} cores; node ${process.version}`,
  );
  for (const engine of ENGINES) {
    const results: string[] = [];
    for (const [label, file, info] of [
      ['small', small, smallInfo],
      ['big', big, bigInfo],
    ] as const) {
      const target = await freshDatabase(engine, `imp_${label}`);
      const rawDb = await freshDatabase(engine, `raw_${label}`);
      try {
        for (const url of [target.url, rawDb.url]) {
          const db = openDb({ url });
          await prepareDatabase(db);
          await buildDemo(db, { password: 'Bench-passw0rd-long' });
          await db.close();
        }
        const rawDbh = openDb({ url: rawDb.url });
        const station = await rawDbh.kysely
          .selectFrom('org_unit')
          .select('id')
          .where('code', '=', STATION)
          .executeTakeFirstOrThrow();
        await rawDbh.close();
        const rawSeconds = await rawLoad(engine, rawDb.url, station.id, info.customers);
        const ours = importRun(target.url, file);
        const db = openDb({ url: target.url });
        const customers = await count(db, 'customer');
        const vehicles = await count(db, 'vehicle');
        const phones = await count(db, 'customer_phone');
        await db.close();
        const rows = label === 'big' ? ROWS : SMALL;
        if (customers !== info.customers) throw new Error(`expected ${info.customers} customers, found ${customers}`);
        results.push(
          `${engine} ${fmt(rows)} rows: raw load of the ${fmt(info.customers)} customers ${rawSeconds.toFixed(1)} s (${fmt(info.customers / rawSeconds)} customers/s); ` +
            `forecourt import ${ours.seconds.toFixed(1)} s (${fmt(rows / ours.seconds)} rows/s, ${fmt(info.customers / ours.seconds)} customers/s, ×${(rawSeconds / ours.seconds).toFixed(2)} of raw), peak RSS ${ours.peakMb.toFixed(0)} MB; ` +
            `stored ${fmt(customers)} customers, ${fmt(vehicles)} vehicles, ${fmt(phones)} phones; ${ours.stdout.split('\n').find((l) => l.startsWith('imported'))}`,
        );
        console.log(results[results.length - 1]);
      } finally {
        await target.drop();
        await rawDb.drop();
      }
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
