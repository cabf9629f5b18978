// 开发计划: the branches' monthly plans with their state and progress; a planner compiles a new one.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Button, Card, DatePicker, Empty, Flex, Form, Input, List, Modal, Progress, Spin, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { useMe } from '../../shared/session.js';
import { useShowError } from '../../shared/errors.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { Page } from '../../shared/page.js';
import { PLAN_STATE_COLORS, type PlanItem } from './labels.js';

interface CreateValues {
  orgUnitId: number;
  month: Dayjs;
  dueDay?: Dayjs;
  note?: string;
}

function CreatePlan({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<CreateValues>();
  const navigate = useNavigate();
  const showError = useShowError();
  const me = useMe().data;
  const [saving, setSaving] = useState(false);
  const save = async (v: CreateValues) => {
    setSaving(true);
    try {
      const made = await unwrap(
        client.POST('/api/dev-plans', {
          body: {
            orgUnitId: v.orgUnitId,
            month: v.month.format('YYYY-MM'),
            ...(v.dueDay && { dueDay: v.dueDay.format('YYYY-MM-DD') }),
            ...(v.note && { note: v.note }),
          },
        }),
      );
      navigate(`/prospects/plans/${made.id}`);
    } catch (err) {
      showError(err, form);
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal
      open
      title={t('devPlans.create')}
      onCancel={onClose}
      onOk={() => form.submit()}
      okButtonProps={{ loading: saving }}
    >
      <Form<CreateValues>
        form={form}
        layout="vertical"
        initialValues={{ orgUnitId: me?.orgUnitId, month: dayjs() }}
        onFinish={(v) => void save(v)}
      >
        <Form.Item name="orgUnitId" label={t('devPlans.branch')} rules={[{ required: true }]}>
          <OrgTreeSelect />
        </Form.Item>
        <Form.Item name="month" label={t('devPlans.month')} rules={[{ required: true }]}>
          <DatePicker picker="month" style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item name="dueDay" label={t('devPlans.dueDay')}>
          <DatePicker style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item name="note" label={t('devPlans.note')}>
          <Input.TextArea rows={2} maxLength={4000} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function PlanCard({ plan }: { plan: PlanItem }) {
  const { t } = useTranslation();
  const done = plan.counts.signed ?? 0;
  return (
    <Link to={`/prospects/plans/${plan.id}`} style={{ color: 'inherit', display: 'block' }}>
      <Card size="small" hoverable data-testid={`dev-plan-${plan.id}`}>
        <Flex gap={6} wrap align="center">
          <Typography.Text strong>
            {plan.orgUnitName} {plan.month}
          </Typography.Text>
          <Tag color={PLAN_STATE_COLORS[plan.state]}>{t(`devPlans.states.${plan.state}`)}</Tag>
          {plan.overdue && <Tag color="red">{t('devPlans.overdue')}</Tag>}
        </Flex>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {[
            t('devPlans.prospects', { count: plan.total }),
            t('devPlans.compiledBy', { name: plan.compiledByName ?? '' }),
            `${t('devPlans.dueDay')} ${plan.dueDay}`,
          ].join(' · ')}
        </Typography.Text>
        {plan.total > 0 && <Progress percent={Math.round((done / plan.total) * 100)} size="small" />}
      </Card>
    </Link>
  );
}

export function DevPlansPage() {
  const { t } = useTranslation();
  const me = useMe().data;
  const canPlan = me?.permissions.includes('prospect.plan') ?? false;
  const [creating, setCreating] = useState(false);
  const q = useQuery({
    queryKey: ['prospects', 'plans'],
    queryFn: () => unwrap(client.GET('/api/dev-plans', { params: { query: { page: 1, pageSize: 50 } } })),
  });
  const items = q.data?.items ?? [];
  return (
    <Page
      title={t('devPlans.title')}
      extra={
        canPlan && (
          <Button
            type="primary"
            icon={<PlusOutlined />}
            onClick={() => setCreating(true)}
            data-testid="dev-plan-create"
          >
            {t('devPlans.create')}
          </Button>
        )
      }
    >
      <Typography.Paragraph type="secondary">{t('devPlans.intro')}</Typography.Paragraph>
      <Spin spinning={q.isFetching}>
        {items.length === 0 ? (
          <Empty description={t('devPlans.empty')} />
        ) : (
          <List
            dataSource={items}
            split={false}
            renderItem={(plan) => (
              <List.Item style={{ padding: '4px 0', display: 'block' }}>
                <PlanCard plan={plan} />
              </List.Item>
            )}
          />
        )}
      </Spin>
      {creating && <CreatePlan onClose={() => setCreating(false)} />}
    </Page>
  );
}
