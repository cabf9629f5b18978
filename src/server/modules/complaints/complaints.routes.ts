import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { AppError } from '../../errors.js';
import { Id, IdParams, Page, Paging, errorResponses } from '../../schemas.js';
import { COMPLAINT_CHANNELS, COMPLAINT_STATES } from '../../../domain/complaint-workflow.js';
import { ATTACHMENT_MAX_BYTES } from './attachments.js';
import type { ComplaintsService } from './complaints.service.js';

const strict = { additionalProperties: false };
const S = Type.Union([Type.String(), Type.Null()]);
const N = Type.Union([Type.Integer(), Type.Null()]);
const Int = Type.Integer();
const tags = ['complaints'];
const lit = <T extends readonly string[]>(xs: T, description?: string) =>
  Type.Union(
    xs.map((x) => Type.Literal(x)),
    description ? { description } : {},
  );
const Channel = lit(
  COMPLAINT_CHANNELS,
  'station, hotline_400, suggestion_box, wechat, social_supervisor, regulator, media',
);
const State = lit(COMPLAINT_STATES, 'verify, review, rectify, callback, archive (the stage waiting), closed, merged');
const Code = Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9_]+$' });
const Name = Type.String({ minLength: 1, maxLength: 100 });
const Named = Type.Object({ code: Type.String(), nameZh: Type.String(), nameEn: Type.String() });
const Ref = Type.Object({ id: Int, caseNo: Type.String() });

const Catalog = Type.Object({
  categories: Type.Array(
    Type.Object(
      {
        code: Code,
        nameZh: Name,
        nameEn: Name,
        emergency: Type.Boolean({ description: 'Cases of this category go to company level at once' }),
        sort: Type.Integer({ minimum: 0, maximum: 10_000 }),
        active: Type.Boolean(),
      },
      strict,
    ),
    { minItems: 1, maxItems: 50 },
  ),
  severities: Type.Array(
    Type.Object(
      {
        code: Code,
        nameZh: Name,
        nameEn: Name,
        stageHours: Type.Integer({ minimum: 1, maximum: 2400, description: 'Hours each stage may take' }),
        sort: Type.Integer({ minimum: 0, maximum: 10_000 }),
        active: Type.Boolean(),
      },
      strict,
    ),
    { minItems: 1, maxItems: 20 },
  ),
});

/** The running stage's clock on a list row, read from stored instants, and the HQ list's marks. */
const SlaBrief = Type.Object({
  state: Type.String({ description: 'ok, warning (≥ 50 %), late (≥ 90 %), breached, paused, none (closed)' }),
  percent: Type.Union([Type.Integer({ description: 'Share of the stage’s allowance used' }), Type.Null()]),
  pauseReason: Type.Union([Type.String(), Type.Null()]),
  level: Type.Integer({ description: 'Highest level fired: 0, 50, 75, 90, 100 (breach), 125 (督办)' }),
  hqWatch: Type.Boolean({ description: 'On the HQ list: breached, supervised (督办) or emergency' }),
  supervisedAt: Type.Union([Type.String(), Type.Null()]),
  superviseCount: Type.Integer(),
});

const Summary = Type.Object({
  id: Int,
  caseNo: Type.String({ description: 'The acknowledgement number, e.g. TS-202612-000123' }),
  channel: Type.String(),
  category: Named,
  severity: Named,
  orgUnitId: Int,
  orgUnitName: Type.String(),
  ownerUnitId: N,
  ownerUnitName: S,
  customer: Type.Union([Type.Object({ id: Int, name: S, code: Type.String() }), Type.Null()]),
  complainantName: S,
  complainantPhone: Type.Union([Type.String({ description: 'Masked without customer.phone' }), Type.Null()]),
  plate: S,
  content: Type.String(),
  referenceNo: S,
  replyDeadline: S,
  emergency: Type.Boolean(),
  state: Type.String(),
  levelUp: Type.Integer({ description: 'Levels the owners moved up after unsatisfied callbacks' }),
  stageDueAt: S,
  overdue: Type.Boolean(),
  returnCount: Int,
  reassignCount: Int,
  reopenCount: Int,
  bouncing: Type.Boolean({ description: 'Returned or reassigned often: shown so it cannot bounce unseen' }),
  rating: N,
  customerFlag: Type.Boolean({ description: 'The customer is flagged "unhappy before" on his pump card' }),
  mergedIntoId: N,
  takenAt: Type.String(),
  takenByName: S,
  closedAt: S,
  updatedAt: Type.String(),
  version: Int,
});

/** A list row: the case and its clock (the case page reads the clock in full from /sla). */
const ListItem = Type.Object({ ...Summary.properties, sla: SlaBrief });

