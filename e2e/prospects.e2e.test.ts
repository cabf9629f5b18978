// Development plans in the browser, once per engine: a station manager surveys a prospect on a phone
// (390×844), the branch compiles the month's plan, the department head and the leader approve it on a
// desktop and the branch dispatches it; the station manager, now the follower, records the contact and
// the signature on his phone and the prospect becomes a customer; the progress board charts it and
// the branch samples the week's stations. Screenshots go to e2e/artifacts/prospects-<engine>/.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import type { Db } from '../src/server/db/connection.js';
import { call, login, ok, setupAdmin, type TestApp } from '../test/helpers/app.js';
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

const STATION_MANAGER = 'zhanzhang.wang';
const PLANNER = 'guanli.zhao';
const HEAD = 'zhuguan.liu';
const LEADER = 'jingli.chen';
const PHONE = { viewport: { width: 390, height: 844 }, locale: 'zh-CN', isMobile: true, hasTouch: true };
const DESKTOP = { viewport: { width: 1280, height: 900 }, locale: 'zh-CN' };

const noSidewaysScroll = async (page: Page) =>
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

function prospectsFlow(engine: Engine) {
  let dir: string;
  let browser: Browser;
  let base: string;
  let app: TestApp;
  let db: Db;
  let tree: Tree;
  let stop: () => Promise<void>;
  let planId = 0;

  beforeAll(async () => {
    dir = artifactsDir('prospects', engine);
    const started = await startBrowserApp(engine);
    ({ app, base, browser, db, stop } = started);
    const admin = await setupAdmin(app);
    tree = await buildTree(app, admin);
    await createUser(app, admin, STATION_MANAGER, tree.station1, ['station_manager']);
    await createUser(app, admin, PLANNER, tree.branch1, ['branch_customer_admin']);
    await createUser(app, admin, HEAD, tree.branch1, ['branch_dept_head']);
    await createUser(app, admin, LEADER, tree.branch1, ['branch_manager']);
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await stop?.();
  });

  const open = async (username: string, options: object) => {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    await signIn(page, base, username, USER_PASSWORD);
    return { context, page };
  };

  it(
    'a station manager surveys a prospect on his phone',
    async () => {
      const { context, page } = await open(STATION_MANAGER, PHONE);
      await page.goto(`${base}/prospects/new`);
      await page.getByTestId('prospect-name').fill('顺达物流有限公司');
      await page.getByTestId('prospect-phone').fill('13912345678');
      await page.getByTestId('prospect-demand').fill('重卡 12 台，0# 柴油，每月约 30 吨');
      await page.getByTestId('prospect-importance').getByText('一般', { exact: true }).click();
      await noSidewaysScroll(page);
      await screenshot(page, dir, '01-survey-phone');
      await page.getByTestId('prospect-save').click();
      await page.waitForURL(/\/prospects\/\d+$/);
      await poll(async () => page.getByTestId('prospect-stage').textContent()).toBe('已调查');
      // Before dispatch the survey can still be corrected.
      await page.getByTestId('prospect-edit').click();
      await page.getByRole('dialog').getByLabel('目前供油方').fill('民营加油站');
      await page
        .getByRole('dialog')
        .getByRole('button', { name: /确\s*定|OK/ })
        .click();
      await page.getByText('民营加油站').waitFor();
      await noSidewaysScroll(page);
      await screenshot(page, dir, '02-prospect-phone');
      await context.close();
    },
    STEP_TIMEOUT,
  );

  it(
    'the branch compiles the plan, the head and the leader approve it, and it is dispatched',
    async () => {
      const planner = await login(app, PLANNER, USER_PASSWORD);
      planId = (
        await ok<{ id: number }>(
          call(app, planner, 'POST', '/api/dev-plans', {
            orgUnitId: tree.branch1,
            month: new Date().toISOString().slice(0, 7),
            dueDay: new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10),
          }),
          201,
        )
      ).id;
      const p = await open(PLANNER, DESKTOP);
      await p.page.goto(`${base}/prospects/plans/${planId}`);
      await answered(p.page, '/submit', () => p.page.getByTestId('plan-submit').click());
      await poll(async () => p.page.getByTestId('plan-state').textContent()).toBe('待部门审批');
      await screenshot(p.page, dir, '03-plan-submitted-desktop');

      const h = await open(HEAD, DESKTOP);
      await h.page.goto(`${base}/prospects/plans/${planId}`);
      await h.page.getByTestId('plan-approve-dept').click();
      await h.page.getByTestId('plan-decision-note').fill('同意');
      await answered(h.page, '/dept-approval', () => h.page.getByTestId('plan-decision-ok').click());
      await poll(async () => h.page.getByTestId('plan-state').textContent()).toBe('待领导审批');
      // The head has taken his slot: the leader's is not offered to him.
      expect(await h.page.getByTestId('plan-approve-leader').count()).toBe(0);
      await h.context.close();

      const l = await open(LEADER, DESKTOP);
      await l.page.goto(`${base}/prospects/plans/${planId}`);
      await l.page.getByTestId('plan-approve-leader').click();
      await answered(l.page, '/leader-approval', () => l.page.getByTestId('plan-decision-ok').click());
      await poll(async () => l.page.getByTestId('plan-state').textContent()).toBe('待下达');
      await l.context.close();

      await p.page.reload();
      await answered(p.page, '/dispatch', () => p.page.getByTestId('plan-dispatch').click());
      await poll(async () => p.page.getByTestId('plan-state').textContent()).toBe('已下达');
      await screenshot(p.page, dir, '04-plan-dispatched-desktop');
      await p.context.close();
    },
    STEP_TIMEOUT,
  );

  it(
    'the follower records the contact and the signature on his phone, and the prospect becomes his customer',
    async () => {
      const { context, page } = await open(STATION_MANAGER, PHONE);
      await page.goto(`${base}/prospects?mine=1`);
      const card = page.locator('[data-testid^="prospect-"]').filter({ hasText: '顺达物流有限公司' }).first();
      await card.waitFor();
      await expect(card.textContent()).resolves.toContain('已下达');
      await page.getByTestId('prospect-board-chart').waitFor();
      await noSidewaysScroll(page);
      await screenshot(page, dir, '05-board-phone');
      await card.click();
      await page.getByTestId('prospect-action-contact').click();
      await page.getByTestId('prospect-step-note').fill('见到车队长，愿意试用');
      // Wait for the server's answer before reading the screen, so a slow or refused request says so
      // rather than a stage that has not changed yet.
      await answered(page, '/progress', () => page.getByTestId('prospect-step-ok').click());
      await poll(async () => page.getByTestId('prospect-stage').textContent()).toBe('已联系');
      await page.getByTestId('prospect-action-sign').click();
      await page.getByTestId('prospect-step-note').fill('签订年度供油协议');
      await screenshot(page, dir, '06-sign-phone');
      await answered(page, '/sign', () => page.getByTestId('prospect-step-ok').click());
      await poll(async () => page.getByTestId('prospect-stage').textContent()).toBe('已签约');
      await page.getByTestId('prospect-customer').waitFor();
      await noSidewaysScroll(page);
      await screenshot(page, dir, '07-signed-phone');
      await context.close();
      const owner = await db.kysely
        .selectFrom('customer as c')
        .innerJoin('app_user as u', 'u.id', 'c.owner_user_id')
        .select(['u.username', 'c.name'])
        .where('c.name', '=', '顺达物流有限公司')
        .executeTakeFirstOrThrow();
      expect(owner.username).toBe(STATION_MANAGER);
    },
    STEP_TIMEOUT,
  );

  it(
    'the branch samples this week’s stations on the plan page',
    async () => {
      const { context, page } = await open(PLANNER, PHONE);
      await page.goto(`${base}/prospects/plans/${planId}`);
      await page.getByTestId('plan-pick').click();
      await page.locator('[data-testid^="plan-sample-"]').first().waitFor();
      await noSidewaysScroll(page);
      await screenshot(page, dir, '08-plan-sampling-phone');
      await context.close();
    },
    STEP_TIMEOUT,
  );
}

describeBrowser('development plans in the browser', prospectsFlow);
