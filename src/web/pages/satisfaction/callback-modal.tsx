// The complaint's callback (回访): the five-level rating the chain requires, the CSAT / NPS / CES answers
// the satisfaction policy asks, the attempts that did not reach the customer (one per day counts), and
// closing as unreachable once there were enough of them on different days.
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Flex, Form, Input, List, Modal, Radio, Rate, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { useShowError } from '../../shared/errors.js';

interface Values {
  note: string;
  rating?: number;
  csat?: number;
  nps?: number;
  ces?: number;
}

const scale = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ value: from + i, label: String(from + i) }));

export function CallbackModal({ id, version, onClose }: { id: number; version: number; onClose: () => void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const showError = useShowError();
  const [form] = Form.useForm<Values>();
  const info = useQuery({
    queryKey: ['complaints', 'callbacks', id],
    queryFn: () => unwrap(client.GET('/api/complaints/{id}/callbacks', { params: { path: { id } } })),
  });
  const done = () => {
    void qc.invalidateQueries({ queryKey: ['complaints'] });
    onClose();
  };
  const send = useMutation({
    mutationFn: (body: Values & { unreachable?: boolean }) =>
      unwrap(client.POST('/api/complaints/{id}/callback', { params: { path: { id } }, body: { ...body, version } })),
    onSuccess: done,
    onError: (e) => showError(e, form),
  });
  const attempt = useMutation({
    mutationFn: () =>
      unwrap(
        client.POST('/api/complaints/{id}/callback-attempts', {
          params: { path: { id } },
          body: { ...(form.getFieldValue('note') && { note: form.getFieldValue('note') as string }) },
        }),
      ),
    onSuccess: (d) => qc.setQueryData(['complaints', 'callbacks', id], d),
    onError: (e) => showError(e),
  });
  const q = info.data?.questions;
  const reached = (v: Values) => {
    const body = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as unknown as Values;
    send.mutate(body);
  };
  return (
    <Modal
      open
      title={t('complaints.actions.callback')}
      onCancel={onClose}
      onOk={() => form.submit()}
      confirmLoading={send.isPending}
      okButtonProps={{ 'data-testid': 'complaint-step-ok' } as never}
    >
      <Form<Values> form={form} layout="vertical" onFinish={reached}>
        <Form.Item name="note" label={t('complaints.note')} rules={[{ required: true, whitespace: true }]}>
          <Input.TextArea rows={3} placeholder={t('complaints.notePlaceholder')} data-testid="complaint-note" />
        </Form.Item>
        <Form.Item
          name="rating"
          label={t('complaints.rating')}
          extra={t('complaints.ratingHelp')}
          rules={[{ required: true }]}
        >
          <Rate data-testid="complaint-rating" />
        </Form.Item>
        {q?.askCsat && (
          <Form.Item name="csat" label={t('callbacks.csat')}>
            <Radio.Group optionType="button" options={scale(1, 5)} />
          </Form.Item>
        )}
        {q?.askNps && (
          <Form.Item name="nps" label={t('callbacks.nps')}>
            <Radio.Group
              optionType="button"
              style={{ display: 'flex', flexWrap: 'wrap', gap: 4 }}
              options={scale(0, 10)}
            />
          </Form.Item>
        )}
        {q?.askCes && (
          <Form.Item name="ces" label={t('callbacks.ces')}>
            <Radio.Group
              optionType="button"
              style={{ display: 'flex', flexWrap: 'wrap', gap: 4 }}
              options={scale(1, 7)}
            />
          </Form.Item>
        )}
      </Form>
      {info.data && (
        <>
          <Typography.Text type="secondary">
            {t('callbacks.attempts', { n: info.data.unreachableDays, m: info.data.attemptsNeeded })}
          </Typography.Text>
          {info.data.callbacks.length > 0 && (
            <List
              size="small"
              dataSource={info.data.callbacks}
              renderItem={(b) => (
                <List.Item>
                  <Flex gap={6} wrap>
                    <Tag color={b.result === 'reached' ? 'green' : 'orange'}>
                      {t(`callbacks.results.${b.result as 'reached'}`)}
                    </Tag>
                    <span>{dayjs(b.calledAt).format('YYYY-MM-DD HH:mm')}</span>
                    {b.calledByName && <span>{b.calledByName}</span>}
                    {b.note && <span style={{ overflowWrap: 'anywhere' }}>{b.note}</span>}
                  </Flex>
                </List.Item>
              )}
            />
          )}
          <Flex gap={8} wrap style={{ marginTop: 8 }}>
            <Button onClick={() => attempt.mutate()} loading={attempt.isPending}>
              {t('callbacks.attempt')}
            </Button>
            {info.data.mayCloseUnreachable && (
              <Button
                danger
                loading={send.isPending}
                onClick={() =>
                  void form.validateFields(['note']).then((v) => send.mutate({ note: v.note, unreachable: true }))
                }
              >
                {t('callbacks.closeUnreachable')}
              </Button>
            )}
          </Flex>
        </>
      )}
    </Modal>
  );
}
