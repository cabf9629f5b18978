import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation, useNavigate } from 'react-router-dom';
import { useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Form, Input } from 'antd';
import { LockOutlined, UserOutlined } from '@ant-design/icons';
import { ApiError, client, unwrap } from '../../api/client.js';
import { AuthLayout } from '../../shared/auth-layout.js';
import { errorText } from '../../shared/errors.js';
import { startSession } from '../../shared/session.js';
import { safeNext } from '../../layout/guards.js';
import { accessOf, startPathOf } from '../../access.js';

interface LoginForm {
  username: string;
  password: string;
}

export function LoginPage() {
  const { t } = useTranslation();
  const [form] = Form.useForm<LoginForm>();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const params = new URLSearchParams(useLocation().search);
  const required = { required: true, message: t('validation.required') };

  // The answers a person at the pump is most likely to meet, in plain words.
  const explain = (err: unknown): string => {
    if (err instanceof ApiError) {
      // A locked account is refused as an unknown one is (no telling which usernames exist); the text names both.
      if (err.code === 'INVALID_CREDENTIALS') return t('login.invalidCredentials');
      if (err.code === 'RATE_LIMITED' || err.status === 429) return t('login.rateLimited');
    }
    return errorText(err);
  };

  const submit = async (values: LoginForm) => {
    setBusy(true);
    setProblem(null);
    try {
      const res = await unwrap(
        client.POST('/api/auth/login', { body: { username: values.username.trim(), password: values.password } }),
      );
      const me = await startSession(queryClient, res.csrfToken);
      // Without a page to return to, each user starts where his work is (the pump for attendants).
      const next = params.get('next');
      void navigate(next ? safeNext(next) : startPathOf(accessOf(me)), { replace: true });
    } catch (err) {
      setProblem(explain(err));
      form.setFieldValue('password', '');
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthLayout title={t('login.title')}>
      {params.get('expired') && !problem && (
        <Alert type="info" showIcon title={t('login.sessionEnded')} style={{ marginBottom: 16 }} />
      )}
      {problem && (
        <Alert type="error" showIcon title={problem} style={{ marginBottom: 16 }} data-testid="login-error" />
      )}
      <Form form={form} layout="vertical" onFinish={submit} requiredMark={false}>
        <Form.Item name="username" label={t('login.username')} rules={[required]}>
          <Input prefix={<UserOutlined />} autoComplete="username" size="large" autoFocus />
        </Form.Item>
        <Form.Item name="password" label={t('login.password')} rules={[required]}>
          <Input.Password prefix={<LockOutlined />} autoComplete="current-password" size="large" />
        </Form.Item>
        <Button type="primary" htmlType="submit" block size="large" loading={busy} data-testid="login-submit">
          {t('login.submit')}
        </Button>
      </Form>
    </AuthLayout>
  );
}
