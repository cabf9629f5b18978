// Every night: development plans not dispatched by their due day, and prospects whose next step was not
// recorded by its due day, are flagged overdue once, with a line in their trail (pages also compute
// the flag on reading, so this is the record of when it was first missed).
import type { JobDefinition } from '../../jobs/job-runner.js';
import { dayIn } from '../../jobs/job-runner.js';
import { engineOf } from '../../db/dialect.js';
import { CustomersService } from '../customers/customers.service.js';
import { ProspectsService } from './prospects.service.js';

export const devPlanOverdueJob: JobDefinition = {
  name: 'dev-plan-overdue',
  cron: '40 0 * * *',
  periodOf: (now, timeZone) => dayIn(now, timeZone),
  run: async (ctx) => {
    const engine = engineOf(ctx.db);
    const svc = new ProspectsService(ctx.db, engine, new CustomersService(ctx.db, engine), () => ctx.now);
    const flagged = await svc.flagOverdue(ctx.period);
    ctx.log('development plans flagged overdue', flagged);
    return flagged;
  },
};
