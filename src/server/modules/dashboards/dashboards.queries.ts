// SQL of the dashboards, key-customer analysis and card suggestions. Units are passed as id lists
// (the subtree of the unit asked about, already cut to the principal's scope).
import { sql, type Kysely, type SqlBool } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Principal } from '../../auth/principal.js';
import { inCustomerScope, inScope } from '../../auth/scope.js';
import { oneOf, prefixRange, type Engine } from '../../db/dialect.js';

export interface UnitRow {
  id: number;
  parentId: number | null;
  kindCode: string;
  code: string;
  name: string;
  path: string;
  timeZone: string;
}

/** Instants bounding a month and the same month a year before: [from, to). */
export interface MonthInstants {
  from: string;
  to: string;
  lastYearFrom: string;
  lastYearTo: string;
}

const n = (v: unknown) => Number(v ?? 0);

export const dashboardsQueries = {
  async unit(db: Kysely<Database>, id: number): Promise<UnitRow | undefined> {
    const r = await db
      .selectFrom('org_unit')
      .select(['id', 'parent_id', 'kind_code', 'code', 'name', 'path', 'time_zone'])
      .where('id', '=', id)
      .executeTakeFirst();
    return (
      r && {
        id: Number(r.id),
        parentId: r.parent_id === null ? null : Number(r.parent_id),
        kindCode: r.kind_code,
        code: r.code,
        name: r.name,
        path: r.path,
        timeZone: r.time_zone,
      }
    );
  },

  /** The unit and every unit below it (that the principal may see, when one is given). */
  async subtree(db: Kysely<Database>, engine: Engine, p: Principal | undefined, path: string): Promise<UnitRow[]> {
    const rows = await db
      .selectFrom('org_unit')
      .select(['id', 'parent_id', 'kind_code', 'code', 'name', 'path', 'time_zone'])
      .where((eb) => prefixRange(engine, eb.ref('path'), path))
      .$if(p !== undefined, (qb) => qb.where((eb) => inScope(p!, eb.ref('id'))))
      .orderBy('path')
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      parentId: r.parent_id === null ? null : Number(r.parent_id),
      kindCode: r.kind_code,
      code: r.code,
      name: r.name,
      path: r.path,
      timeZone: r.time_zone,
    }));
  },

  /** Sales per station and product over a range of business days, from the station_day rollup. */
  async stationSales(db: Kysely<Database>, engine: Engine, unitIds: number[], fromDay: string, toDay: string) {
    if (unitIds.length === 0) return [];
    const rows = await db
      .selectFrom('station_day')
      .select((eb) => [
        'org_unit_id',
        'product',
        eb.fn.sum<number>('volume_ml').as('volume_ml'),
        eb.fn.sum<number>('amount_fen').as('amount_fen'),
        eb.fn.sum<number>('card_amount_fen').as('card_amount_fen'),
        eb.fn.sum<number>('txn_count').as('txn_count'),
      ])
      .where((eb) => oneOf(engine, eb.ref('org_unit_id'), unitIds))
      .where('day', '>=', fromDay)
      .where('day', '<=', toDay)
      .groupBy(['org_unit_id', 'product'])
      .execute();
    return rows.map((r) => ({
      orgUnitId: Number(r.org_unit_id),
      product: r.product,
      volumeMl: n(r.volume_ml),
      amountFen: n(r.amount_fen),
      cardAmountFen: n(r.card_amount_fen),
      txnCount: n(r.txn_count),
    }));
  },

  /** Card top-ups of these units over a range of business days, from the station_day_topup rollup. */
  async topupTotals(db: Kysely<Database>, engine: Engine, unitIds: number[], fromDay: string, toDay: string) {
    if (unitIds.length === 0) return { amountFen: 0, bonusFen: 0, count: 0 };
    const r = await db
      .selectFrom('station_day_topup')
      .select((eb) => [
        eb.fn.sum<number>('amount_fen').as('amount_fen'),
        eb.fn.sum<number>('bonus_fen').as('bonus_fen'),
        eb.fn.sum<number>('topup_count').as('topup_count'),
      ])
      .where((eb) => oneOf(engine, eb.ref('org_unit_id'), unitIds))
      .where('day', '>=', fromDay)
      .where('day', '<=', toDay)
      .executeTakeFirstOrThrow();
    return { amountFen: n(r.amount_fen), bonusFen: n(r.bonus_fen), count: n(r.topup_count) };
  },

  /** Live customer records per unit and kind: on file by the end of the month (and a year before), and new in it. */
  async customerCounts(db: Kysely<Database>, engine: Engine, unitIds: number[], m: MonthInstants) {
    if (unitIds.length === 0) return [];
    const rows = await db
      .selectFrom('customer as c')
      .select([
        'c.org_unit_id',
        'c.kind',
        sql<number>`sum(case when c.created_at < ${m.to} then 1 else 0 end)`.as('total'),
        sql<number>`sum(case when c.created_at >= ${m.from} and c.created_at < ${m.to} then 1 else 0 end)`.as(
          'new_count',
        ),
        sql<number>`sum(case when c.created_at < ${m.lastYearTo} then 1 else 0 end)`.as('total_ly'),
        sql<number>`sum(case when c.created_at >= ${m.lastYearFrom} and c.created_at < ${m.lastYearTo} then 1 else 0 end)`.as(
          'new_ly',
        ),
      ])
      .where('c.merged_into_id', 'is', null)
      .where((eb) => oneOf(engine, eb.ref('c.org_unit_id'), unitIds))
      .groupBy(['c.org_unit_id', 'c.kind'])
      .execute();
    return rows.map((r) => ({
      orgUnitId: Number(r.org_unit_id),
      kind: r.kind,
      total: n(r.total),
      newCount: n(r.new_count),
      totalLastYear: n(r.total_ly),
      newLastYear: n(r.new_ly),
    }));
  },

  /** Customers of these units who bought anything in the month, from the customer_month rollup. */
  async activeCustomers(db: Kysely<Database>, engine: Engine, unitIds: number[], month: string): Promise<number> {
    if (unitIds.length === 0) return 0;
    const r = await db
      // customer_month is keyed by (month, customer): the unit's customers are read first and each
      // probed for the month. SQLite keeps a cross join's order; PostgreSQL plans it as an inner join.
      .selectFrom('customer as c')
      .crossJoin('customer_month as m')
      .whereRef('m.customer_id', '=', 'c.id')
      .select(sql<number>`count(distinct m.customer_id)`.as('n'))
      .where('m.month', '=', month)
      .where((eb) => oneOf(engine, eb.ref('c.org_unit_id'), unitIds))
      .executeTakeFirstOrThrow();
    return n(r.n);
  },

  /**
   * Volume per customer and station in a month, from the rows: the monthly rollup is per customer
   * only, and "a station's top customers" needs the station.
   */
  async customerStationVolumes(
    db: Kysely<Database>,
    engine: Engine,
    unitIds: number[],
    fromDay: string,
    toDay: string,
  ) {
    if (unitIds.length === 0) return [];
    const rows = await db
      .selectFrom('fuel_transaction')
      .select((eb) => [
        'customer_id',
        'org_unit_id',
        eb.fn.sum<number>('volume_ml').as('volume_ml'),
        sql<number>`coalesce(sum(amount_fen), 0)`.as('amount_fen'),
      ])
      .where((eb) => oneOf(engine, eb.ref('org_unit_id'), unitIds))
      .where('business_day', '>=', fromDay)
      .where('business_day', '<=', toDay)
      .where('customer_id', 'is not', null)
      .groupBy(['customer_id', 'org_unit_id'])
      .execute();
    return rows.map((r) => ({
      customerId: Number(r.customer_id),
      orgUnitId: Number(r.org_unit_id),
      volumeMl: n(r.volume_ml),
      amountFen: n(r.amount_fen),
    }));
  },

  /**
   * Per day: all sales, and the large sales of the key products. From the rows, not a rollup: what
   * counts as large is a policy HQ may change at any time.
   */
  async largeSalesByDay(
    db: Kysely<Database>,
    engine: Engine,
    unitIds: number[],
    fromDay: string,
    toDay: string,
    products: string[],
    minFen: number,
  ) {
    if (unitIds.length === 0) return [];
    const ofProducts = products.length ? oneOf(engine, sql.ref('product'), products) : sql<SqlBool>`1 = 0`;
    const large = sql<SqlBool>`(${ofProducts} and amount_fen >= ${minFen})`;
    const rows = await db
      .selectFrom('fuel_transaction')
      .select((eb) => [
        'business_day',
        eb.fn.countAll<number>().as('txn_count'),
        eb.fn.sum<number>('volume_ml').as('volume_ml'),
        sql<number>`sum(case when ${ofProducts} then 1 else 0 end)`.as('product_txn_count'),
        sql<number>`sum(case when ${ofProducts} then volume_ml else 0 end)`.as('product_volume_ml'),
        sql<number>`sum(case when ${large} then 1 else 0 end)`.as('large_txn_count'),
        sql<number>`sum(case when ${large} then volume_ml else 0 end)`.as('large_volume_ml'),
        sql<number>`sum(case when ${large} then amount_fen else 0 end)`.as('large_amount_fen'),
      ])
      .where((eb) => oneOf(engine, eb.ref('org_unit_id'), unitIds))
      .where('business_day', '>=', fromDay)
      .where('business_day', '<=', toDay)
      .groupBy('business_day')
      .orderBy('business_day')
      .execute();
    return rows.map((r) => ({
      day: r.business_day,
      txnCount: n(r.txn_count),
      volumeMl: n(r.volume_ml),
      productTxnCount: n(r.product_txn_count),
      productVolumeMl: n(r.product_volume_ml),
      largeTxnCount: n(r.large_txn_count),
      largeVolumeMl: n(r.large_volume_ml),
      largeAmountFen: n(r.large_amount_fen),
    }));
  },

  /** What the three-step profile and the ownership check need (for customers the principal may read, when one is given). */
  async customerFacts(db: Kysely<Database>, engine: Engine, p: Principal | undefined, ids: number[]) {
    if (ids.length === 0) return [];
    const rows = await db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .leftJoin('app_user as u', 'u.id', 'c.owner_user_id')
      .select((eb) => [
        'c.id',
        'c.code',
        'c.kind',
        'c.name',
        'c.surname',
        'c.organisation',
        'c.products',
        'c.routes',
        'c.owner_user_id',
        'u.display_name as owner_name',
        'o.name as org_unit_name',
        'o.path as org_unit_path',
        eb
          .selectFrom('customer_phone as ph')
          .select(eb.fn.countAll<number>().as('n'))
          .whereRef('ph.customer_id', '=', 'c.id')
          .as('phones'),
        eb
          .selectFrom('vehicle as v')
          .select(eb.fn.countAll<number>().as('n'))
          .whereRef('v.customer_id', '=', 'c.id')
          .as('vehicles'),
        eb
          .selectFrom('vehicle as v')
          .select(eb.fn.countAll<number>().as('n'))
          .whereRef('v.customer_id', '=', 'c.id')
          .where('v.model', 'is not', null)
          .where('v.model', '!=', '')
          .as('models'),
      ])
      .where((eb) => oneOf(engine, eb.ref('c.id'), ids))
      .where('c.merged_into_id', 'is', null)
      .$if(p !== undefined, (qb) => qb.where((eb) => inCustomerScope(p!, eb.ref('c.org_unit_id'))))
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      code: r.code,
      kind: r.kind,
      name: r.name,
      surname: r.surname,
      organisation: r.organisation,
      products: r.products,
      routes: r.routes,
      ownerUserId: r.owner_user_id === null ? null : Number(r.owner_user_id),
      ownerName: r.owner_name,
      orgUnitName: r.org_unit_name,
      orgUnitPath: r.org_unit_path,
      phoneCount: n(r.phones),
      vehicleCount: n(r.vehicles),
      modelCount: n(r.models),
    }));
  },

  /**
   * Customers of these units without an active fuel card who spent at least `minFen` in the month,
   * biggest first: [customer id, amount, volume].
   */
  async cardCandidates(
    db: Kysely<Database>,
    engine: Engine,
    unitIds: number[],
    month: string,
    minFen: number,
  ): Promise<[number, number, number][]> {
    if (unitIds.length === 0) return [];
    const rows = await db
      // The unit's customers first, each probed for the month (see activeCustomers).
      .selectFrom('customer as c')
      .crossJoin('customer_month as m')
      .whereRef('m.customer_id', '=', 'c.id')
      .select((eb) => [
        'm.customer_id',
        eb.fn.sum<number>('m.amount_fen').as('amount_fen'),
        eb.fn.sum<number>('m.volume_ml').as('volume_ml'),
      ])
      .where('m.month', '=', month)
      .where('c.merged_into_id', 'is', null)
      .where((eb) => oneOf(engine, eb.ref('c.org_unit_id'), unitIds))
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('fuel_card as f')
              .select('f.id')
              .whereRef('f.customer_id', '=', 'c.id')
              .where('f.status', '=', 'active'),
          ),
        ),
      )
      .groupBy('m.customer_id')
      .having((eb) => eb.fn.sum('m.amount_fen'), '>=', minFen)
      .orderBy(sql`sum(m.amount_fen)`, 'desc')
      .orderBy('m.customer_id')
      .execute();
    return rows.map((r) => [Number(r.customer_id), n(r.amount_fen), n(r.volume_ml)]);
  },

  /** How a list names customers: code, kind, name, their unit and owner. */
  async customerLabels(db: Kysely<Database>, engine: Engine, ids: number[]) {
    if (ids.length === 0) return [];
    const rows = await db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .leftJoin('app_user as u', 'u.id', 'c.owner_user_id')
      .select(['c.id', 'c.code', 'c.kind', 'c.name', 'o.name as org_unit_name', 'u.display_name as owner_name'])
      .where((eb) => oneOf(engine, eb.ref('c.id'), ids))
      .execute();
    return rows.map((r) => ({
      customerId: Number(r.id),
      code: r.code,
      kind: r.kind,
      name: r.name,
      orgUnitName: r.org_unit_name,
      ownerName: r.owner_name,
    }));
  },

  /** Alerts of these units opened, and closed, within [from, to). */
  async alertCounts(db: Kysely<Database>, engine: Engine, unitIds: number[], from: string, to: string) {
    if (unitIds.length === 0) return { opened: 0, closed: 0 };
    const r = await db
      .selectFrom('alert')
      .select([
        sql<number>`sum(case when opened_at >= ${from} and opened_at < ${to} then 1 else 0 end)`.as('opened'),
        sql<number>`sum(case when closed_at >= ${from} and closed_at < ${to} then 1 else 0 end)`.as('closed'),
      ])
      .where((eb) => oneOf(engine, eb.ref('org_unit_id'), unitIds))
      .executeTakeFirstOrThrow();
    return { opened: n(r.opened), closed: n(r.closed) };
  },

  /** How many customers of these units got each number of stars for the month. */
  async starCounts(db: Kysely<Database>, engine: Engine, unitIds: number[], month: string) {
    if (unitIds.length === 0) return [];
    const rows = await db
      .selectFrom('customer_rating as r')
      .innerJoin('customer as c', 'c.id', 'r.customer_id')
      .select((eb) => ['r.stars', eb.fn.countAll<number>().as('n')])
      .where('r.period', '=', month)
      .where((eb) => oneOf(engine, eb.ref('c.org_unit_id'), unitIds))
      .groupBy('r.stars')
      .execute();
    return rows.map((r) => ({ stars: Number(r.stars), count: n(r.n) }));
  },
};
