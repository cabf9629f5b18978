// Every difference between SQLite and PostgreSQL lives here. Services never ask which engine runs.
import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';

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
