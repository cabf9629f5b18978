import type { Kysely } from 'kysely';
import { idRefType, instantType, withId } from './helpers.js';

// Analysis: policies HQ edits (with history), monthly star ratings with their approval trail,
// churn and anomaly alerts as a work queue, fitted churn models, and the outbox messages wait in.
export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const ref = idRefType(db);

  // One row per saved version; the current policy of a kind is its newest row.
  await withId(db, db.schema.createTable('policy_version'))
    .addColumn('kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('created_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('policy_version_kind_idx').on('policy_version').columns(['kind', 'id']).execute();

  // A month's rating of one branch's customers moves through the approval flow as a batch.
  await withId(db, db.schema.createTable('rating_batch'))
    .addColumn('period', 'varchar(7)', (c) => c.notNull())
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('status', 'varchar(24)', (c) => c.notNull())
    .addColumn('policy_version_id', ref, (c) => c.references('policy_version.id').onDelete('set null'))
    .addColumn('computed_at', ts, (c) => c.notNull())
    .addColumn('proposed_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('proposed_at', ts)
    .addColumn('low_approved_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('low_approved_at', ts)
    .addColumn('high_reviewed_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('high_reviewed_at', ts)
    .addColumn('high_approved_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('high_approved_at', ts)
    .addColumn('finalized_at', ts)
    .addColumn('note', 'text')
    .addUniqueConstraint('rating_batch_period_unit_uq', ['period', 'org_unit_id'])
    .execute();

  await withId(db, db.schema.createTable('customer_rating'))
    .addColumn('batch_id', ref, (c) => c.notNull().references('rating_batch.id').onDelete('cascade'))
    .addColumn('customer_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    .addColumn('period', 'varchar(7)', (c) => c.notNull())
    .addColumn('computed_stars', 'integer', (c) => c.notNull())
    .addColumn('stars', 'integer', (c) => c.notNull())
    .addColumn('class', 'varchar(16)')
    .addColumn('basis_volume_ml', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('basis_amount_fen', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('benefits', 'text')
    .addColumn('note', 'text')
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addUniqueConstraint('customer_rating_customer_period_uq', ['customer_id', 'period'])
    .execute();
  await db.schema
    .createIndex('customer_rating_batch_idx')
    .on('customer_rating')
    .columns(['batch_id', 'stars'])
    .execute();

  // One alert per customer, rule and episode: the nightly job can run any number of times.
  await withId(db, db.schema.createTable('alert'))
    .addColumn('customer_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('kind', 'varchar(24)', (c) => c.notNull())
    .addColumn('episode', 'varchar(64)', (c) => c.notNull())
    .addColumn('assignee_user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('opened_at', ts, (c) => c.notNull())
    .addColumn('closed_at', ts)
    .addColumn('closed_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('contact_made', 'text')
    .addColumn('reason_found', 'text')
    .addColumn('action_taken', 'text')
    .addUniqueConstraint('alert_episode_uq', ['customer_id', 'kind', 'episode'])
    .execute();
  await db.schema.createIndex('alert_queue_idx').on('alert').columns(['status', 'assignee_user_id']).execute();
  await db.schema.createIndex('alert_org_idx').on('alert').columns(['org_unit_id', 'status']).execute();

  // Parameters fitted per branch and model, and each customer's latest scores.
  await withId(db, db.schema.createTable('churn_model_fit'))
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('cascade'))
    .addColumn('model', 'varchar(16)', (c) => c.notNull())
    .addColumn('period', 'varchar(10)', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('log_likelihood', 'double precision')
    .addColumn('customers', 'integer', (c) => c.notNull())
    .addColumn('fitted_at', ts, (c) => c.notNull())
    .addUniqueConstraint('churn_model_fit_uq', ['org_unit_id', 'model', 'period'])
    .execute();
  await db.schema
    .createTable('customer_churn_score')
    .addColumn('customer_id', ref, (c) => c.primaryKey().references('customer.id').onDelete('cascade'))
    .addColumn('model', 'varchar(16)', (c) => c.notNull())
    .addColumn('p_alive', 'double precision', (c) => c.notNull())
    .addColumn('expected_30d', 'double precision', (c) => c.notNull())
    .addColumn('scored_at', ts, (c) => c.notNull())
    .execute();

  // Messages to customers wait here until the messaging adapter sends them.
  await withId(db, db.schema.createTable('outbox_message'))
    .addColumn('customer_id', ref, (c) => c.references('customer.id').onDelete('set null'))
    .addColumn('channel', 'varchar(16)', (c) => c.notNull())
    .addColumn('template', 'varchar(64)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('dedupe_key', 'varchar(128)', (c) => c.notNull().unique())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('sent_at', ts)
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('outbox_status_idx').on('outbox_message').columns(['status', 'id']).execute();
}
