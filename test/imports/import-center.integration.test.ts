// The import center over HTTP with files made the way users make them (test/imports/fixtures):
// an XLSX saved by LibreOffice Calc (three sheets, date cells, a formula), a GBK CSV as Excel on a
// Chinese Windows saves it, a UTF-8 CSV with BOM and a quoted multi-line cell. Messy plates and
// phones, duplicates inside the file, bad rows reported by row and field while the rest land, and
// re-imports that change nothing.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session, type TestApp } from '../helpers/app.js';
import { buildTree, createUser, USER_PASSWORD, type Tree } from '../helpers/fixtures.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

interface Job {
  id: number;
  status: string;
  rowsTotal: number | null;
  rowsDone: number;
  rowsOk: number;
  rowsRejected: number;
  rowsFlagged: number;
  createdCount: number;
  updatedCount: number;
  unchangedCount: number;
}
interface Problem {
  row: number;
  severity: string;
  field: string | null;
  message: string;
}

async function upload(app: TestApp, s: Session, file: string, orgUnitId: number, content?: Buffer): Promise<Job> {
  const res = await app.inject({
    method: 'POST',
    url: `/api/imports?fileName=${encodeURIComponent(file)}&orgUnitId=${orgUnitId}`,
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/octet-stream' },
    payload: content ?? fs.readFileSync(path.join(FIXTURES, file)),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function waitDone(app: TestApp, s: Session, id: number): Promise<Job> {
  for (let i = 0; i < 400; i++) {
    const job = await ok<Job>(call(app, s, 'GET', `/api/imports/${id}`));
    if (job.status === 'done' || job.status === 'failed') return job;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`import ${id} did not finish`);
}

/** Upload → inspect → map (as suggested) → dry run → commit, as the web page does. */
async function importFile(
  app: TestApp,
  s: Session,
  file: string,
  kind: string,
  orgUnitId: number,
  sheet?: string,
  content?: Buffer,
) {
  const job = await upload(app, s, file, orgUnitId, content);
  const inspected = await ok<{
    sheets: string[];
    headers: string[];
    suggested: Record<string, string>;
    sample: string[][];
  }>(call(app, s, 'POST', `/api/imports/${job.id}/inspect`, { kind, ...(sheet && { sheet }) }));
  await ok(
    call(app, s, 'PUT', `/api/imports/${job.id}/mapping`, {
      kind,
      mapping: inspected.suggested,
      ...(sheet && { sheet }),
    }),
  );
  const dry = await ok<{ job: Job; problems: Problem[] }>(call(app, s, 'POST', `/api/imports/${job.id}/dry-run`));
  const counted = { customers: await customerCount(app, s) };
  await ok(call(app, s, 'POST', `/api/imports/${job.id}/commit`), 202);
  const done = await waitDone(app, s, job.id);
  const problems = await ok<Problem[]>(call(app, s, 'GET', `/api/imports/${job.id}/problems?phase=commit`));
  return { inspected, dry, done, problems, before: counted };
}

async function customerCount(app: TestApp, s: Session): Promise<number> {
  return (await ok<{ total: number }>(call(app, s, 'GET', '/api/customers?pageSize=1'))).total;
}

async function findCustomer(app: TestApp, s: Session, q: string) {
  const list = await ok<{ items: { id: number }[] }>(call(app, s, 'GET', `/api/customers?q=${encodeURIComponent(q)}`));
  expect(list.items.length, q).toBe(1);
  return ok<Record<string, any>>(call(app, s, 'GET', `/api/customers/${list.items[0]!.id}`));
}

const byRow = (problems: Problem[]) => {
  const m = new Map<number, string[]>();
  for (const p of problems) m.set(p.row, [...(m.get(p.row) ?? []), p.field ?? '']);
  return Object.fromEntries([...m].map(([row, fields]) => [row, fields.sort()]));
};

describeEngines('import center', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
  });

  it('reads a LibreOffice workbook: sheets, Chinese headers, date cells; bad rows reported, the rest land once', async () => {
    const r = await importFile(ctx.app, admin, 'archive-libreoffice.xlsx', 'customers', tree.station1, '客户档案');
    expect(r.inspected.sheets).toEqual(['说明', '客户档案', '交易']);
    expect(r.inspected.suggested).toEqual({
      客户名称: 'name',
      联系人: 'contactName',
      手机: 'phone',
      车牌号: 'plate',
      车型: 'model',
      加油卡号: 'cardNo',
      生日: 'birthday',
      备注: 'notes',
    });
    // A date cell is shown as the date it is.
    expect(r.inspected.sample[0]![6]).toBe('1975-03-08');

    // The dry run finds every problem and writes nothing.
    expect(byRow(r.dry.problems)).toEqual({ 6: ['birthday', 'phone'], 7: ['plate'] });
    // Six rows below the header: the header is not counted.
    expect(r.dry.job).toMatchObject({ status: 'checked', rowsTotal: 6, rowsOk: 4, rowsRejected: 2 });
    expect(r.before.customers).toBe(0);

    // Row 5 is row 2 again (the same plate written another way): one customer, filled in.
    expect(r.done).toMatchObject({ status: 'done', rowsOk: 4, rowsRejected: 2, createdCount: 3 });
    expect(byRow(r.problems)).toEqual({ 6: ['birthday', 'phone'], 7: ['plate'] });
    expect(await customerCount(ctx.app, admin)).toBe(3);

    const zhao = await findCustomer(ctx.app, admin, '赵建国');
    expect(zhao.vehicles.map((v: { plate: string }) => v.plate)).toEqual(['冀A12345']);
    expect(zhao.phones.map((p: { phone: string }) => p.phone)).toEqual(['13800138000']);
    expect(zhao.cards.map((c: { cardNo: string }) => c.cardNo)).toEqual(['1000113200000001']);
    expect(zhao.birthday).toBe('1975-03-08');
    // A text cell that looks like a formula is kept as text.
    expect(zhao.notes).toBe('=1+1');
    const qian = await findCustomer(ctx.app, admin, '钱师傅');
    expect(qian.vehicles[0].plate).toBe('京A12345');
    expect(qian.phones[0].phone).toBe('13900139001'); // a number cell
    expect(qian.birthday).toBe('1980-12-31');
    const org = await findCustomer(ctx.app, admin, '顺达物流');
    expect(org.phones[0].phone).toBe('0311-88886666');
    expect(org.vehicles[0].plate).toBe('冀AD12345');
  });

  it('imports the same workbook again without changing anything', async () => {
    const before = await customerCount(ctx.app, admin);
    const r = await importFile(ctx.app, admin, 'archive-libreoffice.xlsx', 'customers', tree.station1, '客户档案');
    // Nothing is filled in: every good row matched a customer and brings nothing he lacks.
    expect(r.dry.job).toMatchObject({
      status: 'checked',
      createdCount: 0,
      updatedCount: 0,
      unchangedCount: 4,
      rowsOk: 4,
    });
    expect(r.done).toMatchObject({
      status: 'done',
      createdCount: 0,
      updatedCount: 0,
      unchangedCount: 4,
      rowsOk: 4,
      rowsTotal: 6,
      rowsDone: 6,
    });
    expect(await customerCount(ctx.app, admin)).toBe(before);
    const zhao = await findCustomer(ctx.app, admin, '赵建国');
    expect(zhao.vehicles).toHaveLength(1);
    expect(zhao.phones).toHaveLength(1);
  });

  it('imports transactions from another sheet: station wall clock, card then plate, amount from the unit price', async () => {
    const r = await importFile(ctx.app, admin, 'archive-libreoffice.xlsx', 'transactions', tree.station1, '交易');
    expect(r.inspected.suggested).toEqual({
      交易时间: 'occurredAt',
      流水号: 'externalId',
      加油卡号: 'cardNo',
      车牌号: 'plate',
      油品: 'product',
      '数量(升)': 'volumeLitres',
      单价: 'unitPrice',
      '金额(元)': 'amount',
    });
    expect(byRow(r.dry.problems)).toEqual({ 4: ['occurredAt', 'volumeLitres'] });
    expect(r.dry.job).toMatchObject({ status: 'checked', rowsOk: 3, rowsRejected: 1 });
    expect(r.done).toMatchObject({ status: 'done', rowsOk: 3, rowsRejected: 1, createdCount: 3 });
    const rows = await ctx.db.kysely
      .selectFrom('fuel_transaction')
      .select(['external_id', 'occurred_at', 'business_day', 'customer_id', 'volume_ml', 'amount_fen', 'plate'])
      .orderBy('external_id')
      .execute();
    const zhao = await findCustomer(ctx.app, admin, '赵建国');
    const qian = await findCustomer(ctx.app, admin, '钱师傅');
    expect(
      rows.map((x) => ({
        ...x,
        customer_id: x.customer_id === null ? null : Number(x.customer_id),
        volume_ml: Number(x.volume_ml),
        amount_fen: Number(x.amount_fen),
      })),
    ).toEqual([
      // 07:45 at a station in Asia/Shanghai is 23:45 UTC the day before; the business day is the station's.
      {
        external_id: 'T0001',
        occurred_at: '2026-11-19T23:45:00.000Z',
        business_day: '2026-11-20',
        customer_id: zhao.id,
        volume_ml: 150_500,
        amount_fen: 108_360,
        plate: null,
      },
      {
        external_id: 'T0002',
        occurred_at: '2026-11-21T15:30:00.000Z',
        business_day: '2026-11-21',
        customer_id: qian.id,
        volume_ml: 40_000,
        amount_fen: 30_000,
        plate: '京A12345',
      },
      {
        external_id: 'T0004',
        occurred_at: '2026-11-22T01:00:00.000Z',
        business_day: '2026-11-22',
        customer_id: null,
        volume_ml: 30_000,
        amount_fen: 24_000,
        plate: '冀C55555',
      },
    ]);
    const month = await ctx.db.kysely
      .selectFrom('customer_month')
      .selectAll()
      .where('customer_id', '=', zhao.id)
      .execute();
    expect(month.map((m) => ({ month: m.month, product: m.product, volume: Number(m.volume_ml) }))).toEqual([
      { month: '2026-11', product: '0#柴油', volume: 150_500 },
    ]);

    // Again: every row is on file.
    const again = await importFile(ctx.app, admin, 'archive-libreoffice.xlsx', 'transactions', tree.station1, '交易');
    expect(again.done).toMatchObject({
      status: 'done',
      createdCount: 0,
      unchangedCount: 3,
      rowsOk: 3,
      rowsRejected: 1,
    });
    expect(
      Number(
        (
          await ctx.db.kysely
            .selectFrom('fuel_transaction')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
    ).toBe(3);
  });

  it('counts rows the ingest refuses (a station outside the unit) once, in the dry run as in the commit', async () => {
    const csv = [
      '交易时间,流水号,站点编码,车牌号,油品,数量(升),金额(元)',
      '2026-11-20 08:00,U0001,B1-A1-S1,冀A77777,92#汽油,30,240',
      '2026-11-20 09:00,U0002,NO-SUCH,冀A77777,92#汽油,30,240',
      '2026-11-20 10:00,U0003,B1-A1-S1,冀A77777,92#汽油,30,240',
    ].join('\n');
    const r = await importFile(
      ctx.app,
      admin,
      'station-rows.csv',
      'transactions',
      tree.hq,
      undefined,
      Buffer.from(csv, 'utf8'),
    );
    expect(byRow(r.dry.problems)).toEqual({ 3: ['stationCode'] });
    expect(r.dry.job).toMatchObject({ status: 'checked', rowsOk: 2, rowsRejected: 1 });
    expect(r.done).toMatchObject({ status: 'done', rowsOk: 2, rowsRejected: 1, createdCount: 2 });
  });

  it('detects GBK, reads customer kinds in Chinese and merges the same phone within the file', async () => {
    const before = await customerCount(ctx.app, admin);
    const r = await importFile(ctx.app, admin, 'archive-gbk.csv', 'customers', tree.station2);
    expect(r.inspected.headers).toEqual(['客户名称', '手机', '车牌号', '车型', '加油卡号', '客户类型', '备注']);
    expect(r.inspected.suggested.客户类型).toBe('kind');
    expect(byRow(r.problems)).toEqual({ 5: ['phone'], 6: ['kind'] });
    expect(r.done).toMatchObject({ status: 'done', rowsOk: 4, rowsRejected: 2, createdCount: 3 });
    expect(await customerCount(ctx.app, admin)).toBe(before + 3);
    const wang = await findCustomer(ctx.app, admin, '王强');
    expect(wang.vehicles[0].plate).toBe('冀E54321');
    expect(wang.phones.map((p: { phone: string }) => p.phone)).toEqual(['13900139002']);
    const company = await findCustomer(ctx.app, admin, '邢台宏远运输公司');
    expect(company.kind).toBe('organisation');
    expect(company.notes).toBe('大客户,月结');
  });

  it('reads a UTF-8 file with BOM and a multi-line cell, and saves the mapping as a profile', async () => {
    const job = await upload(ctx.app, admin, 'archive-bom.csv', tree.station2);
    const inspected = await ok<{ headers: string[]; suggested: Record<string, string> }>(
      call(ctx.app, admin, 'POST', `/api/imports/${job.id}/inspect`, { kind: 'customers' }),
    );
    expect(inspected.headers[0]).toBe('姓名');
    expect(inspected.suggested).toEqual({ 姓名: 'name', 电话: 'phone', 车牌: 'plate', 备注: 'notes' });
    await ok(
      call(ctx.app, admin, 'PUT', `/api/imports/${job.id}/mapping`, {
        kind: 'customers',
        mapping: inspected.suggested,
        saveAs: '老系统导出',
      }),
    );
    const profiles = await ok<{ name: string; columns: Record<string, string> }[]>(
      call(ctx.app, admin, 'GET', '/api/import-profiles?kind=customers'),
    );
    expect(profiles).toEqual([expect.objectContaining({ name: '老系统导出', columns: inspected.suggested })]);
    await ok(call(ctx.app, admin, 'POST', `/api/imports/${job.id}/dry-run`));
    await ok(call(ctx.app, admin, 'POST', `/api/imports/${job.id}/commit`), 202);
    expect(await waitDone(ctx.app, admin, job.id)).toMatchObject({
      status: 'done',
      createdCount: 3,
      rowsRejected: 0,
      rowsTotal: 3,
    });
    const shen = await findCustomer(ctx.app, admin, '沈十');
    expect(shen.notes).toBe('多行\n备注');
    expect(shen.vehicles[0].plate).toBe('豫A23456');
  });

  it('gives the error report as CSV and as XLSX whose cells are all text', async () => {
    const job = await upload(ctx.app, admin, 'archive-gbk.csv', tree.station2);
    await ok(
      call(ctx.app, admin, 'PUT', `/api/imports/${job.id}/mapping`, {
        kind: 'customers',
        mapping: { 客户名称: 'name', 手机: 'phone', 车牌号: 'plate', 客户类型: 'kind', 备注: 'notes' },
      }),
    );
    await ok(call(ctx.app, admin, 'POST', `/api/imports/${job.id}/dry-run`));
    const csv = await call(ctx.app, admin, 'GET', `/api/imports/${job.id}/report.csv?phase=dry_run`);
    expect(csv.statusCode).toBe(200);
    expect(csv.body.charCodeAt(0)).toBe(0xfeff);
    const lines = csv.body.slice(1).trim().split('\r\n');
    expect(lines).toHaveLength(4);
    // Headed by the file's own headers; the rows accounted for; reasons in Chinese, fields by their labels.
    expect(lines[0]).toMatch(/^行号,处理,字段,原因,.*客户名称.*手机/);
    expect(lines[0]).not.toContain('原始列');
    expect(lines[1]).toMatch(/^,汇总,,共 \d+ 行（不含表头）：可导入 \d+，有错误 2，疑似重复 0，跳过空行 0；/);
    expect(lines[2]).toMatch(/^5,拒绝,电话,电话“.*”不是有效的手机或固定电话号码,.*冯六/);
    expect(lines[3]).toMatch(/^6,拒绝,客户类型,客户类型“外星人”无法识别.*外星人/);
    // The rejected row's formula-looking cell comes back as text, not as a formula.
    expect(lines[3]).toContain(`"'=HYPERLINK(`);
    expect(csv.body).not.toMatch(/(^|,)"?=/m);

    const xlsx = await ctx.app.inject({
      method: 'GET',
      url: `/api/imports/${job.id}/report.xlsx?phase=dry_run`,
      headers: { cookie: admin.cookie },
    });
    expect(xlsx.statusCode).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    expect(ws.rowCount).toBe(4);
    ws.eachRow((row) => row.eachCell((cell) => expect(typeof cell.value).toBe('string')));
    expect(ws.getRow(3).getCell(1).value).toBe('5');
  });

  it('refuses a file named .xlsx that is not a workbook and an import into another branch', async () => {
    const bad = await ctx.app.inject({
      method: 'POST',
      url: `/api/imports?fileName=x.xlsx&orgUnitId=${tree.station1}`,
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'application/octet-stream' },
      payload: 'a,b\n1,2\n',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe('fileName');

    await createUser(ctx.app, admin, 'other_admin', tree.branch2, ['branch_customer_admin']);
    const other = await login(ctx.app, 'other_admin', USER_PASSWORD);
    const into = await ctx.app.inject({
      method: 'POST',
      url: `/api/imports?fileName=a.csv&orgUnitId=${tree.station1}`,
      headers: { cookie: other.cookie, 'x-csrf-token': other.csrf, 'content-type': 'application/octet-stream' },
      payload: '姓名\n张三\n',
    });
    expect(into.statusCode).toBe(403);
    expect(into.json().error.code).toBe('SCOPE_DENIED');
    const mine = await upload(ctx.app, admin, 'archive-bom.csv', tree.station1);
    const look = await call(ctx.app, other, 'GET', `/api/imports/${mine.id}`);
    expect(look.statusCode).toBe(403);
    const list = await ok<{ items: { id: number }[] }>(call(ctx.app, other, 'GET', '/api/imports'));
    expect(list.items.map((j) => j.id)).not.toContain(mine.id);
  });
});
