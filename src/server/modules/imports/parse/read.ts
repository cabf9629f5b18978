// Reading uploaded files row by row, streaming, whatever the spreadsheet program wrote: CSV in
// UTF-8, UTF-8 with BOM, UTF-16 (Excel's "Unicode text") or GBK/GB18030 (detected, never asked),
// with commas, tabs or semicolons; XLSX sheet by sheet (./xlsx.ts), date cells as dates. Cells,
// columns and rows are bounded (./limits.ts). The import center runs this in a worker thread
// (./parse-pool.ts), so a slow or hostile file never holds the server's event loop.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { parse as csvParse } from 'csv-parse';
import iconv from 'iconv-lite';
import { xlsxRows, xlsxSheetNames } from './xlsx.js';
import { DEFAULT_IMPORT_LIMITS, FileFormatError, limitError, type ImportLimits } from './limits.js';

/** A cell as the importers see it: formulas are reduced to their cached result, rich text to text. */
export type Cell = string | number | boolean | Date | null;

export interface SourceRow {
  /** 1-based, as a spreadsheet program numbers rows (the header is row 1 of a CSV). */
  rowNumber: number;
  cells: Cell[];
}

export type Encoding = 'utf8' | 'utf16le' | 'utf16be' | 'gb18030';

const SNIFF_BYTES = 64 * 1024;

function isXlsx(head: Buffer): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

/** The encoding of a CSV from its first bytes: a BOM decides; else valid UTF-8 is UTF-8, anything else GB18030. */
export function detectEncoding(head: Buffer): { encoding: Encoding; bomBytes: number } {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf)
    return { encoding: 'utf8', bomBytes: 3 };
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf16le', bomBytes: 2 };
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf16be', bomBytes: 2 };
  try {
    // stream: true keeps a character cut at the end of the sample from counting as invalid.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return { encoding: 'utf8', bomBytes: 0 };
  } catch {
    // GB18030 is a superset of GBK and GB2312, so one decoder reads all three.
    return { encoding: 'gb18030', bomBytes: 0 };
  }
}

/** The delimiter used most on the first line outside quotes: comma, tab or semicolon. */
export function detectDelimiter(firstLine: string): string {
  const counts = new Map<string, number>([
    [',', 0],
    ['\t', 0],
    [';', 0],
  ]);
  let quoted = false;
  for (const ch of firstLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ',';
  for (const [d, n] of counts) if (n > counts.get(best)!) best = d;
  return best;
}

function readHead(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const n = fs.readSync(fd, buf, 0, SNIFF_BYTES, 0);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

async function* csvRows(file: string, limits: ImportLimits): AsyncGenerator<SourceRow> {
  const head = readHead(file);
  const { encoding, bomBytes } = detectEncoding(head);
  const firstText = iconv.decode(head.subarray(bomBytes, Math.min(head.length, bomBytes + 8192)), encoding);
  const delimiter = detectDelimiter(firstText.split(/\r?\n/, 1)[0] ?? '');
  const bytes = fs.createReadStream(file, { start: bomBytes });
  const text: Readable =
    encoding === 'utf8' ? bytes.setEncoding('utf8') : (bytes.pipe(iconv.decodeStream(encoding)) as unknown as Readable);
  // csv-parse holds a record until it ends: no record may be longer than its cells could be.
  const maxRecord = limits.cellChars * limits.columns;
  const options = { delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: false, bom: true };
  const parser = text.pipe(csvParse({ ...options, max_record_size: maxRecord }));
  let rowNumber = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      rowNumber++;
      if (record.length > limits.columns) throw limitError(limits, 'columns', { row: rowNumber });
      for (const c of record) {
        if (c.length > limits.cellChars) throw limitError(limits, 'cellChars', { row: rowNumber });
      }
      yield { rowNumber, cells: record.map((c) => (c === '' ? null : c)) };
    }
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'CSV_MAX_RECORD_SIZE') throw limitError(limits, 'cellChars', { row: rowNumber + 1 });
    if (typeof code === 'string' && code.startsWith('CSV_')) {
      throw new FileFormatError(`the file is not a readable CSV: ${(err as Error).message}`);
    }
    throw err;
  } finally {
    bytes.destroy();
  }
}

/** The sheets of a workbook, in order. */
export function listSheets(file: string, limits: ImportLimits = DEFAULT_IMPORT_LIMITS): Promise<string[]> {
  return xlsxSheetNames(file, limits);
}

const blank = (c: Cell) => c === null || (typeof c === 'string' && c.trim() === '');

/**
 * Every row of the file, the header first. Blank rows before the header are skipped, so the first
 * row yielded is the header; later blank rows are yielded (the caller skips them) to keep numbering.
 * More than `limits.rows` rows below the header is refused.
 */
export async function* readRows(
  file: string,
  opts: { sheet?: string; limits?: ImportLimits } = {},
): AsyncGenerator<SourceRow> {
  const limits = opts.limits ?? DEFAULT_IMPORT_LIMITS;
  const rows = isXlsx(readHead(file).subarray(0, 4)) ? xlsxRows(file, opts.sheet, limits) : csvRows(file, limits);
  let header: number | null = null;
  for await (const r of rows) {
    if (header === null) {
      if (r.cells.every(blank)) continue;
      header = r.rowNumber;
    } else if (r.rowNumber - header > limits.rows) throw limitError(limits, 'rows', { row: r.rowNumber });
    yield r;
  }
}

/** A cell as text for previews and reports: dates as the sheet showed them. */
export function cellText(c: Cell | undefined): string {
  if (c === null || c === undefined) return '';
  if (c instanceof Date) {
    const iso = c.toISOString();
    // Date cells hold the sheet's wall clock as UTC fields; midnight means a date without a time.
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  }
  return String(c);
}
