// 潜在客户调查: the station's survey of a prospect, one column, big inputs, for a phone at the station.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { useQueryClient } from '@tanstack/react-query';
import { Alert, App, AutoComplete, Button, Card, Form, Input, InputNumber, Radio, Select, Typography } from 'antd';
import { ApiError, client, unwrap } from '../../api/client.js';
import { useShowError } from '../../shared/errors.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { useCurrentUser } from '../../shared/session.js';
import { Page } from '../../shared/page.js';
import { IMPORTANCES, type Importance } from './labels.js';

interface Values {
  orgUnitId?: number;
  kind: 'individual' | 'organisation';
  name: string;
  organisation?: string;
  contactName?: string;
  phone?: string;
  plates?: string[];
  vehicleCount?: number | null;
  monthlyLitres?: number | null;
  products?: string;
  demand: string;
  fuelUse?: string;
  settlementMethod?: string;
  competitor?: string;
  notes?: string;
  importance: Importance;
}

const SETTLEMENTS = ['cash', 'card', 'monthly', 'transfer'] as const;

export function SurveyPage() {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const [form] = Form.useForm<Values>();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const showError = useShowError();
  const { message } = App.useApp();
  const [saving, setSaving] = useState(false);
  const [duplicate, setDuplicate] = useState<string | null>(null);

  const submit = async (values: Values, confirmDuplicate = false) => {
    setSaving(true);
    try {
      const made = await unwrap(
        client.POST('/api/prospects', { body: { ...values, ...(confirmDuplicate && { confirmDuplicate: true }) } }),
      );
      void message.success(t('prospects.saved'));
      await queryClient.invalidateQueries({ queryKey: ['prospects'] });
      navigate(`/prospects/${made.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'DUPLICATE_SUSPECTED') {
        const first = (err.details as { name?: string | null; orgUnitName?: string }[] | undefined)?.[0];
        setDuplicate(first?.name ?? first?.orgUnitName ?? '');
      } else showError(err, form);
    } finally {
      setSaving(false);
    }
  };

  return (
    <Page title={t('prospects.surveyTitle')}>
      <Typography.Paragraph type="secondary">{t('prospects.surveyIntro')}</Typography.Paragraph>
      <Form<Values>
        form={form}
        layout="vertical"
        size="large"
        style={{ maxWidth: 560 }}
        initialValues={{ kind: 'organisation', importance: 'general', orgUnitId: me.orgUnitId }}
        onFinish={(v) => void submit(v)}
        onValuesChange={() => setDuplicate(null)}
        data-testid="prospect-survey"
      >
        <Card size="small" title={t('prospects.basics')} style={{ marginBottom: 12 }}>
          <Form.Item name="orgUnitId" label={t('prospects.unit')} rules={[{ required: true }]}>
            <OrgTreeSelect />
          </Form.Item>
          <Form.Item name="kind" label={t('prospects.kind')}>
            <Radio.Group optionType="button">
              <Radio value="organisation">{t('prospects.kinds.organisation')}</Radio>
              <Radio value="individual">{t('prospects.kinds.individual')}</Radio>
            </Radio.Group>
          </Form.Item>
          <Form.Item
            name="name"
            label={t('prospects.name')}
            rules={[{ required: true, whitespace: true, message: t('validation.required') }]}
          >
            <Input placeholder={t('prospects.namePlaceholder')} maxLength={200} data-testid="prospect-name" />
          </Form.Item>
          <Form.Item name="organisation" label={t('prospects.organisation')}>
            <Input maxLength={200} />
          </Form.Item>
          <Form.Item name="contactName" label={t('prospects.contactName')}>
            <Input maxLength={100} />
          </Form.Item>
          <Form.Item name="phone" label={t('prospects.phone')}>
            <Input inputMode="tel" maxLength={32} data-testid="prospect-phone" />
          </Form.Item>
          <Form.Item name="plates" label={t('prospects.plates')}>
            <Select
              mode="tags"
              open={false}
              placeholder={t('prospects.platesPlaceholder')}
              tokenSeparators={[' ', ',', '，']}
            />
          </Form.Item>
          <Form.Item name="vehicleCount" label={t('prospects.vehicleCount')}>
            <InputNumber min={0} max={100000} style={{ width: '100%' }} inputMode="numeric" />
          </Form.Item>
        </Card>
        <Card size="small" title={t('prospects.demandSection')} style={{ marginBottom: 12 }}>
          <Form.Item
            name="demand"
            label={t('prospects.demand')}
            rules={[{ required: true, whitespace: true, message: t('validation.required') }]}
          >
            <Input.TextArea
              rows={3}
              maxLength={4000}
              placeholder={t('prospects.demandPlaceholder')}
              data-testid="prospect-demand"
            />
          </Form.Item>
          <Form.Item name="monthlyLitres" label={t('prospects.monthlyLitres')}>
            <InputNumber min={0} max={1_000_000_000} style={{ width: '100%' }} inputMode="numeric" />
          </Form.Item>
          <Form.Item name="products" label={t('prospects.products')}>
            <Input maxLength={200} />
          </Form.Item>
          <Form.Item name="fuelUse" label={t('prospects.fuelUse')}>
            <Input maxLength={200} />
          </Form.Item>
          <Form.Item name="settlementMethod" label={t('prospects.settlementMethod')}>
            <AutoComplete
              options={SETTLEMENTS.map((s) => ({ value: t(`prospects.settlementOptions.${s}`) }))}
              maxLength={100}
            />
          </Form.Item>
          <Form.Item name="competitor" label={t('prospects.competitor')}>
            <Input maxLength={200} />
          </Form.Item>
          <Form.Item name="notes" label={t('prospects.notes')}>
            <Input.TextArea rows={2} maxLength={4000} />
          </Form.Item>
          <Form.Item name="importance" label={t('prospects.importance')} extra={t('prospects.importanceHelp')}>
            <Radio.Group optionType="button" buttonStyle="solid" data-testid="prospect-importance">
              {IMPORTANCES.map((i) => (
                <Radio key={i} value={i}>
                  {t(`prospects.importances.${i}`)}
                </Radio>
              ))}
            </Radio.Group>
          </Form.Item>
        </Card>
        {duplicate !== null && (
          <Alert
            type="warning"
            showIcon
            style={{ marginBottom: 12 }}
            message={t('prospects.duplicate', { who: duplicate })}
            action={
              <Button size="small" onClick={() => void submit(form.getFieldsValue(), true)}>
                {t('prospects.confirmDuplicate')}
              </Button>
            }
          />
        )}
        <Button type="primary" htmlType="submit" block loading={saving} data-testid="prospect-save">
          {t('common.save')}
        </Button>
      </Form>
    </Page>
  );
}
