// Back-testing a policy: the nightly rules replayed night by night over the archive, writing nothing,
// to see what a policy would have raised and how it turned out — before it is switched on.
//
// The replay reads the archive once: the customers of the scope, each one's visits up to the night
// before the first, his purchases (per day) after it and his monthly figures; then each night it
// applies that day's purchases and runs the same rules as the nightly run on the same as-of facts,
// with the same lifecycle (a purchase ends an absence, a month back at his volume ends a decline, one
// open alert per customer, one alert per lapse) and the same model fits (a branch refitted every
// REFIT_DAYS nights on the same sample). Fed the nights one by one, the nightly run raises the same
// alerts (test/alerts/backtest.integration.test.ts). The replay starts with no alert open: it shows
// the policy as if it had been in force from the first night.
//
// Each alert is then judged by what the customer did next: came back within the follow-up days (a
// false alert), later, never through the end of the data (a true one), or not known yet.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { engineOf, type Engine } from '../../db/dialect.js';
import { AppError } from '../../errors.js';
import type { AnomalyPolicy } from '../../../domain/policies.js';
import { dayNumber } from '../../../domain/business-day.js';
import { addDays, daysBetween, isCalendarDay, monthEnd } from '../../../domain/day-arithmetic.js';
import {
  MAX_CUSTOMERS_TO_FIT,
  cadenceFinding,
  evenSample,
  modelJudges,
  purchaseResolves,
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
  type MonthFigures,
} from '../../../domain/decline-rule.js';
import {
  declineBackDay,
  nightsOf,
  ruleFigures,
  verdictOf,
  type ReplayAlert,
  type RuleFigures,
  type Verdict,
} from '../../../domain/backtest.js';
import type { RfmTriplet } from '../../../domain/churn-models/rfm.js';
import { currentPolicy } from '../policies/policies.service.js';
import { dayIn } from '../../jobs/job-runner.js';
import { ChurnPool } from './fit-pool.js';
import { alertsQueries as q } from './alerts.queries.js';
import { REFIT_DAYS, SAMPLE_OVERDRAW, THREADED_FROM_CUSTOMERS } from './alerts.service.js';

/** The longest back-test, in nights (a quarter): the replay holds the scope's purchases in memory. */
export const BACKTEST_MAX_NIGHTS = 92;
export const DEFAULT_FOLLOW_UP_DAYS = 30;
export const MAX_FOLLOW_UP_DAYS = 180;

export interface BacktestOptions {
  from: string;
  to: string;
  /** Only customers under this org path (the user's own subtree). */
  scopePath?: string;
  /** The policy to try; the one in force when absent. */
  policy?: AnomalyPolicy;
  followUpDays?: number;
}

export interface BacktestAlert extends ReplayAlert {
  verdict: Verdict;
  /** The first day he was back (a purchase; after a decline, his usual rate reached). */
  backDay: string | null;
  /** The day the alert would have resolved itself within the replay, if it did. */
  resolvedDay: string | null;
}

export interface StationFigures {
  orgUnitId: number;
  name: string;
  path: string;
  rules: RuleFigures[];
}

/** A branch the model rule left out on some nights, and why. */
export interface BacktestSkip {
  orgUnitId: number;
  name: string;
  reason: SkipReason;
  /** Nights it was left out for this reason, the first and last of them. */
  nights: number;
  firstNight: string;
  lastNight: string;
  /** Its customers with a history on the last of them. */
  customers: number;
  minimum?: number;
}

export interface BacktestReport {
  from: string;
  to: string;
  nights: number;
  followUpDays: number;
  /** The last day with sales on file: verdicts look no further. */
  lastDataDay: string | null;
  scopePath: string;
  policy: AnomalyPolicy;
  /** Customers of the scope who had bought by the last night. */
  customers: number;
  rules: RuleFigures[];
  /** Per customer's unit (his station), units with alerts only, in tree order. */
  stations: StationFigures[];
  model: { fits: number; scored: number; skipped: BacktestSkip[] };
  seconds: number;
  phaseSeconds: { read: number; rules: number; modelFit: number; modelScore: number };
}

/** One customer in the replay: his as-of visits, his purchases after the first night, his months. */
interface Member {
  id: number;
  unit: number;
  group: number;
  /** Visit days up to the current night; first and last as day numbers (−1: none yet). */
  count: number;
  first: number;
  last: number;
  /** Purchase days after the night before the first (day numbers, ascending) and their volumes. */
  days: number[];
  volumes: number[];
  months: Map<string, MonthFigures>;
}

