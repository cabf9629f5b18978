import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { errorResponses } from '../../schemas.js';
import { PRODUCTS, type PumpService } from './pump.service.js';

const S = Type.Union([Type.String(), Type.Null()]);
const Match = Type.Object({
  customerId: Type.Integer(),
  vehicleId: Type.Integer(),
  plate: Type.String(),
  model: S,
  code: Type.String(),
  kind: Type.String(),
  name: S,
  greeting: S,
  notes: S,
  lookAfter: Type.Boolean(),
  unhappyBefore: Type.Boolean({ description: 'He complained and the case is not closed after its callback yet' }),
  tags: Type.Array(Type.String()),
  profileStep: Type.Integer(),
  nextQuestion: S,
  lastVisitAt: S,
  lastProduct: S,
});
const tags = ['pump'];

export function pumpRoutes(app: App, svc: PumpService): void {
  app.get('/api/pump/products', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      tags,
      summary: 'Products offered at the pump',
      response: { 200: Type.Array(Type.String()), ...errorResponses },
    },
    handler: async () => [...PRODUCTS],
  });

  app.get('/api/pump/lookup', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      tags,
      summary: 'Find customers by any 2+ characters of a plate (start, end or middle), best match first',
      querystring: Type.Object(
        {
          q: Type.String({ minLength: 2, maxLength: 20 }),
          limit: Type.Integer({ minimum: 1, maximum: 30, default: 10 }),
        },
        { additionalProperties: false },
      ),
      response: { 200: Type.Array(Match), ...errorResponses },
    },
    handler: (req) => svc.lookup(requirePrincipal(req), req.query.q, req.query.limit),
  });

  app.get('/api/pump/visits/today', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      tags,
      summary: "Today's visits in my unit's subtree, newest first, with the day's count and litres",
      querystring: Type.Object(
        { limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }) },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          day: Type.String(),
          count: Type.Integer(),
          volumeMl: Type.Number(),
          items: Type.Array(
            Type.Object({
              visitId: Type.Integer(),
              at: Type.String(),
              product: S,
              volumeMl: Type.Union([Type.Number(), Type.Null()]),
              plate: S,
              customerId: Type.Union([Type.Integer(), Type.Null()]),
              greeting: S,
              stationName: Type.String(),
              recordedBy: S,
            }),
          ),
        }),
        ...errorResponses,
      },
    },
    handler: (req) => svc.today(requirePrincipal(req), new Date(), req.query.limit),
  });

  app.post('/api/pump/visits', {
    config: { access: { permission: 'customer.write' } },
    schema: {
      tags,
      summary:
        'Record a visit; an unknown plate becomes a step-1 customer, one on file elsewhere is counted for that customer',
      body: Type.Object(
        {
          customerId: Type.Optional(Type.Integer({ minimum: 1 })),
          vehicleId: Type.Optional(Type.Integer({ minimum: 1 })),
          plate: Type.Optional(Type.String({ minLength: 2, maxLength: 20 })),
          model: Type.Optional(Type.String({ maxLength: 100 })),
          product: Type.Optional(Type.String({ maxLength: 32 })),
          volumeLitres: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100_000 })),
          note: Type.Optional(Type.String({ maxLength: 1000 })),
        },
        { additionalProperties: false },
      ),
      response: {
        201: Type.Object({
          visitId: Type.Integer(),
          customerId: Type.Union([Type.Integer(), Type.Null()], {
            description: 'null when the plate is on file in another area',
          }),
          created: Type.Boolean(),
          elsewhere: Type.Boolean({ description: "counted for another area's customer, whose record stays hidden" }),
        }),
        ...errorResponses,
      },
    },
    handler: async (req, reply) => reply.code(201).send(await svc.recordVisit(requirePrincipal(req), req.ip, req.body)),
  });
}
