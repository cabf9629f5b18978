import type { Kysely } from 'kysely';
import { idRefType, instantType, isPostgres, sql, withId } from './helpers.js';

// Transactions: fuel sales from card, e-ledger and POS systems (and fill-ups recorded at the pump),
// the API keys those systems send them with, and the rollups kept in step on every write.
export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const ref = idRefType(db);
  const pg = isPostgres(db);

  // Keys are bound to an org unit; only the SHA-256 of the secret is stored, the prefix is for people.
  await withId(db, db.schema.createTable('api_key'))
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('key_prefix', 'varchar(16)', (c) => c.notNull())
    .addColumn('key_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('created_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('revoked_at', ts)
    .addColumn('last_used_at', ts)
    .execute();
  await db.schema.createIndex('api_key_org_idx').on('api_key').columns(['org_unit_id', 'id']).execute();

  // One row per request (or file) received, with what became of its rows.
  await withId(db, db.schema.createTable('ingest_batch'))
    .addColumn('source', 'varchar(32)', (c) => c.notNull())
    .addColumn('api_key_id', ref, (c) => c.references('api_key.id').onDelete('set null'))
    .addColumn('user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('received_at', ts, (c) => c.notNull())
    .addColumn('finished_at', ts)
    .addColumn('rows_received', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('inserted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('duplicates', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rejected', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attached', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('superseded', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await withId(db, db.schema.createTable('fuel_transaction'))
    .addColumn('source', 'varchar(32)', (c) => c.notNull())
    .addColumn('external_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('occurred_at', ts, (c) => c.notNull())
    // The station's calendar day (its own time zone), so days and months group on a plain column.
    .addColumn('business_day', 'varchar(10)', (c) => c.notNull())
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('customer_id', ref, (c) => c.references('customer.id').onDelete('set null'))
    .addColumn('card_no', 'varchar(32)')
    .addColumn('plate', 'varchar(16)')
    .addColumn('product', 'varchar(32)', (c) => c.notNull())
    .addColumn('business_line', 'varchar(16)', (c) => c.notNull().defaultTo('retail'))
    .addColumn('volume_ml', 'integer', (c) => c.notNull())
    .addColumn('unit_price_fen', 'integer')
    .addColumn('amount_fen', 'integer')
    .addColumn('payment', 'varchar(16)')
    .addColumn('visit_id', ref, (c) => c.references('visit.id').onDelete('set null'))
    .addColumn('ingest_batch_id', ref, (c) => c.references('ingest_batch.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addUniqueConstraint('fuel_transaction_source_external_uq', ['source', 'external_id'])
    .execute();
  // A customer's purchases newest first, and the days he came (the rollups' visit days).
  await db.schema
    .createIndex('fuel_transaction_customer_idx')
    .on('fuel_transaction')
    .columns(['customer_id', 'business_day', 'occurred_at'])
    .execute();
  // Rows waiting for their card or plate to become known; attached rows leave these indexes.
  await sql`create index fuel_transaction_unattached_card_idx on fuel_transaction (card_no) where customer_id is null and card_no is not null`.execute(
    db,
  );
  await sql`create index fuel_transaction_unattached_plate_idx on fuel_transaction (plate) where customer_id is null and plate is not null`.execute(
    db,
  );
  // Fill-ups recorded at the pump, which a card or POS row for the same fill-up replaces.
  await sql`create index fuel_transaction_pump_idx on fuel_transaction (customer_id, occurred_at) where source = 'pump'`.execute(
    db,
  );

  // Which transactions a merge moved, so that undoing it moves exactly those back.
  await db.schema
    .createTable('customer_merge_txn')
    .addColumn('merge_id', ref, (c) => c.notNull().references('customer_merge.id').onDelete('cascade'))
    .addColumn('txn_id', ref, (c) => c.notNull().references('fuel_transaction.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('customer_merge_txn_pk', ['merge_id', 'txn_id'])
    .execute();

  await db.schema
    .createTable('customer_month')
    .addColumn('customer_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    .addColumn('month', 'varchar(7)', (c) => c.notNull())
    .addColumn('product', 'varchar(32)', (c) => c.notNull())
    .addColumn('volume_ml', 'bigint', (c) => c.notNull())
    .addColumn('amount_fen', 'bigint', (c) => c.notNull())
    .addColumn('txn_count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('customer_month_pk', ['customer_id', 'month', 'product'])
    // Rollups are upserted by primary key: on SQLite one b-tree (no rowid) instead of a table and its key index.
    .$call((t) => (pg ? t : t.modifyEnd(sql`without rowid`)))
    .execute();

  await db.schema
    .createTable('station_day')
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('day', 'varchar(10)', (c) => c.notNull())
    .addColumn('product', 'varchar(32)', (c) => c.notNull())
    .addColumn('volume_ml', 'bigint', (c) => c.notNull())
    .addColumn('amount_fen', 'bigint', (c) => c.notNull())
    .addColumn('txn_count', 'integer', (c) => c.notNull())
    .addColumn('card_amount_fen', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('station_day_pk', ['org_unit_id', 'day', 'product'])
    .$call((t) => (pg ? t : t.modifyEnd(sql`without rowid`)))
    .execute();
  await db.schema.createIndex('station_day_day_idx').on('station_day').column('day').execute();

  // A customer's cadence: visit days (days with at least one fill-up), first and last of them,
  // and the usual interval = mean gap between consecutive visit days.
  await db.schema
    .alterTable('customer')
    .addColumn('visit_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('customer').addColumn('first_visit_at', ts).execute();
  await db.schema.alterTable('customer').addColumn('first_visit_day', 'varchar(10)').execute();
  await db.schema.alterTable('customer').addColumn('last_visit_day', 'varchar(10)').execute();
  await db.schema.alterTable('customer').addColumn('usual_interval_days', 'double precision').execute();
  if (pg) {
    // Rollups and the cadence columns are rewritten on every ingest chunk: free room on each page lets
    // PostgreSQL update them in place (HOT) instead of adding a row version to every index.
    await sql`alter table customer set (fillfactor = 70)`.execute(db);
    await sql`alter table customer_month set (fillfactor = 70)`.execute(db);
    await sql`alter table station_day set (fillfactor = 70)`.execute(db);
  }
}
