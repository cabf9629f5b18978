// Onboarding a company through the import center: org units (CSV, parents after their children, a
// cycle, an unknown parent, a bad time zone, a unit outside the importer's subtree) and users (XLSX,
// a duplicate username, a role beyond the importer's rights, a unit outside his subtree), by a branch's
// own administrator. Dry run and commit agree, refused rows name their field, re-imports change
// nothing, changes are updates, every unit and user is audited, new users' initial passwords are
// handed over once, and a change reaches the cached principal at once.
import { beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session, type TestApp } from '../helpers/app.js';
import { buildTree, createUser, USER_PASSWORD, type Tree } from '../helpers/fixtures.js';
import { buildXlsx, columnName, inlineCell } from './build-xlsx.js';
import { renderProblem } from '../../src/server/modules/imports/problems.js';

interface Job {
  id: number;
  status: string;
  rowsOk: number;
  rowsRejected: number;
  createdCount: number;
  updatedCount: number;
  unchangedCount: number;
  passwordsWaiting?: number;
}
interface Problem {
  row: number;
  field: string | null;
  fieldLabel: string;
  code: string;
  message: string;
}

const csv = (rows: string[][]) => Buffer.from(rows.map((r) => r.join(',')).join('\r\n') + '\r\n', 'utf8');

async function xlsx(rows: string[][]): Promise<Buffer> {
  return buildXlsx({
    rows: rows.map(
      (cells, i) =>
        `<row r="${i + 1}">${cells.map((c, j) => inlineCell(`${columnName(j)}${i + 1}`, c)).join('')}</row>`,
    ),
  });
}

