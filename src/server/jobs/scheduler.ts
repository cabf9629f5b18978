// Starts the scheduled jobs in the running server. Each tick runs its job through runJob, so two
// instances (or a restart mid-day) never run the same period twice. A period whose claim was left by a
// killed process (its heartbeat stopped) is taken over by the next sweep of any instance.
import { Cron } from 'croner';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { JOB_STALE_MS, runJob, staleClaims, type JobDefinition } from './job-runner.js';

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
  const byName = new Map(jobs.map((j) => [j.name, j]));
  let sweeping = false;
  const sweep = setInterval(
    () => {
      if (sweeping) return;
      sweeping = true;
      void (async () => {
        for (const claim of await staleClaims(db)) {
          const job = byName.get(claim.job);
          if (!job) continue;
          const outcome = await runJob(db, job, claim.period, {
            log: (msg, extra) => log.info({ job: job.name, period: claim.period, ...extra }, msg),
          });
          log.info({ job: job.name, period: claim.period, from: claim.runner, outcome }, 'stale job claim taken over');
        }
      })()
        .catch((err: unknown) => log.error({ err }, 'stale job sweep failed'))
        .finally(() => {
          sweeping = false;
        });
    },
    Math.max(5_000, JOB_STALE_MS / 2),
  );
  sweep.unref();
  return {
    stop: () => {
      clearInterval(sweep);
      crons.forEach((c) => c.stop());
    },
  };
}
