// Policies HQ sets, as data: who counts as a key customer, how stars are given, what classes and
// benefits follow from them, what a card saves, and when a quiet customer raises an alert.
// Every kind has a default so a fresh install works before anyone edits anything.

export const POLICY_KINDS = [
  'key_customer',
  'star_rating',
  'classes',
  'benefits',
  'card',
  'anomaly',
  'ownership',
  'contact',
] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

export interface KeyCustomerPolicy {
  /** Products whose large transactions mark a key customer (e.g. diesel). */
  products: string[];
  /** A transaction of at least this many yuan of those products is "large" (the seeds: 800). */
  minTransactionYuan: number;
  /** The share of customers, by volume, shown as "top customers" (0.2 = the top 20%). */
  topShare: number;
}

/** Thresholds on last month's volume (litres) or amount (yuan) for 1, 2, 3 and 4 stars. */
export type StarThresholds = [number, number, number, number];

export interface StarRatingPolicy {
  basis: 'volume' | 'amount';
  /** Per customer kind; a kind without its own thresholds uses `default`. */
  thresholds: { default: StarThresholds } & Partial<Record<string, StarThresholds>>;
  /** Day of the month the rating is computed (the seeds: by the 2nd). */
  computeDay: number;
  /** Day of the month by which HQ's review and approval should be final (the seeds: the 5th). */
  finalDay: number;
}

export interface ClassRule {
  code: string;
  /** The lowest star rating that earns the class; classes are checked best first. */
  minStars: number;
}

export interface ClassesPolicy {
  classes: ClassRule[];
}

export interface BenefitRule {
  code: string;
  nameZh: string;
  nameEn: string;
  minStars: number;
  /** Consecutive rated months at or above minStars, this month included. */
  consecutiveMonths: number;
  /** A discount per ton, if the benefit is one. */
  discountYuanPerTon?: number;
}

export interface BenefitsPolicy {
  benefits: BenefitRule[];
}

export interface CardPolicy {
  /** What a fuel card saves, as a share of the amount spent (0.02 = 2%). */
  discountRate: number;
  /** Suggest a card only to customers who spent at least this much last month. */
  minMonthlyYuan: number;
}

export interface AnomalyPolicy {
  /** Days past a customer's usual interval before he is overdue (the seeds: 3). */
  graceDays: number;
  /** Visits needed before a usual interval (or a baseline, or a model's estimate) means anything. */
  minVisits: number;
  /** Complete months before the last one whose median volume is the customer's own baseline. */
  declineBaselineMonths: number;
  /** The last complete month below this share of the baseline may be a decline (0.6 = 60%). */
  declineShare: number;
  /**
   * How many times his normal month-to-month variation (or one typical fill-up, if larger) the
   * shortfall must exceed: a fall his usual ups and downs explain is not a decline.
   */
  declineSpread: number;
  /** A model probability of still being active below this raises an alert. */
  pAliveBelow: number;
  /** The share of active customers a unit normally loses in a year (the seeds: about 10%); loss rates are set against it. */
  normalYearlyLossRate: number;
  /** A branch with fewer customers with a history is not fitted: the estimates would mean little. */
  modelMinCustomers: number;
  /** Days since a customer's first visit before the models judge him. */
  modelMinHistoryDays: number;
}

/** Who may look after a customer of a class (by the level of the owner's unit); matched "this class and above". */
export interface MaintenanceRule {
  code: string;
  classCode: string;
  /** Customer kinds the rule is for; empty: every kind. */
  customerKinds: string[];
  /** Org level kinds (hq, branch, area, station…) whose people may own such a customer. */
  ownerLevels: string[];
}

export interface ReturnDaysRule {
  /** A class code. */
  code: string;
  days: number;
}

