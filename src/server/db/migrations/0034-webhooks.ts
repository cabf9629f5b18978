import type { Kysely } from 'kysely';
import { idRefType, instantType, withId } from './helpers.js';

// Webhooks: subscriptions of other systems to events of their org subtree, and the delivery log (each
// attempt's answer, the next attempt's time, replays as new rows).
export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const ref = idRefType(db);
  await withId(db, db.schema.createTable('webhook'))
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('url', 'varchar(1000)', (c) => c.notNull())
    .addColumn('secret', 'varchar(100)', (c) => c.notNull())
    // Event names separated by commas, with a comma at each end (",alert.opened,customer.created,").
    .addColumn('events', 'varchar(1000)', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('disabled_at', ts)
    .addColumn('disabled_reason', 'varchar(200)')
    .addColumn('created_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();

  await withId(db, db.schema.createTable('webhook_delivery'))
    .addColumn('webhook_id', ref, (c) => c.notNull().references('webhook.id').onDelete('cascade'))
    .addColumn('event', 'varchar(40)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    // pending → sending → delivered | failed (given up); a replay is a new pending row.
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', ts, (c) => c.notNull())
    .addColumn('lease_until', ts)
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'varchar(500)')
    .addColumn('last_attempt_at', ts)
    .addColumn('last_duration_ms', 'integer')
    .addColumn('delivered_at', ts)
    .addColumn('replay_of', ref, (c) => c.references('webhook_delivery.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_delivery_due_idx')
    .on('webhook_delivery')
    .columns(['status', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('webhook_delivery_hook_idx')
    .on('webhook_delivery')
    .columns(['webhook_id', 'id'])
    .execute();
}
