// The rollups of a database loaded with raw rows (the benchmarks' loaders skip the ingest): built by
// set-based SQL from the rows, as modules/transactions/rollups.ts keeps them on ingest.
import { sql } from 'kysely';
import type { Db } from '../../src/server/db/connection.js';

/** The rollups from the rows, as the ingest keeps them (see modules/transactions/rollups.ts). */
export async function buildRollups(db: Db): Promise<void> {
  const k = db.kysely;
  await sql`insert into customer_month (customer_id, month, product, volume_ml, amount_fen, txn_count)
    select customer_id, substr(business_day, 1, 7), product, sum(volume_ml), sum(coalesce(amount_fen, 0)), count(*)
    from fuel_transaction where customer_id is not null group by customer_id, substr(business_day, 1, 7), product`.execute(
    k,
  );
  await sql`insert into station_day (org_unit_id, day, product, volume_ml, amount_fen, txn_count, card_amount_fen)
    select org_unit_id, business_day, product, sum(volume_ml), sum(coalesce(amount_fen, 0)), count(*),
      sum(case when payment = 'card' or (payment is null and card_no is not null) then coalesce(amount_fen, 0) else 0 end)
    from fuel_transaction group by org_unit_id, business_day, product`.execute(k);
  const interval =
    db.engine === 'sqlite'
      ? sql`(julianday(v.ld) - julianday(v.fd)) / (v.n - 1)`
      : sql`(v.ld::date - v.fd::date)::double precision / (v.n - 1)`;
  await sql`update customer set visit_count = v.n, first_visit_at = v.fa, last_visit_at = v.la, first_visit_day = v.fd, last_visit_day = v.ld,
      usual_interval_days = case when v.n >= 2 then ${interval} end
    from (select customer_id, count(distinct business_day) as n, min(occurred_at) as fa, max(occurred_at) as la, min(business_day) as fd, max(business_day) as ld
          from fuel_transaction where customer_id is not null group by customer_id) v
    where customer.id = v.customer_id`.execute(k);
  await sql`analyze`.execute(k);
}
