// Integration tests run once per engine. PostgreSQL is skipped with a message when it is not
// reachable, unless REQUIRE_PG=1 (CI), which turns a missing engine into a failure.
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import pg from 'pg';
import { describe } from 'vitest';
import { openDb, type Db } from '../../src/server/db/connection.js';
import type { Engine } from '../../src/server/db/dialect.js';
import { copySqliteTemplate, createFromPgTemplate } from './migrated-template.js';

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://forecourt:forecourt@127.0.0.1:5432/postgres';

let pgAvailable: Promise<boolean> | null = null;
export function isPgAvailable(): Promise<boolean> {
  pgAvailable ??= (async () => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch {
      return false;
    }
  })();
  return pgAvailable;
}

const pgReady = await isPgAvailable();
if (!pgReady) {
  if (process.env.REQUIRE_PG === '1')
    throw new Error(`REQUIRE_PG=1 but PostgreSQL is not reachable at ${PG_ADMIN_URL}`);
  console.warn(`[tests] PostgreSQL not reachable at ${PG_ADMIN_URL}: PostgreSQL runs of integration tests are skipped`);
}

export const ENGINES: Engine[] = ['sqlite', 'postgres'];

export interface FreshOptions {
  /**
   * Start from a copy of a database with every migration applied but nothing seeded (see
   * migrated-template.ts) instead of an empty one; prepareDatabase then only seeds. Tests of the
   * migrations themselves leave this off.
   */
  migrated?: boolean;
}

/** A fresh database on the given engine, empty unless `migrated`; `drop()` removes it. */
export async function freshDatabase(
  engine: Engine,
  { migrated = false }: FreshOptions = {},
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `fc_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-test-'));
    const file = path.join(dir, `${name}.db`);
    if (migrated) await copySqliteTemplate(file);
    return { url: file, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const urlOf = (db: string) => {
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${db}`;
    return url.toString();
  };
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    if (migrated) await createFromPgTemplate(admin, name, urlOf);
    else await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: urlOf(name),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export async function openFresh(
  engine: Engine,
  options: FreshOptions = {},
): Promise<{ db: Db; close: () => Promise<void> }> {
  const fresh = await freshDatabase(engine, options);
  const db = openDb({ url: fresh.url, poolSize: 5 });
  return {
    db,
    close: async () => {
      await db.close();
      await fresh.drop();
    },
  };
}

/** `describe` once per available engine. */
export function describeEngines(name: string, fn: (engine: Engine) => void, engines: Engine[] = ENGINES): void {
  for (const engine of engines) {
    const skip = engine === 'postgres' && !pgReady;
    (skip ? describe.skip : describe)(`${name} [${engine}]`, () => fn(engine));
  }
}
