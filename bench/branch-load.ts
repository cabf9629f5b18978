// A branch at work: virtual users in the proportions of a branch, each signed in with a session of his
// own, through nginx (deploy/nginx.conf, HTTPS) to app instances (src/server/main.ts, as `npm start`
// runs it) on PostgreSQL with 1,000,000 customers — attendants looking plates up and recording visits,
// representatives reading customers and alerts, managers on dashboards, and the stations' systems
// sending sales through the ingest API. Reports, per action: count, errors (any non-2xx answer,
// refused connection or timeout; the first bodies are printed), p50/p99/max; the CPU each process
// used (each instance, nginx's workers, the PostgreSQL backends of the run's database, the whole
// PostgreSQL server with its parallel workers, this generator) as % of one core; the load average.
//
// Each user follows his own timeline: the next action is due a think time after the previous one was
// due, and is timed from when it was due — so a slow answer delays his next action and that delay is
// counted (no coordinated omission), while the users never wait for each other. Every action due within
// --seconds is sent and answered, so when the users fall behind the run lasts longer than --seconds.
//   npx tsx bench/branch-load.ts [--customers 1000000] [--users 200] [--seconds 600] [--instances 2]
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { openDb } from '../src/server/db/connection.js';
import { hashPassword } from '../src/server/auth/passwords.js';
import { freshDatabase } from './lib/fresh-db.js';
import { NGINX, startNginx, type RunningNginx } from './lib/nginx.js';
import { mulberry32, plates, seedPlateArchive, STATIONS } from './lib/plate-seed.js';
import { buildRollups } from './lib/rollups.js';
import { freePort, startServer, type ServerProcess } from './lib/server-process.js';

const { values: args } = parseArgs({
  options: {
    customers: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '600' },
    instances: { type: 'string', default: '2' },
  },
});
const CUSTOMERS = Number(args.customers);
const USERS = Number(args.users);
const SECONDS = Number(args.seconds);
const INSTANCES = Number(args.instances);
const AREAS = 4;
const SALES_PER_CUSTOMER = 2;
/** One customer in 50 has an open churn alert. */
const ALERT_EVERY = 50;
const REQUEST_TIMEOUT_MS = 30_000;
/** Users start spread over this many seconds, so the first minute is not one burst of sign-ins. */
const RAMP_S = Math.min(30, SECONDS / 4);

/** Mean think times (exponential, capped at 4×): what a person at a station or an office does between clicks. */
const THINK = {
  /** A car every ~25 s per attendant at the morning peak; ~3 s from the lookup to recording the visit. */
  attendantNextCar: 25_000,
  attendantRecord: 3_000,
  representative: 8_000,
  manager: 15_000,
  /** Each station system sends its sales every 10 s, 20 at a time. */
  ingest: 10_000,
};
const INGEST_BATCH = 20;

const SHARE = { attendant: 0.6, representative: 0.25, manager: 0.1 } as const;

type Role = 'attendant' | 'representative' | 'manager' | 'ingest';

// ---------------------------------------------------------------------------------------------- measuring

interface ActionStats {
  /** From when the action was due: what the user waited, queueing behind his own late actions included. */
  latencies: number[];
  /** From when the request was sent to its answer. */
  answers: number[];
  errors: number;
  samples: string[];
}
const stats = new Map<string, ActionStats>();
let measuring = false;

function record(action: string, ms: number, answerMs: number, ok: boolean, sample?: string): void {
  if (!measuring) return;
  let s = stats.get(action);
  if (!s) stats.set(action, (s = { latencies: [], answers: [], errors: 0, samples: [] }));
  if (ok) {
    s.latencies.push(ms);
    s.answers.push(answerMs);
  } else {
    s.errors++;
    if (s.samples.length < 3 && sample) s.samples.push(sample.slice(0, 300));
  }
}

function pct(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const CLK_TCK = 100; // USER_HZ on Linux

/** utime + stime of a process in clock ticks, or null when it is gone. */
function cpuTicks(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state(0) ppid(1) … utime(11) stime(12).
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

/** Fields of /proc/PID/stat after the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14). */
function statOf(pid: number | string): { comm: string; f: string[] } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return {
      comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      f: stat.slice(stat.lastIndexOf(')') + 2).split(' '),
    };
  } catch {
    return null;
  }
}

