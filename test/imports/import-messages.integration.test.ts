// What the import center says about bad rows, in the user's language: every bad field of a row, the
// field by the app's own label, card numbers a spreadsheet stored as numbers grouped into one line
// with the fix, reports headed by the file's own headers; the app's own labels map to their fields.
import { beforeAll, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session, type TestApp } from '../helpers/app.js';
import { buildTree, createUser, USER_PASSWORD, type Tree } from '../helpers/fixtures.js';

interface Problem {
  row: number;
  field: string | null;
  fieldLabel: string;
  code: string;
  message: string;
}

const HEADERS = ['姓名', '电话', '车牌号', '卡号', '生日', '常跑线路'];

/** A roster as a spreadsheet holds it: rows 4–6 have card numbers typed as numbers (19 digits, digits lost). */
async function roster(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('客户');
  ws.addRow(HEADERS);
  ws.addRow(['张三', '13800138000', '冀A12345', '1000113200000001', '1980-01-02', '石家庄—天津']);
  ws.addRow(['李四', '12345', '不是车牌', null, '1899-13-45', null]);
  ws.addRow(['王五', '13900139001', '冀A22345', 1000113200000002123, null, null]);
  ws.addRow(['赵六', '13900139002', '冀A32345', 1000113200000003123, null, null]);
  ws.addRow(['钱七', '13900139003', '冀A42345', 1000113200000004123, null, null]);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

async function upload(app: TestApp, s: Session, orgUnitId: number, content: Buffer): Promise<{ id: number }> {
  const res = await app.inject({
    method: 'POST',
    url: `/api/imports?fileName=${encodeURIComponent('花名册.xlsx')}&orgUnitId=${orgUnitId}`,
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/octet-stream' },
    payload: content,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const byRow = (problems: Problem[]) => {
  const m = new Map<number, string[]>();
  for (const p of problems) m.set(p.row, [...(m.get(p.row) ?? []), p.field ?? '']);
  return Object.fromEntries([...m].map(([row, fields]) => [row, fields.sort()]));
};

describeEngines('import messages', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  let jobId: number;

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    const job = await upload(ctx.app, admin, tree.station1, await roster());
    jobId = job.id;
    const inspected = await ok<{ suggested: Record<string, string> }>(
      call(ctx.app, admin, 'POST', `/api/imports/${job.id}/inspect`, { kind: 'customers' }),
    );
    // 常跑线路 is the app's own label of the routes field.
    expect(inspected.suggested).toEqual({
      姓名: 'name',
      电话: 'phone',
      车牌号: 'plate',
      卡号: 'cardNo',
      生日: 'birthday',
      常跑线路: 'routes',
    });
    await ok(
      call(ctx.app, admin, 'PUT', `/api/imports/${job.id}/mapping`, {
        kind: 'customers',
        mapping: inspected.suggested,
      }),
    );
    await ok(call(ctx.app, admin, 'POST', `/api/imports/${job.id}/dry-run`));
  });

  it('reports every bad field of a row, in Chinese, with the field by its label', async () => {
    const problems = await ok<Problem[]>(call(ctx.app, admin, 'GET', `/api/imports/${jobId}/problems?phase=dry_run`));
    expect(byRow(problems)).toEqual({ 3: ['birthday', 'phone', 'plate'], 4: ['cardNo'], 5: ['cardNo'], 6: ['cardNo'] });
    const row3 = Object.fromEntries(problems.filter((p) => p.row === 3).map((p) => [p.field, p]));
    expect(row3.phone).toMatchObject({
      fieldLabel: '电话',
      code: 'BAD_PHONE',
      message: '电话“12345”不是有效的手机或固定电话号码',
    });
    expect(row3.plate).toMatchObject({
      fieldLabel: '车牌号',
      code: 'BAD_PLATE',
      message: '车牌号“不是车牌”不是有效的车牌号',
    });
    expect(row3.birthday).toMatchObject({ fieldLabel: '生日', code: 'NOT_DATE' });
    const card = problems.find((p) => p.row === 4)!;
    expect(card).toMatchObject({ fieldLabel: '卡号', code: 'LOST_DIGITS' });
    expect(card.message).toContain('被表格存成了数字，丢失了末几位：请把该列设为文本格式后重新导出');
    // No English word in any message (the values quoted are the file's own).
    for (const p of problems) expect(p.message, p.message).not.toMatch(/\b(?!e\b)[A-Za-z]{2,}\b/);
  });

  it('gives both reports headed by the file’s headers, with the card rows grouped into one line', async () => {
    const csv = await call(ctx.app, admin, 'GET', `/api/imports/${jobId}/report.csv?phase=dry_run`);
    expect(csv.statusCode).toBe(200);
    const lines = csv.body.slice(1).trim().split('\r\n');
    expect(lines[0]).toBe(['行号', '处理', '字段', '原因', ...HEADERS].join(','));
    // The rows accounted for, then the grouped line.
    expect(lines[1]).toMatch(/^,汇总,,共 5 行（不含表头）：可导入 1，有错误 4，疑似重复 0，跳过空行 0；/);
    expect(lines[2]).toBe(
      ',汇总,,第 4、5、6 行（共 3 行）卡号被表格存成了数字，丢失了末几位：请把该列设为文本格式后重新导出',
    );
    expect(csv.body).not.toMatch(/cardNo|birthday|原始列/);
    expect(lines.filter((l) => l.startsWith('3,拒绝,'))).toHaveLength(3);

    const xlsx = await ctx.app.inject({
      method: 'GET',
      url: `/api/imports/${jobId}/report.xlsx?phase=dry_run`,
      headers: { cookie: admin.cookie },
    });
    expect(xlsx.statusCode).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    expect((ws.getRow(1).values as unknown[]).slice(1)).toEqual(['行号', '处理', '字段', '原因', ...HEADERS]);
    expect(String(ws.getRow(3).getCell(4).value)).toMatch(/^第 4、5、6 行（共 3 行）卡号/);
    const fields = new Set<string>();
    ws.eachRow((row, i) => i > 3 && fields.add(String(row.getCell(3).value)));
    expect([...fields].sort()).toEqual(['卡号', '生日', '电话', '车牌号'].sort());
  });

  it('words the problems in English for a user who reads English, and keeps them from other branches', async () => {
    const id = await createUser(ctx.app, admin, 'en_importer', tree.branch1, ['branch_customer_admin']);
    const user = await ok<{ version: number }>(call(ctx.app, admin, 'GET', `/api/users/${id}`));
    await ok(call(ctx.app, admin, 'PATCH', `/api/users/${id}`, { locale: 'en-US', version: user.version }));
    const en = await login(ctx.app, 'en_importer', USER_PASSWORD);
    const problems = await ok<Problem[]>(call(ctx.app, en, 'GET', `/api/imports/${jobId}/problems?phase=dry_run`));
    const phone = problems.find((p) => p.row === 3 && p.field === 'phone')!;
    expect(phone).toMatchObject({ fieldLabel: 'Phone', message: 'Phone "12345" is not a mobile or landline number' });
    const csv = await call(ctx.app, en, 'GET', `/api/imports/${jobId}/report.csv?phase=dry_run`);
    expect(csv.body).toContain('Rows 4, 5, 6 (3 in all): Card number was stored by the spreadsheet as a number');

    await createUser(ctx.app, admin, 'far_importer', tree.branch2, ['branch_customer_admin']);
    const far = await login(ctx.app, 'far_importer', USER_PASSWORD);
    expect((await call(ctx.app, far, 'GET', `/api/imports/${jobId}/problems?phase=dry_run`)).statusCode).toBe(403);
    expect((await call(ctx.app, far, 'GET', `/api/imports/${jobId}/report.csv?phase=dry_run`)).statusCode).toBe(403);
  });

  it('stores the routes of 常跑线路 on commit', async () => {
    await ok(call(ctx.app, admin, 'POST', `/api/imports/${jobId}/commit`), 202);
    for (let i = 0; i < 400; i++) {
      const job = await ok<{ status: string }>(call(ctx.app, admin, 'GET', `/api/imports/${jobId}`));
      if (job.status === 'done') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const list = await ok<{ items: { id: number }[] }>(
      call(ctx.app, admin, 'GET', `/api/customers?q=${encodeURIComponent('张三')}`),
    );
    const c = await ok<{ routes: string | null }>(call(ctx.app, admin, 'GET', `/api/customers/${list.items[0]!.id}`));
    expect(c.routes).toBe('石家庄—天津');
  });
});
