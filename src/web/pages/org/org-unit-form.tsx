// Create a child unit, or edit one (PATCH with the version it was read at).
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Form, Input, Modal, Select } from 'antd';
import { client, unwrap } from '../../api/client.js';
import { useShowError } from '../../shared/errors.js';
import type { LevelKind, OrgUnit } from '../../shared/queries.js';
import { timeZoneOptions } from '../../shared/time-zones.js';
import { childKind, kindName } from './level-kinds.js';

interface UnitForm {
  kindCode: string;
  code: string;
  name: string;
  timeZone: string;
}

export type UnitFormTarget = { mode: 'create'; parent: OrgUnit } | { mode: 'edit'; unit: OrgUnit };

const CODE = /^[A-Za-z0-9_.-]+$/;

export function OrgUnitFormModal({
  target,
  kinds,
  onClose,
  onSaved,
}: {
  target: UnitFormTarget | null;
  kinds: readonly LevelKind[] | undefined;
  onClose: () => void;
  onSaved: (unit: OrgUnit) => void;
}) {
  const { t } = useTranslation();
  const [form] = Form.useForm<UnitForm>();
  const [busy, setBusy] = useState(false);
  const showError = useShowError();
  const required = { required: true, message: t('validation.required') };

  useEffect(() => {
    if (!target) return;
    form.resetFields();
    if (target.mode === 'create')
      form.setFieldsValue({ kindCode: childKind(kinds, target.parent.kindCode), timeZone: target.parent.timeZone });
    else
      form.setFieldsValue({
        kindCode: target.unit.kindCode,
        code: target.unit.code,
        name: target.unit.name,
        timeZone: target.unit.timeZone,
      });
  }, [target, kinds, form]);

  const submit = async (v: UnitForm) => {
    if (!target) return;
    setBusy(true);
    try {
      let saved: OrgUnit;
      if (target.mode === 'create') {
        saved = await unwrap(
          client.POST('/api/org/units', {
            body: {
              parentId: target.parent.id,
              kindCode: v.kindCode,
              code: v.code.trim(),
              name: v.name.trim(),
              timeZone: v.timeZone,
            },
          }),
        );
      } else {
        const u = target.unit;
        // Send only what changed, so a rename does not re-check an untouched code.
        saved = await unwrap(
          client.PATCH('/api/org/units/{id}', {
            params: { path: { id: u.id } },
            body: {
              version: u.version,
              ...(v.name.trim() !== u.name && { name: v.name.trim() }),
              ...(v.code.trim() !== u.code && { code: v.code.trim() }),
              ...(v.kindCode !== u.kindCode && { kindCode: v.kindCode }),
              ...(v.timeZone !== u.timeZone && { timeZone: v.timeZone }),
            },
          }),
        );
      }
      onSaved(saved);
    } catch (err) {
      showError(err, form);
    } finally {
      setBusy(false);
    }
  };

  const kindOptions = [...(kinds ?? [])]
    .sort((a, b) => a.rank - b.rank)
    .map((k) => ({ value: k.code, label: kindName(kinds, k.code) }));
  const title = !target
    ? ''
    : target.mode === 'create'
      ? t('org.addChildTitle', { parent: target.parent.name })
      : t('org.editTitle');

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
      <Form form={form} layout="vertical" onFinish={submit} requiredMark={false} data-testid="org-unit-form">
        <Form.Item name="kindCode" label={t('org.kind')} rules={[required]}>
          <Select options={kindOptions} />
        </Form.Item>
        <Form.Item
          name="code"
          label={t('org.code')}
          rules={[required, { pattern: CODE, message: t('validation.codePattern') }, { max: 64 }]}
        >
          <Input autoComplete="off" />
        </Form.Item>
        <Form.Item name="name" label={t('org.name')} rules={[required, { max: 200 }]}>
          <Input autoComplete="off" />
        </Form.Item>
        <Form.Item name="timeZone" label={t('org.timeZone')} rules={[required]}>
          <Select showSearch={{ optionFilterProp: 'label' }} options={timeZoneOptions()} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
