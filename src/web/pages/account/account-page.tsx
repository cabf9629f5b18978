// Your own account: change the password, sign out everywhere.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { App, Button, Card, Col, Descriptions, Form, Row, Typography } from 'antd';
import { PoweroffOutlined } from '@ant-design/icons';
import { client, unwrap } from '../../api/client.js';
import { useShowError } from '../../shared/errors.js';
import { Page } from '../../shared/page.js';
import { PasswordFields, type PasswordForm } from './password-fields.js';
import { useCurrentUser, useSignOut } from '../../shared/session.js';

export function AccountPage() {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const [form] = Form.useForm<PasswordForm>();
  const [busy, setBusy] = useState(false);
  const { modal, message } = App.useApp();
  const showError = useShowError();
  const signOut = useSignOut();
  const navigate = useNavigate();

  const change = async (v: PasswordForm) => {
    setBusy(true);
    try {
      await unwrap(
        client.POST('/api/auth/password', { body: { currentPassword: v.currentPassword, newPassword: v.newPassword } }),
      );
      form.resetFields();
      void message.success(t('account.passwordChanged'));
    } catch (err) {
      showError(err, form);
    } finally {
      setBusy(false);
    }
  };

  const signOutAll = () =>
    modal.confirm({
      title: t('account.signOutAll'),
      content: t('shell.signOutAllConfirm'),
      okButtonProps: { danger: true },
      okText: t('common.confirm'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        await signOut(true);
        message.destroy();
        void message.success(t('shell.signedOut'));
        void navigate('/login', { replace: true });
      },
    });

  return (
    <Page title={t('account.title')}>
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={12}>
          <Card title={t('account.changePassword')} size="small">
            <Descriptions column={1} size="small" style={{ marginBottom: 12 }}>
              <Descriptions.Item label={t('users.username')}>
                <span className="fc-code">{me.username}</span>
              </Descriptions.Item>
              <Descriptions.Item label={t('users.displayName')}>{me.displayName}</Descriptions.Item>
            </Descriptions>
            <Form form={form} layout="vertical" onFinish={change} requiredMark={false} style={{ maxWidth: 420 }}>
              <PasswordFields currentLabel={t('account.currentPassword')} />
              <Button type="primary" htmlType="submit" loading={busy}>
                {t('common.save')}
              </Button>
            </Form>
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title={t('account.sessions')} size="small">
            <Typography.Paragraph type="secondary">{t('account.sessionsIntro')}</Typography.Paragraph>
            <Button danger icon={<PoweroffOutlined />} onClick={signOutAll}>
              {t('account.signOutAll')}
            </Button>
          </Card>
        </Col>
      </Row>
    </Page>
  );
}
