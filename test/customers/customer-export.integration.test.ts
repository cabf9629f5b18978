// The customer export as an Excel user opens it: headers and coded values in the reader's language,
// every field of the record, phones masked without the right, formulas defused, the same rows as XLSX.
import { beforeAll, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';

function rowsOf(csv: string): string[][] {
  expect(csv.startsWith('\uFEFF')).toBe(true);
  return parse(csv.slice(1), { relaxColumnCount: false }) as string[][];
}

/** The rows as objects keyed by header, for readable assertions. */
function byHeader(rows: string[][]): Record<string, string>[] {
  const [head, ...rest] = rows;
  return rest.map((r) => Object.fromEntries(head!.map((h, i) => [h, r[i] ?? ''])));
}

async function xlsxRows(body: Buffer): Promise<{ rows: string[][]; sheet: ExcelJS.Worksheet }> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(body as unknown as ArrayBuffer);
  const sheet = wb.worksheets[0]!;
  const width = sheet.getRow(1).cellCount;
  const rows: string[][] = [];
  sheet.eachRow({ includeEmpty: false }, (row) => {
    rows.push(
      Array.from({ length: width }, (_, i) => {
        const v = row.getCell(i + 1).value;
        return v === null || v === undefined ? '' : String(v);
      }),
    );
  });
  return { rows, sheet };
}

