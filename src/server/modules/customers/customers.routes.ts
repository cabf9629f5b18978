import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { IdParams, Page, Paging, Version, errorResponses } from '../../schemas.js';
import { CUSTOMER_KINDS, type CustomersService } from './customers.service.js';
import type { MergeService } from './merge.service.js';
import { EXPORT_FORMATS } from './customer-export.js';
import { SEARCH_COUNT_LIMIT } from './customers.queries.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const Text = (max: number) => Type.String({ maxLength: max });
const Kind = Type.Union(CUSTOMER_KINDS.map((k) => Type.Literal(k)));

const Fields = {
  name: Nullable(Text(200)),
  surname: Nullable(Text(32)),
  gender: Type.Optional(Type.Union([Type.Literal('male'), Type.Literal('female'), Type.Null()])),
  organisation: Nullable(Text(200)),
  parentId: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  ownerUserId: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  routes: Nullable(Text(2000)),
  products: Nullable(Text(500)),
  fuelUse: Nullable(Text(500)),
  settlementMethod: Nullable(Text(32)),
  invoiceType: Nullable(Text(32)),
  demandVolume: Nullable(Text(200)),
  equipment: Nullable(Text(2000)),
  birthday: Type.Optional(
    Type.Union([
      Type.String({
        pattern: '^(19|2\\d)\\d{2}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$',
        description: 'YYYY-MM-DD; with birthdayCalendar lunar, the lunar month and day (up to 30)',
      }),
      Type.Null(),
    ]),
  ),
  birthdayCalendar: Type.Optional(
    Type.Union([Type.Literal('solar'), Type.Literal('lunar')], { description: 'How the birthday is kept' }),
  ),
  otherStations: Nullable(Text(2000)),
  whyUs: Nullable(Text(2000)),
  satisfaction: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 5 }), Type.Null()])),
  notes: Nullable(Text(5000)),
  lookAfter: Type.Optional(Type.Boolean()),
  phones: Type.Optional(
    Type.Array(
      Type.Object(
        {
          phone: Type.String({ minLength: 1, maxLength: 40 }),
          label: Nullable(Text(64)),
          contactName: Nullable(Text(100)),
        },
        { additionalProperties: false },
      ),
      { maxItems: 20 },
    ),
  ),
  vehicles: Type.Optional(
    Type.Array(
      Type.Object(
        { plate: Type.String({ minLength: 1, maxLength: 20 }), model: Nullable(Text(100)) },
        { additionalProperties: false },
      ),
      { maxItems: 50 },
    ),
  ),
  cards: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 50 })),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { maxItems: 30 })),
};

const Summary = Type.Object({
  id: Type.Integer(),
  code: Type.String(),
  kind: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  surname: Type.Union([Type.String(), Type.Null()]),
  organisation: Type.Union([Type.String(), Type.Null()]),
  orgUnitId: Type.Integer(),
  orgUnitName: Type.String(),
  ownerUserId: Type.Union([Type.Integer(), Type.Null()]),
  ownerName: Type.Union([Type.String(), Type.Null()]),
  plates: Type.Array(Type.String()),
  phones: Type.Array(Type.String()),
  tags: Type.Array(Type.String()),
  profileStep: Type.Integer(),
  lookAfter: Type.Boolean(),
  lastVisitAt: Type.Union([Type.String(), Type.Null()]),
  version: Type.Integer(),
});

const S = Type.Union([Type.String(), Type.Null()]);
const Detail = Type.Object({
  id: Type.Integer(),
  code: Type.String(),
  kind: Type.String(),
  name: S,
  surname: S,
  gender: S,
  organisation: S,
  parentId: Type.Union([Type.Integer(), Type.Null()]),
  orgUnitId: Type.Integer(),
  orgUnitName: Type.String(),
  ownerUserId: Type.Union([Type.Integer(), Type.Null()]),
  ownerName: S,
  routes: S,
  products: S,
  fuelUse: S,
  settlementMethod: S,
  invoiceType: S,
  demandVolume: S,
  equipment: S,
  birthday: S,
  birthdayCalendar: Type.Union([Type.Literal('solar'), Type.Literal('lunar')]),
  otherStations: S,
  whyUs: S,
  satisfaction: Type.Union([Type.Integer(), Type.Null()]),
  notes: S,
  lookAfter: Type.Boolean(),
  mergedIntoId: Type.Union([Type.Integer(), Type.Null()]),
  lastVisitAt: S,
  greeting: S,
  profileStep: Type.Integer(),
  nextQuestion: S,
  phones: Type.Array(
    Type.Object({ id: Type.Integer(), phone: Type.String(), kind: Type.String(), label: S, contactName: S }),
  ),
  vehicles: Type.Array(Type.Object({ id: Type.Integer(), plate: Type.String(), plateKind: Type.String(), model: S })),
  cards: Type.Array(Type.Object({ id: Type.Integer(), cardNo: Type.String(), status: Type.String() })),
  tags: Type.Array(Type.String()),
  visits: Type.Array(
    Type.Object({
      id: Type.Integer(),
      at: Type.String(),
      product: S,
      volumeLitres: Type.Union([Type.Number(), Type.Null()]),
      note: S,
      userName: S,
      orgUnitName: S,
      plate: S,
    }),
  ),
  merges: Type.Array(Type.Object({ id: Type.Integer(), mergedId: Type.Integer(), at: Type.String(), undoneAt: S })),
  history: Type.Array(
    Type.Object({
      id: Type.Integer(),
      at: Type.String(),
      actorName: Type.String({ description: 'The username recorded at the time' }),
      actorDisplayName: Type.Union([Type.String(), Type.Null()], {
        description: "The person's name now (null for the system or an unknown sign-in)",
      }),
      action: Type.String(),
    }),
  ),
  version: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const CustomerQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 100 })),
    plate: Type.Optional(Type.String({ maxLength: 20 })),
    phone: Type.Optional(Type.String({ maxLength: 40 })),
    card: Type.Optional(Type.String({ maxLength: 40 })),
    code: Type.Optional(Type.String({ maxLength: 64 })),
    tag: Type.Optional(Type.String({ maxLength: 32 })),
    kind: Type.Optional(Kind),
    ownerUserId: Type.Optional(Type.Integer({ minimum: 1 })),
    orgUnitId: Type.Optional(Type.Integer({ minimum: 1 })),
    lookAfter: Type.Optional(Type.Boolean()),
    sort: Type.Union(
      [Type.Literal('code'), Type.Literal('name'), Type.Literal('lastVisitAt'), Type.Literal('createdAt')],
      { default: 'createdAt' },
    ),
    order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' }),
    ...Paging,
  },
  { additionalProperties: false },
);

