// The rollups (customer_month, station_day, the customer's cadence columns) change in the same
// transaction as the rows they sum. New rows add to them incrementally, per chunk; rows that move
// between customers or disappear have their customers rebuilt from the rows.
//
// The hooks at the bottom are how the customer archive and the pump tell this module that a card
// or plate became known, that customers were merged, or that a fill-up was recorded by hand.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import {
  engineOf,
  lockRollupCustomers,
  serialiseRollupWriters,
  shareRollupWriters,
  type Engine,
} from '../../db/dialect.js';
import { businessDay, meanIntervalDays } from '../../../domain/business-day.js';
import {
  PUMP_MATCH_WINDOW_MS,
  PUMP_SOURCE,
  SYSTEM_NAMESPACE,
  paidByCard,
  sameFillUp,
  type FillUp,
} from '../../../domain/fuel-transaction.js';
import {
  transactionsQueries as q,
  type CustomerCadence,
  type RollupRows,
  type TxnRow,
} from './transactions.queries.js';
import { renameResolvingPurchases, resolveOnPurchase } from '../alerts/alert-lifecycle.js';

export interface StoreResult {
  inserted: TxnRow[];
  /** Hand-recorded fill-ups that arriving rows replaced. */
  superseded: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const fillOf = (r: TxnRow): FillUp => ({
  customerId: r.customerId ?? -1,
  orgUnitId: r.orgUnitId,
  product: r.product,
  timeMs: r.timeMs,
  volumeMl: r.volumeMl,
});
const minOf = (a: string | null, b: string | null) => (a === null ? b : b === null || a <= b ? a : b);
const maxOf = (a: string | null, b: string | null) => (a === null ? b : b === null || a >= b ? a : b);

/** A statement already on its way, awaited later; a failure then surfaces there, not as unhandled. */
function sent<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** Sums keyed by a rollup's primary key, added up in memory before one upsert per chunk. */
class Sums {
  private readonly map = new Map<string, { key: unknown[]; sums: number[] }>();
  /** `text` is the key joined into one string; `key()` gives its columns, asked for once per key. */
  add(text: string, key: () => unknown[], values: number[]): void {
    const hit = this.map.get(text);
    if (!hit) this.map.set(text, { key: key(), sums: values });
    else for (let i = 0; i < values.length; i++) hit.sums[i]! += values[i]!;
  }
  rows(): unknown[][] {
    // A fixed order makes concurrent upserts on PostgreSQL lock rows in the same order.
    return [...this.map.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([, v]) => [...v.key, ...v.sums]);
  }
}

function addToStationDays(sums: Sums, rows: TxnRow[], sign: 1 | -1): void {
  for (const r of rows) {
    const amount = r.amountFen ?? 0;
    sums.add(`${r.orgUnitId}\u0000${r.businessDay}\u0000${r.product}`, () => [r.orgUnitId, r.businessDay, r.product], [
      sign * r.volumeMl,
      sign * amount,
      sign,
      paidByCard(r.payment, r.cardNo) ? sign * amount : 0,
    ]);
  }
}

/** Rows worked through between two pauses when the rollups are worked out beside an insert in flight. */
const ROWS_PER_PAUSE = 4000;

/**
 * The rollup rows for `inserted`, less the hand-recorded rows `replaced`. Customers in `rebuild` are
 * left out (they are rebuilt from their rows). `knownDays` holds the (customer, day) pairs on file
 * before the rows came. With `pausing`, other I/O gets its turn every few thousand rows, so that an
 * insert in flight on the same process keeps streaming.
 */
async function rollupRows(
  inserted: TxnRow[],
  replaced: TxnRow[],
  rebuild: Set<number>,
  cadences: Map<number, CustomerCadence>,
  knownDays: Set<string>,
  pausing: boolean,
): Promise<RollupRows> {
  // Counted down per row; at zero (when pausing) other I/O gets its turn.
  let budget = ROWS_PER_PAUSE;
  const pause = () => {
    budget = ROWS_PER_PAUSE;
    return new Promise(setImmediate);
  };
  const days = new Sums();
  addToStationDays(days, inserted, 1);
  addToStationDays(days, replaced, -1);
  if (pausing) await pause();

  const months = new Sums();
  const perCustomer = new Map<number, TxnRow[]>();
  for (const r of inserted) {
    if (pausing && --budget <= 0) await pause();
    if (r.customerId === null || rebuild.has(r.customerId)) continue;
    const month = r.businessDay.slice(0, 7);
    months.add(`${month}\u0000${r.customerId}\u0000${r.product}`, () => [month, r.customerId, r.product], [
      r.volumeMl,
      r.amountFen ?? 0,
      1,
    ]);
    const list = perCustomer.get(r.customerId);
    if (list) list.push(r);
    else perCustomer.set(r.customerId, [r]);
  }

  const cadenceRows: unknown[][] = [];
  for (const [customerId, list] of [...perCustomer.entries()].sort((a, b) => a[0] - b[0])) {
    budget -= list.length;
    if (pausing && budget <= 0) await pause();
    const cur = cadences.get(customerId);
    if (!cur) continue;
    const newDays = new Set<string>();
    let first = cur.first_visit_at;
    let last = cur.last_visit_at;
    let firstDay = cur.first_visit_day;
    let lastDay = cur.last_visit_day;
    for (const r of list) {
      if (knownDays.size === 0 || !knownDays.has(`${customerId}|${r.businessDay}`)) newDays.add(r.businessDay);
      first = minOf(first, r.occurredAt);
      last = maxOf(last, r.occurredAt);
      firstDay = minOf(firstDay, r.businessDay);
      lastDay = maxOf(lastDay, r.businessDay);
    }
    const count = cur.visit_count + newDays.size;
    cadenceRows.push([customerId, count, first, last, firstDay, lastDay, meanIntervalDays(firstDay, lastDay, count)]);
  }
  const out = { days: days.rows(), months: months.rows(), cadences: cadenceRows };
  if (pausing) await pause();
  return out;
}

/**
 * Store rows whose customers are already resolved. Rows whose (namespace, source, external id) is
 * on file are skipped and keep no id; with `replacePump`, a stored card or POS row takes the place of
 * the matching hand-recorded fill-up. The caller holds the rollup writers' lock in the same transaction:
 * the exclusive level, or the shared one and these rows' customers (see `serialiseRollupWriters`).
 */
export async function storeRows(
  trx: Kysely<Database>,
  engine: Engine,
  rows: TxnRow[],
  opts: {
    batchId: number | null;
    now: string;
    replacePump: boolean;
    /** Cadences the caller has already read. */ cadences?: Map<number, CustomerCadence>;
  },
): Promise<StoreResult> {
  if (rows.length === 0) return { inserted: [], superseded: 0 };
  const cadences = new Map(opts.cadences);
  const missing = new Set<number>();
  for (const r of rows) if (r.customerId !== null && !cadences.has(r.customerId)) missing.add(r.customerId);
  for (const [id, c] of await q.cadences(trx, engine, [...missing])) cadences.set(id, c);
  // Read before inserting: which days each customer already had. A day after his last visit day is
  // new for certain, so only rows arriving out of order need the look-up.
  const ids = new Set<number>();
  let fromDay = '9999-12-31';
  let toDay = '0000-01-01';
  for (const r of rows) {
    if (r.customerId === null) continue;
    const last = cadences.get(r.customerId)?.last_visit_day ?? null;
    if (last === null || r.businessDay > last) continue;
    ids.add(r.customerId);
    if (r.businessDay < fromDay) fromDay = r.businessDay;
    if (r.businessDay > toDay) toDay = r.businessDay;
  }
  const knownDays = await q.visitDays(trx, engine, [...ids], fromDay, toDay);
  // Hand-recorded fill-ups these rows may replace, read before the insert (which adds none).
  const pumps = opts.replacePump ? await q.pumpRows(trx, engine, ...pumpWindow(pumpCandidates(rows))) : [];

  // On PostgreSQL the server stores the rows while this process works out their rollups, on the
  // assumption that every row is new (it is unless a batch is sent again) and none replaces a
  // hand-recorded fill-up; the statements are built too, so they leave as soon as the insert is done.
  const storing = sent(q.insert(trx, engine, rows, opts.batchId, opts.now));
  const early =
    engine === 'postgres' && pumps.length === 0
      ? await rollupRows(rows, [], new Set(), cadences, knownDays, true)
      : null;
  const earlyStatements = early && q.rollupStatements(early);
  const stored = await storing;
  const inserted: TxnRow[] = [];
  for (const r of rows) {
    const id = stored.get(r.externalId);
    if (id !== undefined) {
      r.id = id;
      inserted.push(r);
    }
  }
  if (inserted.length === 0) return { inserted, superseded: 0 };
  if (earlyStatements && inserted.length === rows.length) {
    await q.runAll(trx, earlyStatements);
    // A customer who bought again ends his open alert, with the purchase that did it.
    await resolveOnPurchase(trx, engine, inserted, opts.now);
    return { inserted, superseded: 0 };
  }

  const replaced = pumps.length ? await replacePumpRows(trx, engine, pumpCandidates(inserted), pumps) : [];
  // Customers who lost a hand-recorded row are rebuilt from their rows; the rest are added to.
  const rebuild = new Set(replaced.map((r) => r.customerId!));
  const plan = await rollupRows(inserted, replaced, rebuild, cadences, knownDays, false);
  await q.addStationDays(trx, engine, plan.days);
  if (replaced.length) await q.dropEmptyStationDays(trx, engine, [...new Set(replaced.map((r) => r.orgUnitId))]);
  await q.addCustomerMonths(trx, engine, plan.months);
  await q.writeCadences(trx, engine, plan.cadences);
  if (rebuild.size) await rebuildCustomers(trx, engine, [...rebuild]);
  await resolveOnPurchase(trx, engine, inserted, opts.now);
  return { inserted, superseded: replaced.length };
}

/** Card and POS rows of known customers that no hand-recorded visit is linked to yet: they may replace one. */
const pumpCandidates = (rows: TxnRow[]) =>
  rows.filter((r) => r.customerId !== null && r.source !== PUMP_SOURCE && r.visitId === null);

/** The customers of these rows, and the span of time in which their hand-recorded fill-ups may match them. */
function pumpWindow(rows: TxnRow[]): [number[], string, string] {
  let min = Infinity;
  let max = -Infinity;
  const ids = new Set<number>();
  for (const r of rows) {
    ids.add(r.customerId!);
    if (r.timeMs < min) min = r.timeMs;
    if (r.timeMs > max) max = r.timeMs;
  }
  return ids.size ? [[...ids], iso(min - PUMP_MATCH_WINDOW_MS), iso(max + PUMP_MATCH_WINDOW_MS)] : [[], '', ''];
}

/**
 * Card or POS rows (attached, stored) replace the hand-recorded fill-ups they match: the pump row
 * goes, its visit is linked to the row that replaces it. `candidates` come from `pumpCandidates`;
 * `pumps` are their customers' hand-recorded rows in `pumpWindow`, when already read. Returns the
 * pump rows removed.
 */
async function replacePumpRows(
  trx: Kysely<Database>,
  engine: Engine,
  rows: TxnRow[],
  pumps?: TxnRow[],
): Promise<TxnRow[]> {
  if (rows.length === 0) return [];
  pumps ??= await q.pumpRows(trx, engine, ...pumpWindow(rows));
  if (pumps.length === 0) return [];
  const byCustomer = new Map<number, TxnRow[]>();
  for (const p of pumps) byCustomer.set(p.customerId!, [...(byCustomer.get(p.customerId!) ?? []), p]);
  const used = new Set<number>();
  const replaced: TxnRow[] = [];
  const linked: TxnRow[] = [];
  for (const r of [...rows].sort((a, b) => a.timeMs - b.timeMs)) {
    let best: TxnRow | null = null;
    for (const p of byCustomer.get(r.customerId!) ?? []) {
      if (used.has(p.id!) || !sameFillUp(fillOf(r), fillOf(p))) continue;
      if (!best || Math.abs(p.timeMs - r.timeMs) < Math.abs(best.timeMs - r.timeMs)) best = p;
    }
    if (!best) continue;
    used.add(best.id!);
    replaced.push(best);
    r.visitId = best.visitId;
    linked.push(r);
  }
  await q.deleteRows(
    trx,
    engine,
    replaced.map((p) => p.id!),
  );
  await renameResolvingPurchases(
    trx,
    replaced.map((p, i) => ({ from: p.id!, to: linked[i]!.id! })),
  );
  for (const r of linked) await q.linkVisit(trx, r.id!, r.visitId);
  return replaced;
}

/** Rebuild customers' monthly rollup and cadence from their rows (after rows moved or went). */
export async function rebuildCustomers(trx: Kysely<Database>, engine: Engine, customerIds: number[]): Promise<void> {
  const ids = [...new Set(customerIds)].sort((a, b) => a - b);
  if (ids.length === 0) return;
  await q.rebuildCustomerMonths(trx, engine, ids);
  const fromRows = new Map((await q.cadenceFromRows(trx, engine, ids)).map((s) => [s.customerId, s]));
  const visits = await q.lastVisits(trx, engine, ids);
  const current = await q.cadences(trx, engine, ids);
  const out = ids.map((id) => {
    const s = fromRows.get(id);
    // The last visit is the latest fill-up or recorded visit; with neither, what the record had.
    const last = maxOf(s?.lastAt ?? null, visits.get(id) ?? null) ?? current.get(id)?.last_visit_at ?? null;
    const days = s?.days ?? 0;
    return [
      id,
      days,
      s?.firstAt ?? null,
      last,
      s?.firstDay ?? null,
      s?.lastDay ?? null,
      meanIntervalDays(s?.firstDay ?? null, s?.lastDay ?? null, days),
    ];
  });
  await q.writeCadences(trx, engine, out);
}

// ---- hooks for the customer archive and the pump ------------------------------------------------

/** A customer now holds these cards or plates: rows that were waiting for them become his. */
export async function attachWaitingRows(
  trx: Kysely<Database>,
  customerId: number,
  keys: { cards: string[]; plates: string[] },
): Promise<number> {
  if (keys.cards.length === 0 && keys.plates.length === 0) return 0;
  const engine = engineOf(trx);
  // Taken before looking, so rows a concurrent ingest is storing are either seen here or find this customer themselves.
  await serialiseRollupWriters(trx);
  const rows = await q.unattached(trx, engine, keys.cards, keys.plates);
  if (rows.length === 0) return 0;
  await q.setCustomer(
    trx,
    engine,
    rows.map((r) => r.id!),
    customerId,
  );
  for (const r of rows) r.customerId = customerId;
  const replaced = await replacePumpRows(trx, engine, pumpCandidates(rows));
  if (replaced.length) {
    const days = new Sums();
    addToStationDays(days, replaced, -1);
    await q.addStationDays(trx, engine, days.rows());
    await q.dropEmptyStationDays(trx, engine, [...new Set(replaced.map((r) => r.orgUnitId))]);
  }
  await rebuildCustomers(trx, engine, [customerId]);
  await resolveOnPurchase(trx, engine, rows, new Date().toISOString());
  return rows.length;
}

export interface PumpFill {
  visitId: number;
  customerId: number;
  orgUnitId: number;
  at: string;
  product: string;
  volumeMl: number;
  plate: string | null;
}

/**
 * A fill-up recorded by hand counts at once. If the card system's row for it is already here, the
 * visit is linked to that row instead, so the fill-up still counts once.
 */
export async function recordPumpFill(trx: Kysely<Database>, fill: PumpFill): Promise<'linked' | 'counted'> {
  const engine = engineOf(trx);
  await shareRollupWriters(trx);
  await lockRollupCustomers(trx, [fill.customerId]);
  const timeMs = Date.parse(fill.at);
  const me: FillUp = {
    customerId: fill.customerId,
    orgUnitId: fill.orgUnitId,
    product: fill.product,
    timeMs,
    volumeMl: fill.volumeMl,
  };
  const candidates = await q.unlinkedRows(
    trx,
    fill.customerId,
    iso(timeMs - PUMP_MATCH_WINDOW_MS),
    iso(timeMs + PUMP_MATCH_WINDOW_MS),
  );
  const match = candidates
    .filter((c) => sameFillUp(fillOf(c), me))
    .sort((a, b) => Math.abs(a.timeMs - timeMs) - Math.abs(b.timeMs - timeMs))[0];
  if (match) {
    await q.linkVisit(trx, match.id!, fill.visitId);
    return 'linked';
  }
  const unit = await trx
    .selectFrom('org_unit')
    .select('time_zone')
    .where('id', '=', fill.orgUnitId)
    .executeTakeFirstOrThrow();
  const row: TxnRow = {
    namespace: SYSTEM_NAMESPACE,
    source: PUMP_SOURCE,
    externalId: String(fill.visitId),
    occurredAt: iso(timeMs),
    timeMs,
    businessDay: businessDay(timeMs, unit.time_zone),
    orgUnitId: fill.orgUnitId,
    customerId: fill.customerId,
    cardNo: null,
    plate: fill.plate,
    product: fill.product,
    businessLine: 'retail',
    volumeMl: fill.volumeMl,
    unitPriceFen: null,
    amountFen: null,
    payment: null,
    visitId: fill.visitId,
  };
  await storeRows(trx, engine, [row], { batchId: null, now: iso(timeMs), replacePump: false });
  return 'counted';
}

/** Merging moves the duplicate's transactions (remembered per merge) and their rollups to the survivor. */
export async function moveTransactionsForMerge(
  trx: Kysely<Database>,
  mergeId: number,
  mergedId: number,
  survivorId: number,
): Promise<void> {
  await serialiseRollupWriters(trx);
  await q.moveForMerge(trx, mergeId, mergedId, survivorId);
  await rebuildCustomers(trx, engineOf(trx), [mergedId, survivorId]);
}

/** Undoing a merge moves exactly the transactions that merge moved back. */
export async function moveTransactionsBack(
  trx: Kysely<Database>,
  mergeId: number,
  survivorId: number,
  mergedId: number,
): Promise<void> {
  await serialiseRollupWriters(trx);
  await q.moveBack(trx, mergeId, survivorId, mergedId);
  await rebuildCustomers(trx, engineOf(trx), [survivorId, mergedId]);
}
