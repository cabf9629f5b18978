import type { Kysely } from 'kysely';

// Import jobs count the empty rows they skip (blank rows between the header and the last row of data),
// so what a job reports adds up to the rows of the file, the header excluded. Jobs on file never
// counted them and stay at 0.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('import_job')
    .addColumn('skipped_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
