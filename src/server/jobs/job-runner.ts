// Scheduled work that runs once per period, however many processes or restarts try: a job claims
// (job, period) in job_run — the unique key decides who runs it — and records how it ended.
// A failed run can be retried; a finished one is not run again unless forced (a re-run by hand).
// A claim is a lease: the running process beats `heartbeat_at` every JOB_HEARTBEAT_MS, and a 'running'
// claim whose beat is older than JOB_STALE_MS (its process was killed) is taken over.
import os from 'node:os';
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

/** How often a running job renews its claim, and how old a claim's last beat may be before it is taken over. */
export const JOB_HEARTBEAT_MS = Number(process.env.JOB_HEARTBEAT_MS) || 15_000;
export const JOB_STALE_MS = Number(process.env.JOB_STALE_MS) || 90_000;
/** This process, as written in the claims it holds. */
export const RUNNER = `${os.hostname()}:${process.pid}`;

export type JobOutcome =
  | { status: 'done'; detail: Record<string, unknown> }
  | { status: 'skipped'; reason: 'already_done' | 'running' }
  | { status: 'failed'; error: string };

/** Run `job` for `period` unless it already ran; `force` re-runs a finished period (idempotent jobs only). */
export async function runJob(
  db: Kysely<Database>,
  job: JobDefinition,
  period: string,
  opts: {
    now?: Date;
    force?: boolean;
    log?: JobContext['log'];
    /** Who claims (tests play two processes); this process by default. */
    runner?: string;
    heartbeatMs?: number;
    staleMs?: number;
  } = {},
): Promise<JobOutcome> {
  const now = opts.now ?? new Date();
  const runner = opts.runner ?? RUNNER;
  const log = opts.log ?? (() => undefined);
  const startedAt = new Date().toISOString();
  const claimed = await claim(db, job.name, period, startedAt, {
    force: opts.force ?? false,
    runner,
    staleMs: opts.staleMs ?? JOB_STALE_MS,
  });
  if (claimed.status !== 'claimed') return { status: 'skipped', reason: claimed.status };
  if (claimed.tookOverFrom) log('took over a claim whose process stopped beating', { from: claimed.tookOverFrom });
  const mine = () =>
    db.updateTable('job_run').where('job', '=', job.name).where('period', '=', period).where('runner', '=', runner);
  const beat = setInterval(() => {
    mine()
      .set({ heartbeat_at: new Date().toISOString() })
      .where('status', '=', 'running')
      .execute()
      .catch(() => undefined);
  }, opts.heartbeatMs ?? JOB_HEARTBEAT_MS);
  beat.unref();
  try {
    const detail = (await job.run({ db, period, now, log })) ?? {};
    clearInterval(beat);
    await mine()
      .set({
        status: 'done',
        finished_at: new Date().toISOString(),
        heartbeat_at: null,
        detail: JSON.stringify(detail),
      })
      .execute();
    return { status: 'done', detail };
  } catch (err) {
    clearInterval(beat);
    const error = err instanceof Error ? err.message : String(err);
    await mine()
      .set({
        status: 'failed',
        finished_at: new Date().toISOString(),
        heartbeat_at: null,
        detail: JSON.stringify({ error }),
      })
      .execute();
    return { status: 'failed', error };
  }
}

async function claim(
  db: Kysely<Database>,
  job: string,
  period: string,
  at: string,
  opts: { force: boolean; runner: string; staleMs: number },
): Promise<{ status: 'claimed' | 'already_done' | 'running'; tookOverFrom?: string }> {
  try {
    await db
      .insertInto('job_run')
      .values({
        job,
        period,
        status: 'running',
        started_at: at,
        finished_at: null,
        detail: null,
        heartbeat_at: at,
        runner: opts.runner,
      })
      .execute();
    return { status: 'claimed' };
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
  }
  // Someone ran it before: take it over if it failed, if its process stopped beating, or (forced) if
  // it finished. The update decides between instances trying at once: one of them changes the row.
  const before = await db
    .selectFrom('job_run')
    .select(['status', 'runner'])
    .where('job', '=', job)
    .where('period', '=', period)
    .executeTakeFirst();
  const staleBefore = new Date(Date.parse(at) - opts.staleMs).toISOString();
  const retake = await db
    .updateTable('job_run')
    .set({ status: 'running', started_at: at, finished_at: null, detail: null, heartbeat_at: at, runner: opts.runner })
    .where('job', '=', job)
    .where('period', '=', period)
    .where((eb) =>
      eb.or([
        eb('status', 'in', opts.force ? ['failed', 'done'] : ['failed']),
        eb.and([eb('status', '=', 'running'), eb(eb.fn.coalesce('heartbeat_at', 'started_at'), '<', staleBefore)]),
      ]),
    )
    .executeTakeFirst();
  if (Number(retake.numUpdatedRows) === 1)
    return before?.status === 'running'
      ? { status: 'claimed', tookOverFrom: before.runner ?? 'unknown' }
      : { status: 'claimed' };
  const row = await db
    .selectFrom('job_run')
    .select('status')
    .where('job', '=', job)
    .where('period', '=', period)
    .executeTakeFirst();
  return { status: row?.status === 'running' ? 'running' : 'already_done' };
}

/** Claims left 'running' by a process that stopped beating: what the scheduler takes over. */
export async function staleClaims(
  db: Kysely<Database>,
  staleMs: number = JOB_STALE_MS,
  now: Date = new Date(),
): Promise<{ job: string; period: string; runner: string | null }[]> {
  const staleBefore = new Date(now.getTime() - staleMs).toISOString();
  return db
    .selectFrom('job_run')
    .select(['job', 'period', 'runner'])
    .where('status', '=', 'running')
    .where((eb) => eb(eb.fn.coalesce('heartbeat_at', 'started_at'), '<', staleBefore))
    .execute();
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
