// Generated station histories whose truth is known, for back-tests (tests and bench/backtest.ts):
// regulars who keep coming (a steady interval, fill-ups a day early or late, ±10% monthly volume),
// churners who stop coming on a known day, decliners whose volume slides to a floor and stays
// there (a collapse that may tick up again), and casual buyers with irregular gaps. Deterministic
// per seed and customer.
import { addDays, daysBetween } from '../../src/domain/day-arithmetic.js';
import { createRng, sampleGamma, type Rng } from '../../src/domain/churn-models/simulate.js';

export type SimKind = 'regular' | 'churner' | 'decliner' | 'casual';

export interface SimVisit {
  day: string;
  litres: number;
}

export interface SimCustomer {
  /** 0-based, in generation order. */
  index: number;
  kind: SimKind;
  /** Which of the stations he buys at (0-based). */
  station: number;
  plate: string;
  /** His usual interval in days (casual: the mean gap). */
  interval: number;
  visits: SimVisit[];
  /** Churners: the last visit before they left; the visit they missed is expected `interval` days later. */
  lastVisit?: string;
  expectedVisit?: string;
  /** Decliners: the day their volume starts to slide, and the share it bottoms out at. */
  declineFrom?: string;
  floor?: number;
}

export interface SimOptions {
  seed: number;
  customers: number;
  stations: number;
  /** The first and last night of the back-test the histories are made for. */
  from: string;
  to: string;
  /** Days of history before `from` (enough for the decline rule's baseline). */
  historyDays?: number;
  /** Shares of churners, decliners and casual buyers (the rest are regulars). */
  churners?: number;
  decliners?: number;
  casual?: number;
}

const PLATE_LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXY';

function plateOf(seed: number, i: number): string {
  const letter = PLATE_LETTERS[(seed + Math.floor(i / 100_000)) % PLATE_LETTERS.length]!;
  return `冀${letter}${String(i % 100_000).padStart(5, '0')}`;
}

const uniform = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng();
/** Log-uniform in [lo, hi]: as many customers every 5 to 7 days as every 15 to 21. */
const logUniform = (rng: Rng, lo: number, hi: number) => Math.exp(uniform(rng, Math.log(lo), Math.log(hi)));

/** A customer's history: visits from `start` to `end` on his cadence, litres from `litres(day)`. */
function visitsOf(
  rng: Rng,
  start: string,
  end: string,
  interval: number,
  jitter: (rng: Rng) => number,
  litres: (day: string, month: number) => number,
): SimVisit[] {
  const out: SimVisit[] = [];
  const span = daysBetween(start, end);
  const monthly = new Map<string, number>();
  let lastDay = -1;
  for (let k = 0, t = rng() * interval; t <= span; k++) {
    const d = Math.round(t + jitter(rng));
    if (d > lastDay && d >= 0 && d <= span) {
      const day = addDays(start, d);
      const month = day.slice(0, 7);
      // Each month his volume is up to 10% above or below his usual.
      let m = monthly.get(month);
      if (m === undefined) monthly.set(month, (m = uniform(rng, 0.9, 1.1)));
      out.push({ day, litres: Math.round(litres(day, m) * 100) / 100 });
      lastDay = d;
    }
    t += interval;
  }
  return out;
}