/** Ownership, "1:15" coverage and the public pool (公海). */
export interface OwnershipPolicy {
  /** Every employee looks after at least this many customers ("1:15"). */
  minCustomersPerOwner: number;
  /** The most one person may own (库容 per person): claims stop there and coverage flags anyone above. */
  maxCustomersPerOwner: number;
  /** The most the people of one unit may own together (库容 per unit). */
  unitCapacity: number;
  /** Claims from the pool one person may make a day. */
  claimDailyCap: number;
  /** Days a former owner must wait before claiming back a customer that went to the pool from him. */
  coolingOffDays: number;
  /** Days before the return to the pool that the owner is reminded. */
  reminderDaysBefore: number;
  /** Days without a follow-up before a customer of no class goes back to the pool. */
  unratedReturnDays: number;
  /** A purchase counts as activity: a customer who bought within the window stays with his owner. */
  exemptRecentPurchase: boolean;
  returnDays: ReturnDaysRule[];
  maintenance: MaintenanceRule[];
}

/** Must-contact moments (DOMAIN.md "Looking after customers"): when the owner is asked to call, and whom. */
export interface ContactPolicy {
  /** Days before a price change takes effect that its customers are contacted (0: on the day). */
  priceLeadDays: number;
  /** A price change concerns the customers who bought its product within this many days. */
  priceLookbackDays: number;
  /** Working days before a holiday's first day that key customers are contacted. */
  holidayLeadDays: number;
  /** Key customers for holidays: the latest final star rating at least this (3 = class A and above by default). */
  holidayMinStars: number;
  /** Days before a weather or road warning starts that its customers are contacted. */
  weatherLeadDays: number;
  /** Days before a birthday that the owner is reminded (0: on the day). */
  birthdayLeadDays: number;
  /** The hour of the unit's local day by which a contact task is due (9 = 09:00). */
  dueHour: number;
  /** Working hours of the business calendar, in hours after local midnight (8.5 = 08:30). */
  workdayStartHour: number;
  workdayEndHour: number;
}

export interface PolicyBodies {
  key_customer: KeyCustomerPolicy;
  star_rating: StarRatingPolicy;
  classes: ClassesPolicy;
  benefits: BenefitsPolicy;
  card: CardPolicy;
  anomaly: AnomalyPolicy;
  ownership: OwnershipPolicy;
  contact: ContactPolicy;
}

export const DEFAULT_POLICIES: PolicyBodies = {
  key_customer: { products: ['0#柴油', '-10#柴油'], minTransactionYuan: 800, topShare: 0.2 },
  star_rating: {
    basis: 'volume',
    thresholds: { default: [200, 1000, 3000, 8000], organisation: [1000, 5000, 15000, 40000] },
    computeDay: 2,
    finalDay: 5,
  },
  classes: {
    classes: [
      { code: 'VIP', minStars: 4 },
      { code: 'A', minStars: 3 },
      { code: 'B', minStars: 2 },
      { code: 'C', minStars: 0 },
    ],
  },
  benefits: {
    benefits: [
      {
        code: 'supply_priority',
        nameZh: '限量供应时同等保供',
        nameEn: 'Supply priority when rationed',
        minStars: 2,
        consecutiveMonths: 2,
      },
      {
        code: 'discount_5_per_ton',
        nameZh: '每吨再优惠 5 元',
        nameEn: 'A further 5 yuan per ton',
        minStars: 3,
        consecutiveMonths: 3,
        discountYuanPerTon: 5,
      },
    ],
  },
  card: { discountRate: 0.02, minMonthlyYuan: 3000 },
  anomaly: {
    graceDays: 3,
    minVisits: 4,
    declineBaselineMonths: 6,
    declineShare: 0.6,
    declineSpread: 1.5,
    pAliveBelow: 0.3,
    normalYearlyLossRate: 0.1,
    modelMinCustomers: 50,
    modelMinHistoryDays: 56,
  },
  ownership: {
    minCustomersPerOwner: 15,
    maxCustomersPerOwner: 300,
    unitCapacity: 5000,
    claimDailyCap: 5,
    coolingOffDays: 30,
    reminderDaysBefore: 5,
    unratedReturnDays: 90,
    exemptRecentPurchase: true,
    returnDays: [
      { code: 'VIP', days: 30 },
      { code: 'A', days: 45 },
      { code: 'B', days: 60 },
      { code: 'C', days: 90 },
    ],
    // DOMAIN.md: VIP by the branch or the company, A-class+ organisations by the area, B-class+ individuals by the station.
    maintenance: [
      { code: 'vip', classCode: 'VIP', customerKinds: [], ownerLevels: ['hq', 'branch'] },
      {
        code: 'a_organisation',
        classCode: 'A',
        customerKinds: ['organisation'],
        ownerLevels: ['hq', 'branch', 'area'],
      },
      {
        code: 'b_individual',
        classCode: 'B',
        customerKinds: ['individual'],
        ownerLevels: ['hq', 'branch', 'area', 'station'],
      },
    ],
  },
  contact: {
    priceLeadDays: 1,
    priceLookbackDays: 60,
    holidayLeadDays: 3,
    holidayMinStars: 3,
    weatherLeadDays: 0,
    birthdayLeadDays: 0,
    dueHour: 9,
    workdayStartHour: 8.5,
    workdayEndHour: 17.5,
  },
};

