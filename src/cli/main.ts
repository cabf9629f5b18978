// The `forecourt` command. One file per command under commands/; each parses its own options.
import type { Config } from '../server/config.js';
import { loadConfig } from '../server/config.js';
import { UsageError } from './usage-error.js';
import { migrateHelp, runMigrate } from './commands/migrate.js';
import { demoHelp, runDemo } from './commands/demo.js';
import { backupHelp, runBackup } from './commands/backup.js';
import { restoreHelp, runRestore } from './commands/restore.js';
import { importHelp, runImport } from './commands/import.js';
import { alertsHelp, runAlerts } from './commands/alerts.js';

interface Command {
  summary: string;
  help: string;
  run: (argv: string[], config: Config) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  migrate: { summary: 'apply database migrations and seed the default roles', help: migrateHelp, run: runMigrate },
  demo: {
    summary: 'build a demo company: 1 HQ, 2 branches, 6 areas, 40 stations, staff for every role',
    help: demoHelp,
    run: runDemo,
  },
  import: {
    summary: 'import customers, fuel cards or transactions from a CSV or XLSX file (resumable, idempotent)',
    help: importHelp,
    run: runImport,
  },
  backup: {
    summary: 'write a consistent copy of the database to a file (SQLite backup or pg_dump)',
    help: backupHelp,
    run: runBackup,
  },
  restore: {
    summary: 'put a backup back in place of the database (stop the server first), then list each table’s rows',
    help: restoreHelp,
    run: runRestore,
  },
  alerts: {
    summary: 'run the alert rules as of a night, or back-test a policy night by night without writing alerts',
    help: alertsHelp,
    run: runAlerts,
  },
};

const HELP = `usage: forecourt <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

The database is DATABASE_URL: a postgres:// URL for PostgreSQL; unset, the SQLite file
./data/forecourt.db. \`forecourt <command> --help\` describes a command.
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(HELP);
    return 0;
  }
  if (name === 'help') {
    const target = rest[0] === undefined ? undefined : COMMANDS[rest[0]];
    console.log(target ? target.help : HELP);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(`forecourt: unknown command '${name}'\n\n${HELP}`);
    return 2;
  }
  try {
    return await command.run(rest, loadConfig());
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // parseArgs reports unknown options and missing values as TypeErrors with ERR_PARSE_ARGS_* codes.
    if (err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      console.error(
        `forecourt ${name}: ${(err as Error).message}\n${command.help.split('\n')[0]}\n(forecourt ${name} --help for more)`,
      );
      return 2;
    }
    console.error(`forecourt ${name}: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.DEBUG) console.error(err);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
