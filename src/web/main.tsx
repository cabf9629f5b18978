import './styles.css';
import { StrictMode, useMemo } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from 'react-router-dom';
import { App as AntApp, ConfigProvider } from 'antd';
import zhCNModule from 'antd/es/locale/zh_CN.js';
import enUSModule from 'antd/es/locale/en_US.js';
import type { Locale as AntdLocale } from 'antd/es/locale/index.js';
import { useTranslation } from 'react-i18next';
import { ApiError, setUnauthorizedHandler } from './api/client.js';
import { i18n } from './i18n/index.js';
import { createAppRouter } from './router.js';
import { endSession } from './shared/session.js';

// TypeScript reads antd's locale files as CommonJS (module.exports.default), Vite as ES modules.
const antdLocale = (m: unknown) => ((m as { default?: AntdLocale }).default ?? m) as AntdLocale;
const antdZhCN = antdLocale(zhCNModule);
const antdEnUS = antdLocale(enUSModule);

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      refetchOnWindowFocus: false,
      // Retrying a 4xx cannot help; a network blip may.
      retry: (count, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && count < 2,
    },
  },
});
const router = createAppRouter();

setUnauthorizedHandler(() => {
  endSession(queryClient);
  const { pathname, search } = window.location;
  if (pathname !== '/login' && pathname !== '/setup')
    void router.navigate(`/login?expired=1&next=${encodeURIComponent(pathname + search)}`, { replace: true });
});

const FONT =
  "-apple-system, BlinkMacSystemFont, 'Segoe UI', 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'Noto Sans CJK SC', 'Noto Sans SC', 'Helvetica Neue', Arial, sans-serif";

function Root() {
  const { i18n: current } = useTranslation();
  const locale = current.language === 'en-US' ? antdEnUS : antdZhCN;
  const theme = useMemo(() => ({ token: { fontFamily: FONT, colorPrimary: '#0b6bcb' } }), []);
  return (
    <ConfigProvider locale={locale} theme={theme}>
      <AntApp>
        <RouterProvider router={router} />
      </AntApp>
    </ConfigProvider>
  );
}

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root');
void i18n; // initialised on import
createRoot(container).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <Root />
    </QueryClientProvider>
  </StrictMode>,
);
