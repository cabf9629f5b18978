// API keys for the systems that send transactions: created for an org unit in the user's subtree,
// the secret shown once, revocable; every change audited.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { inScope, orgUnitInScope } from '../../auth/scope.js';
import { newApiKey } from '../../auth/api-key.js';
import { AppError } from '../../errors.js';
import { recordAudit } from '../audit/audit.service.js';

export interface ApiKeyOut {
  id: number;
  name: string;
  keyPrefix: string;
  orgUnitId: number;
  orgUnitName: string;
  createdByName: string | null;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export class ApiKeysService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private base() {
    return this.db
      .selectFrom('api_key as k')
      .innerJoin('org_unit as o', 'o.id', 'k.org_unit_id')
      .leftJoin('app_user as u', 'u.id', 'k.created_by')
      .select([
        'k.id',
        'k.name',
        'k.key_prefix',
        'k.org_unit_id',
        'o.name as org_unit_name',
        'u.display_name',
        'k.created_at',
        'k.revoked_at',
        'k.last_used_at',
      ]);
  }

  private out(r: Awaited<ReturnType<ReturnType<ApiKeysService['base']>['executeTakeFirstOrThrow']>>): ApiKeyOut {
    return {
      id: r.id,
      name: r.name,
      keyPrefix: r.key_prefix,
      orgUnitId: r.org_unit_id,
      orgUnitName: r.org_unit_name,
      createdByName: r.display_name,
      createdAt: r.created_at,
      revokedAt: r.revoked_at,
      lastUsedAt: r.last_used_at,
    };
  }

  async list(p: Principal): Promise<ApiKeyOut[]> {
    const rows = await this.base()
      .where((eb) => inScope(p, eb.ref('k.org_unit_id')))
      .orderBy('k.id', 'desc')
      .execute();
    return rows.map((r) => this.out(r));
  }

  /** The secret is in this answer and nowhere else: only its SHA-256 is stored. */
  async create(
    p: Principal,
    ip: string | null,
    input: { name: string; orgUnitId?: number },
  ): Promise<ApiKeyOut & { key: string }> {
    const orgUnitId = input.orgUnitId ?? p.orgUnitId;
    if (!(await orgUnitInScope(this.db, p, orgUnitId)))
      throw new AppError('SCOPE_DENIED', `org unit ${orgUnitId} is outside your organisation`, 'body.orgUnitId');
    const name = input.name.trim();
    if (!name) throw new AppError('VALIDATION_FAILED', 'name is required', 'body.name');
    const key = newApiKey();
    const id = await this.db.transaction().execute(async (trx) => {
      const { id } = await trx
        .insertInto('api_key')
        .values({
          org_unit_id: orgUnitId,
          name,
          key_prefix: key.prefix,
          key_hash: key.hash,
          created_by: p.userId,
          created_at: this.now().toISOString(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await recordAudit(trx, actorOf(p, ip), {
        action: 'create',
        entity: 'api_key',
        entityId: id,
        orgUnitId,
        after: { name, orgUnitId, keyPrefix: key.prefix },
      });
      return id;
    });
    return { ...this.out(await this.base().where('k.id', '=', id).executeTakeFirstOrThrow()), key: key.secret };
  }

  async revoke(p: Principal, ip: string | null, id: number): Promise<ApiKeyOut> {
    const before = await this.base().where('k.id', '=', id).executeTakeFirst();
    if (!before) throw new AppError('NOT_FOUND', `API key ${id} not found`, 'params.id');
    if (before.revoked_at !== null) throw new AppError('CONFLICT', `API key ${id} was already revoked`);
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('api_key').set({ revoked_at: this.now().toISOString() }).where('id', '=', id).execute();
      await recordAudit(trx, actorOf(p, ip), {
        action: 'revoke',
        entity: 'api_key',
        entityId: id,
        orgUnitId: before.org_unit_id,
        before: { name: before.name, keyPrefix: before.key_prefix },
      });
    });
    return this.out(await this.base().where('k.id', '=', id).executeTakeFirstOrThrow());
  }
}
