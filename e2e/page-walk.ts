// Every page of every default role's menu, on a desktop (1440×900) and a phone (390×844), in Chromium
// (on PostgreSQL: three roles, the desktop only): what a Chinese user reads is Chinese. A visible Latin word outside the allow-list (brand, units, plate
// letters, codes), a console error, or a page wider than the phone fails. Every page is kept as a
// screenshot in e2e/artifacts/page-walk-<engine>/. One test file per engine, so the two walks run in
// parallel workers.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import { buildDemo, type DemoAccount } from '../src/cli/commands/demo.js';
import { DEFAULT_ROLES } from '../src/domain/permissions.js';
import { login, ok, call, type TestApp } from '../test/helpers/app.js';
import { artifactsDir, signIn, startBrowserApp, STEP_TIMEOUT, UI_TIMEOUT, type BrowserApp } from './browser.js';

const PASSWORD = 'Walk-the-pages-2026';
/**
 * Roles that walk the same page at the same size. One: the first role to reach a page walks it (the
 * roles start three at a time in DEFAULT_ROLES order, so most pages fall to the administrator or HQ
 * marketing, who see nearly every button); every role still walks his own start page and checks his menu.
 */
const ROLES_PER_PAGE = 1;

/**
 * Latin words a Chinese page may show: the brand, units and standard abbreviations of the trade and of
 * file formats. Tokens with digits or separators (plates 冀A12345, codes SJZ-CA-01, usernames) are
 * data, not interface text, and pass on their own.
 */
const ALLOWED = new Set([
  'csv',
  'xlsx',
  'txt',
  'IP',
  'Forecourt',
  'English',
  'L',
  'LNG',
  'CNG',
  'VIP',
  'CSV',
  'XLSX',
  'Excel',
  'WPS',
  'GBK',
  'UTF',
  'BOM',
  'API',
  'POS',
  'IC',
  'HQ',
  'BG',
  'NBD',
  'Pareto',
  'RFM',
  'KPI',
  'ID',
  'OpenAPI',
  'JSON',
  'NDJSON',
  'Bearer',
  'PostgreSQL',
  'SQLite',
  'ETC',
  'SUV',
  'MPV',
  'NPS',
  'CSAT',
  'CES',
]);

export function foreignWords(text: string, codes: readonly string[] = []): string[] {
  // Codes the page marks as such (class fc-code: org codes, usernames, time-zone ids) and placeholders
  // of templates ({branch}) are data the user types or reads back, not interface text.
  const skip = new Set(codes.flatMap((c) => c.match(/[A-Za-z0-9][A-Za-z0-9_.@\-]*/g) ?? []));
  const out = new Set<string>();
  for (const token of text.replace(/\{[^}]*\}/g, ' ').match(/[A-Za-z0-9][A-Za-z0-9_.@\-]*/g) ?? []) {
    if (!/[A-Za-z]/.test(token) || skip.has(token)) continue;
    if (/\d/.test(token) || /[A-Za-z0-9][_.@\-][A-Za-z0-9]/.test(token)) continue;
    if (token.length === 1 || ALLOWED.has(token)) continue;
    out.add(token);
  }
  return [...out];
}

interface Size {
  name: 'desktop' | 'phone';
  viewport: { width: number; height: number };
  mobile: boolean;
}
const SIZES: Size[] = [
  { name: 'desktop', viewport: { width: 1440, height: 900 }, mobile: false },
  { name: 'phone', viewport: { width: 390, height: 844 }, mobile: true },
];

/** The paths of the side menu as the page rendered it (antd keeps the item's key in data-menu-id). */
async function menuPaths(page: Page, size: Size): Promise<string[]> {
  if (size.mobile) {
    await page.getByTestId('menu-button').click();
    await page.getByTestId('menu-drawer').locator('.ant-menu-item').first().waitFor();
  }
  const ids = await page
    .locator('.ant-menu-item')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-menu-id') ?? ''));
  if (size.mobile) await page.keyboard.press('Escape');
  return ids.map((id) => id.slice(id.lastIndexOf('-/') + 1)).filter((p) => p.startsWith('/'));
}

