// The monthly rating: on the policy's compute day (the seeds: by the 2nd) every branch's batch for
// the month just ended is computed through the same service as the API.
import { previousMonthIn, type JobDefinition } from '../../jobs/job-runner.js';
import { RatingsService } from './ratings.service.js';

export const monthlyRatingJob: JobDefinition = {
  name: 'monthly-rating',
  cron: '0 2 2 * *',
  periodOf: (now, timeZone) => previousMonthIn(now, timeZone),
  run: async (ctx) => {
    const outcomes = await new RatingsService(ctx.db, () => ctx.now).computePeriod(
      { userId: null, name: 'job:monthly-rating', ip: null },
      ctx.period,
      null,
    );
    const count = (o: string) => outcomes.filter((x) => x.outcome === o).length;
    ctx.log('ratings computed', { batches: outcomes.length, locked: count('locked') });
    return {
      batches: outcomes.length,
      computed: count('computed'),
      recomputed: count('recomputed'),
      locked: count('locked'),
      customers: outcomes.reduce((a, o) => a + o.customers, 0),
    };
  },
};
