// Search the audit log of your subtree. Actions, record types and the people who acted are shown by
// name; a drawer lists what changed field by field, with the raw snapshots below. Cards on a phone.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import {
  Button,
  Card,
  Col,
  Collapse,
  DatePicker,
  Descriptions,
  Drawer,
  Empty,
  Flex,
  Form,
  Input,
  List,
  Row,
  Select,
  Table,
  Tag,
  Typography,
  type TableColumnsType,
} from 'antd';
import { EyeOutlined, SearchOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { client, unwrap, type ApiData } from '../../api/client.js';
import { i18n } from '../../i18n/index.js';
import { zhCN } from '../../i18n/zh-CN.js';
import { Page } from '../../shared/page.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { changeRows, type ChangeRow, type ChangeWords } from './changes.js';
import { ActorName, auditLabel, systemActorName } from './labels.js';

type AuditRecord = ApiData<'/api/audit'>['items'][number];

interface SearchForm {
  actor?: string;
  action?: string;
  entity?: string;
  entityId?: string;
  range?: [Dayjs | null, Dayjs | null] | null;
}

interface Query {
  actor?: string;
  action?: string;
  entity?: string;
  entityId?: string;
  from?: string;
  to?: string;
  page: number;
  pageSize: number;
}

// Action and entity codes come from the server; the catalogs name every code it records.
const ACTIONS = Object.keys(zhCN.audit.actions);
const ENTITIES = Object.keys(zhCN.audit.entities);

// The customer form's field names, under the names the snapshots use for them.
const CUSTOMER_ALIASES: Record<string, string> = { orgUnitId: 'orgUnit', ownerUserId: 'owner', parentId: 'parent' };
const CUSTOMER_LABELS = zhCN.customers as Record<string, unknown>;
const CUSTOMER_CODED: Record<string, 'kinds' | 'genders'> = { kind: 'kinds', gender: 'genders' };
// Ids of other records in a customer snapshot, named by the record's type.
const CUSTOMER_REFS: Record<string, string> = { ownerUserId: 'user', orgUnitId: 'org_unit', parentId: 'customer' };

function changeWords(): ChangeWords {
  const t = i18n.t.bind(i18n);
  return {
    field: (entity, key) => {
      if (entity !== 'customer') return null;
      const k = CUSTOMER_ALIASES[key] ?? key;
      return typeof CUSTOMER_LABELS[k] === 'string' ? t(`customers.${k}` as 'customers.name') : null;
    },
    value: (entity, key, code) => {
      if (entity !== 'customer') return null;
      if (key === 'lookAfter') return code === '1' ? t('common.yes') : code === '0' ? t('common.no') : null;
      const ref = CUSTOMER_REFS[key];
      if (ref) return `${auditLabel('entities', ref)} #${code}`;
      const group = CUSTOMER_CODED[key];
      const path = `customers.${group}.${code}`;
      return group && i18n.exists(path) ? t(path as 'customers.kinds.individual') : null;
    },
    yes: t('common.yes'),
    no: t('common.no'),
    separator: t('audit.listSeparator'),
    aside: (value, detail) => t('audit.aside', { value, detail }),
  };
}

function prettyJson(raw: string | null): string | null {
  if (raw === null) return null;
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}

function JsonBlock({ title, raw }: { title: string; raw: string | null }) {
  const { t } = useTranslation();
  const text = prettyJson(raw);
  return (
    <>
      <Typography.Title level={5}>{title}</Typography.Title>
      <pre className="fc-json">{text ?? t('audit.noData')}</pre>
    </>
  );
}

function Changes({ record }: { record: AuditRecord }) {
  const { t } = useTranslation();
  const isPhone = useIsPhone();
  const rows = changeRows(record.entity, record.before, record.after, changeWords());
  const raw = (
    <Row gutter={16}>
      <Col xs={24} md={12}>
        <JsonBlock title={t('audit.before')} raw={record.before} />
      </Col>
      <Col xs={24} md={12}>
        <JsonBlock title={t('audit.after')} raw={record.after} />
      </Col>
    </Row>
  );
  // Not a record of fields (a setting's text, a list): the snapshots are the clearest view.
  if (rows === null) return raw;
  const field = (r: ChangeRow) =>
    r.label ?? (
      <Typography.Text code style={{ fontSize: 12 }}>
        {r.key}
      </Typography.Text>
    );
  const value = (v: string | null) =>
    v === null ? (
      <Typography.Text type="secondary">—</Typography.Text>
    ) : (
      <span style={{ whiteSpace: 'pre-wrap' }}>{v}</span>
    );
  const side = (title: string, pick: (r: ChangeRow) => string | null) => ({
    title,
    key: title,
    render: (_v: unknown, r: ChangeRow) => value(pick(r)),
  });
  return (
    <>
      <Typography.Title level={5}>{t('audit.changes')}</Typography.Title>
      {rows.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('audit.noChanges')} />
      ) : isPhone ? (
        <List
          size="small"
          dataSource={rows}
          data-testid="audit-changes"
          renderItem={(r) => (
            <List.Item>
              <div style={{ width: '100%', wordBreak: 'break-all' }}>
                <Typography.Text strong>{field(r)}</Typography.Text>
                {record.before !== null && (
                  <div>
                    {t('audit.before')}：{value(r.before)}
                  </div>
                )}
                {record.after !== null && (
                  <div>
                    {t('audit.after')}：{value(r.after)}
                  </div>
                )}
              </div>
            </List.Item>
          )}
        />
      ) : (
        <Table<ChangeRow>
          size="small"
          rowKey="key"
          pagination={false}
          dataSource={rows}
          tableLayout="fixed"
          data-testid="audit-changes"
          columns={[
            { title: t('audit.field'), key: 'field', width: 160, render: (_v, r) => field(r) },
            ...(record.before !== null ? [side(t('audit.before'), (r) => r.before)] : []),
            ...(record.after !== null ? [side(t('audit.after'), (r) => r.after)] : []),
          ]}
        />
      )}
      <Collapse
        ghost
        size="small"
        style={{ marginTop: 12 }}
        items={[{ key: 'raw', label: t('audit.raw'), children: raw }]}
      />
    </>
  );
}

