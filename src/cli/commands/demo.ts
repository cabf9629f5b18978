// `forecourt demo`: a realistic demo company — 1 HQ, 2 branches, 6 areas, 40 stations and staff
// for every default role, with Chinese names. Idempotent: org units are found by code and users by
// username, and every name is drawn from a PRNG seeded by its unit's code, so a second run (or a
// run after the tree has grown) creates nothing twice. Later features add their own sections
// (customers, transactions, …) after the staff section, keyed the same way.
import { parseArgs } from 'node:util';
import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../../server/config.js';
import type { Database } from '../../server/db/schema.js';
import { openDb, type Db } from '../../server/db/connection.js';
import { prepareDatabase } from '../../server/bootstrap.js';
import { hashPassword } from '../../server/auth/passwords.js';
import type { Actor } from '../../server/auth/principal.js';
import { recordAudit } from '../../server/modules/audit/audit.service.js';
import { childPath } from '../../domain/org-path.js';
import { checkPassword } from '../../domain/password-policy.js';

export const DEMO_PASSWORD = 'Forecourt-demo-2026';
const ACTOR: Actor = { userId: null, name: 'demo', ip: null };
const TIME_ZONE = 'Asia/Shanghai';

// ---- the company -------------------------------------------------------------------------------

type Level = 'hq' | 'branch' | 'area' | 'station';

interface UnitSpec {
  code: string;
  name: string;
  kind: Level;
  children: UnitSpec[];
}

/** Used only when the demo does the first-run setup itself; otherwise the existing top unit is HQ. */
const HQ = { code: 'HQ', name: '华北石油销售有限公司' };

// Two Hebei cities, three districts each; stations are named after the street they stand on.
const BRANCHES: { code: string; name: string; areas: { code: string; name: string; streets: string[] }[] }[] = [
  {
    code: 'SJZ',
    name: '石家庄分公司',
    areas: [
      {
        code: 'CA',
        name: '长安片区',
        streets: ['中华北大街', '建设北大街', '北二环东路', '广安街', '胜利北街', '华安西路', '和平东路'],
      },
      {
        code: 'QX',
        name: '桥西片区',
        streets: ['裕华西路', '中山西路', '红旗大街', '西二环南路', '维明南大街', '新华路', '友谊南大街'],
      },
      {
        code: 'YH',
        name: '裕华片区',
        streets: ['槐安东路', '体育南大街', '塔南路', '东岗路', '南二环东路', '翟营南大街', '珠峰大街'],
      },
    ],
  },
  {
    code: 'BD',
    name: '保定分公司',
    areas: [
      {
        code: 'JX',
        name: '竞秀片区',
        streets: ['朝阳大街', '七一西路', '向阳北大街', '复兴中路', '天威西路', '东风西路', '五四西路'],
      },
      {
        code: 'LC',
        name: '莲池片区',
        streets: ['裕华东路', '东三环', '乐凯北大街', '红星路', '长城北大街', '莲池南大街'],
      },
      { code: 'MC', name: '满城片区', streets: ['满城大街', '中山路', '京昆高速满城口', '保阜路', '建设路', '抱阳路'] },
    ],
  },
];

/** The demo tree below the top unit; station codes look like SJZ-CA-01. */
export function demoTree(): UnitSpec[] {
  return BRANCHES.map((b) => ({
    code: b.code,
    name: b.name,
    kind: 'branch' as const,
    children: b.areas.map((a) => ({
      code: `${b.code}-${a.code}`,
      name: a.name,
      kind: 'area' as const,
      children: a.streets.map((street, i) => ({
        code: `${b.code}-${a.code}-${String(i + 1).padStart(2, '0')}`,
        name: `${street}加油站`,
        kind: 'station' as const,
        children: [],
      })),
    })),
  }));
}

/** Who works at each level (the admin comes from the first-run setup, not from here). */
export const DEMO_STAFF: Record<Level, readonly string[]> = {
  hq: ['hq_marketing', 'auditor', 'cs_agent', 'mystery_shopper'],
  branch: ['branch_customer_admin', 'branch_dept_head', 'branch_manager'],
  area: ['area_customer_manager', 'sales_rep'],
  station: ['station_manager', 'shift_lead', 'attendant'],
};

// ---- names -------------------------------------------------------------------------------------