/** Requests a page has started and not yet finished (Playwright's networkidle waits a fixed 500 ms more). */
function trackRequests(page: Page): () => number {
  const pending = new Set<unknown>();
  page.on('request', (r) => pending.add(r));
  page.on('requestfinished', (r) => pending.delete(r));
  page.on('requestfailed', (r) => pending.delete(r));
  return () => pending.size;
}

/** Waits until nothing is loading: no request in flight for 100 ms, no spinner, no skeleton. */
async function settle(page: Page, inFlight: () => number): Promise<void> {
  await page.waitForLoadState('load');
  const deadline = Date.now() + UI_TIMEOUT;
  for (let quiet = 0; quiet < 2 && Date.now() < deadline;) {
    await page.waitForTimeout(50);
    quiet = inFlight() === 0 ? quiet + 1 : 0;
  }
  await page
    .locator('.ant-spin-spinning, .ant-skeleton-active')
    .first()
    .waitFor({ state: 'detached', timeout: UI_TIMEOUT })
    .catch(() => undefined);
  await page.waitForTimeout(100);
}

export function walk(engine: Engine) {
  let started: BrowserApp;
  let dir: string;
  let accounts: DemoAccount[];
  let customerId = 0;
  const problems: string[] = [];
  let visited = 0;
  /** How many roles walked each page at each size. */
  const walkedBy = new Map<string, number>();

  beforeAll(async () => {
    dir = artifactsDir('page-walk', engine);
    started = await startBrowserApp(engine);
    const report = await buildDemo(started.db, { password: PASSWORD });
    accounts = report.accounts;
    await seed(started.app, accounts);
    const c = await started.db.kysely
      .selectFrom('customer')
      .select('id')
      .orderBy('id')
      .limit(1)
      .executeTakeFirstOrThrow();
    customerId = c.id;
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await started?.stop();
  });

  /** One role at one size: sign in, open every page of his menu (and a customer), check and keep each. */
  async function walkRole(role: (typeof DEFAULT_ROLES)[number], size: Size): Promise<void> {
    const account = accounts.find((a) => a.role === role.code);
    if (!account) {
      problems.push(`${role.code}: no demo account`);
      return;
    }
    const context = await started.browser.newContext({
      viewport: size.viewport,
      isMobile: size.mobile,
      hasTouch: size.mobile,
      locale: 'zh-CN',
    });
    context.setDefaultTimeout(UI_TIMEOUT);
    const page = await context.newPage();
    const inFlight = trackRequests(page);
    let where = `${role.code} ${size.name} /login`;
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`${where}: ${m.text()} (console error)`);
    });
    page.on('pageerror', (e) => problems.push(`${where}: ${e.message} (page error)`));
    try {
      await page.goto(`${started.base}/login`);
      await settle(page, inFlight);
      await signIn(page, started.base, account.username, PASSWORD);
      const start = new URL(page.url()).pathname;
      if (role.code === 'attendant' && start !== '/pump') problems.push(`attendant starts at ${start}, not the pump`);
      if (!size.mobile) await page.locator('.ant-menu-item').first().waitFor();
      const paths = await menuPaths(page, size);
      if (paths.length === 0) problems.push(`${role.code} ${size.name}: empty menu`);
      if (role.permissions.includes('customer.read')) paths.push(`/customers/${customerId}`);
      for (const path of paths) {
        // A page's words and layout differ little between roles that share it: each path is walked
        // by the first roles that reach it at this size (and always at the role's start page).
        const key = `${size.name} ${path}`;
        const seen = walkedBy.get(key) ?? 0;
        if (seen >= ROLES_PER_PAGE && path !== start) continue;
        walkedBy.set(key, seen + 1);
        where = `${role.code} ${size.name} ${path}`;
        await page.goto(`${started.base}${path}`);
        await settle(page, inFlight);
        visited++;
        const { text, codes, overflow } = await page.evaluate(() => ({
          text: document.body.innerText,
          codes: [...document.querySelectorAll('.fc-code')].map((e) => (e as HTMLElement).innerText),
          overflow: document.documentElement.scrollWidth - window.innerWidth,
        }));
        const words = foreignWords(text, codes);
        if (words.length > 0) problems.push(`${where}: Latin words ${words.join(', ')}`);
        if (size.mobile && overflow > 1) problems.push(`${where}: ${overflow}px wider than the phone`);
        await page.screenshot({
          path: `${dir}/${role.code}-${size.name}${path.replace(/\//g, '_')}.png`,
          fullPage: true,
        });
      }
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message.split('\n')[0]}`);
    } finally {
      await context.close();
    }
  }

  // Three roles at a time: each waits mostly on the browser, and the walk is 12 roles × 2 sizes. The
  // layout at either size does not depend on the engine either: PostgreSQL walks the desktop only.
  for (const size of engine === 'sqlite' ? SIZES : SIZES.slice(0, 1)) {
    it(
      `walks every role's pages at ${size.name} size (${size.viewport.width}×${size.viewport.height})`,
      async () => {
        // The words on a page do not depend on the engine under it: SQLite walks every role, PostgreSQL
        // the three whose start pages differ (admin, station manager, attendant), to keep CI short.
        const queue = DEFAULT_ROLES.filter(
          (r) => engine === 'sqlite' || ['admin', 'station_manager', 'attendant'].includes(r.code),
        );
        await Promise.all(
          [0, 1, 2].map(async () => {
            for (let role = queue.shift(); role; role = queue.shift()) await walkRole(role, size);
          }),
        );
      },
      STEP_TIMEOUT * 10,
    );
  }

  it('found nothing to fix on any page', () => {
    expect(visited).toBeGreaterThan(engine === 'sqlite' ? DEFAULT_ROLES.length * 4 : 20);
    expect(problems).toEqual([]);
  });
}

