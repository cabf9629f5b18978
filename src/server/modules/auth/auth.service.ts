import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Config } from '../../config.js';
import { isUniqueViolation } from '../../db/dialect.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { burnVerify, hashPassword, verifyPassword } from '../../auth/passwords.js';
import type { SessionService } from '../../auth/session.service.js';
import { AppError } from '../../errors.js';
import { childPath } from '../../../domain/org-path.js';
import { DEFAULT_LEVEL_KINDS } from '../../../domain/permissions.js';
import { recordAudit } from '../audit/audit.service.js';
import { usersQueries } from '../users/users.queries.js';
import { passwordError } from '../users/users.service.js';
import { isValidTimeZone } from '../org/org.service.js';

export interface SetupInput {
  company: { code: string; name: string; timeZone?: string };
  admin: { username: string; displayName: string; password: string };
}

/** Seed the default level kinds that are missing. */
export async function ensureLevelKinds(db: Kysely<Database>): Promise<void> {
  const existing = new Set((await db.selectFrom('org_level_kind').select('code').execute()).map((r) => r.code));
  const missing = DEFAULT_LEVEL_KINDS.filter((k) => !existing.has(k.code));
  if (missing.length > 0)
    await db
      .insertInto('org_level_kind')
      .values(missing.map((k) => ({ code: k.code, name_zh: k.nameZh, name_en: k.nameEn, rank: k.rank })))
      // Another instance starting at the same time may have seeded them a moment ago.
      .onConflict((oc) => oc.column('code').doNothing())
      .execute();
}

/** The one answer to a refused sign-in, whatever the reason (see `login`). */
export const SIGN_IN_REFUSED = 'wrong username or password, or the account is locked for a while';

