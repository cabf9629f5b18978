// Complaint callbacks (回访): the five-level rating the chain requires, the optional CSAT / NPS / CES
// answers the satisfaction policy asks, and "customer unreachable" attempts counted per business day;
// after enough of them, on different days, the callback may be closed as unreachable. Every reached
// callback is recorded in the survey-contact ledger (mandatory, so never refused, but it counts toward
// the cool-down of other surveys), and a low score proposes a revisit.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Principal } from '../../auth/principal.js';
import { actorOf } from '../../auth/principal.js';
import { AppError } from '../../errors.js';
import { businessDay } from '../../../domain/business-day.js';
import { mayActFor, stageOwner } from '../../../domain/complaint-workflow.js';
import { answerProblem, isLowScore, mayCloseUnreachable, unreachableDays } from '../../../domain/satisfaction.js';
import { recordAudit } from '../audit/audit.service.js';
import { currentSatisfactionPolicy, proposeRevisit, recordContact, type Tx } from './ledger.js';

export interface CallbackBody {
  rating?: number;
  csat?: number;
  nps?: number;
  ces?: number;
  note?: string;
  /** Close the callback without a rating: the customer could not be reached often enough. */
  unreachable?: boolean;
}

interface CaseFacts {
  id: number | string;
  case_no: string;
  org_unit_id: number | string;
  customer_id: number | string | null;
  complainant_phone: string | null;
}

async function dayOf(db: Tx, unitId: number, at: string): Promise<string> {
  const u = await db.selectFrom('org_unit').select('time_zone').where('id', '=', unitId).executeTakeFirst();
  return businessDay(Date.parse(at), u?.time_zone ?? 'Asia/Shanghai');
}

async function unreachableDaysOf(db: Tx, complaintId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('complaint_callback')
    .select('day')
    .where('complaint_id', '=', complaintId)
    .where('result', '=', 'unreachable')
    .execute();
  return rows.map((r) => r.day);
}

/**
 * The callback step of a complaint, inside the step's transaction after the chain's own checks:
 * validates the optional answers against the policy, or the unreachable attempts, and records the
 * callback, the ledger contact and (after a low score) a proposed revisit.
 */
export async function recordComplaintCallback(
  db: Tx,
  p: Principal,
  k: CaseFacts,
  body: CallbackBody,
  now: Date,
): Promise<void> {
  const at = now.toISOString();
  const id = Number(k.id);
  const policy = (await currentSatisfactionPolicy(db)).body;
  const day = await dayOf(db, Number(k.org_unit_id), at);
  if (body.unreachable) {
    if (body.rating !== undefined || body.csat !== undefined || body.nps !== undefined || body.ces !== undefined)
      throw new AppError('VALIDATION_FAILED', 'an unreachable customer gave no answers', 'body.unreachable');
    const days = await unreachableDaysOf(db, id);
    if (!mayCloseUnreachable(days, policy.unreachableAttempts))
      throw new AppError(
        'CALLBACK_ATTEMPTS_NEEDED',
        `${unreachableDays(days)} of ${policy.unreachableAttempts} unreachable attempts on different days so far`,
        'body.unreachable',
      );
    await db
      .insertInto('complaint_callback')
      .values({
        complaint_id: id,
        result: 'given_up',
        rating: null,
        csat: null,
        nps: null,
        ces: null,
        note: body.note?.trim() || null,
        day,
        called_by: p.userId,
        called_at: at,
      })
      .execute();
    return;
  }
  const problem = answerProblem(policy, body);
  if (problem) throw new AppError('VALIDATION_FAILED', problem.message, `body.${problem.field}`);
  await db
    .insertInto('complaint_callback')
    .values({
      complaint_id: id,
      result: 'reached',
      rating: body.rating ?? null,
      csat: body.csat ?? null,
      nps: body.nps ?? null,
      ces: body.ces ?? null,
      note: body.note?.trim() || null,
      day,
      called_by: p.userId,
      called_at: at,
    })
    .execute();
  const customerId = k.customer_id === null ? null : Number(k.customer_id);
  await recordContact(db, {
    customerId,
    phone: k.complainant_phone,
    orgUnitId: Number(k.org_unit_id),
    reason: 'complaint_callback',
    sourceId: id,
    at,
    userId: p.userId,
  });
  if (customerId !== null && isLowScore(policy, body))
    await proposeRevisit(
      db,
      policy,
      { customerId, sourceKind: 'complaint', sourceId: id, purpose: `${k.case_no} 回访不满意` },
      now,
      p.userId,
    );
}

