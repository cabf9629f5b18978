// `forecourt backup <file>`: a consistent copy while the server keeps running.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import type { Config } from '../../server/config.js';
import { isPostgresUrl } from '../../server/db/connection.js';
import { describeDatabase } from '../database-url.js';
import { UsageError } from '../usage-error.js';

export const backupHelp = `usage: forecourt backup <file>

Writes a consistent copy of the configured database (DATABASE_URL; unset: ./data/forecourt.db)
to <file> while the server keeps running. An existing <file> is replaced only once the new copy
is complete.

  SQLite       SQLite's online backup API: one self-contained database file.
  PostgreSQL   pg_dump --format=custom (pg_dump must be on PATH and not older than the server;
               Debian: apt-get install postgresql-client-<version>).

Restore, SQLite:
  1. stop the server;
  2. move the current database aside, with its -wal and -shm files if present:
       mv data/forecourt.db data/forecourt.db.old; rm -f data/forecourt.db-wal data/forecourt.db-shm
  3. copy the backup into place: cp <file> data/forecourt.db
  4. start the server (it applies any newer migrations).

Restore, PostgreSQL:
  1. stop the app instances;
  2. restore into a new, empty database:
       createdb -T template0 forecourt_restored
       pg_restore --no-owner --dbname=postgres://…/forecourt_restored <file>
  3. point DATABASE_URL at it (or swap names with ALTER DATABASE … RENAME TO …) and start the app.

Options:
  -h, --help   this text
`;

export async function runBackup(argv: string[], config: Config): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(backupHelp);
    return 0;
  }
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new UsageError('expected exactly one argument: the backup file');
  await backup(config.databaseUrl, file);
  console.log(`backed up ${describeDatabase(config.databaseUrl)} to ${file} (${fs.statSync(file).size} bytes)`);
  return 0;
}

export async function backup(databaseUrl: string, file: string): Promise<void> {
  const target = path.resolve(file);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  // Written beside the target and renamed at the end, so a failed run never leaves a truncated backup under the real name.
  const partial = `${target}.partial`;
  try {
    if (isPostgresUrl(databaseUrl)) await pgDump(databaseUrl, partial);
    else await sqliteBackup(databaseUrl, partial);
    fs.renameSync(partial, target);
  } finally {
    fs.rmSync(partial, { force: true });
  }
}

async function sqliteBackup(dbFile: string, to: string): Promise<void> {
  if (dbFile === ':memory:') throw new Error('an in-memory database cannot be backed up');
  if (!fs.existsSync(dbFile)) throw new Error(`no database at ${dbFile}`);
  // A connection of our own: the backup API copies pages while the server keeps reading and writing.
  const db = new SQLite(dbFile, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    await db.backup(to);
  } finally {
    db.close();
  }
  // The copy inherits WAL mode; a rollback-journal file stands alone, with no -wal/-shm beside it to lose.
  const copy = new SQLite(to, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
}

function pgDump(databaseUrl: string, to: string): Promise<void> {
  // The password goes through the environment, not the command line that `ps` shows to everyone.
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = '';
  const env = password ? { ...process.env, PGPASSWORD: password } : process.env;
  return new Promise((resolve, reject) => {
    const child = spawn('pg_dump', ['--format=custom', `--file=${to}`, `--dbname=${url.toString()}`], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env,
    });
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? new Error(
              'pg_dump was not found on PATH; install the PostgreSQL client tools matching the server version (Debian: apt-get install postgresql-client-15)',
            )
          : err,
      ),
    );
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`pg_dump failed (${signal ?? `exit code ${code}`})`)),
    );
  });
}
