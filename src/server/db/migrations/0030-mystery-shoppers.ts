import type { Kysely } from 'kysely';
import { idRefType, instantType, withId } from './helpers.js';

// Mystery shoppers (DOMAIN.md "Satisfaction"): HQ's evaluation forms as frozen versions (code + version;
// the sections and items as JSON, since a form is read and written whole), assignments of a station to a
// shopper within a visit window, the visit with its score, one answer row per item (what the analysis
// counts), photos through the storage interface, and corrective actions for one station or the network.
export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const ref = idRefType(db);

  await withId(db, db.schema.createTable('mystery_form'))
    .addColumn('code', 'varchar(32)', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    // draft (editable) → published (frozen, assignable) → retired (superseded by a newer version).
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('title', 'varchar(200)', (c) => c.notNull())
    .addColumn('pass_percent', 'integer', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    // The unit that authored it (HQ): whoever edits it must hold that unit in scope.
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('created_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('published_at', ts)
    .execute();
  await db.schema
    .createIndex('mystery_form_version_uq')
    .on('mystery_form')
    .columns(['code', 'version'])
    .unique()
    .execute();

  await withId(db, db.schema.createTable('mystery_assignment'))
    .addColumn('form_id', ref, (c) => c.notNull().references('mystery_form.id').onDelete('restrict'))
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('shopper_user_id', ref, (c) => c.notNull().references('app_user.id').onDelete('restrict'))
    .addColumn('window_from', ts, (c) => c.notNull())
    .addColumn('window_to', ts, (c) => c.notNull())
    // Daily hours in the station's zone (peak hours), or null for any time of day.
    .addColumn('hour_from', 'integer')
    .addColumn('hour_to', 'integer')
    .addColumn('note', 'varchar(500)')
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('mystery_assignment_shopper_idx')
    .on('mystery_assignment')
    .columns(['shopper_user_id', 'state'])
    .execute();
  await db.schema
    .createIndex('mystery_assignment_unit_idx')
    .on('mystery_assignment')
    .columns(['org_unit_id', 'window_to'])
    .execute();

  await withId(db, db.schema.createTable('mystery_visit'))
    .addColumn('assignment_id', ref, (c) =>
      c.notNull().unique().references('mystery_assignment.id').onDelete('cascade'),
    )
    .addColumn('form_id', ref, (c) => c.notNull().references('mystery_form.id').onDelete('restrict'))
    .addColumn('form_code', 'varchar(32)', (c) => c.notNull())
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('shopper_user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('visited_at', ts, (c) => c.notNull())
    // The station's business day of the visit: periods are plain comparisons on both engines.
    .addColumn('business_day', 'varchar(10)', (c) => c.notNull())
    .addColumn('score_permille', 'integer', (c) => c.notNull())
    .addColumn('passed', 'integer', (c) => c.notNull())
    .addColumn('critical_failed', 'integer', (c) => c.notNull())
    .addColumn('comment', 'text')
    .addColumn('recorded_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('mystery_visit_unit_day_idx')
    .on('mystery_visit')
    .columns(['org_unit_id', 'business_day'])
    .execute();

  await withId(db, db.schema.createTable('mystery_answer'))
    .addColumn('visit_id', ref, (c) => c.notNull().references('mystery_visit.id').onDelete('cascade'))
    .addColumn('form_code', 'varchar(32)', (c) => c.notNull())
    .addColumn('item_key', 'varchar(32)', (c) => c.notNull())
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('business_day', 'varchar(10)', (c) => c.notNull())
    .addColumn('value', 'integer', (c) => c.notNull())
    .addColumn('earned100', 'integer', (c) => c.notNull())
    .addColumn('failed', 'integer', (c) => c.notNull())
    .addColumn('critical', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('mystery_answer_item_idx')
    .on('mystery_answer')
    .columns(['form_code', 'item_key', 'business_day'])
    .execute();
  await db.schema.createIndex('mystery_answer_visit_idx').on('mystery_answer').columns(['visit_id']).execute();

  await withId(db, db.schema.createTable('mystery_photo'))
    .addColumn('assignment_id', ref, (c) => c.notNull().references('mystery_assignment.id').onDelete('cascade'))
    .addColumn('item_key', 'varchar(32)', (c) => c.notNull())
    .addColumn('storage_key', 'varchar(200)', (c) => c.notNull().unique())
    .addColumn('content_type', 'varchar(100)', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('uploaded_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('uploaded_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('mystery_photo_assignment_idx')
    .on('mystery_photo')
    .columns(['assignment_id', 'item_key'])
    .execute();

  await withId(db, db.schema.createTable('mystery_action'))
    .addColumn('form_code', 'varchar(32)', (c) => c.notNull())
    .addColumn('item_key', 'varchar(32)', (c) => c.notNull())
    .addColumn('item_text', 'varchar(500)', (c) => c.notNull())
    // network: one action for the whole subtree of org_unit_id; station: for that station alone.
    .addColumn('scope', 'varchar(16)', (c) => c.notNull())
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('period_from', 'varchar(10)', (c) => c.notNull())
    .addColumn('period_to', 'varchar(10)', (c) => c.notNull())
    .addColumn('failed_stations', 'integer', (c) => c.notNull())
    .addColumn('evaluated_stations', 'integer', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('due_at', ts, (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('closed_at', ts)
    .addColumn('closed_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('close_note', 'text')
    .execute();
  await db.schema
    .createIndex('mystery_action_item_idx')
    .on('mystery_action')
    .columns(['form_code', 'item_key', 'state'])
    .execute();
  await db.schema
    .createIndex('mystery_action_unit_idx')
    .on('mystery_action')
    .columns(['org_unit_id', 'state'])
    .execute();

  await grantMysteryPermissions(db);
}

/**
 * mystery.read, mystery.manage and mystery.evaluate are new (mystery.read also closes corrective
 * actions, so the read-only auditor does not get it by default): the built-in roles get them as the
 * defaults do, and every role that held the whole catalogue before them gets all three, so
 * administrators stay administrators. (On a fresh database there are no roles yet; start-up seeds them,
 * and seeds the new built-in mystery_shopper role on an existing one.)
 */
export async function grantMysteryPermissions(db: Kysely<any>): Promise<void> {
  const read = [
    'hq_marketing',
    'branch_customer_admin',
    'branch_dept_head',
    'branch_manager',
    'area_customer_manager',
    'station_manager',
  ];
  const manage = ['hq_marketing', 'branch_customer_admin'];
  const evaluate = ['mystery_shopper'];
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
      ['mystery.read', read],
      ['mystery.manage', manage],
      ['mystery.evaluate', evaluate],
    ] as const) {
      if (has.has(perm)) continue;
      if (all || (builtin && codes.includes(r.code))) rows.push({ role_id: r.id, permission: perm });
    }
  }
  if (rows.length > 0) await db.insertInto('role_permission').values(rows).execute();
}
