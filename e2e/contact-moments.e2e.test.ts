// Must-contact moments in the browser, once per engine: HQ marketing reads the business calendar (the
// Spring Festival off, Saturday 14 February 2026 a make-up working day) and enters a price change on a
// desktop; the owner of a customer who bought that product finds the contact task in his list on a
// phone (390×844), opens it from there and records that he reached the customer by WeChat.
// Screenshots go to e2e/artifacts/contact-moments-<engine>/.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import type { Db } from '../src/server/db/connection.js';
import { setupAdmin, type TestApp } from '../test/helpers/app.js';
import { buildTree, createUser, USER_PASSWORD, type Tree } from '../test/helpers/fixtures.js';
import { runJob } from '../src/server/jobs/job-runner.js';
import { contactMomentsJob } from '../src/server/modules/contact-moments/contact-moments.job.js';
import {
  artifactsDir,
  describeBrowser,
  pickOpenOption,
  poll,
  screenshot,
  signIn,
  startBrowserApp,
  STEP_TIMEOUT,
  UI_TIMEOUT,
} from './browser.js';

const HQ = 'yingxiao.wang';
const REP = 'daibiao.chen';
const PHONE = { viewport: { width: 390, height: 844 }, locale: 'zh-CN', isMobile: true, hasTouch: true };
const DESKTOP = { viewport: { width: 1280, height: 900 }, locale: 'zh-CN' };

function flow(engine: Engine) {
  let dir: string;
  let browser: Browser;
  let base: string;
  let app: TestApp;
  let db: Db;
  let tree: Tree;
  let stop: () => Promise<void>;
  let repId: number;

  beforeAll(async () => {
    dir = artifactsDir('contact-moments', engine);
    ({ app, base, browser, db, stop } = await startBrowserApp(engine));
    const admin = await setupAdmin(app);
    tree = await buildTree(app, admin);
    await createUser(app, admin, HQ, tree.hq, ['hq_marketing']);
    repId = await createUser(app, admin, REP, tree.area1, ['sales_rep']);
    const at = new Date().toISOString();
    const c = await db.kysely
      .insertInto('customer')
      .values({
        org_unit_id: tree.station1,
        code: 'E1',
        kind: 'individual',
        name: '孙建国',
        owner_user_id: repId,
        created_at: at,
        updated_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const month = at.slice(0, 7);
    await db.kysely
      .insertInto('customer_month')
      .values({ customer_id: c.id, month, product: '0#柴油', volume_ml: 200_000, amount_fen: 150_000, txn_count: 3 })
      .execute();
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await stop?.();
  });

  it(
    'HQ reads the calendar and enters a price change; the owner records the contact on a phone',
    async () => {
      const desk = await browser.newContext(DESKTOP);
      const page: Page = await desk.newPage();
      page.setDefaultTimeout(UI_TIMEOUT);
      await signIn(page, base, HQ, USER_PASSWORD);
      await page.goto(`${base}/calendar`);
      await page.getByTestId('calendar-year').click();
      await pickOpenOption(page, '2026');
      const makeUp = page.getByTestId('day-2026-02-14');
      await makeUp.waitFor();
      expect(await makeUp.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(22, 119, 255)');
      expect(await page.getByTestId('day-2026-02-17').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(
        'rgb(255, 77, 79)',
      );
      await screenshot(page, dir, '01-calendar-desktop');
      await makeUp.click();
      await page.getByRole('dialog').getByText('国家法定').waitFor();
      await screenshot(page, dir, '02-calendar-day-desktop');
      await page.keyboard.press('Escape');

      await page.goto(`${base}/contact-moments`);
      await page.getByTestId('price-new').click();
      const dialog = page.getByRole('dialog');
      await page.getByTestId('price-product').fill('0#柴油');
      await dialog.getByLabel('原价').fill('7.45');
      await dialog.getByLabel('新价').fill('7.60');
      const tomorrow = new Date(Date.now() + 86_400_000 + 8 * 3_600_000).toISOString().slice(0, 10);
      await dialog.getByLabel('生效时间').fill(`${tomorrow} 00:00`);
      await dialog.getByLabel('生效时间').press('Enter');
      await screenshot(page, dir, '03-price-change-form-desktop');
      await dialog
        .getByRole('button', { name: '保 存' })
        .or(dialog.getByRole('button', { name: '保存' }))
        .click();
      await page.getByText('7.45 → 7.60').first().waitFor();
      await screenshot(page, dir, '04-price-changes-desktop');
      await desk.close();

      // The hourly job makes the task: the change takes effect tomorrow, one day of lead.
      const now = new Date();
      const r = await runJob(db.kysely, contactMomentsJob, contactMomentsJob.periodOf(now, 'UTC'), {
        now,
        force: true,
      });
      expect(r.status).toBe('done');

      const phone = await browser.newContext(PHONE);
      const p: Page = await phone.newPage();
      p.setDefaultTimeout(UI_TIMEOUT);
      await signIn(p, base, REP, USER_PASSWORD);
      await p.goto(`${base}/contact-tasks`);
      const card = p.locator('[data-testid^="contact-task-"]').filter({ hasText: '孙建国' }).first();
      await card.waitFor();
      expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await screenshot(p, dir, '05-tasks-phone');
      await card.click();
      await p.waitForURL(/\/contact-tasks\/\d+$/);
      await p.getByTestId('contact-outcome').getByText('微信').click();
      await p.getByPlaceholder('客户怎么说，约定了什么').fill('已告知明天调价，今天来加满');
      await screenshot(p, dir, '06-task-phone');
      await p.getByTestId('contact-complete').click();
      await poll(async () => (await p.getByText('已告知明天调价，今天来加满').count()) > 0).toBe(true);
      expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await screenshot(p, dir, '07-task-done-phone');
      await phone.close();
    },
    STEP_TIMEOUT * 3,
  );
}

describeBrowser('contact moments in the browser', flow);
