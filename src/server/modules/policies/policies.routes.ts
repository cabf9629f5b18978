import { Type, type TSchema } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { errorResponses } from '../../schemas.js';
import {
  BENEFIT_CODE_PATTERN,
  POLICY_KINDS,
  POLICY_LIMITS,
  POLICY_TEXT_LIMITS as TEXT,
  type NumberLimit,
  type PolicyBodies,
  type PolicyKind,
} from '../../../domain/policies.js';
import type { PoliciesService } from './policies.service.js';

// The schemas are built from the limits in src/domain/policies.ts, which the settings form mirrors.
const Num = (limit: NumberLimit, description: string) => {
  const range = { minimum: limit.min, ...(limit.max !== undefined && { maximum: limit.max }), description };
  return limit.integer ? Type.Integer(range) : Type.Number(range);
};
const L = POLICY_LIMITS;
const threshold = (n: number) => Num(L.threshold, `${n} star${n > 1 ? 's' : ''}`);
const Thresholds = Type.Tuple([threshold(1), threshold(2), threshold(3), threshold(4)], {
  description: 'Last month’s litres (basis volume) or yuan (basis amount) for 1, 2, 3 and 4 stars, rising',
});
const strict = { additionalProperties: false };

/** The anomaly policy: what the alert rules read (the back-test takes a candidate of the same shape). */
export const AnomalyPolicyBody = Type.Object(
  {
    graceDays: Num(L.graceDays, 'Days past the usual interval before a customer is overdue'),
    minVisits: Num(L.minVisits, 'Visit days needed before the usual interval counts'),
    declineBaselineMonths: Num(L.declineBaselineMonths, 'Complete months before the last one that form the baseline'),
    declineShare: Num(L.declineShare, 'The last month below this share of the baseline median may be a decline'),
    declineSpread: Num(
      L.declineSpread,
      'Times the normal monthly variation (or one fill-up) the shortfall must exceed',
    ),
    pAliveBelow: Num(L.pAliveBelow, 'A model probability of being active below this raises an alert'),
    normalYearlyLossRate: Num(
      L.normalYearlyLossRate,
      'Share of active customers a unit normally loses in a year (0.1 = 10%)',
    ),
    modelMinCustomers: Num(L.modelMinCustomers, 'Customers with a history a branch needs before its models are fitted'),
    modelMinHistoryDays: Num(L.modelMinHistoryDays, 'Days since the first visit before the models judge a customer'),
  },
  strict,
);

const LevelCode = Type.String({
  minLength: 1,
  maxLength: 32,
  description: 'An org level kind code (hq, branch, area, station…)',
});
/** Ownership, "1:15" coverage and the public pool (公海). */
export const OwnershipPolicyBody = Type.Object(
  {
    minCustomersPerOwner: Num(L.minCustomersPerOwner, 'Every employee looks after at least this many customers (1:15)'),
    maxCustomersPerOwner: Num(L.maxCustomersPerOwner, 'The most one person may own (库容 per person)'),
    unitCapacity: Num(L.unitCapacity, 'The most the people of one unit may own together (库容 per unit)'),
    claimDailyCap: Num(L.claimDailyCap, 'Claims from the pool one person may make a day'),
    coolingOffDays: Num(L.coolingOffDays, 'Days before a former owner may claim back a customer he lost to the pool'),
    reminderDaysBefore: Num(L.reminderDaysBefore, 'Days before the return to the pool that the owner is reminded'),
    unratedReturnDays: Num(
      L.unratedReturnDays,
      'Days without a follow-up before an unrated customer returns to the pool',
    ),
    exemptRecentPurchase: Type.Boolean({
      description: 'A purchase within the window keeps the customer with his owner',
    }),
    returnDays: Type.Array(
      Type.Object(
        {
          code: Type.String({ minLength: 1, maxLength: TEXT.classCode, description: 'Class code' }),
          days: Num(L.returnDays, 'Days without a follow-up before a customer of this class returns to the pool'),
        },
        strict,
      ),
      { maxItems: TEXT.classes },
    ),
    maintenance: Type.Array(
      Type.Object(
        {
          code: Type.String({ minLength: 1, maxLength: 32, pattern: BENEFIT_CODE_PATTERN, description: 'Rule code' }),
          classCode: Type.String({ minLength: 1, maxLength: TEXT.classCode, description: 'This class and above' }),
          customerKinds: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), {
            maxItems: 10,
            description: 'Customer kinds the rule is for; empty: every kind',
          }),
          ownerLevels: Type.Array(LevelCode, { minItems: 1, maxItems: 10, description: 'Levels whose people may own' }),
        },
        strict,
      ),
      { maxItems: 20 },
    ),
  },
  strict,
);

