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
    let q = db.selectFrom('audit_log');
    // Records without an org unit (roles, settings) are company-wide: only a top-level auditor sees them.
    const topLevel = depthOf(p.orgPath) === 1;
    q = q.where((eb) => (topLevel ? eb.or([eb('org_unit_id', 'is', null), inScope(p, eb.ref('org_unit_id'))]) : inScope(p, eb.ref('org_unit_id'))));
    if (f.actor) q = q.where('actor_name', '=', f.actor);
    if (f.action) q = q.where('action', '=', f.action);
    if (f.entity) q = q.where('entity', '=', f.entity);
    if (f.entityId) q = q.where('entity_id', '=', f.entityId);
    if (f.from) q = q.where('at', '>=', f.from);
    if (f.to) q = q.where('at', '<', f.to);
    const [{ total } = { total: 0 }] = await q.select((eb) => eb.fn.countAll<number>().as('total')).execute();
    const rows = await q
      .selectAll()
      .orderBy('id', 'desc')
      .limit(f.pageSize)
      .offset((f.page - 1) * f.pageSize)
      .execute();
    return { total: Number(total), rows };
  },
};
