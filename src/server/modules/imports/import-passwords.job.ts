// Every hour: initial passwords of imports that were not downloaded in time are deleted (import-passwords.ts).
import type { JobDefinition } from '../../jobs/job-runner.js';
import { purgeExpiredPasswords } from './import-passwords.js';

const HOUR = 3_600_000;

export const importPasswordsExpiryJob: JobDefinition = {
  name: 'import-passwords-expiry',
  cron: '7 * * * *',
  // One run per hour (UTC): the deadlines are instants, whatever the company's zone.
  periodOf: (now) => new Date(Math.floor(now.getTime() / HOUR) * HOUR).toISOString().slice(0, 13),
  run: async (ctx) => {
    const r = await purgeExpiredPasswords(ctx.db, ctx.now);
    ctx.log('import passwords expiry', r);
    return r;
  },
};
