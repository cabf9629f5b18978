import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { IdParams, Page, Paging, errorResponses } from '../../schemas.js';
import {
  RATING_ACTIONS,
  RATING_STATUSES,
  RATING_STEPS,
  type RatingAction,
  type RatingStatus,
} from '../../../domain/rating-workflow.js';
import { PERIOD_PATTERN, type RatingsService } from './ratings.service.js';

const strict = { additionalProperties: false };
const S = Type.Union([Type.String(), Type.Null()]);
const Period = Type.String({ pattern: PERIOD_PATTERN, description: 'YYYY-MM' });
const Stars = Type.Integer({ minimum: 0, maximum: 4 });
const Stamp = Type.Union([Type.Object({ byName: S, at: Type.String() }), Type.Null()]);

const Batch = Type.Object({
  id: Type.Integer(),
  period: Type.String(),
  orgUnitId: Type.Integer(),
  orgUnitName: Type.String(),
  status: Type.Unsafe<RatingStatus>({ type: 'string', enum: [...RATING_STATUSES] }),
  nextAction: Type.Union([Type.Unsafe<RatingAction>({ type: 'string', enum: [...RATING_ACTIONS] }), Type.Null()], {
    description: 'What moves the batch on; null once final',
  }),
  nextPermission: Type.Union([Type.String(), Type.Null()], { description: 'The permission that action takes' }),
  customerCount: Type.Integer(),
  distribution: Type.Array(Type.Integer(), {
    minItems: 5,
    maxItems: 5,
    description: 'Customers with 0, 1, 2, 3 and 4 stars',
  }),
  policyVersionId: Type.Union([Type.Integer(), Type.Null()], {
    description: 'The star-rating policy version it was computed with (null: the default)',
  }),
  computedAt: Type.String(),
  proposed: Stamp,
  lowApproved: Stamp,
  highReviewed: Stamp,
  finalized: Stamp,
  note: S,
});

const Rating = Type.Object({
  customerId: Type.Integer(),
  code: Type.String(),
  name: S,
  kind: Type.String(),
  orgUnitName: Type.String(),
  computedStars: Stars,
  stars: Stars,
  class: S,
  volumeMl: Type.Integer(),
  amountFen: Type.Integer(),
  status: Type.String(),
  benefits: Type.Array(Type.String()),
  note: S,
});

const BatchDetail = Type.Intersect([
  Batch,
  Type.Object({
    basis: Type.Union([Type.Literal('volume'), Type.Literal('amount')]),
    totals: Type.Object({ volumeMl: Type.Integer(), amountFen: Type.Integer() }),
    adjusted: Type.Integer({ description: 'Customers whose stars HQ changed in the high review' }),
    ratings: Page(Rating),
  }),
]);

const Outcome = Type.Object({
  batchId: Type.Integer(),
  orgUnitId: Type.Integer(),
  orgUnitName: Type.String(),
  outcome: Type.Union([Type.Literal('computed'), Type.Literal('recomputed'), Type.Literal('locked')], {
    description: 'locked: the branch has proposed it already, so it was left as it is',
  }),
  status: Type.String(),
  customers: Type.Integer(),
});

const History = Type.Object({
  period: Type.String(),
  batchId: Type.Integer(),
  batchStatus: Type.String(),
  computedStars: Stars,
  stars: Stars,
  class: S,
  volumeMl: Type.Integer(),
  amountFen: Type.Integer(),
  status: Type.String(),
  benefits: Type.Array(Type.String()),
  note: S,
});

const Note = Type.Optional(Type.String({ maxLength: 1000 }));
const StepBody = Type.Object({ note: Note }, strict);
const ReviewBody = Type.Object(
  {
    note: Note,
    adjustments: Type.Optional(
      Type.Array(
        Type.Object(
          {
            customerId: Type.Integer({ minimum: 1 }),
            stars: Stars,
            note: Type.String({ minLength: 1, maxLength: 500, description: 'Why HQ changed the stars' }),
          },
          strict,
        ),
        {
          maxItems: 1000,
          description: 'Changes to 3–4-star customers’ stars, each with a note',
        },
      ),
    ),
  },
  strict,
);

const tags = ['ratings'];
const batchResource = { type: 'rating_batch', param: 'id' } as const;

const STEPS: { path: string; action: RatingAction; summary: string }[] = [
  { path: 'propose', action: 'propose', summary: 'The branch proposes its computed rating (rating.propose)' },
  { path: 'approve-low', action: 'approve_low', summary: 'HQ marketing approves the 1–2-star part (rating.approve)' },
  {
    path: 'review-high',
    action: 'review_high',
    summary: 'HQ re-evaluates the 3–4-star part, adjusting stars with a note (rating.approve)',
  },
  {
    path: 'finalize',
    action: 'finalize',
    summary: 'Leadership makes the rating final: benefits apply and customers are told (rating.finalize)',
  },
];

export function ratingsRoutes(app: App, svc: RatingsService): void {
  app.get('/api/ratings/batches', {
    config: { access: { permission: 'rating.read' } },
    schema: {
      tags,
      summary: 'Rating batches of the units in your subtree, newest month first',
      querystring: Type.Object({ period: Type.Optional(Period) }, strict),
      response: { 200: Type.Array(Batch), ...errorResponses },
    },
    handler: (req) => svc.list(requirePrincipal(req), req.query.period),
  });

  app.get('/api/ratings/batches/:id', {
    config: { access: { permission: 'rating.read', resource: batchResource } },
    schema: {
      tags,
      summary: 'A batch: its star distribution, totals and a page of its customers with their basis figures',
      params: IdParams,
      querystring: Type.Object(
        {
          stars: Type.Optional(Stars),
          q: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 50,
              description: "Part of the customer's name, organisation or code",
            }),
          ),
          ...Paging,
        },
        strict,
      ),
      response: { 200: BatchDetail, ...errorResponses },
    },
    handler: (req) =>
      svc.detail(req.params.id, {
        stars: req.query.stars,
        q: req.query.q,
        page: req.query.page,
        pageSize: req.query.pageSize,
      }),
  });

  app.post('/api/ratings/compute', {
    config: { access: { permission: 'rating.propose' } },
    schema: {
      tags,
      summary:
        'Compute (or recompute, until proposed) the rating of a month that has ended, for the branches in your subtree',
      body: Type.Object({ period: Period }, strict),
      response: { 200: Type.Array(Outcome), ...errorResponses },
    },
    handler: (req) => svc.compute(requirePrincipal(req), req.ip, req.body.period),
  });

  for (const step of STEPS) {
    app.post(`/api/ratings/batches/:id/${step.path}`, {
      config: { access: { permission: RATING_STEPS[step.action].permission, resource: batchResource } },
      schema: {
        tags,
        summary: step.summary,
        params: IdParams,
        body: step.action === 'review_high' ? ReviewBody : StepBody,
        response: { 200: Batch, ...errorResponses },
      },
      handler: (req) =>
        svc.act(
          requirePrincipal(req),
          req.ip,
          req.params.id,
          step.action,
          req.body as { note?: string; adjustments?: { customerId: number; stars: number; note: string }[] },
        ),
    });
  }

  app.get('/api/customers/:id/ratings', {
    config: { access: { permission: 'customer.read', resource: { type: 'customer', param: 'id' } } },
    schema: {
      tags: ['customers'],
      summary: "The customer's monthly star ratings, newest first (the read is audited)",
      params: IdParams,
      response: { 200: Type.Array(History), ...errorResponses },
    },
    handler: (req) => svc.customerHistory(requirePrincipal(req), req.ip, req.params.id),
  });
}
