import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { AppError } from '../../errors.js';
import { Id, IdParams, Instant, Month, Ok, Version, errorResponses } from '../../schemas.js';
import { COMPARISONS, PLAN_STATES, VISIT_ASPECTS } from '../../../domain/visit-plan.js';
import { PHOTO_LIMITS } from '../../storage/images.js';
import type { VisitPlansService } from './visit-plans.service.js';
import type { VisitRecordsService } from './visit-records.service.js';
import type { VisitSummaryService } from './visit-summary.service.js';

const strict = { additionalProperties: false };
const S = Type.Union([Type.String(), Type.Null()]);
const N = Type.Union([Type.Integer(), Type.Null()]);
const Int = Type.Integer();
const Day = Type.String({
  pattern: '^(19|2\\d)\\d{2}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$',
  description: 'YYYY-MM-DD',
});
const Time = Type.String({
  pattern: '^([01]\\d|2[0-3]):[0-5]\\d$',
  description: 'HH:MM, local time of the customer’s unit',
});
const Text = (max: number, description: string) => Type.String({ minLength: 1, maxLength: max, description });
const [DRAFT, SUBMITTED, APPROVED, RETURNED] = PLAN_STATES;
const PlanState = Type.Union([
  Type.Literal(DRAFT),
  Type.Literal(SUBMITTED),
  Type.Literal(APPROVED),
  Type.Literal(RETURNED),
]);
const tags = ['visits'];

const plan = { type: 'visit_plan', param: 'id' } as const;
const plannedVisit = { type: 'planned_visit', param: 'id' } as const;
const record = { type: 'visit_record', param: 'id' } as const;
const problem = { type: 'visit_problem', param: 'id' } as const;

const PlannedVisit = Type.Object({
  id: Int,
  customerId: Int,
  customerName: Type.String(),
  customerCode: Type.String(),
  orgUnitId: Int,
  plannedDay: Type.String(),
  plannedAt: Type.String(),
  reason: Type.String({ description: 'alert, decline, policy or manual' }),
  reasonDetail: S,
  state: Type.String({ description: 'planned, appointed, done or cancelled' }),
  appointedAt: S,
  appointmentNote: S,
  recordId: N,
});
const CalendarVisit = Type.Object({
  ...PlannedVisit.properties,
  planId: Int,
  planState: PlanState,
  ownerUserId: Int,
  ownerName: Type.String(),
  orgUnitName: Type.String(),
});
const PlanSummary = Type.Object({
  id: Int,
  ownerUserId: Int,
  ownerName: Type.String(),
  orgUnitId: Int,
  orgUnitName: Type.String(),
  month: Type.String(),
  state: PlanState,
  submittedAt: S,
  decidedAt: S,
  visits: Int,
  done: Int,
  version: Int,
});
const Plan = Type.Object({
  id: Int,
  ownerUserId: Int,
  ownerName: Type.String(),
  orgUnitId: Int,
  orgUnitName: Type.String(),
  month: Type.String(),
  state: PlanState,
  submittedAt: S,
  decidedAt: S,
  decidedByName: S,
  decisionNote: S,
  version: Int,
  allowedActions: Type.Array(Type.String(), {
    description: 'edit, submit, approve, return, move: what the reader may do now',
  }),
  visits: Type.Array(PlannedVisit),
  events: Type.Array(
    Type.Object({
      id: Int,
      action: Type.String(),
      fromState: S,
      toState: Type.String(),
      actorName: Type.String(),
      note: S,
      at: Type.String(),
    }),
  ),
});

