// 流失个案: the cases of my subtree, or my second attempts; from the dashboard's loss rate it opens on
// one unit's customers lost in one month (unit and month live in the address). HQ keeps the kinds of
// loss and the survey's reasons on a tab of its own.
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Card, Empty, Flex, List, Segmented, Select, Spin, Tabs, Tag, Typography } from 'antd';
import { CloseOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { Page } from '../../shared/page.js';
import { CatalogEditor } from './catalog-editor.js';
import { STATES, STATE_COLORS, named, reasonName, type ChurnCaseItem, type ChurnState } from './labels.js';

const PAGE_SIZE = 20;
const fmt = (v: string) => dayjs(v).format('YYYY-MM-DD');

function CaseCard({ c }: { c: ChurnCaseItem }) {
  const { t } = useTranslation();
  const who = c.customer;
  const attempt = c.secondAttempt;
  return (
    <Link to={`/churn-cases/${c.id}`} style={{ color: 'inherit', display: 'block' }}>
      <Card size="small" hoverable data-testid={`churn-case-${c.id}`}>
        <Flex gap={6} wrap align="center">
          <Typography.Text strong>{who.greeting ?? who.name ?? who.plate ?? who.code}</Typography.Text>
          {who.plate && <Tag>{who.plate}</Tag>}
          <Tag color={STATE_COLORS[c.state]}>{t(`churn.states.${c.state}`)}</Tag>
          {attempt?.overdue && <Tag color="red">{t('churn.overdue')}</Tag>}
        </Flex>
        <div>
          <Typography.Text type="secondary">
            {t(`churn.categories.${c.category}`)} · {named(c.lossKind)} · {c.orgUnitName}
          </Typography.Text>
        </div>
        <div style={{ margin: '4px 0', overflowWrap: 'anywhere' }}>{c.note}</div>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {[
            t('churn.openedBy', { name: c.openedByName ?? '', at: fmt(c.openedAt) }),
            attempt &&
              c.state === 'second_attempt' &&
              t('churn.assignedTo', { name: attempt.assigneeName ?? '', due: attempt.dueDay }),
            c.lostDay && t('churn.lostOn', { day: c.lostDay }),
            c.wonBack && t('churn.wonBack', { day: c.wonBack.day ?? fmt(c.wonBack.at) }),
            c.survey ? `${t('churn.survey')}：${reasonName(c.survey)}` : c.state === 'lost' && t('churn.surveyMissing'),
          ]
            .filter(Boolean)
            .join(' · ')}
        </Typography.Text>
      </Card>
    </Link>
  );
}

function CasesList() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const unit = Number(params.get('unit')) || undefined;
  const month = /^\d{4}-\d{2}$/.test(params.get('month') ?? '') ? params.get('month')! : undefined;
  const unitName = params.get('unitName');
  const mine = params.get('mine') === '1';
  const state = (STATES as readonly string[]).includes(params.get('state') ?? '')
    ? (params.get('state') as ChurnState)
    : undefined;
  const page = Number(params.get('page')) || 1;
  const set = (next: Record<string, string | null>) => {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(next)) {
      if (v === null) p.delete(k);
      else p.set(k, v);
    }
    if (!('page' in next)) p.delete('page');
    setParams(p);
  };

  const cases = useQuery({
    queryKey: ['churn-cases', 'list', { unit, month, mine, state, page }],
    queryFn: () =>
      unwrap(
        client.GET('/api/churn-cases', {
          params: {
            query: {
              page,
              pageSize: PAGE_SIZE,
              ...(unit && { orgUnitId: unit }),
              ...(month && { lostMonth: month }),
              ...(mine && { mine: true }),
              ...(state && { state }),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const items = cases.data?.items ?? [];
  const total = cases.data?.total ?? 0;

  return (
    <>
      <Flex gap={8} wrap style={{ marginBottom: 12 }} align="center">
        <Segmented
          value={mine ? 'mine' : 'all'}
          onChange={(v) => set({ mine: v === 'mine' ? '1' : null })}
          options={[
            { value: 'all', label: t('churn.all') },
            { value: 'mine', label: t('churn.mine') },
          ]}
          data-testid="churn-scope"
        />
        <Select
          style={{ minWidth: 150 }}
          value={state ?? ''}
          onChange={(v: string) => set({ state: v === '' ? null : v })}
          options={[
            { value: '', label: t('churn.allStates') },
            ...STATES.map((s) => ({ value: s, label: t(`churn.states.${s}`) })),
          ]}
          data-testid="churn-state"
        />
        {unit && month && (
          <Tag
            closable
            closeIcon={<CloseOutlined />}
            onClose={() => set({ unit: null, month: null, unitName: null })}
            data-testid="churn-drill"
          >
            {t('churn.drill', { unit: unitName ?? '', month })}
          </Tag>
        )}
      </Flex>
      <Spin spinning={cases.isFetching}>
        {items.length === 0 ? (
          <Empty description={t('churn.empty')} />
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
                <CaseCard c={c} />
              </List.Item>
            )}
          />
        )}
      </Spin>
    </>
  );
}

export function ChurnCasesPage() {
  const { t } = useTranslation();
  const access = useAccess();
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') === 'catalog' && access.canWritePolicy ? 'catalog' : 'cases';
  return (
    <Page title={t('churn.title')}>
      <Typography.Paragraph type="secondary">{t('churn.intro')}</Typography.Paragraph>
      {access.canWritePolicy && (
        <Tabs
          activeKey={tab}
          onChange={(k) => setParams(k === 'catalog' ? { tab: 'catalog' } : {})}
          items={[
            { key: 'cases', label: t('churn.casesTab') },
            { key: 'catalog', label: t('churn.catalogTab') },
          ]}
        />
      )}
      {tab === 'cases' ? <CasesList /> : <CatalogEditor />}
    </Page>
  );
}
