import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './connection.js';
import * as m0001 from './migrations/0001-platform.js';
import * as m0002 from './migrations/0002-customers.js';
import * as m0004 from './migrations/0004-analysis.js';
import * as m0005 from './migrations/0005-vehicle-unit.js';
import * as m0006 from './migrations/0006-transactions.js';
import * as m0007 from './migrations/0007-imports.js';
import * as m0010 from './migrations/0010-dashboards.js';
import * as m0012 from './migrations/0012-topups.js';
import * as m0013 from './migrations/0013-dashboard-indexes.js';
import * as m0014 from './migrations/0014-dashboard-snapshots.js';
import * as m0015 from './migrations/0015-ingest-layout.js';
import * as m0016 from './migrations/0016-access-grants.js';
import * as m0017 from './migrations/0017-ingest-namespace.js';
import * as m0018 from './migrations/0018-import-limits.js';
import * as m0020 from './migrations/0020-alert-lifecycle.js';
import * as m0021 from './migrations/0021-churn-cases.js';
import * as m0022 from './migrations/0022-work-items.js';
import * as m0025 from './migrations/0025-contact-moments.js';
import * as m0023 from './migrations/0023-ownership.js';
import * as m0027 from './migrations/0027-import-skipped.js';
import * as m0028 from './migrations/0028-complaints.js';
import * as m0030 from './migrations/0030-mystery-shoppers.js';
import * as m0029 from './migrations/0029-complaint-sla.js';
import * as m0031 from './migrations/0031-satisfaction.js';
import * as m0026 from './migrations/0026-prospects.js';
import * as m0024 from './migrations/0024-visits.js';
import * as m0033 from './migrations/0033-job-leases.js';
import * as m0034 from './migrations/0034-webhooks.js';
import * as m0035 from './migrations/0035-monthly-partitions.js';
import * as m0036 from './migrations/0036-org-import.js';
import * as m0037 from './migrations/0037-first-sign-in.js';
import * as m0038 from './migrations/0038-month-figures-index.js';
import * as m0039 from './migrations/0039-score-fillfactor.js';
import * as m0040 from './migrations/0040-month-figures-amount.js';
import * as m0041 from './migrations/0041-vehicle-suffix-covering.js';

// Listed statically so the bundle-free tsx runtime and tests see the same set in the same order.
const MIGRATIONS: Record<string, Migration> = {
  '0001-platform': m0001,
  '0002-customers': m0002,
  '0004-analysis': m0004,
  '0005-vehicle-unit': m0005,
  '0006-transactions': m0006,
  '0007-imports': m0007,
  '0010-dashboards': m0010,
  '0012-topups': m0012,
  '0013-dashboard-indexes': m0013,
  '0014-dashboard-snapshots': m0014,
  '0015-ingest-layout': m0015,
  '0016-access-grants': m0016,
  '0017-ingest-namespace': m0017,
  '0018-import-limits': m0018,
  '0020-alert-lifecycle': m0020,
  '0021-churn-cases': m0021,
  '0022-work-items': m0022,
  '0025-contact-moments': m0025,
  '0023-ownership': m0023,
  '0027-import-skipped': m0027,
  '0028-complaints': m0028,
  '0030-mystery-shoppers': m0030,
  '0029-complaint-sla': m0029,
  '0031-satisfaction': m0031,
  '0026-prospects': m0026,
  '0024-visits': m0024,
  '0033-job-leases': m0033,
  '0034-webhooks': m0034,
  '0035-monthly-partitions': m0035,
  '0036-org-import': m0036,
  '0037-first-sign-in': m0037,
  '0038-month-figures-index': m0038,
  '0039-score-fillfactor': m0039,
  '0040-month-figures-amount': m0040,
  '0041-vehicle-suffix-covering': m0041,
};

/** Every migration this version of the code carries, in order. */
export function migrationNames(): string[] {
  return Object.keys(MIGRATIONS).sort();
}

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

/**
 * Several instances starting together apply each migration once. On PostgreSQL the migrator holds an
 * advisory lock for the whole run (Kysely takes pg_advisory_lock on the migrating connection), so
 * the others wait and then find nothing left to do. SQLite serves one process; within it, runs are
 * queued here, since its migrator takes no lock.
 */
let sqliteQueue: Promise<unknown> = Promise.resolve();

export async function migrateToLatest(db: Db): Promise<string[]> {
  if (db.engine === 'sqlite') {
    const run = sqliteQueue.then(() => migrateNow(db));
    sqliteQueue = run.catch(() => undefined);
    return run;
  }
  return migrateNow(db);
}

async function migrateNow(db: Db): Promise<string[]> {
  const migrator = new Migrator({
    db: db.kysely,
    provider: new StaticProvider(),
    migrationTableName: 'schema_migration',
    migrationLockTableName: 'schema_migration_lock',
    // Modules land their migrations independently; a later number may be applied before an earlier one.
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
