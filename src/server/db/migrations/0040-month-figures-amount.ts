import type { Kysely } from 'kysely';
import { isPostgres, sql } from './helpers.js';

// The monthly rating reads a branch's month of customer_month: volume and amount. Without the
// amount in the covering index of migration 0038 that read went to the heap, the whole month's blocks
// once per branch (62,875 blocks for 426,734 rows, 0.7 s a branch at 1,000,000 customers); with it the
// rating reads the index alone, as the decline rule does.
export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`create index customer_month_month_idx on customer_month (month, customer_id) include (volume_ml, txn_count, amount_fen)`.execute(
    db,
  );
  await sql`drop index if exists customer_month_figures_idx`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`create index if not exists customer_month_figures_idx on customer_month (month, customer_id) include (volume_ml, txn_count)`.execute(
    db,
  );
  await sql`drop index if exists customer_month_month_idx`.execute(db);
}
