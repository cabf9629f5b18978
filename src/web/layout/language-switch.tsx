import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { Button, Dropdown } from 'antd';
import { GlobalOutlined } from '@ant-design/icons';
import { client, unwrap } from '../api/client.js';
import { LOCALES, currentLocale, setLocale, type Locale } from '../i18n/index.js';
import { useShowError } from '../shared/errors.js';
import { ME_KEY, type Me } from '../shared/session.js';
import { useIsPhone } from '../shared/use-is-phone.js';

/** zh-CN / en-US: kept on this device, and on the account when signed in. */
export function LanguageSwitch({ signedIn }: { signedIn: boolean }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const showError = useShowError();
  const isPhone = useIsPhone();
  const locale = currentLocale();
  const change = async (next: Locale) => {
    await setLocale(next);
    if (!signedIn) return;
    queryClient.setQueryData<Me | null>(ME_KEY, (me) => (me ? { ...me, locale: next } : me));
    try {
      await unwrap(client.PUT('/api/auth/locale', { body: { locale: next } }));
    } catch (err) {
      showError(err);
    }
  };
  return (
    <Dropdown
      trigger={['click']}
      menu={{
        selectable: true,
        selectedKeys: [locale],
        items: LOCALES.map((l) => ({ key: l, label: t(`locale.${l}`) })),
        onClick: ({ key }) => void change(key as Locale),
      }}
    >
      <Button type="text" icon={<GlobalOutlined />} aria-label={t('shell.language')} data-testid="language-switch">
        {!isPhone && t(`locale.${locale}`)}
      </Button>
    </Dropdown>
  );
}
