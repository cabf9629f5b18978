// Every hour: the contact tasks whose day has begun on each unit's own clock. Hourly rather than once a
// night so a unit west or east of the company's zone gets its tasks soon after its own midnight, due at
// the policy's hour of its own morning; re-runs create nothing twice ((moment, customer) is unique).
import type { JobDefinition } from '../../jobs/job-runner.js';
import { ContactMomentsService } from './contact-moments.service.js';

export const contactMomentsJob: JobDefinition = {
  name: 'contact-moments',
  cron: '5 * * * *',
  // One run per UTC hour.
  periodOf: (now) => now.toISOString().slice(0, 13),
  run: async (ctx) => {
    const result = await new ContactMomentsService(ctx.db, () => ctx.now).generate();
    ctx.log('contact tasks made', { ...result });
    return { ...result };
  },
};
