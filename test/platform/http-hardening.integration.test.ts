// What every answer carries (security headers, a CSP the web UI lives within) and where a signed-in
// browser's writes may come from: a foreign Origin or Referer on a request with the session cookie is
// refused with ORIGIN_DENIED before anything happens; API keys are not checked.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, ok, setupAdmin, testConfig, useTestApp, type Session, type TestApp } from '../helpers/app.js';
import { buildApp } from '../../src/server/app.js';

/** A write that leaves a trace (the user's locale), sent with the given extra headers. */
function setLocale(app: TestApp, s: Session, locale: 'zh-CN' | 'en-US', headers: Record<string, string>) {
  return app.inject({
    method: 'PUT',
    url: '/api/auth/locale',
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, ...headers },
    payload: { locale },
  });
}

describeEngines('HTTP hardening', (engine) => {
  describe('security headers', () => {
    const ctx = useTestApp(engine);
    let webRoot: string;
    let web: TestApp;
    beforeAll(async () => {
      // A built UI of one page, to see what the SPA's answers carry.
      webRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-web-'));
      fs.writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Forecourt</title>');
      web = await buildApp({ db: ctx.db, config: ctx.config, webRoot });
      await web.ready();
    });
    afterAll(async () => {
      await web?.close();
      fs.rmSync(webRoot, { recursive: true, force: true });
    });

    it('sends a CSP without framing, nosniff, a referrer policy and no HSTS over plain HTTP', async () => {
      for (const res of [
        await web.inject({ url: '/' }),
        await web.inject({ url: '/customers/12' }),
        await ctx.app.inject({ url: '/api/health' }),
        await ctx.app.inject({ url: '/api/org/units' }),
      ]) {
        const csp = String(res.headers['content-security-policy']);
        expect(csp).toContain("default-src 'self'");
        expect(csp).toContain("script-src 'self'");
        expect(csp).not.toMatch(/script-src[^;]*unsafe/);
        expect(csp).toContain("frame-ancestors 'none'");
        expect(csp).toContain("object-src 'none'");
        expect(csp).not.toContain('upgrade-insecure-requests');
        expect(res.headers['x-frame-options']).toBe('DENY');
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.headers['referrer-policy']).toBe('same-origin');
        expect(res.headers['strict-transport-security']).toBeUndefined();
      }
    });

    it('adds HSTS and upgrades requests where the site is served over HTTPS', async () => {
      const https = await buildApp({ db: ctx.db, config: testConfig({ secureCookies: true }), webRoot: null });
      try {
        const res = await https.inject({ url: '/api/health' });
        expect(res.headers['strict-transport-security']).toMatch(/max-age=31536000/);
        expect(String(res.headers['content-security-policy'])).toContain('upgrade-insecure-requests');
      } finally {
        await https.close();
      }
    });
  });

  describe('origin of writes with a session', () => {
    const ctx = useTestApp(engine);
    let admin: Session;
    beforeAll(async () => {
      admin = await setupAdmin(ctx.app);
    });
    const locale = async () => (await ok(call(ctx.app, admin, 'GET', '/api/auth/me'))).locale as string;

    it('refuses a foreign Origin, an opaque one and a foreign Referer, and changes nothing', async () => {
      const foreign: Record<string, string>[] = [
        { origin: 'https://evil.example' },
        { origin: 'null' },
        { origin: 'http://localhost.evil.example' },
        { referer: 'https://evil.example/page' },
        { origin: 'http://localhost:8080' },
      ];
      for (const headers of foreign) {
        const res = await setLocale(ctx.app, admin, 'en-US', headers);
        expect(res.statusCode, JSON.stringify(headers)).toBe(403);
        expect(res.json().error).toMatchObject({
          code: 'ORIGIN_DENIED',
          field: 'origin' in headers ? 'headers.origin' : 'headers.referer',
        });
        expect(await locale()).toBe('zh-CN');
      }
      // The Origin decides when both are sent.
      const both = await setLocale(ctx.app, admin, 'en-US', {
        origin: 'https://evil.example',
        referer: 'http://localhost/customers',
      });
      expect(both.statusCode).toBe(403);
      // A sign-in posted from another site while a session cookie is present is refused too.
      const login = await ctx.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        headers: { cookie: admin.cookie, origin: 'https://evil.example' },
        payload: { username: 'admin', password: 'x' },
      });
      expect(login.statusCode).toBe(403);
      expect(login.json().error.code).toBe('ORIGIN_DENIED');
    });

    it('lets the own origin, the own Referer and requests without either through', async () => {
      // inject() sends Host: localhost:80; browsers leave the default port out of Origin.
      expect((await setLocale(ctx.app, admin, 'en-US', { origin: 'http://localhost' })).statusCode).toBe(200);
      expect(await locale()).toBe('en-US');
      expect((await setLocale(ctx.app, admin, 'zh-CN', { referer: 'http://localhost/settings' })).statusCode).toBe(200);
      expect(await locale()).toBe('zh-CN');
      expect((await setLocale(ctx.app, admin, 'en-US', {})).statusCode).toBe(200);
      expect(
        (
          await setLocale(ctx.app, admin, 'zh-CN', {
            host: 'crm.example.com:8443',
            origin: 'https://crm.example.com:8443',
          })
        ).statusCode,
      ).toBe(200);
      // Reads are not checked: a cross-site GET cannot read the answer, and SameSite keeps the cookie off it.
      expect(
        (
          await ctx.app.inject({
            url: '/api/auth/me',
            headers: { cookie: admin.cookie, origin: 'https://evil.example' },
          })
        ).statusCode,
      ).toBe(200);
      // Without the session cookie there is no session to misuse.
      const anon = await ctx.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        headers: { origin: 'https://evil.example' },
        payload: { username: 'admin', password: 'wrong-password' },
      });
      expect(anon.json().error.code).toBe('INVALID_CREDENTIALS');
    });

    it('does not check requests with an API key', async () => {
      const key = (await ok(call(ctx.app, admin, 'POST', '/api/api-keys', { name: 'POS' }), 201)).key as string;
      const res = await ctx.app.inject({
        method: 'POST',
        url: '/api/ingest/transactions',
        headers: { authorization: `Bearer ${key}`, cookie: admin.cookie, origin: 'https://pos.vendor.example' },
        payload: { source: 'pos', transactions: [] },
      });
      expect(res.statusCode, res.body).toBe(200);
    });
  });

  describe('origins on the allow-list (ALLOWED_ORIGINS)', () => {
    const ctx = useTestApp(engine, { allowedOrigins: ['https://crm.example.com', 'http://10.0.0.5:3000/'] });
    let admin: Session;
    beforeAll(async () => {
      admin = await setupAdmin(ctx.app);
    });

    it('lets a listed origin through and nothing that only looks like it', async () => {
      expect((await setLocale(ctx.app, admin, 'en-US', { origin: 'https://crm.example.com' })).statusCode).toBe(200);
      expect((await setLocale(ctx.app, admin, 'en-US', { referer: 'http://10.0.0.5:3000/customers' })).statusCode).toBe(
        200,
      );
      for (const origin of [
        'http://crm.example.com',
        'https://crm.example.com.evil.io',
        'https://crm.example.com:444',
        'http://10.0.0.5',
      ]) {
        const res = await setLocale(ctx.app, admin, 'zh-CN', { origin });
        expect(res.statusCode, origin).toBe(403);
      }
    });

    it('refuses to start with an entry that is not an origin', async () => {
      await expect(
        buildApp({ db: ctx.db, config: testConfig({ allowedOrigins: ['crm.example.com'] }), webRoot: null }),
      ).rejects.toThrow(/ALLOWED_ORIGINS/);
    });
  });

  describe('behind a proxy (TRUST_PROXY=1)', () => {
    const saved = process.env.TRUST_PROXY;
    beforeAll(() => {
      process.env.TRUST_PROXY = '1';
    });
    const ctx = useTestApp(engine);
    afterAll(() => {
      if (saved === undefined) delete process.env.TRUST_PROXY;
      else process.env.TRUST_PROXY = saved;
    });
    let admin: Session;
    beforeAll(async () => {
      admin = await setupAdmin(ctx.app);
    });

    it("compares the Origin with the proxy's forwarded host", async () => {
      const forwarded = { host: '127.0.0.1:3000', 'x-forwarded-host': 'crm.example.com', 'x-forwarded-proto': 'https' };
      expect(
        (await setLocale(ctx.app, admin, 'en-US', { ...forwarded, origin: 'https://crm.example.com' })).statusCode,
      ).toBe(200);
      expect(
        (await setLocale(ctx.app, admin, 'en-US', { ...forwarded, origin: 'http://127.0.0.1:3000' })).statusCode,
      ).toBe(403);
    });
  });
});