/** Fields that versions saved before some release carry and no rule reads any more. */
const RETIRED_FIELDS: Partial<Record<PolicyKind, readonly string[]>> = {
  // Replaced by the baseline comparison (declineBaselineMonths, declineShare, declineSpread).
  anomaly: ['declineMonths'],
};

/**
 * A stored version as the rules read it: a field added since it was saved takes its default, a
 * retired field is dropped. Versions are never rewritten, so this is applied on every read.
 */
export function storedPolicy<K extends PolicyKind>(kind: K, stored: unknown): PolicyBodies[K] {
  const body: Record<string, unknown> = { ...DEFAULT_POLICIES[kind], ...(stored as Record<string, unknown>) };
  for (const field of RETIRED_FIELDS[kind] ?? []) delete body[field];
  return body as unknown as PolicyBodies[K];
}

/** Stars (0–4) for last month's figure under the thresholds of the customer's kind. */
export function starsFor(policy: StarRatingPolicy, kind: string, figure: number): number {
  const t = policy.thresholds[kind] ?? policy.thresholds.default;
  let stars = 0;
  for (let i = 0; i < 4; i++) if (figure >= t[i]!) stars = i + 1;
  return stars;
}

export function classFor(policy: ClassesPolicy, stars: number): string | null {
  const sorted = [...policy.classes].sort((a, b) => b.minStars - a.minStars);
  return sorted.find((c) => stars >= c.minStars)?.code ?? null;
}

/**
 * Benefits earned this month, from the customer's final stars of consecutive months, newest
 * first (`history[0]` is this month). A missing month breaks the run.
 */
export function benefitsFor(policy: BenefitsPolicy, history: readonly (number | null)[]): string[] {
  return policy.benefits
    .filter((b) => {
      if (history.length < b.consecutiveMonths) return false;
      for (let i = 0; i < b.consecutiveMonths; i++) if (history[i] === null || history[i]! < b.minStars) return false;
      return true;
    })
    .map((b) => b.code);
}

/** What a card would have saved on last month's spending, in yuan, or null below the policy's floor. */
export function cardSaving(policy: CardPolicy, monthlyYuan: number): number | null {
  if (monthlyYuan < policy.minMonthlyYuan) return null;
  return Math.round(monthlyYuan * policy.discountRate * 100) / 100;
}

/** A number field's allowed values: the API's schema and the settings form are both built from these. */
export interface NumberLimit {
  min: number;
  max?: number;
  integer?: boolean;
  /** Yuan, to the fen: at most two decimals. */
  money?: boolean;
}