/**
 * All of PostgreSQL's CPU so far, in ticks: the postmaster's own and its reaped children's (backends and
 * parallel workers that have exited), plus its live children's. Parallel workers come and go within a
 * query, so the backends' own times miss them. The whole server: other databases on it count too.
 */
function postgresTicks(): number | null {
  const procs = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  const stats = new Map(procs.map((d) => [Number(d), statOf(d)] as const));
  const master = [...stats].find(
    ([, st]) => st?.comm === 'postgres' && stats.get(Number(st.f[1]))?.comm !== 'postgres',
  );
  if (!master) return null;
  const [pid, st] = master;
  let ticks = Number(st!.f[11]) + Number(st!.f[12]) + Number(st!.f[13]) + Number(st!.f[14]);
  for (const [, c] of stats) if (c && Number(c.f[1]) === pid) ticks += Number(c.f[11]) + Number(c.f[12]);
  return ticks;
}

function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- HTTP

interface Res {
  status: number;
  text: string;
}
interface Client {
  agent: https.Agent;
  headers: Record<string, string>;
  csrf?: string;
}

function send(front: URL, c: Client, method: string, url: string, body?: unknown): Promise<Res> {
  const headers: Record<string, string> = { ...c.headers };
  let payload: Buffer | undefined;
  if (body !== undefined) {
    payload = Buffer.from(JSON.stringify(body));
    headers['content-type'] = 'application/json';
    if (c.csrf) headers['x-csrf-token'] = c.csrf;
  }
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: front.hostname,
        port: front.port,
        path: url,
        method,
        headers,
        agent: c.agent,
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (ch: Buffer) => chunks.push(ch));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** One timed action; an answer outside 2xx or a failed request is an error, its body kept as a sample. */
async function act(front: URL, c: Client, action: string, due: number, method: string, url: string, body?: unknown) {
  const sent = performance.now();
  try {
    const res = await send(front, c, method, url, body);
    const ok = res.status >= 200 && res.status < 300;
    const now = performance.now();
    record(action, now - due, now - sent, ok, ok ? undefined : `${res.status} ${method} ${url}: ${res.text}`);
    return ok ? res : null;
  } catch (err) {
    const now = performance.now();
    record(action, now - due, now - sent, false, `${method} ${url}: ${(err as Error).message}`);
    return null;
  }
}

// The session cookie arrives in set-cookie; node's https client keeps no jar.
async function loginWithCookie(front: URL, username: string, password: string): Promise<Client> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
  const body = Buffer.from(JSON.stringify({ username, password }));
  const { status, text, cookie } = await new Promise<{ status: number; text: string; cookie: string }>(
    (resolve, reject) => {
      const req = https.request(
        {
          host: front.hostname,
          port: front.port,
          path: '/api/auth/login',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json' },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (ch: Buffer) => chunks.push(ch));
          res.on('end', () => {
            const set = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              cookie: set.map((x) => x.split(';')[0]!).find((x) => x.startsWith('fc_session=')) ?? '',
            });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('login timed out')));
      req.on('error', reject);
      req.end(body);
    },
  );
  if (status !== 200 || !cookie) throw new Error(`login ${username}: ${status} ${text.slice(0, 200)}`);
  return { agent, headers: { cookie }, csrf: (JSON.parse(text) as { csrfToken: string }).csrfToken };
}

// ---------------------------------------------------------------------------------------------- the branch

interface Branch {
  hqId: number;
  branchId: number;
  areaIds: number[];
  /** Station s sits in area s % AREAS. */
  stationIds: number[];
  password: string;
  users: { username: string; role: Role; unitId: number }[];
  /** API keys, one per station system that sends sales. */
  keys: { stationIndex: number; key: string }[];
}

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - performance.now())));

/** How many users of each role: the shares of SHARE, at least one sales stream, the rest attendants. */
function headcount(n: number): Record<Role, number> {
  const representative = Math.round(n * SHARE.representative);
  const manager = Math.max(1, Math.round(n * SHARE.manager));
  const ingest = Math.max(1, Math.round(n * (1 - SHARE.attendant - SHARE.representative - SHARE.manager)));
  return { attendant: n - representative - manager - ingest, representative, manager, ingest };
}

/**
 * The plate archive of bench/lib/plate-seed.ts, its 40 stations regrouped as a branch (HQ → branch →
 * 4 areas → 40 stations); two sales per customer in the last 60 days with the rollups built from them;
 * an open churn alert for one customer in 50; the users by role.
 */