// Common surnames and given names, each with a plain ASCII pinyin for the username.
const SURNAMES: readonly (readonly [string, string])[] = [
  ['王', 'wang'],
  ['李', 'li'],
  ['张', 'zhang'],
  ['刘', 'liu'],
  ['陈', 'chen'],
  ['杨', 'yang'],
  ['赵', 'zhao'],
  ['黄', 'huang'],
  ['周', 'zhou'],
  ['吴', 'wu'],
  ['徐', 'xu'],
  ['孙', 'sun'],
  ['马', 'ma'],
  ['朱', 'zhu'],
  ['胡', 'hu'],
  ['郭', 'guo'],
  ['何', 'he'],
  ['高', 'gao'],
  ['林', 'lin'],
  ['罗', 'luo'],
  ['郑', 'zheng'],
  ['梁', 'liang'],
  ['谢', 'xie'],
  ['宋', 'song'],
  ['唐', 'tang'],
  ['韩', 'han'],
  ['冯', 'feng'],
  ['于', 'yu'],
  ['董', 'dong'],
  ['曹', 'cao'],
];
const GIVEN_NAMES: readonly (readonly [string, string])[] = [
  ['伟', 'wei'],
  ['芳', 'fang'],
  ['娜', 'na'],
  ['敏', 'min'],
  ['静', 'jing'],
  ['强', 'qiang'],
  ['磊', 'lei'],
  ['军', 'jun'],
  ['洋', 'yang'],
  ['勇', 'yong'],
  ['艳', 'yan'],
  ['杰', 'jie'],
  ['涛', 'tao'],
  ['明', 'ming'],
  ['超', 'chao'],
  ['霞', 'xia'],
  ['平', 'ping'],
  ['刚', 'gang'],
  ['建国', 'jianguo'],
  ['海燕', 'haiyan'],
  ['志强', 'zhiqiang'],
  ['丽华', 'lihua'],
  ['建华', 'jianhua'],
  ['秀英', 'xiuying'],
  ['国庆', 'guoqing'],
  ['春梅', 'chunmei'],
  ['晓东', 'xiaodong'],
  ['红梅', 'hongmei'],
  ['立新', 'lixin'],
  ['玉兰', 'yulan'],
];

/** mulberry32: small, fast, and the same sequence on every machine. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a, to seed each unit's names from its code alone (independent of the order units are visited). */
function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)]!;
}

export interface StaffMember {
  role: string;
  username: string;
  displayName: string;
}

/** The staff of one unit: names seeded by the unit code, usernames like `zhang.wei.sjzca01`, unique within the unit. */
export function staffOf(unitCode: string, roles: readonly string[]): StaffMember[] {
  const rnd = prng(seedOf(unitCode));
  const slug = unitCode.toLowerCase().replace(/[^a-z0-9]/g, '') || 'hq';
  const used = new Set<string>();
  return roles.map((role) => {
    for (;;) {
      const [surname, surnamePinyin] = pick(rnd, SURNAMES);
      const [given, givenPinyin] = pick(rnd, GIVEN_NAMES);
      const username = `${surnamePinyin}.${givenPinyin}.${slug}`;
      if (used.has(username)) continue;
      used.add(username);
      return { role, username, displayName: `${surname}${given}` };
    }
  });
}

// ---- building it -------------------------------------------------------------------------------

export interface DemoOptions {
  /** Password of every account the demo creates (default DEMO_PASSWORD). */
  password?: string;
}

export interface DemoAccount extends StaffMember {
  unitCode: string;
  unitName: string;
}

export interface DemoReport {
  /** True when the database had no users and the demo did the first-run setup (top unit + `admin`). */
  didSetup: boolean;
  created: { orgUnits: number; users: number };
  /** Totals in the database after the run. */
  total: { orgUnits: number; users: number };
  /** One account per role, to sign in with; `admin` is listed only if the demo created it. */
  accounts: DemoAccount[];
}

interface UnitRow {
  id: number;
  code: string;
  name: string;
  path: string;
  depth: number;
}

type Trx = Transaction<Database>;

