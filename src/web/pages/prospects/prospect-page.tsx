// One prospect: his survey, plan and follower, his trail, and the steps the reader may record — contact,
// offer, a follow-up, a loss, or the signature that makes him a customer owned by the follower.
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
  Radio,
  Spin,
  Tag,
  Timeline,
  Typography,
} from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { ApiError, client, unwrap } from '../../api/client.js';
import { useShowError } from '../../shared/errors.js';
import { Page } from '../../shared/page.js';
import { IMPORTANCES, IMPORTANCE_COLORS, STAGE_COLORS, type Prospect } from './labels.js';

type StepAction = 'contact' | 'offer' | 'lose' | 'note' | 'sign';

interface StepValues {
  note: string;
  day?: Dayjs;
  nextDueDay?: Dayjs;
}

const fmtDay = (d: Dayjs | undefined) => (d ? d.format('YYYY-MM-DD') : undefined);

function StepModal({ prospect, action, onClose }: { prospect: Prospect; action: StepAction; onClose: () => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<StepValues>();
  const queryClient = useQueryClient();
  const showError = useShowError();
  const { message } = App.useApp();
  const [saving, setSaving] = useState(false);
  const [duplicate, setDuplicate] = useState(false);
  const asksDue = action === 'contact' || action === 'offer' || action === 'note';

  const save = async (v: StepValues, confirmDuplicate = false) => {
    setSaving(true);
    try {
      if (action === 'sign') {
        const res = await unwrap(
          client.POST('/api/prospects/{id}/sign', {
            params: { path: { id: prospect.id } },
            body: { note: v.note, ...(v.day && { day: fmtDay(v.day) }), ...(confirmDuplicate && { confirmDuplicate }) },
          }),
        );
        void message.success(t('prospects.signed', { code: res.customerCode }));
      } else {
        await unwrap(
          client.POST('/api/prospects/{id}/progress', {
            params: { path: { id: prospect.id } },
            body: {
              action,
              note: v.note,
              ...(v.day && { day: fmtDay(v.day) }),
              ...(asksDue && v.nextDueDay && { nextDueDay: fmtDay(v.nextDueDay) }),
            },
          }),
        );
      }
      await queryClient.invalidateQueries({ queryKey: ['prospects'] });
      onClose();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'DUPLICATE_SUSPECTED') setDuplicate(true);
      else showError(err, form);
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal
      open
      title={
        action === 'sign'
          ? t('prospects.signTitle')
          : t('prospects.progressTitle', { action: t(`prospects.actions.${action}`) })
      }
      onCancel={onClose}
      onOk={() => form.submit()}
      okButtonProps={{ loading: saving, ...({ 'data-testid': 'prospect-step-ok' } as object) }}
      destroyOnHidden
    >
      {action === 'sign' && <Typography.Paragraph type="secondary">{t('prospects.signIntro')}</Typography.Paragraph>}
      <Form<StepValues> form={form} layout="vertical" onFinish={(v) => void save(v)}>
        <Form.Item
          name="note"
          label={action === 'sign' ? t('prospects.signNote') : t('prospects.note')}
          rules={[{ required: true, whitespace: true, message: t('validation.required') }]}
        >
          <Input.TextArea rows={3} maxLength={4000} data-testid="prospect-step-note" />
        </Form.Item>
        <Form.Item name="day" label={t('prospects.day')}>
          <DatePicker style={{ width: '100%' }} disabledDate={(d) => d.isAfter(dayjs(), 'day')} />
        </Form.Item>
        {asksDue && (
          <Form.Item name="nextDueDay" label={t('prospects.nextDueDay')}>
            <DatePicker style={{ width: '100%' }} disabledDate={(d) => d.isBefore(dayjs(), 'day')} />
          </Form.Item>
        )}
      </Form>
      {duplicate && (
        <Alert
          type="warning"
          showIcon
          message={t('prospects.duplicate', { who: prospect.name })}
          action={
            <Button size="small" onClick={() => void save(form.getFieldsValue(), true)}>
              {t('prospects.confirmDuplicate')}
            </Button>
          }
        />
      )}
    </Modal>
  );
}

interface EditValues {
  name: string;
  contactName?: string | null;
  phone?: string | null;
  demand: string;
  fuelUse?: string | null;
  settlementMethod?: string | null;
  competitor?: string | null;
  importance: Prospect['importance'];
}

/** Correct the survey or the importance, before dispatch and while his plan is a draft. */
function EditModal({ prospect, onClose }: { prospect: Prospect; onClose: () => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<EditValues>();
  const queryClient = useQueryClient();
  const showError = useShowError();
  const [saving, setSaving] = useState(false);
  const save = async (v: EditValues) => {
    setSaving(true);
    try {
      // A masked phone is not sent back: only a number typed in replaces the one on file.
      const phone = v.phone && !v.phone.includes('*') ? { phone: v.phone } : {};
      await unwrap(
        client.PATCH('/api/prospects/{id}', {
          params: { path: { id: prospect.id } },
          body: {
            name: v.name,
            contactName: v.contactName ?? null,
            demand: v.demand,
            fuelUse: v.fuelUse ?? null,
            settlementMethod: v.settlementMethod ?? null,
            competitor: v.competitor ?? null,
            importance: v.importance,
            ...phone,
            version: prospect.version,
          },
        }),
      );
      await queryClient.invalidateQueries({ queryKey: ['prospects'] });
      onClose();
    } catch (err) {
      showError(err, form);
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal
      open
      title={t('common.edit')}
      onCancel={onClose}
      onOk={() => form.submit()}
      okButtonProps={{ loading: saving }}
    >
      <Form<EditValues> form={form} layout="vertical" initialValues={prospect} onFinish={(v) => void save(v)}>
        <Form.Item
          name="name"
          label={t('prospects.name')}
          rules={[{ required: true, whitespace: true, message: t('validation.required') }]}
        >
          <Input maxLength={200} />
        </Form.Item>
        <Form.Item name="contactName" label={t('prospects.contactName')}>
          <Input maxLength={100} />
        </Form.Item>
        <Form.Item name="phone" label={t('prospects.phone')}>
          <Input inputMode="tel" maxLength={32} />
        </Form.Item>
        <Form.Item
          name="demand"
          label={t('prospects.demand')}
          rules={[{ required: true, whitespace: true, message: t('validation.required') }]}
        >
          <Input.TextArea rows={3} maxLength={4000} />
        </Form.Item>
        <Form.Item name="fuelUse" label={t('prospects.fuelUse')}>
          <Input maxLength={200} />
        </Form.Item>
        <Form.Item name="settlementMethod" label={t('prospects.settlementMethod')}>
          <Input maxLength={100} />
        </Form.Item>
        <Form.Item name="competitor" label={t('prospects.competitor')}>
          <Input maxLength={200} />
        </Form.Item>
        <Form.Item name="importance" label={t('prospects.importance')} extra={t('prospects.importanceHelp')}>
          <Radio.Group optionType="button" buttonStyle="solid">
            {IMPORTANCES.map((i) => (
              <Radio key={i} value={i}>
                {t(`prospects.importances.${i}`)}
              </Radio>
            ))}
          </Radio.Group>
        </Form.Item>
      </Form>
    </Modal>
  );
}

export function ProspectPage() {
  const { t } = useTranslation();
  const id = Number(useParams().id);
  const [step, setStep] = useState<StepAction | null>(null);
  const [editing, setEditing] = useState(false);
  const q = useQuery({
    queryKey: ['prospects', 'one', id],
    queryFn: () => unwrap(client.GET('/api/prospects/{id}', { params: { path: { id } } })),
  });
  const p = q.data;
  if (!p) return <Spin spinning={q.isPending}>{q.isError && <Empty />}</Spin>;
  const dash = (v: string | number | null) => (v === null || v === '' ? '—' : v);
  const order: StepAction[] = ['contact', 'offer', 'sign', 'note', 'lose'];
  const steps = order.filter((a) => p.allowedActions.includes(a));

  return (
    <Page title={p.name}>
      <Flex gap={6} wrap style={{ marginBottom: 12 }}>
        <Tag color={IMPORTANCE_COLORS[p.importance]}>{t(`prospects.importances.${p.importance}`)}</Tag>
        <Tag color={STAGE_COLORS[p.stage]} data-testid="prospect-stage">
          {t(`prospects.stages.${p.stage}`)}
        </Tag>
        {p.overdue && <Tag color="red">{t('prospects.overdue')}</Tag>}
        {p.dueDay && <Tag>{t('prospects.dueDay', { day: p.dueDay })}</Tag>}
        {p.customer && (
          <Link to={`/customers/${p.customer.id}`} data-testid="prospect-customer">
            <Tag color="green">{t('prospects.customerLink', { code: p.customer.code })}</Tag>
          </Link>
        )}
      </Flex>
      {(steps.length > 0 || p.canEdit) && (
        <Flex gap={8} wrap style={{ marginBottom: 12 }}>
          {p.canEdit && (
            <Button onClick={() => setEditing(true)} data-testid="prospect-edit">
              {t('common.edit')}
            </Button>
          )}
          {steps.map((a) => (
            <Button
              key={a}
              type={a === 'sign' ? 'primary' : 'default'}
              danger={a === 'lose'}
              onClick={() => setStep(a)}
              data-testid={`prospect-action-${a}`}
            >
              {t(`prospects.actions.${a}`)}
            </Button>
          ))}
        </Flex>
      )}
      <Card size="small" title={t('prospects.facts')} style={{ marginBottom: 12 }}>
        <Descriptions size="small" column={{ xs: 1, sm: 1, md: 2 }}>
          <Descriptions.Item label={t('prospects.kind')}>{t(`prospects.kinds.${p.kind}`)}</Descriptions.Item>
          <Descriptions.Item label={t('prospects.unit')}>{p.orgUnitName}</Descriptions.Item>
          <Descriptions.Item label={t('prospects.organisation')}>{dash(p.organisation)}</Descriptions.Item>
          <Descriptions.Item label={t('prospects.contactName')}>{dash(p.contactName)}</Descriptions.Item>
          <Descriptions.Item label={t('prospects.phone')}>{dash(p.phone)}</Descriptions.Item>
          <Descriptions.Item label={t('prospects.plates')}>{p.plates.join('、') || '—'}</Descriptions.Item>
          <Descriptions.Item label={t('prospects.vehicleCount')}>{dash(p.vehicleCount)}</Descriptions.Item>
          <Descriptions.Item label={t('prospects.monthlyLitres')}>{dash(p.monthlyLitres)}</Descriptions.Item>
          <Descriptions.Item label={t('prospects.demand')}>{dash(p.demand)}</Descriptions.Item>
          <Descriptions.Item label={t('prospects.products')}>{dash(p.products)}</Descriptions.Item>
          <Descriptions.Item label={t('prospects.fuelUse')}>{dash(p.fuelUse)}</Descriptions.Item>
          <Descriptions.Item label={t('prospects.settlementMethod')}>{dash(p.settlementMethod)}</Descriptions.Item>
          <Descriptions.Item label={t('prospects.competitor')}>{dash(p.competitor)}</Descriptions.Item>
          <Descriptions.Item label={t('prospects.notes')}>{dash(p.notes)}</Descriptions.Item>
          <Descriptions.Item label={t('prospects.plan')}>
            {p.plan ? <Link to={`/prospects/plans/${p.plan.id}`}>{p.plan.month}</Link> : '—'}
          </Descriptions.Item>
          <Descriptions.Item label={t('prospects.dispatchUnit')}>{p.dispatchUnit?.name ?? '—'}</Descriptions.Item>
          <Descriptions.Item label={t('prospects.follower')}>
            {p.followerName ?? t('prospects.noFollower')}
          </Descriptions.Item>
        </Descriptions>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t('prospects.surveyedBy', { name: p.surveyedByName ?? '', day: p.surveyDay })}
        </Typography.Text>
      </Card>
      <Card size="small" title={t('prospects.trail')}>
        {p.events.length === 0 ? (
          <Empty description={t('prospects.trailEmpty')} />
        ) : (
          <Timeline
            items={p.events.map((e) => ({
              color: e.action === 'overdue' ? 'red' : e.action === 'sign' ? 'green' : 'blue',
              children: (
                <div data-testid={`prospect-event-${e.action}`}>
                  <Typography.Text strong>
                    {t(`prospects.events.${e.action}`, { defaultValue: e.action })}
                  </Typography.Text>{' '}
                  <Typography.Text type="secondary">
                    {e.day} · {e.actorName}
                    {e.dueDay && ` · ${t('prospects.dueDay', { day: e.dueDay })}`}
                  </Typography.Text>
                  {e.note && <div style={{ overflowWrap: 'anywhere' }}>{e.note}</div>}
                </div>
              ),
            }))}
          />
        )}
      </Card>
      {step && <StepModal prospect={p} action={step} onClose={() => setStep(null)} />}
      {editing && <EditModal prospect={p} onClose={() => setEditing(false)} />}
    </Page>
  );
}
