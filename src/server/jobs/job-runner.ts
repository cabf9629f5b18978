// Scheduled work that runs once per period, however many processes or restarts try: a job claims
// (job, period) in job_run — the unique key decides who runs it — and records how it ended.
// A failed run can be retried; a finished one is not run again unless forced (a re-run by hand).
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { isUniqueViolation } from '../db/dialect.js';

export interface JobContext {
  db: Kysely<Database>;
  /** The period being run, e.g. '2026-11' for a monthly job or '2026-11-22' for a nightly one. */
  period: string;
  now: Date;
  log: (msg: string, extra?: Record<string, unknown>) => void;
}

export interface JobDefinition {
  name: string;
  /** croner pattern, in the company's time zone. */
  cron: string;
  /** The period a run at `now` is for. */
  periodOf: (now: Date, timeZone: string) => string;
  run: (ctx: JobContext) => Promise<Record<string, unknown> | void>;
}

export type JobOutcome =
  | { status: 'done'; detail: Record<string, unknown> }
  | { status: 'skipped'; reason: 'already_done' | 'running' }
  | { status: 'failed'; error: string };

/** Run `job` for `period` unless it already ran; `force` re-runs a finished period (idempotent jobs only). */
export async function runJob(
  db: Kysely<Database>,
  job: JobDefinition,
  period: string,
  opts: { now?: Date; force?: boolean; log?: JobContext['log'] } = {},
): Promise<JobOutcome> {
  const now = opts.now ?? new Date();
  const startedAt = new Date().toISOString();
  const claimed = await claim(db, job.name, period, startedAt, opts.force ?? false);
  if (claimed !== 'claimed') return { status: 'skipped', reason: claimed };
  try {
    const detail = (await job.run({ db, period, now, log: opts.log ?? (() => undefined) })) ?? {};
    await db
      .updateTable('job_run')
      .set({ status: 'done', finished_at: new Date().toISOString(), detail: JSON.stringify(detail) })
      .where('job', '=', job.name)
      .where('period', '=', period)
      .execute();
    return { status: 'done', detail };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    await db
      .updateTable('job_run')
      .set({ status: 'failed', finished_at: new Date().toISOString(), detail: JSON.stringify({ error }) })
      .where('job', '=', job.name)
      .where('period', '=', period)
      .execute();
    return { status: 'failed', error };
  }
}

async function claim(
  db: Kysely<Database>,
  job: string,
  period: string,
  at: string,
  force: boolean,
): Promise<'claimed' | 'already_done' | 'running'> {
  try {
    await db
      .insertInto('job_run')
      .values({ job, period, status: 'running', started_at: at, finished_at: null, detail: null })
      .execute();
    return 'claimed';
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
  }
  // Someone ran it before: take it over only if it failed (or a forced re-run of a finished one).
  const retake = await db
    .updateTable('job_run')
    .set({ status: 'running', started_at: at, finished_at: null, detail: null })
    .where('job', '=', job)
    .where('period', '=', period)
    .where('status', 'in', force ? ['failed', 'done'] : ['failed'])
    .executeTakeFirst();
  if (Number(retake.numUpdatedRows) === 1) return 'claimed';
  const row = await db
    .selectFrom('job_run')
    .select('status')
    .where('job', '=', job)
    .where('period', '=', period)
    .executeTakeFirst();
  return row?.status === 'running' ? 'running' : 'already_done';
}

/** The calendar day (YYYY-MM-DD) of an instant in a time zone. */
export function dayIn(now: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** The month (YYYY-MM) before the one an instant falls in, in a time zone: what a monthly rating is for. */
export function previousMonthIn(now: Date, timeZone: string): string {
  const [y, m] = dayIn(now, timeZone).split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}
