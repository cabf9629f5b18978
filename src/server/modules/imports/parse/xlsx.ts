// XLSX read row by row. The workbook's zip is opened for random access (JSZip keeps only the
// compressed bytes), the small parts (workbook, relationships, styles, shared strings) are read
// first, then the chosen sheet's XML is streamed through a SAX parser, so memory does not grow with
// the number of rows. exceljs's own streaming reader is not used: it reads the zip as a stream,
// parks sheets that come before the shared strings (Excel and LibreOffice both write them so) in
// temporary files, and under load it lost zip entries (sheets missing, cells as { sharedString: n }).
// Every part is bounded before and while it is inflated (./limits.ts): a zip's directory is checked
// first, bytes are counted as they come, and a cell, a row or a run of text past its limit stops the
// read with the limit's name; nothing is ever inflated into one string of unknown size.
import fs from 'node:fs';
import JSZip from 'jszip';
import { SaxesParser } from 'saxes';
import type { Cell, SourceRow } from './read.js';
import { FileFormatError, ImportLimitError, limitError, type ImportLimits } from './limits.js';

/** Excel's day 0 (1900 date system, the leap-year bug included); 1904 workbooks add 1,462 days. */
const EXCEL_EPOCH_MS = Date.UTC(1899, 11, 30);
const DAY_MS = 86_400_000;
const BUILTIN_DATE_FORMATS = new Set([
  14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54, 55, 56,
  57, 58,
]);

const MB = 1024 * 1024;
/** Characters of XML without a tag that can still be one cell: entities spell a character in up to 10. */
const runLimit = (limits: ImportLimits) => limits.cellChars * 10 + 1024;
/** The sheet's XML goes to the SAX parser in slices this long, so rows are handed on as they come. */
const SLICE_CHARS = 64 * 1024;

interface Book {
  zip: JSZip;
  sheets: { name: string; path: string }[];
  date1904: boolean;
  limits: ImportLimits;
  /** Uncompressed bytes read so far (and shared-string characters referenced), against limits.xlsxMb. */
  used: number;
}

function attrs(xml: string, tag: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  const re = new RegExp(`<(?:\\w+:)?${tag}\\b([^>]*)/?>`, 'g');
  for (const m of xml.matchAll(re)) {
    const a: Record<string, string> = {};
    for (const kv of m[1]!.matchAll(/([\w:]+)="([^"]*)"/g)) a[kv[1]!] = decodeXml(kv[2]!);
    out.push(a);
  }
  return out;
}

function decodeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-f]+|#\d+);/gi, (_, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : '\ufffd';
  });
}

