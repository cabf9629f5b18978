// The one scope function: every read of owned data filters through here.
import { sql, type Kysely, type RawBuilder, type SqlBool, type Expression } from 'kysely';
import type { Database } from '../db/schema.js';
import { likeEscape } from '../db/dialect.js';
import { isWithin } from '../../domain/org-path.js';
import type { Principal } from './principal.js';

/** `column` belongs to the principal's org subtree. */
export function inScope(p: Principal, column: Expression<number | null> | RawBuilder<unknown>): RawBuilder<SqlBool> {
  const prefix = `${likeEscape(p.orgPath)}%`;
  return sql<SqlBool>`${column} in (select scope_unit.id from org_unit scope_unit where scope_unit.path like ${prefix} escape '\\')`;
}

/**
 * `column` is an org unit whose customers the principal may read: the own subtree plus any
 * subtree lent by an approved, unexpired access request.
 */
export function inCustomerScope(
  p: Principal,
  column: Expression<number | null> | RawBuilder<unknown>,
): RawBuilder<SqlBool> {
  if (p.grantPaths.length === 0) return inScope(p, column);
  const paths = [p.orgPath, ...p.grantPaths].map((x) => sql`scope_unit.path like ${`${likeEscape(x)}%`} escape '\\'`);
  return sql<SqlBool>`${column} in (select scope_unit.id from org_unit scope_unit where ${sql.join(paths, sql` or `)})`;
}

export function pathInCustomerScope(p: Principal, path: string): boolean {
  return isWithin(path, p.orgPath) || p.grantPaths.some((g) => isWithin(path, g));
}

/** Customers of `path` the principal may change: the own subtree plus subtrees lent for writing. */
export function pathInCustomerWriteScope(p: Principal, path: string): boolean {
  return isWithin(path, p.orgPath) || p.grantWritePaths.some((g) => isWithin(path, g));
}

export function pathInScope(p: Principal, path: string): boolean {
  return isWithin(path, p.orgPath);
}

export async function orgUnitInScope(db: Kysely<Database>, p: Principal, orgUnitId: number): Promise<boolean> {
  const row = await db.selectFrom('org_unit').select('path').where('id', '=', orgUnitId).executeTakeFirst();
  return row !== undefined && pathInScope(p, row.path);
}
