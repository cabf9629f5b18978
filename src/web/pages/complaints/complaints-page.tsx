// 投诉处理: the complaints of my subtree as cards (phone-friendly), filtered by state, category,
// severity, unit and emergency; "take a complaint" opens the intake form.
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Button, Card, Empty, Flex, List, Select, Spin, Switch, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { Page } from '../../shared/page.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { STATES, STATE_COLORS, named, useComplaintCatalog, type ComplaintItem } from './labels.js';

const PAGE_SIZE = 20;
/** The colour of a stage clock's band: within time, past half, past 90 %, late, paused. */
export const SLA_COLORS: Record<string, string> = {
  ok: 'green',
  warning: 'gold',
  late: 'orange',
  breached: 'red',
  paused: 'default',
};

export function ComplaintCard({ c }: { c: ComplaintItem }) {
  const { t } = useTranslation();
  return (
    <Link to={`/complaints/${c.id}`} style={{ color: 'inherit', display: 'block' }}>
      <Card size="small" hoverable data-testid={`complaint-${c.id}`}>
        <Flex gap={6} wrap align="center">
          <Typography.Text strong>{c.caseNo}</Typography.Text>
          <Tag color={STATE_COLORS[c.state]}>{t(`complaints.states.${c.state as 'verify'}`)}</Tag>
          {c.emergency && <Tag color="red">{t('complaints.emergency')}</Tag>}
          {c.sla.state !== 'none' && c.sla.state !== 'ok' ? (
            <Tag color={SLA_COLORS[c.sla.state]} data-testid={`complaint-sla-${c.id}`}>
              {t(`complaints.slaStates.${c.sla.state as 'ok'}`)}
              {c.sla.percent !== null && ` ${c.sla.percent}%`}
            </Tag>
          ) : (
            c.sla.percent !== null && <Tag color="green">{t('complaints.slaPercent', { n: c.sla.percent })}</Tag>
          )}
          {c.sla.superviseCount > 0 && (
            <Tag color="magenta">{t('complaints.sla.supervised', { n: c.sla.superviseCount })}</Tag>
          )}
          {c.bouncing && <Tag color="volcano">{t('complaints.bouncing')}</Tag>}
        </Flex>
        <Typography.Text type="secondary">
          {named(c.category)} · {named(c.severity)} · {c.orgUnitName}
        </Typography.Text>
        <div style={{ margin: '4px 0', overflowWrap: 'anywhere' }}>{c.content}</div>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {[
            c.customer?.name ?? c.complainantName ?? c.plate,
            t(`complaints.channels.${c.channel as 'station'}`),
            dayjs(c.takenAt).format('YYYY-MM-DD HH:mm'),
            c.returnCount > 0 && t('complaints.returns', { n: c.returnCount }),
            c.reassignCount > 0 && t('complaints.reassigns', { n: c.reassignCount }),
            c.reopenCount > 0 && t('complaints.reopens', { n: c.reopenCount }),
            c.rating !== null && t('complaints.rated', { n: c.rating }),
          ]
            .filter(Boolean)
            .join(' · ')}
        </Typography.Text>
      </Card>
    </Link>
  );
}

export function ComplaintsPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const catalog = useComplaintCatalog();
  const state = params.get('state') ?? undefined;
  const categoryCode = params.get('category') ?? undefined;
  const severityCode = params.get('severity') ?? undefined;
  const unit = Number(params.get('unit')) || undefined;
  const emergency = params.get('emergency') === '1';
  const watch = params.get('watch') === '1';
  const page = Number(params.get('page')) || 1;
  const set = (next: Record<string, string | null>) => {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(next)) {
      if (v === null || v === '') p.delete(k);
      else p.set(k, v);
    }
    if (!('page' in next)) p.delete('page');
    setParams(p);
  };
  const list = useQuery({
    queryKey: ['complaints', 'list', { state, categoryCode, severityCode, unit, emergency, watch, page }],
    queryFn: () =>
      unwrap(
        client.GET('/api/complaints', {
          params: {
            query: {
              page,
              pageSize: PAGE_SIZE,
              ...(state && { state: state as 'verify' }),
              ...(categoryCode && { categoryCode }),
              ...(severityCode && { severityCode }),
              ...(unit && { orgUnitId: unit }),
              ...(emergency && { emergency: true }),
              ...(watch && { watch: true }),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const items = list.data?.items ?? [];
  const total = list.data?.total ?? 0;
  return (
    <Page
      title={t('complaints.title')}
      extra={
        <Link to="/complaints/new">
          <Button type="primary" icon={<PlusOutlined />} data-testid="complaint-new">
            {t('complaints.new')}
          </Button>
        </Link>
      }
    >
      <Typography.Paragraph type="secondary">{t('complaints.intro')}</Typography.Paragraph>
      <Flex gap={8} wrap style={{ marginBottom: 12 }} align="center">
        <Select
          style={{ minWidth: 120 }}
          value={state ?? ''}
          onChange={(v: string) => set({ state: v })}
          options={[
            { value: '', label: t('complaints.allStates') },
            ...STATES.map((s) => ({ value: s, label: t(`complaints.states.${s}`) })),
          ]}
          data-testid="complaint-filter-state"
        />
        <Select
          style={{ minWidth: 140 }}
          value={categoryCode ?? ''}
          onChange={(v: string) => set({ category: v })}
          options={[
            { value: '', label: t('complaints.allCategories') },
            ...(catalog.data?.categories ?? []).map((c) => ({ value: c.code, label: named(c) })),
          ]}
        />
        <Select
          style={{ minWidth: 110 }}
          value={severityCode ?? ''}
          onChange={(v: string) => set({ severity: v })}
          options={[
            { value: '', label: t('complaints.allSeverities') },
            ...(catalog.data?.severities ?? []).map((c) => ({ value: c.code, label: named(c) })),
          ]}
        />
        <OrgTreeSelect
          style={{ minWidth: 160 }}
          allowClear
          placeholder={t('complaints.allUnits')}
          value={unit}
          onChange={(v) => set({ unit: v ? String(v) : null })}
        />
        <Flex gap={4} align="center">
          <Switch size="small" checked={emergency} onChange={(v) => set({ emergency: v ? '1' : null })} />
          <Typography.Text>{t('complaints.emergencyOnly')}</Typography.Text>
        </Flex>
        <Flex gap={4} align="center">
          <Switch
            size="small"
            checked={watch}
            onChange={(v) => set({ watch: v ? '1' : null })}
            data-testid="complaint-filter-watch"
          />
          <Typography.Text>{t('complaints.watchOnly')}</Typography.Text>
        </Flex>
      </Flex>
      <Spin spinning={list.isFetching}>
        {items.length === 0 ? (
          <Empty description={t('complaints.empty')} />
        ) : (
          <List
            dataSource={items}
            split={false}
            pagination={
              total > PAGE_SIZE
                ? {
                    current: page,
                    pageSize: PAGE_SIZE,
                    total,
                    onChange: (p) => set({ page: String(p) }),
                    size: 'small',
                    showSizeChanger: false,
                  }
                : false
            }
            renderItem={(c) => (
              <List.Item style={{ padding: '4px 0', display: 'block' }}>
                <ComplaintCard c={c} />
              </List.Item>
            )}
          />
        )}
      </Spin>
    </Page>
  );
}
