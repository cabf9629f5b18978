// Webhooks in the browser, once per engine: the administrator subscribes a receiver on the API-keys page
// (the secret shown once), a new customer's delivery fails against a receiver that answers 500, the
// delivery log shows it with the answer and its next try (no "send again" while it is still being
// retried). Desktop and phone.
// Screenshots go to e2e/artifacts/webhooks-<engine>/.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import { ADMIN_PASSWORD, call, ok, setupAdmin, type Session, type TestApp } from '../test/helpers/app.js';
import { buildTree, type Tree } from '../test/helpers/fixtures.js';
import { WebhookDispatcher } from '../src/server/modules/webhooks/webhook-dispatcher.js';
import type { Db } from '../src/server/db/connection.js';
import {
  artifactsDir,
  describeBrowser,
  screenshot,
  signIn,
  startBrowserApp,
  STEP_TIMEOUT,
  UI_TIMEOUT,
} from './browser.js';

function webhooksFlow(engine: Engine) {
  let dir: string;
  let browser: Browser;
  let base: string;
  let app: TestApp;
  let db: Db;
  let admin: Session;
  let tree: Tree;
  let stop: () => Promise<void>;
  let receiver: http.Server;
  let receiverUrl: string;

  beforeAll(async () => {
    dir = artifactsDir('webhooks', engine);
    ({ app, base, browser, stop, db } = await startBrowserApp(engine));
    admin = await setupAdmin(app);
    tree = await buildTree(app, admin);
    receiver = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(500);
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  }, STEP_TIMEOUT);

  afterAll(async () => {
    receiver?.closeAllConnections();
    receiver?.close();
    await stop?.();
  });

  it(
    'subscribes a receiver, shows a failed delivery in the log and sends it again',
    async () => {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
      const page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT);
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await signIn(page, base, 'admin', ADMIN_PASSWORD);
      await page.goto(`${base}/api-keys`);
      await page.getByTestId('webhook-create').click();
      const dialog = page.locator('.ant-modal').filter({ hasText: '新建订阅' });
      await dialog.getByLabel('名称').fill('会员系统');
      await dialog.getByLabel('接收地址').fill(receiverUrl);
      await dialog.getByLabel('合并客户').check();
      await dialog.locator('.ant-select').click();
      await page.locator('.ant-select-tree-title', { hasText: '石家庄分公司' }).first().click();
      await dialog.getByRole('button', { name: /确\s*定/ }).click();
      const secret = page.getByTestId('webhook-secret');
      await secret.waitFor();
      expect(await secret.innerText()).toMatch(/^whsec_/);
      await screenshot(page, dir, '01-secret-once');
      await page
        .locator('.ant-modal')
        .filter({ has: secret })
        .getByRole('button', { name: /关\s*闭/ })
        .last()
        .click();

      await ok(
        call(app, admin, 'POST', '/api/customers', { kind: 'individual', name: '卫师傅', orgUnitId: tree.station1 }),
        201,
      );
      expect(await new WebhookDispatcher(db.kysely, { timeoutMs: 2_000 }).runOnce()).toMatchObject({ failed: 1 });
      await page.reload();
      const row = page.locator('tr', { hasText: '会员系统' });
      await row.getByText('失败 0').waitFor();
      await row.getByRole('button', { name: '推送记录' }).click();
      const drawer = page.locator('.ant-drawer');
      await drawer.getByText('HTTP 500').waitFor();
      await drawer.getByText('新建客户').waitFor();
      await screenshot(page, dir, '02-log-desktop');
      expect(await drawer.getByRole('button', { name: '重新推送' }).count()).toBe(0);
      await context.close();

      // The same page on a phone: the tables scroll inside their cards, the page does not.
      const phone = await browser.newContext({
        viewport: { width: 390, height: 844 },
        locale: 'zh-CN',
        isMobile: true,
        hasTouch: true,
      });
      const p2 = await phone.newPage();
      p2.setDefaultTimeout(UI_TIMEOUT);
      p2.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await signIn(p2, base, 'admin', ADMIN_PASSWORD);
      await p2.goto(`${base}/api-keys`);
      await p2.getByText('会员系统').first().waitFor();
      expect(await p2.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await screenshot(p2, dir, '03-phone');
      await phone.close();
      expect(errors).toEqual([]);
    },
    STEP_TIMEOUT,
  );
}

describeBrowser('webhooks', webhooksFlow);
