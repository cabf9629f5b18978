import type { Kysely, Selectable } from 'kysely';
import type { AppUserTable, Database } from '../../db/schema.js';
import type { Principal } from '../../auth/principal.js';
import { inScope } from '../../auth/scope.js';
import { ilike, likeEscape, type Engine } from '../../db/dialect.js';

export type UserRow = Selectable<AppUserTable>;

export interface UserFilter {
  q?: string;
  orgUnitId?: number;
  page: number;
  pageSize: number;
}

export const usersQueries = {
  byId: (db: Kysely<Database>, id: number) =>
    db.selectFrom('app_user').selectAll().where('id', '=', id).executeTakeFirst(),

  byUsername: (db: Kysely<Database>, username: string) =>
    db.selectFrom('app_user').selectAll().where('username', '=', username).executeTakeFirst(),

  count: async (db: Kysely<Database>) =>
    Number(
      (
        await db
          .selectFrom('app_user')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    ),

  async search(db: Kysely<Database>, engine: Engine, p: Principal, f: UserFilter) {
    let q = db.selectFrom('app_user').where((eb) => inScope(p, eb.ref('org_unit_id')));
    if (f.orgUnitId) q = q.where('org_unit_id', '=', f.orgUnitId);
    if (f.q) {
      const pattern = `%${likeEscape(f.q)}%`;
      q = q.where((eb) =>
        eb.or([ilike(engine, eb.ref('username'), pattern), ilike(engine, eb.ref('display_name'), pattern)]),
      );
    }
    const total = Number((await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const rows = await q
      .selectAll()
      .orderBy('username')
      .limit(f.pageSize)
      .offset((f.page - 1) * f.pageSize)
      .execute();
    return { total, rows };
  },

  async rolesOf(db: Kysely<Database>, userIds: number[]): Promise<Map<number, { id: number; code: string }[]>> {
    const map = new Map<number, { id: number; code: string }[]>();
    if (userIds.length === 0) return map; // an empty IN () is a syntax error on PostgreSQL
    const rows = await db
      .selectFrom('user_role as ur')
      .innerJoin('role as r', 'r.id', 'ur.role_id')
      .select(['ur.user_id', 'r.id', 'r.code'])
      .where('ur.user_id', 'in', userIds)
      .execute();
    for (const r of rows) {
      const list = map.get(r.user_id) ?? [];
      list.push({ id: r.id, code: r.code });
      map.set(r.user_id, list);
    }
    return map;
  },

  async permissionsOfRoles(
    db: Kysely<Database>,
    roleIds: number[],
  ): Promise<{ roleId: number; permission: string | null }[]> {
    if (roleIds.length === 0) return [];
    const rows = await db
      .selectFrom('role as r')
      .leftJoin('role_permission as rp', 'rp.role_id', 'r.id')
      .select(['r.id as roleId', 'rp.permission'])
      .where('r.id', 'in', roleIds)
      .execute();
    return rows;
  },

  async setRoles(db: Kysely<Database>, userId: number, roleIds: number[]): Promise<void> {
    await db.deleteFrom('user_role').where('user_id', '=', userId).execute();
    if (roleIds.length > 0)
      await db
        .insertInto('user_role')
        .values(roleIds.map((role_id) => ({ user_id: userId, role_id })))
        .execute();
  },
};
