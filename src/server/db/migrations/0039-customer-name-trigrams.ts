import type { Kysely } from 'kysely';
import { isPostgres, sql } from './helpers.js';

// The customer list's search looks for the typed text anywhere in a customer's name or organisation
// ("王师傅", "物流"). On PostgreSQL these trigram indexes (pg_trgm, as for plates since 0002) find
// the matches without reading an area's every customer; a search of fewer than three characters
// still reads them. SQLite, for a station or a small branch, reads the table.
export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`create index customer_name_trgm_idx on customer using gin (name gin_trgm_ops)`.execute(db);
  await sql`create index customer_organisation_trgm_idx on customer using gin (organisation gin_trgm_ops)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`drop index if exists customer_organisation_trgm_idx`.execute(db);
  await sql`drop index if exists customer_name_trgm_idx`.execute(db);
}
