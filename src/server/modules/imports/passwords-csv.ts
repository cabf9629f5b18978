// The initial passwords of an import of users as a CSV sheet for the one who ran it (UTF-8 with BOM,
// headed in his language), handed over once: see ImportsService.takePasswords.
import { toCsv } from '../customers/csv.js';
import { labelLocale } from '../../../domain/customer-labels.js';

export interface InitialPassword {
  row: number;
  username: string;
  displayName: string;
  unitCode: string;
  password: string;
}

const HEAD = {
  'zh-CN': ['行号', '用户名', '姓名', '所属单位编码', '初始密码'],
  'en-US': ['Row', 'Username', 'Name', 'Unit code', 'Initial password'],
} as const;

export function passwordsCsv(rows: readonly InitialPassword[], locale: string | null | undefined): string {
  const head = HEAD[labelLocale(locale)];
  return toCsv([[...head], ...rows.map((r) => [String(r.row), r.username, r.displayName, r.unitCode, r.password])]);
}
