// Churn and anomaly alerts: the rules of src/domain/anomaly-rules.ts and decline-rule.ts run over the
// archive as of a night (nightly, or by hand for a subtree), each lapse they find becomes one task for
// whoever looks after the customer, and the queue is worked through by calling, finding the reason and
// recording what was done — unless the customer comes back first, which resolves the alert by itself.
//
// As of a night: every rule reads only what was bought up to and including that day. The cadence
// columns are the customers' state on file; those who bought after the night (a run for an earlier
// day, or a sale after midnight before the nightly run) get their visits up to it from their rows,
// and those who had not bought yet are left out. The decline rule reads complete months before the
// night's month, the model rule fits and scores the same as-of histories and reuses only fits made
// for nights up to it.
import { anyWebhookFor, emitAlertEvents, emitWebhookEvent } from '../webhooks/webhook-events.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { engineOf, type Engine } from '../../db/dialect.js';
import { readerOf } from '../../db/replica.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { AppError } from '../../errors.js';
import { greetingOf } from '../../../domain/customer-profile.js';
import type { AnomalyPolicy } from '../../../domain/policies.js';
import { meanIntervalDays } from '../../../domain/business-day.js';
import { isCalendarDay, monthEnd } from '../../../domain/day-arithmetic.js';
import {
  ABSENCE_KINDS,
  MAX_CUSTOMERS_TO_FIT,
  evenSample,
  addDays,
  cadenceFinding,
  cadenceLastDayBefore,
  modelFinding,
  rfmOfCadence,
  type AlertKind,
  type ModelFit,
  type SkipReason,
} from '../../../domain/anomaly-rules.js';
import {
  declineFinding,
  declineMonthsOf,
  declineRecovered,
  type DeclineFinding,
} from '../../../domain/decline-rule.js';
import type { RfmTriplet } from '../../../domain/churn-models/rfm.js';
import { currentPolicy } from '../policies/policies.service.js';
import { recordAudit } from '../audit/audit.service.js';
import { dayIn } from '../../jobs/job-runner.js';
import { ChurnPool, type FitOutcome } from './fit-pool.js';
import { markFollowedUp } from '../ownership/ownership.service.js';
import {
  alertsQueries as q,
  type CustomerFacts,
  type ListFilter,
  type NewAlert,
  type OpenAlert,
  type Resolved,
} from './alerts.queries.js';

export interface RunOptions {
  /** The night: data up to and including this day ('YYYY-MM-DD'); the rules judge as of the next morning. */
  day: string;
  /** Only customers under this org path (a manual run covers the user's own subtree). */
  scopePath?: string;
  /** Judge and count only: no alert, resolution, score or fit is written. */
  dryRun?: boolean;
}

export interface SkippedBranch {
  orgUnitId: number;
  name: string;
  /** Customers with a history in the branch. */
  customers: number;
  reason: SkipReason;
  /** The policy's minimum (too_few_customers), or why the fit failed. */
  minimum?: number;
  error?: string;
}