/** A number format code that shows a date or time (y, m, d, h, s outside quotes and brackets). */
function isDateFormat(code: string): boolean {
  const bare = code.replace(/"[^"]*"|\[[^\]]*\]|\\./g, '');
  return /[ymdhs]/i.test(bare) && !/^[#0.,%\s]*$/.test(bare);
}

/** The size the zip's directory gives for an entry: checked before a byte of it is inflated. */
function declaredSize(entry: JSZip.JSZipObject): number {
  const size = (entry as unknown as { _data?: { uncompressedSize?: unknown } })._data?.uncompressedSize;
  return typeof size === 'number' && size >= 0 ? size : 0;
}

/** JSZip's own stream of a part (not in its typings): pausable, and its errors are events we listen to. */
interface PartStream {
  on(event: 'data', cb: (data: Uint8Array) => void): PartStream;
  on(event: 'end', cb: () => void): PartStream;
  on(event: 'error', cb: (err: Error) => void): PartStream;
  pause(): PartStream;
  resume(): PartStream;
}

/**
 * A part's bytes as they are inflated, a few chunks ahead at most. Leaving early pauses the inflater
 * for good: one left running would go on inflating, and JSZip reports a size that does not match
 * the directory as an error event nobody would be listening to.
 */
async function* inflate(entry: JSZip.JSZipObject): AsyncGenerator<Uint8Array> {
  const helper = (entry as unknown as { internalStream(type: 'uint8array'): PartStream }).internalStream('uint8array');
  const queue: Uint8Array[] = [];
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  helper
    .on('data', (d) => {
      queue.push(d);
      if (queue.length >= 4) helper.pause();
      notify();
    })
    .on('error', (err) => {
      failure = err;
      notify();
    })
    .on('end', () => {
      ended = true;
      notify();
    });
  helper.resume();
  try {
    for (;;) {
      const d = queue.shift();
      if (d) {
        if (queue.length < 2 && !ended && !failure) helper.resume();
        yield d;
      } else if (failure) throw new FileFormatError(`the workbook's zip is damaged: ${(failure as Error).message}`);
      else if (ended) return;
      else await new Promise<void>((r) => (wake = r));
    }
  } finally {
    helper.pause();
  }
}

/**
 * A part's text, decoded as it is inflated. The size the directory declares is checked first and
 * the bytes are counted as they come (a directory can lie), against the part's own limit (`max`
 * bytes, reported as `limit`) and the workbook's total. No run of text without a tag may be longer
 * than a cell could be, so the XML parser never holds more than that between two events.
 */
async function* partText(
  book: Book,
  entry: JSZip.JSZipObject,
  max: number,
  limit: keyof ImportLimits,
): AsyncGenerator<string> {
  const total = book.limits.xlsxMb * MB;
  const part = limit === 'sharedStringsMb' && !entry.name.endsWith('sharedStrings.xml') ? { part: entry.name } : {};
  const over = (n: number) => {
    if (n > max) return limitError(book.limits, limit, part);
    return book.used + n > total ? limitError(book.limits, 'xlsxMb') : null;
  };
  const early = over(declaredSize(entry));
  if (early) throw early;
  const decoder = new TextDecoder('utf-8');
  const maxRun = runLimit(book.limits);
  let bytes = 0;
  let run = 0;
  for await (const chunk of inflate(entry)) {
    const failure = over(bytes + chunk.length);
    if (failure) throw failure;
    bytes += chunk.length;
    book.used += chunk.length;
    const s = decoder.decode(chunk, { stream: true });
    const lt = s.lastIndexOf('<');
    run = lt < 0 ? run + s.length : s.length - lt - 1;
    if (run > maxRun) throw limitError(book.limits, 'cellChars');
    yield s;
  }
  yield decoder.decode();
}

async function wholePart(book: Book, path: string): Promise<string | null> {
  const entry = book.zip.file(path);
  if (!entry) return null;
  let out = '';
  for await (const s of partText(book, entry, book.limits.sharedStringsMb * MB, 'sharedStringsMb')) out += s;
  return out;
}

/** Shared strings, parsed as they are inflated; none may be longer than a cell. */
async function readStrings(book: Book): Promise<string[]> {
  const entry = book.zip.file('xl/sharedStrings.xml');
  if (!entry) return [];
  const out: string[] = [];
  const parser = new SaxesParser();
  const maxChars = book.limits.cellChars;
  let inSi = false;
  let inT = false;
  let inRph = false; // phonetic runs are not part of the text
  let cur = '';
  parser.on('opentag', (t) => {
    const name = t.name.replace(/^\w+:/, '');
    if (name === 'si') {
      inSi = true;
      cur = '';
    } else if (name === 't' && inSi && !inRph) inT = true;
    else if (name === 'rPh') inRph = true;
  });
  parser.on('text', (s) => {
    if (!inT) return;
    cur += s;
    if (cur.length > maxChars) throw limitError(book.limits, 'cellChars');
  });
  parser.on('closetag', (t) => {
    const name = t.name.replace(/^\w+:/, '');
    if (name === 't') inT = false;
    else if (name === 'rPh') inRph = false;
    else if (name === 'si') {
      inSi = false;
      out.push(cur);
    }
  });
  for await (const s of partText(book, entry, book.limits.sharedStringsMb * MB, 'sharedStringsMb')) xmlWrite(parser, s);
  parser.close();
  return out;
}

/** Malformed XML is a bad file, not a server error. */
function xmlWrite(parser: SaxesParser, s: string): void {
  try {
    parser.write(s);
  } catch (err) {
    if (err instanceof ImportLimitError) throw err;
    throw new FileFormatError(`the workbook's XML is malformed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function parseDateStyles(xml: string | null): boolean[] {
  if (!xml) return [];
  const custom = new Map<number, boolean>();
  for (const f of attrs(xml, 'numFmt')) custom.set(Number(f.numFmtId), isDateFormat(f.formatCode ?? ''));
  const cellXfs = /<(?:\w+:)?cellXfs\b[^>]*>([\s\S]*?)<\/(?:\w+:)?cellXfs>/.exec(xml)?.[1] ?? '';
  return attrs(cellXfs, 'xf').map((xf) => {
    const id = Number(xf.numFmtId ?? 0);
    return custom.get(id) ?? BUILTIN_DATE_FORMATS.has(id);
  });
}

async function openBook(file: string, limits: ImportLimits): Promise<Book> {
  let zip: JSZip;
  try {
    // JSZip keeps the compressed bytes (no larger than the upload) and inflates a part when asked.
    zip = await JSZip.loadAsync(await fs.promises.readFile(file));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new FileFormatError(`the file is not a readable workbook: ${why}`);
  }
  const book: Book = { zip, sheets: [], date1904: false, limits, used: 0 };
  const workbook = (await wholePart(book, 'xl/workbook.xml')) ?? '';
  const rels = (await wholePart(book, 'xl/_rels/workbook.xml.rels')) ?? '';
  const targets = new Map(attrs(rels, 'Relationship').map((r) => [r.Id, r.Target ?? '']));
  book.sheets = attrs(workbook, 'sheet').map((s) => {
    const target = targets.get(s['r:id'] ?? '') ?? '';
    const path = target.startsWith('/') ? target.slice(1) : `xl/${target.replace(/^\.\//, '')}`;
    return { name: s.name ?? '', path };
  });
  book.date1904 = /date1904="(1|true)"/.test(workbook);
  return book;
}

export async function xlsxSheetNames(file: string, limits: ImportLimits): Promise<string[]> {
  return (await openBook(file, limits)).sheets.map((s) => s.name);
}

/** "AB12" → 27; letters past any sheet's width stop counting (the column limit refuses them). */
function columnIndex(ref: string): number {
  let n = 0;
  for (const ch of ref) {
    const c = ch.charCodeAt(0);
    if (c < 65 || c > 90 || n > 1e9) break;
    n = n * 26 + (c - 64);
  }
  return n - 1;
}

export async function* xlsxRows(
  file: string,
  sheet: string | undefined,
  limits: ImportLimits,
): AsyncGenerator<SourceRow> {
  const book = await openBook(file, limits);
  const chosen = sheet === undefined ? book.sheets[0] : book.sheets.find((s) => s.name === sheet);
  if (!chosen) {
    throw new FileFormatError(
      sheet === undefined ? 'the workbook has no sheets' : `the workbook has no sheet named ${sheet}`,
      'sheet',
    );
  }
  const entry = book.zip.file(chosen.path);
  if (!entry) throw new FileFormatError(`the workbook has no part ${chosen.path} for sheet ${chosen.name}`, 'sheet');
  const strings = await readStrings(book);
  const dateStyles = parseDateStyles(await wholePart(book, 'xl/styles.xml'));
  const total = limits.xlsxMb * MB;

  const ready: SourceRow[] = [];
  const parser = new SaxesParser();
  let rowNumber = 0;
  let cells: Cell[] = [];
  let col = 0;
  let type = 'n';
  let style = 0;
  let value = '';
  let reading: 'v' | 't' | null = null;
  let hasValue = false;

  const cellValue = (): Cell => {
    if (!hasValue) return null;
    switch (type) {
      case 's': {
        const s = strings[Number(value)];
        if (s === undefined) return null;
        // A reference costs its string's length: a short sheet can point at one long string a million times.
        book.used += s.length;
        if (book.used > total) throw limitError(limits, 'xlsxMb', { row: rowNumber });
        return s;
      }
      case 'inlineStr':
      case 'str':
        return value;
      case 'b':
        return value === '1';
      case 'e':
        return null;
      case 'd':
        return Number.isNaN(Date.parse(value)) ? value : new Date(`${value.slice(0, 19)}Z`);
      default: {
        const n = Number(value);
        if (!Number.isFinite(n)) return value;
        if (dateStyles[style])
          return new Date(EXCEL_EPOCH_MS + (book.date1904 ? 1462 : 0) * DAY_MS + Math.round(n * 86_400) * 1000);
        return n;
      }
    }
  };

  parser.on('opentag', (t) => {
    const name = t.name.replace(/^\w+:/, '');
    if (name === 'row') {
      const r = Number(t.attributes.r);
      rowNumber = Number.isSafeInteger(r) && r > 0 ? r : rowNumber + 1;
      cells = [];
      col = 0;
    } else if (name === 'c') {
      const ref = t.attributes.r as string | undefined;
      const at = ref ? columnIndex(ref) : -1;
      if (at >= 0) col = at;
      // Checked before the row is padded out to the column.
      if (col >= limits.columns) throw limitError(limits, 'columns', { row: rowNumber });
      type = (t.attributes.t as string | undefined) ?? 'n';
      style = Number(t.attributes.s ?? 0);
      value = '';
      hasValue = false;
    } else if (name === 'v') {
      reading = 'v';
      hasValue = true;
    } else if (name === 't' && type === 'inlineStr') {
      reading = 't';
      hasValue = true;
    }
  });
  parser.on('text', (s) => {
    if (!reading) return;
    value += s;
    if (value.length > limits.cellChars) throw limitError(limits, 'cellChars', { row: rowNumber });
  });
  parser.on('closetag', (t) => {
    const name = t.name.replace(/^\w+:/, '');
    if (name === 'v' || name === 't') reading = null;
    else if (name === 'c') {
      while (cells.length < col) cells.push(null);
      cells[col] = cellValue();
      col++;
    } else if (name === 'row') ready.push({ rowNumber, cells });
  });

  for await (const s of partText(book, entry, total, 'xlsxMb')) {
    for (let i = 0; i < s.length; i += SLICE_CHARS) {
      let failure: unknown = null;
      try {
        xmlWrite(parser, s.slice(i, i + SLICE_CHARS));
      } catch (err) {
        failure = err;
      }
      // The rows before a refused one are handed on first, as a reader that streams would see them.
      while (ready.length) yield ready.shift()!;
      if (failure) throw failure;
    }
  }
  try {
    parser.close();
  } catch (err) {
    throw new FileFormatError(`the workbook's XML is malformed: ${err instanceof Error ? err.message : String(err)}`);
  }
  while (ready.length) yield ready.shift()!;
}
