import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { IdParams, Page, Paging, errorResponses } from '../../schemas.js';
import { ALERT_KINDS, ALERT_STATUSES } from '../../../domain/anomaly-rules.js';
import type { AlertsService } from './alerts.service.js';

const S = Type.Union([Type.String(), Type.Null()]);
const N = Type.Union([Type.Number(), Type.Null()]);
const strict = { additionalProperties: false };
const Kind = Type.Union([Type.Literal(ALERT_KINDS[0]), Type.Literal(ALERT_KINDS[1]), Type.Literal(ALERT_KINDS[2])]);
const Status = Type.Union([Type.Literal(ALERT_STATUSES[0]), Type.Literal(ALERT_STATUSES[1])]);
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const Counts = Type.Object({ cadence: Type.Integer(), decline: Type.Integer(), model: Type.Integer() });

// Why the rule fired; which fields are present depends on the kind.
const Detail = Type.Object({
  episode: Type.Optional(Type.String()),
  usualIntervalDays: Type.Optional(Type.Number()),
  lastVisitDay: Type.Optional(S),
  daysSince: Type.Optional(Type.Integer()),
  graceDays: Type.Optional(Type.Number()),
  overdueByDays: Type.Optional(Type.Number()),
  months: Type.Optional(Type.Array(Type.Object({ month: Type.String(), volumeMl: Type.Number() }))),
  model: Type.Optional(Type.String()),
  pAlive: Type.Optional(Type.Number()),
  expected30d: Type.Optional(Type.Number()),
  threshold: Type.Optional(Type.Number()),
  visitCount: Type.Optional(Type.Integer()),
});

const AlertSchema = Type.Object({
  id: Type.Integer(),
  kind: Kind,
  episode: Type.String(),
  status: Status,
  detail: Detail,
  openedAt: Type.String(),
  closedAt: S,
  closedByName: S,
  contactMade: S,
  reasonFound: S,
  actionTaken: S,
  orgUnitId: Type.Integer(),
  orgUnitName: Type.String(),
  assigneeUserId: Type.Union([Type.Integer(), Type.Null()]),
  assigneeName: S,
  customer: Type.Object({
    id: Type.Integer(),
    code: Type.String(),
    kind: Type.String(),
    name: S,
    greeting: S,
    organisation: S,
    plate: S,
    visitCount: Type.Integer(),
    lastVisitDay: S,
    usualIntervalDays: N,
  }),
});

const ListQuery = Type.Object(
  {
    status: Type.Optional(Status),
    mine: Type.Optional(Type.Boolean({ description: 'Only alerts assigned to me' })),
    kind: Type.Optional(Kind),
    customerId: Type.Optional(Type.Integer({ minimum: 1 })),
    ...Paging,
  },
  strict,
);

const Text = Type.String({ minLength: 1, maxLength: 2000 });
const CloseBody = Type.Object({ contactMade: Text, reasonFound: Text, actionTaken: Text }, strict);
const RunBody = Type.Object({ date: Type.Optional({ ...Day, description: 'The day whose data is complete; defaults to yesterday in the company time zone' }) }, strict);
const RunReply = Type.Object({
  period: Type.String(),
  today: Type.String(),
  raised: Counts,
  alreadyOpen: Type.Integer(),
  alreadyClosed: Type.Integer(),
  fittedBranches: Type.Integer(),
  skippedBranches: Type.Array(Type.Object({ orgUnitId: Type.Integer(), name: Type.String(), customers: Type.Integer(), reason: Type.String() })),
  scoredCustomers: Type.Integer(),
  seconds: Type.Number(),
});
const tags = ['alerts'];

export function alertsRoutes(app: App, svc: AlertsService): void {
  app.get('/api/alerts', {
    config: { access: { permission: 'alert.read' } },
    schema: { tags, summary: 'The churn and anomaly work queue of my subtree, newest first', querystring: ListQuery, response: { 200: Page(AlertSchema), ...errorResponses } },
    handler: (req) => svc.list(requirePrincipal(req), { ...req.query }),
  });

  app.post('/api/alerts/run', {
    config: { access: { permission: 'alert.run' } },
    schema: { tags, summary: 'Run the alert rules now for my subtree (raises nothing twice)', body: RunBody, response: { 200: RunReply, ...errorResponses } },
    handler: (req) => svc.runByHand(requirePrincipal(req), req.ip, req.body?.date),
  });

  app.get('/api/alerts/:id', {
    config: { access: { permission: 'alert.read', resource: { type: 'alert', param: 'id' } } },
    schema: { tags, summary: 'One alert with why it was raised', params: IdParams, response: { 200: AlertSchema, ...errorResponses } },
    handler: (req) => svc.get(requirePrincipal(req), req.params.id),
  });

  app.post('/api/alerts/:id/close', {
    // Closing records work done on the customer, so it needs the right to change customer records.
    config: { access: { permission: 'customer.write', resource: { type: 'alert', param: 'id' } } },
    schema: { tags, summary: 'Close an alert: whether the customer was reached, the reason found, the action taken', params: IdParams, body: CloseBody, response: { 200: AlertSchema, ...errorResponses } },
    handler: (req) => svc.close(requirePrincipal(req), req.ip, req.params.id, req.body),
  });
}
