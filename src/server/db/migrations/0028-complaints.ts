import type { Kysely } from 'kysely';
import { idRefType, instantType, sql, withId } from './helpers.js';

// Complaints (DOMAIN.md "Complaints"): the twelve categories and the severity levels as rows (HQ
// renames, retires and adds; a category marked emergency goes to company level at once; a
// severity's stage_hours is each stage's deadline until the SLA clocks arrive), the cases with
// their running numbers per month, the trail of every step, evidence files and duplicate links.
export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const ref = idRefType(db);

  await db.schema
    .createTable('complaint_category')
    .addColumn('code', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('name_zh', 'varchar(100)', (c) => c.notNull())
    .addColumn('name_en', 'varchar(100)', (c) => c.notNull())
    .addColumn('emergency', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sort', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  const categories: [string, string, string, number][] = [
    ['safety', '安全', 'Safety', 1],
    ['mass_incident', '群体性事件', 'Mass incident', 1],
    ['store_food', '便利店（食品）', 'Convenience store (food)', 0],
    ['regulator', '监管部门转办', 'Forwarded by a regulator', 1],
    ['media', '媒体', 'Media', 1],
    ['product_quality', '跨站油品质量', 'Product quality across stations', 0],
    ['station_service', '加油站服务', 'Station service', 0],
    ['quantity_quality', '数质量', 'Quantity / quality', 0],
    ['finance', '财务（发票）', 'Finance (invoices)', 0],
    ['card_outlet', '加油卡及充值网点', 'Card / top-up outlets', 0],
    ['partner_card', '外部或合作卡', 'External or partner cards', 0],
    ['operational_data', '经营数据', 'Operational data', 0],
  ];
  await db
    .insertInto('complaint_category')
    .values(
      categories.map(([code, zh, en, emergency], i) => ({
        code,
        name_zh: zh,
        name_en: en,
        emergency,
        sort: (i + 1) * 10,
        active: 1,
      })),
    )
    .execute();

  await db.schema
    .createTable('complaint_severity')
    .addColumn('code', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('name_zh', 'varchar(100)', (c) => c.notNull())
    .addColumn('name_en', 'varchar(100)', (c) => c.notNull())
    // Hours each stage may take at this severity (the seam the SLA matrix replaces).
    .addColumn('stage_hours', 'integer', (c) => c.notNull())
    .addColumn('sort', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db
    .insertInto('complaint_severity')
    .values([
      { code: 'critical', name_zh: '特急', name_en: 'Critical', stage_hours: 2, sort: 10, active: 1 },
      { code: 'major', name_zh: '紧急', name_en: 'Major', stage_hours: 24, sort: 20, active: 1 },
      { code: 'general', name_zh: '一般', name_en: 'General', stage_hours: 72, sort: 30, active: 1 },
      { code: 'minor', name_zh: '轻微', name_en: 'Minor', stage_hours: 120, sort: 40, active: 1 },
    ])
    .execute();

  // The last number given in a month (company calendar): TS-YYYYMM-NNNNNN.
  await db.schema
    .createTable('complaint_number')
    .addColumn('month', 'varchar(7)', (c) => c.primaryKey())
    .addColumn('last', 'integer', (c) => c.notNull())
    .execute();

  await withId(db, db.schema.createTable('complaint'))
    .addColumn('case_no', 'varchar(20)', (c) => c.notNull().unique())
    .addColumn('channel', 'varchar(24)', (c) => c.notNull())
    .addColumn('category_code', 'varchar(32)', (c) =>
      c.notNull().references('complaint_category.code').onDelete('restrict'),
    )
    .addColumn('severity_code', 'varchar(32)', (c) =>
      c.notNull().references('complaint_severity.code').onDelete('restrict'),
    )
    // The unit concerned (usually a station): the case is read in its subtree and above.
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('customer_id', ref, (c) => c.references('customer.id').onDelete('set null'))
    .addColumn('complainant_name', 'varchar(100)')
    .addColumn('complainant_phone', 'varchar(32)')
    .addColumn('plate', 'varchar(16)')
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('reference_no', 'varchar(64)')
    .addColumn('reply_deadline', ts)
    .addColumn('emergency', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    // Levels the owners moved up after unsatisfied callbacks.
    .addColumn('level_up', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('owner_unit_id', ref, (c) => c.references('org_unit.id').onDelete('set null'))
    .addColumn('stage_started_at', ts, (c) => c.notNull())
    .addColumn('stage_due_at', ts)
    .addColumn('return_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reassign_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reopen_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rating', 'integer')
    // "Unhappy before — look after him" on the customer's pump card, until closed after the callback.
    .addColumn('customer_flag', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('merged_into_id', ref, (c) => c.references('complaint.id').onDelete('set null'))
    .addColumn('merged_from_state', 'varchar(16)')
    .addColumn('taken_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('taken_at', ts, (c) => c.notNull())
    .addColumn('closed_at', ts)
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.createIndex('complaint_unit_state_idx').on('complaint').columns(['org_unit_id', 'state']).execute();
  await db.schema.createIndex('complaint_customer_idx').on('complaint').columns(['customer_id', 'taken_at']).execute();
  await db.schema
    .createIndex('complaint_phone_idx')
    .on('complaint')
    .columns(['complainant_phone', 'taken_at'])
    .execute();
  await db.schema.createIndex('complaint_plate_idx').on('complaint').columns(['plate', 'taken_at']).execute();
  await db.schema.createIndex('complaint_taken_idx').on('complaint').columns(['taken_at']).execute();
  await sql`create index complaint_flag_idx on complaint (customer_id) where customer_flag = 1`.execute(db);

  await withId(db, db.schema.createTable('complaint_event'))
    .addColumn('complaint_id', ref, (c) => c.notNull().references('complaint.id').onDelete('cascade'))
    .addColumn('action', 'varchar(24)', (c) => c.notNull())
    .addColumn('from_state', 'varchar(16)')
    .addColumn('to_state', 'varchar(16)', (c) => c.notNull())
    // The unit that owned the stage when the step was taken.
    .addColumn('owner_unit_id', ref, (c) => c.references('org_unit.id').onDelete('set null'))
    .addColumn('actor_user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('actor_name', 'varchar(100)', (c) => c.notNull())
    .addColumn('at', ts, (c) => c.notNull())
    .addColumn('detail', 'text')
    .execute();
  await db.schema
    .createIndex('complaint_event_case_idx')
    .on('complaint_event')
    .columns(['complaint_id', 'id'])
    .execute();

  await withId(db, db.schema.createTable('complaint_attachment'))
    .addColumn('complaint_id', ref, (c) => c.notNull().references('complaint.id').onDelete('cascade'))
    .addColumn('stage', 'varchar(16)', (c) => c.notNull())
    .addColumn('storage_key', 'varchar(200)', (c) => c.notNull().unique())
    .addColumn('file_name', 'varchar(200)', (c) => c.notNull())
    .addColumn('content_type', 'varchar(100)', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('uploaded_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('uploaded_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('complaint_attachment_case_idx')
    .on('complaint_attachment')
    .columns(['complaint_id', 'stage'])
    .execute();

  // Cases a person linked as the same matter (both stay open); merges are merged_into_id.
  await withId(db, db.schema.createTable('complaint_link'))
    .addColumn('complaint_id', ref, (c) => c.notNull().references('complaint.id').onDelete('cascade'))
    .addColumn('other_id', ref, (c) => c.notNull().references('complaint.id').onDelete('cascade'))
    .addColumn('created_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('complaint_link_uq')
    .on('complaint_link')
    .columns(['complaint_id', 'other_id'])
    .unique()
    .execute();

  await grantComplaintPermissions(db);
}

/**
 * complaint.intake and complaint.handle are new: the built-in roles get them as the defaults do,
 * and every role that held the whole catalogue before them gets both, so administrators stay
 * administrators. (On a fresh database there are no roles yet; start-up seeds them.)
 */
export async function grantComplaintPermissions(db: Kysely<any>): Promise<void> {
  const intake = [
    'hq_marketing',
    'branch_customer_admin',
    'branch_dept_head',
    'branch_manager',
    'area_customer_manager',
    'sales_rep',
    'station_manager',
    'shift_lead',
    'attendant',
    'cs_agent',
    'auditor',
  ];
  const handle = [
    'hq_marketing',
    'branch_customer_admin',
    'branch_manager',
    'area_customer_manager',
    'station_manager',
    'cs_agent',
  ];
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
      ['complaint.intake', intake],
      ['complaint.handle', handle],
    ] as const) {
      if (has.has(perm)) continue;
      if (all || (builtin && codes.includes(r.code))) rows.push({ role_id: r.id, permission: perm });
    }
  }
  if (rows.length > 0) await db.insertInto('role_permission').values(rows).execute();
}
