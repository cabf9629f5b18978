import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Config } from '../config.js';
import { isPermission, type Permission } from '../../domain/permissions.js';
import type { Principal } from './principal.js';
import { AppError } from '../errors.js';
import { PrincipalCache } from './principal-cache.js';

export const SESSION_COOKIE = 'fc_session';

function sha256(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

function randomToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export type SessionLookup =
  { ok: true; principal: Principal } | { ok: false; reason: 'missing' | 'expired' | 'disabled' };

/** The user's and his unit's columns a principal is made of (besides the rights). */
const PRINCIPAL_USER_COLUMNS = [
  'u.username',
  'u.display_name',
  'u.org_unit_id',
  'u.active',
  'u.locale',
  'u.must_change_password',
  'o.path',
] as const;

export class SessionService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly config: Pick<Config, 'sessionIdleMinutes' | 'sessionAbsoluteHours'>,
    private readonly now: () => Date = () => new Date(),
    readonly cache: PrincipalCache = new PrincipalCache(0),
  ) {}

  async create(
    userId: number,
    ip: string | null,
    userAgent: string | null,
  ): Promise<{ token: string; csrfToken: string }> {
    const token = randomToken();
    const csrfToken = randomToken();
    const now = this.now();
    await this.db
      .insertInto('session')
      .values({
        id: sha256(token),
        user_id: userId,
        csrf_token: csrfToken,
        created_at: now.toISOString(),
        last_seen_at: now.toISOString(),
        expires_at: new Date(now.getTime() + this.config.sessionAbsoluteHours * 3600_000).toISOString(),
        ip,
        user_agent: userAgent?.slice(0, 400) ?? null,
      })
      .execute();
    return { token, csrfToken };
  }

  async lookup(token: string): Promise<SessionLookup> {
    const id = sha256(token);
    const cached = this.cache.enabled ? this.cache.get(id, this.now().getTime()) : undefined;
    if (cached) {
      const now = this.now().getTime();
      const idleDeadline = cached.lastSeenAt + this.config.sessionIdleMinutes * 60_000;
      if (now < cached.expiresAt && now < idleDeadline) {
        if (now - cached.lastSeenAt > 60_000) {
          await this.db
            .updateTable('session')
            .set({ last_seen_at: new Date(now).toISOString() })
            .where('id', '=', id)
            .execute();
          this.cache.touch(id, now);
        }
        return { ok: true, principal: cached.principal };
      }
      // Past a deadline: the database decides (and deletes the row).
    }
    return this.load(id);
  }

  private async load(id: string): Promise<SessionLookup> {
    const row = await this.db
      .selectFrom('session as s')
      .innerJoin('app_user as u', 'u.id', 's.user_id')
      .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
      .select(['s.id', 's.csrf_token', 's.last_seen_at', 's.expires_at', 'u.id as user_id', ...PRINCIPAL_USER_COLUMNS])
      .where('s.id', '=', id)
      .executeTakeFirst();
    if (!row) return { ok: false, reason: 'missing' };
    const now = this.now();
    const idleDeadline = new Date(row.last_seen_at).getTime() + this.config.sessionIdleMinutes * 60_000;
    if (now.getTime() >= new Date(row.expires_at).getTime() || now.getTime() >= idleDeadline) {
      await this.db.deleteFrom('session').where('id', '=', id).execute();
      return { ok: false, reason: 'expired' };
    }
    if (!row.active) return { ok: false, reason: 'disabled' };
    // Touch at most once a minute: one write per request would serialise SQLite under load.
    let lastSeenAt = new Date(row.last_seen_at).getTime();
    if (now.getTime() - lastSeenAt > 60_000) {
      await this.db.updateTable('session').set({ last_seen_at: now.toISOString() }).where('id', '=', id).execute();
      lastSeenAt = now.getTime();
    }
    const { permissions, roleCodes, grants, writeGrants } = await this.rightsOf(row.user_id, now);
    const principal: Principal = {
      userId: row.user_id,
      username: row.username,
      displayName: row.display_name,
      orgUnitId: row.org_unit_id,
      orgPath: row.path,
      grantPaths: grants,
      grantWritePaths: writeGrants,
      permissions,
      roleCodes,
      locale: row.locale,
      sessionId: id,
      csrfToken: row.csrf_token,
      mustChangePassword: Number(row.must_change_password) === 1,
    };
    this.cache.set(id, {
      principal,
      expiresAt: new Date(row.expires_at).getTime(),
      lastSeenAt,
      cachedAt: now.getTime(),
    });
    return { ok: true, principal };
  }

  /** A user's permissions, roles and the org paths lent to him by approved access requests. */
  private async rightsOf(
    userId: number,
    now: Date,
  ): Promise<{ permissions: Set<Permission>; roleCodes: string[]; grants: string[]; writeGrants: string[] }> {
    const roles = await this.db
      .selectFrom('user_role as ur')
      .innerJoin('role as r', 'r.id', 'ur.role_id')
      .leftJoin('role_permission as rp', 'rp.role_id', 'r.id')
      .select(['r.code', 'rp.permission'])
      .where('ur.user_id', '=', userId)
      .execute();
    const permissions = new Set<Permission>();
    const roleCodes = new Set<string>();
    for (const r of roles) {
      roleCodes.add(r.code);
      if (r.permission && isPermission(r.permission)) permissions.add(r.permission);
    }
    const grants = await this.db
      .selectFrom('access_request as a')
      .innerJoin('org_unit as o', 'o.id', 'a.target_org_unit_id')
      .select(['o.path', 'a.mode'])
      .where('a.requester_id', '=', userId)
      .where('a.status', '=', 'approved')
      .where('a.valid_from', '<=', now.toISOString())
      .where('a.valid_until', '>', now.toISOString())
      .execute();
    return {
      permissions,
      roleCodes: [...roleCodes],
      grants: grants.map((g) => g.path),
      writeGrants: grants.filter((g) => g.mode === 'write').map((g) => g.path),
    };
  }

  /** The principal of an active user by name, for work done outside a web session (the CLI). */
  async principalOf(username: string): Promise<Principal> {
    const row = await this.db
      .selectFrom('app_user as u')
      .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
      .select(['u.id', ...PRINCIPAL_USER_COLUMNS])
      .where('u.username', '=', username)
      .executeTakeFirst();
    if (!row || !row.active) throw new AppError('NOT_FOUND', `no active user ${JSON.stringify(username)}`);
    const { permissions, roleCodes, grants, writeGrants } = await this.rightsOf(row.id, this.now());
    return {
      userId: row.id,
      username: row.username,
      displayName: row.display_name,
      orgUnitId: row.org_unit_id,
      orgPath: row.path,
      grantPaths: grants,
      grantWritePaths: writeGrants,
      permissions,
      roleCodes,
      locale: row.locale,
      mustChangePassword: Number(row.must_change_password) === 1,
      sessionId: '',
      csrfToken: '',
    };
  }

  async revoke(sessionId: string): Promise<void> {
    await this.db.deleteFrom('session').where('id', '=', sessionId).execute();
    await this.cache.forget(sessionId);
  }

  async revokeAllForUser(userId: number, exceptSessionId?: string): Promise<number> {
    let q = this.db.deleteFrom('session').where('user_id', '=', userId);
    if (exceptSessionId) q = q.where('id', '!=', exceptSessionId);
    const res = await q.executeTakeFirst();
    await this.cache.clear();
    return Number(res.numDeletedRows);
  }

  async purgeExpired(): Promise<void> {
    const now = this.now();
    const idleCutoff = new Date(now.getTime() - this.config.sessionIdleMinutes * 60_000).toISOString();
    await this.db
      .deleteFrom('session')
      .where((eb) => eb.or([eb('expires_at', '<=', now.toISOString()), eb('last_seen_at', '<=', idleCutoff)]))
      .execute();
  }
}
