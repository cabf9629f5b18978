// Hostile files, built in code: a workbook whose every row points at one huge shared string, one
// whose shared strings inflate far past their limit (and one whose zip lies about it), rows too
// wide, cells too long, too many rows, a broken zip. Each is refused with IMPORT_LIMIT_EXCEEDED (or
// VALIDATION_FAILED) naming the limit and its value, quickly, never a 500, and nothing of it is
// stored; problem rows that are stored keep an excerpt of their cells, not the cells.
import { beforeAll, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { describeEngines } from '../helpers/engines.js';
import { call, ok, setupAdmin, useTestApp, type Session, type TestApp } from '../helpers/app.js';
import { buildTree, type Tree } from '../helpers/fixtures.js';
import { buildXlsx, inlineCell, lieAboutSize, sharedCell, sharedRow, si } from './build-xlsx.js';
import type { ImportLimits } from '../../src/server/modules/imports/parse/limits.js';

const LIMITS: ImportLimits = { xlsxMb: 4, sharedStringsMb: 1, cellChars: 2_000, columns: 40, rows: 3_000 };
const HEADER = ['客户名称', '手机', '车牌号', '备注'];

interface Job {
  id: number;
  status: string;
  error: string | null;
  errorCode: string | null;
  errorDetails: Record<string, unknown> | null;
}

async function upload(
  app: TestApp,
  s: Session,
  fileName: string,
  orgUnitId: number,
  content: Buffer | string,
): Promise<Job> {
  const res = await app.inject({
    method: 'POST',
    url: `/api/imports?fileName=${encodeURIComponent(fileName)}&orgUnitId=${orgUnitId}`,
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/octet-stream' },
    payload: content,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** The refusal every hostile file must get: 422, the code, the limit by name and value. */
function expectLimit(
  res: LightMyRequestResponse,
  limit: keyof ImportLimits,
  extra: Record<string, unknown> = {},
): void {
  expect(res.statusCode, res.body).toBe(422);
  const { error } = res.json() as { error: { code: string; message: string; details: Record<string, unknown> } };
  expect(error.code).toBe('IMPORT_LIMIT_EXCEEDED');
  expect(error.details).toMatchObject({ limit, value: LIMITS[limit], ...extra });
  expect(error.message).toContain('exceeds an import limit');
}

/** A header of shared strings 0…3, as the sheets below start. */
const headerStrings = () => HEADER.map(si);
const headerRow = () => sharedRow(1, [0, 1, 2, 3]);

describeEngines('import limits', (engine) => {
  const ctx = useTestApp(engine, { importLimits: LIMITS });
  let admin: Session;
  let tree: Tree;

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
  });

  const inspect = (id: number) => call(ctx.app, admin, 'POST', `/api/imports/${id}/inspect`, { kind: 'customers' });
  const mapping = { 客户名称: 'name', 手机: 'phone', 车牌号: 'plate', 备注: 'notes' };
  const map = (id: number) =>
    ok(call(ctx.app, admin, 'PUT', `/api/imports/${id}/mapping`, { kind: 'customers', mapping }));
  const dryRun = (id: number) => call(ctx.app, admin, 'POST', `/api/imports/${id}/dry-run`);
  const stored = async (id: number) =>
    ctx.db.kysely
      .selectFrom('import_row_error')
      .select(['row_number', 'message', 'cells'])
      .where('job_id', '=', id)
      .execute();

  it('refuses a workbook whose every row points at one shared string longer than a cell may be', async () => {
    // The finding, scaled down: 30,000 rows × one 1 MB shared string.
    const huge = 'x'.repeat(1_000_000);
    const file = await buildXlsx({
      strings: [...headerStrings(), si(huge)],
      rows: (function* () {
        yield headerRow();
        for (let r = 2; r <= 30_001; r++) yield `<row r="${r}">${sharedCell(`D${r}`, 4)}</row>`;
      })(),
    });
    expect(file.length).toBeLessThan(200_000);
    const job = await upload(ctx.app, admin, 'hostile.xlsx', tree.station1, file);
    const started = Date.now();
    expectLimit(await inspect(job.id), 'cellChars', { setting: 'IMPORT_MAX_CELL_CHARS' });
    await map(job.id);
    expectLimit(await dryRun(job.id), 'cellChars');
    expect(Date.now() - started).toBeLessThan(10_000);
    // The job says why, in words the page can translate, and nothing of the file was stored.
    const after = await ok<Job>(call(ctx.app, admin, 'GET', `/api/imports/${job.id}`));
    const details = { limit: 'cellChars', value: LIMITS.cellChars };
    expect(after).toMatchObject({ status: 'check_failed', errorCode: 'IMPORT_LIMIT_EXCEEDED', errorDetails: details });
    expect(await stored(job.id)).toEqual([]);
  });

  it('refuses a workbook pointing at a string within the cell limit so often it expands past IMPORT_MAX_XLSX_MB', async () => {
    const long = 'y'.repeat(1_500);
    const file = await buildXlsx({
      strings: [...headerStrings(), si(long)],
      rows: (function* () {
        yield headerRow();
        for (let r = 2; r <= 2_900; r++) yield sharedRow(r, [4, 4, 4, 4]);
      })(),
    });
    const job = await upload(ctx.app, admin, 'repeats.xlsx', tree.station1, file);
    // The preview reads 20 rows, well within the limit.
    expect((await inspect(job.id)).statusCode).toBe(200);
    await map(job.id);
    const res = await dryRun(job.id);
    expectLimit(res, 'xlsxMb', { setting: 'IMPORT_MAX_XLSX_MB' });
    // 4 MB of 6,000-character rows: refused around row 700, long before the last.
    const row = (res.json() as { error: { details: { row: number } } }).error.details.row;
    expect(row).toBeGreaterThan(600);
    expect(row).toBeLessThan(800);
  });

  it('refuses shared strings inflating past IMPORT_MAX_SHARED_STRINGS_MB, also when the zip lies about them', async () => {
    const file = await buildXlsx({
      strings: (function* () {
        yield* headerStrings();
        for (let i = 0; i < 150_000; i++) yield si('同一个客户名称');
      })(),
      rows: [headerRow()],
    });
    expect(file.length).toBeLessThan(100_000);
    const honest = await upload(ctx.app, admin, 'strings.xlsx', tree.station1, file);
    expectLimit(await inspect(honest.id), 'sharedStringsMb', { setting: 'IMPORT_MAX_SHARED_STRINGS_MB' });
    // A directory that claims 100 bytes: the bytes are counted as they are inflated all the same.
    const lying = lieAboutSize(file, 'xl/sharedStrings.xml', 100);
    const liar = await upload(ctx.app, admin, 'strings-liar.xlsx', tree.station1, lying);
    expectLimit(await inspect(liar.id), 'sharedStringsMb');
    // And the reader that gave up on it is still there for the next file.
    expectLimit(await inspect(liar.id), 'sharedStringsMb');
    // A directory that claims more than there is: a damaged file, not a server error.
    const small = await buildXlsx({ strings: headerStrings(), rows: [headerRow()] });
    const claimsMore = lieAboutSize(small, 'xl/sharedStrings.xml', 500_000);
    const short = await upload(ctx.app, admin, 'strings-short.xlsx', tree.station1, claimsMore);
    const res = await inspect(short.id);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
  });

  it('refuses a row wider than IMPORT_MAX_COLUMNS before padding it out, in XLSX and CSV', async () => {
    // The last column Excel has (XFD): a reader that pads rows to the column would make 16,384 cells.
    const wideRow = `<row r="1">${sharedCell('A1', 0)}${sharedCell('XFD1', 1)}</row>`;
    const wideHeader = await buildXlsx({ strings: headerStrings(), rows: [wideRow] });
    const a = await upload(ctx.app, admin, 'wide.xlsx', tree.station1, wideHeader);
    expectLimit(await inspect(a.id), 'columns', { setting: 'IMPORT_MAX_COLUMNS', row: 1 });

    // A column reference no sheet could have, on row 50, past the preview's rows.
    const filler = Array.from({ length: 48 }, (_, i) => sharedRow(i + 2, [0]));
    const rows = [headerRow(), ...filler, `<row r="50">${sharedCell('ZZZZZZZZZZZZ50', 0)}</row>`];
    const b = await upload(
      ctx.app,
      admin,
      'absurd.xlsx',
      tree.station1,
      await buildXlsx({ strings: headerStrings(), rows }),
    );
    expect((await inspect(b.id)).statusCode).toBe(200);
    await map(b.id);
    expectLimit(await dryRun(b.id), 'columns', { row: 50 });

    const csv = `${HEADER.join(',')}\n${Array.from({ length: 60 }, (_, i) => `c${i}`).join(',')}\n`;
    const c = await upload(ctx.app, admin, 'wide.csv', tree.station1, csv);
    expectLimit(await inspect(c.id), 'columns', { row: 2 });
  });

  it('refuses a cell longer than IMPORT_MAX_CELL_CHARS: inline in a sheet, a CSV field, a CSV line without end', async () => {
    const sheet = await buildXlsx({
      strings: headerStrings(),
      rows: [
        headerRow(),
        `<row r="2">${inlineCell('A2', '张三')}</row>`,
        `<row r="3">${inlineCell('A3', '长'.repeat(3_000))}</row>`,
      ],
    });
    const a = await upload(ctx.app, admin, 'long-cell.xlsx', tree.station1, sheet);
    expectLimit(await inspect(a.id), 'cellChars', { row: 3 });

    const longField = `${HEADER.join(',')}\n张三,13800138000,冀A12345,${'长'.repeat(3_000)}\n`;
    const field = await upload(ctx.app, admin, 'long-cell.csv', tree.station1, longField);
    expectLimit(await inspect(field.id), 'cellChars', { row: 2 });

    // 8 MB without a line break: refused once a record could no longer be a row of short cells.
    const noEnd = `${HEADER.join(',')}\n"${'a'.repeat(8 * 1024 * 1024)}`;
    const endless = await upload(ctx.app, admin, 'endless.csv', tree.station1, noEnd);
    expectLimit(await inspect(endless.id), 'cellChars');
  });

  it('refuses more rows than IMPORT_MAX_ROWS below the header; blank rows before the header do not count', async () => {
    const lines = ['', '', HEADER.join(',')];
    for (let i = 0; i < LIMITS.rows; i++) lines.push(`客户${i},139${String(i).padStart(8, '0')},,`);
    const within = await upload(ctx.app, admin, 'rows-ok.csv', tree.station1, lines.join('\n'));
    await map(within.id);
    const checked = await ok<{ job: { status: string; rowsTotal: number } }>(dryRun(within.id));
    expect(checked.job).toMatchObject({ status: 'checked', rowsTotal: LIMITS.rows });

    lines.push('客户多一行,13900000000,,');
    const over = await upload(ctx.app, admin, 'rows.csv', tree.station1, lines.join('\n'));
    expect((await inspect(over.id)).statusCode).toBe(200);
    await map(over.id);
    expectLimit(await dryRun(over.id), 'rows', { setting: 'IMPORT_MAX_ROWS', row: LIMITS.rows + 4 });
  });

  it('answers a broken workbook with VALIDATION_FAILED, not a server error', async () => {
    const broken = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(2_000, 7)]);
    const job = await upload(ctx.app, admin, 'broken.xlsx', tree.station1, broken);
    const res = await inspect(job.id);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body' });

    const good = await buildXlsx({ strings: headerStrings(), rows: [headerRow()] });
    const sheet = await upload(ctx.app, admin, 'sheets.xlsx', tree.station1, good);
    const noSuchSheet = { kind: 'customers', sheet: '没有这个表' };
    const missing = await call(ctx.app, admin, 'POST', `/api/imports/${sheet.id}/inspect`, noSuchSheet);
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.field).toBe('sheet');
  });

  it('keeps a short excerpt of a rejected row, never its whole cells', async () => {
    const note = '备'.repeat(1_900);
    const plate = `冀${'Z'.repeat(1_900)}`;
    const lines = [HEADER.join(',')];
    for (let i = 0; i < 50; i++) lines.push(`客户${i},12345,${plate},${note}`);
    const job = await upload(ctx.app, admin, 'bad-rows.csv', tree.station1, lines.join('\n'));
    await map(job.id);
    const dry = await ok<{ job: { rowsRejected: number }; problems: { cells: unknown[]; message: string }[] }>(
      dryRun(job.id),
    );
    expect(dry.job.rowsRejected).toBe(50);
    const rows = await stored(job.id);
    expect(rows.length).toBeGreaterThanOrEqual(50);
    for (const r of rows) {
      const cells = JSON.parse(r.cells!) as string[];
      expect(cells[0]).toMatch(/^客户\d+$/);
      // 200 characters and an ellipsis at most, for every cell and every message.
      for (const c of cells) expect(c.length).toBeLessThanOrEqual(201);
      expect(cells[3]).toBe(`${'备'.repeat(200)}…`);
      expect(r.cells!.length).toBeLessThan(1_000);
      expect(r.message.length).toBeLessThanOrEqual(501);
    }
    // The report gives the same excerpts.
    const report = await call(ctx.app, admin, 'GET', `/api/imports/${job.id}/report.csv?phase=dry_run`);
    expect(report.statusCode).toBe(200);
    expect(report.body).not.toContain('备'.repeat(201));
  });
});
