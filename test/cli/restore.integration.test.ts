// `forecourt backup` then `forecourt restore`, on both engines: a database with customers is backed
// up, changed (customers added, one deleted), restored, and every table's rows are compared with a
// direct count taken before the change; a restore without --yes or from a file that is not ours
// changes nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines, freshDatabase } from '../helpers/engines.js';
import { ADMIN_PASSWORD, call, login, ok, setupAdmin, testConfig } from '../helpers/app.js';
import { buildApp } from '../../src/server/app.js';
import { prepareDatabase } from '../../src/server/bootstrap.js';
import { openDb } from '../../src/server/db/connection.js';
import { backup } from '../../src/cli/commands/backup.js';
import { restore, tableRows } from '../../src/cli/commands/restore.js';

const BIN = fileURLToPath(new URL('../../bin/forecourt.mjs', import.meta.url));

describeEngines('forecourt restore', (engine) => {
  let url: string;
  let drop: () => Promise<void>;
  let dir: string;

  /** Runs the app on the database for `fn`, then closes both. */
  const withApp = async <T>(fn: (app: Awaited<ReturnType<typeof buildApp>>) => Promise<T>): Promise<T> => {
    const db = openDb({ url, poolSize: 2 });
    const app = await buildApp({ db, config: testConfig({ databaseUrl: url }), webRoot: null });
    try {
      return await fn(app);
    } finally {
      await app.close();
      await db.close();
    }
  };

  beforeAll(async () => {
    ({ url, drop } = await freshDatabase(engine));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-restore-'));
    const db = openDb({ url, poolSize: 2 });
    await prepareDatabase(db);
    await db.close();
  }, 60_000);
  afterAll(async () => {
    await drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('puts the backup back: every table has the rows it had when the backup was taken', async () => {
    const ids = await withApp(async (app) => {
      const admin = await setupAdmin(app);
      const out: number[] = [];
      for (let i = 0; i < 5; i++) {
        const c = await ok<{ id: number }>(
          call(app, admin, 'POST', '/api/customers', {
            kind: 'individual',
            name: `客户${i}`,
            vehicles: [{ plate: `冀A1000${i}` }],
          }),
          201,
        );
        out.push(c.id);
      }
      return out;
    });
    const before = await tableRows(url);
    expect(before.customer).toBe(5);
    expect(before.vehicle).toBe(5);
    const file = path.join(dir, engine === 'sqlite' ? 'backup.db' : 'backup.dump');
    await backup(url, file);

    // The day goes on: two more customers, one removed.
    await withApp(async (app) => {
      const admin = await login(app, 'admin', ADMIN_PASSWORD);
      for (const i of [5, 6])
        await ok(
          call(app, admin, 'POST', '/api/customers', {
            kind: 'individual',
            name: `客户${i}`,
            vehicles: [{ plate: `冀A1000${i}` }],
          }),
          201,
        );
    });
    const db = openDb({ url, poolSize: 1 });
    await db.kysely.deleteFrom('vehicle').where('customer_id', '=', ids[0]!).execute();
    await db.close();
    const changed = await tableRows(url);
    expect(changed.customer).toBe(7);
    expect(changed.vehicle).toBe(6);

    const { kept } = await restore(url, file);
    expect(await tableRows(url)).toEqual(before);
    if (engine === 'sqlite') {
      // The database as it was before the restore is kept beside it.
      expect(kept).not.toBeNull();
      expect(fs.existsSync(kept!)).toBe(true);
    }
    // And the app runs on it: the admin signs in and finds the five customers.
    await withApp(async (app) => {
      const admin = await login(app, 'admin', ADMIN_PASSWORD);
      const list = await ok<{ total: number }>(call(app, admin, 'GET', '/api/customers'));
      expect(list.total).toBe(5);
    });
  }, 120_000);

  it('changes nothing without --yes, or from a file that is not a backup', async () => {
    const before = await tableRows(url);
    const env = { ...process.env, DATABASE_URL: url };
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 60_000 });
    const noYes = run('restore', path.join(dir, 'whatever'));
    expect(noYes.status).toBe(2);
    expect(noYes.stderr).toContain('--yes');
    const junk = path.join(dir, 'junk.bin');
    fs.writeFileSync(junk, 'not a database at all'.repeat(100));
    const bad = run('restore', junk, '--yes');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(engine === 'sqlite' ? /not a SQLite database|integrity/ : /pg_restore failed/);
    expect(await tableRows(url)).toEqual(before);
  }, 120_000);
});
