// A realistic demo company: 1 HQ, 2 branches, 6 areas, 40 stations and users for every default
// role, with Chinese names. Idempotent: units are found by code and users by username, so a
// second run creates nothing. Later features add customers and transactions in their own sections.
import type { Kysely } from 'kysely';
import type { Database } from '../../server/db/schema.js';
import { hashPassword } from '../../server/auth/passwords.js';
import { recordAudit } from '../../server/modules/audit/audit.service.js';
import { childPath } from '../../domain/org-path.js';

export const DEMO_PASSWORD = 'Forecourt-demo-2026';
const ACTOR = { userId: null, name: 'demo', ip: null };

interface UnitSpec {
  code: string;
  name: string;
  kind: 'hq' | 'branch' | 'area' | 'station';
  children?: UnitSpec[];
}

const STREETS: Record<string, string[]> = {
  'SJZ-CA': ['中华北大街', '建设北大街', '北二环东路', '广安街', '胜利北街', '华安西路', '和平东路'],
  'SJZ-QX': ['裕华西路', '中山西路', '红旗大街', '西二环南路', '维明南大街', '新华路', '友谊南大街'],
  'SJZ-YH': ['槐安东路', '体育南大街', '塔南路', '东岗路', '南二环东路', '翟营南大街', '珠峰大街'],
  'BD-JX': ['朝阳大街', '七一西路', '向阳北大街', '复兴中路', '天威西路', '东风西路', '五四西路'],
  'BD-LC': ['裕华东路', '东三环', '乐凯北大街', '红星路', '长城北大街', '莲池南大街'],
  'BD-MD': ['北二环', '东二环', '三丰路', '天鹅中路', '建华大街', '五尧路'],
};

const AREAS = [
  { branch: 'SJZ', code: 'SJZ-CA', name: '长安片区' },
  { branch: 'SJZ', code: 'SJZ-QX', name: '桥西片区' },
  { branch: 'SJZ', code: 'SJZ-YH', name: '裕华片区' },
  { branch: 'BD', code: 'BD-JX', name: '竞秀片区' },
  { branch: 'BD', code: 'BD-LC', name: '莲池片区' },
  { branch: 'BD', code: 'BD-MD', name: '满城片区' },
];

function tree(): UnitSpec[] {
  const branches: UnitSpec[] = [
    { code: 'SJZ', name: '石家庄分公司', kind: 'branch', children: [] },
    { code: 'BD', name: '保定分公司', kind: 'branch', children: [] },
  ];
  for (const a of AREAS) {
    const stations = STREETS[a.code]!.map((street, i) => ({ code: `${a.code}-${String(i + 1).padStart(2, '0')}`, name: `${street}加油站`, kind: 'station' as const }));
    branches.find((b) => b.code === a.branch)!.children!.push({ code: a.code, name: a.name, kind: 'area', children: stations });
  }
  return branches;
}

// Common surnames and given-name characters with a plain pinyin spelling for usernames.
const SURNAMES: [string, string][] = [['王', 'wang'], ['李', 'li'], ['张', 'zhang'], ['刘', 'liu'], ['陈', 'chen'], ['杨', 'yang'], ['赵', 'zhao'], ['黄', 'huang'], ['周', 'zhou'], ['吴', 'wu'], ['徐', 'xu'], ['孙', 'sun'], ['马', 'ma'], ['朱', 'zhu'], ['胡', 'hu'], ['郭', 'guo'], ['何', 'he'], ['高', 'gao'], ['林', 'lin'], ['罗', 'luo']];
const GIVEN: [string, string][] = [['伟', 'wei'], ['芳', 'fang'], ['娜', 'na'], ['敏', 'min'], ['静', 'jing'], ['强', 'qiang'], ['磊', 'lei'], ['军', 'jun'], ['洋', 'yang'], ['勇', 'yong'], ['艳', 'yan'], ['杰', 'jie'], ['涛', 'tao'], ['明', 'ming'], ['超', 'chao'], ['霞', 'xia'], ['平', 'ping'], ['刚', 'gang'], ['建国', 'jianguo'], ['海燕', 'haiyan']];

function prng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

export interface DemoReport {
  orgUnits: number;
  users: number;
  orgUnitsCreated: number;
  usersCreated: number;
  sampleUsers: string[];
}

