import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { Id, IdParams, Month, Page, Paging, Version, errorResponses } from '../../schemas.js';
import { IMPORTANCES, PLAN_STATES, STAGES } from '../../../domain/development-plan.js';
import type { ProspectsService } from './prospects.service.js';

const strict = { additionalProperties: false };
const S = Type.Union([Type.String(), Type.Null()]);
const N = Type.Union([Type.Integer(), Type.Null()]);
const Int = Type.Integer();
const DayOf = (description: string) =>
  Type.String({
    pattern: '^(19|2\\d)\\d{2}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$',
    description: `YYYY-MM-DD: ${description}`,
  });
// The lists live in the rules (as the churn-case routes do with theirs).
const [IMPORTANT, SECONDARY, GENERAL] = IMPORTANCES;
const Importance = Type.Union([Type.Literal(IMPORTANT), Type.Literal(SECONDARY), Type.Literal(GENERAL)], {
  description: 'important (重要, the branch develops him), secondary (次重要, the area), general (一般, the station)',
});
const [SURVEYED, DISPATCHED, CONTACTED, OFFERED, SIGNED, LOST] = STAGES;
const Stage = Type.Union([
  Type.Literal(SURVEYED),
  Type.Literal(DISPATCHED),
  Type.Literal(CONTACTED),
  Type.Literal(OFFERED),
  Type.Literal(SIGNED),
  Type.Literal(LOST),
]);
const [DRAFT, SUBMITTED, DEPT_APPROVED, APPROVED, PLAN_DISPATCHED] = PLAN_STATES;
const PlanState = Type.Union([
  Type.Literal(DRAFT),
  Type.Literal(SUBMITTED),
  Type.Literal(DEPT_APPROVED),
  Type.Literal(APPROVED),
  Type.Literal(PLAN_DISPATCHED),
]);
const Kind = Type.Union([Type.Literal('individual'), Type.Literal('organisation')]);
const Short = (max: number, description?: string) =>
  Type.Union([Type.String({ maxLength: max, ...(description && { description }) }), Type.Null()]);
const Note = (description: string) => Type.String({ minLength: 1, maxLength: 4000, description });

const SurveyFields = {
  kind: Kind,
  name: Type.String({ minLength: 1, maxLength: 200, description: 'The person, or the organisation’s name' }),
  organisation: Type.Optional(Short(200)),
  contactName: Type.Optional(Short(100)),
  phone: Type.Optional(Short(32)),
  plates: Type.Optional(Type.Array(Type.String({ maxLength: 16 }), { maxItems: 50 })),
  vehicleCount: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 100_000 }), Type.Null()])),
  monthlyLitres: Type.Optional(
    Type.Union([Type.Integer({ minimum: 0, maximum: 1_000_000_000, description: 'Litres a month' }), Type.Null()]),
  ),
  products: Type.Optional(Short(200)),
  demand: Type.String({ minLength: 1, maxLength: 4000, description: 'His real demand for fuel (真实用油需求)' }),
  fuelUse: Type.Optional(Short(200, 'What he uses the fuel for (消费用途)')),
  settlementMethod: Type.Optional(Short(100, 'How he pays (结算方式)')),
  competitor: Type.Optional(Short(200, 'Who supplies him now')),
  notes: Type.Optional(Short(4000)),
  importance: Importance,
};

