import { Type, type TSchema } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { errorResponses } from '../../schemas.js';
import { POLICY_KINDS, type PolicyBodies, type PolicyKind } from '../../../domain/policies.js';
import type { PoliciesService } from './policies.service.js';

const Num = (o: { minimum?: number; maximum?: number } = {}) => Type.Number({ minimum: 0, ...o });
const Stars = Type.Integer({ minimum: 0, maximum: 4 });
const Thresholds = Type.Tuple([Num(), Num(), Num(), Num()]);
const strict = { additionalProperties: false };

/** One schema per policy kind: what HQ may save is checked field by field. */
const BODIES: Record<PolicyKind, TSchema> = {
  key_customer: Type.Object({ products: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { minItems: 1, maxItems: 20 }), minTransactionYuan: Num(), topShare: Num({ maximum: 1 }) }, strict),
  star_rating: Type.Object(
    {
      basis: Type.Union([Type.Literal('volume'), Type.Literal('amount')]),
      thresholds: Type.Object({ default: Thresholds }, { additionalProperties: Thresholds }),
      computeDay: Type.Integer({ minimum: 1, maximum: 28 }),
      finalDay: Type.Integer({ minimum: 1, maximum: 28 }),
    },
    strict,
  ),
  classes: Type.Object({ classes: Type.Array(Type.Object({ code: Type.String({ minLength: 1, maxLength: 16 }), minStars: Stars }, strict), { minItems: 1, maxItems: 10 }) }, strict),
  benefits: Type.Object(
    {
      benefits: Type.Array(
        Type.Object(
          {
            code: Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9_]+$' }),
            nameZh: Type.String({ minLength: 1, maxLength: 100 }),
            nameEn: Type.String({ minLength: 1, maxLength: 100 }),
            minStars: Stars,
            consecutiveMonths: Type.Integer({ minimum: 1, maximum: 24 }),
            discountYuanPerTon: Type.Optional(Num()),
          },
          strict,
        ),
        { maxItems: 20 },
      ),
    },
    strict,
  ),
  card: Type.Object({ discountRate: Num({ maximum: 0.5 }), minMonthlyYuan: Num() }, strict),
  anomaly: Type.Object({ graceDays: Type.Integer({ minimum: 0, maximum: 60 }), minVisits: Type.Integer({ minimum: 2, maximum: 100 }), declineMonths: Type.Integer({ minimum: 2, maximum: 12 }), pAliveBelow: Num({ maximum: 1 }) }, strict),
};

const Version = (body: TSchema) =>
  Type.Object({ kind: Type.String(), versionId: Type.Union([Type.Integer(), Type.Null()]), body, note: Type.Union([Type.String(), Type.Null()]), createdAt: Type.Union([Type.String(), Type.Null()]), createdByName: Type.Union([Type.String(), Type.Null()]) });
const AnyVersion = Version(Type.Union(POLICY_KINDS.map((k) => BODIES[k])));
const KindParams = Type.Object({ kind: Type.Union(POLICY_KINDS.map((k) => Type.Literal(k))) }, strict);
const tags = ['policies'];

export function policiesRoutes(app: App, svc: PoliciesService): void {
  app.get('/api/policies', {
    config: { access: { session: true } },
    schema: { tags, summary: 'The policies in force (HQ edits them; every save is kept)', response: { 200: Type.Array(AnyVersion), ...errorResponses } },
    handler: () => svc.all(),
  });

  app.get('/api/policies/:kind/history', {
    config: { access: { session: true } },
    schema: { tags, summary: 'Earlier versions of a policy, newest first', params: KindParams, response: { 200: Type.Array(AnyVersion), ...errorResponses } },
    handler: (req) => svc.history(req.params.kind),
  });

  for (const kind of POLICY_KINDS) {
    app.put(`/api/policies/${kind}`, {
      config: { access: { permission: 'policy.write' } },
      schema: {
        tags,
        summary: `Save a new version of the ${kind.replace('_', ' ')} policy`,
        body: Type.Object({ body: BODIES[kind], note: Type.Optional(Type.String({ maxLength: 1000 })) }, strict),
        response: { 200: Version(BODIES[kind]), ...errorResponses },
      },
      handler: (req) => {
        const { body, note } = req.body as { body: PolicyBodies[typeof kind]; note?: string };
        return svc.save(requirePrincipal(req), req.ip, kind, body, note ?? null);
      },
    });
  }
}
