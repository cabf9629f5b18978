import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { Id, IdParams, Month, Page, Paging, errorResponses } from '../../schemas.js';
import { CHURN_CASE_STATES, CHURN_CATEGORIES } from '../../../domain/churn-case-workflow.js';
import type { ChurnCasesService } from './churn-cases.service.js';

const strict = { additionalProperties: false };
const S = Type.Union([Type.String(), Type.Null()]);
const Int = Type.Integer();
// Years as the shared Month schema takes them (1900–2999); the day itself is checked by the workflow.
const Day = Type.String({
  pattern: '^(19|2\\d)\\d{2}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$',
  description: 'YYYY-MM-DD',
});
// The lists live in the workflow (as alerts.routes.ts does with its kinds).
const [OPEN, REPORTED, SECOND_ATTEMPT, RETAINED, LOST, WON_BACK] = CHURN_CASE_STATES;
const State = Type.Union([
  Type.Literal(OPEN),
  Type.Literal(REPORTED),
  Type.Literal(SECOND_ATTEMPT),
  Type.Literal(RETAINED),
  Type.Literal(LOST),
  Type.Literal(WON_BACK),
]);
const Category = Type.Union([Type.Literal(CHURN_CATEGORIES[0]), Type.Literal(CHURN_CATEGORIES[1])], {
  description:
    'natural: closed, moved away, project ended, vehicle sold; non_natural: lost all, part, a whole organisation',
});
const Code = Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9_]+$' });
const Name = Type.String({ minLength: 1, maxLength: 100 });
const Text = (description: string) => Type.String({ minLength: 1, maxLength: 4000, description });
const Action = Type.String({ description: 'open, report, assign, retain, confirm_lost, win_back, or survey' });

const Survey = Type.Object(
  {
    reasonCode: Type.String({
      minLength: 1,
      maxLength: 32,
      description: 'One of the reasons in use (GET /api/churn-cases/catalog)',
    }),
    freeText: Type.Optional(
      Type.String({
        maxLength: 4000,
        description: 'In the customer’s words; required for a reason that asks for it (other)',
      }),
    ),
  },
  strict,
);

const ChurnCase = Type.Object({
  id: Int,
  state: State,
  category: Category,
  lossKind: Type.Object({ code: Type.String(), nameZh: Type.String(), nameEn: Type.String() }),
  note: Type.String({ description: 'What happened, in the words of who opened the case' }),
  alertId: Type.Union([Type.Integer(), Type.Null()]),
  orgUnitId: Int,
  orgUnitName: Type.String(),
  customer: Type.Object({
    id: Int,
    code: Type.String(),
    kind: Type.String(),
    name: S,
    greeting: S,
    organisation: S,
    plate: S,
    lastVisitDay: S,
  }),
  openedAt: Type.String(),
  openedByName: S,
  report: Type.Union([Type.Object({ text: Type.String(), byName: S, at: Type.String() }), Type.Null()]),
  secondAttempt: Type.Union([
    Type.Object({
      assigneeUserId: Type.Union([Type.Integer(), Type.Null()]),
      assigneeName: S,
      dueDay: Type.String(),
      assignedByName: S,
      assignedAt: Type.String(),
      overdue: Type.Boolean({ description: 'Still under way after its due day' }),
    }),
    Type.Null(),
  ]),
  outcome: Type.Union([Type.Object({ note: Type.String(), byName: S, at: Type.String() }), Type.Null()]),
  lostAt: S,
  lostDay: S,
  lostMonth: Type.Union([
    Type.String({ description: 'The month the loss counts in (the unit’s calendar)' }),
    Type.Null(),
  ]),
  wonBack: Type.Union([Type.Object({ at: Type.String(), day: S }), Type.Null()], {
    description: 'When the customer bought again, and the day of that purchase',
  }),
  survey: Type.Union([
    Type.Object({
      reasonCode: Type.String(),
      reasonNameZh: Type.String(),
      reasonNameEn: Type.String(),
      freeText: S,
      recordedByName: S,
      recordedAt: Type.String(),
    }),
    Type.Null(),
  ]),
  updatedAt: Type.String(),
  version: Int,
  allowedActions: Type.Array(Type.String(), { description: 'The steps the reader may take now' }),
  canRecordSurvey: Type.Boolean(),
});

const ChurnCaseDetail = Type.Object({
  ...ChurnCase.properties,
  events: Type.Array(
    Type.Object({
      id: Int,
      action: Action,
      fromState: S,
      toState: Type.String(),
      actorName: Type.String(),
      bySystem: Type.Boolean(),
      at: Type.String(),
      detail: Type.Record(Type.String(), Type.Unknown()),
    }),
  ),
});