const [BETTER, SAME, WORSE] = COMPARISONS;
const Comparison = Type.Union([Type.Literal(BETTER), Type.Literal(SAME), Type.Literal(WORSE)]);
const Aspect = Type.Object({ compared: Comparison, note: Type.Optional(Type.String({ maxLength: 1000 })) }, strict);
const Assessment = Type.Object(Object.fromEntries(VISIT_ASPECTS.map((a) => [a, Type.Optional(Aspect)])), {
  ...strict,
  description:
    'Each aspect compared with other sources and competitors: density, colour, price; delivery quantity, timeliness, safety, freight; process efficiency; service',
});
const CheckIn = Type.Object(
  {
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lng: Type.Number({ minimum: -180, maximum: 180 }),
    accuracyM: Type.Number({ minimum: 0, maximum: 100_000 }),
    at: Instant,
  },
  { ...strict, description: 'The phone’s position and time, sent only with the user’s consent' },
);
const RecordBody = Type.Object(
  {
    customerId: Id,
    plannedVisitId: Type.Optional(Id),
    visitedAt: Type.Optional(Instant),
    assessment: Assessment,
    marketOutlook: Type.Optional(Type.String({ maxLength: 4000 })),
    competitorsBetter: Type.Optional(Type.String({ maxLength: 4000, description: 'What competitors do better' })),
    note: Type.Optional(Type.String({ maxLength: 4000 })),
    followUps: Type.Optional(
      Type.Array(
        Type.Object({ action: Text(1000, 'What is to be done'), ownerUserId: Type.Optional(Id), dueDay: Day }, strict),
        { maxItems: 20 },
      ),
    ),
    checkIn: Type.Optional(CheckIn),
    problem: Type.Optional(Type.String({ maxLength: 4000, description: 'A problem to hand up one level' })),
  },
  strict,
);
const Record = Type.Object({
  id: Int,
  customerId: Int,
  customerName: Type.String(),
  customerCode: Type.String(),
  orgUnitId: Int,
  userId: N,
  userName: S,
  plannedVisitId: N,
  visitedAt: Type.String(),
  visitedDay: Type.String(),
  assessment: Type.Record(Type.String(), Type.Object({ compared: Type.String(), note: Type.Optional(Type.String()) })),
  marketOutlook: S,
  competitorsBetter: S,
  note: S,
  checkIn: Type.Union([
    Type.Object({ lat: Type.Number(), lng: Type.Number(), accuracyM: Type.Number(), at: Type.String() }),
    Type.Null(),
  ]),
  followUps: Type.Array(
    Type.Object({
      id: Int,
      action: Type.String(),
      ownerUserId: N,
      ownerName: S,
      dueDay: Type.String(),
      state: Type.String(),
      overdue: Type.Boolean(),
      doneAt: S,
    }),
  ),
  photos: Type.Array(Type.Object({ id: Int, width: N, height: N, bytes: Int, createdAt: Type.String() })),
  problems: Type.Array(Type.Object({ id: Int, state: Type.String(), text: Type.String(), orgUnitId: Int })),
  createdAt: Type.String(),
});
const RecordListItem = Type.Object({
  id: Int,
  customerId: Int,
  customerName: Type.String(),
  visitedAt: Type.String(),
  visitedDay: Type.String(),
  userName: S,
  note: S,
  competitorsBetter: S,
  checkedIn: Type.Boolean(),
});
const Problem = Type.Object({
  id: Int,
  recordId: N,
  customerId: Int,
  customerName: Type.String(),
  originUnitName: Type.String(),
  orgUnitId: Int,
  orgUnitName: Type.String({ description: 'The level holding it now' }),
  text: Type.String(),
  state: Type.String({ description: 'open or resolved' }),
  raisedAt: Type.String(),
  resolvedAt: S,
  steps: Type.Array(
    Type.Object({
      id: Int,
      action: Type.String(),
      actorName: Type.String(),
      note: S,
      at: Type.String(),
      fromUnitName: S,
      toUnitName: S,
    }),
  ),
});
const Overview = Type.Object({
  customer: Type.Object({
    id: Int,
    code: Type.String(),
    name: Type.String(),
    kind: Type.String(),
    orgUnitName: Type.String(),
    ownerName: S,
  }),
  months: Type.Array(Type.Object({ month: Type.String(), volumeL: Type.Number(), amountYuan: Type.Number() })),
  alerts: Type.Array(Type.Object({ id: Int, kind: Type.String(), openedAt: Type.String() })),
  records: Type.Array(RecordListItem),
  coming: Type.Array(
    Type.Object({
      id: Int,
      plannedAt: Type.String(),
      plannedDay: Type.String(),
      state: Type.String(),
      planState: Type.String(),
      mine: Type.Boolean(),
    }),
  ),
});
const Figures = { planned: Int, done: Int, recorded: Int, problems: Int, followUpsOverdue: Int };
const Summary = Type.Object({
  orgUnitId: Int,
  orgUnitName: Type.String(),
  weekStart: Type.String(),
  weekEnd: Type.String(),
  generatedAt: Type.String(),
  stored: Type.Boolean({ description: 'Kept by the Monday job; false: the figures as they stand now' }),
  totals: Type.Object(Figures),
  units: Type.Array(Type.Object({ id: Int, name: Type.String(), ...Figures })),
  people: Type.Array(Type.Object({ id: Int, name: Type.String(), orgUnitName: Type.String(), ...Figures })),
});
const SummaryQuery = Type.Object(
  {
    orgUnitId: Type.Optional(Id),
    weekStart: Type.Optional({ ...Day, description: 'The Monday of the week (default: last week)' }),
  },
  strict,
);
const Decision = Type.Object({ version: Version, note: Type.Optional(Type.String({ maxLength: 2000 })) }, strict);
const PhotoParams = Type.Object({ id: Id, photoId: Id }, strict);
const FollowUpParams = Type.Object({ id: Id, followUpId: Id }, strict);

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

