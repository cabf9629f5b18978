// Nothing lost or doubled: `forecourt import` killed with SIGKILL in the middle of a large file and
// run again ends with exactly the right rows; running a finished file again adds nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines, freshDatabase } from '../helpers/engines.js';
import { openDb, type Db } from '../../src/server/db/connection.js';
import { prepareDatabase } from '../../src/server/bootstrap.js';
import { buildDemo } from '../../src/cli/commands/demo.js';

const BIN = fileURLToPath(new URL('../../bin/forecourt.mjs', import.meta.url));
const ROWS = 12_000;

/** Customers with distinct plates and phones, as an old archive spreadsheet would list them. */
function writeArchive(file: string): void {
  const lines = ['客户名称,手机,车牌号,车型,备注'];
  for (let i = 0; i < ROWS; i++) {
    const plate = `冀A${String(i).padStart(5, '0')}`;
    const phone = `139${String(10_000_000 + i).padStart(8, '0')}`;
    lines.push(`客户${i},${phone},${plate},解放J6,批量导入`);
  }
  fs.writeFileSync(file, `${lines.join('\r\n')}\r\n`);
}

const count = async (db: Db, table: 'customer' | 'vehicle' | 'customer_phone') =>
  Number(
    (
      await db.kysely
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describeEngines('import survives kill -9', (engine) => {
  let url: string;
  let drop: () => Promise<void>;
  let db: Db;
  let dir: string;
  let file: string;
  const env = () => ({ ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' });
  const args = () => [BIN, 'import', file, '--kind', 'customers', '--user', 'admin', '--org', 'HQ'];

  beforeAll(async () => {
    ({ url, drop } = await freshDatabase(engine, { migrated: true }));
    db = openDb({ url });
    await prepareDatabase(db);
    await buildDemo(db);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-import-'));
    file = path.join(dir, 'archive.csv');
    writeArchive(file);
  }, 120_000);

  afterAll(async () => {
    await db?.close();
    await drop?.();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('resumes after SIGKILL and ends with exactly one customer per row', async () => {
    const before = await count(db, 'customer');
    const child = spawn(process.execPath, args(), { env: env(), stdio: 'ignore' });
    // Kill it once some chunks are committed but before the end.
    const deadline = Date.now() + 90_000;
    let done = 0;
    while (Date.now() < deadline) {
      const job = await db.kysely
        .selectFrom('import_job')
        .select(['rows_done', 'status'])
        .orderBy('id', 'desc')
        .executeTakeFirst();
      done = job?.rows_done ?? 0;
      if (done > 1000 || job?.status === 'done') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const job = await db.kysely.selectFrom('import_job').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(job.status, 'killed before the end').toBe('committing');
    const partial = (await count(db, 'customer')) - before;
    // Chunks are whole: what landed is exactly what the checkpoint says (rows_done counts data rows,
    // the checkpoint is the file's row, the header being row 1).
    expect(partial).toBe(job.rows_done);
    expect(job.checkpoint_row).toBe(job.rows_done + 1);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(ROWS);

    const again = spawnSync(process.execPath, args(), { env: env(), encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`resuming import ${job.id}`);
    expect((await count(db, 'customer')) - before).toBe(ROWS);
    const finished = await db.kysely
      .selectFrom('import_job')
      .selectAll()
      .where('id', '=', job.id)
      .executeTakeFirstOrThrow();
    expect(finished).toMatchObject({
      status: 'done',
      rows_total: ROWS,
      rows_done: ROWS,
      rows_ok: ROWS,
      rows_rejected: 0,
      created_count: ROWS,
    });
  }, 180_000);

  it('changes nothing when the same file is imported again', async () => {
    const counts = [await count(db, 'customer'), await count(db, 'vehicle'), await count(db, 'customer_phone')];
    const again = spawnSync(process.execPath, args(), { env: env(), encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    expect([await count(db, 'customer'), await count(db, 'vehicle'), await count(db, 'customer_phone')]).toEqual(
      counts,
    );
    const job = await db.kysely.selectFrom('import_job').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(job).toMatchObject({
      status: 'done',
      created_count: 0,
      updated_count: 0,
      unchanged_count: ROWS,
      rows_ok: ROWS,
      rows_total: ROWS,
    });
  }, 180_000);

  const cli = (...extra: string[]) =>
    spawnSync(process.execPath, [BIN, 'import', ...extra, '--user', 'admin'], { env: env(), encoding: 'utf8' });

  /** Run a check through the CLI and kill it with SIGKILL once it has got going. */
  async function killDuringCheck(): Promise<number> {
    const child = spawn(process.execPath, [...args(), '--dry-run'], { env: env(), stdio: 'ignore' });
    const deadline = Date.now() + 90_000;
    let id = 0;
    while (Date.now() < deadline) {
      const job = await db.kysely
        .selectFrom('import_job')
        .select(['id', 'rows_done', 'status'])
        .orderBy('id', 'desc')
        .executeTakeFirst();
      if (job?.status === 'checking' && job.rows_done > 1000) {
        id = job.id;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const job = await db.kysely.selectFrom('import_job').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    // Left behind as the finding saw it: checking, with a heartbeat that looks alive for a while yet.
    expect(job.status).toBe('checking');
    expect(job.runner).not.toBeNull();
    return id;
  }

  it('carries on with a check killed midway: forecourt import --resume JOB commits it', async () => {
    const id = await killDuringCheck();
    const resumed = cli('--resume', String(id));
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`resuming import ${id} (checking)`);
    const job = await db.kysely.selectFrom('import_job').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(job).toMatchObject({
      status: 'done',
      rows_total: ROWS,
      runner: null,
      unchanged_count: ROWS,
      created_count: 0,
    });
  }, 180_000);

  it('gives up a check killed midway: forecourt import --cancel JOB, after which it cannot be resumed', async () => {
    const id = await killDuringCheck();
    const cancelled = cli('--cancel', String(id));
    expect(cancelled.status, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toContain(`cancelled import ${id} (was checking`);
    const job = await db.kysely.selectFrom('import_job').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(job).toMatchObject({ status: 'cancelled', runner: null });
    const chunks = await db.kysely.selectFrom('import_file_chunk').select('seq').where('job_id', '=', id).execute();
    expect(chunks).toHaveLength(0);
    const again = cli('--resume', String(id));
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already cancelled');
  }, 180_000);
});
