// At the pump on a phone (390×844), once per engine: an attendant types the last three characters
// of a plate, sees the customer's greeting, and records a fill-up in two taps; an unknown plate
// becomes a step-1 record. Then the archive pages on a desktop: list, detail, the duplicate
// warning on create, and the duplicate review. Screenshots go to e2e/artifacts/pump-<engine>/.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
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

const ATTENDANT = 'attendant.li';
const ZHAO = { plate: '冀A12345', name: '赵建国' };

interface Detail {
  id: number;
  visits: { product: string | null; volumeLitres: number | null; plate: string | null }[];
}

function pumpFlow(engine: Engine) {
  let dir: string;
  let browser: Browser;
  let base: string;
  let app: TestApp;
  let stop: () => Promise<void>;
  let admin: Session;
  let tree: Tree;
  let zhaoId: number;

  const customer = (id: number) => ok<Detail>(call(app, admin, 'GET', `/api/customers/${id}`));
  const create = async (body: Record<string, unknown>) =>
    (await ok<{ id: number }>(call(app, admin, 'POST', '/api/customers', { confirmDuplicate: true, ...body }), 201)).id;

  beforeAll(async () => {
    dir = artifactsDir('pump', engine);
    const started = await startBrowserApp(engine);
    ({ app, base, browser, stop } = started);
    admin = await setupAdmin(app);
    tree = await buildTree(app, admin);
    await createUser(app, admin, ATTENDANT, tree.station1, ['attendant']);
    zhaoId = await create({
      kind: 'individual',
      orgUnitId: tree.station1,
      name: ZHAO.name,
      gender: 'male',
      notes: '跑石家庄—太原线，常加 0# 柴油',
      lookAfter: true,
      tags: ['货车'],
      vehicles: [{ plate: ZHAO.plate, model: '解放 J6P' }],
    });
    // Plates that also hold "345", but not at the end: they rank below the customer whose plate ends with it.
    await create({ kind: 'individual', orgUnitId: tree.station1, name: '钱多多', vehicles: [{ plate: '冀A34599' }] });
    await create({ kind: 'individual', orgUnitId: tree.station1, vehicles: [{ plate: '冀A03451' }] });
    // Another area's customer with the same ending: the attendant must not see him.
    await create({ kind: 'individual', orgUnitId: tree.station3, name: '孙悟空', vehicles: [{ plate: '冀F88345' }] });
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await stop?.();
  });

  it(
    'finds the customer by the last three characters, greets him and records a fill-up in two taps',
    async () => {
      const context = await browser.newContext({
        viewport: { width: 390, height: 844 },
        locale: 'zh-CN',
        isMobile: true,
        hasTouch: true,
      });
      context.setDefaultTimeout(UI_TIMEOUT);
      const page = await context.newPage();
      page.on('pageerror', (err) => console.error(`[e2e ${engine}] page error:`, err.message));
      await signIn(page, base, ATTENDANT, USER_PASSWORD);
      await page.goto(`${base}/pump`);
      await screenshot(page, dir, '01-pump-empty');

      const started = Date.now();
      await page.getByTestId('pump-input').fill('345');
      const first = page.getByTestId('pump-results').locator('.fc-pump-card').first();
      await poll(() => first.getByTestId('pump-greeting').innerText()).toBe('赵师傅');
      const foundMs = Date.now() - started;
      await poll(() => first.innerText()).toContain(ZHAO.plate);
      await poll(() => first.getByTestId('pump-look-after').count()).toBe(1);
      // The other area's 冀F88345 is not shown; the two in-scope plates holding 345 are, below him.
      await poll(() => page.getByTestId('pump-results').locator('.fc-pump-card').count()).toBe(3);
      expect(await page.getByTestId('pump-match-冀F88345').count()).toBe(0);
      await screenshot(page, dir, '02-pump-found');
      console.log(`[e2e ${engine}] "345" → greeting shown in ${foundMs} ms`);

      await first.getByTestId('pump-product-0#柴油').click();
      await screenshot(page, dir, '03-pump-product');
      await first.getByTestId('pump-volume-50').click();
      await poll(() => page.locator('.ant-message').innerText()).toContain('已记录');
      await screenshot(page, dir, '04-pump-recorded');
      await poll(async () => (await customer(zhaoId)).visits.map((v) => [v.product, v.volumeLitres, v.plate])).toEqual([
        ['0#柴油', 50, ZHAO.plate],
      ]);
      // The input is cleared and ready for the next car.
      expect(await page.getByTestId('pump-input').inputValue()).toBe('');

      // An unknown plate becomes a step-1 record (plate and model only).
      await page.getByTestId('pump-input').fill('冀a 67890');
      const fresh = page.getByTestId('pump-new-plate');
      await fresh.waitFor({ state: 'visible' });
      await fresh.getByTestId('pump-new-model').fill('大众朗逸');
      await fresh.getByTestId('pump-product-92#').click();
      await screenshot(page, dir, '05-pump-new-plate');
      await fresh.getByTestId('pump-volume-30').click();
      await poll(() => page.locator('.ant-message').innerText()).toContain('冀A67890');
      const found = await ok<{ items: { id: number; profileStep: number; orgUnitId: number }[] }>(
        call(app, admin, 'GET', `/api/customers?plate=${encodeURIComponent('冀A67890')}`),
      );
      expect(found.items).toHaveLength(1);
      expect(found.items[0]!.profileStep).toBe(1);
      expect(found.items[0]!.orgUnitId).toBe(tree.station1);
      expect((await customer(found.items[0]!.id)).visits.map((v) => [v.product, v.volumeLitres])).toEqual([
        ['92#', 30],
      ]);

      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await context.close();
    },
    STEP_TIMEOUT,
  );

  it(
    'shows the archive: list, detail with profile steps, a duplicate warning on create, the duplicate review',
    async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN' });
      context.setDefaultTimeout(UI_TIMEOUT);
      const page = await context.newPage();
      page.on('pageerror', (err) => console.error(`[e2e ${engine}] page error:`, err.message));
      await signIn(page, base, 'admin', ADMIN_PASSWORD);
      await page.getByRole('menuitem', { name: '客户档案' }).click();
      await page.waitForURL('**/customers');
      const table = page.getByTestId('customers-table');
      await table.getByRole('row', { name: new RegExp(ZHAO.plate) }).waitFor({ state: 'visible' });
      await screenshot(page, dir, '06-customers-list');

      await page.getByTestId('customers-search').locator('input').fill('345');
      await page.getByTestId('customers-search').locator('input').press('Enter');
      await poll(() => table.locator('tbody tr.ant-table-row').count()).toBe(4);

      await table.getByRole('link', { name: ZHAO.name }).click();
      await page.waitForURL(`**/customers/${zhaoId}`);
      await poll(() => page.getByTestId('customer-greeting').innerText()).toBe('赵师傅');
      await poll(() => page.getByTestId('customer-visits').innerText()).toContain('0#柴油');
      await screenshot(page, dir, '07-customer-detail');

      // Creating a customer with his plate (written the messy way) warns and links to him.
      await page.goto(`${base}/customers`);
      await page.getByTestId('customer-create').click();
      const form = page.getByTestId('customer-form');
      await form.getByTestId('customer-name').fill('赵国');
      await page.getByTestId('customer-add-vehicle').click();
      await form.getByTestId('customer-plate-0').fill('冀ａ·12345');
      await page.getByTestId('customer-save').click();
      const warning = page.getByTestId('customer-duplicates');
      await poll(() => warning.innerText()).toContain(ZHAO.plate);
      await poll(() => warning.getByRole('link').first().getAttribute('href')).toBe(`/customers/${zhaoId}`);
      await screenshot(page, dir, '08-customer-duplicate-warning');
      await page.getByTestId('customer-create-anyway').click();
      await page.waitForURL(/\/customers\/\d+$/);
      const twinId = Number(new URL(page.url()).pathname.split('/').pop());
      expect(twinId).not.toBe(zhaoId);

      await page.getByRole('menuitem', { name: '疑似重复' }).click();
      await page.waitForURL('**/duplicates');
      await poll(() => page.getByTestId('duplicates').innerText()).toContain(ZHAO.plate);
      await screenshot(page, dir, '09-duplicates');
      await page.getByTestId(`dup-merge-${ZHAO.plate}`).click();
      await page
        .getByRole('dialog')
        .getByRole('button', { name: /确\s*定/ })
        .click();
      await poll(() => page.locator('.ant-message').innerText()).toContain('已合并');
      await poll(
        async () =>
          (await ok<{ mergedIntoId: number | null }>(call(app, admin, 'GET', `/api/customers/${twinId}`))).mergedIntoId,
      ).toBe(zhaoId);

      await page.goto(`${base}/customers/${zhaoId}`);
      await page.locator('[data-testid^="merge-undo-"]').first().waitFor({ state: 'visible' });
      await screenshot(page, dir, '10-customer-merged');
      await context.close();
    },
    STEP_TIMEOUT,
  );
}

describeBrowser('pump mode and archive in the browser', pumpFlow);
