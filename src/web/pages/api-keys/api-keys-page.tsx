// API keys for the POS and card systems that send transactions: each bound to an org unit,
// shown once when created, stored only as a hash, revocable.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Empty, Form, Input, Modal, Table, Tag, Typography } from 'antd';
import { PlusOutlined, StopOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { client, unwrap, type ApiData } from '../../api/client.js';
import { useShowError } from '../../shared/errors.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { Page } from '../../shared/page.js';
import { useOrgUnits } from '../../shared/queries.js';
import { SecretOnceModal } from '../../shared/secret-once-modal.js';
import { WebhooksCard } from './webhooks-card.js';

type ApiKey = ApiData<'/api/api-keys'>[number];
const fmt = (v: string | null | undefined) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : '—');

export function ApiKeysPage() {
  const { t } = useTranslation();
  const { modal, message } = App.useApp();
  const showError = useShowError();
  const queryClient = useQueryClient();
  const units = useOrgUnits();
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const [form] = Form.useForm<{ name: string; orgUnitId: number }>();
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => unwrap(client.GET('/api/api-keys')) });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['api-keys'] });
  const unitName = (id: number) => units.data?.find((u) => u.id === id)?.name ?? `#${id}`;

  const create = async () => {
    let values;
    try {
      values = await form.validateFields();
    } catch {
      return;
    }
    try {
      const created = await unwrap(client.POST('/api/api-keys', { body: values }));
      setCreating(false);
      form.resetFields();
      setSecret(created.key);
      await refresh();
    } catch (err) {
      showError(err, form);
    }
  };

  const revoke = (k: ApiKey) =>
    modal.confirm({
      title: t('apiKeys.revoke'),
      content: t('apiKeys.revokeConfirm', { name: k.name }),
      okText: t('common.confirm'),
      cancelText: t('common.cancel'),
      okButtonProps: { danger: true },
      onOk: async () => {
        try {
          await unwrap(client.POST('/api/api-keys/{id}/revoke', { params: { path: { id: k.id } } }));
          void message.success(t('apiKeys.revoked'));
          await refresh();
        } catch (err) {
          showError(err);
        }
      },
    });

  return (
    <Page
      title={t('apiKeys.title')}
      extra={
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="api-key-create">
          {t('apiKeys.create')}
        </Button>
      }
    >
      <Typography.Paragraph type="secondary">{t('apiKeys.intro')}</Typography.Paragraph>
      <Card size="small">
        <Table<ApiKey>
          rowKey="id"
          size="small"
          loading={keys.isFetching}
          dataSource={keys.data ?? []}
          pagination={false}
          locale={{ emptyText: <Empty description={t('apiKeys.empty')} /> }}
          scroll={{ x: 760 }}
          columns={[
            { title: t('apiKeys.name'), dataIndex: 'name' },
            {
              title: t('apiKeys.prefix'),
              dataIndex: 'keyPrefix',
              width: 150,
              render: (v: string) => <Typography.Text code>{v}…</Typography.Text>,
            },
            { title: t('apiKeys.orgUnit'), dataIndex: 'orgUnitId', width: 160, render: (id: number) => unitName(id) },
            { title: t('apiKeys.createdAt'), dataIndex: 'createdAt', width: 150, render: fmt },
            { title: t('apiKeys.lastUsedAt'), dataIndex: 'lastUsedAt', width: 150, render: fmt },
            {
              title: t('common.actions'),
              key: 'actions',
              width: 120,
              render: (_v, k) =>
                k.revokedAt ? (
                  <Tag>{t('apiKeys.revokedAt', { at: fmt(k.revokedAt) })}</Tag>
                ) : (
                  <Button size="small" danger icon={<StopOutlined />} onClick={() => revoke(k)}>
                    {t('apiKeys.revoke')}
                  </Button>
                ),
            },
          ]}
        />
      </Card>
      <WebhooksCard />
      <Modal
        open={creating}
        title={t('apiKeys.create')}
        onCancel={() => setCreating(false)}
        onOk={() => void create()}
        okText={t('common.confirm')}
        cancelText={t('common.cancel')}
        destroyOnHidden
      >
        <Form form={form} layout="vertical">
          <Form.Item
            name="name"
            label={t('apiKeys.name')}
            rules={[{ required: true, message: t('validation.required') }]}
          >
            <Input maxLength={100} placeholder={t('apiKeys.namePlaceholder')} />
          </Form.Item>
          <Form.Item
            name="orgUnitId"
            label={t('apiKeys.orgUnit')}
            rules={[{ required: true, message: t('validation.select') }]}
            extra={t('apiKeys.orgUnitHint')}
          >
            <OrgTreeSelect />
          </Form.Item>
        </Form>
      </Modal>
      <SecretOnceModal
        secret={secret}
        title={t('apiKeys.createdTitle')}
        hint={t('apiKeys.showOnce')}
        testId="api-key-secret"
        onClose={() => setSecret(null)}
      />
    </Page>
  );
}
