// The policies' vocabulary on the settings page: the rules each field is checked by (built from the
// same limits as the server's schema, so a refusal comes before the round trip), how values read
// with their units, what a change in the history is called, and where a server error belongs.
import type { FormRule } from 'antd';
import type { TFunction } from 'i18next';
import { client, unwrap } from '../../api/client.js';
import {
  BENEFIT_CODE_PATTERN,
  DEFAULT_POLICIES,
  limitProblem,
  POLICY_LIMITS,
  type ChangeValue,
  type NumberLimit,
  type PolicyKind,
} from '../../../domain/policies.js';

export const fetchPolicies = () => unwrap(client.GET('/api/policies'));
export const fetchHistory = (kind: PolicyKind) =>
  unwrap(client.GET('/api/policies/{kind}/history', { params: { path: { kind } } }));
export type PolicyVersion = Awaited<ReturnType<typeof fetchPolicies>>[number];
export type HistoryEntry = Awaited<ReturnType<typeof fetchHistory>>[number];

export const POLICIES_KEY = ['policies'] as const;
export const historyKey = (kind: PolicyKind) => ['policy-history', kind] as const;

/** Customer kinds that may have star thresholds of their own (the customer archive's kinds). */
export const CUSTOMER_KINDS = ['individual', 'organisation', 'residential', 'commercial'] as const;

export type Unit =
  'day' | 'litre' | 'yuan' | 'percent' | 'month' | 'visit' | 'star' | 'yuanPerTon' | 'times' | 'customer';
export type LimitKey = keyof typeof POLICY_LIMITS;

// The unit of each number field (percent fields hold a fraction and are shown ×100). Keyed by name,
// not by the limits' type, so a field a policy gains or retires needs a line here, not a type change.
const UNITS: Record<string, Unit> = {
  minTransactionYuan: 'yuan',
  topShare: 'percent',
  minStars: 'star',
  consecutiveMonths: 'month',
  discountYuanPerTon: 'yuanPerTon',
  discountRate: 'percent',
  minMonthlyYuan: 'yuan',
  graceDays: 'day',
  minVisits: 'visit',
  declineMonths: 'month',
  declineBaselineMonths: 'month',
  declineShare: 'percent',
  declineSpread: 'times',
  pAliveBelow: 'percent',
  normalYearlyLossRate: 'percent',
  modelMinCustomers: 'customer',
  modelMinHistoryDays: 'day',
  priceLeadDays: 'day',
  priceLookbackDays: 'day',
  holidayLeadDays: 'day',
  holidayMinStars: 'star',
  weatherLeadDays: 'day',
  birthdayLeadDays: 'day',
};

export const unitOf = (name: string): Unit | null => UNITS[name] ?? null;
export const isLimitKey = (name: string): name is LimitKey => Object.hasOwn(POLICY_LIMITS, name);

/** The number fields of a flat policy (card, churn alerts), in the order of its defaults. */
export const numberFieldsOf = (kind: PolicyKind): LimitKey[] => Object.keys(DEFAULT_POLICIES[kind]).filter(isLimitKey);

/** A field's label and help text; a field the catalog does not know yet is shown by its name. */
export const fieldLabel = (t: TFunction, name: string) =>
  t(`settings.fields.${name}` as 'settings.fields.graceDays', { defaultValue: name });
export const fieldHelp = (t: TFunction, name: string) =>
  t(`settings.fields.${name}Help` as 'settings.fields.graceDaysHelp', { defaultValue: '' });

/** A number as the form shows it: percent fields ×100, without floating-point dust (0.07 × 100). */
export const shown = (value: number, unit: Unit | null) => (unit === 'percent' ? Math.round(value * 1e8) / 1e6 : value);

function unitText(t: TFunction, unit: Unit | null): string {
  if (!unit) return '';
  return unit === 'percent' ? '%' : ` ${t(`settings.units.${unit}`)}`;
}

/** What values the field takes, in words: the text of a client refusal and of the server's. */
export function limitText(t: TFunction, limit: NumberLimit, unit: Unit | null): string {
  // The unit closes the range, and a space keeps a bare number or "%" apart from the words after it
  // (「0–60 天之间」, 「1–28 之间」, 「0–50% 之间」); in English the trailing space does not show.
  const after = unit === null ? ' ' : unit === 'percent' ? '% ' : ` ${t(`settings.units.${unit}`)}`;
  const min = shown(limit.min, unit);
  if (limit.max === undefined)
    return t(limit.integer ? 'settings.v.atLeastInt' : 'settings.v.atLeast', { min, unit: after }).trim();
  const max = shown(limit.max, unit);
  return t(limit.integer ? 'settings.v.rangeInt' : 'settings.v.range', { min, max, unit: after }).trim();
}

/** The rules of a number field, mirroring the API: required, in range, integer, yuan to the fen. */
export function numberRules(t: TFunction, limit: NumberLimit, unit: Unit | null, required = true): FormRule[] {
  return [
    ...(required ? [{ required: true, message: t('validation.required') }] : []),
    {
      validator: (_rule, value: unknown) => {
        if (value === null || value === undefined || value === '') return Promise.resolve();
        const problem = typeof value === 'number' ? limitProblem(limit, value) : 'min';
        if (!problem) return Promise.resolve();
        return Promise.reject(new Error(problem === 'fen' ? t('settings.v.fen') : limitText(t, limit, unit)));
      },
    },
  ];
}