export async function buildDemo(db: Db, opts: DemoOptions = {}): Promise<DemoReport> {
  const k = db.kysely;
  const password = opts.password ?? DEMO_PASSWORD;
  const problem = checkPassword(password, '');
  if (problem) throw new Error(`the demo password is not acceptable: ${problem.code}`);
  // Every demo account has the same password, so one argon2 hash serves them all.
  const passwordHash = await hashPassword(password);
  const roleIds = await loadRoleIds(k);
  const created = { orgUnits: 0, users: 0 };
  const accounts = new Map<string, DemoAccount>();
  const now = new Date().toISOString();

  // ---- section 1: first-run setup (what the setup page does), only when nobody exists yet ----
  const setup = await k.transaction().execute(async (trx) => {
    if ((await countRows(trx, 'app_user')) > 0) return null;
    // The same marker the setup page writes, so the setup page no longer offers itself.
    await trx
      .insertInto('system_state')
      .values({ key: 'setup_done', value: now })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    let root = await topUnit(trx);
    const made = { orgUnits: 0, users: 1 };
    if (!root) {
      root = await insertUnit(trx, null, { code: HQ.code, name: HQ.name, kind: 'hq' }, now);
      await recordAudit(trx, ACTOR, {
        action: 'setup',
        entity: 'org_unit',
        entityId: root.id,
        orgUnitId: root.id,
        after: { code: HQ.code, name: HQ.name, timeZone: TIME_ZONE },
      });
      made.orgUnits++;
    }
    await insertUser(
      trx,
      { role: 'admin', username: 'admin', displayName: '系统管理员' },
      root.id,
      roleIds,
      passwordHash,
      now,
    );
    return made;
  });
  const didSetup = setup !== null;
  if (setup) {
    created.orgUnits += setup.orgUnits;
    created.users += setup.users;
  }
  const root = await topUnit(k);
  if (!root) throw new Error('the database has users but no top org unit');
  // `admin` is worth listing only if the demo made it (and so knows its password).
  const admin = await k
    .selectFrom('app_user')
    .select(['id', 'username', 'display_name'])
    .where('username', '=', 'admin')
    .executeTakeFirst();
  const adminByDemo =
    admin &&
    (await k
      .selectFrom('audit_log')
      .select('id')
      .where('entity', '=', 'user')
      .where('action', '=', 'create')
      .where('entity_id', '=', String(admin.id))
      .where('actor_name', '=', ACTOR.name)
      .executeTakeFirst());
  if (admin && adminByDemo)
    accounts.set('admin', {
      role: 'admin',
      username: admin.username,
      displayName: admin.display_name,
      unitCode: root.code,
      unitName: root.name,
    });

  // ---- section 2: org tree and its staff, one transaction per unit ----
  async function ensure(
    spec: Omit<UnitSpec, 'children'>,
    parent: UnitRow | null,
    existing: UnitRow | null,
  ): Promise<UnitRow> {
    const staff = staffOf(existing?.code ?? spec.code, DEMO_STAFF[spec.kind]);
    const result = await k.transaction().execute(async (trx) => {
      const made = { orgUnits: 0, users: 0 };
      let unit =
        existing ??
        (await trx
          .selectFrom('org_unit')
          .select(['id', 'code', 'name', 'path', 'depth'])
          .where('code', '=', spec.code)
          .executeTakeFirst()) ??
        null;
      if (!unit) {
        unit = await insertUnit(trx, parent, spec, now);
        await recordAudit(trx, ACTOR, {
          action: 'create',
          entity: 'org_unit',
          entityId: unit.id,
          orgUnitId: unit.id,
          after: { code: spec.code, name: spec.name, kind: spec.kind, parentId: parent?.id ?? null },
        });
        made.orgUnits++;
      }
      const taken = new Set(
        (
          await trx
            .selectFrom('app_user')
            .select('username')
            .where(
              'username',
              'in',
              staff.map((m) => m.username),
            )
            .execute()
        ).map((r) => r.username),
      );
      for (const member of staff.filter((m) => !taken.has(m.username))) {
        await insertUser(trx, member, unit.id, roleIds, passwordHash, now);
        made.users++;
      }
      return { unit, made };
    });
    // Counted once committed, so a failed unit does not inflate the report.
    created.orgUnits += result.made.orgUnits;
    created.users += result.made.users;
    for (const member of staff)
      if (!accounts.has(member.role))
        accounts.set(member.role, { ...member, unitCode: result.unit.code, unitName: result.unit.name });
    return result.unit;
  }
  async function ensureTree(spec: UnitSpec, parent: UnitRow): Promise<void> {
    const unit = await ensure(spec, parent, null);
    for (const child of spec.children) await ensureTree(child, unit);
  }
  await ensure({ code: root.code, name: root.name, kind: 'hq' }, null, root);
  for (const branch of demoTree()) await ensureTree(branch, root);

  // ---- later sections (customers, vehicles, transactions, …) go here ----

  return {
    didSetup,
    created,
    total: { orgUnits: await countRows(k, 'org_unit'), users: await countRows(k, 'app_user') },
    accounts: [...accounts.values()],
  };
}