const customerResource = { type: 'customer', param: 'id' } as const;
const tags = ['customers'];

export function customersRoutes(app: App, svc: CustomersService, merges: MergeService): void {
  app.get('/api/customers', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      tags,
      summary: 'Search customers of your subtree (and areas lent to you)',
      querystring: CustomerQuery,
      response: {
        200: Type.Composite([
          Page(Summary),
          Type.Object({
            totalIsLowerBound: Type.Boolean({
              description: `true when more than ${SEARCH_COUNT_LIMIT} customers match: total is then ${SEARCH_COUNT_LIMIT}, a lower bound`,
            }),
          }),
        ]),
        ...errorResponses,
      },
    },
    handler: (req) => svc.search(requirePrincipal(req), req.query),
  });

  app.get('/api/customers/export', {
    config: { access: { permission: 'customer.export' } },
    schema: {
      tags,
      summary: "Export the matching customers as CSV (UTF-8 with BOM) or XLSX in the reader's language (audited)",
      querystring: Type.Composite(
        [
          Type.Omit(CustomerQuery, ['page', 'pageSize']),
          Type.Object({
            format: Type.Union(
              EXPORT_FORMATS.map((f) => Type.Literal(f)),
              { default: 'csv' },
            ),
          }),
        ],
        { additionalProperties: false },
      ),
    },
    handler: async (req, reply) => {
      const { format, ...filter } = req.query;
      const file = await svc.export(requirePrincipal(req), req.ip, filter, format);
      // filename= for old clients (ASCII), filename*= carries the reader's language.
      const ascii = `customers.${format}`;
      return reply
        .header('content-type', file.contentType)
        .header(
          'content-disposition',
          `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.fileName)}`,
        )
        .send(file.body);
    },
  });

  app.get('/api/customers/duplicates', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      tags,
      summary: 'Likely duplicates: customers sharing a plate or phone',
      response: {
        200: Type.Array(Type.Object({ on: Type.String(), value: Type.String(), customers: Type.Array(Summary) })),
        ...errorResponses,
      },
    },
    handler: (req) => svc.duplicateReview(requirePrincipal(req)),
  });

  app.get('/api/customers/:id', {
    config: { access: { permission: 'customer.read', resource: customerResource } },
    schema: {
      tags,
      summary: 'The full customer record (the read is audited)',
      params: IdParams,
      response: { 200: Detail, ...errorResponses },
    },
    handler: (req) => svc.get(requirePrincipal(req), req.params.id, req.ip),
  });

  app.post('/api/customers', {
    config: { access: { permission: 'customer.write' } },
    schema: {
      tags,
      summary: 'Create a customer; a plate, phone or card already on file answers DUPLICATE_SUSPECTED with the matches',
      body: Type.Object(
        {
          kind: Kind,
          orgUnitId: Type.Optional(Type.Integer({ minimum: 1 })),
          confirmDuplicate: Type.Optional(Type.Boolean()),
          ...Fields,
        },
        { additionalProperties: false },
      ),
      response: { 201: Detail, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await svc.create(requirePrincipal(req), req.ip, req.body)),
  });

  app.patch('/api/customers/:id', {
    config: { access: { permission: 'customer.write', resource: customerResource } },
    schema: {
      tags,
      summary: 'Edit a customer; a stale version answers VERSION_CONFLICT',
      params: IdParams,
      body: Type.Object(
        {
          kind: Type.Optional(Kind),
          orgUnitId: Type.Optional(Type.Integer({ minimum: 1 })),
          version: Version,
          ...Fields,
        },
        { additionalProperties: false },
      ),
      response: { 200: Detail, ...errorResponses },
    },
    handler: (req) => svc.update(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.post('/api/customers/:id/merge', {
    config: { access: { permission: 'customer.merge', resource: customerResource } },
    schema: {
      tags,
      summary: 'Merge another customer into this one (keeps all history; can be undone)',
      params: IdParams,
      body: Type.Object({ mergedId: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ mergeId: Type.Integer() }), ...errorResponses },
    },
    handler: (req) => merges.merge(requirePrincipal(req), req.ip, req.params.id, req.body.mergedId),
  });

  app.post('/api/customers/:id/merges/:mergeId/undo', {
    config: { access: { permission: 'customer.merge', resource: customerResource } },
    schema: {
      tags,
      summary: 'Undo a merge into this customer',
      params: Type.Object(
        { id: Type.Integer({ minimum: 1 }), mergeId: Type.Integer({ minimum: 1 }) },
        { additionalProperties: false },
      ),
      response: { 200: Type.Object({ ok: Type.Boolean() }), ...errorResponses },
    },
    handler: async (req) => {
      await merges.undo(requirePrincipal(req), req.ip, req.params.id, req.params.mergeId);
      return { ok: true };
    },
  });
}
