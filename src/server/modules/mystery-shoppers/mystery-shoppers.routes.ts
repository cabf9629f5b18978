import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { AppError } from '../../errors.js';
import { Id, IdParams, Instant, Page, Paging, errorResponses } from '../../schemas.js';
import { MAX_SCORE, MAX_WEIGHT } from '../../../domain/mystery-shopper.js';
import { PHOTO_LIMITS } from '../../storage/images.js';
import type { MysteryShoppersService } from './mystery-shoppers.service.js';

const strict = { additionalProperties: false };
const S = Type.Union([Type.String(), Type.Null()]);
const N = Type.Union([Type.Integer(), Type.Null()]);
const Int = Type.Integer();
const tags = ['mystery-shoppers'];
const Key = Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9_]+$' });
const Day = Type.String({
  pattern: '^(19|2\\d)\\d{2}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$',
  description: 'A business day, YYYY-MM-DD',
});

const Item = Type.Object(
  {
    key: Type.String({ maxLength: 32, description: 'Stable across versions: the analysis counts an item by its key' }),
    text: Type.String({ maxLength: 500 }),
    weight: Type.Integer({ minimum: -1000, maximum: 1000, description: `Points, 1 to ${MAX_WEIGHT}` }),
    critical: Type.Boolean({ description: 'Failing it fails the whole visit (automatic fail)' }),
    photoRequired: Type.Boolean(),
    answerType: Type.Union([Type.Literal('yes_no'), Type.Literal('score')]),
    maxScore: Type.Union([Type.Integer({ minimum: -1000, maximum: 1000 }), Type.Null()], {
      description: `Top score of a scored item (1 to ${MAX_SCORE}); null for yes/no`,
    }),
  },
  strict,
);
const Section = Type.Object(
  { title: Type.String({ maxLength: 200 }), items: Type.Array(Item, { maxItems: 100 }) },
  strict,
);
const FormFields = {
  title: Type.String({ maxLength: 200 }),
  passPercent: Type.Integer({ minimum: -1000, maximum: 1000, description: 'Weighted % a visit needs to pass' }),
  sections: Type.Array(Section, { maxItems: 30 }),
};

const Form = Type.Object({
  id: Int,
  code: Type.String(),
  version: Int,
  state: Type.String({ description: 'draft, published (frozen, assignable) or retired (superseded)' }),
  title: Type.String(),
  passPercent: Int,
  sections: Type.Array(Section),
  itemCount: Int,
  createdAt: Type.String(),
  updatedAt: Type.String(),
  publishedAt: S,
});

const Visit = Type.Union([
  Type.Object({
    id: Int,
    visitedAt: Type.String(),
    scorePercent: Type.Number(),
    passed: Type.Boolean(),
    criticalFailed: Type.Boolean(),
    comment: S,
  }),
  Type.Null(),
]);

const Assignment = Type.Object({
  id: Int,
  formId: Int,
  formCode: Type.String(),
  formVersion: Int,
  formTitle: Type.String(),
  orgUnitId: Int,
  orgUnitName: Type.String(),
  shopperUserId: Int,
  shopperName: Type.String(),
  windowFrom: Type.String(),
  windowTo: Type.String(),
  hourFrom: N,
  hourTo: N,
  note: S,
  state: Type.String({ description: 'open or done' }),
  visit: Visit,
});

const Photo = Type.Object({ id: Int, itemKey: Type.String(), uploadedAt: Type.String() });

const Sheet = Type.Object({
  ...Assignment.properties,
  passPercent: Int,
  sections: Type.Array(Section),
  photos: Type.Array(Photo),
});

const Detail = Type.Object({
  ...Sheet.properties,
  answers: Type.Array(
    Type.Object({
      itemKey: Type.String(),
      value: Int,
      points: Type.Number(),
      failed: Type.Boolean(),
      critical: Type.Boolean(),
    }),
  ),
});

