// Webhook subscriptions beside the API keys: what is sent where, whether it is getting through, and the
// delivery log with "send again". The signing secret is shown once, when created or replaced.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  App,
  Button,
  Card,
  Checkbox,
  Drawer,
  Empty,
  Flex,
  Form,
  Input,
  Modal,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import { PlusOutlined, RedoOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { client, unwrap, type ApiData } from '../../api/client.js';
import { useShowError } from '../../shared/errors.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { useOrgUnits } from '../../shared/queries.js';
import { SecretOnceModal } from '../../shared/secret-once-modal.js';

type Webhook = ApiData<'/api/webhooks'>[number];
type Delivery = ApiData<'/api/webhooks/{id}/deliveries'>[number];
const EVENTS = [
  'customer.created',
  'customer.merged',
  'customer.unmerged',
  'alert.opened',
  'alert.resolved',
  'alert.closed',
  'rating.finalised',
  'import.finished',
] as const;
type EventName = (typeof EVENTS)[number];
const fmt = (v: string | null | undefined) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm:ss') : '—');
const STATUS_COLOR: Record<Delivery['status'], string> = {
  pending: 'processing',
  sending: 'processing',
  delivered: 'success',
  failed: 'error',
};

export function WebhooksCard() {
  const { t } = useTranslation();
  const { modal, message } = App.useApp();
  const showError = useShowError();
  const queryClient = useQueryClient();
  const units = useOrgUnits();
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const [logOf, setLogOf] = useState<Webhook | null>(null);
  const [form] = Form.useForm<{ name: string; url: string; events: EventName[]; orgUnitId: number }>();
  const hooks = useQuery({ queryKey: ['webhooks'], queryFn: () => unwrap(client.GET('/api/webhooks')) });
  const log = useQuery({
    queryKey: ['webhooks', logOf?.id, 'deliveries'],
    enabled: logOf !== null,
    queryFn: () =>
      unwrap(client.GET('/api/webhooks/{id}/deliveries', { params: { path: { id: logOf!.id }, query: {} } })),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['webhooks'] });
  const unitName = (id: number) => units.data?.find((u) => u.id === id)?.name ?? `#${id}`;
  const eventName = (e: string): string =>
    t(`webhooks.event_${e.replace('.', '_')}` as 'webhooks.event_customer_created');

  const create = async () => {
    let values;
    try {
      values = await form.validateFields();
    } catch {
      return;
    }
    try {
      const created = await unwrap(client.POST('/api/webhooks', { body: values }));
      setCreating(false);
      form.resetFields();
      setSecret(created.secret);
      await refresh();
    } catch (err) {
      showError(err, form);
    }
  };

  const act = async (fn: () => Promise<unknown>, done: string) => {
    try {
      await fn();
      void message.success(done);
      await refresh();
    } catch (err) {
      showError(err);
    }
  };

  const confirm = (title: string, content: string, onOk: () => Promise<void>, danger = false) =>
    modal.confirm({
      title,
      content,
      okText: t('common.confirm'),
      cancelText: t('common.cancel'),
      okButtonProps: { danger },
      onOk,
    });

  const reason = (h: Webhook) =>
    h.disabledReason?.startsWith('failed')
      ? t('webhooks.reasonFailures', { n: h.consecutiveFailures })
      : t('webhooks.reasonHand');

  const answer = (d: Delivery) => {
    if (d.lastStatusCode !== null) return `HTTP ${d.lastStatusCode}`;
    if (d.lastError?.startsWith('no answer')) return t('webhooks.timeout');
    return d.lastError ?? '—';
  };

  return (
    <Card
      size="small"
      title={t('webhooks.title')}
      style={{ marginTop: 16 }}
      extra={
        <Button icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="webhook-create">
          {t('webhooks.create')}
        </Button>
      }
    >
      <Typography.Paragraph type="secondary">{t('webhooks.intro')}</Typography.Paragraph>
      <Table<Webhook>
        rowKey="id"
        size="small"
        loading={hooks.isFetching}
        dataSource={hooks.data ?? []}
        pagination={false}
        locale={{ emptyText: <Empty description={t('webhooks.empty')} /> }}
        scroll={{ x: 980 }}
        columns={[
          {
            title: t('webhooks.name'),
            dataIndex: 'name',
            width: 260,
            render: (v: string, h) => (
              <Space direction="vertical" size={0}>
                <span>{v}</span>
                <Typography.Text type="secondary" className="fc-code" style={{ fontSize: 12 }}>
                  {h.url}
                </Typography.Text>
              </Space>
            ),
          },
          {
            title: t('webhooks.events'),
            dataIndex: 'events',
            width: 220,
            render: (events: string[]) => (
              <Flex wrap gap={4}>
                {events.map((e) => (
                  <Tag key={e}>{eventName(e)}</Tag>
                ))}
              </Flex>
            ),
          },
          { title: t('webhooks.orgUnit'), dataIndex: 'orgUnitId', width: 140, render: (id: number) => unitName(id) },
          {
            title: t('webhooks.state'),
            key: 'state',
            width: 190,
            render: (_v, h) => (
              <Space direction="vertical" size={0}>
                {h.active ? (
                  <Tag color="success">{t('webhooks.active')}</Tag>
                ) : (
                  <Tag color="warning">
                    {t('webhooks.disabled')} · {reason(h)}
                  </Tag>
                )}
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t('webhooks.pending', { n: h.pending })} · {t('webhooks.failed', { n: h.failed })}
                </Typography.Text>
              </Space>
            ),
          },
          { title: t('webhooks.lastDelivered'), dataIndex: 'lastDeliveredAt', width: 160, render: fmt },
          {
            title: t('common.actions'),
            key: 'actions',
            width: 260,
            render: (_v, h) => (
              <Flex wrap gap={4}>
                <Button size="small" onClick={() => setLogOf(h)}>
                  {t('webhooks.log')}
                </Button>
                <Button
                  size="small"
                  onClick={() =>
                    void act(
                      () =>
                        unwrap(
                          client.PATCH('/api/webhooks/{id}', {
                            params: { path: { id: h.id } },
                            body: { active: !h.active },
                          }),
                        ),
                      h.active ? t('webhooks.switchedOff') : t('webhooks.switchedOn'),
                    )
                  }
                >
                  {h.active ? t('webhooks.switchOff') : t('webhooks.switchOn')}
                </Button>
                <Button
                  size="small"
                  onClick={() =>
                    confirm(t('webhooks.rotate'), t('webhooks.rotateConfirm', { name: h.name }), async () => {
                      try {
                        const r = await unwrap(
                          client.POST('/api/webhooks/{id}/rotate-secret', { params: { path: { id: h.id } } }),
                        );
                        setSecret(r.secret);
                      } catch (err) {
                        showError(err);
                      }
                    })
                  }
                >
                  {t('webhooks.rotate')}
                </Button>
                <Button
                  size="small"
                  danger
                  onClick={() =>
                    confirm(
                      t('webhooks.remove'),
                      t('webhooks.removeConfirm', { name: h.name }),
                      () =>
                        act(
                          () => unwrap(client.DELETE('/api/webhooks/{id}', { params: { path: { id: h.id } } })),
                          t('webhooks.removed'),
                        ),
                      true,
                    )
                  }
                >
                  {t('webhooks.remove')}
                </Button>
              </Flex>
            ),
          },
        ]}
      />
      <Modal
        open={creating}
        title={t('webhooks.create')}
        onCancel={() => setCreating(false)}
        onOk={() => void create()}
        okText={t('common.confirm')}
        cancelText={t('common.cancel')}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" initialValues={{ events: ['customer.created'] }}>
          <Form.Item
            name="name"
            label={t('webhooks.name')}
            rules={[{ required: true, message: t('validation.required') }]}
          >
            <Input maxLength={100} placeholder={t('webhooks.namePlaceholder')} />
          </Form.Item>
          <Form.Item
            name="url"
            label={t('webhooks.url')}
            rules={[{ required: true, message: t('validation.required') }]}
          >
            <Input maxLength={1000} placeholder="https://" inputMode="url" />
          </Form.Item>
          <Form.Item
            name="events"
            label={t('webhooks.events')}
            rules={[{ required: true, message: t('validation.select') }]}
          >
            <Checkbox.Group options={EVENTS.map((e) => ({ value: e, label: eventName(e) }))} />
          </Form.Item>
          <Form.Item
            name="orgUnitId"
            label={t('webhooks.orgUnit')}
            rules={[{ required: true, message: t('validation.select') }]}
            extra={t('webhooks.orgUnitHint')}
          >
            <OrgTreeSelect />
          </Form.Item>
        </Form>
      </Modal>
      <SecretOnceModal
        secret={secret}
        title={t('webhooks.secretTitle')}
        hint={t('webhooks.secretHint')}
        testId="webhook-secret"
        onClose={() => setSecret(null)}
      />
      <Drawer
        open={logOf !== null}
        title={`${t('webhooks.log')} · ${logOf?.name ?? ''}`}
        onClose={() => setLogOf(null)}
        width={Math.min(880, typeof window === 'undefined' ? 880 : window.innerWidth)}
      >
        <Table<Delivery>
          rowKey="id"
          size="small"
          loading={log.isFetching}
          dataSource={log.data ?? []}
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          scroll={{ x: 720 }}
          columns={[
            { title: t('webhooks.at'), dataIndex: 'createdAt', width: 160, render: fmt },
            { title: t('webhooks.event'), dataIndex: 'event', width: 130, render: (e: string) => eventName(e) },
            {
              title: t('webhooks.status'),
              key: 'status',
              width: 170,
              render: (_v, d) => (
                <Space direction="vertical" size={0}>
                  <Tag color={STATUS_COLOR[d.status]}>{t(`webhooks.deliveryStatus.${d.status}`)}</Tag>
                  {d.nextAttemptAt && d.attempts > 0 && (
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {t('webhooks.nextAttempt', { at: fmt(d.nextAttemptAt) })}
                    </Typography.Text>
                  )}
                </Space>
              ),
            },
            { title: t('webhooks.attempts'), dataIndex: 'attempts', width: 70 },
            { title: t('webhooks.answer'), key: 'answer', width: 130, render: (_v, d) => answer(d) },
            {
              title: t('common.actions'),
              key: 'actions',
              width: 110,
              render: (_v, d) =>
                d.status === 'delivered' || d.status === 'failed' ? (
                  <Button
                    size="small"
                    icon={<RedoOutlined />}
                    onClick={() =>
                      void act(async () => {
                        await unwrap(
                          client.POST('/api/webhook-deliveries/{id}/replay', { params: { path: { id: d.id } } }),
                        );
                        await log.refetch();
                      }, t('webhooks.replayed'))
                    }
                  >
                    {t('webhooks.replay')}
                  </Button>
                ) : null,
            },
          ]}
        />
      </Drawer>
    </Card>
  );
}
