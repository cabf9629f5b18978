import type { Kysely } from 'kysely';
import { idRefType, instantType, isPostgres, sql, withId } from './helpers.js';

// Fuel-card top-ups (充值) as card systems send them, and the per-station, per-day rollup the
// dashboards read, kept in step in the same transaction as the rows.
export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const ref = idRefType(db);
  const pg = isPostgres(db);

  await withId(db, db.schema.createTable('card_topup'))
    .addColumn('source', 'varchar(32)', (c) => c.notNull())
    .addColumn('external_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('occurred_at', ts, (c) => c.notNull())
    // The station's calendar day (its own time zone), as for fuel sales.
    .addColumn('business_day', 'varchar(10)', (c) => c.notNull())
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('card_no', 'varchar(32)', (c) => c.notNull())
    .addColumn('customer_id', ref, (c) => c.references('customer.id').onDelete('set null'))
    .addColumn('amount_fen', 'integer', (c) => c.notNull())
    // What the card system adds on top of the money paid (赠送金额); not part of the amount.
    .addColumn('bonus_fen', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('payment', 'varchar(16)')
    .addColumn('ingest_batch_id', ref, (c) => c.references('ingest_batch.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addUniqueConstraint('card_topup_source_external_uq', ['source', 'external_id'])
    .execute();
  await db.schema
    .createIndex('card_topup_unit_day_idx')
    .on('card_topup')
    .columns(['org_unit_id', 'business_day'])
    .execute();
  await db.schema
    .createIndex('card_topup_customer_idx')
    .on('card_topup')
    .columns(['customer_id', 'business_day'])
    .execute();
  // Top-ups waiting for their card to become known.
  await sql`create index card_topup_unattached_card_idx on card_topup (card_no) where customer_id is null`.execute(db);

  await db.schema
    .createTable('station_day_topup')
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('day', 'varchar(10)', (c) => c.notNull())
    .addColumn('amount_fen', 'bigint', (c) => c.notNull())
    .addColumn('bonus_fen', 'bigint', (c) => c.notNull())
    .addColumn('topup_count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('station_day_topup_pk', ['org_unit_id', 'day'])
    // Upserted by primary key: on SQLite one b-tree (no rowid) instead of a table and its key index.
    .$call((t) => (pg ? t : t.modifyEnd(sql`without rowid`)))
    .execute();
  await db.schema.createIndex('station_day_topup_day_idx').on('station_day_topup').column('day').execute();
  if (pg) await sql`alter table station_day_topup set (fillfactor = 70)`.execute(db);
}
