// Development plans (开发计划, DOMAIN.md "Looking after customers", seed [003] §4): a station surveys a
// prospect (basic facts, real demand, use, settlement, the competitor supplying him now) and classes
// him 重要 / 次重要 / 一般; the branch collects the month's prospects into one plan; the business
// department head and then the leader approve it (two slots, two different people, neither of them
// the one who compiled it); the branch dispatches it — important prospects developed by the branch,
// secondary by the area, general by the station, each with a named follower at that level — and the
// follower records contact, offer, signature or loss. Every week the branch samples some stations'
// progress. A plan or prospect past its due day without the step it waits for is overdue.
// States, steps and who may take each are data here. Pure rules, no I/O.
import type { Permission } from './permissions.js';
import { isWithin } from './org-path.js';
import { addDays, isCalendarDay } from './day-arithmetic.js';

export const IMPORTANCES = ['important', 'secondary', 'general'] as const;
export type Importance = (typeof IMPORTANCES)[number];

/** The org level that develops a prospect of each importance ([003] §4(四)). */
export const LEVEL_OF: Record<Importance, 'branch' | 'area' | 'station'> = {
  important: 'branch',
  secondary: 'area',
  general: 'station',
};

export const PLAN_STATES = ['draft', 'submitted', 'dept_approved', 'approved', 'dispatched'] as const;
export type PlanState = (typeof PLAN_STATES)[number];

export const PLAN_ACTIONS = [
  'submit',
  'approve_dept',
  'reject_dept',
  'approve_leader',
  'reject_leader',
  'dispatch',
] as const;
export type PlanAction = (typeof PLAN_ACTIONS)[number];

export const STAGES = ['surveyed', 'dispatched', 'contacted', 'offered', 'signed', 'lost'] as const;
export type Stage = (typeof STAGES)[number];

/** Stages in which someone still owes the next step (and can be overdue). */
export const LIVE_STAGES: readonly Stage[] = ['dispatched', 'contacted', 'offered'];

export const PROGRESS_ACTIONS = ['contact', 'offer', 'sign', 'lose', 'note'] as const;
export type ProgressAction = (typeof PROGRESS_ACTIONS)[number];

export interface PlanStep {
  from: readonly PlanState[];
  to: PlanState;
  permission: Permission;
}

export const PLAN_STEPS: Record<PlanAction, PlanStep> = {
  // The branch's planner sends the compiled plan for approval.
  submit: { from: ['draft'], to: 'submitted', permission: 'prospect.plan' },
  // First slot: the business department head (业务部门负责人).
  approve_dept: { from: ['submitted'], to: 'dept_approved', permission: 'prospect.approve' },
  // Either slot may send it back to be redrafted instead; its approvals are cleared.
  reject_dept: { from: ['submitted'], to: 'draft', permission: 'prospect.approve' },
  // Second slot: the leader in charge (分管领导).
  approve_leader: { from: ['dept_approved'], to: 'approved', permission: 'prospect.finalize' },
  reject_leader: { from: ['dept_approved'], to: 'draft', permission: 'prospect.finalize' },
  // Once approved, the branch hands each prospect to its follower (下达).
  dispatch: { from: ['approved'], to: 'dispatched', permission: 'prospect.plan' },
};

export interface ProgressStep {
  from: readonly Stage[];
  to: Stage;
  /** The step asks for the day the next step is due. */
  nextDue: boolean;
}

export const PROGRESS_STEPS: Record<ProgressAction, ProgressStep> = {
  contact: { from: ['dispatched'], to: 'contacted', nextDue: true },
  offer: { from: ['dispatched', 'contacted'], to: 'offered', nextDue: true },
  sign: { from: ['contacted', 'offered'], to: 'signed', nextDue: false },
  lose: { from: ['dispatched', 'contacted', 'offered'], to: 'lost', nextDue: false },
  // A follow-up that changes no stage: what was done, and when the next step is now due.
  note: { from: ['dispatched', 'contacted', 'offered'], to: 'dispatched', nextDue: true },
};

/** Days to the next step's due day when the person gives none: from dispatch, contact, offer. */
export const DEFAULT_STEP_DAYS: Record<'dispatched' | 'contacted' | 'offered', number> = {
  dispatched: 7,
  contacted: 14,
  offered: 30,
};

export function isImportance(v: string): v is Importance {
  return (IMPORTANCES as readonly string[]).includes(v);
}
export function isPlanState(v: string): v is PlanState {
  return (PLAN_STATES as readonly string[]).includes(v);
}
export function isStage(v: string): v is Stage {
  return (STAGES as readonly string[]).includes(v);
}

