// The Forecourt app as src/server/main.ts builds it (same factory, config from the environment,
// default pool size), on any free port, without the web UI. The database is prepared by the parent.
import { buildApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { openDb } from '../../src/server/db/connection.js';
import { reportListening } from './server-process.js';

const config = loadConfig();
const db = openDb({ url: config.databaseUrl, readUrl: config.databaseReadUrl });
const app = await buildApp({ db, config, webRoot: null, logger: { level: config.logLevel } });
reportListening(await app.listen({ host: '127.0.0.1', port: 0 }));

process.once('SIGTERM', () => {
  void (async () => {
    // autocannon stops on time with requests still in flight: let them finish before the database goes.
    const closed = app.close();
    for (let waited = 0; app.inFlight() > 0 && waited < 5_000; waited += 20)
      await new Promise((r) => setTimeout(r, 20));
    await closed;
    await db.close();
    process.exit(0);
  })();
});