const Action = Type.Object({
  id: Int,
  formCode: Type.String(),
  itemKey: Type.String(),
  itemText: Type.String(),
  scope: Type.String({ description: 'network (the whole subtree of the unit) or station' }),
  orgUnitId: Int,
  orgUnitName: Type.String(),
  periodFrom: Type.String(),
  periodTo: Type.String(),
  failedStations: Int,
  evaluatedStations: Int,
  note: S,
  dueAt: Type.String(),
  overdue: Type.Boolean(),
  state: Type.String(),
  closedAt: S,
  closedByName: S,
  closeNote: S,
});

async function readBody(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > max) {
      stream.destroy();
      throw new AppError('BODY_TOO_LARGE', `a photo may be at most ${max} bytes`, 'body');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function mysteryShoppersRoutes(app: App, svc: MysteryShoppersService): void {
  const form = { type: 'mystery_form' as const, param: 'id' };
  const assignment = { type: 'mystery_assignment' as const, param: 'id' };
  const action = { type: 'mystery_action' as const, param: 'id' };

  app.get('/api/mystery/forms', {
    config: { access: { permission: 'mystery.manage' } },
    schema: {
      tags,
      summary: 'Every version of every evaluation form (company-wide)',
      response: { 200: Type.Array(Form), ...errorResponses },
    },
    handler: () => svc.forms(),
  });

  app.post('/api/mystery/forms', {
    config: { access: { permission: 'policy.write' } },
    schema: {
      tags,
      summary: 'Start a new evaluation form as a draft (version 1)',
      body: Type.Object({ code: Type.String({ maxLength: 32 }), ...FormFields }, strict),
      response: { 201: Form, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await svc.createForm(requirePrincipal(req), req.ip, req.body)),
  });

  app.put('/api/mystery/forms/:id', {
    config: { access: { permission: 'policy.write', resource: form } },
    schema: {
      tags,
      summary: 'Edit a draft in place; editing a published version makes the next version’s draft',
      params: IdParams,
      body: Type.Object(FormFields, strict),
      response: { 200: Form, ...errorResponses },
    },
    handler: (req) => svc.saveForm(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.post('/api/mystery/forms/:id/publish', {
    config: { access: { permission: 'policy.write', resource: form } },
    schema: {
      tags,
      summary: 'Freeze a draft as the version assignments use (the previous version is retired)',
      params: IdParams,
      response: { 200: Form, ...errorResponses },
    },
    handler: (req) => svc.publishForm(requirePrincipal(req), req.ip, req.params.id),
  });

  app.get('/api/mystery/assignments', {
    config: { access: { permission: 'mystery.read' } },
    schema: {
      tags,
      summary: 'Evaluation assignments of the stations of my subtree, the latest window first',
      querystring: Type.Object(
        {
          orgUnitId: Type.Optional(Id),
          state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('done')])),
          ...Paging,
        },
        strict,
      ),
      response: { 200: Page(Assignment), ...errorResponses },
    },
    handler: (req) => svc.list(requirePrincipal(req), req.query),
  });

  app.post('/api/mystery/assignments', {
    config: { access: { permission: 'mystery.manage' } },
    schema: {
      tags,
      summary: 'Send a mystery shopper to a station with a published form and a visit window',
      body: Type.Object(
        {
          formId: Id,
          orgUnitId: Id,
          shopperUserId: Id,
          windowFrom: Instant,
          windowTo: Instant,
          hourFrom: Type.Optional(Type.Integer({ minimum: 0, maximum: 23, description: 'Daily hours, station time' })),
          hourTo: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 })),
          note: Type.Optional(Type.String({ maxLength: 500 })),
        },
        strict,
      ),
      response: { 201: Assignment, ...errorResponses },
    },
    handler: async (req, reply) =>
      reply.code(201).send(await svc.createAssignment(requirePrincipal(req), req.ip, req.body)),
  });

  app.get('/api/mystery/shoppers', {
    config: { access: { permission: 'mystery.manage' } },
    schema: {
      tags,
      summary: 'Active users who may evaluate stations, to assign',
      response: {
        200: Type.Array(Type.Object({ id: Int, displayName: Type.String(), orgUnitName: Type.String() })),
        ...errorResponses,
      },
    },
    handler: () => svc.shoppers(),
  });

  app.get('/api/mystery/my-assignments', {
    config: { access: { permission: 'mystery.evaluate' } },
    schema: {
      tags,
      summary: 'My own evaluation assignments (a shopper sees no others)',
      response: { 200: Type.Array(Assignment), ...errorResponses },
    },
    handler: (req) => svc.mine(requirePrincipal(req)),
  });

  app.get('/api/mystery/assignments/:id', {
    config: { access: { permission: 'mystery.read', resource: assignment } },
    schema: {
      tags,
      summary: 'An assignment with its form version, the visit’s score, answers and photos',
      params: IdParams,
      response: { 200: Detail, ...errorResponses },
    },
    handler: (req) => svc.detail(req.params.id),
  });

  app.get('/api/mystery/assignments/:id/sheet', {
    config: { access: { permission: 'mystery.evaluate', resource: assignment } },
    schema: {
      tags,
      summary: 'The form to fill in for my own assignment, with the photos sent so far',
      params: IdParams,
      response: { 200: Sheet, ...errorResponses },
    },
    handler: (req) => svc.sheet(requirePrincipal(req), req.params.id),
  });

  app.post('/api/mystery/assignments/:id/visit', {
    config: { access: { permission: 'mystery.evaluate', resource: assignment } },
    schema: {
      tags,
      summary:
        'Record the visit: within the window, every item answered (yes/no as 1/0, or a score), required photos sent',
      params: IdParams,
      body: Type.Object(
        {
          answers: Type.Array(
            Type.Object({ itemKey: Key, value: Type.Integer({ minimum: -1000, maximum: 1000 }) }, strict),
            { maxItems: 500 },
          ),
          visitedAt: Type.Optional(Instant),
          comment: Type.Optional(Type.String({ maxLength: 4000 })),
        },
        strict,
      ),
      response: { 200: Detail, ...errorResponses },
    },
    handler: (req) => svc.recordVisit(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  void app.register(async (child) => {
    const scope = child.withTypeProvider<TypeBoxTypeProvider>();
    scope.addContentTypeParser(
      'application/octet-stream',
      (_req: FastifyRequest, payload: unknown, done: (err: Error | null, body?: unknown) => void) =>
        done(null, payload),
    );
    scope.post('/api/mystery/assignments/:id/photos', {
      config: { access: { permission: 'mystery.evaluate', resource: assignment } },
      schema: {
        tags,
        summary:
          'A photo for an item, as application/octet-stream (JPEG, PNG, WebP, HEIC; type read from the content, re-encoded without EXIF)',
        params: IdParams,
        querystring: Type.Object({ itemKey: Key }, strict),
        response: { 201: Photo, ...errorResponses },
      },
      handler: async (req, reply) => {
        if (!(req.body instanceof Readable))
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the photo as application/octet-stream', 'content-type');
        const bytes = await readBody(req.body, PHOTO_LIMITS.maxBytes);
        return reply
          .code(201)
          .send(await svc.addPhoto(requirePrincipal(req), req.ip, req.params.id, req.query.itemKey, bytes));
      },
    });
  });

  app.get('/api/mystery/assignments/:id/photos/:photoId', {
    config: { access: { permission: 'mystery.read', resource: assignment } },
    schema: {
      tags,
      summary: 'A photo of a visit (to those who may read the station’s results)',
      params: Type.Object({ id: Id, photoId: Id }, strict),
    },
    handler: async (req, reply) => {
      const file = await svc.photo(req.params.id, req.params.photoId);
      return reply
        .header('content-type', file.contentType)
        .header('cache-control', 'private, max-age=3600')
        .header('x-content-type-options', 'nosniff')
        .send(file.bytes);
    },
  });

  app.get('/api/mystery/results', {
    config: { access: { permission: 'mystery.read' } },
    schema: {
      tags,
      summary: 'Visits of my subtree in a period with their scores, and each station’s average and pass rate',
      querystring: Type.Object(
        { from: Day, to: Day, orgUnitId: Type.Optional(Id), formCode: Type.Optional(Key) },
        strict,
      ),
      response: {
        200: Type.Object({
          visits: Type.Array(
            Type.Object({
              id: Int,
              assignmentId: Int,
              orgUnitId: Int,
              orgUnitName: Type.String(),
              day: Type.String(),
              visitedAt: Type.String(),
              scorePercent: Type.Number(),
              passed: Type.Boolean(),
              criticalFailed: Type.Boolean(),
              formCode: Type.String(),
              formVersion: Int,
              formTitle: Type.String(),
            }),
          ),
          stations: Type.Array(
            Type.Object({
              orgUnitId: Int,
              orgUnitName: Type.String(),
              visits: Int,
              averagePercent: Type.Number(),
              passRate: Type.Number(),
            }),
          ),
        }),
        ...errorResponses,
      },
    },
    handler: (req) => svc.results(requirePrincipal(req), req.query),
  });

  app.get('/api/mystery/analysis', {
    config: { access: { permission: 'mystery.manage' } },
    schema: {
      tags,
      summary:
        'Per item of a form: stations evaluated and stations that failed it in the period, and whether a corrective action goes to the whole network or to those stations',
      querystring: Type.Object({ formCode: Key, from: Day, to: Day }, strict),
      response: {
        200: Type.Object({
          networkSharePercent: Int,
          networkMinStations: Int,
          items: Type.Array(
            Type.Object({
              itemKey: Type.String(),
              text: Type.String(),
              critical: Type.Boolean(),
              evaluatedStations: Int,
              failedStations: Int,
              sharePercent: Type.Number(),
              answers: Int,
              failedAnswers: Int,
              decision: Type.Union([Type.Literal('network'), Type.Literal('station'), Type.Null()]),
              stations: Type.Array(Type.Object({ orgUnitId: Int, orgUnitName: Type.String() })),
              openActions: Int,
            }),
          ),
        }),
        ...errorResponses,
      },
    },
    handler: (req) => svc.analysis(requirePrincipal(req), req.query),
  });

  app.post('/api/mystery/actions', {
    config: { access: { permission: 'mystery.manage' } },
    schema: {
      tags,
      summary:
        'Corrective action for an item: one for the whole network when many stations failed it, else one per station that failed it (work items with a due date)',
      body: Type.Object(
        {
          formCode: Key,
          itemKey: Key,
          from: Day,
          to: Day,
          dueAt: Type.Optional(Instant),
          note: Type.Optional(Type.String({ maxLength: 2000 })),
        },
        strict,
      ),
      response: {
        201: Type.Object({
          scope: Type.String(),
          evaluatedStations: Int,
          failedStations: Int,
          actionIds: Type.Array(Int),
        }),
        ...errorResponses,
      },
    },
    handler: async (req, reply) =>
      reply.code(201).send(await svc.createActions(requirePrincipal(req), req.ip, req.body)),
  });

  app.get('/api/mystery/actions', {
    config: { access: { permission: 'mystery.read' } },
    schema: {
      tags,
      summary: 'Corrective actions of my subtree, open ones first by due date',
      querystring: Type.Object(
        { state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')])), ...Paging },
        strict,
      ),
      response: { 200: Page(Action), ...errorResponses },
    },
    handler: (req) => svc.actions(requirePrincipal(req), req.query),
  });

  app.post('/api/mystery/actions/:id/close', {
    config: { access: { permission: 'mystery.read', resource: action } },
    schema: {
      tags,
      summary: 'Close a corrective action with what was done',
      params: IdParams,
      body: Type.Object({ note: Type.String({ minLength: 1, maxLength: 2000 }) }, strict),
      response: {
        200: Type.Object({ id: Int, state: Type.String(), closedAt: Type.String() }),
        ...errorResponses,
      },
    },
    handler: (req) => svc.closeAction(requirePrincipal(req), req.ip, req.params.id, req.body.note),
  });
}