/** A little of everything the pages show: customers with cars, phones and cards, a visit, an alert, an import. */
async function seed(app: TestApp, accounts: DemoAccount[]): Promise<void> {
  const admin = await login(app, 'admin', PASSWORD);
  const attendant = accounts.find((a) => a.role === 'attendant')!;
  const units = await ok<{ id: number; code: string }[]>(call(app, admin, 'GET', '/api/org/units'));
  const station = units.find((u) => u.code === attendant.unitCode)!.id;
  const people = [
    {
      kind: 'individual',
      surname: '赵',
      name: '赵大海',
      gender: 'male',
      vehicles: [{ plate: '冀A12345', model: '大众帕萨特' }],
      phones: [{ phone: '13800138000' }],
      cards: ['9000123412341234'],
      tags: ['出租车'],
      notes: '喜欢 95#，每周二早上来',
    },
    {
      kind: 'organisation',
      name: '石家庄顺达物流有限公司',
      organisation: '石家庄顺达物流有限公司',
      vehicles: [{ plate: '冀A88888' }],
      phones: [{ phone: '031186001234' }],
    },
    { kind: 'individual', surname: '钱', name: '钱小红', gender: 'female', vehicles: [{ plate: '冀AD12345' }] },
  ];
  for (const p of people) await ok(call(app, admin, 'POST', '/api/customers', { ...p, orgUnitId: station }), 201);
  const att = await login(app, attendant.username, PASSWORD);
  await ok(call(app, att, 'POST', '/api/pump/visits', { plate: '冀A12345', product: '95#', volumeLitres: 45 }), 201);
  await ok(call(app, att, 'POST', '/api/pump/visits', { plate: '冀A54321', product: '92#', volumeLitres: 30 }), 201);
  await app.inject({
    method: 'POST',
    url: `/api/imports?fileName=${encodeURIComponent('老档案.csv')}&orgUnitId=${station}`,
    headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'application/octet-stream' },
    payload: '客户名称,手机,车牌\n孙师傅,13900139000,冀A77777\n',
  });
}
