import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { IdParams, Ok, Version, errorResponses } from '../../schemas.js';
import type { OrgService } from './org.service.js';

const OrgUnitSchema = Type.Object({
  id: Type.Integer(),
  parentId: Type.Union([Type.Integer(), Type.Null()]),
  kindCode: Type.String(),
  code: Type.String(),
  name: Type.String(),
  timeZone: Type.String(),
  path: Type.String(),
  depth: Type.Integer(),
  version: Type.Integer(),
});

const LevelKindSchema = Type.Object({
  code: Type.String(),
  name_zh: Type.String(),
  name_en: Type.String(),
  rank: Type.Integer(),
});

const Code = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const TimeZone = Type.String({ minLength: 1, maxLength: 64 });
const tags = ['org'];

export function orgRoutes(app: App, svc: OrgService): void {
  app.get('/api/org/level-kinds', {
    config: { access: { permission: 'org.read' } },
    schema: {
      tags,
      summary: 'Org level kinds (HQ, branch, area, station…)',
      response: { 200: Type.Array(LevelKindSchema), ...errorResponses },
    },
    handler: () => svc.levelKinds(),
  });

  app.get('/api/org/units', {
    config: { access: { permission: 'org.read' } },
    schema: {
      tags,
      summary: 'Org units in your subtree, ordered by path',
      response: { 200: Type.Array(OrgUnitSchema), ...errorResponses },
    },
    handler: (req) => svc.list(requirePrincipal(req)),
  });

  app.get('/api/org/units/:id', {
    config: { access: { permission: 'org.read', resource: { type: 'org_unit', param: 'id' } } },
    schema: {
      tags,
      summary: 'One org unit of your subtree',
      params: IdParams,
      response: { 200: OrgUnitSchema, ...errorResponses },
    },
    handler: (req) => svc.get(req.params.id),
  });

  app.post('/api/org/units', {
    config: { access: { permission: 'org.write' } },
    schema: {
      tags,
      summary: 'Create an org unit under a parent in your subtree',
      body: Type.Object(
        {
          parentId: Type.Integer({ minimum: 1 }),
          kindCode: Type.String({ minLength: 1, maxLength: 32 }),
          code: Code,
          name: Name,
          timeZone: Type.Optional(TimeZone),
        },
        { additionalProperties: false },
      ),
      response: { 201: OrgUnitSchema, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await svc.create(requirePrincipal(req), req.ip, req.body)),
  });

  app.patch('/api/org/units/:id', {
    config: { access: { permission: 'org.write', resource: { type: 'org_unit', param: 'id' } } },
    schema: {
      tags,
      summary: 'Rename or re-code an org unit',
      params: IdParams,
      body: Type.Object(
        {
          name: Type.Optional(Name),
          code: Type.Optional(Code),
          timeZone: Type.Optional(TimeZone),
          kindCode: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
          version: Version,
        },
        { additionalProperties: false },
      ),
      response: { 200: OrgUnitSchema, ...errorResponses },
    },
    handler: (req) => svc.update(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.post('/api/org/units/:id/move', {
    config: { access: { permission: 'org.write', resource: { type: 'org_unit', param: 'id' } } },
    schema: {
      tags,
      summary: 'Move an org unit (and its subtree) under another parent',
      params: IdParams,
      body: Type.Object({ parentId: Type.Integer({ minimum: 1 }), version: Version }, { additionalProperties: false }),
      response: { 200: OrgUnitSchema, ...errorResponses },
    },
    handler: (req) => svc.move(requirePrincipal(req), req.ip, req.params.id, req.body.parentId, req.body.version),
  });

  app.delete('/api/org/units/:id', {
    config: { access: { permission: 'org.write', resource: { type: 'org_unit', param: 'id' } } },
    schema: {
      tags,
      summary: 'Delete an org unit that owns nothing',
      params: IdParams,
      response: { 200: Ok, ...errorResponses },
    },
    handler: async (req) => {
      await svc.remove(requirePrincipal(req), req.ip, req.params.id);
      return { ok: true };
    },
  });
}
