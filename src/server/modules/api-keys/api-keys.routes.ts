import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { IdParams, errorResponses } from '../../schemas.js';
import type { ApiKeysService } from './api-keys.service.js';

const S = Type.Union([Type.String(), Type.Null()]);
const ApiKey = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  keyPrefix: Type.String({ description: 'The first characters of the key, to recognise it by' }),
  orgUnitId: Type.Integer(),
  orgUnitName: Type.String(),
  createdByName: S,
  createdAt: Type.String(),
  revokedAt: S,
  lastUsedAt: S,
});
const tags = ['api-keys'];

export function apiKeysRoutes(app: App, svc: ApiKeysService): void {
  app.get('/api/api-keys', {
    config: { access: { permission: 'apikey.manage' } },
    schema: {
      tags,
      summary: 'API keys of your subtree, newest first',
      response: { 200: Type.Array(ApiKey), ...errorResponses },
    },
    handler: (req) => svc.list(requirePrincipal(req)),
  });

  app.post('/api/api-keys', {
    config: { access: { permission: 'apikey.manage' } },
    schema: {
      tags,
      summary: 'Create an API key bound to an org unit; the key is in this answer only (audited)',
      body: Type.Object(
        { name: Type.String({ minLength: 1, maxLength: 100 }), orgUnitId: Type.Optional(Type.Integer({ minimum: 1 })) },
        { additionalProperties: false },
      ),
      response: {
        201: Type.Composite([
          ApiKey,
          Type.Object({
            key: Type.String({
              description: 'The secret: send it as Authorization: Bearer <key>. Stored only as a hash.',
            }),
          }),
        ]),
        ...errorResponses,
      },
    },
    handler: async (req, reply) => reply.code(201).send(await svc.create(requirePrincipal(req), req.ip, req.body)),
  });

  app.post('/api/api-keys/:id/revoke', {
    config: { access: { permission: 'apikey.manage', resource: { type: 'api_key', param: 'id' } } },
    schema: {
      tags,
      summary: 'Revoke an API key; requests with it are refused from now on (audited)',
      params: IdParams,
      response: { 200: ApiKey, ...errorResponses },
    },
    handler: (req) => svc.revoke(requirePrincipal(req), req.ip, req.params.id),
  });
}
