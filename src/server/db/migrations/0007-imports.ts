import type { Kysely } from 'kysely';
import { idRefType, instantType, isPostgres, withId } from './helpers.js';

// The import center: uploaded files (kept in the database, so any app instance can process them),
// jobs with their mapping and a checkpoint, the rows each job rejected, and reusable mappings.
export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const ref = idRefType(db);
  const blob = isPostgres(db) ? 'bytea' : 'blob';

  await withId(db, db.schema.createTable('import_job'))
    .addColumn('org_unit_id', ref, (c) => c.notNull().references('org_unit.id').onDelete('restrict'))
    .addColumn('kind', 'varchar(16)')
    .addColumn('file_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('file_size', 'bigint', (c) => c.notNull())
    .addColumn('file_sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('format', 'varchar(8)', (c) => c.notNull())
    .addColumn('sheet', 'varchar(100)')
    .addColumn('mapping', 'text')
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('rows_total', 'integer')
    .addColumn('rows_done', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_ok', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_rejected', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_flagged', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('created_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('finished_at', ts)
    .execute();
  await db.schema.createIndex('import_job_org_idx').on('import_job').columns(['org_unit_id', 'id']).execute();
  await db.schema.createIndex('import_job_sha_idx').on('import_job').columns(['file_sha256', 'kind']).execute();

  await db.schema
    .createTable('import_file_chunk')
    .addColumn('job_id', ref, (c) => c.notNull().references('import_job.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', blob, (c) => c.notNull())
    .addPrimaryKeyConstraint('import_file_chunk_pk', ['job_id', 'seq'])
    .execute();

  await withId(db, db.schema.createTable('import_row_error'))
    .addColumn('job_id', ref, (c) => c.notNull().references('import_job.id').onDelete('cascade'))
    .addColumn('phase', 'varchar(8)', (c) => c.notNull())
    .addColumn('row_number', 'integer', (c) => c.notNull())
    .addColumn('severity', 'varchar(8)', (c) => c.notNull())
    .addColumn('field', 'varchar(64)')
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('cells', 'text')
    .execute();
  await db.schema
    .createIndex('import_row_error_job_idx')
    .on('import_row_error')
    .columns(['job_id', 'phase', 'row_number'])
    .execute();

  await withId(db, db.schema.createTable('import_mapping_profile'))
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('columns', 'text', (c) => c.notNull())
    .addColumn('created_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addUniqueConstraint('import_mapping_profile_uq', ['kind', 'name'])
    .execute();
}
