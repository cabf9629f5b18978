// 拜访周报: a unit's week (default: mine, last week) — planned vs done per unit and per person, records,
// problems handed up, follow-ups overdue; a chart of planned against done, an XLSX download.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, DatePicker, Empty, Flex, List, Space, Spin, Statistic, Table, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { client, unwrap, type ApiData } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { useMe } from '../../shared/session.js';
import { Page } from '../../shared/page.js';
import { Chart } from '../../shared/chart.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { useShowError } from '../../shared/errors.js';

type Summary = ApiData<'/api/visit-summaries'>;
type Row = Summary['units'][number];
const FIGURES = ['planned', 'done', 'recorded', 'problems', 'followUpsOverdue'] as const;

function Rows({ rows, person }: { rows: (Row & { orgUnitName?: string })[]; person: boolean }) {
  const { t } = useTranslation();
  const isPhone = useIsPhone();
  if (rows.length === 0) return <Empty description={t('visits.noFigures')} />;
  if (isPhone)
    return (
      <List
        dataSource={rows}
        renderItem={(r) => (
          <List.Item>
            <Flex vertical>
              <Typography.Text strong>
                {r.name}
                {person && r.orgUnitName ? ` · ${r.orgUnitName}` : ''}
              </Typography.Text>
              <Typography.Text type="secondary">
                {FIGURES.map((f) => `${t(`visits.figures.${f}`)} ${r[f]}`).join(' · ')}
              </Typography.Text>
            </Flex>
          </List.Item>
        )}
      />
    );
  return (
    <Table
      size="small"
      rowKey="id"
      pagination={false}
      dataSource={rows}
      columns={[
        { title: person ? t('visits.byPerson') : t('visits.byUnit'), dataIndex: 'name' },
        ...(person ? [{ title: t('visits.unit'), dataIndex: 'orgUnitName' }] : []),
        ...FIGURES.map((f) => ({ title: t(`visits.figures.${f}`), dataIndex: f, align: 'right' as const })),
      ]}
    />
  );
}

export function VisitSummaryPage() {
  const { t } = useTranslation();
  const me = useMe();
  const access = useAccess();
  const qc = useQueryClient();
  const showError = useShowError();
  const [params] = useSearchParams();
  const [unit, setUnit] = useState<number | undefined>(() => Number(params.get('unit')) || undefined);
  const [week, setWeek] = useState<Dayjs>(() =>
    /^\d{4}-\d{2}-\d{2}$/.test(params.get('week') ?? '') ? dayjs(params.get('week')) : dayjs().subtract(7, 'day'),
  );
  const monday = week.subtract((week.day() + 6) % 7, 'day').format('YYYY-MM-DD');
  const orgUnitId = unit ?? me.data?.orgUnitId;
  const query = { ...(orgUnitId && { orgUnitId }), weekStart: monday };
  const q = useQuery({
    queryKey: ['visits', 'summary', orgUnitId, monday],
    queryFn: () => unwrap(client.GET('/api/visit-summaries', { params: { query } })),
    enabled: !!orgUnitId,
  });
  const generate = useMutation({
    mutationFn: () => unwrap(client.POST('/api/visit-summaries/generate', { body: query })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['visits', 'summary'] }),
    onError: (e) => showError(e),
  });
  const s = q.data;
  const download = `/api/visit-summaries/xlsx?${new URLSearchParams({ ...(orgUnitId && { orgUnitId: String(orgUnitId) }), weekStart: monday })}`;
  return (
    <Page
      title={t('visits.summary')}
      extra={
        <>
          <Button href={download} data-testid="summary-xlsx">
            {t('visits.download')}
          </Button>
          {access.canApproveVisits && (
            <Button loading={generate.isPending} onClick={() => generate.mutate()}>
              {t('visits.generate')}
            </Button>
          )}
        </>
      }
    >
      <Space direction="vertical" style={{ width: '100%' }}>
        <Flex gap={8} wrap>
          <OrgTreeSelect value={unit} onChange={(v: number | undefined) => setUnit(v)} style={{ minWidth: 220 }} />
          <DatePicker picker="week" value={week} onChange={(d) => d && setWeek(d)} allowClear={false} />
        </Flex>
        {q.isLoading || !s ? (
          <Spin />
        ) : (
          <>
            <Typography.Text strong data-testid="summary-title">
              {t('visits.summaryOf', { unit: s.orgUnitName, from: s.weekStart, to: s.weekEnd })}
            </Typography.Text>
            {!s.stored && <Alert type="info" showIcon message={t('visits.notStored')} />}
            <Flex gap={24} wrap data-testid="summary-totals">
              {FIGURES.map((f) => (
                <Statistic key={f} title={t(`visits.figures.${f}`)} value={s.totals[f]} />
              ))}
            </Flex>
            {s.units.length > 0 && (
              <Card size="small">
                <Chart
                  height={220}
                  option={{
                    tooltip: { trigger: 'axis' },
                    legend: { top: 0, data: [t('visits.figures.planned'), t('visits.figures.done')] },
                    grid: { left: 40, right: 8, top: 30, bottom: 40 },
                    xAxis: {
                      type: 'category',
                      data: s.units.map((u) => u.name),
                      axisLabel: { interval: 0, rotate: s.units.length > 4 ? 30 : 0 },
                    },
                    yAxis: { type: 'value', minInterval: 1 },
                    series: [
                      { name: t('visits.figures.planned'), type: 'bar', data: s.units.map((u) => u.planned) },
                      { name: t('visits.figures.done'), type: 'bar', data: s.units.map((u) => u.done) },
                    ],
                  }}
                />
              </Card>
            )}
            <Card size="small" title={t('visits.byUnit')}>
              <Rows rows={s.units} person={false} />
            </Card>
            <Card size="small" title={t('visits.byPerson')} data-testid="summary-people">
              <Rows rows={s.people} person />
            </Card>
          </>
        )}
      </Space>
    </Page>
  );
}
