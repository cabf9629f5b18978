// Churn cases (DOMAIN.md "Churn", [003][000]): an alert becomes a case of natural loss (account closed,
// moved away, project ended, vehicle sold) or non-natural loss (all, part, a whole organisation). A
// non-natural loss is reported in writing to the level above, which sends a named person for a second
// attempt by a due day; every lost customer gets an exit survey; a customer who buys again is won back.
// The states, the steps between them and who may take each step are data here. Pure rules, no I/O.
import type { Permission } from './permissions.js';
import { isWithin } from './org-path.js';

export const CHURN_CATEGORIES = ['natural', 'non_natural'] as const;
export type ChurnCategory = (typeof CHURN_CATEGORIES)[number];

export const CHURN_CASE_STATES = ['open', 'reported', 'second_attempt', 'retained', 'lost', 'won_back'] as const;
export type ChurnCaseState = (typeof CHURN_CASE_STATES)[number];

/** The customer is not (or no longer) counted as lost and the case needs nobody: no step leads on. */
export const FINAL_STATES: readonly ChurnCaseState[] = ['retained', 'won_back'];

/** A customer has at most one case in these states: one lapse, one case. */
export const LIVE_STATES: readonly ChurnCaseState[] = ['open', 'reported', 'second_attempt', 'lost'];

export const CHURN_CASE_ACTIONS = ['open', 'report', 'assign', 'retain', 'confirm_lost', 'win_back'] as const;
export type ChurnCaseAction = (typeof CHURN_CASE_ACTIONS)[number];

/**
 * Where the actor's unit must stand against the case's unit: `scope` — the case's unit or any unit
 * above it (the actor's subtree holds the case); `above` — strictly above it (the level above).
 */
export type Level = 'scope' | 'above';

/** One way to be allowed a step; a step lists one or more. */
export interface Rule {
  permission: Permission;
  level: Level;
  /** Only the person named for the second attempt. */
  assigneeOnly?: boolean;
}

export interface CaseStep {
  /** States the step starts from; null is a case not yet on file. */
  from: readonly (ChurnCaseState | null)[];
  to: ChurnCaseState | Record<ChurnCategory, ChurnCaseState>;
  /** Who may take it (any one rule), or 'system' for what only the system records. */
  by: readonly Rule[] | 'system';
  /** The case must have an exit survey once the step is taken (on file or given with the step). */
  needsSurvey: boolean | Record<ChurnCategory, boolean>;
}

const WRITE_IN_SCOPE: Rule = { permission: 'customer.write', level: 'scope' };
const ASSIGN_ABOVE: Rule = { permission: 'churn.assign', level: 'above' };

export const CASE_STEPS: Record<ChurnCaseAction, CaseStep> = {
  // Whoever may close the alert may turn it into a case; a natural loss is final at once.
  open: {
    from: [null],
    to: { natural: 'lost', non_natural: 'open' },
    by: [WRITE_IN_SCOPE],
    needsSurvey: { natural: true, non_natural: false },
  },
  // The written report to the level above, by the unit where the loss happened (or above it).
  report: { from: ['open'], to: 'reported', by: [WRITE_IN_SCOPE], needsSurvey: false },
  // The level above names the person and the due day; it may name someone else later.
  assign: { from: ['reported', 'second_attempt'], to: 'second_attempt', by: [ASSIGN_ABOVE], needsSurvey: false },
  // The outcome of the second attempt: by the person sent, or by the level above.
  retain: {
    from: ['second_attempt'],
    to: 'retained',
    by: [{ ...WRITE_IN_SCOPE, assigneeOnly: true }, ASSIGN_ABOVE],
    needsSurvey: false,
  },
  confirm_lost: {
    from: ['second_attempt'],
    to: 'lost',
    by: [{ ...WRITE_IN_SCOPE, assigneeOnly: true }, ASSIGN_ABOVE],
    needsSurvey: true,
  },
  // Recorded when the customer buys again, whatever the case had come to.
  win_back: { from: ['open', 'reported', 'second_attempt', 'lost'], to: 'won_back', by: 'system', needsSurvey: false },
};

