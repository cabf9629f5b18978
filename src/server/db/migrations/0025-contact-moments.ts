import type { Kysely } from 'kysely';
import { CATALOGUE_0021, idRefType, instantType, withId } from './helpers.js';

// Must-contact moments (DOMAIN.md "Looking after customers"): the company's own calendar days on top
// of the statutory ones, price changes, weather and road warnings, and the contact task each moment
// gives a customer's owner. Customers keep their birthday as a solar or a lunar date.
export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const ref = idRefType(db);

  await db.schema
    .alterTable('customer')
    .addColumn('birthday_calendar', 'varchar(8)', (c) => c.notNull().defaultTo('solar'))
    .execute();

  // A unit's own holidays and working days; a unit below inherits, day by day, from the nearest unit up
  // its path that marks the day. Statutory days are not stored: they come from the library.
  await withId(db, db.schema.createTable('calendar_override'))
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('cascade'))
    .addColumn('day', 'varchar(10)', (c) => c.notNull())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('name', 'varchar(100)')
    .addColumn('created_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('calendar_override_unit_day_uq')
    .on('calendar_override')
    .columns(['org_unit_id', 'day'])
    .unique()
    .execute();

  await withId(db, db.schema.createTable('price_change'))
    // The unit whose subtree the new price applies to.
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('product', 'varchar(32)', (c) => c.notNull())
    .addColumn('old_price_fen', 'integer', (c) => c.notNull())
    .addColumn('new_price_fen', 'integer', (c) => c.notNull())
    .addColumn('effective_at', ts, (c) => c.notNull())
    .addColumn('source', 'varchar(16)', (c) => c.notNull())
    .addColumn('note', 'varchar(500)')
    .addColumn('created_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  // The same change entered twice (a file imported again) is one change.
  await db.schema
    .createIndex('price_change_uq')
    .on('price_change')
    .columns(['org_unit_id', 'product', 'effective_at'])
    .unique()
    .execute();
  await db.schema.createIndex('price_change_effective_idx').on('price_change').column('effective_at').execute();

  await withId(db, db.schema.createTable('weather_warning'))
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('title', 'varchar(200)', (c) => c.notNull())
    .addColumn('detail', 'varchar(2000)')
    // Only customers whose routes mention this text, when given.
    .addColumn('route_text', 'varchar(100)')
    .addColumn('start_day', 'varchar(10)', (c) => c.notNull())
    .addColumn('end_day', 'varchar(10)', (c) => c.notNull())
    .addColumn('created_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('weather_warning_end_idx').on('weather_warning').column('end_day').execute();

  await withId(db, db.schema.createTable('contact_task'))
    .addColumn('customer_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    // The customer's unit when the task was made; the task's calendar and scope.
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('moment_kind', 'varchar(16)', (c) => c.notNull())
    // 'price_change:12', 'weather:3', 'holiday:2026-10-01', 'birthday:2026-04-16': one task per moment and customer.
    .addColumn('moment_key', 'varchar(64)', (c) => c.notNull())
    .addColumn('moment_day', 'varchar(10)', (c) => c.notNull())
    .addColumn('price_change_id', ref, (c) => c.references('price_change.id').onDelete('set null'))
    .addColumn('weather_warning_id', ref, (c) => c.references('weather_warning.id').onDelete('set null'))
    .addColumn('title', 'varchar(200)', (c) => c.notNull())
    .addColumn('assignee_user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('contact_day', 'varchar(10)', (c) => c.notNull())
    .addColumn('due_at', ts, (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    // For a sender to come: the channel a message would go by, and the outbox row it went as.
    .addColumn('channel', 'varchar(16)')
    .addColumn('outbox_message_id', ref, (c) => c.references('outbox_message.id').onDelete('set null'))
    .addColumn('outcome', 'varchar(16)')
    .addColumn('note', 'varchar(2000)')
    .addColumn('done_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('done_at', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('contact_task_moment_uq')
    .on('contact_task')
    .columns(['moment_key', 'customer_id'])
    .unique()
    .execute();
  await db.schema
    .createIndex('contact_task_assignee_idx')
    .on('contact_task')
    .columns(['assignee_user_id', 'state', 'due_at'])
    .execute();
  await db.schema
    .createIndex('contact_task_unit_idx')
    .on('contact_task')
    .columns(['org_unit_id', 'contact_day'])
    .execute();
  await db.schema.createIndex('contact_task_customer_idx').on('contact_task').column('customer_id').execute();

  await grantNew(db, 'calendar.write', ['hq_marketing']);
  await grantNew(db, 'moment.write', [
    'hq_marketing',
    'branch_customer_admin',
    'branch_manager',
    'area_customer_manager',
  ]);
}

/**
 * A new permission goes to the built-in roles named and to every role that held the whole catalogue
 * of 0021, so the company's administrators stay administrators. (A fresh database has no roles yet.)
 */
async function grantNew(db: Kysely<any>, permission: string, builtins: string[]): Promise<void> {
  const catalogueBefore = CATALOGUE_0021;
  const roles = await db
    .selectFrom('role as r')
    .select('r.id')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('role_permission as held')
            .select('held.role_id')
            .whereRef('held.role_id', '=', 'r.id')
            .where('held.permission', '=', permission),
        ),
      ),
    )
    .where((eb) =>
      eb.or([
        eb.and([eb('r.builtin', '=', 1), eb('r.code', 'in', builtins)]),
        eb(
          eb
            .selectFrom('role_permission as rp')
            .select((s) => s.fn.countAll().as('n'))
            .whereRef('rp.role_id', '=', 'r.id')
            .where('rp.permission', 'in', catalogueBefore),
          '=',
          catalogueBefore.length,
        ),
      ]),
    )
    .execute();
  if (roles.length > 0) {
    await db
      .insertInto('role_permission')
      .values(roles.map((r: { id: unknown }) => ({ role_id: r.id, permission })))
      .execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('contact_task').execute();
  await db.schema.dropTable('weather_warning').execute();
  await db.schema.dropTable('price_change').execute();
  await db.schema.dropTable('calendar_override').execute();
  await db.schema.alterTable('customer').dropColumn('birthday_calendar').execute();
}
