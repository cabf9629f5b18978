// Authenticated API throughput and latency over loopback, beside a bare Fastify route measured in
// the same run. Each server runs in its own process; autocannon runs here.
//   npx tsx bench/api-throughput.ts [--seconds 10] [--engines sqlite,postgres]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import autocannon from 'autocannon';
import { openDb } from '../src/server/db/connection.js';
import { prepareDatabase } from '../src/server/bootstrap.js';
import { buildDemo, DEMO_PASSWORD } from '../src/cli/commands/demo.js';
import { startServer } from './server-process.js';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, engines: { type: 'string', default: 'sqlite,postgres' } } });
const SECONDS = Number(args.seconds);
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://forecourt:forecourt@127.0.0.1:5432/postgres';

async function load(url: string, headers: Record<string, string> = {}) {
  await autocannon({ url, connections: 10, duration: 2, headers }); // warm-up
  const r = await autocannon({ url, connections: 10, duration: SECONDS, headers });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, bad: r.errors + r.non2xx };
}

async function database(engine: string): Promise<{ url: string; drop: () => Promise<void> }> {
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-bench-api-'));
    return { url: path.join(dir, 'bench.db'), drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `fc_bench_api_${process.pid}`;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`create database ${name}`);
  await c.end();
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const d = new pg.Client({ connectionString: PG_URL });
      await d.connect();
      await d.query(`drop database if exists ${name} with (force)`);
      await d.end();
    },
  };
}

console.log(`API throughput: autocannon, 10 connections, ${SECONDS} s per target after a 2 s warm-up; ${os.cpus().length} cores; node ${process.version}`);
const bare = await startServer('bench/bare-server.ts', { PORT: '3950' });
const baseline = await load(`${bare.url}/bare`);
await bare.stop();
const rows: [string, Awaited<ReturnType<typeof load>>][] = [['bare Fastify route (baseline)', baseline]];

for (const engine of args.engines!.split(',')) {
  const { url, drop } = await database(engine);
  const db = openDb({ url });
  await prepareDatabase(db);
  await buildDemo(db.kysely);
  await db.close();
  const server = await startServer('src/server/main.ts', { PORT: '3951', DATABASE_URL: url, LOGIN_RATE_LIMIT: '1000' });
  try {
    const login = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: DEMO_PASSWORD }) });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    rows.push([`${engine}: GET /api/auth/me`, await load(`${server.url}/api/auth/me`, { cookie })]);
    rows.push([`${engine}: GET /api/org/units (49 units)`, await load(`${server.url}/api/org/units`, { cookie })]);
  } finally {
    await server.stop();
    await drop();
  }
}

for (const [label, r] of rows) {
  console.log(`  ${label.padEnd(38)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${String(r.p50).padStart(3)} ms  p99 ${String(r.p99).padStart(3)} ms  ×${(r.rps / baseline.rps).toFixed(2)} of bare${r.bad ? `  (${r.bad} errors)` : ''}`);
}
