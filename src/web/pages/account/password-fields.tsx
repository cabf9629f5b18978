// The fields of a password change, on the account page and on the first sign-in's screen: the
// password in use (labelled as the caller says), the new one with the rules, and its repetition.
import { useTranslation } from 'react-i18next';
import { Form, Input } from 'antd';
import { confirmRules, newPasswordRules } from '../../shared/password-rules.js';

export interface PasswordForm {
  currentPassword: string;
  newPassword: string;
  confirm: string;
}

export function PasswordFields({ currentLabel }: { currentLabel: string }) {
  const { t } = useTranslation();
  return (
    <>
      <Form.Item
        name="currentPassword"
        label={currentLabel}
        rules={[{ required: true, message: t('validation.required') }]}
      >
        <Input.Password autoComplete="current-password" />
      </Form.Item>
      <Form.Item
        name="newPassword"
        label={t('account.newPassword')}
        rules={newPasswordRules()}
        extra={t('setup.passwordHelp')}
      >
        <Input.Password autoComplete="new-password" />
      </Form.Item>
      <Form.Item
        name="confirm"
        label={t('account.confirmPassword')}
        dependencies={['newPassword']}
        rules={confirmRules('newPassword')}
      >
        <Input.Password autoComplete="new-password" />
      </Form.Item>
    </>
  );
}