/** What each field of a policy may hold (shares are fractions: 0.2 = 20%). */
export const POLICY_LIMITS = {
  minTransactionYuan: { min: 0, money: true },
  topShare: { min: 0, max: 1 },
  threshold: { min: 0 },
  computeDay: { min: 1, max: 28, integer: true },
  finalDay: { min: 1, max: 28, integer: true },
  minStars: { min: 0, max: 4, integer: true },
  consecutiveMonths: { min: 1, max: 24, integer: true },
  discountYuanPerTon: { min: 0, money: true },
  discountRate: { min: 0, max: 0.5 },
  minMonthlyYuan: { min: 0, money: true },
  graceDays: { min: 0, max: 60, integer: true },
  minVisits: { min: 2, max: 100, integer: true },
  declineBaselineMonths: { min: 2, max: 24, integer: true },
  declineShare: { min: 0, max: 1 },
  declineSpread: { min: 0, max: 10 },
  pAliveBelow: { min: 0, max: 1 },
  normalYearlyLossRate: { min: 0, max: 1 },
  modelMinCustomers: { min: 10, max: 100_000, integer: true },
  modelMinHistoryDays: { min: 0, max: 3650, integer: true },
  minCustomersPerOwner: { min: 0, max: 10_000, integer: true },
  maxCustomersPerOwner: { min: 1, max: 100_000, integer: true },
  unitCapacity: { min: 1, max: 10_000_000, integer: true },
  claimDailyCap: { min: 0, max: 1000, integer: true },
  coolingOffDays: { min: 0, max: 365, integer: true },
  reminderDaysBefore: { min: 0, max: 60, integer: true },
  unratedReturnDays: { min: 1, max: 3650, integer: true },
  returnDays: { min: 1, max: 3650, integer: true },
  priceLeadDays: { min: 0, max: 30, integer: true },
  priceLookbackDays: { min: 1, max: 365, integer: true },
  holidayLeadDays: { min: 0, max: 30, integer: true },
  holidayMinStars: { min: 0, max: 4, integer: true },
  weatherLeadDays: { min: 0, max: 7, integer: true },
  birthdayLeadDays: { min: 0, max: 30, integer: true },
  dueHour: { min: 0, max: 23, integer: true },
  workdayStartHour: { min: 0, max: 24 },
  workdayEndHour: { min: 0, max: 24 },
} as const satisfies Record<string, NumberLimit>;

/** Lengths and counts of a policy's text fields and lists. */
export const POLICY_TEXT_LIMITS = {
  product: 32,
  products: 20,
  classCode: 16,
  classes: 10,
  benefitCode: 32,
  benefitName: 100,
  benefits: 20,
  note: 1000,
} as const;

/** Benefit codes are stable keys in stored ratings: lower-case letters, digits and underscores. */
export const BENEFIT_CODE_PATTERN = '^[a-z0-9_]+$';

/** Why a value is at odds with its limit, or null: the same answer the API's schema gives. */
export function limitProblem(limit: NumberLimit, value: number): 'integer' | 'min' | 'max' | 'fen' | null {
  if (limit.integer && !Number.isInteger(value)) return 'integer';
  if (value < limit.min) return 'min';
  if (limit.max !== undefined && value > limit.max) return 'max';
  if (limit.money && !isFen(value)) return 'fen';
  return null;
}

/** A yuan amount with at most two decimals (floating point tolerated: 0.29 × 100 is not exactly 29). */
export function isFen(yuan: number): boolean {
  return Math.abs(yuan * 100 - Math.round(yuan * 100)) < 1e-6;
}

/** A rule across fields that the schema cannot express; the client shows its own text for each. */
export type PolicyRule =
  'thresholds_rise' | 'final_before_compute' | 'code_unique' | 'fen' | 'max_below_min' | 'end_before_start';

export interface PolicyProblem {
  /** The field inside the body, e.g. `thresholds.default.2` or `classes.3.code`. */
  field: string;
  rule: PolicyRule;
  message: string;
}

