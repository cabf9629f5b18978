import { Type } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import type { App } from '../../http.js';
import type { Database } from '../../db/schema.js';
import { requirePrincipal } from '../../auth/access.js';
import { IdParams, Instant, Page, Paging, Version, errorResponses } from '../../schemas.js';
import { SATISFACTION_POLICY_LIMITS as L } from '../../../domain/satisfaction.js';
import type { SatisfactionService } from './satisfaction.service.js';
import type { ComplaintsService } from '../complaints/complaints.service.js';
import { callbacksOf, recordUnreachableAttempt } from './callbacks.js';

const strict = { additionalProperties: false };
const S = Type.Union([Type.String(), Type.Null()]);
const N = Type.Union([Type.Number(), Type.Null()]);
const Int = Type.Integer();
const tags = ['satisfaction'];
const survey = { type: 'survey' as const, param: 'id' };
const target = { type: 'survey_target' as const, param: 'id' };
const revisit = { type: 'revisit_plan' as const, param: 'id' };

const Rating = Type.Integer({
  minimum: 1,
  maximum: 5,
  description: 'Five-level satisfaction: 1 very unsatisfied … 5 very satisfied',
});
const Csat = Type.Integer({ minimum: 1, maximum: 5, description: 'CSAT, 1–5' });
const Nps = Type.Integer({ minimum: 0, maximum: 10, description: 'NPS: how likely to recommend, 0–10' });
const Ces = Type.Integer({ minimum: 1, maximum: 7, description: 'CES: how easy it was, 1–7' });
const Questions = Type.Object({ askCsat: Type.Boolean(), askNps: Type.Boolean(), askCes: Type.Boolean() });
const SurveyQuestions = Type.Object({ ...Questions.properties, askText: Type.Boolean() });

const Policy = Type.Object(
  {
    askCsat: Type.Boolean({ description: 'Callbacks and new surveys ask CSAT (1–5)' }),
    askNps: Type.Boolean({ description: 'Callbacks and new surveys ask NPS (0–10)' }),
    askCes: Type.Boolean({ description: 'Callbacks and new surveys ask CES (1–7)' }),
    maxContacts: Type.Integer({ ...L.maxContacts, description: 'At most this many survey contacts per customer…' }),
    windowDays: Type.Integer({ ...L.windowDays, description: '…within this many days' }),
    coolDownDays: Type.Integer({
      ...L.coolDownDays,
      description: 'No survey within this many days after any survey contact',
    }),
    unreachableAttempts: Type.Integer({
      ...L.unreachableAttempts,
      description: 'Unreachable attempts on different days before a callback may be closed as unreachable',
    }),
    lowScoreMax: Type.Integer({ ...L.lowScoreMax, description: 'A score at or below this proposes a revisit' }),
    revisitAfterDays: Type.Integer({
      ...L.revisitAfterDays,
      description: 'Days after a low score the revisit is planned',
    }),
  },
  strict,
);
const PolicyVersion = Type.Object({ versionId: Type.Union([Int, Type.Null()]), body: Policy, note: S, createdAt: S });

const Decision = Type.Object({
  ok: Type.Boolean(),
  reason: Type.Optional(Type.String({ description: 'cool_down or too_many' })),
  until: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
});

const Results = Type.Object({
  targets: Int,
  answered: Int,
  refused: Int,
  unreachable: Int,
  pending: Int,
  responseRate: Type.Union([Type.Number({ description: '% of the sample who answered' }), Type.Null()]),
  averageRating: N,
  distribution: Type.Array(Int, { description: 'Answers with satisfaction 1, 2, 3, 4, 5' }),
  csatPercent: Type.Union([Type.Number({ description: '% of CSAT answers at 4 or 5' }), Type.Null()]),
  nps: Type.Union([Type.Number({ description: '% promoters (9–10) − % detractors (0–6)' }), Type.Null()]),
  promoters: Int,
  passives: Int,
  detractors: Int,
  averageCes: N,
});

const Target = Type.Object({
  id: Int,
  customerId: Int,
  customerName: Type.String(),
  orgUnitId: Int,
  orgUnitName: Type.String(),
  phone: Type.String({ description: 'Masked without customer.phone' }),
  state: Type.String({ description: 'pending, answered, refused, unreachable' }),
  attempts: Int,
  rating: N,
  csat: N,
  nps: N,
  ces: N,
  comment: S,
  calledAt: S,
  calledByName: S,
});

const SurveySummary = Type.Object({
  id: Int,
  name: Type.String(),
  orgUnitId: Int,
  orgUnitName: Type.String(),
  state: Type.String(),
  dueAt: Type.String(),
  createdAt: Type.String(),
  eligible: Int,
  targets: Int,
  answered: Int,
});

