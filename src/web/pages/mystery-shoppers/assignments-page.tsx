// 暗访任务: send a mystery shopper to a station with a published form and a visit window (dates, and
// daily hours such as the morning peak); the assignments of my subtree as cards.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  App,
  Button,
  Card,
  DatePicker,
  Drawer,
  Empty,
  Flex,
  Form,
  Input,
  InputNumber,
  List,
  Select,
  Spin,
  Tag,
  Typography,
} from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import type { Dayjs } from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { Page } from '../../shared/page.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { useShowError } from '../../shared/errors.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { MYSTERY_KEY, ResultTag, windowText } from './shared.js';

const PAGE_SIZE = 20;

interface Values {
  formId: number;
  orgUnitId: number;
  shopperUserId: number;
  window: [Dayjs, Dayjs];
  hourFrom?: number;
  hourTo?: number;
  note?: string;
}

export function MysteryAssignmentsPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const showError = useShowError();
  const qc = useQueryClient();
  const phone = useIsPhone();
  const [page, setPage] = useState(1);
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm<Values>();
  const list = useQuery({
    queryKey: [...MYSTERY_KEY, 'assignments', page],
    queryFn: () => unwrap(client.GET('/api/mystery/assignments', { params: { query: { page, pageSize: PAGE_SIZE } } })),
    placeholderData: keepPreviousData,
  });
  const forms = useQuery({
    queryKey: [...MYSTERY_KEY, 'forms'],
    queryFn: () => unwrap(client.GET('/api/mystery/forms')),
    enabled: open,
  });
  const shoppers = useQuery({
    queryKey: [...MYSTERY_KEY, 'shoppers'],
    queryFn: () => unwrap(client.GET('/api/mystery/shoppers')),
    enabled: open,
  });
  const create = useMutation({
    mutationFn: (v: Values) =>
      unwrap(
        client.POST('/api/mystery/assignments', {
          body: {
            formId: v.formId,
            orgUnitId: v.orgUnitId,
            shopperUserId: v.shopperUserId,
            windowFrom: v.window[0].startOf('day').toISOString(),
            windowTo: v.window[1].endOf('day').toISOString(),
            ...(v.hourFrom !== undefined && v.hourFrom !== null && { hourFrom: v.hourFrom }),
            ...(v.hourTo !== undefined && v.hourTo !== null && { hourTo: v.hourTo }),
            ...(v.note?.trim() && { note: v.note.trim() }),
          },
        }),
      ),
    onSuccess: () => {
      void message.success(t('mystery.assignments.created'));
      setOpen(false);
      form.resetFields();
      void qc.invalidateQueries({ queryKey: MYSTERY_KEY });
    },
    onError: (e) => showError(e, form),
  });
  const items = list.data?.items ?? [];
  const total = list.data?.total ?? 0;
  return (
    <Page
      title={t('mystery.assignments.title')}
      extra={
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} data-testid="mystery-assign">
          {t('mystery.assignments.new')}
        </Button>
      }
    >
      <Spin spinning={list.isFetching}>
        {items.length === 0 ? (
          <Empty description={t('mystery.assignments.empty')} />
        ) : (
          <List
            dataSource={items}
            split={false}
            pagination={
              total > PAGE_SIZE
                ? {
                    current: page,
                    pageSize: PAGE_SIZE,
                    total,
                    onChange: setPage,
                    size: 'small',
                    showSizeChanger: false,
                  }
                : false
            }
            renderItem={(a) => (
              <List.Item style={{ padding: '4px 0', display: 'block' }}>
                <Link to={`/mystery/assignments/${a.id}`} style={{ color: 'inherit', display: 'block' }}>
                  <Card size="small" hoverable data-testid={`mystery-assignment-${a.id}`}>
                    <Flex gap={6} wrap align="center">
                      <Typography.Text strong>{a.orgUnitName}</Typography.Text>
                      <Tag color={a.state === 'open' ? 'blue' : 'default'}>
                        {t(`mystery.assignments.states.${a.state as 'open'}`)}
                      </Tag>
                      {a.visit && (
                        <>
                          <Typography.Text>{t('mystery.scoreOf', { score: a.visit.scorePercent })}</Typography.Text>
                          <ResultTag visit={a.visit} />
                        </>
                      )}
                    </Flex>
                    <Typography.Text type="secondary">
                      {a.formTitle} · {t('mystery.version', { v: a.formVersion })} · {a.shopperName} ·{' '}
                      {windowText(t, a)}
                    </Typography.Text>
                  </Card>
                </Link>
              </List.Item>
            )}
          />
        )}
      </Spin>
      <Drawer
        open={open}
        onClose={() => setOpen(false)}
        title={t('mystery.assignments.new')}
        width={phone ? '100%' : 480}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" onFinish={(v) => create.mutate(v)}>
          <Form.Item name="formId" label={t('mystery.form')} rules={[{ required: true }]}>
            <Select
              data-testid="mystery-assign-form"
              options={(forms.data ?? [])
                .filter((f) => f.state === 'published')
                .map((f) => ({ value: f.id, label: `${f.title}（${t('mystery.version', { v: f.version })}）` }))}
            />
          </Form.Item>
          <Form.Item name="orgUnitId" label={t('mystery.station')} rules={[{ required: true }]}>
            <OrgTreeSelect data-testid="mystery-assign-station" />
          </Form.Item>
          <Form.Item name="shopperUserId" label={t('mystery.assignments.shopper')} rules={[{ required: true }]}>
            <Select
              data-testid="mystery-assign-shopper"
              options={(shoppers.data ?? []).map((s) => ({
                value: s.id,
                label: `${s.displayName} · ${s.orgUnitName}`,
              }))}
            />
          </Form.Item>
          <Form.Item name="window" label={t('mystery.assignments.window')} rules={[{ required: true }]}>
            <DatePicker.RangePicker style={{ width: '100%' }} data-testid="mystery-assign-window" />
          </Form.Item>
          <Form.Item label={t('mystery.assignments.hours')} extra={t('mystery.assignments.hoursHelp')}>
            <Flex gap={8} align="center">
              <Form.Item name="hourFrom" noStyle>
                <InputNumber min={0} max={23} placeholder={t('mystery.assignments.from')} />
              </Form.Item>
              <Form.Item name="hourTo" noStyle>
                <InputNumber min={1} max={24} placeholder={t('mystery.assignments.to')} />
              </Form.Item>
            </Flex>
          </Form.Item>
          <Form.Item name="note" label={t('mystery.assignments.note')}>
            <Input.TextArea rows={2} maxLength={500} />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={create.isPending} data-testid="mystery-assign-ok">
            {t('mystery.assignments.new')}
          </Button>
        </Form>
      </Drawer>
    </Page>
  );
}
