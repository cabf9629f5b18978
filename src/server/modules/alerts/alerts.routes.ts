import { Type, type TSchema } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { IdParams, Page, Paging, errorResponses } from '../../schemas.js';
import { ALERT_KINDS, ALERT_STATUSES, RESOLUTIONS, SKIP_REASONS } from '../../../domain/anomaly-rules.js';
import { AnomalyPolicyBody } from '../policies/policies.routes.js';
import type { AlertsService } from './alerts.service.js';
import {
  BACKTEST_MAX_NIGHTS,
  DEFAULT_FOLLOW_UP_DAYS,
  MAX_FOLLOW_UP_DAYS,
  type BacktestService,
} from './backtest.service.js';

const S = Type.Union([Type.String(), Type.Null()]);
const N = Type.Union([Type.Number(), Type.Null()]);
const strict = { additionalProperties: false };
const Kind = Type.Union([Type.Literal(ALERT_KINDS[0]), Type.Literal(ALERT_KINDS[1]), Type.Literal(ALERT_KINDS[2])]);
const Status = Type.Union([
  Type.Literal(ALERT_STATUSES[0]),
  Type.Literal(ALERT_STATUSES[1]),
  Type.Literal(ALERT_STATUSES[2]),
]);
const Resolution = Type.Union([Type.Literal(RESOLUTIONS[0]), Type.Literal(RESOLUTIONS[1])]);
const SkipReason = Type.Union([Type.Literal(SKIP_REASONS[0]), Type.Literal(SKIP_REASONS[1])]);
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
  baselineMl: Type.Optional(Type.Number({ description: 'Decline: the median of the baseline months' })),
  spreadMl: Type.Optional(
    Type.Number({ description: 'Decline: the normal variation the shortfall was measured against' }),
  ),
  share: Type.Optional(Type.Number({ description: 'Decline: the last month as a share of the baseline' })),
  spreadFactor: Type.Optional(Type.Number()),
  model: Type.Optional(Type.String()),
  pAlive: Type.Optional(Type.Number()),
  expected30d: Type.Optional(Type.Number()),
  threshold: Type.Optional(Type.Number()),
  visitCount: Type.Optional(Type.Integer()),
});

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

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
  lapse: Type.Union([
    Type.String({
      description:
        'What the alert is about, shared by the rules: an absence keyed by the last visit day, a decline by its first month (null on alerts raised before lapses were kept)',
    }),
    Type.Null(),
  ]),
  resolution: Nullable(Resolution),
  resolvedAt: S,
  resolvedDay: Type.Union([
    Type.String({
      description: 'The purchase that ended the absence, or the last day of the month back at his volume',
    }),
    Type.Null(),
  ]),
  resolvedTxnId: Type.Union([Type.Integer({ description: 'The sale that ended the absence' }), Type.Null()]),
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
const RunBody = Type.Object(
  {
    date: Type.Optional({
      ...Day,
      description: 'The night: data up to and including this day; defaults to yesterday in the company time zone',
    }),
    dryRun: Type.Optional(Type.Boolean({ description: 'Judge and count only; write nothing' })),
  },
  strict,
);
const Skipped = Type.Object({
  orgUnitId: Type.Integer(),
  name: Type.String(),
  customers: Type.Integer({ description: 'Customers with a history in the branch' }),
  reason: SkipReason,
  minimum: Type.Optional(Type.Integer({ description: 'The policy minimum (too_few_customers)' })),
  error: Type.Optional(Type.String()),
});
const Resolved = Type.Object({ returned: Type.Integer(), recovered: Type.Integer() });
const RunReply = Type.Object({
  period: Type.String(),
  today: Type.String(),
  dryRun: Type.Boolean(),
  raised: Counts,
  alreadyOpen: Type.Integer(),
  alreadyClosed: Type.Integer(),
  resolved: Resolved,
  fittedBranches: Type.Integer(),
  skippedBranches: Type.Array(Skipped),
  scoredCustomers: Type.Integer(),
  seconds: Type.Number(),
});
const SummaryQuery = Type.Object(
  {
    days: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 366, default: 30, description: 'Alerts opened in the last N days' }),
    ),
  },
  strict,
);
const SummaryReply = Type.Object({
  since: Type.String(),
  units: Type.Array(
    Type.Object({
      orgUnitId: Type.Integer(),
      name: Type.String(),
      path: Type.String(),
      kind: Type.String(),
      raised: Type.Integer(),
      open: Type.Integer(),
      closed: Type.Integer({ description: 'Closed by a person with what was done' }),
      resolvedReturned: Type.Integer({ description: 'Resolved by themselves: the customer bought again' }),
      resolvedRecovered: Type.Integer({ description: 'Resolved by themselves: a month back at his volume' }),
    }),
  ),
});
const LatestRun = Type.Union([
  Type.Object({
    period: Type.String(),
    finishedAt: S,
    raised: Counts,
    resolved: Resolved,
    fittedBranches: Type.Integer(),
    skippedBranches: Type.Array(Skipped),
  }),
  Type.Null(),
]);
const BacktestBody = Type.Object(
  {
    from: { ...Day, description: 'The first night' },
    to: { ...Day, description: `The last night: before today, at most ${BACKTEST_MAX_NIGHTS} nights after the first` },
    followUpDays: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_FOLLOW_UP_DAYS,
        default: DEFAULT_FOLLOW_UP_DAYS,
        description: 'A customer back within this many days of the alert makes it a false one',
      }),
    ),
    policy: Type.Optional({ ...AnomalyPolicyBody, description: 'The policy to try; the one in force when absent' }),
  },
  strict,
);
const Figures = Type.Object({
  rule: Kind,
  raised: Type.Integer(),
  customers: Type.Integer(),
  cameBack: Type.Integer({ description: 'Back within the follow-up days: false alerts' }),
  cameBackLater: Type.Integer(),
  neverCameBack: Type.Integer({ description: 'Not back through the end of the data: true alerts' }),
  undecided: Type.Integer(),
  falseShare: Type.Union([Type.Number(), Type.Null()]),
  delayDays: Type.Object(
    {
      n: Type.Integer(),
      median: Type.Union([Type.Number(), Type.Null()]),
      p90: Type.Union([Type.Number(), Type.Null()]),
    },
    { description: 'Days after the expected next visit (absences)' },
  ),
});
const BacktestReply = Type.Object({
  from: Type.String(),
  to: Type.String(),
  nights: Type.Integer(),
  followUpDays: Type.Integer(),
  lastDataDay: S,
  scopePath: Type.String(),
  policy: AnomalyPolicyBody,
  customers: Type.Integer(),
  rules: Type.Array(Figures),
  stations: Type.Array(
    Type.Object({ orgUnitId: Type.Integer(), name: Type.String(), path: Type.String(), rules: Type.Array(Figures) }),
  ),
  model: Type.Object({
    fits: Type.Integer(),
    scored: Type.Integer(),
    skipped: Type.Array(
      Type.Object({
        orgUnitId: Type.Integer(),
        name: Type.String(),
        reason: SkipReason,
        nights: Type.Integer(),
        firstNight: Type.String(),
        lastNight: Type.String(),
        customers: Type.Integer(),
        minimum: Type.Optional(Type.Integer()),
      }),
    ),
  }),
  seconds: Type.Number(),
});
const tags = ['alerts'];