async function seedBranch(url: string, allPlates: string[]): Promise<Omit<Branch, 'keys'>> {
  const db = openDb({ url, poolSize: 4 });
  try {
    const seeded = await seedPlateArchive(db, url, allPlates, CUSTOMERS);
    const t0 = Date.now();
    const k = db.kysely;
    const now = new Date().toISOString();
    const unit = async (parentId: number, kind: string, code: string, name: string, path: (id: number) => string) => {
      const r = await k
        .insertInto('org_unit')
        .values({
          parent_id: parentId,
          kind_code: kind,
          code,
          name,
          time_zone: 'Asia/Shanghai',
          path: 'x',
          depth: path(0).split('/').length - 2,
          created_at: now,
          updated_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await k
        .updateTable('org_unit')
        .set({ path: path(r.id) })
        .where('id', '=', r.id)
        .execute();
      return r.id;
    };
    const hq = seeded.hqId;
    const branchId = await unit(hq, 'branch', 'B1', '石家庄分公司', (id) => `/${hq}/${id}/`);
    const areaIds: number[] = [];
    for (let a = 0; a < AREAS; a++)
      areaIds.push(await unit(branchId, 'area', `B1-A${a}`, `片区${a}`, (id) => `/${hq}/${branchId}/${id}/`));
    for (const [s, id] of seeded.stationIds.entries()) {
      const area = areaIds[s % AREAS]!;
      await k
        .updateTable('org_unit')
        .set({ parent_id: area, path: `/${hq}/${branchId}/${area}/${id}/`, depth: 4 })
        .where('id', '=', id)
        .execute();
    }

    // Sales: two per customer at his station in the last 60 days (product, volume and price vary).
    await sql`insert into fuel_transaction (namespace, source, external_id, occurred_at, business_day, org_unit_id,
        customer_id, product, volume_ml, unit_price_fen, amount_fen, payment, created_at)
      select 0, 'seed', 'seed-' || c.id || '-' || n, t.at,
        to_char(t.at at time zone 'Asia/Shanghai', 'YYYY-MM-DD'), c.org_unit_id, c.id,
        (array['92#', '95#', '0#柴油'])[1 + (c.id + n) % 3], t.ml, 780, t.ml * 780 / 1000, 'cash', now()
      from customer c cross join generate_series(1, ${SALES_PER_CUSTOMER}) n
        cross join lateral (select now() - ((c.id * 7919 + n * 104729) % 5184000) * interval '1 second' as at,
          20000 + ((c.id * 31 + n * 17) % 40000) as ml) t`.execute(k);
    await buildRollups(db);
    const day = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
    await sql`insert into alert (customer_id, org_unit_id, kind, episode, lapse, status, opened_at)
      select id, org_unit_id, 'cadence', ${day}, ${day}, 'open', now() from customer
      where id % ${ALERT_EVERY} = 7`.execute(k);

    // Users: attendants at the stations, representatives at the areas, managers at every level.
    const count = headcount(USERS);
    const users: Branch['users'] = [];
    for (let i = 0; i < count.attendant; i++)
      users.push({ username: `att${i}`, role: 'attendant', unitId: seeded.stationIds[i % STATIONS]! });
    for (let i = 0; i < count.representative; i++)
      users.push({ username: `rep${i}`, role: 'representative', unitId: areaIds[i % AREAS]! });
    for (let i = 0; i < count.manager; i++) {
      // One branch manager, one manager per area, the rest station managers.
      const unitId = i === 0 ? branchId : i <= AREAS ? areaIds[i - 1]! : seeded.stationIds[(i * 7) % STATIONS]!;
      users.push({ username: `mgr${i}`, role: 'manager', unitId });
    }
    const roleCode = (u: Branch['users'][number]) =>
      u.role === 'attendant'
        ? 'attendant'
        : u.role === 'representative'
          ? 'sales_rep'
          : u.unitId === branchId
            ? 'branch_manager'
            : areaIds.includes(u.unitId)
              ? 'area_customer_manager'
              : 'station_manager';
    const roles = new Map(
      (await k.selectFrom('role').select(['id', 'code']).execute()).map((r) => [r.code, r.id] as const),
    );
    const hash = await hashPassword(seeded.userPassword);
    for (const u of users) {
      const row = await k
        .insertInto('app_user')
        .values({
          username: u.username,
          display_name: u.username,
          org_unit_id: u.unitId,
          password_hash: hash,
          locale: 'zh-CN',
          active: 1,
          password_changed_at: now,
          created_at: now,
          updated_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const roleId = roles.get(roleCode(u));
      if (roleId === undefined) throw new Error(`no role ${roleCode(u)}`);
      await k.insertInto('user_role').values({ user_id: row.id, role_id: roleId }).execute();
    }
    await sql`analyze`.execute(k);
    console.log(
      `  branch: ${AREAS} areas, ${STATIONS} stations; ${(CUSTOMERS * SALES_PER_CUSTOMER).toLocaleString()} sales with rollups, ${Math.floor(CUSTOMERS / ALERT_EVERY).toLocaleString()} open alerts, ${users.length} users in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    return {
      hqId: hq,
      branchId,
      areaIds,
      stationIds: seeded.stationIds,
      password: seeded.userPassword,
      users,
    };
  } finally {
    await db.close();
  }
}

// ---------------------------------------------------------------------------------------------- the users

function thinker(seed: number) {
  const rnd = mulberry32(seed);
  return {
    rnd,
    /** Exponential around `mean` ms, capped at 4× so no user sits out most of a short run. */
    think: (mean: number) => Math.min(4 * mean, -Math.log(1 - rnd()) * mean),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!,
  };
}

interface World {
  front: URL;
  branch: Branch;
  allPlates: string[];
  /** Plates of each station's customers (vehicle v < N belongs to customer v + 1, customer i to station i % 40). */
  platesOf: string[][];
  until: number;
}

async function attendant(w: World, c: Client, station: number, seed: number) {
  const t = thinker(seed);
  const mine = w.platesOf[station]!;
  let due = performance.now() + t.rnd() * RAMP_S * 1000;
  while (due < w.until) {
    await sleepUntil(due);
    const plate = t.pick(mine);
    const res = await act(
      w.front,
      c,
      'attendant: lookup by last 3 characters',
      due,
      'GET',
      `/api/pump/lookup?q=${encodeURIComponent(plate.slice(-3))}`,
    );
    const matches = res ? (JSON.parse(res.text) as { customerId: number; vehicleId: number; plate: string }[]) : [];
    const hit = matches.find((m) => m.plate === plate) ?? matches[0];
    due += t.think(THINK.attendantRecord);
    await sleepUntil(due);
    await act(w.front, c, 'attendant: record a visit', due, 'POST', '/api/pump/visits', {
      ...(hit ? { customerId: hit.customerId, vehicleId: hit.vehicleId } : { plate }),
      product: t.pick(['92#', '95#', '0#柴油']),
      volumeLitres: Math.round(20 + t.rnd() * 40),
    });
    due += t.think(THINK.attendantNextCar);
  }
}

async function representative(w: World, c: Client, area: number, seed: number) {
  const t = thinker(seed);
  // Customers of the area's stations: customer i belongs to station i % 40, station s to area s % 4.
  const customerOf = () => {
    const station = area + AREAS * Math.floor(t.rnd() * (STATIONS / AREAS));
    const i = station + STATIONS * Math.floor(t.rnd() * Math.floor(CUSTOMERS / STATIONS));
    return i === 0 ? STATIONS : i;
  };
  let due = performance.now() + t.rnd() * RAMP_S * 1000;
  while (due < w.until) {
    await sleepUntil(due);
    const r = t.rnd();
    const stationId = w.branch.stationIds[area + AREAS * Math.floor(t.rnd() * (STATIONS / AREAS))]!;
    if (r < 0.3)
      await act(
        w.front,
        c,
        'representative: customer list',
        due,
        'GET',
        `/api/customers?orgUnitId=${stationId}&sort=lastVisitAt&order=desc&pageSize=20`,
      );
    else if (r < 0.4)
      await act(
        w.front,
        c,
        'representative: customer search',
        due,
        'GET',
        `/api/customers?q=${encodeURIComponent(t.pick([...'王李张刘陈杨赵黄周吴']) + '师傅')}&pageSize=20`,
      );
    else if (r < 0.65)
      await act(w.front, c, 'representative: customer detail', due, 'GET', `/api/customers/${customerOf()}`);
    else if (r < 0.8)
      await act(
        w.front,
        c,
        'representative: volume by month',
        due,
        'GET',
        `/api/customers/${customerOf()}/volume-monthly`,
      );
    else await act(w.front, c, 'representative: open alerts', due, 'GET', '/api/alerts?status=open&pageSize=20');
    due += t.think(THINK.representative);
  }
}

async function manager(w: World, c: Client, unitId: number, children: number[], seed: number) {
  const t = thinker(seed);
  let due = performance.now() + t.rnd() * RAMP_S * 1000;
  while (due < w.until) {
    await sleepUntil(due);
    const r = t.rnd();
    if (r < 0.5 || children.length === 0)
      await act(w.front, c, 'manager: dashboard', due, 'GET', `/api/dashboards/unit/${unitId}`);
    else if (r < 0.75)
      await act(w.front, c, 'manager: dashboard drill-down', due, 'GET', `/api/dashboards/unit/${t.pick(children)}`);
    else await act(w.front, c, 'manager: key customers', due, 'GET', `/api/key-customers?orgUnitId=${unitId}`);
    due += t.think(THINK.manager);
  }
}

async function ingestStream(w: World, key: string, stream: number, station: number, seed: number) {
  const t = thinker(seed);
  const c: Client = {
    agent: new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false }),
    headers: { authorization: `Bearer ${key}` },
  };
  const mine = w.platesOf[station]!;
  let due = performance.now() + t.rnd() * RAMP_S * 1000;
  let seq = 0;
  while (due < w.until) {
    await sleepUntil(due);
    const transactions = Array.from({ length: INGEST_BATCH }, () => {
      const ml = Math.round(20_000 + t.rnd() * 40_000);
      return {
        externalId: `pos-${stream}-${seq++}`,
        occurredAt: new Date().toISOString(),
        plate: t.pick(mine),
        product: t.pick(['92#', '95#', '0#柴油']),
        volumeMl: ml,
        unitPriceFen: 780,
        amountFen: Math.round((ml * 780) / 1000),
      };
    });
    await act(w.front, c, `ingest: ${INGEST_BATCH} sales`, due, 'POST', '/api/ingest/transactions', {
      source: 'pos',
      transactions,
    });
    due += THINK.ingest;
  }
  c.agent.destroy();
}

// ---------------------------------------------------------------------------------------------- the run

async function main() {
  if (!NGINX) throw new Error('nginx is not installed (apt-get install nginx)');
  const vehicles = Math.round(CUSTOMERS * 1.3);
  const count = headcount(USERS);
  console.log(
    `branch load: ${CUSTOMERS.toLocaleString()} customers, ${USERS} users (${count.attendant} attendants, ${count.representative} representatives, ${count.manager} managers, ${count.ingest} sales streams), ${SECONDS} s, ${INSTANCES} instance(s) behind nginx on PostgreSQL; ${os.cpus().length} cores; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; node ${process.version}; ${new Date().toISOString()}`,
  );
  const allPlates = plates(vehicles);
  const fresh = await freshDatabase('postgres', 'branchload');
  const servers: ServerProcess[] = [];
  let nginx: RunningNginx | null = null;
  const clients: Client[] = [];
  try {
    const tSeed = Date.now();
    const seeded = await seedBranch(fresh.url, allPlates);
    console.log(
      `  seeded in ${((Date.now() - tSeed) / 1000).toFixed(0)} s; load average ${os.loadavg()[0]!.toFixed(2)}`,
    );

    const ports: number[] = [];
    for (let i = 0; i < INSTANCES; i++) {
      const port = await freePort();
      ports.push(port);
      servers.push(
        await startServer('src/server/main.ts', {
          NODE_ENV: 'production',
          DATABASE_URL: fresh.url,
          HOST: '127.0.0.1',
          PORT: String(port),
          TRUST_PROXY: '1',
          SECURE_COOKIES: '1',
          // All sign-ins come from one address (nginx passes 127.0.0.1 on).
          LOGIN_RATE_LIMIT: '100000',
          // The daytime load only: the nightly jobs are measured by bench/nightly.ts.
          FORECOURT_JOBS: '0',
        }),
      );
    }
    nginx = await startNginx({
      https: await freePort(),
      http: await freePort(),
      upstreams: ports,
      workerProcesses: 'auto',
      workerConnections: 4096,
    });
    const front = new URL(nginx.front);

    // API keys for the station systems, made by the HQ administrator through the API.
    const admin = await loginWithCookie(front, 'bench', seeded.password);
    clients.push(admin);
    const keys: Branch['keys'] = [];
    for (let i = 0; i < count.ingest; i++) {
      const stationIndex = (i * 3) % STATIONS;
      const res = await send(front, admin, 'POST', '/api/api-keys', {
        name: `POS ${stationIndex}`,
        orgUnitId: seeded.stationIds[stationIndex],
      });
      if (res.status !== 201) throw new Error(`api key: ${res.status} ${res.text.slice(0, 200)}`);
      keys.push({ stationIndex, key: (JSON.parse(res.text) as { key: string }).key });
    }
    const branch: Branch = { ...seeded, keys };

    // Every user signs in (through nginx, as in the browser), a few at a time.
    const tLogin = Date.now();
    const sessions = new Array<Client>(branch.users.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < branch.users.length) {
          const i = next++;
          sessions[i] = await loginWithCookie(front, branch.users[i]!.username, branch.password);
        }
      }),
    );
    clients.push(...sessions);
    console.log(
      `  ${sessions.length} users signed in in ${((Date.now() - tLogin) / 1000).toFixed(1)} s; ${keys.length} sales streams with API keys`,
    );

    const platesOf: string[][] = Array.from({ length: STATIONS }, () => []);
    for (let v = 0; v < Math.min(CUSTOMERS, allPlates.length); v++) platesOf[(v + 1) % STATIONS]!.push(allPlates[v]!);

    // CPU: the instances, nginx's workers, the backends of this database (the pools hold theirs), this process.
    const pgAdmin = new pg.Client({ connectionString: fresh.url });
    await pgAdmin.connect();
    const dbName = new URL(fresh.url).pathname.slice(1);
    const backends = async () =>
      (
        await pgAdmin.query<{ pid: number }>(
          'select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
          [dbName],
        )
      ).rows.map((r) => r.pid);
    const groups = (): Record<string, number[]> => ({
      ...Object.fromEntries(servers.map((s, i) => [`app instance ${i + 1}`, [s.pid]])),
      'nginx workers': childrenOf(nginx!.child.pid!),
    });
    const startGroups = groups();
    const startBackends = new Map<number, number>();
    const startTicks = new Map<number, number>();
    const snapshot = async () => {
      for (const pid of Object.values(startGroups).flat()) startTicks.set(pid, cpuTicks(pid) ?? 0);
      for (const pid of await backends()) startBackends.set(pid, cpuTicks(pid) ?? 0);
    };

    const world: World = {
      front,
      branch,
      allPlates,
      platesOf,
      until: performance.now() + SECONDS * 1000,
    };
    const childrenOfUnit = (unitId: number) =>
      unitId === branch.branchId
        ? branch.areaIds
        : branch.areaIds.includes(unitId)
          ? branch.stationIds.filter((_, s) => branch.areaIds[s % AREAS] === unitId)
          : [];
    await snapshot();
    const pgAll0 = postgresTicks();
    const self0 = process.cpuUsage();
    const t0 = performance.now();
    const loadAtStart = os.loadavg();
    const loadSamples: number[] = [];
    const sampler = setInterval(() => loadSamples.push(os.loadavg()[0]!), 10_000);
    const progress = setInterval(() => {
      const done = [...stats.values()].reduce((n, s) => n + s.latencies.length + s.errors, 0);
      const errors = [...stats.values()].reduce((n, s) => n + s.errors, 0);
      console.log(
        `    ${((performance.now() - t0) / 1000).toFixed(0)} s: ${done} actions, ${errors} errors, load ${os.loadavg()[0]!.toFixed(2)}`,
      );
    }, 60_000);
    measuring = true;
    let u = 0;
    const runs = branch.users.map((user) => {
      const c = sessions[u]!;
      const seed = 1000 + u++;
      if (user.role === 'attendant') return attendant(world, c, branch.stationIds.indexOf(user.unitId), seed);
      if (user.role === 'representative') return representative(world, c, branch.areaIds.indexOf(user.unitId), seed);
      return manager(world, c, user.unitId, childrenOfUnit(user.unitId), seed);
    });
    runs.push(...keys.map((k, i) => ingestStream(world, k.key, i, k.stationIndex, 5000 + i)));
    await Promise.all(runs);
    measuring = false;
    const elapsed = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    clearInterval(progress);
    const self = process.cpuUsage(self0);
    const loadAtEnd = os.loadavg();

    // CPU in % of one core over the run.
    const pctOf = (ticks: number) => (100 * ticks) / CLK_TCK / elapsed;
    const cpu: Record<string, number> = {};
    for (const [name, pids] of Object.entries(startGroups))
      cpu[name] = pctOf(pids.reduce((n, pid) => n + ((cpuTicks(pid) ?? 0) - (startTicks.get(pid) ?? 0)), 0));
    const endBackends = await backends();
    let pgTicks = 0;
    for (const pid of new Set([...startBackends.keys(), ...endBackends]))
      pgTicks += Math.max(0, (cpuTicks(pid) ?? startBackends.get(pid) ?? 0) - (startBackends.get(pid) ?? 0));
    cpu[`PostgreSQL backends of the run's database (${endBackends.length}, without parallel workers)`] = pctOf(pgTicks);
    const pgAll1 = postgresTicks();
    if (pgAll0 !== null && pgAll1 !== null)
      cpu['PostgreSQL, whole server (parallel workers and other databases too)'] = pctOf(pgAll1 - pgAll0);
    cpu['load generator (this process)'] = (100 * (self.user + self.system)) / 1e6 / elapsed;
    await pgAdmin.end();

    // The report.
    const rows = [...stats.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([action, s]) => {
        const sorted = [...s.latencies].sort((x, y) => x - y);
        const answers = [...s.answers].sort((x, y) => x - y);
        return {
          action,
          count: sorted.length + s.errors,
          errors: s.errors,
          perSecond: (sorted.length + s.errors) / elapsed,
          p50: pct(sorted, 0.5),
          p99: pct(sorted, 0.99),
          max: sorted[sorted.length - 1] ?? NaN,
          answerP50: pct(answers, 0.5),
          answerP99: pct(answers, 0.99),
          samples: s.samples,
        };
      });
    const total = rows.reduce((n, r) => n + r.count, 0);
    const errors = rows.reduce((n, r) => n + r.errors, 0);
    console.log(
      `\nmeasured ${elapsed.toFixed(0)} s: ${total} actions (${(total / elapsed).toFixed(1)}/s), ${errors} errors` +
        (elapsed > SECONDS + 35
          ? ` — every action due in the ${SECONDS} s is sent and answered, so the run went on while the users were behind`
          : ''),
    );
    console.log(
      '(p50/p99/max from when the action was due; answer p50/p99 from when the request was sent)\n' +
        '| action | count | /s | errors | p50 | p99 | max | answer p50 | answer p99 |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const r of rows)
      console.log(
        `| ${r.action} | ${r.count} | ${r.perSecond.toFixed(2)} | ${r.errors} | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms | ${r.max.toFixed(0)} ms | ${r.answerP50.toFixed(1)} ms | ${r.answerP99.toFixed(1)} ms |`,
      );
    for (const r of rows) for (const s of r.samples) console.log(`  error sample (${r.action}): ${s}`);
    console.log(`\n| process | CPU (% of one core) |\n|---|---:|`);
    for (const [name, v] of Object.entries(cpu)) console.log(`| ${name} | ${v.toFixed(1)} % |`);
    const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
    console.log(
      `\nload average: at the start ${fmtLoad(loadAtStart)}, at the end ${fmtLoad(loadAtEnd)}, 1-min samples every 10 s: min ${Math.min(...loadSamples).toFixed(2)}, max ${Math.max(...loadSamples).toFixed(2)}`,
    );
    console.log(
      JSON.stringify({
        bench: 'branch-load',
        at: new Date().toISOString(),
        customers: CUSTOMERS,
        users: USERS,
        headcount: count,
        instances: INSTANCES,
        seconds: Math.round(elapsed),
        actions: rows.map(({ samples: _samples, ...r }) => ({
          ...r,
          perSecond: +r.perSecond.toFixed(2),
          p50: +r.p50.toFixed(1),
          p99: +r.p99.toFixed(1),
          answerP50: +r.answerP50.toFixed(1),
          answerP99: +r.answerP99.toFixed(1),
          max: +r.max.toFixed(1),
        })),
        cpu: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, +v.toFixed(1)])),
        load: { start: loadAtStart, end: loadAtEnd, min: Math.min(...loadSamples), max: Math.max(...loadSamples) },
      }),
    );
    process.exitCode = errors > 0 ? 1 : 0;
  } finally {
    for (const c of clients) c?.agent.destroy();
    await nginx?.stop();
    for (const s of servers) await s.stop();
    await fresh.drop();
  }
}

await main();
