// What the visit pages share: state colours, the reason of a planned visit in words, a customer picker.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from '@tanstack/react-query';
import { Select, Tag } from 'antd';
import { client, unwrap, type ApiData } from '../../api/client.js';

export type Plan = ApiData<'/api/visit-plans/{id}'>;
export type PlannedVisit = Plan['visits'][number];
export type CalendarVisit = ApiData<'/api/visits/calendar'>[number];
export type VisitRecord = ApiData<'/api/visit-records/{id}'>;

export const PLAN_COLORS: Record<string, string> = {
  draft: 'default',
  submitted: 'processing',
  approved: 'success',
  returned: 'warning',
};
export const VISIT_COLORS: Record<string, string> = {
  planned: 'blue',
  appointed: 'cyan',
  done: 'green',
  cancelled: 'default',
};

export function PlanStateTag({ state }: { state: string }) {
  const { t } = useTranslation();
  return <Tag color={PLAN_COLORS[state]}>{t(`visits.planStates.${state}` as 'visits.planStates.draft')}</Tag>;
}

export function VisitStateTag({ state }: { state: string }) {
  const { t } = useTranslation();
  return <Tag color={VISIT_COLORS[state]}>{t(`visits.visitStates.${state}` as 'visits.visitStates.planned')}</Tag>;
}

/** "Open alert (2 alerts)", "Due by policy (class VIP)"… */
export function useReasonText() {
  const { t } = useTranslation();
  return (reason: string, detail: string | null) => {
    const head = t(`visits.reasons.${reason}` as 'visits.reasons.alert');
    if (!detail) return head;
    const [k, v] = detail.split(':');
    if (k !== 'alerts' && k !== 'share' && k !== 'class') return head;
    return `${head}（${t(`visits.reasonDetail.${k}`, { n: v })}）`;
  };
}

/** A customer of my organisation, found by name, plate or code. */
export function CustomerPicker({ value, onChange }: { value?: number; onChange?: (id: number) => void }) {
  const { t } = useTranslation();
  const [q, setQ] = useState('');
  const found = useQuery({
    queryKey: ['customers', 'pick', q],
    queryFn: () =>
      unwrap(
        client.GET('/api/customers', { params: { query: { q, page: 1, pageSize: 20, sort: 'name', order: 'asc' } } }),
      ),
    enabled: q.trim().length >= 1,
  });
  return (
    <Select
      showSearch
      value={value}
      placeholder={t('visits.customerPick')}
      filterOption={false}
      onSearch={setQ}
      onChange={(v) => onChange?.(v)}
      loading={found.isFetching}
      data-testid="visit-customer-pick"
      options={(found.data?.items ?? []).map((c) => ({
        value: c.id,
        label: [c.name ?? c.organisation ?? c.code, c.plates?.[0], c.code].filter(Boolean).join(' · '),
      }))}
      style={{ minWidth: 220 }}
    />
  );
}
