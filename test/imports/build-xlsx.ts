// Workbooks built in code, the way an attacker would: the minimum of parts a reader needs (workbook,
// its relationships, one sheet, shared strings), each written as XML by hand so nothing in a
// spreadsheet library stops a part from being as large, as wide or as repetitive as the test wants.
import JSZip from 'jszip';

const NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

export const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** "A", "B", … "Z", "AA", … for a 0-based column. */
export function columnName(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/** A cell pointing at shared string `index`. */
export const sharedCell = (ref: string, index: number) => `<c r="${ref}" t="s"><v>${index}</v></c>`;
/** A cell holding its own text. */
export const inlineCell = (ref: string, text: string) =>
  `<c r="${ref}" t="inlineStr"><is><t>${escapeXml(text)}</t></is></c>`;

export interface BookParts {
  /** Deflate level (default 6); a large test file builds faster at 1. */
  level?: number;
  /** The <sheetData> body: <row> elements. Strings are joined, so a generator of parts is fine. */
  rows: Iterable<string>;
  /** The shared strings' <si> elements, or null for a workbook without the part. */
  strings?: Iterable<string> | null;
}

export async function buildXlsx(parts: BookParts): Promise<Buffer> {
  const zip = new JSZip();
  const xml = '<?xml version="1.0" encoding="UTF-8"?>';
  const pkg = 'http://schemas.openxmlformats.org/package/2006';
  zip.file('[Content_Types].xml', `${xml}<Types xmlns="${pkg}/content-types"/>`);
  const sheets = '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets>';
  zip.file('xl/workbook.xml', `${xml}<workbook xmlns="${NS}" xmlns:r="${REL_NS}">${sheets}</workbook>`);
  const rel = `<Relationship Id="rId1" Type="${REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>`;
  zip.file('xl/_rels/workbook.xml.rels', `${xml}<Relationships xmlns="${pkg}/relationships">${rel}</Relationships>`);
  const rows = [...parts.rows].join('');
  zip.file('xl/worksheets/sheet1.xml', `${xml}<worksheet xmlns="${NS}"><sheetData>${rows}</sheetData></worksheet>`);
  if (parts.strings) zip.file('xl/sharedStrings.xml', `${xml}<sst xmlns="${NS}">${[...parts.strings].join('')}</sst>`);
  const compressionOptions = { level: parts.level ?? 6 };
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions });
}

/** `<si>` of a text. */
export const si = (text: string) => `<si><t>${escapeXml(text)}</t></si>`;

/** A row of shared-string cells, one per index. */
export function sharedRow(r: number, indexes: number[]): string {
  return `<row r="${r}">${indexes.map((x, i) => sharedCell(`${columnName(i)}${r}`, x)).join('')}</row>`;
}

/**
 * The zip's own claim about a part's size, rewritten (local header and central directory), as a
 * hostile file would lie to a reader that trusts it.
 */
export function lieAboutSize(zip: Buffer, name: string, size: number): Buffer {
  const out = Buffer.from(zip);
  const nameBytes = Buffer.from(name, 'utf8');
  let patched = 0;
  for (let i = 0; i + 46 < out.length; i++) {
    const sig = out.readUInt32LE(i);
    if (sig === 0x04034b50) {
      const len = out.readUInt16LE(i + 26);
      if (len === nameBytes.length && out.subarray(i + 30, i + 30 + len).equals(nameBytes)) {
        out.writeUInt32LE(size, i + 22);
        patched++;
      }
    } else if (sig === 0x02014b50) {
      const len = out.readUInt16LE(i + 28);
      if (len === nameBytes.length && out.subarray(i + 46, i + 46 + len).equals(nameBytes)) {
        out.writeUInt32LE(size, i + 24);
        patched++;
      }
    }
  }
  if (patched !== 2) throw new Error(`found ${patched} headers of ${name}, expected 2`);
  return out;
}
