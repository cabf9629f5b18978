// Satisfaction on a phone (390×844), once per engine: the area manager starts a survey of his area from
// the surveys page, customer service opens a call and records the answers (five levels, CSAT, NPS), the
// survey's results show with their charts, and the low score's revisit waits on the revisit page.
// Screenshots go to e2e/artifacts/satisfaction-<engine>/.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import { call, login, ok, setupAdmin, type TestApp } from '../test/helpers/app.js';
import { buildTree, createUser, USER_PASSWORD, type Tree } from '../test/helpers/fixtures.js';
import {
  artifactsDir,
  describeBrowser,
  screenshot,
  signIn,
  startBrowserApp,
  STEP_TIMEOUT,
  UI_TIMEOUT,
} from './browser.js';

const PHONE = { viewport: { width: 390, height: 844 }, locale: 'zh-CN', isMobile: true, hasTouch: true };

const noSidewaysScroll = async (page: Page) =>
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

function satisfactionFlow(engine: Engine) {
  let dir: string;
  let browser: Browser;
  let base: string;
  let app: TestApp;
  let tree: Tree;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    dir = artifactsDir('satisfaction', engine);
    ({ app, base, browser, stop } = await startBrowserApp(engine));
    const admin = await setupAdmin(app);
    tree = await buildTree(app, admin);
    await createUser(app, admin, 'my.pianqu', tree.area1, ['area_customer_manager']);
    await createUser(app, admin, 'my.kefu', tree.area1, ['cs_agent']);
    for (let i = 0; i < 4; i++)
      await ok(
        call(app, admin, 'POST', '/api/customers', {
          kind: 'individual',
          orgUnitId: i % 2 === 0 ? tree.station1 : tree.station2,
          name: `调查客户${i + 1}`,
          surname: '周',
          phones: [{ phone: `1370000100${i}` }],
        }),
        201,
      );
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await stop?.();
  });

  const as = async (username: string, url: string) => {
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await signIn(page, base, username, USER_PASSWORD);
    await page.goto(`${base}${url}`);
    return { page, errors, close: () => context.close() };
  };

  it(
    'starts a survey, records a call on a phone, shows the results and the revisit a low score planned',
    async () => {
      const mgr = await as('my.pianqu', '/satisfaction/surveys');
      await mgr.page.getByRole('button', { name: '发起调查' }).first().click();
      const drawer = mgr.page.locator('.ant-drawer');
      await drawer.getByLabel('调查名称').fill('十二月满意度回访');
      await drawer.getByLabel('抽取人数').fill('4');
      await drawer.getByLabel('随机种子').fill('7');
      await drawer.getByRole('button', { name: '预览抽样' }).click();
      await drawer.getByText('符合条件 4 人，将抽取 4 人').waitFor();
      await noSidewaysScroll(mgr.page);
      await screenshot(mgr.page, dir, '01-new-survey-phone');
      await drawer.getByRole('button', { name: '发起调查' }).click();
      await mgr.page.waitForURL(/\/satisfaction\/surveys\/\d+$/);
      const surveyUrl = new URL(mgr.page.url()).pathname;
      await mgr.page.locator('[data-testid^="call-"]').first().waitFor();
      const callHref = await mgr.page
        .locator('[data-testid^="call-"]')
        .first()
        .locator('xpath=..')
        .getAttribute('href');
      expect(mgr.errors).toEqual([]);
      await mgr.close();

      const kefu = await as('my.kefu', callHref!);
      await kefu.page.getByText('满意度调查电话').first().waitFor();
      await kefu.page.getByText('很不满意', { exact: true }).click();
      await kefu.page.locator('.ant-form-item').filter({ hasText: '打几分' }).getByText('1', { exact: true }).click();
      await kefu.page.locator('.ant-form-item').filter({ hasText: '推荐' }).getByText('3', { exact: true }).click();
      await kefu.page.getByLabel('意见建议').fill('油枪老是跳枪');
      await noSidewaysScroll(kefu.page);
      await screenshot(kefu.page, dir, '02-call-form-phone');
      await kefu.page.getByRole('button', { name: '已答复，保存' }).click();
      await kefu.page.getByText('已答复', { exact: true }).first().waitFor();
      await screenshot(kefu.page, dir, '03-call-answered-phone');
      expect(kefu.errors).toEqual([]);
      await kefu.close();

      const results = await as('my.pianqu', surveyUrl);
      await results.page.getByTestId('survey-levels').locator('canvas').waitFor();
      await results.page.getByTestId('survey-by-unit').locator('canvas').waitFor();
      await noSidewaysScroll(results.page);
      await screenshot(results.page, dir, '04-results-phone');
      await results.close();

      const revisits = await as('my.pianqu', '/satisfaction/revisits');
      await revisits.page.getByText('低分自动安排').first().waitFor();
      await noSidewaysScroll(revisits.page);
      await screenshot(revisits.page, dir, '05-revisits-phone');
      await revisits.close();

      // The API agrees: one answer, satisfaction 1, NPS 3 (a detractor) → NPS −100.
      const s = await login(app, 'my.pianqu', USER_PASSWORD);
      const list = await ok<{ items: { id: number }[] }>(call(app, s, 'GET', '/api/satisfaction/surveys'));
      const detail = await ok<{ totals: { answered: number; nps: number } }>(
        call(app, s, 'GET', `/api/satisfaction/surveys/${list.items[0]!.id}`),
      );
      expect(detail.totals).toMatchObject({ answered: 1, nps: -100 });
    },
    STEP_TIMEOUT * 4,
  );
}

describeBrowser('satisfaction in the browser', satisfactionFlow);
