import type { Kysely } from 'kysely';

// Key-customer figures read a unit's sales of one month row by row (a large sale is whatever the
// policy of the day says, so no rollup can hold it): stations and their days, in index order.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('fuel_transaction_unit_day_idx')
    .on('fuel_transaction')
    .columns(['org_unit_id', 'business_day'])
    .execute();
}