const Prospect = Type.Object({
  id: Int,
  orgUnitId: Int,
  orgUnitName: Type.String(),
  branchId: Int,
  kind: Kind,
  name: Type.String(),
  organisation: S,
  contactName: S,
  phone: Type.Union([Type.String({ description: 'Masked for readers without customer.phone' }), Type.Null()]),
  plates: Type.Array(Type.String()),
  vehicleCount: N,
  monthlyLitres: N,
  products: S,
  demand: S,
  fuelUse: S,
  settlementMethod: S,
  competitor: S,
  notes: S,
  importance: Importance,
  stage: Stage,
  surveyedByName: S,
  surveyedAt: Type.String(),
  surveyDay: Type.String(),
  plan: Type.Union([Type.Object({ id: Int, month: Type.String(), state: Type.String() }), Type.Null()]),
  dispatchUnit: Type.Union([Type.Object({ id: Int, name: Type.String(), kindCode: Type.String() }), Type.Null()]),
  followerUserId: N,
  followerName: S,
  dispatchedAt: S,
  dueDay: Type.Union([Type.String({ description: 'When the next step is owed' }), Type.Null()]),
  overdue: Type.Boolean({ description: 'Under way and past the day its next step was due' }),
  overdueSince: Type.Union([Type.String({ description: 'The night it was first flagged overdue' }), Type.Null()]),
  lastProgressAt: S,
  customer: Type.Union([Type.Object({ id: Int, code: Type.String() }), Type.Null()]),
  closedAt: S,
  updatedAt: Type.String(),
  version: Int,
  allowedActions: Type.Array(Type.String(), { description: 'Progress steps the reader may record now' }),
  canEdit: Type.Boolean(),
});

const ProspectDetail = Type.Object({
  ...Prospect.properties,
  events: Type.Array(
    Type.Object({
      id: Int,
      action: Type.String(),
      fromStage: S,
      toStage: Type.String(),
      day: Type.String(),
      dueDay: S,
      note: S,
      actorName: Type.String(),
      bySystem: Type.Boolean(),
      at: Type.String(),
    }),
  ),
});

const Approval = Type.Union([Type.Object({ byName: S, at: Type.String(), note: S }), Type.Null()]);
const Plan = Type.Object({
  id: Int,
  orgUnitId: Int,
  orgUnitName: Type.String(),
  month: Type.String(),
  state: PlanState,
  dueDay: Type.String({ description: 'The day it should be dispatched by' }),
  overdue: Type.Boolean(),
  overdueSince: S,
  note: S,
  compiledBy: N,
  compiledByName: S,
  compiledAt: Type.String(),
  submittedAt: S,
  deptApproval: Approval,
  leaderApproval: Approval,
  dispatched: Type.Union([Type.Object({ byName: S, at: Type.String() }), Type.Null()]),
  waitingFor: Type.Union([Type.String({ description: 'The permission whose holder’s approval is next' }), Type.Null()]),
  counts: Type.Record(Type.String(), Type.Integer(), { description: 'Prospects of the plan by stage' }),
  total: Int,
  updatedAt: Type.String(),
  version: Int,
  allowedActions: Type.Array(Type.String()),
});

const PlanDetail = Type.Object({
  ...Plan.properties,
  prospects: Type.Array(Prospect),
  events: Type.Array(
    Type.Object({
      id: Int,
      action: Type.String(),
      fromState: S,
      toState: Type.String(),
      actorName: Type.String(),
      bySystem: Type.Boolean(),
      at: Type.String(),
      note: S,
    }),
  ),
  samples: Type.Array(
    Type.Object({
      id: Int,
      stationId: Int,
      stationName: Type.String(),
      week: Type.String({ description: 'Monday of the week sampled' }),
      snapshot: Type.Record(Type.String(), Type.Integer(), {
        description: 'The station’s prospects by stage when picked',
      }),
      pickedByName: S,
      pickedAt: Type.String(),
      finding: Type.Union([Type.Literal('on_track'), Type.Literal('slow'), Type.Null()]),
      note: S,
      checkedByName: S,
      checkedAt: S,
    }),
  ),
});

const Board = Type.Object({
  stages: Type.Array(
    Type.Object({
      stage: Stage,
      count: Int,
      overdue: Int,
      byImportance: Type.Record(Type.String(), Type.Integer()),
    }),
  ),
  total: Int,
  overdue: Int,
});

const tags = ['prospects'];
const PlanBody = Type.Object({ note: Type.Optional(Type.String({ maxLength: 4000 })) }, strict);
const Decision = Type.Object(
  {
    decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
    note: Type.Optional(Type.String({ maxLength: 4000, description: 'Required when sending the plan back' })),
  },
  strict,
);
const prospectResource = { type: 'prospect' as const, param: 'id' };
const planResource = { type: 'dev_plan' as const, param: 'id' };

