// Every page of the app, its menu entry and its access rule, in one place (router.tsx wires them up).
import { lazy, type ComponentType, type LazyExoticComponent, type ReactNode } from 'react';
import { ApartmentOutlined, AuditOutlined, HomeOutlined, SafetyCertificateOutlined, TeamOutlined, UserOutlined } from '@ant-design/icons';
import type { AccessKey } from './access.js';
import type { Catalog } from './i18n/zh-CN.js';

export type MenuKey = keyof Catalog['menu'];
export type HomeDescKey = 'orgDesc' | 'usersDesc' | 'rolesDesc' | 'auditDesc' | 'accountDesc';

export interface PageRoute {
  path: string;
  /** Menu label: `menu.<key>` in the catalogs. */
  menuKey: MenuKey;
  /** What the page is for, on the home page's quick links: `home.<key>`. */
  descKey?: HomeDescKey;
  icon: ReactNode;
  access?: AccessKey;
  inMenu: boolean;
  Component: LazyExoticComponent<ComponentType>;
}

// Pages load on demand, so the sign-in page does not wait for the audit table.
export const page = (load: () => Promise<ComponentType>) => lazy(async () => ({ default: await load() }));

export const PAGES: readonly PageRoute[] = [
  { path: '/', menuKey: 'home', icon: <HomeOutlined />, inMenu: true, Component: page(async () => (await import('./pages/home/home-page.js')).HomePage) },
  { path: '/org', menuKey: 'org', descKey: 'orgDesc', icon: <ApartmentOutlined />, access: 'canReadOrg', inMenu: true, Component: page(async () => (await import('./pages/org/org-page.js')).OrgPage) },
  { path: '/users', menuKey: 'users', descKey: 'usersDesc', icon: <TeamOutlined />, access: 'canReadUsers', inMenu: true, Component: page(async () => (await import('./pages/users/users-page.js')).UsersPage) },
  { path: '/roles', menuKey: 'roles', descKey: 'rolesDesc', icon: <SafetyCertificateOutlined />, access: 'canReadRoles', inMenu: true, Component: page(async () => (await import('./pages/roles/roles-page.js')).RolesPage) },
  { path: '/audit', menuKey: 'audit', descKey: 'auditDesc', icon: <AuditOutlined />, access: 'canReadAudit', inMenu: true, Component: page(async () => (await import('./pages/audit/audit-page.js')).AuditPage) },
  { path: '/account', menuKey: 'account', descKey: 'accountDesc', icon: <UserOutlined />, inMenu: true, Component: page(async () => (await import('./pages/account/account-page.js')).AccountPage) },
];

/** Pages outside the signed-in frame. */
export const SetupPage = page(async () => (await import('./pages/setup/setup-page.js')).SetupPage);
export const LoginPage = page(async () => (await import('./pages/login/login-page.js')).LoginPage);
export const NotFoundPage = page(async () => (await import('./pages/errors/not-found-page.js')).NotFoundPage);