interface OpenReplay extends BacktestAlert {
  member: Member;
  /** A decline's last judged month: recovery is looked for in later ones. */
  judgedMonth?: string;
}

const secondsSince = (mark: number) => Math.round((Date.now() - mark) / 100) / 10;
const nums = (path: string) => path.split('/').filter(Boolean).map(Number);
const round1 = (v: number) => Math.round(v * 10) / 10;

export class BacktestService {
  private running = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private get engine(): Engine {
    return engineOf(this.db);
  }

  /** The nights must lie before today (company time zone), in order, at most BACKTEST_MAX_NIGHTS of them. */
  async checkRange(from: string, to: string, followUpDays: number): Promise<void> {
    for (const [field, day] of [
      ['body.from', from],
      ['body.to', to],
    ] as const) {
      if (!isCalendarDay(day))
        throw new AppError('VALIDATION_FAILED', `${field} is not a day of the calendar`, field, { rule: 'not_a_day' });
    }
    const today = dayIn(this.now(), await q.companyTimeZone(this.db));
    if (to < from)
      throw new AppError('VALIDATION_FAILED', 'to must not come before from', 'body.to', { rule: 'to_before_from' });
    if (to >= today)
      throw new AppError('VALIDATION_FAILED', `to must be before today (${today})`, 'body.to', {
        rule: 'not_past',
        today,
      });
    if (daysBetween(from, to) + 1 > BACKTEST_MAX_NIGHTS) {
      throw new AppError('VALIDATION_FAILED', `at most ${BACKTEST_MAX_NIGHTS} nights`, 'body.from', {
        rule: 'too_many_nights',
        max: BACKTEST_MAX_NIGHTS,
      });
    }
    if (!Number.isInteger(followUpDays) || followUpDays < 1 || followUpDays > MAX_FOLLOW_UP_DAYS) {
      throw new AppError('VALIDATION_FAILED', `followUpDays must be 1–${MAX_FOLLOW_UP_DAYS}`, 'body.followUpDays');
    }
  }

  /** The report (a request at a time per process: a replay holds a quarter's purchases in memory). */
  async run(opts: BacktestOptions): Promise<BacktestReport> {
    await this.checkRange(opts.from, opts.to, opts.followUpDays ?? DEFAULT_FOLLOW_UP_DAYS);
    if (this.running) throw new AppError('CONFLICT', 'a back-test is running; try again when it has finished');
    this.running = true;
    try {
      return (await this.replay(opts)).report;
    } finally {
      this.running = false;
    }
  }

