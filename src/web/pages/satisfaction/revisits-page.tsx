// 回访计划: revisits of customers or whole stations as cards (planned ones by date, overdue marked),
// planned with a date and purpose, recorded with whether the customer was reached, his satisfaction and
// what came of it, or cancelled with a reason. Low scores in surveys and callbacks plan one by themselves.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  App,
  Button,
  Card,
  DatePicker,
  Empty,
  Flex,
  Form,
  Input,
  InputNumber,
  List,
  Modal,
  Radio,
  Rate,
  Spin,
  Switch,
  Tag,
  Typography,
} from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { useShowError } from '../../shared/errors.js';
import { Page } from '../../shared/page.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { useCurrentUser } from '../../shared/session.js';
import { REVISIT_COLORS, type Revisit } from './shared.js';

type State = 'planned' | 'done' | 'cancelled';

function RecordModal({ r, onClose }: { r: Revisit | null; onClose: () => void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const showError = useShowError();
  const [form] = Form.useForm<{ reached: boolean; rating?: number; outcome: string }>();
  const reached = Form.useWatch('reached', form);
  const save = useMutation({
    mutationFn: (v: { reached: boolean; rating?: number; outcome: string }) =>
      unwrap(
        client.POST('/api/satisfaction/revisits/{id}/outcome', {
          params: { path: { id: r!.id } },
          body: {
            reached: v.reached,
            outcome: v.outcome,
            version: r!.version,
            ...(v.reached && v.rating && { rating: v.rating }),
          },
        }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['revisits'] });
      onClose();
    },
    onError: (e) => showError(e, form),
  });
  return (
    <Modal
      open={r !== null}
      title={t('revisits.record')}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('revisits.save')}
      confirmLoading={save.isPending}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" initialValues={{ reached: true }} onFinish={(v) => save.mutate(v)}>
        <Form.Item name="reached" label={t('revisits.reached')} valuePropName="checked">
          <Switch />
        </Form.Item>
        {reached && (
          <Form.Item name="rating" label={t('revisits.rating')}>
            <Rate />
          </Form.Item>
        )}
        <Form.Item name="outcome" label={t('revisits.outcome')} rules={[{ required: true }]}>
          <Input.TextArea rows={3} maxLength={4000} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function NewRevisit({ open, onClose, customerId }: { open: boolean; onClose: () => void; customerId?: number }) {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const qc = useQueryClient();
  const showError = useShowError();
  const [form] = Form.useForm<{
    target: 'customer' | 'station';
    customerId?: number;
    orgUnitId?: number;
    plannedFor: Dayjs;
    purpose: string;
  }>();
  const target = Form.useWatch('target', form);
  const save = useMutation({
    mutationFn: (v: {
      target: 'customer' | 'station';
      customerId?: number;
      orgUnitId?: number;
      plannedFor: Dayjs;
      purpose: string;
    }) =>
      unwrap(
        client.POST('/api/satisfaction/revisits', {
          body: {
            ...(v.target === 'customer' ? { customerId: v.customerId } : { orgUnitId: v.orgUnitId }),
            plannedFor: v.plannedFor.hour(9).minute(0).second(0).toISOString(),
            purpose: v.purpose,
          },
        }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['revisits'] });
      onClose();
    },
    onError: (e) => showError(e, form),
  });
  return (
    <Modal
      open={open}
      title={t('revisits.newRevisit')}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('revisits.save')}
      confirmLoading={save.isPending}
      destroyOnHidden
    >
      <Form
        form={form}
        layout="vertical"
        initialValues={{
          target: customerId ? 'customer' : 'station',
          customerId,
          orgUnitId: me?.orgUnitId,
          plannedFor: dayjs().add(3, 'day'),
        }}
        onFinish={(v) => save.mutate(v)}
      >
        <Form.Item name="target" label={t('revisits.target')}>
          <Radio.Group
            optionType="button"
            options={[
              { value: 'customer', label: t('revisits.customer') },
              { value: 'station', label: t('revisits.station') },
            ]}
          />
        </Form.Item>
        {target === 'customer' ? (
          <Form.Item name="customerId" label={t('revisits.customerNo')} rules={[{ required: true }]}>
            <InputNumber min={1} style={{ width: '100%' }} />
          </Form.Item>
        ) : (
          <Form.Item name="orgUnitId" label={t('revisits.station')} rules={[{ required: true }]}>
            <OrgTreeSelect />
          </Form.Item>
        )}
        <Form.Item name="plannedFor" label={t('revisits.plannedFor')} rules={[{ required: true }]}>
          <DatePicker style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item name="purpose" label={t('revisits.purpose')} rules={[{ required: true }]}>
          <Input maxLength={500} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

export function RevisitsPage() {
  const { t } = useTranslation();
  const { modal } = App.useApp();
  const qc = useQueryClient();
  const showError = useShowError();
  const [params] = useSearchParams();
  const customerId = params.get('customerId') ? Number(params.get('customerId')) : undefined;
  const [state, setState] = useState<State>('planned');
  const [mine, setMine] = useState(false);
  const [creating, setCreating] = useState(customerId !== undefined);
  const [recording, setRecording] = useState<Revisit | null>(null);
  const list = useQuery({
    queryKey: ['revisits', state, mine, customerId],
    queryFn: () =>
      unwrap(
        client.GET('/api/satisfaction/revisits', {
          params: {
            query: { state, page: 1, pageSize: 100, ...(mine && { mine }), ...(customerId && { customerId }) },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const cancel = useMutation({
    mutationFn: ({ id, reason }: { id: number; reason: string }) =>
      unwrap(client.POST('/api/satisfaction/revisits/{id}/cancel', { params: { path: { id } }, body: { reason } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['revisits'] }),
    onError: (e) => showError(e),
  });
  const askCancel = (r: Revisit) => {
    let reason = '';
    modal.confirm({
      title: t('revisits.cancel'),
      content: (
        <Input placeholder={t('revisits.reason')} onChange={(e) => (reason = e.target.value)} maxLength={2000} />
      ),
      onOk: () => (reason.trim() ? cancel.mutateAsync({ id: r.id, reason }) : Promise.reject(new Error('reason'))),
    });
  };
  return (
    <Page
      title={t('revisits.title')}
      extra={
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
          {t('revisits.newRevisit')}
        </Button>
      }
    >
      <Flex gap={12} wrap align="center" style={{ marginBottom: 12 }}>
        <Radio.Group
          optionType="button"
          value={state}
          onChange={(e) => setState(e.target.value as State)}
          options={(['planned', 'done', 'cancelled'] as const).map((s) => ({
            value: s,
            label: t(`revisits.states.${s}`),
          }))}
        />
        <Flex gap={6} align="center">
          <Switch checked={mine} onChange={setMine} size="small" />
          <span>{t('revisits.mine')}</span>
        </Flex>
      </Flex>
      {list.isPending ? (
        <Spin />
      ) : (list.data?.items.length ?? 0) === 0 ? (
        <Empty description={t('revisits.none')} />
      ) : (
        <List
          grid={{ gutter: 12, xs: 1, sm: 1, md: 2, lg: 3 }}
          dataSource={list.data?.items ?? []}
          renderItem={(r) => (
            <List.Item>
              <Card size="small" data-testid={`revisit-${r.id}`}>
                <Flex gap={6} wrap align="center">
                  <Typography.Text strong>
                    {r.customer ? (
                      <Link to={`/customers/${r.customer.id}`}>{r.customer.name ?? r.customer.code}</Link>
                    ) : (
                      r.orgUnitName
                    )}
                  </Typography.Text>
                  <Tag color={REVISIT_COLORS[r.state]}>{t(`revisits.states.${r.state as State}`)}</Tag>
                  {r.source === 'low_score' && <Tag color="volcano">{t('revisits.sources.low_score')}</Tag>}
                  {r.overdue && <Tag color="red">{t('revisits.overdue')}</Tag>}
                </Flex>
                <div style={{ overflowWrap: 'anywhere' }}>{r.purpose}</div>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {[
                    dayjs(r.plannedFor).format('YYYY-MM-DD'),
                    r.customer && r.orgUnitName,
                    r.ownerName && t('revisits.owner', { name: r.ownerName }),
                  ]
                    .filter(Boolean)
                    .join(' · ')}
                </Typography.Text>
                {r.state !== 'planned' && r.outcome && (
                  <div style={{ overflowWrap: 'anywhere' }}>
                    {r.rating !== null && <Rate disabled value={r.rating} style={{ fontSize: 12, marginRight: 6 }} />}
                    {r.outcome}
                  </div>
                )}
                {r.state === 'planned' && (
                  <Flex gap={8} style={{ marginTop: 8 }} wrap>
                    <Button size="small" type="primary" onClick={() => setRecording(r)}>
                      {t('revisits.record')}
                    </Button>
                    <Button size="small" onClick={() => askCancel(r)}>
                      {t('revisits.cancel')}
                    </Button>
                  </Flex>
                )}
              </Card>
            </List.Item>
          )}
        />
      )}
      <RecordModal r={recording} onClose={() => setRecording(null)} />
      <NewRevisit open={creating} onClose={() => setCreating(false)} customerId={customerId} />
    </Page>
  );
}