export interface Actor {
  userId: number;
  orgPath: string;
  permissions: ReadonlySet<string> | readonly string[];
}

export interface PlanFacts {
  state: PlanState;
  /** The branch the plan belongs to. */
  orgPath: string;
  compiledBy: number | null;
  deptApproverId: number | null;
}

export type Denial = 'permission' | 'scope' | 'own_plan' | 'same_approver' | 'order' | 'level' | 'follower';
export type Check<T> = { ok: true; to: T } | { ok: false; reason: Denial; message: string };

const holds = (a: Actor, permission: string) =>
  a.permissions instanceof Set
    ? a.permissions.has(permission)
    : (a.permissions as readonly string[]).includes(permission);

/**
 * Whether `actor` may take `action` on a plan. The right and the subtree come first, then the order of
 * the steps, then the people rules: nobody approves a plan he compiled, and the two approval slots
 * are two different people.
 */
export function checkPlanStep(action: PlanAction, plan: PlanFacts, actor: Actor): Check<PlanState> {
  const step = PLAN_STEPS[action];
  const permission = step.permission;
  if (!holds(actor, permission))
    return { ok: false, reason: 'permission', message: `${action} requires ${permission}` };
  if (!isWithin(plan.orgPath, actor.orgPath))
    return { ok: false, reason: 'scope', message: 'the plan belongs to a branch outside your organisation' };
  if (!step.from.includes(plan.state))
    return {
      ok: false,
      reason: 'order',
      message: `the plan is ${plan.state}; ${action} needs it ${step.from.join(' or ')}`,
    };
  const approving = action !== 'submit' && action !== 'dispatch';
  if (approving && plan.compiledBy !== null && plan.compiledBy === actor.userId)
    return { ok: false, reason: 'own_plan', message: 'nobody approves a plan he compiled himself' };
  const leaderSlot = action === 'approve_leader' || action === 'reject_leader';
  if (leaderSlot && plan.deptApproverId !== null && plan.deptApproverId === actor.userId)
    return {
      ok: false,
      reason: 'same_approver',
      message: 'the leader’s approval must come from someone other than the department head who approved',
    };
  return { ok: true, to: step.to };
}

/** The plan steps the actor may take now, for the page to offer. */
export function allowedPlanActions(plan: PlanFacts, actor: Actor): PlanAction[] {
  return PLAN_ACTIONS.filter((a) => checkPlanStep(a, plan, actor).ok);
}

/** Who the approval waits for: the permission whose holders' slot is next, or null when none is. */
export function nextApprovalPermission(state: PlanState): Permission | null {
  if (state === 'submitted') return PLAN_STEPS.approve_dept.permission;
  if (state === 'dept_approved') return PLAN_STEPS.approve_leader.permission;
  return null;
}

export interface ProspectFacts {
  stage: Stage;
  /** Where the prospect is developed (the dispatched unit); null before dispatch. */
  dispatchPath: string | null;
  followerUserId: number | null;
}

/**
 * Whether `actor` may record `action` on a prospect: the follower, or a planner (`prospect.plan`)
 * whose subtree holds the unit that develops the prospect (the branch checking up). Everybody needs
 * `customer.write`, and the unit in his subtree.
 */
export function checkProgress(action: ProgressAction, p: ProspectFacts, actor: Actor): Check<Stage> {
  if (!holds(actor, 'customer.write'))
    return { ok: false, reason: 'permission', message: `${action} requires customer.write` };
  const step = PROGRESS_STEPS[action];
  if (!step.from.includes(p.stage) || p.dispatchPath === null)
    return {
      ok: false,
      reason: 'order',
      message: `the prospect is ${p.stage}; ${action} needs it ${step.from.join(' or ')}`,
    };
  // The follower sits at the dispatched unit; the branch above it. Anyone else sees a unit outside his subtree.
  if (!isWithin(p.dispatchPath, actor.orgPath))
    return { ok: false, reason: 'scope', message: 'the prospect is developed by a unit outside your organisation' };
  const isFollower = p.followerUserId === actor.userId;
  if (!isFollower && !holds(actor, 'prospect.plan'))
    return {
      ok: false,
      reason: 'follower',
      message: `${action} is for the prospect’s follower or the branch’s planner`,
    };
  // A note keeps the stage.
  return { ok: true, to: action === 'note' ? p.stage : step.to };
}

export function allowedProgress(p: ProspectFacts, actor: Actor): ProgressAction[] {
  return PROGRESS_ACTIONS.filter((a) => checkProgress(a, p, actor).ok);
}

