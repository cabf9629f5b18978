// Policies HQ sets, as data: who counts as a key customer, how stars are given, what classes and
// benefits follow from them, what a card saves, and when a quiet customer raises an alert.
// Every kind has a default so a fresh install works before anyone edits anything.

export const POLICY_KINDS = ['key_customer', 'star_rating', 'classes', 'benefits', 'card', 'anomaly'] as const;
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
  /** Visits needed before a usual interval means anything. */
  minVisits: number;
  /** Consecutive months of falling volume that raise an alert. */
  declineMonths: number;
  /** A model probability of still being active below this raises an alert. */
  pAliveBelow: number;
}

export interface PolicyBodies {
  key_customer: KeyCustomerPolicy;
  star_rating: StarRatingPolicy;
  classes: ClassesPolicy;
  benefits: BenefitsPolicy;
  card: CardPolicy;
  anomaly: AnomalyPolicy;
}

export const DEFAULT_POLICIES: PolicyBodies = {
  key_customer: { products: ['0#柴油', '-10#柴油'], minTransactionYuan: 800, topShare: 0.2 },
  star_rating: { basis: 'volume', thresholds: { default: [200, 1000, 3000, 8000], organisation: [1000, 5000, 15000, 40000] }, computeDay: 2, finalDay: 5 },
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
      { code: 'supply_priority', nameZh: '限量供应时同等保供', nameEn: 'Supply priority when rationed', minStars: 2, consecutiveMonths: 2 },
      { code: 'discount_5_per_ton', nameZh: '每吨再优惠 5 元', nameEn: 'A further 5 yuan per ton', minStars: 3, consecutiveMonths: 3, discountYuanPerTon: 5 },
    ],
  },
  card: { discountRate: 0.02, minMonthlyYuan: 3000 },
  anomaly: { graceDays: 3, minVisits: 4, declineMonths: 3, pAliveBelow: 0.3 },
};

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

/** Problems with a policy body that the schema cannot express, or null. */
export function policyProblem(kind: PolicyKind, body: PolicyBodies[PolicyKind]): string | null {
  if (kind === 'star_rating') {
    const p = body as StarRatingPolicy;
    for (const [k, t] of Object.entries(p.thresholds)) {
      if (!t) continue;
      for (let i = 1; i < 4; i++) if (t[i]! <= t[i - 1]!) return `thresholds.${k} must rise from 1 to 4 stars`;
    }
    if (p.finalDay < p.computeDay) return 'finalDay must not come before computeDay';
  }
  if (kind === 'classes') {
    const codes = (body as ClassesPolicy).classes.map((c) => c.code);
    if (new Set(codes).size !== codes.length) return 'class codes must be unique';
  }
  if (kind === 'benefits') {
    const codes = (body as BenefitsPolicy).benefits.map((c) => c.code);
    if (new Set(codes).size !== codes.length) return 'benefit codes must be unique';
  }
  return null;
}