export async function buildDemo(db: Kysely<Database>): Promise<DemoReport> {
  const now = new Date().toISOString();
  const hash = await hashPassword(DEMO_PASSWORD);
  let orgUnitsCreated = 0;
  let usersCreated = 0;

  // ---- the top unit (what first-run setup would create) --------------------------------------
  let root = await db.selectFrom('org_unit').selectAll().where('parent_id', 'is', null).orderBy('id').executeTakeFirst();
  if (!root) {
    root = await db.transaction().execute(async (trx) => {
      await trx.insertInto('system_state').values({ key: 'setup_done', value: now }).onConflict((oc) => oc.column('key').doNothing()).execute();
      const { id } = await trx.insertInto('org_unit').values({ parent_id: null, kind_code: 'hq', code: 'HQ', name: '华北石油销售有限公司', time_zone: 'Asia/Shanghai', path: 'pending', depth: 1, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow();
      await trx.updateTable('org_unit').set({ path: childPath(null, id) }).where('id', '=', id).execute();
      await recordAudit(trx, ACTOR, { action: 'create', entity: 'org_unit', entityId: id, orgUnitId: id, after: { code: 'HQ' } });
      return trx.selectFrom('org_unit').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    });
    orgUnitsCreated++;
  }

  // ---- org tree --------------------------------------------------------------------------------
  const units = new Map<string, { id: number; path: string; depth: number; kind: string }>([[root.code, { id: root.id, path: root.path, depth: root.depth, kind: 'hq' }]]);
  async function ensureUnit(spec: UnitSpec, parent: { id: number; path: string; depth: number }): Promise<void> {
    let unit = await db.selectFrom('org_unit').select(['id', 'path', 'depth']).where('code', '=', spec.code).executeTakeFirst();
    if (!unit) {
      unit = await db.transaction().execute(async (trx) => {
        const { id } = await trx.insertInto('org_unit').values({ parent_id: parent.id, kind_code: spec.kind, code: spec.code, name: spec.name, time_zone: 'Asia/Shanghai', path: 'pending', depth: parent.depth + 1, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow();
        const path = childPath(parent.path, id);
        await trx.updateTable('org_unit').set({ path }).where('id', '=', id).execute();
        await recordAudit(trx, ACTOR, { action: 'create', entity: 'org_unit', entityId: id, orgUnitId: id, after: { code: spec.code, name: spec.name, kind: spec.kind } });
        return { id, path, depth: parent.depth + 1 };
      });
      orgUnitsCreated++;
    }
    units.set(spec.code, { ...unit, kind: spec.kind });
    for (const child of spec.children ?? []) await ensureUnit(child, unit);
  }
  for (const branch of tree()) await ensureUnit(branch, root);

  // ---- users for every role -------------------------------------------------------------------
  const roles = new Map((await db.selectFrom('role').select(['id', 'code']).execute()).map((r) => [r.code, r.id]));
  const rnd = prng(2026);
  const taken = new Set((await db.selectFrom('app_user').select('username').execute()).map((u) => u.username));
  const sampleUsers: string[] = [];

  async function ensureUser(key: string, roleCode: string, unitCode: string): Promise<void> {
    // The name is drawn for every slot, created or not, so re-runs give the same people the same names.
    const [sz, sp] = SURNAMES[Math.floor(rnd() * SURNAMES.length)]!;
    const [gz, gp] = GIVEN[Math.floor(rnd() * GIVEN.length)]!;
    const username = `${sp}.${gp}.${key}`.toLowerCase();
    if (sampleUsers.length < 4 && ['station_manager', 'attendant', 'branch_manager', 'area_customer_manager'].includes(roleCode) && !sampleUsers.some((u) => u.endsWith(`(${roleCode})`))) sampleUsers.push(`${username} (${roleCode})`);
    if (taken.has(username)) return;
    const unit = units.get(unitCode)!;
    await db.transaction().execute(async (trx) => {
      const { id } = await trx.insertInto('app_user').values({ username, display_name: `${sz}${gz}`, org_unit_id: unit.id, password_hash: hash, locale: 'zh-CN', active: 1, password_changed_at: now, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow();
      await trx.insertInto('user_role').values({ user_id: id, role_id: roles.get(roleCode)! }).execute();
      await recordAudit(trx, ACTOR, { action: 'create', entity: 'user', entityId: id, orgUnitId: unit.id, after: { username, role: roleCode } });
    });
    taken.add(username);
    usersCreated++;
  }

  if (!taken.has('admin')) {
    await db.transaction().execute(async (trx) => {
      const { id } = await trx.insertInto('app_user').values({ username: 'admin', display_name: '系统管理员', org_unit_id: root.id, password_hash: hash, locale: 'zh-CN', active: 1, password_changed_at: now, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow();
      await trx.insertInto('user_role').values({ user_id: id, role_id: roles.get('admin')! }).execute();
      await recordAudit(trx, ACTOR, { action: 'create', entity: 'user', entityId: id, orgUnitId: root.id, after: { username: 'admin', role: 'admin' } });
    });
    taken.add('admin');
    usersCreated++;
  }
  for (const role of ['hq_marketing', 'auditor', 'cs_agent']) await ensureUser(`hq.${role.split('_')[0]}`, role, root.code);
  for (const [code, u] of units) {
    const k = code.toLowerCase();
    if (u.kind === 'branch') for (const role of ['branch_customer_admin', 'branch_dept_head', 'branch_manager']) await ensureUser(`${k}.${role.replace('branch_', '').split('_')[0]}`, role, code);
    if (u.kind === 'area') for (const role of ['area_customer_manager', 'sales_rep']) await ensureUser(`${k}.${role.split('_')[0]}`, role, code);
    if (u.kind === 'station') for (const role of ['station_manager', 'shift_lead', 'attendant']) await ensureUser(`${k}.${role.split('_')[0]}`, role, code);
  }

  const count = async (table: 'org_unit' | 'app_user') => Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { orgUnits: await count('org_unit'), users: await count('app_user'), orgUnitsCreated, usersCreated, sampleUsers };
}
