// The org tree: browse your subtree, and with org.write create, edit, move and delete units.
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Col, Descriptions, Empty, Flex, Row, Spin, Tag, Tree, type TreeDataNode } from 'antd';
import { DeleteOutlined, DragOutlined, EditOutlined, PlusOutlined } from '@ant-design/icons';
import { client, unwrap } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { useShowError } from '../../shared/errors.js';
import { buildOrgTree, type OrgNode } from '../../shared/org-tree.js';
import { ORG_UNITS_KEY, useLevelKinds, useOrgUnits, type OrgUnit } from '../../shared/queries.js';
import { useCurrentUser } from '../../shared/session.js';
import { Page } from '../../shared/page.js';
import { kindName } from './level-kinds.js';
import { timeZoneName } from '../../shared/time-zones.js';
import { currentLocale } from '../../i18n/index.js';
import { OrgUnitFormModal, type UnitFormTarget } from './org-unit-form.js';
import { OrgMoveModal } from './org-move-form.js';

const KIND_COLORS: Record<string, string> = { hq: 'red', branch: 'orange', area: 'blue', station: 'green' };

export function OrgPage() {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const access = useAccess();
  const queryClient = useQueryClient();
  const { modal, message } = App.useApp();
  const showError = useShowError();
  const units = useOrgUnits();
  const kinds = useLevelKinds();
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const [collapsed, setCollapsed] = useState<ReadonlySet<number>>(new Set());
  const [formTarget, setFormTarget] = useState<UnitFormTarget | null>(null);
  const [moving, setMoving] = useState<OrgUnit | null>(null);

  const list = useMemo(() => units.data ?? [], [units.data]);
  const selected = list.find((u) => u.id === selectedId) ?? null;

  // Start on the user's own unit.
  useEffect(() => {
    if (selectedId === null && list.length > 0)
      setSelectedId(list.find((u) => u.id === me.orgUnitId)?.id ?? list[0]!.id);
  }, [list, selectedId, me.orgUnitId]);

  const treeData = useMemo(() => {
    const toNode = (n: OrgNode): TreeDataNode => ({
      key: n.unit.id,
      title: (
        <Flex gap={6} align="center" wrap={false} data-testid={`org-node-${n.unit.code}`}>
          <span>{n.unit.name}</span>
          <Tag color={KIND_COLORS[n.unit.kindCode] ?? 'default'} style={{ marginInlineEnd: 0 }}>
            {kindName(kinds.data, n.unit.kindCode)}
          </Tag>
        </Flex>
      ),
      children: n.children.map(toNode),
    });
    return buildOrgTree(list).map(toNode);
  }, [list, kinds.data]);
  // Everything is expanded except what the user folded, so new units show up at once.
  const expandedKeys = list.map((u) => u.id).filter((id) => !collapsed.has(id));

  const refresh = () => queryClient.invalidateQueries({ queryKey: ORG_UNITS_KEY });

  const remove = (unit: OrgUnit) =>
    modal.confirm({
      title: t('common.delete'),
      content: t('org.deleteConfirm', { name: unit.name }),
      okButtonProps: { danger: true },
      okText: t('common.delete'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await unwrap(client.DELETE('/api/org/units/{id}', { params: { path: { id: unit.id } } }));
          void message.success(t('common.deleted'));
          setSelectedId(unit.parentId);
          await refresh();
        } catch (err) {
          showError(err);
        }
      },
    });

  const parent = selected?.parentId ? list.find((u) => u.id === selected.parentId) : undefined;

  return (
    <Page title={t('org.title')}>
      <Row gutter={[16, 16]}>
        <Col xs={24} md={10} xl={8}>
          <Card title={t('org.tree')} size="small" styles={{ body: { overflowX: 'auto' } }}>
            {units.isPending ? (
              <Spin />
            ) : list.length === 0 ? (
              <Empty description={t('org.empty')} />
            ) : (
              <Tree
                blockNode
                treeData={treeData}
                selectedKeys={selectedId === null ? [] : [selectedId]}
                expandedKeys={expandedKeys}
                onExpand={(_keys, info) => {
                  const id = Number(info.node.key);
                  setCollapsed((prev) => {
                    const next = new Set(prev);
                    if (info.expanded) next.delete(id);
                    else next.add(id);
                    return next;
                  });
                }}
                onSelect={(keys) => keys[0] !== undefined && setSelectedId(Number(keys[0]))}
                data-testid="org-tree"
              />
            )}
          </Card>
        </Col>
        <Col xs={24} md={14} xl={16}>
          <Card
            title={t('org.details')}
            size="small"
            extra={
              selected &&
              access.canWriteOrg && (
                <Flex gap={8} wrap justify="end">
                  <Button
                    type="primary"
                    size="small"
                    icon={<PlusOutlined />}
                    onClick={() => setFormTarget({ mode: 'create', parent: selected })}
                    data-testid="org-add-child"
                  >
                    {t('org.addChild')}
                  </Button>
                </Flex>
              )
            }
          >
            {!selected ? (
              <Empty description={t('org.selectHint')} />
            ) : (
              <>
                <Descriptions
                  column={1}
                  size="small"
                  bordered
                  styles={{ label: { width: 120, whiteSpace: 'nowrap' } }}
                  data-testid="org-details"
                >
                  <Descriptions.Item label={t('org.name')}>{selected.name}</Descriptions.Item>
                  <Descriptions.Item label={t('org.code')}>
                    <span className="fc-code">{selected.code}</span>
                  </Descriptions.Item>
                  <Descriptions.Item label={t('org.kind')}>{kindName(kinds.data, selected.kindCode)}</Descriptions.Item>
                  <Descriptions.Item label={t('org.parent')}>{parent?.name ?? '—'}</Descriptions.Item>
                  <Descriptions.Item label={t('org.timeZone')}>
                    {timeZoneName(selected.timeZone, currentLocale())}{' '}
                    <span className="fc-code">{selected.timeZone}</span>
                  </Descriptions.Item>
                </Descriptions>
                {access.canWriteOrg && (
                  <Flex gap={8} wrap style={{ marginTop: 16 }}>
                    <Button icon={<EditOutlined />} onClick={() => setFormTarget({ mode: 'edit', unit: selected })}>
                      {t('common.edit')}
                    </Button>
                    {selected.parentId !== null && selected.id !== me.orgUnitId && (
                      <>
                        <Button icon={<DragOutlined />} onClick={() => setMoving(selected)}>
                          {t('org.move')}
                        </Button>
                        <Button danger icon={<DeleteOutlined />} onClick={() => remove(selected)}>
                          {t('common.delete')}
                        </Button>
                      </>
                    )}
                  </Flex>
                )}
              </>
            )}
          </Card>
        </Col>
      </Row>
      <OrgUnitFormModal
        target={formTarget}
        kinds={kinds.data}
        onClose={() => setFormTarget(null)}
        onSaved={(unit) => {
          void message.success(formTarget?.mode === 'create' ? t('org.created') : t('common.saved'));
          setFormTarget(null);
          setSelectedId(unit.id);
          void refresh();
        }}
      />
      <OrgMoveModal
        unit={moving}
        units={list}
        onClose={() => setMoving(null)}
        onMoved={(unit) => {
          void message.success(t('org.moved'));
          setMoving(null);
          setSelectedId(unit.id);
          void refresh();
        }}
      />
    </Page>
  );
}
