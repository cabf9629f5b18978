// Visit plans (拜回访计划, DOMAIN.md "Looking after customers"): each month a plan per owner is proposed
// from the policy's minimum frequency per class, last month's sales and open alerts; the owner edits
// and submits it; a manager one level up approves or returns it. Reminders fall a week ahead (to make
// the appointment) and on the day, at local hours of the customer's unit. Pure rules, no I/O.
import { dayNumber, zonedToUtc } from './business-day.js';
import { addDays, addMonths, monthEnd } from './day-arithmetic.js';
import { isWithin } from './org-path.js';

export interface VisitFrequencyRule {
  /** A class of the classes policy (VIP, A, B…). */
  code: string;
  /** At least one visit every this many months. */
  everyMonths: number;
}

export interface VisitPolicy {
  classes: VisitFrequencyRule[];
  /** A customer whose last month fell below this share of the month before gets a visit (0.7 = 70%). */
  declineShare: number;
  /** A customer with an open alert gets a visit. */
  visitOnOpenAlert: boolean;
  /** At most this many proposed visits per owner and month (the most urgent first). */
  maxVisitsPerOwner: number;
  /** Local hour a proposed visit is planned at. */
  visitHour: number;
  /** Days before the visit the appointment reminder falls, and its local hour. */
  appointmentDaysAhead: number;
  appointmentHour: number;
  /** Local hour of the reminder on the day of the visit. */
  onDayHour: number;
}

export const DEFAULT_VISIT_POLICY: VisitPolicy = {
  classes: [
    { code: 'VIP', everyMonths: 1 },
    { code: 'A', everyMonths: 3 },
    { code: 'B', everyMonths: 6 },
  ],
  declineShare: 0.7,
  visitOnOpenAlert: true,
  maxVisitsPerOwner: 80,
  visitHour: 10,
  appointmentDaysAhead: 7,
  appointmentHour: 9,
  onDayHour: 8,
};

/** A stored version as the rules read it: fields added since it was saved take their default. */
export function storedVisitPolicy(stored: unknown): VisitPolicy {
  return { ...DEFAULT_VISIT_POLICY, ...((stored ?? {}) as Partial<VisitPolicy>) };
}

export type VisitReason = 'alert' | 'decline' | 'policy' | 'manual';

export interface PlanCandidate {
  customerId: number;
  /** The class of the customer's latest rating, or null if never rated. */
  class: string | null;
  /** Month of the last recorded visit, or null. */
  lastVisitMonth: string | null;
  /** Litres (or any unit, both the same) of last month and the month before. */
  lastMonthVolume: number;
  prevMonthVolume: number;
  openAlerts: number;
}

export interface ProposedVisit {
  customerId: number;
  reason: Exclude<VisitReason, 'manual'>;
  /** Why, in a few words the page turns into a label: the class, the alert count, the fall. */
  detail: string;
  day: string;
}

const REASON_RANK: Record<ProposedVisit['reason'], number> = { alert: 0, decline: 1, policy: 2 };

