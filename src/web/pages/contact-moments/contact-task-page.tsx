// One contact task: what the moment is, whom to contact by when, and — for its assignee — how the
// customer was reached (phone, SMS, WeChat, a visit, or not reached) with a note.
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Descriptions, Form, Input, Radio, Spin, Tag, Typography } from 'antd';
import { ArrowLeftOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useState } from 'react';
import { client, unwrap } from '../../api/client.js';
import { errorText, useShowError } from '../../shared/errors.js';
import { Page } from '../../shared/page.js';
import { KIND_COLORS, OUTCOMES, type ContactTask } from './labels.js';

interface CompleteForm {
  outcome: (typeof OUTCOMES)[number];
  note?: string;
}

function Complete({ task }: { task: ContactTask }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<CompleteForm>();
  const [saving, setSaving] = useState(false);
  const qc = useQueryClient();
  const showError = useShowError();
  const { message } = App.useApp();
  const submit = async (v: CompleteForm) => {
    setSaving(true);
    try {
      await unwrap(
        client.POST('/api/contact-tasks/{id}/complete', {
          params: { path: { id: task.id } },
          body: { outcome: v.outcome, note: v.note?.trim() || null },
        }),
      );
      void message.success(t('moments.completed'));
      await qc.invalidateQueries({ queryKey: ['contact-tasks'] });
      await qc.invalidateQueries({ queryKey: ['contact-task', task.id] });
      await qc.invalidateQueries({ queryKey: ['work'] });
    } catch (err) {
      showError(err, form);
    } finally {
      setSaving(false);
    }
  };
  return (
    <Card size="small" title={t('moments.completeTitle')}>
      <Form form={form} layout="vertical" onFinish={submit} initialValues={{ outcome: 'phone' }}>
        <Form.Item name="outcome" label={t('moments.outcome')} rules={[{ required: true }]}>
          <Radio.Group
            optionType="button"
            options={OUTCOMES.map((o) => ({ value: o, label: t(`moments.outcomes.${o}`) }))}
            data-testid="contact-outcome"
          />
        </Form.Item>
        <Form.Item name="note" label={t('moments.note')}>
          <Input.TextArea rows={3} maxLength={2000} placeholder={t('moments.notePlaceholder')} />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={saving} data-testid="contact-complete">
          {t('moments.complete')}
        </Button>
      </Form>
    </Card>
  );
}

export function ContactTaskPage() {
  const { t } = useTranslation();
  const id = Number(useParams().id);
  const query = useQuery({
    queryKey: ['contact-task', id],
    queryFn: () => unwrap(client.GET('/api/contact-tasks/{id}', { params: { path: { id } } })),
  });
  const task = query.data;
  return (
    <Page title={t('moments.taskTitle')}>
      <Link to="/contact-tasks">
        <ArrowLeftOutlined /> {t('moments.backToTasks')}
      </Link>
      {query.isError && <Alert type="error" showIcon title={errorText(query.error)} style={{ marginTop: 12 }} />}
      <Spin spinning={query.isPending}>
        {task && (
          <>
            <Card size="small" style={{ margin: '12px 0' }}>
              <Typography.Title level={5} style={{ marginTop: 0 }}>
                <Link to={`/customers/${task.customer.id}`}>{task.customer.name}</Link>{' '}
                <Tag color={KIND_COLORS[task.momentKind]}>{t(`moments.kinds.${task.momentKind}`)}</Tag>
              </Typography.Title>
              <Descriptions size="small" column={1}>
                <Descriptions.Item label={t('moments.what')}>{task.title}</Descriptions.Item>
                <Descriptions.Item label={t('moments.momentDayLabel')}>{task.momentDay}</Descriptions.Item>
                <Descriptions.Item label={t('moments.contactDay')}>{task.contactDay}</Descriptions.Item>
                <Descriptions.Item label={t('moments.due')}>
                  {dayjs(task.dueAt).format('YYYY-MM-DD HH:mm')}
                </Descriptions.Item>
                <Descriptions.Item label={t('moments.assignee')}>
                  {task.assigneeName ?? t('moments.noAssignee')}
                </Descriptions.Item>
                <Descriptions.Item label={t('moments.unit')}>{task.orgUnitName}</Descriptions.Item>
                {task.state === 'done' && (
                  <>
                    <Descriptions.Item label={t('moments.outcome')}>
                      {t(`moments.outcomes.${task.outcome ?? 'phone'}`)}
                    </Descriptions.Item>
                    <Descriptions.Item label={t('moments.note')}>{task.note ?? '—'}</Descriptions.Item>
                    <Descriptions.Item label={t('moments.doneBy')}>
                      {`${task.doneByName ?? ''} ${task.doneAt ? dayjs(task.doneAt).format('YYYY-MM-DD HH:mm') : ''}`}
                    </Descriptions.Item>
                  </>
                )}
              </Descriptions>
            </Card>
            {task.canComplete ? (
              <Complete task={task} />
            ) : (
              task.state === 'open' && <Alert type="info" showIcon title={t('moments.notYours')} />
            )}
          </>
        )}
      </Spin>
    </Page>
  );
}
