// The Content-Security-Policy the server sends is one the web UI lives within, once per engine:
// Chromium loads the login page, signs in, opens pages with tables, trees, forms, a dialog and
// ECharts charts, and the API viewer under /api/docs. Any CSP violation (the page's
// securitypolicyviolation event, or Chromium's own console report) fails; a script injected inline
// on purpose shows that a violation is caught. Screenshots go to e2e/artifacts/csp-<engine>/.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import { ADMIN_PASSWORD, call, ok, setupAdmin } from '../test/helpers/app.js';
import { buildTree, type Tree } from '../test/helpers/fixtures.js';
import { send, type Txn } from '../test/transactions/helpers.js';
import {
  artifactsDir,
  describeBrowser,
  screenshot,
  signIn,
  startBrowserApp,
  STEP_TIMEOUT,
  UI_TIMEOUT,
  type BrowserApp,
} from './browser.js';

/** YYYY-MM of the month `back` months before this one. */
function monthBack(back: number): string {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - back, 1)).toISOString().slice(0, 7);
}

/** A context whose pages report every CSP violation into `violations`, labelled with `where()`. */
async function watchedContext(
  started: BrowserApp,
  violations: string[],
  where: () => string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await started.browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN' });
  context.setDefaultTimeout(UI_TIMEOUT);
  // Registered before any page script runs, so nothing the bundle does escapes it.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(
        `CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`,
      );
    });
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && /CSP violation|Content Security Policy/i.test(m.text()))
      violations.push(`${where()}: ${m.text()}`);
  });
  return { context, page };
}

/** Waits until nothing is loading: no spinner, no request in flight. */
async function settle(page: Page): Promise<void> {
  await page.waitForLoadState('networkidle');
  await page
    .locator('.ant-spin-spinning, .ant-skeleton-active')
    .first()
    .waitFor({ state: 'detached', timeout: UI_TIMEOUT })
    .catch(() => undefined);
  await page.waitForTimeout(300);
}

function cspFlow(engine: Engine) {
  let started: BrowserApp;
  let dir: string;
  let tree: Tree;
  let customerId: number;
  const lastMonth = monthBack(1);

  beforeAll(async () => {
    dir = artifactsDir('csp', engine);
    started = await startBrowserApp(engine);
    const admin = await setupAdmin(started.app);
    tree = await buildTree(started.app, admin);
    customerId = (
      await ok<{ id: number }>(
        call(started.app, admin, 'POST', '/api/customers', {
          kind: 'individual',
          orgUnitId: tree.station1,
          name: '赵建国',
          vehicles: [{ plate: '冀A12345' }],
        }),
        201,
      )
    ).id;
    // Sales for the customer's chart and the dashboard's.
    const key = (
      await ok<{ key: string }>(
        call(started.app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.hq }),
        201,
      )
    ).key;
    const txns: Txn[] = [1, 2, 3, 6].flatMap((back, i) =>
      [3, 17].map((day) => ({
        externalId: `csp-${i}-${day}`,
        occurredAt: `${monthBack(back)}-${String(day).padStart(2, '0')}T03:00:00Z`,
        stationCode: 'B1-A1-S1',
        product: '0#柴油',
        plate: '冀A12345',
        volumeMl: 60_000,
        amountFen: 45_000,
      })),
    );
    await ok(send(started.app, key, { source: 'pos', transactions: txns }));
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await started?.stop();
  });

  it(
    'meets no CSP violation on the login page, the pages after sign-in and the API viewer',
    async () => {
      const violations: string[] = [];
      let where = 'login';
      const { context, page } = await watchedContext(started, violations, () => where);
      const first = await page.goto(`${started.base}/login`);
      expect(first?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
      await settle(page);
      await screenshot(page, dir, '01-login');
      await signIn(page, started.base, 'admin', ADMIN_PASSWORD);
      // The dashboard and the customer record draw ECharts charts (inline styles on their containers).
      const pages = [
        `/dashboard?unit=${tree.hq}&month=${lastMonth}`,
        `/customers/${customerId}`,
        '/customers',
        '/pump',
        '/users',
        '/imports',
        '/settings',
      ];
      for (const [i, path] of pages.entries()) {
        where = path;
        await page.goto(`${started.base}${path}`);
        await settle(page);
        if (i < 2) expect(await page.locator('canvas').count(), `${path} draws a chart`).toBeGreaterThan(0);
        await screenshot(page, dir, `${String(i + 2).padStart(2, '0')}${path.split('?')[0]!.replace(/\//g, '_')}`);
      }
      // A dialog: antd writes its styles at run time.
      where = '/org dialog';
      await page.goto(`${started.base}/org`);
      await page.getByTestId('org-node-HQ').click();
      await page.getByTestId('org-add-child').click();
      await page.getByRole('dialog').waitFor();
      await settle(page);
      await screenshot(page, dir, '20-org-dialog');
      // The API viewer, with one operation opened.
      where = '/api/docs';
      const docs = await page.goto(`${started.base}/api/docs/`);
      expect(docs?.status()).toBe(200);
      // The viewer parses the whole document (200 paths) before it draws; give it longer on a busy machine.
      await page.locator('.opblock-summary').first().waitFor({ timeout: 90_000 });
      await page.locator('.opblock-summary').first().click();
      await settle(page);
      await screenshot(page, dir, '21-api-docs');
      await context.close();
      expect(violations).toEqual([]);
    },
    STEP_TIMEOUT * 2,
  );

  it(
    'catches a violation when one happens',
    async () => {
      const violations: string[] = [];
      const { context, page } = await watchedContext(started, violations, () => 'injected');
      await page.goto(`${started.base}/login`);
      await settle(page);
      await page.evaluate(() => {
        const s = document.createElement('script');
        s.textContent = 'window.injected = true';
        document.head.appendChild(s);
      });
      await expect.poll(() => violations.length, { timeout: UI_TIMEOUT }).toBeGreaterThan(0);
      expect(await page.evaluate(() => (window as { injected?: boolean }).injected)).toBeUndefined();
      expect(violations.join('\n')).toMatch(/script-src/);
      await context.close();
    },
    STEP_TIMEOUT,
  );
}

describeBrowser('the web UI within its Content-Security-Policy', cspFlow);