const Attachment = Type.Object({
  id: Int,
  stage: Type.String(),
  fileName: Type.String(),
  contentType: Type.String(),
  bytes: Int,
  uploadedAt: Type.String(),
  uploadedByName: S,
});

const Detail = Type.Object({
  ...Summary.properties,
  events: Type.Array(
    Type.Object({
      id: Int,
      action: Type.String(),
      fromState: S,
      toState: Type.String(),
      actorName: Type.String(),
      unitName: S,
      at: Type.String(),
      detail: Type.Record(Type.String(), Type.Unknown()),
    }),
  ),
  attachments: Type.Array(Attachment),
  owners: Type.Array(
    Type.Object({
      stage: Type.String(),
      level: Type.String(),
      roles: Type.Array(Type.String()),
      unitId: Int,
      unitName: Type.String(),
    }),
  ),
  duplicates: Type.Array(
    Type.Object({
      id: Int,
      caseNo: Type.String(),
      state: Type.String(),
      takenAt: Type.String(),
      reasons: Type.Array(Type.String(), { description: 'customer, phone, plate, station_category' }),
    }),
  ),
  linked: Type.Array(Type.Object({ ...Ref.properties, state: Type.String() })),
  merged: Type.Array(Ref),
  allowedActions: Type.Array(Type.String()),
  canAttach: Type.Boolean(),
});

const Step = Type.Union([
  Type.Literal('verify'),
  Type.Literal('review'),
  Type.Literal('rectify'),
  Type.Literal('callback'),
  Type.Literal('archive'),
  Type.Literal('return'),
  Type.Literal('reassign'),
]);

