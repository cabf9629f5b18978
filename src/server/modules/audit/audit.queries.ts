import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Principal } from '../../auth/principal.js';
import { inScope } from '../../auth/scope.js';
import { depthOf } from '../../../domain/org-path.js';

export interface AuditFilter {
  actor?: string;
  action?: string;
  entity?: string;
  entityId?: string;
  from?: string;
  to?: string;
  page: number;
  pageSize: number;
}

export const auditQueries = {
  async search(db: Kysely<Database>, p: Principal, f: AuditFilter) {
    let q = db.selectFrom('audit_log as a');
    // Records without an org unit (roles, settings) are company-wide: only a top-level auditor sees them.
    const topLevel = depthOf(p.orgPath) === 1;
    q = q.where((eb) =>
      topLevel
        ? eb.or([eb('a.org_unit_id', 'is', null), inScope(p, eb.ref('a.org_unit_id'))])
        : inScope(p, eb.ref('a.org_unit_id')),
    );
    if (f.actor) {
      // The auditor may type a person's name or a username; names are matched through the user ids.
      const actor = f.actor;
      const ids = db
        .selectFrom('app_user')
        .select('id')
        .where((eb) => eb.or([eb('display_name', '=', actor), eb('username', '=', actor)]));
      q = q.where((eb) => eb.or([eb('a.actor_name', '=', actor), eb('a.actor_user_id', 'in', ids)]));
    }
    if (f.action) q = q.where('a.action', '=', f.action);
    if (f.entity) q = q.where('a.entity', '=', f.entity);
    if (f.entityId) q = q.where('a.entity_id', '=', f.entityId);
    if (f.from) q = q.where('a.at', '>=', f.from);
    if (f.to) q = q.where('a.at', '<', f.to);
    const [{ total } = { total: 0 }] = await q.select((eb) => eb.fn.countAll<number>().as('total')).execute();
    const rows = await q
      // The stored row keeps the username of the moment; the person's current name is looked up.
      .leftJoin('app_user as u', 'u.id', 'a.actor_user_id')
      .leftJoin('org_unit as o', 'o.id', 'a.org_unit_id')
      .selectAll('a')
      .select(['u.display_name as actor_display_name', 'o.name as org_unit_name'])
      .orderBy('a.id', 'desc')
      .limit(f.pageSize)
      .offset((f.page - 1) * f.pageSize)
      .execute();
    return { total: Number(total), rows };
  },

  /** The changes made to one record, newest first, with the actor's name (reads are left out). */
  async history(db: Kysely<Database>, entity: string, entityId: string, limit: number) {
    return db
      .selectFrom('audit_log as a')
      .leftJoin('app_user as u', 'u.id', 'a.actor_user_id')
      .select(['a.id', 'a.at', 'a.actor_name', 'u.display_name as actor_display_name', 'a.action'])
      .where('a.entity', '=', entity)
      .where('a.entity_id', '=', entityId)
      .where('a.action', '!=', 'read')
      .orderBy('a.id', 'desc')
      .limit(limit)
      .execute();
  },
};