/** Steps a person may take (win-back is the system's). */
export const USER_ACTIONS = CHURN_CASE_ACTIONS.filter((a) => CASE_STEPS[a].by !== 'system');

/** The exit survey may be recorded or corrected while the customer is, or may yet be, lost. */
export const SURVEY_RULE: { states: readonly ChurnCaseState[]; rule: Rule } = {
  states: LIVE_STATES,
  rule: WRITE_IN_SCOPE,
};

export function isChurnCaseState(value: string): value is ChurnCaseState {
  return (CHURN_CASE_STATES as readonly string[]).includes(value);
}

export function isChurnCategory(value: string): value is ChurnCategory {
  return (CHURN_CATEGORIES as readonly string[]).includes(value);
}

export interface CaseActor {
  permissions: ReadonlySet<string> | readonly string[];
  /** The materialised path of the actor's unit. */
  orgPath: string;
  userId: number;
}

export interface CaseFacts {
  /** null while the case is being opened. */
  state: ChurnCaseState | null;
  category: ChurnCategory;
  /** The materialised path of the case's unit (the customer's unit when the case was opened). */
  orgPath: string;
  assigneeUserId: number | null;
}

export type Denial = 'permission' | 'scope' | 'level' | 'assignee' | 'order' | 'system';
export type StepResult = { ok: true; to: ChurnCaseState } | { ok: false; reason: Denial; message: string };

const holds = (actor: CaseActor, permission: string) =>
  actor.permissions instanceof Set
    ? actor.permissions.has(permission)
    : (actor.permissions as readonly string[]).includes(permission);

/** The level above: the case's unit lies strictly below the actor's. */
export function isLevelAbove(actorPath: string, casePath: string): boolean {
  return casePath !== actorPath && isWithin(casePath, actorPath);
}

// A failed rule's reason, ranked by how far the actor got: the furthest is the one worth telling.
const RANK: Record<Exclude<Denial, 'order' | 'system'>, number> = { permission: 0, scope: 1, level: 2, assignee: 2 };

function ruleDenial(rule: Rule, facts: CaseFacts, actor: CaseActor): Exclude<Denial, 'order' | 'system'> | null {
  if (!holds(actor, rule.permission)) return 'permission';
  if (!isWithin(facts.orgPath, actor.orgPath)) return 'scope';
  if (rule.level === 'above' && !isLevelAbove(actor.orgPath, facts.orgPath)) return 'level';
  if (rule.assigneeOnly && facts.assigneeUserId !== actor.userId) return 'assignee';
  return null;
}

const MESSAGES: Record<Exclude<Denial, 'order'>, (action: string, rules: readonly Rule[]) => string> = {
  permission: (a, rules) => `${a} requires ${[...new Set(rules.map((r) => r.permission))].join(' or ')}`,
  scope: () => 'the case belongs to a unit outside your organisation',
  level: (a) => `${a} is for the level above the case's unit`,
  assignee: (a) => `${a} is for the person named for the second attempt or the level above`,
  system: (a) => `${a} is recorded by the system when the customer buys again`,
};

/** Whether one rule of a list lets the actor through, else the furthest failure. */
export function checkRules(
  rules: readonly Rule[],
  facts: CaseFacts,
  actor: CaseActor,
  action: string,
): { ok: true } | { ok: false; reason: Denial; message: string } {
  let worst: Exclude<Denial, 'order' | 'system'> | null = null;
  for (const rule of rules) {
    const denial = ruleDenial(rule, facts, actor);
    if (denial === null) return { ok: true };
    if (worst === null || RANK[denial] > RANK[worst]) worst = denial;
  }
  const reason = worst ?? 'permission';
  return { ok: false, reason, message: MESSAGES[reason](action, rules) };
}

