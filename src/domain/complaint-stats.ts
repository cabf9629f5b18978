// Complaint figures per unit and month (DOMAIN.md "Complaints": "accept at once, handle fast, feed
// back in time" — 受理要快、处理要快、反馈要及时 — measured as the three rates 三率; and "Assessment":
// complaints handled is one of the figures every branch, area and station is assessed on).
//
// One population for every figure of a month: the cases taken in that month on the company's
// calendar, duplicates merged into another case left out (the case they were merged into counts).
// A case counts at the unit concerned (complaint.org_unit_id) and at every level above it. Each
// figure is a count over those cases and its rate is that count over its own base:
//
// | figure                        | counted                                                  | base                                                             |
// |-------------------------------|----------------------------------------------------------|------------------------------------------------------------------|
// | response rate 响应率           | cases whose first verification (核实) came by its due time | cases verified, or past the first verification's due time unverified |
// | resolution rate 解决率         | cases closed (archived after the callback)                | cases taken                                                      |
// | satisfaction rate 满意率       | callbacks rated 4 or 5 (every callback, reopened included) | callbacks rated                                                  |
// | SLA compliance 环节按时率       | stages finished (taken forward) by their due time        | stages finished                                                  |
// | repeat-complaint rate 重复投诉率 | cases whose customer or phone had another case in the 90 days before | cases taken                                          |
// | rectification closure 整改闭环率 | cases that passed rectification with evidence on file    | cases that reached rectification                                 |
//
// Why these bases: a case still inside its first deadline has not yet been answered late or on
// time, so it is left out of the response base rather than counted as a failure; the resolution rate
// is of the month's cases (a cohort), so a month's figure settles as its cases close and the current
// month reads low while its cases are in hand (the page shows how many are still open beside it).
//
// Due times: no column keeps the due time of a finished stage (complaint.stage_due_at is the current
// stage's), so a finished stage's due time is the one the workflow gives a stage started when it
// started (stageDueAt, the seam the SLA clocks replace); a due time written on an event (detail.dueAt:
// on the step that starts a stage, or on a later event that moves it) is preferred when there is one. A stage starts at intake, at the step that led to
// it, at a return to it and at a reassignment (which restarts the clock, as the workflow does).
import { isStage, stageDueAt, type ComplaintStage } from './complaint-workflow.js';

/** A case counts as a repeat when its customer or phone had another case within this many days before it. */
export const REPEAT_WINDOW_DAYS = 90;
/** Ratings at or above this are satisfied (the five-level scale; 1–2 reopens the case). */
export const SATISFIED_MIN = 4;

export interface StatsEvent {
  action: string;
  fromState: string | null;
  toState: string;
  at: string;
  /** The step's detail (JSON): a callback's rating, and a due time when the step recorded one. */
  detail: Record<string, unknown>;
}

export interface StageSpan {
  stage: ComplaintStage;
  startedAt: string;
  dueAt: string;
  /** When the stage was taken forward; null while it runs or when it was returned or reassigned. */
  finishedAt: string | null;
  /** How the span ended: taken forward, sent back, handed to another unit, or still running. */
  end: 'finished' | 'returned' | 'reassigned' | 'running';
}

/** The stages a case went through, from its trail (events in order). */
export function stageSpans(events: readonly StatsEvent[], stageHours: number): StageSpan[] {
  const spans: StageSpan[] = [];
  let open: StageSpan | null = null;
  const start = (stage: string, at: string, detail: Record<string, unknown>) => {
    if (!isStage(stage)) {
      open = null;
      return;
    }
    const recorded = typeof detail.dueAt === 'string' ? detail.dueAt : null;
    open = {
      stage,
      startedAt: at,
      dueAt: recorded ?? stageDueAt(stage, stageHours, at),
      finishedAt: null,
      end: 'running',
    };
    spans.push(open);
  };
  for (const e of events) {
    if (e.action === 'take') start(e.toState, e.at, e.detail);
    else if (isStage(e.action) && e.fromState === e.action) {
      if (open) (open as StageSpan).end = 'finished';
      if (open) (open as StageSpan).finishedAt = e.at;
      start(e.toState, e.at, e.detail);
    } else if (e.action === 'return' || e.action === 'reassign') {
      if (open) (open as StageSpan).end = e.action === 'return' ? 'returned' : 'reassigned';
      start(e.toState, e.at, e.detail);
    }
    // A step that moves the running stage's due time (a pause ended, an extension approved) says so in
    // detail.dueAt; links, merges and their undoing leave the stage and its clock as they are.
    else if (open && typeof e.detail.dueAt === 'string') (open as StageSpan).dueAt = e.detail.dueAt;
  }
  return spans;
}

