import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { IdParams, errorResponses } from '../../schemas.js';
import type { AccessService } from './access.service.js';

const S = Type.Union([Type.String(), Type.Null()]);
const RequestSchema = Type.Object({
  id: Type.Integer(),
  requesterId: Type.Integer(),
  requesterName: Type.String(),
  targetOrgUnitId: Type.Integer(),
  targetName: Type.String(),
  reason: Type.String(),
  days: Type.Integer(),
  mode: Type.Union([Type.Literal('read'), Type.Literal('write')], {
    description: 'what the grant lends: reading only, or writing too',
  }),
  requiredSlots: Type.Array(Type.String()),
  status: Type.String(),
  validFrom: S,
  validUntil: S,
  createdAt: Type.String(),
  approvals: Type.Array(
    Type.Object({
      slot: Type.String(),
      decision: Type.String(),
      comment: S,
      at: Type.String(),
      approverId: Type.Integer(),
      approverName: Type.String(),
    }),
  ),
});
const tags = ['access requests'];

export function accessRoutes(app: App, svc: AccessService): void {
  app.get('/api/access-requests', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      tags,
      summary: 'Your requests, or those waiting for your approval',
      querystring: Type.Object(
        { box: Type.Union([Type.Literal('mine'), Type.Literal('to_approve')], { default: 'mine' }) },
        { additionalProperties: false },
      ),
      response: { 200: Type.Array(RequestSchema), ...errorResponses },
    },
    handler: (req) => svc.list(requirePrincipal(req), req.query.box),
  });

  app.get('/api/access-requests/targets', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      tags,
      summary: 'Org units whose customers you may ask to read (outside what you can read now)',
      response: {
        200: Type.Array(Type.Object({ id: Type.Integer(), code: Type.String(), name: Type.String(), parentName: S })),
        ...errorResponses,
      },
    },
    handler: (req) => svc.targets(requirePrincipal(req)),
  });

  app.post('/api/access-requests', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      tags,
      summary: "Ask to read (or, when needed, also to change) another area's customer archive for a number of days",
      body: Type.Object(
        {
          targetOrgUnitId: Type.Integer({ minimum: 1 }),
          reason: Type.String({ minLength: 2, maxLength: 1000 }),
          days: Type.Integer({ minimum: 1, maximum: 30 }),
          mode: Type.Optional(Type.Union([Type.Literal('read'), Type.Literal('write')], { default: 'read' })),
        },
        { additionalProperties: false },
      ),
      response: { 201: RequestSchema, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await svc.request(requirePrincipal(req), req.ip, req.body)),
  });

  app.post('/api/access-requests/:id/decision', {
    config: { access: { permission: 'access.approve', resource: { type: 'access_request', param: 'id' } } },
    schema: {
      tags,
      summary: 'Approve or reject an access request in the slot your role fills; each slot needs a different person',
      params: IdParams,
      body: Type.Object(
        {
          decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
          comment: Type.Optional(Type.String({ maxLength: 1000 })),
        },
        { additionalProperties: false },
      ),
      response: { 200: RequestSchema, ...errorResponses },
    },
    handler: (req) => svc.decide(requirePrincipal(req), req.ip, req.params.id, req.body.decision, req.body.comment),
  });
}
