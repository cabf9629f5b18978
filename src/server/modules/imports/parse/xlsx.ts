// XLSX read row by row. The workbook's zip is opened for random access (JSZip keeps only the
// compressed bytes), the small parts (workbook, relationships, styles, shared strings) are read
// first, then the chosen sheet's XML is streamed through a SAX parser, so memory does not grow with
// the number of rows. exceljs's own streaming reader is not used: it reads the zip as a stream,
// parks sheets that come before the shared strings (Excel and LibreOffice both write them so) in
// temporary files, and under load it lost zip entries (sheets missing, cells as { sharedString: n }).
import fs from 'node:fs';
import { PassThrough } from 'node:stream';
import JSZip from 'jszip';
import { SaxesParser } from 'saxes';
import type { Cell, SourceRow } from './read.js';

/** Excel's day 0 (1900 date system, the leap-year bug included); 1904 workbooks add 1,462 days. */
const EXCEL_EPOCH_MS = Date.UTC(1899, 11, 30);
const DAY_MS = 86_400_000;
const BUILTIN_DATE_FORMATS = new Set([14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54, 55, 56, 57, 58]);

interface Book {
  zip: JSZip;
  sheets: { name: string; path: string }[];
  strings: string[];
  /** Per cell style index: whether its number format shows a date or time. */
  dateStyles: boolean[];
  date1904: boolean;
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
    return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

/** A number format code that shows a date or time (y, m, d, h, s outside quotes and brackets). */
function isDateFormat(code: string): boolean {
  const bare = code.replace(/"[^"]*"|\[[^\]]*\]|\\./g, '');
  return /[ymdhs]/i.test(bare) && !/^[#0.,%\s]*$/.test(bare);
}

async function text(zip: JSZip, path: string): Promise<string | null> {
  const f = zip.file(path);
  return f ? f.async('string') : null;
}

function parseStrings(xml: string): string[] {
  const out: string[] = [];
  const parser = new SaxesParser();
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
    if (inT) cur += s;
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
  parser.write(xml).close();
  return out;
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

async function openBook(file: string): Promise<Book> {
  const zip = await JSZip.loadAsync(fs.readFileSync(file));
  const workbook = (await text(zip, 'xl/workbook.xml')) ?? '';
  const rels = (await text(zip, 'xl/_rels/workbook.xml.rels')) ?? '';
  const targets = new Map(attrs(rels, 'Relationship').map((r) => [r.Id, r.Target ?? '']));
  const sheets = attrs(workbook, 'sheet').map((s) => {
    const target = targets.get(s['r:id'] ?? '') ?? '';
    const path = target.startsWith('/') ? target.slice(1) : `xl/${target.replace(/^\.\//, '')}`;
    return { name: s.name ?? '', path };
  });
  const date1904 = /date1904="(1|true)"/.test(workbook);
  const sst = await text(zip, 'xl/sharedStrings.xml');
  return { zip, sheets, strings: sst ? parseStrings(sst) : [], dateStyles: parseDateStyles(await text(zip, 'xl/styles.xml')), date1904 };
}

export async function xlsxSheetNames(file: string): Promise<string[]> {
  return (await openBook(file)).sheets.map((s) => s.name);
}

function columnIndex(ref: string): number {
  let n = 0;
  for (const ch of ref) {
    const c = ch.charCodeAt(0);
    if (c < 65 || c > 90) break;
    n = n * 26 + (c - 64);
  }
  return n - 1;
}

export async function* xlsxRows(file: string, sheet: string | undefined): AsyncGenerator<SourceRow> {
  const book = await openBook(file);
  const chosen = sheet === undefined ? book.sheets[0] : book.sheets.find((s) => s.name === sheet);
  if (!chosen) throw new Error(sheet === undefined ? 'the workbook has no sheets' : `the workbook has no sheet named ${sheet}`);
  const entry = book.zip.file(chosen.path);
  if (!entry) throw new Error(`the workbook has no part ${chosen.path} for sheet ${chosen.name}`);

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
      case 's':
        return book.strings[Number(value)] ?? null;
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
        if (book.dateStyles[style]) return new Date(EXCEL_EPOCH_MS + (book.date1904 ? 1462 : 0) * DAY_MS + Math.round(n * 86_400) * 1000);
        return n;
      }
    }
  };

  parser.on('opentag', (t) => {
    const name = t.name.replace(/^\w+:/, '');
    if (name === 'row') {
      rowNumber = t.attributes.r ? Number(t.attributes.r) : rowNumber + 1;
      cells = [];
      col = 0;
    } else if (name === 'c') {
      const ref = t.attributes.r as string | undefined;
      if (ref) col = columnIndex(ref);
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
    if (reading) value += s;
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

  // JSZip's stream is an old-style readable; piped into a core stream it can be iterated.
  const stream = entry.nodeStream('nodebuffer').pipe(new PassThrough()) as AsyncIterable<Buffer>;
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of stream) {
    parser.write(decoder.decode(chunk, { stream: true }));
    while (ready.length) yield ready.shift()!;
  }
  parser.write(decoder.decode()).close();
  while (ready.length) yield ready.shift()!;
}
