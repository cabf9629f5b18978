// Partial-plate lookup at scale: 1,000,000 customers with 1,300,000 vehicles, on SQLite and
// PostgreSQL. In process (PumpService.lookup) and over HTTP with 50 concurrent clients, each beside
// the same engine's exact-plate lookup measured in the same run.
//   npx tsx bench/plate-lookup.ts [--customers N] [--engines sqlite,postgres]
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import autocannon from 'autocannon';
import { openDb } from '../src/server/db/connection.js';
import { startServer } from './lib/server-process.js';
import { mulberry32, plates, seedPlateArchive } from './lib/plate-seed.js';
import { PumpService } from '../src/server/modules/pump/pump.service.js';
import { CustomersService } from '../src/server/modules/customers/customers.service.js';
import type { Principal } from '../src/server/auth/principal.js';
import { PERMISSIONS } from '../src/domain/permissions.js';

const { values: args } = parseArgs({
  options: {
    customers: { type: 'string', default: '1000000' },
    engines: { type: 'string', default: 'sqlite,postgres' },
    seconds: { type: 'string', default: '10' },
  },
});
const CUSTOMERS = Number(args.customers);
const VEHICLES = Math.round(CUSTOMERS * 1.3);
const SECONDS = Number(args.seconds);
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://forecourt:forecourt@127.0.0.1:5432/postgres';

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

let dbFile = '';
let pgUrl = '';

