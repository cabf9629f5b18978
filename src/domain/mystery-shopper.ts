// Mystery-shopper evaluations (神秘顾客, DOMAIN.md "Satisfaction"): HQ's evaluation forms with weighted
// items, critical items that fail the whole visit, the visit's time window, the score, and the decision
// whether a problem belongs to the whole network or to a few stations. Pure rules, no I/O.
import { businessDay, zoneOffsetMs } from './business-day.js';

export const ANSWER_TYPES = ['yes_no', 'score'] as const;
export type AnswerType = (typeof ANSWER_TYPES)[number];

export interface FormItem {
  /** Stable across versions, so the same question is counted together in the analysis. */
  key: string;
  text: string;
  /** Points the item is worth. */
  weight: number;
  /** A failed critical item fails the whole visit, whatever the score (一票否决). */
  critical: boolean;
  photoRequired: boolean;
  answerType: AnswerType;
  /** For `score`: answers run 0..maxScore. */
  maxScore: number | null;
}

export interface FormSection {
  title: string;
  items: FormItem[];
}

export interface FormDefinition {
  title: string;
  /** The weighted percentage a visit needs to pass. */
  passPercent: number;
  sections: FormSection[];
}

export interface FormProblem {
  field: string;
  message: string;
}

export const ITEM_KEY = /^[a-z0-9_]{1,32}$/;
export const MAX_WEIGHT = 100;
export const MAX_SCORE = 10;
export const DEFAULT_PASS_PERCENT = 80;

/**
 * An item answered on a 0..max scale counts as failed below this share of its points: 60% is the pass
 * mark of the usual Chinese scoring sheet (及格线), and a "6 of 10" on friendliness is not a problem
 * to send to a station, a "4 of 10" is.
 */
export const ITEM_FAIL_BELOW = 0.6;

/**
 * A problem failed by at least this share of the stations evaluated in the period is the network's,
 * not the stations': one corrective action goes to HQ for everyone (training, a rule, a supplier),
 * instead of the same action to many station managers. 30% — about one station in three — is where a
 * shared cause (a procedure, a product, a campaign) becomes likelier than local negligence; below it,
 * the stations that failed get the action. The share alone is not enough: one failure in a network
 * of three evaluated stations is still one station, hence the minimum count.
 */
export const NETWORK_SHARE_PERCENT = 30;
export const NETWORK_MIN_STATIONS = 2;

/** Days a corrective action is given when its author names no date. */
export const ACTION_DUE_DAYS = { station: 7, network: 30 } as const;

/** Every problem of the form, each named by its field (`sections.0.items.1.weight`); empty when it is valid. */
export function validateForm(def: FormDefinition): FormProblem[] {
  const problems: FormProblem[] = [];
  const p = (field: string, message: string) => problems.push({ field, message });
  if (!def.title.trim()) p('title', 'the form needs a title');
  if (!Number.isInteger(def.passPercent) || def.passPercent < 1 || def.passPercent > 100)
    p('passPercent', 'the pass mark is a whole percentage from 1 to 100');
  if (def.sections.length === 0) p('sections', 'the form needs at least one section');
  const keys = new Map<string, string>();
  let items = 0;
  def.sections.forEach((s, si) => {
    const at = `sections.${si}`;
    if (!s.title.trim()) p(`${at}.title`, 'the section needs a title');
    if (s.items.length === 0) p(`${at}.items`, 'the section needs at least one item');
    s.items.forEach((it, ii) => {
      items++;
      const f = `${at}.items.${ii}`;
      if (!ITEM_KEY.test(it.key)) p(`${f}.key`, 'the key is 1–32 lower-case letters, digits or _');
      else if (keys.has(it.key)) p(`${f}.key`, `the key ${it.key} is used by ${keys.get(it.key)} too`);
      else keys.set(it.key, f);
      if (!it.text.trim()) p(`${f}.text`, 'the item needs its question');
      if (!Number.isInteger(it.weight) || it.weight <= 0 || it.weight > MAX_WEIGHT)
        p(`${f}.weight`, `the weight is a whole number of points from 1 to ${MAX_WEIGHT}`);
      if (it.answerType === 'score') {
        if (it.maxScore === null || !Number.isInteger(it.maxScore) || it.maxScore < 1 || it.maxScore > MAX_SCORE)
          p(`${f}.maxScore`, `a scored item needs its top score, 1 to ${MAX_SCORE}`);
      } else if (it.maxScore !== null) p(`${f}.maxScore`, 'a yes/no item has no top score');
    });
  });
  if (def.sections.length > 0 && items === 0) p('sections', 'the form needs at least one item');
  return problems;
}

export function formItems(def: FormDefinition): FormItem[] {
  return def.sections.flatMap((s) => s.items);
}

/** yes/no: 1 is yes, 0 is no; score: 0..maxScore. */
export type AnswerValue = number;

