// 神秘顾客: the evaluations of my subtree in a period — each station's average as a chart, the scores
// over time, the visits as cards — and the corrective actions I may close.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Col, Empty, Flex, Input, List, Modal, Row, Spin, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { Page } from '../../shared/page.js';
import { Chart } from '../../shared/chart.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { useShowError } from '../../shared/errors.js';
import {
  MYSTERY_KEY,
  PeriodPicker,
  ResultTag,
  day,
  defaultPeriod,
  type MysteryAction,
  type Results,
} from './shared.js';

function ScoreCharts({ data }: { data: Results }) {
  const { t } = useTranslation();
  const names = [...new Set(data.visits.map((v) => v.orgUnitName))];
  return (
    <Row gutter={[12, 12]} style={{ marginBottom: 12 }}>
      <Col xs={24} lg={12}>
        <Card size="small" title={t('mystery.stationScores')}>
          <Chart
            testId="mystery-station-chart"
            height={Math.max(160, data.stations.length * 32)}
            option={{
              grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
              tooltip: { trigger: 'axis' },
              xAxis: { type: 'value', min: 0, max: 100 },
              yAxis: { type: 'category', data: data.stations.map((s) => s.orgUnitName) },
              series: [
                {
                  type: 'bar',
                  data: data.stations.map((s) => ({
                    value: s.averagePercent,
                    itemStyle: { color: s.passRate < 50 ? '#fa8c16' : '#52c41a' },
                  })),
                  label: { show: true, position: 'right' },
                },
              ],
            }}
          />
        </Card>
      </Col>
      <Col xs={24} lg={12}>
        <Card size="small" title={t('mystery.scoresOverTime')}>
          <Chart
            testId="mystery-trend-chart"
            height={Math.max(160, data.stations.length * 32)}
            option={{
              grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
              tooltip: { trigger: 'axis' },
              legend: { type: 'scroll', top: 0 },
              xAxis: { type: 'time', minInterval: 86_400_000 },
              yAxis: { type: 'value', min: 0, max: 100 },
              series: names.map((name) => ({
                name,
                type: 'line',
                data: data.visits.filter((v) => v.orgUnitName === name).map((v) => [v.day, v.scorePercent]),
              })),
            }}
          />
        </Card>
      </Col>
    </Row>
  );
}

function ActionCard({ a, onClose }: { a: MysteryAction; onClose: (a: MysteryAction) => void }) {
  const { t } = useTranslation();
  return (
    <Card size="small" data-testid={`mystery-action-${a.id}`}>
      <Flex gap={6} wrap align="center">
        <Tag color={a.scope === 'network' ? 'purple' : 'blue'}>{t(`mystery.scopes.${a.scope as 'network'}`)}</Tag>
        <Typography.Text strong>{a.itemText}</Typography.Text>
        {a.overdue && <Tag color="red">{t('mystery.overdue')}</Tag>}
      </Flex>
      <Typography.Text type="secondary">
        {[
          a.orgUnitName,
          t('mystery.failedOf', { failed: a.failedStations, evaluated: a.evaluatedStations }),
          `${a.periodFrom} ~ ${a.periodTo}`,
          t('mystery.dueAt', { at: dayjs(a.dueAt).format('YYYY-MM-DD') }),
        ].join(' · ')}
      </Typography.Text>
      {a.note && <div style={{ overflowWrap: 'anywhere' }}>{a.note}</div>}
      {a.state === 'open' ? (
        <Button size="small" type="primary" style={{ marginTop: 6 }} onClick={() => onClose(a)}>
          {t('mystery.close')}
        </Button>
      ) : (
        <Typography.Text type="secondary" style={{ display: 'block' }}>
          {t('mystery.closedBy', {
            name: a.closedByName ?? '',
            at: dayjs(a.closedAt).format('YYYY-MM-DD'),
            note: a.closeNote ?? '',
          })}
        </Typography.Text>
      )}
    </Card>
  );
}

