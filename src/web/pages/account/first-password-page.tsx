// The first thing someone with an initial password (from an import of users) sees: choose your own.
// Until then the server answers PASSWORD_CHANGE_REQUIRED to everything but this and signing out.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { Button, Flex, Form } from 'antd';
import { client, unwrap } from '../../api/client.js';
import { AuthLayout } from '../../shared/auth-layout.js';
import { useShowError } from '../../shared/errors.js';
import { PasswordFields, type PasswordForm } from './password-fields.js';
import { ME_KEY, useCurrentUser, useSignOut } from '../../shared/session.js';

export function FirstPasswordPage() {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const [form] = Form.useForm<PasswordForm>();
  const [busy, setBusy] = useState(false);
  const showError = useShowError();
  const signOut = useSignOut();
  const queryClient = useQueryClient();

  const change = async (v: PasswordForm) => {
    setBusy(true);
    try {
      await unwrap(
        client.POST('/api/auth/password', { body: { currentPassword: v.currentPassword, newPassword: v.newPassword } }),
      );
      // The session now may do what its roles allow: load the user again and the app opens.
      await queryClient.invalidateQueries({ queryKey: ME_KEY });
    } catch (err) {
      showError(err, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthLayout
      title={t('account.firstPasswordTitle')}
      subtitle={t('account.firstPasswordIntro', { name: me.displayName })}
    >
      <Form form={form} layout="vertical" onFinish={change} requiredMark={false}>
        <input type="hidden" autoComplete="username" value={me.username} readOnly />
        <PasswordFields currentLabel={t('account.initialPassword')} />
        <Flex justify="space-between" align="center">
          <Button type="primary" htmlType="submit" loading={busy}>
            {t('account.firstPasswordSave')}
          </Button>
          <Button type="link" onClick={() => void signOut(false)}>
            {t('shell.signOut')}
          </Button>
        </Flex>
      </Form>
    </AuthLayout>
  );
}
