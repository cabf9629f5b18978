// Reading another area's customers: ask, see who still has to approve, and approve or reject what
// waits for you. The grant runs for the days approved and then ends on its own.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  App,
  Button,
  Card,
  Empty,
  Flex,
  Form,
  Input,
  InputNumber,
  List,
  Modal,
  Select,
  Spin,
  Tabs,
  Tag,
  Typography,
} from 'antd';
import { CheckOutlined, CloseOutlined, PlusOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { client, unwrap, type ApiData } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { useShowError } from '../../shared/errors.js';
import { Page } from '../../shared/page.js';

type AccessRequest = ApiData<'/api/access-requests'>[number];
type Box = 'mine' | 'to_approve';
type Slot = 'area_rep' | 'dept_head' | 'branch_manager';
type Status = 'pending' | 'approved' | 'rejected';
const STATUS_COLORS: Record<Status, string> = { pending: 'gold', approved: 'green', rejected: 'red' };
const fmt = (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm');

function RequestCard({
  r,
  box,
  onDecide,
}: {
  r: AccessRequest;
  box: Box;
  onDecide: (r: AccessRequest, decision: 'approve' | 'reject') => void;
}) {
  const { t } = useTranslation();
  const expired = r.status === 'approved' && r.validUntil !== null && dayjs(r.validUntil).isBefore(dayjs());
  const approved = new Set(r.approvals.filter((a) => a.decision === 'approve').map((a) => a.slot));
  return (
    <Card size="small" data-testid={`access-request-${r.id}`}>
      <Flex justify="space-between" align="start" gap={8} wrap>
        <div style={{ minWidth: 0 }}>
          <Typography.Text strong>{r.targetName}</Typography.Text> · {t('access.days')} {r.days}{' '}
          <Tag color={r.mode === 'write' ? 'orange' : 'blue'}>{t(`access.modes.${r.mode}`)}</Tag>
          <div>
            <Typography.Text type="secondary">
              {t('access.requester')}: {r.requesterName} · {fmt(r.createdAt)}
            </Typography.Text>
          </div>
          <div style={{ margin: '4px 0' }}>{r.reason}</div>
          <Flex gap={4} wrap>
            {r.requiredSlots.map((s) => (
              <Tag
                key={s}
                color={approved.has(s) ? 'green' : 'default'}
                icon={approved.has(s) ? <CheckOutlined /> : undefined}
              >
                {t(`access.slots.${s as Slot}`)}
              </Tag>
            ))}
          </Flex>
          {r.approvals
            .filter((a) => a.comment)
            .map((a, i) => (
              <div key={i}>
                <Typography.Text type="secondary">
                  {a.approverName}: {a.comment}
                </Typography.Text>
              </div>
            ))}
          {r.validUntil && (
            <div>
              <Typography.Text type="secondary">
                {t('access.validUntil')}: {fmt(r.validUntil)}
              </Typography.Text>
            </div>
          )}
        </div>
        <Flex vertical align="end" gap={8}>
          <Tag color={expired ? 'default' : STATUS_COLORS[r.status as Status]}>
            {expired ? t('access.expired') : t(`access.status.${r.status as Status}`)}
          </Tag>
          {box === 'to_approve' && r.status === 'pending' && (
            <Flex gap={4}>
              <Button
                size="small"
                type="primary"
                icon={<CheckOutlined />}
                onClick={() => onDecide(r, 'approve')}
                data-testid={`access-approve-${r.id}`}
              >
                {t('access.approve')}
              </Button>
              <Button size="small" danger icon={<CloseOutlined />} onClick={() => onDecide(r, 'reject')}>
                {t('access.reject')}
              </Button>
            </Flex>
          )}
        </Flex>
      </Flex>
    </Card>
  );
}

export function AccessRequestsPage() {
  const { t } = useTranslation();
  const access = useAccess();
  const { message } = App.useApp();
  const showError = useShowError();
  const queryClient = useQueryClient();
  const [box, setBox] = useState<Box>('mine');
  const [asking, setAsking] = useState(false);
  const [deciding, setDeciding] = useState<{ r: AccessRequest; decision: 'approve' | 'reject' } | null>(null);
  const [form] = Form.useForm<{ targetOrgUnitId: number; reason: string; days: number; mode: 'read' | 'write' }>();
  const [decisionForm] = Form.useForm<{ comment?: string }>();

  const requests = useQuery({
    queryKey: ['access-requests', box],
    queryFn: () => unwrap(client.GET('/api/access-requests', { params: { query: { box } } })),
  });
  const targets = useQuery({
    queryKey: ['access-targets'],
    queryFn: () => unwrap(client.GET('/api/access-requests/targets')),
    enabled: asking,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['access-requests'] });

  const submit = async () => {
    let values;
    try {
      values = await form.validateFields();
    } catch {
      return;
    }
    try {
      await unwrap(client.POST('/api/access-requests', { body: values }));
      void message.success(t('access.requested'));
      setAsking(false);
      form.resetFields();
      setBox('mine');
      await refresh();
    } catch (err) {
      showError(err, form);
    }
  };

  const decide = async () => {
    if (!deciding) return;
    const { comment } = decisionForm.getFieldsValue();
    try {
      await unwrap(
        client.POST('/api/access-requests/{id}/decision', {
          params: { path: { id: deciding.r.id } },
          body: { decision: deciding.decision, ...(comment?.trim() && { comment: comment.trim() }) },
        }),
      );
      void message.success(t('access.decided'));
      setDeciding(null);
      decisionForm.resetFields();
      await refresh();
    } catch (err) {
      showError(err);
    }
  };

  const list = (
    <Spin spinning={requests.isFetching}>
      {(requests.data ?? []).length === 0 ? (
        <Empty description={t('access.empty')} />
      ) : (
        <List
          dataSource={requests.data ?? []}
          split={false}
          renderItem={(r) => (
            <List.Item style={{ padding: '4px 0' }}>
              <div style={{ width: '100%' }}>
                <RequestCard r={r} box={box} onDecide={(x, decision) => setDeciding({ r: x, decision })} />
              </div>
            </List.Item>
          )}
        />
      )}
    </Spin>
  );

  return (
    <Page
      title={t('access.title')}
      extra={
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setAsking(true)} data-testid="access-new">
          {t('access.request')}
        </Button>
      }
    >
      <Typography.Paragraph type="secondary">{t('access.intro')}</Typography.Paragraph>
      <Tabs
        activeKey={box}
        onChange={(k) => setBox(k as Box)}
        items={[
          { key: 'mine', label: t('access.mine'), children: list },
          ...(access.canApproveAccess ? [{ key: 'to_approve', label: t('access.toApprove'), children: list }] : []),
        ]}
      />
      <Modal
        open={asking}
        title={t('access.request')}
        onCancel={() => setAsking(false)}
        onOk={() => void submit()}
        okText={t('common.confirm')}
        cancelText={t('common.cancel')}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" initialValues={{ days: 7, mode: 'read' }}>
          <Form.Item
            name="targetOrgUnitId"
            label={t('access.target')}
            rules={[{ required: true, message: t('validation.select') }]}
          >
            <Select
              showSearch={{ optionFilterProp: 'label' }}
              loading={targets.isPending}
              options={(targets.data ?? []).map((u) => ({
                value: u.id,
                label: u.parentName ? `${u.parentName} / ${u.name}` : u.name,
              }))}
              data-testid="access-target"
            />
          </Form.Item>
          <Form.Item
            name="reason"
            label={t('access.reason')}
            rules={[{ required: true, min: 2, message: t('validation.required') }]}
          >
            <Input.TextArea maxLength={1000} autoSize={{ minRows: 2, maxRows: 5 }} />
          </Form.Item>
          <Form.Item
            name="days"
            label={t('access.days')}
            rules={[{ required: true, message: t('validation.required') }]}
          >
            <InputNumber min={1} max={30} />
          </Form.Item>
          <Form.Item name="mode" label={t('access.mode')} extra={t('access.modeHelp')}>
            <Select
              options={(['read', 'write'] as const).map((m) => ({ value: m, label: t(`access.modes.${m}`) }))}
              data-testid="access-mode"
            />
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        open={!!deciding}
        title={deciding ? t(`access.${deciding.decision}`) : ''}
        onCancel={() => setDeciding(null)}
        onOk={() => void decide()}
        okText={t('common.confirm')}
        cancelText={t('common.cancel')}
        okButtonProps={{ danger: deciding?.decision === 'reject' }}
      >
        <Form form={decisionForm} layout="vertical">
          <Form.Item name="comment" label={t('access.comment')}>
            <Input.TextArea maxLength={1000} autoSize={{ minRows: 2, maxRows: 5 }} />
          </Form.Item>
        </Form>
      </Modal>
    </Page>
  );
}
