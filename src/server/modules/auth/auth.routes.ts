import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import type { App } from '../../http.js';
import type { Config } from '../../config.js';
import { requirePrincipal } from '../../auth/access.js';
import { SESSION_COOKIE } from '../../auth/session.service.js';
import type { Principal } from '../../auth/principal.js';
import { Ok, errorResponses } from '../../schemas.js';
import type { AuthService } from './auth.service.js';

const MeSchema = Type.Object({
  userId: Type.Integer(),
  username: Type.String(),
  displayName: Type.String(),
  orgUnitId: Type.Integer(),
  orgPath: Type.String(),
  permissions: Type.Array(Type.String()),
  roles: Type.Array(Type.String()),
  locale: Type.String(),
  csrfToken: Type.String(),
  mustChangePassword: Type.Boolean({
    description: 'the password is an initial one: change it (POST /api/auth/password) before anything else',
  }),
});
const SessionStarted = Type.Object({ csrfToken: Type.String() });
const Username = Type.String({ minLength: 1, maxLength: 64 });
const Password = Type.String({ minLength: 1, maxLength: 200 });
const tags = ['auth'];

function me(p: Principal) {
  return {
    userId: p.userId,
    username: p.username,
    displayName: p.displayName,
    orgUnitId: p.orgUnitId,
    orgPath: p.orgPath,
    permissions: [...p.permissions].sort(),
    roles: [...p.roleCodes],
    locale: p.locale,
    csrfToken: p.csrfToken,
    mustChangePassword: p.mustChangePassword === true,
  };
}

export function authRoutes(app: App, svc: AuthService, config: Config): void {
  const setCookie = (reply: FastifyReply, token: string) =>
    reply.setCookie(SESSION_COOKIE, token, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: config.secureCookies,
      maxAge: config.sessionAbsoluteHours * 3600,
    });
  const rateLimit = { max: config.loginRateLimitPerMinute, timeWindow: 60_000 };

  app.get('/api/setup/status', {
    config: { access: { public: true } },
    schema: {
      tags,
      summary: 'Whether the first-run setup is still to be done, and whether this browser has a live session',
      response: { 200: Type.Object({ needsSetup: Type.Boolean(), signedIn: Type.Boolean() }) },
    },
    // The web app asks this before /api/auth/me, so a signed-out visit does not log a 401.
    handler: async (req) => ({ needsSetup: await svc.needsSetup(), signedIn: req.principal !== null }),
  });

  app.post('/api/setup', {
    config: { access: { public: true }, rateLimit },
    schema: {
      tags,
      summary: 'First run: create the company and its first admin (works once)',
      body: Type.Object(
        {
          company: Type.Object(
            {
              code: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }),
              name: Type.String({ minLength: 1, maxLength: 200 }),
              timeZone: Type.Optional(Type.String({ maxLength: 64 })),
            },
            { additionalProperties: false },
          ),
          admin: Type.Object(
            {
              username: Type.String({ minLength: 2, maxLength: 64, pattern: '^[A-Za-z0-9_.@-]+$' }),
              displayName: Type.String({ minLength: 1, maxLength: 100 }),
              password: Password,
            },
            { additionalProperties: false },
          ),
        },
        { additionalProperties: false },
      ),
      response: { 201: SessionStarted, ...errorResponses },
    },
    handler: async (req, reply) => {
      const { token, csrfToken } = await svc.setup(req.body, req.ip, req.headers['user-agent'] ?? null);
      setCookie(reply, token);
      return reply.code(201).send({ csrfToken });
    },
  });

  app.post('/api/auth/login', {
    config: { access: { public: true }, rateLimit },
    schema: {
      tags,
      summary: 'Sign in with username and password; sets the session cookie and returns the CSRF token',
      body: Type.Object({ username: Username, password: Password }, { additionalProperties: false }),
      response: { 200: SessionStarted, ...errorResponses, 429: errorResponses[401] },
    },
    handler: async (req, reply) => {
      const { token, csrfToken } = await svc.login(
        req.body.username,
        req.body.password,
        req.ip,
        req.headers['user-agent'] ?? null,
      );
      setCookie(reply, token);
      return { csrfToken };
    },
  });

  app.get('/api/auth/me', {
    config: { access: { session: true, beforePasswordChange: true } },
    schema: {
      tags,
      summary: 'The signed-in user, permissions and CSRF token',
      response: { 200: MeSchema, ...errorResponses },
    },
    handler: async (req) => me(requirePrincipal(req)),
  });

  app.post('/api/auth/logout', {
    config: { access: { session: true, beforePasswordChange: true } },
    schema: { tags, summary: 'Sign out of this session', response: { 200: Ok, ...errorResponses } },
    handler: async (req, reply) => {
      await svc.logout(requirePrincipal(req), req.ip);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return { ok: true };
    },
  });

  app.post('/api/auth/logout-all', {
    config: { access: { session: true, beforePasswordChange: true } },
    schema: {
      tags,
      summary: 'Sign out of all sessions, this one included',
      response: { 200: Type.Object({ revoked: Type.Integer() }), ...errorResponses },
    },
    handler: async (req, reply) => {
      const revoked = await svc.logoutAll(requirePrincipal(req), req.ip);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return { revoked };
    },
  });

  app.post('/api/auth/password', {
    config: { access: { session: true, beforePasswordChange: true } },
    schema: {
      tags,
      summary: 'Change your password (signs out your other sessions)',
      body: Type.Object({ currentPassword: Password, newPassword: Password }, { additionalProperties: false }),
      response: { 200: Ok, ...errorResponses },
    },
    handler: async (req) => {
      await svc.changePassword(requirePrincipal(req), req.ip, req.body.currentPassword, req.body.newPassword);
      return { ok: true };
    },
  });

  app.put('/api/auth/locale', {
    config: { access: { session: true } },
    schema: {
      tags,
      summary: 'Choose your interface language',
      body: Type.Object(
        { locale: Type.Union([Type.Literal('zh-CN'), Type.Literal('en-US')]) },
        { additionalProperties: false },
      ),
      response: { 200: Ok, ...errorResponses },
    },
    handler: async (req) => {
      await svc.setLocale(requirePrincipal(req), req.body.locale);
      return { ok: true };
    },
  });
}
