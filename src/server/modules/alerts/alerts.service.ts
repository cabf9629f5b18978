// Churn and anomaly alerts: the rules of src/domain/anomaly-rules.ts run over the archive (nightly,
// or by hand for a subtree), each finding becomes a task for whoever looks after the customer, and
// the queue is worked through by calling, finding the reason and recording what was done.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { engineOf, type Engine } from '../../db/dialect.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { AppError } from '../../errors.js';
import { greetingOf } from '../../../domain/customer-profile.js';
import type { AnomalyPolicy } from '../../../domain/policies.js';
import {
  MIN_CUSTOMERS_TO_FIT,
  MAX_CUSTOMERS_TO_FIT,
  evenSample,
  addDays,
  cadenceFinding,
  cadenceLastDayBefore,
  declineFinding,
  declineWindow,
  modelFinding,
  rfmOfCadence,
  type AlertKind,
  type ModelFit,
} from '../../../domain/anomaly-rules.js';
import type { RfmTriplet } from '../../../domain/churn-models/rfm.js';
import { currentPolicy } from '../policies/policies.service.js';
import { recordAudit } from '../audit/audit.service.js';
import { dayIn } from '../../jobs/job-runner.js';
import { ChurnPool, type FitOutcome } from './fit-pool.js';
import { alertsQueries as q, type CustomerFacts, type ListFilter, type NewAlert } from './alerts.queries.js';

export interface RunOptions {
  /** The day whose data is complete ('YYYY-MM-DD'); the rules judge as of the next morning. */
  day: string;
  /** Only customers under this org path (a manual run covers the user's own subtree). */
  scopePath?: string;
}

export interface SkippedBranch {
  orgUnitId: number;
  name: string;
  customers: number;
  reason: 'too_few_customers' | 'fit_failed';
}

export interface RunResult {
  period: string;
  today: string;
  raised: Record<AlertKind, number>;
  /** Findings whose episode already has an alert, still open or already handled. */
  alreadyOpen: number;
  alreadyClosed: number;
  fittedBranches: number;
  skippedBranches: SkippedBranch[];
  scoredCustomers: number;
  /** Of the fitted branches, how many were scored with a fit of the last REFIT_DAYS days instead of a new one. */
  reusedFits: number;
  seconds: number;
  /**
   * Where the run's time went: reading the customers (one pass), the cadence and decline rules on
   * each chunk of it, waiting for the fits once the pass is over, and scoring with its writes.
   */
  phaseSeconds: { read: number; cadence: number; decline: number; modelFit: number; modelScore: number };
}

export interface CloseBody {
  contactMade: string;
  reasonFound: string;
  actionTaken: string;
}

type AlertRow = NonNullable<Awaited<ReturnType<typeof q.one>>>;

/**
 * A branch's models are refitted when its newest fit is this many days old: the population's
 * parameters move slowly, and fitting both models costs far more than scoring every customer.
 */
export const REFIT_DAYS = 7;

/** The fit sample's rows are drawn this many times over: those without a history are dropped. */
const SAMPLE_OVERDRAW = 2;

interface StartedFits {
  pool: ChurnPool;
  outcomes: Map<number, Promise<FitOutcome>>;
}

/** Findings of the nightly pass are inserted this many at a time (per rule). */
const RAISE_BATCH = 20_000;

/** Below this many customers to model, fitting and scoring stay in the main thread. */
const THREADED_FROM_CUSTOMERS = 20_000;

/** Seconds since a Date.now() mark, to a tenth. */
const secondsSince = (mark: number) => Math.round((Date.now() - mark) / 100) / 10;

/** The unit ids of an org path, top first. */
const nums = (path: string) => path.split('/').filter(Boolean).map(Number);