/** Problems with a policy body that the schema cannot express, or null. */
export function policyProblem(kind: PolicyKind, body: PolicyBodies[PolicyKind]): PolicyProblem | null {
  const fen = (field: string, value: number | undefined): PolicyProblem | null =>
    value === undefined || isFen(value)
      ? null
      : { field, rule: 'fen', message: `${field} must be yuan with at most two decimals` };
  const unique = (list: { code: string }[], name: string): PolicyProblem | null => {
    const seen = new Set<string>();
    for (const [i, item] of list.entries()) {
      if (seen.has(item.code)) {
        const field = `${name}.${i}.code`;
        return { field, rule: 'code_unique', message: `${field} repeats the code ${item.code}` };
      }
      seen.add(item.code);
    }
    return null;
  };
  if (kind === 'key_customer') return fen('minTransactionYuan', (body as KeyCustomerPolicy).minTransactionYuan);
  if (kind === 'star_rating') {
    const p = body as StarRatingPolicy;
    for (const [k, t] of Object.entries(p.thresholds)) {
      if (!t) continue;
      for (let i = 0; i < 4; i++) {
        if (i > 0 && t[i]! <= t[i - 1]!) {
          const message = `thresholds.${k} must rise from 1 to 4 stars`;
          return { field: `thresholds.${k}.${i}`, rule: 'thresholds_rise', message };
        }
        if (p.basis === 'amount') {
          const problem = fen(`thresholds.${k}.${i}`, t[i]);
          if (problem) return problem;
        }
      }
    }
    if (p.finalDay < p.computeDay) {
      return { field: 'finalDay', rule: 'final_before_compute', message: 'finalDay must not come before computeDay' };
    }
  }
  if (kind === 'classes') return unique((body as ClassesPolicy).classes, 'classes');
  if (kind === 'benefits') {
    const list = (body as BenefitsPolicy).benefits;
    for (const [i, b] of list.entries()) {
      const problem = fen(`benefits.${i}.discountYuanPerTon`, b.discountYuanPerTon);
      if (problem) return problem;
    }
    return unique(list, 'benefits');
  }
  if (kind === 'contact') {
    const p = body as ContactPolicy;
    if (p.workdayEndHour <= p.workdayStartHour)
      return {
        field: 'workdayEndHour',
        rule: 'end_before_start',
        message: 'workdayEndHour must come after workdayStartHour',
      };
  }
  if (kind === 'card') return fen('minMonthlyYuan', (body as CardPolicy).minMonthlyYuan);
  if (kind === 'ownership') {
    const p = body as OwnershipPolicy;
    if (p.maxCustomersPerOwner < p.minCustomersPerOwner)
      return {
        field: 'maxCustomersPerOwner',
        rule: 'max_below_min',
        message: 'maxCustomersPerOwner must not be below minCustomersPerOwner',
      };
    return unique(p.returnDays, 'returnDays') ?? unique(p.maintenance, 'maintenance');
  }
  return null;
}

/** A value in a change: a number, a text, a list (products, a star threshold row) or nothing (added or removed). */
export type ChangeValue = number | string | (number | string)[] | null;

export interface PolicyChange {
  /** Where in the body: `['graceDays']`, `['thresholds', 'organisation']`, `['classes', 'VIP', 'minStars']`. */
  path: string[];
  before: ChangeValue;
  after: ChangeValue;
}

type Leaves = Map<string, { path: string[]; value: ChangeValue }>;

// Lists of rules carry a `code`: they are compared rule by rule under it, so reordering is no change
// and a removed rule does not shift the others. Other lists (products, a threshold row) are one value.
function flatten(value: unknown, path: string[], out: Leaves): void {
  // An empty list is a rule list with no rules (products and threshold rows are never empty).
  const isRuleList =
    Array.isArray(value) &&
    value.every((v) => v !== null && typeof v === 'object' && typeof (v as { code?: unknown }).code === 'string');
  if (isRuleList) {
    for (const item of value as { code: string }[]) {
      const { code, ...rest } = item;
      flatten(rest, [...path, code], out);
    }
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, [...path, k], out);
  } else if (value !== undefined) {
    out.set(JSON.stringify(path), { path, value: value as ChangeValue });
  }
}

/** What changed from one version of a policy to the next, field by field, in the order of the newer one. */
export function policyChanges(before: unknown, after: unknown): PolicyChange[] {
  const was: Leaves = new Map();
  const now: Leaves = new Map();
  flatten(before, [], was);
  flatten(after, [], now);
  const changes: PolicyChange[] = [];
  for (const [key, { path, value }] of now) {
    const old = was.get(key)?.value ?? null;
    if (JSON.stringify(old) !== JSON.stringify(value)) changes.push({ path, before: old, after: value });
  }
  for (const [key, { path, value }] of was) if (!now.has(key)) changes.push({ path, before: value, after: null });
  return changes;
}
