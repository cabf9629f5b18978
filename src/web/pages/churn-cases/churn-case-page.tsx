// One churn case: who was lost and how, the written report upward, the second attempt the level
// above sent (to whom, by when, how it went), the exit survey, the win-back, and the trail. The
// server says which steps the reader may take; only those are offered.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  DatePicker,
  Descriptions,
  Empty,
  Flex,
  Form,
  Input,
  Modal,
  Select,
  Space,
  Spin,
  Tag,
  Timeline,
  Typography,
} from 'antd';
import { ArrowLeftOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { errorText, useShowError } from '../../shared/errors.js';
import { Page } from '../../shared/page.js';
import { STATE_COLORS, named, reasonName, type ChurnCase } from './labels.js';
import { SurveyFields, surveyOf, type SurveyValues } from './survey-fields.js';

const fmt = (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm');
type Step = 'report' | 'assign' | 'retain' | 'confirm_lost' | 'survey';

export function ChurnCasePage() {
  const { t } = useTranslation();
  const id = Number(useParams().id);
  const [step, setStep] = useState<Step | null>(null);
  const query = useQuery({
    queryKey: ['churn-cases', 'one', id],
    queryFn: () => unwrap(client.GET('/api/churn-cases/{id}', { params: { path: { id } } })),
    enabled: id > 0,
  });
  const c = query.data;

  const back = (
    <Link to="/churn-cases">
      <ArrowLeftOutlined /> {t('churn.back')}
    </Link>
  );
  if (query.error) {
    return (
      <Page title={t('churn.title')} extra={back}>
        <Alert type="error" showIcon title={errorText(query.error)} />
      </Page>
    );
  }
  if (!c) return <Spin />;
  const who = c.customer;
  const can = (a: string) => c.allowedActions.includes(a);
  const attempt = c.secondAttempt;

  return (
    <Page title={who.greeting ?? who.name ?? who.plate ?? who.code} extra={back}>
      <Flex gap={6} wrap style={{ marginBottom: 12 }} data-testid="churn-case-head">
        <Tag color={STATE_COLORS[c.state]} data-testid="churn-case-state">
          {t(`churn.states.${c.state}`)}
        </Tag>
        <Tag>{t(`churn.categories.${c.category}`)}</Tag>
        <Tag>{named(c.lossKind)}</Tag>
        {attempt?.overdue && <Tag color="red">{t('churn.overdue')}</Tag>}
      </Flex>
      {c.wonBack && (
        <Alert
          type="success"
          showIcon
          style={{ marginBottom: 12 }}
          title={t('churn.wonBack', { day: c.wonBack.day ?? fmt(c.wonBack.at) })}
          data-testid="churn-case-won-back"
        />
      )}
      <Flex gap={8} wrap style={{ marginBottom: 12 }}>
        {can('report') && (
          <Button type="primary" onClick={() => setStep('report')} data-testid="churn-report">
            {t('churn.report')}
          </Button>
        )}
        {can('assign') && (
          <Button
            type={c.state === 'reported' ? 'primary' : 'default'}
            onClick={() => setStep('assign')}
            data-testid="churn-assign"
          >
            {c.state === 'reported' ? t('churn.assign') : t('churn.reassign')}
          </Button>
        )}
        {can('retain') && (
          <Button type="primary" onClick={() => setStep('retain')} data-testid="churn-retain">
            {t('churn.retain')}
          </Button>
        )}
        {can('confirm_lost') && (
          <Button danger onClick={() => setStep('confirm_lost')} data-testid="churn-confirm-lost">
            {t('churn.confirmLost')}
          </Button>
        )}
      </Flex>

      <Space direction="vertical" size={12} style={{ width: '100%' }}>
        <Card size="small">
          <Descriptions column={{ xs: 1, sm: 2 }} size="small">
            <Descriptions.Item label={t('churn.openCustomer')}>
              <Link to={`/customers/${who.id}`}>{[who.name, who.plate, who.code].filter(Boolean).join(' · ')}</Link>
            </Descriptions.Item>
            <Descriptions.Item label={t('home.orgUnit')}>{c.orgUnitName}</Descriptions.Item>
            <Descriptions.Item label={t('churn.note')}>
              <span style={{ overflowWrap: 'anywhere' }}>{c.note}</span>
            </Descriptions.Item>
            <Descriptions.Item label={t('churn.actions.open')}>
              {t('churn.openedBy', { name: c.openedByName ?? '', at: fmt(c.openedAt) })}
            </Descriptions.Item>
            {c.lostDay && (
              <Descriptions.Item label={t('churn.states.lost')}>
                {t('churn.lostOn', { day: c.lostDay })}
              </Descriptions.Item>
            )}
          </Descriptions>
        </Card>

        {c.category === 'non_natural' && (
          <Card size="small" title={t('churn.report')}>
            {c.report ? (
              <>
                <div style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>{c.report.text}</div>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t('churn.reportedBy', { name: c.report.byName ?? '', at: fmt(c.report.at) })}
                </Typography.Text>
              </>
            ) : (
              <Typography.Text type="secondary">{t('churn.awaitingReport')}</Typography.Text>
            )}
          </Card>
        )}

        {c.category === 'non_natural' && c.report && (
          <Card size="small" title={t('churn.secondAttempt')}>
            {attempt ? (
              <>
                <div data-testid="churn-attempt">
                  {t('churn.assignedTo', { name: attempt.assigneeName ?? '', due: attempt.dueDay })}
                </div>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t('churn.assignedBy', { name: attempt.assignedByName ?? '', at: fmt(attempt.assignedAt) })}
                </Typography.Text>
                {c.outcome && (
                  <div style={{ marginTop: 8 }}>
                    <Typography.Text strong>{t('churn.outcomeNote')}：</Typography.Text>
                    <span style={{ overflowWrap: 'anywhere' }}>{c.outcome.note}</span>
                    <div>
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {t('churn.outcomeBy', { name: c.outcome.byName ?? '', at: fmt(c.outcome.at) })}
                      </Typography.Text>
                    </div>
                  </div>
                )}
              </>
            ) : (
              <Typography.Text type="secondary">{t('churn.awaitingAssign')}</Typography.Text>
            )}
          </Card>
        )}

        <Card
          size="small"
          title={t('churn.survey')}
          extra={
            c.canRecordSurvey && (
              <Button size="small" onClick={() => setStep('survey')} data-testid="churn-survey-edit">
                {c.survey ? t('churn.editSurvey') : t('churn.recordSurvey')}
              </Button>
            )
          }
        >
          {c.survey ? (
            <div data-testid="churn-survey">
              <Tag color="volcano">{reasonName(c.survey)}</Tag>
              {c.survey.freeText && <span style={{ overflowWrap: 'anywhere' }}>{c.survey.freeText}</span>}
            </div>
          ) : (
            <Typography.Text type="secondary">{t('churn.surveyMissing')}</Typography.Text>
          )}
        </Card>

        <Card size="small" title={t('churn.trail')}>
          {c.events.length === 0 ? (
            <Empty description={t('churn.trailEmpty')} />
          ) : (
            <Timeline
              items={c.events.map((e) => ({
                key: e.id,
                children: (
                  <>
                    <Typography.Text strong>
                      {t(`churn.actions.${e.action as 'open'}`, { defaultValue: e.action })}
                    </Typography.Text>
                    {e.fromState !== e.toState && (
                      <Tag style={{ marginInlineStart: 6 }}>
                        {t(`churn.states.${e.toState as 'open'}`, { defaultValue: e.toState })}
                      </Tag>
                    )}
                    <div>
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {e.bySystem ? t('churn.system') : e.actorName} · {fmt(e.at)}
                      </Typography.Text>
                    </div>
                  </>
                ),
              }))}
            />
          )}
        </Card>
      </Space>
      {step && <StepModal step={step} c={c} onClose={() => setStep(null)} />}
    </Page>
  );
}

