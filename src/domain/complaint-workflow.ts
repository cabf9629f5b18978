// Complaints (DOMAIN.md "Complaints"): seven channels, twelve categories and severity levels (both
// stored as rows, seeded by migration 0028 and edited by HQ), and the five-stage chain
// 核实—审查—整改—回访—归档 (verify → review → rectify → call back → archive), each stage owned by a
// role at an org level. These are the rules only: no database, no clock.

export const COMPLAINT_CHANNELS = [
  'station',
  'hotline_400',
  'suggestion_box',
  'wechat',
  'social_supervisor',
  'regulator',
  'media',
] as const;
export type ComplaintChannel = (typeof COMPLAINT_CHANNELS)[number];

/** Channels whose cases carry the sender's reference number and a reply deadline. */
export const REFERENCE_CHANNELS: readonly ComplaintChannel[] = ['regulator', 'media'];

/** The stages in order; `closed` is after archiving, `merged` a duplicate folded into another case. */
export const COMPLAINT_STAGES = ['verify', 'review', 'rectify', 'callback', 'archive'] as const;
export type ComplaintStage = (typeof COMPLAINT_STAGES)[number];
export const COMPLAINT_STATES = [...COMPLAINT_STAGES, 'closed', 'merged'] as const;
export type ComplaintState = (typeof COMPLAINT_STATES)[number];

export function isComplaintState(v: string): v is ComplaintState {
  return (COMPLAINT_STATES as readonly string[]).includes(v);
}
export function isStage(v: string): v is ComplaintStage {
  return (COMPLAINT_STAGES as readonly string[]).includes(v);
}

/** The stage after `stage`, or `closed` after archiving. */
export function nextState(stage: ComplaintStage): ComplaintState {
  const i = COMPLAINT_STAGES.indexOf(stage);
  return i === COMPLAINT_STAGES.length - 1 ? 'closed' : COMPLAINT_STAGES[i + 1]!;
}

/** The stage before `stage` (where a return sends the case), or null at the first. */
export function previousStage(stage: ComplaintStage): ComplaintStage | null {
  const i = COMPLAINT_STAGES.indexOf(stage);
  return i <= 0 ? null : COMPLAINT_STAGES[i - 1]!;
}

// ── Owners ──────────────────────────────────────────────────────────────────────────────────────
// Org levels by rank (org_level_kind): 1 company (hq), 2 branch, 3 area, 4 station.
export type OrgLevel = 'hq' | 'branch' | 'area' | 'station';
export const LEVEL_RANK: Record<OrgLevel, number> = { hq: 1, branch: 2, area: 3, station: 4 };
const LEVEL_OF_RANK: OrgLevel[] = ['hq', 'hq', 'branch', 'area', 'station'];

/**
 * Who owns each stage of an ordinary case: the level of the unit (the station concerned, or its
 * ancestor at that level) and the roles there that act for it. An emergency case has every stage
 * at company level; a case reopened by an unsatisfied customer moves every stage one level up.
 *
 * | stage    | level   | roles                                                   |
 * |----------|---------|---------------------------------------------------------|
 * | verify   | station | station manager                                         |
 * | review   | area    | area customer manager                                   |
 * | rectify  | station | station manager                                         |
 * | callback | area    | customer-service agent, area customer manager           |
 * | archive  | branch  | branch customer admin, branch manager                   |
 */
export const STAGE_LEVEL: Record<ComplaintStage, OrgLevel> = {
  verify: 'station',
  review: 'area',
  rectify: 'station',
  callback: 'area',
  archive: 'branch',
};

/** The roles that act for a stage owned at a level. */
export const LEVEL_ROLES: Record<OrgLevel, readonly string[]> = {
  station: ['station_manager'],
  area: ['area_customer_manager'],
  branch: ['branch_customer_admin', 'branch_manager'],
  hq: ['hq_marketing'],
};
/** Customer service calls back at whatever level the callback is owned. */
const STAGE_EXTRA_ROLES: Partial<Record<ComplaintStage, readonly string[]>> = { callback: ['cs_agent'] };
/** The company's administrators may act for any owner within their subtree. */
export const ADMIN_ROLE = 'admin';

export interface StageOwner {
  level: OrgLevel;
  rank: number;
  roles: readonly string[];
}

