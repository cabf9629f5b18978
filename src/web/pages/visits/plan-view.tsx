// One visit plan: its visits (with why each is there), the owner's changes while it is a draft or
// returned, submission, and the manager's approval or return; its trail.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  App,
  Button,
  Card,
  DatePicker,
  Empty,
  Flex,
  Form,
  Input,
  List,
  Modal,
  Space,
  Spin,
  Tag,
  TimePicker,
  Timeline,
  Typography,
} from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { useShowError } from '../../shared/errors.js';
import { CustomerPicker, PlanStateTag, VisitStateTag, useReasonText, type PlannedVisit } from './labels.js';

export function PlanView({ id }: { id: number }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const showError = useShowError();
  const { message } = App.useApp();
  const reasonText = useReasonText();
  const q = useQuery({
    queryKey: ['visits', 'plan', id],
    queryFn: () => unwrap(client.GET('/api/visit-plans/{id}', { params: { path: { id } } })),
  });
  const [adding, setAdding] = useState(false);
  const [moving, setMoving] = useState<PlannedVisit | null>(null);
  const [deciding, setDeciding] = useState<'approve' | 'return' | null>(null);
  const [addForm] = Form.useForm<{ customerId: number; day: Dayjs; time?: Dayjs }>();
  const [moveForm] = Form.useForm<{ day: Dayjs; time?: Dayjs }>();
  const [noteForm] = Form.useForm<{ note?: string }>();
  const refresh = () => qc.invalidateQueries({ queryKey: ['visits'] });
  const done = () => {
    void refresh();
    void message.success(t('common.saved'));
  };
  const add = useMutation({
    mutationFn: (v: { customerId: number; day: Dayjs; time?: Dayjs }) =>
      unwrap(
        client.POST('/api/visit-plans/{id}/visits', {
          params: { path: { id } },
          body: {
            customerId: v.customerId,
            day: v.day.format('YYYY-MM-DD'),
            ...(v.time && { time: v.time.format('HH:mm') }),
          },
        }),
      ),
    onSuccess: () => {
      setAdding(false);
      addForm.resetFields();
      done();
    },
    onError: (e) => showError(e),
  });
  const move = useMutation({
    mutationFn: (v: { day: Dayjs; time?: Dayjs }) =>
      unwrap(
        client.PATCH('/api/planned-visits/{id}', {
          params: { path: { id: moving!.id } },
          body: { day: v.day.format('YYYY-MM-DD'), ...(v.time && { time: v.time.format('HH:mm') }) },
        }),
      ),
    onSuccess: () => {
      setMoving(null);
      done();
    },
    onError: (e) => showError(e),
  });
  const remove = useMutation({
    mutationFn: (visitId: number) =>
      unwrap(client.DELETE('/api/planned-visits/{id}', { params: { path: { id: visitId } } })),
    onSuccess: done,
    onError: (e) => showError(e),
  });
  const submit = useMutation({
    mutationFn: () =>
      unwrap(
        client.POST('/api/visit-plans/{id}/submit', { params: { path: { id } }, body: { version: q.data!.version } }),
      ),
    onSuccess: done,
    onError: (e) => showError(e),
  });
  const decide = useMutation({
    mutationFn: (note?: string) =>
      deciding === 'approve'
        ? unwrap(
            client.POST('/api/visit-plans/{id}/approve', {
              params: { path: { id } },
              body: { version: q.data!.version, ...(note && { note }) },
            }),
          )
        : unwrap(
            client.POST('/api/visit-plans/{id}/return', {
              params: { path: { id } },
              body: { version: q.data!.version, note: note ?? '' },
            }),
          ),
    onSuccess: () => {
      setDeciding(null);
      noteForm.resetFields();
      done();
    },
    onError: (e) => showError(e),
  });
  if (q.isLoading || !q.data) return <Spin />;
  const p = q.data;
  const can = (a: string) => p.allowedActions.includes(a);
  const monthStart = dayjs(`${p.month}-01`);
  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid="plan-view">
      <Flex gap={8} wrap align="center">
        <Typography.Text strong>{t('visits.planOf', { name: p.ownerName, month: p.month })}</Typography.Text>
        <PlanStateTag state={p.state} />
        <Tag>{t('visits.visits', { done: p.visits.filter((v) => v.state === 'done').length, n: p.visits.length })}</Tag>
        {p.decisionNote && <Typography.Text type="secondary">{p.decisionNote}</Typography.Text>}
      </Flex>
      <Flex gap={8} wrap>
        {can('edit') && (
          <Button onClick={() => setAdding(true)} data-testid="plan-add-visit">
            {t('visits.addVisit')}
          </Button>
        )}
        {can('submit') && (
          <Button type="primary" loading={submit.isPending} onClick={() => submit.mutate()} data-testid="plan-submit">
            {t('visits.submit')}
          </Button>
        )}
        {can('approve') && (
          <Button type="primary" onClick={() => setDeciding('approve')} data-testid="plan-approve">
            {t('visits.approve')}
          </Button>
        )}
        {can('return') && (
          <Button danger onClick={() => setDeciding('return')} data-testid="plan-return">
            {t('visits.return')}
          </Button>
        )}
      </Flex>
      {p.visits.length === 0 ? (
        <Empty description={t('visits.nothingPlanned')} />
      ) : (
        <List
          bordered
          dataSource={p.visits}
          renderItem={(v) => (
            <List.Item
              data-testid={`plan-visit-${v.id}`}
              actions={[
                ...(can('move') && (v.state === 'planned' || v.state === 'appointed')
                  ? [
                      <Button key="m" size="small" onClick={() => setMoving(v)}>
                        {t('visits.move')}
                      </Button>,
                    ]
                  : []),
                ...(can('edit')
                  ? [
                      <Button key="r" size="small" danger onClick={() => remove.mutate(v.id)}>
                        {t('visits.remove')}
                      </Button>,
                    ]
                  : []),
              ]}
            >
              <Flex vertical>
                <Flex gap={6} wrap align="center">
                  <Link to={`/visits/${v.id}`}>{v.customerName}</Link>
                  <VisitStateTag state={v.state} />
                </Flex>
                <Typography.Text type="secondary">
                  {dayjs(v.plannedAt).format('MM-DD ddd HH:mm')} · {reasonText(v.reason, v.reasonDetail)}
                </Typography.Text>
              </Flex>
            </List.Item>
          )}
        />
      )}
      <Card size="small" title={t('visits.trail')}>
        <Timeline
          items={p.events.map((e) => ({
            children: `${dayjs(e.at).format('YYYY-MM-DD HH:mm')} ${e.actorName} ${t(`visits.actions.${e.action}` as 'visits.actions.submit')}${e.note && e.action !== 'propose' ? `：${e.note}` : ''}`,
          }))}
        />
      </Card>
      <Modal
        open={adding}
        title={t('visits.addVisit')}
        onCancel={() => setAdding(false)}
        onOk={() => addForm.submit()}
        confirmLoading={add.isPending}
      >
        <Form
          form={addForm}
          layout="vertical"
          onFinish={(v) => add.mutate(v)}
          initialValues={{ day: monthStart.isBefore(dayjs()) ? dayjs() : monthStart }}
        >
          <Form.Item name="customerId" label={t('visits.customerId')} rules={[{ required: true }]}>
            <CustomerPicker />
          </Form.Item>
          <Form.Item name="day" label={t('visits.day')} rules={[{ required: true }]}>
            <DatePicker disabledDate={(d) => d.format('YYYY-MM') !== p.month} data-testid="add-visit-day" />
          </Form.Item>
          <Form.Item name="time" label={t('visits.time')}>
            <TimePicker format="HH:mm" minuteStep={15} />
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        open={moving !== null}
        title={t('visits.move')}
        onCancel={() => setMoving(null)}
        onOk={() => moveForm.submit()}
        confirmLoading={move.isPending}
        destroyOnHidden
      >
        <Form
          form={moveForm}
          layout="vertical"
          onFinish={(v) => move.mutate(v)}
          initialValues={moving ? { day: dayjs(moving.plannedDay), time: dayjs(moving.plannedAt) } : {}}
        >
          <Form.Item name="day" label={t('visits.day')} rules={[{ required: true }]}>
            <DatePicker />
          </Form.Item>
          <Form.Item name="time" label={t('visits.time')}>
            <TimePicker format="HH:mm" minuteStep={15} />
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        open={deciding !== null}
        title={deciding === 'return' ? t('visits.return') : t('visits.approve')}
        onCancel={() => setDeciding(null)}
        onOk={() => noteForm.submit()}
        confirmLoading={decide.isPending}
      >
        <Form form={noteForm} layout="vertical" onFinish={(v) => decide.mutate(v.note?.trim() || undefined)}>
          <Form.Item
            name="note"
            label={deciding === 'return' ? t('visits.returnReason') : t('visits.decisionNote')}
            rules={deciding === 'return' ? [{ required: true, whitespace: true }] : []}
          >
            <Input.TextArea rows={3} maxLength={2000} data-testid="decision-note" />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
