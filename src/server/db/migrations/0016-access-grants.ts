import type { Kysely } from 'kysely';

// An access request lends another area's archive to read, or — when asked and approved as such —
// to write. Each approval slot is filled by a different person: one approver per request.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('access_request')
    .addColumn('mode', 'varchar(8)', (c) => c.notNull().defaultTo('read'))
    .execute();
  // Not unique: requests decided before this rule may hold one person in several slots and keep
  // their history; the service checks the person under a lock on the request.
  await db.schema
    .createIndex('access_approval_one_per_person')
    .on('access_approval')
    .columns(['request_id', 'approver_id'])
    .execute();
}
