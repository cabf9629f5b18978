import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { IdParams, errorResponses } from '../../schemas.js';
import { WEBHOOK_EVENTS } from '../../../domain/webhooks.js';
import type { WebhooksService } from './webhooks.service.js';

const S = Type.Union([Type.String(), Type.Null()]);
const N = Type.Union([Type.Integer(), Type.Null()]);
const EventName = Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e)));
const Webhook = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  orgUnitId: Type.Integer(),
  orgUnitName: Type.String(),
  active: Type.Boolean(),
  consecutiveFailures: Type.Integer(),
  disabledAt: S,
  disabledReason: S,
  createdByName: S,
  createdAt: Type.String(),
  pending: Type.Integer(),
  failed: Type.Integer(),
  lastDeliveredAt: S,
});
const WithSecret = Type.Composite([
  Webhook,
  Type.Object({
    secret: Type.String({
      description:
        'The signing secret, in this answer only: X-Forecourt-Signature is sha256=HMAC-SHA256(secret, "<X-Forecourt-Timestamp>.<body>") in hex',
    }),
  }),
]);
const Delivery = Type.Object({
  id: Type.Integer(),
  event: Type.String(),
  status: Type.Union([
    Type.Literal('pending'),
    Type.Literal('sending'),
    Type.Literal('delivered'),
    Type.Literal('failed'),
  ]),
  attempts: Type.Integer(),
  nextAttemptAt: S,
  lastStatusCode: N,
  lastError: S,
  lastAttemptAt: S,
  lastDurationMs: N,
  deliveredAt: S,
  replayOf: N,
  createdAt: Type.String(),
  payload: Type.String(),
});
const Body = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    url: Type.String({ minLength: 1, maxLength: 1000 }),
    events: Type.Array(EventName, { minItems: 1, maxItems: WEBHOOK_EVENTS.length }),
    orgUnitId: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
const tags = ['webhooks'];
const hook = { type: 'webhook' as const, param: 'id' };

export function webhooksRoutes(app: App, svc: WebhooksService): void {
  app.get('/api/webhooks', {
    config: { access: { permission: 'apikey.manage' } },
    schema: {
      tags,
      summary: 'Webhook subscriptions of your subtree, with pending and failed deliveries',
      response: { 200: Type.Array(Webhook), ...errorResponses },
    },
    handler: (req) => svc.list(requirePrincipal(req)),
  });

  app.post('/api/webhooks', {
    config: { access: { permission: 'apikey.manage' } },
    schema: {
      tags,
      summary:
        'Subscribe a receiver URL to events of an org unit and below; the signing secret is in this answer only (audited)',
      body: Body,
      response: { 201: WithSecret, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await svc.create(requirePrincipal(req), req.ip, req.body)),
  });

  app.patch('/api/webhooks/:id', {
    config: { access: { permission: 'apikey.manage', resource: hook } },
    schema: {
      tags,
      summary: 'Change a subscription, or switch it off or on again (on: from zero failures) (audited)',
      params: IdParams,
      body: Type.Object(
        {
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          url: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
          events: Type.Optional(Type.Array(EventName, { minItems: 1, maxItems: WEBHOOK_EVENTS.length })),
          active: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
      response: { 200: Webhook, ...errorResponses },
    },
    handler: (req) => svc.update(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.post('/api/webhooks/:id/rotate-secret', {
    config: { access: { permission: 'apikey.manage', resource: hook } },
    schema: {
      tags,
      summary: 'Replace the signing secret; the new one is in this answer only (audited)',
      params: IdParams,
      response: { 200: WithSecret, ...errorResponses },
    },
    handler: (req) => svc.rotateSecret(requirePrincipal(req), req.ip, req.params.id),
  });

  app.delete('/api/webhooks/:id', {
    config: { access: { permission: 'apikey.manage', resource: hook } },
    schema: {
      tags,
      summary: 'Delete a subscription and its delivery log (audited)',
      params: IdParams,
      response: { 200: Type.Object({ deleted: Type.Integer() }), ...errorResponses },
    },
    handler: async (req) => {
      await svc.remove(requirePrincipal(req), req.ip, req.params.id);
      return { deleted: req.params.id };
    },
  });

  app.get('/api/webhooks/:id/deliveries', {
    config: { access: { permission: 'apikey.manage', resource: hook } },
    schema: {
      tags,
      summary: 'The delivery log of a subscription, newest first',
      params: IdParams,
      querystring: Type.Object(
        {
          status: Type.Optional(
            Type.Union([
              Type.Literal('pending'),
              Type.Literal('sending'),
              Type.Literal('delivered'),
              Type.Literal('failed'),
            ]),
          ),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        },
        { additionalProperties: false },
      ),
      response: { 200: Type.Array(Delivery), ...errorResponses },
    },
    handler: (req) => svc.deliveries(req.params.id, req.query),
  });

  app.post('/api/webhook-deliveries/:id/replay', {
    config: { access: { permission: 'apikey.manage', resource: { type: 'webhook_delivery', param: 'id' } } },
    schema: {
      tags,
      summary: 'Send a finished delivery again, as a new delivery due now (audited)',
      params: IdParams,
      response: { 201: Delivery, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await svc.replay(requirePrincipal(req), req.ip, req.params.id)),
  });
}
