// The alert queue on a phone (390×844), once per engine: a station manager sees why his customer
// was flagged, in Chinese, and closes the alert with the three answers. Screenshots go to
// e2e/artifacts/alerts-<engine>/.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import { call, ok, setupAdmin, type TestApp } from '../test/helpers/app.js';
import { buildTree, createUser, USER_PASSWORD } from '../test/helpers/fixtures.js';
import { send } from '../test/transactions/helpers.js';
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

function alertsFlow(engine: Engine) {
  let dir: string;
  let browser: Browser;
  let base: string;
  let app: TestApp;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    dir = artifactsDir('alerts', engine);
    const started = await startBrowserApp(engine);
    ({ app, base, browser, stop } = started);
    const admin = await setupAdmin(app);
    const tree = await buildTree(app, admin);
    await createUser(app, admin, MANAGER, tree.station1, ['station_manager']);
    const key = (
      await ok<{ key: string }>(call(app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.hq }), 201)
    ).key;
    await ok(
      call(app, admin, 'POST', '/api/customers', {
        kind: 'individual',
        orgUnitId: tree.station1,
        name: '赵建国',
        vehicles: [{ plate: '冀A12345' }],
        // Nobody's yet: his alert goes to the station's manager.
        ownerUserId: null,
      }),
      201,
    );
    // Every other day for three weeks, then nothing: long overdue by now.
    const start = Date.UTC(2026, 9, 1, 2);
    const rows = Array.from({ length: 10 }, (_, i) => ({
      externalId: `z${i}`,
      occurredAt: new Date(start + i * 2 * 86_400_000).toISOString(),
      stationCode: 'B1-A1-S1',
      plate: '冀A12345',
      product: '0#柴油',
      volumeMl: 200_000,
      amountFen: 156_000,
    }));
    await ok(send(app, key, { source: 'pos', transactions: rows }));
    await ok(call(app, admin, 'POST', '/api/alerts/run', {}));
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await stop?.();
  });

  it(
    'shows the overdue customer and closes the alert on a phone',
    async () => {
      const context = await browser.newContext({
        viewport: { width: 390, height: 844 },
        locale: 'zh-CN',
        isMobile: true,
        hasTouch: true,
      });
      const page: Page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT);
      await signIn(page, base, MANAGER, USER_PASSWORD);
      await page.goto(`${base}/alerts`);
      const card = page.locator('[data-testid^="alert-"]').filter({ hasText: '超期未到站' }).first();
      await card.waitFor();
      await expect(card.textContent()).resolves.toContain('冀A12345');
      await expect(card.textContent()).resolves.toContain('平均每 2 天来一次');
      // Nothing spills sideways on a 390 px screen.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await screenshot(page, dir, '01-queue-phone');

      await card.getByRole('button', { name: /处理并关闭/ }).click();
      await page.getByTestId('alert-contact').fill('已电话联系本人');
      await page.getByTestId('alert-reason').fill('换了跑的线路');
      await screenshot(page, dir, '02-close-form-phone');
      await page.getByRole('button', { name: /确\s*定|确认/ }).click();
      // The third answer is missing: the form says so and the alert stays open.
      await page.getByText('请填写此项').first().waitFor();
      await expect(page.locator('[data-testid^="alert-"]').filter({ hasText: '超期未到站' }).count()).resolves.toBe(1);
      await page.getByTestId('alert-action').fill('介绍新线路上的本公司站点');
      await page.getByRole('button', { name: /确\s*定|确认/ }).click();
      await poll(async () => page.locator('[data-testid^="alert-"]').filter({ hasText: '超期未到站' }).count()).toBe(0);
      await page.getByText('已处理').click();
      await page.locator('[data-testid^="alert-"]').filter({ hasText: '换了跑的线路' }).first().waitFor();
      await screenshot(page, dir, '03-closed-phone');
      await context.close();
    },
    STEP_TIMEOUT,
  );
}

describeBrowser('alert queue in the browser', alertsFlow);
