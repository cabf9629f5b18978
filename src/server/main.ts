import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { openDb } from './db/connection.js';
import { prepareDatabase } from './bootstrap.js';
import { usersQueries } from './modules/users/users.queries.js';
import { JOBS } from './jobs/index.js';
import { dashboardSnapshotsJob } from './modules/dashboards/dashboards.job.js';
import { startScheduler } from './jobs/scheduler.js';
import { startWebhookDispatcher } from './modules/webhooks/webhook-dispatcher.js';

const config = loadConfig();
const db = openDb({
  url: config.databaseUrl,
  readUrl: config.databaseReadUrl,
  readMaxLagSeconds: config.databaseReadMaxLagSeconds,
});
const applied = await prepareDatabase(db);
const app = await buildApp({ db, config, logger: { level: config.logLevel } });
if (applied.length > 0) app.log.info({ applied }, 'migrations applied');

const address = await app.listen({ host: config.host, port: config.port });
app.log.info({ engine: db.engine }, `Forecourt is running at ${address}`);
if ((await usersQueries.count(db.kysely)) === 0)
  app.log.info(`first run: open ${address}/setup to create the administrator`);

// Scheduled jobs run in the company's time zone (the top org unit's); FORECOURT_JOBS=0 turns them off here.
// Dashboard snapshots are computed only when dashboards read them (DASHBOARD_SNAPSHOT_MINUTES > 0).
const root = await db.kysely
  .selectFrom('org_unit')
  .select('time_zone')
  .where('parent_id', 'is', null)
  .executeTakeFirst();
const jobs = JOBS.filter((j) => j.name !== dashboardSnapshotsJob.name || config.dashboardSnapshotMinutes > 0);
const scheduler =
  process.env.FORECOURT_JOBS === '0'
    ? null
    : startScheduler(db.kysely, jobs, root?.time_zone ?? 'Asia/Shanghai', app.log);
// Webhook deliveries go out from every instance that runs jobs (each delivery is claimed by one).
const webhooks = process.env.FORECOURT_JOBS === '0' ? null : startWebhookDispatcher(db.kysely, app.log);

let closing = false;
async function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'shutting down');
  scheduler?.stop();
  webhooks?.stop();
  // Stop taking requests, let in-flight ones finish (at most 10 s), then close the database.
  const closed = app.close();
  for (let waited = 0; app.inFlight() > 0 && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  await closed;
  await db.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
