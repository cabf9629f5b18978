// Every five minutes: the complaint stages' SLA levels that fell due fire once each — warnings at
// 50/75/90 %, the breach with a reminder to the owner, the written reminder (督办) to the level above.
import type { JobDefinition } from '../../jobs/job-runner.js';
import { ComplaintSlaService } from './complaint-sla.service.js';

const FIVE_MINUTES = 300_000;

export const complaintSlaJob: JobDefinition = {
  name: 'complaint-sla',
  cron: '*/5 * * * *',
  // One run per five minutes (UTC): the levels are instants, whatever the company's zone.
  periodOf: (now) => new Date(Math.floor(now.getTime() / FIVE_MINUTES) * FIVE_MINUTES).toISOString().slice(0, 16),
  run: async (ctx) => {
    const r = await new ComplaintSlaService(ctx.db, () => ctx.now).sweep();
    ctx.log('complaint SLA sweep', r);
    return r;
  },
};