/** The generated customers, in a fixed order (the same options give the same histories). */
export function simulateStations(opts: SimOptions): SimCustomer[] {
  const history = opts.historyDays ?? 240;
  const start = addDays(opts.from, -history);
  const churnShare = opts.churners ?? 0.1;
  const declineShare = opts.decliners ?? 0.1;
  const casualShare = opts.casual ?? 0.15;
  const nights = daysBetween(opts.from, opts.to) + 1;
  const out: SimCustomer[] = [];
  for (let i = 0; i < opts.customers; i++) {
    const rng = createRng(opts.seed * 1_000_003 + i);
    const u = rng();
    const kind: SimKind =
      u < churnShare
        ? 'churner'
        : u < churnShare + declineShare
          ? 'decliner'
          : u < churnShare + declineShare + casualShare
            ? 'casual'
            : 'regular';
    const station = Math.floor(rng() * opts.stations);
    const interval = logUniform(rng, 5, 21);
    const perFill = uniform(rng, 30, 70);
    // A steady buyer comes a day early or late; he does not skip.
    const steady = (r: Rng) => Math.floor(r() * 3) - 1;
    const base = { index: i, kind, station, plate: plateOf(opts.seed, i), interval };
    if (kind === 'regular') {
      out.push({ ...base, visits: visitsOf(rng, start, opts.to, interval, steady, (_d, m) => perFill * m) });
    } else if (kind === 'churner') {
      // The visit he misses falls in the nights, a week before the last at the latest.
      const expected = addDays(opts.from, Math.floor(rng() * Math.max(1, nights - 7)));
      const last = addDays(expected, -Math.round(interval));
      const visits = visitsOf(
        rng,
        start,
        addDays(last, -Math.ceil(interval / 2)),
        interval,
        steady,
        (_d, m) => perFill * m,
      );
      visits.push({ day: last, litres: Math.round(perFill * 100) / 100 });
      out.push({ ...base, visits, lastVisit: last, expectedVisit: expected });
    } else if (kind === 'decliner') {
      // The slide takes 30 to 60 days to reach its floor (3% to 15% of his volume) and reaches it by
      // the month before the last complete month of the nights, so that one whole month in them is
      // at the floor; at the floor his fill-ups go up and down as before.
      const length = uniform(rng, 30, 60);
      const lastMonthEnd = addDays(`${addDays(opts.to, 1).slice(0, 7)}-01`, -1);
      const declineFrom = addDays(lastMonthEnd, -Math.round(30 + length + uniform(rng, 0, 30)));
      const floor = uniform(rng, 0.03, 0.15);
      const litres = (day: string, m: number) => {
        const into = Math.min(1, Math.max(0, daysBetween(declineFrom, day) / length));
        return perFill * m * (1 - (1 - floor) * into);
      };
      out.push({ ...base, visits: visitsOf(rng, start, opts.to, interval, steady, litres), declineFrom, floor });
    } else {
      // Gaps a gamma of shape 2 around his mean: now a week early, now a fortnight late.
      const visits: SimVisit[] = [];
      const span = daysBetween(start, opts.to);
      for (let t = rng() * interval; t <= span; t += Math.max(1, (sampleGamma(rng, 2, 1) / 2) * interval)) {
        const day = addDays(start, Math.round(t));
        if (visits.at(-1)?.day !== day)
          visits.push({ day, litres: Math.round(perFill * uniform(rng, 0.7, 1.3) * 100) / 100 });
      }
      out.push({ ...base, visits });
    }
  }
  return out;
}

export interface KindFigures {
  customers: number;
  /** Alerted at least once in the nights. */
  alerted: number;
  /** Churners: alerted within 7 days after the visit they missed (and not before they left). */
  onTime?: number;
  /** Churners and decliners alerted: the share of them. */
  recall?: number;
  /** Regulars and casual buyers alerted: the share of them. */
  falseRate?: number;
}

/** Recall and false alerts per kind of customer, from the alerts a back-test raised (by customer index). */
export function truthFigures(
  sims: readonly SimCustomer[],
  alerts: readonly { index: number; day: string; kind: string }[],
  rule?: string,
): Record<SimKind, KindFigures> {
  const byIndex = new Map<number, { day: string; kind: string }[]>();
  for (const a of alerts) if (!rule || a.kind === rule) byIndex.set(a.index, [...(byIndex.get(a.index) ?? []), a]);
  const out = {} as Record<SimKind, KindFigures>;
  for (const kind of ['regular', 'churner', 'decliner', 'casual'] as const) {
    const mine = sims.filter((s) => s.kind === kind);
    const alerted = mine.filter((s) => byIndex.has(s.index)).length;
    const f: KindFigures = { customers: mine.length, alerted };
    const share = (n: number) => (mine.length ? Math.round((n / mine.length) * 1000) / 1000 : 0);
    if (kind === 'churner') {
      // The morning after the night: an alert for night D is read on D + 1.
      f.onTime = mine.filter((s) =>
        (byIndex.get(s.index) ?? []).some(
          (a) => a.day >= s.lastVisit! && daysBetween(s.expectedVisit!, addDays(a.day, 1)) <= 7,
        ),
      ).length;
      f.recall = share(f.onTime);
    } else if (kind === 'decliner') f.recall = share(alerted);
    else f.falseRate = share(alerted);
    out[kind] = f;
  }
  return out;
}
