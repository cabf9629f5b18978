// What the mystery-shopper pages share: the API's types, the period filter and the small tags.
import { useTranslation } from 'react-i18next';
import { DatePicker, Tag } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import type { ApiData } from '../../api/client.js';

export type MysteryForm = ApiData<'/api/mystery/forms'>[number];
export type FormSection = MysteryForm['sections'][number];
export type FormItem = FormSection['items'][number];
export type Assignment = ApiData<'/api/mystery/assignments'>['items'][number];
export type AssignmentDetail = ApiData<'/api/mystery/assignments/{id}'>;
export type Sheet = ApiData<'/api/mystery/assignments/{id}/sheet'>;
export type Results = ApiData<'/api/mystery/results'>;
export type Analysis = ApiData<'/api/mystery/analysis'>;
export type MysteryAction = ApiData<'/api/mystery/actions'>['items'][number];

export const MYSTERY_KEY = ['mystery'] as const;

/** The default period: this month so far and the two before it. */
export function defaultPeriod(): [Dayjs, Dayjs] {
  return [dayjs().subtract(2, 'month').startOf('month'), dayjs().endOf('month')];
}

export const day = (d: Dayjs) => d.format('YYYY-MM-DD');

export function PeriodPicker({ value, onChange }: { value: [Dayjs, Dayjs]; onChange: (v: [Dayjs, Dayjs]) => void }) {
  return (
    <DatePicker.RangePicker
      value={value}
      allowClear={false}
      onChange={(v) => v?.[0] && v[1] && onChange([v[0], v[1]])}
      data-testid="mystery-period"
    />
  );
}

export function ResultTag({ visit }: { visit: { passed: boolean; criticalFailed: boolean } }) {
  const { t } = useTranslation();
  if (visit.criticalFailed) return <Tag color="red">{t('mystery.criticalFailed')}</Tag>;
  return visit.passed ? (
    <Tag color="green">{t('mystery.passed')}</Tag>
  ) : (
    <Tag color="orange">{t('mystery.failed')}</Tag>
  );
}

export function windowText(
  t: (k: 'mystery.assignments.windowText' | 'mystery.assignments.hoursText', o: Record<string, unknown>) => string,
  a: { windowFrom: string; windowTo: string; hourFrom: number | null; hourTo: number | null },
): string {
  const w = t('mystery.assignments.windowText', {
    from: dayjs(a.windowFrom).format('YYYY-MM-DD'),
    to: dayjs(a.windowTo).format('YYYY-MM-DD'),
  });
  return a.hourFrom !== null && a.hourTo !== null
    ? `${w} · ${t('mystery.assignments.hoursText', { from: a.hourFrom, to: a.hourTo })}`
    : w;
}
