// Starts the scheduled jobs in the running server. Each tick runs its job through runJob, so two
// instances (or a restart mid-day) never run the same period twice.
import { Cron } from 'croner';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { runJob, type JobDefinition } from './job-runner.js';

export function startScheduler(
  db: Kysely<Database>,
  jobs: readonly JobDefinition[],
  timeZone: string,
  log: FastifyBaseLogger,
): { stop: () => void } {
  const crons = jobs.map(
    (job) =>
      new Cron(job.cron, { timezone: timeZone, protect: true }, async () => {
        const period = job.periodOf(new Date(), timeZone);
        const outcome = await runJob(db, job, period, {
          log: (msg, extra) => log.info({ job: job.name, period, ...extra }, msg),
        });
        if (outcome.status === 'failed') log.error({ job: job.name, period, error: outcome.error }, 'job failed');
        else log.info({ job: job.name, period, outcome }, 'job finished');
      }),
  );
  return { stop: () => crons.forEach((c) => c.stop()) };
}
