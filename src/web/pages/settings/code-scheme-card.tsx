// How new customers are numbered: a setting of its own (not a versioned policy), kept in system_state.
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Form, Input, Typography } from 'antd';
import { client, unwrap } from '../../api/client.js';
import { useShowError } from '../../shared/errors.js';

export function CodeSchemeCard({ canWrite }: { canWrite: boolean }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const showError = useShowError();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<{ scheme: string }>();
  const scheme = useQuery({
    queryKey: ['code-scheme'],
    queryFn: () => unwrap(client.GET('/api/settings/customer-code-scheme')),
  });
  useEffect(() => {
    if (scheme.data) form.setFieldsValue({ scheme: scheme.data.scheme });
  }, [scheme.data, form]);

  const save = async ({ scheme: value }: { scheme: string }) => {
    try {
      const saved = await unwrap(client.PUT('/api/settings/customer-code-scheme', { body: { scheme: value.trim() } }));
      queryClient.setQueryData(['code-scheme'], saved);
      void message.success(t('settings.saved'));
    } catch (err) {
      showError(err, form);
    }
  };

  return (
    <Card title={t('settings.codeScheme')} style={{ maxWidth: 640 }}>
      <Typography.Paragraph type="secondary">{t('settings.codeSchemeHelp')}</Typography.Paragraph>
      <Form form={form} layout="vertical" disabled={!canWrite} onFinish={(v) => void save(v)}>
        <Form.Item
          name="scheme"
          label={t('settings.codeScheme')}
          rules={[{ required: true, message: t('validation.required') }]}
        >
          <Input maxLength={60} style={{ fontFamily: 'monospace' }} data-testid="code-scheme" />
        </Form.Item>
        <Form.Item label={t('settings.example')}>
          <Typography.Text code data-testid="code-scheme-example">
            {scheme.data?.example ?? '…'}
          </Typography.Text>
        </Form.Item>
        {canWrite && (
          <Button type="primary" htmlType="submit">
            {t('common.save')}
          </Button>
        )}
      </Form>
    </Card>
  );
}