export function alertsRoutes(app: App, svc: AlertsService, backtest: BacktestService): void {
  app.get('/api/alerts', {
    config: { access: { permission: 'alert.read' } },
    schema: {
      tags,
      summary: 'The churn and anomaly work queue of my subtree, newest first',
      querystring: ListQuery,
      response: { 200: Page(AlertSchema), ...errorResponses },
    },
    handler: (req) => svc.list(requirePrincipal(req), { ...req.query }),
  });

  app.post('/api/alerts/run', {
    config: { access: { permission: 'alert.run' } },
    schema: {
      tags,
      summary: 'Run the alert rules now for my subtree (raises nothing twice)',
      body: RunBody,
      response: { 200: RunReply, ...errorResponses },
    },
    handler: (req) => svc.runByHand(requirePrincipal(req), req.ip, req.body?.date, req.body?.dryRun ?? false),
  });

  app.get('/api/alerts/summary', {
    config: { access: { permission: 'alert.read' } },
    schema: {
      tags,
      summary: 'Alerts of my subtree per unit: open, closed by hand, resolved by the customer coming back',
      querystring: SummaryQuery,
      response: { 200: SummaryReply, ...errorResponses },
    },
    handler: (req) => svc.summary(requirePrincipal(req), req.query.days ?? 30),
  });

  app.get('/api/alerts/runs/latest', {
    config: { access: { permission: 'alert.read' } },
    schema: {
      tags,
      summary: 'The last nightly run: what it raised and resolved, and the branches the model rule left out and why',
      response: { 200: LatestRun, ...errorResponses },
    },
    handler: (req) => svc.latestRun(requirePrincipal(req)),
  });

  app.post('/api/alerts/backtest', {
    // The policy owner tries a policy before saving it.
    config: { access: { permission: 'policy.write' } },
    schema: {
      tags,
      summary:
        'Replay the rules night by night over my subtree without writing alerts: what a policy would have raised and how it turned out',
      body: BacktestBody,
      response: { 200: BacktestReply, ...errorResponses },
    },
    handler: (req) => {
      const p = requirePrincipal(req);
      const { from, to, followUpDays, policy } = req.body;
      return backtest.run({
        from,
        to,
        followUpDays: followUpDays ?? DEFAULT_FOLLOW_UP_DAYS,
        scopePath: p.orgPath,
        ...(policy && { policy }),
      });
    },
  });

  app.get('/api/alerts/:id', {
    config: { access: { permission: 'alert.read', resource: { type: 'alert', param: 'id' } } },
    schema: {
      tags,
      summary: 'One alert with why it was raised',
      params: IdParams,
      response: { 200: AlertSchema, ...errorResponses },
    },
    handler: (req) => svc.get(requirePrincipal(req), req.params.id),
  });

  app.post('/api/alerts/:id/close', {
    // Closing records work done on the customer, so it needs the right to change customer records.
    config: { access: { permission: 'customer.write', resource: { type: 'alert', param: 'id' } } },
    schema: {
      tags,
      summary: 'Close an alert: whether the customer was reached, the reason found, the action taken',
      params: IdParams,
      body: CloseBody,
      response: { 200: AlertSchema, ...errorResponses },
    },
    handler: (req) => svc.close(requirePrincipal(req), req.ip, req.params.id, req.body),
  });
}
