import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Engine } from '../../db/dialect.js';
import { isUniqueViolation } from '../../db/dialect.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { orgUnitInScope } from '../../auth/scope.js';
import { hashPassword } from '../../auth/passwords.js';
import { assertStillAdministered, countAdministrators } from '../../auth/rights.js';
import type { SessionService } from '../../auth/session.service.js';
import { AppError } from '../../errors.js';
import { checkPassword } from '../../../domain/password-policy.js';
import { recordAudit } from '../audit/audit.service.js';
import { usersQueries, type UserFilter, type UserRow } from './users.queries.js';

export interface User {
  id: number;
  username: string;
  displayName: string;
  orgUnitId: number;
  locale: string;
  active: boolean;
  locked: boolean;
  roles: { id: number; code: string }[];
  version: number;
  createdAt: string;
}

export function toUser(r: UserRow, roles: { id: number; code: string }[]): User {
  return {
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    orgUnitId: r.org_unit_id,
    locale: r.locale,
    active: r.active === 1,
    locked: r.locked_until !== null && new Date(r.locked_until).getTime() > Date.now(),
    roles,
    version: r.version,
    createdAt: r.created_at,
  };
}

export interface CreateUser {
  username: string;
  displayName: string;
  orgUnitId: number;
  password: string;
  roleIds: number[];
  locale?: string;
  /** A password the administrator chose for him: he changes it at his first sign-in. */
  mustChangePassword?: boolean;
}

export interface UpdateUser {
  displayName?: string;
  orgUnitId?: number;
  roleIds?: number[];
  active?: boolean;
  locale?: string;
  version: number;
}

export function passwordError(password: string, username: string, field: string): AppError | null {
  const problem = checkPassword(password, username);
  return problem
    ? new AppError(
        problem.code,
        problem.code === 'PASSWORD_TOO_SHORT' ? 'password must be at least 10 characters' : 'password is too weak',
        field,
      )
    : null;
}

