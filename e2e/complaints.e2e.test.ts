// Complaints on a phone (390×844), once per engine: an attendant takes a complaint at his station and
// gets its case number; the station manager verifies, the area reviews, the station rectifies with a
// photo as evidence, customer service calls back with a rating and the branch archives — each signed
// in on a phone. Screenshots go to e2e/artifacts/complaints-<engine>/.
import { afterAll, beforeAll, expect, it } from 'vitest';
import sharp from 'sharp';
import type { Browser, Locator, Page } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import { setupAdmin, type TestApp } from '../test/helpers/app.js';
import { buildTree, createUser, USER_PASSWORD, type Tree } from '../test/helpers/fixtures.js';
import {
  artifactsDir,
  describeBrowser,
  screenshot,
  pickOpenOption,
  signIn,
  startBrowserApp,
  STEP_TIMEOUT,
  UI_TIMEOUT,
} from './browser.js';

const PHONE = { viewport: { width: 390, height: 844 }, locale: 'zh-CN', isMobile: true, hasTouch: true };

async function choose(page: Page, form: Locator, label: string, option: string): Promise<void> {
  await form.getByLabel(label, { exact: true }).click();
  await pickOpenOption(page, option);
}

const noSidewaysScroll = async (page: Page) =>
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

function complaintFlow(engine: Engine) {
  let dir: string;
  let browser: Browser;
  let base: string;
  let app: TestApp;
  let tree: Tree;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    dir = artifactsDir('complaints', engine);
    ({ app, base, browser, stop } = await startBrowserApp(engine));
    const admin = await setupAdmin(app);
    tree = await buildTree(app, admin);
    await createUser(app, admin, 'ts.jiayou', tree.station1, ['attendant']);
    await createUser(app, admin, 'ts.zhanzhang', tree.station1, ['station_manager']);
    await createUser(app, admin, 'ts.pianqu', tree.area1, ['area_customer_manager']);
    await createUser(app, admin, 'ts.kefu', tree.area1, ['cs_agent']);
    await createUser(app, admin, 'ts.fengongsi', tree.branch1, ['branch_customer_admin']);
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await stop?.();
  });

  const as = async (username: string, url: string) => {
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    await signIn(page, base, username, USER_PASSWORD);
    await page.goto(`${base}${url}`);
    return { page, close: () => context.close() };
  };
  const takeStep = async (username: string, url: string, action: string, note: string, shot: string) => {
    const { page, close } = await as(username, url);
    await page.getByTestId(`complaint-action-${action}`).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByTestId('complaint-note').fill(note);
    if (action === 'callback') await dialog.locator('.ant-rate-star').nth(4).click();
    await dialog.getByTestId('complaint-step-ok').click();
    await dialog.waitFor({ state: 'hidden' });
    await noSidewaysScroll(page);
    await screenshot(page, dir, shot);
    const state = await page.getByTestId('complaint-state').textContent();
    await close();
    return state;
  };

  it(
    'a complaint taken at a station passes all five stages with evidence and a callback, on a phone',
    async () => {
      const { page, close } = await as('ts.jiayou', '/complaints/new');
      const form = page.getByTestId('complaint-intake');
      await choose(page, form, '投诉类别', '加油站服务');
      await page.getByTestId('complaint-content').fill('加油员没有唱收唱付，态度生硬');
      await page.getByTestId('complaint-name').fill('周先生');
      await page.getByTestId('complaint-phone').fill('13800138000');
      await noSidewaysScroll(page);
      await screenshot(page, dir, '01-intake-phone');
      await page.getByTestId('complaint-submit').click();
      await page.getByTestId('complaint-steps').waitFor();
      const caseNo = (await page.locator('h1, h2, h3, h4').first().textContent()) ?? '';
      expect(caseNo).toMatch(/TS-\d{6}-\d{6}/);
      expect(await page.getByTestId('complaint-state').textContent()).toBe('待核实');
      await screenshot(page, dir, '02-taken-phone');
      const url = new URL(page.url()).pathname;
      await close();

      expect(await takeStep('ts.zhanzhang', url, 'verify', '调看监控，情况属实', '03-verified-phone')).toBe('待审查');
      expect(await takeStep('ts.pianqu', url, 'review', '同意整改：培训当班员工', '04-reviewed-phone')).toBe('待整改');

      const station = await as('ts.zhanzhang', url);
      const photo = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#4a8' } })
        .jpeg()
        .toBuffer();
      await station.page
        .locator('input[type=file]')
        .setInputFiles({ name: '培训照片.jpg', mimeType: 'image/jpeg', buffer: photo });
      await station.page.getByTestId('complaint-evidence').locator('img').first().waitFor();
      await station.close();
      expect(await takeStep('ts.zhanzhang', url, 'rectify', '已培训全体员工', '05-rectified-phone')).toBe('待回访');
      expect(await takeStep('ts.kefu', url, 'callback', '客户表示满意', '06-called-back-phone')).toBe('待归档');
      expect(await takeStep('ts.fengongsi', url, 'archive', '材料齐全，归档', '07-archived-phone')).toBe('已归档');

      const list = await as('ts.zhanzhang', '/complaints');
      await list.page.locator('[data-testid^="complaint-"]').filter({ hasText: caseNo.trim() }).first().waitFor();
      await noSidewaysScroll(list.page);
      await screenshot(list.page, dir, '08-list-phone');
      await list.close();
    },
    STEP_TIMEOUT * 4,
  );
}

describeBrowser('complaints in the browser', complaintFlow);
