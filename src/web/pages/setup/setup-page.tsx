import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { useQueryClient } from '@tanstack/react-query';
import { App, Button, Divider, Form, Input, Select } from 'antd';
import { ApiError, client, unwrap } from '../../api/client.js';
import { AuthLayout } from '../../shared/auth-layout.js';
import { useShowError } from '../../shared/errors.js';
import { confirmRules, newPasswordRules } from '../../shared/password-rules.js';
import { SETUP_KEY, startSession } from '../../shared/session.js';
import { DEFAULT_TIME_ZONE, timeZoneOptions } from '../../shared/time-zones.js';

interface SetupForm {
  company: { code: string; name: string; timeZone: string };
  admin: { username: string; displayName: string; password: string; confirm: string };
}

const CODE = /^[A-Za-z0-9_.-]+$/;
const USERNAME = /^[A-Za-z0-9_.@-]{2,}$/;

export function SetupPage() {
  const { t } = useTranslation();
  const [form] = Form.useForm<SetupForm>();
  const [busy, setBusy] = useState(false);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const showError = useShowError();
  const { message } = App.useApp();
  const required = { required: true, message: t('validation.required') };

  const submit = async (values: SetupForm) => {
    setBusy(true);
    try {
      const { company, admin } = values;
      const res = await unwrap(
        client.POST('/api/setup', {
          body: {
            company: { code: company.code.trim(), name: company.name.trim(), timeZone: company.timeZone },
            admin: { username: admin.username.trim(), displayName: admin.displayName.trim(), password: admin.password },
          },
        }),
      );
      await startSession(queryClient, res.csrfToken);
      queryClient.setQueryData(SETUP_KEY, { needsSetup: false });
      void message.success(t('setup.done'));
      void navigate('/', { replace: true });
    } catch (err) {
      showError(err, form);
      if (err instanceof ApiError && err.code === 'SETUP_DONE')
        await queryClient.invalidateQueries({ queryKey: SETUP_KEY });
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthLayout title={t('setup.title')} subtitle={t('setup.intro')}>
      <Form
        form={form}
        layout="vertical"
        onFinish={submit}
        initialValues={{ company: { timeZone: DEFAULT_TIME_ZONE } }}
        requiredMark={false}
        data-testid="setup-form"
      >
        <Divider titlePlacement="start" plain style={{ marginTop: 0 }}>
          {t('setup.company')}
        </Divider>
        <Form.Item
          name={['company', 'code']}
          label={t('setup.companyCode')}
          extra={t('setup.companyCodeHelp')}
          rules={[required, { pattern: CODE, message: t('validation.codePattern') }, { max: 64 }]}
        >
          <Input autoComplete="off" />
        </Form.Item>
        <Form.Item name={['company', 'name']} label={t('setup.companyName')} rules={[required, { max: 200 }]}>
          <Input />
        </Form.Item>
        <Form.Item name={['company', 'timeZone']} label={t('setup.timeZone')} rules={[required]}>
          <Select showSearch={{ optionFilterProp: 'label' }} options={timeZoneOptions()} />
        </Form.Item>
        <Divider titlePlacement="start" plain>
          {t('setup.admin')}
        </Divider>
        <Form.Item
          name={['admin', 'username']}
          label={t('setup.username')}
          rules={[required, { pattern: USERNAME, message: t('validation.usernamePattern') }, { max: 64 }]}
        >
          <Input autoComplete="username" />
        </Form.Item>
        <Form.Item name={['admin', 'displayName']} label={t('setup.displayName')} rules={[required, { max: 100 }]}>
          <Input />
        </Form.Item>
        <Form.Item
          name={['admin', 'password']}
          label={t('setup.password')}
          extra={t('setup.passwordHelp')}
          rules={newPasswordRules()}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item
          name={['admin', 'confirm']}
          label={t('setup.confirmPassword')}
          dependencies={[['admin', 'password']]}
          rules={confirmRules(['admin', 'password'])}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" block size="large" loading={busy} data-testid="setup-submit">
          {t('setup.submit')}
        </Button>
      </Form>
    </AuthLayout>
  );
}
