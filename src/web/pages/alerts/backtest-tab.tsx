// The policy owner's back-test: the alert rules replayed night by night under a policy he edits
// here, before it is saved — alerts per rule and per station, false and true ones, the delay after
// the expected visit. The policy's fields are the settings page's.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import dayjs, { type Dayjs } from 'dayjs';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  DatePicker,
  Flex,
  Form,
  Input,
  InputNumber,
  Modal,
  Row,
  Spin,
  Table,
  Typography,
} from 'antd';
import { ExperimentOutlined, SaveOutlined } from '@ant-design/icons';
import { ApiError, client, unwrap, type paths } from '../../api/client.js';
import { errorText, useShowError } from '../../shared/errors.js';
import { POLICY_TEXT_LIMITS, type PolicyBodies } from '../../../domain/policies.js';
import { PolicyFields, fromForm, toForm, type PolicyForm } from '../settings/policy-fields.js';
import { POLICIES_KEY, fetchPolicies } from '../settings/policy-format.js';

type Report = paths['/api/alerts/backtest']['post']['responses'][200]['content']['application/json'];
type Figures = Report['rules'][number];
type StationRow = Figures & { key: string; unit: string };

const MAX_NIGHTS = 92;
const RANGE_RULES = ['to_before_from', 'not_past', 'too_many_nights'] as const;

function useFigureColumns(followUpDays: number) {
  const { t } = useTranslation();
  const days = (v: number | null) => (v === null ? '–' : t('alerts.backtest.days', { v }));
  return [
    {
      title: t('alerts.backtest.rule'),
      dataIndex: 'rule',
      key: 'rule',
      render: (r: Figures['rule']) => t(`alerts.kinds.${r}`),
    },
    { title: t('alerts.backtest.raised'), dataIndex: 'raised', key: 'raised', align: 'right' as const },
    { title: t('alerts.backtest.customers'), dataIndex: 'customers', key: 'customers', align: 'right' as const },
    {
      title: t('alerts.backtest.cameBack', { n: followUpDays }),
      dataIndex: 'cameBack',
      key: 'cameBack',
      align: 'right' as const,
    },
    {
      title: t('alerts.backtest.cameBackLater'),
      dataIndex: 'cameBackLater',
      key: 'cameBackLater',
      align: 'right' as const,
    },
    {
      title: t('alerts.backtest.neverCameBack'),
      dataIndex: 'neverCameBack',
      key: 'neverCameBack',
      align: 'right' as const,
    },
    { title: t('alerts.backtest.undecided'), dataIndex: 'undecided', key: 'undecided', align: 'right' as const },
    {
      title: t('alerts.backtest.falseShare'),
      dataIndex: 'falseShare',
      key: 'falseShare',
      align: 'right' as const,
      render: (v: number | null) => (v === null ? '–' : `${Math.round(v * 1000) / 10}%`),
    },
    {
      title: t('alerts.backtest.delayMedian'),
      key: 'median',
      align: 'right' as const,
      render: (_: unknown, f: Figures) => days(f.delayDays.median),
    },
    {
      title: t('alerts.backtest.delayP90'),
      key: 'p90',
      align: 'right' as const,
      render: (_: unknown, f: Figures) => days(f.delayDays.p90),
    },
  ];
}