export class AuthService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sessions: SessionService,
    private readonly config: Pick<Config, 'lockoutThreshold' | 'lockoutMinutes'>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async needsSetup(): Promise<boolean> {
    return (await usersQueries.count(this.db)) === 0;
  }

  /** First run: the company's top unit and its first admin. Works exactly once. */
  async setup(input: SetupInput, ip: string | null, userAgent: string | null) {
    const tz = input.company.timeZone ?? 'Asia/Shanghai';
    if (!isValidTimeZone(tz))
      throw new AppError('VALIDATION_FAILED', `unknown time zone ${tz}`, 'body.company.timeZone');
    const pwErr = passwordError(input.admin.password, input.admin.username, 'body.admin.password');
    if (pwErr) throw pwErr;
    const hash = await hashPassword(input.admin.password);
    const now = new Date().toISOString();
    let userId: number;
    try {
      userId = await this.db.transaction().execute(async (trx) => {
        // The primary key makes a second, concurrent setup fail instead of creating a second admin.
        await trx.insertInto('system_state').values({ key: 'setup_done', value: now }).execute();
        if ((await usersQueries.count(trx)) > 0) throw new AppError('SETUP_DONE', 'setup has already been done');
        const unit = await trx
          .insertInto('org_unit')
          .values({
            parent_id: null,
            kind_code: 'hq',
            code: input.company.code,
            name: input.company.name,
            time_zone: tz,
            path: 'pending',
            depth: 1,
            created_at: now,
            updated_at: now,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await trx
          .updateTable('org_unit')
          .set({ path: childPath(null, unit.id) })
          .where('id', '=', unit.id)
          .execute();
        const user = await trx
          .insertInto('app_user')
          .values({
            username: input.admin.username,
            display_name: input.admin.displayName,
            org_unit_id: unit.id,
            password_hash: hash,
            locale: 'zh-CN',
            active: 1,
            password_changed_at: now,
            created_at: now,
            updated_at: now,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        const admin = await trx.selectFrom('role').select('id').where('code', '=', 'admin').executeTakeFirstOrThrow();
        await trx.insertInto('user_role').values({ user_id: user.id, role_id: admin.id }).execute();
        const actor = { userId: user.id, name: input.admin.username, ip };
        await recordAudit(trx, actor, {
          action: 'setup',
          entity: 'org_unit',
          entityId: unit.id,
          orgUnitId: unit.id,
          after: input.company,
        });
        await recordAudit(trx, actor, {
          action: 'create',
          entity: 'user',
          entityId: user.id,
          orgUnitId: unit.id,
          after: { ...input.admin, password: undefined },
        });
        return user.id;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('SETUP_DONE', 'setup has already been done');
      throw err;
    }
    return this.sessions.create(userId, ip, userAgent);
  }

  /**
   * Sign in. Every refusal an attacker could tell apart is the same answer: an unknown username, a
   * wrong password and a locked account (even with the right password) all get INVALID_CREDENTIALS
   * with one message, after one password verification each, so neither the code nor the time says
   * which usernames exist or which accounts the lockout caught. The message tells a real user that a
   * lock is one possible reason; the audit log and the user admin page say which it was.
   */
  async login(username: string, password: string, ip: string | null, userAgent: string | null) {
    const user = await usersQueries.byUsername(this.db, username);
    const anon = { userId: null, name: username.slice(0, 64), ip };
    if (!user) {
      await burnVerify(password);
      await recordAudit(this.db, anon, {
        action: 'login_failed',
        entity: 'session',
        after: { reason: 'unknown_user' },
      });
      throw new AppError('INVALID_CREDENTIALS', SIGN_IN_REFUSED);
    }
    const now = this.now().getTime();
    const passwordOk = await verifyPassword(user.password_hash, password);
    if (user.locked_until && new Date(user.locked_until).getTime() > now) {
      await recordAudit(this.db, anon, {
        action: 'login_failed',
        entity: 'user',
        entityId: user.id,
        orgUnitId: user.org_unit_id,
        after: { reason: 'locked' },
      });
      throw new AppError('INVALID_CREDENTIALS', SIGN_IN_REFUSED);
    }
    if (!passwordOk) {
      const failures = user.failed_logins + 1;
      const lock = failures >= this.config.lockoutThreshold;
      await this.db
        .updateTable('app_user')
        .set(
          lock
            ? { failed_logins: 0, locked_until: new Date(now + this.config.lockoutMinutes * 60_000).toISOString() }
            : { failed_logins: failures },
        )
        .where('id', '=', user.id)
        .execute();
      await recordAudit(this.db, anon, {
        action: lock ? 'account_locked' : 'login_failed',
        entity: 'user',
        entityId: user.id,
        orgUnitId: user.org_unit_id,
        after: { reason: 'wrong_password', failures },
      });
      throw new AppError('INVALID_CREDENTIALS', SIGN_IN_REFUSED);
    }
    if (user.active !== 1) throw new AppError('ACCOUNT_DISABLED', 'this account is disabled');
    await this.db
      .updateTable('app_user')
      .set({ failed_logins: 0, locked_until: null })
      .where('id', '=', user.id)
      .execute();
    await recordAudit(
      this.db,
      { userId: user.id, name: user.username, ip },
      { action: 'login', entity: 'user', entityId: user.id, orgUnitId: user.org_unit_id },
    );
    return this.sessions.create(user.id, ip, userAgent);
  }

  async logout(p: Principal, ip: string | null): Promise<void> {
    await this.sessions.revoke(p.sessionId);
    await recordAudit(this.db, actorOf(p, ip), {
      action: 'logout',
      entity: 'user',
      entityId: p.userId,
      orgUnitId: p.orgUnitId,
    });
  }

  async logoutAll(p: Principal, ip: string | null): Promise<number> {
    const n = await this.sessions.revokeAllForUser(p.userId);
    await recordAudit(this.db, actorOf(p, ip), {
      action: 'logout_all',
      entity: 'user',
      entityId: p.userId,
      orgUnitId: p.orgUnitId,
      after: { revoked: n },
    });
    return n;
  }

  async changePassword(p: Principal, ip: string | null, current: string, next: string): Promise<void> {
    const user = await usersQueries.byId(this.db, p.userId);
    if (!user || !(await verifyPassword(user.password_hash, current)))
      throw new AppError('PASSWORD_WRONG', 'the current password is wrong', 'body.currentPassword');
    const pwErr = passwordError(next, user.username, 'body.newPassword');
    if (pwErr) throw pwErr;
    const hash = await hashPassword(next);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('app_user')
        .set({ password_hash: hash, password_changed_at: new Date().toISOString(), must_change_password: 0 })
        .where('id', '=', p.userId)
        .execute();
      await recordAudit(trx, actorOf(p, ip), {
        action: 'change_password',
        entity: 'user',
        entityId: p.userId,
        orgUnitId: p.orgUnitId,
      });
    });
    // Other devices that knew the old password lose their sessions; this one stays signed in.
    await this.sessions.revokeAllForUser(p.userId, p.sessionId);
  }

  async setLocale(p: Principal, locale: string): Promise<void> {
    await this.db.updateTable('app_user').set({ locale }).where('id', '=', p.userId).execute();
  }
}
