// Move a unit and its subtree under another parent (never into its own subtree).
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Form, Modal, TreeSelect } from 'antd';
import { client, unwrap } from '../../api/client.js';
import { useShowError } from '../../shared/errors.js';
import { orgTreeSelectData, subtreeIds } from '../../shared/org-tree.js';
import type { OrgUnit } from '../../shared/queries.js';

export function OrgMoveModal({
  unit,
  units,
  onClose,
  onMoved,
}: {
  unit: OrgUnit | null;
  units: readonly OrgUnit[];
  onClose: () => void;
  onMoved: (unit: OrgUnit) => void;
}) {
  const { t } = useTranslation();
  const [form] = Form.useForm<{ parentId: number }>();
  const [busy, setBusy] = useState(false);
  const showError = useShowError();
  const treeData = useMemo(
    () => orgTreeSelectData(units, unit ? subtreeIds(units, unit.id) : new Set()),
    [units, unit],
  );

  useEffect(() => {
    if (unit) form.setFieldsValue({ parentId: unit.parentId ?? undefined });
  }, [unit, form]);

  const submit = async ({ parentId }: { parentId: number }) => {
    if (!unit) return;
    setBusy(true);
    try {
      onMoved(
        await unwrap(
          client.POST('/api/org/units/{id}/move', {
            params: { path: { id: unit.id } },
            body: { parentId, version: unit.version },
          }),
        ),
      );
    } catch (err) {
      showError(err, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={!!unit}
      title={unit ? t('org.moveTitle', { name: unit.name }) : ''}
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
          name="parentId"
          label={t('org.newParent')}
          rules={[{ required: true, message: t('validation.select') }]}
        >
          <TreeSelect treeData={treeData} treeDefaultExpandAll showSearch={{ treeNodeFilterProp: 'title' }} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