describeEngines('customer export', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  let manager: Session; // station manager: no export right
  let exporter: Session; // branch 1, may export but not see full phones
  let managerId: number;

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    managerId = await createUser(ctx.app, admin, 'zhanzhang', tree.station1, ['station_manager']);
    manager = await login(ctx.app, 'zhanzhang', USER_PASSWORD);
    const role = {
      code: 'exporter',
      nameZh: '导出员',
      nameEn: 'Exporter',
      permissions: ['customer.read', 'customer.export'],
    };
    await ok(call(ctx.app, admin, 'POST', '/api/roles', role), 201);
    await createUser(ctx.app, admin, 'daochu', tree.branch1, ['exporter']);
    exporter = await login(ctx.app, 'daochu', USER_PASSWORD);

    const zhao = await ok<{ id: number }>(
      call(ctx.app, admin, 'POST', '/api/customers', {
        kind: 'individual',
        orgUnitId: tree.station1,
        name: '赵建国',
        surname: '赵',
        gender: 'male',
        birthday: '1980-05-17',
        notes: '月结，要增值税专票',
        products: '0#柴油',
        satisfaction: 4,
        lookAfter: true,
        ownerUserId: managerId,
        phones: [{ phone: '13812345678', contactName: '赵师傅', label: '本人' }],
        vehicles: [{ plate: '冀A12345', model: '解放J6' }],
        cards: ['900012345678'],
        tags: ['大客户'],
      }),
      201,
    );
    const formula = {
      kind: 'organisation',
      orgUnitId: tree.station1,
      name: '=HYPERLINK("http://x")',
      vehicles: [{ plate: '冀A7777Z' }],
    };
    await ok(call(ctx.app, admin, 'POST', '/api/customers', formula), 201);
    const elsewhere = {
      kind: 'individual',
      orgUnitId: tree.station3,
      name: '保定客户',
      vehicles: [{ plate: '冀F11111' }],
    };
    await ok(call(ctx.app, admin, 'POST', '/api/customers', elsewhere), 201);
    // A final rating of March and one under review of April: the export shows the final one.
    const k = ctx.db.kysely;
    const batch = async (period: string, status: string) =>
      (
        await k
          .insertInto('rating_batch')
          .values({ period, org_unit_id: tree.branch1, status, computed_at: '2026-04-02T00:00:00.000Z' })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    const rate = async (batchId: number, period: string, stars: number, cls: string) => {
      const row = { batch_id: batchId, customer_id: zhao.id, period, computed_stars: stars, stars, class: cls };
      await k
        .insertInto('customer_rating')
        .values({ ...row, status: 'rated', updated_at: '2026-04-02T00:00:00.000Z' })
        .execute();
    };
    await rate(await batch('2026-03', 'final'), '2026-03', 3, 'A');
    await rate(await batch('2026-04', 'computed'), '2026-04', 4, 'VIP');
  });

  it('writes Chinese headers and Chinese values, every field of the record, for a Chinese reader', async () => {
    const res = await call(ctx.app, admin, 'GET', '/api/customers/export');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    expect(res.headers['content-disposition']).toContain(`filename*=UTF-8''${encodeURIComponent('客户档案.csv')}`);
    const rows = rowsOf(res.body);
    const headers = [
      '客户编码',
      '客户类型',
      '姓名/名称',
      '性别',
      '生日',
      '所属机构',
      '负责人',
      '联系电话',
      '车辆',
      '加油卡',
    ];
    headers.push('标签', '需关照', '建档进度', '备注', '满意度', '星级', '分类', '最近到站', '建档时间');
    expect(rows[0]).toEqual(expect.arrayContaining(headers));
    expect(rows[0]!.join()).not.toMatch(/[a-z]{3}/i);
    const zhao = byHeader(rows).find((r) => r['姓名/名称'] === '赵建国')!;
    expect(zhao).toMatchObject({
      客户类型: '个人',
      性别: '男',
      生日: '1980-05-17',
      所属机构: '中华北大街加油站',
      负责人: '用户zhanzhang',
      联系电话: '13812345678（赵师傅 · 本人）',
      车辆: '冀A12345（解放J6）',
      加油卡: '900012345678',
      标签: '大客户',
      需关照: '是',
      建档进度: '完整档案',
      常用油品: '0#柴油',
      满意度: '4',
      备注: '月结，要增值税专票',
      星级: '3 星',
      分类: 'A',
      评级月份: '2026-03',
    });
    expect(zhao['建档时间']).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    expect(byHeader(rows).find((r) => r['车辆'] === '冀A7777Z')!['客户类型']).toBe('单位');
    for (const code of ['individual', 'organisation', 'male', 'active']) expect(res.body).not.toContain(code);
  });

  it('defuses a cell that starts like a formula', async () => {
    const res = await call(ctx.app, admin, 'GET', '/api/customers/export');
    expect(res.body).toContain(`"'=HYPERLINK(""http://x"")"`);
    expect(res.body).not.toMatch(/(^|,)=HYPERLINK/m);
  });

  it('masks phones for a reader without the phone right and keeps to his scope', async () => {
    const res = await call(ctx.app, exporter, 'GET', '/api/customers/export');
    expect(res.statusCode).toBe(200);
    const rows = byHeader(rowsOf(res.body));
    expect(rows.find((r) => r['姓名/名称'] === '赵建国')!['联系电话']).toBe('138****5678（赵师傅 · 本人）');
    expect(res.body).not.toContain('13812345678');
    expect(rows.map((r) => r['姓名/名称'])).not.toContain('保定客户');
    const all = byHeader(rowsOf((await call(ctx.app, admin, 'GET', '/api/customers/export')).body));
    expect(all.map((r) => r['姓名/名称'])).toContain('保定客户');
  });

  it('writes the same rows as XLSX, formulas as plain text', async () => {
    const csv = rowsOf((await call(ctx.app, admin, 'GET', '/api/customers/export?kind=individual')).body);
    const res = await call(ctx.app, admin, 'GET', '/api/customers/export?kind=individual&format=xlsx');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('spreadsheetml');
    expect(res.headers['content-disposition']).toContain(encodeURIComponent('客户档案.xlsx'));
    const { rows, sheet } = await xlsxRows(res.rawPayload);
    expect(sheet.name).toBe('客户档案');
    expect(rows).toEqual(csv);

    const orgRes = await call(ctx.app, admin, 'GET', '/api/customers/export?kind=organisation&format=xlsx');
    const orgs = await xlsxRows(orgRes.rawPayload);
    const nameCol = orgs.rows[0]!.indexOf('姓名/名称') + 1;
    const cell = orgs.sheet.getRow(2).getCell(nameCol);
    expect(cell.type).toBe(ExcelJS.ValueType.String);
    expect(cell.value).toBe('=HYPERLINK("http://x")');
    expect(cell.formula).toBeUndefined();
  });

  it('writes English headers and values for a reader whose language is English', async () => {
    await ok(call(ctx.app, exporter, 'PUT', '/api/auth/locale', { locale: 'en-US' }));
    try {
      const res = await call(ctx.app, exporter, 'GET', '/api/customers/export');
      expect(res.headers['content-disposition']).toContain("filename*=UTF-8''customers.csv");
      const rows = byHeader(rowsOf(res.body));
      expect(rowsOf(res.body)[0]!.slice(0, 3)).toEqual(['Code', 'Kind', 'Name']);
      expect(rows.find((r) => r['Name'] === '赵建国')).toMatchObject({
        Kind: 'Individual',
        Gender: 'Male',
        'Look after': 'Yes',
        Stars: '3 stars',
        Phones: '138****5678 (赵师傅 · 本人)',
      });
    } finally {
      await ok(call(ctx.app, exporter, 'PUT', '/api/auth/locale', { locale: 'zh-CN' }));
    }
  });

  it('refuses a reader without the export right and a format it does not know', async () => {
    const denied = await call(ctx.app, manager, 'GET', '/api/customers/export');
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('PERMISSION_DENIED');
    expect((await call(ctx.app, manager, 'GET', '/api/customers/export?format=xlsx')).statusCode).toBe(403);
    const bad = await call(ctx.app, admin, 'GET', '/api/customers/export?format=pdf');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toContain('format');
  });

  it('records each export in the audit log at the exporter’s unit, with its format', async () => {
    const before = (await ok(call(ctx.app, admin, 'GET', '/api/audit?entity=customer&action=export'))).total;
    expect((await call(ctx.app, exporter, 'GET', '/api/customers/export?format=xlsx')).statusCode).toBe(200);
    const after = await ok(call(ctx.app, admin, 'GET', '/api/audit?entity=customer&action=export'));
    expect(after.total).toBe(before + 1);
    expect(after.items[0]).toMatchObject({ actorName: 'daochu', orgUnitId: tree.branch1 });
    expect(JSON.parse(after.items[0].after)).toMatchObject({ format: 'xlsx', locale: 'zh-CN', rows: 2 });
  });
});
