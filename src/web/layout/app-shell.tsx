// The signed-in frame: side menu from the user's permissions (a drawer on phones),
// header with the user, the org unit, the language switch and the account menu.
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation, useNavigate } from 'react-router-dom';
import { App, Avatar, Badge, Button, Drawer, Dropdown, Flex, Layout, Menu, type MenuProps } from 'antd';
import {
  KeyOutlined,
  LogoutOutlined,
  MenuFoldOutlined,
  MenuOutlined,
  MenuUnfoldOutlined,
  PoweroffOutlined,
  UserOutlined,
} from '@ant-design/icons';
import { useAccess } from '../access.js';
import { PAGES, inMenuFor } from '../routes.js';
import { useCurrentUser, useSignOut, type Me } from '../shared/session.js';
import { useOrgUnits } from '../shared/queries.js';
import { useIsPhone } from '../shared/use-is-phone.js';
import { useWorkCounts } from '../shared/work.js';
import { LanguageSwitch } from './language-switch.js';

function Brand({ compact }: { compact?: boolean }) {
  const { t } = useTranslation();
  return (
    <div className="fc-brand">
      <span className="fc-brand-mark">F</span>
      {!compact && <span>{t('app.name')}</span>}
    </div>
  );
}

/** The menu entry for a path: the first segment, so /users/12 lights up "users". */
function selectedKey(pathname: string): string {
  const first = pathname.split('/')[1];
  return first ? `/${first}` : '/';
}

function SideMenu({ onNavigate }: { onNavigate?: () => void }) {
  const { t } = useTranslation();
  const access = useAccess();
  const navigate = useNavigate();
  const location = useLocation();
  const work = useWorkCounts();
  const open = work.data?.total ?? 0;
  const items: MenuProps['items'] = PAGES.filter((p) => inMenuFor(p, access)).map((p) => ({
    key: p.path,
    icon: p.icon,
    label:
      p.path === '/work' && open > 0 ? (
        <Flex justify="space-between" align="center" gap={8}>
          {t(`menu.${p.menuKey}`)}
          <Badge
            count={open}
            overflowCount={999}
            color={work.data?.overdue ? '#cf1322' : '#0b6bcb'}
            data-testid="menu-work-count"
          />
        </Flex>
      ) : (
        t(`menu.${p.menuKey}`)
      ),
  }));
  return (
    <Menu
      theme="dark"
      mode="inline"
      selectedKeys={[selectedKey(location.pathname)]}
      items={items}
      onClick={({ key }) => {
        void navigate(key);
        onNavigate?.();
      }}
    />
  );
}

function AccountMenu({ me, orgUnitName }: { me: Me; orgUnitName: string | undefined }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { modal, message } = App.useApp();
  const signOut = useSignOut();
  const isPhone = useIsPhone();
  const leave = async (everywhere: boolean) => {
    await signOut(everywhere);
    message.destroy();
    void message.success(t('shell.signedOut'));
    void navigate('/login', { replace: true });
  };
  const items: MenuProps['items'] = [
    // On a phone the header has room for the avatar only: name and unit go into the menu.
    ...(isPhone
      ? [
          { key: 'who', disabled: true, label: orgUnitName ? `${me.displayName} · ${orgUnitName}` : me.displayName },
          { type: 'divider' as const },
        ]
      : []),
    { key: 'password', icon: <KeyOutlined />, label: t('shell.changePassword') },
    { type: 'divider' },
    { key: 'logout', icon: <LogoutOutlined />, label: t('shell.signOut') },
    { key: 'logout-all', icon: <PoweroffOutlined />, label: t('shell.signOutAll'), danger: true },
  ];
  const onClick: MenuProps['onClick'] = ({ key }) => {
    if (key === 'password') void navigate('/account');
    else if (key === 'logout') void leave(false);
    else if (key === 'logout-all')
      void modal.confirm({
        title: t('shell.signOutAll'),
        content: t('shell.signOutAllConfirm'),
        okButtonProps: { danger: true },
        onOk: () => leave(true),
      });
  };
  return (
    <Dropdown trigger={['click']} menu={{ items, onClick }}>
      <span className="fc-header-user" data-testid="account-menu" role="button" tabIndex={0}>
        <Avatar size="small" icon={<UserOutlined />} style={{ background: '#0b6bcb', flex: 'none' }} />
        {!isPhone && (
          <span className="fc-header-user-text">
            <span>{me.displayName}</span>
            {orgUnitName && <span style={{ fontSize: 12, color: 'rgba(0,0,0,0.45)' }}>{orgUnitName}</span>}
          </span>
        )}
      </span>
    </Dropdown>
  );
}

export function AppShell({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const access = useAccess();
  const isPhone = useIsPhone();
  const [collapsed, setCollapsed] = useState(false);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const units = useOrgUnits(access.canReadOrg);
  const orgUnitName = units.data?.find((u) => u.id === me.orgUnitId)?.name;

  return (
    <Layout style={{ minHeight: '100vh' }}>
      {!isPhone && (
        <Layout.Sider
          collapsible
          collapsed={collapsed}
          trigger={null}
          width={208}
          style={{ position: 'sticky', top: 0, height: '100vh', overflow: 'auto' }}
        >
          <Brand compact={collapsed} />
          <SideMenu />
        </Layout.Sider>
      )}
      {isPhone && (
        <Drawer
          placement="left"
          open={drawerOpen}
          onClose={() => setDrawerOpen(false)}
          size={240}
          closable={false}
          styles={{ body: { padding: 0, background: '#001529' }, header: { display: 'none' } }}
          data-testid="menu-drawer"
        >
          <Brand />
          <SideMenu onNavigate={() => setDrawerOpen(false)} />
        </Drawer>
      )}
      <Layout>
        <Layout.Header className="fc-header">
          {isPhone ? (
            <Button
              type="text"
              icon={<MenuOutlined />}
              aria-label={t('shell.openMenu')}
              onClick={() => setDrawerOpen(true)}
              data-testid="menu-button"
            />
          ) : (
            <Button
              type="text"
              icon={collapsed ? <MenuUnfoldOutlined /> : <MenuFoldOutlined />}
              onClick={() => setCollapsed(!collapsed)}
              aria-label={t('shell.openMenu')}
            />
          )}
          <span
            style={{
              fontWeight: 500,
              flex: 1,
              minWidth: 0,
              overflow: 'hidden',
              textOverflow: 'ellipsis',
              whiteSpace: 'nowrap',
            }}
          >
            {isPhone ? t('app.name') : t('app.title')}
          </span>
          <LanguageSwitch signedIn />
          <AccountMenu me={me} orgUnitName={orgUnitName} />
        </Layout.Header>
        <Layout.Content className="fc-content">{children}</Layout.Content>
      </Layout>
    </Layout>
  );
}
