import { sql } from 'kysely';
import type { Db } from '../../src/server/db/connection.js';

/** Index definitions of a table other than those behind its constraints: dropped around a load and rebuilt after. */
export async function secondaryIndexes(db: Db, table: string): Promise<{ name: string; ddl: string }[]> {
  if (db.engine === 'sqlite') {
    const r = await sql<{
      name: string;
      sql: string;
    }>`select name, sql from sqlite_master where type = 'index' and tbl_name = ${table} and sql is not null`.execute(
      db.kysely,
    );
    return r.rows.map((x) => ({ name: x.name, ddl: x.sql }));
  }
  const r = await sql<{
    name: string;
    ddl: string;
  }>`select indexname as name, indexdef as ddl from pg_indexes where tablename = ${table}
    and indexname not in (select conname from pg_constraint where conrelid = ${table}::regclass)`.execute(db.kysely);
  // A partitioned table's index is written `on only` the parent, which would leave the partitions
  // without it: made again on the parent it is made on every partition.
  return r.rows.map((x) => ({ name: x.name, ddl: x.ddl.replace(' ON ONLY ', ' ON ') }));
}
