// The churn and anomaly work queue: my alerts or all in my scope, open or handled. Each card says
// who the customer is, why the rule fired and since when; closing asks what was done about it.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  App,
  Button,
  Card,
  Empty,
  Flex,
  Form,
  Input,
  List,
  Modal,
  Segmented,
  Select,
  Spin,
  Tabs,
  Tag,
  Typography,
} from 'antd';
import { CheckOutlined, PlayCircleOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { client, unwrap, type ApiData } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { useShowError } from '../../shared/errors.js';
import { Page } from '../../shared/page.js';
import { SummaryTab } from './summary-tab.js';
import { BacktestTab } from './backtest-tab.js';
import { AlertCaseLink, ToCaseButton, useAlertCases } from '../churn-cases/to-case-modal.js';
import type { ChurnCaseItem } from '../churn-cases/labels.js';

type Alert = ApiData<'/api/alerts'>['items'][number];
type Kind = Alert['kind'];
type Status = Alert['status'];
const KIND_COLORS: Record<Kind, string> = { cadence: 'orange', decline: 'gold', model: 'red' };
const PAGE_SIZE = 20;
const fmt = (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm');
const pct = (v: number | undefined) => Math.round((v ?? 0) * 1000) / 10;

/** Why the rule fired, in the reader's language, from the alert's detail. */
function useWhy() {
  const { t } = useTranslation();
  return (a: Alert): string => {
    const d = a.detail;
    if (a.kind === 'cadence')
      return t('alerts.why.cadence', {
        interval: d.usualIntervalDays,
        last: d.lastVisitDay,
        days: d.daysSince,
        over: d.overdueByDays,
      });
    if (a.kind === 'decline') {
      const months = d.months ?? [];
      const series = months
        .map((m) => t('alerts.litres', { month: m.month, v: Math.round(m.volumeMl / 1000) }))
        .join(' → ');
      const last = months.at(-1);
      const litres = (ml: number | undefined) => Math.round((ml ?? 0) / 100) / 10;
      return t('alerts.why.decline', {
        month: last?.month ?? '',
        recent: litres(last?.volumeMl),
        n: Math.max(months.length - 1, 0),
        base: litres(d.baselineMl),
        share: pct(d.share),
        series,
      });
    }
    return t('alerts.why.model', {
      model: d.model === 'pareto_nbd' ? 'Pareto/NBD' : 'BG/NBD',
      p: pct(d.pAlive),
      threshold: pct(d.threshold),
      expected: d.expected30d,
    });
  };
}

function AlertCard({ a, onClose, caseItem }: { a: Alert; onClose: (a: Alert) => void; caseItem?: ChurnCaseItem }) {
  const { t } = useTranslation();
  const why = useWhy();
  const access = useAccess();
  const c = a.customer;
  // For an absence still open (closed by hand, or raised before alerts resolved themselves), a visit
  // after the lapse's last visit day means he has come back since.
  const cameBack =
    a.status !== 'resolved' && a.kind !== 'decline' && c.lastVisitDay !== null && c.lastVisitDay > a.episode;
  return (
    <Card size="small" data-testid={`alert-${a.id}`}>
      <Flex justify="space-between" align="start" gap={8} wrap>
        <div style={{ minWidth: 0, flex: '1 1 240px' }}>
          <Flex gap={6} wrap align="center">
            <Typography.Text strong>{c.greeting ?? c.name ?? c.plate ?? c.code}</Typography.Text>
            {c.plate && <Tag>{c.plate}</Tag>}
            <Tag color={KIND_COLORS[a.kind]}>{t(`alerts.kinds.${a.kind}`)}</Tag>
            {cameBack && <Tag color="green">{t('alerts.cameBack')}</Tag>}
          </Flex>
          <div>
            <Typography.Text type="secondary">
              {[c.name, c.organisation, c.code].filter(Boolean).join(' · ')} · {a.orgUnitName}
            </Typography.Text>
          </div>
          <div style={{ margin: '4px 0' }}>{why(a)}</div>
          <Typography.Text type="secondary">
            {t('alerts.since')}: {fmt(a.openedAt)} · {t('alerts.assignee')}: {a.assigneeName ?? t('alerts.unassigned')}
          </Typography.Text>
          {a.status === 'resolved' && (
            <div style={{ marginTop: 4 }} data-testid={`alert-resolved-${a.id}`}>
              <Tag color="green">{t('alerts.resolved')}</Tag>
              {a.resolution === 'recovered'
                ? t('alerts.resolvedRecovered', { month: a.resolvedDay?.slice(0, 7) ?? '' })
                : t('alerts.resolvedReturned', { day: a.resolvedDay ?? '' })}
            </div>
          )}
          {a.status === 'closed' && !caseItem && (
            <div style={{ marginTop: 4 }}>
              <Typography.Text type="secondary">
                {t('alerts.closedBy', { name: a.closedByName ?? '', at: a.closedAt ? fmt(a.closedAt) : '' })}
              </Typography.Text>
              <div>
                {t('alerts.contactMade')}: {a.contactMade}
              </div>
              <div>
                {t('alerts.reasonFound')}: {a.reasonFound}
              </div>
              <div>
                {t('alerts.actionTaken')}: {a.actionTaken}
              </div>
            </div>
          )}
        </div>
        <Flex vertical align="end" gap={8}>
          <Link to={`/customers/${c.id}`}>{t('alerts.openCustomer')}</Link>
          {a.status === 'open' && access.canWriteCustomers && (
            <Button
              size="small"
              type="primary"
              icon={<CheckOutlined />}
              onClick={() => onClose(a)}
              data-testid={`alert-close-${a.id}`}
            >
              {t('alerts.close')}
            </Button>
          )}
          {caseItem ? (
            <AlertCaseLink item={caseItem} />
          ) : (
            (['open', 'closed'] as string[]).includes(a.status) &&
            access.canWriteCustomers && <ToCaseButton alert={a} />
          )}
        </Flex>
      </Flex>
    </Card>
  );
}

export function AlertsPage() {
  const { t } = useTranslation();
  const access = useAccess();
  const { message } = App.useApp();
  const showError = useShowError();
  const queryClient = useQueryClient();
  const [mine, setMine] = useState(true);
  const [status, setStatus] = useState<Status>('open');
  const [kind, setKind] = useState<Kind | undefined>(undefined);
  const [page, setPage] = useState(1);
  const [closing, setClosing] = useState<Alert | null>(null);
  const [running, setRunning] = useState(false);
  const [form] = Form.useForm<{ contactMade: string; reasonFound: string; actionTaken: string }>();
  const [params, setParams] = useSearchParams();

  const alerts = useQuery({
    queryKey: ['alerts', mine, status, kind, page],
    queryFn: () =>
      unwrap(
        client.GET('/api/alerts', {
          params: { query: { status, page, pageSize: PAGE_SIZE, ...(mine && { mine: true }), ...(kind && { kind }) } },
        }),
      ),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['alerts'] });

  const submit = async () => {
    if (!closing) return;
    let values;
    try {
      values = await form.validateFields();
    } catch {
      return;
    }
    try {
      await unwrap(client.POST('/api/alerts/{id}/close', { params: { path: { id: closing.id } }, body: values }));
      void message.success(t('alerts.closedDone'));
      setClosing(null);
      form.resetFields();
      await refresh();
    } catch (err) {
      showError(err, form);
    }
  };

  const run = async () => {
    setRunning(true);
    try {
      const r = await unwrap(client.POST('/api/alerts/run', { body: {} }));
      void message.success(t('alerts.runDone', { n: r.raised.cadence + r.raised.decline + r.raised.model }));
      await refresh();
    } catch (err) {
      showError(err);
    } finally {
      setRunning(false);
    }
  };

  const items = alerts.data?.items ?? [];
  const cases = useAlertCases(items.map((a) => a.id));
  const required = [{ required: true, whitespace: true, message: t('validation.required') }];
  const asked = params.get('tab');
  const tab = asked === 'summary' || (asked === 'backtest' && access.canWritePolicy) ? asked : 'queue';
  return (
    <Page
      title={t('alerts.title')}
      extra={
        access.canRunAlerts && (
          <Button icon={<PlayCircleOutlined />} loading={running} onClick={() => void run()} data-testid="alerts-run">
            {t('alerts.run')}
          </Button>
        )
      }
    >
      <Typography.Paragraph type="secondary">{t('alerts.intro')}</Typography.Paragraph>
      <Tabs
        activeKey={tab}
        onChange={(key) => setParams(key === 'queue' ? {} : { tab: key }, { replace: true })}
        destroyOnHidden
        items={[
          {
            key: 'queue',
            label: <span data-testid="alerts-tab-queue">{t('alerts.tabs.queue')}</span>,
            children: (
              <>
                <Flex gap={8} wrap style={{ marginBottom: 12 }}>
                  <Segmented
                    value={mine ? 'mine' : 'all'}
                    onChange={(v) => {
                      setMine(v === 'mine');
                      setPage(1);
                    }}
                    options={[
                      { value: 'mine', label: t('alerts.mine') },
                      { value: 'all', label: t('alerts.all') },
                    ]}
                    data-testid="alerts-scope"
                  />
                  <Segmented
                    value={status}
                    onChange={(v) => {
                      setStatus(v as Status);
                      setPage(1);
                    }}
                    options={[
                      { value: 'open', label: t('alerts.open') },
                      { value: 'closed', label: t('alerts.closed') },
                      { value: 'resolved', label: t('alerts.resolved') },
                    ]}
                    data-testid="alerts-status"
                  />
                  <Select
                    style={{ minWidth: 140 }}
                    value={kind ?? ''}
                    onChange={(v: string) => {
                      setKind(v === '' ? undefined : (v as Kind));
                      setPage(1);
                    }}
                    options={[
                      { value: '', label: t('alerts.allKinds') },
                      ...(['cadence', 'decline', 'model'] as const).map((k) => ({
                        value: k,
                        label: t(`alerts.kinds.${k}`),
                      })),
                    ]}
                    data-testid="alerts-kind"
                  />
                </Flex>
                <Spin spinning={alerts.isFetching}>
                  {items.length === 0 ? (
                    <Empty description={t('alerts.empty')} />
                  ) : (
                    <List
                      dataSource={items}
                      split={false}
                      pagination={
                        (alerts.data?.total ?? 0) > PAGE_SIZE
                          ? {
                              current: page,
                              pageSize: PAGE_SIZE,
                              total: alerts.data?.total ?? 0,
                              onChange: setPage,
                              size: 'small',
                              showSizeChanger: false,
                            }
                          : false
                      }
                      renderItem={(a) => (
                        <List.Item style={{ padding: '4px 0' }}>
                          <div style={{ width: '100%' }}>
                            <AlertCard a={a} onClose={setClosing} caseItem={cases.get(a.id)} />
                          </div>
                        </List.Item>
                      )}
                    />
                  )}
                </Spin>
              </>
            ),
          },
          {
            key: 'summary',
            label: <span data-testid="alerts-tab-summary">{t('alerts.tabs.summary')}</span>,
            children: <SummaryTab />,
          },
          ...(access.canWritePolicy
            ? [
                {
                  key: 'backtest',
                  label: <span data-testid="alerts-tab-backtest">{t('alerts.tabs.backtest')}</span>,
                  children: <BacktestTab />,
                },
              ]
            : []),
        ]}
      />
      <Modal
        open={!!closing}
        title={t('alerts.closeTitle')}
        onCancel={() => setClosing(null)}
        onOk={() => void submit()}
        okText={t('common.confirm')}
        cancelText={t('common.cancel')}
        destroyOnHidden
      >
        {closing && (
          <Typography.Paragraph type="secondary">
            {closing.customer.greeting ?? closing.customer.name ?? closing.customer.code} ·{' '}
            {t(`alerts.kinds.${closing.kind}`)}
          </Typography.Paragraph>
        )}
        <Form form={form} layout="vertical">
          <Form.Item name="contactMade" label={t('alerts.contactMade')} rules={required}>
            <Input.TextArea
              maxLength={2000}
              autoSize={{ minRows: 2, maxRows: 5 }}
              placeholder={t('alerts.contactPlaceholder')}
              data-testid="alert-contact"
            />
          </Form.Item>
          <Form.Item name="reasonFound" label={t('alerts.reasonFound')} rules={required}>
            <Input.TextArea
              maxLength={2000}
              autoSize={{ minRows: 2, maxRows: 5 }}
              placeholder={t('alerts.reasonPlaceholder')}
              data-testid="alert-reason"
            />
          </Form.Item>
          <Form.Item name="actionTaken" label={t('alerts.actionTaken')} rules={required}>
            <Input.TextArea
              maxLength={2000}
              autoSize={{ minRows: 2, maxRows: 5 }}
              placeholder={t('alerts.actionPlaceholder')}
              data-testid="alert-action"
            />
          </Form.Item>
        </Form>
      </Modal>
    </Page>
  );
}
