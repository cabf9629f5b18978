// `forecourt migrate`: bring the configured database to the current schema and seed reference data.
import { parseArgs } from 'node:util';
import type { Config } from '../../server/config.js';
import { openDb } from '../../server/db/connection.js';
import { prepareDatabase } from '../../server/bootstrap.js';
import { describeDatabase } from '../database-url.js';

export const migrateHelp = `usage: forecourt migrate

Applies the pending migrations to the configured database (DATABASE_URL; unset: ./data/forecourt.db)
and seeds the default org level kinds and roles that are missing. Safe to run again: it then
changes nothing. The server does the same at start-up; run this before rolling out new app
instances against a shared PostgreSQL database.

Options:
  -h, --help   this text
`;

export async function runMigrate(argv: string[], config: Config): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(migrateHelp);
    return 0;
  }
  const db = openDb({ url: config.databaseUrl });
  try {
    const applied = await prepareDatabase(db);
    console.log(`database: ${describeDatabase(config.databaseUrl)}`);
    if (applied.length === 0) console.log('schema is up to date; no migration applied');
    else for (const name of applied) console.log(`applied ${name}`);
    return 0;
  } finally {
    await db.close();
  }
}