/** One schema per policy kind: what HQ may save is checked field by field. */
const BODIES: Record<PolicyKind, TSchema> = {
  key_customer: Type.Object(
    {
      products: Type.Array(Type.String({ minLength: 1, maxLength: TEXT.product }), {
        minItems: 1,
        maxItems: TEXT.products,
        description: 'Products whose large transactions mark a key customer',
      }),
      minTransactionYuan: Num(L.minTransactionYuan, 'A transaction of at least this many yuan is large (two decimals)'),
      topShare: Num(L.topShare, 'Share of customers by volume shown as top customers (0.2 = 20%)'),
    },
    strict,
  ),
  star_rating: Type.Object(
    {
      basis: Type.Union([Type.Literal('volume'), Type.Literal('amount')], {
        description: 'Stars from litres or from yuan',
      }),
      thresholds: Type.Object(
        { default: Thresholds },
        { additionalProperties: Thresholds, description: 'Per customer kind; kinds without their own use `default`' },
      ),
      computeDay: Num(L.computeDay, 'Day of the month the rating is computed'),
      finalDay: Num(L.finalDay, 'Day of the month by which the rating should be final; not before computeDay'),
    },
    strict,
  ),
  classes: Type.Object(
    {
      classes: Type.Array(
        Type.Object(
          {
            code: Type.String({ minLength: 1, maxLength: TEXT.classCode, description: 'Class code, unique' }),
            minStars: Num(L.minStars, 'The lowest star rating that earns the class'),
          },
          strict,
        ),
        { minItems: 1, maxItems: TEXT.classes },
      ),
    },
    strict,
  ),
  benefits: Type.Object(
    {
      benefits: Type.Array(
        Type.Object(
          {
            code: Type.String({
              minLength: 1,
              maxLength: TEXT.benefitCode,
              pattern: BENEFIT_CODE_PATTERN,
              description: 'Benefit code, unique: lower-case letters, digits, underscores',
            }),
            nameZh: Type.String({ minLength: 1, maxLength: TEXT.benefitName, description: 'Name in Chinese' }),
            nameEn: Type.String({ minLength: 1, maxLength: TEXT.benefitName, description: 'Name in English' }),
            minStars: Num(L.minStars, 'Stars needed every month of the run'),
            consecutiveMonths: Num(L.consecutiveMonths, 'Consecutive rated months at or above minStars'),
            discountYuanPerTon: Type.Optional(Num(L.discountYuanPerTon, 'A discount in yuan per ton, if any')),
          },
          strict,
        ),
        { maxItems: TEXT.benefits },
      ),
    },
    strict,
  ),
  card: Type.Object(
    {
      discountRate: Num(L.discountRate, 'What a fuel card saves, as a share of the amount (0.02 = 2%)'),
      minMonthlyYuan: Num(L.minMonthlyYuan, 'Suggest a card from this monthly spending in yuan (two decimals)'),
    },
    strict,
  ),
  anomaly: AnomalyPolicyBody,
  contact: Type.Object(
    {
      priceLeadDays: Num(L.priceLeadDays, 'Days before a price change takes effect that its customers are contacted'),
      priceLookbackDays: Num(
        L.priceLookbackDays,
        'A price change concerns customers who bought its product within these days',
      ),
      holidayLeadDays: Num(L.holidayLeadDays, 'Working days before a holiday that key customers are contacted'),
      holidayMinStars: Num(L.holidayMinStars, 'Key customers for holidays: latest final star rating at least this'),
      weatherLeadDays: Num(
        L.weatherLeadDays,
        'Days before a weather or road warning starts that customers are contacted',
      ),
      birthdayLeadDays: Num(L.birthdayLeadDays, 'Days before a birthday that the owner is reminded'),
      dueHour: Num(L.dueHour, 'Hour of the local day by which a contact task is due'),
      workdayStartHour: Num(L.workdayStartHour, 'Start of working hours, hours after local midnight (8.5 = 08:30)'),
      workdayEndHour: Num(L.workdayEndHour, 'End of working hours, after the start'),
    },
    strict,
  ),
  ownership: OwnershipPolicyBody,
};

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Version = (body: TSchema) =>
  Type.Object({
    kind: Type.String(),
    versionId: Nullable(Type.Integer({ description: 'Null while the default is in force' })),
    body,
    note: Nullable(Type.String()),
    createdAt: Nullable(Type.String()),
    createdByName: Nullable(Type.String({ description: 'Display name of the person who saved the version' })),
  });
const AnyBody = Type.Union(POLICY_KINDS.map((k) => BODIES[k]));
const AnyVersion = Version(AnyBody);
const ChangeValue = Nullable(
  Type.Union([Type.Number(), Type.String(), Type.Array(Type.Union([Type.Number(), Type.String()]))]),
);
const HistoryEntry = Type.Object({
  ...AnyVersion.properties,
  changes: Type.Array(
    Type.Object({
      path: Type.Array(Type.String(), { description: 'Field names; rules (classes, benefits) named by their code' }),
      before: ChangeValue,
      after: ChangeValue,
    }),
    { description: 'What this version changed from the one before it (the first: from the default)' },
  ),
});
const KindParams = Type.Object({ kind: Type.Union(POLICY_KINDS.map((k) => Type.Literal(k))) }, strict);
const tags = ['policies'];

export function policiesRoutes(app: App, svc: PoliciesService): void {
  app.get('/api/policies', {
    config: { access: { session: true } },
    schema: {
      tags,
      summary: 'The policies in force (HQ edits them; every save is kept)',
      response: { 200: Type.Array(AnyVersion), ...errorResponses },
    },
    handler: () => svc.all(),
  });

  app.get('/api/policies/:kind/history', {
    config: { access: { session: true } },
    schema: {
      tags,
      summary: 'The last 100 versions of a policy, newest first, each with who saved it and what it changed',
      params: KindParams,
      response: { 200: Type.Array(HistoryEntry), ...errorResponses },
    },
    handler: (req) => svc.history(req.params.kind),
  });

  for (const kind of POLICY_KINDS) {
    app.put(`/api/policies/${kind}`, {
      config: { access: { permission: 'policy.write' } },
      schema: {
        tags,
        summary: `Save a new version of the ${kind.replace('_', ' ')} policy`,
        body: Type.Object(
          {
            body: BODIES[kind],
            note: Type.Optional(Type.String({ maxLength: TEXT.note, description: 'Why it changed' })),
          },
          strict,
        ),
        response: { 200: Version(BODIES[kind]), ...errorResponses },
      },
      handler: (req) => {
        const { body, note } = req.body as { body: PolicyBodies[typeof kind]; note?: string };
        return svc.save(requirePrincipal(req), req.ip, kind, body, note ?? null);
      },
    });
  }
}
