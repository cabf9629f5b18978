// The exit survey's fields: a reason from HQ's list (those in use) and the customer's own words,
// which a reason such as "other" requires. Used inside the forms of the case steps.
import { useTranslation } from 'react-i18next';
import { Form, Input, Select } from 'antd';
import { named, useCatalog } from './labels.js';

export interface SurveyValues {
  reasonCode: string;
  freeText?: string;
}

/** `name` is where the survey sits in the form (['survey'] or [] for a form that is only the survey). */
export function SurveyFields({ name, required }: { name: string[]; required: boolean }) {
  const { t } = useTranslation();
  const catalog = useCatalog();
  const form = Form.useFormInstance();
  const reasons = (catalog.data?.reasons ?? []).filter((r) => r.active);
  const reasonCode = Form.useWatch([...name, 'reasonCode'], form) as string | undefined;
  const chosen = reasons.find((r) => r.code === reasonCode);
  return (
    <>
      <Form.Item
        name={[...name, 'reasonCode']}
        label={t('churn.surveyReason')}
        rules={required ? [{ required: true, message: t('validation.select') }] : []}
      >
        <Select
          allowClear={!required}
          loading={catalog.isPending}
          options={reasons.map((r) => ({ value: r.code, label: named(r) }))}
          placeholder={t('churn.surveyReason')}
          data-testid="survey-reason"
        />
      </Form.Item>
      <Form.Item
        name={[...name, 'freeText']}
        label={t('churn.surveyText')}
        dependencies={[[...name, 'reasonCode']]}
        rules={
          chosen?.needsText
            ? [{ required: true, whitespace: true, message: t('churn.surveyTextNeeded', { reason: named(chosen) }) }]
            : []
        }
      >
        <Input.TextArea maxLength={4000} autoSize={{ minRows: 2, maxRows: 5 }} data-testid="survey-text" />
      </Form.Item>
    </>
  );
}

/** The survey as the API takes it, or undefined when no reason was chosen. */
export function surveyOf(v: Partial<SurveyValues> | undefined): SurveyValues | undefined {
  if (!v?.reasonCode) return undefined;
  const text = v.freeText?.trim();
  return { reasonCode: v.reasonCode, ...(text && { freeText: text }) };
}
