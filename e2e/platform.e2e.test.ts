// The platform in a real browser, once per engine: first-run setup, org tree, users, and what a
// station manager sees after signing in. Screenshots go to e2e/artifacts/<engine>/.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import {
  artifactsDir,
  describeBrowser,
  pickOpenOption,
  poll,
  screenshot,
  startBrowserApp,
  STEP_TIMEOUT,
  UI_TIMEOUT,
  until,
} from './browser.js';

const ADMIN = { username: 'admin', displayName: '系统管理员', password: 'Str0ng-setup-secret' };
const COMPANY = { code: 'HQ', name: '华北石油销售公司' };
const AREA = { code: 'AREA-E', name: '东城片区' };
const STATION = { code: 'ST-E01', name: '东城第一加油站' };
const MANAGER = { username: 'zhang.zz', displayName: '张站长', password: 'Station-mgr-2024' };

/**
 * A select-like antd control in a dialog: open it by its form label, then pick the option with that
 * title. A click that lands while the list is still sliding open can be lost, so a single select's
 * pick is made again until the list closes, and a multiple select's until the option shows chosen
 * (clicking a chosen option of a multiple select would take it out again).
 */
async function choose(
  page: Page,
  dialog: Locator,
  label: string,
  option: string,
  { multiple = false } = {},
): Promise<void> {
  await dialog.getByLabel(label, { exact: true }).click();
  if (!multiple) return pickOpenOption(page, option);
  const popup = page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden)').last();
  const item = popup.getByTitle(option, { exact: true }).first();
  const chosen = async () => /\bant-select-item-option-selected\b/.test((await item.getAttribute('class')) ?? '');
  await until(`${label}: ${option}`, chosen, async () => {
    if (!(await chosen())) await item.click();
  });
  // A multiple select stays open until focus moves elsewhere (not its label: that reopens it).
  await dialog.locator('.ant-modal-title').click();
  await popup.waitFor({ state: 'hidden' });
}