/** Months from `from` to `to` ('YYYY-MM'); negative when `to` is earlier. */
export function monthsBetween(from: string, to: string): number {
  return (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 + (Number(to.slice(5, 7)) - Number(from.slice(5, 7)));
}

/** Why a customer needs a visit in `month`, or null. The most urgent reason wins. */
export function visitReason(
  policy: VisitPolicy,
  month: string,
  c: PlanCandidate,
): { reason: ProposedVisit['reason']; detail: string } | null {
  if (policy.visitOnOpenAlert && c.openAlerts > 0) return { reason: 'alert', detail: `alerts:${c.openAlerts}` };
  if (c.prevMonthVolume > 0 && c.lastMonthVolume < c.prevMonthVolume * policy.declineShare) {
    const share = Math.round((c.lastMonthVolume / c.prevMonthVolume) * 100);
    return { reason: 'decline', detail: `share:${share}` };
  }
  const rule = c.class === null ? undefined : policy.classes.find((r) => r.code === c.class);
  if (rule && (c.lastVisitMonth === null || monthsBetween(c.lastVisitMonth, month) >= rule.everyMonths))
    return { reason: 'policy', detail: `class:${rule.code}` };
  return null;
}

/** Monday to Friday of `month`, in order (the calendar of holidays is a later refinement). */
export function workingDays(month: string): string[] {
  const days: string[] = [];
  for (let d = `${month}-01`; d <= monthEnd(month); d = addDays(d, 1)) {
    // 1970-01-01 was a Thursday: day number 0 → 4 (Mon = 1 … Sun = 7).
    const weekday = ((dayNumber(d) + 3) % 7) + 1;
    if (weekday <= 5) days.push(d);
  }
  return days;
}

/**
 * The proposed plan of one owner for `month`: every candidate who needs a visit, the most urgent
 * first (alerts, then declines, then the policy's frequency by class order), spread over the month's
 * working days from `firstDay` on, at most `maxVisitsPerOwner`.
 */
export function proposePlan(
  policy: VisitPolicy,
  month: string,
  candidates: readonly PlanCandidate[],
  firstDay = `${month}-01`,
): ProposedVisit[] {
  const classRank = new Map(policy.classes.map((r, i) => [r.code, i]));
  const due = candidates
    .map((c) => ({ c, why: visitReason(policy, month, c) }))
    .filter((x): x is { c: PlanCandidate; why: NonNullable<ReturnType<typeof visitReason>> } => x.why !== null)
    .sort(
      (a, b) =>
        REASON_RANK[a.why.reason] - REASON_RANK[b.why.reason] ||
        (classRank.get(a.c.class ?? '') ?? 99) - (classRank.get(b.c.class ?? '') ?? 99) ||
        b.c.lastMonthVolume - a.c.lastMonthVolume ||
        a.c.customerId - b.c.customerId,
    )
    .slice(0, Math.max(0, policy.maxVisitsPerOwner));
  let days = workingDays(month).filter((d) => d >= firstDay);
  if (days.length === 0) days = [monthEnd(month) >= firstDay ? firstDay : monthEnd(month)];
  // Spread evenly: the i-th visit of n falls on day floor(i × days / n), so urgent ones come first.
  return due.map((x, i) => ({
    customerId: x.c.customerId,
    reason: x.why.reason,
    detail: x.why.detail,
    day: days[Math.floor((i * days.length) / Math.max(due.length, 1))]!,
  }));
}

/** The UTC instant (ISO) of a local wall-clock time on `day` in `timeZone`. */
export function localInstant(day: string, hour: number, minute: number, timeZone: string): string {
  const wall = Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10)), hour, minute);
  return new Date(zonedToUtc(wall, timeZone)).toISOString();
}

export interface ReminderTimes {
  /** Make the appointment: `appointmentDaysAhead` days before, at `appointmentHour` local time. */
  appointment: string;
  /** On the day of the visit, at `onDayHour` local time. */
  onDay: string;
}

export function reminderTimes(policy: VisitPolicy, plannedDay: string, timeZone: string): ReminderTimes {
  return {
    appointment: localInstant(addDays(plannedDay, -policy.appointmentDaysAhead), policy.appointmentHour, 0, timeZone),
    onDay: localInstant(plannedDay, policy.onDayHour, 0, timeZone),
  };
}

/** The Monday of the week a day falls in. */
export function weekStart(day: string): string {
  const weekday = ((dayNumber(day) + 3) % 7) + 1;
  return addDays(day, 1 - weekday);
}

/** The plan month after the one `day` falls in. */
export function nextMonth(day: string): string {
  return addMonths(day.slice(0, 7), 1);
}

// ---- The plan's workflow -------------------------------------------------------------------------

export const PLAN_STATES = ['draft', 'submitted', 'approved', 'returned'] as const;
export type PlanState = (typeof PLAN_STATES)[number];
export type PlanAction = 'edit' | 'submit' | 'approve' | 'return' | 'move';

