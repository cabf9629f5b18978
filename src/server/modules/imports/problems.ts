// A row's problem as a stable code with its parameters, stored as a short JSON text in
// import_row_error.message and worded only when read (the page, the CLI, the reports) in the reader's
// language, with the field named by the label the app gives it. Rows stored before codes existed
// keep their English text.
import { CUSTOMER_FIELD_LABELS, labelLocale, type LabelLocale } from '../../../domain/customer-labels.js';

export type ProblemCode =
  | 'LOST_DIGITS'
  | 'REQUIRED'
  | 'NOT_DATE'
  | 'NOT_DATE_TIME'
  | 'NOT_AMOUNT'
  | 'NOT_VOLUME'
  | 'NOT_POSITIVE'
  | 'UNKNOWN_KIND'
  | 'BAD_PHONE'
  | 'BAD_PLATE'
  | 'BAD_CARD'
  | 'NEEDS_KEY'
  | 'DUPLICATE'
  | 'OTHER_AREA'
  | 'CONTROL_CHAR'
  // Refused by the transaction or top-up ingest (ingest-problems.ts maps its codes to these).
  | 'CONFLICT'
  | 'STATION_UNKNOWN'
  | 'STATION_OUT_OF_SCOPE'
  | 'NOT_A_STATION'
  | 'STATION_REQUIRED'
  | 'TOO_LONG'
  | 'OUT_OF_RANGE'
  | 'FUTURE'
  | 'BEFORE_2000'
  | 'NOT_ALLOWED'
  | 'REFUSED'
  | 'UNKNOWN_OWNER'
  // Org units and users (org-rows.ts, user-rows.ts).
  | 'BAD_CODE'
  | 'UNKNOWN_UNIT_KIND'
  | 'BAD_TIME_ZONE'
  | 'DUPLICATE_IN_FILE'
  | 'PARENT_UNKNOWN'
  | 'PARENT_OUT_OF_SCOPE'
  | 'PARENT_REFUSED'
  | 'PARENT_DIFFERS'
  | 'CYCLE'
  | 'UNIT_UNKNOWN'
  | 'UNIT_OUT_OF_SCOPE'
  | 'BAD_USERNAME'
  | 'USERNAME_TAKEN'
  | 'ROLE_UNKNOWN'
  | 'ROLE_EXCEEDS_RIGHTS'
  | 'USER_EXCEEDS_RIGHTS'
  | 'SELF_CHANGE'
  | 'LAST_ADMINISTRATOR'
  | 'INVALID';

export type ProblemParams = Record<string, string | number | string[]>;

export interface CodedProblem {
  code: ProblemCode;
  params: ProblemParams;
}

/** The stored form: cheap to write on the hot path, worded later. */
export function encodeProblem(code: ProblemCode, params: ProblemParams = {}): string {
  // A value quoted back is cut short, so the stored text stays whole JSON within its column's excerpt.
  const p: ProblemParams = {};
  for (const [k, v] of Object.entries(params)) p[k] = typeof v === 'string' && v.length > 80 ? `${v.slice(0, 80)}…` : v;
  return JSON.stringify({ c: code, p });
}

export function decodeProblem(stored: string): CodedProblem {
  if (stored.startsWith('{"c":')) {
    try {
      const x = JSON.parse(stored) as { c: ProblemCode; p: ProblemParams };
      return { code: x.c, params: x.p ?? {} };
    } catch {
      // Cut to its stored length: fall through to the text as written.
    }
  }
  return { code: 'INVALID', params: { reason: stored } };
}

const IMPORT_ONLY: Record<LabelLocale, Record<string, string>> = {
  'zh-CN': {
    phone2: '电话2',
    occurredAt: '交易时间',
    occurredTime: '时刻',
    externalId: '流水号',
    stationCode: '站点编码',
    product: '油品',
    volumeLitres: '数量（升）',
    unitPrice: '单价',
    amount: '金额',
    bonus: '赠送金额',
    payment: '支付方式',
    businessLine: '业务类型',
    unitCode: '单位编码',
    unitName: '单位名称',
    parentCode: '上级单位编码',
    unitKind: '单位类型',
    timeZone: '时区',
    displayName: '姓名',
    username: '用户名',
    userUnitCode: '所属单位编码',
    roles: '角色',
    mobile: '手机号',
  },
  'en-US': {
    phone2: 'Phone 2',
    occurredAt: 'Time',
    occurredTime: 'Time of day',
    externalId: 'Serial number',
    stationCode: 'Station code',
    product: 'Product',
    volumeLitres: 'Litres',
    unitPrice: 'Unit price',
    amount: 'Amount',
    bonus: 'Bonus',
    payment: 'Payment',
    businessLine: 'Business line',
    unitCode: 'Unit code',
    unitName: 'Unit name',
    parentCode: 'Parent unit code',
    unitKind: 'Unit kind',
    timeZone: 'Time zone',
    displayName: 'Name',
    username: 'Username',
    userUnitCode: 'Unit code',
    roles: 'Roles',
    mobile: 'Mobile',
  },
};

