// `forecourt import <file>`: the import center from the command line, for big files and scripts.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../../server/config.js';
import { openDb } from '../../server/db/connection.js';
import { prepareDatabase } from '../../server/bootstrap.js';
import { SessionService } from '../../server/auth/session.service.js';
import { CustomersService } from '../../server/modules/customers/customers.service.js';
import { IMPORT_KINDS, ImportsService, type Mapping } from '../../server/modules/imports/imports.service.js';
import { topupSinkOf, transactionSinkOf } from '../../server/modules/imports/transaction-sink.js';
import type { ImportKind } from '../../server/modules/imports/parse/mapping.js';
import { totalsLine } from '../../server/modules/imports/problems.js';
import { UsageError } from '../usage-error.js';
import { sql } from 'kysely';
import { PRINCIPAL_CHANNEL } from '../../server/auth/principal-cache.js';
import { passwordsCsv } from '../../server/modules/imports/passwords-csv.js';

export const importHelp = `usage: forecourt import <file> --kind customers|cards|transactions|topups|org_units|users --user <username> [options]
       forecourt import --resume <job> --user <username> [--dry-run] [--report FILE]
       forecourt import --cancel <job> --user <username>

Reads a CSV (UTF-8, UTF-8 with BOM or GBK/GB18030, detected) or XLSX file into the archive, as
the import center in the web UI does, on behalf of <username> (the audit log names him; his org
subtree limits what he may change). Columns are recognised from the usual headers (客户名称,
手机, 车牌号, 加油卡号, 交易时间, 油品, 数量(升), 金额(元), 充值时间, 充值金额, 赠送金额 …) unless a mapping is given.

A company's org tree and its people load the same way: --kind org_units (单位编码, 单位名称, 上级单位编码,
单位类型, 时区; parents may come after their children; needs org.write) and --kind users (姓名, 用户名,
所属单位编码, 角色, 手机号; roles by code or name, several separated by 、 , or ;; needs user.write). Units
and people are kept to the user's subtree and roles to his own rights. New users get random initial
passwords, written once to --passwords FILE (default import-<job>-passwords.csv, readable by you only).
Files past the import limits (IMPORT_MAX_XLSX_MB, IMPORT_MAX_SHARED_STRINGS_MB, IMPORT_MAX_CELL_CHARS,
IMPORT_MAX_COLUMNS, IMPORT_MAX_ROWS) are refused with the limit named.

Running the same file again changes nothing: customers are matched by plate, phone or card and
transactions and top-ups by their id (or a hash of the row). An import that was interrupted (even by kill -9)
resumes after its last committed chunk when run again with the same file, kind and unit.

Any import job shown in the import center can be carried on or given up by its number, whatever
it was doing when it stopped (uploaded, checking, checked, committing): --resume finishes it (a
commit resumes after its last committed chunk; with --dry-run it is checked instead), --cancel
stops it (chunks already committed stay) and deletes its stored file.

Options:
  --kind KIND        customers, cards, transactions, topups, org_units or users (required with a file)
  --user NAME        the user the import is done as (required; needs import.run)
  --org CODE         the org unit to import into (default: the user's own)
  --sheet NAME       the XLSX sheet (default: the first)
  --profile NAME     a saved column mapping
  --map H=F,…        explicit mapping, header=field pairs (fields as in the web UI)
  --dry-run          check every row and write nothing
  --report FILE      write the rejected rows to FILE (CSV)
  --passwords FILE   users: where the new users' initial passwords go (CSV, once)
  --resume JOB       carry on with import JOB
  --cancel JOB       give import JOB up
  -h, --help         this text
`;

function jobNumber(v: string | undefined, option: string): number | null {
  if (v === undefined) return null;
  const id = Number(v);
  if (!Number.isSafeInteger(id) || id < 1) throw new UsageError(`${option} takes an import number`);
  return id;
}