function toAlert(r: AlertRow) {
  return {
    id: Number(r.id),
    kind: r.kind as AlertKind,
    episode: r.episode,
    status: r.status as 'open' | 'closed',
    detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : {},
    openedAt: r.opened_at,
    closedAt: r.closed_at,
    closedByName: r.closed_by_name,
    contactMade: r.contact_made,
    reasonFound: r.reason_found,
    actionTaken: r.action_taken,
    orgUnitId: Number(r.org_unit_id),
    orgUnitName: r.org_unit_name,
    assigneeUserId: r.assignee_user_id === null ? null : Number(r.assignee_user_id),
    assigneeName: r.assignee_name,
    customer: {
      id: Number(r.customer_id),
      code: r.code,
      kind: r.customer_kind,
      name: r.name,
      greeting: greetingOf(r.surname, r.name, r.gender),
      organisation: r.organisation,
      plate: r.plate,
      visitCount: Number(r.visit_count),
      lastVisitDay: r.last_visit_day,
      usualIntervalDays: r.usual_interval_days === null ? null : Math.round(Number(r.usual_interval_days) * 10) / 10,
    },
  };
}

export type Alert = ReturnType<typeof toAlert>;

/** Who gets a customer's alert: his owner, else a station manager of his unit or the nearest unit above that has one. */
class Assigner {
  constructor(private readonly managers: Map<number, number>) {}
  of(c: CustomerFacts): number | null {
    if (c.owner_user_id !== null) return c.owner_user_id;
    const ids = nums(c.path);
    for (let i = ids.length - 1; i >= 0; i--) {
      const m = this.managers.get(ids[i]!);
      if (m !== undefined) return m;
    }
    return null;
  }
}