export interface RunResult {
  period: string;
  today: string;
  dryRun: boolean;
  /** New alerts (in a dry run: those that would be new). */
  raised: Record<AlertKind, number>;
  /** Findings about a customer who already has an open alert. */
  alreadyOpen: number;
  /** Findings whose lapse already had an alert, closed by a person or resolved. */
  alreadyClosed: number;
  /** Open alerts that ended by themselves in this run: a purchase already on file, a month back at his volume. */
  resolved: { returned: number; recovered: number };
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
  phaseSeconds: {
    read: number;
    cadence: number;
    decline: number;
    modelFit: number;
    modelScore: number;
    /** Of modelScore, writing the scores. */
    modelWrite: number;
    /** Opening the new alerts' work items. */
    work: number;
    /** Before the pass: the branches' members, and the samples of those to be fitted. */
    sample: number;
  };
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
export const SAMPLE_OVERDRAW = 2;

interface StartedFits {
  pool: ChurnPool;
  outcomes: Map<number, Promise<FitOutcome>>;
}

/** Findings of the nightly pass are inserted this many at a time (per rule). */
const RAISE_BATCH = 20_000;

/** Below this many customers to model, fitting and scoring stay in the main thread. */
export const THREADED_FROM_CUSTOMERS = 20_000;

/** Seconds since a Date.now() mark, to a tenth. */
const secondsSince = (mark: number) => Math.round((Date.now() - mark) / 100) / 10;

/** The unit ids of an org path, top first. */
const nums = (path: string) => path.split('/').filter(Boolean).map(Number);

function toAlert(r: AlertRow) {
  return {
    id: Number(r.id),
    kind: r.kind as AlertKind,
    episode: r.episode,
    status: r.status as 'open' | 'closed' | 'resolved',
    detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : {},
    openedAt: r.opened_at,
    closedAt: r.closed_at,
    closedByName: r.closed_by_name,
    contactMade: r.contact_made,
    reasonFound: r.reason_found,
    actionTaken: r.action_taken,
    lapse: r.lapse,
    resolution: r.resolution as 'returned' | 'recovered' | null,
    resolvedAt: r.resolved_at,
    resolvedDay: r.resolved_day,
    resolvedTxnId: r.resolved_txn_id === null ? null : Number(r.resolved_txn_id),
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
  /**
   * The nightly pass's reads of the archive (customers, their visits, monthly figures, the fitting
   * samples): the read replica when DATABASE_READ_URL is set. Alerts, fits and scores, and what is
   * read to decide on them (open alerts, recent fits), stay on the primary.
   */
  private readonly read: Kysely<Database>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.read = readerOf(db);
  }

  private get engine(): Engine {
    return engineOf(this.db);
  }

  /** Yesterday in the company's time zone: the last day whose data is complete. */
  async defaultDay(): Promise<string> {
    return addDays(dayIn(this.now(), await q.companyTimeZone(this.db)), -1);
  }

  /** Run the three rules as of a night; a lapse alerted before is not alerted again. */
  async runRules(opts: RunOptions): Promise<RunResult> {
    const started = Date.now();
    const day = opts.day;
    const today = addDays(day, 1);
    const dry = opts.dryRun ?? false;
    const scopePath = opts.scopePath ?? '/';
    const policy = (await currentPolicy(this.db, 'anomaly')).body;
    const assigner = new Assigner(await q.stationManagers(this.db));
    const result: RunResult = {
      period: day,
      today,
      dryRun: dry,
      raised: { cadence: 0, decline: 0, model: 0 },
      alreadyOpen: 0,
      alreadyClosed: 0,
      resolved: { returned: 0, recovered: 0 },
      fittedBranches: 0,
      skippedBranches: [],
      scoredCustomers: 0,
      reusedFits: 0,
      seconds: 0,
      phaseSeconds: { read: 0, cadence: 0, decline: 0, modelFit: 0, modelScore: 0, modelWrite: 0, work: 0, sample: 0 },
    };
    const openedAt = this.now().toISOString();
    // A dry run keeps the one-alert-per-customer rule with the customers it would have alerted.
    const wouldRaise = new Set<number>();

    const raise: Raise = async (kind, found) => {
      if (found.length === 0) return;
      const alerts: NewAlert[] = found.map(({ c, episode, detail }) => ({
        customerId: c.id,
        orgUnitId: c.org_unit_id,
        kind,
        lapse: episode,
        assigneeUserId: assigner.of(c),
        detail: JSON.stringify(detail),
      }));
      const key = (a: NewAlert) => `${a.customerId}|${a.lapse}`;
      let inserted: Set<string>;
      let blocking: Awaited<ReturnType<typeof q.blocking>> | null = null;
      if (dry) {
        blocking = await q.blocking(
          this.db,
          this.engine,
          alerts.map((a) => a.customerId),
        );
        inserted = new Set();
        for (const a of alerts) {
          if (blocking.open.has(a.customerId) || blocking.byLapse.has(key(a)) || wouldRaise.has(a.customerId)) continue;
          wouldRaise.add(a.customerId);
          inserted.add(key(a));
        }
      } else {
        inserted = await q.insertAlerts(this.db, this.engine, alerts, openedAt);
      }
      result.raised[kind] += inserted.size;
      const rest = alerts.filter((a) => !inserted.has(key(a)));
      if (rest.length > 0) {
        blocking ??= await q.blocking(
          this.db,
          this.engine,
          rest.map((a) => a.customerId),
        );
        for (const a of rest) {
          const status = blocking.byLapse.get(key(a));
          if (status !== undefined && status !== 'open') result.alreadyClosed++;
          else result.alreadyOpen++;
        }
      }
      // A run for an earlier night finds absences the customer has ended since: the purchase is on
      // file already, so the alert is resolved by it at once (the ingest resolved what was open then).
      if (!dry && ABSENCE_KINDS.includes(kind)) {
        const back = found.filter(
          (f) =>
            inserted.has(`${f.c.id}|${f.episode}`) &&
            f.c.last_visit_day_on_file !== null &&
            f.c.last_visit_day_on_file > day,
        );
        if (back.length > 0) {
          const ids = back.map((f) => f.c.id);
          const firsts = await q.firstPurchasesAfter(this.db, this.engine, ids, day);
          const rows: Resolved[] = [];
          for (const a of await q.openAlertsOf(this.db, this.engine, ids)) {
            const first = firsts.get(a.customerId);
            if (first && a.kind === kind && first.day > a.lapse)
              rows.push([a.id, 'returned', openedAt, first.day, first.txnId]);
          }
          result.resolved.returned += await q.resolve(this.db, this.engine, rows);
        }
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
    const sampling = Date.now();
    const recent = await this.recentFits(day);
    const fits = await this.startFits(policy, units, groupOf, scopePath, day, recent);
    result.phaseSeconds.sample = (Date.now() - sampling) / 1000;
    try {
      const cadenceBefore = cadenceLastDayBefore(policy, today);
      const months = declineMonthsOf(policy, today);
      const baselineFrom = `${months[0]!}-01`;
      const lastMonth = months.at(-1)!;
      const lastMonthFrom = `${lastMonth}-01`;
      let mark = Date.now();
      for (let after = 0; ;) {
        const onFile = await q.visitedCustomers(this.read, this.engine, scopePath, after);
        if (onFile.length === 0) break;
        after = onFile.at(-1)!.id;
        const chunk = await this.asOf(onFile, day);
        // Open alerts of the chunk's customers: a decline may have recovered.
        const open = await q.openAlertsInRange(this.db, onFile[0]!.id, after);
        result.phaseSeconds.read += (Date.now() - mark) / 1000;

        mark = Date.now();
        const overdue: Finding[] = [];
        const overdueIds = new Set<number>();
        for (const c of chunk) {
          if (
            c.visit_count < policy.minVisits ||
            c.usual_interval_days === null ||
            c.last_visit_day === null ||
            c.last_visit_day >= cadenceBefore
          )
            continue;
          const f = cadenceFinding(
            policy,
            { visitCount: c.visit_count, usualIntervalDays: c.usual_interval_days, lastVisitDay: c.last_visit_day },
            today,
          );
          if (f) {
            overdue.push({ c, episode: f.episode, detail: f });
            overdueIds.add(c.id);
          }
        }
        result.phaseSeconds.cadence += (Date.now() - mark) / 1000;

        mark = Date.now();
        // A baseline needs purchases before the last month, and a decline purchases in the baseline;
        // a customer the cadence rule found tonight is away, not declining. Open declines are read
        // too, to see whether the last month brought him back.
        const openDeclines = open.filter((a) => a.kind === 'decline');
        const recheck = new Set(openDeclines.map((a) => a.customerId));
        const candidates = chunk.filter(
          (c) =>
            recheck.has(c.id) ||
            (!overdueIds.has(c.id) &&
              c.visit_count >= policy.minVisits &&
              c.first_visit_day !== null &&
              c.first_visit_day < lastMonthFrom &&
              c.last_visit_day !== null &&
              c.last_visit_day >= baselineFrom),
        );
        const figures = await q.monthlyFigures(
          this.read,
          this.engine,
          candidates.map((c) => c.id),
          months,
          { share: policy.declineShare, keep: recheck },
        );
        const recovered = recoveries(openDeclines, figures, lastMonth, openedAt);
        if (recovered.length > 0)
          result.resolved.recovered += dry ? recovered.length : await q.resolve(this.db, this.engine, recovered);
        const falling: Finding[] = [];
        for (const c of candidates) {
          if (overdueIds.has(c.id)) continue;
          const f = declineFinding(policy, figures.get(c.id) ?? new Map(), today);
          if (f) falling.push({ c, episode: f.episode, detail: f });
        }
        result.phaseSeconds.decline += (Date.now() - mark) / 1000;

        // A finding about the lapse a customer's open alert is about changes nothing: counted here
        // rather than sent to be refused by the insert (on an ordinary night most of the cadence
        // rule's findings are such, 274,646 of 282,100 at 1,000,000 customers).
        const openLapse = new Map(open.map((a) => [a.customerId, a.lapse]));
        const fresh = (found: Finding[]) =>
          found.filter((f) => {
            if (openLapse.get(f.c.id) !== f.episode) return true;
            result.alreadyOpen++;
            return false;
          });

        mark = Date.now();
        await raiseBatched('cadence', fresh(overdue));
        result.phaseSeconds.cadence += (Date.now() - mark) / 1000;
        mark = Date.now();
        await raiseBatched('decline', fresh(falling));
        result.phaseSeconds.decline += (Date.now() - mark) / 1000;

        mark = Date.now();
        for (const c of chunk) {
          const t = rfmOfCadence(
            { visitCount: c.visit_count, firstVisitDay: c.first_visit_day, lastVisitDay: c.last_visit_day },
            today,
          );
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
      await this.model(policy, day, today, dry, unitById, groups, recent, fits, raise, result);
    } finally {
      // The workers must not outlive the run, whatever happens in it.
      await fits.pool.close();
    }
    if (!dry) {
      const mark = Date.now();
      await q.openAlertWork(this.db, openedAt);
      result.phaseSeconds.work = (Date.now() - mark) / 1000;
      if (await anyWebhookFor(this.db, 'alert.opened')) {
        const opened = await this.db.selectFrom('alert').select('id').where('opened_at', '=', openedAt).execute();
        await emitAlertEvents(
          this.db,
          'alert.opened',
          opened.map((a) => a.id),
        );
      }
    }
    for (const k of Object.keys(result.phaseSeconds) as (keyof RunResult['phaseSeconds'])[])
      result.phaseSeconds[k] = Math.round(result.phaseSeconds[k] * 10) / 10;
    result.seconds = secondsSince(started);
    return result;
  }

  /**
   * The customers as they stood at the end of `day`: those who bought later get their visit days up
   * to it from their rows; those who had not bought by then are left out.
   */
  async asOf(customers: CustomerFacts[], day: string): Promise<CustomerFacts[]> {
    const later = customers.filter((c) => c.last_visit_day !== null && c.last_visit_day > day);
    if (later.length === 0) return customers;
    const visits = await q.visitsAsOf(
      this.read,
      this.engine,
      later.map((c) => c.id),
      day,
    );
    const out: CustomerFacts[] = [];
    for (const c of customers) {
      if (c.last_visit_day === null || c.last_visit_day <= day) {
        out.push(c);
        continue;
      }
      const v = visits.get(c.id);
      if (!v) continue;
      out.push({
        ...c,
        visit_count: v.n,
        first_visit_day: v.first,
        last_visit_day: v.last,
        usual_interval_days: meanIntervalDays(v.first, v.last, v.n),
      });
    }
    return out;
  }

  private async model(
    policy: AnomalyPolicy,
    period: string,
    today: string,
    dry: boolean,
    unitById: Map<number, { name: string }>,
    groups: Map<number, { c: CustomerFacts; t: RfmTriplet }[]>,
    recent: Map<number, ModelFit>,
    fits: StartedFits,
    raise: Raise,
    result: RunResult,
  ): Promise<void> {
    const mark = Date.now();
    const scoredAt = this.now().toISOString();
    const branches = [...groups]
      .sort((a, b) => a[0] - b[0])
      .filter(([unitId, members]) => {
        if (members.length >= policy.modelMinCustomers) return true;
        result.skippedBranches.push({
          orgUnitId: unitId,
          name: unitById.get(unitId)?.name ?? String(unitId),
          customers: members.length,
          reason: 'too_few_customers',
          minimum: policy.modelMinCustomers,
        });
        return false;
      });
    const pool = fits.pool;
    // What is left of the fitting once the pass is over.
    const fitStarted = Date.now();
    const fitted = new Map(
      await Promise.all([...fits.outcomes].map(async ([unitId, outcome]) => [unitId, await outcome] as const)),
    );
    const fitMs = Date.now() - fitStarted;
    const plans: { members: { c: CustomerFacts; t: RfmTriplet }[]; model: ModelFit }[] = [];
    for (const [unitId, members] of branches) {
      const name = unitById.get(unitId)?.name ?? String(unitId);
      let chosen = recent.get(unitId);
      if (chosen) result.reusedFits++;
      else {
        const outcome = fitted.get(unitId) ?? { error: 'not sampled' };
        if ('error' in outcome) {
          result.skippedBranches.push({
            orgUnitId: unitId,
            name,
            customers: members.length,
            reason: 'fit_failed',
            error: outcome.error,
          });
          continue;
        }
        const fit = outcome.fit;
        if (!dry) {
          for (const f of fit.fits) {
            await q.saveFit(this.db, {
              orgUnitId: unitId,
              model: f.model,
              period,
              params: JSON.stringify({
                ...f.params,
                converged: f.converged,
                fittedOn: fit.fittedOn,
                chosen: f.model === fit.chosen.model,
              }),
              logLikelihood: f.logLikelihood,
              customers: members.length,
              fittedAt: scoredAt,
            });
          }
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
      const found: Finding[] = [];
      for (const [i, { c }] of members.entries()) {
        const s = { pAlive: out[which[i]! * 2]!, expected30d: out[which[i]! * 2 + 1]! };
        if (!Number.isFinite(s.pAlive) || !Number.isFinite(s.expected30d)) continue;
        scores.push([c.id, model.model, s.pAlive, s.expected30d, scoredAt]);
        const f = modelFinding(
          policy,
          { visitCount: c.visit_count, firstVisitDay: c.first_visit_day, lastVisitDay: c.last_visit_day },
          model.model,
          s,
          today,
        );
        if (f)
          found.push({
            c,
            episode: f.episode,
            detail: {
              ...f,
              lastVisitDay: c.last_visit_day,
              visitCount: c.visit_count,
              usualIntervalDays: c.usual_interval_days === null ? null : Math.round(c.usual_interval_days * 10) / 10,
            },
          });
      }
      const writing = Date.now();
      if (!dry) await q.upsertScores(this.db, this.engine, scores);
      result.phaseSeconds.modelWrite += (Date.now() - writing) / 1000;
      result.scoredCustomers += scores.length;
      await raise('model', found);
    }
    result.phaseSeconds.modelFit = fitMs / 1000;
    result.phaseSeconds.modelScore = (Date.now() - mark - fitMs) / 1000;
  }

  /**
   * Start fitting every group (branch) in scope without a recent fit, on an even sample by id of its
   * live customers who had bought by the night: ids from the unit index, then SAMPLE_OVERDRAW times
   * the sample's rows by id as of the night, those with a history kept and evenly thinned to
   * MAX_CUSTOMERS_TO_FIT.
   */
  private async startFits(
    policy: AnomalyPolicy,
    units: { id: number | string; path: string }[],
    groupOf: (path: string) => number,
    scopePath: string,
    day: string,
    recent: Map<number, ModelFit>,
  ): Promise<StartedFits> {
    const today = addDays(day, 1);
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
      const ids = await q.memberIds(this.read, this.engine, unitIds);
      customers += ids.length;
      if (recent.has(g) || ids.length < policy.modelMinCustomers) continue;
      const rows = await this.asOf(
        await q.customersById(this.read, this.engine, evenSample(ids, MAX_CUSTOMERS_TO_FIT * SAMPLE_OVERDRAW)),
        day,
      );
      const histories = rows
        .map((c) =>
          rfmOfCadence(
            { visitCount: c.visit_count, firstVisitDay: c.first_visit_day, lastVisitDay: c.last_visit_day },
            today,
          ),
        )
        .filter((t): t is RfmTriplet => t !== null);
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
      out.set(r.orgUnitId, {
        model: r.model as ModelFit['model'],
        params: params as unknown as ModelFit['params'],
        logLikelihood: r.logLikelihood ?? NaN,
        converged: converged === true,
      });
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
    const clean: CloseBody = {
      contactMade: body.contactMade.trim(),
      reasonFound: body.reasonFound.trim(),
      actionTaken: body.actionTaken.trim(),
    };
    for (const [field, value] of Object.entries(clean))
      if (!value) throw new AppError('VALIDATION_FAILED', `body.${field} must not be empty`, `body.${field}`);
    await this.db.transaction().execute(async (trx) => {
      const before = await q.one(trx, p, id);
      if (!before) throw new AppError('NOT_FOUND', `alert ${id} not found`);
      const at = this.now().toISOString();
      if (!(await q.close(trx, id, p.userId, at, clean)))
        throw new AppError('CONFLICT', `alert ${id} is already closed`);
      // Closing the alert is a follow-up when the customer's owner closes it (the public pool's window moves on).
      await markFollowedUp(trx, Number(before.customer_id), p.userId, at);
      await emitWebhookEvent(trx, {
        event: 'alert.closed',
        orgUnitId: Number(before.org_unit_id),
        data: { alertId: id, customerId: Number(before.customer_id), ...clean },
      });
      await recordAudit(trx, actorOf(p, ip), {
        action: 'close',
        entity: 'alert',
        entityId: id,
        orgUnitId: Number(before.org_unit_id),
        before: { status: before.status },
        after: { status: 'closed', ...clean },
      });
    });
    return this.get(p, id);
  }

  /** A run by hand covers the user's own subtree and is audited; a night before yesterday reads only what was bought up to it. */
  async runByHand(p: Principal, ip: string | null, day: string | undefined, dryRun = false): Promise<RunResult> {
    const yesterday = await this.defaultDay();
    if (day !== undefined && !isCalendarDay(day))
      throw new AppError('VALIDATION_FAILED', 'date is not a day of the calendar', 'body.date', { rule: 'not_a_day' });
    if (day !== undefined && day > yesterday)
      throw new AppError('VALIDATION_FAILED', `date must be yesterday (${yesterday}) or earlier`, 'body.date', {
        rule: 'not_past',
      });
    const result = await this.runRules({ day: day ?? yesterday, scopePath: p.orgPath, dryRun });
    const after = { period: result.period, dryRun, raised: result.raised, resolved: result.resolved };
    await recordAudit(this.db, actorOf(p, ip), { action: 'run', entity: 'alert_rules', orgUnitId: p.orgUnitId, after });
    return result;
  }

  /** Alerts opened in the last `days` days in the user's subtree, per unit: still open, closed by hand, resolved by themselves. */
  async summary(p: Principal, days: number) {
    const since = new Date(this.now().getTime() - days * 86_400_000).toISOString();
    return { since, units: await q.summary(this.db, p, since) };
  }

  /**
   * The last nightly run, as far as it concerns the user: its counts, and the branches the model rule
   * left out (his own branch or those below him) with the reason.
   */
  async latestRun(p: Principal) {
    const row = await q.latestRun(this.db, 'nightly-alerts');
    if (!row) return null;
    const detail = JSON.parse(row.detail ?? '{}') as Partial<RunResult>;
    const paths = new Map((await q.orgUnits(this.db)).map((u) => [Number(u.id), u.path]));
    const concerns = (unitId: number) => {
      const path = paths.get(unitId) ?? '';
      return path.startsWith(p.orgPath) || p.orgPath.startsWith(path);
    };
    return {
      period: row.period,
      finishedAt: row.finished_at,
      raised: detail.raised ?? { cadence: 0, decline: 0, model: 0 },
      resolved: detail.resolved ?? { returned: 0, recovered: 0 },
      fittedBranches: detail.fittedBranches ?? 0,
      skippedBranches: (detail.skippedBranches ?? []).filter((b) => concerns(b.orgUnitId)),
    };
  }
}

/** A customer a rule found, with the lapse that keys his alert (its episode). */
type Finding = { c: CustomerFacts; episode: string; detail: unknown };

/**
 * Open decline alerts whose customer's last complete month is back at his volume: the share of the
 * baseline the alert was raised against, in a month after the ones it judged.
 */
export function recoveries(
  open: OpenAlert[],
  figures: Map<number, Map<string, { volumeMl: number }>>,
  lastMonth: string,
  at: string,
): Resolved[] {
  const out: Resolved[] = [];
  for (const a of open) {
    if (a.kind !== 'decline' || !a.detail) continue;
    const d = JSON.parse(a.detail) as Partial<DeclineFinding>;
    if (d.baselineMl === undefined || d.threshold === undefined || !d.months?.length) continue;
    if (!(lastMonth > d.months.at(-1)!.month)) continue;
    const volume = figures.get(a.customerId)?.get(lastMonth)?.volumeMl ?? 0;
    if (declineRecovered({ baselineMl: d.baselineMl, threshold: d.threshold }, volume))
      out.push([a.id, 'recovered', at, monthEnd(lastMonth), null]);
  }
  return out;
}
type Raise = (kind: AlertKind, found: Finding[]) => Promise<void>;
