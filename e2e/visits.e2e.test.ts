// Visits in the browser, once per engine: a representative makes his month's plan on a desktop and
// adds a visit, his manager one level up approves it, the reminder job puts the visit in his inbox
// (the API and the /work page), he records the visit on a phone (390×844) from the inbox, and the
// weekly summary lists it. Screenshots go to e2e/artifacts/visits-<engine>/.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import dayjs from 'dayjs';
import type { Engine } from '../src/server/db/dialect.js';
import type { Db } from '../src/server/db/connection.js';
import { call, login, ok, setupAdmin, type TestApp } from '../test/helpers/app.js';
import { buildTree, createUser, USER_PASSWORD, type Tree } from '../test/helpers/fixtures.js';
import { runJob } from '../src/server/jobs/job-runner.js';
import { visitRemindersJob } from '../src/server/modules/visits/visits.job.js';
import { weekStart } from '../src/domain/visit-plan.js';
import { businessDay } from '../src/domain/business-day.js';
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

const REP = 'xiaoshou.wang';
const MANAGER = 'jingli.zhang';
const DESKTOP = { viewport: { width: 1280, height: 860 }, locale: 'zh-CN' };
const PHONE = { viewport: { width: 390, height: 844 }, locale: 'zh-CN', isMobile: true, hasTouch: true };

const noSidewaysScroll = async (page: Page) =>
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