async function readBody(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > max) {
      stream.destroy();
      throw new AppError('BODY_TOO_LARGE', `a file may be at most ${max} bytes`, 'body');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function complaintsRoutes(app: App, svc: ComplaintsService): void {
  const complaint = { type: 'complaint' as const, param: 'id' };

  app.get('/api/complaints/catalog', {
    config: { access: { permission: 'complaint.intake' } },
    schema: {
      tags,
      summary: 'The complaint categories and severity levels, in use and retired',
      response: { 200: Catalog, ...errorResponses },
    },
    handler: () => svc.catalog(),
  });

  app.put('/api/complaints/catalog', {
    config: { access: { permission: 'policy.write' } },
    schema: {
      tags,
      summary: 'Rename, reorder, retire or add complaint categories and severity levels (codes on file are kept)',
      body: Catalog,
      response: { 200: Catalog, ...errorResponses },
    },
    handler: (req) => svc.saveCatalog(requirePrincipal(req), req.ip, req.body),
  });

  app.get('/api/complaints', {
    config: { access: { permission: 'complaint.intake' } },
    schema: {
      tags,
      summary: 'Complaints of my subtree, newest first (merged duplicates left out)',
      querystring: Type.Object(
        {
          state: Type.Optional(State),
          open: Type.Optional(Type.Boolean({ description: 'Only cases still in one of the five stages' })),
          categoryCode: Type.Optional(Code),
          severityCode: Type.Optional(Code),
          orgUnitId: Type.Optional(Type.Integer({ minimum: 1, description: 'Cases of this unit and below' })),
          emergency: Type.Optional(Type.Boolean()),
          customerId: Type.Optional(Type.Integer({ minimum: 1 })),
          watch: Type.Optional(
            Type.Boolean({ description: 'Only breached, supervised (督办) or emergency cases: the HQ list' }),
          ),
          ...Paging,
        },
        strict,
      ),
      response: { 200: Page(ListItem), ...errorResponses },
    },
    handler: (req) => svc.list(requirePrincipal(req), req.query),
  });

  app.post('/api/complaints', {
    config: { access: { permission: 'complaint.intake' } },
    schema: {
      tags,
      summary: 'Take a complaint from any channel; answers with its case number and possible duplicates',
      body: Type.Object(
        {
          channel: Channel,
          categoryCode: Code,
          severityCode: Code,
          orgUnitId: Type.Integer({ minimum: 1, description: 'The unit concerned (usually a station)' }),
          content: Type.String({ minLength: 1, maxLength: 4000, description: 'What the complainant says' }),
          customerId: Type.Optional(Id),
          complainantName: Type.Optional(Type.String({ maxLength: 100 })),
          complainantPhone: Type.Optional(Type.String({ maxLength: 32 })),
          plate: Type.Optional(Type.String({ maxLength: 16 })),
          referenceNo: Type.Optional(
            Type.String({ maxLength: 64, description: 'The regulator’s or medium’s reference (required for those)' }),
          ),
          replyDeadline: Type.Optional(
            Type.String({ format: 'date-time', description: 'When the regulator or medium wants the reply' }),
          ),
        },
        strict,
      ),
      response: { 201: Detail, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await svc.take(requirePrincipal(req), req.ip, req.body)),
  });

  app.get('/api/complaints/:id', {
    config: { access: { permission: 'complaint.intake', resource: complaint } },
    schema: {
      tags,
      summary: 'One complaint with its chain, trail, evidence, possible duplicates and the steps I may take',
      params: IdParams,
      response: { 200: Detail, ...errorResponses },
    },
    handler: (req) => svc.get(requirePrincipal(req), req.params.id),
  });

  app.post('/api/complaints/:id/steps', {
    config: { access: { permission: 'complaint.handle', resource: complaint } },
    schema: {
      tags,
      summary:
        'Take the stage the case is at (verify, review, rectify with evidence, callback with a rating, archive), return it a stage with a reason, or reassign it to another unit',
      params: IdParams,
      body: Type.Object(
        {
          action: Step,
          note: Type.Optional(Type.String({ maxLength: 4000, description: 'What was found or done' })),
          rating: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: 'Callback: 1–5; 1–2 reopens' })),
          reason: Type.Optional(Type.String({ maxLength: 2000, description: 'Why it is returned or reassigned' })),
          orgUnitId: Type.Optional(Type.Integer({ minimum: 1, description: 'Reassign: the unit it goes to' })),
          version: Type.Optional(Int),
        },
        strict,
      ),
      response: { 200: Detail, ...errorResponses },
    },
    handler: (req) => {
      const { action, ...body } = req.body;
      return svc.step(requirePrincipal(req), req.ip, req.params.id, action, body);
    },
  });

  app.post('/api/complaints/:id/links', {
    config: { access: { permission: 'complaint.handle', resource: complaint } },
    schema: {
      tags,
      summary: 'Link another case as the same matter, or merge it into this one (undone by DELETE)',
      params: IdParams,
      body: Type.Object({ otherId: Id, mode: Type.Union([Type.Literal('link'), Type.Literal('merge')]) }, strict),
      response: { 200: Detail, ...errorResponses },
    },
    handler: (req) => svc.link(requirePrincipal(req), req.ip, req.params.id, req.body.otherId, req.body.mode),
  });

  app.delete('/api/complaints/:id/links/:otherId', {
    config: { access: { permission: 'complaint.handle', resource: complaint } },
    schema: {
      tags,
      summary: 'Undo a link or a merge (the merged case returns to its stage with its trail)',
      params: Type.Object({ id: Id, otherId: Id }, strict),
      response: { 200: Detail, ...errorResponses },
    },
    handler: (req) => svc.unlink(requirePrincipal(req), req.ip, req.params.id, req.params.otherId),
  });

  void app.register(async (child) => {
    const scope = child.withTypeProvider<TypeBoxTypeProvider>();
    scope.addContentTypeParser(
      'application/octet-stream',
      (_req: FastifyRequest, payload: unknown, done: (err: Error | null, body?: unknown) => void) =>
        done(null, payload),
    );
    scope.post('/api/complaints/:id/attachments', {
      config: { access: { permission: 'complaint.handle', resource: complaint } },
      schema: {
        tags,
        summary:
          'Add evidence as application/octet-stream (photo: JPEG, PNG, WebP, HEIC, re-encoded without EXIF; or PDF, Word, Excel; ≤ 10 MB)',
        params: IdParams,
        querystring: Type.Object({ fileName: Type.Optional(Type.String({ maxLength: 200 })) }, strict),
        response: { 201: Attachment, ...errorResponses },
      },
      handler: async (req, reply) => {
        if (!(req.body instanceof Readable))
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the file as application/octet-stream', 'content-type');
        const bytes = await readBody(req.body, ATTACHMENT_MAX_BYTES);
        return reply
          .code(201)
          .send(await svc.addAttachment(requirePrincipal(req), req.ip, req.params.id, req.query.fileName ?? '', bytes));
      },
    });
  });

  app.get('/api/complaints/:id/attachments/:attachmentId', {
    config: { access: { permission: 'complaint.intake', resource: complaint } },
    schema: {
      tags,
      summary: 'An evidence file of a complaint (to those who may read the case)',
      params: Type.Object({ id: Id, attachmentId: Id }, strict),
    },
    handler: async (req, reply) => {
      const file = await svc.attachment(req.params.id, req.params.attachmentId);
      return reply
        .header('content-type', file.contentType)
        .header('content-disposition', `inline; filename*=UTF-8''${encodeURIComponent(file.fileName)}`)
        .header('cache-control', 'private, max-age=3600')
        .header('x-content-type-options', 'nosniff')
        .send(file.bytes);
    },
  });
}