async function loadRoleIds(k: Kysely<Database>): Promise<Map<string, number>> {
  const ids = new Map((await k.selectFrom('role').select(['id', 'code']).execute()).map((r) => [r.code, r.id]));
  const needed = ['admin', ...Object.values(DEMO_STAFF).flat()];
  const missing = needed.filter((code) => !ids.has(code));
  if (missing.length > 0)
    throw new Error(
      `roles missing: ${missing.join(', ')} (run \`forecourt migrate\` first, or the role codes were changed)`,
    );
  return ids;
}

function topUnit(k: Kysely<Database>): Promise<UnitRow | undefined> {
  return k
    .selectFrom('org_unit')
    .select(['id', 'code', 'name', 'path', 'depth'])
    .where('parent_id', 'is', null)
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
}

async function countRows(k: Kysely<Database>, table: 'org_unit' | 'app_user'): Promise<number> {
  const { n } = await k
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(n);
}

async function insertUnit(
  trx: Trx,
  parent: UnitRow | null,
  spec: { code: string; name: string; kind: Level },
  now: string,
): Promise<UnitRow> {
  const depth = (parent?.depth ?? 0) + 1;
  const { id } = await trx
    .insertInto('org_unit')
    .values({
      parent_id: parent?.id ?? null,
      kind_code: spec.kind,
      code: spec.code,
      name: spec.name,
      time_zone: TIME_ZONE,
      path: 'pending',
      depth,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  // The path contains the unit's own id, so it is written once the id is known.
  const path = childPath(parent?.path ?? null, id);
  await trx.updateTable('org_unit').set({ path }).where('id', '=', id).execute();
  return { id, code: spec.code, name: spec.name, path, depth };
}

async function insertUser(
  trx: Trx,
  member: StaffMember,
  orgUnitId: number,
  roleIds: Map<string, number>,
  passwordHash: string,
  now: string,
): Promise<void> {
  const { id } = await trx
    .insertInto('app_user')
    .values({
      username: member.username,
      display_name: member.displayName,
      org_unit_id: orgUnitId,
      password_hash: passwordHash,
      locale: 'zh-CN',
      active: 1,
      password_changed_at: now,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx
    .insertInto('user_role')
    .values({ user_id: id, role_id: roleIds.get(member.role)! })
    .execute();
  await recordAudit(trx, ACTOR, {
    action: 'create',
    entity: 'user',
    entityId: id,
    orgUnitId,
    after: { username: member.username, displayName: member.displayName, roles: [member.role] },
  });
}

// ---- the command -------------------------------------------------------------------------------

export const demoHelp = `usage: forecourt demo [--password <password>]

Builds a demo company on the configured database (DATABASE_URL, or ./data/forecourt.db):
1 HQ, 2 branches (石家庄分公司, 保定分公司), 6 areas, 40 stations (codes like SJZ-CA-01) and
staff for every default role at the right level, with Chinese names:

  HQ        hq_marketing, auditor, cs_agent
  branch    branch_customer_admin, branch_dept_head, branch_manager
  area      area_customer_manager, sales_rep
  station   station_manager, shift_lead, attendant

If nobody has done the first-run setup yet, the demo does it: top unit ${HQ.code} (${HQ.name})
and the administrator \`admin\`. If setup has been done, the demo tree goes under the existing
top unit and no admin is added. Running it again creates nothing twice (units are matched by
code, users by username). Every created record is in the audit log under the actor \`demo\`.

Options:
  --password <password>   password of every created account (default ${DEMO_PASSWORD})
  -h, --help              this text
`;

export async function runDemo(argv: string[], config: Config): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { password: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(demoHelp);
    return 0;
  }
  const password = values.password ?? DEMO_PASSWORD;
  const db = openDb({ url: config.databaseUrl });
  try {
    await prepareDatabase(db);
    const report = await buildDemo(db, { password });
    if (report.didSetup) console.log(`first-run setup done: top unit and administrator \`admin\``);
    console.log(
      `demo company ready: created ${report.created.orgUnits} org units and ${report.created.users} users (now ${report.total.orgUnits} units, ${report.total.users} users)`,
    );
    console.log(`\nsign in as any of these (one per role), password ${password}:`);
    for (const a of report.accounts)
      console.log(`  ${a.role.padEnd(22)} ${a.username.padEnd(28)} ${a.displayName}\t${a.unitName} (${a.unitCode})`);
    return 0;
  } finally {
    await db.close();
  }
}
