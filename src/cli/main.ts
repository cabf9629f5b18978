import { parseArgs } from 'node:util';
import { loadConfig } from '../server/config.js';
import { openDb } from '../server/db/connection.js';
import { prepareDatabase } from '../server/bootstrap.js';
import { buildDemo, DEMO_PASSWORD } from './commands/demo.js';
import { backup } from './commands/backup.js';

const HELP = `forecourt <command>

Commands:
  migrate          apply database migrations and seed default roles (DATABASE_URL or ./data/forecourt.db)
  demo             build a demo company: 1 HQ, 2 branches, 6 areas, 40 stations, users for every role
  backup <file>    SQLite: consistent online copy; PostgreSQL: pg_dump (custom format) of DATABASE_URL
                   restore SQLite by stopping the server and copying the file to the database path
                   (remove its -wal/-shm files); restore PostgreSQL with pg_restore -d <db> <file>
  help             this text
`;

async function main(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: false });
  const [command, ...rest] = positionals;
  const config = loadConfig();
  switch (command) {
    case 'migrate': {
      const db = openDb({ url: config.databaseUrl });
      try {
        const applied = await prepareDatabase(db);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      } finally {
        await db.close();
      }
      return 0;
    }
    case 'demo': {
      const db = openDb({ url: config.databaseUrl });
      try {
        await prepareDatabase(db);
        const report = await buildDemo(db.kysely);
        console.log(`demo company ready: ${report.orgUnitsCreated} org units and ${report.usersCreated} users created (${report.orgUnits} units, ${report.users} users in all)`);
        console.log(`every demo user signs in with the password ${DEMO_PASSWORD}; e.g. admin, ${report.sampleUsers.join(', ')}`);
      } finally {
        await db.close();
      }
      return 0;
    }
    case 'backup': {
      const file = rest[0];
      if (!file) {
        console.error('usage: forecourt backup <file>');
        return 2;
      }
      await backup(config.databaseUrl, file);
      console.log(`backup written to ${file}`);
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
      console.log(HELP);
      return 0;
    default:
      console.error(`unknown command ${command}\n\n${HELP}`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