const SurveyDetail = Type.Object({
  id: Int,
  name: Type.String(),
  orgUnitId: Int,
  orgUnitName: Type.String(),
  state: Type.String(),
  questions: SurveyQuestions,
  sampleSize: Type.Union([Int, Type.Null()]),
  sampleRatio: N,
  seed: Int,
  eligible: Type.Integer({ description: 'Customers the sample was drawn from' }),
  dueAt: Type.String(),
  createdAt: Type.String(),
  createdByName: S,
  closedAt: S,
  totals: Results,
  byUnit: Type.Array(Type.Object({ orgUnitId: Int, orgUnitName: Type.String(), ...Results.properties })),
  targets: Type.Array(Target),
});

const TargetDetail = Type.Object({
  id: Int,
  surveyId: Int,
  surveyName: Type.String(),
  surveyOpen: Type.Boolean(),
  customerId: Int,
  customerName: Type.String(),
  orgUnitName: Type.String(),
  phone: Type.String(),
  state: Type.String(),
  attempts: Int,
  questions: SurveyQuestions,
  rating: N,
  csat: N,
  nps: N,
  ces: N,
  comment: S,
  dueAt: Type.String(),
  contact: Decision,
});

const Revisit = Type.Object({
  id: Int,
  customer: Type.Union([Type.Object({ id: Int, name: S, code: Type.String() }), Type.Null()]),
  orgUnitId: Int,
  orgUnitName: Type.String(),
  plannedFor: Type.String(),
  ownerUserId: Type.Union([Int, Type.Null()]),
  ownerName: S,
  purpose: Type.String(),
  source: Type.String({ description: 'manual, or low_score (proposed after a low survey or callback score)' }),
  sourceKind: S,
  sourceId: Type.Union([Int, Type.Null()]),
  state: Type.String({ description: 'planned, done, cancelled' }),
  reached: Type.Union([Type.Boolean(), Type.Null()]),
  rating: N,
  outcome: S,
  doneAt: S,
  doneByName: S,
  overdue: Type.Boolean(),
  createdAt: Type.String(),
  version: Int,
});

const Callbacks = Type.Object({
  questions: Questions,
  attemptsNeeded: Int,
  unreachableDays: Type.Integer({ description: 'Distinct days with an unreachable attempt' }),
  mayCloseUnreachable: Type.Boolean(),
  callbacks: Type.Array(
    Type.Object({
      id: Int,
      result: Type.String({ description: 'reached, unreachable, given_up (closed as unreachable)' }),
      rating: N,
      csat: N,
      nps: N,
      ces: N,
      note: S,
      day: Type.String(),
      calledAt: Type.String(),
      calledByName: S,
    }),
  ),
});

