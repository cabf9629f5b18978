import type { Kysely } from 'kysely';
import { idRefType, instantType, sql, withId } from './helpers.js';

// Churn cases (DOMAIN.md "Churn"): an alert turned into a case of natural or non-natural loss, its
// trail of steps, and the exit survey of the lost customer. The kinds of loss and the survey's reasons
// are rows, not constants: HQ renames them, retires them and adds its own.
export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const ref = idRefType(db);

  await db.schema
    .createTable('churn_loss_kind')
    .addColumn('code', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('category', 'varchar(16)', (c) => c.notNull())
    .addColumn('name_zh', 'varchar(100)', (c) => c.notNull())
    .addColumn('name_en', 'varchar(100)', (c) => c.notNull())
    .addColumn('sort', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db
    .insertInto('churn_loss_kind')
    .values([
      { code: 'closed', category: 'natural', name_zh: '销户或停业', name_en: 'Account closed', sort: 10, active: 1 },
      { code: 'moved_away', category: 'natural', name_zh: '迁离本地', name_en: 'Moved away', sort: 20, active: 1 },
      {
        code: 'project_ended',
        category: 'natural',
        name_zh: '工程项目结束',
        name_en: 'Project ended',
        sort: 30,
        active: 1,
      },
      {
        code: 'vehicle_sold',
        category: 'natural',
        name_zh: '车辆出售或报废',
        name_en: 'Vehicle sold',
        sort: 40,
        active: 1,
      },
      { code: 'all', category: 'non_natural', name_zh: '全部流失', name_en: 'Lost entirely', sort: 50, active: 1 },
      { code: 'part', category: 'non_natural', name_zh: '部分流失', name_en: 'Lost in part', sort: 60, active: 1 },
      {
        code: 'organisation',
        category: 'non_natural',
        name_zh: '整个单位流失',
        name_en: 'A whole organisation lost',
        sort: 70,
        active: 1,
      },
    ])
    .execute();

  await db.schema
    .createTable('churn_reason')
    .addColumn('code', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('name_zh', 'varchar(100)', (c) => c.notNull())
    .addColumn('name_en', 'varchar(100)', (c) => c.notNull())
    // The survey must say more in words when this reason is chosen ("other").
    .addColumn('needs_text', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sort', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db
    .insertInto('churn_reason')
    .values([
      { code: 'price', name_zh: '价格', name_en: 'Price', needs_text: 0, sort: 10, active: 1 },
      { code: 'service', name_zh: '服务', name_en: 'Service', needs_text: 0, sort: 20, active: 1 },
      { code: 'quality', name_zh: '油品质量', name_en: 'Fuel quality', needs_text: 0, sort: 30, active: 1 },
      { code: 'location', name_zh: '站点位置', name_en: 'Location', needs_text: 0, sort: 40, active: 1 },
      {
        code: 'competitor_offer',
        name_zh: '竞争对手优惠',
        name_en: 'Competitor offer',
        needs_text: 0,
        sort: 50,
        active: 1,
      },
      { code: 'other', name_zh: '其他', name_en: 'Other', needs_text: 1, sort: 60, active: 1 },
    ])
    .execute();

  await withId(db, db.schema.createTable('churn_case'))
    .addColumn('customer_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    // The customer's unit when the case was opened: the loss counts there.
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('alert_id', ref, (c) => c.unique().references('alert.id').onDelete('set null'))
    .addColumn('category', 'varchar(16)', (c) => c.notNull())
    .addColumn('loss_kind_code', 'varchar(32)', (c) =>
      c.notNull().references('churn_loss_kind.code').onDelete('restrict'),
    )
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    // The customer's last visit day when the case was opened: a later visit day is his return.
    .addColumn('baseline_day', 'varchar(10)')
    .addColumn('opened_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('opened_at', ts, (c) => c.notNull())
    .addColumn('report_text', 'text')
    .addColumn('reported_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('reported_at', ts)
    .addColumn('assignee_user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('due_day', 'varchar(10)')
    .addColumn('assigned_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('assigned_at', ts)
    .addColumn('outcome_note', 'text')
    .addColumn('outcome_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('outcome_at', ts)
    // When the loss was confirmed, and its day and month on the unit's calendar (the loss rate's month).
    .addColumn('lost_at', ts)
    .addColumn('lost_day', 'varchar(10)')
    .addColumn('lost_month', 'varchar(7)')
    // The first purchase after the baseline, when he came back; the sale is named, not referenced.
    .addColumn('won_back_at', ts)
    .addColumn('won_back_day', 'varchar(10)')
    .addColumn('won_back_txn_id', ref)
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  // One live case per customer: a lapse is one case, however many alerts it raised.
  await sql`create unique index churn_case_live_uq on churn_case (customer_id)
    where state in ('open', 'reported', 'second_attempt', 'lost')`.execute(db);
  await db.schema
    .createIndex('churn_case_unit_month_idx')
    .on('churn_case')
    .columns(['org_unit_id', 'lost_month'])
    .execute();
  await db.schema.createIndex('churn_case_state_idx').on('churn_case').columns(['state', 'org_unit_id']).execute();
  await db.schema
    .createIndex('churn_case_assignee_idx')
    .on('churn_case')
    .columns(['assignee_user_id', 'state'])
    .execute();

  // The trail: every step with who took it (null and "system" for the win-back check) and what was given.
  await withId(db, db.schema.createTable('churn_case_event'))
    .addColumn('case_id', ref, (c) => c.notNull().references('churn_case.id').onDelete('cascade'))
    .addColumn('action', 'varchar(24)', (c) => c.notNull())
    .addColumn('from_state', 'varchar(16)')
    .addColumn('to_state', 'varchar(16)', (c) => c.notNull())
    .addColumn('actor_user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('actor_name', 'varchar(100)', (c) => c.notNull())
    .addColumn('at', ts, (c) => c.notNull())
    .addColumn('detail', 'text')
    .execute();
  await db.schema.createIndex('churn_case_event_case_idx').on('churn_case_event').columns(['case_id', 'id']).execute();

  await withId(db, db.schema.createTable('exit_survey'))
    .addColumn('case_id', ref, (c) => c.notNull().unique().references('churn_case.id').onDelete('cascade'))
    .addColumn('customer_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    .addColumn('reason_code', 'varchar(32)', (c) => c.notNull().references('churn_reason.code').onDelete('restrict'))
    .addColumn('free_text', 'text')
    .addColumn('recorded_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('recorded_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('exit_survey_customer_idx').on('exit_survey').column('customer_id').execute();

  await grantChurnAssign(db);
}

/**
 * churn.assign is new: the built-in roles above the station get it, and so does every role that held
 * the whole catalogue before it, so the company's administrators stay administrators. (On a fresh
 * database there are no roles yet; start-up seeds them with it.)
 */
export async function grantChurnAssign(db: Kysely<any>): Promise<void> {
  const catalogueBefore = [
    'org.read',
    'org.write',
    'user.read',
    'user.write',
    'role.read',
    'role.write',
    'audit.read',
    'customer.read',
    'customer.write',
    'customer.phone',
    'customer.export',
    'customer.merge',
    'access.approve',
    'policy.write',
    'rating.propose',
    'rating.approve',
    'rating.read',
    'rating.finalize',
    'import.run',
    'apikey.manage',
    'alert.read',
    'alert.run',
    'dashboard.read',
  ];
  const builtins = [
    'hq_marketing',
    'branch_customer_admin',
    'branch_dept_head',
    'branch_manager',
    'area_customer_manager',
  ];
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
            .where('held.permission', '=', 'churn.assign'),
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
      .values(roles.map((r: { id: unknown }) => ({ role_id: r.id, permission: 'churn.assign' })))
      .execute();
  }
}
