import type { Kysely } from 'kysely';
import { idRefType, instantType, withId } from './helpers.js';

// The work inbox's one read model (docs/architecture.md "Work that people do"): every module that gives
// someone work writes a row here in the same transaction as its own change, so "my work by due time"
// is one indexed query. A row names one person, or, for a queue (approvals anyone with a permission
// in a unit's subtree may take), the permission and the unit.
export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const ref = idRefType(db);
  await withId(db, db.schema.createTable('work_item'))
    .addColumn('kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('record_id', ref, (c) => c.notNull())
    .addColumn('assignee_user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    // Who may take a queue item: a permission ("rating.approve") or a role ("role:branch_dept_head").
    .addColumn('permission', 'varchar(64)')
    // One record may wait in several queues at once (an access request's open approval slots, one row
    // per role that fills a slot); '' for the usual one row per record.
    .addColumn('queue_key', 'varchar(64)', (c) => c.notNull().defaultTo(''))
    // Queue items only: people who may not take it although they hold the permission (",12,40,": the
    // requester of an approval, an approver who has already decided).
    .addColumn('excluded_user_ids', 'varchar(2000)')
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id'))
    .addColumn('org_path', 'varchar(512)', (c) => c.notNull())
    .addColumn('customer_id', ref)
    .addColumn('subject', 'varchar(200)', (c) => c.notNull())
    .addColumn('due_at', ts, (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('done_at', ts)
    .execute();
  await db.schema
    .createIndex('work_item_record_uq')
    .on('work_item')
    .columns(['kind', 'record_id', 'queue_key'])
    .unique()
    .execute();
  // Kind last: the counts by kind read the index alone.
  await db.schema
    .createIndex('work_item_assignee_idx')
    .on('work_item')
    .columns(['assignee_user_id', 'state', 'due_at', 'kind'])
    .execute();
  await db.schema
    .createIndex('work_item_queue_idx')
    .on('work_item')
    .columns(['permission', 'state', 'org_path'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('work_item').execute();
}