function ReportView({ report }: { report: Report }) {
  const { t } = useTranslation();
  const columns = useFigureColumns(report.followUpDays);
  const stations: StationRow[] = report.stations.flatMap((s) =>
    s.rules.filter((f) => f.raised > 0).map((f) => ({ ...f, key: `${s.orgUnitId}-${f.rule}`, unit: s.name })),
  );
  return (
    <Flex vertical gap={12} data-testid="backtest-report">
      <Typography.Text strong>
        {t('alerts.backtest.headline', {
          from: report.from,
          to: report.to,
          nights: report.nights,
          customers: report.customers,
          lastDay: report.lastDataDay ?? '–',
          seconds: report.seconds,
        })}
      </Typography.Text>
      <Table<Figures>
        size="small"
        rowKey="rule"
        columns={columns}
        dataSource={report.rules}
        pagination={false}
        scroll={{ x: 'max-content' }}
        data-testid="backtest-rules"
      />
      <Typography.Text type="secondary">{t('alerts.backtest.declineNote')}</Typography.Text>
      <Typography.Text type="secondary">
        {t('alerts.backtest.model', { fits: report.model.fits, scored: report.model.scored })}
        {report.model.skipped.map((s) => (
          <span key={`${s.orgUnitId}-${s.reason}`}>
            {' · '}
            {t('alerts.backtest.skipped', {
              name: s.name,
              nights: s.nights,
              reason: t(`alerts.backtest.skipReasons.${s.reason}`, { minimum: s.minimum ?? '' }),
            })}
          </span>
        ))}
      </Typography.Text>
      {stations.length > 0 && (
        <>
          <Typography.Title level={5} style={{ margin: 0 }}>
            {t('alerts.backtest.perStation')}
          </Typography.Title>
          <Table<StationRow>
            size="small"
            rowKey="key"
            columns={[{ title: t('alerts.backtest.unit'), dataIndex: 'unit', key: 'unit' }, ...columns]}
            dataSource={stations}
            pagination={stations.length > 30 ? { pageSize: 30, size: 'small', showSizeChanger: false } : false}
            scroll={{ x: 'max-content' }}
            data-testid="backtest-stations"
          />
        </>
      )}
    </Flex>
  );
}

interface RangeForm {
  from: Dayjs;
  to: Dayjs;
  followUpDays: number;
}

