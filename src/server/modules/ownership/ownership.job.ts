// Every night: customers whose owner has not followed them up within their class's days go back to
// their unit's public pool (公海); owners get a reminder some days before.
import type { JobDefinition } from '../../jobs/job-runner.js';
import { dayIn } from '../../jobs/job-runner.js';
import { OwnershipService } from './ownership.service.js';

export const ownershipPoolJob: JobDefinition = {
  name: 'ownership-pool',
  cron: '45 1 * * *',
  periodOf: (now, timeZone) => dayIn(now, timeZone),
  run: async (ctx) => {
    const result = await new OwnershipService(ctx.db, () => ctx.now).runPool();
    ctx.log('ownership pool', result);
    return result;
  },
};
