// Onboarding in the browser, on a phone: the administrator chooses 组织机构 on the import page, loads a
// unit file whose stations come before their area (a bad time zone refused with its field), then
// 人员账号 for the people, and takes the new users' initial passwords once; one of them signs in with
// his and is asked to choose his own password first. No sideways scrolling.
// Screenshots go to e2e/artifacts/imports-org-<engine>/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import { ADMIN_PASSWORD, setupAdmin, type TestApp } from '../test/helpers/app.js';
import {
  artifactsDir,
  describeBrowser,
  poll,
  screenshot,
  signIn,
  startBrowserApp,
  STEP_TIMEOUT,
  UI_TIMEOUT,
} from './browser.js';

const UNITS =
  '单位编码,单位名称,上级单位编码,单位类型,时区\r\n' +
  'SJZ-01,一号加油站,SJZ,加油站,\r\n' +
  'SJZ,石家庄片区,HQ,片区,Asia/Shanghai\r\n' +
  'SJZ-02,二号加油站,SJZ,加油站,火星时间\r\n';
const USERS =
  '姓名,用户名,所属单位编码,角色,手机号\r\n张三,zhang3,SJZ-01,加油员,13812345678\r\n李四,li4,SJZ-01,站长、加油员,\r\n';

function orgFlow(engine: Engine) {
  let dir: string;
  let tmp: string;
  let browser: Browser;
  let page: Page;
  let base: string;
  let app: TestApp;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    dir = artifactsDir('imports-org', engine);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-e2e-org-'));
    ({ app, base, browser, stop } = await startBrowserApp(engine));
    await setupAdmin(app);
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    context.setDefaultTimeout(UI_TIMEOUT);
    page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[e2e ${engine}] page error:`, err.message));
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await stop?.();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const load = async (kind: string, name: string, content: string) => {
    await page.goto(`${base}/imports`);
    await page.locator('.ant-radio-button-wrapper', { hasText: kind }).click();
    const file = path.join(tmp, name);
    fs.writeFileSync(file, content);
    await page.getByTestId('import-upload').locator('input[type=file]').setInputFiles(file);
    await poll(() => page.getByTestId('import-mapping').count()).toBe(1);
    await page.getByTestId('import-dry-run').click();
    await poll(() => page.getByTestId('import-check').count()).toBe(1);
  };

  it(
    'loads units with a parent after its children, then people, and hands their passwords over once',
    async () => {
      await signIn(page, base, 'admin', ADMIN_PASSWORD);
      await load('组织机构', '组织机构.csv', UNITS);
      await poll(() => page.getByTestId('import-problems').innerText()).toContain('时区“火星时间”不是有效的时区');
      await screenshot(page, dir, '01-units-dry-run');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.getByTestId('import-commit').click();
      const outcome = page.getByTestId('import-outcome');
      await poll(() => outcome.count()).toBe(1);
      await poll(() => outcome.innerText()).toMatch(/新建 \/ 更新 \/ 无变化\s*2 \/ 0 \/ 0/);

      await load('人员账号', '人员.csv', USERS);
      await page.getByTestId('import-commit').click();
      const passwords = page.getByTestId('import-passwords');
      await poll(() => passwords.innerText()).toContain('已为 2 个新账号生成初始密码');
      await screenshot(page, dir, '02-users-done');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      const download = page.waitForEvent('download');
      await passwords.getByRole('button').click();
      const sheet = fs.readFileSync((await (await download).path())!, 'utf8');
      expect(sheet).toContain('用户名');
      expect(sheet).toContain('zhang3');
      await poll(() => passwords.innerText()).toContain('初始密码已下载');
      await screenshot(page, dir, '03-passwords-taken');

      // Someone the import created signs in with his initial password and chooses his own before anything else.
      const initial = sheet
        .split(/\r?\n/)
        .map((l) => l.split(','))
        .find((cells) => cells[1] === 'zhang3')![4]!;
      const own = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
      own.setDefaultTimeout(UI_TIMEOUT);
      const zhang = await own.newPage();
      await signIn(zhang, base, 'zhang3', initial);
      await poll(() => zhang.getByText('请设置你自己的密码').count()).toBe(1);
      expect(await zhang.getByTestId('account-menu').count()).toBe(0);
      await screenshot(zhang, dir, '04-first-password');
      await zhang.getByLabel('初始密码').fill(initial);
      await zhang.getByLabel('新密码', { exact: true }).fill('Own-secret-2026x');
      await zhang.getByLabel('确认新密码').fill('Own-secret-2026x');
      await zhang.getByRole('button', { name: '设置密码并进入系统' }).click();
      await poll(() => zhang.getByTestId('account-menu').count()).toBe(1);
      expect(await zhang.getByText('请设置你自己的密码').count()).toBe(0);
      await screenshot(zhang, dir, '05-signed-in');
      await own.close();
    },
    STEP_TIMEOUT,
  );
}

describeBrowser('org and user import in the browser', orgFlow);