/** Where `action` takes a case of `category` in `state`, or null when it does not start there. */
export function targetOf(
  action: ChurnCaseAction,
  state: ChurnCaseState | null,
  category: ChurnCategory,
): ChurnCaseState | null {
  const step = CASE_STEPS[action];
  if (!step.from.includes(state)) return null;
  return typeof step.to === 'string' ? step.to : step.to[category];
}

/**
 * Whether `actor` may take `action` on the case; who may is checked before the order, so a person
 * without the right learns that first. `actor` 'system' is the win-back check.
 */
export function checkStep(action: ChurnCaseAction, facts: CaseFacts, actor: CaseActor | 'system'): StepResult {
  const step = CASE_STEPS[action];
  if (step.by === 'system') {
    if (actor !== 'system') return { ok: false, reason: 'system', message: MESSAGES.system(action, []) };
  } else {
    if (actor === 'system') return { ok: false, reason: 'permission', message: `${action} is taken by a person` };
    const allowed = checkRules(step.by, facts, actor, action);
    if (!allowed.ok) return allowed;
  }
  const to = targetOf(action, facts.state, facts.category);
  if (to === null)
    return {
      ok: false,
      reason: 'order',
      message: `the case is ${facts.state ?? 'not on file'}; ${action} needs it ${step.from.map((s) => s ?? 'new').join(' or ')}`,
    };
  return { ok: true, to };
}

/** Whether the case must have an exit survey once `action` is taken. */
export function needsSurvey(action: ChurnCaseAction, category: ChurnCategory): boolean {
  const n = CASE_STEPS[action].needsSurvey;
  return typeof n === 'boolean' ? n : n[category];
}

/** Whether `actor` may record or correct the exit survey of the case. */
export function checkSurvey(facts: CaseFacts, actor: CaseActor): StepResult {
  const allowed = checkRules([SURVEY_RULE.rule], facts, actor, 'survey');
  if (!allowed.ok) return allowed;
  if (facts.state === null || !SURVEY_RULE.states.includes(facts.state)) {
    return {
      ok: false,
      reason: 'order',
      message: `the case is ${facts.state ?? 'not on file'}; an exit survey is for a customer who is or may be lost`,
    };
  }
  return { ok: true, to: facts.state };
}

/** The steps `actor` may take on the case now, for the page to offer. */
export function allowedActions(facts: CaseFacts, actor: CaseActor): ChurnCaseAction[] {
  return USER_ACTIONS.filter((a) => checkStep(a, facts, actor).ok);
}

/** The customer counts as lost: natural at once, non-natural once the second attempt failed. */
export function countsAsLost(action: ChurnCaseAction, to: ChurnCaseState): boolean {
  return to === 'lost' && (action === 'open' || action === 'confirm_lost');
}

/** A due day for the second attempt: a calendar day (no 31 February) from tomorrow up to a year ahead. */
export function dueDayProblem(dueDay: string, today: string): 'invalid' | 'past' | 'too_far' | null {
  const parsed = new Date(`${dueDay}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== dueDay) return 'invalid';
  if (dueDay <= today) return 'past';
  const [y, m, d] = today.split('-').map(Number) as [number, number, number];
  const limit = new Date(Date.UTC(y + 1, m - 1, d)).toISOString().slice(0, 10);
  return dueDay > limit ? 'too_far' : null;
}

/**
 * The monthly rate equivalent to a yearly one: a customer base losing `yearly` of itself over twelve
 * months loses 1 − (1 − yearly)^(1/12) of itself each month (10% a year ≈ 0.874% a month).
 */
export function monthlyRate(yearly: number): number {
  if (yearly <= 0) return 0;
  if (yearly >= 1) return 1;
  return 1 - Math.pow(1 - yearly, 1 / 12);
}

/** Lost ÷ active at the start of the month; null when nobody was active. */
export function lossRate(lost: number, activeAtStart: number): number | null {
  return activeAtStart > 0 ? lost / activeAtStart : null;
}
