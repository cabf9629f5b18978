// The import center in a real browser, once per engine: upload an old archive with Chinese
// headers, check the recognised columns, dry-run, download the error report, commit and watch the
// progress; then continue an import left checking by a server that died, and cancel another, from
// the list. Screenshots go to e2e/artifacts/imports-<engine>/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import type { Db } from '../src/server/db/connection.js';
import { ADMIN_PASSWORD, call, ok, setupAdmin, type Session, type TestApp } from '../test/helpers/app.js';
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

const GOOD_ROWS = 40;

/** An archive as exported from an old system: BOM, Chinese headers, one bad plate, one formula-looking note. */
function archiveCsv(): string {
  const lines = ['客户名称,手机,车牌号,车型,备注'];
  for (let i = 0; i < GOOD_ROWS; i++)
    lines.push(`客户${i},1380013${String(8000 + i)},冀B${String(10000 + i)},东风天龙,老客户`);
  lines.push('坏车牌,13900000000,XYZ,不知道,=1+1');
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

function importsFlow(engine: Engine) {
  let dir: string;
  let tmp: string;
  let browser: Browser;
  let page: Page;
  let base: string;
  let admin: Session;
  let app: TestApp;
  let stop: () => Promise<void>;
  let db: Db;

  beforeAll(async () => {
    dir = artifactsDir('imports', engine);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-e2e-import-'));
    const started = await startBrowserApp(engine);
    ({ app, base, browser, stop, db } = started);
    admin = await setupAdmin(app);
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      locale: 'zh-CN',
      acceptDownloads: true,
    });
    context.setDefaultTimeout(UI_TIMEOUT);
    page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[e2e ${engine}] page error:`, err.message));
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await stop?.();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it(
    'uploads, recognises the columns, dry-runs and offers the error report',
    async () => {
      await signIn(page, base, 'admin', ADMIN_PASSWORD);
      await page.getByRole('menuitem', { name: '数据导入' }).click();
      await page.waitForURL('**/imports');
      await screenshot(page, dir, '01-imports');

      const file = path.join(tmp, '老档案.csv');
      fs.writeFileSync(file, archiveCsv());
      await page.getByTestId('import-upload').locator('input[type=file]').setInputFiles(file);
      const mapping = page.getByTestId('import-mapping');
      await poll(() => mapping.getByTestId('import-map-车牌号').innerText()).toContain('车牌号');
      await poll(() => mapping.getByTestId('import-map-手机').innerText()).toContain('手机');
      await screenshot(page, dir, '02-imports-mapping');

      await page.getByTestId('import-dry-run').click();
      const check = page.getByTestId('import-check');
      await poll(() => check.innerText()).toContain('试导入预计');
      await poll(() => page.getByTestId('import-problems').innerText()).toContain(String(GOOD_ROWS + 2));
      await screenshot(page, dir, '03-imports-dry-run');
      // Nothing was written by the dry run.
      expect((await ok<{ total: number }>(call(app, admin, 'GET', '/api/customers'))).total).toBe(0);

      const download = page.waitForEvent('download');
      await page.getByTestId('import-report-csv').click();
      const report = fs.readFileSync((await (await download).path())!, 'utf8');
      expect(report.charCodeAt(0)).toBe(0xfeff);
      expect(report).toContain(String(GOOD_ROWS + 2));
      expect(report).toContain('XYZ');
      // A cell that looks like a formula stays text in the report.
      expect(report).not.toMatch(/(^|,)=1\+1/m);
    },
    STEP_TIMEOUT,
  );

  it(
    'commits with a progress bar and lands every good row once',
    async () => {
      await page.getByTestId('import-commit').click();
      await poll(() => page.getByText('导入完成').count()).toBeGreaterThan(0);
      await screenshot(page, dir, '04-imports-done');
      const customers = await ok<{ total: number }>(call(app, admin, 'GET', '/api/customers?pageSize=1'));
      expect(customers.total).toBe(GOOD_ROWS);
    },
    STEP_TIMEOUT,
  );

  it(
    'continues an import a dead server left checking, and cancels another, from the list',
    async () => {
      const upload = async (name: string) => {
        const res = await app.inject({
          method: 'POST',
          url: `/api/imports?fileName=${encodeURIComponent(name)}`,
          headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'application/octet-stream' },
          payload: archiveCsv(),
        });
        expect(res.statusCode, res.body).toBe(201);
        return (res.json() as { id: number }).id;
      };
      const stuck = await upload('中断的档案.csv');
      await ok(
        call(app, admin, 'PUT', `/api/imports/${stuck}/mapping`, {
          kind: 'customers',
          mapping: { 客户名称: 'name', 手机: 'phone', 车牌号: 'plate', 车型: 'model', 备注: 'notes' },
        }),
      );
      // What a server killed during the check leaves behind.
      const longAgo = new Date(Date.now() - 10 * 60_000).toISOString();
      await db.kysely
        .updateTable('import_job')
        .set({ status: 'checking', runner: 'gone', heartbeat_at: longAgo })
        .where('id', '=', stuck)
        .execute();
      const waiting = await upload('不要了.csv');

      await page.reload();
      await poll(() => page.getByText('已中断').count()).toBeGreaterThan(0);
      await screenshot(page, dir, '05-imports-interrupted');
      await page.getByTestId(`import-resume-${stuck}`).click();
      const check = page.getByTestId('import-check');
      await poll(() => check.innerText()).toContain('试导入预计');
      await poll(() => page.getByTestId('import-problems').innerText()).toContain(String(GOOD_ROWS + 2));
      await screenshot(page, dir, '06-imports-resumed');

      await page.getByTestId(`import-cancel-${waiting}`).click();
      await page.getByRole('button', { name: /确\s*定|OK/ }).click();
      await poll(
        async () => (await ok<{ status: string }>(call(app, admin, 'GET', `/api/imports/${waiting}`))).status,
      ).toBe('cancelled');
      await poll(() => page.getByText('已取消').count()).toBeGreaterThan(0);
      await screenshot(page, dir, '07-imports-cancelled');
    },
    STEP_TIMEOUT,
  );
}

describeBrowser('import center in the browser', importsFlow);
