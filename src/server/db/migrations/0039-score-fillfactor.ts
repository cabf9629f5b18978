import type { Kysely } from 'kysely';
import { isPostgres, sql } from './helpers.js';

// The nightly run rewrites every customer's churn score. With full pages each new version goes to
// another page and into the primary key again (3,966 of 3,986,152 updates were HOT at 1,000,000
// customers); with half of each page free the new version stays beside the old one and the index is
// left alone (a HOT update). Only the primary key is indexed, and it never changes.
// SQLite updates in place.
export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`alter table customer_churn_score set (fillfactor = 50)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`alter table customer_churn_score reset (fillfactor)`.execute(db);
}
