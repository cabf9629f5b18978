import { afterAll, beforeAll } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { loadConfig, type Config } from '../../src/server/config.js';
import { prepareDatabase } from '../../src/server/bootstrap.js';
import type { Db } from '../../src/server/db/connection.js';
import type { Engine } from '../../src/server/db/dialect.js';
import { openFresh } from './engines.js';

export const ADMIN_PASSWORD = 'Str0ng-setup-secret';

export interface Session {
  cookie: string;
  csrf: string;
}

export type TestApp = Awaited<ReturnType<typeof buildApp>>;

export interface TestContext {
  app: TestApp;
  db: Db;
  config: Config;
  now: { value: Date | null };
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  // Dashboards compute every answer unless a test asks for snapshots (test/dashboards/snapshots).
  return { ...loadConfig({}), loginRateLimitPerMinute: 10_000, dashboardSnapshotMinutes: 0, ...overrides };
}

/** Build the app on a fresh database of `engine` for the enclosing describe block. */
export function useTestApp(engine: Engine, overrides: Partial<Config> = {}): TestContext {
  const ctx = { now: { value: null } } as TestContext;
  let close: (() => Promise<void>) | null = null;
  beforeAll(async () => {
    // From the migrated template; prepareDatabase still runs (finding nothing to migrate) and seeds.
    const fresh = await openFresh(engine, { migrated: true });
    close = fresh.close;
    ctx.db = fresh.db;
    ctx.config = testConfig(overrides);
    await prepareDatabase(ctx.db);
    ctx.app = await buildApp({ db: ctx.db, config: ctx.config, webRoot: null, now: () => ctx.now.value ?? new Date() });
    await ctx.app.ready();
  }, 60_000);
  afterAll(async () => {
    await ctx.app?.close();
    await close?.();
  });
  return ctx;
}

function cookieFrom(res: LightMyRequestResponse): string {
  const c = res.cookies.find((x) => x.name === 'fc_session');
  if (!c) throw new Error(`no session cookie: ${res.statusCode} ${res.body}`);
  return `fc_session=${c.value}`;
}

export async function setupAdmin(app: TestApp, username = 'admin'): Promise<Session> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/setup',
    payload: {
      company: { code: 'HQ', name: '华北石油销售公司' },
      admin: { username, displayName: '系统管理员', password: ADMIN_PASSWORD },
    },
  });
  if (res.statusCode !== 201) throw new Error(`setup failed: ${res.statusCode} ${res.body}`);
  return { cookie: cookieFrom(res), csrf: res.json().csrfToken };
}

export async function login(app: TestApp, username: string, password: string): Promise<Session> {
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
  if (res.statusCode !== 200) throw new Error(`login ${username} failed: ${res.statusCode} ${res.body}`);
  return { cookie: cookieFrom(res), csrf: res.json().csrfToken };
}

/** An injected request carrying a session's cookie and CSRF header. */
export function call(
  app: TestApp,
  s: Session | null,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  payload?: unknown,
) {
  return app.inject({
    method,
    url,
    headers: s ? { cookie: s.cookie, 'x-csrf-token': s.csrf } : {},
    ...(payload !== undefined && { payload: payload as Record<string, unknown> }),
  });
}

export async function ok<T = any>(resPromise: Promise<LightMyRequestResponse>, status = 200): Promise<T> {
  const res = await resPromise;
  if (res.statusCode !== status) throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
  return res.json() as T;
}