  /** The replay: its report and every alert it raised with its verdict. */
  async replay(opts: BacktestOptions): Promise<{ report: BacktestReport; alerts: BacktestAlert[] }> {
    const started = Date.now();
    const scopePath = opts.scopePath ?? '/';
    const policy = opts.policy ?? (await currentPolicy(this.db, 'anomaly')).body;
    const followUpDays = opts.followUpDays ?? DEFAULT_FOLLOW_UP_DAYS;
    const phase = { read: 0, rules: 0, modelFit: 0, modelScore: 0 };
    const before = addDays(opts.from, -1);
    const nights = nightsOf(opts.from, opts.to);

    // ---- read the archive once ------------------------------------------------------------------
    let mark = Date.now();
    const units = await q.orgUnits(this.db);
    const unitById = new Map(units.map((u) => [Number(u.id), u]));
    const groupOf = (path: string): number => {
      const ids = nums(path);
      return ids.find((id) => unitById.get(id)?.kind_code === 'branch') ?? ids[0]!;
    };
    const firstMonth = declineMonthsOf(policy, opts.from)[0]!;
    const months: string[] = [];
    for (let m = firstMonth; m <= opts.to.slice(0, 7); m = nextMonth(m)) months.push(m);
    const members: Member[] = [];
    for (let after = 0; ;) {
      const onFile = await q.visitedCustomers(this.db, this.engine, scopePath, after);
      if (onFile.length === 0) break;
      after = onFile.at(-1)!.id;
      const chunk = onFile.filter((c) => c.first_visit_day !== null && c.first_visit_day <= opts.to);
      if (chunk.length === 0) continue;
      // Customers who bought after the night before the first: their visits up to it from their rows,
      // their purchases after it day by day.
      const later = chunk.filter((c) => c.last_visit_day !== null && c.last_visit_day > before).map((c) => c.id);
      const [asOf, purchases, figures] = await Promise.all([
        q.visitsAsOf(this.db, this.engine, later, before),
        q.dailyPurchases(this.db, this.engine, later, before),
        q.monthlyFigures(
          this.db,
          this.engine,
          chunk.map((c) => c.id),
          months,
        ),
      ]);
      const byCustomer = new Map<number, { days: number[]; volumes: number[] }>();
      for (const p of purchases) {
        let e = byCustomer.get(p.customerId);
        if (!e) byCustomer.set(p.customerId, (e = { days: [], volumes: [] }));
        e.days.push(dayNumber(p.day));
        e.volumes.push(p.volumeMl);
      }
      for (const c of chunk) {
        const isLater = c.last_visit_day !== null && c.last_visit_day > before;
        const v = isLater ? asOf.get(c.id) : { n: c.visit_count, first: c.first_visit_day!, last: c.last_visit_day! };
        const e = byCustomer.get(c.id);
        members.push({
          id: c.id,
          unit: c.org_unit_id,
          group: groupOf(c.path),
          count: v?.n ?? 0,
          first: v ? dayNumber(v.first) : -1,
          last: v ? dayNumber(v.last) : -1,
          days: e?.days ?? [],
          volumes: e?.volumes ?? [],
          months: new Map(figures.get(c.id) ?? []),
        });
      }
    }
    const lastDataDay = await q.lastDataDay(this.db);
    // The live customers of each group's units, for the fit samples (drawn as the nightly run draws them).
    const unitsOf = new Map<number, number[]>();
    for (const u of units) {
      if (!u.path.startsWith(scopePath)) continue;
      const g = groupOf(u.path);
      unitsOf.set(g, [...(unitsOf.get(g) ?? []), Number(u.id)]);
    }
    const groupIds = new Map<number, number[]>();
    let live = 0;
    for (const [g, unitIds] of [...unitsOf].sort((a, b) => a[0] - b[0])) {
      const ids = await q.memberIds(this.db, this.engine, unitIds);
      live += ids.length;
      groupIds.set(g, ids);
    }
    phase.read += (Date.now() - mark) / 1000;

    // ---- the nights -----------------------------------------------------------------------------
    const byId = new Map(members.map((m) => [m.id, m]));
    const purchasesOn = new Map<number, Member[]>();
    for (const m of members) {
      for (const d of m.days) {
        const list = purchasesOn.get(d);
        if (list) list.push(m);
        else purchasesOn.set(d, [m]);
      }
    }
    const alerts: OpenReplay[] = [];
    const open = new Map<Member, OpenReplay>();
    const lapses = new Set<string>();
    const raise = (m: Member, kind: AlertKind, lapse: string, night: string, extra: Partial<OpenReplay>): boolean => {
      const key = `${m.id}|${lapse}`;
      if (open.has(m) || lapses.has(key)) return false;
      const a: OpenReplay = {
        customerId: m.id,
        orgUnitId: m.unit,
        kind,
        lapse,
        day: night,
        delayDays: null,
        verdict: 'undecided',
        backDay: null,
        resolvedDay: null,
        member: m,
        ...extra,
      };
      lapses.add(key);
      open.set(m, a);
      alerts.push(a);
      return true;
    };
    const pool = new ChurnPool(live >= THREADED_FROM_CUSTOMERS ? undefined : 1);
    const fits = new Map<number, { night: number; model: ModelFit }>();
    const skipped: BacktestSkip[] = [];
    let fitCount = 0;
    let scoredCount = 0;
    let windowKey = '';
    let declines = new Map<Member, DeclineFinding | null>();
    try {
      for (const night of nights) {
        const n = dayNumber(night);
        const today = addDays(night, 1);
        mark = Date.now();
        // The day's purchases: visits move on, and a purchase after an absence ends its alert.
        for (const m of purchasesOn.get(n) ?? []) {
          m.count++;
          if (m.first < 0) m.first = n;
          m.last = n;
          const a = open.get(m);
          if (a && purchaseResolves(a, night)) {
            a.resolvedDay = night;
            open.delete(m);
          }
        }
        const window = declineMonthsOf(policy, today);
        const lastMonth = window.at(-1)!;
        if (window.join() !== windowKey) {
          windowKey = window.join();
          declines = new Map();
        }
        // A decline whose customer is back at his volume in a later month ends.
        for (const [m, a] of open) {
          if (a.kind !== 'decline' || !(lastMonth > a.judgedMonth!)) continue;
          if (
            declineRecovered(
              { baselineMl: a.baselineMl!, threshold: a.threshold! },
              m.months.get(lastMonth)?.volumeMl ?? 0,
            )
          ) {
            a.resolvedDay = monthEnd(lastMonth);
            open.delete(m);
          }
        }
        const cadenceBefore = dayNumber(today) - (policy.graceDays + 1);
        const lastMonthFrom = dayNumber(`${lastMonth}-01`);
        const baselineFrom = dayNumber(`${window[0]!}-01`);
        const overdue = new Set<Member>();
        for (const m of members) {
          if (m.count < policy.minVisits || m.last < 0 || m.last >= cadenceBefore) continue;
          const interval = (m.last - m.first) / (m.count - 1);
          const f = cadenceFinding(
            policy,
            { visitCount: m.count, usualIntervalDays: interval, lastVisitDay: dayText(m.last) },
            today,
          );
          if (!f) continue;
          overdue.add(m);
          raise(m, 'cadence', f.episode, night, { delayDays: round1(f.daysSince - interval) });
        }
        for (const m of members) {
          if (
            overdue.has(m) ||
            m.count < policy.minVisits ||
            m.first < 0 ||
            m.first >= lastMonthFrom ||
            m.last < baselineFrom
          )
            continue;
          let f = declines.get(m);
          if (f === undefined) declines.set(m, (f = declineFinding(policy, m.months, today)));
          if (f)
            raise(m, 'decline', f.episode, night, {
              baselineMl: f.baselineMl,
              threshold: f.threshold,
              judgedMonth: lastMonth,
            });
        }
        phase.rules += (Date.now() - mark) / 1000;
        await this.modelNight(
          policy,
          night,
          n,
          members,
          byId,
          groupIds,
          unitById,
          pool,
          fits,
          skipped,
          open,
          lapses,
          raise,
          phase,
          (k) => {
            if (k === 'fit') fitCount++;
            else scoredCount++;
          },
        );
      }
    } finally {
      await pool.close();
    }

    // ---- verdicts and figures -------------------------------------------------------------------
    mark = Date.now();
    const lastDay = lastDataDay ?? opts.to;
    const judged: BacktestAlert[] = alerts.map(({ member, judgedMonth: _judged, ...a }) => {
      const after = dayNumber(a.day);
      let backDay: string | null = null;
      if (a.kind === 'decline') {
        const days: { day: string; volumeMl: number }[] = [];
        member.days.forEach((d, i) => {
          if (d > after) days.push({ day: dayText(d), volumeMl: member.volumes[i]! });
        });
        backDay = declineBackDay(a, days, followUpDays);
      } else {
        const d = member.days.find((x) => x > after);
        backDay = d === undefined ? null : dayText(d);
      }
      return { ...a, backDay, verdict: verdictOf(a, backDay, lastDay, followUpDays) };
    });
    const figures = ruleFigures(judged.map((alert) => ({ alert, verdict: alert.verdict })));
    const byUnit = new Map<number, BacktestAlert[]>();
    for (const a of judged) byUnit.set(a.orgUnitId, [...(byUnit.get(a.orgUnitId) ?? []), a]);
    const stations = [...byUnit]
      .map(([orgUnitId, list]) => {
        const u = unitById.get(orgUnitId);
        return {
          orgUnitId,
          name: u?.name ?? String(orgUnitId),
          path: u?.path ?? '',
          rules: ruleFigures(list.map((alert) => ({ alert, verdict: alert.verdict }))),
        };
      })
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const report: BacktestReport = {
      from: opts.from,
      to: opts.to,
      nights: nights.length,
      followUpDays,
      lastDataDay,
      scopePath,
      policy,
      customers: members.length,
      rules: figures,
      stations,
      model: { fits: fitCount, scored: scoredCount, skipped },
      seconds: 0,
      phaseSeconds: {
        read: round1(phase.read),
        rules: round1(phase.rules + (Date.now() - mark) / 1000),
        modelFit: round1(phase.modelFit),
        modelScore: round1(phase.modelScore),
      },
    };
    report.seconds = secondsSince(started);
    return { report, alerts: judged };
  }

