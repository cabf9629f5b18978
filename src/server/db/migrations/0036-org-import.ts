import type { Kysely } from 'kysely';
import { idRefType, instantType } from './helpers.js';

// Onboarding a company from files: a person's phone on his user record, and the initial passwords
// an import of users generated, kept (with the chunk that created the users) until the one who ran
// the import downloads them; the download deletes them.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('app_user').addColumn('phone', 'varchar(32)').execute();
  await db.schema
    .createTable('import_credential')
    .addColumn('job_id', idRefType(db), (c) => c.notNull().references('import_job.id').onDelete('cascade'))
    .addColumn('row_number', 'integer', (c) => c.notNull())
    .addColumn('username', 'varchar(64)', (c) => c.notNull())
    .addColumn('display_name', 'varchar(100)', (c) => c.notNull())
    .addColumn('unit_code', 'varchar(64)', (c) => c.notNull())
    .addColumn('password', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', instantType(db), (c) => c.notNull())
    .addPrimaryKeyConstraint('import_credential_pk', ['job_id', 'username'])
    .execute();
}
