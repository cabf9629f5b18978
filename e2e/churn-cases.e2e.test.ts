// Churn cases on a phone (390×844), once per engine: an attendant turns the alert of a customer who
// moved away into a natural-loss case with its exit survey, in Chinese, and finds it among the cases;
// a branch admin then sees the month's loss rate on the dashboard and drills down to the case.
// Screenshots go to e2e/artifacts/churn-cases-<engine>/.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import type { Db } from '../src/server/db/connection.js';
import { call, ok, setupAdmin, type TestApp } from '../test/helpers/app.js';
import { buildTree, createUser, USER_PASSWORD, type Tree } from '../test/helpers/fixtures.js';
import { send } from '../test/transactions/helpers.js';
import {
  artifactsDir,
  describeBrowser,
  poll,
  pickOpenOption,
  screenshot,
  signIn,
  startBrowserApp,
  STEP_TIMEOUT,
  UI_TIMEOUT,
} from './browser.js';

const ATTENDANT = 'jiayou.li';
const BRANCH_ADMIN = 'guanli.zhao';
const PHONE = { viewport: { width: 390, height: 844 }, locale: 'zh-CN', isMobile: true, hasTouch: true };

/** A select in a dialog: open it by its form label, then pick the option with that title. */
async function choose(page: Page, dialog: Locator, label: string, option: string): Promise<void> {
  await dialog.getByLabel(label, { exact: true }).click();
  await pickOpenOption(page, option);
}

const noSidewaysScroll = async (page: Page) =>
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

