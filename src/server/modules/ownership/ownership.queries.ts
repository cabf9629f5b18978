// SQL of ownership and the public pool: a customer's class and owner, the history, coverage counts per
// subtree, the pool's list, the facts a claim is judged on, and the nightly pass's candidates.
import { sql, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { likeEscape } from '../../db/dialect.js';
import type { OwnershipHow } from '../../../domain/pool-rules.js';

export type Tx = Kysely<Database> | Transaction<Database>;

const num = (v: unknown): number => Number(v ?? 0);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** `column` (an org path) lies in the subtree of `path`. */
export function underPath(column: string, path: string) {
  return sql<SqlBool>`${sql.ref(column)} like ${`${likeEscape(path)}%`} escape '\\'`;
}

/** The class of a customer's latest final star rating, as a correlated subquery on `c.id`. */
export const classOf = sql<
  string | null
>`(select cr.class from customer_rating cr inner join rating_batch rb on rb.id = cr.batch_id where cr.customer_id = c.id and rb.status = 'final' order by cr.period desc limit 1)`;

export interface CustomerOwnership {
  id: number;
  code: string;
  name: string | null;
  kind: string;
  org_unit_id: number;
  path: string;
  owner_user_id: number | null;
  owner_since: string | null;
  last_follow_up_at: string | null;
  last_visit_at: string | null;
  created_at: string;
  pool_since: string | null;
  pool_reason: string | null;
  pool_former_owner_id: number | null;
  merged_into_id: number | null;
  version: number;
  class_code: string | null;
}

export interface ChangeRow {
  customerId: number;
  orgUnitId: number;
  from: number | null;
  to: number | null;
  how: OwnershipHow;
  reason: string | null;
  changedBy: number | null;
  at: string;
}

export interface Employee {
  userId: number;
  displayName: string;
  username: string;
  orgUnitId: number;
  orgUnitName: string;
  levelKind: string;
  owned: number;
}

export const ownershipQueries = {
  async customers(db: Tx, ids: readonly number[]): Promise<CustomerOwnership[]> {
    if (ids.length === 0) return [];
    const rows = await db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .select([
        'c.id',
        'c.code',
        'c.name',
        'c.kind',
        'c.org_unit_id',
        'o.path',
        'c.owner_user_id',
        'c.owner_since',
        'c.last_follow_up_at',
        'c.last_visit_at',
        'c.created_at',
        'c.pool_since',
        'c.pool_reason',
        'c.pool_former_owner_id',
        'c.merged_into_id',
        'c.version',
        classOf.as('class_code'),
      ])
      .where('c.id', 'in', ids)
      .execute();
    return rows.map((r) => ({
      ...r,
      id: Number(r.id),
      org_unit_id: Number(r.org_unit_id),
      owner_user_id: numOrNull(r.owner_user_id),
      pool_former_owner_id: numOrNull(r.pool_former_owner_id),
      merged_into_id: numOrNull(r.merged_into_id),
      version: Number(r.version),
    }));
  },

  /** A user who may be an owner: active, with his unit's path and level kind. */
  async user(db: Tx, userId: number) {
    const r = await db
      .selectFrom('app_user as u')
      .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
      .select(['u.id', 'u.display_name', 'u.active', 'u.org_unit_id', 'o.path', 'o.kind_code', 'o.time_zone'])
      .where('u.id', '=', userId)
      .executeTakeFirst();
    return r ? { ...r, id: Number(r.id), org_unit_id: Number(r.org_unit_id), active: Number(r.active) } : null;
  },

  async insertChanges(db: Tx, rows: readonly ChangeRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 500)
      await db
        .insertInto('ownership_change')
        .values(
          rows.slice(i, i + 500).map((r) => ({
            customer_id: r.customerId,
            org_unit_id: r.orgUnitId,
            from_user_id: r.from,
            to_user_id: r.to,
            how: r.how,
            reason: r.reason,
            changed_by: r.changedBy,
            at: r.at,
          })),
        )
        .execute();
  },

  async history(db: Tx, customerId: number) {
    const rows = await db
      .selectFrom('ownership_change as h')
      .leftJoin('app_user as f', 'f.id', 'h.from_user_id')
      .leftJoin('app_user as t', 't.id', 'h.to_user_id')
      .leftJoin('app_user as b', 'b.id', 'h.changed_by')
      .select([
        'h.id',
        'h.how',
        'h.reason',
        'h.at',
        'h.from_user_id',
        'h.to_user_id',
        'f.display_name as from_name',
        't.display_name as to_name',
        'b.display_name as by_name',
      ])
      .where('h.customer_id', '=', customerId)
      .orderBy('h.at', 'desc')
      .orderBy('h.id', 'desc')
      .limit(200)
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      how: r.how as OwnershipHow,
      reason: r.reason,
      at: r.at,
      fromUserId: numOrNull(r.from_user_id),
      fromName: r.from_name,
      toUserId: numOrNull(r.to_user_id),
      toName: r.to_name,
      byName: r.by_name,
    }));
  },

  /** Customers of a subtree: all live ones, those nobody owns (outside the pool), those in the pool. */
  async customerCounts(db: Tx, path: string) {
    const r = await db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .select([
        sql<number>`count(*)`.as('total'),
        sql<number>`coalesce(sum(case when c.owner_user_id is null and c.pool_since is null then 1 else 0 end), 0)`.as(
          'unowned',
        ),
        sql<number>`coalesce(sum(case when c.pool_since is not null then 1 else 0 end), 0)`.as('in_pool'),
      ])
      .where('c.merged_into_id', 'is', null)
      .where(underPath('o.path', path))
      .executeTakeFirstOrThrow();
    return { total: num(r.total), unowned: num(r.unowned), inPool: num(r.in_pool) };
  },

  /** The active people of a subtree with how many live customers each owns. */
  async employees(db: Tx, path: string): Promise<Employee[]> {
    const rows = await db
      .selectFrom('app_user as u')
      .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
      .leftJoin('customer as c', (j) => j.onRef('c.owner_user_id', '=', 'u.id').on('c.merged_into_id', 'is', null))
      .select([
        'u.id',
        'u.display_name',
        'u.username',
        'u.org_unit_id',
        'o.name',
        'o.kind_code',
        sql<number>`count(c.id)`.as('owned'),
      ])
      .where('u.active', '=', 1)
      .where(underPath('o.path', path))
      .groupBy(['u.id', 'u.display_name', 'u.username', 'u.org_unit_id', 'o.name', 'o.kind_code'])
      .orderBy('u.id')
      .execute();
    return rows.map((r) => ({
      userId: Number(r.id),
      displayName: r.display_name,
      username: r.username,
      orgUnitId: Number(r.org_unit_id),
      orgUnitName: r.name,
      levelKind: r.kind_code,
      owned: num(r.owned),
    }));
  },

  async ownedBy(db: Tx, userId: number): Promise<number> {
    const r = await db
      .selectFrom('customer')
      .select(sql<number>`count(*)`.as('n'))
      .where('owner_user_id', '=', userId)
      .where('merged_into_id', 'is', null)
      .executeTakeFirstOrThrow();
    return num(r.n);
  },

  /** Customers owned by the people of one unit (not its subtree). */
  async ownedInUnit(db: Tx, orgUnitId: number): Promise<number> {
    const r = await db
      .selectFrom('customer as c')
      .innerJoin('app_user as u', 'u.id', 'c.owner_user_id')
      .select(sql<number>`count(*)`.as('n'))
      .where('u.org_unit_id', '=', orgUnitId)
      .where('c.merged_into_id', 'is', null)
      .executeTakeFirstOrThrow();
    return num(r.n);
  },

  async claimsSince(db: Tx, userId: number, since: string): Promise<number> {
    const r = await db
      .selectFrom('ownership_change')
      .select(sql<number>`count(*)`.as('n'))
      .where('to_user_id', '=', userId)
      .where('how', '=', 'pool_claim')
      .where('at', '>=', since)
      .executeTakeFirstOrThrow();
    return num(r.n);
  },

  /** When the customer last went to the pool from this person, if ever. */
  async releasedBy(db: Tx, customerId: number, userId: number): Promise<string | null> {
    const r = await db
      .selectFrom('ownership_change')
      .select('at')
      .where('customer_id', '=', customerId)
      .where('from_user_id', '=', userId)
      .where('how', '=', 'pool_return')
      .orderBy('at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r?.at ?? null;
  },

  /** Owned live customers after `afterId`, a chunk at a time, for the nightly pass. */
  async ownedChunk(db: Tx, afterId: number, limit: number) {
    const rows = await db
      .selectFrom('customer as c')
      .select([
        'c.id',
        'c.code',
        'c.name',
        'c.kind',
        'c.org_unit_id',
        'c.owner_user_id',
        'c.owner_since',
        'c.created_at',
        'c.last_follow_up_at',
        'c.last_visit_at',
        classOf.as('class_code'),
      ])
      .where('c.owner_user_id', 'is not', null)
      .where('c.merged_into_id', 'is', null)
      .where('c.id', '>', afterId)
      .orderBy('c.id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      ...r,
      id: Number(r.id),
      org_unit_id: Number(r.org_unit_id),
      owner_user_id: Number(r.owner_user_id),
    }));
  },
};
