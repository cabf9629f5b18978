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
import { UsageError } from '../usage-error.js';

export const importHelp = `usage: forecourt import <file> --kind customers|cards|transactions|topups --user <username> [options]

Reads a CSV (UTF-8, UTF-8 with BOM or GBK/GB18030, detected) or XLSX file into the archive, as
the import center in the web UI does, on behalf of <username> (the audit log names him; his org
subtree limits what he may change). Columns are recognised from the usual headers (客户名称,
手机, 车牌号, 加油卡号, 交易时间, 油品, 数量(升), 金额(元), 充值时间, 充值金额, 赠送金额 …) unless a mapping is given.

Running the same file again changes nothing: customers are matched by plate, phone or card and
transactions and top-ups by their id (or a hash of the row). An import that was interrupted (even by kill -9)
resumes after its last committed chunk when run again with the same file, kind and unit.

Options:
  --kind KIND        customers, cards, transactions or topups (required)
  --user NAME        the user the import is done as (required; needs import.run)
  --org CODE         the org unit to import into (default: the user's own)
  --sheet NAME       the XLSX sheet (default: the first)
  --profile NAME     a saved column mapping
  --map H=F,…        explicit mapping, header=field pairs (fields as in the web UI)
  --dry-run          check every row and write nothing
  --report FILE      write the rejected rows to FILE (CSV)
  -h, --help         this text
`;

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
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(importHelp);
    return 0;
  }
  const [file, ...extra] = positionals;
  if (!file || extra.length) throw new UsageError('expected exactly one file');
  if (!values.kind || !(IMPORT_KINDS as readonly string[]).includes(values.kind)) throw new UsageError(`--kind must be one of ${IMPORT_KINDS.join(', ')}`);
  if (!values.user) throw new UsageError('--user is required');
  if (!fs.existsSync(file)) throw new UsageError(`no such file: ${file}`);
  const kind = values.kind as ImportKind;

  const db = openDb({ url: config.databaseUrl });
  try {
    await prepareDatabase(db);
    const p = await new SessionService(db.kysely, config).principalOf(values.user);
    if (!p.permissions.has('import.run')) throw new Error(`${values.user} may not import (needs import.run)`);
    let orgUnitId = p.orgUnitId;
    if (values.org) {
      const unit = await db.kysely.selectFrom('org_unit').select('id').where('code', '=', values.org).executeTakeFirst();
      if (!unit) throw new UsageError(`no org unit with code ${values.org}`);
      orgUnitId = unit.id;
    }
    const customers = new CustomersService(db.kysely, db.engine);
    const svc = new ImportsService(db.kysely, customers, transactionSinkOf(db), topupSinkOf(db));

    const sha = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    let id = values['dry-run'] ? null : await svc.unfinished(orgUnitId, sha, kind);
    if (id !== null) console.log(`resuming import ${id}`);
    else {
      id = (await svc.upload(p, null, { fileName: path.basename(file), orgUnitId, body: fs.createReadStream(file), maxBytes: Number.MAX_SAFE_INTEGER })).id;
      const inspected = await svc.inspect(id, kind, values.sheet);
      let mapping: Mapping = inspected.suggested;
      if (values.profile) {
        const profile = inspected.profiles.find((x) => x.name === values.profile);
        if (!profile) throw new UsageError(`no saved mapping named ${values.profile} for ${kind}`);
        mapping = profile.columns;
      }
      if (values.map) mapping = Object.fromEntries(values.map.split(',').map((pair) => pair.split('=').map((x) => x.trim()) as [string, string]));
      console.log(`columns: ${Object.entries(mapping).map(([h, f]) => `${h}→${f}`).join(', ') || '(none recognised)'}`);
      await svc.configure(p, id, { kind, sheet: inspected.sheet ?? undefined, mapping });
    }
    const job = values['dry-run'] ? await svc.dryRun(p, id) : await svc.commitAndWait(p, null, id);
    const phase = values['dry-run'] ? 'dry_run' : 'commit';
    console.log(`${values['dry-run'] ? 'checked' : 'imported'} ${job.rowsOk + job.rowsRejected + job.rowsFlagged} rows: ${job.rowsOk} good, ${job.rowsRejected} rejected, ${job.rowsFlagged} flagged; created ${job.createdCount}, filled in ${job.updatedCount} (import ${job.id})`);
    const problems = await svc.problems(id, phase, 20);
    for (const x of problems) console.log(`  row ${x.row}${x.field ? ` [${x.field}]` : ''}: ${x.message}`);
    if (values.report) {
      const { errorReportCsv } = await import('../../server/modules/imports/report.js');
      fs.writeFileSync(values.report, errorReportCsv(await svc.problems(id, phase)));
      console.log(`report written to ${values.report}`);
    }
    return job.status === 'failed' ? 1 : 0;
  } finally {
    await db.close();
  }
}