/** What the app calls an import field in this language; an unknown field as its name. */
export function fieldLabel(field: string | null, locale: LabelLocale): string {
  if (!field) return '';
  const labels = CUSTOMER_FIELD_LABELS[locale] as Record<string, string>;
  return labels[field] ?? IMPORT_ONLY[locale][field] ?? field;
}

const q = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/** A matched record: its code, `#12` (row 12 of this file) or `?` (a record in another area, never its code). */
function matchName(m: string, l: LabelLocale): string {
  if (m === '?') return l === 'zh-CN' ? '其他区域的一条记录' : 'a record in another area';
  if (/^#\d+$/.test(m)) return l === 'zh-CN' ? `本文件第 ${m.slice(1)} 行` : `row ${m.slice(1)} of this file`;
  return m;
}
const matches = (p: ProblemParams, l: LabelLocale) =>
  [p.matches ?? []]
    .flat()
    .map((m) => matchName(String(m), l))
    .join(l === 'zh-CN' ? '、' : ', ');

const joined = (v: ProblemParams[string] | undefined, l: LabelLocale, sep = l === 'zh-CN' ? '、' : ', ') =>
  [v ?? []].flat().map(String).join(sep);

const WORDS: Record<LabelLocale, Record<ProblemCode, (f: string, p: ProblemParams) => string>> = {
  'zh-CN': {
    LOST_DIGITS: (f, p) => `${f}“${q(p.value)}”被表格存成了数字，丢失了末几位：请把该列设为文本格式后重新导出`,
    REQUIRED: (f) => `${f}不能为空`,
    NOT_DATE: (f, p) => `${f}“${q(p.value)}”不是有效日期`,
    NOT_DATE_TIME: (f, p) => `${f}“${q(p.value)}”不是有效的日期时间`,
    NOT_AMOUNT: (f, p) => `${f}“${q(p.value)}”不是以元计的金额`,
    NOT_VOLUME: (f, p) => `${f}“${q(p.value)}”不是以升计的油量`,
    NOT_POSITIVE: (f) => `${f}必须大于 0`,
    UNKNOWN_KIND: (f, p) => `${f}“${q(p.value)}”无法识别（可填：个人、单位、居民、工商户）`,
    BAD_PHONE: (f, p) => `${f}“${q(p.value)}”不是有效的手机或固定电话号码`,
    BAD_PLATE: (f, p) => `${f}“${q(p.value)}”不是有效的车牌号`,
    BAD_CARD: (f, p) => `${f}“${q(p.value)}”应为 6–32 位字母或数字`,
    NEEDS_KEY: () => '这一行至少要有姓名/名称、车牌号、电话或卡号之一',
    DUPLICATE: (_f, p) => `疑似重复：同时匹配 ${matches(p, 'zh-CN')}，请先核对合并`,
    OTHER_AREA: () => '该客户已在其他区域建档，未作改动',
    CONTROL_CHAR: (f) => `${f}含有不可见的控制字符（U+0000），请在表格中清除后重新导出`,
    CONFLICT: (f, p) => {
      const what = p.kind === 'topup' ? '充值' : '交易';
      const first =
        Number(p.firstRow) > 0 ? `本文件第 ${q(p.firstRow)} 行已有这个流水号` : `已入库的${what}有这个流水号`;
      return `流水号“${q(p.externalId)}”重复：${first}，但${f}不同。改动过的${what}请使用新的流水号`;
    },
    STATION_UNKNOWN: (f, p) => `${f}“${q(p.value)}”没有对应的油站`,
    STATION_OUT_OF_SCOPE: (_f, p) => `油站“${q(p.value)}”不在导入到的单位之下`,
    NOT_A_STATION: (_f, p) => `“${q(p.value)}”不是油站：交易和充值只能记在油站下`,
    STATION_REQUIRED: (f) => `请填写${f}：导入到的单位不是油站，每一行都要写明是哪个油站`,
    TOO_LONG: (f, p) => `${f}“${q(p.value)}”太长（最多 ${q(p.maxChars)} 个字符）`,
    OUT_OF_RANGE: (f, p) => `${f}“${q(p.value)}”超出允许的范围`,
    FUTURE: (f, p) => `${f}“${q(p.value)}”晚于现在`,
    BEFORE_2000: (f, p) => `${f}“${q(p.value)}”早于 2000 年`,
    NOT_ALLOWED: (f, p) => `${f}“${q(p.value)}”不是可用的选项`,
    REFUSED: (f) => (f ? `${f}未通过检查，这一行没有导入` : '这一行未通过检查，没有导入'),
    UNKNOWN_OWNER: (f, p) => `${f}“${q(p.value)}”不是本单位及下级在职人员的用户名`,
    BAD_CODE: (f, p) => `${f}“${q(p.value)}”只能由字母、数字和 _ . - 组成（最多 64 个字符）`,
    UNKNOWN_UNIT_KIND: (f, p) => `${f}“${q(p.value)}”无法识别（可填：${joined(p.allowed, 'zh-CN')}）`,
    BAD_TIME_ZONE: (f, p) => `${f}“${q(p.value)}”不是有效的时区，请填写如 Asia/Shanghai 的时区名`,
    DUPLICATE_IN_FILE: (f, p) => `${f}“${q(p.value)}”与本文件第 ${q(p.firstRow)} 行重复，这一行未导入`,
    PARENT_UNKNOWN: (f, p) => `${f}“${q(p.value)}”在文件和系统中都找不到`,
    PARENT_OUT_OF_SCOPE: (f, p) => `${f}“${q(p.value)}”不在您管理的单位范围内`,
    PARENT_REFUSED: (f, p) => `${f}“${q(p.value)}”所在的行有错误，这一行随之未导入`,
    PARENT_DIFFERS: (f, p) =>
      `单位“${q(p.value)}”已在上级“${q(p.parent)}”之下，${f}与之不同：调整上级请在组织架构页面操作`,
    CYCLE: (f, p) => `${f}形成循环：${joined(p.cycle, 'zh-CN', ' → ')}`,
    UNIT_UNKNOWN: (f, p) => `${f}“${q(p.value)}”没有对应的单位`,
    UNIT_OUT_OF_SCOPE: (f, p) => `${f}“${q(p.value)}”不在您管理的单位范围内`,
    BAD_USERNAME: (f, p) => `${f}“${q(p.value)}”应为 2–64 位字母、数字或 _ . @ -`,
    USERNAME_TAKEN: (f, p) => `${f}“${q(p.value)}”已被您管理范围以外的人员使用`,
    ROLE_UNKNOWN: (f, p) => `${f}“${q(p.value)}”不存在`,
    ROLE_EXCEEDS_RIGHTS: (f, p) => `${f}“${q(p.value)}”含有您自己没有的权限，不能授予`,
    USER_EXCEEDS_RIGHTS: (f, p) => `${f}“${q(p.value)}”的人员拥有您没有的权限，您不能修改`,
    SELF_CHANGE: () => '不能通过导入修改自己的单位或角色',
    LAST_ADMINISTRATOR: (f, p) => `${f}：“${q(p.value)}”将不再是系统管理员，公司会没有在用的系统管理员，这一行未导入`,
    INVALID: (f, p) => (f ? `${f}：${q(p.reason)}` : q(p.reason)),
  },
  'en-US': {
    LOST_DIGITS: (f, p) =>
      `${f} ${q(p.value)} was stored by the spreadsheet as a number and lost its last digits; ` +
      'format the column as text and export again',
    REQUIRED: (f) => `${f} is required`,
    NOT_DATE: (f, p) => `${f} "${q(p.value)}" is not a date`,
    NOT_DATE_TIME: (f, p) => `${f} "${q(p.value)}" is not a date and time`,
    NOT_AMOUNT: (f, p) => `${f} "${q(p.value)}" is not an amount in yuan`,
    NOT_VOLUME: (f, p) => `${f} "${q(p.value)}" is not a volume in litres`,
    NOT_POSITIVE: (f) => `${f} must be more than 0`,
    UNKNOWN_KIND: (f, p) => `${f} "${q(p.value)}" is not a kind we know`,
    BAD_PHONE: (f, p) => `${f} "${q(p.value)}" is not a mobile or landline number`,
    BAD_PLATE: (f, p) => `${f} "${q(p.value)}" is not a plate`,
    BAD_CARD: (f, p) => `${f} "${q(p.value)}" must be 6–32 letters or digits`,
    NEEDS_KEY: () => 'a row needs at least a name, plate, phone or card',
    DUPLICATE: (_f, p) => `possible duplicate: matches ${matches(p, 'en-US')}; review and merge them first`,
    OTHER_AREA: () => 'on file in another area; not changed',
    CONTROL_CHAR: (f) =>
      `${f} contains an invisible control character (U+0000); remove it in the spreadsheet and export again`,
    CONFLICT: (f, p) => {
      const what = p.kind === 'topup' ? 'top-up' : 'sale';
      const first = Number(p.firstRow) > 0 ? `row ${q(p.firstRow)} of this file has it` : `a ${what} on file has it`;
      return `serial number "${q(p.externalId)}" repeated: ${first} with another ${f}; a changed ${what} needs a new serial number`;
    },
    STATION_UNKNOWN: (f, p) => `${f} "${q(p.value)}" is no station`,
    STATION_OUT_OF_SCOPE: (_f, p) => `station "${q(p.value)}" is not under the unit imported into`,
    NOT_A_STATION: (_f, p) => `"${q(p.value)}" is not a station: sales and top-ups are booked at stations`,
    STATION_REQUIRED: (f) => `${f} is required: the unit imported into is not a station, so each row names one`,
    TOO_LONG: (f, p) => `${f} "${q(p.value)}" is too long (at most ${q(p.maxChars)} characters)`,
    OUT_OF_RANGE: (f, p) => `${f} "${q(p.value)}" is out of range`,
    FUTURE: (f, p) => `${f} "${q(p.value)}" is in the future`,
    BEFORE_2000: (f, p) => `${f} "${q(p.value)}" is before 2000`,
    NOT_ALLOWED: (f, p) => `${f} "${q(p.value)}" is not one of the values allowed`,
    REFUSED: (f) => (f ? `${f} did not pass the checks; the row was not imported` : 'the row did not pass the checks'),
    UNKNOWN_OWNER: (f, p) => `${f} "${q(p.value)}" is no active user's username in your unit or below`,
    BAD_CODE: (f, p) => `${f} "${q(p.value)}" may hold only letters, digits and _ . - (at most 64)`,
    UNKNOWN_UNIT_KIND: (f, p) => `${f} "${q(p.value)}" is not a kind we know (${joined(p.allowedEn, 'en-US')})`,
    BAD_TIME_ZONE: (f, p) => `${f} "${q(p.value)}" is not a time zone; write one such as Asia/Shanghai`,
    DUPLICATE_IN_FILE: (f, p) =>
      `${f} "${q(p.value)}" repeats row ${q(p.firstRow)} of this file; the row was not imported`,
    PARENT_UNKNOWN: (f, p) => `${f} "${q(p.value)}" is neither in the file nor on file`,
    PARENT_OUT_OF_SCOPE: (f, p) => `${f} "${q(p.value)}" is outside the units you manage`,
    PARENT_REFUSED: (f, p) => `${f} "${q(p.value)}": that unit's row has errors, so this row was not imported either`,
    PARENT_DIFFERS: (f, p) =>
      `unit "${q(p.value)}" is under "${q(p.parent)}" already and the ${f} differs; move units on the org page`,
    CYCLE: (f, p) => `${f} makes a loop: ${joined(p.cycle, 'en-US', ' → ')}`,
    UNIT_UNKNOWN: (f, p) => `${f} "${q(p.value)}" is no unit`,
    UNIT_OUT_OF_SCOPE: (f, p) => `${f} "${q(p.value)}" is outside the units you manage`,
    BAD_USERNAME: (f, p) => `${f} "${q(p.value)}" must be 2–64 letters, digits or _ . @ -`,
    USERNAME_TAKEN: (f, p) => `${f} "${q(p.value)}" is taken by someone outside the units you manage`,
    ROLE_UNKNOWN: (f, p) => `${f}: "${q(p.value)}" does not exist`,
    ROLE_EXCEEDS_RIGHTS: (f, p) => `${f}: "${q(p.value)}" holds rights you do not have, so you cannot give it`,
    USER_EXCEEDS_RIGHTS: (f, p) => `${f} "${q(p.value)}" holds rights you do not have, so you cannot change him`,
    SELF_CHANGE: () => 'you cannot change your own unit or roles by an import',
    LAST_ADMINISTRATOR: (f, p) =>
      `${f}: "${q(p.value)}" would no longer be an administrator, leaving the company without an active ` +
      'administrator; the row was not imported',
    INVALID: (f, p) => (f ? `${f}: ${q(p.reason)}` : q(p.reason)),
  },
};

/** A stored problem in the reader's words. */
export function renderProblem(stored: string, field: string | null, locale: string | null | undefined): string {
  const l = labelLocale(locale);
  const { code, params } = decodeProblem(stored);
  const words = WORDS[l][code] ?? WORDS[l].INVALID;
  return words(fieldLabel(field, l), params);
}

/**
 * Rows one action fixes, said once: the card numbers (and phones, serials) a spreadsheet stored as
 * numbers. One line per field: 第 3、7、12… 行（共 40 行）卡号被表格存成了数字….
 */
export function groupedSummaries(
  problems: readonly { row: number; field: string | null; message: string }[],
  locale: string | null | undefined,
): string[] {
  const l = labelLocale(locale);
  const rows = new Map<string, number[]>();
  for (const p of problems) {
    if (!p.message.startsWith('{"c":"LOST_DIGITS"')) continue;
    const list = rows.get(p.field ?? '') ?? rows.set(p.field ?? '', []).get(p.field ?? '')!;
    if (list[list.length - 1] !== p.row) list.push(p.row);
  }
  const out: string[] = [];
  for (const [field, list] of rows) {
    const shown = list.slice(0, 10);
    const more = list.length > shown.length;
    const label = fieldLabel(field, l);
    out.push(
      l === 'zh-CN'
        ? `第 ${shown.join('、')}${more ? '…' : ''} 行（共 ${list.length} 行）${label}被表格存成了数字，丢失了末几位：` +
            '请把该列设为文本格式后重新导出'
        : `Rows ${shown.join(', ')}${more ? '…' : ''} (${list.length} in all): ${label} was stored by the spreadsheet ` +
            'as a number and lost its last digits; format the column as text and export again',
    );
  }
  return out;
}

/** A job's figures, as the totals line reads them. */
export interface JobCounts {
  kind: string | null;
  rowsTotal: number | null;
  rowsOk: number;
  rowsRejected: number;
  rowsFlagged: number;
  skippedCount: number;
  createdCount: number;
  updatedCount: number;
  unchangedCount: number;
}

/**
 * The file's rows accounted for in one line: good + rejected + flagged + empty rows skipped = the rows
 * below the header (up to the last row of data), then what the good rows do.
 */
export function totalsLine(j: JobCounts, locale: string | null | undefined): string {
  const l = labelLocale(locale);
  const total = j.rowsOk + j.rowsRejected + j.rowsFlagged + j.skippedCount;
  const ingest = j.kind === 'transactions' || j.kind === 'topups';
  const onboarding = j.kind === 'org_units' || j.kind === 'users';
  if (l === 'zh-CN') {
    const good = ingest
      ? `新增 ${j.createdCount}，已有 ${j.unchangedCount}`
      : `新建 ${j.createdCount}，${onboarding ? '更新' : '补充'} ${j.updatedCount}，无变化 ${j.unchangedCount}`;
    return (
      `共 ${total} 行（不含表头）：可导入 ${j.rowsOk}，有错误 ${j.rowsRejected}，疑似重复 ${j.rowsFlagged}，` +
      `跳过空行 ${j.skippedCount}；可导入的行：${good}`
    );
  }
  const good = ingest
    ? `${j.createdCount} new, ${j.unchangedCount} already on file`
    : `${j.createdCount} created, ${j.updatedCount} ${onboarding ? 'updated' : 'filled in'}, ${j.unchangedCount} unchanged`;
  return (
    `${total} rows (header excluded): ${j.rowsOk} good, ${j.rowsRejected} with errors, ` +
    `${j.rowsFlagged} possible duplicates, ${j.skippedCount} empty rows skipped; the good rows: ${good}`
  );
}