export interface CaseFacts {
  state: string;
  events: readonly StatsEvent[];
  stageHours: number;
  /** The running stage's due time as the case holds it (authoritative for the stage now open). */
  stageDueAt: string | null;
  /** Another case of the same customer or phone in the window before this one. */
  repeat: boolean;
  /** Evidence files added at the rectify stage. */
  rectifyEvidence: number;
}

export interface CaseFigures {
  responseDue: boolean;
  respondedInTime: boolean;
  closed: boolean;
  open: boolean;
  overdue: boolean;
  ratings: number[];
  stagesFinished: number;
  stagesInTime: number;
  repeat: boolean;
  reachedRectify: boolean;
  rectified: boolean;
}

/** What one case adds to the figures, read at `now`. */
export function caseFigures(c: CaseFacts, now: string): CaseFigures {
  const spans = stageSpans(c.events, c.stageHours);
  const last = spans[spans.length - 1];
  if (last && last.end === 'running' && c.stageDueAt && isStage(c.state) && last.stage === c.state)
    last.dueAt = c.stageDueAt;
  // The first verification: the verify span that was finished first (a reassignment before it restarts its clock).
  const firstVerify = spans.find((s) => s.stage === 'verify' && s.end !== 'reassigned');
  const verifyFinished = firstVerify?.end === 'finished' ? firstVerify : undefined;
  const pendingPastDue = firstVerify?.end === 'running' && firstVerify.dueAt < now;
  const finished = spans.filter((s) => s.end === 'finished');
  const ratings = c.events
    .filter((e) => e.action === 'callback' && e.fromState === 'callback')
    .map((e) => Number(e.detail.rating))
    .filter((r) => Number.isInteger(r) && r >= 1 && r <= 5);
  const reachedRectify = c.events.some((e) => e.toState === 'rectify' && e.action !== 'link' && e.action !== 'unlink');
  const rectified = c.events.some((e) => e.action === 'rectify' && e.fromState === 'rectify') && c.rectifyEvidence > 0;
  const open = isStage(c.state);
  return {
    responseDue: verifyFinished !== undefined || pendingPastDue,
    respondedInTime: verifyFinished !== undefined && verifyFinished.finishedAt! <= verifyFinished.dueAt,
    closed: c.state === 'closed',
    open,
    overdue: open && c.stageDueAt !== null && c.stageDueAt < now,
    ratings,
    stagesFinished: finished.length,
    stagesInTime: finished.filter((s) => s.finishedAt! <= s.dueAt).length,
    repeat: c.repeat,
    reachedRectify,
    rectified,
  };
}

export interface Figures {
  taken: number;
  open: number;
  overdue: number;
  responseDue: number;
  respondedInTime: number;
  responseRate: number | null;
  closed: number;
  resolutionRate: number | null;
  rated: number;
  satisfied: number;
  satisfactionRate: number | null;
  stagesFinished: number;
  stagesInTime: number;
  slaRate: number | null;
  repeats: number;
  repeatRate: number | null;
  reachedRectify: number;
  rectified: number;
  rectificationRate: number | null;
}

export type Tally = Omit<
  Figures,
  'responseRate' | 'resolutionRate' | 'satisfactionRate' | 'slaRate' | 'repeatRate' | 'rectificationRate'
>;

export const emptyTally = (): Tally => ({
  taken: 0,
  open: 0,
  overdue: 0,
  responseDue: 0,
  respondedInTime: 0,
  closed: 0,
  rated: 0,
  satisfied: 0,
  stagesFinished: 0,
  stagesInTime: 0,
  repeats: 0,
  reachedRectify: 0,
  rectified: 0,
});

export function addCase(t: Tally, f: CaseFigures): void {
  t.taken++;
  if (f.open) t.open++;
  if (f.overdue) t.overdue++;
  if (f.responseDue) t.responseDue++;
  if (f.respondedInTime) t.respondedInTime++;
  if (f.closed) t.closed++;
  t.rated += f.ratings.length;
  t.satisfied += f.ratings.filter((r) => r >= SATISFIED_MIN).length;
  t.stagesFinished += f.stagesFinished;
  t.stagesInTime += f.stagesInTime;
  if (f.repeat) t.repeats++;
  if (f.reachedRectify) t.reachedRectify++;
  if (f.rectified) t.rectified++;
}

const rate = (part: number, whole: number) => (whole === 0 ? null : part / whole);

/** The tally with its six rates (null where the base is zero). */
export function figuresOf(t: Tally): Figures {
  return {
    ...t,
    responseRate: rate(t.respondedInTime, t.responseDue),
    resolutionRate: rate(t.closed, t.taken),
    satisfactionRate: rate(t.satisfied, t.rated),
    slaRate: rate(t.stagesInTime, t.stagesFinished),
    repeatRate: rate(t.repeats, t.taken),
    rectificationRate: rate(t.rectified, t.reachedRectify),
  };
}
