// Route guards: first-run setup, sign-in, and per-page access rules.
import { Button, Flex, Result, Spin } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, Outlet, useLocation } from 'react-router-dom';
import { accessOf, startPathOf, useAccess, type AccessKey } from '../access.js';
import { useMe, useSetupStatus } from '../shared/session.js';
import { errorText } from '../shared/errors.js';
import { FirstPasswordPage } from '../pages/account/first-password-page.js';

export function FullPageSpin() {
  const { t } = useTranslation();
  return (
    <Flex align="center" justify="center" style={{ minHeight: '60vh' }}>
      <Spin size="large" description={t('app.loading')} />
    </Flex>
  );
}

function LoadFailed({ error, retry }: { error: unknown; retry: () => void }) {
  const { t } = useTranslation();
  return (
    <Result status="warning" title={errorText(error)} extra={<Button onClick={retry}>{t('common.refresh')}</Button>} />
  );
}

/** Everything waits for the setup status; until setup is done every page leads to /setup. */
export function SetupGate() {
  const status = useSetupStatus();
  const location = useLocation();
  if (status.isPending) return <FullPageSpin />;
  if (status.isError) return <LoadFailed error={status.error} retry={() => void status.refetch()} />;
  if (status.data.needsSetup && location.pathname !== '/setup') return <Navigate to="/setup" replace />;
  return <Outlet />;
}

/** /setup is for the first run only. */
export function SetupOnly({ children }: { children: ReactNode }) {
  const status = useSetupStatus();
  if (status.data && !status.data.needsSetup) return <Navigate to="/" replace />;
  return children;
}

export function RequireAuth({ children }: { children: ReactNode }) {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <FullPageSpin />;
  if (me.isError) return <LoadFailed error={me.error} retry={() => void me.refetch()} />;
  if (!me.data) {
    const next = location.pathname === '/' ? '' : `?next=${encodeURIComponent(location.pathname + location.search)}`;
    return <Navigate to={`/login${next}`} replace />;
  }
  // An initial password is replaced before anything else (the server refuses everything else meanwhile).
  if (me.data.mustChangePassword) return <FirstPasswordPage />;
  return children;
}

/** Only for signed-out visitors: a signed-in user on /login goes on to the app. */
export function GuestOnly({ children }: { children: ReactNode }) {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <FullPageSpin />;
  if (me.data) {
    const next = new URLSearchParams(location.search).get('next');
    return <Navigate to={next ? safeNext(next) : startPathOf(accessOf(me.data))} replace />;
  }
  return children;
}

/** Only same-site paths, never `//evil.example`. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function RequireAccess({ rule, children }: { rule: AccessKey | undefined; children: ReactNode }) {
  const access = useAccess();
  const { t } = useTranslation();
  if (rule && !access[rule]) {
    return (
      <Result
        status="403"
        title={t('forbidden.title')}
        subTitle={t('forbidden.subtitle')}
        extra={
          <Link to="/">
            <Button type="primary">{t('common.backHome')}</Button>
          </Link>
        }
      />
    );
  }
  return children;
}
