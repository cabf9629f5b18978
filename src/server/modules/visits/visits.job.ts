// Scheduled work of the visits module: the month's plans proposed on the 1st, reminders written every
// quarter hour as they fall due (each at its local hour in the customer's unit's time zone), and the
// weekly summary of every branch on Monday morning.
import type { JobDefinition } from '../../jobs/job-runner.js';
import { dayIn } from '../../jobs/job-runner.js';
import { VisitPlansService } from './visit-plans.service.js';
import { VisitSummaryService } from './visit-summary.service.js';
import { weekStart } from '../../../domain/visit-plan.js';

export const visitPlansJob: JobDefinition = {
  name: 'visit-plans',
  cron: '0 3 1 * *',
  periodOf: (now, timeZone) => dayIn(now, timeZone).slice(0, 7),
  run: async (ctx) => {
    const r = await new VisitPlansService(ctx.db, () => ctx.now).generate(ctx.period);
    ctx.log('visit plans proposed', r);
    return r;
  },
};

export const visitRemindersJob: JobDefinition = {
  name: 'visit-reminders',
  cron: '*/15 * * * *',
  // One run per quarter hour (UTC): reminders are instants, whatever the company's zone.
  periodOf: (now) => {
    const q = new Date(Math.floor(now.getTime() / 900_000) * 900_000);
    return q.toISOString().slice(0, 16);
  },
  run: async (ctx) => {
    const r = await new VisitPlansService(ctx.db, () => ctx.now).sendDueReminders();
    ctx.log('visit reminders', r);
    return r;
  },
};

export const visitWeeklySummaryJob: JobDefinition = {
  name: 'visit-weekly-summary',
  cron: '0 7 * * 1',
  periodOf: (now, timeZone) => weekStart(dayIn(now, timeZone)),
  run: async (ctx) => {
    const r = await new VisitSummaryService(ctx.db, () => ctx.now).generateAll();
    ctx.log('weekly visit summaries', r);
    return r;
  },
};
