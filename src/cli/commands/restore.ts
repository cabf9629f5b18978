// `forecourt restore <file> --yes`: put a backup made by `forecourt backup` back in place of the
// configured database, then report each table's rows.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import type { Config } from '../../server/config.js';
import { isPostgresUrl, openDb } from '../../server/db/connection.js';
import { describeDatabase } from '../database-url.js';
import { UsageError } from '../usage-error.js';

export const restoreHelp = `usage: forecourt restore <file> --yes

Replaces the configured database (DATABASE_URL; unset: ./data/forecourt.db) with the backup <file>
written by \`forecourt backup\`, then lists every table's rows so they can be compared with the
figures of the day. Stop the server (every app instance) first. Nothing changes without --yes.

  SQLite       the backup is checked (integrity check, Forecourt tables present); the current file and
               its -wal/-shm are kept beside it as <db>.before-restore-<time>; the backup is copied in.
  PostgreSQL   pg_restore --clean --if-exists --single-transaction into DATABASE_URL's database: a
               failure leaves it as it was. pg_restore must be on PATH (Debian: postgresql-client-15).

The next start applies any migrations newer than the backup.

Options:
  -y, --yes    do it
  -h, --help   this text
`;

export async function runRestore(argv: string[], config: Config): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { help: { type: 'boolean', short: 'h' }, yes: { type: 'boolean', short: 'y' } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(restoreHelp);
    return 0;
  }
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new UsageError('expected exactly one argument: the backup file');
  if (!values.yes)
    throw new UsageError(
      `this replaces ${describeDatabase(config.databaseUrl)} with ${file}; stop the server and add --yes`,
    );
  const { kept } = await restore(config.databaseUrl, file);
  console.log(`restored ${describeDatabase(config.databaseUrl)} from ${file}`);
  if (kept) console.log(`the database before the restore is kept as ${kept}`);
  for (const [table, n] of Object.entries(await tableRows(config.databaseUrl)))
    console.log(`  ${table.padEnd(28)} ${n}`);
  return 0;
}

export async function restore(databaseUrl: string, file: string): Promise<{ kept: string | null }> {
  if (!fs.existsSync(file)) throw new Error(`no backup file at ${file}`);
  if (isPostgresUrl(databaseUrl)) {
    await pgRestore(databaseUrl, file);
    return { kept: null };
  }
  return sqliteRestore(databaseUrl, file);
}

function sqliteRestore(dbFile: string, file: string): { kept: string | null } {
  if (dbFile === ':memory:') throw new Error('an in-memory database cannot be restored');
  // The backup must be a sound SQLite file of ours before anything is moved.
  let source: SQLite.Database;
  try {
    source = new SQLite(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new Error(`${file} is not a SQLite database: ${(err as Error).message}`);
  }
  try {
    let ok: unknown;
    try {
      ok = source.pragma('quick_check', { simple: true });
    } catch (err) {
      throw new Error(`${file} is not a SQLite database: ${(err as Error).message}`);
    }
    if (ok !== 'ok') throw new Error(`${file} fails SQLite's integrity check: ${String(ok)}`);
    const ours = source
      .prepare(
        "select count(*) as n from sqlite_master where type = 'table' and name in ('schema_migration', 'customer')",
      )
      .get() as { n: number };
    if (ours.n !== 2) throw new Error(`${file} is not a Forecourt backup (no schema_migration or customer table)`);
  } finally {
    source.close();
  }
  const target = path.resolve(dbFile);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  let kept: string | null = null;
  if (fs.existsSync(target)) {
    kept = `${target}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(target, kept);
    for (const side of ['-wal', '-shm'])
      if (fs.existsSync(`${target}${side}`)) fs.renameSync(`${target}${side}`, `${kept}${side}`);
  }
  // Copied under a temporary name and renamed, so a failure never leaves half a database in place.
  const partial = `${target}.restoring`;
  try {
    fs.copyFileSync(file, partial);
    fs.renameSync(partial, target);
  } catch (err) {
    fs.rmSync(partial, { force: true });
    if (kept) fs.renameSync(kept, target);
    throw err;
  }
  return { kept };
}

function pgRestore(databaseUrl: string, file: string): Promise<void> {
  // The password goes through the environment, not the command line that `ps` shows to everyone.
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = '';
  const env = password ? { ...process.env, PGPASSWORD: password } : process.env;
  const args = ['--clean', '--if-exists', '--no-owner', '--single-transaction', `--dbname=${url.toString()}`, file];
  return new Promise((resolve, reject) => {
    let stderr = '';
    const child = spawn('pg_restore', args, { stdio: ['ignore', 'inherit', 'pipe'], env });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? new Error(
              'pg_restore was not found on PATH; install the PostgreSQL client tools (Debian: postgresql-client-15)',
            )
          : err,
      ),
    );
    child.on('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`pg_restore failed (${signal ?? `exit code ${code}`}): ${stderr.trim()}`)),
    );
  });
}

/** Rows in every table of the database, by table name (a partitioned table once, with all its partitions' rows). */
export async function tableRows(databaseUrl: string): Promise<Record<string, number>> {
  const db = openDb({ url: databaseUrl, poolSize: 1 });
  try {
    const tables =
      db.engine === 'postgres'
        ? (
            await sql<{
              name: string;
            }>`select c.relname as name from pg_class c
              where c.relnamespace = current_schema()::regnamespace and c.relkind in ('r', 'p') and not c.relispartition
              order by 1`.execute(db.kysely)
          ).rows
        : (
            await sql<{
              name: string;
            }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by 1`.execute(
              db.kysely,
            )
          ).rows;
    const out: Record<string, number> = {};
    for (const { name } of tables) {
      const r = await sql<{ n: number }>`select count(*) as n from ${sql.table(name)}`.execute(db.kysely);
      out[name] = Number(r.rows[0]!.n);
    }
    return out;
  } finally {
    await db.close();
  }
}