export function satisfactionRoutes(
  app: App,
  svc: SatisfactionService,
  complaints: ComplaintsService,
  db: Kysely<Database>,
  now: () => Date,
): void {
  // ── Policy ──
  app.get('/api/satisfaction/policy', {
    config: { access: { permission: 'satisfaction.call' } },
    schema: {
      tags,
      summary: 'The satisfaction policy in force: questions asked, contact limits and cool-down, unreachable attempts',
      response: { 200: PolicyVersion, ...errorResponses },
    },
    handler: () => svc.policy(),
  });

  app.put('/api/satisfaction/policy', {
    config: { access: { permission: 'policy.write' } },
    schema: {
      tags,
      summary: 'Save a new version of the satisfaction policy',
      body: Type.Object({ ...Policy.properties, note: Type.Optional(Type.String({ maxLength: 1000 })) }, strict),
      response: { 200: PolicyVersion, ...errorResponses },
    },
    handler: (req) => {
      const { note, ...body } = req.body;
      return svc.savePolicy(requirePrincipal(req), req.ip, body, note);
    },
  });

  app.get('/api/satisfaction/customers/:id/contacts', {
    config: { access: { permission: 'satisfaction.call', resource: { type: 'customer', param: 'id' } } },
    schema: {
      tags,
      summary: 'A customer’s recent survey contacts (callbacks, surveys, revisits) and whether he may be surveyed now',
      params: IdParams,
      response: {
        200: Type.Object({
          decision: Decision,
          contacts: Type.Array(
            Type.Object({ id: Int, reason: Type.String(), sourceId: Int, at: Type.String(), unitName: S }),
          ),
        }),
        ...errorResponses,
      },
    },
    handler: (req) => svc.customerContacts(req.params.id),
  });

  // ── Complaint callbacks ──
  app.get('/api/complaints/:id/callbacks', {
    config: { access: { permission: 'complaint.intake', resource: { type: 'complaint', param: 'id' } } },
    schema: {
      tags: ['complaints'],
      summary:
        'A complaint’s callbacks: the answers, the unreachable attempts, and whether it may close as unreachable',
      params: IdParams,
      response: { 200: Callbacks, ...errorResponses },
    },
    handler: (req) => callbacksOf(db, req.params.id),
  });

  app.post('/api/complaints/:id/callback', {
    config: { access: { permission: 'complaint.handle', resource: { type: 'complaint', param: 'id' } } },
    schema: {
      tags: ['complaints'],
      summary:
        'Take the callback stage with the customer’s rating and the optional CSAT / NPS / CES answers the policy asks, or close it as unreachable after enough attempts; 1–2 reopens the case one level up',
      params: IdParams,
      body: Type.Object(
        {
          note: Type.String({ minLength: 1, maxLength: 4000, description: 'What the customer said' }),
          rating: Type.Optional(Rating),
          csat: Type.Optional(Csat),
          nps: Type.Optional(Nps),
          ces: Type.Optional(Ces),
          unreachable: Type.Optional(
            Type.Boolean({ description: 'Close without a rating after enough unreachable attempts on different days' }),
          ),
          version: Type.Optional(Version),
        },
        strict,
      ),
      response: {
        200: Type.Object({
          state: Type.String(),
          levelUp: Int,
          rating: Type.Union([Int, Type.Null()]),
          ...Callbacks.properties,
        }),
        ...errorResponses,
      },
    },
    handler: async (req) => {
      const r = await complaints.step(requirePrincipal(req), req.ip, req.params.id, 'callback', req.body);
      return { state: r.state, levelUp: r.levelUp, rating: r.rating, ...(await callbacksOf(db, req.params.id)) };
    },
  });

  app.post('/api/complaints/:id/callback-attempts', {
    config: { access: { permission: 'complaint.handle', resource: { type: 'complaint', param: 'id' } } },
    schema: {
      tags: ['complaints'],
      summary: 'Record a callback attempt that did not reach the customer (counted per day)',
      params: IdParams,
      body: Type.Object({ note: Type.Optional(Type.String({ maxLength: 2000 })) }, strict),
      response: { 201: Callbacks, ...errorResponses },
    },
    handler: async (req, reply) =>
      reply
        .code(201)
        .send(await recordUnreachableAttempt(db, requirePrincipal(req), req.ip, req.params.id, req.body.note, now())),
  });

  // ── Surveys ──
  const SampleFields = {
    orgUnitId: Type.Integer({
      minimum: 1,
      description: 'The unit whose customers are surveyed (stratified per station below it)',
    }),
    customerIds: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 5000, description: 'Survey only these customers' }),
    ),
    sampleSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'How many to draw' })),
    sampleRatio: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Or what share to draw' })),
    seed: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'The same seed draws the same sample' }),
    ),
  };

  app.post('/api/satisfaction/surveys/preview', {
    config: { access: { permission: 'satisfaction.manage' } },
    schema: {
      tags,
      summary:
        'How many customers are eligible now (in scope, with a phone, not in cool-down) and whom a seed would draw',
      body: Type.Object(SampleFields, strict),
      response: { 200: Type.Object({ eligible: Int, sample: Type.Array(Int) }), ...errorResponses },
    },
    handler: (req) => svc.preview(requirePrincipal(req), req.body),
  });

  app.get('/api/satisfaction/surveys', {
    config: { access: { permission: 'satisfaction.call' } },
    schema: {
      tags,
      summary: 'Satisfaction surveys of my subtree, newest first',
      querystring: Type.Object(
        { state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')])), ...Paging },
        strict,
      ),
      response: { 200: Page(SurveySummary), ...errorResponses },
    },
    handler: (req) => svc.listSurveys(requirePrincipal(req), req.query),
  });

  app.post('/api/satisfaction/surveys', {
    config: { access: { permission: 'satisfaction.manage' } },
    schema: {
      tags,
      summary: 'Start a survey: draw the sample and put a call for each customer in the callers’ inbox',
      body: Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 100 }),
          ...SampleFields,
          askCsat: Type.Optional(Type.Boolean()),
          askNps: Type.Optional(Type.Boolean()),
          askCes: Type.Optional(Type.Boolean()),
          askText: Type.Optional(Type.Boolean()),
          dueAt: Instant,
        },
        strict,
      ),
      response: { 201: SurveyDetail, ...errorResponses },
    },
    handler: async (req, reply) =>
      reply.code(201).send(await svc.createSurvey(requirePrincipal(req), req.ip, req.body)),
  });

  app.get('/api/satisfaction/surveys/:id', {
    config: { access: { permission: 'satisfaction.call', resource: survey } },
    schema: {
      tags,
      summary: 'A survey with its results per station (average, CSAT, NPS, CES, response rate) and its calls',
      params: IdParams,
      response: { 200: SurveyDetail, ...errorResponses },
    },
    handler: (req) => svc.survey(requirePrincipal(req), req.params.id),
  });

  app.post('/api/satisfaction/surveys/:id/close', {
    config: { access: { permission: 'satisfaction.manage', resource: survey } },
    schema: {
      tags,
      summary: 'Close a survey: calls not made leave the inbox',
      params: IdParams,
      body: Type.Object({}, strict),
      response: { 200: SurveyDetail, ...errorResponses },
    },
    handler: (req) => svc.closeSurvey(requirePrincipal(req), req.ip, req.params.id),
  });

  app.get('/api/satisfaction/calls/:id', {
    config: { access: { permission: 'satisfaction.call', resource: target } },
    schema: {
      tags,
      summary: 'One survey call: whom to call, what to ask, and whether the contact rule allows it now',
      params: IdParams,
      response: { 200: TargetDetail, ...errorResponses },
    },
    handler: (req) => svc.target(requirePrincipal(req), req.params.id),
  });

  app.post('/api/satisfaction/calls/:id/outcome', {
    config: { access: { permission: 'satisfaction.call', resource: target } },
    schema: {
      tags,
      summary: 'Record a survey call: answered (with the answers), refused, or unreachable',
      params: IdParams,
      body: Type.Object(
        {
          outcome: Type.Union([Type.Literal('answered'), Type.Literal('refused'), Type.Literal('unreachable')]),
          rating: Type.Optional(Rating),
          csat: Type.Optional(Csat),
          nps: Type.Optional(Nps),
          ces: Type.Optional(Ces),
          comment: Type.Optional(Type.String({ maxLength: 2000 })),
        },
        strict,
      ),
      response: { 200: TargetDetail, ...errorResponses },
    },
    handler: (req) => svc.recordOutcome(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  // ── Revisit plans ──
  app.get('/api/satisfaction/revisits', {
    config: { access: { permission: 'satisfaction.call' } },
    schema: {
      tags,
      summary: 'Revisit plans of my subtree (planned ones by date)',
      querystring: Type.Object(
        {
          state: Type.Optional(Type.Union([Type.Literal('planned'), Type.Literal('done'), Type.Literal('cancelled')])),
          customerId: Type.Optional(Type.Integer({ minimum: 1 })),
          mine: Type.Optional(Type.Boolean({ description: 'Only plans I own' })),
          ...Paging,
        },
        strict,
      ),
      response: { 200: Page(Revisit), ...errorResponses },
    },
    handler: (req) => svc.listRevisits(requirePrincipal(req), req.query),
  });

  app.post('/api/satisfaction/revisits', {
    config: { access: { permission: 'satisfaction.call' } },
    schema: {
      tags,
      summary: 'Plan a revisit of a customer or a station, with a date and an owner',
      body: Type.Object(
        {
          customerId: Type.Optional(Type.Integer({ minimum: 1 })),
          orgUnitId: Type.Optional(Type.Integer({ minimum: 1, description: 'A station revisited as a whole' })),
          plannedFor: Instant,
          ownerUserId: Type.Optional(
            Type.Integer({ minimum: 1, description: 'Default: the customer’s owner, else me' }),
          ),
          purpose: Type.String({ minLength: 1, maxLength: 500 }),
        },
        strict,
      ),
      response: { 201: Revisit, ...errorResponses },
    },
    handler: async (req, reply) =>
      reply.code(201).send(await svc.createRevisit(requirePrincipal(req), req.ip, req.body)),
  });

  app.get('/api/satisfaction/revisits/:id', {
    config: { access: { permission: 'satisfaction.call', resource: revisit } },
    schema: { tags, summary: 'One revisit plan', params: IdParams, response: { 200: Revisit, ...errorResponses } },
    handler: (req) => svc.revisit(req.params.id),
  });

  app.post('/api/satisfaction/revisits/:id/outcome', {
    config: { access: { permission: 'satisfaction.call', resource: revisit } },
    schema: {
      tags,
      summary: 'Record how the revisit went',
      params: IdParams,
      body: Type.Object(
        {
          reached: Type.Boolean(),
          rating: Type.Optional(Rating),
          outcome: Type.String({ minLength: 1, maxLength: 4000 }),
          version: Type.Optional(Version),
        },
        strict,
      ),
      response: { 200: Revisit, ...errorResponses },
    },
    handler: (req) => svc.recordRevisit(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.post('/api/satisfaction/revisits/:id/cancel', {
    config: { access: { permission: 'satisfaction.call', resource: revisit } },
    schema: {
      tags,
      summary: 'Cancel a planned revisit, saying why',
      params: IdParams,
      body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 2000 }) }, strict),
      response: { 200: Revisit, ...errorResponses },
    },
    handler: (req) => svc.cancelRevisit(requirePrincipal(req), req.ip, req.params.id, req.body.reason),
  });
}
