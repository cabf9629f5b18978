// 系统设置 in a real browser, once per engine: an administrator opens the churn-alert policy, changes
// the grace days, saves, and finds the new version in the history under his display name with what
// changed; a value out of range is refused on its field in Chinese and saves nothing, and so is a
// value only the server refuses; a user without policy.write does not get the page. Screenshots (1440×900 and 390×844) go to e2e/artifacts/settings-<engine>/.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import { ADMIN_PASSWORD, call, ok, setupAdmin, type Session, type TestApp } from '../test/helpers/app.js';
import { buildTree, createUser, USER_PASSWORD } from '../test/helpers/fixtures.js';
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

const STATION_MANAGER = 'zhanzhang.li';
const DESKTOP = { viewport: { width: 1440, height: 900 }, locale: 'zh-CN' };
const PHONE = { viewport: { width: 390, height: 844 }, locale: 'zh-CN', isMobile: true, hasTouch: true };

type Version = { versionId: number; createdByName: string; changes: { path: string[] }[] };

function settingsFlow(engine: Engine) {
  let dir: string;
  let browser: Browser;
  let base: string;
  let app: TestApp;
  let admin: Session;
  let stop: () => Promise<void>;

  async function open(
    viewport: typeof DESKTOP | typeof PHONE,
    username: string,
    password: string,
  ): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext(viewport);
    context.setDefaultTimeout(UI_TIMEOUT);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[e2e ${engine}] page error:`, err.message));
    await signIn(page, base, username, password);
    return { context, page };
  }
  const history = (kind: string) => ok<Version[]>(call(app, admin, 'GET', `/api/policies/${kind}/history`));
  const noSideways = async (page: Page) =>
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

  beforeAll(async () => {
    dir = artifactsDir('settings', engine);
    ({ app, base, browser, stop } = await startBrowserApp(engine));
    admin = await setupAdmin(app);
    const tree = await buildTree(app, admin);
    await createUser(app, admin, STATION_MANAGER, tree.station1, ['station_manager']);
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await stop?.();
  });

  it(
    'keeps a user without policy.write out of 系统设置',
    async () => {
      const { context, page } = await open(DESKTOP, STATION_MANAGER, USER_PASSWORD);
      await page.getByRole('menuitem', { name: '客户档案' }).waitFor();
      await expect(page.getByRole('menuitem', { name: '系统设置' }).count()).resolves.toBe(0);
      await page.goto(`${base}/settings?tab=anomaly`);
      await page.getByText('无权访问').waitFor();
      await expect(page.getByTestId('policy-form-anomaly').count()).resolves.toBe(0);
      await context.close();
    },
    STEP_TIMEOUT,
  );

  it(
    'changes the grace days, saves a new version, and shows it in the history under the display name',
    async () => {
      const { context, page } = await open(DESKTOP, 'admin', ADMIN_PASSWORD);
      await page.getByRole('menuitem', { name: '系统设置' }).click();
      await page.waitForURL(`${base}/settings`);
      await page.getByTestId('settings-tab-anomaly').click();
      await page.waitForURL(`${base}/settings?tab=anomaly`);
      const form = page.getByTestId('policy-form-anomaly');
      await page.getByTestId('policy-in-force-anomaly').getByText('当前生效：系统默认值（尚未修改过）').waitFor();
      await page.getByText('尚未修改，一直使用系统默认值').waitFor();
      const grace = form.getByLabel('宽限天数');
      await expect(grace.inputValue()).resolves.toBe('3');
      await form.getByText('超过平常到站间隔再加上这些天仍未到站，视为超期未到站').waitFor();
      await screenshot(page, dir, '01-anomaly-desktop');

      await grace.fill('5');
      await page.getByTestId('policy-note-anomaly').fill('春节前后放宽');
      await page.getByTestId('policy-save-anomaly').click();
      await page.getByText('已保存，新版本即时生效').waitFor();

      const [saved] = await history('anomaly');
      expect(saved).toMatchObject({ createdByName: '系统管理员', changes: [{ path: ['graceDays'] }] });
      const entry = page.getByTestId(`policy-version-${saved!.versionId}`);
      await entry.getByText(`第 ${saved!.versionId} 版`).waitFor();
      await expect(entry.getByTestId('policy-version-by').textContent()).resolves.toBe('系统管理员');
      const list = page.getByTestId('policy-history-anomaly');
      await list.getByText('宽限天数：3 天 → 5 天').waitFor();
      await list.getByText('「春节前后放宽」').waitFor();
      await page
        .getByTestId('policy-in-force-anomaly')
        .getByText(/当前生效：第 \d+ 版，系统管理员 于 /)
        .waitFor();
      await expect(form.getByLabel('宽限天数').inputValue()).resolves.toBe('5');
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, dir, '02-anomaly-saved-desktop');

      // Out of range: refused on the field, in Chinese, before anything is sent; nothing is saved.
      await form.getByLabel('宽限天数').fill('61');
      await page.getByTestId('policy-save-anomaly').click();
      await form.locator('.ant-form-item-explain-error').getByText('请输入 0–60 天之间的整数').waitFor();
      await screenshot(page, dir, '03-anomaly-invalid-desktop');
      await page.waitForTimeout(500);
      expect(await history('anomaly')).toHaveLength(1);

      // Thresholds that do not rise are refused on the star that breaks the order.
      await page.getByTestId('settings-tab-star_rating').click();
      await page.getByTestId('threshold-0-1').fill('100');
      await page.getByTestId('policy-save-star_rating').click();
      await page
        .getByTestId('threshold-row-0')
        .locator('.ant-form-item-explain-error')
        .getByText('门槛须从 1 星到 4 星逐级升高')
        .waitFor();
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, dir, '04-star-rating-desktop');
      expect(await history('star_rating')).toHaveLength(0);

      // A refusal only the server makes lands on its field too: the request is altered on the way to
      // a value the form would not send (a tenth of a fen), and the real server's answer is shown.
      await page.getByTestId('settings-tab-card').click();
      const cardForm = page.getByTestId('policy-form-card');
      await page.route('**/api/policies/card', async (route) => {
        const sent = route.request().postDataJSON() as { body: { minMonthlyYuan: number } };
        await route.continue({
          postData: JSON.stringify({
            ...sent,
            body: { ...sent.body, minMonthlyYuan: sent.body.minMonthlyYuan + 0.001 },
          }),
        });
      });
      await cardForm.getByLabel('办卡建议金额').fill('2500');
      await page.getByTestId('policy-save-card').click();
      const moneyField = cardForm.locator('.ant-form-item').filter({ has: page.getByLabel('办卡建议金额') });
      await moneyField.locator('.ant-form-item-explain-error').getByText('金额最多保留两位小数').waitFor();
      await page.unroute('**/api/policies/card');
      expect(await history('card')).toHaveLength(0);
      await screenshot(page, dir, '05-card-server-refusal-desktop');

      await page.getByTestId('settings-tab-key_customer').click();
      await page.getByTestId('policy-form-key_customer').getByText('-10#柴油', { exact: true }).waitFor();
      await screenshot(page, dir, '06-key-customer-desktop');
      await page.getByTestId('settings-tab-classes').click();
      await expect(page.getByTestId('class-code-0').inputValue()).resolves.toBe('VIP');
      await screenshot(page, dir, '07-classes-desktop');
      await context.close();
    },
    STEP_TIMEOUT,
  );

  it(
    'lays the policies out in one column on a phone',
    async () => {
      const { context, page } = await open(PHONE, 'admin', ADMIN_PASSWORD);
      await page.goto(`${base}/settings?tab=anomaly`);
      await page.getByTestId('policy-history-anomaly').getByText('宽限天数：3 天 → 5 天').waitFor();
      await noSideways(page);
      await screenshot(page, dir, '08-anomaly-phone');
      await page.goto(`${base}/settings?tab=star_rating`);
      await page.getByTestId('threshold-row-1').waitFor();
      await noSideways(page);
      await screenshot(page, dir, '09-star-rating-phone');
      await page.goto(`${base}/settings?tab=benefits`);
      await poll(() => page.getByTestId('policy-form-benefits').locator('input').count()).toBeGreaterThan(5);
      await noSideways(page);
      await screenshot(page, dir, '10-benefits-phone');
      await context.close();
    },
    STEP_TIMEOUT,
  );
}

describeBrowser('系统设置 in the browser', settingsFlow);
