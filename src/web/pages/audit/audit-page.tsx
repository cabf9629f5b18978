// Search the audit log of your subtree; a drawer shows a record's before/after side by side.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Button, Card, Col, DatePicker, Descriptions, Drawer, Form, Input, Row, Select, Table, Typography, type TableColumnsType } from 'antd';
import { EyeOutlined, SearchOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { client, unwrap, type ApiData } from '../../api/client.js';
import { i18n } from '../../i18n/index.js';
import { zhCN } from '../../i18n/zh-CN.js';
import { Page } from '../../shared/page.js';
import { useIsPhone } from '../../shared/use-is-phone.js';

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

// Action and entity codes come from the server; the catalogs name the known ones.
const ACTIONS = Object.keys(zhCN.audit.actions);
const ENTITIES = Object.keys(zhCN.audit.entities);
const label = (group: 'actions' | 'entities', code: string) => {
  const key = `audit.${group}.${code}`;
  return i18n.exists(key) ? i18n.t(key as 'audit.actions.create') : code;
};

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

  const columns: TableColumnsType<AuditRecord> = [
    { title: t('audit.at'), dataIndex: 'at', width: 170, render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm:ss') },
    { title: t('audit.actor'), dataIndex: 'actorName', width: 120 },
    { title: t('audit.action'), dataIndex: 'action', width: 120, render: (v: string) => label('actions', v) },
    { title: t('audit.entity'), dataIndex: 'entity', width: 110, render: (v: string) => label('entities', v) },
    { title: t('audit.entityId'), dataIndex: 'entityId', width: 100 },
    { title: t('audit.ip'), dataIndex: 'ip', width: 130 },
    {
      title: t('common.details'),
      key: 'details',
      width: 90,
      render: (_v, r) => (
        <Button size="small" type="link" icon={<EyeOutlined />} onClick={() => setOpen(r)}>
          {t('common.details')}
        </Button>
      ),
    },
  ];

  return (
    <Page title={t('audit.title')}>
      <Card size="small" style={{ marginBottom: 16 }}>
        <Form form={form} layout="vertical" onFinish={search}>
          <Row gutter={[12, 0]}>
            <Col xs={24} sm={12} lg={6}>
              <Form.Item name="actor" label={t('audit.actor')}>
                <Input allowClear />
              </Form.Item>
            </Col>
            <Col xs={12} sm={12} lg={6}>
              <Form.Item name="action" label={t('audit.action')}>
                <Select allowClear showSearch={{ optionFilterProp: 'label' }} options={ACTIONS.map((a) => ({ value: a, label: label('actions', a) }))} />
              </Form.Item>
            </Col>
            <Col xs={12} sm={12} lg={6}>
              <Form.Item name="entity" label={t('audit.entity')}>
                <Select allowClear options={ENTITIES.map((e) => ({ value: e, label: label('entities', e) }))} />
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
      <Card size="small">
        <Table<AuditRecord>
          rowKey="id"
          size="small"
          columns={columns}
          dataSource={records.data?.items ?? []}
          loading={records.isFetching}
          scroll={{ x: 840 }}
          onRow={(r) => ({ onDoubleClick: () => setOpen(r) })}
          pagination={{
            current: query.page,
            pageSize: query.pageSize,
            total: records.data?.total ?? 0,
            showTotal: (total) => t('common.total', { count: total }),
            onChange: (page, pageSize) => setQuery((q) => ({ ...q, page: pageSize === q.pageSize ? page : 1, pageSize })),
            ...(isPhone && { simple: true }),
          }}
        />
      </Card>
      <Drawer open={!!open} onClose={() => setOpen(null)} title={open ? t('audit.detailTitle', { id: open.id }) : ''} size={isPhone ? '100%' : 820}>
        {open && (
          <>
            <Descriptions column={isPhone ? 1 : 2} size="small" bordered style={{ marginBottom: 16 }}>
              <Descriptions.Item label={t('audit.at')}>{dayjs(open.at).format('YYYY-MM-DD HH:mm:ss')}</Descriptions.Item>
              <Descriptions.Item label={t('audit.actor')}>{open.actorName}</Descriptions.Item>
              <Descriptions.Item label={t('audit.action')}>{label('actions', open.action)}</Descriptions.Item>
              <Descriptions.Item label={t('audit.entity')}>
                {label('entities', open.entity)} {open.entityId ?? ''}
              </Descriptions.Item>
              <Descriptions.Item label={t('audit.ip')}>{open.ip ?? '—'}</Descriptions.Item>
            </Descriptions>
            <Row gutter={16}>
              <Col xs={24} md={12}>
                <JsonBlock title={t('audit.before')} raw={open.before} />
              </Col>
              <Col xs={24} md={12}>
                <JsonBlock title={t('audit.after')} raw={open.after} />
              </Col>
            </Row>
          </>
        )}
      </Drawer>
    </Page>
  );
}