export async function runImport(argv: string[], config: Config): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      kind: { type: 'string' },
      user: { type: 'string' },
      org: { type: 'string' },
      sheet: { type: 'string' },
      profile: { type: 'string' },
      map: { type: 'string' },
      'dry-run': { type: 'boolean' },
      report: { type: 'string' },
      passwords: { type: 'string' },
      resume: { type: 'string' },
      cancel: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(importHelp);
    return 0;
  }
  const resumeId = jobNumber(values.resume, '--resume');
  const cancelId = jobNumber(values.cancel, '--cancel');
  const byNumber = resumeId ?? cancelId;
  if (resumeId !== null && cancelId !== null) throw new UsageError('choose --resume or --cancel, not both');
  const [file, ...extra] = positionals;
  if (byNumber !== null && positionals.length > 0) throw new UsageError('--resume and --cancel take no file');
  if (byNumber === null && (!file || extra.length)) throw new UsageError('expected exactly one file');
  const kinds = `--kind must be one of ${IMPORT_KINDS.join(', ')}`;
  if (values.kind && !(IMPORT_KINDS as readonly string[]).includes(values.kind)) throw new UsageError(kinds);
  if (byNumber === null && !values.kind) throw new UsageError(kinds);
  if (!values.user) throw new UsageError('--user is required');
  if (file && !fs.existsSync(file)) throw new UsageError(`no such file: ${file}`);
  // The passwords are handed over once: a file already there would be refused after they are gone.
  if (values.passwords && fs.existsSync(values.passwords))
    throw new UsageError(`${values.passwords} exists already; name a new file for the passwords`);

  const db = openDb({ url: config.databaseUrl });
  const customers = new CustomersService(db.kysely, db.engine);
  // Alone in its process, the command keeps chunks at 500 rows: no other request waits for them.
  const sinks = [transactionSinkOf(db), topupSinkOf(db)] as const;
  const svc = new ImportsService(db.kysely, customers, ...sinks, {
    limits: config.importLimits,
    passwordTtlHours: config.importPasswordTtlHours,
    // The app instances on PostgreSQL forget their cached principals when told (SQLite's bound is short).
    principalsChanged: async () => {
      if (db.engine === 'postgres') await sql`select pg_notify(${PRINCIPAL_CHANNEL}, '*')`.execute(db.kysely);
    },
  });
  try {
    await prepareDatabase(db);
    const p = await new SessionService(db.kysely, config).principalOf(values.user);
    // As on the web: an initial password handed over by an import or an administrator is changed
    // (by signing in) before its holder does anything else.
    if (p.mustChangePassword)
      throw new Error(`${values.user} must sign in and change the initial password before importing`);
    if (!p.permissions.has('import.run')) throw new Error(`${values.user} may not import (needs import.run)`);

    if (cancelId !== null) {
      const before = await svc.getFor(p, cancelId);
      const job = await svc.cancel(p, null, cancelId);
      console.log(`cancelled import ${job.id} (was ${before.status}; ${job.rowsDone} rows had been worked through)`);
      return 0;
    }

    /** Map the columns of an uploaded job: the suggestion, a saved profile or --map. */
    const configure = async (id: number, kind: ImportKind) => {
      const inspected = await svc.inspect(id, kind, values.sheet);
      let mapping: Mapping = inspected.suggested;
      if (values.profile) {
        const profile = inspected.profiles.find((x) => x.name === values.profile);
        if (!profile) throw new UsageError(`no saved mapping named ${values.profile} for ${kind}`);
        mapping = profile.columns;
      }
      if (values.map)
        mapping = Object.fromEntries(
          values.map.split(',').map((pair) => pair.split('=').map((x) => x.trim()) as [string, string]),
        );
      console.log(
        `columns: ${
          Object.entries(mapping)
            .map(([h, f]) => `${h}→${f}`)
            .join(', ') || '(none recognised)'
        }`,
      );
      await svc.configure(p, id, { kind, sheet: inspected.sheet ?? undefined, mapping });
    };

    let id: number;
    if (resumeId !== null) {
      const job = await svc.getFor(p, resumeId);
      id = job.id;
      console.log(`resuming import ${id} (${job.status})`);
      if (!job.kind && !values.kind) throw new UsageError(`import ${id} has no kind yet: give --kind`);
      if (!job.kind || !job.mapping) await configure(id, (values.kind ?? job.kind) as ImportKind);
    } else {
      let orgUnitId = p.orgUnitId;
      if (values.org) {
        const unit = await db.kysely
          .selectFrom('org_unit')
          .select('id')
          .where('code', '=', values.org)
          .executeTakeFirst();
        if (!unit) throw new UsageError(`no org unit with code ${values.org}`);
        orgUnitId = unit.id;
      }
      const kind = values.kind as ImportKind;
      const sha = crypto.createHash('sha256');
      for await (const part of fs.createReadStream(file!)) sha.update(part as Buffer);
      const found = values['dry-run'] ? null : await svc.unfinished(orgUnitId, sha.digest('hex'), kind);
      if (found !== null) {
        id = found;
        console.log(`resuming import ${id}`);
      } else {
        const body = fs.createReadStream(file!);
        id = (
          await svc.upload(p, null, {
            fileName: path.basename(file!),
            orgUnitId,
            body,
            maxBytes: Number.MAX_SAFE_INTEGER,
          })
        ).id;
        await configure(id, kind);
      }
    }
    // Whoever runs the command says the job's last pass is gone (a kill -9 leaves a fresh heartbeat).
    const force = { force: true };
    const job = values['dry-run'] ? await svc.dryRun(p, id, force) : await svc.commitAndWait(p, null, id, force);
    const phase = values['dry-run'] ? 'dry_run' : 'commit';
    // Every row below the header is accounted for: good, rejected, flagged or an empty row skipped.
    const rows = job.rowsOk + job.rowsRejected + job.rowsFlagged + job.skippedCount;
    const counted =
      `${rows} rows: ${job.rowsOk} good, ${job.rowsRejected} rejected, ${job.rowsFlagged} flagged, ` +
      `${job.skippedCount} empty skipped`;
    const changedWord = job.kind === 'org_units' || job.kind === 'users' ? 'updated' : 'filled in';
    const outcome = `created ${job.createdCount}, ${changedWord} ${job.updatedCount}, unchanged ${job.unchangedCount}`;
    console.log(`${values['dry-run'] ? 'checked' : 'imported'} ${counted}; ${outcome} (import ${job.id})`);
    if (job.status === 'failed') {
      console.log(`import ${job.id} stopped: ${job.error ?? 'unknown error'} (resume with --resume ${job.id})`);
    }
    // Worded in the importing user's language (zh-CN unless en-US), fields by their labels.
    console.log(`  ${totalsLine(job, p.locale)}`);
    for (const line of await svc.summaries(id, phase, p.locale)) console.log(`  ${line}`);
    const problems = await svc.problems(id, phase, 20, p.locale);
    for (const x of problems) console.log(`  row ${x.row}${x.field ? ` [${x.fieldLabel}]` : ''}: ${x.message}`);
    if (!values['dry-run'] && job.kind === 'users' && (job.passwordsWaiting ?? 0) > 0) {
      const out = values.passwords ?? `import-${job.id}-passwords.csv`;
      if (fs.existsSync(out))
        throw new UsageError(`${out} exists already; run --resume ${job.id} --passwords NEW_FILE`);
      const rows = await svc.takePasswords(p, null, job.id);
      fs.writeFileSync(out, passwordsCsv(rows, p.locale), { mode: 0o600, flag: 'wx' });
      console.log(`initial passwords of ${rows.length} new users written to ${out} (they are not kept anywhere else)`);
    }
    if (values.report) {
      const { errorReportCsv, reportInput } = await import('../../server/modules/imports/report.js');
      fs.writeFileSync(values.report, errorReportCsv(await reportInput(svc, id, phase, p.locale)));
      console.log(`report written to ${values.report}`);
    }
    return job.status === 'failed' ? 1 : 0;
  } finally {
    await svc.close();
    await db.close();
  }
}