interface StepValues {
  report?: string;
  note?: string;
  assigneeUserId?: number;
  dueDay?: Dayjs;
  survey?: Partial<SurveyValues>;
  reasonCode?: string;
  freeText?: string;
}

function StepModal({ step, c, onClose }: { step: Step; c: ChurnCase; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const showError = useShowError();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<StepValues>();
  const [saving, setSaving] = useState(false);
  const assignees = useQuery({
    queryKey: ['churn-cases', 'assignees', c.id],
    queryFn: () => unwrap(client.GET('/api/churn-cases/{id}/assignees', { params: { path: { id: c.id } } })),
    enabled: step === 'assign',
  });
  const path = { params: { path: { id: c.id } } };

  const submit = async () => {
    let v: StepValues;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    setSaving(true);
    try {
      let next: ChurnCase;
      if (step === 'report')
        next = await unwrap(
          client.POST('/api/churn-cases/{id}/report', { ...path, body: { report: v.report!.trim() } }),
        );
      else if (step === 'assign') {
        const note = v.note?.trim();
        next = await unwrap(
          client.POST('/api/churn-cases/{id}/assign', {
            ...path,
            body: { assigneeUserId: v.assigneeUserId!, dueDay: v.dueDay!.format('YYYY-MM-DD'), ...(note && { note }) },
          }),
        );
      } else if (step === 'retain')
        next = await unwrap(client.POST('/api/churn-cases/{id}/retain', { ...path, body: { note: v.note!.trim() } }));
      else if (step === 'confirm_lost') {
        const survey = surveyOf(v.survey);
        next = await unwrap(
          client.POST('/api/churn-cases/{id}/confirm-lost', {
            ...path,
            body: { note: v.note!.trim(), ...(survey && { survey }) },
          }),
        );
      } else
        next = await unwrap(
          client.PUT('/api/churn-cases/{id}/exit-survey', {
            ...path,
            body: surveyOf({ reasonCode: v.reasonCode, freeText: v.freeText })!,
          }),
        );
      queryClient.setQueryData(['churn-cases', 'one', c.id], next);
      await queryClient.invalidateQueries({ queryKey: ['churn-cases', 'list'] });
      void message.success(t('churn.saved'));
      onClose();
    } catch (err) {
      showError(err, form);
    } finally {
      setSaving(false);
    }
  };

  const required = [{ required: true, whitespace: true, message: t('validation.required') }];
  const titles: Record<Step, string> = {
    report: t('churn.reportTitle'),
    assign: t('churn.assignTitle'),
    retain: t('churn.retainTitle'),
    confirm_lost: t('churn.confirmLostTitle'),
    survey: c.survey ? t('churn.editSurvey') : t('churn.recordSurvey'),
  };
  const initial: StepValues =
    step === 'survey' && c.survey ? { reasonCode: c.survey.reasonCode, freeText: c.survey.freeText ?? '' } : {};
  return (
    <Modal
      open
      title={titles[step]}
      onCancel={onClose}
      onOk={() => void submit()}
      confirmLoading={saving}
      okText={t('common.confirm')}
      cancelText={t('common.cancel')}
      okButtonProps={{ 'data-testid': 'churn-step-save', ...(step === 'confirm_lost' && { danger: true }) }}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" initialValues={initial}>
        {step === 'report' && (
          <Form.Item name="report" label={t('churn.reportText')} rules={required}>
            <Input.TextArea
              maxLength={4000}
              autoSize={{ minRows: 4, maxRows: 10 }}
              placeholder={t('churn.reportPlaceholder')}
              data-testid="churn-report-text"
            />
          </Form.Item>
        )}
        {step === 'assign' && (
          <>
            <Form.Item
              name="assigneeUserId"
              label={t('churn.assignee')}
              rules={[{ required: true, message: t('validation.select') }]}
            >
              <Select
                showSearch
                optionFilterProp="label"
                loading={assignees.isPending}
                notFoundContent={t('churn.noAssignees')}
                options={(assignees.data ?? []).map((u) => ({
                  value: u.id,
                  label: t('churn.assigneeOption', { name: u.displayName, unit: u.orgUnitName }),
                }))}
                data-testid="churn-assignee"
              />
            </Form.Item>
            <Form.Item
              name="dueDay"
              label={t('churn.dueDay')}
              rules={[{ required: true, message: t('validation.select') }]}
            >
              <DatePicker
                style={{ width: '100%' }}
                disabledDate={(d) => !d.isAfter(dayjs(), 'day') || d.isAfter(dayjs().add(1, 'year'), 'day')}
                inputReadOnly
                data-testid="churn-due"
              />
            </Form.Item>
            <Form.Item name="note" label={t('churn.assignNote')}>
              <Input.TextArea maxLength={4000} autoSize={{ minRows: 2, maxRows: 5 }} />
            </Form.Item>
          </>
        )}
        {(step === 'retain' || step === 'confirm_lost') && (
          <Form.Item name="note" label={t('churn.outcomeNote')} rules={required}>
            <Input.TextArea maxLength={4000} autoSize={{ minRows: 2, maxRows: 6 }} data-testid="churn-outcome-note" />
          </Form.Item>
        )}
        {step === 'confirm_lost' && !c.survey && (
          <>
            <Typography.Text strong>{t('churn.survey')}</Typography.Text>
            <SurveyFields name={['survey']} required />
          </>
        )}
        {step === 'survey' && <SurveyFields name={[]} required />}
      </Form>
    </Modal>
  );
}
