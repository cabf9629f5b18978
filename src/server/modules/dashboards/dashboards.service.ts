// Dashboards of any unit (station, area, branch, HQ) for a month, the key-customer analysis and
// card suggestions. Figures come from the rollups (station_day, customer_month, customer) except
// where a rollup cannot hold them (per-station customer volumes, large sales): see the queries.
// Each answer is computed for the whole subtree of the unit (what anyone who may see the unit
// sees) and kept as a snapshot (dashboards.snapshots.ts); only the names of key customers from
// outside the subtree depend on who asks, and are filtered at reading.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Engine } from '../../db/dialect.js';
import type { Principal } from '../../auth/principal.js';
import { pathInCustomerScope, pathInScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import { businessDay, zonedToUtc } from '../../../domain/business-day.js';
import { isWithin } from '../../../domain/org-path.js';
import { profileOf } from '../../../domain/customer-profile.js';
import { cardSaving, type KeyCustomerPolicy } from '../../../domain/policies.js';
import { addMonths, growth, monthDays, sameMonthLastYear, shareOf, topShareOf } from '../../../domain/kpi.js';
import { currentPolicy } from '../policies/policies.service.js';
import { CustomerValueService } from '../customer-value/value.service.js';
import { dashboardsQueries as q, type MonthInstants, type UnitRow } from './dashboards.queries.js';
import { SnapshotStore } from './dashboards.snapshots.js';
import { readerOf } from '../../db/replica.js';

/** The longest list of unattended key customers one reply carries. */
export const MAX_UNATTENDED = 200;

interface Sales {
  volumeMl: number;
  amountFen: number;
  cardAmountFen: number;
  txnCount: number;
}

const noSales = (): Sales => ({ volumeMl: 0, amountFen: 0, cardAmountFen: 0, txnCount: 0 });
const addSales = (a: Sales, b: Sales) => {
  a.volumeMl += b.volumeMl;
  a.amountFen += b.amountFen;
  a.cardAmountFen += b.cardAmountFen;
  a.txnCount += b.txnCount;
};

function monthInstants(month: string, timeZone: string): MonthInstants {
  const start = (m: string) =>
    new Date(zonedToUtc(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)) - 1, 1), timeZone)).toISOString();
  const ly = sameMonthLastYear(month);
  return {
    from: start(month),
    to: start(addMonths(month, 1)),
    lastYearFrom: start(ly),
    lastYearTo: start(addMonths(ly, 1)),
  };
}

const unitOut = (u: UnitRow) => ({ id: u.id, name: u.name, code: u.code, kindCode: u.kindCode });

const policyKey = (v: { versionId: number | null }) => String(v.versionId ?? 'default');

export interface DashboardsOptions {
  /** See Config.dashboardSnapshotMinutes; 0 (the default here) computes every answer. */
  snapshotMinutes?: number;
  onBackgroundError?: (err: unknown) => void;
}

/** Compute now instead of serving a snapshot. */
export interface ReadOptions {
  refresh?: boolean;
}

/** How a key-customer list is ordered: the month's volume, or the 12-month value from the branch's models. */
export type KeyCustomerSort = 'volume' | 'value';

interface Unattended {
  customerId: number;
  code: string;
  name: string | null;
  kind: string;
  orgUnitName: string;
  ownerName: string | null;
  volumeMl: number;
  amountFen: number;
  noOwner: boolean;
  profileStep: number;
  nextQuestion: string | null;
}