function platformFlow(engine: Engine) {
  let dir: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let stop: () => Promise<void>;
  const shot = (name: string, p: Page = page) => screenshot(p, dir, name);

  beforeAll(async () => {
    dir = artifactsDir('platform', engine);
    const started = await startBrowserApp(engine);
    ({ base, browser, stop } = started);
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
    context.setDefaultTimeout(UI_TIMEOUT);
    page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[e2e ${engine}] page error:`, err.message));
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await stop?.();
  });

  it(
    'leads a fresh install to the first-run setup and signs the admin in',
    async () => {
      await page.goto(`${base}/org`);
      await page.waitForURL('**/setup');
      const form = page.getByTestId('setup-form');
      await form.getByLabel('公司编码').fill(COMPANY.code);
      await form.getByLabel('公司名称').fill(COMPANY.name);
      await form.getByLabel('用户名').fill(ADMIN.username);
      await form.getByLabel('姓名').fill(ADMIN.displayName);
      await form.getByLabel('密码', { exact: true }).fill(ADMIN.password);
      await form.getByLabel('确认密码').fill(ADMIN.password);
      await shot('01-setup');
      await page.getByTestId('setup-submit').click();
      await page.waitForURL(`${base}/`);
      await poll(() => page.getByTestId('welcome').innerText()).toBe(`你好，${ADMIN.displayName}`);
      await poll(() => page.getByTestId('home-org-unit').innerText()).toBe(COMPANY.name);
      await shot('02-home-admin');
      // Setup is done: /setup now leads home.
      await page.goto(`${base}/setup`);
      await page.waitForURL(`${base}/`);
    },
    STEP_TIMEOUT,
  );

  it(
    'creates an area under HQ and a station under the area',
    async () => {
      await page.getByRole('menuitem', { name: '组织机构' }).click();
      await page.waitForURL('**/org');
      await page.getByTestId(`org-node-${COMPANY.code}`).click();
      await shot('03-org-hq');

      await page.getByTestId('org-add-child').click();
      let dialog = page.getByRole('dialog');
      await choose(page, dialog, '层级', '片区');
      await dialog.getByLabel('编码').fill(AREA.code);
      await dialog.getByLabel('名称').fill(AREA.name);
      await shot('04-org-new-area');
      await dialog.getByRole('button', { name: /保\s*存/ }).click();
      await page.getByTestId(`org-node-${AREA.code}`).waitFor({ state: 'visible' });
      await poll(() => page.getByTestId('org-details').innerText()).toContain(AREA.name);

      // The new area is selected; its usual child kind is a station.
      await page.getByTestId('org-add-child').click();
      dialog = page.getByRole('dialog');
      await poll(() => dialog.getByTestId('org-unit-form').innerText()).toContain('加油站');
      await dialog.getByLabel('编码').fill(STATION.code);
      await dialog.getByLabel('名称').fill(STATION.name);
      await dialog.getByRole('button', { name: /保\s*存/ }).click();
      await page.getByTestId(`org-node-${STATION.code}`).waitFor({ state: 'visible' });
      await poll(() => page.getByTestId('org-details').innerText()).toContain(STATION.name);
      await dialog.waitFor({ state: 'hidden' });
      await shot('05-org-station');
    },
    STEP_TIMEOUT,
  );

  it(
    'creates a station manager at the station',
    async () => {
      await page.getByRole('menuitem', { name: '用户管理' }).click();
      await page.waitForURL('**/users');
      await page.getByTestId('user-create').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('用户名').fill(MANAGER.username);
      await dialog.getByLabel('姓名').fill(MANAGER.displayName);
      await choose(page, dialog, '所属机构', STATION.name);
      await choose(page, dialog, '角色', '站长', { multiple: true });
      await dialog.getByLabel('初始密码').fill(MANAGER.password);
      await shot('06-users-new');
      await dialog.getByRole('button', { name: /保\s*存/ }).click();
      await dialog.waitFor({ state: 'hidden' });
      const row = page.getByTestId('users-table').getByRole('row', { name: new RegExp(MANAGER.username) });
      await poll(() => row.innerText()).toContain(STATION.name);
      await poll(() => row.innerText()).toContain('站长');
      await shot('07-users-admin');
    },
    STEP_TIMEOUT,
  );

  it(
    'signs out, rejects a wrong password and signs the station manager in',
    async () => {
      await page.getByTestId('account-menu').click();
      await page.getByRole('menuitem', { name: '退出登录' }).click();
      await page.waitForURL('**/login');

      await page.getByLabel('用户名').fill(MANAGER.username);
      await page.getByLabel('密码').fill('not-the-password');
      await page.getByTestId('login-submit').click();
      await poll(() => page.getByTestId('login-error').innerText()).toContain('用户名或密码错误');
      await shot('08-login-error');

      await page.getByLabel('密码').fill(MANAGER.password);
      await page.getByTestId('login-submit').click();
      // A station manager starts at his work inbox; the start page is one tap away.
      await page.waitForURL(`${base}/work`);
      await poll(() => page.getByTestId('work-counts').isVisible()).toBe(true);
      await shot('09-work-station-manager');
      await page.goto(`${base}/`);
      await poll(() => page.getByTestId('welcome').innerText()).toBe(`你好，${MANAGER.displayName}`);
      await poll(() => page.getByTestId('home-org-unit').innerText()).toBe(STATION.name);
      // No roles, audit or user admin for a station manager.
      await poll(() => page.getByRole('menuitem', { name: '角色权限' }).count()).toBe(0);
      await poll(() => page.getByRole('menuitem', { name: '审计日志' }).count()).toBe(0);
      await shot('09b-home-station-manager');
    },
    STEP_TIMEOUT,
  );

  it(
    "shows the station manager only the station's subtree",
    async () => {
      await page.getByRole('menuitem', { name: '组织机构' }).click();
      await page.waitForURL('**/org');
      await page.getByTestId(`org-node-${STATION.code}`).waitFor({ state: 'visible' });
      await poll(() => page.getByTestId(`org-node-${COMPANY.code}`).count()).toBe(0);
      await poll(() => page.getByTestId(`org-node-${AREA.code}`).count()).toBe(0);
      await poll(() => page.getByText(COMPANY.name).count()).toBe(0);
      await poll(() => page.getByTestId('org-add-child').count()).toBe(0); // no org.write
      await shot('10-org-station-manager');

      await page.getByRole('menuitem', { name: '用户管理' }).click();
      await page.waitForURL('**/users');
      const table = page.getByTestId('users-table');
      await table.getByRole('row', { name: new RegExp(MANAGER.username) }).waitFor({ state: 'visible' });
      await poll(() => table.getByText(ADMIN.displayName).count()).toBe(0);
      await poll(() => page.getByTestId('user-create').count()).toBe(0); // no user.write
      await shot('11-users-station-manager');
    },
    STEP_TIMEOUT,
  );

  it(
    'fits a phone: the menu is a drawer behind a button',
    async () => {
      const phone = await context.newPage();
      await phone.setViewportSize({ width: 390, height: 844 });
      await phone.goto(`${base}/users`);
      await phone.getByTestId(`user-card-${MANAGER.username}`).waitFor({ state: 'visible' });
      await shot('12-phone-users', phone);
      await phone.getByTestId('menu-button').click();
      await phone.getByRole('menuitem', { name: '组织机构' }).waitFor({ state: 'visible' });
      await phone.waitForTimeout(400); // let the drawer finish sliding in
      await shot('13-phone-drawer', phone);
      await phone.getByRole('menuitem', { name: '组织机构' }).click();
      await phone.waitForURL('**/org');
      await phone.getByTestId(`org-node-${STATION.code}`).waitFor({ state: 'visible' });
      await shot('14-phone-org', phone);
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      // Name and unit live in the account menu on a phone.
      await phone.getByTestId('account-menu').click();
      await phone
        .getByRole('menuitem', { name: `${MANAGER.displayName} · ${STATION.name}` })
        .waitFor({ state: 'visible' });
      await shot('15-phone-account-menu', phone);
      await phone.close();
    },
    STEP_TIMEOUT,
  );
}

describeBrowser('platform in the browser', platformFlow);
