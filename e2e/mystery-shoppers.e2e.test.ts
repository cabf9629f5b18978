// Mystery shoppers in the browser, once per engine: HQ has published a form and sent a shopper to a
// station; the shopper answers every item on a phone (390×844), takes the required photo and submits;
// the station manager sees the score and its chart on his phone; HQ marketing sends the failed item to
// the station from the analysis. Screenshots go to e2e/artifacts/mystery-shoppers-<engine>/.
import { afterAll, beforeAll, expect, it } from 'vitest';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import { call, ok, setupAdmin, type TestApp } from '../test/helpers/app.js';
import { buildTree, createUser, USER_PASSWORD, type Tree } from '../test/helpers/fixtures.js';
import {
  answered,
  artifactsDir,
  describeBrowser,
  poll,
  screenshot,
  signIn,
  startBrowserApp,
  STEP_TIMEOUT,
  UI_TIMEOUT,
} from './browser.js';

const PHONE = { viewport: { width: 390, height: 844 }, locale: 'zh-CN', isMobile: true, hasTouch: true };

const noSidewaysScroll = async (page: Page) =>
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

function mysteryFlow(engine: Engine) {
  let dir: string;
  let browser: Browser;
  let base: string;
  let app: TestApp;
  let tree: Tree;
  let stop: () => Promise<void>;
  let assignmentId = 0;

  beforeAll(async () => {
    dir = artifactsDir('mystery-shoppers', engine);
    ({ app, base, browser, stop } = await startBrowserApp(engine));
    const admin = await setupAdmin(app);
    tree = await buildTree(app, admin);
    const shopper = await createUser(app, admin, 'ms.shopper', tree.hq, ['mystery_shopper']);
    await createUser(app, admin, 'ms.zhanzhang', tree.station1, ['station_manager']);
    await createUser(app, admin, 'ms.yingxiao', tree.hq, ['hq_marketing']);
    const item = (key: string, text: string, weight: number, photoRequired = false) => ({
      key,
      text,
      weight,
      critical: false,
      photoRequired,
      answerType: 'yes_no',
      maxScore: null,
    });
    const form = await ok<{ id: number }>(
      call(app, admin, 'POST', '/api/mystery/forms', {
        code: 'station_visit',
        title: '加油站暗访检查表',
        passPercent: 80,
        sections: [
          { title: '环境', items: [item('clean', '站内整洁', 40, true)] },
          { title: '服务', items: [item('greet', '主动问候', 30), item('invoice', '主动提供发票', 30)] },
        ],
      }),
      201,
    );
    await ok(call(app, admin, 'POST', `/api/mystery/forms/${form.id}/publish`));
    const now = Date.now();
    assignmentId = (
      await ok<{ id: number }>(
        call(app, admin, 'POST', '/api/mystery/assignments', {
          formId: form.id,
          orgUnitId: tree.station1,
          shopperUserId: shopper,
          windowFrom: new Date(now - 86_400_000).toISOString(),
          windowTo: new Date(now + 86_400_000).toISOString(),
        }),
        201,
      )
    ).id;
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

  it(
    'a shopper records a visit with its photo on a phone; the station sees the score; HQ issues the action',
    async () => {
      const shopper = await as('ms.shopper', '/mystery/mine');
      await shopper.page.getByTestId(`mystery-start-${assignmentId}`).click();
      await shopper.page.getByTestId('mystery-answer-clean').getByText('是').click();
      await shopper.page.getByTestId('mystery-answer-greet').getByText('是').click();
      await shopper.page.getByTestId('mystery-answer-invoice').getByText('否').click();
      const photo = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#48a' } })
        .jpeg()
        .toBuffer();
      await shopper.page
        .locator('input[type=file]')
        .setInputFiles({ name: 'clean.jpg', mimeType: 'image/jpeg', buffer: photo });
      await shopper.page.getByTestId('mystery-photo-clean').getByText('已拍 1 张').waitFor();
      await noSidewaysScroll(shopper.page);
      await screenshot(shopper.page, dir, '01-visit-phone');
      await shopper.page.getByTestId('mystery-submit').click();
      await shopper.page.waitForURL(/\/mystery\/mine$/);
      await shopper.page.getByTestId(`mystery-mine-${assignmentId}`).getByText('不合格').waitFor();
      await screenshot(shopper.page, dir, '02-mine-phone');
      await shopper.close();

      const station = await as('ms.zhanzhang', '/mystery');
      await station.page.getByTestId('mystery-station-chart').locator('canvas').waitFor();
      await station.page.locator('[data-testid^="mystery-visit-"]').getByText('70 分').waitFor();
      await noSidewaysScroll(station.page);
      await screenshot(station.page, dir, '03-results-phone');
      await station.page.locator('[data-testid^="mystery-visit-"]').first().click();
      await station.page.getByTestId('mystery-score').waitFor();
      await station.page.locator('img[src*="/photos/"]').first().waitFor();
      await noSidewaysScroll(station.page);
      await screenshot(station.page, dir, '04-evaluation-phone');
      await station.close();

      const hq = await as('ms.yingxiao', '/mystery/analysis');
      await hq.page.getByTestId('mystery-analysis-chart').locator('canvas').waitFor();
      await hq.page.getByTestId('mystery-issue-invoice').click();
      // The confirmation is a toast that stays 3 s: wait for the server's answer first, so a slow or
      // refused request says so rather than a missed toast.
      // HQ writes what is to be done; typing also waits until the dialog takes input.
      const dialog = hq.page.getByRole('dialog');
      await dialog.locator('textarea').fill('发票开具流程全员培训');
      await poll(async () => dialog.locator('textarea').inputValue()).toBe('发票开具流程全员培训');
      await answered(hq.page, '/api/mystery/actions', () => dialog.getByRole('button', { name: '下达整改' }).click());
      await hq.page.getByText('已下达 1 项整改').waitFor();
      await noSidewaysScroll(hq.page);
      await screenshot(hq.page, dir, '05-analysis-phone');
      await hq.close();

      // On a desktop HQ edits the published form: the edit is the next version's draft, then published.
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
      const desk = await context.newPage();
      desk.setDefaultTimeout(UI_TIMEOUT);
      await signIn(desk, base, 'ms.yingxiao', USER_PASSWORD);
      await desk.goto(`${base}/mystery/forms`);
      await desk.locator('[data-testid^="mystery-form-edit-"]').first().click();
      await desk.getByTestId('mystery-form-title').fill('加油站暗访检查表（2027）');
      await desk.getByTestId('mystery-form-add-item').last().click();
      await desk.getByPlaceholder('检查内容').last().fill('微笑服务');
      await desk.getByTestId('mystery-form-save').click();
      const draft = desk.locator('[data-testid^="mystery-form-"]').filter({ hasText: '第 2 版' }).first();
      await draft.getByText('草稿').waitFor();
      await draft.getByText('4 项').waitFor();
      await draft.locator('[data-testid^="mystery-form-publish-"]').click();
      await draft.getByText('使用中').waitFor();
      await desk.locator('[data-testid^="mystery-form-"]').filter({ hasText: '第 1 版' }).getByText('已停用').waitFor();
      await screenshot(desk, dir, '06-forms-desktop');
      await context.close();
    },
    STEP_TIMEOUT * 2,
  );
}

describeBrowser('mystery shoppers in the browser', mysteryFlow);
