import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { Id, IdParams, Paging, errorResponses } from '../../schemas.js';
import { OWNERSHIP_HOWS, type OwnershipHow } from '../../../domain/pool-rules.js';
import type { OwnershipService, ReassignBody } from './ownership.service.js';

const tags = ['ownership'];
const strict = { additionalProperties: false };
const S = Type.Union([Type.String(), Type.Null()]);
const N = Type.Union([Type.Integer(), Type.Null()]);
const How = Type.Unsafe<OwnershipHow>({
  type: 'string',
  enum: [...OWNERSHIP_HOWS],
  description: 'created, manual (by hand), reassign (bulk), pool_return (no follow-up), pool_claim',
});

const CustomerOwner = Type.Object({
  customerId: Type.Integer(),
  ownerUserId: N,
  ownerName: S,
  ownerSince: S,
  lastFollowUpAt: S,
  classCode: S,
  allowedLevels: Type.Union([Type.Array(Type.String()), Type.Null()], {
    description: 'Org level kinds whose people may own him under the policy; null: any',
  }),
  poolReturnAt: Type.Union([Type.String(), Type.Null()], {
    description: 'When he goes back to the pool if his owner does not follow him up before',
  }),
  pool: Type.Union([Type.Object({ since: Type.String(), reason: S, formerOwnerName: S }), Type.Null()]),
  mayChange: Type.Boolean(),
  history: Type.Array(
    Type.Object({
      id: Type.Integer(),
      how: How,
      reason: S,
      at: Type.String(),
      fromUserId: N,
      fromName: S,
      toUserId: N,
      toName: S,
      byName: S,
    }),
  ),
});

const Reassign = {
  fromUserId: Id,
  toUserId: Id,
  orgUnitId: Type.Optional(Id),
  kind: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'Only customers of this kind' })),
  customerIds: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: 5000, description: 'Only these customers' })),
};
const Brief = Type.Object({ id: Type.Integer(), code: Type.String(), name: S, classCode: S });

const Figures = {
  total: Type.Integer({ description: 'Live customers of the subtree' }),
  owned: Type.Integer(),
  unowned: Type.Integer({ description: 'Nobody owns them and they are not in the pool' }),
  inPool: Type.Integer(),
  employees: Type.Integer({ description: 'Active people of the subtree' }),
  belowMinimum: Type.Integer({ description: 'People who own fewer than the minimum (1:15)' }),
  overMaximum: Type.Integer({ description: 'People who own more than the maximum' }),
};

const ClaimStatus = Type.Object({
  claimsToday: Type.Integer(),
  dailyCap: Type.Integer(),
  owned: Type.Integer(),
  maxOwned: Type.Integer(),
  unitOwned: Type.Integer(),
  unitCapacity: Type.Integer(),
  coolingOffDays: Type.Integer(),
});

