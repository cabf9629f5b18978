// Onboarding a province through the import center (the same service as the web page and `forecourt
// import`): an org file of branches, areas and 1,500 stations written children first (the worst order
// for a loader), then 20,000 people with their units and roles. Each is dry-run, committed, then
// committed again (the re-import that changes nothing), on each engine, beside a baseline: plain
// multi-row inserts of the same units (paths worked out beforehand) and the same users with their
// roles, into a fresh database of the same engine in the same run. The import also hashes an initial
// password per new user; that share is timed on its own.
//   npx tsx bench/org-import.ts [--stations 1500] [--users 20000] [--engines sqlite,postgres]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDb, type Db } from '../src/server/db/connection.js';
import { prepareDatabase } from '../src/server/bootstrap.js';
import { loadConfig } from '../src/server/config.js';
import { SessionService } from '../src/server/auth/session.service.js';
import { AuthService } from '../src/server/modules/auth/auth.service.js';
import { CustomersService } from '../src/server/modules/customers/customers.service.js';
import { ImportsService } from '../src/server/modules/imports/imports.service.js';
import { generatePassword, hashGeneratedPassword } from '../src/server/modules/imports/user-rows.js';
import type { ImportKind } from '../src/server/modules/imports/parse/mapping.js';
import { freshDatabase } from './lib/fresh-db.js';

const { values: args } = parseArgs({
  strict: false,
  options: {
    stations: { type: 'string', default: '1500' },
    users: { type: 'string', default: '20000' },
    engines: { type: 'string', default: 'sqlite,postgres' },
  },
});
const STATIONS = Number(args.stations);
const USERS = Number(args.users);
const ENGINES = String(args.engines).split(',') as ('sqlite' | 'postgres')[];
const BRANCHES = 11;
const AREAS_PER_BRANCH = 10;
const ROLE_MIX = ['attendant', 'attendant', 'attendant、shift_lead', 'attendant', 'station_manager', 'cs_agent'];

interface Unit {
  code: string;
  name: string;
  parent: string;
  kind: 'branch' | 'area' | 'station';
}
interface Person {
  name: string;
  username: string;
  unit: string;
  roles: string;
  phone: string;
}

function province(): { units: Unit[]; people: Person[] } {
  const branches: Unit[] = [];
  const areas: Unit[] = [];
  const stations: Unit[] = [];
  for (let b = 0; b < BRANCHES; b++) {
    branches.push({ code: `B${b}`, name: `第${b + 1}分公司`, parent: 'HQ', kind: 'branch' });
    for (let a = 0; a < AREAS_PER_BRANCH; a++)
      areas.push({ code: `B${b}-A${a}`, name: `第${b + 1}分公司第${a + 1}片区`, parent: `B${b}`, kind: 'area' });
  }
  for (let s = 0; s < STATIONS; s++) {
    const area = areas[s % areas.length]!;
    stations.push({ code: `${area.code}-S${s}`, name: `第${s + 1}加油站`, parent: area.code, kind: 'station' });
  }
  const people: Person[] = [];
  for (let i = 0; i < USERS; i++) {
    // Most people work at stations; one in twenty at an area or a branch.
    const unit = i % 20 === 0 ? areas[i % areas.length]! : stations[i % stations.length]!;
    const roles = unit.kind === 'station' ? ROLE_MIX[i % ROLE_MIX.length]! : 'area_customer_manager';
    people.push({
      name: `员工${i}`,
      username: `u${String(i).padStart(6, '0')}`,
      unit: unit.code,
      roles,
      phone: `139${String(i).padStart(8, '0')}`,
    });
  }
  // Children first: stations, then areas, then branches.
  return { units: [...stations, ...areas, ...branches], people };
}

const csvOf = (rows: string[][]) => `\uFEFF${rows.map((r) => r.join(',')).join('\r\n')}\r\n`;

