import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { pathInScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import { isForeignKeyViolation, isUniqueViolation } from '../../db/dialect.js';
import { childPath, depthOf, wouldCycle } from '../../../domain/org-path.js';
import { recordAudit } from '../audit/audit.service.js';
import { orgQueries, type OrgUnitRow } from './org.queries.js';

export interface OrgUnit {
  id: number;
  parentId: number | null;
  kindCode: string;
  code: string;
  name: string;
  timeZone: string;
  path: string;
  depth: number;
  version: number;
}

export function toOrgUnit(r: OrgUnitRow): OrgUnit {
  return {
    id: r.id,
    parentId: r.parent_id,
    kindCode: r.kind_code,
    code: r.code,
    name: r.name,
    timeZone: r.time_zone,
    path: r.path,
    depth: r.depth,
    version: r.version,
  };
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export interface CreateOrgUnit {
  parentId: number;
  kindCode: string;
  code: string;
  name: string;
  timeZone?: string;
}

/**
 * Tables whose rows belong to an org unit. A unit that owns any of them cannot be deleted;
 * later features add their tables here.
 */
export const ORG_OWNED_TABLES: { table: string; label: string }[] = [
  { table: 'app_user', label: 'users' },
  { table: 'customer', label: 'customers' },
  { table: 'visit', label: 'visits' },
  // A case stays with the unit the customer was lost at, even after he moves.
  { table: 'churn_case', label: 'churn cases' },
];

export class OrgService {
  constructor(private readonly db: Kysely<Database>) {}

  levelKinds() {
    return orgQueries.levelKinds(this.db);
  }

  async list(p: Principal): Promise<OrgUnit[]> {
    return (await orgQueries.listInScope(this.db, p)).map(toOrgUnit);
  }

  async get(id: number): Promise<OrgUnit> {
    const row = await orgQueries.byId(this.db, id);
    if (!row) throw new AppError('NOT_FOUND', `org unit ${id} not found`);
    return toOrgUnit(row);
  }

  private async parentInScope(p: Principal, parentId: number) {
    const parent = await orgQueries.byId(this.db, parentId);
    if (!parent) throw new AppError('NOT_FOUND', `parent org unit ${parentId} not found`, 'body.parentId');
    if (!pathInScope(p, parent.path))
      throw new AppError('SCOPE_DENIED', `org unit ${parentId} is outside your organisation`, 'body.parentId');
    return parent;
  }

  async create(p: Principal, ip: string | null, input: CreateOrgUnit): Promise<OrgUnit> {
    const parent = await this.parentInScope(p, input.parentId);
    const timeZone = input.timeZone ?? parent.time_zone;
    if (!isValidTimeZone(timeZone))
      throw new AppError('VALIDATION_FAILED', `unknown time zone ${timeZone}`, 'body.timeZone');
    const now = new Date().toISOString();
    try {
      return await this.db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('org_unit')
          .values({
            parent_id: parent.id,
            kind_code: input.kindCode,
            code: input.code,
            name: input.name,
            time_zone: timeZone,
            path: 'pending',
            depth: parent.depth + 1,
            created_at: now,
            updated_at: now,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        const path = childPath(parent.path, inserted.id);
        await trx.updateTable('org_unit').set({ path }).where('id', '=', inserted.id).execute();
        const unit = toOrgUnit((await orgQueries.byId(trx, inserted.id))!);
        await recordAudit(trx, actorOf(p, ip), {
          action: 'create',
          entity: 'org_unit',
          entityId: unit.id,
          orgUnitId: unit.id,
          after: unit,
        });
        return unit;
      });
    } catch (err) {
      if (isUniqueViolation(err))
        throw new AppError('DUPLICATE', `org unit code ${input.code} already exists`, 'body.code');
      if (isForeignKeyViolation(err))
        throw new AppError('VALIDATION_FAILED', `unknown level kind ${input.kindCode}`, 'body.kindCode');
      throw err;
    }
  }

  async update(
    p: Principal,
    ip: string | null,
    id: number,
    patch: { name?: string; code?: string; timeZone?: string; kindCode?: string; version: number },
  ): Promise<OrgUnit> {
    if (patch.timeZone !== undefined && !isValidTimeZone(patch.timeZone))
      throw new AppError('VALIDATION_FAILED', `unknown time zone ${patch.timeZone}`, 'body.timeZone');
    try {
      return await this.db.transaction().execute(async (trx) => {
        const before = await orgQueries.byId(trx, id);
        if (!before) throw new AppError('NOT_FOUND', `org unit ${id} not found`);
        const res = await trx
          .updateTable('org_unit')
          .set({
            ...(patch.name !== undefined && { name: patch.name }),
            ...(patch.code !== undefined && { code: patch.code }),
            ...(patch.timeZone !== undefined && { time_zone: patch.timeZone }),
            ...(patch.kindCode !== undefined && { kind_code: patch.kindCode }),
            version: before.version + 1,
            updated_at: new Date().toISOString(),
          })
          .where('id', '=', id)
          .where('version', '=', patch.version)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0)
          throw new AppError(
            'VERSION_CONFLICT',
            'someone else changed this org unit; reload and try again',
            'body.version',
          );
        const after = toOrgUnit((await orgQueries.byId(trx, id))!);
        await recordAudit(trx, actorOf(p, ip), {
          action: 'update',
          entity: 'org_unit',
          entityId: id,
          orgUnitId: id,
          before: toOrgUnit(before),
          after,
        });
        return after;
      });
    } catch (err) {
      if (isUniqueViolation(err))
        throw new AppError('DUPLICATE', `org unit code ${patch.code ?? ''} already exists`, 'body.code');
      if (isForeignKeyViolation(err))
        throw new AppError('VALIDATION_FAILED', `unknown level kind ${patch.kindCode ?? ''}`, 'body.kindCode');
      throw err;
    }
  }

  async move(p: Principal, ip: string | null, id: number, newParentId: number, version: number): Promise<OrgUnit> {
    const newParent = await this.parentInScope(p, newParentId);
    return this.db.transaction().execute(async (trx) => {
      const unit = await orgQueries.byId(trx, id);
      if (!unit) throw new AppError('NOT_FOUND', `org unit ${id} not found`);
      if (unit.parent_id === null) throw new AppError('ORG_UNIT_ROOT', 'the top unit cannot be moved');
      if (unit.id === p.orgUnitId) throw new AppError('SCOPE_DENIED', 'you cannot move your own unit');
      if (wouldCycle(unit.path, newParent.path))
        throw new AppError('ORG_UNIT_CYCLE', 'a unit cannot move under itself or its descendants', 'body.parentId');
      if (unit.version !== version)
        throw new AppError(
          'VERSION_CONFLICT',
          'someone else changed this org unit; reload and try again',
          'body.version',
        );
      const newPath = childPath(newParent.path, unit.id);
      // Re-root the whole subtree: every descendant's path starts with the old path.
      for (const d of await orgQueries.subtree(trx, unit.path)) {
        const path = newPath + d.path.slice(unit.path.length);
        await trx
          .updateTable('org_unit')
          .set({ path, depth: depthOf(path) })
          .where('id', '=', d.id)
          .execute();
      }
      await trx
        .updateTable('org_unit')
        .set({ parent_id: newParent.id, version: unit.version + 1, updated_at: new Date().toISOString() })
        .where('id', '=', id)
        .execute();
      const after = toOrgUnit((await orgQueries.byId(trx, id))!);
      await recordAudit(trx, actorOf(p, ip), {
        action: 'move',
        entity: 'org_unit',
        entityId: id,
        orgUnitId: id,
        before: toOrgUnit(unit),
        after,
      });
      return after;
    });
  }

  async remove(p: Principal, ip: string | null, id: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const unit = await orgQueries.byId(trx, id);
      if (!unit) throw new AppError('NOT_FOUND', `org unit ${id} not found`);
      if (unit.parent_id === null || unit.id === p.orgUnitId)
        throw new AppError('ORG_UNIT_ROOT', 'this unit cannot be deleted');
      if ((await orgQueries.countChildren(trx, id)) > 0)
        throw new AppError('ORG_UNIT_IN_USE', 'the unit has child units');
      for (const owned of ORG_OWNED_TABLES) {
        const row = await trx
          .selectFrom(owned.table as 'app_user')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('org_unit_id', '=', id)
          .executeTakeFirstOrThrow();
        if (Number(row.n) > 0) throw new AppError('ORG_UNIT_IN_USE', `the unit owns ${row.n} ${owned.label}`);
      }
      await trx.deleteFrom('org_unit').where('id', '=', id).execute();
      await recordAudit(trx, actorOf(p, ip), {
        action: 'delete',
        entity: 'org_unit',
        entityId: id,
        orgUnitId: unit.parent_id,
        before: toOrgUnit(unit),
      });
    });
  }
}
