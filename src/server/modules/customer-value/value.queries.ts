// SQL of customer value: the fits the nightly model rule stored per branch (churn_model_fit, where the
// spend model is stored beside them as model 'gamma_gamma'), customers' visit cadence, and their takings.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { oneOf, type Engine } from '../../db/dialect.js';

/** The model name of the spend model's rows in churn_model_fit. */
export const SPEND_MODEL = 'gamma_gamma';

export interface ValueCustomerRow {
  id: number;
  orgUnitId: number;
  path: string;
  visitCount: number;
  firstVisitDay: string | null;
  lastVisitDay: string | null;
}

export interface FitRow {
  orgUnitId: number;
  model: string;
  period: string;
  params: string;
}

/** How many of a unit's newest fit rows are read to find its newest chosen churn fit and spend fit. */
const NEWEST_FITS = 12;

export const valueQueries = {
  async companyTimeZone(db: Kysely<Database>): Promise<string> {
    const row = await db
      .selectFrom('org_unit')
      .select('time_zone')
      .where('parent_id', 'is', null)
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return row?.time_zone ?? 'Asia/Shanghai';
  },

  async orgUnits(db: Kysely<Database>) {
    const rows = await db.selectFrom('org_unit').select(['id', 'path', 'kind_code']).execute();
    return rows.map((r) => ({ id: Number(r.id), path: r.path, kindCode: r.kind_code }));
  },

  /** Live customers by id with their unit's path and visit cadence. */
  async customers(db: Kysely<Database>, engine: Engine, ids: readonly number[]): Promise<ValueCustomerRow[]> {
    if (ids.length === 0) return [];
    const rows = await db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .select(['c.id', 'c.org_unit_id', 'o.path', 'c.visit_count', 'c.first_visit_day', 'c.last_visit_day'])
      .where('c.merged_into_id', 'is', null)
      .where(oneOf(engine, sql.ref('c.id'), ids))
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      orgUnitId: Number(r.org_unit_id),
      path: r.path,
      visitCount: Number(r.visit_count),
      firstVisitDay: r.first_visit_day,
      lastVisitDay: r.last_visit_day,
    }));
  },

  /**
   * Per customer, the days with a sale of known amount up to `untilDay` and their takings: what the
   * spend model sees. Read through fuel_transaction_customer_idx (customer, business day).
   */
  async spend(db: Kysely<Database>, engine: Engine, ids: readonly number[], untilDay?: string) {
    const out = new Map<number, { visitDays: number; amountFen: number }>();
    if (ids.length === 0) return out;
    const rows = await db
      .selectFrom('fuel_transaction')
      .select((eb) => [
        'customer_id',
        eb.fn.count<number>('business_day').distinct().as('days'),
        eb.fn.sum<number>('amount_fen').as('amount'),
      ])
      .where(oneOf(engine, sql.ref('customer_id'), ids))
      .where('amount_fen', '>', 0)
      .$if(untilDay !== undefined, (q) => q.where('business_day', '<=', untilDay!))
      .groupBy('customer_id')
      .execute();
    // pg returns count and sum of int8 as strings.
    for (const r of rows) out.set(Number(r.customer_id), { visitDays: Number(r.days), amountFen: Number(r.amount) });
    return out;
  },

  /** A unit's newest fit rows, newest period first. */
  async newestFits(db: Kysely<Database>, orgUnitId: number): Promise<FitRow[]> {
    const rows = await db
      .selectFrom('churn_model_fit')
      .select(['org_unit_id', 'model', 'period', 'params'])
      .where('org_unit_id', '=', orgUnitId)
      .orderBy('period', 'desc')
      .limit(NEWEST_FITS)
      .execute();
    return rows.map((r) => ({ orgUnitId: Number(r.org_unit_id), model: r.model, period: r.period, params: r.params }));
  },

  /** The fit rows saved for one period (a night's fits). */
  async fitsOfPeriod(db: Kysely<Database>, period: string): Promise<FitRow[]> {
    const rows = await db
      .selectFrom('churn_model_fit')
      .select(['org_unit_id', 'model', 'period', 'params'])
      .where('period', '=', period)
      .execute();
    return rows.map((r) => ({ orgUnitId: Number(r.org_unit_id), model: r.model, period: r.period, params: r.params }));
  },
};
