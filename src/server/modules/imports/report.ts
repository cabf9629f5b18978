// The downloadable error report: lines that group rows one action fixes, then each rejected or
// flagged row with its reasons in the reader's language (zh-CN unless en-US), the field by its label,
// and its original cells under the file's own headers. Every cell is text: CSV cells that look like
// formulas are prefixed, XLSX cells are strings.
import ExcelJS from 'exceljs';
import { toCsv } from '../customers/csv.js';
import { labelLocale, type LabelLocale } from '../../../domain/customer-labels.js';
import { totalsLine, type JobCounts } from './problems.js';

export interface ReportProblem {
  row: number;
  severity: string;
  field: string | null;
  /** The field's label in the report's language. */
  fieldLabel?: string;
  message: string;
  cells: unknown[];
}

export interface ReportInput {
  locale: LabelLocale;
  /** The file's header row; the cells of a wider row get 第 n 列. */
  headers: string[];
  /**
   * Lines before the rows: the file's rows accounted for (good, rejected, flagged, empty rows skipped),
   * then e.g. the rows whose card numbers lost digits, said once.
   */
  summaries: string[];
  problems: ReportProblem[];
}

const WORDS: Record<
  LabelLocale,
  { head: string[]; severity: Record<string, string>; column: (n: number) => string; summary: string }
> = {
  'zh-CN': {
    head: ['行号', '处理', '字段', '原因'],
    severity: { error: '拒绝', flag: '待核对' },
    column: (n) => `第 ${n} 列`,
    summary: '汇总',
  },
  'en-US': {
    head: ['Row', 'Result', 'Field', 'Reason'],
    severity: { error: 'Rejected', flag: 'To review' },
    column: (n) => `Column ${n}`,
    summary: 'Summary',
  },
};

/** What the routes and the CLI hand the report: the problems worded, the headers, the grouped lines. */
export async function reportInput(
  svc: {
    problems(id: number, phase: 'dry_run' | 'commit', limit?: number, locale?: string | null): Promise<ReportProblem[]>;
    summaries(id: number, phase: 'dry_run' | 'commit', locale?: string | null): Promise<string[]>;
    headers(id: number): Promise<string[]>;
    get(id: number): Promise<JobCounts & { status: string }>;
  },
  id: number,
  phase: 'dry_run' | 'commit',
  locale: string | null | undefined,
): Promise<ReportInput> {
  const [problems, summaries, headers, job] = await Promise.all([
    svc.problems(id, phase, undefined, locale),
    svc.summaries(id, phase, locale),
    svc.headers(id).catch(() => [] as string[]),
    svc.get(id),
  ]);
  // The job keeps the figures of its latest pass: the totals belong to this report only if that pass was its phase.
  const totals = phaseOf(job.status) === phase ? [totalsLine(job, locale)] : [];
  return { locale: labelLocale(locale), headers, summaries: [...totals, ...summaries], problems };
}

/** Which pass a job's figures come from, by its status; none before its first check. */
export function phaseOf(status: string): 'dry_run' | 'commit' | null {
  if (status === 'checked' || status === 'checking' || status === 'check_failed') return 'dry_run';
  if (status === 'done' || status === 'committing' || status === 'failed') return 'commit';
  return null;
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function lines(input: ReportInput): string[][] {
  const w = WORDS[input.locale];
  const width = input.problems.reduce((n, p) => Math.max(n, p.cells.length), input.headers.length);
  const columns = Array.from({ length: width }, (_, i) => input.headers[i]?.trim() || w.column(i + 1));
  const head = [...w.head, ...columns];
  const summaries = input.summaries.map((s) => ['', w.summary, '', s]);
  const rows = input.problems.map((p) => [
    String(p.row),
    w.severity[p.severity] ?? p.severity,
    p.fieldLabel ?? p.field ?? '',
    p.message,
    ...p.cells.map(cellText),
  ]);
  return [head, ...summaries, ...rows];
}

/** UTF-8 with BOM so Excel and WPS read the Chinese; formula-looking cells defused. */
export function errorReportCsv(input: ReportInput): string {
  return toCsv(lines(input));
}

export async function errorReportXlsx(input: ReportInput): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet(input.locale === 'zh-CN' ? '错误报告' : 'errors');
  // Plain string values: exceljs writes a formula only for { formula } cells, so "=1+1" stays text.
  for (const line of lines(input)) ws.addRow(line);
  ws.getRow(1).font = { bold: true };
  ws.views = [{ state: 'frozen', ySplit: 1 }];
  return Buffer.from(await wb.xlsx.writeBuffer());
}