async function upload(app: TestApp, s: Session, fileName: string, content: Buffer): Promise<number> {
  const res = await app.inject({
    method: 'POST',
    url: `/api/imports?fileName=${encodeURIComponent(fileName)}`,
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/octet-stream' },
    payload: content,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

async function waitDone(app: TestApp, s: Session, id: number): Promise<Job> {
  for (let i = 0; i < 800; i++) {
    const job = await ok<Job>(call(app, s, 'GET', `/api/imports/${id}`));
    if (job.status === 'done' || job.status === 'failed') return job;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`import ${id} did not finish`);
}

/** Upload → inspect → map as suggested → dry run → commit, as the page does. */
async function run(app: TestApp, s: Session, fileName: string, content: Buffer, kind: 'org_units' | 'users') {
  const id = await upload(app, s, fileName, content);
  const inspected = await ok<{ suggested: Record<string, string> }>(
    call(app, s, 'POST', `/api/imports/${id}/inspect`, { kind }),
  );
  await ok(call(app, s, 'PUT', `/api/imports/${id}/mapping`, { kind, mapping: inspected.suggested }));
  const dry = await ok<{ job: Job; problems: Problem[] }>(call(app, s, 'POST', `/api/imports/${id}/dry-run`));
  await ok(call(app, s, 'POST', `/api/imports/${id}/commit`), 202);
  const done = await waitDone(app, s, id);
  const problems = await ok<Problem[]>(call(app, s, 'GET', `/api/imports/${id}/problems?phase=commit`));
  return { id, suggested: inspected.suggested, dry, done, problems };
}

const byRow = (problems: Problem[]) => {
  const m = new Map<number, string[]>();
  for (const p of problems) m.set(p.row, [...(m.get(p.row) ?? []), `${p.field}:${p.code}`]);
  return Object.fromEntries([...m].map(([row, fields]) => [row, fields.sort()]));
};
const figures = (j: Job) => ({
  ok: j.rowsOk,
  rejected: j.rowsRejected,
  created: j.createdCount,
  updated: j.updatedCount,
  unchanged: j.unchangedCount,
});

const UNIT_HEAD = ['单位编码', '单位名称', '上级单位编码', '单位类型', '时区'];
const UNITS = [
  UNIT_HEAD,
  ['B1-A9-S1', '新华路加油站', 'B1-A9', '加油站', ''], // 2: its parent comes on the next row
  ['B1-A9', '新华片区', 'B1', '片区', 'Asia/Urumqi'], // 3
  ['B1-A9-S2', '和平路加油站', 'B1-A9', 'station', 'Asia/Shanghai'], // 4
  ['CY-1', '环一', 'CY-2', '片区', ''], // 5: a loop with row 6
  ['CY-2', '环二', 'CY-1', '片区', ''], // 6
  ['X-1', '孤儿站', 'NOPE', '加油站', ''], // 7: no such parent
  ['X-2', '火星片区', 'B1', '片区', 'Mars/Olympus'], // 8: no such time zone
  ['X-3', '外区片区', 'B2', '片区', ''], // 9: parent outside the importer's branch
  ['B2-A1', '竞秀片区改名', '', '', ''], // 10: a unit outside his branch
  ['B1-A1', '长安片区（新）', 'B1', '片区', ''], // 11: renamed
  ['X-4', '环下加油站', 'CY-1', '加油站', ''], // 12: under a refused row
];

describeEngines('org and user import', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  /** A branch's own administrator: units and people of branch 1, and only the rights he holds. */
  let it1: Session;
  let emp1: Session;

  const count = async (table: 'org_unit' | 'app_user') =>
    Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(ctx.db.kysely)).rows[0]!.n);

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    const role = await ok<{ id: number }>(
      call(ctx.app, admin, 'POST', '/api/roles', {
        code: 'branch_it',
        nameZh: '分公司系统管理',
        nameEn: 'Branch IT',
        permissions: [
          ...['org.read', 'org.write', 'user.read', 'user.write', 'import.run'],
          ...['customer.read', 'customer.write', 'alert.read', 'pool.claim', 'complaint.intake'],
        ],
      }),
      201,
    );
    await ok(
      call(ctx.app, admin, 'POST', '/api/users', {
        ...{ username: 'it1', displayName: '分公司管理员', orgUnitId: tree.branch1 },
        ...{ password: USER_PASSWORD, roleIds: [role.id] },
      }),
      201,
    );
    it1 = await login(ctx.app, 'it1', USER_PASSWORD);
    await createUser(ctx.app, admin, 'emp1', tree.station1, ['attendant']);
    await createUser(ctx.app, admin, 'outsider', tree.station3, ['attendant']);
    await createUser(ctx.app, admin, 'mgr1', tree.station2, ['branch_manager']);
    emp1 = await login(ctx.app, 'emp1', USER_PASSWORD);
  });

  it('imports units from CSV: parents after children, a cycle, unknown parent, bad time zone, scope; again changes nothing', async () => {
    const before = await count('org_unit');
    const r = await run(ctx.app, it1, 'units.csv', csv(UNITS), 'org_units');
    expect(r.suggested).toEqual({
      单位编码: 'unitCode',
      单位名称: 'unitName',
      上级单位编码: 'parentCode',
      单位类型: 'unitKind',
      时区: 'timeZone',
    });
    const expected = {
      5: ['parentCode:CYCLE'],
      6: ['parentCode:CYCLE'],
      7: ['parentCode:PARENT_UNKNOWN'],
      8: ['timeZone:BAD_TIME_ZONE'],
      9: ['parentCode:PARENT_OUT_OF_SCOPE'],
      10: ['unitCode:UNIT_OUT_OF_SCOPE'],
      12: ['parentCode:PARENT_REFUSED'],
    };
    expect(byRow(r.dry.problems)).toEqual(expected);
    expect(byRow(r.problems)).toEqual(expected);
    // The forecast is the commit.
    const want = { ok: 4, rejected: 7, created: 3, updated: 1, unchanged: 0 };
    expect(figures(r.dry.job)).toEqual(want);
    expect(figures(r.done)).toEqual(want);
    // zh-CN by default, with the field's label; en-US worded too.
    const cycle = r.problems.find((p) => p.row === 5)!;
    expect(cycle.fieldLabel).toBe('上级单位编码');
    expect(cycle.message).toContain('形成循环');
    expect(cycle.message).toContain('CY-1 → CY-2');
    const stored = JSON.stringify({ c: 'CYCLE', p: { value: 'CY-2', cycle: ['CY-1', 'CY-2'] } });
    expect(renderProblem(stored, 'parentCode', 'en-US')).toBe('Parent unit code makes a loop: CY-1 → CY-2');
    // The error report is headed by the file's own headers, with the reason in words.
    const report = await call(ctx.app, it1, 'GET', `/api/imports/${r.id}/report.csv?phase=commit`);
    expect(report.statusCode).toBe(200);
    expect(report.body).toContain('单位编码,单位名称,上级单位编码,单位类型,时区');
    expect(report.body).toContain('上级单位编码形成循环');
    expect(report.body).toContain('Mars/Olympus');

    // In the database: three more units, the station under its new area with the area's time zone.
    expect(await count('org_unit')).toBe(before + 3);
    const rows = await ctx.db.kysely
      .selectFrom('org_unit as u')
      .innerJoin('org_unit as p', 'p.id', 'u.parent_id')
      .select([
        'u.code',
        'u.name',
        'u.path',
        'u.depth',
        'u.time_zone',
        'u.kind_code',
        'p.code as parent',
        'p.path as parentPath',
      ])
      .where('u.code', 'in', ['B1-A9', 'B1-A9-S1', 'B1-A9-S2', 'B1-A1', 'B2-A1'])
      .orderBy('u.code')
      .execute();
    const by = Object.fromEntries(rows.map((x) => [x.code, x]));
    expect(by['B1-A9']).toMatchObject({ parent: 'B1', kind_code: 'area', time_zone: 'Asia/Urumqi', depth: 3 });
    expect(by['B1-A9-S1']).toMatchObject({ parent: 'B1-A9', kind_code: 'station', time_zone: 'Asia/Urumqi', depth: 4 });
    expect(by['B1-A9-S2']).toMatchObject({ parent: 'B1-A9', time_zone: 'Asia/Shanghai' });
    for (const x of rows) expect(x.path.startsWith(x.parentPath)).toBe(true);
    expect(by['B1-A1']!.name).toBe('长安片区（新）');
    expect(by['B2-A1']!.name).toBe('竞秀片区');
    // The new units are visible through the org API as any unit is.
    const listed = await ok<{ code: string }[]>(call(ctx.app, it1, 'GET', '/api/org/units'));
    expect(listed.map((u) => u.code)).toEqual(expect.arrayContaining(['B1-A9', 'B1-A9-S1', 'B1-A9-S2']));

    // Audited one by one, naming the import.
    const audits = await ctx.db.kysely
      .selectFrom('audit_log')
      .select(['action', 'entity_id', 'after_json', 'actor_name'])
      .where('entity', '=', 'org_unit')
      .where('after_json', 'like', `%"importId":${r.id},%`)
      .execute();
    expect(audits.filter((a) => a.action === 'create')).toHaveLength(3);
    expect(audits.filter((a) => a.action === 'update')).toHaveLength(1);
    expect(new Set(audits.map((a) => a.actor_name))).toEqual(new Set(['it1']));

    // The same file again: nothing changes, and the job says so.
    const again = await run(ctx.app, it1, 'units.csv', csv(UNITS), 'org_units');
    expect(figures(again.dry.job)).toEqual({ ok: 4, rejected: 7, created: 0, updated: 0, unchanged: 4 });
    expect(figures(again.done)).toEqual({ ok: 4, rejected: 7, created: 0, updated: 0, unchanged: 4 });
    expect(await count('org_unit')).toBe(before + 3);

    // A changed time zone is an update, and nothing is deleted by a file that leaves units out.
    const tz = await run(
      ctx.app,
      it1,
      'tz.csv',
      csv([UNIT_HEAD, ['B1-A9-S2', '和平路加油站', 'B1-A9', '加油站', 'Asia/Harbin']]),
      'org_units',
    );
    expect(figures(tz.done)).toEqual({ ok: 1, rejected: 0, created: 0, updated: 1, unchanged: 0 });
    expect(await count('org_unit')).toBe(before + 3);
  });

  it('imports users from XLSX: scope, rights, duplicates refused per field; passwords handed over once; re-import and updates', async () => {
    const USER_HEAD = ['姓名', '用户名', '所属单位编码', '角色', '手机号'];
    const file = [
      USER_HEAD,
      ['张三', 'zhang3', 'B1-A1-S1', 'attendant', '138 1234 5678'], // 2
      ['李四', 'li4', 'B1-A9-S1', '加油员', ''], // 3: a unit the org import created, a role by its name
      ['王五', 'zhang3', 'B1-A1-S2', 'attendant', ''], // 4: the username again
      ['赵六', 'zhao6', 'B1-A1-S1', 'attendant、station_manager', ''], // 5: a role beyond the importer's rights
      ['钱七', 'qian7', 'B2-A1-S1', 'attendant', ''], // 6: a unit outside his branch
      ['孙八', 'sun8', 'NOPE', 'attendant', ''], // 7: no such unit
      ['周九', 'zhou9', 'B1-A1-S1', 'no_such_role', ''], // 8
      ['新名字', 'emp1', 'B1-A1-S1', 'attendant', ''], // 9: renamed
      ['外人', 'outsider', 'B1-A1-S1', 'attendant', ''], // 10: someone of another branch
      ['管理员', 'admin', 'B1', 'attendant', ''], // 11: HQ's administrator
      ['吴十', 'wu10', 'B1-A1-S1', 'attendant', '12345'], // 12
      ['经理', 'mgr1', 'B1-A1-S2', 'attendant', ''], // 13: someone of his branch with rights beyond his
      ['分公司管理员', 'it1', 'B1', 'attendant', ''], // 14: himself, re-roled
    ];
    // emp1's principal is cached now; the import must reach it.
    expect((await ok<{ displayName: string }>(call(ctx.app, emp1, 'GET', '/api/auth/me'))).displayName).toBe(
      '用户emp1',
    );
    const before = await count('app_user');
    const r = await run(ctx.app, it1, 'users.xlsx', await xlsx(file), 'users');
    expect(r.suggested).toEqual({
      姓名: 'displayName',
      用户名: 'username',
      所属单位编码: 'userUnitCode',
      角色: 'roles',
      手机号: 'mobile',
    });
    const expected = {
      4: ['username:DUPLICATE_IN_FILE'],
      5: ['roles:ROLE_EXCEEDS_RIGHTS'],
      6: ['userUnitCode:UNIT_OUT_OF_SCOPE'],
      7: ['userUnitCode:UNIT_UNKNOWN'],
      8: ['roles:ROLE_UNKNOWN'],
      10: ['username:USERNAME_TAKEN'],
      11: ['username:USERNAME_TAKEN'],
      12: ['mobile:BAD_PHONE'],
      13: ['username:USER_EXCEEDS_RIGHTS'],
      14: ['username:SELF_CHANGE'],
    };
    expect(byRow(r.dry.problems)).toEqual(expected);
    expect(byRow(r.problems)).toEqual(expected);
    const want = { ok: 3, rejected: 10, created: 2, updated: 1, unchanged: 0 };
    expect(figures(r.dry.job)).toEqual(want);
    expect(figures(r.done)).toEqual(want);
    expect(r.problems.find((p) => p.row === 5)!.message).toBe('角色“station_manager”含有您自己没有的权限，不能授予');
    expect(await count('app_user')).toBe(before + 2);

    // The rename reached emp1's cached principal at once, as a hand edit does.
    expect((await ok<{ displayName: string }>(call(ctx.app, emp1, 'GET', '/api/auth/me'))).displayName).toBe('新名字');

    // In the database: unit, roles and phone as the file says.
    const zhang = await ctx.db.kysely
      .selectFrom('app_user as u')
      .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
      .innerJoin('user_role as ur', 'ur.user_id', 'u.id')
      .innerJoin('role as r', 'r.id', 'ur.role_id')
      .select(['o.code as unit', 'u.phone', 'r.code as role', 'u.display_name'])
      .where('u.username', '=', 'zhang3')
      .execute();
    expect(zhang).toEqual([{ unit: 'B1-A1-S1', phone: '13812345678', role: 'attendant', display_name: '张三' }]);

    // Initial passwords: only the one who ran the import takes them, once; they sign the people in.
    expect((await ok<Job>(call(ctx.app, it1, 'GET', `/api/imports/${r.id}`))).passwordsWaiting).toBe(2);
    expect((await call(ctx.app, admin, 'POST', `/api/imports/${r.id}/passwords`)).statusCode).toBe(403);
    const taken = await call(ctx.app, it1, 'POST', `/api/imports/${r.id}/passwords`);
    expect(taken.statusCode, taken.body).toBe(200);
    const lines = taken.body
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('行号,用户名,姓名,所属单位编码,初始密码');
    expect(lines).toHaveLength(3);
    const [, , , , password] = lines.find((l) => l.includes('zhang3'))!.split(',');
    expect(password).toMatch(/^[A-Za-z2-9]{14}$/);
    const zhang3 = await login(ctx.app, 'zhang3', password!);
    expect((await call(ctx.app, it1, 'POST', `/api/imports/${r.id}/passwords`)).statusCode).toBe(409);
    expect(await ctx.db.kysely.selectFrom('import_credential').selectAll().execute()).toEqual([]);

    // Audited: two created, one changed, with the import named; the passwords' hand-over too.
    const audits = await ctx.db.kysely
      .selectFrom('audit_log')
      .select(['action', 'after_json'])
      .where('entity', '=', 'user')
      .where('after_json', 'like', `%"importId":${r.id},%`)
      .execute();
    expect(audits.map((a) => a.action).sort()).toEqual(['create', 'create', 'update']);
    expect(audits.every((a) => !a.after_json!.includes(password!))).toBe(true);
    const handOver = await ctx.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('entity', '=', 'import')
      .where('entity_id', '=', String(r.id))
      .where('action', '=', 'import_passwords')
      .execute();
    expect(handOver).toHaveLength(1);

    // The same file again changes nothing.
    const again = await run(ctx.app, it1, 'users.xlsx', await xlsx(file), 'users');
    expect(figures(again.done)).toEqual({ ok: 3, rejected: 10, created: 0, updated: 0, unchanged: 3 });
    expect(again.done.passwordsWaiting).toBe(0);
    expect(await count('app_user')).toBe(before + 2);

    // A moved, re-roled person is updated; his session goes with his old rights, as on the users page.
    expect((await call(ctx.app, zhang3, 'GET', '/api/auth/me')).statusCode).toBe(200);
    const moved = await run(
      ctx.app,
      it1,
      'moved.csv',
      csv([USER_HEAD, ['张三', 'zhang3', 'B1-A9-S2', '加油员；branch_it', '']]),
      'users',
    );
    expect(figures(moved.done)).toEqual({ ok: 1, rejected: 0, created: 0, updated: 1, unchanged: 0 });
    expect((await call(ctx.app, zhang3, 'GET', '/api/auth/me')).statusCode).toBe(401);
    const roles = await ctx.db.kysely
      .selectFrom('user_role as ur')
      .innerJoin('app_user as u', 'u.id', 'ur.user_id')
      .innerJoin('role as r', 'r.id', 'ur.role_id')
      .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
      .select(['r.code', 'o.code as unit'])
      .where('u.username', '=', 'zhang3')
      .orderBy('r.code')
      .execute();
    expect(roles).toEqual([
      { code: 'attendant', unit: 'B1-A9-S2' },
      { code: 'branch_it', unit: 'B1-A9-S2' },
    ]);
    const update = await ctx.db.kysely
      .selectFrom('audit_log')
      .select(['before_json', 'after_json'])
      .where('entity', '=', 'user')
      .where('action', '=', 'update')
      .where('after_json', 'like', `%"importId":${moved.id},%`)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(update.after_json!)).toMatchObject({ roles: ['attendant', 'branch_it'] });
  });

  it('refuses org and user imports to whoever may not create units or users by hand', async () => {
    // import.run without org.write and user.write, at the head office.
    await createUser(ctx.app, admin, 'bca', tree.hq, ['branch_customer_admin']);
    const bca = await login(ctx.app, 'bca', USER_PASSWORD);
    const id = await upload(ctx.app, bca, 'units.csv', csv(UNITS));
    for (const kind of ['org_units', 'users']) {
      const res = await call(ctx.app, bca, 'PUT', `/api/imports/${id}/mapping`, {
        kind,
        mapping: { 单位编码: 'unitCode' },
      });
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json().error.code).toBe('PERMISSION_DENIED');
    }
    // A job mapped by someone allowed cannot be checked or committed by someone who is not.
    const mapped = await upload(ctx.app, admin, 'units.csv', csv(UNITS));
    await ok(
      call(ctx.app, admin, 'PUT', `/api/imports/${mapped}/mapping`, {
        kind: 'org_units',
        mapping: { 单位编码: 'unitCode', 单位名称: 'unitName' },
      }),
    );
    for (const step of ['dry-run', 'commit']) {
      const res = await call(ctx.app, bca, 'POST', `/api/imports/${mapped}/${step}`);
      expect(res.statusCode, res.body).toBe(403);
    }
    expect((await ok<Job>(call(ctx.app, admin, 'GET', `/api/imports/${mapped}`))).status).toBe('mapped');
  });
});