export function prospectsRoutes(app: App, svc: ProspectsService): void {
  app.post('/api/prospects', {
    config: { access: { permission: 'customer.write' } },
    schema: {
      tags,
      summary:
        'Record the survey of a prospect at a station: facts, real demand, use, settlement, competitor, importance',
      body: Type.Object(
        {
          orgUnitId: Type.Optional(Type.Integer({ minimum: 1, description: 'The surveying unit; mine by default' })),
          ...SurveyFields,
          confirmDuplicate: Type.Optional(
            Type.Boolean({ description: 'Record him although his phone or plate is already in the archive' }),
          ),
        },
        strict,
      ),
      response: { 201: ProspectDetail, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await svc.survey(requirePrincipal(req), req.ip, req.body)),
  });

  app.get('/api/prospects', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      tags,
      summary: 'Prospects of my subtree, most recently changed first',
      querystring: Type.Object(
        {
          stage: Type.Optional(Stage),
          importance: Type.Optional(Importance),
          planId: Type.Optional(Type.Integer({ minimum: 1 })),
          mine: Type.Optional(Type.Boolean({ description: 'Only prospects I follow' })),
          overdue: Type.Optional(Type.Boolean({ description: 'Only those past the day their next step was due' })),
          unplanned: Type.Optional(Type.Boolean({ description: 'Only surveyed prospects not in a plan yet' })),
          orgUnitId: Type.Optional(Type.Integer({ minimum: 1, description: 'Surveyed in this unit or below' })),
          q: Type.Optional(Type.String({ maxLength: 100, description: 'Part of the name or organisation' })),
          ...Paging,
        },
        strict,
      ),
      response: { 200: Page(Prospect), ...errorResponses },
    },
    handler: (req) => svc.list(requirePrincipal(req), req.query),
  });

  app.get('/api/prospects/board', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      tags,
      summary: 'Prospects by stage and importance, with the overdue, in my subtree, a unit’s, or a plan’s',
      querystring: Type.Object(
        {
          orgUnitId: Type.Optional(Type.Integer({ minimum: 1 })),
          planId: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        strict,
      ),
      response: { 200: Board, ...errorResponses },
    },
    handler: (req) => svc.board(requirePrincipal(req), req.query),
  });

  app.get('/api/prospects/:id', {
    config: { access: { permission: 'customer.read', resource: prospectResource } },
    schema: {
      tags,
      summary: 'One prospect with his survey, plan, follower, trail and the steps I may record',
      params: IdParams,
      response: { 200: ProspectDetail, ...errorResponses },
    },
    handler: (req) => svc.get(requirePrincipal(req), req.params.id),
  });

  app.patch('/api/prospects/:id', {
    config: { access: { permission: 'customer.write', resource: prospectResource } },
    schema: {
      tags,
      summary: 'Correct the survey or the importance, before dispatch and while his plan is a draft',
      params: IdParams,
      body: Type.Object(
        {
          kind: Type.Optional(Kind),
          name: Type.Optional(SurveyFields.name),
          organisation: SurveyFields.organisation,
          contactName: SurveyFields.contactName,
          phone: SurveyFields.phone,
          plates: SurveyFields.plates,
          vehicleCount: SurveyFields.vehicleCount,
          monthlyLitres: SurveyFields.monthlyLitres,
          products: SurveyFields.products,
          demand: Type.Optional(SurveyFields.demand),
          fuelUse: SurveyFields.fuelUse,
          settlementMethod: SurveyFields.settlementMethod,
          competitor: SurveyFields.competitor,
          notes: SurveyFields.notes,
          importance: Type.Optional(Importance),
          version: Version,
        },
        strict,
      ),
      response: { 200: ProspectDetail, ...errorResponses },
    },
    handler: (req) => svc.update(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.get('/api/prospects/:id/followers', {
    config: { access: { permission: 'prospect.plan', resource: prospectResource } },
    schema: {
      tags,
      summary: 'People who may follow the prospect: at the unit his importance names, allowed to change customers',
      params: IdParams,
      querystring: Type.Object({ importance: Type.Optional(Importance) }, strict),
      response: {
        200: Type.Object({
          unit: Type.Union([Type.Object({ id: Int, name: Type.String(), kindCode: Type.String() }), Type.Null()]),
          people: Type.Array(Type.Object({ id: Int, displayName: Type.String(), username: Type.String() })),
        }),
        ...errorResponses,
      },
    },
    handler: (req) => svc.followers(requirePrincipal(req), req.params.id, req.query.importance),
  });

  app.post('/api/prospects/:id/progress', {
    config: { access: { permission: 'customer.write', resource: prospectResource } },
    schema: {
      tags,
      summary: 'Record progress: contacted, offered, lost, or a follow-up; with the day and the next step’s due day',
      params: IdParams,
      body: Type.Object(
        {
          action: Type.Union([
            Type.Literal('contact'),
            Type.Literal('offer'),
            Type.Literal('lose'),
            Type.Literal('note'),
          ]),
          note: Note('What was done and learnt'),
          day: Type.Optional(DayOf('When it happened; today by default')),
          nextDueDay: Type.Optional(DayOf('When the next step is due; a week or two by default')),
        },
        strict,
      ),
      response: { 200: ProspectDetail, ...errorResponses },
    },
    handler: (req) => svc.progress(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.post('/api/prospects/:id/sign', {
    config: { access: { permission: 'customer.write', resource: prospectResource } },
    schema: {
      tags,
      summary: 'Signed: the prospect becomes a customer of the surveying unit, owned by his follower',
      params: IdParams,
      body: Type.Object(
        {
          note: Note('What was agreed'),
          day: Type.Optional(DayOf('When he signed; today by default')),
          confirmDuplicate: Type.Optional(
            Type.Boolean({ description: 'Create the customer although his phone or plate is on file' }),
          ),
        },
        strict,
      ),
      response: {
        200: Type.Object({ prospect: ProspectDetail, customerId: Int, customerCode: Type.String() }),
        ...errorResponses,
      },
    },
    handler: (req) => svc.sign(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.get('/api/dev-plans', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      tags,
      summary: 'Monthly development plans of the branches in my subtree, newest month first',
      querystring: Type.Object(
        {
          state: Type.Optional(PlanState),
          month: Type.Optional(Month),
          orgUnitId: Type.Optional(Type.Integer({ minimum: 1 })),
          ...Paging,
        },
        strict,
      ),
      response: { 200: Page(Plan), ...errorResponses },
    },
    handler: (req) => svc.listPlans(requirePrincipal(req), req.query),
  });

  app.post('/api/dev-plans', {
    config: { access: { permission: 'prospect.plan' } },
    schema: {
      tags,
      summary: 'Compile a branch’s plan for a month from its surveyed prospects not yet in a plan',
      body: Type.Object(
        {
          orgUnitId: Type.Integer({ minimum: 1, description: 'The branch' }),
          month: Month,
          dueDay: Type.Optional(DayOf('Dispatch by; the 5th by default')),
          note: Type.Optional(Type.String({ maxLength: 4000 })),
        },
        strict,
      ),
      response: { 201: PlanDetail, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await svc.createPlan(requirePrincipal(req), req.ip, req.body)),
  });

  app.get('/api/dev-plans/:id', {
    config: { access: { permission: 'customer.read', resource: planResource } },
    schema: {
      tags,
      summary: 'One plan with its prospects, approvals, trail and weekly samples',
      params: IdParams,
      response: { 200: PlanDetail, ...errorResponses },
    },
    handler: (req) => svc.getPlan(requirePrincipal(req), req.params.id),
  });

  app.put('/api/dev-plans/:id/items', {
    config: { access: { permission: 'prospect.plan', resource: planResource } },
    schema: {
      tags,
      summary: 'Set the draft’s prospects with their importance and proposed follower',
      params: IdParams,
      body: Type.Object(
        {
          items: Type.Array(
            Type.Object(
              {
                prospectId: Id,
                importance: Importance,
                followerUserId: Type.Union([Id, Type.Null()]),
              },
              strict,
            ),
            { maxItems: 2000 },
          ),
          version: Version,
        },
        strict,
      ),
      response: { 200: PlanDetail, ...errorResponses },
    },
    handler: (req) => svc.setItems(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.post('/api/dev-plans/:id/submit', {
    config: { access: { permission: 'prospect.plan', resource: planResource } },
    schema: {
      tags,
      summary: 'Send the draft for approval by the department head and then the leader',
      params: IdParams,
      body: PlanBody,
      response: { 200: PlanDetail, ...errorResponses },
    },
    handler: (req) => svc.planStep(requirePrincipal(req), req.ip, req.params.id, 'submit', req.body),
  });

  app.post('/api/dev-plans/:id/dept-approval', {
    config: { access: { permission: 'prospect.approve', resource: planResource } },
    schema: {
      tags,
      summary: 'The business department head approves the submitted plan or sends it back (not its compiler)',
      params: IdParams,
      body: Decision,
      response: { 200: PlanDetail, ...errorResponses },
    },
    handler: (req) =>
      svc.planStep(
        requirePrincipal(req),
        req.ip,
        req.params.id,
        req.body.decision === 'approve' ? 'approve_dept' : 'reject_dept',
        req.body,
      ),
  });

  app.post('/api/dev-plans/:id/leader-approval', {
    config: { access: { permission: 'prospect.finalize', resource: planResource } },
    schema: {
      tags,
      summary: 'The leader approves the plan after the department head, or sends it back (someone other than both)',
      params: IdParams,
      body: Decision,
      response: { 200: PlanDetail, ...errorResponses },
    },
    handler: (req) =>
      svc.planStep(
        requirePrincipal(req),
        req.ip,
        req.params.id,
        req.body.decision === 'approve' ? 'approve_leader' : 'reject_leader',
        req.body,
      ),
  });

  app.post('/api/dev-plans/:id/dispatch', {
    config: { access: { permission: 'prospect.plan', resource: planResource } },
    schema: {
      tags,
      summary: 'Dispatch the approved plan: each prospect to his follower at the branch, area or station',
      params: IdParams,
      body: PlanBody,
      response: { 200: PlanDetail, ...errorResponses },
    },
    handler: (req) => svc.planStep(requirePrincipal(req), req.ip, req.params.id, 'dispatch', req.body),
  });

  app.post('/api/dev-plans/:id/samples', {
    config: { access: { permission: 'prospect.plan', resource: planResource } },
    schema: {
      tags,
      summary: 'Pick this week’s stations to check (given, or a fifth of them drawn for the week)',
      params: IdParams,
      body: Type.Object(
        {
          week: Type.Optional(DayOf('A day of the week; this week by default')),
          stationIds: Type.Optional(Type.Array(Id, { maxItems: 500 })),
          count: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
        },
        strict,
      ),
      response: { 200: PlanDetail, ...errorResponses },
    },
    handler: (req) => svc.pickSamples(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.post('/api/dev-plans/:id/samples/:sampleId', {
    config: { access: { permission: 'prospect.plan', resource: planResource } },
    schema: {
      tags,
      summary: 'Record the check of a sampled station: on track, or slow (special supervision)',
      params: Type.Object({ id: Id, sampleId: Id }, strict),
      body: Type.Object(
        {
          finding: Type.Union([Type.Literal('on_track'), Type.Literal('slow')]),
          note: Note('What the check found'),
        },
        strict,
      ),
      response: { 200: PlanDetail, ...errorResponses },
    },
    handler: (req) => svc.checkSample(requirePrincipal(req), req.ip, req.params.id, req.params.sampleId, req.body),
  });
}
