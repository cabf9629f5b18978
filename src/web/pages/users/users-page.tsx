// Users of your subtree: server-side paging, filters, create/edit, and the account actions.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  App,
  Button,
  Card,
  Dropdown,
  Flex,
  Input,
  List,
  Table,
  Tag,
  Typography,
  type MenuProps,
  type TableColumnsType,
} from 'antd';
import {
  EditOutlined,
  KeyOutlined,
  LockOutlined,
  MoreOutlined,
  PlusOutlined,
  PoweroffOutlined,
  UnlockOutlined,
} from '@ant-design/icons';
import dayjs from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { currentLocale } from '../../i18n/index.js';
import { useShowError } from '../../shared/errors.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { Page } from '../../shared/page.js';
import { useOrgUnits, useRoles } from '../../shared/queries.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { ResetPasswordModal, UserFormModal, type User, type UserFormTarget } from './user-form.js';

interface Filter {
  q: string;
  orgUnitId: number | undefined;
  page: number;
  pageSize: number;
}

export function UsersPage() {
  const { t } = useTranslation();
  const access = useAccess();
  const isPhone = useIsPhone();
  const queryClient = useQueryClient();
  const { modal, message } = App.useApp();
  const showError = useShowError();
  const [filter, setFilter] = useState<Filter>({ q: '', orgUnitId: undefined, page: 1, pageSize: 20 });
  const [formTarget, setFormTarget] = useState<UserFormTarget | null>(null);
  const [resetting, setResetting] = useState<User | null>(null);
  const units = useOrgUnits(access.canReadOrg);
  const roles = useRoles();
  const zh = currentLocale() === 'zh-CN';

  const users = useQuery({
    queryKey: ['users', filter],
    queryFn: () =>
      unwrap(
        client.GET('/api/users', {
          params: {
            query: {
              page: filter.page,
              pageSize: filter.pageSize,
              ...(filter.q && { q: filter.q }),
              ...(filter.orgUnitId && { orgUnitId: filter.orgUnitId }),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['users'] });

  const unitName = (id: number) => units.data?.find((u) => u.id === id)?.name ?? `#${id}`;
  const roleName = (code: string) => {
    const r = roles.data?.find((x) => x.code === code);
    return r ? (zh ? r.nameZh : r.nameEn) : code;
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
  const unlock = (u: User) =>
    act(() => unwrap(client.POST('/api/users/{id}/unlock', { params: { path: { id: u.id } } })), t('users.unlockDone'));
  const revoke = (u: User) =>
    modal.confirm({
      title: t('users.revokeSessions'),
      content: t('users.revokeConfirm', { name: u.displayName }),
      okText: t('common.confirm'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          const { revoked } = await unwrap(
            client.POST('/api/users/{id}/revoke-sessions', { params: { path: { id: u.id } } }),
          );
          void message.success(t('users.revokeDone', { count: revoked }));
        } catch (err) {
          showError(err);
        }
      },
    });

  const moreMenu = (u: User): MenuProps => ({
    items: [
      { key: 'reset', icon: <KeyOutlined />, label: t('users.resetPassword') },
      ...(u.locked ? [{ key: 'unlock', icon: <UnlockOutlined />, label: t('users.unlock') }] : []),
      { key: 'revoke', icon: <PoweroffOutlined />, label: t('users.revokeSessions'), danger: true },
    ],
    onClick: ({ key }) => {
      if (key === 'reset') setResetting(u);
      else if (key === 'unlock') void unlock(u);
      else if (key === 'revoke') revoke(u);
    },
  });

  const actions = (u: User) =>
    access.canWriteUsers && (
      <Flex gap={4} key="actions">
        <Button
          size="small"
          type="link"
          icon={<EditOutlined />}
          onClick={() => setFormTarget({ mode: 'edit', user: u })}
        >
          {t('common.edit')}
        </Button>
        <Dropdown menu={moreMenu(u)} trigger={['click']}>
          <Button size="small" type="text" icon={<MoreOutlined />} aria-label={t('common.more')} />
        </Dropdown>
      </Flex>
    );

  const status = (u: User) => (
    <Flex gap={4} wrap>
      {u.active ? <Tag color="green">{t('users.active')}</Tag> : <Tag>{t('users.inactive')}</Tag>}
      {u.locked && (
        <Tag color="red" icon={<LockOutlined />}>
          {t('users.locked')}
        </Tag>
      )}
    </Flex>
  );
  const roleTags = (u: User) => (
    <Flex gap={4} wrap>
      {u.roles.map((r) => (
        <Tag key={r.id} color="blue">
          {roleName(r.code)}
        </Tag>
      ))}
    </Flex>
  );

  const columns: TableColumnsType<User> = [
    {
      title: t('users.username'),
      dataIndex: 'username',
      width: 140,
      render: (u: string) => <span className="fc-code">{u}</span>,
    },
    { title: t('users.displayName'), dataIndex: 'displayName', width: 140 },
    { title: t('users.orgUnit'), dataIndex: 'orgUnitId', width: 200, render: (id: number) => unitName(id) },
    { title: t('users.roles'), key: 'roles', render: (_v, u) => roleTags(u) },
    { title: t('users.status'), key: 'status', width: 150, render: (_v, u) => status(u) },
    {
      title: t('users.createdAt'),
      dataIndex: 'createdAt',
      width: 170,
      render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm'),
    },
    ...(access.canWriteUsers
      ? [{ title: t('common.actions'), key: 'actions', width: 130, render: (_v: unknown, u: User) => actions(u) }]
      : []),
  ];

  const pagination = {
    current: filter.page,
    pageSize: filter.pageSize,
    total: users.data?.total ?? 0,
    showTotal: (total: number) => t('common.total', { count: total }),
    onChange: (page: number, pageSize: number) =>
      setFilter((f) => ({ ...f, page: pageSize === f.pageSize ? page : 1, pageSize })),
    ...(isPhone && { simple: true, size: 'small' as const }),
  };

  return (
    <Page
      title={t('users.title')}
      extra={
        access.canWriteUsers && (
          <Button
            type="primary"
            icon={<PlusOutlined />}
            onClick={() => setFormTarget({ mode: 'create', ...(filter.orgUnitId && { orgUnitId: filter.orgUnitId }) })}
            data-testid="user-create"
          >
            {t('users.create')}
          </Button>
        )
      }
    >
      <Card size="small" style={{ marginBottom: 16 }}>
        <Flex gap={8} wrap>
          <Input.Search
            allowClear
            placeholder={t('users.searchPlaceholder')}
            style={{ width: isPhone ? '100%' : 240 }}
            onSearch={(q) => setFilter((f) => ({ ...f, q: q.trim(), page: 1 }))}
            enterButton
          />
          {access.canReadOrg && (
            <OrgTreeSelect
              allowClear
              placeholder={t('users.orgFilter')}
              style={{ width: isPhone ? '100%' : 240 }}
              value={filter.orgUnitId}
              onChange={(orgUnitId) => setFilter((f) => ({ ...f, orgUnitId: orgUnitId ?? undefined, page: 1 }))}
            />
          )}
        </Flex>
      </Card>
      {isPhone ? (
        <List
          dataSource={users.data?.items ?? []}
          loading={users.isFetching}
          locale={{ emptyText: t('users.empty') }}
          pagination={pagination}
          data-testid="users-list"
          renderItem={(u) => (
            <Card size="small" style={{ marginBottom: 8 }} data-testid={`user-card-${u.username}`}>
              <Flex justify="space-between" align="start" gap={8}>
                <div style={{ minWidth: 0 }}>
                  <Typography.Text strong>{u.displayName}</Typography.Text>{' '}
                  <Typography.Text type="secondary" className="fc-code">
                    {u.username}
                  </Typography.Text>
                  <div style={{ color: 'rgba(0,0,0,0.65)', margin: '4px 0' }}>{unitName(u.orgUnitId)}</div>
                  {roleTags(u)}
                  <div style={{ marginTop: 4 }}>{status(u)}</div>
                </div>
                {actions(u)}
              </Flex>
            </Card>
          )}
        />
      ) : (
        <Card size="small">
          <Table<User>
            rowKey="id"
            columns={columns}
            dataSource={users.data?.items ?? []}
            loading={users.isFetching}
            pagination={pagination}
            locale={{ emptyText: t('users.empty') }}
            scroll={{ x: 900 }}
            data-testid="users-table"
          />
        </Card>
      )}
      <UserFormModal
        target={formTarget}
        onClose={() => setFormTarget(null)}
        onSaved={(_user, created) => {
          void message.success(created ? t('users.created') : t('common.saved'));
          setFormTarget(null);
          void refresh();
        }}
      />
      <ResetPasswordModal
        user={resetting}
        onClose={() => setResetting(null)}
        onDone={() => {
          void message.success(t('users.resetDone'));
          setResetting(null);
        }}
      />
    </Page>
  );
}
