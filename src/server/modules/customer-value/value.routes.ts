import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { IdParams, errorResponses } from '../../schemas.js';
import type { CustomerValueService } from './value.service.js';

const Num = (description: string) => Type.Union([Type.Number(), Type.Null()], { description });
const Fen = (description: string) => Type.Union([Type.Integer(), Type.Null()], { description });

export const CustomerValueSchema = Type.Object({
  customerId: Type.Integer(),
  asOf: Type.String({ description: 'The day the figures are worked out for (YYYY-MM-DD, the company’s today)' }),
  missing: Type.Union([Type.Literal('no_history'), Type.Literal('no_model'), Type.Null()], {
    description: 'Why there are no figures: no visit before today, or the branch has no churn model yet',
  }),
  model: Type.Union([Type.Literal('bgnbd'), Type.Literal('pareto_nbd'), Type.Null()], {
    description: 'The branch’s churn model used',
  }),
  modelFittedFor: Type.Union([Type.String(), Type.Null()], { description: 'Night of that churn fit' }),
  spendFittedFor: Type.Union([Type.String(), Type.Null()], {
    description: 'Night of the branch’s spend (Gamma-Gamma) fit; null: none yet',
  }),
  spendVisits: Type.Integer({ description: 'Visit days of known amount his spend is judged on' }),
  pAlive: Type.Optional(Num('Probability that he still buys here')),
  expectedVisits30d: Type.Optional(Num('Visit days expected in the next 30 days')),
  expectedVisits365d: Type.Optional(Num('Visit days expected in the next 365 days')),
  ownSpendPerVisitFen: Type.Optional(Fen('His own mean takings per visit day, fen')),
  spendPerVisitFen: Type.Optional(Fen('Expected takings of his next visits (Gamma-Gamma), fen')),
  value12mFen: Type.Optional(Fen('Expected visits in 365 days × expected spend per visit, fen, not discounted')),
});

export function customerValueRoutes(app: App, svc: CustomerValueService): void {
  app.get('/api/customers/:id/value', {
    config: { access: { permission: 'customer.read', resource: { type: 'customer', param: 'id' } } },
    schema: {
      tags: ['customers'],
      summary:
        "The customer's P(alive), expected visits, expected spend per visit and 12-month value from his branch's models",
      params: IdParams,
      response: { 200: CustomerValueSchema, ...errorResponses },
    },
    handler: (req) => svc.customerValue(req.params.id),
  });
}
