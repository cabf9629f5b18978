// Authenticated API throughput and latency over loopback, beside a bare Fastify route measured in
// the same run. Every server runs in a child process of its own (bench/lib/server-process.ts);
// autocannon runs here, so load generation does not steal the server's event loop (it still
// shares the machine's cores).
//   npx tsx bench/api-throughput.ts [--seconds 10] [--warmup 2] [--connections 10] [--engines sqlite,postgres]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import autocannon from 'autocannon';
import { openDb } from '../src/server/db/connection.js';
import { prepareDatabase } from '../src/server/bootstrap.js';
import { buildDemo, DEMO_PASSWORD } from '../src/cli/commands/demo.js';
import { startServer } from './lib/server-process.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '10' },
    engines: { type: 'string', default: 'sqlite,postgres' },
  },
});
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://forecourt:forecourt@127.0.0.1:5432/postgres';

interface Result {
  rps: number;
  p50: number;
  p99: number;
}

async function measure(url: string, headers: Record<string, string> = {}): Promise<Result> {
  const opts = { url, connections: CONNECTIONS, headers };
  await autocannon({ ...opts, duration: WARMUP });
  const r = await autocannon({ ...opts, duration: SECONDS });
  // A run full of 401s or 500s would look fast; refuse to report it.
  if (r.errors + r.timeouts + r.non2xx > 0)
    throw new Error(`${url}: ${r.non2xx} non-2xx answers, ${r.errors} errors, ${r.timeouts} timeouts`);
  return { rps: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99 };
}

async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

/** A fresh database for one engine: a temp SQLite file, or a new PostgreSQL database dropped afterwards. */
async function freshDatabase(engine: string): Promise<{ url: string; drop: () => Promise<void> }> {
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-bench-api-'));
    return { url: path.join(dir, 'bench.db'), drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `fc_bench_api_${process.pid}`;
  const admin = async (statement: string) => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      await c.query(statement);
    } finally {
      await c.end();
    }
  };
  await admin(`create database ${name}`);
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

async function signIn(base: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: DEMO_PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
}

const ms = (v: number) => `${Number.isInteger(v) ? v : v.toFixed(1)} ms`;

console.log(
  `api-throughput: autocannon, ${CONNECTIONS} connections, ${WARMUP} s warm-up then ${SECONDS} s per target; servers in child processes on 127.0.0.1`,
);
console.log(
  `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, ${os.type()} ${os.release()}`,
);

const rows: { label: string; r: Result }[] = [];
const bare = await startServer('bench/lib/bare-server.ts', {});
let baseline: Result;
try {
  baseline = await measure(`${bare.url}/bare`);
} finally {
  await bare.stop();
}
rows.push({ label: 'bare Fastify route (baseline)', r: baseline });

for (const engine of args.engines!.split(',')) {
  if (engine === 'postgres' && !(await pgReachable())) {
    console.log(`PostgreSQL is not reachable at ${PG_URL.replace(/:[^:@/]*@/, ':***@')} (set BENCH_PG_URL): skipped`);
    continue;
  }
  const { url, drop } = await freshDatabase(engine);
  try {
    const db = openDb({ url });
    try {
      await prepareDatabase(db);
      await buildDemo(db);
    } finally {
      await db.close();
    }
    const server = await startServer('bench/lib/app-server.ts', { DATABASE_URL: url });
    try {
      const cookie = await signIn(server.url);
      // The admin sees the whole demo company; make sure the request measured is the one meant.
      const units = (await (await fetch(`${server.url}/api/org/units`, { headers: { cookie } })).json()) as unknown[];
      if (units.length !== 49) throw new Error(`expected 49 org units, got ${units.length}`);
      rows.push({ label: `${engine}: GET /api/auth/me`, r: await measure(`${server.url}/api/auth/me`, { cookie }) });
      rows.push({
        label: `${engine}: GET /api/org/units (49 units)`,
        r: await measure(`${server.url}/api/org/units`, { cookie }),
      });
    } finally {
      await server.stop();
    }
  } finally {
    await drop();
  }
}

console.log('\n| target | req/s | p50 | p99 | × bare |\n|---|---:|---:|---:|---:|');
for (const { label, r } of rows)
  console.log(
    `| ${label} | ${Math.round(r.rps).toLocaleString('en-US')} | ${ms(r.p50)} | ${ms(r.p99)} | ${(r.rps / baseline.rps).toFixed(3)} |`,
  );
