import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { isUniqueViolation } from '../../db/dialect.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { AppError } from '../../errors.js';
import { assertMayChangeRole, assertStillAdministered, countAdministrators } from '../../auth/rights.js';
import { DEFAULT_ROLES, isPermission } from '../../../domain/permissions.js';
import { recordAudit } from '../audit/audit.service.js';

export interface Role {
  id: number;
  code: string;
  nameZh: string;
  nameEn: string;
  builtin: boolean;
  permissions: string[];
  userCount: number;
  version: number;
}

/** Seed the default roles that are missing; never overwrite roles an admin has edited. */
export async function ensureDefaultRoles(db: Kysely<Database>): Promise<void> {
  const existing = new Set((await db.selectFrom('role').select('code').execute()).map((r) => r.code));
  const now = new Date().toISOString();
  for (const def of DEFAULT_ROLES) {
    if (existing.has(def.code)) continue;
    // Several instances starting together on a new database race here: the one whose insert loses
    // finds the role seeded by another and goes on.
    await db
      .transaction()
      .execute(async (trx) => {
        const { id } = await trx
          .insertInto('role')
          .values({
            code: def.code,
            name_zh: def.nameZh,
            name_en: def.nameEn,
            builtin: 1,
            created_at: now,
            updated_at: now,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await trx
          .insertInto('role_permission')
          .values(def.permissions.map((permission) => ({ role_id: id, permission })))
          .execute();
      })
      .catch((err: unknown) => {
        if (!isUniqueViolation(err)) throw err;
      });
  }
}

function checkPermissions(p: Principal, permissions: string[]): void {
  for (const perm of permissions) {
    if (!isPermission(perm)) throw new AppError('VALIDATION_FAILED', `unknown permission ${perm}`, 'body.permissions');
    if (!p.permissions.has(perm))
      throw new AppError('PERMISSION_DENIED', `you cannot grant ${perm}`, 'body.permissions');
  }
}

export class RolesService {
  constructor(private readonly db: Kysely<Database>) {}

  async list(): Promise<Role[]> {
    const roles = await this.db.selectFrom('role').selectAll().orderBy('id').execute();
    const perms = await this.db.selectFrom('role_permission').selectAll().execute();
    const counts = await this.db
      .selectFrom('user_role')
      .select(['role_id', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('role_id')
      .execute();
    return roles.map((r) => ({
      id: r.id,
      code: r.code,
      nameZh: r.name_zh,
      nameEn: r.name_en,
      builtin: r.builtin === 1,
      permissions: perms
        .filter((x) => x.role_id === r.id)
        .map((x) => x.permission)
        .sort(),
      userCount: Number(counts.find((c) => c.role_id === r.id)?.n ?? 0),
      version: r.version,
    }));
  }

  async get(id: number): Promise<Role> {
    const role = (await this.list()).find((r) => r.id === id);
    if (!role) throw new AppError('NOT_FOUND', `role ${id} not found`);
    return role;
  }

  async create(
    p: Principal,
    ip: string | null,
    input: { code: string; nameZh: string; nameEn: string; permissions: string[] },
  ): Promise<Role> {
    checkPermissions(p, input.permissions);
    const now = new Date().toISOString();
    try {
      const id = await this.db.transaction().execute(async (trx) => {
        const { id } = await trx
          .insertInto('role')
          .values({
            code: input.code,
            name_zh: input.nameZh,
            name_en: input.nameEn,
            builtin: 0,
            created_at: now,
            updated_at: now,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        const perms = [...new Set(input.permissions)];
        if (perms.length > 0)
          await trx
            .insertInto('role_permission')
            .values(perms.map((permission) => ({ role_id: id, permission })))
            .execute();
        await recordAudit(trx, actorOf(p, ip), { action: 'create', entity: 'role', entityId: id, after: input });
        return id;
      });
      return this.get(id);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('DUPLICATE', `role code ${input.code} exists`, 'body.code');
      throw err;
    }
  }

  async update(
    p: Principal,
    ip: string | null,
    id: number,
    patch: { nameZh?: string; nameEn?: string; permissions?: string[]; version: number },
  ): Promise<Role> {
    if (patch.permissions) checkPermissions(p, patch.permissions);
    const before = await this.get(id);
    await assertMayChangeRole(this.db, p, id, patch.permissions);
    const administrators = await countAdministrators(this.db);
    await this.db.transaction().execute(async (trx) => {
      const res = await trx
        .updateTable('role')
        .set({
          ...(patch.nameZh !== undefined && { name_zh: patch.nameZh }),
          ...(patch.nameEn !== undefined && { name_en: patch.nameEn }),
          version: before.version + 1,
          updated_at: new Date().toISOString(),
        })
        .where('id', '=', id)
        .where('version', '=', patch.version)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0)
        throw new AppError('VERSION_CONFLICT', 'someone else changed this role; reload and try again', 'body.version');
      if (patch.permissions) {
        await trx.deleteFrom('role_permission').where('role_id', '=', id).execute();
        const perms = [...new Set(patch.permissions)];
        if (perms.length > 0)
          await trx
            .insertInto('role_permission')
            .values(perms.map((permission) => ({ role_id: id, permission })))
            .execute();
        // Built-in or not, no role may lose what the company's last administrator depends on.
        await assertStillAdministered(trx, administrators);
      }
      await recordAudit(trx, actorOf(p, ip), { action: 'update', entity: 'role', entityId: id, before, after: patch });
    });
    return this.get(id);
  }

  async remove(p: Principal, ip: string | null, id: number): Promise<void> {
    const role = await this.get(id);
    if (role.builtin) throw new AppError('ROLE_BUILTIN', 'default roles can be edited but not deleted');
    if (role.userCount > 0) throw new AppError('ROLE_IN_USE', `${role.userCount} users have this role`);
    await assertMayChangeRole(this.db, p, id);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('role').where('id', '=', id).execute();
      await recordAudit(trx, actorOf(p, ip), { action: 'delete', entity: 'role', entityId: id, before: role });
    });
  }
}
