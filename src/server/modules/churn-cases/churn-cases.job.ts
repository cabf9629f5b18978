// Every night: customers with a live churn case who have bought again are recorded as won back (the
// case pages also check the cases they show, so this catches the ones nobody looked at).
import type { JobDefinition } from '../../jobs/job-runner.js';
import { dayIn } from '../../jobs/job-runner.js';
import { engineOf } from '../../db/dialect.js';
import { ChurnCasesService } from './churn-cases.service.js';

export const churnWinBacksJob: JobDefinition = {
  name: 'churn-win-backs',
  cron: '15 2 * * *',
  periodOf: (now, timeZone) => dayIn(now, timeZone),
  run: async (ctx) => {
    const wonBack = await new ChurnCasesService(ctx.db, engineOf(ctx.db), () => ctx.now).recordWinBacks();
    ctx.log('churn cases won back', { wonBack });
    return { wonBack };
  },
};
