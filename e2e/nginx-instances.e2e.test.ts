// Two app instances behind a real nginx on one PostgreSQL database, as an operator deploys them
// (deploy/nginx.conf, rendered with this run's ports and paths). The instances are real processes
// started as `npm start` starts one (src/server/main.ts); nginx terminates TLS with a throw-away
// certificate. Proves: a request sequence spread over both instances writes everything once; an import
// started on one instance is followed on the other; a deactivated user is refused on the other
// instance within the principal cache's bound; scheduled job claims are taken once; and with one
// instance SIGKILLed mid-run, nginx sends on to the other — GETs never fail, every acknowledged write
// is in the database exactly once, nothing is written twice, and the dead process's job claim is
// taken over by the survivor.
//
// Needs nginx and openssl. Skipped with a message when nginx is missing, unless REQUIRE_NGINX=1 (CI)
// makes that a failure; PostgreSQL as everywhere (REQUIRE_PG=1).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, isPgAvailable } from '../test/helpers/engines.js';
import { ensureWeb } from '../scripts/ensure-web.mjs';
import { NGINX, OPENSSL, startNginx, type RunningNginx } from '../bench/lib/nginx.js';
import { freePort } from '../bench/lib/server-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CACHE_BOUND_MS = 5000;
const JOB_STALE_MS = 6000;
const PASSWORD = 'Str0ng-setup-secret';
const STAFF_PASSWORD = 'Staff-passw0rd-long';
/** Each step's own bound: the suite shares 2 cores with the rest of the tests. */
const STEP_MS = 120_000;

const pgReady = await isPgAvailable();
const nginxRequired = process.env.REQUIRE_NGINX === '1';
if (!NGINX && !nginxRequired)
  console.warn('[e2e] nginx not found: "two instances behind nginx" is skipped (REQUIRE_NGINX=1 makes this a failure)');
if (!pgReady) console.warn('[e2e] PostgreSQL not reachable: "two instances behind nginx" is skipped');

// ---------------------------------------------------------------------------------------------- plumbing

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: <T = any>() => T;
}
interface Session {
  cookie: string;
  csrf: string;
}
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false });
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function request(
  base: string,
  method: string,
  url: string,
  opts: { s?: Session | null; body?: unknown; raw?: Buffer; headers?: Record<string, string> } = {},
): Promise<Res> {
  const target = new URL(url, base);
  const tls = target.protocol === 'https:';
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.s) Object.assign(headers, { cookie: opts.s.cookie, 'x-csrf-token': opts.s.csrf });
  let payload: Buffer | undefined;
  if (opts.raw) {
    payload = opts.raw;
    headers['content-type'] = 'application/octet-stream';
  } else if (opts.body !== undefined) {
    payload = Buffer.from(JSON.stringify(opts.body));
    headers['content-type'] = 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).request(
      target,
      { method, headers, agent: tls ? httpsAgent : httpAgent, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function ok<T = any>(p: Promise<Res>, status = 200): Promise<T> {
  const res = await p;
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text.slice(0, 300)}`);
  return res.json<T>();
}

function sessionOf(res: Res): Session {
  const set = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const cookie = set.map((c) => c.split(';')[0]!).find((c) => c.startsWith('fc_session='));
  if (!cookie) throw new Error(`no session cookie: ${res.status} ${res.text.slice(0, 200)}`);
  return { cookie, csrf: res.json<{ csrfToken: string }>().csrfToken };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Instance {
  name: string;
  port: number;
  base: string;
  child: ChildProcess;
  /** The id this process writes into the job claims it holds (job-runner's RUNNER). */
  runner: string;
  /** Its log lines (pino JSON). */
  logs: Record<string, any>[];
}

/** One app process as `npm start` runs it (the web UI is built beforehand). */
function startInstance(name: string, port: number, databaseUrl: string): Instance {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    TRUST_PROXY: '1',
    SECURE_COOKIES: '1',
    LOG_LEVEL: 'info',
    PRINCIPAL_CACHE_MS: String(CACHE_BOUND_MS),
    JOB_STALE_MS: String(JOB_STALE_MS),
    JOB_HEARTBEAT_MS: '1000',
  };
  delete env.FORECOURT_JOBS;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, any>[] = [];
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk.toString('utf8')}`));
  return {
    name,
    port,
    base: `http://127.0.0.1:${port}`,
    child,
    runner: `${os.hostname()}:${child.pid}`,
    logs,
  };
}