const Catalog = Type.Object({
  lossKinds: Type.Array(
    Type.Object(
      {
        code: Code,
        category: Category,
        nameZh: Name,
        nameEn: Name,
        sort: Type.Integer({ minimum: 0, maximum: 10_000 }),
        active: Type.Boolean(),
      },
      strict,
    ),
    { minItems: 1, maxItems: 50 },
  ),
  reasons: Type.Array(
    Type.Object(
      {
        code: Code,
        nameZh: Name,
        nameEn: Name,
        needsText: Type.Boolean({ description: 'The survey must say more in words' }),
        sort: Type.Integer({ minimum: 0, maximum: 10_000 }),
        active: Type.Boolean(),
      },
      strict,
    ),
    { minItems: 1, maxItems: 50 },
  ),
});

const ListQuery = Type.Object(
  {
    state: Type.Optional(State),
    mine: Type.Optional(Type.Boolean({ description: 'Only cases whose second attempt is mine' })),
    orgUnitId: Type.Optional(Type.Integer({ minimum: 1, description: 'Cases of this unit and below' })),
    lostMonth: Type.Optional(Month),
    customerId: Type.Optional(Type.Integer({ minimum: 1 })),
    alertIds: Type.Optional(
      Type.String({
        pattern: '^[1-9]\\d{0,14}(,[1-9]\\d{0,14}){0,199}$',
        description: 'Cases opened from these alerts: ids, comma-separated (up to 200)',
      }),
    ),
    ...Paging,
  },
  strict,
);

const Figures = {
  lost: Type.Integer({ description: 'Customers whose loss was confirmed in the month' }),
  natural: Int,
  nonNatural: Int,
  wonBack: Type.Integer({ description: 'Cases won back in the month (the customer bought again)' }),
  activeAtStart: Type.Integer({ description: 'Customers who bought anything in the month before' }),
  rate: Type.Union([Type.Number(), Type.Null()], { description: 'lost ÷ activeAtStart; null when nobody was active' }),
  aboveNormal: Type.Boolean({ description: 'The rate is above the policy’s normal monthly rate' }),
};

const LossRate = Type.Object({
  unit: Type.Object({ id: Int, name: Type.String(), code: Type.String(), kindCode: Type.String() }),
  month: Type.String(),
  normalYearlyRate: Type.Number({ description: 'The anomaly policy’s normal yearly loss rate' }),
  normalMonthlyRate: Type.Number({ description: '1 − (1 − yearly)^(1/12)' }),
  ...Figures,
  trend: Type.Array(Type.Object({ month: Type.String(), ...Figures })),
  children: Type.Array(
    Type.Object({ id: Int, name: Type.String(), code: Type.String(), kindCode: Type.String(), ...Figures }),
  ),
  asOf: Type.String({
    description: 'When these figures were computed (ISO-8601 UTC); kept as a snapshot, see DASHBOARD_SNAPSHOT_MINUTES',
  }),
});

const Assignee = Type.Object({
  id: Int,
  displayName: Type.String(),
  username: Type.String(),
  orgUnitId: Int,
  orgUnitName: Type.String(),
});
const tags = ['churn-cases'];
const Note = Text('What the second attempt found');

