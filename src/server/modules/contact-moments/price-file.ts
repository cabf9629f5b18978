// A small price-change file (CSV or XLSX, a few hundred rows at most): product, old price, new price,
// effective time, note. Headers in Chinese or English; prices in yuan. Every bad cell is refused with
// its row and field, all at once, so the file can be fixed in one go.
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { AppError } from '../../errors.js';
import { zonedToUtc } from '../../../domain/business-day.js';

export interface PriceRow {
  product: string;
  oldPriceFen: number;
  newPriceFen: number;
  /** ISO instant. */
  effectiveAt: string;
  note?: string | null;
}

export const PRICE_FILE_MAX_ROWS = 2000;

const HEADERS: Record<string, keyof PriceRow> = {
  油品: 'product',
  品名: 'product',
  product: 'product',
  原价: 'oldPriceFen',
  调整前价格: 'oldPriceFen',
  oldprice: 'oldPriceFen',
  新价: 'newPriceFen',
  调整后价格: 'newPriceFen',
  newprice: 'newPriceFen',
  生效时间: 'effectiveAt',
  effectiveat: 'effectiveAt',
  effectivetime: 'effectiveAt',
  备注: 'note',
  note: 'note',
};

function headerKey(text: string): keyof PriceRow | undefined {
  const k = text
    .normalize('NFKC')
    .replace(/[（(][^)）]*[)）]/g, '')
    .replace(/[\s_-]/g, '')
    .toLowerCase();
  return HEADERS[k];
}

function yuanToFen(text: string): number | null {
  const t = text.replace(/[,，元¥￥\s]/g, '');
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return null;
  return Math.round(Number(t) * 100);
}

/** '2026-12-10 00:00' (Beijing time unless an offset is given), '2026/12/10', or a date cell. */
function instantOf(value: unknown): string | null {
  if (value instanceof Date) return zonedTime(value.getTime());
  const t = String(value ?? '').trim();
  if (/[zZ]|[+-]\d{2}:?\d{2}$/.test(t) && !Number.isNaN(Date.parse(t))) return new Date(Date.parse(t)).toISOString();
  const m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(t);
  if (!m) return null;
  const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  const check = new Date(wall);
  if (check.getUTCDate() !== +m[3]! || +(m[4] ?? 0) > 23) return null;
  return zonedTime(wall);
}

// Spreadsheet times carry no zone: they are read as the company's (China's) wall clock.
function zonedTime(wallMs: number): string {
  return new Date(zonedToUtc(wallMs, 'Asia/Shanghai')).toISOString();
}

async function readCells(fileName: string, bytes: Buffer): Promise<unknown[][]> {
  if (/\.xlsx$/i.test(fileName)) {
    const wb = new ExcelJS.Workbook();
    try {
      await wb.xlsx.load(bytes as unknown as ArrayBuffer);
    } catch {
      throw new AppError('VALIDATION_FAILED', 'the file is no readable XLSX workbook', 'body.file');
    }
    const sheet = wb.worksheets[0];
    if (!sheet) throw new AppError('VALIDATION_FAILED', 'the workbook has no sheet', 'body.file');
    const out: unknown[][] = [];
    sheet.eachRow({ includeEmpty: false }, (row) => {
      const values = (row.values as unknown[]).slice(1);
      out.push(
        values.map((v) => (v && typeof v === 'object' && 'result' in v ? (v as { result: unknown }).result : v)),
      );
    });
    return out;
  }
  if (/\.csv$/i.test(fileName)) {
    const utf8 = bytes.toString('utf8');
    // Chinese spreadsheets are often saved as GB18030: a file that is not valid UTF-8 is read as such.
    const text = utf8.includes('\uFFFD') ? iconv.decode(bytes, 'gb18030') : utf8.replace(/^\uFEFF/, '');
    try {
      return parseCsv(text, { relax_column_count: true, skip_empty_lines: true }) as string[][];
    } catch (err) {
      throw new AppError('VALIDATION_FAILED', `the CSV cannot be read: ${(err as Error).message}`, 'body.file');
    }
  }
  throw new AppError('VALIDATION_FAILED', 'send a .csv or .xlsx file', 'body.fileName');
}

export async function parsePriceFile(fileName: string, bytes: Buffer): Promise<PriceRow[]> {
  const cells = await readCells(fileName, bytes);
  const [header, ...data] = cells;
  if (!header) throw new AppError('VALIDATION_FAILED', 'the file is empty', 'body.file');
  const columns = header.map((h) => headerKey(String(h ?? '')));
  for (const need of ['product', 'oldPriceFen', 'newPriceFen', 'effectiveAt'] as const)
    if (!columns.includes(need))
      throw new AppError('VALIDATION_FAILED', `the header row lacks a column for ${need}`, 'body.file', {
        column: need,
      });
  if (data.length > PRICE_FILE_MAX_ROWS)
    throw new AppError('VALIDATION_FAILED', `at most ${PRICE_FILE_MAX_ROWS} rows`, 'body.file');
  const problems: { row: number; field: string; message: string }[] = [];
  const rows: PriceRow[] = [];
  data.forEach((line, i) => {
    const row = i + 2; // the header is row 1
    const get = (k: keyof PriceRow) => {
      const at = columns.indexOf(k);
      return at < 0 ? undefined : line[at];
    };
    const product = String(get('product') ?? '').trim();
    const oldFen = yuanToFen(String(get('oldPriceFen') ?? ''));
    const newFen = yuanToFen(String(get('newPriceFen') ?? ''));
    const at = instantOf(get('effectiveAt'));
    if (!product || product.length > 32)
      problems.push({ row, field: 'product', message: 'product must be 1–32 characters' });
    if (oldFen === null) problems.push({ row, field: 'oldPrice', message: 'old price must be yuan, e.g. 7.45' });
    if (newFen === null) problems.push({ row, field: 'newPrice', message: 'new price must be yuan, e.g. 7.60' });
    if (at === null)
      problems.push({ row, field: 'effectiveAt', message: 'effective time must be a date, e.g. 2026-12-10 00:00' });
    const note = String(get('note') ?? '').trim();
    if (product && oldFen !== null && newFen !== null && at !== null)
      rows.push({
        product,
        oldPriceFen: oldFen,
        newPriceFen: newFen,
        effectiveAt: at,
        note: note.slice(0, 500) || null,
      });
  });
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new AppError('VALIDATION_FAILED', `row ${first.row}: ${first.message}`, `file.${first.row}.${first.field}`, {
      problems: problems.slice(0, 100),
    });
  }
  if (rows.length === 0) throw new AppError('VALIDATION_FAILED', 'the file has no price rows', 'body.file');
  return rows;
}
