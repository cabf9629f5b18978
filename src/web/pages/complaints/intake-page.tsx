// 受理投诉: one column, phone-friendly, for the station: channel, category, severity, the unit
// concerned (the user's own by default), what was said, who said it; regulator and media cases ask for
// their reference number and reply deadline. The case number shows at once.
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router-dom';
import { useMutation } from '@tanstack/react-query';
import { App, Button, DatePicker, Form, Input, Select, Typography } from 'antd';
import { ArrowLeftOutlined } from '@ant-design/icons';
import type { Dayjs } from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { useShowError } from '../../shared/errors.js';
import { Page } from '../../shared/page.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { useCurrentUser } from '../../shared/session.js';
import { CHANNELS, named, useComplaintCatalog } from './labels.js';

interface Values {
  channel: (typeof CHANNELS)[number];
  categoryCode: string;
  severityCode: string;
  orgUnitId: number;
  content: string;
  complainantName?: string;
  complainantPhone?: string;
  plate?: string;
  referenceNo?: string;
  replyDeadline?: Dayjs;
}

export function ComplaintIntakePage() {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const showError = useShowError();
  const catalog = useComplaintCatalog();
  const [form] = Form.useForm<Values>();
  const channel = Form.useWatch('channel', form);
  const needsReference = channel === 'regulator' || channel === 'media';
  const take = useMutation({
    mutationFn: (v: Values) =>
      unwrap(
        client.POST('/api/complaints', {
          body: {
            channel: v.channel,
            categoryCode: v.categoryCode,
            severityCode: v.severityCode,
            orgUnitId: v.orgUnitId,
            content: v.content,
            ...(v.complainantName && { complainantName: v.complainantName }),
            ...(v.complainantPhone && { complainantPhone: v.complainantPhone }),
            ...(v.plate && { plate: v.plate }),
            ...(v.referenceNo && { referenceNo: v.referenceNo }),
            ...(v.replyDeadline && { replyDeadline: v.replyDeadline.toISOString() }),
          },
        }),
      ),
    onSuccess: (c) => {
      void message.success(t('complaints.taken', { caseNo: c.caseNo }), 6);
      navigate(`/complaints/${c.id}`);
    },
    onError: (e) => showError(e, form),
  });
  const active = <T extends { active: boolean }>(xs: T[] | undefined) => (xs ?? []).filter((x) => x.active);
  return (
    <Page
      title={t('complaints.intakeTitle')}
      extra={
        <Link to="/complaints">
          <ArrowLeftOutlined /> {t('complaints.back')}
        </Link>
      }
    >
      <Typography.Paragraph type="secondary">{t('complaints.intakeIntro')}</Typography.Paragraph>
      <Form<Values>
        form={form}
        layout="vertical"
        style={{ maxWidth: 560 }}
        initialValues={{ channel: 'station', severityCode: 'general', orgUnitId: me.orgUnitId }}
        onFinish={(v) => take.mutate(v)}
        data-testid="complaint-intake"
      >
        <Form.Item name="channel" label={t('complaints.channel')} rules={[{ required: true }]}>
          <Select
            options={CHANNELS.map((c) => ({ value: c, label: t(`complaints.channels.${c}`) }))}
            data-testid="complaint-channel"
          />
        </Form.Item>
        <Form.Item name="categoryCode" label={t('complaints.category')} rules={[{ required: true }]}>
          <Select
            options={active(catalog.data?.categories).map((c) => ({ value: c.code, label: named(c) }))}
            data-testid="complaint-category"
          />
        </Form.Item>
        <Form.Item name="severityCode" label={t('complaints.severity')} rules={[{ required: true }]}>
          <Select options={active(catalog.data?.severities).map((c) => ({ value: c.code, label: named(c) }))} />
        </Form.Item>
        <Form.Item name="orgUnitId" label={t('complaints.unit')} rules={[{ required: true }]}>
          <OrgTreeSelect />
        </Form.Item>
        <Form.Item name="content" label={t('complaints.content')} rules={[{ required: true, whitespace: true }]}>
          <Input.TextArea
            rows={4}
            maxLength={4000}
            placeholder={t('complaints.contentPlaceholder')}
            data-testid="complaint-content"
          />
        </Form.Item>
        <Form.Item name="complainantName" label={t('complaints.complainantName')}>
          <Input maxLength={100} data-testid="complaint-name" />
        </Form.Item>
        <Form.Item name="complainantPhone" label={t('complaints.complainantPhone')}>
          <Input inputMode="tel" maxLength={32} data-testid="complaint-phone" />
        </Form.Item>
        <Form.Item name="plate" label={t('complaints.plate')} extra={t('complaints.customerHelp')}>
          <Input maxLength={16} data-testid="complaint-plate" />
        </Form.Item>
        {needsReference && (
          <>
            <Form.Item name="referenceNo" label={t('complaints.referenceNo')} rules={[{ required: true }]}>
              <Input maxLength={64} />
            </Form.Item>
            <Form.Item name="replyDeadline" label={t('complaints.replyDeadline')} rules={[{ required: true }]}>
              <DatePicker showTime style={{ width: '100%' }} />
            </Form.Item>
          </>
        )}
        <Button type="primary" htmlType="submit" block loading={take.isPending} data-testid="complaint-submit">
          {t('complaints.submit')}
        </Button>
      </Form>
    </Page>
  );
}
