// A secret shown once, when it is made (an API key, a webhook's signing secret): a warning to copy it
// now and the value with a copy button. Closing it is the last time anyone sees it.
import { useTranslation } from 'react-i18next';
import { Alert, Button, Flex, Modal, Typography } from 'antd';
import { KeyOutlined } from '@ant-design/icons';

export function SecretOnceModal(props: {
  secret: string | null;
  title: string;
  hint: string;
  testId: string;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  return (
    <Modal
      open={props.secret !== null}
      title={props.title}
      onCancel={props.onClose}
      footer={
        <Button type="primary" onClick={props.onClose}>
          {t('common.close')}
        </Button>
      }
    >
      <Alert type="warning" showIcon title={props.hint} style={{ marginBottom: 12 }} />
      <Flex gap={8} align="center">
        <KeyOutlined />
        <Typography.Text code copyable className="fc-code" data-testid={props.testId}>
          {props.secret}
        </Typography.Text>
      </Flex>
    </Modal>
  );
}
