// The monthly star rating's approval flow [004]: the branch proposes, HQ marketing approves the
// 1–2-star part, HQ re-evaluates the 3–4-star part, leadership makes it final. Pure rules, no I/O.
import type { Permission } from './permissions.js';

export const RATING_STATUSES = ['computed', 'proposed', 'low_approved', 'high_reviewed', 'final'] as const;
export type RatingStatus = (typeof RATING_STATUSES)[number];

export const RATING_ACTIONS = ['propose', 'approve_low', 'review_high', 'finalize'] as const;
export type RatingAction = (typeof RATING_ACTIONS)[number];

export interface RatingStep {
  from: RatingStatus;
  to: RatingStatus;
  permission: Permission;
}

export const RATING_STEPS: Record<RatingAction, RatingStep> = {
  propose: { from: 'computed', to: 'proposed', permission: 'rating.propose' },
  approve_low: { from: 'proposed', to: 'low_approved', permission: 'rating.approve' },
  review_high: { from: 'low_approved', to: 'high_reviewed', permission: 'rating.approve' },
  finalize: { from: 'high_reviewed', to: 'final', permission: 'rating.finalize' },
};

/** The stars HQ re-evaluates itself (3–4); below that HQ marketing approves the branch's proposal. */
export const HIGH_STARS = 3;

export function isRatingStatus(value: string): value is RatingStatus {
  return (RATING_STATUSES as readonly string[]).includes(value);
}

/** The one action that moves a batch on from `status`, or null once it is final. */
export function nextAction(status: RatingStatus): RatingAction | null {
  return RATING_ACTIONS.find((a) => RATING_STEPS[a].from === status) ?? null;
}

export interface RatingActor {
  permissions: ReadonlySet<string> | readonly string[];
  /** The batch's org unit lies in the actor's subtree. */
  inScope: boolean;
}

export type TransitionResult =
  { ok: true; to: RatingStatus } | { ok: false; reason: 'permission' | 'scope' | 'order'; message: string };

/** Whether `actor` may take `action` on a batch in `status`; permission and scope are checked before the order. */
export function checkTransition(status: RatingStatus, action: RatingAction, actor: RatingActor): TransitionResult {
  const step = RATING_STEPS[action];
  const has =
    actor.permissions instanceof Set
      ? actor.permissions.has(step.permission)
      : (actor.permissions as readonly string[]).includes(step.permission);
  if (!has) return { ok: false, reason: 'permission', message: `requires ${step.permission}` };
  if (!actor.inScope)
    return { ok: false, reason: 'scope', message: 'the batch belongs to a unit outside your organisation' };
  if (status !== step.from)
    return { ok: false, reason: 'order', message: `the batch is ${status}; ${action} needs it ${step.from}` };
  return { ok: true, to: step.to };
}

/** A batch is recomputed from the month's purchases only until the branch has proposed it. */
export function canRecompute(status: RatingStatus): boolean {
  return status === 'computed';
}

/** Problems with HQ's change of one customer's stars during the high review, or null. */
export function adjustmentProblem(currentStars: number, newStars: number): string | null {
  if (!Number.isInteger(newStars) || newStars < 0 || newStars > 4) return 'stars must be a whole number from 0 to 4';
  if (currentStars < HIGH_STARS)
    return `only ${HIGH_STARS}–4-star customers are re-evaluated by HQ; this one has ${currentStars}`;
  return null;
}

/** 'YYYY-MM' months back from `period`, newest first, `count` of them including `period`. */
export function monthsBack(period: string, count: number): string[] {
  const [y, m] = period.split('-').map(Number) as [number, number];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const total = y * 12 + (m - 1) - i;
    out.push(`${Math.floor(total / 12)}-${String((total % 12) + 1).padStart(2, '0')}`);
  }
  return out;
}

/**
 * A customer's final stars for `months` (newest first), null where a month has no final rating:
 * the history `benefitsFor` reads, in which a gap breaks a run.
 */
export function starHistory(months: readonly string[], finalStars: ReadonlyMap<string, number>): (number | null)[] {
  return months.map((m) => finalStars.get(m) ?? null);
}
