// A migrated, unseeded database that tests copy instead of running every migration again: on
// PostgreSQL the migrations take ~1.3 s per database and a full run builds well over a hundred
// databases. The template is named after a hash of the migration files and their registry, so a
// changed or added migration builds a new one on first use and the stale ones are removed then.
// Tests that exercise migrations themselves ask for an empty database instead (see freshDatabase).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { openDb } from '../../src/server/db/connection.js';
import { migrateToLatest } from '../../src/server/db/migrate.js';

const DB_SOURCES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/server/db');
const PREFIX = 'fc_tpl_';
// Held shared while copying a template and exclusively while building one or dropping stale ones, so
// a copy never races a drop, across workers and across test runs sharing the server.
const PG_LOCK_KEY = 0x46_43_54_50; // "FCTP"
const STALE_AFTER_MS = 3_600_000;

let hashed: string | null = null;
function migrationsHash(): string {
  if (hashed) return hashed;
  const h = crypto.createHash('sha256');
  const files = ['migrate.ts', ...fs.readdirSync(path.join(DB_SOURCES, 'migrations')).map((f) => `migrations/${f}`)];
  for (const f of files.sort())
    h.update(`${f}\0`)
      .update(fs.readFileSync(path.join(DB_SOURCES, f)))
      .update('\0');
  hashed = h.digest('hex').slice(0, 16);
  return hashed;
}

/**
 * Creates database `name` as a copy of the migrated template, building the template first if this
 * version of the migrations has none. `admin` is a connected client on the maintenance database;
 * `urlOf` gives the URL of a database on the same server.
 */
export async function createFromPgTemplate(admin: pg.Client, name: string, urlOf: (db: string) => string) {
  const template = `${PREFIX}${migrationsHash()}`;
  const exists = async () =>
    ((await admin.query('select 1 from pg_database where datname = $1', [template])).rowCount ?? 0) > 0;
  await admin.query('select pg_advisory_lock_shared($1)', [PG_LOCK_KEY]);
  try {
    if (await exists()) {
      await admin.query(`create database ${name} template ${template}`);
      return;
    }
  } finally {
    await admin.query('select pg_advisory_unlock_shared($1)', [PG_LOCK_KEY]);
  }
  await admin.query('select pg_advisory_lock($1)', [PG_LOCK_KEY]);
  try {
    if (!(await exists())) {
      // Half-built templates of crashed runs, and templates of other migration versions built over an
      // hour ago (another checkout may still be using a newer one). None is being copied now.
      const stale = await admin.query<{ datname: string }>(
        `select datname from pg_database
          where starts_with(datname, $1)
            and coalesce(shobj_description(oid, 'pg_database'), '') < $2`,
        [PREFIX, `built ${new Date(Date.now() - STALE_AFTER_MS).toISOString()}`],
      );
      for (const { datname } of stale.rows) await admin.query(`drop database ${datname} with (force)`);
      const building = `${template}_build`;
      await admin.query(`create database ${building}`);
      const db = openDb({ url: urlOf(building), poolSize: 1 });
      try {
        await migrateToLatest(db);
      } finally {
        await db.close();
      }
      // Renamed only once complete; nobody may connect to it afterwards, since a copy needs a
      // template without sessions.
      await admin.query(`alter database ${building} rename to ${template}`);
      await admin.query(`alter database ${template} with allow_connections false`);
      await admin.query(`comment on database ${template} is 'built ${new Date().toISOString()}'`);
    }
    await admin.query(`create database ${name} template ${template}`);
  } finally {
    await admin.query('select pg_advisory_unlock($1)', [PG_LOCK_KEY]);
  }
}

const SQLITE_DIR = path.join(os.tmpdir(), 'fc-test-templates');

/** Writes a copy of the migrated SQLite template to `file`, building the template if needed. */
export async function copySqliteTemplate(file: string): Promise<void> {
  const template = path.join(SQLITE_DIR, `${PREFIX}${migrationsHash()}.db`);
  try {
    fs.copyFileSync(template, file);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(SQLITE_DIR, { recursive: true });
  // Built under a private name and renamed into place, so a reader sees a whole template or none;
  // two workers building at once each rename a complete file.
  const building = `${template}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.building`;
  const db = openDb({ url: building, poolSize: 1 });
  try {
    await migrateToLatest(db);
  } finally {
    // Closing the last connection checkpoints the WAL into the file and removes it.
    await db.close();
  }
  fs.copyFileSync(building, file);
  fs.renameSync(building, template);
  // Templates of other migration versions and half-built ones of crashed runs, an hour after they were
  // written (another checkout may still be using a newer one).
  for (const f of fs.readdirSync(SQLITE_DIR)) {
    const old = path.join(SQLITE_DIR, f);
    try {
      if (old !== template && Date.now() - fs.statSync(old).mtimeMs > STALE_AFTER_MS) fs.rmSync(old);
    } catch {
      // removed meanwhile by another worker
    }
  }
}
