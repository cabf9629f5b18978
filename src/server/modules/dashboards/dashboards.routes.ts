import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { IdParams, Month, Paging, errorResponses } from '../../schemas.js';
import type { DashboardsService } from './dashboards.service.js';

const strict = { additionalProperties: false };
const Share = Type.Union([Type.Number(), Type.Null()], { description: '0–1; null when there is nothing to divide by' });
const Growth = Type.Union([Type.Number(), Type.Null()], {
  description: 'Against the same month a year before (0.1 = +10%); null without a base',
});
const S = Type.Union([Type.String(), Type.Null()]);
const Int = Type.Integer();
const Unit = Type.Object({ id: Int, name: Type.String(), code: Type.String(), kindCode: Type.String() });
const tags = ['dashboards'];
const AsOf = Type.String({
  description:
    'When these figures were computed (ISO-8601 UTC): answers over a subtree are kept as snapshots, see DASHBOARD_SNAPSHOT_MINUTES',
});
const Refresh = Type.Optional(Type.Boolean({ description: 'Compute the figures now instead of serving a snapshot' }));

const Headline = {
  customers: Int,
  newCustomers: Int,
  customersGrowth: Growth,
  volumeMl: Int,
  lastYearVolumeMl: Int,
  volumeGrowth: Growth,
  amountFen: Int,
  cardShare: Share,
  keyCustomerShare: Type.Union([Type.Number(), Type.Null()], {
    description: 'Share of the unit’s sales volume bought by its top customers',
  }),
};

const Dashboard = Type.Object({
  unit: Unit,
  month: Type.String(),
  lastYearMonth: Type.String(),
  customers: Type.Object({
    total: Type.Integer({ description: 'Live customer records on file at the end of the month' }),
    lastYearTotal: Int,
    growth: Growth,
    new: Type.Integer({ description: 'Records created in the month' }),
    lastYearNew: Int,
    newGrowth: Growth,
    active: Type.Integer({ description: 'Customers who bought anything in the month' }),
    byKind: Type.Array(Type.Object({ kind: Type.String(), count: Int })),
  }),
  sales: Type.Object({
    volumeMl: Int,
    amountFen: Int,
    txnCount: Int,
    cardAmountFen: Int,
    cardShare: Share,
    lastYearVolumeMl: Int,
    lastYearAmountFen: Int,
    volumeGrowth: Growth,
    amountGrowth: Growth,
  }),
  products: Type.Array(
    Type.Object({ product: Type.String(), volumeMl: Int, amountFen: Int, lastYearVolumeMl: Int, growth: Growth }),
  ),
  keyCustomers: Type.Object({
    topShare: Type.Number({ description: 'The policy: which share of customers counts as the top' }),
    customers: Int,
    topCustomers: Int,
    topVolumeMl: Int,
    customerVolumeMl: Type.Integer({ description: 'Volume bought by known customers' }),
    shareOfCustomers: Share,
    shareOfSales: Share,
  }),
  topUps: Type.Object(
    {
      amountFen: Type.Integer({ description: 'Money paid onto fuel cards in the month (top-ups, 充值)' }),
      bonusFen: Type.Integer({ description: 'What the card systems added on top (赠送), not part of the amount' }),
      count: Int,
      lastYearAmountFen: Int,
      lastYearCount: Int,
      growth: Growth,
    },
    { description: 'Fuel-card top-ups at the unit and below, from the daily top-up rollup' },
  ),
  alerts: Type.Object({ opened: Int, closed: Int }),
  stars: Type.Array(Type.Object({ stars: Int, count: Int })),
  children: Type.Array(Type.Object({ ...Unit.properties, ...Headline })),
  asOf: AsOf,
});

const UnitMonthQuery = Type.Object(
  { orgUnitId: Type.Integer({ minimum: 1 }), month: Type.Optional(Month), refresh: Refresh },
  strict,
);
const KeyCustomersQuery = Type.Object(
  {
    ...UnitMonthQuery.properties,
    sort: Type.Optional(
      Type.Union([Type.Literal('volume'), Type.Literal('value')], {
        description:
          "Order of the listed customers: the month's volume (default), or the 12-month value from the branch's models",
      }),
    ),
  },
  strict,
);