async function setUp(engine: 'sqlite' | 'postgres', label: string) {
  const fresh = await freshDatabase(engine, label);
  const db = openDb({ url: fresh.url, poolSize: 4 });
  await prepareDatabase(db);
  const config = loadConfig({});
  const sessions = new SessionService(db.kysely, config);
  await new AuthService(db.kysely, sessions, config).setup(
    {
      company: { code: 'HQ', name: '省公司' },
      admin: { username: 'admin', displayName: '系统管理员', password: 'Bench-passw0rd-long' },
    },
    null,
    null,
  );
  return { db, fresh, sessions, config };
}

async function count(db: Db, table: 'org_unit' | 'app_user' | 'user_role' | 'audit_log'): Promise<number> {
  const r = await db.kysely
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

async function importRun(engine: 'sqlite' | 'postgres', files: { units: string; users: string }) {
  const { db, fresh, sessions } = await setUp(engine, 'orgimp');
  const svc = new ImportsService(db.kysely, new CustomersService(db.kysely, db.engine), null, null);
  const p = await sessions.principalOf('admin');
  const out: Record<string, number> = {};
  try {
    for (const [kind, file] of [
      ['org_units', files.units],
      ['users', files.users],
    ] as [ImportKind, string][]) {
      const upload = async () => {
        const job = await svc.upload(p, null, {
          fileName: path.basename(file),
          body: fs.createReadStream(file),
          maxBytes: Number.MAX_SAFE_INTEGER,
        });
        const inspected = await svc.inspect(job.id, kind);
        await svc.configure(p, job.id, { kind, mapping: inspected.suggested });
        return job.id;
      };
      const id = await upload();
      const dry = await timed(() => svc.dryRun(p, id));
      const commit = await timed(() => svc.commitAndWait(p, null, id));
      if (commit.value.status !== 'done' || commit.value.rowsRejected > 0)
        throw new Error(
          `${kind}: ${commit.value.status} ${commit.value.error ?? ''} rejected ${commit.value.rowsRejected}`,
        );
      if (dry.value.createdCount !== commit.value.createdCount) throw new Error(`${kind}: the forecast differs`);
      const again = await upload();
      const re = await timed(() => svc.commitAndWait(p, null, again));
      if (re.value.createdCount + re.value.updatedCount !== 0) throw new Error(`${kind}: the re-import changed rows`);
      out[`${kind}.dry`] = dry.ms;
      out[`${kind}.commit`] = commit.ms;
      out[`${kind}.again`] = re.ms;
      out[`${kind}.created`] = commit.value.createdCount;
      out[`${kind}.unchanged`] = re.value.unchangedCount;
    }
    out.units = await count(db, 'org_unit');
    out.users = await count(db, 'app_user');
    out.links = await count(db, 'user_role');
    out.audits = await count(db, 'audit_log');
  } finally {
    await svc.close();
    await db.close();
    await fresh.drop();
  }
  return out;
}

/** The same rows as plain multi-row inserts, parents first, paths worked out beforehand, one transaction each. */
async function baseline(engine: 'sqlite' | 'postgres', data: { units: Unit[]; people: Person[] }) {
  const { db, fresh } = await setUp(engine, 'orgbase');
  try {
    const hq = await db.kysely
      .selectFrom('org_unit')
      .select(['id', 'path'])
      .where('code', '=', 'HQ')
      .executeTakeFirstOrThrow();
    const roles = new Map(
      (await db.kysely.selectFrom('role').select(['id', 'code']).execute()).map((r) => [r.code, Number(r.id)]),
    );
    const hash = await hashGeneratedPassword(generatePassword('x'));
    const now = new Date().toISOString();
    const units = await timed(() =>
      db.kysely.transaction().execute(async (trx) => {
        const placed = new Map<string, { id: number; path: string; depth: number }>([
          ['HQ', { id: Number(hq.id), path: hq.path, depth: 1 }],
        ]);
        for (const kind of ['branch', 'area', 'station'] as const) {
          const level = data.units.filter((u) => u.kind === kind);
          for (let i = 0; i < level.length; i += 200) {
            const part = level.slice(i, i + 200);
            const rows = await trx
              .insertInto('org_unit')
              .values(
                part.map((u) => ({
                  parent_id: placed.get(u.parent)!.id,
                  kind_code: u.kind,
                  code: u.code,
                  name: u.name,
                  time_zone: 'Asia/Shanghai',
                  path: 'pending',
                  depth: placed.get(u.parent)!.depth + 1,
                  created_at: now,
                  updated_at: now,
                })),
              )
              .returning(['id', 'code'])
              .execute();
            for (const r of rows) {
              const u = part.find((x) => x.code === r.code)!;
              const parent = placed.get(u.parent)!;
              const p = `${parent.path}${r.id}/`;
              placed.set(u.code, { id: Number(r.id), path: p, depth: parent.depth + 1 });
              await trx.updateTable('org_unit').set({ path: p }).where('id', '=', r.id).execute();
            }
          }
        }
        return placed;
      }),
    );
    const placed = units.value;
    const users = await timed(() =>
      db.kysely.transaction().execute(async (trx) => {
        for (let i = 0; i < data.people.length; i += 200) {
          const part = data.people.slice(i, i + 200);
          const rows = await trx
            .insertInto('app_user')
            .values(
              part.map((x) => ({
                username: x.username,
                display_name: x.name,
                org_unit_id: placed.get(x.unit)!.id,
                password_hash: hash,
                locale: 'zh-CN',
                active: 1,
                phone: x.phone,
                password_changed_at: now,
                created_at: now,
                updated_at: now,
              })),
            )
            .returning(['id', 'username'])
            .execute();
          const idOf = new Map(rows.map((r) => [r.username, Number(r.id)]));
          const links = part.flatMap((x) =>
            x.roles.split('、').map((code) => ({ user_id: idOf.get(x.username)!, role_id: roles.get(code)! })),
          );
          await trx.insertInto('user_role').values(links).execute();
        }
      }),
    );
    return { units: units.ms, users: users.ms };
  } finally {
    await db.close();
    await fresh.drop();
  }
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-org-import-'));
  const data = province();
  const files = { units: path.join(dir, 'units.csv'), users: path.join(dir, 'users.csv') };
  fs.writeFileSync(
    files.units,
    csvOf([
      ['单位编码', '单位名称', '上级单位编码', '单位类型', '时区'],
      ...data.units.map((u) => [u.code, u.name, u.parent, u.kind, '']),
    ]),
  );
  fs.writeFileSync(
    files.users,
    csvOf([
      ['姓名', '用户名', '所属单位编码', '角色', '手机号'],
      ...data.people.map((x) => [x.name, x.username, x.unit, x.roles, x.phone]),
    ]),
  );
  console.log(
    `org-import: ${data.units.length} units (${STATIONS} stations, children first), ${data.people.length} users; ` +
      `${os.cpus().length} cores, node ${process.version}`,
  );
  // The initial passwords' share of a users commit: generating and hashing them alone.
  const hashing = await timed(() =>
    Promise.all(data.people.map((x) => hashGeneratedPassword(generatePassword(x.username)))),
  );
  console.log(`hashing ${data.people.length} initial passwords alone: ${seconds(hashing.ms)} s`);
  try {
    for (const engine of ENGINES) {
      const r = await importRun(engine, files);
      const b = await baseline(engine, data);
      console.log(`\n${engine}`);
      console.log(
        `  units: dry run ${seconds(r['org_units.dry']!)} s, commit ${seconds(r['org_units.commit']!)} s ` +
          `(${r['org_units.created']} created), again ${seconds(r['org_units.again']!)} s (${r['org_units.unchanged']} unchanged); ` +
          `plain inserts ${seconds(b.units)} s → commit ×${(r['org_units.commit']! / b.units).toFixed(1)}`,
      );
      console.log(
        `  users: dry run ${seconds(r['users.dry']!)} s, commit ${seconds(r['users.commit']!)} s ` +
          `(${r['users.created']} created), again ${seconds(r['users.again']!)} s (${r['users.unchanged']} unchanged); ` +
          `plain inserts ${seconds(b.users)} s → commit ×${(r['users.commit']! / b.users).toFixed(1)}`,
      );
      console.log(
        `  direct counts after the import: ${r.units} units, ${r.users} users, ${r.links} role links, ${r.audits} audit rows`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
