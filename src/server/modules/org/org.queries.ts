import type { Kysely } from 'kysely';
import type { Database, OrgUnitTable } from '../../db/schema.js';
import type { Principal } from '../../auth/principal.js';
import { inScope } from '../../auth/scope.js';
import type { Selectable } from 'kysely';

export type OrgUnitRow = Selectable<OrgUnitTable>;

export const orgQueries = {
  levelKinds: (db: Kysely<Database>) => db.selectFrom('org_level_kind').selectAll().orderBy('rank').execute(),

  listInScope: (db: Kysely<Database>, p: Principal) =>
    db
      .selectFrom('org_unit')
      .selectAll()
      .where((eb) => inScope(p, eb.ref('id')))
      .orderBy('path')
      .execute(),

  byId: (db: Kysely<Database>, id: number) =>
    db.selectFrom('org_unit').selectAll().where('id', '=', id).executeTakeFirst(),

  countChildren: async (db: Kysely<Database>, id: number) =>
    Number(
      (
        await db
          .selectFrom('org_unit')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('parent_id', '=', id)
          .executeTakeFirstOrThrow()
      ).n,
    ),

  countUsers: async (db: Kysely<Database>, id: number) =>
    Number(
      (
        await db
          .selectFrom('app_user')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('org_unit_id', '=', id)
          .executeTakeFirstOrThrow()
      ).n,
    ),

  subtree: (db: Kysely<Database>, path: string) =>
    db.selectFrom('org_unit').select(['id', 'path', 'depth']).where('path', 'like', `${path}%`).execute(),
};
