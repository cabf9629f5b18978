import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import SQLite from 'better-sqlite3';
import { isPostgresUrl } from '../../server/db/connection.js';

/** A consistent copy while the server keeps running: SQLite's online backup, or pg_dump. */
export async function backup(databaseUrl: string, file: string): Promise<void> {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  if (isPostgresUrl(databaseUrl)) {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('pg_dump', ['--format=custom', `--file=${file}`, `--dbname=${databaseUrl}`], { stdio: 'inherit' });
      child.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT' ? new Error('pg_dump is not installed (Debian: apt-get install postgresql-client)') : err));
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pg_dump exited with ${code}`))));
    });
    return;
  }
  if (!fs.existsSync(databaseUrl)) throw new Error(`no database at ${databaseUrl}`);
  const db = new SQLite(databaseUrl, { readonly: true, fileMustExist: true });
  try {
    await db.backup(file);
  } finally {
    db.close();
  }
}