export function stageOwner(stage: ComplaintStage, opts: { emergency: boolean; levelUp: number }): StageOwner {
  const base = opts.emergency ? 1 : LEVEL_RANK[STAGE_LEVEL[stage]];
  const rank = Math.max(1, base - Math.max(0, opts.levelUp));
  const level = LEVEL_OF_RANK[rank]!;
  return { level, rank, roles: [...LEVEL_ROLES[level], ...(STAGE_EXTRA_ROLES[stage] ?? [])] };
}

/**
 * The owning unit: of the case unit and its ancestors (ordered from the root down, with their
 * level ranks), the deepest one at or above the owner's level. A case taken at an area (no
 * station) is verified by the area itself.
 */
export function ownerUnit<T extends { rank: number }>(chain: readonly T[], ownerRank: number): T | null {
  let found: T | null = null;
  for (const u of chain) if (u.rank <= ownerRank) found = u;
  return found;
}

// ── Emergency ───────────────────────────────────────────────────────────────────────────────────
/** Safety, mass incidents, regulator and media cases go to company level at once. */
export function isEmergency(channel: ComplaintChannel, categoryIsEmergency: boolean): boolean {
  return categoryIsEmergency || REFERENCE_CHANNELS.includes(channel);
}

// ── Steps ───────────────────────────────────────────────────────────────────────────────────────
export type ComplaintAction = ComplaintStage | 'return' | 'reassign';

export interface ComplaintActor {
  roleCodes: readonly string[];
  orgPath: string;
}

export interface ComplaintFacts {
  state: ComplaintState;
  /** Path of the unit that owns the current stage. */
  ownerPath: string;
  ownerRoles: readonly string[];
  /** Attachments added while the case was at the rectify stage. */
  rectifyEvidence: number;
}

export interface StepInput {
  note?: string;
  rating?: number;
  reason?: string;
  /** Callback: optional CSAT (1–5), NPS (0–10) and CES (1–7) answers, as the satisfaction policy asks. */
  csat?: number;
  nps?: number;
  ces?: number;
  /** Callback: closed without a rating after enough unreachable attempts (checked by the satisfaction module). */
  unreachable?: boolean;
}

export type StepRefusal =
  'order' | 'scope' | 'role' | 'evidence' | 'note' | 'rating' | 'reason' | 'first_stage' | 'closed';
export type StepResult = { ok: true } | { ok: false; reason: StepRefusal; field?: string; message: string };

const within = (path: string, ancestor: string) => path.startsWith(ancestor);

/** May this person act for the current stage's owner (the owning unit or above it, in an owning role)? */
export function mayActFor(actor: ComplaintActor, facts: Pick<ComplaintFacts, 'ownerPath' | 'ownerRoles'>): StepResult {
  if (!within(facts.ownerPath, actor.orgPath))
    return { ok: false, reason: 'scope', message: 'this stage is owned by another unit' };
  if (!actor.roleCodes.includes(ADMIN_ROLE) && !actor.roleCodes.some((r) => facts.ownerRoles.includes(r)))
    return {
      ok: false,
      reason: 'role',
      message: `this stage is taken by ${facts.ownerRoles.join(' or ')}`,
    };
  return { ok: true };
}

/** Satisfaction on the five-level scale: 1–2 is unsatisfied and reopens the case one level up. */
export const UNSATISFIED_MAX = 2;
export function isUnsatisfied(rating: number): boolean {
  return rating <= UNSATISFIED_MAX;
}

/** Returns plus reassignments at which a case is shown as bouncing between units. */
export const BOUNCE_WARNING = 3;

