// The nightly run of the alert rules, for yesterday (the last day whose data is complete).
import type { JobDefinition } from '../../jobs/job-runner.js';
import { dayIn } from '../../jobs/job-runner.js';
import { addDays } from '../../../domain/anomaly-rules.js';
import { AlertsService } from './alerts.service.js';
import { CustomerValueService } from '../customer-value/value.service.js';

export const nightlyAlertsJob: JobDefinition = {
  name: 'nightly-alerts',
  cron: '30 1 * * *',
  periodOf: (now, timeZone) => addDays(dayIn(now, timeZone), -1),
  run: async (ctx) => {
    const result = await new AlertsService(ctx.db, () => ctx.now).runRules({ day: ctx.period });
    ctx.log('alerts raised', { raised: result.raised, skippedBranches: result.skippedBranches.length });
    // The spend model is fitted on the nights the branch's churn models are.
    const spendFits = await new CustomerValueService(ctx.db, () => ctx.now).fitSpendModels(ctx.period);
    return { ...result, spendFits };
  },
};
