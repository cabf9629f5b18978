// Create or edit a role: names in both languages and a checkbox group of permissions.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Checkbox, Form, Input, Modal, Typography } from 'antd';
import { client, unwrap } from '../../api/client.js';
import { currentLocale } from '../../i18n/index.js';
import { useShowError } from '../../shared/errors.js';
import { usePermissionCatalog, type Role } from '../../shared/queries.js';
import { groupPermissions, permissionGroupLabel, permissionLabel } from './permission-labels.js';

export type RoleFormTarget = { mode: 'create' } | { mode: 'edit'; role: Role };

interface RoleFormValues {
  code: string;
  nameZh: string;
  nameEn: string;
  permissions: string[];
}

const ROLE_CODE = /^[a-z0-9_]{2,}$/;

export function RoleFormModal({
  target,
  onClose,
  onSaved,
}: {
  target: RoleFormTarget | null;
  onClose: () => void;
  onSaved: (created: boolean) => void;
}) {
  const { t } = useTranslation();
  const [form] = Form.useForm<RoleFormValues>();
  const [busy, setBusy] = useState(false);
  const showError = useShowError();
  const catalog = usePermissionCatalog();
  const required = { required: true, message: t('validation.required') };

  useEffect(() => {
    if (!target) return;
    form.resetFields();
    if (target.mode === 'edit')
      form.setFieldsValue({
        code: target.role.code,
        nameZh: target.role.nameZh,
        nameEn: target.role.nameEn,
        permissions: target.role.permissions,
      });
    else form.setFieldsValue({ permissions: [] });
  }, [target, form]);

  const submit = async (v: RoleFormValues) => {
    if (!target) return;
    setBusy(true);
    try {
      if (target.mode === 'create') {
        await unwrap(
          client.POST('/api/roles', {
            body: { code: v.code.trim(), nameZh: v.nameZh.trim(), nameEn: v.nameEn.trim(), permissions: v.permissions },
          }),
        );
      } else {
        await unwrap(
          client.PATCH('/api/roles/{id}', {
            params: { path: { id: target.role.id } },
            body: {
              version: target.role.version,
              nameZh: v.nameZh.trim(),
              nameEn: v.nameEn.trim(),
              permissions: v.permissions,
            },
          }),
        );
      }
      onSaved(target.mode === 'create');
    } catch (err) {
      showError(err, form);
    } finally {
      setBusy(false);
    }
  };

  const groups = groupPermissions(catalog.data ?? []);
  const title = !target
    ? ''
    : target.mode === 'create'
      ? t('roles.create')
      : t('roles.editTitle', { name: currentLocale() === 'zh-CN' ? target.role.nameZh : target.role.nameEn });

  return (
    <Modal
      open={!!target}
      title={title}
      width={640}
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
          name="code"
          label={t('roles.code')}
          rules={
            target?.mode === 'create'
              ? [required, { pattern: ROLE_CODE, message: t('validation.roleCodePattern') }, { max: 64 }]
              : []
          }
        >
          <Input autoComplete="off" disabled={target?.mode !== 'create'} />
        </Form.Item>
        <Form.Item name="nameZh" label={t('roles.nameZh')} rules={[required, { max: 100 }]}>
          <Input autoComplete="off" />
        </Form.Item>
        <Form.Item name="nameEn" label={t('roles.nameEn')} rules={[required, { max: 100 }]}>
          <Input autoComplete="off" />
        </Form.Item>
        <Form.Item name="permissions" label={t('roles.permissions')}>
          <Checkbox.Group style={{ display: 'block' }}>
            {groups.map(([group, perms]) => (
              <div key={group} style={{ marginBottom: 8 }}>
                <Typography.Text type="secondary" style={{ display: 'block', marginBottom: 4 }}>
                  {permissionGroupLabel(group)}
                </Typography.Text>
                <div style={{ display: 'flex', flexWrap: 'wrap', gap: '4px 16px' }}>
                  {perms.map((p) => (
                    <Checkbox key={p} value={p}>
                      {permissionLabel(p)}
                    </Checkbox>
                  ))}
                </div>
              </div>
            ))}
          </Checkbox.Group>
        </Form.Item>
      </Form>
    </Modal>
  );
}
