import type { Db } from './db/connection.js';
import { migrateToLatest } from './db/migrate.js';
import { ensureDefaultRoles } from './modules/roles/roles.service.js';
import { ensureLevelKinds } from './modules/auth/auth.service.js';

/** Bring a database to the current schema and seed the default reference data. Safe to repeat. */
export async function prepareDatabase(db: Db): Promise<string[]> {
  const applied = await migrateToLatest(db);
  await ensureLevelKinds(db.kysely);
  await ensureDefaultRoles(db.kysely);
  return applied;
}