export class DashboardsService {
  readonly snapshots: SnapshotStore;
  private readonly values: CustomerValueService;
  /**
   * The figures are read here: the read replica when one is configured (DATABASE_READ_URL). The
   * unit and scope check, the policy and the snapshots stay on the primary.
   */
  private readonly read: Kysely<Database>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
    private readonly now: () => Date = () => new Date(),
    opts: DashboardsOptions = {},
  ) {
    this.read = readerOf(db);
    this.snapshots = new SnapshotStore(db, now, opts.snapshotMinutes ?? 0, opts.onBackgroundError);
    this.values = new CustomerValueService(db, now);
  }

  /** The unit, checked against the principal's scope (which then holds its whole subtree). */
  private async scopedUnit(p: Principal, id: number): Promise<UnitRow> {
    const unit = await q.unit(this.db, id);
    if (!unit) throw new AppError('NOT_FOUND', `org unit ${id} not found`);
    if (!pathInScope(p, unit.path)) throw new AppError('SCOPE_DENIED', `org unit ${id} is outside your organisation`);
    return unit;
  }

  private async subtree(unit: UnitRow) {
    const units = await q.subtree(this.read, this.engine, undefined, unit.path);
    return { units, ids: units.map((u) => u.id) };
  }

  private thisMonth(timeZone: string): string {
    return businessDay(this.now().getTime(), timeZone).slice(0, 7);
  }

  async unitDashboard(p: Principal, id: number, monthArg?: string, opts: ReadOptions = {}) {
    const unit = await this.scopedUnit(p, id);
    const month = monthArg ?? this.thisMonth(unit.timeZone);
    const policy = await currentPolicy(this.db, 'key_customer');
    const snap = await this.snapshots.read(
      'overview',
      unit.id,
      month,
      policyKey(policy),
      () => this.overview(unit, month, policy.body),
      opts,
    );
    return { unit: unitOut(unit), ...snap.body, asOf: snap.asOf };
  }

  private async overview(unit: UnitRow, month: string, policy: KeyCustomerPolicy) {
    const { units, ids } = await this.subtree(unit);
    const ly = sameMonthLastYear(month);
    const days = monthDays(month);
    const lyDays = monthDays(ly);
    const instants = monthInstants(month, unit.timeZone);

    const [sales, salesLy, counts, active, volumes, alerts, stars, topUps, topUpsLy] = await Promise.all([
      q.stationSales(this.read, this.engine, ids, days.first, days.last),
      q.stationSales(this.read, this.engine, ids, lyDays.first, lyDays.last),
      q.customerCounts(this.read, this.engine, ids, instants),
      q.activeCustomers(this.read, this.engine, ids, month),
      q.customerStationVolumes(this.read, this.engine, ids, days.first, days.last),
      q.alertCounts(this.read, this.engine, ids, instants.from, instants.to),
      q.starCounts(this.read, this.engine, ids, month),
      q.topupTotals(this.read, this.engine, ids, days.first, days.last),
      q.topupTotals(this.read, this.engine, ids, lyDays.first, lyDays.last),
    ]);

    // Each row is summed into the unit and into the child of the unit it falls under.
    const children = units.filter((u) => u.parentId === unit.id);
    const pathOf = new Map(units.map((u) => [u.id, u.path]));
    const childOf = new Map<number, number>();
    for (const u of units) {
      const child = children.find((c) => isWithin(u.path, c.path));
      if (child) childOf.set(u.id, child.id);
    }
    interface Tally {
      sales: Sales;
      salesLy: Sales;
      total: number;
      newCount: number;
      totalLy: number;
      newLy: number;
      byKind: Map<string, number>;
      perCustomer: Map<number, number>;
    }
    const tally = (): Tally => ({
      sales: noSales(),
      salesLy: noSales(),
      total: 0,
      newCount: 0,
      totalLy: 0,
      newLy: 0,
      byKind: new Map(),
      perCustomer: new Map(),
    });
    const all = tally();
    const perChild = new Map(children.map((c) => [c.id, tally()]));
    const targets = (orgUnitId: number): Tally[] => {
      const c = childOf.get(orgUnitId);
      const t = c === undefined ? undefined : perChild.get(c);
      return t ? [all, t] : [all];
    };

    const byProduct = new Map<string, { volumeMl: number; lastYearVolumeMl: number; amountFen: number }>();
    for (const s of sales) {
      for (const t of targets(s.orgUnitId)) addSales(t.sales, s);
      const pr = byProduct.get(s.product) ?? { volumeMl: 0, lastYearVolumeMl: 0, amountFen: 0 };
      pr.volumeMl += s.volumeMl;
      pr.amountFen += s.amountFen;
      byProduct.set(s.product, pr);
    }
    for (const s of salesLy) {
      for (const t of targets(s.orgUnitId)) addSales(t.salesLy, s);
      const pr = byProduct.get(s.product) ?? { volumeMl: 0, lastYearVolumeMl: 0, amountFen: 0 };
      pr.lastYearVolumeMl += s.volumeMl;
      byProduct.set(s.product, pr);
    }
    for (const c of counts) {
      for (const t of targets(c.orgUnitId)) {
        t.total += c.total;
        t.newCount += c.newCount;
        t.totalLy += c.totalLastYear;
        t.newLy += c.newLastYear;
        t.byKind.set(c.kind, (t.byKind.get(c.kind) ?? 0) + c.total);
      }
    }
    for (const v of volumes) {
      if (!pathOf.has(v.orgUnitId)) continue;
      for (const t of targets(v.orgUnitId))
        t.perCustomer.set(v.customerId, (t.perCustomer.get(v.customerId) ?? 0) + v.volumeMl);
    }

    const keyShare = (t: Tally) => {
      const top = topShareOf([...t.perCustomer.values()], policy.topShare);
      return { ...top, shareOfSales: shareOf(top.topVolume, t.sales.volumeMl) };
    };
    const headline = (t: Tally) => {
      const k = keyShare(t);
      return {
        customers: t.total,
        newCustomers: t.newCount,
        customersGrowth: growth(t.total, t.totalLy),
        volumeMl: t.sales.volumeMl,
        lastYearVolumeMl: t.salesLy.volumeMl,
        volumeGrowth: growth(t.sales.volumeMl, t.salesLy.volumeMl),
        amountFen: t.sales.amountFen,
        cardShare: shareOf(t.sales.cardAmountFen, t.sales.amountFen),
        keyCustomerShare: k.shareOfSales,
      };
    };

    const key = keyShare(all);
    return {
      month,
      lastYearMonth: ly,
      customers: {
        total: all.total,
        lastYearTotal: all.totalLy,
        growth: growth(all.total, all.totalLy),
        new: all.newCount,
        lastYearNew: all.newLy,
        newGrowth: growth(all.newCount, all.newLy),
        active,
        byKind: [...all.byKind.entries()].sort((a, b) => b[1] - a[1]).map(([kind, count]) => ({ kind, count })),
      },
      sales: {
        volumeMl: all.sales.volumeMl,
        amountFen: all.sales.amountFen,
        txnCount: all.sales.txnCount,
        cardAmountFen: all.sales.cardAmountFen,
        cardShare: shareOf(all.sales.cardAmountFen, all.sales.amountFen),
        lastYearVolumeMl: all.salesLy.volumeMl,
        lastYearAmountFen: all.salesLy.amountFen,
        volumeGrowth: growth(all.sales.volumeMl, all.salesLy.volumeMl),
        amountGrowth: growth(all.sales.amountFen, all.salesLy.amountFen),
      },
      products: [...byProduct.entries()]
        .sort((a, b) => b[1].volumeMl - a[1].volumeMl || a[0].localeCompare(b[0]))
        .map(([product, v]) => ({
          product,
          volumeMl: v.volumeMl,
          amountFen: v.amountFen,
          lastYearVolumeMl: v.lastYearVolumeMl,
          growth: growth(v.volumeMl, v.lastYearVolumeMl),
        })),
      keyCustomers: {
        topShare: policy.topShare,
        customers: key.customers,
        topCustomers: key.topCustomers,
        topVolumeMl: key.topVolume,
        customerVolumeMl: key.totalVolume,
        shareOfCustomers: key.share,
        shareOfSales: key.shareOfSales,
      },
      topUps: {
        ...topUps,
        lastYearAmountFen: topUpsLy.amountFen,
        lastYearCount: topUpsLy.count,
        growth: growth(topUps.amountFen, topUpsLy.amountFen),
      },
      alerts,
      stars: [0, 1, 2, 3, 4].map((s) => ({ stars: s, count: stars.find((x) => x.stars === s)?.count ?? 0 })),
      children: children.map((c) => ({ ...unitOut(c), ...headline(perChild.get(c.id)!) })),
    };
  }

  async keyCustomers(
    p: Principal,
    orgUnitId: number,
    monthArg?: string,
    opts: ReadOptions & { sort?: KeyCustomerSort } = {},
  ) {
    const unit = await this.scopedUnit(p, orgUnitId);
    const month = monthArg ?? this.thisMonth(unit.timeZone);
    const policy = await currentPolicy(this.db, 'key_customer');
    const snap = await this.snapshots.read(
      'key_customers',
      unit.id,
      month,
      policyKey(policy),
      () => this.keyCustomerFigures(unit, month, policy.body),
      opts,
    );
    const { unattendedInside, unattendedOutside, ...figures } = snap.body;
    // Customers on file below the unit are the principal's to read; those of other units only if
    // the principal's own subtree or a lent one holds them.
    const visible = [
      ...unattendedInside.first,
      ...unattendedOutside.filter((u) => pathInCustomerScope(p, u.orgUnitPath)).map(({ orgUnitPath: _, ...u }) => u),
    ];
    visible.sort((a, b) => b.volumeMl - a.volumeMl || a.customerId - b.customerId);
    const sort = opts.sort ?? 'volume';
    // Values move with every visit and nightly fit: worked out at reading, not kept in the snapshot. They
    // rank what the snapshot lists (those on file below the unit: the first MAX_UNATTENDED by volume).
    const listed = sort === 'value' ? await this.withValues(visible) : visible;
    return {
      unit: unitOut(unit),
      month,
      ...figures,
      unattendedTotal: unattendedInside.total + visible.length - unattendedInside.first.length,
      unattended: listed.slice(0, MAX_UNATTENDED),
      sort,
      asOf: snap.asOf,
    };
  }

  /** The customers with their 12-month value, highest first; those without one last, by volume. */
  private async withValues<T extends { customerId: number }>(
    list: T[],
  ): Promise<(T & { value12mFen: number | null })[]> {
    const values = await this.values.values(list.map((u) => u.customerId));
    const out = list.map((u) => ({ ...u, value12mFen: values.get(u.customerId)?.value12mFen ?? null }));
    // A stable sort keeps the volume order among equal values and among customers without one.
    return out.sort((a, b) => (b.value12mFen ?? -1) - (a.value12mFen ?? -1));
  }

  private async keyCustomerFigures(unit: UnitRow, month: string, policy: KeyCustomerPolicy) {
    const { ids } = await this.subtree(unit);
    const days = monthDays(month);
    const minFen = Math.round(policy.minTransactionYuan * 100);
    const [byDay, volumes] = await Promise.all([
      q.largeSalesByDay(this.read, this.engine, ids, days.first, days.last, policy.products, minFen),
      q.customerStationVolumes(this.read, this.engine, ids, days.first, days.last),
    ]);

    const sum = (f: (d: (typeof byDay)[number]) => number) => byDay.reduce((acc, d) => acc + f(d), 0);
    const all = { txnCount: sum((d) => d.txnCount), volumeMl: sum((d) => d.volumeMl) };
    const products = { txnCount: sum((d) => d.productTxnCount), volumeMl: sum((d) => d.productVolumeMl) };
    const large = {
      txnCount: sum((d) => d.largeTxnCount),
      volumeMl: sum((d) => d.largeVolumeMl),
      amountFen: sum((d) => d.largeAmountFen),
    };

    const perCustomer = new Map<number, { volumeMl: number; amountFen: number }>();
    for (const v of volumes) {
      const c = perCustomer.get(v.customerId) ?? { volumeMl: 0, amountFen: 0 };
      c.volumeMl += v.volumeMl;
      c.amountFen += v.amountFen;
      perCustomer.set(v.customerId, c);
    }
    const ranked = [...perCustomer.entries()]
      .filter(([, v]) => v.volumeMl > 0)
      .sort((a, b) => b[1].volumeMl - a[1].volumeMl || a[0] - b[0]);
    const top = topShareOf(
      ranked.map(([, v]) => v.volumeMl),
      policy.topShare,
    );
    const topIds = ranked.slice(0, top.topCustomers);

    // Only customers the principal may read are named (keyCustomers); the shares count everybody.
    const facts = new Map(
      (
        await q.customerFacts(
          this.read,
          this.engine,
          undefined,
          topIds.map(([cid]) => cid),
        )
      ).map((f) => [f.id, f]),
    );
    const inside: Unattended[] = [];
    let insideTotal = 0;
    const outside: (Unattended & { orgUnitPath: string })[] = [];
    for (const [cid, v] of topIds) {
      const f = facts.get(cid);
      if (!f) continue;
      const profile = profileOf({
        kind: f.kind as 'individual',
        hasVehicle: f.vehicleCount > 0,
        hasVehicleModel: f.modelCount > 0,
        name: f.name,
        surname: f.surname,
        organisation: f.organisation,
        phoneCount: f.phoneCount,
        products: f.products,
        routes: f.routes,
      });
      const noOwner = f.ownerUserId === null;
      const incomplete = profile.step < 3;
      if (!noOwner && !incomplete) continue;
      const within = isWithin(f.orgUnitPath, unit.path);
      if (within) insideTotal++;
      if (within && inside.length >= MAX_UNATTENDED) continue;
      const u: Unattended = {
        customerId: cid,
        code: f.code,
        name: f.name,
        kind: f.kind,
        orgUnitName: f.orgUnitName,
        ownerName: f.ownerName,
        volumeMl: v.volumeMl,
        amountFen: v.amountFen,
        noOwner,
        profileStep: profile.step,
        nextQuestion: profile.next,
      };
      if (within) inside.push(u);
      else outside.push({ ...u, orgUnitPath: f.orgUnitPath });
    }

    return {
      policy: { products: policy.products, minTransactionYuan: policy.minTransactionYuan, topShare: policy.topShare },
      top: {
        customers: top.customers,
        topCustomers: top.topCustomers,
        topVolumeMl: top.topVolume,
        customerVolumeMl: top.totalVolume,
        unitVolumeMl: all.volumeMl,
        shareOfCustomers: top.share,
        shareOfSales: shareOf(top.topVolume, all.volumeMl),
      },
      large: {
        txnCount: large.txnCount,
        volumeMl: large.volumeMl,
        amountFen: large.amountFen,
        productTxnCount: products.txnCount,
        productVolumeMl: products.volumeMl,
        allTxnCount: all.txnCount,
        allVolumeMl: all.volumeMl,
        txnShare: shareOf(large.txnCount, all.txnCount),
        volumeShare: shareOf(large.volumeMl, all.volumeMl),
      },
      days: byDay.map((d) => ({
        day: d.day,
        volumeMl: d.volumeMl,
        largeVolumeMl: d.largeVolumeMl,
        txnCount: d.txnCount,
        largeTxnCount: d.largeTxnCount,
      })),
      unattendedInside: { total: insideTotal, first: inside },
      unattendedOutside: outside,
    };
  }

  async cardSuggestions(
    p: Principal,
    orgUnitId: number,
    monthArg: string | undefined,
    page: number,
    pageSize: number,
    opts: ReadOptions = {},
  ) {
    const unit = await this.scopedUnit(p, orgUnitId);
    // Suggestions rest on a whole month: by default the one before this.
    const month = monthArg ?? addMonths(this.thisMonth(unit.timeZone), -1);
    const policy = await currentPolicy(this.db, 'card');
    const minFen = Math.round(policy.body.minMonthlyYuan * 100);
    // Every candidate of the subtree is on file below the unit: the principal's to read.
    const snap = await this.snapshots.read(
      'card_suggestions',
      unit.id,
      month,
      policyKey(policy),
      () => this.cardCandidates(unit, month, minFen),
      opts,
    );
    const shown = snap.body.slice((page - 1) * pageSize, page * pageSize);
    const labels = new Map(
      (
        await q.customerLabels(
          this.read,
          this.engine,
          shown.map(([id]) => id),
        )
      ).map((l) => [l.customerId, l]),
    );
    return {
      unit: unitOut(unit),
      month,
      policy: { discountRate: policy.body.discountRate, minMonthlyYuan: policy.body.minMonthlyYuan },
      total: snap.body.length,
      items: shown.flatMap(([customerId, amountFen, volumeMl]) => {
        const l = labels.get(customerId);
        return l
          ? [
              {
                ...l,
                amountFen,
                volumeMl,
                savingFen: Math.round((cardSaving(policy.body, amountFen / 100) ?? 0) * 100),
              },
            ]
          : [];
      }),
      asOf: snap.asOf,
    };
  }

  private async cardCandidates(unit: UnitRow, month: string, minFen: number) {
    return q.cardCandidates(this.read, this.engine, (await this.subtree(unit)).ids, month, minFen);
  }

  /**
   * Compute and keep every snapshot a morning's dashboards start from: each unit's overview and key
   * customers for this month, and card suggestions for the month before.
   */
  async refreshSnapshots(): Promise<{ units: number; snapshots: number }> {
    const units = await q.subtree(this.read, this.engine, undefined, '');
    const keyPolicy = await currentPolicy(this.db, 'key_customer');
    const cardPolicy = await currentPolicy(this.db, 'card');
    const minFen = Math.round(cardPolicy.body.minMonthlyYuan * 100);
    const refresh = { refresh: true };
    for (const unit of units) {
      const month = this.thisMonth(unit.timeZone);
      const lastMonth = addMonths(month, -1);
      await this.snapshots.read(
        'overview',
        unit.id,
        month,
        policyKey(keyPolicy),
        () => this.overview(unit, month, keyPolicy.body),
        refresh,
      );
      await this.snapshots.read(
        'key_customers',
        unit.id,
        month,
        policyKey(keyPolicy),
        () => this.keyCustomerFigures(unit, month, keyPolicy.body),
        refresh,
      );
      await this.snapshots.read(
        'card_suggestions',
        unit.id,
        lastMonth,
        policyKey(cardPolicy),
        () => this.cardCandidates(unit, lastMonth, minFen),
        refresh,
      );
    }
    return { units: units.length, snapshots: units.length * 3 };
  }
}
