// XLSX imports off the event loop. Two measurements:
//  1. parse throughput of a 100,000-row workbook (as Excel writes one: shared strings) read in the
//     import center's worker thread against the same reader in this thread, alternating runs in the
//     same process; the main thread's event-loop delay during each;
//  2. GET /api/health latency while the server (its own process) commits a large customer workbook,
//     against the same probe with the server idle.
//   npx tsx bench/import-xlsx.ts [--rows 100000] [--runs 5] [--import-rows 200000] [--engines sqlite,postgres]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import ExcelJS from 'exceljs';
import { openDb } from '../src/server/db/connection.js';
import { prepareDatabase } from '../src/server/bootstrap.js';
import { buildDemo, DEMO_PASSWORD } from '../src/cli/commands/demo.js';
import { DEFAULT_IMPORT_LIMITS } from '../src/server/modules/imports/parse/limits.js';
import { InProcessReader, ParsePool, type RowReader } from '../src/server/modules/imports/parse/parse-pool.js';
import { freshDatabase } from './lib/fresh-db.js';
import { startServer } from './lib/server-process.js';

const { values: args } = parseArgs({
  strict: false,
  options: {
    rows: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '5' },
    'import-rows': { type: 'string', default: '200000' },
    engines: { type: 'string', default: 'sqlite,postgres' },
  },
});
const ROWS = Number(args.rows);
const RUNS = Number(args.runs);
const IMPORT_ROWS = Number(args['import-rows']);
const ENGINES = String(args.engines).split(',').filter(Boolean) as ('sqlite' | 'postgres')[];
const STATION = 'SJZ-CA-01';
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

/** A customer archive as Excel would save it: shared strings, six columns, distinct plates and phones. */
async function writeWorkbook(file: string, rows: number): Promise<void> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: true, useStyles: false });
  const ws = wb.addWorksheet('客户档案');
  ws.addRow(['客户名称', '手机', '车牌号', '车型', '加油卡号', '备注']).commit();
  const provinces = ['冀', '京', '津', '晋', '鲁', '豫'];
  for (let i = 0; i < rows; i++) {
    const k = Math.floor(i / 100_000);
    const letter = 'ABCDEFGHJK'[Math.floor(k / provinces.length) % 10];
    const plate = `${provinces[k % provinces.length]}${letter}${String(i % 100_000).padStart(5, '0')}`;
    const card = i % 3 === 0 ? `9${String(i).padStart(15, '0')}` : null;
    ws.addRow([
      `客户${i}`,
      `139${String(i).padStart(8, '0')}`,
      plate,
      i % 3 ? '解放J6' : '东风天龙',
      card,
      '老档案',
    ]).commit();
  }
  ws.commit();
  await wb.commit();
}

interface ParseRun {
  seconds: number;
  /** CPU time of the whole process (every thread) during the run. */
  cpu: number;
  rows: number;
  loopP99: number;
  loopMax: number;
}

async function parseRun(reader: RowReader, file: string): Promise<ParseRun> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  let rows = 0;
  let chars = 0;
  for await (const r of reader.rows(file)) {
    rows++;
    // Touch what the importer would: every cell.
    for (const c of r.cells) if (typeof c === 'string') chars += c.length;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  h.disable();
  if (chars === 0) throw new Error('no cells read');
  return { seconds, cpu: (cpu.user + cpu.system) / 1e6, rows, loopP99: h.percentile(99) / 1e6, loopMax: h.max / 1e6 };
}

async function parseComparison(dir: string): Promise<void> {
  const file = path.join(dir, 'parse.xlsx');
  const t0 = performance.now();
  await writeWorkbook(file, ROWS);
  const mb = (fs.statSync(file).size / 1024 / 1024).toFixed(1);
  const took = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(
    `import-xlsx: ${fmt(ROWS)}-row workbook (${mb} MB) written in ${took} s; ${os.cpus().length} cores; node ${process.version}; load ${load()}`,
  );
  const pool = new ParsePool(DEFAULT_IMPORT_LIMITS);
  const here = new InProcessReader(DEFAULT_IMPORT_LIMITS);
  // A warm-up of each: the worker's start (tsx loading the reader) is paid once per idle worker.
  await parseRun(pool, file);
  await parseRun(here, file);
  const results = { worker: [] as ParseRun[], here: [] as ParseRun[] };
  for (let i = 0; i < RUNS; i++) {
    results.here.push(await parseRun(here, file));
    results.worker.push(await parseRun(pool, file));
  }
  await pool.close();
  const line = (label: string, rs: ParseRun[]) => {
    const s = median(rs.map((r) => r.seconds));
    const runs = rs.map((r) => r.seconds.toFixed(2)).join(', ');
    const p99 = median(rs.map((r) => r.loopP99)).toFixed(0);
    const loop = `main-thread event-loop delay p99 ${p99} ms, max ${Math.max(...rs.map((r) => r.loopMax)).toFixed(0)} ms`;
    const cpu = median(rs.map((r) => r.cpu)).toFixed(2);
    return `${label}: median ${s.toFixed(2)} s (${fmt(ROWS / s)} rows/s; runs ${runs}), CPU ${cpu} s, ${loop}`;
  };
  console.log(line('in this thread', results.here));
  console.log(line('in the worker ', results.worker));
  const ratio = median(results.here.map((r) => r.seconds)) / median(results.worker.map((r) => r.seconds));
  const cpuRatio = median(results.here.map((r) => r.cpu)) / median(results.worker.map((r) => r.cpu));
  console.log(
    `worker throughput ×${ratio.toFixed(2)} of in-thread (target ≥ 0.9); CPU ×${cpuRatio.toFixed(2)}; load ${load()}`,
  );
}