export function ownershipRoutes(app: App, svc: OwnershipService): void {
  app.get('/api/ownership/customers/:id', {
    config: { access: { permission: 'customer.read', resource: { type: 'customer', param: 'id' } } },
    schema: {
      tags,
      summary: 'A customer’s owner, his follow-up window, the pool and the history of owners',
      params: IdParams,
      response: { 200: CustomerOwner, ...errorResponses },
    },
    handler: (req) => svc.ofCustomer(requirePrincipal(req), req.params.id),
  });

  app.post('/api/ownership/customers/:id/owner', {
    config: { access: { permission: 'owner.assign', resource: { type: 'customer', param: 'id' } } },
    schema: {
      tags,
      summary: 'Change a customer’s owner by hand, with a reason (null: nobody)',
      params: IdParams,
      body: Type.Object(
        {
          ownerUserId: N,
          reason: Type.String({ minLength: 1, maxLength: 1000, description: 'Why the owner changes' }),
        },
        strict,
      ),
      response: { 200: CustomerOwner, ...errorResponses },
    },
    handler: (req) =>
      svc.changeOwner(requirePrincipal(req), req.ip, req.params.id, req.body.ownerUserId, req.body.reason),
  });

  app.post('/api/ownership/reassign/preview', {
    config: { access: { permission: 'owner.assign' } },
    schema: {
      tags,
      summary: 'What a bulk reassignment would move: how many customers, a sample, those the new owner may not own',
      body: Type.Object(Reassign, strict),
      response: {
        200: Type.Object({
          count: Type.Integer(),
          sample: Type.Array(Brief),
          misfits: Type.Array(Brief),
          misfitCount: Type.Integer(),
          toOwnedBefore: Type.Integer(),
          toOwnedAfter: Type.Integer(),
          overMaximum: Type.Boolean(),
        }),
        ...errorResponses,
      },
    },
    handler: async (req) => {
      const { list: _list, ...preview } = await svc.previewReassign(requirePrincipal(req), req.body as ReassignBody);
      return preview;
    },
  });

  app.post('/api/ownership/reassign', {
    config: { access: { permission: 'owner.assign' } },
    schema: {
      tags,
      summary: 'Move one person’s customers (all, or a filtered set) to another: a history row and an audit entry each',
      body: Type.Object(
        { ...Reassign, reason: Type.String({ minLength: 1, maxLength: 1000, description: 'Why they move' }) },
        strict,
      ),
      response: { 200: Type.Object({ moved: Type.Integer() }), ...errorResponses },
    },
    handler: (req) => svc.reassign(requirePrincipal(req), req.ip, req.body as ReassignBody),
  });

  app.get('/api/ownership/coverage', {
    config: { access: { permission: 'owner.assign' } },
    schema: {
      tags,
      summary: 'Coverage of a unit: customers with no owner, people below 1:15 and over the maximum, per child unit',
      querystring: Type.Object({ orgUnitId: Type.Optional(Id) }, strict),
      response: {
        200: Type.Object({
          unit: Type.Object({ id: Type.Integer(), name: Type.String(), kind: Type.String(), parentId: N }),
          minimum: Type.Integer(),
          maximum: Type.Integer(),
          ...Figures,
          children: Type.Array(
            Type.Object({ id: Type.Integer(), name: Type.String(), kind: Type.String(), ...Figures }),
          ),
          people: Type.Array(
            Type.Object({
              userId: Type.Integer(),
              displayName: Type.String(),
              username: Type.String(),
              orgUnitId: Type.Integer(),
              orgUnitName: Type.String(),
              levelKind: Type.String(),
              owned: Type.Integer(),
              flag: Type.Union([Type.Literal('below_minimum'), Type.Literal('over_maximum'), Type.Null()]),
            }),
            { description: 'The people of the subtree, fewest customers first (at most 500)' },
          ),
        }),
        ...errorResponses,
      },
    },
    handler: (req) => svc.coverage(requirePrincipal(req), req.query.orgUnitId),
  });

  app.get('/api/ownership/pool', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      tags,
      summary: 'The public pool (公海) of my subtree: customers back from owners who did not follow them up',
      querystring: Type.Object({ orgUnitId: Type.Optional(Id), ...Paging }, strict),
      response: {
        200: Type.Object({
          total: Type.Integer(),
          items: Type.Array(
            Type.Object({
              id: Type.Integer(),
              code: Type.String(),
              name: S,
              kind: Type.String(),
              orgUnitId: Type.Integer(),
              orgUnitName: Type.String(),
              poolSince: Type.String(),
              reason: S,
              formerOwnerName: S,
              formerOwnerIsMe: Type.Boolean(),
              lastVisitAt: S,
              classCode: S,
            }),
          ),
          mine: ClaimStatus,
        }),
        ...errorResponses,
      },
    },
    handler: (req) => svc.pool(requirePrincipal(req), req.query),
  });

  app.post('/api/ownership/pool/:id/claim', {
    config: { access: { permission: 'pool.claim', resource: { type: 'customer', param: 'id' } } },
    schema: {
      tags,
      summary: 'Claim a customer from the pool (daily cap, cooling-off, capacity and level rules apply)',
      params: IdParams,
      response: { 200: CustomerOwner, ...errorResponses },
    },
    handler: (req) => svc.claim(requirePrincipal(req), req.ip, req.params.id),
  });
}
