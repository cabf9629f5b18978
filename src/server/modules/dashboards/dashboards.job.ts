// Every morning, after the nightly alerts: each unit's dashboard snapshots computed afresh (this
// month's overview and key customers, last month's card suggestions), so the day's first look at
// a large unit is served at once.
import type { JobDefinition } from '../../jobs/job-runner.js';
import { dayIn } from '../../jobs/job-runner.js';
import { engineOf } from '../../db/dialect.js';
import { DashboardsService } from './dashboards.service.js';

export const dashboardSnapshotsJob: JobDefinition = {
  name: 'dashboard-snapshots',
  cron: '30 4 * * *',
  periodOf: (now, timeZone) => dayIn(now, timeZone),
  run: async (ctx) => {
    // Snapshots are written whatever their configured age: the job is only scheduled when they are read.
    const svc = new DashboardsService(ctx.db, engineOf(ctx.db), () => ctx.now, { snapshotMinutes: 1 });
    const result = await svc.refreshSnapshots();
    ctx.log('dashboard snapshots computed', result);
    return { ...result };
  },
};
