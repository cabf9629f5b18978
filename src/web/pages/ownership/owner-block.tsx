// The customer page's ownership card: owner, since when, last follow-up, when he would go back to the
// pool (or since when he is in it), who may own him, a change of owner with a reason, and the history.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Descriptions, Form, Input, Modal, Select, Spin, Timeline, Typography } from 'antd';
import dayjs from 'dayjs';
import { useShowError } from '../../shared/errors.js';
import { changeOwner, fetchCoverage, fetchOwner } from './ownership-api.js';

const when = (v: string | null) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : null);

function ChangeOwner({ customerId, onClose }: { customerId: number; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const showError = useShowError();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<{ ownerUserId?: number; reason: string }>();
  const people = useQuery({ queryKey: ['ownership', 'coverage', undefined], queryFn: () => fetchCoverage() });
  const save = useMutation({
    mutationFn: (v: { ownerUserId?: number; reason: string }) =>
      changeOwner(customerId, v.ownerUserId ?? null, v.reason),
    onSuccess: async () => {
      void message.success(t('ownership.changed'));
      await queryClient.invalidateQueries({ queryKey: ['ownership'] });
      await queryClient.invalidateQueries({ queryKey: ['customer', customerId] });
      onClose();
    },
    onError: (e) => showError(e),
  });
  return (
    <Modal
      open
      title={t('ownership.changeTitle')}
      onCancel={onClose}
      onOk={() => form.submit()}
      confirmLoading={save.isPending}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)}>
        <Form.Item name="ownerUserId" label={t('ownership.owner')}>
          <Select
            allowClear
            showSearch
            optionFilterProp="label"
            loading={people.isLoading}
            placeholder={t('ownership.noOwner')}
            options={(people.data?.people ?? []).map((p) => ({
              value: p.userId,
              label: `${p.displayName}（${p.orgUnitName}）`,
            }))}
          />
        </Form.Item>
        <Form.Item
          name="reason"
          label={t('ownership.reason')}
          rules={[{ required: true, whitespace: true, message: t('validation.required') }]}
        >
          <Input.TextArea rows={2} maxLength={1000} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

export function OwnerBlock({ customerId }: { customerId: number }) {
  const { t } = useTranslation();
  const [changing, setChanging] = useState(false);
  const q = useQuery({ queryKey: ['ownership', 'customer', customerId], queryFn: () => fetchOwner(customerId) });
  const o = q.data;
  const name = (n: string | null, id: number | null) => (id === null ? t('ownership.nobody') : (n ?? `#${id}`));
  return (
    <Card
      size="small"
      title={t('ownership.ownerBlock')}
      data-testid="owner-block"
      extra={
        o?.mayChange && (
          <Button size="small" onClick={() => setChanging(true)}>
            {t('ownership.change')}
          </Button>
        )
      }
    >
      {!o ? (
        <Spin />
      ) : (
        <>
          <Descriptions size="small" column={1}>
            <Descriptions.Item label={t('ownership.owner')}>{o.ownerName ?? t('ownership.noOwner')}</Descriptions.Item>
            {o.ownerUserId !== null && (
              <Descriptions.Item label={t('ownership.ownerSince')}>{when(o.ownerSince) ?? '—'}</Descriptions.Item>
            )}
            {o.ownerUserId !== null && (
              <Descriptions.Item label={t('ownership.lastFollowUp')}>
                {when(o.lastFollowUpAt) ?? t('ownership.never')}
              </Descriptions.Item>
            )}
            <Descriptions.Item label={t('ownership.class')}>{o.classCode ?? t('ownership.unrated')}</Descriptions.Item>
          </Descriptions>
          {o.poolReturnAt && (
            <Typography.Paragraph type="warning">
              {t('ownership.returnAt', { when: when(o.poolReturnAt) })}
            </Typography.Paragraph>
          )}
          {o.pool && (
            <Typography.Paragraph type="warning">
              {t('ownership.inPoolSince', {
                when: when(o.pool.since),
                reason: o.pool.reason
                  ? t(`ownership.reasons.${o.pool.reason as 'no_follow_up'}`, { defaultValue: o.pool.reason })
                  : '—',
                former: o.pool.formerOwnerName ?? '—',
              })}
            </Typography.Paragraph>
          )}
          <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
            {o.allowedLevels
              ? t('ownership.allowedLevels', {
                  levels: o.allowedLevels
                    .map((l) => t(`ownership.levels.${l as 'hq'}`, { defaultValue: l }))
                    .join('、'),
                })
              : t('ownership.anyLevel')}
          </Typography.Paragraph>
          <Typography.Text strong>{t('ownership.history')}</Typography.Text>
          {o.history.length === 0 ? (
            <Typography.Paragraph type="secondary">{t('ownership.noHistory')}</Typography.Paragraph>
          ) : (
            <Timeline
              style={{ marginTop: 12 }}
              items={o.history.map((h) => ({
                key: h.id,
                children: (
                  <div data-testid={`owner-history-${h.how}`}>
                    <Typography.Text>{t(`ownership.how.${h.how}`)}</Typography.Text>{' '}
                    <Typography.Text type="secondary">
                      {t('ownership.fromTo', { from: name(h.fromName, h.fromUserId), to: name(h.toName, h.toUserId) })}{' '}
                      · {when(h.at)} · {h.byName ?? t('ownership.system')}
                    </Typography.Text>
                    {h.reason && (
                      <div style={{ fontSize: 12 }}>
                        {t(`ownership.reasons.${h.reason as 'no_follow_up'}`, { defaultValue: h.reason })}
                      </div>
                    )}
                  </div>
                ),
              }))}
            />
          )}
        </>
      )}
      {changing && <ChangeOwner customerId={customerId} onClose={() => setChanging(false)} />}
    </Card>
  );
}