export function checkStep(
  action: ComplaintAction,
  facts: ComplaintFacts,
  actor: ComplaintActor,
  input: StepInput,
): StepResult {
  const { state } = facts;
  if (state === 'closed' || state === 'merged') return { ok: false, reason: 'closed', message: `the case is ${state}` };
  if (isStage(action) && action !== state)
    return {
      ok: false,
      reason: 'order',
      message: `the case is at the ${state} stage; ${action} cannot be taken now (no stage is skipped)`,
    };
  const who = mayActFor(actor, facts);
  if (!who.ok) return who;
  if (action === 'return' || action === 'reassign') {
    if (!input.reason?.trim()) return { ok: false, reason: 'reason', field: 'body.reason', message: 'say why' };
    if (action === 'return' && previousStage(state) === null)
      return { ok: false, reason: 'first_stage', message: 'the first stage has nothing to return to; reassign it' };
    return { ok: true };
  }
  if (!input.note?.trim()) return { ok: false, reason: 'note', field: 'body.note', message: 'say what was done' };
  if (action === 'rectify' && facts.rectifyEvidence === 0)
    return {
      ok: false,
      reason: 'evidence',
      field: 'attachments',
      message: 'rectification needs evidence: add a photo or document first',
    };
  if (action === 'callback' && !input.unreachable) {
    const r = input.rating;
    if (r === undefined || !Number.isInteger(r) || r < 1 || r > 5)
      return { ok: false, reason: 'rating', field: 'body.rating', message: 'the customer’s rating, 1 to 5' };
  }
  return { ok: true };
}

/** The actions this person may take now (for the page's buttons). */
export function allowedActions(facts: ComplaintFacts, actor: ComplaintActor): ComplaintAction[] {
  if (facts.state === 'closed' || facts.state === 'merged') return [];
  if (!mayActFor(actor, facts).ok) return [];
  const out: ComplaintAction[] = [facts.state as ComplaintStage];
  if (previousStage(facts.state as ComplaintStage) !== null) out.push('return');
  if (facts.state === 'verify' || facts.state === 'review') out.push('reassign');
  return out;
}

/** What a step leads to: the next state, and for a callback whether the case reopens one level up. */
export function outcomeOf(
  action: ComplaintAction,
  state: ComplaintStage,
  input: StepInput,
): { state: ComplaintState; reopen: boolean } {
  if (action === 'return') return { state: previousStage(state)!, reopen: false };
  if (action === 'reassign') return { state, reopen: false };
  if (action === 'callback' && isUnsatisfied(input.rating ?? 5)) return { state: 'verify', reopen: true };
  return { state: nextState(state), reopen: false };
}

// ── Deadlines ───────────────────────────────────────────────────────────────────────────────────
/**
 * The due time of a stage that starts at `startedAt`: for now the severity's hours per stage on the
 * clock. This is the seam for the SLA clocks (category × severity matrix counted on the unit's
 * business calendar): they replace this function, and every caller gets them.
 */
export function stageDueAt(_stage: ComplaintStage, stageHours: number, startedAt: string): string {
  return new Date(Date.parse(startedAt) + stageHours * 3_600_000).toISOString();
}

// ── Duplicates ──────────────────────────────────────────────────────────────────────────────────
/**
 * A case taken within this many days of another with the same customer, phone or plate, or at the
 * same station in the same category, is shown as a possible duplicate. A month covers a customer
 * who calls the hotline and then writes to the regulator about the same fill-up.
 */
export const DUPLICATE_WINDOW_DAYS = 30;

export interface DuplicateProbe {
  customerId: number | null;
  phone: string | null;
  plate: string | null;
  orgUnitId: number;
  category: string;
  takenAt: string;
}

export type DuplicateReason = 'customer' | 'phone' | 'plate' | 'station_category';

/** Why `other` may be the same complaint as `probe` (empty when it is not, or outside the window). */
export function duplicateReasons(probe: DuplicateProbe, other: DuplicateProbe): DuplicateReason[] {
  const gap = Math.abs(Date.parse(probe.takenAt) - Date.parse(other.takenAt));
  if (!(gap <= DUPLICATE_WINDOW_DAYS * 86_400_000)) return [];
  const out: DuplicateReason[] = [];
  if (probe.customerId !== null && probe.customerId === other.customerId) out.push('customer');
  if (probe.phone && probe.phone === other.phone) out.push('phone');
  if (probe.plate && probe.plate === other.plate) out.push('plate');
  if (probe.orgUnitId === other.orgUnitId && probe.category === other.category) out.push('station_category');
  return out;
}

// ── Case numbers ────────────────────────────────────────────────────────────────────────────────
/** TS-202612-000123: the month on the company's calendar and its running number. */
export function caseNumber(month: string, seq: number): string {
  return `TS-${month.replace('-', '')}-${String(seq).padStart(6, '0')}`;
}
