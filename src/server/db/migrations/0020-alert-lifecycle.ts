import type { Kysely } from 'kysely';
import { idRefType, instantType, sql } from './helpers.js';

// Alerts that resolve themselves, one per lapse. `lapse` names what an alert is about, shared by the
// rules (an absence: the last visit day before it; a decline: the first month of the collapse), so
// one lapse raises one alert whichever rules find it, and a customer has one open alert at a time.
// An alert resolves itself when the customer comes back: the purchase that ended the absence (its
// day and row) or the month his volume recovered is recorded with it.
//
// Alerts on file keep a null lapse: they were raised per rule and month, and a lapse cannot be told
// from them for every rule, so they neither hold back a new alert nor resolve themselves; they are
// closed by hand as before.
export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const ref = idRefType(db);
  await db.schema.alterTable('alert').addColumn('lapse', 'varchar(16)').execute();
  await db.schema.alterTable('alert').addColumn('resolution', 'varchar(16)').execute();
  await db.schema.alterTable('alert').addColumn('resolved_at', ts).execute();
  await db.schema.alterTable('alert').addColumn('resolved_day', 'varchar(10)').execute();
  // The sale that ended the absence; named, not referenced (a hand-recorded fill-up may be replaced
  // by the card system's row, which then takes its place here).
  await db.schema.alterTable('alert').addColumn('resolved_txn_id', ref).execute();
  await db.schema.createIndex('alert_lapse_uq').on('alert').columns(['customer_id', 'lapse']).unique().execute();
  // At most one open alert per customer; also the index the ingest reads a chunk's open alerts by.
  await sql`create unique index alert_open_uq on alert (customer_id) where status = 'open' and lapse is not null`.execute(
    db,
  );
  // Resolutions per unit for the alerts page.
  await db.schema.createIndex('alert_org_resolution_idx').on('alert').columns(['org_unit_id', 'resolution']).execute();
}
