import type { Kysely } from 'kysely';
import { idRefType, instantType, withId } from './helpers.js';

// Visits to customers (DOMAIN.md "Looking after customers"): a monthly plan per owner, approved one
// level up, its planned visits with their appointment and reminders, the structured record of a visit
// with follow-ups and photos, problems handed up the levels, and the weekly summary per branch.
// (The older `visit` table is a fill-up at the pump and stays as it is.)
export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const ref = idRefType(db);

  await withId(db, db.schema.createTable('visit_plan'))
    .addColumn('owner_user_id', ref, (c) => c.notNull().references('app_user.id').onDelete('cascade'))
    // The owner's unit when the plan was made: its parent approves.
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('month', 'varchar(7)', (c) => c.notNull())
    // draft | submitted | approved | returned
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('submitted_at', ts)
    .addColumn('decided_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('decided_at', ts)
    .addColumn('decision_note', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema
    .createIndex('visit_plan_owner_month_uq')
    .on('visit_plan')
    .columns(['owner_user_id', 'month'])
    .unique()
    .execute();
  await db.schema.createIndex('visit_plan_unit_month_idx').on('visit_plan').columns(['org_unit_id', 'month']).execute();

  await withId(db, db.schema.createTable('visit_plan_event'))
    .addColumn('plan_id', ref, (c) => c.notNull().references('visit_plan.id').onDelete('cascade'))
    .addColumn('action', 'varchar(16)', (c) => c.notNull())
    .addColumn('from_state', 'varchar(16)')
    .addColumn('to_state', 'varchar(16)', (c) => c.notNull())
    .addColumn('actor_user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('actor_name', 'varchar(100)', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('visit_plan_event_plan_idx').on('visit_plan_event').columns(['plan_id', 'id']).execute();

  await withId(db, db.schema.createTable('planned_visit'))
    .addColumn('plan_id', ref, (c) => c.notNull().references('visit_plan.id').onDelete('cascade'))
    .addColumn('customer_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('owner_user_id', ref, (c) => c.notNull().references('app_user.id').onDelete('cascade'))
    // The day on the calendar of the customer's unit, and the instant of the planned time.
    .addColumn('planned_day', 'varchar(10)', (c) => c.notNull())
    .addColumn('planned_at', ts, (c) => c.notNull())
    // policy | alert | decline | manual
    .addColumn('reason', 'varchar(16)', (c) => c.notNull())
    .addColumn('reason_detail', 'varchar(200)')
    // planned | appointed | done | cancelled
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('appointed_at', ts)
    .addColumn('appointment_note', 'text')
    .addColumn('record_id', ref)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('planned_visit_plan_idx')
    .on('planned_visit')
    .columns(['plan_id', 'planned_day'])
    .execute();
  await db.schema
    .createIndex('planned_visit_owner_day_idx')
    .on('planned_visit')
    .columns(['owner_user_id', 'planned_day'])
    .execute();
  await db.schema
    .createIndex('planned_visit_unit_day_idx')
    .on('planned_visit')
    .columns(['org_unit_id', 'planned_day'])
    .execute();
  await db.schema
    .createIndex('planned_visit_customer_idx')
    .on('planned_visit')
    .columns(['customer_id', 'planned_day'])
    .execute();

  // Reminders of a planned visit: a week ahead (to make the appointment) and on the day, at a local hour.
  await withId(db, db.schema.createTable('visit_reminder'))
    .addColumn('planned_visit_id', ref, (c) => c.notNull().references('planned_visit.id').onDelete('cascade'))
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('due_at', ts, (c) => c.notNull())
    .addColumn('sent_at', ts)
    .execute();
  await db.schema
    .createIndex('visit_reminder_uq')
    .on('visit_reminder')
    .columns(['planned_visit_id', 'kind'])
    .unique()
    .execute();
  await db.schema.createIndex('visit_reminder_due_idx').on('visit_reminder').columns(['sent_at', 'due_at']).execute();

  await withId(db, db.schema.createTable('visit_record'))
    .addColumn('customer_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('planned_visit_id', ref, (c) => c.references('planned_visit.id').onDelete('set null'))
    .addColumn('visited_at', ts, (c) => c.notNull())
    .addColumn('visited_day', 'varchar(10)', (c) => c.notNull())
    // JSON: each aspect (density, colour, price, delivery…) compared: better | same | worse, with a note.
    .addColumn('assessment', 'text', (c) => c.notNull())
    .addColumn('market_outlook', 'text')
    .addColumn('competitors_better', 'text')
    .addColumn('note', 'text')
    .addColumn('check_in_lat', 'double precision')
    .addColumn('check_in_lng', 'double precision')
    .addColumn('check_in_accuracy_m', 'double precision')
    .addColumn('check_in_at', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('visit_record_customer_idx')
    .on('visit_record')
    .columns(['customer_id', 'visited_at'])
    .execute();
  // The planned visit a record did (and what deleting a plan's visits looks up).
  await db.schema.createIndex('visit_record_planned_idx').on('visit_record').column('planned_visit_id').execute();
  await db.schema
    .createIndex('visit_record_unit_day_idx')
    .on('visit_record')
    .columns(['org_unit_id', 'visited_day'])
    .execute();

  await withId(db, db.schema.createTable('visit_follow_up'))
    .addColumn('record_id', ref, (c) => c.notNull().references('visit_record.id').onDelete('cascade'))
    .addColumn('customer_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('owner_user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('due_day', 'varchar(10)', (c) => c.notNull())
    .addColumn('due_at', ts, (c) => c.notNull())
    // open | done
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('done_at', ts)
    .addColumn('done_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('visit_follow_up_record_idx').on('visit_follow_up').column('record_id').execute();
  await db.schema
    .createIndex('visit_follow_up_unit_idx')
    .on('visit_follow_up')
    .columns(['org_unit_id', 'state', 'due_day'])
    .execute();

  await withId(db, db.schema.createTable('visit_photo'))
    .addColumn('record_id', ref, (c) => c.notNull().references('visit_record.id').onDelete('cascade'))
    .addColumn('storage_key', 'varchar(200)', (c) => c.notNull().unique())
    .addColumn('content_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('created_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('visit_photo_record_idx').on('visit_photo').column('record_id').execute();

  // A problem the maintainer cannot solve, handed up one level at a time; the trail keeps every step.
  await withId(db, db.schema.createTable('visit_problem'))
    .addColumn('record_id', ref, (c) => c.references('visit_record.id').onDelete('set null'))
    .addColumn('customer_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    // Where the problem was raised, and the level that holds it now.
    .addColumn('origin_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('raised_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('text', 'text', (c) => c.notNull())
    // open | resolved
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('raised_at', ts, (c) => c.notNull())
    .addColumn('raised_day', 'varchar(10)', (c) => c.notNull())
    .addColumn('resolved_at', ts)
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('visit_problem_origin_idx')
    .on('visit_problem')
    .columns(['origin_unit_id', 'raised_day'])
    .execute();
  await withId(db, db.schema.createTable('visit_problem_step'))
    .addColumn('problem_id', ref, (c) => c.notNull().references('visit_problem.id').onDelete('cascade'))
    .addColumn('action', 'varchar(16)', (c) => c.notNull())
    .addColumn('from_unit_id', ref)
    .addColumn('to_unit_id', ref)
    .addColumn('actor_user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('actor_name', 'varchar(100)', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('visit_problem_step_idx')
    .on('visit_problem_step')
    .columns(['problem_id', 'id'])
    .execute();

  // The Monday summary of a branch's week, as generated (figures in JSON).
  await withId(db, db.schema.createTable('weekly_summary'))
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    // The Monday the week starts on.
    .addColumn('week_start', 'varchar(10)', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('generated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('weekly_summary_uq')
    .on('weekly_summary')
    .columns(['org_unit_id', 'week_start'])
    .unique()
    .execute();

  await grantVisitApprove(db);
}

/** visit.approve is new: managers above the station get it, and so does every role that held the whole catalogue. */
export async function grantVisitApprove(db: Kysely<any>): Promise<void> {
  const builtins = ['hq_marketing', 'branch_dept_head', 'branch_manager', 'area_customer_manager'];
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
            .where('held.permission', '=', 'visit.approve'),
        ),
      ),
    )
    .where((eb) =>
      eb.or([
        eb.and([eb('r.builtin', '=', 1), eb('r.code', 'in', builtins)]),
        // Administrators: the roles that hold churn.assign and role.write together hold everything before it.
        eb.and([
          eb.exists(
            eb
              .selectFrom('role_permission as a')
              .select('a.role_id')
              .whereRef('a.role_id', '=', 'r.id')
              .where('a.permission', '=', 'role.write'),
          ),
          eb.exists(
            eb
              .selectFrom('role_permission as b')
              .select('b.role_id')
              .whereRef('b.role_id', '=', 'r.id')
              .where('b.permission', '=', 'churn.assign'),
          ),
        ]),
      ]),
    )
    .execute();
  if (roles.length > 0) {
    await db
      .insertInto('role_permission')
      .values(roles.map((r: { id: unknown }) => ({ role_id: r.id, permission: 'visit.approve' })))
      .execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'weekly_summary',
    'visit_problem_step',
    'visit_problem',
    'visit_photo',
    'visit_follow_up',
    'visit_record',
    'visit_reminder',
    'planned_visit',
    'visit_plan_event',
    'visit_plan',
  ])
    await db.schema.dropTable(t).execute();
}
