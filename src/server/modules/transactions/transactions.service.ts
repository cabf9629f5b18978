// What a customer bought: his transactions newest first, and monthly volume from the rollup.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { AppError } from '../../errors.js';
import { businessDay } from '../../../domain/business-day.js';
import { addMonths } from '../../../domain/kpi.js';
import { recordRead } from '../audit/audit.service.js';

export interface Totals {
  volumeMl: number;
  amountFen: number;
  txnCount: number;
}

const zero = (): Totals => ({ volumeMl: 0, amountFen: 0, txnCount: 0 });

export class TransactionsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private async customer(id: number) {
    const c = await this.db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .select([
        'c.id',
        'c.org_unit_id',
        'o.time_zone',
        'c.visit_count',
        'c.first_visit_at',
        'c.last_visit_at',
        'c.usual_interval_days',
      ])
      .where('c.id', '=', id)
      .executeTakeFirst();
    if (!c) throw new AppError('NOT_FOUND', `customer ${id} not found`);
    return c;
  }

  /** A page of the customer's transactions, newest first. Reading purchase history is audited like the record. */
  async list(p: Principal, ip: string | null, customerId: number, page: number, pageSize: number) {
    const c = await this.customer(customerId);
    const base = this.db.selectFrom('fuel_transaction as t').where('t.customer_id', '=', customerId);
    const { n } = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await base
      .innerJoin('org_unit as o', 'o.id', 't.org_unit_id')
      .select([
        't.id',
        't.source',
        't.external_id',
        't.occurred_at',
        't.business_day',
        't.org_unit_id',
        'o.name as org_unit_name',
        't.card_no',
        't.plate',
        't.product',
        't.business_line',
        't.volume_ml',
        't.unit_price_fen',
        't.amount_fen',
        't.payment',
        't.visit_id',
      ])
      // The index (customer, business day, time) gives this order without sorting.
      .orderBy('t.business_day', 'desc')
      .orderBy('t.occurred_at', 'desc')
      .orderBy('t.id', 'desc')
      .limit(pageSize)
      .offset((page - 1) * pageSize)
      .execute();
    await recordRead(this.db, actorOf(p, ip), 'customer_transactions', customerId, c.org_unit_id);
    return {
      total: Number(n),
      items: rows.map((r) => ({
        id: r.id,
        source: r.source,
        externalId: r.external_id,
        occurredAt: r.occurred_at,
        businessDay: r.business_day,
        orgUnitId: r.org_unit_id,
        orgUnitName: r.org_unit_name,
        cardNo: r.card_no,
        plate: r.plate,
        product: r.product,
        businessLine: r.business_line,
        volumeMl: r.volume_ml,
        unitPriceFen: r.unit_price_fen,
        amountFen: r.amount_fen,
        payment: r.payment,
        visitId: r.visit_id,
      })),
    };
  }

  /** Volume by month and product for a year and the year before, from the monthly rollup. */
  async volumeMonthly(customerId: number, year?: number) {
    const c = await this.customer(customerId);
    const thisYear = year ?? Number(businessDay(this.now().getTime(), c.time_zone).slice(0, 4));
    const lastYear = thisYear - 1;
    const rows = await this.db
      .selectFrom('customer_month')
      .select(['month', 'product', 'volume_ml', 'amount_fen', 'txn_count'])
      // Keyed by month first: the 24 months are named, so each is one look-up.
      .where(
        'month',
        'in',
        Array.from({ length: 24 }, (_, i) => addMonths(`${lastYear}-01`, i)),
      )
      .where('customer_id', '=', customerId)
      .orderBy('month')
      .orderBy('product')
      .execute();
    const months = Array.from({ length: 12 }, (_, i) => ({ month: i + 1, thisYear: zero(), lastYear: zero() }));
    const products = new Map<string, { product: string; thisYear: Totals; lastYear: Totals }>();
    const totals = { thisYear: zero(), lastYear: zero() };
    const add = (t: Totals, r: { volume_ml: number; amount_fen: number; txn_count: number }) => {
      t.volumeMl += Number(r.volume_ml);
      t.amountFen += Number(r.amount_fen);
      t.txnCount += Number(r.txn_count);
    };
    for (const r of rows) {
      const which = r.month.startsWith(String(thisYear)) ? 'thisYear' : 'lastYear';
      add(months[Number(r.month.slice(5, 7)) - 1]![which], r);
      let p = products.get(r.product);
      if (!p) products.set(r.product, (p = { product: r.product, thisYear: zero(), lastYear: zero() }));
      add(p[which], r);
      add(totals[which], r);
    }
    return {
      customerId,
      year: thisYear,
      cells: rows.map((r) => ({
        month: r.month,
        product: r.product,
        volumeMl: Number(r.volume_ml),
        amountFen: Number(r.amount_fen),
        txnCount: Number(r.txn_count),
      })),
      months,
      products: [...products.values()],
      totals,
      cadence: {
        visitCount: Number(c.visit_count),
        firstVisitAt: c.first_visit_at,
        lastVisitAt: c.last_visit_at,
        usualIntervalDays: c.usual_interval_days,
      },
    };
  }
}