export interface ItemResult {
  key: string;
  value: number;
  /** Points earned, in hundredths (weight 5, 3 of 4 → 375). */
  earned100: number;
  failed: boolean;
  critical: boolean;
}

export interface VisitScore {
  items: ItemResult[];
  earned100: number;
  possible100: number;
  /** Weighted percentage in tenths of a percent (87.5% → 875), so it stays an integer on both engines. */
  permille: number;
  criticalFailed: string[];
  passed: boolean;
}

export type AnswerProblem = FormProblem;

/** The answers checked against the form: every item once, each value in its range. */
export function checkAnswers(def: FormDefinition, answers: ReadonlyMap<string, number>): AnswerProblem[] {
  const problems: AnswerProblem[] = [];
  const known = new Set<string>();
  for (const it of formItems(def)) {
    known.add(it.key);
    const v = answers.get(it.key);
    const field = `answers.${it.key}`;
    if (v === undefined) problems.push({ field, message: `“${it.text}” is not answered` });
    else if (it.answerType === 'yes_no' && v !== 0 && v !== 1)
      problems.push({ field, message: `“${it.text}” is answered yes (1) or no (0)` });
    else if (it.answerType === 'score' && (!Number.isInteger(v) || v < 0 || v > (it.maxScore ?? 0)))
      problems.push({ field, message: `“${it.text}” is scored 0 to ${it.maxScore}` });
  }
  for (const k of answers.keys())
    if (!known.has(k)) problems.push({ field: `answers.${k}`, message: `${k} is not an item of this form` });
  return problems;
}

export function itemFailed(it: FormItem, value: number): boolean {
  if (it.answerType === 'yes_no') return value !== 1;
  return value < ITEM_FAIL_BELOW * (it.maxScore ?? 1);
}

/** The weighted score; a failed critical item fails the visit however high the percentage. */
export function scoreVisit(def: FormDefinition, answers: ReadonlyMap<string, number>): VisitScore {
  const items: ItemResult[] = [];
  let earned100 = 0;
  let possible100 = 0;
  for (const it of formItems(def)) {
    const value = answers.get(it.key) ?? 0;
    const share = it.answerType === 'yes_no' ? (value === 1 ? 1 : 0) : value / (it.maxScore ?? 1);
    const e = Math.round(it.weight * 100 * share);
    earned100 += e;
    possible100 += it.weight * 100;
    items.push({ key: it.key, value, earned100: e, failed: itemFailed(it, value), critical: it.critical });
  }
  const permille = possible100 === 0 ? 0 : Math.round((earned100 * 1000) / possible100);
  const criticalFailed = items.filter((i) => i.critical && i.failed).map((i) => i.key);
  return {
    items,
    earned100,
    possible100,
    permille,
    criticalFailed,
    passed: criticalFailed.length === 0 && permille >= def.passPercent * 10,
  };
}

export interface VisitWindow {
  from: string;
  to: string;
  /** Optional daily hours in the station's time zone (peak hours 07–09: hourFrom 7, hourTo 9). */
  hourFrom: number | null;
  hourTo: number | null;
}

export type WindowCheck = { ok: true } | { ok: false; reason: 'before' | 'after' | 'hours'; message: string };

/** Local hour and minute of an instant in a zone, as minutes after midnight. */
function localMinutes(utcMs: number, timeZone: string): number {
  const local = new Date(utcMs + zoneOffsetMs(timeZone, utcMs));
  return local.getUTCHours() * 60 + local.getUTCMinutes();
}

/** Whether a visit at `at` falls in its assignment's window; the refusal says when the window is. */
export function checkWindow(at: Date, w: VisitWindow, timeZone: string): WindowCheck {
  const t = at.getTime();
  const day = (iso: string) => businessDay(Date.parse(iso), timeZone);
  if (t < Date.parse(w.from))
    return { ok: false, reason: 'before', message: `the visit window opens on ${day(w.from)}` };
  if (t > Date.parse(w.to)) return { ok: false, reason: 'after', message: `the visit window closed on ${day(w.to)}` };
  if (w.hourFrom !== null && w.hourTo !== null) {
    const m = localMinutes(t, timeZone);
    if (m < w.hourFrom * 60 || m >= w.hourTo * 60)
      return {
        ok: false,
        reason: 'hours',
        message: `visits are made between ${w.hourFrom}:00 and ${w.hourTo}:00 station time`,
      };
  }
  return { ok: true };
}

export interface ItemSpread {
  evaluatedStations: number;
  failedStations: number;
}

export type ActionScope = 'network' | 'station';

/** Where the corrective action for an item goes: to the whole network, or to the stations that failed it. */
export function actionScope(s: ItemSpread): ActionScope | null {
  if (s.failedStations === 0) return null;
  return s.failedStations >= NETWORK_MIN_STATIONS &&
    s.failedStations * 100 >= NETWORK_SHARE_PERCENT * s.evaluatedStations
    ? 'network'
    : 'station';
}