export interface PlanFacts {
  state: PlanState;
  ownerUserId: number;
  /** Path of the owner's unit when the plan was made. */
  unitPath: string;
  /** Whether that unit has a parent (the top unit approves its own plans among peers). */
  hasParent: boolean;
}

export interface PlanActor {
  userId: number;
  orgPath: string;
  permissions: ReadonlySet<string>;
}

export type PlanStepResult =
  | { ok: true; to: PlanState }
  | { ok: false; reason: 'order' | 'owner' | 'own_plan' | 'permission' | 'level'; message: string };

const FROM: Record<PlanAction, readonly PlanState[]> = {
  edit: ['draft', 'returned'],
  submit: ['draft', 'returned'],
  approve: ['submitted'],
  return: ['submitted'],
  // Moving a visit to another day is allowed after approval too: the appointment may change it.
  move: ['draft', 'returned', 'approved'],
};

/** Whether `actor` may take `action` on the plan now, and the state it leads to. */
export function checkPlanStep(action: PlanAction, plan: PlanFacts, actor: PlanActor): PlanStepResult {
  if (!FROM[action].includes(plan.state))
    return { ok: false, reason: 'order', message: `a ${plan.state} plan cannot take the step ${action}` };
  if (action === 'edit' || action === 'submit' || action === 'move') {
    if (actor.userId !== plan.ownerUserId)
      return { ok: false, reason: 'owner', message: 'only the owner of the plan changes or submits it' };
    return { ok: true, to: action === 'submit' ? 'submitted' : plan.state };
  }
  if (actor.userId === plan.ownerUserId)
    return { ok: false, reason: 'own_plan', message: 'nobody approves or returns his own plan' };
  if (!actor.permissions.has('visit.approve'))
    return { ok: false, reason: 'permission', message: 'requires visit.approve' };
  if (!mayDecideFor(actor.orgPath, plan)) {
    return { ok: false, reason: 'level', message: 'plans are decided by a manager one level up or higher' };
  }
  return { ok: true, to: action === 'approve' ? 'approved' : 'returned' };
}

/** A manager at the parent unit or above (within whose subtree the plan's unit lies) decides. */
export function mayDecideFor(actorPath: string, plan: Pick<PlanFacts, 'unitPath' | 'hasParent'>): boolean {
  if (!isWithin(plan.unitPath, actorPath)) return false;
  return plan.hasParent ? actorPath !== plan.unitPath : true;
}

/** The steps the reader may take now, for the page's buttons. */
export function allowedPlanActions(plan: PlanFacts, actor: PlanActor): PlanAction[] {
  return (['edit', 'submit', 'approve', 'return', 'move'] as const).filter((a) => checkPlanStep(a, plan, actor).ok);
}

// ---- Visit records -------------------------------------------------------------------------------

/** The aspects a visit record compares against other sources and competitors (DOMAIN.md's list). */
export const VISIT_ASPECTS = [
  'density',
  'colour',
  'price',
  'delivery_quantity',
  'delivery_timeliness',
  'delivery_safety',
  'delivery_freight',
  'process_efficiency',
  'service',
] as const;
export type VisitAspect = (typeof VISIT_ASPECTS)[number];
export const COMPARISONS = ['better', 'same', 'worse'] as const;
export type Comparison = (typeof COMPARISONS)[number];

/** The check-in's coordinates make sense (WGS-84 degrees, accuracy in metres). */
export function checkInProblem(c: { lat: number; lng: number; accuracyM: number }): string | null {
  if (!(c.lat >= -90 && c.lat <= 90)) return 'lat';
  if (!(c.lng >= -180 && c.lng <= 180)) return 'lng';
  if (!(c.accuracyM >= 0 && c.accuracyM <= 100_000)) return 'accuracyM';
  return null;
}

// ---- Problems handed up ---------------------------------------------------------------------------

/** The unit a problem goes to when handed up from the unit at `path` ("/1/7/23/" → 7), or null at the top. */
export function parentUnitId(path: string): number | null {
  const ids = path.split('/').filter(Boolean).map(Number);
  return ids.length >= 2 ? ids[ids.length - 2]! : null;
}