  /** The model rule's night: refit the branches due, score the customers it may alert, raise. */
  private async modelNight(
    policy: AnomalyPolicy,
    night: string,
    n: number,
    members: Member[],
    byId: Map<number, Member>,
    groupIds: Map<number, number[]>,
    unitById: Map<number, { name: string }>,
    pool: ChurnPool,
    fits: Map<number, { night: number; model: ModelFit }>,
    skipped: BacktestSkip[],
    open: Map<Member, OpenReplay>,
    lapses: Set<string>,
    raise: (m: Member, kind: AlertKind, lapse: string, night: string, extra: Partial<OpenReplay>) => boolean,
    phase: BacktestReport['phaseSeconds'],
    counted: (kind: 'fit' | 'score') => void,
  ): Promise<void> {
    const today = addDays(night, 1);
    const historyOf = (m: Member): RfmTriplet | null =>
      m.count < 1
        ? null
        : rfmOfCadence({ visitCount: m.count, firstVisitDay: dayText(m.first), lastVisitDay: dayText(m.last) }, today);
    // Members with a history as of the night, per group.
    const groups = new Map<number, { m: Member; t: RfmTriplet }[]>();
    for (const m of members) {
      const t = historyOf(m);
      if (!t) continue;
      const list = groups.get(m.group);
      if (list) list.push({ m, t });
      else groups.set(m.group, [{ m, t }]);
    }
    let mark = Date.now();
    const due: [number, Promise<Awaited<ReturnType<ChurnPool['fit']>>>][] = [];
    for (const [g, ids] of [...groupIds].sort((a, b) => a[0] - b[0])) {
      const fit = fits.get(g);
      if ((fit && n - fit.night < REFIT_DAYS) || ids.length < policy.modelMinCustomers) continue;
      const sample = evenSample(ids, MAX_CUSTOMERS_TO_FIT * SAMPLE_OVERDRAW)
        .map((id) => byId.get(id))
        .map((m) => (m ? historyOf(m) : null))
        .filter((t): t is RfmTriplet => t !== null);
      // As the nightly run: a group too small tonight is fitted but the fit not kept.
      if ((groups.get(g)?.length ?? 0) < policy.modelMinCustomers) continue;
      due.push([g, pool.fit(evenSample(sample, MAX_CUSTOMERS_TO_FIT))]);
    }
    for (const [g, outcome] of due) {
      const o = await outcome;
      if ('fit' in o) {
        fits.set(g, { night: n, model: o.fit.chosen });
        counted('fit');
      } else {
        fits.delete(g);
        skip(skipped, {
          night,
          orgUnitId: g,
          name: unitById.get(g)?.name ?? String(g),
          customers: groups.get(g)?.length ?? 0,
          reason: 'fit_failed',
        });
      }
    }
    phase.modelFit += (Date.now() - mark) / 1000;
    mark = Date.now();
    const scoring: Promise<void>[] = [];
    for (const [g, list] of [...groups].sort((a, b) => a[0] - b[0])) {
      if (list.length < policy.modelMinCustomers) {
        skip(skipped, {
          night,
          orgUnitId: g,
          name: unitById.get(g)?.name ?? String(g),
          customers: list.length,
          reason: 'too_few_customers',
          minimum: policy.modelMinCustomers,
        });
        continue;
      }
      const fit = fits.get(g);
      if (!fit) continue;
      // Only customers the rule may still alert: judged by the model, no open alert, the lapse not alerted yet.
      const judged = list.filter(
        ({ m }) =>
          !open.has(m) &&
          !lapses.has(`${m.id}|${dayText(m.last)}`) &&
          modelJudges(
            policy,
            { visitCount: m.count, firstVisitDay: dayText(m.first), lastVisitDay: dayText(m.last) },
            today,
          ),
      );
      if (judged.length === 0) continue;
      const histories = new Float64Array(judged.length * 3);
      judged.forEach(({ t }, i) => histories.set([t.x, t.tx, t.T], i * 3));
      scoring.push(
        pool.score(fit.model, histories).then((out) => {
          judged.forEach(({ m }, i) => {
            const pAlive = out[i * 2]!;
            if (!Number.isFinite(pAlive) || !Number.isFinite(out[i * 2 + 1]!)) return;
            counted('score');
            if (!(pAlive < policy.pAliveBelow)) return;
            const interval = m.count >= 2 ? (m.last - m.first) / (m.count - 1) : null;
            const delay = interval === null ? null : round1(n + 1 - m.last - interval);
            raise(m, 'model', dayText(m.last), night, { delayDays: delay });
          });
        }),
      );
    }
    await Promise.all(scoring);
    phase.modelScore += (Date.now() - mark) / 1000;
  }
}

const dayText = (n: number) => new Date(n * 86_400_000).toISOString().slice(0, 10);

/** Count a night a branch was left out, in its entry for the reason. */
function skip(
  list: BacktestSkip[],
  s: { night: string; orgUnitId: number; name: string; customers: number; reason: SkipReason; minimum?: number },
): void {
  const hit = list.find((x) => x.orgUnitId === s.orgUnitId && x.reason === s.reason);
  if (hit) {
    hit.nights++;
    hit.lastNight = s.night;
    hit.customers = s.customers;
    return;
  }
  const { night, ...rest } = s;
  list.push({ ...rest, nights: 1, firstNight: night, lastNight: night });
}

function nextMonth(month: string): string {
  const y = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7));
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}