// Records of these types are customers: the entry links to the customer's page.
const CUSTOMER_ENTITIES = new Set(['customer', 'customer_transactions', 'customer_ratings']);

/** The record the entry is about, linked where the auditor can open it. */
function EntityRef({ r }: { r: AuditRecord }) {
  const text = `${auditLabel('entities', r.entity)}${r.entityId ? ` #${r.entityId}` : ''}`;
  if (r.entityId && CUSTOMER_ENTITIES.has(r.entity)) {
    return <Link to={`/customers/${r.entityId}`}>{text}</Link>;
  }
  return <span>{text}</span>;
}

const at = (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm:ss');

/** The person's name with the username as secondary text, where a tooltip cannot be hovered (phones, the drawer). */
function ActorWithUsername({ r }: { r: AuditRecord }) {
  const name = r.actorDisplayName ?? (isSystem(r) ? systemActorName(r.actorName) : null);
  return (
    <>
      {name ?? <span className="fc-code">{r.actorName}</span>}
      {name && name !== r.actorName && (
        <Typography.Text type="secondary">
          {' · '}
          <span className="fc-code">{r.actorName}</span>
        </Typography.Text>
      )}
    </>
  );
}

/** Written by the system itself (a job, the demo command), not by a person or a failed sign-in. */
const isSystem = (r: AuditRecord) =>
  r.actorUserId === null && r.action !== 'login_failed' && r.action !== 'account_locked';

export function AuditPage() {
  const { t } = useTranslation();
  const isPhone = useIsPhone();
  const [form] = Form.useForm<SearchForm>();
  const [query, setQuery] = useState<Query>({ page: 1, pageSize: 20 });
  const [open, setOpen] = useState<AuditRecord | null>(null);

  const records = useQuery({
    queryKey: ['audit', query],
    queryFn: () => unwrap(client.GET('/api/audit', { params: { query } })),
    placeholderData: keepPreviousData,
  });

  const search = (v: SearchForm) => {
    const [from, to] = v.range ?? [];
    const text = (s?: string) => (s?.trim() ? s.trim() : undefined);
    setQuery({
      page: 1,
      pageSize: query.pageSize,
      ...(text(v.actor) && { actor: text(v.actor) }),
      ...(v.action && { action: v.action }),
      ...(v.entity && { entity: v.entity }),
      ...(text(v.entityId) && { entityId: text(v.entityId) }),
      ...(from && { from: from.startOf('day').toISOString() }),
      ...(to && { to: to.endOf('day').toISOString() }),
    });
  };

  const details = (r: AuditRecord) => (
    <Button size="small" type="link" icon={<EyeOutlined />} onClick={() => setOpen(r)}>
      {t('common.details')}
    </Button>
  );

  const columns: TableColumnsType<AuditRecord> = [
    { title: t('audit.at'), dataIndex: 'at', width: 170, render: at },
    {
      title: t('audit.actor'),
      key: 'actor',
      width: 130,
      render: (_v, r) => <ActorName name={r.actorDisplayName} username={r.actorName} system={isSystem(r)} />,
    },
    { title: t('audit.action'), dataIndex: 'action', width: 130, render: (v: string) => auditLabel('actions', v) },
    { title: t('audit.record'), key: 'entity', width: 170, render: (_v, r) => <EntityRef r={r} /> },
    { title: t('audit.orgUnit'), dataIndex: 'orgUnitName', width: 150, render: (v: string | null) => v ?? '—' },
    { title: t('audit.ip'), dataIndex: 'ip', width: 130 },
    { title: t('common.details'), key: 'details', width: 90, render: (_v, r) => details(r) },
  ];

  const pagination = {
    current: query.page,
    pageSize: query.pageSize,
    total: records.data?.total ?? 0,
    showTotal: (total: number) => t('common.total', { count: total }),
    onChange: (page: number, pageSize: number) =>
      setQuery((q) => ({ ...q, page: pageSize === q.pageSize ? page : 1, pageSize })),
    ...(isPhone && { simple: true, size: 'small' as const }),
  };

  return (
    <Page title={t('audit.title')}>
      <Card size="small" style={{ marginBottom: 16 }}>
        <Form form={form} layout="vertical" onFinish={search}>
          <Row gutter={[12, 0]}>
            <Col xs={24} sm={12} lg={6}>
              <Form.Item name="actor" label={t('audit.actor')}>
                <Input allowClear placeholder={t('audit.actorPlaceholder')} />
              </Form.Item>
            </Col>
            <Col xs={12} sm={12} lg={6}>
              <Form.Item name="action" label={t('audit.action')}>
                <Select
                  allowClear
                  showSearch={{ optionFilterProp: 'label' }}
                  options={ACTIONS.map((a) => ({ value: a, label: auditLabel('actions', a) }))}
                />
              </Form.Item>
            </Col>
            <Col xs={12} sm={12} lg={6}>
              <Form.Item name="entity" label={t('audit.entity')}>
                <Select
                  allowClear
                  showSearch={{ optionFilterProp: 'label' }}
                  options={ENTITIES.map((e) => ({ value: e, label: auditLabel('entities', e) }))}
                />
              </Form.Item>
            </Col>
            <Col xs={24} sm={12} lg={6}>
              <Form.Item name="entityId" label={t('audit.entityId')}>
                <Input allowClear />
              </Form.Item>
            </Col>
            <Col xs={24} sm={16} lg={12}>
              <Form.Item name="range" label={t('audit.dateRange')}>
                <DatePicker.RangePicker style={{ width: '100%' }} allowEmpty={[true, true]} />
              </Form.Item>
            </Col>
            <Col xs={24} sm={8} lg={12} style={{ display: 'flex', alignItems: 'end', gap: 8, paddingBottom: 24 }}>
              <Button type="primary" htmlType="submit" icon={<SearchOutlined />}>
                {t('common.search')}
              </Button>
              <Button
                onClick={() => {
                  form.resetFields();
                  setQuery({ page: 1, pageSize: query.pageSize });
                }}
              >
                {t('common.reset')}
              </Button>
            </Col>
          </Row>
        </Form>
      </Card>
      {isPhone ? (
        <List
          dataSource={records.data?.items ?? []}
          loading={records.isFetching}
          pagination={pagination}
          locale={{ emptyText: <Empty description={t('audit.empty')} /> }}
          data-testid="audit-list"
          renderItem={(r) => (
            <Card size="small" style={{ marginBottom: 8 }} onClick={() => setOpen(r)}>
              <Flex justify="space-between" align="start" gap={8}>
                <div style={{ minWidth: 0 }}>
                  <Typography.Text strong>{auditLabel('actions', r.action)}</Typography.Text>{' '}
                  <span onClick={(e) => e.stopPropagation()}>
                    <EntityRef r={r} />
                  </span>
                  <div>
                    <ActorWithUsername r={r} />
                  </div>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {at(r.at)}
                    {r.orgUnitName && ` · ${r.orgUnitName}`}
                  </Typography.Text>
                </div>
                {r.ip && <Tag style={{ marginInlineEnd: 0 }}>{r.ip}</Tag>}
              </Flex>
            </Card>
          )}
        />
      ) : (
        <Card size="small">
          <Table<AuditRecord>
            rowKey="id"
            size="small"
            columns={columns}
            dataSource={records.data?.items ?? []}
            loading={records.isFetching}
            scroll={{ x: 970 }}
            onRow={(r) => ({ onDoubleClick: () => setOpen(r) })}
            pagination={pagination}
            locale={{ emptyText: <Empty description={t('audit.empty')} /> }}
            data-testid="audit-table"
          />
        </Card>
      )}
      <Drawer
        open={!!open}
        onClose={() => setOpen(null)}
        title={open ? t('audit.detailTitle', { id: open.id }) : ''}
        size={isPhone ? '100%' : 820}
      >
        {open && (
          <>
            <Descriptions column={isPhone ? 1 : 2} size="small" bordered style={{ marginBottom: 16 }}>
              <Descriptions.Item label={t('audit.at')}>{at(open.at)}</Descriptions.Item>
              <Descriptions.Item label={t('audit.actor')}>
                <ActorWithUsername r={open} />
              </Descriptions.Item>
              <Descriptions.Item label={t('audit.action')}>{auditLabel('actions', open.action)}</Descriptions.Item>
              <Descriptions.Item label={t('audit.record')}>
                <EntityRef r={open} />
              </Descriptions.Item>
              <Descriptions.Item label={t('audit.orgUnit')}>{open.orgUnitName ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={t('audit.ip')}>{open.ip ?? '—'}</Descriptions.Item>
            </Descriptions>
            <Changes record={open} />
          </>
        )}
      </Drawer>
    </Page>
  );
}