export function BacktestTab() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const showError = useShowError();
  const queryClient = useQueryClient();
  const policies = useQuery({ queryKey: POLICIES_KEY, queryFn: fetchPolicies });
  const inForce = policies.data?.find((p) => p.kind === 'anomaly');
  const [range] = Form.useForm<RangeForm>();
  const [policyForm] = Form.useForm<PolicyForm>();
  const [report, setReport] = useState<Report | null>(null);
  const [running, setRunning] = useState(false);
  const [saving, setSaving] = useState(false);
  const [note, setNote] = useState('');
  const [confirming, setConfirming] = useState(false);
  const yesterday = dayjs().subtract(1, 'day');

  const candidate = async (): Promise<PolicyBodies['anomaly'] | null> => {
    try {
      return fromForm('anomaly', await policyForm.validateFields()) as PolicyBodies['anomaly'];
    } catch {
      return null;
    }
  };

  const run = async () => {
    let r: RangeForm;
    try {
      r = await range.validateFields();
    } catch {
      return;
    }
    const policy = await candidate();
    if (!policy) return;
    setRunning(true);
    try {
      const body = {
        from: r.from.format('YYYY-MM-DD'),
        to: r.to.format('YYYY-MM-DD'),
        followUpDays: r.followUpDays,
        policy,
      };
      setReport(await unwrap(client.POST('/api/alerts/backtest', { body })));
    } catch (err) {
      const rule = err instanceof ApiError ? (err.details as { rule?: string } | undefined)?.rule : undefined;
      if (err instanceof ApiError && err.field && rule && (RANGE_RULES as readonly string[]).includes(rule)) {
        const details = err.details as { today?: string; max?: number };
        range.setFields([
          {
            name: err.field.replace('body.', '') as keyof RangeForm,
            errors: [
              t(`alerts.backtest.rules.${rule as (typeof RANGE_RULES)[number]}`, {
                today: details.today ?? '',
                max: details.max ?? MAX_NIGHTS,
              }),
            ],
          },
        ]);
      } else if (err instanceof ApiError && err.field?.startsWith('body.policy.')) {
        policyForm.setFields([{ name: err.field.replace('body.policy.', ''), errors: [errorText(err)] }]);
      } else showError(err, range);
    } finally {
      setRunning(false);
    }
  };

  const save = async () => {
    const policy = await candidate();
    if (!policy) return;
    setSaving(true);
    try {
      await unwrap(
        client.PUT('/api/policies/anomaly', { body: { body: policy, ...(note.trim() && { note: note.trim() }) } }),
      );
      void message.success(t('alerts.backtest.saved'));
      setConfirming(false);
      setNote('');
      await queryClient.invalidateQueries({ queryKey: POLICIES_KEY });
    } catch (err) {
      showError(err);
    } finally {
      setSaving(false);
    }
  };

  if (policies.error) return <Alert type="error" showIcon title={errorText(policies.error)} />;
  if (!inForce) return <Spin />;
  return (
    <Flex vertical gap={12}>
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
        {t('alerts.backtest.intro')}
      </Typography.Paragraph>
      <Card size="small">
        <Form
          form={range}
          layout="vertical"
          initialValues={{ from: yesterday.subtract(59, 'day'), to: yesterday, followUpDays: 30 }}
        >
          <Row gutter={12}>
            <Col xs={12} sm={8}>
              <Form.Item
                name="from"
                label={t('alerts.backtest.from')}
                rules={[{ required: true, message: t('validation.required') }]}
              >
                <DatePicker
                  style={{ width: '100%' }}
                  allowClear={false}
                  disabledDate={(d) => !d.isBefore(dayjs(), 'day')}
                  data-testid="backtest-from"
                />
              </Form.Item>
            </Col>
            <Col xs={12} sm={8}>
              <Form.Item
                name="to"
                label={t('alerts.backtest.to')}
                rules={[{ required: true, message: t('validation.required') }]}
              >
                <DatePicker
                  style={{ width: '100%' }}
                  allowClear={false}
                  disabledDate={(d) => !d.isBefore(dayjs(), 'day')}
                  data-testid="backtest-to"
                />
              </Form.Item>
            </Col>
            <Col xs={24} sm={8}>
              <Form.Item
                name="followUpDays"
                label={t('alerts.backtest.followUp')}
                extra={t('alerts.backtest.followUpHelp')}
                rules={[{ required: true, message: t('validation.required') }]}
              >
                <InputNumber
                  min={1}
                  max={180}
                  precision={0}
                  style={{ width: '100%' }}
                  data-testid="backtest-follow-up"
                />
              </Form.Item>
            </Col>
          </Row>
        </Form>
      </Card>
      <Card size="small" title={t('alerts.backtest.policy')}>
        <Form
          form={policyForm}
          layout="vertical"
          initialValues={toForm('anomaly', inForce.body as PolicyBodies['anomaly'])}
          data-testid="backtest-policy"
        >
          <PolicyFields kind="anomaly" form={policyForm} products={[]} />
        </Form>
        <Flex gap={8} wrap>
          <Button
            type="primary"
            icon={<ExperimentOutlined />}
            loading={running}
            onClick={() => void run()}
            data-testid="backtest-run"
          >
            {running ? t('alerts.backtest.running') : t('alerts.backtest.run')}
          </Button>
          <Button icon={<SaveOutlined />} onClick={() => setConfirming(true)} data-testid="backtest-save">
            {t('alerts.backtest.save')}
          </Button>
        </Flex>
      </Card>
      {report && <ReportView report={report} />}
      <Modal
        open={confirming}
        title={t('alerts.backtest.saveTitle')}
        onCancel={() => setConfirming(false)}
        onOk={() => void save()}
        confirmLoading={saving}
        okText={t('common.confirm')}
        cancelText={t('common.cancel')}
        destroyOnHidden
      >
        <Input.TextArea
          value={note}
          onChange={(e) => setNote(e.target.value)}
          maxLength={POLICY_TEXT_LIMITS.note}
          autoSize={{ minRows: 2, maxRows: 5 }}
          placeholder={t('alerts.backtest.saveNote')}
          data-testid="backtest-save-note"
        />
      </Modal>
    </Flex>
  );
}