export class AlertsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private get engine(): Engine {
    return engineOf(this.db);
  }

  /** Yesterday in the company's time zone: the last day whose data is complete. */
  async defaultDay(): Promise<string> {
    return addDays(dayIn(this.now(), await q.companyTimeZone(this.db)), -1);
  }

  /** Run the three rules; what was raised before is not raised again. */
  async runRules(opts: RunOptions): Promise<RunResult> {
    const started = Date.now();
    const today = addDays(opts.day, 1);
    const scopePath = opts.scopePath ?? '/';
    const policy = (await currentPolicy(this.db, 'anomaly')).body;
    const assigner = new Assigner(await q.stationManagers(this.db));
    const result: RunResult = { period: opts.day, today, raised: { cadence: 0, decline: 0, model: 0 }, alreadyOpen: 0, alreadyClosed: 0, fittedBranches: 0, skippedBranches: [], scoredCustomers: 0, reusedFits: 0, seconds: 0, phaseSeconds: { read: 0, cadence: 0, decline: 0, modelFit: 0, modelScore: 0 } };
    const openedAt = this.now().toISOString();

    const raise: Raise = async (kind, found) => {
      if (found.length === 0) return;
      const alerts: NewAlert[] = found.map(({ c, episode, detail }) => ({ customerId: c.id, orgUnitId: c.org_unit_id, kind, episode, assigneeUserId: assigner.of(c), detail: JSON.stringify(detail) }));
      const inserted = await q.insertAlerts(this.db, this.engine, alerts, openedAt);
      result.raised[kind] += inserted.size;
      const rest = alerts.filter((a) => !inserted.has(`${a.customerId}|${a.episode}`));
      if (rest.length === 0) return;
      const statuses = await q.existingStatuses(this.db, this.engine, kind, rest.map((a) => a.customerId));
      for (const a of rest) {
        if (statuses.get(`${a.customerId}|${a.episode}`) === 'closed') result.alreadyClosed++;
        else result.alreadyOpen++;
      }
    };

    // Findings of the pass are raised in batches: every transaction of alert inserts rewrites the
    // queue indexes' pages of every assignee it touches, so a few large ones cost less than one per chunk.
    const waiting: Record<'cadence' | 'decline', Finding[]> = { cadence: [], decline: [] };
    /** Queue findings; raise the queue once it is RAISE_BATCH long, or whatever it holds when `all`. */
    const raiseBatched = async (kind: 'cadence' | 'decline', found: Finding[], all = false) => {
      const list = waiting[kind];
      for (const f of found) list.push(f);
      if (list.length >= RAISE_BATCH || (all && list.length > 0)) {
        waiting[kind] = [];
        await raise(kind, list);
      }
    };

    // One pass over the customers who ever bought: the cadence and decline rules on each chunk,
    // and the (x, t_x, T) the models need kept per branch.
    const units = await q.orgUnits(this.db);
    const unitById = new Map(units.map((u) => [Number(u.id), u]));
    // Customers are modelled per branch; those above any branch (or in a tree without branches) with the top unit.
    const groupOf = (path: string): number => {
      const ids = nums(path);
      return ids.find((id) => unitById.get(id)?.kind_code === 'branch') ?? ids[0]!;
    };
    const groups = new Map<number, { c: CustomerFacts; t: RfmTriplet }[]>();
    // The models are fitted on a sample drawn before the pass, so that the worker threads fit
    // while the main thread runs the rules.
    const recent = await this.recentFits(opts.day);
    const fits = await this.startFits(units, groupOf, scopePath, today, recent);
    try {
      const cadenceBefore = cadenceLastDayBefore(policy, today);
      const window = declineWindow(policy, today);
      const declineFrom = window[0]!;
      const declineSince = `${declineFrom}-01`;
      let mark = Date.now();
      for (let after = 0; ; ) {
        const chunk = await q.visitedCustomers(this.db, this.engine, scopePath, after);
        if (chunk.length === 0) break;
        after = chunk.at(-1)!.id;
        result.phaseSeconds.read += (Date.now() - mark) / 1000;

        mark = Date.now();
        const overdue = [];
        for (const c of chunk) {
          if (c.visit_count < policy.minVisits || c.usual_interval_days === null || c.last_visit_day === null || c.last_visit_day >= cadenceBefore) continue;
          const f = cadenceFinding(policy, { visitCount: c.visit_count, usualIntervalDays: c.usual_interval_days, lastVisitDay: c.last_visit_day }, today);
          if (f) overdue.push({ c, episode: f.episode, detail: f });
        }
        await raiseBatched('cadence', overdue);
        result.phaseSeconds.cadence += (Date.now() - mark) / 1000;

        mark = Date.now();
        // A strictly falling run has bought in at least declineMonths of its months, the last since the baseline month began.
        const declining = chunk.filter((c) => c.visit_count >= policy.declineMonths && c.last_visit_day !== null && c.last_visit_day >= declineSince);
        const volumes = await q.monthlyVolumes(this.db, this.engine, declining.map((c) => c.id), window);
        const falling = [];
        for (const c of declining) {
          const f = declineFinding(policy, volumes.get(c.id) ?? new Map(), today);
          if (f) falling.push({ c, episode: f.episode, detail: f });
        }
        await raiseBatched('decline', falling);
        result.phaseSeconds.decline += (Date.now() - mark) / 1000;

        mark = Date.now();
        for (const c of chunk) {
          const t = rfmOfCadence({ visitCount: c.visit_count, firstVisitDay: c.first_visit_day, lastVisitDay: c.last_visit_day }, today);
          if (!t) continue;
          const g = groupOf(c.path);
          const list = groups.get(g);
          if (list) list.push({ c, t });
          else groups.set(g, [{ c, t }]);
        }
        result.phaseSeconds.read += (Date.now() - mark) / 1000;
        mark = Date.now();
      }
      // What the last chunks found.
      mark = Date.now();
      await raiseBatched('cadence', [], true);
      result.phaseSeconds.cadence += (Date.now() - mark) / 1000;
      mark = Date.now();
      await raiseBatched('decline', [], true);
      result.phaseSeconds.decline += (Date.now() - mark) / 1000;
      await this.model(policy, opts.day, today, unitById, groups, recent, fits, raise, result);
    } finally {
      // The workers must not outlive the run, whatever happens in it.
      await fits.pool.close();
    }
    for (const k of Object.keys(result.phaseSeconds) as (keyof RunResult['phaseSeconds'])[]) result.phaseSeconds[k] = Math.round(result.phaseSeconds[k] * 10) / 10;
    result.seconds = secondsSince(started);
    return result;
  }

  private async model(
    policy: AnomalyPolicy,
    period: string,
    today: string,
    unitById: Map<number, { name: string }>,
    groups: Map<number, { c: CustomerFacts; t: RfmTriplet }[]>,
    recent: Map<number, ModelFit>,
    fits: StartedFits,
    raise: Raise,
    result: RunResult,
  ): Promise<void> {
    const mark = Date.now();
    const scoredAt = this.now().toISOString();
    const branches = [...groups].sort((a, b) => a[0] - b[0]).filter(([unitId, members]) => {
      if (members.length >= MIN_CUSTOMERS_TO_FIT) return true;
      result.skippedBranches.push({ orgUnitId: unitId, name: unitById.get(unitId)?.name ?? String(unitId), customers: members.length, reason: 'too_few_customers' });
      return false;
    });
    const pool = fits.pool;
    // What is left of the fitting once the pass is over.
    const fitStarted = Date.now();
    const fitted = new Map(await Promise.all([...fits.outcomes].map(async ([unitId, outcome]) => [unitId, await outcome] as const)));
    const fitMs = Date.now() - fitStarted;
    const plans: { members: { c: CustomerFacts; t: RfmTriplet }[]; model: ModelFit }[] = [];
    for (const [unitId, members] of branches) {
      const name = unitById.get(unitId)?.name ?? String(unitId);
      let chosen = recent.get(unitId);
      if (chosen) result.reusedFits++;
      else {
        const outcome = fitted.get(unitId) ?? { error: 'not sampled' };
        if ('error' in outcome) {
          result.skippedBranches.push({ orgUnitId: unitId, name, customers: members.length, reason: 'fit_failed' });
          continue;
        }
        const fit = outcome.fit;
        for (const f of fit.fits) {
          await q.saveFit(this.db, { orgUnitId: unitId, model: f.model, period, params: JSON.stringify({ ...f.params, converged: f.converged, fittedOn: fit.fittedOn, chosen: f.model === fit.chosen.model }), logLikelihood: f.logLikelihood, customers: members.length, fittedAt: scoredAt });
        }
        chosen = fit.chosen;
      }
      result.fittedBranches++;
      plans.push({ members, model: chosen });
    }
    // Customers with the same history get the same score: each distinct one is computed once,
    // every branch's at the same time.
    const scored = await Promise.all(
      plans.map(async ({ members, model }) => {
        const index = new Map<string, number>();
        const histories: number[] = [];
        const which = new Int32Array(members.length);
        members.forEach(({ t }, i) => {
          const key = `${t.x}|${t.tx}|${t.T}`;
          let k = index.get(key);
          if (k === undefined) {
            index.set(key, (k = index.size));
            histories.push(t.x, t.tx, t.T);
          }
          which[i] = k;
        });
        return { members, model, which, out: await pool.score(model, Float64Array.from(histories)) };
      }),
    );
    for (const { members, model, which, out } of scored) {
      const scores: unknown[][] = [];
      const found = [];
      for (const [i, { c }] of members.entries()) {
        const s = { pAlive: out[which[i]! * 2]!, expected30d: out[which[i]! * 2 + 1]! };
        if (!Number.isFinite(s.pAlive) || !Number.isFinite(s.expected30d)) continue;
        scores.push([c.id, model.model, s.pAlive, s.expected30d, scoredAt]);
        const f = modelFinding(policy, c.visit_count, model.model, s, today);
        if (f) found.push({ c, episode: f.episode, detail: { ...f, lastVisitDay: c.last_visit_day, visitCount: c.visit_count } });
      }
      await q.upsertScores(this.db, this.engine, scores);
      result.scoredCustomers += scores.length;
      await raise('model', found);
    }
    result.phaseSeconds.modelFit = fitMs / 1000;
    result.phaseSeconds.modelScore = (Date.now() - mark - fitMs) / 1000;
  }

  /**
   * Start fitting every group (branch) in scope without a recent fit, on an even sample by id of its
   * live customers who ever bought: ids from the unit index, then SAMPLE_OVERDRAW times the sample's
   * rows by id, those with a history kept and evenly thinned to MAX_CUSTOMERS_TO_FIT.
   */
  private async startFits(units: { id: number | string; path: string }[], groupOf: (path: string) => number, scopePath: string, today: string, recent: Map<number, ModelFit>): Promise<StartedFits> {
    const unitsOf = new Map<number, number[]>();
    for (const u of units) {
      if (!u.path.startsWith(scopePath)) continue;
      const g = groupOf(u.path);
      const list = unitsOf.get(g);
      if (list) list.push(Number(u.id));
      else unitsOf.set(g, [Number(u.id)]);
    }
    const samples = new Map<number, RfmTriplet[]>();
    let customers = 0;
    for (const [g, unitIds] of [...unitsOf].sort((a, b) => a[0] - b[0])) {
      const ids = await q.memberIds(this.db, this.engine, unitIds);
      customers += ids.length;
      if (recent.has(g) || ids.length < MIN_CUSTOMERS_TO_FIT) continue;
      const rows = await q.customersById(this.db, this.engine, evenSample(ids, MAX_CUSTOMERS_TO_FIT * SAMPLE_OVERDRAW));
      const histories = rows.map((c) => rfmOfCadence({ visitCount: c.visit_count, firstVisitDay: c.first_visit_day, lastVisitDay: c.last_visit_day }, today)).filter((t): t is RfmTriplet => t !== null);
      samples.set(g, evenSample(histories, MAX_CUSTOMERS_TO_FIT));
    }
    // Worker threads pay off for large archives only: small ones are fitted and scored here.
    const pool = new ChurnPool(customers >= THREADED_FROM_CUSTOMERS ? undefined : 1);
    const outcomes = new Map<number, Promise<FitOutcome>>();
    // pool.fit never rejects: a failed fit is an outcome, read once the pass is over.
    for (const [g, sample] of samples) outcomes.set(g, pool.fit(sample));
    return { pool, outcomes };
  }

  /** Per unit, the chosen model of its newest complete fit in the REFIT_DAYS days up to `day`. */
  private async recentFits(day: string): Promise<Map<number, ModelFit>> {
    const out = new Map<number, ModelFit>();
    const done = new Set<number>();
    const rows = await q.recentFits(this.db, addDays(day, 1 - REFIT_DAYS), day);
    for (const r of rows) {
      if (done.has(r.orgUnitId)) continue;
      const { converged, chosen, fittedOn, ...params } = JSON.parse(r.params) as Record<string, unknown>;
      void fittedOn;
      if (chosen !== true) continue;
      done.add(r.orgUnitId);
      out.set(r.orgUnitId, { model: r.model as ModelFit['model'], params: params as unknown as ModelFit['params'], logLikelihood: r.logLikelihood ?? NaN, converged: converged === true });
    }
    return out;
  }

  async list(p: Principal, filter: ListFilter) {
    const { total, rows } = await q.list(this.db, p, filter);
    return { total, items: rows.map(toAlert) };
  }

  async get(p: Principal, id: number): Promise<Alert> {
    const row = await q.one(this.db, p, id);
    if (!row) throw new AppError('NOT_FOUND', `alert ${id} not found`);
    return toAlert(row);
  }

  /** Close an alert with what was done about it; all three answers are required. */
  async close(p: Principal, ip: string | null, id: number, body: CloseBody): Promise<Alert> {
    const clean: CloseBody = { contactMade: body.contactMade.trim(), reasonFound: body.reasonFound.trim(), actionTaken: body.actionTaken.trim() };
    for (const [field, value] of Object.entries(clean)) if (!value) throw new AppError('VALIDATION_FAILED', `body.${field} must not be empty`, `body.${field}`);
    await this.db.transaction().execute(async (trx) => {
      const before = await q.one(trx, p, id);
      if (!before) throw new AppError('NOT_FOUND', `alert ${id} not found`);
      if (!(await q.close(trx, id, p.userId, this.now().toISOString(), clean))) throw new AppError('CONFLICT', `alert ${id} is already closed`);
      await recordAudit(trx, actorOf(p, ip), { action: 'close', entity: 'alert', entityId: id, orgUnitId: Number(before.org_unit_id), before: { status: before.status }, after: { status: 'closed', ...clean } });
    });
    return this.get(p, id);
  }

  /** A run by hand covers the user's own subtree and is audited. */
  async runByHand(p: Principal, ip: string | null, day: string | undefined): Promise<RunResult> {
    const result = await this.runRules({ day: day ?? (await this.defaultDay()), scopePath: p.orgPath });
    await recordAudit(this.db, actorOf(p, ip), { action: 'run', entity: 'alert_rules', orgUnitId: p.orgUnitId, after: { period: result.period, raised: result.raised } });
    return result;
  }
}

/** A customer a rule found, with the episode that keys his alert. */
type Finding = { c: CustomerFacts; episode: string; detail: unknown };
type Raise = (kind: AlertKind, found: Finding[]) => Promise<void>;
