// Frozen helpers for migrations only: migrations must not import application code.
import { PostgresAdapter, sql, type Kysely, type ColumnDataType, type CreateTableBuilder } from 'kysely';

export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export function instantType(db: Kysely<any>): ColumnDataType {
  return isPostgres(db) ? 'timestamptz' : 'text';
}

export function withId<T extends string>(
  db: Kysely<any>,
  table: CreateTableBuilder<T, never>,
): CreateTableBuilder<T, 'id'> {
  return isPostgres(db)
    ? table.addColumn('id', 'bigserial', (c) => c.primaryKey())
    : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

export function idRefType(db: Kysely<any>): ColumnDataType {
  return isPostgres(db) ? 'bigint' : 'integer';
}

export { sql };

/** The permission catalogue as migration 0021 left it: a role holding all of it is an administrator of that time. */
export const CATALOGUE_0021: readonly string[] = [
  'org.read',
  'org.write',
  'user.read',
  'user.write',
  'role.read',
  'role.write',
  'audit.read',
  'customer.read',
  'customer.write',
  'customer.phone',
  'customer.export',
  'customer.merge',
  'access.approve',
  'policy.write',
  'rating.propose',
  'rating.approve',
  'rating.read',
  'rating.finalize',
  'import.run',
  'apikey.manage',
  'alert.read',
  'alert.run',
  'churn.assign',
  'dashboard.read',
];
