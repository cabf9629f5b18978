// The monthly star rating [004]: each branch's customers rated from last month's purchases, then
// moved through the approval flow of src/domain/rating-workflow.ts; on final, benefits and messages.
import type { Kysely } from 'kysely';
import { engineOf } from '../../db/dialect.js';
import type { Database } from '../../db/schema.js';
import { actorOf, type Actor, type Principal } from '../../auth/principal.js';
import { pathInScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import { businessDay } from '../../../domain/business-day.js';
import { isWithin } from '../../../domain/org-path.js';
import {
  DEFAULT_POLICIES,
  benefitsFor,
  classFor,
  starsFor,
  type ClassesPolicy,
  type StarRatingPolicy,
} from '../../../domain/policies.js';
import {
  RATING_STEPS,
  adjustmentProblem,
  checkTransition,
  isRatingStatus,
  monthsBack,
  nextAction,
  starHistory,
  type RatingAction,
  type RatingStatus,
} from '../../../domain/rating-workflow.js';
import { recordAudit, recordRead } from '../audit/audit.service.js';
import { currentPolicy } from '../policies/policies.service.js';
import { closeWorkItem, openWorkItem } from '../work/work-items.js';
import {
  ratingsQueries as q,
  type BatchRow,
  type NewOutbox,
  type NewRating,
  type RatingUnitRow,
} from './ratings.queries.js';
import { emitWebhookEvent } from '../webhooks/webhook-events.js';

export const PERIOD_PATTERN = '^[0-9]{4}-(0[1-9]|1[0-2])$';

export interface StepStamp {
  byName: string | null;
  at: string;
}

export interface BatchSummary {
  id: number;
  period: string;
  orgUnitId: number;
  orgUnitName: string;
  status: RatingStatus;
  /** What moves the batch on, and the permission it takes; null once final. */
  nextAction: RatingAction | null;
  nextPermission: string | null;
  customerCount: number;
  /** Customers with 0, 1, 2, 3 and 4 stars. */
  distribution: number[];
  policyVersionId: number | null;
  computedAt: string;
  proposed: StepStamp | null;
  lowApproved: StepStamp | null;
  highReviewed: StepStamp | null;
  finalized: StepStamp | null;
  note: string | null;
}

export interface RatingItem {
  customerId: number;
  code: string;
  name: string | null;
  kind: string;
  orgUnitName: string;
  computedStars: number;
  stars: number;
  class: string | null;
  volumeMl: number;
  amountFen: number;
  status: string;
  benefits: string[];
  note: string | null;
}

export interface ComputeOutcome {
  batchId: number;
  orgUnitId: number;
  orgUnitName: string;
  outcome: 'computed' | 'recomputed' | 'locked';
  status: string;
  customers: number;
}

export interface Adjustment {
  customerId: number;
  stars: number;
  note: string;
}

const stamp = (name: string | null, at: string | null): StepStamp | null => (at === null ? null : { byName: name, at });
const parseList = (json: string | null): string[] => (json ? (JSON.parse(json) as string[]) : []);

function summaryOf(b: BatchRow, distribution: number[]): BatchSummary {
  const status: RatingStatus = isRatingStatus(b.status) ? b.status : 'computed';
  const action = nextAction(status);
  return {
    id: b.id,
    period: b.period,
    orgUnitId: b.org_unit_id,
    orgUnitName: b.org_unit_name,
    status,
    nextAction: action,
    nextPermission: action ? RATING_STEPS[action].permission : null,
    customerCount: distribution.reduce((a, n) => a + n, 0),
    distribution,
    policyVersionId: b.policy_version_id,
    computedAt: b.computed_at,
    proposed: stamp(b.proposed_by_name, b.proposed_at),
    lowApproved: stamp(b.low_approved_by_name, b.low_approved_at),
    highReviewed: stamp(b.high_reviewed_by_name, b.high_reviewed_at),
    finalized: stamp(b.high_approved_by_name, b.finalized_at),
    note: b.note,
  };
}

/** The figure the thresholds are compared with: litres or yuan of the month. */
export function basisFigure(policy: StarRatingPolicy, volumeMl: number, amountFen: number): number {
  return policy.basis === 'amount' ? amountFen / 100 : volumeMl / 1000;
}

export class RatingsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Compute (or recompute, while still 'computed') the batch of every rating unit for `period`;
   * with `within`, only the units in that subtree. The monthly job and the API both come here.
   */
  async computePeriod(actor: Actor, period: string, within: string | null): Promise<ComputeOutcome[]> {
    const units = await q.ratingUnits(this.db);
    const picked = within === null ? units : units.filter((u) => isWithin(u.path, within));
    const starPolicy = await currentPolicy(this.db, 'star_rating');
    const classes = (await currentPolicy(this.db, 'classes')).body;
    const out: ComputeOutcome[] = [];
    for (const unit of picked) {
      // A branch inside another branch rates its own customers; the outer one leaves them out.
      const excluded = units.filter((o) => o.id !== unit.id && isWithin(o.path, unit.path)).map((o) => o.path);
      out.push(await this.computeUnit(actor, period, unit, excluded, starPolicy.versionId, starPolicy.body, classes));
    }
    return out;
  }

  /** The API's compute: only a month that has ended, only the caller's units. */
  async compute(p: Principal, ip: string | null, period: string): Promise<ComputeOutcome[]> {
    const thisMonth = businessDay(this.now().getTime(), await q.companyTimeZone(this.db)).slice(0, 7);
    if (period >= thisMonth)
      throw new AppError(
        'VALIDATION_FAILED',
        `period ${period} has not ended yet; rate a month before ${thisMonth}`,
        'body.period',
      );
    return this.computePeriod(actorOf(p, ip), period, p.orgPath);
  }

  private async computeUnit(
    actor: Actor,
    period: string,
    unit: RatingUnitRow,
    excluded: string[],
    policyVersionId: number | null,
    policy: StarRatingPolicy,
    classes: ClassesPolicy,
  ): Promise<ComputeOutcome> {
    return this.db.transaction().execute(async (trx) => {
      const at = this.now().toISOString();
      const created = await q.ensureBatch(trx, period, unit.id, at);
      const open = await q.reopenForCompute(trx, period, unit.id, policyVersionId, at);
      if (!open) {
        const b = await q.batchIdOf(trx, period, unit.id);
        const d = await q.distributions(trx, [b!.id]);
        return {
          batchId: b!.id,
          orgUnitId: unit.id,
          orgUnitName: unit.name,
          outcome: 'locked' as const,
          status: b!.status,
          customers: (d.get(b!.id) ?? []).reduce((a, n) => a + n, 0),
        };
      }
      const replaced = await q.deleteRatings(trx, open.id);
      const distribution =
        engineOf(trx) === 'postgres'
          ? await q.rateInPlace(trx, {
              batchId: open.id,
              month: period,
              path: unit.path,
              excluded,
              policy,
              classes,
              at,
            })
          : await this.rateInProcess(trx, open.id, period, unit.path, excluded, policy, classes, at);
      const customers = distribution.reduce((a, n) => a + n, 0);
      await syncRatingWork(trx, open.id, at);
      await recordAudit(trx, actor, {
        action: 'compute',
        entity: 'rating_batch',
        entityId: open.id,
        orgUnitId: unit.id,
        after: { period, policyVersionId, customers, replaced, distribution, recomputed: !created },
      });
      return {
        batchId: open.id,
        orgUnitId: unit.id,
        orgUnitName: unit.name,
        outcome: created ? ('computed' as const) : ('recomputed' as const),
        status: 'computed',
        customers,
      };
    });
  }

  /** SQLite: the figures read, rated here (starsFor, classFor) and written row by row in the transaction. */
  private async rateInProcess(
    trx: Kysely<Database>,
    batchId: number,
    period: string,
    path: string,
    excluded: string[],
    policy: StarRatingPolicy,
    classes: ClassesPolicy,
    at: string,
  ): Promise<number[]> {
    const figures = await q.customerFigures(trx, path, excluded, period);
    const distribution = [0, 0, 0, 0, 0];
    const rows: NewRating[] = figures.map((c) => {
      const stars = starsFor(policy, c.kind, basisFigure(policy, c.volumeMl, c.amountFen));
      distribution[stars]!++;
      return {
        batch_id: batchId,
        customer_id: c.id,
        period,
        computed_stars: stars,
        stars,
        class: classFor(classes, stars),
        basis_volume_ml: c.volumeMl,
        basis_amount_fen: c.amountFen,
        status: 'computed',
        benefits: null,
        note: null,
        updated_at: at,
      };
    });
    q.insertRatings(trx, rows);
    return distribution;
  }

  async list(p: Principal, period: string | undefined): Promise<BatchSummary[]> {
    const rows = await q.listBatches(this.db, p, period);
    const d = await q.distributions(
      this.db,
      rows.map((r) => r.id),
    );
    return rows.map((r) => summaryOf(r, d.get(r.id) ?? [0, 0, 0, 0, 0]));
  }

  private async batchOrThrow(db: Kysely<Database>, id: number): Promise<BatchRow> {
    const b = await q.batch(db, id);
    if (!b) throw new AppError('NOT_FOUND', `rating batch ${id} not found`);
    return b;
  }

  async summary(id: number, db: Kysely<Database> = this.db): Promise<BatchSummary> {
    const b = await this.batchOrThrow(db, id);
    return summaryOf(b, (await q.distributions(db, [id])).get(id)!);
  }

  async detail(id: number, opts: { stars?: number; q?: string; page: number; pageSize: number }) {
    const summary = await this.summary(id);
    const policy = await this.starPolicyOf(this.db, summary.policyVersionId);
    const page = await q.ratingsPage(
      this.db,
      id,
      { stars: opts.stars, text: opts.q?.trim() },
      opts.page,
      opts.pageSize,
    );
    return {
      ...summary,
      basis: policy.basis,
      totals: await q.totals(this.db, id),
      adjusted: await q.adjustedCount(this.db, id),
      ratings: {
        total: page.total,
        items: page.rows.map((r): RatingItem => ({
          customerId: r.customer_id,
          code: r.code,
          name: r.name,
          kind: r.kind,
          orgUnitName: r.org_unit_name,
          computedStars: r.computed_stars,
          stars: r.stars,
          class: r.class,
          volumeMl: Number(r.basis_volume_ml),
          amountFen: Number(r.basis_amount_fen),
          status: r.status,
          benefits: parseList(r.benefits),
          note: r.note,
        })),
      },
    };
  }

  /** The star policy a batch was computed with (the default when HQ had saved none). */
  private async starPolicyOf(db: Kysely<Database>, versionId: number | null): Promise<StarRatingPolicy> {
    if (versionId === null) return DEFAULT_POLICIES.star_rating;
    const body = await q.policyBody(db, versionId);
    return body ? (JSON.parse(body) as StarRatingPolicy) : (await currentPolicy(db, 'star_rating')).body;
  }

  /** One step of the approval flow, in one transaction with its audit record. */
  async act(
    p: Principal,
    ip: string | null,
    id: number,
    action: RatingAction,
    body: { note?: string; adjustments?: Adjustment[] },
  ): Promise<BatchSummary> {
    return this.db.transaction().execute(async (trx) => {
      const b = await this.batchOrThrow(trx, id);
      const status: RatingStatus = isRatingStatus(b.status) ? b.status : 'computed';
      const check = checkTransition(status, action, {
        permissions: p.permissions,
        inScope: pathInScope(p, b.org_path),
      });
      if (!check.ok)
        throw new AppError(
          check.reason === 'permission' ? 'PERMISSION_DENIED' : check.reason === 'scope' ? 'SCOPE_DENIED' : 'CONFLICT',
          check.message,
        );
      const at = this.now().toISOString();
      const step = RATING_STEPS[action];
      const stamps = {
        propose: { proposed_by: p.userId, proposed_at: at },
        approve_low: { low_approved_by: p.userId, low_approved_at: at },
        review_high: { high_reviewed_by: p.userId, high_reviewed_at: at },
        finalize: { high_approved_by: p.userId, high_approved_at: at, finalized_at: at },
      }[action];
      const moved = await q.transition(trx, id, step.from, {
        status: step.to,
        ...stamps,
        ...(body.note !== undefined && { note: body.note }),
      });
      if (!moved) throw new AppError('CONFLICT', `rating batch ${id} was moved on by someone else`);
      let detail: Record<string, unknown> = {};
      if (action === 'review_high') detail = { adjustments: await this.adjust(trx, id, body.adjustments ?? [], at) };
      else if (body.adjustments?.length)
        throw new AppError('VALIDATION_FAILED', 'stars are adjusted only in the high review', 'body.adjustments');
      if (action === 'finalize') detail = await this.finalize(trx, b, at);
      await syncRatingWork(trx, id, at);
      await recordAudit(trx, actorOf(p, ip), {
        action,
        entity: 'rating_batch',
        entityId: id,
        orgUnitId: b.org_unit_id,
        before: { status },
        after: { status: step.to, ...(body.note !== undefined && { note: body.note }), ...detail },
      });
      return this.summary(id, trx);
    });
  }

  /** HQ's re-evaluation of the 3–4-star part: each change keeps the computed stars beside it, with a note. */
  private async adjust(trx: Kysely<Database>, batchId: number, adjustments: Adjustment[], at: string) {
    if (adjustments.length === 0) return [];
    const seen = new Set<number>();
    adjustments.forEach((a, i) => {
      if (seen.has(a.customerId))
        throw new AppError(
          'VALIDATION_FAILED',
          `customer ${a.customerId} is adjusted twice`,
          `body.adjustments.${i}.customerId`,
        );
      seen.add(a.customerId);
    });
    const current = new Map((await q.ratingsOf(trx, batchId, [...seen])).map((r) => [r.customer_id, r]));
    const classes = (await currentPolicy(trx, 'classes')).body;
    const done: { customerId: number; from: number; to: number; note: string }[] = [];
    for (const [i, a] of adjustments.entries()) {
      const r = current.get(a.customerId);
      if (!r)
        throw new AppError(
          'VALIDATION_FAILED',
          `customer ${a.customerId} is not in this batch`,
          `body.adjustments.${i}.customerId`,
        );
      const problem = adjustmentProblem(r.stars, a.stars);
      if (problem) throw new AppError('VALIDATION_FAILED', problem, `body.adjustments.${i}.stars`);
      await q.setStars(trx, batchId, a.customerId, a.stars, classFor(classes, a.stars), a.note, at);
      done.push({ customerId: a.customerId, from: r.stars, to: a.stars, note: a.note });
    }
    return done;
  }

  /** Final: benefits from consecutive final months, and every customer told once (dedupe keys). */
  private async finalize(trx: Kysely<Database>, b: BatchRow, at: string) {
    const benefitsPolicy = (await currentPolicy(trx, 'benefits')).body;
    const starPolicy = await this.starPolicyOf(trx, b.policy_version_id);
    const run = Math.max(1, ...benefitsPolicy.benefits.map((x) => x.consecutiveMonths));
    const months = monthsBack(b.period, run);
    const earlier = await q.finalStars(trx, b.id, months.slice(1));
    const ratings = await q.ratingsOf(trx, b.id);
    const byBenefits = new Map<string, number[]>();
    const messages: NewOutbox[] = [];
    const counts: Record<string, number> = {};
    for (const r of ratings) {
      const finals = new Map(earlier.get(r.customer_id) ?? []);
      finals.set(b.period, r.stars);
      const benefits = benefitsFor(benefitsPolicy, starHistory(months, finals));
      for (const code of benefits) counts[code] = (counts[code] ?? 0) + 1;
      const key = JSON.stringify(benefits);
      byBenefits.set(key, [...(byBenefits.get(key) ?? []), r.customer_id]);
      const base = { customer_id: r.customer_id, channel: 'sms', status: 'pending', created_at: at };
      messages.push({
        ...base,
        template: 'rating_result',
        dedupe_key: `rating:${b.period}:${r.customer_id}`,
        payload: JSON.stringify({ period: b.period, stars: r.stars, class: r.class, benefits }),
      });
      if (r.stars === 1) {
        // Coaching says how far the customer is from the next star, in the batch's own basis.
        const t = starPolicy.thresholds[r.kind] ?? starPolicy.thresholds.default;
        const figure = basisFigure(starPolicy, Number(r.basis_volume_ml), Number(r.basis_amount_fen));
        const needed = Math.max(0, Math.round((t[1] - figure) * 100) / 100);
        messages.push({
          ...base,
          template: 'rating_coaching',
          dedupe_key: `rating-coaching:${b.period}:${r.customer_id}`,
          payload: JSON.stringify({
            period: b.period,
            stars: 1,
            basis: starPolicy.basis,
            figure,
            nextStars: 2,
            needed,
          }),
        });
      }
    }
    for (const [key, ids] of byBenefits) await q.finalizeRatings(trx, b.id, ids, key, at);
    const queued = await q.queueMessages(trx, messages);
    await emitWebhookEvent(
      trx,
      {
        event: 'rating.finalised',
        orgUnitId: b.org_unit_id,
        data: { batchId: b.id, period: b.period, customers: ratings.length, benefits: counts },
      },
      new Date(at),
    );
    return { customers: ratings.length, benefits: counts, messagesQueued: queued };
  }

  /** A customer's ratings, newest month first (the read is audited like his purchase history). */
  async customerHistory(p: Principal, ip: string | null, customerId: number) {
    const orgUnitId = await q.customerUnit(this.db, customerId);
    if (orgUnitId === null) throw new AppError('NOT_FOUND', `customer ${customerId} not found`);
    const rows = await q.customerHistory(this.db, customerId);
    await recordRead(this.db, actorOf(p, ip), 'customer_ratings', customerId, orgUnitId);
    return rows.map((r) => ({
      period: r.period,
      batchId: r.batch_id,
      batchStatus: r.batch_status,
      computedStars: r.computed_stars,
      stars: r.stars,
      class: r.class,
      volumeMl: Number(r.basis_volume_ml),
      amountFen: Number(r.basis_amount_fen),
      status: r.status,
      benefits: parseList(r.benefits),
      note: r.note,
    }));
  }
}

/** Days each step of a rating batch has before it shows as overdue in the inboxes of those who take it. */
const RATING_STEP_DAYS = 5;

/** The batch's next step as a queue item for everyone holding its permission over the batch's unit; none once final. */
async function syncRatingWork(trx: Kysely<Database>, batchId: number, at: string): Promise<void> {
  const b = await trx
    .selectFrom('rating_batch as b')
    .innerJoin('org_unit as o', 'o.id', 'b.org_unit_id')
    .select(['b.status', 'b.period', 'b.org_unit_id', 'o.name'])
    .where('b.id', '=', batchId)
    .executeTakeFirst();
  if (!b) return;
  const action = isRatingStatus(b.status) ? nextAction(b.status) : null;
  if (action === null) return closeWorkItem(trx, 'rating_approval', batchId, at);
  await openWorkItem(
    trx,
    {
      kind: 'rating_approval',
      recordId: batchId,
      assigneeUserId: null,
      permission: RATING_STEPS[action].permission,
      orgUnitId: Number(b.org_unit_id),
      subject: `${b.period} ${b.name}`,
      dueAt: new Date(Date.parse(at) + RATING_STEP_DAYS * 86_400_000).toISOString(),
    },
    at,
  );
}
