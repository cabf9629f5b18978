import type { Kysely } from 'kysely';
import { CATALOGUE_0021, idRefType, instantType, withId } from './helpers.js';

// Development plans (DOMAIN.md "Looking after customers", seed [003] §4): prospects surveyed at a
// station, the branch's monthly plan that collects them, its two approvals, the dispatch of each
// prospect to a follower at the level its importance names, progress on each, and the branch's weekly
// sampling of stations' progress.
export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const ref = idRefType(db);

  await withId(db, db.schema.createTable('dev_plan'))
    // The branch the plan is for, and its month; one plan per branch and month.
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('month', 'varchar(7)', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    // The day by which it should be dispatched; past it and not dispatched, it is overdue.
    .addColumn('due_day', 'varchar(10)', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('compiled_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('compiled_at', ts, (c) => c.notNull())
    .addColumn('submitted_at', ts)
    .addColumn('dept_approver_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('dept_approved_at', ts)
    .addColumn('dept_note', 'text')
    .addColumn('leader_approver_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('leader_approved_at', ts)
    .addColumn('leader_note', 'text')
    .addColumn('dispatched_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('dispatched_at', ts)
    // First night the job found it past its due day undispatched (kept once flagged).
    .addColumn('overdue_day', 'varchar(10)')
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema
    .createIndex('dev_plan_unit_month_uq')
    .on('dev_plan')
    .columns(['org_unit_id', 'month'])
    .unique()
    .execute();
  await db.schema.createIndex('dev_plan_state_idx').on('dev_plan').columns(['state', 'due_day']).execute();

  await withId(db, db.schema.createTable('dev_plan_event'))
    .addColumn('plan_id', ref, (c) => c.notNull().references('dev_plan.id').onDelete('cascade'))
    .addColumn('action', 'varchar(24)', (c) => c.notNull())
    .addColumn('from_state', 'varchar(16)')
    .addColumn('to_state', 'varchar(16)', (c) => c.notNull())
    .addColumn('actor_user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('actor_name', 'varchar(100)', (c) => c.notNull())
    .addColumn('at', ts, (c) => c.notNull())
    .addColumn('note', 'text')
    .execute();
  await db.schema.createIndex('dev_plan_event_plan_idx').on('dev_plan_event').columns(['plan_id', 'id']).execute();

  await withId(db, db.schema.createTable('prospect'))
    // The unit where he was surveyed (a station), and its branch (whose monthly plan takes him).
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('branch_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('organisation', 'varchar(200)')
    .addColumn('contact_name', 'varchar(100)')
    // National form, as the archive keeps phones; shown masked to readers without customer.phone.
    .addColumn('phone', 'varchar(32)')
    .addColumn('plates', 'text')
    .addColumn('vehicle_count', 'integer')
    .addColumn('monthly_litres', 'integer')
    .addColumn('products', 'varchar(200)')
    .addColumn('demand', 'text')
    .addColumn('fuel_use', 'varchar(200)')
    .addColumn('settlement_method', 'varchar(100)')
    .addColumn('competitor', 'varchar(200)')
    .addColumn('notes', 'text')
    .addColumn('importance', 'varchar(16)', (c) => c.notNull())
    .addColumn('stage', 'varchar(16)', (c) => c.notNull())
    .addColumn('surveyed_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('surveyed_at', ts, (c) => c.notNull())
    .addColumn('survey_day', 'varchar(10)', (c) => c.notNull())
    .addColumn('plan_id', ref, (c) => c.references('dev_plan.id').onDelete('set null'))
    // Who develops him: the unit his importance names and the person there (proposed in the plan, fixed on dispatch).
    .addColumn('dispatch_unit_id', ref, (c) => c.references('org_unit.id').onDelete('restrict'))
    .addColumn('follower_user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('dispatched_at', ts)
    // The day the next step is owed by (contact, offer, decision).
    .addColumn('due_day', 'varchar(10)')
    .addColumn('last_progress_at', ts)
    .addColumn('overdue_day', 'varchar(10)')
    .addColumn('customer_id', ref, (c) => c.references('customer.id').onDelete('set null'))
    .addColumn('closed_at', ts)
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.createIndex('prospect_branch_stage_idx').on('prospect').columns(['branch_id', 'stage']).execute();
  await db.schema.createIndex('prospect_plan_idx').on('prospect').columns(['plan_id', 'stage']).execute();
  await db.schema.createIndex('prospect_unit_idx').on('prospect').columns(['org_unit_id', 'stage']).execute();
  await db.schema
    .createIndex('prospect_follower_idx')
    .on('prospect')
    .columns(['follower_user_id', 'stage', 'due_day'])
    .execute();
  await db.schema.createIndex('prospect_stage_due_idx').on('prospect').columns(['stage', 'due_day']).execute();

  await withId(db, db.schema.createTable('prospect_event'))
    .addColumn('prospect_id', ref, (c) => c.notNull().references('prospect.id').onDelete('cascade'))
    .addColumn('action', 'varchar(24)', (c) => c.notNull())
    .addColumn('from_stage', 'varchar(16)')
    .addColumn('to_stage', 'varchar(16)', (c) => c.notNull())
    // The day it happened (a call made yesterday is recorded today).
    .addColumn('day', 'varchar(10)', (c) => c.notNull())
    .addColumn('due_day', 'varchar(10)')
    .addColumn('note', 'text')
    .addColumn('actor_user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('actor_name', 'varchar(100)', (c) => c.notNull())
    .addColumn('at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('prospect_event_prospect_idx')
    .on('prospect_event')
    .columns(['prospect_id', 'id'])
    .execute();

  // The branch's weekly check of a station's progress: picked, then checked with what was found.
  await withId(db, db.schema.createTable('dev_plan_sample'))
    .addColumn('plan_id', ref, (c) => c.notNull().references('dev_plan.id').onDelete('cascade'))
    .addColumn('station_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    // Monday of the week sampled.
    .addColumn('week', 'varchar(10)', (c) => c.notNull())
    // The station's prospects by stage when picked (JSON), so the check reads what the branch saw.
    .addColumn('snapshot', 'text', (c) => c.notNull())
    .addColumn('picked_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('picked_at', ts, (c) => c.notNull())
    // on_track | slow (slow: special supervision, 专项督办)
    .addColumn('finding', 'varchar(16)')
    .addColumn('note', 'text')
    .addColumn('checked_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('checked_at', ts)
    .execute();
  await db.schema
    .createIndex('dev_plan_sample_uq')
    .on('dev_plan_sample')
    .columns(['plan_id', 'week', 'station_id'])
    .unique()
    .execute();

  await grantProspectPermissions(db);
}

/**
 * The three development-plan permissions are new: the built-in roles get theirs (the branch's customer
 * admin plans, the department head approves first, the branch manager approves last), and every role
 * that held the whole catalogue before them gets all three, so administrators stay administrators.
 * (On a fresh database there are no roles yet; start-up seeds them.)
 */
export async function grantProspectPermissions(db: Kysely<any>): Promise<void> {
  const catalogueBefore = CATALOGUE_0021;
  const builtin: Record<string, string> = {
    branch_customer_admin: 'prospect.plan',
    branch_dept_head: 'prospect.approve',
    branch_manager: 'prospect.finalize',
  };
  const roles = (await db.selectFrom('role').select(['id', 'code', 'builtin']).execute()) as {
    id: unknown;
    code: string;
    builtin: number;
  }[];
  if (roles.length === 0) return;
  const held = (await db.selectFrom('role_permission').select(['role_id', 'permission']).execute()) as {
    role_id: unknown;
    permission: string;
  }[];
  const byRole = new Map<string, Set<string>>();
  for (const h of held) {
    const key = String(h.role_id);
    if (!byRole.has(key)) byRole.set(key, new Set());
    byRole.get(key)!.add(h.permission);
  }
  const rows: { role_id: unknown; permission: string }[] = [];
  for (const r of roles) {
    const has = byRole.get(String(r.id)) ?? new Set<string>();
    const wanted = new Set<string>();
    if (Number(r.builtin) === 1 && builtin[r.code]) wanted.add(builtin[r.code]!);
    if (catalogueBefore.every((x) => has.has(x)))
      for (const x of ['prospect.plan', 'prospect.approve', 'prospect.finalize']) wanted.add(x);
    for (const x of wanted) if (!has.has(x)) rows.push({ role_id: r.id, permission: x });
  }
  if (rows.length > 0) await db.insertInto('role_permission').values(rows).execute();
}
