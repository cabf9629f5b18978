// What an import accounts for: empty rows between the header and the last row of data are skipped and
// counted (a CSV's blank lines, a workbook's empty and missing rows), so good + rejected + flagged +
// skipped is every row below the header, on the page's figures, in the CLI's totals line and in the
// reports; the rows the transaction ingest refuses (a changed row under a serial number on file, a
// serial number twice in the file with other content, an unknown station) read in Chinese like the
// customer rows; rows whose card numbers a spreadsheet stored as numbers come back as one grouped line.
import { beforeAll, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session, type TestApp } from '../helpers/app.js';
import { buildTree, createUser, USER_PASSWORD, type Tree } from '../helpers/fixtures.js';
import { buildXlsx, inlineCell } from './build-xlsx.js';

interface Job {
  id: number;
  status: string;
  rowsTotal: number | null;
  rowsDone: number;
  rowsOk: number;
  rowsRejected: number;
  rowsFlagged: number;
  skippedCount: number;
  createdCount: number;
  updatedCount: number;
  unchangedCount: number;
}
interface Problem {
  row: number;
  field: string | null;
  fieldLabel: string;
  code: string;
  message: string;
}
interface Summaries {
  totals: string | null;
  grouped: string[];
}

async function upload(app: TestApp, s: Session, fileName: string, orgUnitId: number, content: Buffer) {
  const res = await app.inject({
    method: 'POST',
    url: `/api/imports?fileName=${encodeURIComponent(fileName)}&orgUnitId=${orgUnitId}`,
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/octet-stream' },
    payload: content,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as Job;
}

async function waitDone(app: TestApp, s: Session, id: number): Promise<Job> {
  for (let i = 0; i < 400; i++) {
    const job = await ok<Job>(call(app, s, 'GET', `/api/imports/${id}`));
    if (job.status === 'done' || job.status === 'failed') return job;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`import ${id} did not finish`);
}

/** Upload, map as suggested, dry-run; then commit when asked. */
async function run(app: TestApp, s: Session, fileName: string, kind: string, unit: number, content: Buffer) {
  const job = await upload(app, s, fileName, unit, content);
  const inspected = await ok<{ suggested: Record<string, string> }>(
    call(app, s, 'POST', `/api/imports/${job.id}/inspect`, { kind }),
  );
  await ok(call(app, s, 'PUT', `/api/imports/${job.id}/mapping`, { kind, mapping: inspected.suggested }));
  const dry = await ok<{ job: Job; problems: Problem[] }>(call(app, s, 'POST', `/api/imports/${job.id}/dry-run`));
  const dryLines = await ok<Summaries>(call(app, s, 'GET', `/api/imports/${job.id}/summaries?phase=dry_run`));
  const dryReport = (await call(app, s, 'GET', `/api/imports/${job.id}/report.csv?phase=dry_run`)).body;
  const commit = async () => {
    await ok(call(app, s, 'POST', `/api/imports/${job.id}/commit`), 202);
    const done = await waitDone(app, s, job.id);
    const lines = await ok<Summaries>(call(app, s, 'GET', `/api/imports/${job.id}/summaries?phase=commit`));
    const problems = await ok<Problem[]>(call(app, s, 'GET', `/api/imports/${job.id}/problems?phase=commit`));
    const report = (await call(app, s, 'GET', `/api/imports/${job.id}/report.csv?phase=commit`)).body;
    return { done, lines, problems, report };
  };
  return { id: job.id, dry: dry.job, dryProblems: dry.problems, dryLines, dryReport, commit };
}

/** Every row below the header is one of these, whatever the kind. */
const rowsAccounted = (j: Job) => j.rowsOk + j.rowsRejected + j.rowsFlagged + j.skippedCount;

const CUSTOMER_HEADER = '姓名,电话,车牌号';

describeEngines('import totals and ingest problems', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
  });

  it('counts the empty rows of a CSV as skipped, so the figures add up to the rows below the header', async () => {
    // Rows 2–10 below the header: 3 and 6–7 empty (one with separators only), 8 rejected, a trailing blank line.
    const csv = [
      CUSTOMER_HEADER,
      '周一,13811110001,冀A10001',
      '',
      '周二,13811110002,冀A10002',
      '周三,13811110003,冀A10003',
      ',,',
      '   ',
      '周四,12345,冀A10004',
      '周五,13811110005,冀A10005',
      '',
      '',
    ].join('\r\n');
    const r = await run(ctx.app, admin, '空行.csv', 'customers', tree.station1, Buffer.from(`\uFEFF${csv}`));
    expect(r.dry).toMatchObject({ status: 'checked', rowsOk: 4, rowsRejected: 1, skippedCount: 3, rowsTotal: 8 });
    expect(rowsAccounted(r.dry)).toBe(r.dry.rowsTotal);
    expect(r.dry.createdCount + r.dry.updatedCount + r.dry.unchangedCount).toBe(r.dry.rowsOk);
    expect(r.dryLines.totals).toBe(
      '共 8 行（不含表头）：可导入 4，有错误 1，疑似重复 0，跳过空行 3；可导入的行：新建 4，补充 0，无变化 0',
    );
    // The report says the same line before the rows.
    expect(r.dryReport).toContain(`,汇总,,${r.dryLines.totals}`);

    const c = await r.commit();
    expect(c.done).toMatchObject({ status: 'done', rowsOk: 4, rowsRejected: 1, skippedCount: 3, createdCount: 4 });
    expect(c.done.rowsDone).toBe(8);
    expect(rowsAccounted(c.done)).toBe(c.done.rowsTotal);
    expect(c.lines.totals).toContain('跳过空行 3');
    expect(c.report).toContain('跳过空行 3');
    // The dry run's report no longer has figures of its own: the job's are the commit's.
    const dry = await ok<Summaries>(call(ctx.app, admin, 'GET', `/api/imports/${r.id}/summaries?phase=dry_run`));
    expect(dry.totals).toBeNull();

    // Again: every good row is on file and unchanged; the empty rows are still counted.
    const again = await run(ctx.app, admin, '空行.csv', 'customers', tree.station1, Buffer.from(`\uFEFF${csv}`));
    expect(again.dry).toMatchObject({ unchangedCount: 4, createdCount: 0, skippedCount: 3, rowsTotal: 8 });
  });

  it('counts a workbook’s empty rows and the rows it leaves out, not those after the last row of data', async () => {
    const cells = (r: number, vals: string[]) =>
      `<row r="${r}">${vals.map((v, i) => inlineCell(`${String.fromCharCode(65 + i)}${r}`, v)).join('')}</row>`;
    // Row 3 is written with empty cells, row 5 is left out (as LibreOffice does), rows 7–8 after the data are empty.
    const xlsx = await buildXlsx({
      rows: [
        cells(1, ['姓名', '电话', '车牌号']),
        cells(2, ['吴一', '13822220001', '冀B10001']),
        `<row r="3"><c r="A3"/><c r="B3" t="inlineStr"><is><t> </t></is></c></row>`,
        cells(4, ['吴二', '13822220002', '冀B10002']),
        cells(6, ['吴三', '13822220003', '冀B10003']),
        '<row r="7"/>',
        `<row r="8"><c r="A8"/></row>`,
      ],
    });
    const r = await run(ctx.app, admin, '空行.xlsx', 'customers', tree.station2, xlsx);
    expect(r.dry).toMatchObject({ status: 'checked', rowsOk: 3, rowsRejected: 0, skippedCount: 2, rowsTotal: 5 });
    const c = await r.commit();
    expect(c.done).toMatchObject({ status: 'done', rowsOk: 3, skippedCount: 2, rowsTotal: 5, createdCount: 3 });
    expect(rowsAccounted(c.done)).toBe(5);
    expect(c.lines.totals).toContain('跳过空行 2');

    // An ExcelJS workbook (what a script writes) with a gap of two rows.
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('客户');
    ws.getRow(1).values = ['姓名', '电话', '车牌号'];
    ws.getRow(2).values = ['郑一', '13833330001', '冀C10001'];
    ws.getRow(5).values = ['郑二', '13833330002', '冀C10002'];
    const book = Buffer.from(await wb.xlsx.writeBuffer());
    const r2 = await run(ctx.app, admin, '客户.xlsx', 'customers', tree.station2, book);
    expect(r2.dry).toMatchObject({ rowsOk: 2, skippedCount: 2, rowsTotal: 4 });
  });

  it('words what the transaction ingest refuses in Chinese, on the page and in the reports', async () => {
    const header = '交易时间,流水号,油站编码,车牌号,油品,数量(升),金额(元)';
    const first = [header, '2026-11-20 08:00,T-1,,冀A10001,92#,40,300', '2026-11-20 09:00,T-2,,冀A10002,92#,30,225'];
    const one = await run(ctx.app, admin, '流水.csv', 'transactions', tree.station1, Buffer.from(first.join('\n')));
    expect((await one.commit()).done).toMatchObject({ status: 'done', createdCount: 2, rowsRejected: 0 });

    // T-2 changed on file; T-3 twice with another volume; a station code that is no station.
    const second = [
      header,
      '2026-11-20 09:00,T-2,,冀A10002,92#,30,250',
      '2026-11-21 08:00,T-3,,冀A10003,95#,20,160',
      '2026-11-21 08:00,T-3,,冀A10003,95#,25,160',
      '2026-11-21 10:00,T-4,NO-SUCH,冀A10004,92#,10,75',
      '',
      '2026-11-21 11:00,T-5,,冀A10005,92#,10,75',
    ];
    const two = await run(ctx.app, admin, '流水2.csv', 'transactions', tree.station1, Buffer.from(second.join('\n')));
    // The dry run finds what the file says against itself: the repeat and the unknown station.
    const dryByRow = Object.fromEntries(two.dryProblems.map((p) => [p.row, p]));
    expect(dryByRow[4]).toMatchObject({ code: 'CONFLICT', fieldLabel: '数量（升）' });
    expect(dryByRow[4]!.message).toBe(
      '流水号“T-3”重复：本文件第 3 行已有这个流水号，但数量（升）不同。改动过的交易请使用新的流水号',
    );
    expect(dryByRow[5]).toMatchObject({ code: 'STATION_UNKNOWN', message: '站点编码“NO-SUCH”没有对应的油站' });

    const c = await two.commit();
    expect(c.done).toMatchObject({ status: 'done', createdCount: 2, rowsRejected: 3, skippedCount: 1, rowsTotal: 6 });
    expect(c.done.createdCount + c.done.unchangedCount + c.done.rowsRejected + c.done.skippedCount).toBe(6);
    const byRow = Object.fromEntries(c.problems.map((p) => [p.row, p]));
    expect(byRow[2]).toMatchObject({ code: 'CONFLICT', fieldLabel: '金额' });
    expect(byRow[2]!.message).toBe(
      '流水号“T-2”重复：已入库的交易有这个流水号，但金额不同。改动过的交易请使用新的流水号',
    );
    for (const p of c.problems) expect(p.message, p.message).not.toMatch(/externalId|amountFen|volumeMl|station/);
    // The report: Chinese reasons, nothing of the ingest's English.
    expect(c.report).toContain('已入库的交易有这个流水号');
    expect(c.report).toContain('跳过空行 1');
    const reasons = c.report
      .slice(1)
      .trim()
      .split('\r\n')
      .slice(1)
      .map((l) => l.split(',')[3] ?? '');
    for (const reason of reasons) expect(reason.replace(/T-\d|NO-SUCH/g, ''), reason).not.toMatch(/[A-Za-z]{3,}/);

    // In English for a reader of English.
    const id = await createUser(ctx.app, admin, 'en_tx_importer', tree.branch1, ['branch_customer_admin']);
    const user = await ok<{ version: number }>(call(ctx.app, admin, 'GET', `/api/users/${id}`));
    await ok(call(ctx.app, admin, 'PATCH', `/api/users/${id}`, { locale: 'en-US', version: user.version }));
    const en = await login(ctx.app, 'en_tx_importer', USER_PASSWORD);
    const enProblems = await ok<Problem[]>(call(ctx.app, en, 'GET', `/api/imports/${two.id}/problems?phase=commit`));
    expect(enProblems.find((p) => p.row === 2)!.message).toBe(
      'serial number "T-2" repeated: a sale on file has it with another Amount; a changed sale needs a new serial number',
    );
    const enLines = await ok<Summaries>(call(ctx.app, en, 'GET', `/api/imports/${two.id}/summaries?phase=commit`));
    expect(enLines.totals).toContain('1 empty rows skipped');
  });

  it('words a top-up refused under a serial number on file in Chinese', async () => {
    const header = '充值时间,充值流水号,加油卡号,充值金额,赠送金额';
    const a = [header, '2026-11-20 08:00,C-1,1000113200000001,500,0'];
    const one = await run(ctx.app, admin, '充值.csv', 'topups', tree.station1, Buffer.from(a.join('\n')));
    expect((await one.commit()).done).toMatchObject({ status: 'done', createdCount: 1 });
    const b = [header, '2026-11-20 08:00,C-1,1000113200000001,800,0'];
    const two = await run(ctx.app, admin, '充值2.csv', 'topups', tree.station1, Buffer.from(b.join('\n')));
    const c = await two.commit();
    expect(c.done).toMatchObject({ rowsRejected: 1 });
    expect(c.problems[0]).toMatchObject({ code: 'CONFLICT' });
    expect(c.problems[0]!.message).toMatch(
      /^流水号“C-1”重复：已入库的充值有这个流水号，但.+不同。改动过的充值请使用新的流水号$/,
    );
  });

  it('groups the card numbers a spreadsheet stored as numbers into one line, for the page as for the report', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('客户');
    ws.addRow(['姓名', '车牌号', '卡号']);
    ws.addRow(['冯一', '冀D10001', 1000113200000002123]);
    ws.addRow(['冯二', '冀D10002', '1000113200000003']);
    ws.addRow(['冯三', '冀D10003', 1000113200000004123]);
    const r = await run(
      ctx.app,
      admin,
      '卡.xlsx',
      'customers',
      tree.station1,
      Buffer.from(await wb.xlsx.writeBuffer()),
    );
    expect(r.dryLines.grouped).toEqual([
      '第 2、4 行（共 2 行）卡号被表格存成了数字，丢失了末几位：请把该列设为文本格式后重新导出',
    ]);
    const id = await createUser(ctx.app, admin, 'en_card_importer', tree.branch1, ['branch_customer_admin']);
    const user = await ok<{ version: number }>(call(ctx.app, admin, 'GET', `/api/users/${id}`));
    await ok(call(ctx.app, admin, 'PATCH', `/api/users/${id}`, { locale: 'en-US', version: user.version }));
    const en = await login(ctx.app, 'en_card_importer', USER_PASSWORD);
    const enLines = await ok<Summaries>(call(ctx.app, en, 'GET', `/api/imports/${r.id}/summaries?phase=dry_run`));
    expect(enLines.grouped[0]).toMatch(
      /^Rows 2, 4 \(2 in all\): Card number was stored by the spreadsheet as a number/,
    );
    // Outside the importer's subtree the lines are not given.
    await createUser(ctx.app, admin, 'far_totals', tree.branch2, ['branch_customer_admin']);
    const far = await login(ctx.app, 'far_totals', USER_PASSWORD);
    expect((await call(ctx.app, far, 'GET', `/api/imports/${r.id}/summaries?phase=dry_run`)).statusCode).toBe(403);
  });
});
