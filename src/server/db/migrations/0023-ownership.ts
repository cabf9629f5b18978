import type { Kysely } from 'kysely';
import { CATALOGUE_0021, idRefType, instantType, withId } from './helpers.js';

// Ownership and the public pool (公海): one history of every change of owner (by hand, by a bulk
// reassignment, back to the pool, claimed from it, on creation), and on the customer when the present
// owner took him, the owner's last follow-up, and, while he sits in his unit's pool, since when, why and
// from whom.
export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const ref = idRefType(db);

  await withId(db, db.schema.createTable('ownership_change'))
    .addColumn('customer_id', ref, (c) => c.notNull().references('customer.id').onDelete('cascade'))
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id'))
    .addColumn('from_user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('to_user_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    // created | manual | reassign | pool_return | pool_claim
    .addColumn('how', 'varchar(16)', (c) => c.notNull())
    .addColumn('reason', 'varchar(1000)')
    .addColumn('changed_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('ownership_change_customer_idx')
    .on('ownership_change')
    .columns(['customer_id', 'at'])
    .execute();
  // A person's claims of the day (the daily cap).
  await db.schema
    .createIndex('ownership_change_to_idx')
    .on('ownership_change')
    .columns(['to_user_id', 'how', 'at'])
    .execute();

  await db.schema.alterTable('customer').addColumn('owner_since', ts).execute();
  await db.schema.alterTable('customer').addColumn('last_follow_up_at', ts).execute();
  await db.schema.alterTable('customer').addColumn('pool_since', ts).execute();
  await db.schema.alterTable('customer').addColumn('pool_reason', 'varchar(32)').execute();
  await db.schema
    .alterTable('customer')
    .addColumn('pool_former_owner_id', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .execute();
  await db.schema.createIndex('customer_pool_idx').on('customer').columns(['pool_since', 'org_unit_id']).execute();
  // Owners on file start their window now: nobody's customers go to the pool the first night.
  await db
    .updateTable('customer')
    .set({ owner_since: new Date().toISOString() })
    .where('owner_user_id', 'is not', null)
    .execute();

  await grantOwnershipPermissions(db);
}

/**
 * owner.assign and pool.claim are new. pool.claim goes to every role that may write customers;
 * owner.assign to the built-in managers' roles and to every role that held the whole catalogue before
 * them, so the company's administrators stay administrators. (A fresh database has no roles yet:
 * start-up seeds them with both.)
 */
export async function grantOwnershipPermissions(db: Kysely<any>): Promise<void> {
  const catalogueBefore = CATALOGUE_0021;
  const managers = [
    'hq_marketing',
    'branch_customer_admin',
    'branch_dept_head',
    'branch_manager',
    'area_customer_manager',
    'station_manager',
  ];
  const lacking = (permission: string) =>
    db
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
      );
  const full = (eb: any) =>
    eb(
      eb
        .selectFrom('role_permission as rp')
        .select((s: any) => s.fn.countAll().as('n'))
        .whereRef('rp.role_id', '=', 'r.id')
        .where('rp.permission', 'in', catalogueBefore),
      '=',
      catalogueBefore.length,
    );
  const assigners = await lacking('owner.assign')
    .where((eb) => eb.or([eb.and([eb('r.builtin', '=', 1), eb('r.code', 'in', managers)]), full(eb)]))
    .execute();
  if (assigners.length > 0)
    await db
      .insertInto('role_permission')
      .values(assigners.map((r: { id: unknown }) => ({ role_id: r.id, permission: 'owner.assign' })))
      .execute();
  const claimers = await lacking('pool.claim')
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('role_permission as w')
          .select('w.role_id')
          .whereRef('w.role_id', '=', 'r.id')
          .where('w.permission', '=', 'customer.write'),
      ),
    )
    .execute();
  if (claimers.length > 0)
    await db
      .insertInto('role_permission')
      .values(claimers.map((r: { id: unknown }) => ({ role_id: r.id, permission: 'pool.claim' })))
      .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('customer_pool_idx').execute();
  for (const col of ['pool_former_owner_id', 'pool_reason', 'pool_since', 'last_follow_up_at', 'owner_since'])
    await db.schema.alterTable('customer').dropColumn(col).execute();
  await db.schema.dropTable('ownership_change').execute();
  await db.deleteFrom('role_permission').where('permission', 'in', ['owner.assign', 'pool.claim']).execute();
}
