// 暗访问题分析: per item of a form, how many stations failed it in the period; a problem of many
// stations goes to the network as one corrective action, a problem of few to those stations.
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, DatePicker, Empty, Flex, Input, List, Modal, Select, Spin, Tag, Typography } from 'antd';
import type { Dayjs } from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { Page } from '../../shared/page.js';
import { Chart } from '../../shared/chart.js';
import { useShowError } from '../../shared/errors.js';
import { MYSTERY_KEY, PeriodPicker, day, defaultPeriod, type Analysis } from './shared.js';

type Item = Analysis['items'][number];

export function MysteryAnalysisPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const showError = useShowError();
  const qc = useQueryClient();
  const [period, setPeriod] = useState(defaultPeriod);
  const [code, setCode] = useState<string | undefined>();
  const [issuing, setIssuing] = useState<Item | null>(null);
  const [due, setDue] = useState<Dayjs | null>(null);
  const [note, setNote] = useState('');
  const forms = useQuery({
    queryKey: [...MYSTERY_KEY, 'forms'],
    queryFn: () => unwrap(client.GET('/api/mystery/forms')),
  });
  // One entry per form family, named by its newest published title.
  const families = useMemo(() => {
    const m = new Map<string, string>();
    for (const f of forms.data ?? []) if (f.state !== 'draft' && !m.has(f.code)) m.set(f.code, f.title);
    return [...m.entries()].map(([value, label]) => ({ value, label }));
  }, [forms.data]);
  const formCode = code ?? families[0]?.value;
  const analysis = useQuery({
    queryKey: [...MYSTERY_KEY, 'analysis', formCode, day(period[0]), day(period[1])],
    queryFn: () =>
      unwrap(
        client.GET('/api/mystery/analysis', {
          params: { query: { formCode: formCode!, from: day(period[0]), to: day(period[1]) } },
        }),
      ),
    enabled: !!formCode,
    placeholderData: keepPreviousData,
  });
  const issue = useMutation({
    mutationFn: (it: Item) =>
      unwrap(
        client.POST('/api/mystery/actions', {
          body: {
            formCode: formCode!,
            itemKey: it.itemKey,
            from: day(period[0]),
            to: day(period[1]),
            ...(due && { dueAt: due.endOf('day').toISOString() }),
            ...(note.trim() && { note: note.trim() }),
          },
        }),
      ),
    onSuccess: (r) => {
      void message.success(t('mystery.analysis.issued', { n: r.actionIds.length }));
      setIssuing(null);
      setNote('');
      setDue(null);
      void qc.invalidateQueries({ queryKey: MYSTERY_KEY });
    },
    onError: (e) => showError(e),
  });
  const data = analysis.data;
  const share = data?.networkSharePercent ?? 30;
  return (
    <Page title={t('mystery.analysis.title')}>
      <Typography.Paragraph type="secondary">
        {t('mystery.analysis.intro', { share, min: data?.networkMinStations ?? 2 })}
      </Typography.Paragraph>
      <Flex gap={8} wrap style={{ marginBottom: 12 }}>
        <Select
          style={{ minWidth: 200 }}
          value={formCode}
          options={families}
          onChange={setCode}
          placeholder={t('mystery.form')}
          data-testid="mystery-analysis-form"
        />
        <PeriodPicker value={period} onChange={setPeriod} />
      </Flex>
      <Spin spinning={analysis.isFetching}>
        {!data || data.items.length === 0 ? (
          <Empty description={t('mystery.analysis.empty')} />
        ) : (
          <>
            <Card size="small" title={t('mystery.analysis.chart')} style={{ marginBottom: 12 }}>
              <Chart
                testId="mystery-analysis-chart"
                height={Math.max(160, data.items.length * 30)}
                option={{
                  grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
                  tooltip: { trigger: 'axis' },
                  xAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
                  yAxis: { type: 'category', inverse: true, data: data.items.map((i) => i.text) },
                  series: [
                    {
                      type: 'bar',
                      data: data.items.map((i) => ({
                        value: i.sharePercent,
                        itemStyle: {
                          color: i.decision === 'network' ? '#722ed1' : i.decision ? '#1677ff' : '#d9d9d9',
                        },
                      })),
                      label: { show: true, position: 'right', formatter: '{c}%' },
                      markLine: {
                        symbol: 'none',
                        data: [{ xAxis: share }],
                        label: { formatter: t('mystery.analysis.threshold', { share }) },
                        lineStyle: { color: '#cf1322', type: 'dashed' },
                      },
                    },
                  ],
                }}
              />
            </Card>
            <List
              dataSource={data.items}
              split={false}
              renderItem={(it) => (
                <List.Item style={{ padding: '4px 0', display: 'block' }}>
                  <Card size="small" data-testid={`mystery-item-${it.itemKey}`}>
                    <Flex gap={6} wrap align="center">
                      <Typography.Text strong>{it.text}</Typography.Text>
                      {it.critical && <Tag color="red">{t('mystery.criticalFailed')}</Tag>}
                      <Tag color={it.decision === 'network' ? 'purple' : it.decision ? 'blue' : 'default'}>
                        {it.decision ? t(`mystery.scopes.${it.decision}`) : t('mystery.analysis.none')}
                      </Tag>
                    </Flex>
                    <Typography.Text type="secondary">
                      {t('mystery.failedOf', { failed: it.failedStations, evaluated: it.evaluatedStations })} ·{' '}
                      {it.sharePercent}%
                      {it.openActions > 0 && ` · ${t('mystery.analysis.openActions', { n: it.openActions })}`}
                    </Typography.Text>
                    {it.stations.length > 0 && (
                      <div style={{ overflowWrap: 'anywhere' }}>{it.stations.map((s) => s.orgUnitName).join('、')}</div>
                    )}
                    {it.decision && (
                      <Button
                        size="small"
                        type="primary"
                        style={{ marginTop: 6 }}
                        onClick={() => setIssuing(it)}
                        data-testid={`mystery-issue-${it.itemKey}`}
                      >
                        {t('mystery.analysis.issue')}
                      </Button>
                    )}
                  </Card>
                </List.Item>
              )}
            />
          </>
        )}
      </Spin>
      <Modal
        open={issuing !== null}
        title={issuing?.text}
        okText={t('mystery.analysis.issue')}
        okButtonProps={{ loading: issue.isPending }}
        onOk={() => issuing && issue.mutate(issuing)}
        onCancel={() => setIssuing(null)}
      >
        {issuing?.decision && (
          <Typography.Paragraph>
            <Tag color={issuing.decision === 'network' ? 'purple' : 'blue'}>
              {t(`mystery.scopes.${issuing.decision}`)}
            </Tag>
            {t('mystery.failedOf', { failed: issuing.failedStations, evaluated: issuing.evaluatedStations })}
          </Typography.Paragraph>
        )}
        <Flex vertical gap={8}>
          <DatePicker
            value={due}
            onChange={setDue}
            placeholder={t('mystery.analysis.dueAt')}
            style={{ width: '100%' }}
          />
          <Input.TextArea
            rows={3}
            value={note}
            placeholder={t('mystery.analysis.note')}
            onChange={(e) => setNote(e.target.value)}
          />
        </Flex>
      </Modal>
    </Page>
  );
}
