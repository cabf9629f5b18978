// Satisfaction (DOMAIN.md "Satisfaction", "Complaints"): the questions a survey or a complaint
// callback may ask (five-level satisfaction, CSAT, NPS, CES), the contact rule that keeps anyone from
// being surveyed too often, seeded stratified sampling, survey results (NPS = % promoters − %
// detractors) and the "customer unreachable" rule for callbacks. Rules only: no database, no clock.

/** Why a customer was contacted; every kind is one entry in the survey-contact ledger. */
export const CONTACT_REASONS = ['complaint_callback', 'survey', 'revisit'] as const;
export type ContactReason = (typeof CONTACT_REASONS)[number];

/** Outcomes of a survey call; `pending` until someone calls. */
export const TARGET_STATES = ['pending', 'answered', 'refused', 'unreachable'] as const;
export type TargetState = (typeof TARGET_STATES)[number];

export const REVISIT_STATES = ['planned', 'done', 'cancelled'] as const;
export type RevisitState = (typeof REVISIT_STATES)[number];

/** The policy HQ sets, stored as versioned data (migration 0031 seeds nothing: the default applies). */
export interface SatisfactionPolicy {
  /** Which optional questions a complaint callback and a new survey ask. */
  askCsat: boolean;
  askNps: boolean;
  askCes: boolean;
  /** At most this many survey contacts per customer within `windowDays`. */
  maxContacts: number;
  windowDays: number;
  /** No survey within this many days after any survey contact. */
  coolDownDays: number;
  /** Unreachable attempts, on different days, before a callback may be closed as unreachable. */
  unreachableAttempts: number;
  /** A satisfaction score at or below this proposes a revisit. */
  lowScoreMax: number;
  /** Days after a low score that the proposed revisit is planned. */
  revisitAfterDays: number;
}

export const DEFAULT_SATISFACTION_POLICY: SatisfactionPolicy = {
  askCsat: true,
  askNps: true,
  askCes: false,
  maxContacts: 2,
  windowDays: 90,
  coolDownDays: 30,
  unreachableAttempts: 3,
  lowScoreMax: 2,
  revisitAfterDays: 3,
};

export const SATISFACTION_POLICY_LIMITS = {
  maxContacts: { minimum: 1, maximum: 50 },
  windowDays: { minimum: 1, maximum: 730 },
  coolDownDays: { minimum: 0, maximum: 365 },
  unreachableAttempts: { minimum: 1, maximum: 10 },
  lowScoreMax: { minimum: 1, maximum: 4 },
  revisitAfterDays: { minimum: 0, maximum: 60 },
} as const;

/** A stored version as the rules read it: a field added since it was saved takes its default. */
export function storedSatisfactionPolicy(stored: unknown): SatisfactionPolicy {
  return { ...DEFAULT_SATISFACTION_POLICY, ...(stored as Partial<SatisfactionPolicy>) };
}

// ── Answers ─────────────────────────────────────────────────────────────────────────────────────
export interface Answers {
  /** Five-level satisfaction: 1 very unsatisfied … 5 very satisfied. */
  rating?: number | null;
  /** Customer satisfaction score, 1–5 ("how satisfied were you with …"). */
  csat?: number | null;
  /** Net promoter score, 0–10 ("how likely are you to recommend us"). */
  nps?: number | null;
  /** Customer effort score, 1–7 ("how easy was it to get this solved"). */
  ces?: number | null;
}

export interface Questions {
  askCsat: boolean;
  askNps: boolean;
  askCes: boolean;
}

export const SCALES = { rating: [1, 5], csat: [1, 5], nps: [0, 10], ces: [1, 7] } as const;

export type AnswerProblem = { field: keyof Answers; message: string };

/** An answer off its scale, or to a question that was not asked; optional questions may go unanswered. */
export function answerProblem(q: Questions, a: Answers): AnswerProblem | null {
  for (const field of ['rating', 'csat', 'nps', 'ces'] as const) {
    const v = a[field];
    if (v === undefined || v === null) continue;
    const [lo, hi] = SCALES[field];
    if (!Number.isInteger(v) || v < lo || v > hi) return { field, message: `${field} is from ${lo} to ${hi}` };
  }
  const asked = { csat: q.askCsat, nps: q.askNps, ces: q.askCes };
  for (const field of ['csat', 'nps', 'ces'] as const)
    if (!asked[field] && a[field] !== undefined && a[field] !== null)
      return { field, message: `${field} is not asked` };
  return null;
}

// ── Contact rule ────────────────────────────────────────────────────────────────────────────────
const DAY = 86_400_000;

export type ContactDecision =
  { ok: true } | { ok: false; reason: 'cool_down' | 'too_many'; until: string; message: string };

/**
 * May a customer be surveyed at `now`, given his earlier survey contacts (any reason)? A complaint
 * callback is mandatory and always allowed (but recorded, so it counts for the others).
 */
