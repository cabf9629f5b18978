// A customer's purchases in a real browser, once per engine: two years of card transactions sent by
// a POS system through the ingest API, then the customer record shows the monthly volume chart (this
// year beside last year), the year's totals and the transaction list, on a desktop and on a phone.
// Screenshots go to e2e/artifacts/purchases-<engine>/.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import { ADMIN_PASSWORD, call, ok, setupAdmin, type Session, type TestApp } from '../test/helpers/app.js';
import { buildTree } from '../test/helpers/fixtures.js';
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

function purchasesFlow(engine: Engine) {
  let dir: string;
  let browser: Browser;
  let page: Page;
  let base: string;
  let app: TestApp;
  let stop: () => Promise<void>;
  let admin: Session;
  let customerId: number;
  let thisYearLitres = 0;

  beforeAll(async () => {
    dir = artifactsDir('purchases', engine);
    const started = await startBrowserApp(engine);
    ({ app, base, browser, stop } = started);
    admin = await setupAdmin(app);
    const tree = await buildTree(app, admin);
    customerId = (
      await ok<{ id: number }>(
        call(app, admin, 'POST', '/api/customers', {
          kind: 'individual',
          name: '赵建国',
          cards: ['9000000001'],
          vehicles: [{ plate: '冀A12345' }],
          orgUnitId: tree.station1,
        }),
        201,
      )
    ).id;
    const key = (
      await ok<{ key: string }>(
        call(app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.branch1 }),
        201,
      )
    ).key;
    // Twice a week for two years up to last month, more diesel this year than last.
    const now = new Date();
    const year = now.getUTCFullYear();
    const transactions = [];
    for (let m = 0; m < 24; m++) {
      const d = new Date(Date.UTC(year - 1, now.getUTCMonth() - 12 + m, 1));
      if (d >= new Date(Date.UTC(year, now.getUTCMonth(), 1))) break;
      for (const day of [3, 10, 17, 24]) {
        const litres = d.getUTCFullYear() === year ? 150 : 100;
        if (d.getUTCFullYear() === year) thisYearLitres += litres;
        const at = `${d.toISOString().slice(0, 8)}${String(day).padStart(2, '0')}T08:30:00+08:00`;
        transactions.push({
          externalId: `${d.toISOString().slice(0, 7)}-${day}`,
          occurredAt: at,
          stationCode: 'B1-A1-S1',
          cardNo: '9000000001',
          product: '0#柴油',
          volumeLitres: litres,
          amountFen: litres * 720,
        });
      }
    }
    const sent = await app.inject({
      method: 'POST',
      url: '/api/ingest/transactions',
      headers: { authorization: `Bearer ${key}` },
      payload: { source: 'pos', transactions },
    });
    expect(sent.statusCode, sent.body).toBe(200);
    expect(sent.json()).toMatchObject({ inserted: transactions.length, attached: transactions.length, rejected: 0 });

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    context.setDefaultTimeout(UI_TIMEOUT);
    page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[e2e ${engine}] page error:`, err.message));
    await signIn(page, base, 'admin', ADMIN_PASSWORD);
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await stop?.();
  });

  it(
    'shows the monthly volume chart, the year totals and the transactions',
    async () => {
      await page.goto(`${base}/customers/${customerId}`);
      const panel = page.getByTestId('customer-purchases');
      await poll(() => panel.innerText()).toContain('月购油分析');
      // ECharts draws into a canvas inside the chart's box.
      await poll(() => page.getByTestId('customer-volume-chart').locator('canvas').count()).toBeGreaterThan(0);
      if (thisYearLitres > 0) await poll(() => panel.innerText()).toContain(thisYearLitres.toLocaleString('en-US'));
      await panel.scrollIntoViewIfNeeded();
      await screenshot(page, dir, '01-purchases-chart');
      await panel.getByRole('tab', { name: '交易明细' }).click();
      await poll(() => panel.innerText()).toContain('9000000001');
      await screenshot(page, dir, '02-purchases-transactions');
    },
    STEP_TIMEOUT,
  );

  it(
    'fits a phone',
    async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${base}/customers/${customerId}`);
      await poll(() => page.getByTestId('customer-volume-chart').locator('canvas').count()).toBeGreaterThan(0);
      await page.getByTestId('customer-purchases').scrollIntoViewIfNeeded();
      // Nothing wider than the screen.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await screenshot(page, dir, '03-purchases-phone');
    },
    STEP_TIMEOUT,
  );
}

describeBrowser('customer purchases in the browser', purchasesFlow);