export class UsersService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
    private readonly sessions: SessionService,
  ) {}

  async search(p: Principal, f: UserFilter) {
    const { total, rows } = await usersQueries.search(this.db, this.engine, p, f);
    const roles = await usersQueries.rolesOf(
      this.db,
      rows.map((r) => r.id),
    );
    return { total, items: rows.map((r) => toUser(r, roles.get(r.id) ?? [])) };
  }

  async get(id: number): Promise<User> {
    const row = await usersQueries.byId(this.db, id);
    if (!row) throw new AppError('NOT_FOUND', `user ${id} not found`);
    return toUser(row, (await usersQueries.rolesOf(this.db, [id])).get(id) ?? []);
  }

  /** Nobody hands out a permission they do not hold themselves. */
  private async checkGrantable(p: Principal, roleIds: number[]): Promise<void> {
    const unique = [...new Set(roleIds)];
    const rows = await usersQueries.permissionsOfRoles(this.db, unique);
    const found = new Set(rows.map((r) => r.roleId));
    const missing = unique.find((id) => !found.has(id));
    if (missing !== undefined)
      throw new AppError('VALIDATION_FAILED', `role ${missing} does not exist`, 'body.roleIds');
    const beyond = rows.find((r) => r.permission !== null && !p.permissions.has(r.permission as never));
    if (beyond) throw new AppError('PERMISSION_DENIED', `you cannot grant ${beyond.permission}`, 'body.roleIds');
  }

  private async checkUnit(p: Principal, orgUnitId: number): Promise<void> {
    if (!(await orgUnitInScope(this.db, p, orgUnitId)))
      throw new AppError('SCOPE_DENIED', `org unit ${orgUnitId} is outside your organisation`, 'body.orgUnitId');
  }

  async create(p: Principal, ip: string | null, input: CreateUser): Promise<User> {
    const pwErr = passwordError(input.password, input.username, 'body.password');
    if (pwErr) throw pwErr;
    await this.checkUnit(p, input.orgUnitId);
    await this.checkGrantable(p, input.roleIds);
    const hash = await hashPassword(input.password);
    const now = new Date().toISOString();
    try {
      const id = await this.db.transaction().execute(async (trx) => {
        const { id } = await trx
          .insertInto('app_user')
          .values({
            username: input.username,
            display_name: input.displayName,
            org_unit_id: input.orgUnitId,
            password_hash: hash,
            locale: input.locale ?? 'zh-CN',
            active: 1,
            must_change_password: input.mustChangePassword ? 1 : 0,
            password_changed_at: now,
            created_at: now,
            updated_at: now,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await usersQueries.setRoles(trx, id, [...new Set(input.roleIds)]);
        await recordAudit(trx, actorOf(p, ip), {
          action: 'create',
          entity: 'user',
          entityId: id,
          orgUnitId: input.orgUnitId,
          after: { ...input, password: undefined },
        });
        return id;
      });
      return this.get(id);
    } catch (err) {
      if (isUniqueViolation(err))
        throw new AppError('DUPLICATE', `username ${input.username} is taken`, 'body.username');
      throw err;
    }
  }

  async update(p: Principal, ip: string | null, id: number, patch: UpdateUser): Promise<User> {
    if (patch.orgUnitId !== undefined) await this.checkUnit(p, patch.orgUnitId);
    if (patch.roleIds !== undefined) await this.checkGrantable(p, patch.roleIds);
    if (id === p.userId && (patch.active === false || patch.roleIds !== undefined))
      throw new AppError('SELF_LOCKOUT', 'you cannot disable yourself or change your own roles');
    const before = await this.get(id);
    const administrators = await countAdministrators(this.db);
    await this.db.transaction().execute(async (trx) => {
      const res = await trx
        .updateTable('app_user')
        .set({
          ...(patch.displayName !== undefined && { display_name: patch.displayName }),
          ...(patch.orgUnitId !== undefined && { org_unit_id: patch.orgUnitId }),
          ...(patch.active !== undefined && { active: patch.active ? 1 : 0 }),
          ...(patch.locale !== undefined && { locale: patch.locale }),
          version: before.version + 1,
          updated_at: new Date().toISOString(),
        })
        .where('id', '=', id)
        .where('version', '=', patch.version)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0)
        throw new AppError('VERSION_CONFLICT', 'someone else changed this user; reload and try again', 'body.version');
      if (patch.roleIds !== undefined) await usersQueries.setRoles(trx, id, [...new Set(patch.roleIds)]);
      await assertStillAdministered(trx, administrators);
      await recordAudit(trx, actorOf(p, ip), {
        action: 'update',
        entity: 'user',
        entityId: id,
        orgUnitId: patch.orgUnitId ?? before.orgUnitId,
        before,
        after: patch,
      });
    });
    // A disabled user or one moved elsewhere must not keep a session with the old rights.
    if (patch.active === false || patch.orgUnitId !== undefined || patch.roleIds !== undefined)
      await this.sessions.revokeAllForUser(id);
    return this.get(id);
  }

  async resetPassword(
    p: Principal,
    ip: string | null,
    id: number,
    password: string,
    opts: { mustChangePassword?: boolean } = {},
  ): Promise<void> {
    const user = await this.get(id);
    const pwErr = passwordError(password, user.username, 'body.password');
    if (pwErr) throw pwErr;
    const hash = await hashPassword(password);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('app_user')
        .set({
          password_hash: hash,
          password_changed_at: new Date().toISOString(),
          failed_logins: 0,
          locked_until: null,
          must_change_password: opts.mustChangePassword ? 1 : 0,
        })
        .where('id', '=', id)
        .execute();
      await recordAudit(trx, actorOf(p, ip), {
        action: 'reset_password',
        entity: 'user',
        entityId: id,
        orgUnitId: user.orgUnitId,
      });
    });
    await this.sessions.revokeAllForUser(id);
  }

  async unlock(p: Principal, ip: string | null, id: number): Promise<void> {
    const user = await this.get(id);
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('app_user').set({ failed_logins: 0, locked_until: null }).where('id', '=', id).execute();
      await recordAudit(trx, actorOf(p, ip), {
        action: 'unlock',
        entity: 'user',
        entityId: id,
        orgUnitId: user.orgUnitId,
      });
    });
  }

  async revokeSessions(p: Principal, ip: string | null, id: number): Promise<number> {
    const user = await this.get(id);
    const n = await this.sessions.revokeAllForUser(id);
    await recordAudit(this.db, actorOf(p, ip), {
      action: 'revoke_sessions',
      entity: 'user',
      entityId: id,
      orgUnitId: user.orgUnitId,
      after: { revoked: n },
    });
    return n;
  }
}