async function signIn(base: string): Promise<{ cookie: string; csrf: string }> {
  const body = JSON.stringify({ username: 'admin', password: DEMO_PASSWORD });
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: csrfToken };
}

/** GET /api/health one after another, 10 ms apart, until `running()` says stop; latencies in ms. */
async function probeHealth(base: string, running: () => boolean): Promise<number[]> {
  const out: number[] = [];
  while (running()) {
    const t = performance.now();
    const res = await fetch(`${base}/api/health`);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`health answered ${res.status}`);
    out.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 10));
  }
  return out;
}

async function healthDuringImport(dir: string, engine: 'sqlite' | 'postgres'): Promise<void> {
  const file = path.join(dir, 'import.xlsx');
  if (!fs.existsSync(file)) await writeWorkbook(file, IMPORT_ROWS);
  const db = await freshDatabase(engine, 'impxlsx');
  try {
    const prep = openDb({ url: db.url });
    await prepareDatabase(prep);
    await buildDemo(prep, { password: DEMO_PASSWORD });
    const station = await prep.kysely
      .selectFrom('org_unit')
      .select('id')
      .where('code', '=', STATION)
      .executeTakeFirstOrThrow();
    await prep.close();
    const server = await startServer('bench/lib/app-server.ts', { DATABASE_URL: db.url });
    try {
      const base = server.url;
      const { cookie, csrf } = await signIn(base);
      const headers = { cookie, 'x-csrf-token': csrf };
      const idleUntil = Date.now() + 5_000;
      const idle = await probeHealth(base, () => Date.now() < idleUntil);

      const up = await fetch(`${base}/api/imports?fileName=archive.xlsx&orgUnitId=${station.id}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/octet-stream' },
        body: fs.readFileSync(file),
      });
      if (up.status !== 201) throw new Error(`upload: ${up.status} ${await up.text()}`);
      const job = (await up.json()) as { id: number };
      const json = { ...headers, 'content-type': 'application/json' };
      const inspect = await fetch(`${base}/api/imports/${job.id}/inspect`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ kind: 'customers' }),
      });
      const inspected = (await inspect.json()) as { suggested: Record<string, string> };
      const mapping = JSON.stringify({ kind: 'customers', mapping: inspected.suggested });
      const mapped = await fetch(`${base}/api/imports/${job.id}/mapping`, {
        method: 'PUT',
        headers: json,
        body: mapping,
      });
      if (mapped.status !== 200) throw new Error(`mapping: ${mapped.status} ${await mapped.text()}`);

      let done = false;
      const started = performance.now();
      const commit = await fetch(`${base}/api/imports/${job.id}/commit`, { method: 'POST', headers });
      if (commit.status !== 202) throw new Error(`commit: ${commit.status} ${await commit.text()}`);
      const watch = (async () => {
        for (;;) {
          const res = await fetch(`${base}/api/imports/${job.id}`, { headers });
          const j = (await res.json()) as {
            status: string;
            rowsOk: number;
            createdCount: number;
            error: string | null;
          };
          if (j.status !== 'committing') {
            done = true;
            return j;
          }
          await new Promise((r) => setTimeout(r, 500));
        }
      })();
      const busy = await probeHealth(base, () => !done);
      const final = await watch;
      const seconds = (performance.now() - started) / 1000;
      if (final.status !== 'done') throw new Error(`import ended ${final.status}: ${final.error}`);
      const stat = (xs: number[]) => {
        const [p50, p99] = [quantile(xs, 0.5).toFixed(1), quantile(xs, 0.99).toFixed(1)];
        return `p50 ${p50} ms, p99 ${p99} ms, max ${Math.max(...xs).toFixed(0)} ms (${fmt(xs.length)} requests)`;
      };
      console.log(`${engine}: GET /api/health idle: ${stat(idle)}`);
      const what = `${fmt(final.createdCount)} customers created, ${seconds.toFixed(1)} s, ${fmt(IMPORT_ROWS / seconds)} rows/s`;
      console.log(
        `${engine}: GET /api/health while committing ${fmt(IMPORT_ROWS)} rows (${what}): ${stat(busy)} (target p99 < 50 ms)`,
      );
      console.log(`${engine}: load ${load()}`);
    } finally {
      await server.stop();
    }
  } finally {
    await db.drop();
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-bench-xlsx-'));
try {
  await parseComparison(dir);
  for (const engine of ENGINES) await healthDuringImport(dir, engine);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
