// HQ's change of one 3–4-star customer's stars in the high review: the new stars and why. The change
// is kept on the page and sent with the review step, so the whole review lands or none of it.
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { Form, Input, Modal, Radio, Typography } from 'antd';
import { litres, yuan, type Rating } from './labels.js';

export interface Adjustment {
  customerId: number;
  stars: number;
  note: string;
  /** For the confirmation: who, and from how many stars. */
  name: string;
  from: number;
}

export function AdjustModal({
  rating,
  basis,
  current,
  onCancel,
  onSave,
}: {
  rating: Rating | null;
  basis: 'volume' | 'amount';
  current?: Adjustment;
  onCancel: () => void;
  onSave: (a: Adjustment) => void;
}) {
  const { t } = useTranslation();
  const [form] = Form.useForm<{ stars: number; note: string }>();

  useEffect(() => {
    if (rating) form.setFieldsValue({ stars: current?.stars ?? rating.stars, note: current?.note ?? '' });
  }, [rating, current, form]);

  const save = async () => {
    if (!rating) return;
    let values;
    try {
      values = await form.validateFields();
    } catch {
      return;
    }
    onSave({
      customerId: rating.customerId,
      stars: values.stars,
      note: values.note.trim(),
      name: rating.name ?? rating.code,
      from: rating.stars,
    });
  };

  const figure = rating
    ? basis === 'amount'
      ? `${yuan(rating.amountFen)} ${t('purchases.amount')}`
      : `${litres(rating.volumeMl)} ${t('purchases.litres')}`
    : '';
  return (
    <Modal
      open={!!rating}
      title={rating ? t('ratings.adjustTitle', { name: rating.name ?? rating.code }) : ''}
      onCancel={onCancel}
      onOk={() => void save()}
      okText={t('ratings.adjustSave')}
      cancelText={t('common.cancel')}
      okButtonProps={{ 'data-testid': 'adjust-save' }}
      forceRender
    >
      {rating && (
        <Typography.Paragraph type="secondary">
          {rating.code} · {t('ratings.adjustFrom', { n: rating.stars, basis: figure })}
        </Typography.Paragraph>
      )}
      <Form form={form} layout="vertical">
        <Form.Item
          name="stars"
          label={t('ratings.newStars')}
          rules={[
            { required: true, message: t('validation.select') },
            {
              validator: (_r, v: number) =>
                rating && v === rating.stars
                  ? Promise.reject(new Error(t('ratings.errors.sameStars')))
                  : Promise.resolve(),
            },
          ]}
        >
          <Radio.Group
            optionType="button"
            buttonStyle="solid"
            options={[0, 1, 2, 3, 4].map((n) => ({ value: n, label: t('ratings.starsShort', { n }) }))}
            data-testid="adjust-stars"
          />
        </Form.Item>
        <Form.Item
          name="note"
          label={t('ratings.adjustNote')}
          rules={[{ required: true, whitespace: true, message: t('validation.required') }]}
        >
          <Input.TextArea
            maxLength={500}
            autoSize={{ minRows: 2, maxRows: 5 }}
            placeholder={t('ratings.adjustNotePlaceholder')}
            data-testid="adjust-note"
          />
        </Form.Item>
      </Form>
    </Modal>
  );
}
