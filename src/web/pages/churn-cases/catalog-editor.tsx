// HQ's lists of the kinds of loss and the exit survey's reasons: renamed, reordered, retired or added.
// A code on file keeps its code and its category (cases and surveys name it); a new one takes both.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Col, Form, Input, InputNumber, Row, Select, Space, Spin, Switch, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { client, unwrap } from '../../api/client.js';
import { useShowError } from '../../shared/errors.js';
import { CATALOG_KEY, useCatalog, type Catalog } from './labels.js';

type Values = Catalog;
const CODE = /^[a-z0-9_]+$/;

export function CatalogEditor() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const showError = useShowError();
  const queryClient = useQueryClient();
  const catalog = useCatalog();
  const [form] = Form.useForm<Values>();
  const [saving, setSaving] = useState(false);
  const onFile = new Set([
    ...(catalog.data?.lossKinds ?? []).map((k) => `k:${k.code}`),
    ...(catalog.data?.reasons ?? []).map((r) => `r:${r.code}`),
  ]);

  useEffect(() => {
    if (catalog.data) form.setFieldsValue(structuredClone(catalog.data));
  }, [catalog.data, form]);

  const save = async () => {
    let v: Values;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    setSaving(true);
    try {
      const saved = await unwrap(
        client.PUT('/api/churn-cases/catalog', { body: { lossKinds: v.lossKinds, reasons: v.reasons } }),
      );
      queryClient.setQueryData(CATALOG_KEY, saved);
      void message.success(t('churn.saved'));
    } catch (err) {
      showError(err, form);
    } finally {
      setSaving(false);
    }
  };

  if (!catalog.data) return <Spin />;
  const required = [{ required: true, whitespace: true, message: t('validation.required') }];
  const codeRules = [...required, { pattern: CODE, message: t('churn.codeHelp') }];
  const names = (field: number) => (
    <>
      <Col xs={12} sm={6}>
        <Form.Item name={[field, 'nameZh']} label={t('churn.nameZh')} rules={required}>
          <Input maxLength={100} />
        </Form.Item>
      </Col>
      <Col xs={12} sm={6}>
        <Form.Item name={[field, 'nameEn']} label={t('churn.nameEn')} rules={required}>
          <Input maxLength={100} />
        </Form.Item>
      </Col>
      <Col xs={8} sm={3}>
        <Form.Item
          name={[field, 'sort']}
          label={t('churn.sort')}
          rules={[{ required: true, message: t('validation.required') }]}
        >
          <InputNumber min={0} max={10000} precision={0} style={{ width: '100%' }} />
        </Form.Item>
      </Col>
      <Col xs={8} sm={3}>
        <Form.Item name={[field, 'active']} label={t('churn.active')} valuePropName="checked">
          <Switch />
        </Form.Item>
      </Col>
    </>
  );

  return (
    <Form form={form} layout="vertical" data-testid="churn-catalog">
      <Typography.Paragraph type="secondary">{t('churn.catalogIntro')}</Typography.Paragraph>
      <Typography.Title level={5}>{t('churn.lossKinds')}</Typography.Title>
      <Form.List name="lossKinds">
        {(fields, { add }) => (
          <>
            {fields.map((f) => {
              const code = form.getFieldValue(['lossKinds', f.name, 'code']) as string | undefined;
              const known = code !== undefined && onFile.has(`k:${code}`);
              return (
                <Card size="small" key={f.key} style={{ marginBottom: 8 }}>
                  <Row gutter={12}>
                    <Col xs={12} sm={3}>
                      <Form.Item name={[f.name, 'code']} label={t('churn.code')} rules={codeRules}>
                        <Input maxLength={32} disabled={known} className="fc-code" />
                      </Form.Item>
                    </Col>
                    <Col xs={12} sm={3}>
                      <Form.Item
                        name={[f.name, 'category']}
                        label={t('churn.category')}
                        rules={[{ required: true, message: t('validation.select') }]}
                      >
                        <Select
                          disabled={known}
                          options={(['natural', 'non_natural'] as const).map((k) => ({
                            value: k,
                            label: t(`churn.categories.${k}`),
                          }))}
                        />
                      </Form.Item>
                    </Col>
                    {names(f.name)}
                  </Row>
                </Card>
              );
            })}
            <Button
              icon={<PlusOutlined />}
              onClick={() =>
                add({
                  code: '',
                  category: 'non_natural',
                  nameZh: '',
                  nameEn: '',
                  sort: (fields.length + 1) * 10,
                  active: true,
                })
              }
              style={{ marginBottom: 16 }}
            >
              {t('churn.add')}
            </Button>
          </>
        )}
      </Form.List>
      <Typography.Title level={5}>{t('churn.reasons')}</Typography.Title>
      <Form.List name="reasons">
        {(fields, { add }) => (
          <>
            {fields.map((f) => {
              const code = form.getFieldValue(['reasons', f.name, 'code']) as string | undefined;
              const known = code !== undefined && onFile.has(`r:${code}`);
              return (
                <Card size="small" key={f.key} style={{ marginBottom: 8 }}>
                  <Row gutter={12}>
                    <Col xs={12} sm={3}>
                      <Form.Item name={[f.name, 'code']} label={t('churn.code')} rules={codeRules}>
                        <Input maxLength={32} disabled={known} className="fc-code" />
                      </Form.Item>
                    </Col>
                    <Col xs={12} sm={3}>
                      <Form.Item name={[f.name, 'needsText']} label={t('churn.needsText')} valuePropName="checked">
                        <Switch />
                      </Form.Item>
                    </Col>
                    {names(f.name)}
                  </Row>
                </Card>
              );
            })}
            <Button
              icon={<PlusOutlined />}
              onClick={() =>
                add({
                  code: '',
                  nameZh: '',
                  nameEn: '',
                  needsText: false,
                  sort: (fields.length + 1) * 10,
                  active: true,
                })
              }
              style={{ marginBottom: 16 }}
            >
              {t('churn.add')}
            </Button>
          </>
        )}
      </Form.List>
      <Space>
        <Button type="primary" loading={saving} onClick={() => void save()} data-testid="churn-catalog-save">
          {t('churn.save')}
        </Button>
      </Space>
    </Form>
  );
}
