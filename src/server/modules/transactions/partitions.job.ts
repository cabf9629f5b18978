// Every day: fuel_transaction's monthly partitions made ahead on PostgreSQL (see partitions.ts).
import type { JobDefinition } from '../../jobs/job-runner.js';
import { dayIn } from '../../jobs/job-runner.js';
import { ensurePartitions } from './partitions.js';

export const transactionPartitionsJob: JobDefinition = {
  name: 'transaction-partitions',
  cron: '10 1 * * *',
  periodOf: (now, timeZone) => dayIn(now, timeZone),
  run: async (ctx) => {
    const result = await ensurePartitions(ctx.db, ctx.now);
    if (result.created.length) ctx.log('transaction partitions added', { ...result });
    return { ...result };
  },
};