function visitsFlow(engine: Engine) {
  let dir: string;
  let browser: Browser;
  let base: string;
  let app: TestApp;
  let db: Db;
  let tree: Tree;
  let stop: () => Promise<void>;
  let repId = 0;
  let customerId = 0;
  let plannedVisitId = 0;

  beforeAll(async () => {
    dir = artifactsDir('visits', engine);
    const started = await startBrowserApp(engine);
    ({ app, base, browser, db, stop } = started);
    const admin = await setupAdmin(app);
    tree = await buildTree(app, admin);
    repId = await createUser(app, admin, REP, tree.area1, ['sales_rep']);
    await createUser(app, admin, MANAGER, tree.branch1, ['branch_manager']);
    customerId = (
      await ok<{ id: number }>(
        call(app, admin, 'POST', '/api/customers', {
          kind: 'organisation',
          orgUnitId: tree.station1,
          name: '鑫达物流',
          vehicles: [{ plate: '冀A55667' }],
        }),
        201,
      )
    ).id;
    await db.kysely.updateTable('customer').set({ owner_user_id: repId }).where('id', '=', customerId).execute();
    // A year of diesel, so the screen before the visit has a chart.
    for (let i = 1; i <= 6; i++)
      await db.kysely
        .insertInto('customer_month')
        .values({
          customer_id: customerId,
          month: dayjs().subtract(i, 'month').format('YYYY-MM'),
          product: '0#柴油',
          volume_ml: (4000 - i * 300) * 1000,
          amount_fen: (4000 - i * 300) * 780,
          txn_count: 8,
        })
        .execute();
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await stop?.();
  });

  it(
    'a representative plans a visit on a desktop and his manager one level up approves the plan',
    async () => {
      const context = await browser.newContext(DESKTOP);
      const page: Page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT);
      await signIn(page, base, REP, USER_PASSWORD);
      await page.goto(`${base}/visits?tab=plan`);
      await page.getByTestId('make-plan').click();
      await page.getByTestId('plan-view').waitFor();
      await page.getByTestId('plan-add-visit').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByTestId('visit-customer-pick').click();
      await page.keyboard.type('鑫达');
      await page
        .locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden)')
        .getByText('鑫达物流', { exact: false })
        .first()
        .click();
      await dialog.getByRole('button', { name: /确\s*定|OK/ }).click();
      await page.locator('[data-testid^="plan-visit-"]').filter({ hasText: '鑫达物流' }).waitFor();
      await screenshot(page, dir, '01-plan-desktop');
      await page.getByTestId('plan-submit').click();
      await page.locator('.ant-tag', { hasText: '待审批' }).first().waitFor();
      const plan = await db.kysely
        .selectFrom('visit_plan')
        .select(['id', 'state'])
        .where('owner_user_id', '=', repId)
        .executeTakeFirstOrThrow();
      expect(plan.state).toBe('submitted');
      plannedVisitId = Number(
        (
          await db.kysely
            .selectFrom('planned_visit')
            .select('id')
            .where('plan_id', '=', plan.id)
            .executeTakeFirstOrThrow()
        ).id,
      );
      await context.close();

      const mgrContext = await browser.newContext(DESKTOP);
      const mgr = await mgrContext.newPage();
      mgr.setDefaultTimeout(UI_TIMEOUT);
      await signIn(mgr, base, MANAGER, USER_PASSWORD);
      await mgr.goto(`${base}/visits/plans/${plan.id}`);
      await mgr.getByTestId('plan-approve').click();
      await mgr
        .getByRole('dialog')
        .getByRole('button', { name: /确\s*定|OK/ })
        .click();
      await mgr.locator('.ant-tag', { hasText: '已批准' }).first().waitFor();
      await screenshot(mgr, dir, '02-plan-approved-desktop');
      await mgrContext.close();
    },
    STEP_TIMEOUT,
  );

  it(
    'the reminder puts the visit in his inbox; he records it on a phone; the weekly summary lists it',
    async () => {
      // The reminder job at this quarter hour: the appointment reminder of a visit this week is due.
      const out = await runJob(db.kysely, visitRemindersJob, visitRemindersJob.periodOf(new Date(), 'Asia/Shanghai'), {
        now: new Date(Date.now() + 7 * 86_400_000),
        force: true,
      });
      expect(out.status).toBe('done');
      const session = await login(app, REP, USER_PASSWORD);
      const inbox = await ok<{ items: { kind: string; recordId: number; subject: string }[] }>(
        call(app, session, 'GET', '/api/work/inbox?kind=visit'),
      );
      expect(inbox.items.map((i) => i.recordId)).toContain(plannedVisitId);

      const context = await browser.newContext(PHONE);
      const page: Page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT);
      await signIn(page, base, REP, USER_PASSWORD);
      await page.goto(`${base}/work`);
      const item = page.getByTestId(`work-item-visit-${plannedVisitId}`);
      await item.waitFor();
      await expect(item.textContent()).resolves.toContain('鑫达物流');
      await screenshot(page, dir, '03-inbox-phone');
      await item.getByRole('link').first().click();
      await page.waitForURL(new RegExp(`/visits/${plannedVisitId}$`));
      await page.getByTestId('visit-overview').waitFor();
      await noSidewaysScroll(page);
      await screenshot(page, dir, '04-before-visit-phone');
      // Under a minute: one comparison changed, one line of what competitors do better, one follow-up.
      await page.getByTestId('aspect-price').getByText('差于').click();
      await page.getByTestId('record-competitors').fill('民营站每吨便宜 50 元，送油上门');
      await page.getByTestId('add-follow-up').click();
      await page.getByTestId('follow-up-0').fill('报送团购价');
      await screenshot(page, dir, '05-record-form-phone');
      await page.getByTestId('record-save').click();
      await page.waitForURL(/\/visits\/records\/\d+$/);
      await page.getByTestId('visit-record').waitFor();
      await expect(page.getByTestId('visit-record').textContent()).resolves.toContain('民营站每吨便宜 50 元');
      await noSidewaysScroll(page);
      await screenshot(page, dir, '06-record-phone');
      await context.close();
      const pv = await db.kysely
        .selectFrom('planned_visit')
        .select('state')
        .where('id', '=', plannedVisitId)
        .executeTakeFirstOrThrow();
      expect(pv.state).toBe('done');

      const mgrContext = await browser.newContext(DESKTOP);
      const mgr = await mgrContext.newPage();
      mgr.setDefaultTimeout(UI_TIMEOUT);
      await signIn(mgr, base, MANAGER, USER_PASSWORD);
      // The week of the record on the station's calendar (Beijing time).
      const monday = weekStart(businessDay(Date.now(), 'Asia/Shanghai'));
      await mgr.goto(`${base}/visits/summary?unit=${tree.branch1}&week=${monday}`);
      await mgr.getByTestId('summary-people').waitFor();
      await poll(async () => mgr.getByTestId('summary-people').textContent()).toContain(`用户${REP}`);
      await screenshot(mgr, dir, '07-summary-desktop');
      await mgrContext.close();
    },
    STEP_TIMEOUT,
  );
}

describeBrowser('visits in the browser', visitsFlow);
