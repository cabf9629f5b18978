import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import { instantType, sql } from './helpers.js';

// Import jobs: the checkpoint (the file's row a resumed commit continues after) gets a column of its
// own, so rows_done and rows_total count data rows only, the header excluded; rows that matched the
// archive and changed nothing are counted apart from those filled in; a failure keeps its error code
// and details (which limit a file exceeded); and the pass working on a job names itself and beats a
// heartbeat, so a job left by a process that died can be told from one still running elsewhere.
export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const counter = (c: ColumnDefinitionBuilder) => c.notNull().defaultTo(0);
  await db.schema.alterTable('import_job').addColumn('checkpoint_row', 'integer', counter).execute();
  await db.schema.alterTable('import_job').addColumn('unchanged_count', 'integer', counter).execute();
  await db.schema.alterTable('import_job').addColumn('error_code', 'varchar(32)').execute();
  await db.schema.alterTable('import_job').addColumn('error_details', 'text').execute();
  await db.schema.alterTable('import_job').addColumn('runner', 'varchar(64)').execute();
  await db.schema.alterTable('import_job').addColumn('heartbeat_at', ts).execute();
  // Jobs on file: rows_done was the checkpoint (a row number, the header included).
  await sql`update import_job
    set checkpoint_row = rows_done, rows_done = rows_ok + rows_rejected + rows_flagged`.execute(db);
  await sql`update import_job set rows_total = rows_total - 1 where rows_total > 0`.execute(db);
}
