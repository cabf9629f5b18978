import type { Kysely } from 'kysely';
import { instantType, isPostgres, sql } from './helpers.js';

// People who start with a password someone else chose (an import of users generates one) change it at
// their first sign-in; until then their session may only read itself, change the password and sign out.
// The initial passwords an import generated wait for their download until a deadline, after which a
// scheduled job deletes them and the job remembers that they expired (the download then says so).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('app_user')
    .addColumn('must_change_password', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('import_credential').addColumn('expires_at', instantType(db)).execute();
  await db.schema.alterTable('import_job').addColumn('passwords_expired_at', instantType(db)).execute();
  // Passwords waiting now get the default limit of the time, 72 hours from their making.
  if (isPostgres(db)) await sql`update import_credential set expires_at = created_at + interval '72 hours'`.execute(db);
  else
    await sql`update import_credential set expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+72 hours')`.execute(
      db,
    );
  await db.schema.createIndex('import_credential_expires').on('import_credential').column('expires_at').execute();
}