/** The callbacks of a case so far, and whether it may be closed as unreachable. */
export async function callbacksOf(db: Tx, complaintId: number) {
  const policy = (await currentSatisfactionPolicy(db)).body;
  const rows = await db
    .selectFrom('complaint_callback as b')
    .leftJoin('app_user as u', 'u.id', 'b.called_by')
    .select([
      'b.id',
      'b.result',
      'b.rating',
      'b.csat',
      'b.nps',
      'b.ces',
      'b.note',
      'b.day',
      'b.called_at',
      'u.display_name',
    ])
    .where('b.complaint_id', '=', complaintId)
    .orderBy('b.id')
    .execute();
  const n = (v: number | null) => (v === null ? null : Number(v));
  const days = rows.filter((r) => r.result === 'unreachable').map((r) => r.day);
  return {
    questions: { askCsat: policy.askCsat, askNps: policy.askNps, askCes: policy.askCes },
    attemptsNeeded: policy.unreachableAttempts,
    unreachableDays: unreachableDays(days),
    mayCloseUnreachable: mayCloseUnreachable(days, policy.unreachableAttempts),
    callbacks: rows.map((r) => ({
      id: Number(r.id),
      result: r.result,
      rating: n(r.rating),
      csat: n(r.csat),
      nps: n(r.nps),
      ces: n(r.ces),
      note: r.note,
      day: r.day,
      calledAt: r.called_at,
      calledByName: r.display_name ?? null,
    })),
  };
}

/** "Called, nobody answered": an attempt at the callback stage, by someone who may take it. */
export async function recordUnreachableAttempt(
  db: Kysely<Database>,
  p: Principal,
  ip: string | null,
  complaintId: number,
  note: string | undefined,
  now: Date,
) {
  const at = now.toISOString();
  await db.transaction().execute(async (tx) => {
    const k = await tx
      .selectFrom('complaint as k')
      .innerJoin('org_unit as o', 'o.id', 'k.org_unit_id')
      .leftJoin('org_unit as ow', 'ow.id', 'k.owner_unit_id')
      .select(['k.id', 'k.state', 'k.emergency', 'k.level_up', 'k.org_unit_id', 'o.path', 'ow.path as owner_path'])
      .where('k.id', '=', complaintId)
      .executeTakeFirst();
    if (!k) throw new AppError('NOT_FOUND', `complaint ${complaintId} not found`);
    if (k.state !== 'callback') throw new AppError('CONFLICT', 'the case is not waiting for its callback');
    const owner = stageOwner('callback', { emergency: Number(k.emergency) === 1, levelUp: Number(k.level_up) });
    const who = mayActFor(p, { ownerPath: k.owner_path ?? k.path, ownerRoles: owner.roles });
    if (!who.ok) throw new AppError('COMPLAINT_STAGE_DENIED', who.message);
    const day = await dayOf(tx, Number(k.org_unit_id), at);
    await tx
      .insertInto('complaint_callback')
      .values({
        complaint_id: complaintId,
        result: 'unreachable',
        rating: null,
        csat: null,
        nps: null,
        ces: null,
        note: note?.trim() || null,
        day,
        called_by: p.userId,
        called_at: at,
      })
      .execute();
    await recordAudit(tx, actorOf(p, ip), {
      action: 'complaint_callback_unreachable',
      entity: 'complaint',
      entityId: complaintId,
      orgUnitId: Number(k.org_unit_id),
      after: { day },
    });
  });
  return callbacksOf(db, complaintId);
}