const KeyCustomers = Type.Object({
  unit: Unit,
  month: Type.String(),
  policy: Type.Object({
    products: Type.Array(Type.String()),
    minTransactionYuan: Type.Number(),
    topShare: Type.Number(),
  }),
  top: Type.Object({
    customers: Int,
    topCustomers: Int,
    topVolumeMl: Int,
    customerVolumeMl: Int,
    unitVolumeMl: Int,
    shareOfCustomers: Share,
    shareOfSales: Share,
  }),
  large: Type.Object({
    txnCount: Int,
    volumeMl: Int,
    amountFen: Int,
    productTxnCount: Int,
    productVolumeMl: Int,
    allTxnCount: Int,
    allVolumeMl: Int,
    txnShare: Share,
    volumeShare: Share,
  }),
  days: Type.Array(
    Type.Object({ day: Type.String(), volumeMl: Int, largeVolumeMl: Int, txnCount: Int, largeTxnCount: Int }),
  ),
  unattendedTotal: Int,
  unattended: Type.Array(
    Type.Object({
      customerId: Int,
      code: Type.String(),
      name: S,
      kind: Type.String(),
      orgUnitName: Type.String(),
      ownerName: S,
      volumeMl: Int,
      amountFen: Int,
      noOwner: Type.Boolean(),
      profileStep: Type.Integer({ minimum: 1, maximum: 3 }),
      nextQuestion: S,
      value12mFen: Type.Optional(
        Type.Union([Int, Type.Null()], {
          description: 'With sort=value: expected takings of the next 365 days, fen (null: no model yet)',
        }),
      ),
    }),
  ),
  sort: Type.Union([Type.Literal('volume'), Type.Literal('value')]),
  asOf: AsOf,
});

const CardSuggestions = Type.Object({
  unit: Unit,
  month: Type.String(),
  policy: Type.Object({ discountRate: Type.Number(), minMonthlyYuan: Type.Number() }),
  total: Int,
  items: Type.Array(
    Type.Object({
      customerId: Int,
      code: Type.String(),
      kind: Type.String(),
      name: S,
      orgUnitName: Type.String(),
      ownerName: S,
      amountFen: Type.Integer({ description: 'Spent in the month' }),
      volumeMl: Int,
      savingFen: Type.Integer({ description: 'What a card topped up with the same amount would save a month' }),
    }),
  ),
  asOf: AsOf,
});

export function dashboardsRoutes(app: App, svc: DashboardsService): void {
  app.get('/api/dashboards/unit/:id', {
    config: { access: { permission: 'dashboard.read', resource: { type: 'org_unit', param: 'id' } } },
    schema: {
      tags,
      summary:
        'Headline figures of a unit for a month, beside the same month a year before, with its child units for drill-down',
      params: IdParams,
      querystring: Type.Object({ month: Type.Optional(Month), refresh: Refresh }, strict),
      response: { 200: Dashboard, ...errorResponses },
    },
    handler: (req) =>
      svc.unitDashboard(requirePrincipal(req), req.params.id, req.query.month, { refresh: req.query.refresh }),
  });

  app.get('/api/key-customers', {
    config: { access: { permission: 'dashboard.read' } },
    schema: {
      tags,
      summary:
        "Key customers of a unit in a month: the top customers' and the large sales' share of volume, and top customers nobody looks after",
      querystring: KeyCustomersQuery,
      response: { 200: KeyCustomers, ...errorResponses },
    },
    handler: (req) =>
      svc.keyCustomers(requirePrincipal(req), req.query.orgUnitId, req.query.month, {
        refresh: req.query.refresh,
        sort: req.query.sort,
      }),
  });

  app.get('/api/card-suggestions', {
    config: { access: { permission: 'dashboard.read' } },
    schema: {
      tags,
      summary: 'Customers without a fuel card who spent enough in the month for a card to pay, with what it would save',
      querystring: Type.Object(
        { orgUnitId: Type.Integer({ minimum: 1 }), month: Type.Optional(Month), refresh: Refresh, ...Paging },
        strict,
      ),
      response: { 200: CardSuggestions, ...errorResponses },
    },
    handler: (req) =>
      svc.cardSuggestions(
        requirePrincipal(req),
        req.query.orgUnitId,
        req.query.month,
        req.query.page,
        req.query.pageSize,
        { refresh: req.query.refresh },
      ),
  });
}
