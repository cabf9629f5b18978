import type { Kysely } from 'kysely';
import { idRefType, instantType, withId } from './helpers.js';

// Satisfaction (DOMAIN.md "Satisfaction"; issue 20 items 5 and 6): the satisfaction policy as
// versioned data, one ledger of every survey contact (complaint callbacks, surveys, revisits) that the
// contact rule reads, the answers and unreachable attempts of complaint callbacks, survey campaigns
// with their sampled customers and outcomes, and revisit plans.
export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const ref = idRefType(db);

  await withId(db, db.schema.createTable('satisfaction_policy'))
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('note', 'varchar(1000)')
    .addColumn('created_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();

  // One row per time a customer was actually reached for a survey of any kind.
  await withId(db, db.schema.createTable('survey_contact'))
    .addColumn('customer_id', ref, (c) => c.references('customer.id').onDelete('cascade'))
    .addColumn('phone', 'varchar(32)')
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('reason', 'varchar(24)', (c) => c.notNull())
    // The complaint, survey target or revisit plan the contact belongs to.
    .addColumn('source_id', ref, (c) => c.notNull())
    .addColumn('contacted_at', ts, (c) => c.notNull())
    .addColumn('created_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .execute();
  await db.schema
    .createIndex('survey_contact_customer_idx')
    .on('survey_contact')
    .columns(['customer_id', 'contacted_at'])
    .execute();
  await db.schema
    .createIndex('survey_contact_phone_idx')
    .on('survey_contact')
    .columns(['phone', 'contacted_at'])
    .execute();

  // Every callback attempt of a complaint: reached (with the answers) or unreachable.
  await withId(db, db.schema.createTable('complaint_callback'))
    .addColumn('complaint_id', ref, (c) => c.notNull().references('complaint.id').onDelete('cascade'))
    .addColumn('result', 'varchar(16)', (c) => c.notNull())
    .addColumn('rating', 'integer')
    .addColumn('csat', 'integer')
    .addColumn('nps', 'integer')
    .addColumn('ces', 'integer')
    .addColumn('note', 'text')
    // The caller's business day (the unit's calendar date): attempts on different days count.
    .addColumn('day', 'varchar(10)', (c) => c.notNull())
    .addColumn('called_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('called_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('complaint_callback_case_idx')
    .on('complaint_callback')
    .columns(['complaint_id', 'called_at'])
    .execute();

  await withId(db, db.schema.createTable('survey'))
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    // The unit whose customers are surveyed (a station, or an area/branch, stratified per station).
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('ask_csat', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ask_nps', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ask_ces', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ask_text', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('sample_size', 'integer')
    .addColumn('sample_ratio', 'real')
    .addColumn('seed', 'integer', (c) => c.notNull())
    .addColumn('eligible', 'integer', (c) => c.notNull())
    .addColumn('due_at', ts, (c) => c.notNull())
    .addColumn('created_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('closed_at', ts)
    .execute();
  await db.schema.createIndex('survey_unit_idx').on('survey').columns(['org_unit_id', 'created_at']).execute();

  await withId(db, db.schema.createTable('survey_target'))
    .addColumn('survey_id', ref, (c) => c.notNull().references('survey.id').onDelete('cascade'))
    .addColumn('customer_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    // The customer's unit when sampled (the stratum; results are per station).
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('phone', 'varchar(32)', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rating', 'integer')
    .addColumn('csat', 'integer')
    .addColumn('nps', 'integer')
    .addColumn('ces', 'integer')
    .addColumn('comment', 'text')
    .addColumn('called_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('called_at', ts)
    .execute();
  await db.schema
    .createIndex('survey_target_uq')
    .on('survey_target')
    .columns(['survey_id', 'customer_id'])
    .unique()
    .execute();
  await db.schema
    .createIndex('survey_target_customer_idx')
    .on('survey_target')
    .columns(['customer_id', 'state'])
    .execute();

  await withId(db, db.schema.createTable('revisit_plan'))
    .addColumn('customer_id', ref, (c) => c.references('customer.id').onDelete('cascade'))
    // The customer's unit, or the station revisited as a whole.
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('planned_for', ts, (c) => c.notNull())
    .addColumn('owner_user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('purpose', 'varchar(500)', (c) => c.notNull())
    // manual | low_score
    .addColumn('source', 'varchar(16)', (c) => c.notNull())
    // The survey target or complaint whose low score proposed it.
    .addColumn('source_kind', 'varchar(24)')
    .addColumn('source_id', ref)
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('reached', 'integer')
    .addColumn('rating', 'integer')
    .addColumn('outcome', 'text')
    .addColumn('done_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('done_at', ts)
    .addColumn('created_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema
    .createIndex('revisit_plan_unit_idx')
    .on('revisit_plan')
    .columns(['org_unit_id', 'state', 'planned_for'])
    .execute();
  await db.schema.createIndex('revisit_plan_customer_idx').on('revisit_plan').columns(['customer_id']).execute();

  await grantSatisfactionPermissions(db);
}

/**
 * satisfaction.call (calling customers for surveys, recording outcomes and revisits, reading results)
 * and satisfaction.manage (surveys and their samples) are new: the built-in roles get them as the
 * defaults do, and every role that held the whole catalogue before them gets both.
 */
export async function grantSatisfactionPermissions(db: Kysely<any>): Promise<void> {
  const call = [
    'hq_marketing',
    'branch_customer_admin',
    'branch_manager',
    'area_customer_manager',
    'station_manager',
    'cs_agent',
  ];
  const manage = ['hq_marketing', 'branch_customer_admin', 'branch_manager', 'area_customer_manager'];
  const roles = await db.selectFrom('role').select(['id', 'code', 'builtin']).execute();
  const held = await db.selectFrom('role_permission').select(['role_id', 'permission']).execute();
  const byRole = new Map<string, Set<string>>();
  for (const h of held) {
    const k = String(h.role_id);
    if (!byRole.has(k)) byRole.set(k, new Set());
    byRole.get(k)!.add(h.permission);
  }
  const rows: { role_id: unknown; permission: string }[] = [];
  for (const r of roles) {
    const has = byRole.get(String(r.id)) ?? new Set<string>();
    const all = ['org.write', 'user.write', 'role.write', 'policy.write', 'churn.assign'].every((x) => has.has(x));
    const builtin = Number(r.builtin) === 1;
    for (const [perm, codes] of [
      ['satisfaction.call', call],
      ['satisfaction.manage', manage],
    ] as const) {
      if (has.has(perm)) continue;
      if (all || (builtin && codes.includes(r.code))) rows.push({ role_id: r.id, permission: perm });
    }
  }
  if (rows.length > 0) await db.insertInto('role_permission').values(rows).execute();
}
