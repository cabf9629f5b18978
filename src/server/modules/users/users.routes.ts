import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { IdParams, Ok, Page, Paging, Version, errorResponses } from '../../schemas.js';
import type { UsersService } from './users.service.js';

export const UserSchema = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  displayName: Type.String(),
  orgUnitId: Type.Integer(),
  locale: Type.String(),
  active: Type.Boolean(),
  locked: Type.Boolean(),
  roles: Type.Array(Type.Object({ id: Type.Integer(), code: Type.String() })),
  version: Type.Integer(),
  createdAt: Type.String(),
});

const Username = Type.String({ minLength: 2, maxLength: 64, pattern: '^[A-Za-z0-9_.@-]+$' });
const DisplayName = Type.String({ minLength: 1, maxLength: 100 });
const Password = Type.String({ minLength: 1, maxLength: 200 });
const Locale = Type.Union([Type.Literal('zh-CN'), Type.Literal('en-US')]);
const RoleIds = Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 20 });
const userResource = { type: 'user', param: 'id' } as const;
const MUST_CHANGE =
  'the user must change this password at his first sign-in (until then only /api/auth/me, the password change and sign-out answer); false unless given';
const tags = ['users'];

export function usersRoutes(app: App, svc: UsersService): void {
  app.get('/api/users', {
    config: { access: { permission: 'user.read' } },
    schema: {
      tags,
      summary: 'Users in your subtree',
      querystring: Type.Object(
        {
          q: Type.Optional(Type.String({ maxLength: 100 })),
          orgUnitId: Type.Optional(Type.Integer({ minimum: 1 })),
          ...Paging,
        },
        { additionalProperties: false },
      ),
      response: { 200: Page(UserSchema), ...errorResponses },
    },
    handler: (req) => svc.search(requirePrincipal(req), req.query),
  });

  app.get('/api/users/:id', {
    config: { access: { permission: 'user.read', resource: userResource } },
    schema: {
      tags,
      summary: 'One user of your subtree',
      params: IdParams,
      response: { 200: UserSchema, ...errorResponses },
    },
    handler: (req) => svc.get(req.params.id),
  });

  app.post('/api/users', {
    config: { access: { permission: 'user.write' } },
    schema: {
      tags,
      summary: 'Create a user in an org unit of your subtree',
      body: Type.Object(
        {
          username: Username,
          displayName: DisplayName,
          orgUnitId: Type.Integer({ minimum: 1 }),
          password: Password,
          roleIds: RoleIds,
          locale: Type.Optional(Locale),
          mustChangePassword: Type.Optional(Type.Boolean({ description: MUST_CHANGE })),
        },
        { additionalProperties: false },
      ),
      response: { 201: UserSchema, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await svc.create(requirePrincipal(req), req.ip, req.body)),
  });

  app.patch('/api/users/:id', {
    config: { access: { permission: 'user.write', resource: userResource } },
    schema: {
      tags,
      summary: 'Edit a user whose rights do not exceed yours: name, unit, roles, language, active',
      params: IdParams,
      body: Type.Object(
        {
          displayName: Type.Optional(DisplayName),
          orgUnitId: Type.Optional(Type.Integer({ minimum: 1 })),
          roleIds: Type.Optional(RoleIds),
          active: Type.Optional(Type.Boolean()),
          locale: Type.Optional(Locale),
          version: Version,
        },
        { additionalProperties: false },
      ),
      response: { 200: UserSchema, ...errorResponses },
    },
    handler: (req) => svc.update(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.post('/api/users/:id/reset-password', {
    config: { access: { permission: 'user.write', resource: userResource } },
    schema: {
      tags,
      summary: 'Set a new password for a user whose rights do not exceed yours (signs him out)',
      params: IdParams,
      body: Type.Object(
        { password: Password, mustChangePassword: Type.Optional(Type.Boolean({ description: MUST_CHANGE })) },
        { additionalProperties: false },
      ),
      response: { 200: Ok, ...errorResponses },
    },
    handler: async (req) => {
      await svc.resetPassword(requirePrincipal(req), req.ip, req.params.id, req.body.password, {
        mustChangePassword: req.body.mustChangePassword ?? false,
      });
      return { ok: true };
    },
  });

  app.post('/api/users/:id/unlock', {
    config: { access: { permission: 'user.write', resource: userResource } },
    schema: {
      tags,
      summary: 'Unlock an account locked by failed sign-ins',
      params: IdParams,
      response: { 200: Ok, ...errorResponses },
    },
    handler: async (req) => {
      await svc.unlock(requirePrincipal(req), req.ip, req.params.id);
      return { ok: true };
    },
  });

  app.post('/api/users/:id/revoke-sessions', {
    config: { access: { permission: 'user.write', resource: userResource } },
    schema: {
      tags,
      summary: 'Sign a user out everywhere',
      params: IdParams,
      response: { 200: Type.Object({ revoked: Type.Integer() }), ...errorResponses },
    },
    handler: async (req) => ({ revoked: await svc.revokeSessions(requirePrincipal(req), req.ip, req.params.id) }),
  });
}