export function visitsRoutes(
  app: App,
  plans: VisitPlansService,
  records: VisitRecordsService,
  summary: VisitSummaryService,
): void {
  // ---- plans ---------------------------------------------------------------------------------------
  app.get('/api/visit-plans', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      tags,
      summary:
        'Visit plans of a month in my subtree (one per owner), with how many visits each holds and how many are done',
      querystring: Type.Object(
        { month: Month, state: Type.Optional(PlanState), ownerUserId: Type.Optional(Id), orgUnitId: Type.Optional(Id) },
        strict,
      ),
      response: { 200: Type.Array(PlanSummary), ...errorResponses },
    },
    handler: (req) => plans.list(requirePrincipal(req), req.query),
  });

  app.post('/api/visit-plans/mine', {
    config: { access: { permission: 'customer.write' } },
    schema: {
      tags,
      summary: 'My plan of a month: proposed from the policy, last month’s sales and open alerts if I have none yet',
      body: Type.Object({ month: Month }, strict),
      response: { 200: Plan, ...errorResponses },
    },
    handler: (req) => plans.generateMine(requirePrincipal(req), req.ip, req.body.month),
  });

  app.get('/api/visit-plans/:id', {
    config: { access: { permission: 'customer.read', resource: plan } },
    schema: {
      tags,
      summary: 'A visit plan with its visits, its trail and the steps I may take',
      params: IdParams,
      response: { 200: Plan, ...errorResponses },
    },
    handler: (req) => plans.get(requirePrincipal(req), req.params.id),
  });

  app.post('/api/visit-plans/:id/visits', {
    config: { access: { permission: 'customer.write', resource: plan } },
    schema: {
      tags,
      summary: 'Add a visit to a draft or returned plan (the owner only)',
      params: IdParams,
      body: Type.Object({ customerId: Id, day: Day, time: Type.Optional(Time) }, strict),
      response: { 201: Type.Object({ id: Int, plan: Plan }), ...errorResponses },
    },
    handler: async (req, reply) =>
      reply.code(201).send(await plans.addVisit(requirePrincipal(req), req.ip, req.params.id, req.body)),
  });

  app.post('/api/visit-plans/:id/submit', {
    config: { access: { permission: 'customer.write', resource: plan } },
    schema: {
      tags,
      summary: 'Submit my plan to the level above for approval',
      params: IdParams,
      body: Type.Object({ version: Version }, strict),
      response: { 200: Plan, ...errorResponses },
    },
    handler: (req) => plans.submit(requirePrincipal(req), req.ip, req.params.id, req.body.version),
  });

  for (const action of ['approve', 'return'] as const)
    app.post(`/api/visit-plans/:id/${action}`, {
      config: { access: { permission: 'visit.approve', resource: plan } },
      schema: {
        tags,
        summary:
          action === 'approve'
            ? 'Approve a submitted plan (a manager one level up or higher, never the owner): its visits become work with reminders'
            : 'Return a submitted plan to its owner with the reason (a manager one level up or higher)',
        params: IdParams,
        body: Decision,
        response: { 200: Plan, ...errorResponses },
      },
      handler: (req) =>
        plans.decide(
          requirePrincipal(req),
          req.ip,
          req.params.id,
          action,
          req.body.version,
          req.body.note?.trim() || null,
        ),
    });

  app.patch('/api/planned-visits/:id', {
    config: { access: { permission: 'customer.write', resource: plannedVisit } },
    schema: {
      tags,
      summary: 'Move a planned visit to another day or time (the owner; after approval its reminders follow)',
      params: IdParams,
      body: Type.Object({ day: Day, time: Type.Optional(Time) }, strict),
      response: { 200: PlannedVisit, ...errorResponses },
    },
    handler: (req) => plans.moveVisit(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.get('/api/planned-visits/:id', {
    config: { access: { permission: 'customer.read', resource: plannedVisit } },
    schema: {
      tags,
      summary: 'One planned visit, with its plan and owner',
      params: IdParams,
      response: { 200: CalendarVisit, ...errorResponses },
    },
    handler: (req) => plans.visitDetail(req.params.id),
  });

  app.delete('/api/planned-visits/:id', {
    config: { access: { permission: 'customer.write', resource: plannedVisit } },
    schema: {
      tags,
      summary: 'Remove a visit from a draft or returned plan (the owner)',
      params: IdParams,
      response: { 200: Ok, ...errorResponses },
    },
    handler: (req) => plans.removeVisit(requirePrincipal(req), req.ip, req.params.id),
  });

  app.post('/api/planned-visits/:id/appointment', {
    config: { access: { permission: 'customer.write', resource: plannedVisit } },
    schema: {
      tags,
      summary: 'The appointment: the time agreed with the customer (the owner, on an approved plan)',
      params: IdParams,
      body: Type.Object({ at: Instant, note: Type.Optional(Type.String({ maxLength: 1000 })) }, strict),
      response: { 200: PlannedVisit, ...errorResponses },
    },
    handler: (req) => plans.appoint(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.get('/api/visits/calendar', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      tags,
      summary: 'Planned visits between two days (at most 62): mine, a person’s, or a unit’s subtree',
      querystring: Type.Object({ from: Day, to: Day, userId: Type.Optional(Id), orgUnitId: Type.Optional(Id) }, strict),
      response: { 200: Type.Array(CalendarVisit), ...errorResponses },
    },
    handler: (req) => plans.calendar(requirePrincipal(req), req.query),
  });

  // ---- records ----------------------------------------------------------------------------------------
  app.get('/api/visits/customers/:id/overview', {
    config: { access: { permission: 'customer.read', resource: { type: 'customer', param: 'id' } } },
    schema: {
      tags,
      summary:
        'Before a visit: the customer, purchases by month (a year), open alerts, earlier records and coming visits (audited read)',
      params: IdParams,
      response: { 200: Overview, ...errorResponses },
    },
    handler: (req) => records.overview(requirePrincipal(req), req.ip, req.params.id),
  });

  app.post('/api/visit-records', {
    config: { access: { permission: 'customer.write' } },
    schema: {
      tags,
      summary:
        'Record a visit: the structured assessment, follow-ups (work for their owners), a check-in, a problem to hand up',
      body: RecordBody,
      response: { 201: Record, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await records.create(requirePrincipal(req), req.ip, req.body)),
  });

  app.get('/api/visit-records', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      tags,
      summary: 'Visit records of my subtree, newest first',
      querystring: Type.Object(
        {
          customerId: Type.Optional(Id),
          userId: Type.Optional(Id),
          followUpId: Type.Optional({ ...Id, description: 'The record a follow-up action came from' }),
          from: Type.Optional(Day),
          to: Type.Optional(Day),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        },
        strict,
      ),
      response: { 200: Type.Array(RecordListItem), ...errorResponses },
    },
    handler: (req) => records.list(requirePrincipal(req), req.query),
  });

  app.get('/api/visit-records/:id', {
    config: { access: { permission: 'customer.read', resource: record } },
    schema: {
      tags,
      summary: 'One visit record (audited read)',
      params: IdParams,
      response: { 200: Record, ...errorResponses },
    },
    handler: (req) => records.get(requirePrincipal(req), req.ip, req.params.id),
  });

  void app.register(async (child) => {
    const scope = child.withTypeProvider<TypeBoxTypeProvider>();
    scope.addContentTypeParser(
      'application/octet-stream',
      (_req: FastifyRequest, payload: unknown, done: (err: Error | null, body?: unknown) => void) =>
        done(null, payload),
    );
    scope.post('/api/visit-records/:id/photos', {
      config: { access: { permission: 'customer.write', resource: record } },
      schema: {
        tags,
        summary:
          'Add a photo (JPEG, PNG, WebP or HEIC as application/octet-stream, ≤ 10 MB); stored re-encoded without EXIF',
        params: IdParams,
        response: {
          201: Type.Object({ id: Int, width: Int, height: Int, bytes: Int, createdAt: Type.String() }),
          ...errorResponses,
        },
      },
      handler: async (req, reply) => {
        if (!(req.body instanceof Readable))
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the photo as application/octet-stream', 'content-type');
        const bytes = await readBody(req.body, PHOTO_LIMITS.maxBytes);
        return reply.code(201).send(await records.addPhoto(requirePrincipal(req), req.ip, req.params.id, bytes));
      },
    });
  });

  app.get('/api/visit-records/:id/photos/:photoId', {
    config: { access: { permission: 'customer.read', resource: record } },
    schema: { tags, summary: 'A photo of a visit record (to those who may read the record)', params: PhotoParams },
    handler: async (req, reply) => {
      const photo = await records.photo(req.params.id, req.params.photoId);
      return reply
        .header('content-type', photo.contentType)
        .header('cache-control', 'private, max-age=3600')
        .send(photo.bytes);
    },
  });

  app.post('/api/visit-records/:id/follow-ups/:followUpId/done', {
    config: { access: { permission: 'customer.write', resource: record } },
    schema: {
      tags,
      summary: 'A follow-up action is done (its owner, or someone over the customer)',
      params: FollowUpParams,
      response: { 200: Record, ...errorResponses },
    },
    handler: (req) => records.completeFollowUp(requirePrincipal(req), req.ip, req.params.id, req.params.followUpId),
  });

  app.post('/api/visit-records/:id/problems', {
    config: { access: { permission: 'customer.write', resource: record } },
    schema: {
      tags,
      summary: 'Hand a problem found on the visit up one level (work for the managers there)',
      params: IdParams,
      body: Type.Object({ text: Text(4000, 'What cannot be solved here') }, strict),
      response: { 201: Problem, ...errorResponses },
    },
    handler: async (req, reply) =>
      reply.code(201).send(await records.raiseProblem(requirePrincipal(req), req.ip, req.params.id, req.body.text)),
  });

  app.get('/api/visit-problems/:id', {
    config: { access: { permission: 'customer.read', resource: problem } },
    schema: {
      tags,
      summary: 'A problem handed up, with its trail',
      params: IdParams,
      response: { 200: Problem, ...errorResponses },
    },
    handler: (req) => records.problem(req.params.id),
  });

  for (const action of ['escalate', 'resolve'] as const)
    app.post(`/api/visit-problems/:id/${action}`, {
      config: { access: { permission: 'visit.approve', resource: problem } },
      schema: {
        tags,
        summary:
          action === 'escalate'
            ? 'Hand the problem up one more level (the level holding it)'
            : 'Settle the problem (the level holding it or above)',
        params: IdParams,
        body: Type.Object({ note: Text(2000, 'What was done or why it goes up') }, strict),
        response: { 200: Problem, ...errorResponses },
      },
      handler: (req) => records.problemStep(requirePrincipal(req), req.ip, req.params.id, action, req.body.note.trim()),
    });

  // ---- weekly summary ------------------------------------------------------------------------------
  app.get('/api/visit-summaries', {
    config: { access: { permission: 'dashboard.read' } },
    schema: {
      tags,
      summary:
        'The weekly visit summary of a unit (default: mine, last week): planned vs done per unit and person, problems, overdue follow-ups',
      querystring: SummaryQuery,
      response: { 200: Summary, ...errorResponses },
    },
    handler: (req) => summary.get(requirePrincipal(req), req.query),
  });

  app.get('/api/visit-summaries/xlsx', {
    config: { access: { permission: 'dashboard.read' } },
    schema: {
      tags,
      summary: 'The weekly visit summary as an XLSX file with Chinese headers (audited)',
      querystring: SummaryQuery,
    },
    handler: async (req, reply) => {
      const file = await summary.xlsx(requirePrincipal(req), req.ip, req.query);
      return reply
        .header('content-type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .header('content-disposition', `attachment; filename="${file.fileName}"`)
        .send(file.bytes);
    },
  });

  app.post('/api/visit-summaries/generate', {
    config: { access: { permission: 'visit.approve' } },
    schema: {
      tags,
      summary: 'Generate (again) and keep the weekly summary of a unit, as the Monday job does',
      body: SummaryQuery,
      response: { 200: Summary, ...errorResponses },
    },
    handler: (req) => summary.generate(requirePrincipal(req), req.ip, req.body),
  });
}