export function churnCasesRoutes(app: App, svc: ChurnCasesService): void {
  app.get('/api/churn-cases/catalog', {
    config: { access: { permission: 'alert.read' } },
    schema: {
      tags,
      summary: 'The kinds of loss (natural, non-natural) and the exit survey’s reasons, in use and retired',
      response: { 200: Catalog, ...errorResponses },
    },
    handler: () => svc.catalog(),
  });

  app.put('/api/churn-cases/catalog', {
    config: { access: { permission: 'policy.write' } },
    schema: {
      tags,
      summary: 'Rename, reorder, retire or add kinds of loss and survey reasons (codes on file are kept)',
      body: Type.Object({ lossKinds: Catalog.properties.lossKinds, reasons: Catalog.properties.reasons }, strict),
      response: { 200: Catalog, ...errorResponses },
    },
    handler: (req) => svc.saveCatalog(requirePrincipal(req), req.ip, req.body),
  });

  app.get('/api/churn-cases', {
    config: { access: { permission: 'alert.read' } },
    schema: {
      tags,
      summary: 'Churn cases of my subtree, most recently changed first',
      querystring: ListQuery,
      response: { 200: Page(ChurnCase), ...errorResponses },
    },
    handler: (req) => {
      const { alertIds, ...query } = req.query;
      return svc.list(requirePrincipal(req), {
        ...query,
        ...(alertIds && { alertIds: alertIds.split(',').map(Number) }),
      });
    },
  });

  app.get('/api/churn-cases/loss-rate/:id', {
    config: { access: { permission: 'dashboard.read', resource: { type: 'org_unit', param: 'id' } } },
    schema: {
      tags,
      summary:
        'Loss rate of a unit per month (lost ÷ active at the start) against the policy’s normal rate, with its child units',
      params: IdParams,
      querystring: Type.Object(
        {
          month: Type.Optional(Month),
          months: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 36,
              description: 'Months of trend, ending with `month`; 12 by default',
            }),
          ),
          refresh: Type.Optional(
            Type.Boolean({ description: 'Compute the figures now instead of serving a snapshot' }),
          ),
        },
        strict,
      ),
      response: { 200: LossRate, ...errorResponses },
    },
    handler: (req) =>
      svc.lossRate(requirePrincipal(req), req.params.id, req.query.month, req.query.months, {
        refresh: req.query.refresh,
      }),
  });

  app.post('/api/churn-cases/from-alert/:id', {
    // Turning an alert into a case is work on the customer, like closing it.
    config: { access: { permission: 'customer.write', resource: { type: 'alert', param: 'id' } } },
    schema: {
      tags,
      summary:
        'Turn an alert into a churn case: natural loss (lost at once, with its exit survey) or non-natural (to be reported upward)',
      params: IdParams,
      body: Type.Object(
        {
          category: Category,
          lossKind: Type.String({ minLength: 1, maxLength: 32, description: 'A kind of loss in use of that category' }),
          note: Text('What happened: who was reached and what was learnt'),
          survey: Type.Optional(Survey),
        },
        strict,
      ),
      response: { 201: ChurnCaseDetail, ...errorResponses },
    },
    handler: async (req, reply) =>
      reply.code(201).send(await svc.openFromAlert(requirePrincipal(req), req.ip, req.params.id, req.body)),
  });

  app.get('/api/churn-cases/:id', {
    config: { access: { permission: 'alert.read', resource: { type: 'churn_case', param: 'id' } } },
    schema: {
      tags,
      summary: 'One churn case with its trail, exit survey and the steps I may take',
      params: IdParams,
      response: { 200: ChurnCaseDetail, ...errorResponses },
    },
    handler: (req) => svc.get(requirePrincipal(req), req.params.id),
  });

  app.post('/api/churn-cases/:id/report', {
    config: { access: { permission: 'customer.write', resource: { type: 'churn_case', param: 'id' } } },
    schema: {
      tags,
      summary: 'Report a non-natural loss in writing to the level above',
      params: IdParams,
      body: Type.Object({ report: Text('The written report') }, strict),
      response: { 200: ChurnCaseDetail, ...errorResponses },
    },
    handler: (req) => svc.report(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.get('/api/churn-cases/:id/assignees', {
    config: { access: { permission: 'churn.assign', resource: { type: 'churn_case', param: 'id' } } },
    schema: {
      tags,
      summary:
        'People the level above may send for the second attempt (at the case’s unit or above it, within my subtree)',
      params: IdParams,
      response: { 200: Type.Array(Assignee), ...errorResponses },
    },
    handler: (req) => svc.assignees(requirePrincipal(req), req.params.id),
  });

  app.post('/api/churn-cases/:id/assign', {
    config: { access: { permission: 'churn.assign', resource: { type: 'churn_case', param: 'id' } } },
    schema: {
      tags,
      summary: 'Send a named person for a second attempt by a due day (the level above only)',
      params: IdParams,
      body: Type.Object(
        { assigneeUserId: Id, dueDay: Day, note: Type.Optional(Type.String({ maxLength: 4000 })) },
        strict,
      ),
      response: { 200: ChurnCaseDetail, ...errorResponses },
    },
    handler: (req) => svc.assign(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.post('/api/churn-cases/:id/retain', {
    config: { access: { permission: 'customer.write', resource: { type: 'churn_case', param: 'id' } } },
    schema: {
      tags,
      summary: 'The second attempt kept the customer (the person sent, or the level above)',
      params: IdParams,
      body: Type.Object({ note: Note }, strict),
      response: { 200: ChurnCaseDetail, ...errorResponses },
    },
    handler: (req) => svc.retain(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.post('/api/churn-cases/:id/confirm-lost', {
    config: { access: { permission: 'customer.write', resource: { type: 'churn_case', param: 'id' } } },
    schema: {
      tags,
      summary: 'The second attempt failed: the customer is lost, with his exit survey if none is on file',
      params: IdParams,
      body: Type.Object({ note: Note, survey: Type.Optional(Survey) }, strict),
      response: { 200: ChurnCaseDetail, ...errorResponses },
    },
    handler: (req) => svc.confirmLost(requirePrincipal(req), req.ip, req.params.id, req.body),
  });

  app.put('/api/churn-cases/:id/exit-survey', {
    config: { access: { permission: 'customer.write', resource: { type: 'churn_case', param: 'id' } } },
    schema: {
      tags,
      summary: 'Record or correct the exit survey: why the customer left',
      params: IdParams,
      body: Survey,
      response: { 200: ChurnCaseDetail, ...errorResponses },
    },
    handler: (req) => svc.saveSurvey(requirePrincipal(req), req.ip, req.params.id, req.body),
  });
}
