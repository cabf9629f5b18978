// What every browser test shares: the server and the Chromium a flow runs against, where screenshots
// go, a polling assertion, and the rule that a missing browser is a failure when REQUIRE_BROWSER=1
// and a skip otherwise.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';
import type { Engine } from '../src/server/db/dialect.js';
import { describeEngines, openFresh } from '../test/helpers/engines.js';
import { testConfig, type TestApp } from '../test/helpers/app.js';
import { buildApp, DEFAULT_WEB_ROOT } from '../src/server/app.js';
import { prepareDatabase } from '../src/server/bootstrap.js';
import type { Config } from '../src/server/config.js';
import type { Db } from '../src/server/db/connection.js';
import { ensureWeb } from '../scripts/ensure-web.mjs';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'artifacts');
export const STEP_TIMEOUT = 120_000;
export const UI_TIMEOUT = 20_000;

const hasBrowser = fs.existsSync(CHROMIUM);
const browserRequired = process.env.REQUIRE_BROWSER === '1';

/** Retry an assertion until the page catches up (playwright-core has no web-first `expect`). */
export const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: UI_TIMEOUT, interval: 100 });

/**
 * Do what sends a POST to a path ending in `pathEnd`, wait for the server's answer and expect it to be
 * 2xx. Reading the screen afterwards then tells a slow or refused request from a page that is late;
 * a timeout says whether the request was sent at all. On a busy machine a click that lands while a
 * dialog is still opening can be lost: when nothing was sent within a few seconds, `act` is done
 * again (at most three times), which cannot send the request twice because none was sent.
 */
export async function answered(page: Page, pathEnd: string, act: () => Promise<unknown>): Promise<void> {
  const ours = (r: Request) => new URL(r.url()).pathname.endsWith(pathEnd) && r.method() === 'POST';
  let sent = 0;
  const count = (r: Request) => {
    if (ours(r)) sent++;
  };
  page.on('request', count);
  try {
    const answer = page.waitForResponse((r) => ours(r.request()), { timeout: STEP_TIMEOUT });
    for (let attempt = 1; ; attempt++) {
      await act();
      if (attempt >= 3 || (await resolvedWithin(() => sent > 0, 5_000))) break;
      console.warn(`[e2e] POST …${pathEnd} not sent 5 s after attempt ${attempt}: doing it again`);
    }
    const res = await answer.catch((err: unknown) => {
      throw new Error(
        `POST …${pathEnd}: ${sent > 0 ? `sent ${sent}×, no answer` : 'never sent'} within ${STEP_TIMEOUT} ms (${String(err)})`,
      );
    });
    expect(res.status(), `${pathEnd}: ${await res.text()}`).toBeLessThan(300);
  } finally {
    page.off('request', count);
  }
}

/** Whether `check` turns true within `ms`, looked at every 50 ms. */
async function resolvedWithin(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/**
 * Does `act` until `done` holds, looking 5 s after each attempt (at most three, the last one given
 * UI_TIMEOUT): a click that lands while a dropdown is still opening can be lost. Only for an `act`
 * that does no harm when done twice, such as choosing the same language again.
 */
export async function until(what: string, done: () => Promise<boolean>, act: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    await act();
    if (await resolvedWithin(done, attempt < 3 ? 5_000 : UI_TIMEOUT)) return;
    console.warn(`[e2e] ${what}: not done after attempt ${attempt}`);
  }
  throw new Error(`${what}: not done after 3 attempts`);
}

/** A full-page screenshot after antd's animations settle. */
export async function screenshot(page: Page, dir: string, name: string): Promise<void> {
  await page.waitForTimeout(350);
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/** A fresh screenshot folder for one flow on one engine. */
export function artifactsDir(flow: string, engine: Engine): string {
  const dir = path.join(ARTIFACTS, flow === 'platform' ? engine : `${flow}-${engine}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Run a browser flow on every engine, after the web bundle is built. */
export function describeBrowser(name: string, flow: (engine: Engine) => void, engines?: Engine[]): void {
  if (!hasBrowser && browserRequired) {
    describe(name, () => {
      it('needs Chromium', () => {
        throw new Error(`REQUIRE_BROWSER=1 but ${CHROMIUM} does not exist`);
      });
    });
  } else if (!hasBrowser) {
    console.warn(`[e2e] ${CHROMIUM} not found: "${name}" is skipped (set REQUIRE_BROWSER=1 to make this a failure)`);
    describe.skip(name, () => it('needs Chromium', () => undefined));
  } else {
    beforeAll(async () => {
      await ensureWeb({ log: (m) => console.log(m) });
    }, 300_000);
    describeEngines(name, flow, engines);
  }
}

/**
 * Picks `option` in the single select whose list is open, and waits for the list to close. On a busy
 * machine a click that lands while the list is still sliding open can be lost; it is then made again
 * (picking the same option of a single select twice changes nothing).
 */
export async function pickOpenOption(page: Page, option: string): Promise<void> {
  const popup = page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden)').last();
  const item = popup.getByTitle(option, { exact: true }).first();
  await until(
    `pick ${option}`,
    () => popup.isHidden(),
    () => item.click(),
  );
}

/** Sign in through the login page and wait for the user's start page (the pump for attendants). */
export async function signIn(page: Page, base: string, username: string, password: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码').fill(password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((url) => url.origin === new URL(base).origin && !url.pathname.startsWith('/login'));
  await page.waitForLoadState('networkidle');
}

/** A server for one browser flow: a fresh migrated database, the app on a free port, and Chromium. */
export interface BrowserApp {
  app: TestApp;
  base: string;
  db: Db;
  browser: Browser;
  /** Closes the browser, the app and the database, whichever were started. */
  stop: () => Promise<void>;
}

export async function startBrowserApp(engine: Engine, config: Partial<Config> = {}): Promise<BrowserApp> {
  const fresh = await openFresh(engine, { migrated: true });
  let app: TestApp | undefined;
  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close();
    await app?.close();
    await fresh.close();
  };
  try {
    await prepareDatabase(fresh.db);
    app = await buildApp({ db: fresh.db, config: testConfig(config), webRoot: DEFAULT_WEB_ROOT });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    return { app, base, db: fresh.db, browser, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
