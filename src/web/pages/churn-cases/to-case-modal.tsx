// On the alerts page: turn an alert into a churn case. A natural loss is lost at once and asks for
// the exit survey now; a non-natural one goes on to its written report, its survey may come later.
// Also the link from an alert to the case made of it.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Form, Input, Modal, Radio, Select, Tag, Typography } from 'antd';
import { FileSearchOutlined } from '@ant-design/icons';
import { client, unwrap } from '../../api/client.js';
import { useShowError } from '../../shared/errors.js';
import { STATE_COLORS, named, useCatalog, type ChurnCaseItem, type ChurnCategory } from './labels.js';
import { SurveyFields, surveyOf, type SurveyValues } from './survey-fields.js';

interface AlertLike {
  id: number;
  customer: { name: string | null; greeting: string | null; code: string; plate: string | null };
}

interface Values {
  category: ChurnCategory;
  lossKind: string;
  note: string;
  survey?: Partial<SurveyValues>;
}

/** The cases made of these alerts, by alert id (one request for the page). */
export function useAlertCases(alertIds: number[]) {
  const ids = [...alertIds].sort((a, b) => a - b);
  const query = useQuery({
    queryKey: ['churn-cases', 'of-alerts', ids],
    queryFn: () =>
      unwrap(
        client.GET('/api/churn-cases', { params: { query: { alertIds: ids.join(','), pageSize: 200, page: 1 } } }),
      ),
    enabled: ids.length > 0,
  });
  const byAlert = new Map<number, ChurnCaseItem>();
  for (const c of query.data?.items ?? []) if (c.alertId !== null) byAlert.set(c.alertId, c);
  return byAlert;
}

/** The case an alert became: its state, and a link to it. */
export function AlertCaseLink({ item }: { item: ChurnCaseItem }) {
  const { t } = useTranslation();
  return (
    <Link to={`/churn-cases/${item.id}`} data-testid={`alert-case-${item.id}`}>
      <Tag color={STATE_COLORS[item.state]} icon={<FileSearchOutlined />} style={{ marginInlineEnd: 0 }}>
        {t('churn.hasCase')} · {t(`churn.states.${item.state}`)}
      </Tag>
    </Link>
  );
}

export function ToCaseButton({ alert }: { alert: AlertLike }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button size="small" onClick={() => setOpen(true)} data-testid={`alert-to-case-${alert.id}`}>
        {t('churn.toCase')}
      </Button>
      {open && <ToCaseModal alert={alert} onClose={() => setOpen(false)} />}
    </>
  );
}

function ToCaseModal({ alert, onClose }: { alert: AlertLike; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const showError = useShowError();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const catalog = useCatalog();
  const [form] = Form.useForm<Values>();
  const [saving, setSaving] = useState(false);
  const category = (Form.useWatch('category', form) as ChurnCategory | undefined) ?? 'natural';
  const kinds = (catalog.data?.lossKinds ?? []).filter((k) => k.active && k.category === category);
  const c = alert.customer;

  const submit = async () => {
    let v: Values;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    setSaving(true);
    try {
      const survey = surveyOf(v.survey);
      const made = await unwrap(
        client.POST('/api/churn-cases/from-alert/{id}', {
          params: { path: { id: alert.id } },
          body: { category: v.category, lossKind: v.lossKind, note: v.note.trim(), ...(survey && { survey }) },
        }),
      );
      void message.success(t('churn.saved'));
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: ['alerts'] }),
        queryClient.invalidateQueries({ queryKey: ['churn-cases'] }),
      ]);
      onClose();
      void navigate(`/churn-cases/${made.id}`);
    } catch (err) {
      showError(err, form);
    } finally {
      setSaving(false);
    }
  };

  const required = [{ required: true, whitespace: true, message: t('validation.required') }];
  return (
    <Modal
      open
      title={t('churn.toCaseTitle')}
      onCancel={onClose}
      onOk={() => void submit()}
      confirmLoading={saving}
      okText={t('common.confirm')}
      cancelText={t('common.cancel')}
      okButtonProps={{ 'data-testid': 'to-case-save' }}
      destroyOnHidden
    >
      <Typography.Paragraph type="secondary">
        {[c.greeting ?? c.name, c.plate, c.code].filter(Boolean).join(' · ')}
      </Typography.Paragraph>
      <Form
        form={form}
        layout="vertical"
        initialValues={{ category: 'natural' }}
        onValuesChange={(changed: Partial<Values>) => changed.category && form.setFieldValue('lossKind', undefined)}
      >
        <Form.Item name="category" label={t('churn.category')} extra={t(`churn.categoryHelp.${category}`)}>
          <Radio.Group
            optionType="button"
            buttonStyle="solid"
            options={(['natural', 'non_natural'] as const).map((k) => ({
              value: k,
              label: t(`churn.categories.${k}`),
            }))}
            data-testid="to-case-category"
          />
        </Form.Item>
        <Form.Item
          name="lossKind"
          label={t('churn.lossKind')}
          rules={[{ required: true, message: t('validation.select') }]}
        >
          <Select
            options={kinds.map((k) => ({ value: k.code, label: named(k) }))}
            loading={catalog.isPending}
            data-testid="to-case-kind"
          />
        </Form.Item>
        <Form.Item name="note" label={t('churn.note')} rules={required}>
          <Input.TextArea
            maxLength={4000}
            autoSize={{ minRows: 2, maxRows: 5 }}
            placeholder={t('churn.notePlaceholder')}
            data-testid="to-case-note"
          />
        </Form.Item>
        <Typography.Text strong>{t('churn.survey')}</Typography.Text>
        {category === 'non_natural' && (
          <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 8 }}>
            {t('churn.surveyLater')}
          </Typography.Paragraph>
        )}
        <SurveyFields name={['survey']} required={category === 'natural'} />
      </Form>
    </Modal>
  );
}
