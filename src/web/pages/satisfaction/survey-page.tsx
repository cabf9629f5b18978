// 调查结果: a survey's figures (response rate, average satisfaction, NPS, CSAT, CES), the per-station
// results and the satisfaction levels as charts, and its calls as cards that open the caller's form.
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Col, Flex, List, Popconfirm, Row, Spin, Statistic, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { Chart, type ChartOption } from '../../shared/chart.js';
import { useShowError } from '../../shared/errors.js';
import { Page } from '../../shared/page.js';
import { TARGET_COLORS, type Survey } from './shared.js';

const dash = (v: number | null | undefined, suffix = '') => (v === null || v === undefined ? '—' : `${v}${suffix}`);

function Figures({ s }: { s: Survey }) {
  const { t } = useTranslation();
  const r = s.totals;
  return (
    <Row gutter={[12, 12]} style={{ marginBottom: 12 }}>
      <Col xs={12} md={6}>
        <Card size="small">
          <Statistic title={t('satisfaction.responseRate')} value={dash(r.responseRate, '%')} />
          <Typography.Text type="secondary">
            {t('satisfaction.progress', { a: r.answered, t: r.targets })}
          </Typography.Text>
        </Card>
      </Col>
      <Col xs={12} md={6}>
        <Card size="small">
          <Statistic title={t('satisfaction.averageRating')} value={dash(r.averageRating)} />
        </Card>
      </Col>
      <Col xs={12} md={6}>
        <Card size="small">
          <Statistic title={t('satisfaction.nps')} value={dash(r.nps)} />
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t('satisfaction.promoters')} {r.promoters} · {t('satisfaction.passives')} {r.passives} ·{' '}
            {t('satisfaction.detractors')} {r.detractors}
          </Typography.Text>
        </Card>
      </Col>
      <Col xs={12} md={6}>
        <Card size="small">
          <Statistic title={t('satisfaction.csat')} value={dash(r.csatPercent, '%')} />
          {r.averageCes !== null && (
            <Typography.Text type="secondary">
              {t('satisfaction.ces')} {r.averageCes}
            </Typography.Text>
          )}
        </Card>
      </Col>
    </Row>
  );
}

export function SurveyPage() {
  const { t } = useTranslation();
  const { id } = useParams();
  const access = useAccess();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const showError = useShowError();
  const q = useQuery({
    queryKey: ['survey', id],
    queryFn: () => unwrap(client.GET('/api/satisfaction/surveys/{id}', { params: { path: { id: Number(id) } } })),
  });
  const close = useMutation({
    mutationFn: () =>
      unwrap(client.POST('/api/satisfaction/surveys/{id}/close', { params: { path: { id: Number(id) } }, body: {} })),
    onSuccess: (s) => {
      qc.setQueryData(['survey', id], s);
      void message.success(t('satisfaction.saved'));
    },
    onError: (e) => showError(e),
  });
  const s = q.data;
  const byUnit = useMemo<ChartOption | null>(
    () =>
      s && s.byUnit.length > 0
        ? {
            tooltip: { trigger: 'axis' },
            legend: { top: 0, data: [t('satisfaction.averageRating'), t('satisfaction.nps')] },
            grid: { left: 40, right: 40, bottom: 80, top: 40 },
            xAxis: {
              type: 'category',
              data: s.byUnit.map((u) => u.orgUnitName),
              axisLabel: { interval: 0, rotate: 30 },
            },
            yAxis: [
              { type: 'value', min: 0, max: 5 },
              { type: 'value', min: -100, max: 100 },
            ],
            series: [
              { name: t('satisfaction.averageRating'), type: 'bar', data: s.byUnit.map((u) => u.averageRating) },
              { name: t('satisfaction.nps'), type: 'line', yAxisIndex: 1, data: s.byUnit.map((u) => u.nps) },
            ],
          }
        : null,
    [s, t],
  );
  const levels = useMemo<ChartOption | null>(
    () =>
      s
        ? {
            tooltip: { trigger: 'item' },
            grid: { left: 40, right: 16, bottom: 30, top: 16 },
            xAxis: {
              type: 'category',
              data: [1, 2, 3, 4, 5].map((n) => t(`satisfaction.level${n as 1}`)),
              axisLabel: { interval: 0 },
            },
            yAxis: { type: 'value', minInterval: 1 },
            series: [
              {
                type: 'bar',
                data: s.totals.distribution.map((v, i) => ({
                  value: v,
                  itemStyle: { color: ['#cf1322', '#fa8c16', '#fadb14', '#73d13d', '#389e0d'][i] },
                })),
              },
            ],
          }
        : null,
    [s, t],
  );
  if (!s) return <Spin />;
  return (
    <Page
      title={s.name}
      extra={
        access.canManageSurveys &&
        s.state === 'open' && (
          <Popconfirm title={t('satisfaction.closeConfirm')} onConfirm={() => close.mutate()}>
            <Button loading={close.isPending}>{t('satisfaction.close')}</Button>
          </Popconfirm>
        )
      }
    >
      <Flex gap={6} wrap style={{ marginBottom: 12 }}>
        <Tag color={s.state === 'open' ? 'blue' : 'default'}>{t(`satisfaction.states.${s.state as 'open'}`)}</Tag>
        <Typography.Text type="secondary">
          {s.orgUnitName} · {t('satisfaction.due', { d: dayjs(s.dueAt).format('YYYY-MM-DD') })} ·{' '}
          {t('satisfaction.sampleOf', { n: s.eligible })} · {t('satisfaction.seedValue', { seed: s.seed })}
        </Typography.Text>
      </Flex>
      <Figures s={s} />
      <Row gutter={[12, 12]} style={{ marginBottom: 12 }}>
        <Col xs={24} md={14}>
          <Card size="small" title={t('satisfaction.byUnit')}>
            {byUnit ? <Chart option={byUnit} height={280} testId="survey-by-unit" /> : '—'}
          </Card>
        </Col>
        <Col xs={24} md={10}>
          <Card size="small" title={t('satisfaction.distribution')}>
            {levels && <Chart option={levels} height={280} testId="survey-levels" />}
          </Card>
        </Col>
      </Row>
      <Typography.Title level={5}>{t('satisfaction.calls')}</Typography.Title>
      <List
        grid={{ gutter: 12, xs: 1, sm: 1, md: 2, lg: 3 }}
        dataSource={s.targets}
        renderItem={(c) => (
          <List.Item>
            <Link to={`/satisfaction/calls/${c.id}`} style={{ color: 'inherit', display: 'block' }}>
              <Card size="small" hoverable data-testid={`call-${c.id}`}>
                <Flex gap={6} wrap align="center">
                  <Typography.Text strong>{c.customerName}</Typography.Text>
                  <Tag color={TARGET_COLORS[c.state]}>{t(`satisfaction.targetStates.${c.state as 'pending'}`)}</Tag>
                  {c.rating !== null && <Tag>{t(`satisfaction.level${c.rating as 1}`)}</Tag>}
                </Flex>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {c.orgUnitName} · {c.phone}
                  {c.attempts > 0 && ` · ${t('satisfaction.attempts', { n: c.attempts })}`}
                </Typography.Text>
                {c.comment && <div style={{ overflowWrap: 'anywhere' }}>{c.comment}</div>}
              </Card>
            </Link>
          </List.Item>
        )}
      />
    </Page>
  );
}