async function timeInProcess(label: string, fn: (q: string) => Promise<unknown>, queries: string[]) {
  for (const q of queries.slice(0, 200)) await fn(q); // warm-up
  const times: number[] = [];
  const deadline = Date.now() + SECONDS * 1000;
  let i = 0;
  while (Date.now() < deadline) {
    const q = queries[i++ % queries.length]!;
    const t = process.hrtime.bigint();
    await fn(q);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { label, n: times.length, p50: pct(times, 0.5), p99: pct(times, 0.99) };
}

async function http(url: string, cookie: string, paths: string[]) {
  const result = await autocannon({
    url,
    connections: 50,
    duration: SECONDS,
    headers: { cookie },
    requests: paths.map((p) => ({ method: 'GET', path: p })),
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

async function runEngine(engine: 'sqlite' | 'postgres', allPlates: string[]) {
  console.log(`\n== ${engine} ==`);
  let cleanup: () => Promise<void> = async () => {};
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-bench-'));
    dbFile = path.join(dir, 'bench.db');
    cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
  } else {
    const name = `fc_bench_${process.pid}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const u = new URL(PG_URL);
    u.pathname = `/${name}`;
    pgUrl = u.toString();
    cleanup = async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  }
  const db = openDb({ url: engine === 'sqlite' ? dbFile : pgUrl, poolSize: 20 });
  try {
    const { hqId, stationId, stationPath, userPassword } = await seedPlateArchive(
      db,
      engine === 'sqlite' ? dbFile : pgUrl,
      allPlates,
      CUSTOMERS,
    );
    const principal: Principal = {
      userId: 1,
      username: 'bench',
      displayName: 'bench',
      orgUnitId: hqId,
      orgPath: `/${hqId}/`,
      grantPaths: [],
      grantWritePaths: [],
      permissions: new Set(PERMISSIONS),
      roleCodes: ['admin'],
      locale: 'zh-CN',
      sessionId: 'x',
      csrfToken: 'x',
    };
    const attendant: Principal = {
      ...principal,
      userId: 2,
      username: 'attendant',
      orgUnitId: stationId,
      orgPath: stationPath,
      roleCodes: ['attendant'],
    };
    const pump = new PumpService(db.kysely, db.engine, new CustomersService(db.kysely, db.engine));
    const rnd = mulberry32(99);
    const sample = Array.from({ length: 2000 }, () => allPlates[Math.floor(rnd() * allPlates.length)]!);
    const tail3 = sample.map((p) => p.slice(-3));
    const tail2 = sample.map((p) => p.slice(-2));
    const middle4 = sample.map((p) => p.slice(2, 6));
    const exact = (q: string) =>
      db.kysely
        .selectFrom('vehicle as v')
        .innerJoin('customer as c', 'c.id', 'v.customer_id')
        .select(['v.id', 'v.plate', 'c.id as cid', 'c.name', 'c.surname', 'c.notes'])
        .where('v.plate', '=', q)
        .where('c.merged_into_id', 'is', null)
        .execute();

    const rows = [
      await timeInProcess('exact plate (baseline)', exact, sample),
      await timeInProcess('last 3 characters', (q) => pump.lookup(principal, q), tail3),
      await timeInProcess('last 2 characters', (q) => pump.lookup(principal, q), tail2),
      await timeInProcess('4 characters in the middle', (q) => pump.lookup(principal, q), middle4),
      await timeInProcess('whole plate via lookup', (q) => pump.lookup(principal, q), sample),
      await timeInProcess('station: last 3 characters', (q) => pump.lookup(attendant, q), tail3),
      await timeInProcess('station: last 2 characters', (q) => pump.lookup(attendant, q), tail2),
      await timeInProcess('station: 4 in the middle', (q) => pump.lookup(attendant, q), middle4),
    ];
    const base = rows[0]!;
    console.log('  in process (one client, sequential):');
    for (const r of rows)
      console.log(
        `    ${r.label.padEnd(28)} n=${String(r.n).padStart(6)}  p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms  p99 ×${(r.p99 / base.p99).toFixed(1)} of exact`,
      );

    // The server runs in its own process so the load generator does not share its event loop.
    type Http = Awaited<ReturnType<typeof http>>;
    let exactHttp: Http, tail3Http: Http, tail2Http: Http, stationTail3Http: Http, stationTail2Http: Http;
    const server = await startServer('src/server/main.ts', {
      DATABASE_URL: engine === 'sqlite' ? dbFile : pgUrl,
      PORT: String(3900 + (engine === 'sqlite' ? 1 : 2)),
      LOGIN_RATE_LIMIT: '1000',
    });
    const address = server.url;
    try {
      const login = await fetch(`${address}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'bench', password: userPassword }),
      });
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
      const enc = (q: string) => `/api/pump/lookup?q=${encodeURIComponent(q)}`;
      // Warm up the JIT and the page cache before anything is measured.
      await autocannon({
        url: address,
        connections: 10,
        duration: 3,
        headers: { cookie },
        requests: [...sample.slice(500, 700), ...tail3.slice(500, 700)].map((q) => ({ method: 'GET', path: enc(q) })),
      });
      exactHttp = await http(address, cookie, sample.slice(0, 500).map(enc));
      tail3Http = await http(address, cookie, tail3.slice(0, 500).map(enc));
      tail2Http = await http(address, cookie, tail2.slice(0, 500).map(enc));
      const attLogin = await fetch(`${address}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'attendant', password: userPassword }),
      });
      const attCookie = (attLogin.headers.get('set-cookie') ?? '').split(';')[0]!;
      stationTail3Http = await http(address, attCookie, tail3.slice(0, 500).map(enc));
      stationTail2Http = await http(address, attCookie, tail2.slice(0, 500).map(enc));
    } finally {
      await server.stop();
    }
    console.log('  HTTP, 50 concurrent clients:');
    for (const [label, r] of [
      ['pump lookup, whole plate (baseline)', exactHttp],
      ['pump lookup, last 3 characters', tail3Http],
      ['pump lookup, last 2 characters', tail2Http],
      ['station attendant, last 3 characters', stationTail3Http],
      ['station attendant, last 2 characters', stationTail2Http],
    ] as const) {
      console.log(
        `    ${label.padEnd(42)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${String(r.p50).padStart(4)} ms  p99 ${String(r.p99).padStart(4)} ms  errors ${r.errors}  req/s ×${(r.rps / exactHttp.rps).toFixed(2)} of baseline`,
      );
    }
  } finally {
    await db.close();
    await cleanup();
  }
}

const engines = args.engines!.split(',') as ('sqlite' | 'postgres')[];
console.log(
  `plate lookup: ${CUSTOMERS.toLocaleString()} customers, ${VEHICLES.toLocaleString()} vehicles; ${os.cpus().length} cores; node ${process.version}`,
);
const allPlates = plates(VEHICLES);
for (const e of engines) await runEngine(e, allPlates);