/** One org unit on a prospect's path from the top, with its level kind. */
export interface PathUnit {
  id: number;
  path: string;
  kindCode: string;
}

/**
 * The unit that develops a prospect of `importance` surveyed at the last unit of `chain` (the chain of
 * units from the top down): the nearest unit of the level's kind on the chain; a level missing there
 * (a station directly under its branch) goes up to the next level that exists, never down.
 */
export function dispatchUnit(chain: readonly PathUnit[], importance: Importance): PathUnit | null {
  const order: ('branch' | 'area' | 'station')[] = ['station', 'area', 'branch'];
  const start = order.indexOf(LEVEL_OF[importance]);
  for (const level of order.slice(start)) {
    const found = [...chain].reverse().find((u) => u.kindCode === level);
    if (found) return found;
  }
  return null;
}

/**
 * Whether a person may follow a prospect dispatched to `dispatch`: he sits at that very unit (the
 * level the importance names, not above or below it) and may change customers.
 */
export function followerProblem(
  dispatch: PathUnit,
  follower: { orgUnitId: number; permissions: ReadonlySet<string> | readonly string[]; active: boolean },
): 'inactive' | 'permission' | 'level' | null {
  if (!follower.active) return 'inactive';
  if (follower.orgUnitId !== dispatch.id) return 'level';
  const perms = follower.permissions;
  const may =
    perms instanceof Set ? perms.has('customer.write') : (perms as readonly string[]).includes('customer.write');
  return may ? null : 'permission';
}

/** The branch a unit belongs to: the nearest branch on its chain (or the unit itself). */
export function branchOf(chain: readonly PathUnit[]): PathUnit | null {
  return [...chain].reverse().find((u) => u.kindCode === 'branch') ?? null;
}

/** A due day: a real calendar day, not before today, within a year. */
export function dueDayProblem(day: string, today: string): 'invalid' | 'past' | 'too_far' | null {
  if (!isCalendarDay(day)) return 'invalid';
  if (day < today) return 'past';
  return day > addDays(today, 366) ? 'too_far' : null;
}

/** The day an action happened: a real day, not in the future, not more than a year back. */
export function happenedDayProblem(day: string, today: string): 'invalid' | 'future' | 'too_old' | null {
  if (!isCalendarDay(day)) return 'invalid';
  if (day > today) return 'future';
  return day < addDays(today, -366) ? 'too_old' : null;
}

/** The next step's due day after `action` on `today`, when the person gives none. */
export function defaultNextDue(to: Stage, today: string): string | null {
  if (to === 'dispatched' || to === 'contacted' || to === 'offered') return addDays(today, DEFAULT_STEP_DAYS[to]);
  return null;
}

/** A plan's default due day: it should be dispatched by the 5th of its month ([004]: results by the 5th). */
export function defaultPlanDue(month: string): string {
  return `${month}-05`;
}

/** A plan is overdue when it is not yet dispatched and its due day has passed. */
export function planOverdue(state: PlanState, dueDay: string, today: string): boolean {
  return state !== 'dispatched' && dueDay < today;
}

/** A prospect is overdue when its next step is owed and the day it was due has passed. */
export function prospectOverdue(stage: Stage, dueDay: string | null, today: string): boolean {
  return (LIVE_STAGES as readonly string[]).includes(stage) && dueDay !== null && dueDay < today;
}

/** The Monday of the week holding `day` (weeks run Monday to Sunday, as China's work week does). */
export function weekStart(day: string): string {
  const dow = new Date(`${day}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  return addDays(day, -((dow + 6) % 7));
}

/**
 * Stations to sample this week: `count` of the candidates, chosen by a seeded shuffle so the same week
 * and plan always give the same pick (a re-run does not draw again), preferring those not checked yet.
 */
export function pickSample(
  candidates: readonly number[],
  alreadyChecked: ReadonlySet<number>,
  count: number,
  seed: string,
): number[] {
  let h = 2166136261;
  for (const ch of seed) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const rand = () => {
    h = (Math.imul(h ^ (h >>> 15), 2246822507) + 0x6d2b79f5) >>> 0;
    return h / 4294967296;
  };
  const shuffled = [...new Set(candidates)];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const fresh = shuffled.filter((c) => !alreadyChecked.has(c));
  const seen = shuffled.filter((c) => alreadyChecked.has(c));
  return [...fresh, ...seen].slice(0, Math.max(0, count));
}

/** How many of `n` stations a week's sample takes by default: a fifth, at least one. */
export function defaultSampleSize(n: number): number {
  return n === 0 ? 0 : Math.max(1, Math.ceil(n / 5));
}
