// 经营看板: any unit of the user's subtree and a month; the unit and month live in the address so a
// drill-down can be shared and the back button climbs back up.
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { Alert, DatePicker, Spin, Tabs } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { errorText } from '../../shared/errors.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { Page } from '../../shared/page.js';
import { useCurrentUser } from '../../shared/session.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { CardSuggestionsTab } from './card-suggestions-tab.js';
import { ChurnTab } from './churn-tab.js';
import { KeyCustomersTab, type KeySort } from './key-customers-tab.js';
import { OverviewTab } from './overview-tab.js';
import { AsOfBar, useSnapshotQuery } from './snapshot.js';

const TABS = ['overview', 'key', 'cards', 'churn'] as const;
type TabKey = (typeof TABS)[number];

export function DashboardPage() {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const isPhone = useIsPhone();
  const [params, setParams] = useSearchParams();
  const unitId = Number(params.get('unit')) || me.orgUnitId;
  const month = /^\d{4}-\d{2}$/.test(params.get('month') ?? '') ? params.get('month')! : dayjs().format('YYYY-MM');
  const tab: TabKey = (TABS as readonly string[]).includes(params.get('tab') ?? '')
    ? (params.get('tab') as TabKey)
    : 'overview';
  // Card suggestions look at a whole month: the one before the month shown elsewhere.
  const cardMonth = dayjs(`${month}-01`).subtract(1, 'month').format('YYYY-MM');
  const keySort: KeySort = params.get('sort') === 'value' ? 'value' : 'volume';

  const set = (next: Partial<{ unit: number; month: string; tab: TabKey; sort: KeySort }>) => {
    const p = new URLSearchParams(params);
    if (next.unit !== undefined) p.set('unit', String(next.unit));
    if (next.month !== undefined) p.set('month', next.month);
    if (next.tab !== undefined) p.set('tab', next.tab);
    if (next.sort !== undefined) p.set('sort', next.sort);
    setParams(p);
  };

  const overview = useSnapshotQuery(
    ['dashboard', unitId, month],
    (refresh) =>
      unwrap(
        client.GET('/api/dashboards/unit/{id}', {
          params: { path: { id: unitId }, query: { month, ...(refresh && { refresh }) } },
        }),
      ),
    tab === 'overview',
  );
  const keyCustomers = useSnapshotQuery(
    ['key-customers', unitId, month, keySort],
    (refresh) =>
      unwrap(
        client.GET('/api/key-customers', {
          params: { query: { orgUnitId: unitId, month, sort: keySort, ...(refresh && { refresh }) } },
        }),
      ),
    tab === 'key',
  );
  const dashboard = overview.query;
  const keys = keyCustomers.query;
  const current = tab === 'overview' ? overview : keyCustomers;

  return (
    <Page
      title={t('dashboard.title')}
      extra={
        <>
          <OrgTreeSelect
            value={unitId}
            onChange={(id) => id && set({ unit: id })}
            style={{ width: isPhone ? '100%' : 240 }}
            data-testid="dash-unit"
          />
          <DatePicker
            picker="month"
            allowClear={false}
            value={dayjs(`${month}-01`)}
            onChange={(d: Dayjs | null) => d && set({ month: d.format('YYYY-MM') })}
            disabledDate={(d) => d.isAfter(dayjs(), 'month')}
            style={{ width: isPhone ? '100%' : 140 }}
            data-testid="dash-month"
          />
        </>
      }
    >
      <Tabs
        activeKey={tab}
        onChange={(k) => set({ tab: k as TabKey })}
        items={[
          { key: 'overview', label: t('dashboard.overview') },
          { key: 'key', label: t('dashboard.keyCustomers') },
          { key: 'cards', label: t('dashboard.cardSuggestions', { month: cardMonth }) },
          { key: 'churn', label: t('churn.lossRate.tab') },
        ]}
      />
      {(tab === 'overview' || tab === 'key') && current.query.error && (
        <Alert type="error" showIcon title={errorText(current.query.error)} style={{ marginBottom: 12 }} />
      )}
      {(tab === 'overview' || tab === 'key') && (
        <AsOfBar
          asOf={current.query.data?.asOf}
          onRefresh={() => void current.refresh()}
          refreshing={current.refreshing}
        />
      )}
      {tab === 'overview' &&
        (dashboard.data ? (
          <OverviewTab data={dashboard.data} onOpenUnit={(id) => set({ unit: id })} />
        ) : (
          dashboard.isPending && <Spin />
        ))}
      {tab === 'key' &&
        (keys.data ? (
          <KeyCustomersTab data={keys.data} sort={keySort} onSort={(sort) => set({ sort })} />
        ) : (
          keys.isPending && <Spin />
        ))}
      {tab === 'cards' && (
        <CardSuggestionsTab
          orgUnitId={unitId}
          month={cardMonth}
          previousMonth={cardMonth === dayjs().subtract(1, 'month').format('YYYY-MM')}
        />
      )}
      {tab === 'churn' && <ChurnTab unitId={unitId} month={month} onOpenUnit={(id) => set({ unit: id })} />}
    </Page>
  );
}
