// Ownership on a phone (390×844), once per engine: a station manager opens the coverage page of his
// station (figures, people against 1:15) and a customer's ownership card with its history; the
// attendant then claims a customer from the station's public pool and finds himself its owner.
// Screenshots go to e2e/artifacts/ownership-<engine>/.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import type { Db } from '../src/server/db/connection.js';
import { ADMIN_PASSWORD, call, ok, setupAdmin, type Session, type TestApp } from '../test/helpers/app.js';
import { buildTree, createUser, USER_PASSWORD, type Tree } from '../test/helpers/fixtures.js';
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

const MANAGER = 'zhanzhang.wang';
const ATTENDANT = 'jiayou.zhou';
const FORMER = 'jiayou.sun';
const PHONE = { viewport: { width: 390, height: 844 }, locale: 'zh-CN', isMobile: true, hasTouch: true };

const noSidewaysScroll = async (page: Page) =>
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

function ownershipFlow(engine: Engine) {
  let dir: string;
  let browser: Browser;
  let base: string;
  let app: TestApp;
  let db: Db;
  let tree: Tree;
  let stop: () => Promise<void>;
  let owned: number;
  let pooled: number;
  let attendantId: number;
  let admin: Session;

  beforeAll(async () => {
    dir = artifactsDir('ownership', engine);
    ({ app, base, browser, db, stop } = await startBrowserApp(engine));
    admin = await setupAdmin(app);
    tree = await buildTree(app, admin);
    const managerId = await createUser(app, admin, MANAGER, tree.station1, ['station_manager']);
    attendantId = await createUser(app, admin, ATTENDANT, tree.station1, ['attendant']);
    const formerId = await createUser(app, admin, FORMER, tree.station1, ['attendant']);
    const mk = async (name: string, plate: string, ownerUserId: number | null) =>
      (
        await ok<{ id: number }>(
          call(app, admin, 'POST', '/api/customers', {
            kind: 'individual',
            orgUnitId: tree.station1,
            name,
            vehicles: [{ plate }],
            ownerUserId,
          }),
          201,
        )
      ).id;
    owned = await mk('刘建国', '冀A11111', managerId);
    await mk('无人管', '冀A22222', null);
    pooled = await mk('孙海涛', '冀A33333', formerId);
    // The nightly pass found nobody followed him up: back to the station's pool.
    const at = new Date(Date.now() - 86_400_000).toISOString();
    await db.kysely
      .updateTable('customer')
      .set({
        owner_user_id: null,
        owner_since: null,
        pool_since: at,
        pool_reason: 'no_follow_up',
        pool_former_owner_id: formerId,
      })
      .where('id', '=', pooled)
      .execute();
    await db.kysely
      .insertInto('ownership_change')
      .values({
        customer_id: pooled,
        org_unit_id: tree.station1,
        from_user_id: formerId,
        to_user_id: null,
        how: 'pool_return',
        reason: 'no_follow_up',
        changed_by: null,
        at,
      })
      .execute();
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await stop?.();
  });

  it(
    'a station manager reads his coverage and a customer’s ownership card on a phone',
    async () => {
      const context = await browser.newContext(PHONE);
      const page: Page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT);
      await signIn(page, base, MANAGER, USER_PASSWORD);
      await page.goto(`${base}/ownership/coverage`);
      const figures = page.getByTestId('coverage-figures');
      await figures.waitFor();
      await expect(figures.textContent()).resolves.toContain('无人负责');
      await page.getByTestId(`coverage-person-${attendantId}`).getByText('低于 1:15').waitFor();
      await noSidewaysScroll(page);
      await screenshot(page, dir, '01-coverage-phone');

      await page.goto(`${base}/customers/${owned}`);
      const block = page.getByTestId('owner-block');
      await block.waitFor();
      await block
        .getByText('用户' + MANAGER)
        .first()
        .waitFor();
      await block.getByTestId('owner-history-manual').or(block.getByTestId('owner-history-created')).first().waitFor();
      await block.scrollIntoViewIfNeeded();
      await noSidewaysScroll(page);
      await screenshot(page, dir, '02-owner-block-phone');
      await context.close();
    },
    STEP_TIMEOUT,
  );

  it(
    'an attendant claims a customer from the pool on a phone',
    async () => {
      const context = await browser.newContext(PHONE);
      const page: Page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT);
      await signIn(page, base, ATTENDANT, USER_PASSWORD);
      await page.goto(`${base}/ownership/pool`);
      const card = page.getByTestId(`pool-${pooled}`);
      await card.waitFor();
      await expect(card.textContent()).resolves.toContain('负责人超期未跟进');
      await noSidewaysScroll(page);
      await screenshot(page, dir, '03-pool-phone');
      await page.getByTestId(`claim-${pooled}`).click();
      await page.getByText('已领取，客户由你负责').waitFor();
      await poll(async () => page.getByTestId(`pool-${pooled}`).count()).toBe(0);
      await screenshot(page, dir, '04-pool-after-claim-phone');
      await context.close();
      const row = await db.kysely
        .selectFrom('customer')
        .select(['owner_user_id', 'pool_since'])
        .where('id', '=', pooled)
        .executeTakeFirstOrThrow();
      expect(Number(row.owner_user_id)).toBe(attendantId);
      expect(row.pool_since).toBeNull();
      const how = await db.kysely
        .selectFrom('ownership_change')
        .select('how')
        .where('customer_id', '=', pooled)
        .orderBy('id')
        .execute();
      expect(how.map((h) => h.how)).toEqual(['created', 'pool_return', 'pool_claim']);
    },
    STEP_TIMEOUT,
  );

  it(
    'HQ edits the ownership policy in the settings (a number and the lists survive the save)',
    async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
      const page: Page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT);
      await signIn(page, base, 'admin', ADMIN_PASSWORD);
      await page.goto(`${base}/settings?tab=ownership`);
      const form = page.getByTestId('policy-form-ownership');
      await form.waitFor();
      const cap = form.getByLabel('每日领取上限');
      await cap.fill('3');
      await screenshot(page, dir, '05-settings-ownership');
      await page.getByTestId('policy-save-ownership').click();
      await page.getByText('已保存，新版本即时生效').waitFor();
      const saved = await ok<
        { kind: string; body: { claimDailyCap: number; maintenance: unknown[]; returnDays: unknown[] } }[]
      >(call(app, admin, 'GET', '/api/policies'));
      const own = saved.find((x) => x.kind === 'ownership')!.body;
      expect(own.claimDailyCap).toBe(3);
      expect(own.maintenance).toHaveLength(3);
      expect(own.returnDays).toHaveLength(4);
      await context.close();
    },
    STEP_TIMEOUT,
  );
}

describeBrowser('ownership in the browser', ownershipFlow);
