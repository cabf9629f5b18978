// The downloadable error report: each rejected or flagged row with its reasons and its original
// cells. Every cell is text: CSV cells that look like formulas are prefixed, XLSX cells are strings.
import ExcelJS from 'exceljs';
import { toCsv } from '../customers/csv.js';

export interface ReportProblem {
  row: number;
  severity: string;
  field: string | null;
  message: string;
  cells: unknown[];
}

const HEADER = ['行号 row', '处理 result', '字段 field', '原因 reason'];
const SEVERITY: Record<string, string> = { error: '拒绝 rejected', flag: '待核对 flagged' };

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function lines(problems: ReportProblem[]): string[][] {
  const width = problems.reduce((w, p) => Math.max(w, p.cells.length), 0);
  const head = [...HEADER, ...Array.from({ length: width }, (_, i) => `原始列 ${i + 1}`)];
  return [head, ...problems.map((p) => [String(p.row), SEVERITY[p.severity] ?? p.severity, p.field ?? '', p.message, ...p.cells.map(cellText)])];
}

/** UTF-8 with BOM so Excel and WPS read the Chinese; formula-looking cells defused. */
export function errorReportCsv(problems: ReportProblem[]): string {
  return toCsv(lines(problems));
}

export async function errorReportXlsx(problems: ReportProblem[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('errors');
  // Plain string values: exceljs writes a formula only for { formula } cells, so "=1+1" stays text.
  for (const line of lines(problems)) ws.addRow(line);
  ws.getRow(1).font = { bold: true };
  ws.views = [{ state: 'frozen', ySplit: 1 }];
  return Buffer.from(await wb.xlsx.writeBuffer());
}