function churnFlow(engine: Engine) {
  let dir: string;
  let browser: Browser;
  let base: string;
  let app: TestApp;
  let db: Db;
  let tree: Tree;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    dir = artifactsDir('churn-cases', engine);
    const started = await startBrowserApp(engine);
    ({ app, base, browser, db, stop } = started);
    const admin = await setupAdmin(app);
    tree = await buildTree(app, admin);
    await createUser(app, admin, ATTENDANT, tree.station1, ['attendant']);
    await createUser(app, admin, BRANCH_ADMIN, tree.branch1, ['branch_customer_admin']);
    const key = (
      await ok<{ key: string }>(call(app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.hq }), 201)
    ).key;
    const { id } = await ok<{ id: number }>(
      call(app, admin, 'POST', '/api/customers', {
        kind: 'individual',
        orgUnitId: tree.station1,
        name: '钱卫东',
        surname: '钱',
        vehicles: [{ plate: '冀A67890' }],
      }),
      201,
    );
    // Every other day through last month and the one before, then nothing.
    const now = new Date();
    const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 2, 1, 2);
    const rows = Array.from({ length: 20 }, (_, i) => ({
      externalId: `q${i}`,
      occurredAt: new Date(start + i * 2 * 86_400_000).toISOString(),
      stationCode: 'B1-A1-S1',
      plate: '冀A67890',
      product: '0#柴油',
      volumeMl: 300_000,
      amountFen: 234_000,
    }));
    await ok(send(app, key, { source: 'pos', transactions: rows }));
    const last = (
      await db.kysely.selectFrom('customer').select('last_visit_day').where('id', '=', id).executeTakeFirstOrThrow()
    ).last_visit_day!;
    // The nightly cadence rule's finding, as it would have raised it.
    const detail = {
      episode: last,
      usualIntervalDays: 2,
      lastVisitDay: last,
      daysSince: 30,
      graceDays: 3,
      overdueByDays: 25,
    };
    await db.kysely
      .insertInto('alert')
      .values({
        customer_id: id,
        org_unit_id: tree.station1,
        kind: 'cadence',
        episode: last,
        status: 'open',
        detail: JSON.stringify(detail),
        opened_at: new Date().toISOString(),
      })
      .execute();
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await stop?.();
  });

  it(
    'an attendant turns an alert into a natural-loss case with an exit survey on a phone',
    async () => {
      const context = await browser.newContext(PHONE);
      const page: Page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT);
      await signIn(page, base, ATTENDANT, USER_PASSWORD);
      await page.goto(`${base}/alerts`);
      // The alert is the station's, not assigned to him: he looks at all of them.
      await page.getByTestId('alerts-scope').getByText('辖区全部').click();
      const card = page.locator('[data-testid^="alert-"]').filter({ hasText: '冀A67890' }).first();
      await card.waitFor();
      await noSidewaysScroll(page);
      await card.getByRole('button', { name: '转为流失个案' }).click();

      const dialog = page.getByRole('dialog');
      await dialog.getByText('自然流失', { exact: true }).waitFor();
      await choose(page, dialog, '具体情形', '迁离本地');
      await page.getByTestId('to-case-note').fill('电话联系本人，全家搬去天津了');
      await screenshot(page, dir, '01-to-case-form-phone');
      // A natural loss needs its exit survey: without one the form says so and nothing is saved.
      await page.getByTestId('to-case-save').click();
      await dialog.getByText('请选择').first().waitFor();
      await choose(page, dialog, '流失原因', '站点位置');
      await page.getByTestId('survey-text').fill('新家附近没有我们的站');
      await screenshot(page, dir, '02-to-case-survey-phone');
      await page.getByTestId('to-case-save').click();

      // The case page: lost at once, the survey on file, the trail begun.
      await page.waitForURL(/\/churn-cases\/\d+$/);
      await poll(async () => page.getByTestId('churn-case-state').textContent()).toBe('已流失');
      await expect(page.getByTestId('churn-survey').textContent()).resolves.toContain('站点位置');
      await expect(page.getByTestId('churn-survey').textContent()).resolves.toContain('新家附近没有我们的站');
      await expect(page.getByTestId('churn-case-head').textContent()).resolves.toContain('迁离本地');
      await page.locator('.ant-timeline strong', { hasText: '立案' }).waitFor();
      await noSidewaysScroll(page);
      await screenshot(page, dir, '03-case-phone');

      // Among the cases, and the alert now leads to it.
      await page.goto(`${base}/churn-cases`);
      await page.locator('[data-testid^="churn-case-"]').filter({ hasText: '冀A67890' }).first().waitFor();
      await noSidewaysScroll(page);
      await screenshot(page, dir, '04-cases-phone');
      await page.goto(`${base}/alerts`);
      await page.getByTestId('alerts-status').getByText('已处理').click();
      await page.getByTestId('alerts-scope').getByText('辖区全部').click();
      await page.locator('[data-testid^="alert-case-"]').filter({ hasText: '已流失' }).first().waitFor();
      await screenshot(page, dir, '05-alert-closed-phone');
      await context.close();

      const rows = await db.kysely.selectFrom('churn_case').select(['state', 'category', 'loss_kind_code']).execute();
      expect(rows).toEqual([{ state: 'lost', category: 'natural', loss_kind_code: 'moved_away' }]);
      const survey = await db.kysely
        .selectFrom('exit_survey')
        .select(['reason_code', 'free_text'])
        .executeTakeFirstOrThrow();
      expect(survey).toEqual({ reason_code: 'location', free_text: '新家附近没有我们的站' });
    },
    STEP_TIMEOUT,
  );

  it(
    'the branch sees the month’s loss rate on the dashboard and drills down to the case',
    async () => {
      const context = await browser.newContext(PHONE);
      const page: Page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT);
      await signIn(page, base, BRANCH_ADMIN, USER_PASSWORD);
      await page.goto(`${base}/dashboard?unit=${tree.branch1}&tab=churn`);
      await page.getByTestId('dash-churn-chart').waitFor();
      await expect(page.getByTestId('dash-loss-rate').textContent()).resolves.toContain('正常水平');
      await noSidewaysScroll(page);
      await screenshot(page, dir, '06-loss-rate-phone');
      // Down to the area, then to the customers it lost this month.
      await page.getByTestId('dash-churn-children').getByText('长安片区').click();
      await poll(async () => new URL(page.url()).searchParams.get('unit')).toBe(String(tree.area1));
      await page.getByTestId('dash-churn-cases').click();
      await page.waitForURL(/\/churn-cases\?/);
      await page.getByTestId('churn-drill').waitFor();
      await page.locator('[data-testid^="churn-case-"]').filter({ hasText: '冀A67890' }).first().waitFor();
      await screenshot(page, dir, '07-drill-cases-phone');
      await context.close();
    },
    STEP_TIMEOUT,
  );
}

describeBrowser('churn cases in the browser', churnFlow);