export function textRules(t: TFunction, max: number, pattern?: string): FormRule[] {
  return [
    { required: true, whitespace: true, message: t('validation.required') },
    { max, message: t('settings.v.text', { max }) },
    ...(pattern ? [{ pattern: new RegExp(pattern), message: t('settings.v.benefitCode') }] : []),
  ];
}

export const benefitCodeRules = (t: TFunction, max: number) => textRules(t, max, BENEFIT_CODE_PATTERN);

/** Unique codes in a list field: the rule of `classes.N.code` and `benefits.N.code`. */
export function uniqueRule(
  t: TFunction,
  list: string,
  index: number,
  key = 'code',
  message = 'settings.problems.code_unique',
): FormRule {
  return ({ getFieldValue }) => ({
    validator: (_rule, value: unknown) => {
      const items = (getFieldValue(list) ?? []) as Record<string, unknown>[];
      const earlier = items.slice(0, index).some((it) => it?.[key] === value);
      return earlier && value
        ? Promise.reject(new Error(t(message as 'settings.problems.code_unique')))
        : Promise.resolve();
    },
  });
}

export function kindLabel(t: TFunction, kind: string): string {
  if (kind === 'default') return t('settings.fields.thresholdDefault');
  return (CUSTOMER_KINDS as readonly string[]).includes(kind) ? t(`customers.kinds.${kind as 'individual'}`) : kind;
}

// The label key of a field inside a rule list, where it differs from the field's own name.
const RULE_FIELD_LABEL: Record<string, Record<string, string>> = {
  classes: { minStars: 'classMinStars' },
  benefits: { minStars: 'benefitMinStars', nameZh: 'benefitNameZh', nameEn: 'benefitNameEn' },
};

/** What a change in the history is about, e.g. 「星级门槛（单位）」 or 「权益 supply_priority · 连续月数」. */
export function changeLabel(t: TFunction, path: readonly string[]): string {
  const field = (name: string) => fieldLabel(t, name);
  const [head = '', second, third] = path;
  if (head === 'thresholds' && second) return `${field('thresholds')}（${kindLabel(t, second)}）`;
  if ((head === 'classes' || head === 'benefits') && second && third) {
    const group = head === 'classes' ? field('classes') : field('benefit');
    return `${group} ${second} · ${field(RULE_FIELD_LABEL[head]?.[third] ?? third)}`;
  }
  return field(head);
}

/** A value of a change as it reads, with its unit; `basis` gives the thresholds' unit. */
export function changeValue(t: TFunction, path: readonly string[], value: ChangeValue, basis: string): string {
  if (value === null) return '—';
  const name = path[path.length - 1] ?? '';
  if (path[0] === 'thresholds' && Array.isArray(value)) {
    const unit = basis === 'amount' ? 'yuan' : 'litre';
    return `${value.map((v) => (typeof v === 'number' ? numberText(v, unit) : v)).join(' / ')}${unitText(t, unit)}`;
  }
  if (Array.isArray(value)) return value.join('、');
  if (name === 'basis') return t(`settings.fields.bases.${value === 'amount' ? 'amount' : 'volume'}`);
  if ((name === 'computeDay' || name === 'finalDay') && typeof value === 'number')
    return t('settings.fields.dayOfMonth', { n: value });
  if (typeof value === 'number' && isLimitKey(name)) {
    const unit = unitOf(name);
    return `${numberText(shown(value, unit), unit)}${unitText(t, unit)}`;
  }
  return String(value);
}

function numberText(v: number, unit: Unit | null): string {
  const money = unit === 'yuan' || unit === 'yuanPerTon';
  return v.toLocaleString('zh-CN', { minimumFractionDigits: money ? 2 : 0, maximumFractionDigits: money ? 2 : 6 });
}

/**
 * Where the server's field (`body.body.thresholds.organisation.2`) is in a policy's form. Forms mirror
 * the body except the star thresholds, which the form keeps as rows `{ kind, values }`; a list of
 * texts (products) is one field.
 */
export function formPathOf(serverField: string, thresholdKinds: readonly string[]): (string | number)[] | null {
  if (serverField === 'body.note') return ['note'];
  if (!serverField.startsWith('body.body.')) return null;
  const parts = serverField.slice('body.body.'.length).split('.');
  const index = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : null);
  const [head = '', second, third] = parts;
  if (head === 'thresholds') {
    const row = second === undefined ? -1 : thresholdKinds.indexOf(second);
    if (row < 0) return ['thresholds', 0, 'values', 0];
    return ['thresholds', row, 'values', index(third) ?? 0];
  }
  if (head === 'products') return ['products'];
  if ((head === 'classes' || head === 'benefits') && index(second) !== null) {
    return third ? [head, index(second)!, third] : [head, index(second)!, 'code'];
  }
  return [head];
}

/** The text for a server refusal on a form field: the rule broken, else the field's allowed values. */
export function serverFieldText(
  t: TFunction,
  path: readonly (string | number)[],
  rule: unknown,
  basis: string,
): string | null {
  if (
    typeof rule === 'string' &&
    ['thresholds_rise', 'final_before_compute', 'code_unique', 'fen', 'end_before_start'].includes(rule)
  ) {
    return t(`settings.problems.${rule as 'fen'}`);
  }
  const name = path[0] === 'thresholds' ? 'threshold' : String(path[path.length - 1]);
  if (!isLimitKey(name)) return null;
  const unit = name === 'threshold' ? (basis === 'amount' ? 'yuan' : 'litre') : unitOf(name);
  return limitText(t, POLICY_LIMITS[name], unit);
}
