import { describe, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { ADMIN_PASSWORD, call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser } from '../helpers/fixtures.js';
import { SIGN_IN_REFUSED } from '../../src/server/modules/auth/auth.service.js';

describeEngines('first-run setup and sign-in', (engine) => {
  const ctx = useTestApp(engine, {
    lockoutThreshold: 3,
    lockoutMinutes: 15,
    sessionIdleMinutes: 30,
    sessionAbsoluteHours: 12,
  });
  let admin: Session;

  it('asks for setup on an empty database and refuses protected routes', async () => {
    expect(await ok(call(ctx.app, null, 'GET', '/api/setup/status'))).toEqual({ needsSetup: true, signedIn: false });
    const res = await call(ctx.app, null, 'GET', '/api/org/units');
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('NOT_AUTHENTICATED');
  });

  it('rejects a weak first password, naming the field', async () => {
    const res = await call(ctx.app, null, 'POST', '/api/setup', {
      company: { code: 'HQ', name: '公司' },
      admin: { username: 'admin', displayName: 'A', password: 'short' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: 'PASSWORD_TOO_SHORT', field: 'body.admin.password' });
  });

  it('creates the first admin exactly once', async () => {
    admin = await setupAdmin(ctx.app);
    expect(await ok(call(ctx.app, null, 'GET', '/api/setup/status'))).toEqual({ needsSetup: false, signedIn: false });
    const again = await call(ctx.app, null, 'POST', '/api/setup', {
      company: { code: 'HQ2', name: '另一个' },
      admin: { username: 'evil', displayName: 'E', password: 'Another-passw0rd' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('SETUP_DONE');
    const me = await ok(call(ctx.app, admin, 'GET', '/api/auth/me'));
    expect(me.roles).toEqual(['admin']);
  });

  it('refuses a wrong password and an unknown user with the same answer', async () => {
    const wrong = await call(ctx.app, null, 'POST', '/api/auth/login', {
      username: 'admin',
      password: 'not-the-password',
    });
    const unknown = await call(ctx.app, null, 'POST', '/api/auth/login', {
      username: 'nobody',
      password: 'not-the-password',
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('INVALID_CREDENTIALS');
    expect(unknown.json().error.code).toBe('INVALID_CREDENTIALS');
    // A success resets the counter so earlier mistakes do not add up to a lockout.
    await login(ctx.app, 'admin', ADMIN_PASSWORD);
  });

  it('locks an account after repeated failures, even against the right password', async () => {
    const tree = await buildTree(ctx.app, admin);
    await createUser(ctx.app, admin, 'clerk', tree.station1, ['attendant']);
    const attempt = (username: string, password: string) =>
      call(ctx.app, null, 'POST', '/api/auth/login', { username, password });
    for (let i = 0; i < 2; i++) expect((await attempt('clerk', 'wrong-wrong')).statusCode).toBe(401);
    const third = await attempt('clerk', 'wrong-wrong');
    const right = await attempt('clerk', USER_PASSWORD);
    // Locked: the right password does not sign in, and the answer is the one an unknown username gets.
    const unknown = await attempt('nobody-here', USER_PASSWORD);
    for (const res of [third, right]) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual(unknown.json());
      expect(res.cookies.find((c) => c.name === 'fc_session')).toBeUndefined();
    }
    expect(unknown.json().error).toEqual({ code: 'INVALID_CREDENTIALS', message: SIGN_IN_REFUSED });
    // The lock runs out by itself...
    ctx.now.value = new Date(Date.now() + 16 * 60_000);
    const afterLock = await attempt('clerk', USER_PASSWORD);
    ctx.now.value = null;
    expect(afterLock.statusCode).toBe(200);
    const audit = await ok(call(ctx.app, admin, 'GET', '/api/audit?action=account_locked'));
    expect(audit.total).toBeGreaterThanOrEqual(1);
  });

  it('does not tell a locked account from an unknown username, by answer or by time', async () => {
    await createUser(ctx.app, admin, 'locked.one', (await ok(call(ctx.app, admin, 'GET', '/api/auth/me'))).orgUnitId, [
      'attendant',
    ]);
    const attempt = async (username: string) => {
      const started = performance.now();
      const res = await call(ctx.app, null, 'POST', '/api/auth/login', { username, password: 'wrong-wrong' });
      return { res, ms: performance.now() - started };
    };
    // Past the threshold a real account is locked; an unknown name never is. Both keep answering alike.
    const real: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 7; i++) {
      const a = await attempt('locked.one');
      const b = await attempt('no.such.user');
      expect(a.res.statusCode).toBe(401);
      expect(a.res.body).toBe(b.res.body);
      if (i >= 3) {
        real.push(a.ms);
        unknown.push(b.ms);
      }
    }
    const users = await ok(call(ctx.app, admin, 'GET', '/api/users?q=locked.one'));
    expect(users.items[0].locked).toBe(true);
    // A locked account's refusal still verifies the password (argon2id), as an unknown name's does: a
    // refusal without it would take a tenth of the time.
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const ratio = median(real) / median(unknown);
    expect(ratio, `locked ${median(real).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)} ms`).toBeGreaterThan(
      0.4,
    );
    expect(ratio, `locked ${median(real).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)} ms`).toBeLessThan(2.5);
  });

  it('lets an admin unlock a locked account', async () => {
    for (let i = 0; i < 3; i++)
      await call(ctx.app, null, 'POST', '/api/auth/login', { username: 'clerk', password: 'wrong-wrong' });
    const users = await ok(call(ctx.app, admin, 'GET', '/api/users?q=clerk'));
    const clerk = users.items[0];
    expect(clerk.locked).toBe(true);
    await ok(call(ctx.app, admin, 'POST', `/api/users/${clerk.id}/unlock`));
    await login(ctx.app, 'clerk', USER_PASSWORD);
  });

  it('refuses a disabled account', async () => {
    const users = await ok(call(ctx.app, admin, 'GET', '/api/users?q=clerk'));
    const clerk = users.items[0];
    const s = await login(ctx.app, 'clerk', USER_PASSWORD);
    await ok(call(ctx.app, admin, 'PATCH', `/api/users/${clerk.id}`, { active: false, version: clerk.version }));
    expect((await call(ctx.app, s, 'GET', '/api/auth/me')).statusCode).toBe(401);
    const res = await call(ctx.app, null, 'POST', '/api/auth/login', { username: 'clerk', password: USER_PASSWORD });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('ACCOUNT_DISABLED');
  });

  it('refuses a mutating request without the CSRF token, or with the wrong one', async () => {
    const noHeader = await ctx.app.inject({
      method: 'POST',
      url: '/api/org/units',
      headers: { cookie: admin.cookie },
      payload: { parentId: 1, kindCode: 'area', code: 'X1', name: 'x' },
    });
    expect(noHeader.statusCode).toBe(403);
    expect(noHeader.json().error.code).toBe('CSRF_FAILED');
    const wrong = await ctx.app.inject({
      method: 'POST',
      url: '/api/org/units',
      headers: { cookie: admin.cookie, 'x-csrf-token': 'forged' },
      payload: { parentId: 1, kindCode: 'area', code: 'X1', name: 'x' },
    });
    expect(wrong.statusCode).toBe(403);
    const units = await ok<{ code: string }[]>(call(ctx.app, admin, 'GET', '/api/org/units'));
    expect(units.find((u) => u.code === 'X1')).toBeUndefined();
  });

  it('expires a session after the idle limit and after the absolute limit', async () => {
    const s = await login(ctx.app, 'admin', ADMIN_PASSWORD);
    ctx.now.value = new Date(Date.now() + 31 * 60_000);
    const idle = await call(ctx.app, s, 'GET', '/api/auth/me');
    ctx.now.value = null;
    expect(idle.statusCode).toBe(401);
    expect(idle.json().error.code).toBe('SESSION_EXPIRED');

    // Active every 20 minutes, but the absolute limit still ends it after 12 hours.
    const busy = await login(ctx.app, 'admin', ADMIN_PASSWORD);
    const start = Date.now();
    for (let m = 20; m < 12 * 60; m += 20) {
      ctx.now.value = new Date(start + m * 60_000);
      expect((await call(ctx.app, busy, 'GET', '/api/auth/me')).statusCode).toBe(200);
    }
    ctx.now.value = new Date(start + 12 * 60 * 60_000 + 60_000);
    const absolute = await call(ctx.app, busy, 'GET', '/api/auth/me');
    ctx.now.value = null;
    expect(absolute.statusCode).toBe(401);
    expect(absolute.json().error.code).toBe('SESSION_EXPIRED');
  });

  it('changes a password: old one refused, other sessions ended, this one kept', async () => {
    const a = await login(ctx.app, 'admin', ADMIN_PASSWORD);
    const b = await login(ctx.app, 'admin', ADMIN_PASSWORD);
    const bad = await call(ctx.app, a, 'POST', '/api/auth/password', {
      currentPassword: 'wrong-current',
      newPassword: 'Fresh-passw0rd-42',
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.field).toBe('body.currentPassword');
    await ok(
      call(ctx.app, a, 'POST', '/api/auth/password', {
        currentPassword: ADMIN_PASSWORD,
        newPassword: 'Fresh-passw0rd-42',
      }),
    );
    expect((await call(ctx.app, a, 'GET', '/api/auth/me')).statusCode).toBe(200);
    expect((await call(ctx.app, b, 'GET', '/api/auth/me')).statusCode).toBe(401);
    expect(
      (await call(ctx.app, null, 'POST', '/api/auth/login', { username: 'admin', password: ADMIN_PASSWORD }))
        .statusCode,
    ).toBe(401);
    await login(ctx.app, 'admin', 'Fresh-passw0rd-42');
    await ok(
      call(ctx.app, a, 'POST', '/api/auth/password', {
        currentPassword: 'Fresh-passw0rd-42',
        newPassword: ADMIN_PASSWORD,
      }),
    );
  });

  it('signs out of all sessions', async () => {
    const a = await login(ctx.app, 'admin', ADMIN_PASSWORD);
    const b = await login(ctx.app, 'admin', ADMIN_PASSWORD);
    const res = await ok(call(ctx.app, a, 'POST', '/api/auth/logout-all'));
    expect(res.revoked).toBeGreaterThanOrEqual(2);
    expect((await call(ctx.app, a, 'GET', '/api/auth/me')).statusCode).toBe(401);
    expect((await call(ctx.app, b, 'GET', '/api/auth/me')).statusCode).toBe(401);
    admin = await login(ctx.app, 'admin', ADMIN_PASSWORD);
  });

  it('never writes a password or its hash into the audit log', async () => {
    const all = await ok(call(ctx.app, admin, 'GET', '/api/audit?pageSize=200'));
    const text = JSON.stringify(all.items);
    expect(text).not.toContain(USER_PASSWORD);
    expect(text).not.toContain(ADMIN_PASSWORD);
    expect(text).not.toContain('$argon2id$');
  });
});

describe('login rate limit', () => {
  describeEngines('per address', (engine) => {
    const ctx = useTestApp(engine, { loginRateLimitPerMinute: 5 });
    it('answers 429 past the limit', async () => {
      await setupAdmin(ctx.app);
      const codes: number[] = [];
      for (let i = 0; i < 7; i++)
        codes.push((await call(ctx.app, null, 'POST', '/api/auth/login', { username: 'x', password: 'y' })).statusCode);
      expect(codes.slice(0, 5).every((c) => c === 401)).toBe(true);
      expect(codes.slice(5)).toEqual([429, 429]);
    });
  });
});
