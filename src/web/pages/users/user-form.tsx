// Create a user, or edit one (display name, org unit, roles, active) at the version it was read.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Checkbox, Form, Input, Modal, Select, Switch } from 'antd';
import { client, unwrap, type ApiData } from '../../api/client.js';
import { currentLocale } from '../../i18n/index.js';
import { useShowError } from '../../shared/errors.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { newPasswordRules } from '../../shared/password-rules.js';
import { useRoles } from '../../shared/queries.js';

export type User = ApiData<'/api/users'>['items'][number];
export type UserFormTarget = { mode: 'create'; orgUnitId?: number } | { mode: 'edit'; user: User };

interface UserFormValues {
  username: string;
  displayName: string;
  orgUnitId: number;
  roleIds: number[];
  password: string;
  active: boolean;
  mustChangePassword: boolean;
}

const USERNAME = /^[A-Za-z0-9_.@-]{2,}$/;

export function UserFormModal({
  target,
  onClose,
  onSaved,
}: {
  target: UserFormTarget | null;
  onClose: () => void;
  onSaved: (user: User, created: boolean) => void;
}) {
  const { t } = useTranslation();
  const [form] = Form.useForm<UserFormValues>();
  const [busy, setBusy] = useState(false);
  const showError = useShowError();
  const roles = useRoles();
  const zh = currentLocale() === 'zh-CN';
  const required = { required: true, message: t('validation.required') };
  const creating = target?.mode === 'create';

  useEffect(() => {
    if (!target) return;
    form.resetFields();
    if (target.mode === 'create')
      form.setFieldsValue({ orgUnitId: target.orgUnitId, roleIds: [], active: true, mustChangePassword: false });
    else
      form.setFieldsValue({
        username: target.user.username,
        displayName: target.user.displayName,
        orgUnitId: target.user.orgUnitId,
        roleIds: target.user.roles.map((r) => r.id),
        active: target.user.active,
      });
  }, [target, form]);

  const submit = async (v: UserFormValues) => {
    if (!target) return;
    setBusy(true);
    try {
      if (target.mode === 'create') {
        const user = await unwrap(
          client.POST('/api/users', {
            body: {
              username: v.username.trim(),
              displayName: v.displayName.trim(),
              orgUnitId: v.orgUnitId,
              roleIds: v.roleIds,
              password: v.password,
              mustChangePassword: v.mustChangePassword,
            },
          }),
        );
        onSaved(user, true);
      } else {
        const u = target.user;
        const sameRoles =
          [...v.roleIds].sort().join() ===
          u.roles
            .map((r) => r.id)
            .sort()
            .join();
        const user = await unwrap(
          client.PATCH('/api/users/{id}', {
            params: { path: { id: u.id } },
            body: {
              version: u.version,
              ...(v.displayName.trim() !== u.displayName && { displayName: v.displayName.trim() }),
              ...(v.orgUnitId !== u.orgUnitId && { orgUnitId: v.orgUnitId }),
              ...(!sameRoles && { roleIds: v.roleIds }),
              ...(v.active !== u.active && { active: v.active }),
            },
          }),
        );
        onSaved(user, false);
      }
    } catch (err) {
      showError(err, form);
    } finally {
      setBusy(false);
    }
  };

  const roleOptions = (roles.data ?? []).map((r) => ({ value: r.id, label: zh ? r.nameZh : r.nameEn }));
  const title = !target
    ? ''
    : target.mode === 'create'
      ? t('users.create')
      : t('users.editTitle', { name: target.user.displayName });

  return (
    <Modal
      open={!!target}
      title={title}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      destroyOnHidden
      forceRender
    >
      <Form form={form} layout="vertical" onFinish={submit} requiredMark={false} data-testid="user-form">
        <Form.Item
          name="username"
          label={t('users.username')}
          rules={
            creating ? [required, { pattern: USERNAME, message: t('validation.usernamePattern') }, { max: 64 }] : []
          }
        >
          <Input autoComplete="off" disabled={!creating} />
        </Form.Item>
        <Form.Item name="displayName" label={t('users.displayName')} rules={[required, { max: 100 }]}>
          <Input autoComplete="off" />
        </Form.Item>
        <Form.Item
          name="orgUnitId"
          label={t('users.orgUnit')}
          rules={[{ required: true, message: t('validation.select') }]}
        >
          <OrgTreeSelect />
        </Form.Item>
        <Form.Item name="roleIds" label={t('users.roles')}>
          <Select
            mode="multiple"
            options={roleOptions}
            loading={roles.isPending}
            showSearch={{ optionFilterProp: 'label' }}
          />
        </Form.Item>
        {creating ? (
          <>
            <Form.Item
              name="password"
              label={t('users.password')}
              rules={newPasswordRules()}
              extra={t('setup.passwordHelp')}
            >
              <Input.Password autoComplete="new-password" />
            </Form.Item>
            <Form.Item name="mustChangePassword" valuePropName="checked">
              <Checkbox>{t('users.mustChangePassword')}</Checkbox>
            </Form.Item>
          </>
        ) : (
          <Form.Item name="active" label={t('users.status')} valuePropName="checked">
            <Switch checkedChildren={t('users.active')} unCheckedChildren={t('users.inactive')} />
          </Form.Item>
        )}
      </Form>
    </Modal>
  );
}

export function ResetPasswordModal({
  user,
  onClose,
  onDone,
}: {
  user: User | null;
  onClose: () => void;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const [form] = Form.useForm<{ password: string; mustChangePassword: boolean }>();
  const [busy, setBusy] = useState(false);
  const showError = useShowError();

  useEffect(() => {
    if (user) {
      form.resetFields();
      form.setFieldsValue({ mustChangePassword: false });
    }
  }, [user, form]);

  const submit = async ({ password, mustChangePassword }: { password: string; mustChangePassword: boolean }) => {
    if (!user) return;
    setBusy(true);
    try {
      await unwrap(
        client.POST('/api/users/{id}/reset-password', {
          params: { path: { id: user.id } },
          body: { password, mustChangePassword },
        }),
      );
      onDone();
    } catch (err) {
      showError(err, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={!!user}
      title={user ? t('users.resetPasswordTitle', { name: user.displayName }) : ''}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      destroyOnHidden
      forceRender
    >
      <Form form={form} layout="vertical" onFinish={submit} requiredMark={false}>
        <Form.Item
          name="password"
          label={t('users.newPassword')}
          rules={newPasswordRules()}
          extra={t('setup.passwordHelp')}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item name="mustChangePassword" valuePropName="checked">
          <Checkbox>{t('users.mustChangePassword')}</Checkbox>
        </Form.Item>
      </Form>
    </Modal>
  );
}
