// Every difference between SQLite and PostgreSQL lives here. Services never ask which engine runs.
import { sql, type Expression, type Kysely, type RawBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { Database } from './schema.js';

export type Engine = 'sqlite' | 'postgres';

/** Case-insensitive substring match (SQLite LIKE is case-insensitive for ASCII already). */
export function ilike(engine: Engine, column: Expression<unknown> | RawBuilder<unknown>, pattern: string): RawBuilder<SqlBool> {
  return engine === 'postgres' ? sql<SqlBool>`${column} ilike ${pattern}` : sql<SqlBool>`${column} like ${pattern} escape '\\'`;
}

/** Escape LIKE wildcards in user text. */
export function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (m) => `\\${m}`);
}

/** True when the error is a unique-constraint violation, on either engine. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string } | null;
  return e?.code === '23503' || e?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** `column` starts with `prefix`, using a btree index on both engines. */
export function prefixRange(engine: Engine, column: Expression<unknown>, prefix: string): RawBuilder<SqlBool> {
  // PostgreSQL's text_pattern_ops index serves LIKE 'x%'; SQLite's LIKE ignores a BINARY index, a range does not.
  return engine === 'postgres' ? sql<SqlBool>`${column} like ${`${likeEscape(prefix)}%`}` : sql<SqlBool>`(${column} >= ${prefix} and ${column} < ${`${prefix}\u{10FFFF}`})`;
}

/** Vehicle ids whose plate contains `key` (3+ characters), via FTS5 trigram or pg_trgm. */
export function plateContains(db: Kysely<Database>, engine: Engine, key: string) {
  // Normalised plates hold only letters, digits and CJK; dropping wildcards keeps the FTS5 trigram index usable (it ignores LIKE … ESCAPE).
  const pattern = `%${key.replace(/[\\%_]/g, '')}%`;
  if (engine === 'postgres') return db.selectFrom('vehicle').select('id').where(sql<SqlBool>`plate like ${pattern}`);
  return db.selectFrom(sql<{ id: number }>`(select rowid as id from vehicle_plate_fts where plate like ${pattern})`.as('fts')).select('fts.id');
}

/** A correlated list of `column` values joined by the unit separator (U+001F), or null when empty. */
export function groupConcat(engine: Engine, from: SelectQueryBuilder<any, any, any>, column: string): RawBuilder<string | null> {
  const agg = engine === 'postgres' ? sql`string_agg(${sql.ref(column)}, chr(31))` : sql`group_concat(${sql.ref(column)}, char(31))`;
  return sql<string | null>`(${from.select(agg.as('v'))})`;
}
