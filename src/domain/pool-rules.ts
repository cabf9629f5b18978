// Who may look after a customer, when a customer nobody follows up goes back to his unit's public pool
// (公海), and what limits a claim from the pool (DOMAIN.md "Looking after customers"). Pure rules: the
// ownership module reads the facts and the policy in force and asks these.
import { zoneOffsetMs, zonedToUtc } from './business-day.js';
import type { ClassesPolicy, OwnershipPolicy } from './policies.js';

const DAY_MS = 86_400_000;

/** How an owner changed: by hand, by a bulk reassignment, back to the pool, claimed from it, on creation. */
export const OWNERSHIP_HOWS = ['created', 'manual', 'reassign', 'pool_return', 'pool_claim'] as const;
export type OwnershipHow = (typeof OWNERSHIP_HOWS)[number];

/** The rank of a class: its minimum stars (higher is better); an unrated customer or unknown class ranks below all. */
export function classRank(classes: ClassesPolicy, code: string | null): number {
  if (code === null) return -1;
  return classes.classes.find((c) => c.code === code)?.minStars ?? -1;
}

export interface CustomerFacts {
  kind: string;
  /** The class of his latest final star rating, null when never rated. */
  classCode: string | null;
}

/**
 * The org level kinds a customer's owner may belong to, or null when any will do. Every maintenance
 * rule whose class the customer reaches ("A-class and above") and whose kinds include his applies;
 * the levels allowed are those all of them allow (the strictest wins).
 */
export function allowedOwnerLevels(
  policy: OwnershipPolicy,
  classes: ClassesPolicy,
  customer: CustomerFacts,
): string[] | null {
  const rank = classRank(classes, customer.classCode);
  let allowed: string[] | null = null;
  for (const rule of policy.maintenance) {
    const ruleRank = classRank(classes, rule.classCode);
    if (ruleRank < 0 || rank < ruleRank) continue;
    if (rule.customerKinds.length > 0 && !rule.customerKinds.includes(customer.kind)) continue;
    allowed = allowed === null ? [...rule.ownerLevels] : allowed.filter((l) => rule.ownerLevels.includes(l));
  }
  return allowed;
}

export type OwnerFit = { ok: true } | { ok: false; allowed: string[]; message: string };

/** Whether a person at a unit of level kind `ownerLevel` may own this customer. */
export function ownerFits(
  policy: OwnershipPolicy,
  classes: ClassesPolicy,
  customer: CustomerFacts,
  ownerLevel: string,
): OwnerFit {
  const allowed = allowedOwnerLevels(policy, classes, customer);
  if (allowed === null || allowed.includes(ownerLevel)) return { ok: true };
  const cls = customer.classCode ?? 'unrated';
  return {
    ok: false,
    allowed,
    message: `a ${cls}-class ${customer.kind} customer is looked after at the level ${allowed.join(' or ') || '(none)'}, not ${ownerLevel}`,
  };
}

/** Days without a follow-up before the customer goes back to the pool, by his class. */
export function returnDaysFor(policy: OwnershipPolicy, classCode: string | null): number {
  if (classCode === null) return policy.unratedReturnDays;
  return policy.returnDays.find((r) => r.code === classCode)?.days ?? policy.unratedReturnDays;
}

export interface FollowUpFacts {
  /** When the present owner took the customer. */
  ownerSince: string;
  /** The owner's last ownership-relevant touch (a visit, a closed alert, a churn-case step), if any. */
  lastFollowUpAt: string | null;
  /** The customer's last purchase, if any: a purchase in the window exempts him when the policy says so. */
  lastPurchaseAt: string | null;
}

const latest = (xs: (string | null)[]): number => Math.max(...xs.filter((x): x is string => !!x).map(Date.parse));

/** When the customer goes back to the pool if nothing happens before: N days after the last of what counts. */
export function poolReturnAt(policy: OwnershipPolicy, classCode: string | null, f: FollowUpFacts): string {
  const from = latest([f.ownerSince, f.lastFollowUpAt, policy.exemptRecentPurchase ? f.lastPurchaseAt : null]);
  return new Date(from + returnDaysFor(policy, classCode) * DAY_MS).toISOString();
}

export type PoolStep = 'keep' | 'remind' | 'return';

/** What the nightly pass does with an owned customer at `now`: nothing yet, a reminder to the owner, or the pool. */
export function poolStep(policy: OwnershipPolicy, returnAt: string, now: string): PoolStep {
  const at = Date.parse(returnAt);
  const t = Date.parse(now);
  if (t >= at) return 'return';
  if (t >= at - policy.reminderDaysBefore * DAY_MS) return 'remind';
  return 'keep';
}

export interface ClaimFacts {
  now: string;
  /** Claims the person made since the start of his day. */
  claimsToday: number;
  /** Customers he owns now. */
  ownedByMe: number;
  /** Customers owned by the people of his own unit now. */
  ownedInMyUnit: number;
  /** When this customer last went back to the pool from him, if he was its former owner. */
  releasedByMeAt: string | null;
}

export type ClaimRule = 'daily_cap' | 'cooling_off' | 'person_capacity' | 'unit_capacity';

export interface ClaimProblem {
  rule: ClaimRule;
  message: string;
}

/** Why a claim from the pool is refused, or null. */
export function claimProblem(policy: OwnershipPolicy, f: ClaimFacts): ClaimProblem | null {
  if (f.releasedByMeAt !== null) {
    const until = Date.parse(f.releasedByMeAt) + policy.coolingOffDays * DAY_MS;
    if (Date.parse(f.now) < until)
      return {
        rule: 'cooling_off',
        message: `this customer left you for the pool less than ${policy.coolingOffDays} days ago; you may claim him again from ${new Date(until).toISOString()}`,
      };
  }
  if (f.claimsToday >= policy.claimDailyCap)
    return { rule: 'daily_cap', message: `you have claimed ${f.claimsToday} customers today, the most a day` };
  if (f.ownedByMe >= policy.maxCustomersPerOwner)
    return {
      rule: 'person_capacity',
      message: `you already look after ${f.ownedByMe} customers, the most one person may (${policy.maxCustomersPerOwner})`,
    };
  if (f.ownedInMyUnit >= policy.unitCapacity)
    return {
      rule: 'unit_capacity',
      message: `your unit's people already look after ${f.ownedInMyUnit} customers, the most a unit may (${policy.unitCapacity})`,
    };
  return null;
}

export type CoverageFlag = 'below_minimum' | 'over_maximum' | null;

/** An employee's load against "1:15" (at least the minimum) and the policy's maximum. */
export function coverageFlag(policy: OwnershipPolicy, owned: number): CoverageFlag {
  if (owned < policy.minCustomersPerOwner) return 'below_minimum';
  if (owned > policy.maxCustomersPerOwner) return 'over_maximum';
  return null;
}

/** The UTC instant the calendar day of `now` starts in `timeZone` (a daily cap counts from there). */
export function dayStartUtc(now: string, timeZone: string): string {
  const t = Date.parse(now);
  const wall = t + zoneOffsetMs(timeZone, t);
  const midnightWall = Math.floor(wall / DAY_MS) * DAY_MS;
  return new Date(zonedToUtc(midnightWall, timeZone)).toISOString();
}