export function contactDecision(
  policy: Pick<SatisfactionPolicy, 'maxContacts' | 'windowDays' | 'coolDownDays'>,
  earlier: readonly string[],
  now: Date,
  reason: ContactReason,
): ContactDecision {
  if (reason === 'complaint_callback') return { ok: true };
  const t = now.getTime();
  const past = earlier.map((x) => Date.parse(x)).filter((x) => x <= t);
  const last = past.length ? Math.max(...past) : null;
  if (last !== null && policy.coolDownDays > 0 && t < last + policy.coolDownDays * DAY)
    return {
      ok: false,
      reason: 'cool_down',
      until: new Date(last + policy.coolDownDays * DAY).toISOString(),
      message: `surveyed less than ${policy.coolDownDays} days ago`,
    };
  const inWindow = past.filter((x) => x > t - policy.windowDays * DAY).sort((a, b) => a - b);
  if (inWindow.length >= policy.maxContacts) {
    // Allowed again when enough of the window's contacts have aged out of it.
    const freeAt = inWindow[inWindow.length - policy.maxContacts]! + policy.windowDays * DAY;
    return {
      ok: false,
      reason: 'too_many',
      until: new Date(freeAt).toISOString(),
      message: `${inWindow.length} survey contacts in the last ${policy.windowDays} days`,
    };
  }
  return { ok: true };
}

/** The earliest instant from which every contact that would block a survey at `now` is found. */
export function contactLookback(policy: Pick<SatisfactionPolicy, 'windowDays' | 'coolDownDays'>, now: Date): string {
  return new Date(now.getTime() - Math.max(policy.windowDays, policy.coolDownDays) * DAY).toISOString();
}

// ── Unreachable callbacks ───────────────────────────────────────────────────────────────────────
/** Unreachable attempts on distinct days (the caller's business days) count; the same day twice is one. */
export function unreachableDays(days: readonly string[]): number {
  return new Set(days).size;
}

export function mayCloseUnreachable(days: readonly string[], needed: number): boolean {
  return unreachableDays(days) >= needed;
}

// ── Sampling ────────────────────────────────────────────────────────────────────────────────────
/** A small seeded generator (mulberry32): the same seed gives the same sample on every engine and run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SampleSpec {
  /** How many to draw in all; or `ratio` of the eligible (0–1). One of the two. */
  size?: number;
  ratio?: number;
  seed: number;
}

/** How many of `total` eligible to draw. */
export function sampleCount(spec: SampleSpec, total: number): number {
  if (spec.size !== undefined) return Math.min(total, Math.max(0, Math.floor(spec.size)));
  if (spec.ratio !== undefined) return Math.min(total, Math.round(total * Math.max(0, Math.min(1, spec.ratio))));
  return total;
}

/**
 * A stratified random sample: each stratum (a station) gets its share of `count` in proportion to
 * its size (largest remainders, ties to the larger stratum then the smaller key), then a seeded
 * shuffle within it. The input order does not matter: ids are sorted first.
 */
export function stratifiedSample(strata: ReadonlyMap<number, readonly number[]>, spec: SampleSpec): number[] {
  const keys = [...strata.keys()].sort((a, b) => a - b);
  const total = keys.reduce((n, k) => n + strata.get(k)!.length, 0);
  const count = sampleCount(spec, total);
  if (count === 0 || total === 0) return [];
  const quotas = keys.map((k) => {
    const exact = (strata.get(k)!.length * count) / total;
    return { k, n: Math.floor(exact), rest: exact - Math.floor(exact), size: strata.get(k)!.length };
  });
  let left = count - quotas.reduce((n, q) => n + q.n, 0);
  for (const q of [...quotas].sort((a, b) => b.rest - a.rest || b.size - a.size || a.k - b.k)) {
    if (left <= 0) break;
    q.n++;
    left--;
  }
  const rnd = seededRandom(spec.seed);
  const out: number[] = [];
  for (const q of quotas) {
    const ids = [...strata.get(q.k)!].sort((a, b) => a - b);
    // Partial Fisher–Yates: the first q.n places are the sample.
    for (let i = 0; i < q.n; i++) {
      const j = i + Math.floor(rnd() * (ids.length - i));
      [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    }
    out.push(...ids.slice(0, q.n));
  }
  return out;
}

// ── Results ─────────────────────────────────────────────────────────────────────────────────────
export interface NpsResult {
  answers: number;
  promoters: number;
  passives: number;
  detractors: number;
  /** % promoters (9–10) − % detractors (0–6), from −100 to 100; null without answers. */
  nps: number | null;
}

export function npsOf(scores: readonly number[]): NpsResult {
  const promoters = scores.filter((s) => s >= 9).length;
  const detractors = scores.filter((s) => s <= 6).length;
  const n = scores.length;
  return {
    answers: n,
    promoters,
    passives: n - promoters - detractors,
    detractors,
    nps: n === 0 ? null : Math.round(((promoters - detractors) / n) * 1000) / 10,
  };
}

/** Share of CSAT answers that are 4 or 5 (satisfied), as a percentage; null without answers. */
export function csatPercent(scores: readonly number[]): number | null {
  if (scores.length === 0) return null;
  return Math.round((scores.filter((s) => s >= 4).length / scores.length) * 1000) / 10;
}

export function average(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  return Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 100) / 100;
}

/** Low enough to propose a revisit. */
export function isLowScore(policy: Pick<SatisfactionPolicy, 'lowScoreMax'>, a: Answers): boolean {
  return (
    (a.rating !== undefined && a.rating !== null && a.rating <= policy.lowScoreMax) ||
    (a.csat !== undefined && a.csat !== null && a.csat <= policy.lowScoreMax)
  );
}
