// The import page accounts for every row of a workbook: an empty row is counted as skipped on the
// dry-run and result panels (跳过空行), and the rows whose card numbers the spreadsheet stored as
// numbers come back as one line above the problems, with the fix, in Chinese and, for a user who reads
// English, in English. Screenshots go to e2e/artifacts/imports-totals-<engine>/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import type { Browser, Page } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import { ADMIN_PASSWORD, setupAdmin, type TestApp } from '../test/helpers/app.js';
import {
  artifactsDir,
  describeBrowser,
  poll,
  screenshot,
  signIn,
  startBrowserApp,
  STEP_TIMEOUT,
  UI_TIMEOUT,
  until,
} from './browser.js';

/** Rows 2–6: row 3 empty, rows 4 and 5 with card numbers typed as numbers (digits lost). */
async function roster(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('客户');
  ws.getRow(1).values = ['客户名称', '车牌号', '加油卡号'];
  ws.getRow(2).values = ['卫一', '冀E10001', '1000113200000001'];
  ws.getRow(4).values = ['卫二', '冀E10002', 1000113200000002123];
  ws.getRow(5).values = ['卫三', '冀E10003', 1000113200000003123];
  ws.getRow(6).values = ['卫四', '冀E10004', '1000113200000004'];
  return Buffer.from(await wb.xlsx.writeBuffer());
}

function totalsFlow(engine: Engine) {
  let dir: string;
  let tmp: string;
  let file: string;
  let browser: Browser;
  let page: Page;
  let base: string;
  let app: TestApp;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    dir = artifactsDir('imports-totals', engine);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-e2e-totals-'));
    file = path.join(tmp, '花名册.xlsx');
    fs.writeFileSync(file, await roster());
    ({ app, base, browser, stop } = await startBrowserApp(engine));
    await setupAdmin(app);
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    context.setDefaultTimeout(UI_TIMEOUT);
    page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[e2e ${engine}] page error:`, err.message));
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await stop?.();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const dryRun = async () => {
    await page.goto(`${base}/imports`);
    await page.getByTestId('import-upload').locator('input[type=file]').setInputFiles(file);
    await poll(() => page.getByTestId('import-mapping').innerText()).toContain('加油卡号');
    await page.getByTestId('import-dry-run').click();
    await poll(() => page.getByTestId('import-check').count()).toBe(1);
    return page.getByTestId('import-check');
  };

  it(
    'counts the empty row as skipped and groups the card numbers into one line, in Chinese',
    async () => {
      await signIn(page, base, 'admin', ADMIN_PASSWORD);
      const check = await dryRun();
      await poll(() => check.getByTestId('import-skipped').innerText()).toMatch(/跳过空行\s*1/);
      await poll(() => check.getByTestId('import-totals').innerText()).toBe(
        '共 5 行（不含表头）= 可导入 2 + 有错误 2 + 疑似重复 0 + 跳过空行 1',
      );
      await poll(() => check.getByTestId('import-grouped').innerText()).toContain(
        '第 4、5 行（共 2 行）卡号被表格存成了数字，丢失了末几位：请把该列设为文本格式后重新导出',
      );
      await screenshot(page, dir, '01-dry-run-phone');
      // The page is no wider than the phone.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

      await page.getByTestId('import-commit').click();
      const outcome = page.getByTestId('import-outcome');
      await poll(() => outcome.count()).toBe(1);
      await poll(() => outcome.getByTestId('import-skipped').innerText()).toMatch(/跳过空行\s*1/);
      await poll(() => outcome.getByTestId('import-grouped').innerText()).toContain('第 4、5 行（共 2 行）卡号');
      await poll(() => page.getByText('跳过空行 1 行').count()).toBeGreaterThan(0);
      await screenshot(page, dir, '02-done-phone');
    },
    STEP_TIMEOUT,
  );

  it(
    'says the same in English for a user who reads English',
    async () => {
      const english = page.getByRole('menuitem', { name: 'English' });
      await until(
        'switch to English',
        async () => (await page.evaluate(() => document.documentElement.lang)) === 'en-US',
        async () => {
          if (!(await english.isVisible())) await page.getByTestId('language-switch').click();
          await english.click();
        },
      );
      // The account keeps the choice: the server words what it reads back in English.
      await page.waitForLoadState('networkidle');
      const check = await dryRun();
      await poll(() => check.getByTestId('import-skipped').innerText()).toMatch(/Empty rows skipped\s*1/);
      await poll(() => check.getByTestId('import-grouped').innerText()).toContain(
        'Rows 4, 5 (2 in all): Card number was stored by the spreadsheet as a number and lost its last digits',
      );
      await poll(() => page.getByTestId('import-problems').innerText()).toContain('Card number');
      await screenshot(page, dir, '03-dry-run-english');
    },
    STEP_TIMEOUT,
  );
}

describeBrowser('import totals in the browser', totalsFlow);
