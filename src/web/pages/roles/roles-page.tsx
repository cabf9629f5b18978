// Roles and their permissions; custom roles can be deleted, built-in ones only edited.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Flex, List, Popover, Table, Tag, Typography, type TableColumnsType } from 'antd';
import { DeleteOutlined, EditOutlined, PlusOutlined } from '@ant-design/icons';
import { client, unwrap } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { currentLocale } from '../../i18n/index.js';
import { useShowError } from '../../shared/errors.js';
import { Page } from '../../shared/page.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { ROLES_KEY, useRoles, type Role } from '../../shared/queries.js';
import { permissionLabel } from './permission-labels.js';
import { RoleFormModal, type RoleFormTarget } from './role-form.js';

export function RolesPage() {
  const { t } = useTranslation();
  const access = useAccess();
  const queryClient = useQueryClient();
  const { modal, message } = App.useApp();
  const showError = useShowError();
  const roles = useRoles();
  const [target, setTarget] = useState<RoleFormTarget | null>(null);
  const zh = currentLocale() === 'zh-CN';
  const isPhone = useIsPhone();
  const refresh = () => queryClient.invalidateQueries({ queryKey: ROLES_KEY });

  const remove = (role: Role) =>
    modal.confirm({
      title: t('common.delete'),
      content: t('roles.deleteConfirm', { name: zh ? role.nameZh : role.nameEn }),
      okButtonProps: { danger: true },
      okText: t('common.delete'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await unwrap(client.DELETE('/api/roles/{id}', { params: { path: { id: role.id } } }));
          void message.success(t('common.deleted'));
          await refresh();
        } catch (err) {
          showError(err);
        }
      },
    });

  const columns: TableColumnsType<Role> = [
    { title: t('roles.name'), key: 'name', render: (_v, r) => (zh ? r.nameZh : r.nameEn), width: 160 },
    {
      title: t('roles.code'),
      dataIndex: 'code',
      width: 180,
      render: (code: string) => <span className="fc-code">{code}</span>,
    },
    {
      title: '',
      key: 'kind',
      width: 90,
      render: (_v, r) => (r.builtin ? <Tag>{t('roles.builtin')}</Tag> : <Tag color="purple">{t('roles.custom')}</Tag>),
    },
    {
      title: t('roles.permissions'),
      key: 'permissions',
      render: (_v, r) => (
        <Popover
          content={
            <Flex vertical gap={2} style={{ maxWidth: 280 }}>
              {r.permissions.map((p) => (
                <span key={p}>{permissionLabel(p)}</span>
              ))}
            </Flex>
          }
        >
          <Tag color="blue" style={{ cursor: 'help' }}>
            {t('roles.permissionCount', { count: r.permissions.length })}
          </Tag>
        </Popover>
      ),
    },
    { title: t('roles.userCount'), dataIndex: 'userCount', width: 90, align: 'right' },
    ...(access.canWriteRoles
      ? [
          {
            title: t('common.actions'),
            key: 'actions',
            width: 170,
            render: (_v: unknown, r: Role) => (
              <Flex gap={4}>
                <Button
                  size="small"
                  type="link"
                  icon={<EditOutlined />}
                  onClick={() => setTarget({ mode: 'edit', role: r })}
                >
                  {t('common.edit')}
                </Button>
                {!r.builtin && (
                  <Button size="small" type="link" danger icon={<DeleteOutlined />} onClick={() => remove(r)}>
                    {t('common.delete')}
                  </Button>
                )}
              </Flex>
            ),
          },
        ]
      : []),
  ];

  return (
    <Page
      title={t('roles.title')}
      extra={
        access.canWriteRoles && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setTarget({ mode: 'create' })}>
            {t('roles.create')}
          </Button>
        )
      }
    >
      {isPhone ? (
        // On a phone each role is a card: a five-column table would need sideways scrolling.
        <List
          loading={roles.isFetching}
          dataSource={roles.data ?? []}
          data-testid="roles-cards"
          renderItem={(r) => (
            <Card size="small" style={{ marginBottom: 8 }}>
              <Flex justify="space-between" align="start" gap={8}>
                <div style={{ minWidth: 0 }}>
                  <Typography.Text strong>{zh ? r.nameZh : r.nameEn}</Typography.Text>{' '}
                  {r.builtin ? <Tag>{t('roles.builtin')}</Tag> : <Tag color="purple">{t('roles.custom')}</Tag>}
                  <div>
                    <Typography.Text type="secondary">
                      {t('roles.permissionCount', { count: r.permissions.length })} · {t('roles.userCount')}{' '}
                      {r.userCount}
                    </Typography.Text>
                  </div>
                </div>
                {access.canWriteRoles && (
                  <Flex vertical gap={4}>
                    <Button size="small" icon={<EditOutlined />} onClick={() => setTarget({ mode: 'edit', role: r })}>
                      {t('common.edit')}
                    </Button>
                    {!r.builtin && (
                      <Button size="small" danger icon={<DeleteOutlined />} onClick={() => remove(r)}>
                        {t('common.delete')}
                      </Button>
                    )}
                  </Flex>
                )}
              </Flex>
            </Card>
          )}
        />
      ) : (
        <Card size="small">
          <Table<Role>
            rowKey="id"
            columns={columns}
            dataSource={roles.data ?? []}
            loading={roles.isFetching}
            pagination={false}
            scroll={{ x: 800 }}
          />
        </Card>
      )}
      <RoleFormModal
        target={target}
        onClose={() => setTarget(null)}
        onSaved={(created) => {
          void message.success(created ? t('roles.created') : t('common.saved'));
          setTarget(null);
          void refresh();
        }}
      />
    </Page>
  );
}
