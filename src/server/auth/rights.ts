// The one rule for acting on people and roles: nobody acts on a user or a role whose rights go
// beyond their own, and the company always keeps an administrator. The access hook applies the
// first to every write on /api/users/:id; the user and role services call the rest inside the
// transaction of their change, so a change that breaks the rule is rolled back whole.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { PERMISSIONS, rightsBeyond } from '../../domain/permissions.js';
import { isWithin } from '../../domain/org-path.js';
import { AppError } from '../errors.js';
import type { Principal } from './principal.js';

/** The permissions a user holds through all his roles. */
export async function permissionsOfUser(db: Kysely<Database>, userId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('user_role as ur')
    .innerJoin('role_permission as rp', 'rp.role_id', 'ur.role_id')
    .select('rp.permission')
    .where('ur.user_id', '=', userId)
    .execute();
  return rows.map((r) => r.permission);
}

export async function permissionsOfRole(db: Kysely<Database>, roleId: number): Promise<string[]> {
  const rows = await db.selectFrom('role_permission').select('permission').where('role_id', '=', roleId).execute();
  return rows.map((r) => r.permission);
}

/** Refuses when the target user holds a permission the actor lacks. Acting on oneself is not covered here. */
export async function assertMayActOnUser(db: Kysely<Database>, p: Principal, userId: number): Promise<void> {
  if (userId === p.userId) return;
  const beyond = rightsBeyond(p.permissions, await permissionsOfUser(db, userId));
  if (beyond.length > 0) {
    throw new AppError(
      'TARGET_EXCEEDS_RIGHTS',
      `this user holds rights you do not have: ${beyond.join(', ')}`,
      undefined,
      { beyond },
    );
  }
}

/**
 * A role is company-wide: changing it changes every holder. So the actor must hold every
 * permission the role has (before and after), and every holder must sit in the actor's subtree.
 */
export async function assertMayChangeRole(
  db: Kysely<Database>,
  p: Principal,
  roleId: number,
  newPermissions?: readonly string[],
): Promise<void> {
  const beyond = rightsBeyond(p.permissions, [...(await permissionsOfRole(db, roleId)), ...(newPermissions ?? [])]);
  if (beyond.length > 0) {
    throw new AppError(
      'TARGET_EXCEEDS_RIGHTS',
      `this role holds rights you do not have: ${beyond.join(', ')}`,
      undefined,
      { beyond },
    );
  }
  // Built-in roles are the company's own vocabulary (every station's attendants hold one): only
  // someone at the top unit may change them, whoever happens to hold them today.
  const role = await db.selectFrom('role').select('builtin').where('id', '=', roleId).executeTakeFirst();
  if (role?.builtin === 1 && p.orgPath.split('/').filter(Boolean).length > 1) {
    throw new AppError(
      'TARGET_EXCEEDS_RIGHTS',
      'built-in roles are company-wide; only the head office may change them',
    );
  }
  const holders = await db
    .selectFrom('user_role as ur')
    .innerJoin('app_user as u', 'u.id', 'ur.user_id')
    .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
    .select('o.path')
    .distinct()
    .where('ur.role_id', '=', roleId)
    .execute();
  const outside = holders.filter((h) => !isWithin(h.path, p.orgPath)).length;
  if (outside > 0) {
    throw new AppError('TARGET_EXCEEDS_RIGHTS', 'users outside your organisation hold this role', undefined, {
      outsideUnits: outside,
    });
  }
}

/** Active users at the top unit who hold every permission: the company's administrators. */
export async function countAdministrators(db: Kysely<Database>): Promise<number> {
  return (await administratorIds(db)).size;
}

/** The company's administrators by id (an import of users follows them row by row). */
export async function administratorIds(db: Kysely<Database>): Promise<Set<number>> {
  const rows = await db
    .selectFrom('app_user as u')
    .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
    .innerJoin('user_role as ur', 'ur.user_id', 'u.id')
    .innerJoin('role_permission as rp', 'rp.role_id', 'ur.role_id')
    .select('u.id')
    .where('o.parent_id', 'is', null)
    .where('u.active', '=', 1)
    .where('rp.permission', 'in', [...PERMISSIONS])
    .groupBy('u.id')
    .having((eb) => eb.fn.count(eb.ref('rp.permission')).distinct(), '=', PERMISSIONS.length)
    .execute();
  return new Set(rows.map((r) => Number(r.id)));
}

/**
 * Called inside the transaction of a change to users or roles, with the count taken before it:
 * a change that would leave a company that had an administrator without one is refused.
 */
export async function assertStillAdministered(trx: Kysely<Database>, before: number): Promise<void> {
  if (before > 0 && (await countAdministrators(trx)) === 0) {
    throw new AppError('LAST_ADMINISTRATOR', 'this change would leave the company without an active administrator');
  }
}
