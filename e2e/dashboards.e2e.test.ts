// 经营看板 in the browser, once per engine, with dashboard snapshots on as the server runs them by
// default: HQ's overview says when its figures were computed, keeps them while a sale arrives,
// recomputes on request, drills down to a branch; the key-customer and card-suggestion tabs; a
// station manager's own station on a phone. Screenshots go to e2e/artifacts/dashboards-<engine>/.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import { ADMIN_PASSWORD, call, ok, setupAdmin, type Session, type TestApp } from '../test/helpers/app.js';
import { buildTree, createUser, USER_PASSWORD, type Tree } from '../test/helpers/fixtures.js';
import { send, type Txn } from '../test/transactions/helpers.js';
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

const MANAGER = 'zhanzhang.li';
const DIESEL = '0#柴油';

/** YYYY-MM of the month `back` months before this one (UTC is close enough: the sales are mid-month). */
function monthBack(back: number): string {
  const d = new Date();
  const m = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - back, 1));
  return m.toISOString().slice(0, 7);
}

function dashboardsFlow(engine: Engine) {
  let dir: string;
  let browser: Browser;
  let base: string;
  let app: TestApp;
  let stop: () => Promise<void>;
  let admin: Session;
  let tree: Tree;
  let key: string;
  let seq = 0;
  const lastMonth = monthBack(1);
  const lastYear = `${Number(lastMonth.slice(0, 4)) - 1}${lastMonth.slice(4)}`;

  const sale = (
    month: string,
    day: number,
    stationCode: string,
    plate: string | null,
    litres: number,
    extra: Partial<Txn> = {},
  ): Txn => ({
    externalId: `d${++seq}`,
    occurredAt: `${month}-${String(day).padStart(2, '0')}T03:00:00Z`,
    stationCode,
    product: extra.product ?? DIESEL,
    volumeMl: litres * 1000,
    amountFen: litres * 750,
    ...(plate && { plate }),
    ...extra,
  });
  const litresOf = async (unitId: number) => {
    const d = await ok<{ sales: { volumeMl: number } }>(
      call(app, admin, 'GET', `/api/dashboards/unit/${unitId}?month=${lastMonth}&refresh=true`),
    );
    return Math.round(d.sales.volumeMl / 1000).toLocaleString('zh-CN');
  };

  beforeAll(async () => {
    dir = artifactsDir('dashboards', engine);
    const started = await startBrowserApp(engine, { dashboardSnapshotMinutes: 15 });
    ({ app, base, browser, stop } = started);
    admin = await setupAdmin(app);
    tree = await buildTree(app, admin);
    await createUser(app, admin, MANAGER, tree.station1, ['station_manager']);
    key = (
      await ok<{ key: string }>(call(app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.hq }), 201)
    ).key;
    const people = [
      { unit: tree.station1, name: '赵建国', plate: '冀A12345', kind: 'individual', cards: ['9100000001'] },
      { unit: tree.station1, name: '钱卫东', plate: '冀A23456', kind: 'individual' },
      { unit: tree.station2, name: '孙立新', plate: '冀A34567', kind: 'individual' },
      { unit: tree.station2, name: '石家庄顺达物流有限公司', plate: '冀A45678', kind: 'organisation' },
      { unit: tree.station3, name: '李红梅', plate: '冀F56789', kind: 'individual' },
      { unit: tree.station3, name: '保定远通运输队', plate: '冀F67890', kind: 'organisation' },
    ];
    for (const p of people) {
      await ok(
        call(app, admin, 'POST', '/api/customers', {
          kind: p.kind,
          orgUnitId: p.unit,
          name: p.name,
          vehicles: [{ plate: p.plate }],
          cards: p.cards ?? [],
          confirmDuplicate: true,
        }),
        201,
      );
    }
    // Their records were opened the year before.
    await started.db.kysely
      .updateTable('customer')
      .set({ created_at: `${lastYear}-01T02:00:00.000Z` })
      .execute();
    const code = (unit: number) =>
      unit === tree.station1 ? 'B1-A1-S1' : unit === tree.station2 ? 'B1-A1-S2' : 'B2-A1-S1';
    const txns: Txn[] = [];
    for (const [i, p] of people.entries()) {
      const litres = [120, 60, 80, 700, 90, 900][i]!;
      for (const day of [3, 10, 17, 24])
        txns.push(
          sale(
            lastMonth,
            day,
            code(p.unit),
            p.plate,
            Math.round(litres / 4),
            i === 0 ? { cardNo: '9100000001', payment: 'card' } : {},
          ),
        );
      txns.push(sale(lastYear, 12, code(p.unit), p.plate, Math.round(litres * 0.8)));
    }
    for (const day of [5, 6, 7]) txns.push(sale(lastMonth, day, 'B1-A1-S2', null, 45, { product: '92#' }));
    await ok(send(app, key, { source: 'pos', transactions: txns }));
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await stop?.();
  });

  it(
    'shows HQ from a snapshot, recomputes it on request and drills down to a branch',
    async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
      const page: Page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT);
      await signIn(page, base, 'admin', ADMIN_PASSWORD);
      const before = await litresOf(tree.hq);
      await page.goto(`${base}/dashboard?unit=${tree.hq}&month=${lastMonth}`);
      await poll(() => page.getByTestId('dash-volume').textContent()).toContain(before);
      await expect(page.getByTestId('dash-as-of').textContent()).resolves.toMatch(/数据计算于/);
      await page.getByTestId('dash-products-chart').waitFor();
      await screenshot(page, dir, '01-hq-overview');

      // A sale arrives: the snapshot is kept until someone asks for the figures to be recomputed.
      await ok(send(app, key, { source: 'pos', transactions: [sale(lastMonth, 20, 'B2-A1-S1', null, 500)] }));
      await page.reload();
      await page.getByTestId('dash-volume').waitFor();
      await expect(page.getByTestId('dash-volume').textContent()).resolves.toContain(before);
      await page.getByTestId('dash-refresh').click();
      const after = (Number(before.replace(/,/g, '')) + 500).toLocaleString('zh-CN');
      await poll(() => page.getByTestId('dash-volume').textContent()).toContain(after);
      await poll(() => page.getByTestId('dash-as-of').textContent()).toMatch(/刚刚/);
      await screenshot(page, dir, '02-hq-recomputed');

      await page.getByTestId('dash-children').getByText('石家庄分公司').click();
      await page.waitForURL(new RegExp(`unit=${tree.branch1}`));
      await poll(() => page.getByTestId('dash-volume').textContent()).toContain(await litresOf(tree.branch1));
      await screenshot(page, dir, '03-branch-drill-down');

      await page.getByRole('tab', { name: '大客户' }).click();
      await page.getByTestId('dash-as-of').waitFor();
      await page.getByText('石家庄顺达物流有限公司').first().waitFor();
      await screenshot(page, dir, '04-branch-key-customers');

      // Card suggestions rest on the month before the one shown: show this month to see last month's.
      await page.goto(`${base}/dashboard?unit=${tree.hq}&month=${monthBack(0)}&tab=cards`);
      const cards = page.getByTestId('card-suggestions');
      await cards.getByText('保定远通运输队').waitFor();
      await expect(cards.textContent()).resolves.not.toContain('赵建国'); // he holds a card
      await screenshot(page, dir, '05-hq-card-suggestions');
      await context.close();
    },
    STEP_TIMEOUT,
  );

  it(
    'gives a station manager his own station on a phone',
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
      await page.goto(`${base}/dashboard?month=${lastMonth}`);
      await poll(() => page.getByTestId('dash-volume').textContent()).toContain(await litresOf(tree.station1));
      await page.getByTestId('dash-as-of').waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await screenshot(page, dir, '06-station-phone');
      // HQ is not his to see.
      const denied = await page.evaluate(
        async (url) => (await fetch(url)).status,
        `${base}/api/dashboards/unit/${tree.hq}?month=${lastMonth}`,
      );
      expect(denied).toBe(403);
      await context.close();
    },
    STEP_TIMEOUT,
  );
}

describeBrowser('dashboards in the browser', dashboardsFlow);
