import { expect, it } from 'vitest';
import { describeEngines, openFresh } from '../helpers/engines.js';
import { prepareDatabase } from '../../src/server/bootstrap.js';
import { dayIn, previousMonthIn, runJob, type JobDefinition } from '../../src/server/jobs/job-runner.js';

describeEngines('job runner', (engine) => {
  it('runs a period once, retries a failed one, re-runs a finished one only when forced', async () => {
    const { db, close } = await openFresh(engine);
    try {
      await prepareDatabase(db);
      let runs = 0;
      let fail = true;
      const job: JobDefinition = {
        name: 'test-job',
        cron: '0 2 * * *',
        periodOf: (now, tz) => dayIn(now, tz),
        run: async () => {
          runs++;
          if (fail) throw new Error('boom');
          return { runs };
        },
      };
      expect(await runJob(db.kysely, job, '2026-11-22')).toEqual({ status: 'failed', error: 'boom' });
      fail = false;
      expect(await runJob(db.kysely, job, '2026-11-22')).toEqual({ status: 'done', detail: { runs: 2 } });
      expect(await runJob(db.kysely, job, '2026-11-22')).toEqual({ status: 'skipped', reason: 'already_done' });
      // Two at once: exactly one runs.
      const both = await Promise.all([runJob(db.kysely, job, '2026-11-23'), runJob(db.kysely, job, '2026-11-23')]);
      expect(both.filter((o) => o.status === 'done')).toHaveLength(1);
      expect((await runJob(db.kysely, job, '2026-11-22', { force: true })).status).toBe('done');
      expect(runs).toBe(4);
    } finally {
      await close();
    }
  });

  it('works out days and months in the company time zone', () => {
    const lateUtc = new Date('2026-11-30T17:30:00Z'); // 01:30 on 1 December in Shanghai
    expect(dayIn(lateUtc, 'Asia/Shanghai')).toBe('2026-12-01');
    expect(dayIn(lateUtc, 'UTC')).toBe('2026-11-30');
    expect(previousMonthIn(lateUtc, 'Asia/Shanghai')).toBe('2026-11');
    expect(previousMonthIn(new Date('2026-01-02T00:00:00Z'), 'Asia/Shanghai')).toBe('2025-12');
  });
});