async function waitReady(inst: Instance, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (inst.child.exitCode !== null) throw new Error(`${inst.name} exited (${inst.child.exitCode})`);
    const up = await request(inst.base, 'GET', '/api/health/live').then(
      (r) => r.status === 200,
      () => false,
    );
    if (up) return;
    await sleep(200);
  }
  throw new Error(`${inst.name} did not answer within ${timeoutMs} ms`);
}

// ---------------------------------------------------------------------------------------------- the test

const runnable = !!NGINX && pgReady;
const suite = runnable ? describe : describe.skip;

if (!NGINX && nginxRequired) {
  describe('two instances behind nginx on PostgreSQL', () => {
    it('needs nginx', () => {
      throw new Error('REQUIRE_NGINX=1 but nginx is not installed');
    });
  });
} else {
  suite('two instances behind nginx on PostgreSQL', () => {
    let db: { url: string; drop: () => Promise<void> };
    let sql: pg.Client;
    let a: Instance;
    let b: Instance;
    let nginx: RunningNginx | null = null;
    let front: string;
    let plainPort: number;
    let admin: Session;
    let stationId: number;
    let attendantRole: number;
    const att: Session[] = [];
    const attIds: number[] = [];
    const instances = () => [a, b].filter(Boolean);

    beforeAll(async () => {
      if (!OPENSSL) throw new Error('openssl is needed for the test certificate');
      await ensureWeb({ log: (m) => console.log(m) });
      db = await freshDatabase('postgres');
      sql = new pg.Client({ connectionString: db.url });
      await sql.connect();
      const [pa, pb, ph, pp] = [await freePort(), await freePort(), await freePort(), await freePort()];
      plainPort = pp;
      // Both start at once on the empty database: the migrations take turns (advisory lock).
      a = startInstance('A', pa, db.url);
      b = startInstance('B', pb, db.url);
      await Promise.all([waitReady(a), waitReady(b)]);

      nginx = await startNginx({ https: ph, http: pp, upstreams: [pa, pb] });
      front = nginx.front;
    }, 300_000);

    afterAll(async () => {
      await nginx?.stop();
      for (const inst of instances())
        if (inst.child.exitCode === null && inst.child.signalCode === null) inst.child.kill('SIGTERM');
      await Promise.all(
        instances().map((i) =>
          i.child.exitCode !== null || i.child.signalCode !== null
            ? undefined
            : new Promise((r) => i.child.once('exit', r)),
        ),
      );
      httpsAgent.destroy();
      httpAgent.destroy();
      await sql?.end();
      await db?.drop();
    }, 60_000);

    it(
      'serves the web UI from nginx (gzip, cache headers) and sends plain HTTP to HTTPS',
      async () => {
        const index = await request(front, 'GET', '/customers');
        expect(index.status).toBe(200);
        expect(index.text).toContain('<div id="root"');
        expect(index.headers['cache-control']).toBe('no-cache');
        const asset = fs
          .readdirSync(path.join(ROOT, 'dist/web/assets'))
          .filter((f) => f.endsWith('.js'))
          .sort(
            (x, y) =>
              fs.statSync(path.join(ROOT, 'dist/web/assets', y)).size -
              fs.statSync(path.join(ROOT, 'dist/web/assets', x)).size,
          )[0]!;
        const js = await request(front, 'GET', `/assets/${asset}`, { headers: { 'accept-encoding': 'gzip' } });
        expect(js.status).toBe(200);
        expect(js.headers['content-encoding']).toBe('gzip');
        expect(js.headers['cache-control']).toContain('immutable');
        const plain = await request(`http://127.0.0.1:${plainPort}`, 'GET', '/login');
        expect(plain.status).toBe(301);
        expect(plain.headers.location).toMatch(/^https:\/\/127\.0\.0\.1(:\d+)?\/login$/);
        // /metrics stays with the instances.
        expect((await request(front, 'GET', '/metrics')).status).toBe(404);
      },
      STEP_MS,
    );

    it(
      'sets up, signs in and spreads customers, lookups and visits over both instances; each write lands once',
      async () => {
        const setup = await request(front, 'POST', '/api/setup', {
          headers: { origin: front },
          body: {
            company: { code: 'HQ', name: '华北石油销售公司' },
            admin: { username: 'admin', displayName: '系统管理员', password: PASSWORD },
          },
        });
        expect(setup.status, setup.text).toBe(201);
        admin = sessionOf(setup);
        // nginx's request id reaches the app (TRUST_PROXY=1) and comes back.
        expect(setup.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
        const foreign = await request(front, 'POST', '/api/auth/logout', {
          s: admin,
          headers: { origin: 'https://evil.example' },
          body: {},
        });
        expect(foreign.status).toBe(403);

        const me = await ok<{ orgUnitId: number }>(request(front, 'GET', '/api/auth/me', { s: admin }));
        const unit = async (parentId: number, kindCode: string, code: string, name: string) =>
          (
            await ok<{ id: number }>(
              request(front, 'POST', '/api/org/units', { s: admin, body: { parentId, kindCode, code, name } }),
              201,
            )
          ).id;
        const branch = await unit(me.orgUnitId, 'branch', 'B1', '石家庄分公司');
        const area = await unit(branch, 'area', 'B1-A1', '长安片区');
        stationId = await unit(area, 'station', 'B1-A1-S1', '中华北大街加油站');
        const roles = await ok<{ id: number; code: string }[]>(request(front, 'GET', '/api/roles', { s: admin }));
        attendantRole = roles.find((r) => r.code === 'attendant')!.id;
        for (const username of ['att1', 'att2', 'att3']) {
          const u = await ok<{ id: number }>(
            request(front, 'POST', '/api/users', {
              s: admin,
              body: {
                username,
                displayName: username,
                orgUnitId: stationId,
                password: STAFF_PASSWORD,
                roleIds: [attendantRole],
              },
            }),
            201,
          );
          attIds.push(u.id);
          att.push(
            sessionOf(
              await request(front, 'POST', '/api/auth/login', { body: { username, password: STAFF_PASSWORD } }),
            ),
          );
        }

        const N = 30;
        let customersAcked = 0;
        let visitsAcked = 0;
        for (let i = 0; i < N; i++) {
          const plate = `冀A${String(10000 + i)}`;
          await ok(
            request(front, 'POST', '/api/customers', {
              s: admin,
              // As a browser sends it: the Origin with nginx's port must count as this site (Host passed on whole).
              headers: { origin: front },
              body: { kind: 'individual', name: `顺序客户${i}`, orgUnitId: stationId, vehicles: [{ plate }] },
            }),
            201,
          );
          customersAcked++;
          const s = att[i % att.length]!;
          const found = await ok<{ customerId: number; plate: string }[]>(
            request(front, 'GET', `/api/pump/lookup?q=${encodeURIComponent(plate.slice(-3))}`, { s }),
          );
          const hit = found.find((m) => m.plate === plate);
          expect(hit, plate).toBeDefined();
          await ok(
            request(front, 'POST', '/api/pump/visits', {
              s,
              body: { customerId: hit!.customerId, product: '92#', volumeLitres: 40, note: `顺序到站${i}` },
            }),
            201,
          );
          visitsAcked++;
        }
        const customers = await sql.query<{ name: string; n: string }>(
          `select name, count(*) as n from customer where name like '顺序客户%' group by name`,
        );
        expect(customers.rows.length).toBe(customersAcked);
        expect(customers.rows.every((r) => Number(r.n) === 1)).toBe(true);
        const visits = await sql.query<{ note: string; n: string }>(
          `select note, count(*) as n from visit where note like '顺序到站%' group by note`,
        );
        expect(visits.rows.length).toBe(visitsAcked);
        expect(visits.rows.every((r) => Number(r.n) === 1)).toBe(true);
        // Both instances took part.
        for (const inst of [a, b]) {
          const served = inst.logs.filter(
            (l) => l.msg === 'incoming request' && String(l.req?.url).startsWith('/api/pump/'),
          );
          expect(served.length, `${inst.name} served pump requests`).toBeGreaterThan(0);
        }
      },
      STEP_MS,
    );

    it(
      'follows an import started on one instance through the other',
      async () => {
        const lines = ['姓名,车牌号,电话'];
        for (let i = 0; i < 3000; i++)
          lines.push(`导入客户${i},冀D${String(10000 + i)},1390000${String(i).padStart(4, '0')}`);
        const job = await ok<{ id: number }>(
          request(a.base, 'POST', `/api/imports?fileName=roster.csv&orgUnitId=${stationId}`, {
            s: admin,
            raw: Buffer.from(lines.join('\n')),
          }),
          201,
        );
        await ok(
          request(a.base, 'PUT', `/api/imports/${job.id}/mapping`, {
            s: admin,
            body: { kind: 'customers', mapping: { 姓名: 'name', 车牌号: 'plate', 电话: 'phone' } },
          }),
        );
        await ok(request(a.base, 'POST', `/api/imports/${job.id}/dry-run`, { s: admin }));
        await ok(request(a.base, 'POST', `/api/imports/${job.id}/commit`, { s: admin }), 202);
        const seen: { status: string; rowsDone: number }[] = [];
        let last: { status: string; rowsDone: number; createdCount: number } | null = null;
        for (let i = 0; i < 1200; i++) {
          last = await ok(request(b.base, 'GET', `/api/imports/${job.id}`, { s: admin }));
          seen.push({ status: last!.status, rowsDone: last!.rowsDone });
          if (last!.status === 'done' || last!.status === 'failed') break;
          await sleep(50);
        }
        expect(last?.status).toBe('done');
        expect(last?.createdCount).toBe(3000);
        // Progress as B saw it never went backwards.
        for (let i = 1; i < seen.length; i++) expect(seen[i]!.rowsDone).toBeGreaterThanOrEqual(seen[i - 1]!.rowsDone);
        const onA = await ok<{ status: string; createdCount: number }>(
          request(a.base, 'GET', `/api/imports/${job.id}`, { s: admin }),
        );
        expect(onA).toMatchObject({ status: 'done', createdCount: 3000 });
        const rows = await sql.query<{ n: string }>(`select count(*) as n from customer where name like '导入客户%'`);
        expect(Number(rows.rows[0]!.n)).toBe(3000);
      },
      STEP_MS,
    );

    it(
      `refuses a user deactivated through one instance on the other within ${CACHE_BOUND_MS} ms`,
      async () => {
        const s = att[2]!;
        // B has his principal in its cache.
        expect((await request(b.base, 'GET', '/api/auth/me', { s })).status).toBe(200);
        expect((await request(b.base, 'GET', '/api/auth/me', { s })).status).toBe(200);
        const user = await ok<{ version: number }>(request(a.base, 'GET', `/api/users/${attIds[2]}`, { s: admin }));
        const t0 = Date.now();
        await ok(
          request(a.base, 'PATCH', `/api/users/${attIds[2]}`, {
            s: admin,
            body: { active: false, version: user.version },
          }),
        );
        let refusedAfter = -1;
        while (Date.now() - t0 <= CACHE_BOUND_MS + 500) {
          if ((await request(b.base, 'GET', '/api/auth/me', { s })).status === 401) {
            refusedAfter = Date.now() - t0;
            break;
          }
          await sleep(25);
        }
        console.log(
          `[e2e nginx] deactivation seen on the other instance after ${refusedAfter} ms (bound ${CACHE_BOUND_MS} ms)`,
        );
        expect(refusedAfter).toBeGreaterThanOrEqual(0);
        expect(refusedAfter).toBeLessThanOrEqual(CACHE_BOUND_MS);
        expect((await request(front, 'GET', '/api/auth/me', { s })).status).toBe(401);
        // The others are untouched.
        expect((await request(b.base, 'GET', '/api/auth/me', { s: att[0]! })).status).toBe(200);
      },
      STEP_MS,
    );

    it(
      'takes each stale job claim once between the two instances',
      async () => {
        const periods = ['2026-01-01T00:00', '2026-01-01T00:05', '2026-01-01T00:10', '2026-01-01T00:15'];
        const old = new Date(Date.now() - 3_600_000).toISOString();
        for (const period of periods)
          await sql.query(
            `insert into job_run (job, period, status, started_at, heartbeat_at, runner) values ('complaint-sla', $1, 'running', $2, $2, 'gone-host:1')`,
            [period, old],
          );
        const deadline = Date.now() + 30_000;
        let rows: { period: string; status: string; runner: string }[] = [];
        while (Date.now() < deadline) {
          rows = (
            await sql.query(
              `select period, status, runner from job_run where job = 'complaint-sla' and period = any($1)`,
              [periods],
            )
          ).rows;
          if (rows.every((r) => r.status === 'done')) break;
          await sleep(250);
        }
        expect(rows.map((r) => r.status)).toEqual(periods.map(() => 'done'));
        for (const r of rows) expect([a.runner, b.runner]).toContain(r.runner);
        await sleep(JOB_STALE_MS); // both sweeps have run again since
        const takeovers = [a, b].flatMap((inst) =>
          inst.logs.filter(
            (l) => l.msg === 'stale job claim taken over' && periods.includes(l.period) && l.outcome?.status === 'done',
          ),
        );
        expect(takeovers.map((l) => l.period).sort()).toEqual([...periods].sort());
      },
      STEP_MS,
    );

    it(
      'loses and doubles no write when one instance is killed mid-run; nginx sends on to the other',
      async () => {
        // A claim A holds as if it were running the job when it dies.
        const now = new Date().toISOString();
        await sql.query(
          `insert into job_run (job, period, status, started_at, heartbeat_at, runner) values ('complaint-sla', '2026-02-01T00:00', 'running', $1, $1, $2)`,
          [now, a.runner],
        );
        type Outcome = { kind: 'customer' | 'visit'; marker: string; status: number; afterKill: boolean };
        const writes: Outcome[] = [];
        const reads: { status: number; afterKill: boolean }[] = [];
        let killed = false;
        let acked = 0;
        const WORKERS = 4;
        const PER_WORKER = 25;
        const worker = async (w: number) => {
          const s = att[w % 2]!;
          for (let i = 0; i < PER_WORKER; i++) {
            const marker = `续写${w}-${i}`;
            const plate = `冀E${w}${String(1000 + i)}`;
            const write = async (kind: Outcome['kind'], p: Promise<Res>) => {
              const afterKill = killed;
              const status = await p.then(
                (r) => r.status,
                () => 0,
              );
              writes.push({ kind, marker, status, afterKill });
              if (status === 201) acked++;
              if (acked === 30 && !killed) {
                killed = true;
                a.child.kill('SIGKILL');
              }
              return status;
            };
            await write(
              'customer',
              request(front, 'POST', '/api/customers', {
                s: admin,
                body: { kind: 'individual', name: marker, orgUnitId: stationId, vehicles: [{ plate }] },
              }),
            );
            const afterKill = killed;
            const look = await request(front, 'GET', `/api/pump/lookup?q=${encodeURIComponent(plate.slice(-4))}`, {
              s,
            }).then(
              (r) => r.status,
              () => 0,
            );
            reads.push({ status: look, afterKill });
            await write(
              'visit',
              request(front, 'POST', '/api/pump/visits', { s, body: { plate, note: marker, product: '95#' } }),
            );
          }
        };
        await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
        expect(killed).toBe(true);

        // Every read was answered: nginx re-sent idempotent requests whose instance died.
        expect(reads.filter((r) => r.status !== 200)).toEqual([]);
        const counts = async (query: string) =>
          new Map((await sql.query<{ k: string; n: string }>(query)).rows.map((r) => [r.k, Number(r.n)]));
        const customers = await counts(
          `select name as k, count(*) as n from customer where name like '续写%' group by name`,
        );
        const visits = await counts(`select note as k, count(*) as n from visit where note like '续写%' group by note`);
        const failed = writes.filter((w) => w.status !== 201);
        for (const w of writes) {
          const n = (w.kind === 'customer' ? customers : visits).get(w.marker) ?? 0;
          // Acknowledged: there once. Not acknowledged (the instance died with it): there at most once.
          if (w.status === 201) expect(n, `${w.kind} ${w.marker}`).toBe(1);
          else expect(n, `${w.kind} ${w.marker}`).toBeLessThanOrEqual(1);
        }
        // Nothing in the database that was not sent, nothing twice.
        const sent = new Set(writes.map((w) => w.marker));
        for (const [k, n] of [...customers, ...visits]) {
          expect(sent.has(k), k).toBe(true);
          expect(n, k).toBe(1);
        }
        // Only a write in flight on the killed instance can fail (502 from nginx), at most one per worker.
        expect(failed.length).toBeLessThanOrEqual(WORKERS);
        for (const f of failed) expect(f.status).toBe(502);
        // Writes after the kill went to B.
        expect(writes.filter((w) => w.afterKill && w.status === 201).length).toBeGreaterThan(20);
        console.log(
          `[e2e nginx] ${writes.length} writes (${writes.filter((w) => w.status === 201).length} acknowledged, ${failed.length} failed with the killed instance), ${reads.length} reads all answered`,
        );

        // The dead process's job claim stops beating and the survivor takes it over, once.
        const deadline = Date.now() + JOB_STALE_MS * 4;
        let row: { status: string; runner: string } | undefined;
        while (Date.now() < deadline) {
          row = (
            await sql.query(
              `select status, runner from job_run where job = 'complaint-sla' and period = '2026-02-01T00:00'`,
            )
          ).rows[0];
          if (row?.status === 'done') break;
          await sleep(250);
        }
        expect(row).toEqual({ status: 'done', runner: b.runner });
        expect(
          b.logs.some((l) => l.msg === 'took over a claim whose process stopped beating' && l.from === a.runner),
        ).toBe(true);
      },
      STEP_MS,
    );
  });
}