export function MysteryResultsPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const showError = useShowError();
  const qc = useQueryClient();
  const [period, setPeriod] = useState(defaultPeriod);
  const [unit, setUnit] = useState<number | undefined>();
  const [closing, setClosing] = useState<MysteryAction | null>(null);
  const [note, setNote] = useState('');
  const results = useQuery({
    queryKey: [...MYSTERY_KEY, 'results', day(period[0]), day(period[1]), unit],
    queryFn: () =>
      unwrap(
        client.GET('/api/mystery/results', {
          params: { query: { from: day(period[0]), to: day(period[1]), ...(unit && { orgUnitId: unit }) } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const actions = useQuery({
    queryKey: [...MYSTERY_KEY, 'actions'],
    queryFn: () => unwrap(client.GET('/api/mystery/actions', { params: { query: { page: 1, pageSize: 50 } } })),
  });
  const close = useMutation({
    mutationFn: (a: MysteryAction) =>
      unwrap(client.POST('/api/mystery/actions/{id}/close', { params: { path: { id: a.id } }, body: { note } })),
    onSuccess: () => {
      void message.success(t('mystery.closed'));
      setClosing(null);
      setNote('');
      void qc.invalidateQueries({ queryKey: MYSTERY_KEY });
    },
    onError: (e) => showError(e),
  });
  const data = results.data;
  return (
    <Page title={t('menu.mystery')}>
      <Typography.Paragraph type="secondary">{t('mystery.intro')}</Typography.Paragraph>
      <Flex gap={8} wrap style={{ marginBottom: 12 }}>
        <PeriodPicker value={period} onChange={setPeriod} />
        <OrgTreeSelect
          style={{ minWidth: 160 }}
          allowClear
          placeholder={t('mystery.allUnits')}
          value={unit}
          onChange={(v) => setUnit(v ?? undefined)}
        />
      </Flex>
      <Spin spinning={results.isFetching}>
        {!data || data.visits.length === 0 ? (
          <Empty description={t('mystery.noVisits')} />
        ) : (
          <>
            <ScoreCharts data={data} />
            <Typography.Title level={5}>{t('mystery.visitList')}</Typography.Title>
            <List
              dataSource={[...data.visits].reverse()}
              split={false}
              renderItem={(v) => (
                <List.Item style={{ padding: '4px 0', display: 'block' }}>
                  <Link to={`/mystery/assignments/${v.assignmentId}`} style={{ color: 'inherit', display: 'block' }}>
                    <Card size="small" hoverable data-testid={`mystery-visit-${v.id}`}>
                      <Flex gap={6} wrap align="center">
                        <Typography.Text strong>{v.orgUnitName}</Typography.Text>
                        <Typography.Text>{t('mystery.scoreOf', { score: v.scorePercent })}</Typography.Text>
                        <ResultTag visit={v} />
                      </Flex>
                      <Typography.Text type="secondary">
                        {v.day} · {v.formTitle} · {t('mystery.version', { v: v.formVersion })}
                      </Typography.Text>
                    </Card>
                  </Link>
                </List.Item>
              )}
            />
          </>
        )}
      </Spin>
      <Typography.Title level={5} style={{ marginTop: 16 }}>
        {t('mystery.actions')}
      </Typography.Title>
      {(actions.data?.items.length ?? 0) === 0 ? (
        <Empty description={t('mystery.noActions')} />
      ) : (
        <Flex vertical gap={8}>
          {actions.data!.items.map((a) => (
            <ActionCard key={a.id} a={a} onClose={setClosing} />
          ))}
        </Flex>
      )}
      <Modal
        open={closing !== null}
        title={closing?.itemText}
        okText={t('mystery.close')}
        okButtonProps={{ disabled: !note.trim(), loading: close.isPending }}
        onOk={() => closing && close.mutate(closing)}
        onCancel={() => setClosing(null)}
      >
        <Input.TextArea
          rows={3}
          value={note}
          placeholder={t('mystery.closeNote')}
          onChange={(e) => setNote(e.target.value)}
          data-testid="mystery-close-note"
        />
      </Modal>
    </Page>
  );
}
