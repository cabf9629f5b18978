import type { Kysely } from 'kysely';
import { instantType } from './helpers.js';

// A scheduled job's claim is a lease: the process running it beats `heartbeat_at`, and a claim whose
// beat has stopped (the process was killed) is taken over by the next instance that tries the job.
// Runs on file keep a null beat; a 'running' one of those is judged by its start.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('job_run').addColumn('heartbeat_at', instantType(db)).execute();
  await db.schema.alterTable('job_run').addColumn('runner', 'varchar(100)').execute();
}
