// The customer archive: search by name, plate, phone, card or code, filters, server-side paging
// and sorting, export (a permission of its own, audited), and creating a customer.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router-dom';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  App,
  Button,
  Card,
  Checkbox,
  Dropdown,
  Flex,
  Input,
  List,
  Select,
  Table,
  Tag,
  Typography,
  type TableColumnsType,
  type TableProps,
} from 'antd';
import { DownOutlined, DownloadOutlined, HeartOutlined, PlusOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { client, unwrap, type ApiData, type paths } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { Page } from '../../shared/page.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { CustomerFormDrawer, type CustomerFormTarget } from './customer-form.js';
import { CUSTOMER_KINDS, STEP_COLORS, type CustomerKind } from './labels.js';

type Summary = ApiData<'/api/customers'>['items'][number];
type Query = NonNullable<paths['/api/customers']['get']['parameters']['query']>;
type Sort = 'code' | 'name' | 'lastVisitAt' | 'createdAt';

interface Filter {
  q: string;
  kind?: CustomerKind;
  orgUnitId?: number;
  tag?: string;
  lookAfter: boolean;
  sort: Sort;
  order: 'asc' | 'desc';
  page: number;
  pageSize: number;
}

function queryOf(f: Filter): Query {
  return {
    sort: f.sort,
    order: f.order,
    page: f.page,
    pageSize: f.pageSize,
    ...(f.q && { q: f.q }),
    ...(f.kind && { kind: f.kind }),
    ...(f.orgUnitId && { orgUnitId: f.orgUnitId }),
    ...(f.tag && { tag: f.tag }),
    ...(f.lookAfter && { lookAfter: true }),
  };
}

export function CustomersPage() {
  const { t } = useTranslation();
  const access = useAccess();
  const isPhone = useIsPhone();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [filter, setFilter] = useState<Filter>({
    q: '',
    lookAfter: false,
    sort: 'createdAt',
    order: 'desc',
    page: 1,
    pageSize: 20,
  });
  const [formTarget, setFormTarget] = useState<CustomerFormTarget | null>(null);

  const customers = useQuery({
    queryKey: ['customers', filter],
    queryFn: () => unwrap(client.GET('/api/customers', { params: { query: queryOf(filter) } })),
    placeholderData: keepPreviousData,
  });

  // A plain link: the browser downloads the file with the session cookie (a GET needs no CSRF token).
  const exportHref = (format: 'xlsx' | 'csv') => {
    const { page: _p, pageSize: _s, ...rest } = queryOf(filter);
    const params = new URLSearchParams([...Object.entries(rest).map(([k, v]) => [k, String(v)]), ['format', format]]);
    return `/api/customers/export?${params.toString()}`;
  };
  const exportItems = (['xlsx', 'csv'] as const).map((format) => ({
    key: format,
    label: (
      <a
        href={exportHref(format)}
        onClick={() => void message.info(t('customers.exportDone'))}
        data-testid={`customers-export-${format}`}
      >
        {t(`customers.exportAs.${format}`)}
      </a>
    ),
  }));

  const name = (c: Summary) => (
    <Link to={`/customers/${c.id}`} data-testid={`customer-link-${c.code}`}>
      {c.name ?? c.organisation ?? c.plates[0] ?? c.code}
    </Link>
  );
  const step = (c: Summary) => (
    <Tag color={STEP_COLORS[c.profileStep]}>{t('customers.step', { step: c.profileStep })}</Tag>
  );
  const tagList = (c: Summary) => (
    <Flex gap={4} wrap>
      {c.lookAfter && <Tag color="red" icon={<HeartOutlined />} />}
      {c.tags.map((x) => (
        <Tag key={x}>{x}</Tag>
      ))}
    </Flex>
  );

  const sortOrder = (key: Sort) => (filter.sort === key ? (filter.order === 'asc' ? 'ascend' : 'descend') : null);
  const columns: TableColumnsType<Summary> = [
    {
      title: t('customers.code'),
      dataIndex: 'code',
      key: 'code',
      width: 150,
      sorter: true,
      sortOrder: sortOrder('code'),
    },
    {
      title: t('customers.name'),
      key: 'name',
      width: 160,
      sorter: true,
      sortOrder: sortOrder('name'),
      render: (_v, c) => name(c),
    },
    {
      title: t('customers.kind'),
      dataIndex: 'kind',
      width: 96,
      render: (k: string) => t(`customers.kinds.${k as CustomerKind}`),
    },
    { title: t('customers.plate'), dataIndex: 'plates', width: 130, render: (p: string[]) => p.join('、') },
    { title: t('customers.phone'), dataIndex: 'phones', width: 130, render: (p: string[]) => p.join('、') },
    { title: t('customers.tags'), key: 'tags', render: (_v, c) => tagList(c) },
    { title: t('customers.orgUnit'), dataIndex: 'orgUnitName', width: 130 },
    { title: t('customers.owner'), dataIndex: 'ownerName', width: 90 },
    { title: t('customers.profileStep'), key: 'step', width: 90, render: (_v, c) => step(c) },
    {
      title: t('customers.lastVisitAt'),
      dataIndex: 'lastVisitAt',
      key: 'lastVisitAt',
      width: 150,
      sorter: true,
      sortOrder: sortOrder('lastVisitAt'),
      render: (v: string | null) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : '—'),
    },
  ];

  const onTableChange: TableProps<Summary>['onChange'] = (_pagination, _filters, sorter) => {
    const s = Array.isArray(sorter) ? sorter[0] : sorter;
    const key = (s?.order ? s.columnKey : undefined) as Sort | undefined;
    setFilter((f) => ({ ...f, sort: key ?? 'createdAt', order: s?.order === 'ascend' ? 'asc' : 'desc', page: 1 }));
  };

  const pagination = {
    current: filter.page,
    pageSize: filter.pageSize,
    total: customers.data?.total ?? 0,
    showTotal: (total: number) =>
      customers.data?.totalIsLowerBound
        ? t('common.totalAtLeast', { count: total })
        : t('common.total', { count: total }),
    onChange: (page: number, pageSize: number) =>
      setFilter((f) => ({ ...f, page: pageSize === f.pageSize ? page : 1, pageSize })),
    ...(isPhone && { simple: true, size: 'small' as const }),
  };
  const wide = { width: isPhone ? '100%' : 180 };

  return (
    <Page
      title={t('customers.title')}
      extra={
        <>
          {access.canExportCustomers && (
            <Dropdown menu={{ items: exportItems }} trigger={['click']}>
              <Button icon={<DownloadOutlined />} data-testid="customers-export">
                {t('customers.export')} <DownOutlined />
              </Button>
            </Dropdown>
          )}
          {access.canWriteCustomers && (
            <Button
              type="primary"
              icon={<PlusOutlined />}
              onClick={() =>
                setFormTarget({ mode: 'create', ...(filter.orgUnitId && { orgUnitId: filter.orgUnitId }) })
              }
              data-testid="customer-create"
            >
              {t('customers.create')}
            </Button>
          )}
        </>
      }
    >
      <Card size="small" style={{ marginBottom: 16 }}>
        <Flex gap={8} wrap align="center">
          <Input.Search
            allowClear
            enterButton
            placeholder={t('customers.searchPlaceholder')}
            style={{ width: isPhone ? '100%' : 280 }}
            onSearch={(q) => setFilter((f) => ({ ...f, q: q.trim(), page: 1 }))}
            data-testid="customers-search"
          />
          <Select
            allowClear
            placeholder={t('customers.kindFilter')}
            style={wide}
            value={filter.kind}
            onChange={(kind) => setFilter((f) => ({ ...f, kind, page: 1 }))}
            options={CUSTOMER_KINDS.map((k) => ({ value: k, label: t(`customers.kinds.${k}`) }))}
          />
          {access.canReadOrg && (
            <OrgTreeSelect
              allowClear
              placeholder={t('customers.orgFilter')}
              style={wide}
              value={filter.orgUnitId}
              onChange={(orgUnitId) => setFilter((f) => ({ ...f, orgUnitId: orgUnitId ?? undefined, page: 1 }))}
            />
          )}
          <Input
            allowClear
            placeholder={t('customers.tagFilter')}
            style={{ width: isPhone ? '100%' : 140 }}
            onPressEnter={(e) => setFilter((f) => ({ ...f, tag: e.currentTarget.value.trim() || undefined, page: 1 }))}
            onClear={() => setFilter((f) => ({ ...f, tag: undefined, page: 1 }))}
          />
          <Checkbox
            checked={filter.lookAfter}
            onChange={(e) => setFilter((f) => ({ ...f, lookAfter: e.target.checked, page: 1 }))}
          >
            {t('customers.lookAfterOnly')}
          </Checkbox>
        </Flex>
      </Card>
      {isPhone ? (
        <List
          dataSource={customers.data?.items ?? []}
          loading={customers.isFetching}
          locale={{ emptyText: t('customers.empty') }}
          pagination={pagination}
          data-testid="customers-list"
          renderItem={(c) => (
            <Card size="small" style={{ marginBottom: 8 }} onClick={() => void navigate(`/customers/${c.id}`)}>
              <Flex justify="space-between" gap={8}>
                <div style={{ minWidth: 0 }}>
                  <Typography.Text strong>{name(c)}</Typography.Text>{' '}
                  <Typography.Text type="secondary">{c.code}</Typography.Text>
                  <div style={{ margin: '4px 0' }}>
                    {c.plates.join('、')} {c.phones.join('、')}
                  </div>
                  {tagList(c)}
                </div>
                {step(c)}
              </Flex>
            </Card>
          )}
        />
      ) : (
        <Card size="small">
          <Table<Summary>
            rowKey="id"
            columns={columns}
            dataSource={customers.data?.items ?? []}
            loading={customers.isFetching}
            pagination={pagination}
            onChange={onTableChange}
            locale={{ emptyText: t('customers.empty') }}
            scroll={{ x: 1100 }}
            data-testid="customers-table"
          />
        </Card>
      )}
      <CustomerFormDrawer
        target={formTarget}
        onClose={() => setFormTarget(null)}
        onSaved={(c, created) => {
          void message.success(created ? t('customers.created') : t('common.saved'));
          setFormTarget(null);
          void queryClient.invalidateQueries({ queryKey: ['customers'] });
          if (created) void navigate(`/customers/${c.id}`);
        }}
      />
    </Page>
  );
}
