import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { IdParams, Ok, Version, errorResponses } from '../../schemas.js';
import { PERMISSIONS } from '../../../domain/permissions.js';
import type { RolesService } from './roles.service.js';

const RoleSchema = Type.Object({
  id: Type.Integer(),
  code: Type.String(),
  nameZh: Type.String(),
  nameEn: Type.String(),
  builtin: Type.Boolean(),
  permissions: Type.Array(Type.String()),
  userCount: Type.Integer(),
  version: Type.Integer(),
});
const Perms = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 });
const tags = ['roles'];

export function rolesRoutes(app: App, svc: RolesService): void {
  app.get('/api/permissions', {
    config: { access: { session: true } },
    schema: {
      tags,
      summary: 'The permission catalogue',
      response: { 200: Type.Array(Type.String()), ...errorResponses },
    },
    handler: async () => [...PERMISSIONS],
  });

  // Role names are not secret and user admins need them to assign roles.
  app.get('/api/roles', {
    config: { access: { session: true } },
    schema: {
      tags,
      summary: 'Roles with their permissions and number of holders',
      response: { 200: Type.Array(RoleSchema), ...errorResponses },
    },
    handler: () => svc.list(),
  });

  app.post('/api/roles', {
    config: { access: { permission: 'role.write' } },
    schema: {
      tags,
      summary: 'Create a role from permissions you hold yourself',
      body: Type.Object(
        {
          code: Type.String({ minLength: 2, maxLength: 64, pattern: '^[a-z0-9_]+$' }),
          nameZh: Type.String({ minLength: 1, maxLength: 100 }),
          nameEn: Type.String({ minLength: 1, maxLength: 100 }),
          permissions: Perms,
        },
        { additionalProperties: false },
      ),
      response: { 201: RoleSchema, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await svc.create(requirePrincipal(req), req.ip, req.body)),
  });

  app.patch('/api/roles/:id', {
    config: { access: { permission: 'role.write' } },
    schema: {
      tags,
      summary: 'Rename a role or change its permissions (within your own; built-in roles from the head office only)',
      params: IdParams,
      body: Type.Object(
        {
          nameZh: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          nameEn: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          permissions: Type.Optional(Perms),
          version: Version,
        },
        { additionalProperties: false },
      ),
      response: { 200: RoleSchema, ...errorResponses },
    },
    handler: (req) => svc.update(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.delete('/api/roles/:id', {
    config: { access: { permission: 'role.write' } },
    schema: {
      tags,
      summary: 'Delete a custom role nobody holds',
      params: IdParams,
      response: { 200: Ok, ...errorResponses },
    },
    handler: async (req) => {
      await svc.remove(requirePrincipal(req), req.ip, req.params.id);
      return { ok: true };
    },
  });
}
