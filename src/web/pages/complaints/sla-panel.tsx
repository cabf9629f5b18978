// The current stage's SLA clock on the case page: time left (or late), the share used as a coloured
// bar, paused with its reason; pause/resume and "ask for more time" for the stage's owner, approve or
// refuse for the level above, and a written reminder (督办) for anyone above the owning unit.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Card, Flex, Form, Input, InputNumber, Modal, Progress, Select, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { useShowError } from '../../shared/errors.js';

const REASONS = ['waiting_customer', 'fuel_test', 'regulator', 'judicial'] as const;
const BAR: Record<string, string> = {
  ok: '#52c41a',
  warning: '#faad14',
  late: '#fa8c16',
  breached: '#f5222d',
  paused: '#bfbfbf',
};
type Dialog = 'pause' | 'extend' | 'supervise' | null;

export function SlaPanel({ id }: { id: number }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const showError = useShowError();
  const [dialog, setDialog] = useState<Dialog>(null);
  const [form] = Form.useForm();
  const q = useQuery({
    queryKey: ['complaints', 'sla', id],
    queryFn: () => unwrap(client.GET('/api/complaints/{id}/sla', { params: { path: { id } } })),
  });
  const done = () => {
    setDialog(null);
    form.resetFields();
    void qc.invalidateQueries({ queryKey: ['complaints'] });
  };
  const act = useMutation({
    mutationFn: async (v: { kind: string; body?: Record<string, unknown>; extensionId?: number }) => {
      const path = { id };
      if (v.kind === 'pause')
        return unwrap(client.POST('/api/complaints/{id}/sla/pause', { params: { path }, body: v.body as never }));
      if (v.kind === 'resume') return unwrap(client.POST('/api/complaints/{id}/sla/resume', { params: { path } }));
      if (v.kind === 'extend')
        return unwrap(client.POST('/api/complaints/{id}/sla/extensions', { params: { path }, body: v.body as never }));
      if (v.kind === 'decide')
        return unwrap(
          client.POST('/api/complaints/{id}/sla/extensions/{extensionId}', {
            params: { path: { id, extensionId: v.extensionId! } },
            body: v.body as never,
          }),
        );
      return unwrap(client.POST('/api/complaints/{id}/supervise', { params: { path }, body: v.body as never }));
    },
    onSuccess: done,
    onError: (e) => showError(e, form),
  });
  const s = q.data;
  if (!s || !s.clock) return null;
  const c = s.clock;
  const hours = (ms: number) => (Math.abs(ms) / 3_600_000).toFixed(1);
  const pending = s.extensions.find((x) => x.state === 'pending');
  return (
    <Card size="small" title={t('complaints.sla.title')} style={{ marginBottom: 12 }} data-testid="complaint-sla">
      <Flex gap={6} wrap align="center">
        <Tag color={c.state === 'breached' ? 'red' : c.state === 'paused' ? 'default' : 'blue'}>
          {t(`complaints.slaStates.${c.state as 'ok'}`)}
        </Tag>
        <Typography.Text>
          {c.leftMs >= 0
            ? t('complaints.sla.left', { h: hours(c.leftMs) })
            : t('complaints.sla.over', { h: hours(c.leftMs) })}
        </Typography.Text>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t(`complaints.sla.clockMode.${c.mode as 'clock'}`)}
          {c.dueAt && ` · ${t('complaints.sla.due', { at: dayjs(c.dueAt).format('MM-DD HH:mm') })}`}
          {c.pauseReason && ` · ${t(`complaints.sla.reasons.${c.pauseReason as 'fuel_test'}`)}`}
        </Typography.Text>
      </Flex>
      <Progress percent={Math.min(100, c.percent)} strokeColor={BAR[c.state]} format={() => `${c.percent}%`} />
      {pending && (
        <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
          {t('complaints.sla.pending', { n: pending.amount, reason: pending.reason })}
        </Typography.Paragraph>
      )}
      <Flex gap={8} wrap>
        {s.canPause && (
          <Button onClick={() => setDialog('pause')} data-testid="sla-pause">
            {t('complaints.sla.pause')}
          </Button>
        )}
        {s.canResume && (
          <Button onClick={() => act.mutate({ kind: 'resume' })} loading={act.isPending} data-testid="sla-resume">
            {t('complaints.sla.resume')}
          </Button>
        )}
        {s.canRequestExtension && (
          <Button onClick={() => setDialog('extend')} data-testid="sla-extend">
            {t('complaints.sla.extend')}
          </Button>
        )}
        {s.canDecideExtension && pending && (
          <>
            <Button
              type="primary"
              onClick={() => act.mutate({ kind: 'decide', extensionId: pending.id, body: { approve: true } })}
            >
              {t('complaints.sla.approve')}
            </Button>
            <Button
              danger
              onClick={() => act.mutate({ kind: 'decide', extensionId: pending.id, body: { approve: false } })}
            >
              {t('complaints.sla.refuse')}
            </Button>
          </>
        )}
        {s.canSupervise && (
          <Button danger onClick={() => setDialog('supervise')} data-testid="sla-supervise">
            {t('complaints.sla.supervise')}
          </Button>
        )}
      </Flex>
      <Modal
        open={dialog !== null}
        title={dialog && t(`complaints.sla.${dialog}`)}
        onCancel={() => setDialog(null)}
        onOk={() => form.submit()}
        confirmLoading={act.isPending}
        destroyOnHidden
      >
        <Form
          form={form}
          layout="vertical"
          onFinish={(v: Record<string, unknown>) =>
            act.mutate(
              dialog === 'extend'
                ? { kind: 'extend', body: { unit: 'working_hours', amount: v.amount, reason: v.reason } }
                : { kind: dialog!, body: v },
            )
          }
        >
          {dialog === 'pause' && (
            <>
              <Form.Item name="reason" label={t('complaints.sla.pauseReason')} rules={[{ required: true }]}>
                <Select options={REASONS.map((r) => ({ value: r, label: t(`complaints.sla.reasons.${r}`) }))} />
              </Form.Item>
              <Form.Item name="note">
                <Input.TextArea rows={2} maxLength={2000} />
              </Form.Item>
            </>
          )}
          {dialog === 'extend' && (
            <>
              <Form.Item name="amount" label={t('complaints.sla.extendHours')} rules={[{ required: true }]}>
                <InputNumber min={1} max={1000} style={{ width: '100%' }} />
              </Form.Item>
              <Form.Item name="reason" label={t('complaints.sla.extendReason')} rules={[{ required: true }]}>
                <Input.TextArea rows={2} maxLength={2000} />
              </Form.Item>
            </>
          )}
          {dialog === 'supervise' && (
            <Form.Item name="note" label={t('complaints.sla.superviseNote')} rules={[{ required: true }]}>
              <Input.TextArea rows={3} maxLength={2000} />
            </Form.Item>
          )}
        </Form>
      </Modal>
    </Card>
  );
}
