import type { Kysely } from 'kysely';
import { idRefType, instantType, isPostgres, sql, withId } from './helpers.js';

export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const ref = idRefType(db);
  const pg = isPostgres(db);

  await withId(db, db.schema.createTable('customer'))
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('code', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('name', 'varchar(200)')
    .addColumn('surname', 'varchar(32)')
    .addColumn('gender', 'varchar(8)')
    .addColumn('organisation', 'varchar(200)')
    .addColumn('parent_id', ref, (c) => c.references('customer.id').onDelete('set null'))
    .addColumn('owner_user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('routes', 'text')
    .addColumn('products', 'text')
    .addColumn('fuel_use', 'text')
    .addColumn('settlement_method', 'varchar(32)')
    .addColumn('invoice_type', 'varchar(32)')
    .addColumn('demand_volume', 'text')
    .addColumn('equipment', 'text')
    .addColumn('birthday', 'varchar(10)')
    .addColumn('other_stations', 'text')
    .addColumn('why_us', 'text')
    .addColumn('satisfaction', 'integer')
    .addColumn('notes', 'text')
    .addColumn('look_after', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('merged_into_id', ref, (c) => c.references('customer.id').onDelete('set null'))
    .addColumn('last_visit_at', ts)
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_by', ref)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('customer_org_idx').on('customer').columns(['org_unit_id', 'id']).execute();
  await db.schema.createIndex('customer_owner_idx').on('customer').column('owner_user_id').execute();
  await db.schema.createIndex('customer_name_idx').on('customer').column('name').execute();

  await withId(db, db.schema.createTable('customer_phone'))
    .addColumn('customer_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    .addColumn('phone', 'varchar(32)', (c) => c.notNull())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('label', 'varchar(64)')
    .addColumn('contact_name', 'varchar(100)')
    .execute();
  await db.schema.createIndex('customer_phone_phone_idx').on('customer_phone').column('phone').execute();
  await db.schema.createIndex('customer_phone_customer_idx').on('customer_phone').column('customer_id').execute();

  await withId(db, db.schema.createTable('vehicle'))
    .addColumn('customer_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    .addColumn('plate', 'varchar(16)', (c) => c.notNull())
    .addColumn('plate_reversed', 'varchar(16)', (c) => c.notNull())
    .addColumn('plate_kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('model', 'varchar(100)')
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('vehicle_plate_idx').on('vehicle').column('plate').execute();
  await db.schema.createIndex('vehicle_customer_idx').on('vehicle').column('customer_id').execute();
  // Attendants often catch only the last characters: an index on the reversed plate makes suffixes prefixes.
  if (pg) {
    await sql`create extension if not exists pg_trgm`.execute(db);
    await sql`create index vehicle_plate_trgm_idx on vehicle using gin (plate gin_trgm_ops)`.execute(db);
    await sql`create index vehicle_plate_prefix_idx on vehicle (plate text_pattern_ops)`.execute(db);
    await sql`create index vehicle_plate_suffix_idx on vehicle (plate_reversed text_pattern_ops)`.execute(db);
  } else {
    await sql`create virtual table vehicle_plate_fts using fts5(plate, content='vehicle', content_rowid='id', tokenize='trigram')`.execute(
      db,
    );
    await sql`create trigger vehicle_fts_ai after insert on vehicle begin insert into vehicle_plate_fts(rowid, plate) values (new.id, new.plate); end`.execute(
      db,
    );
    await sql`create trigger vehicle_fts_ad after delete on vehicle begin insert into vehicle_plate_fts(vehicle_plate_fts, rowid, plate) values ('delete', old.id, old.plate); end`.execute(
      db,
    );
    await sql`create trigger vehicle_fts_au after update of plate on vehicle begin
      insert into vehicle_plate_fts(vehicle_plate_fts, rowid, plate) values ('delete', old.id, old.plate);
      insert into vehicle_plate_fts(rowid, plate) values (new.id, new.plate); end`.execute(db);
    await sql`create index vehicle_plate_suffix_idx on vehicle (plate_reversed)`.execute(db);
  }

  await withId(db, db.schema.createTable('fuel_card'))
    .addColumn('customer_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    .addColumn('card_no', 'varchar(32)', (c) => c.notNull().unique())
    .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('active'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('fuel_card_customer_idx').on('fuel_card').column('customer_id').execute();

  await db.schema
    .createTable('customer_tag')
    .addColumn('customer_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    .addColumn('tag', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('customer_tag_pk', ['customer_id', 'tag'])
    .execute();
  await db.schema.createIndex('customer_tag_tag_idx').on('customer_tag').column('tag').execute();

  await withId(db, db.schema.createTable('visit'))
    .addColumn('customer_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('vehicle_id', ref, (c) => c.references('vehicle.id').onDelete('set null'))
    .addColumn('at', ts, (c) => c.notNull())
    .addColumn('product', 'varchar(32)')
    .addColumn('volume_ml', 'integer')
    .addColumn('note', 'text')
    .execute();
  await db.schema.createIndex('visit_customer_idx').on('visit').columns(['customer_id', 'at']).execute();

  await withId(db, db.schema.createTable('customer_merge'))
    .addColumn('survivor_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    .addColumn('merged_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    .addColumn('snapshot', 'text', (c) => c.notNull())
    .addColumn('by_user_id', ref)
    .addColumn('at', ts, (c) => c.notNull())
    .addColumn('undone_at', ts)
    .execute();

  await db.schema
    .createTable('code_sequence')
    .addColumn('prefix', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('last_value', 'integer', (c) => c.notNull())
    .execute();

  await withId(db, db.schema.createTable('access_request'))
    .addColumn('requester_id', ref, (c) => c.notNull().references('app_user.id').onDelete('cascade'))
    .addColumn('target_org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('days', 'integer', (c) => c.notNull())
    .addColumn('required_slots', 'varchar(200)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('valid_from', ts)
    .addColumn('valid_until', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('decided_at', ts)
    .execute();
  await db.schema
    .createIndex('access_request_requester_idx')
    .on('access_request')
    .columns(['requester_id', 'status'])
    .execute();

  await withId(db, db.schema.createTable('access_approval'))
    .addColumn('request_id', ref, (c) => c.notNull().references('access_request.id').onDelete('cascade'))
    .addColumn('approver_id', ref, (c) => c.notNull().references('app_user.id').onDelete('cascade'))
    .addColumn('slot', 'varchar(32)', (c) => c.notNull())
    .addColumn('decision', 'varchar(16)', (c) => c.notNull())
    .addColumn('comment', 'text')
    .addColumn('at', ts, (c) => c.notNull())
    .addUniqueConstraint('access_approval_slot_uq', ['request_id', 'slot'])
    .execute();
}
