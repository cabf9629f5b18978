// What became of the alerts, per unit of my subtree: still open, closed by a person, or resolved by
// themselves (the customer came back, or his volume recovered); and the last nightly run, with the
// branches the churn models left out and why.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from '@tanstack/react-query';
import dayjs from 'dayjs';
import { Alert, Card, Empty, Flex, List, Segmented, Spin, Table, Typography } from 'antd';
import { client, unwrap, type ApiData } from '../../api/client.js';
import { errorText } from '../../shared/errors.js';

type UnitRow = ApiData<'/api/alerts/summary'>['units'][number];
type LatestRun = NonNullable<ApiData<'/api/alerts/runs/latest'>>;

const DAYS = [7, 30, 90] as const;

function LastRun() {
  const { t } = useTranslation();
  const latest = useQuery({
    queryKey: ['alerts-latest-run'],
    queryFn: () => unwrap(client.GET('/api/alerts/runs/latest')),
  });
  if (latest.error) return <Alert type="error" showIcon title={errorText(latest.error)} />;
  if (latest.isLoading) return <Spin />;
  const run: LatestRun | null = latest.data ?? null;
  return (
    <Card size="small" title={t('alerts.summary.lastRun')} data-testid="alerts-last-run">
      {!run ? (
        <Typography.Text type="secondary">{t('alerts.summary.noRun')}</Typography.Text>
      ) : (
        <>
          <Typography.Paragraph>
            {t('alerts.summary.lastRunLine', {
              period: run.period,
              raised: run.raised.cadence + run.raised.decline + run.raised.model,
              resolved: run.resolved.returned + run.resolved.recovered,
              fitted: run.fittedBranches,
            })}
            {run.finishedAt && (
              <Typography.Text type="secondary"> · {dayjs(run.finishedAt).format('YYYY-MM-DD HH:mm')}</Typography.Text>
            )}
          </Typography.Paragraph>
          {run.skippedBranches.length === 0 ? (
            <Typography.Text type="secondary">{t('alerts.summary.noSkipped')}</Typography.Text>
          ) : (
            <List
              size="small"
              header={<Typography.Text strong>{t('alerts.summary.skipped')}</Typography.Text>}
              dataSource={run.skippedBranches}
              renderItem={(b) => (
                <List.Item data-testid={`alerts-skipped-${b.orgUnitId}`}>
                  {t(`alerts.summary.skipReasons.${b.reason}`, {
                    name: b.name,
                    customers: b.customers,
                    minimum: b.minimum ?? '',
                    error: b.error ?? '',
                  })}
                </List.Item>
              )}
            />
          )}
        </>
      )}
    </Card>
  );
}

export function SummaryTab() {
  const { t } = useTranslation();
  const [days, setDays] = useState<(typeof DAYS)[number]>(30);
  const summary = useQuery({
    queryKey: ['alerts-summary', days],
    queryFn: () => unwrap(client.GET('/api/alerts/summary', { params: { query: { days } } })),
  });
  const units = summary.data?.units ?? [];
  const sum = (k: keyof Pick<UnitRow, 'raised' | 'open' | 'closed' | 'resolvedReturned' | 'resolvedRecovered'>) =>
    units.reduce((n, u) => n + u[k], 0);
  const columns = [
    { title: t('alerts.summary.unit'), dataIndex: 'name', key: 'name' },
    ...(['raised', 'open', 'closed', 'resolvedReturned', 'resolvedRecovered'] as const).map((k) => ({
      title: t(`alerts.summary.${k}`),
      dataIndex: k,
      key: k,
      align: 'right' as const,
    })),
  ];
  return (
    <Flex vertical gap={12}>
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
        {t('alerts.summary.intro')}
      </Typography.Paragraph>
      <Segmented
        value={days}
        onChange={(v) => setDays(v as (typeof DAYS)[number])}
        options={DAYS.map((n) => ({ value: n, label: t('alerts.summary.days', { n }) }))}
        data-testid="alerts-summary-days"
      />
      {summary.error ? (
        <Alert type="error" showIcon title={errorText(summary.error)} />
      ) : (
        <Table<UnitRow>
          size="small"
          rowKey="orgUnitId"
          loading={summary.isFetching}
          columns={columns}
          dataSource={units}
          pagination={false}
          scroll={{ x: 'max-content' }}
          locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('alerts.summary.empty')} /> }}
          data-testid="alerts-summary"
          summary={() =>
            units.length > 1 ? (
              <Table.Summary.Row>
                <Table.Summary.Cell index={0}>{t('alerts.summary.total')}</Table.Summary.Cell>
                {(['raised', 'open', 'closed', 'resolvedReturned', 'resolvedRecovered'] as const).map((k, i) => (
                  <Table.Summary.Cell key={k} index={i + 1} align="right">
                    {sum(k)}
                  </Table.Summary.Cell>
                ))}
              </Table.Summary.Row>
            ) : null
          }
        />
      )}
      <LastRun />
    </Flex>
  );
}
