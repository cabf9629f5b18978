// The import center: upload a file (kept in the database so any instance can work on it), look at
// its sheets and headers, map columns (reusable profiles), dry-run every row, commit in chunks.
// Each chunk is one transaction that also advances the job's checkpoint, so a crash leaves no
// half-written chunk and a re-run resumes where it stopped; matching by plate, phone, card or
// external id means running the same file again adds nothing. Files are read in a worker thread
// (parse/parse-pool.ts) within the configured limits. A pass over a job names itself in `runner` and
// every chunk is written only while the job still names it, so a job cancelled, or taken over after
// its process died, is never written by two passes; the pass beats `heartbeat_at` so the page can
// tell a job still running somewhere from one left behind.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { inScope, orgUnitInScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import { isUniqueViolation } from '../../db/dialect.js';
import { emitWebhookEvent } from '../webhooks/webhook-events.js';
import { recordAudit } from '../audit/audit.service.js';
import type { CustomersService } from '../customers/customers.service.js';
import { CustomerRowImporter, checkRow, type RowProblem } from './customer-rows.js';
import { decodeProblem, encodeProblem, fieldLabel, groupedSummaries, renderProblem } from './problems.js';
import { labelLocale } from '../../../domain/customer-labels.js';
import { TransactionRowImporter, type TransactionSink } from './transaction-rows.js';
import { TopupRowImporter, type TopupSink } from './topup-rows.js';
import { OrgUnitRowImporter, slices } from './org-rows.js';
import { UserRowImporter } from './user-rows.js';
import { cellText, type Cell } from './parse/read.js';
import { DEFAULT_IMPORT_LIMITS, asAppError, type ImportLimits } from './parse/limits.js';
import { ParsePool, type RowReader } from './parse/parse-pool.js';
import { requiredFields, suggestMapping, type ImportKind } from './parse/mapping.js';
import { convertRow } from './parse/convert.js';

export const IMPORT_KINDS = [
  'customers',
  'cards',
  'transactions',
  'topups',
  'org_units',
  'users',
] as const satisfies readonly ImportKind[];

/**
 * Org units and users are imported by whoever may create them by hand (org.write, user.write), on top
 * of import.run; the rows themselves keep to his subtree and his rights (org-rows.ts, user-rows.ts).
 */
export function assertMayImport(p: Principal, kind: string | null): void {
  const need = kind === 'org_units' ? 'org.write' : kind === 'users' ? 'user.write' : null;
  if (need && !p.permissions.has(need))
    throw new AppError('PERMISSION_DENIED', `importing ${kind} needs ${need}`, 'body.kind');
}
export const CHUNK_ROWS = 500;
const MIN_CHUNK_ROWS = 50;
/**
 * How long a commit chunk may keep the server's event loop busy where queries hold it
 * (`queriesHoldEventLoop`: on SQLite a chunk's transaction runs synchronously on the one connection, so
 * every other request waits for it): chunks shrink (to 50 rows at least) until each takes about this long.
 */
export const CHUNK_BUSY_MS = 20;
const FILE_CHUNK_BYTES = 1024 * 1024;
const PREVIEW_ROWS = 20;
/** A pass says it is alive this often; one silent for STALE_MS died with its process. */
const HEARTBEAT_MS = 5_000;
export const STALE_MS = 30_000;
/** What a stored problem row keeps of the file: a short excerpt of each cell, never the whole cell. */
export const EXCERPT_CHARS = 200;
const ROW_EXCERPT_CHARS = 4_000;
const MESSAGE_CHARS = 500;
/** Statuses a pass is working in. */
const WORKING = new Set(['checking', 'committing']);
/** Statuses nothing more happens in. */
const FINAL = new Set(['done', 'cancelled']);

export type Mapping = Record<string, string>;

export interface JobView {
  id: number;
  orgUnitId: number;
  kind: string | null;
  fileName: string;
  fileSize: number;
  format: string;
  sheet: string | null;
  mapping: Mapping | null;
  status: string;
  rowsTotal: number | null;
  rowsDone: number;
  rowsOk: number;
  rowsRejected: number;
  rowsFlagged: number;
  createdCount: number;
  updatedCount: number;
  /** Rows that matched what is on file and changed nothing. */
  unchangedCount: number;
  /** Empty rows skipped (between the header and the last row of data); counted in rowsTotal. */
  skippedCount: number;
  error: string | null;
  /** The error's code (IMPORT_LIMIT_EXCEEDED, …) and details (which limit, its value), when it has them. */
  errorCode: string | null;
  errorDetails: unknown;
  /** A pass is working on the job now (in this process or another one that is still alive). */
  active: boolean;
  /** An import of users: initial passwords waiting for the one who ran it to take them (once). */
  passwordsWaiting?: number;
  createdAt: string;
  finishedAt: string | null;
}

function view(r: Awaited<ReturnType<ImportsService['load']>>): JobView {
  return {
    id: r.id,
    orgUnitId: r.org_unit_id,
    kind: r.kind,
    fileName: r.file_name,
    fileSize: Number(r.file_size),
    format: r.format,
    sheet: r.sheet,
    mapping: r.mapping ? (JSON.parse(r.mapping) as Mapping) : null,
    status: r.status,
    rowsTotal: r.rows_total,
    rowsDone: r.rows_done,
    rowsOk: r.rows_ok,
    rowsRejected: r.rows_rejected,
    rowsFlagged: r.rows_flagged,
    createdCount: r.created_count,
    updatedCount: r.updated_count,
    unchangedCount: r.unchanged_count,
    skippedCount: r.skipped_count,
    error: r.error,
    errorCode: r.error_code,
    errorDetails: r.error_details ? (JSON.parse(r.error_details) as unknown) : null,
    active: WORKING.has(r.status) && fresh(r.heartbeat_at),
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  };
}

function fresh(heartbeat: string | null): boolean {
  return heartbeat !== null && Date.parse(heartbeat) > Date.now() - STALE_MS;
}

function excerpt(text: string, max: number): string {
  // U+0000 cannot be stored in PostgreSQL text; the excerpt shows it as the replacement character.
  const s = text.includes('\u0000') ? text.replace(/\u0000/g, '\uFFFD') : text;
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** A rejected row's cells as stored: each cut to EXCERPT_CHARS, the row to ROW_EXCERPT_CHARS. */
export function cellsExcerpt(cells: readonly unknown[]): string {
  const out: unknown[] = [];
  let size = 0;
  for (const c of cells) {
    const v = typeof c === 'string' ? excerpt(c, EXCERPT_CHARS) : c;
    size += typeof v === 'string' ? v.length : 8;
    if (size > ROW_EXCERPT_CHARS) {
      out.push('…');
      break;
    }
    out.push(v);
  }
  return JSON.stringify(out);
}

/** A pass found the job no longer names it: cancelled, or taken over after it was thought dead. */
class Superseded extends Error {}

function formatOf(fileName: string, head: Buffer): 'xlsx' | 'csv' {
  // A zip container (PK\x03\x04) is a workbook whatever it is called.
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'xlsx';
  if (/\.xlsx$/i.test(fileName))
    throw new AppError('VALIDATION_FAILED', 'the file is named .xlsx but is not a workbook', 'fileName');
  return 'csv';
}

export interface ImportsOptions {
  limits?: ImportLimits;
  /** See CHUNK_BUSY_MS; 0 (the default) keeps chunks at 500 rows. */
  chunkBusyMs?: number;
  /** How files are read; by default in worker threads. */
  reader?: RowReader;
  /**
   * Called after a chunk that created or changed users or units has committed: what a hand edit of
   * them does (the app clears its principal cache here and on the other instances).
   */
  principalsChanged?: () => Promise<void>;
  /** How long the initial passwords of an import of users wait for their download (IMPORT_PASSWORD_TTL_HOURS). */
  passwordTtlHours?: number;
  /** The clock initial passwords are dated and expired by. */
  now?: () => Date;
}

export const DEFAULT_PASSWORD_TTL_HOURS = 72;

interface Pass {
  runner: string;
  abort: AbortController;
  done: Promise<JobView>;
}

type JobRow = Awaited<ReturnType<ImportsService['load']>>;

export class ImportsService {
  /** Passes running in this process, so a second request for the same job does not start another. */
  private readonly passes = new Map<number, Pass>();
  private readonly reader: RowReader;
  private readonly chunkBusyMs: number;
  private readonly principalsChanged: () => Promise<void>;
  private readonly passwordTtlHours: number;
  private readonly now: () => Date;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly customers: CustomersService,
    private readonly transactions: TransactionSink | null,
    private readonly topups: TopupSink | null = null,
    opts: ImportsOptions = {},
  ) {
    this.reader = opts.reader ?? new ParsePool(opts.limits ?? DEFAULT_IMPORT_LIMITS);
    this.chunkBusyMs = opts.chunkBusyMs ?? 0;
    this.principalsChanged = opts.principalsChanged ?? (async () => undefined);
    this.passwordTtlHours = opts.passwordTtlHours ?? DEFAULT_PASSWORD_TTL_HOURS;
    this.now = opts.now ?? (() => new Date());
  }

  /** Stop the reader's worker threads (the app's onClose, the CLI's end). */
  async close(): Promise<void> {
    for (const pass of this.passes.values()) pass.abort.abort();
    await this.reader.close();
  }

  async load(id: number) {
    const r = await this.db.selectFrom('import_job').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw new AppError('NOT_FOUND', `import ${id} not found`);
    return r;
  }

  async get(id: number): Promise<JobView> {
    const job = view(await this.load(id));
    if (job.kind === 'users') job.passwordsWaiting = await this.passwordsWaiting(id);
    return job;
  }

  private async passwordsWaiting(id: number): Promise<number> {
    const r = await this.db
      .selectFrom('import_credential')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('job_id', '=', id)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /**
   * The initial passwords of the users an import created, handed to the one who ran it exactly once:
   * they are deleted as they are read, in the same transaction, and the hand-over is audited. Past
   * their deadline they are not handed over (the import-passwords job deletes them).
   */
  async takePasswords(p: Principal, ip: string | null, id: number) {
    const job = await this.load(id);
    if (job.kind !== 'users') throw new AppError('NOT_FOUND', `import ${id} created no users`);
    if (Number(job.created_by) !== p.userId)
      throw new AppError('PERMISSION_DENIED', 'only the one who ran the import may take its passwords');
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('import_credential')
        .select(['row_number', 'username', 'display_name', 'unit_code', 'password', 'expires_at'])
        .where('job_id', '=', id)
        .orderBy('row_number')
        .execute();
      const now = this.now().getTime();
      const expired = (at: string | Date | null) => at !== null && new Date(at).getTime() <= now;
      if (job.passwords_expired_at || rows.some((r) => expired(r.expires_at)))
        throw new AppError(
          'IMPORT_PASSWORDS_EXPIRED',
          `the passwords of import ${id} were not downloaded in time and were deleted; reset these users' passwords instead`,
          undefined,
          { ttlHours: this.passwordTtlHours },
        );
      if (rows.length === 0)
        throw new AppError('CONFLICT', `the passwords of import ${id} were handed over already, or there were none`);
      await trx.deleteFrom('import_credential').where('job_id', '=', id).execute();
      await recordAudit(trx, actorOf(p, ip), {
        action: 'import_passwords',
        entity: 'import',
        entityId: id,
        orgUnitId: job.org_unit_id,
        after: { users: rows.length },
      });
      return rows.map((r) => ({
        row: r.row_number,
        username: r.username,
        displayName: r.display_name,
        unitCode: r.unit_code,
        password: r.password,
      }));
    });
  }

  /** A job the principal's subtree holds (the CLI's way in; routes check the resource themselves). */
  async getFor(p: Principal, id: number): Promise<JobView> {
    const job = await this.load(id);
    if (!(await orgUnitInScope(this.db, p, job.org_unit_id))) {
      throw new AppError('SCOPE_DENIED', `import ${id} is outside your organisation`);
    }
    return view(job);
  }

  async list(p: Principal, page: number, pageSize: number) {
    const base = this.db.selectFrom('import_job').where((eb) => inScope(p, eb.ref('org_unit_id')));
    const [{ n }, rows] = await Promise.all([
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      base
        .selectAll()
        .orderBy('id', 'desc')
        .limit(pageSize)
        .offset((page - 1) * pageSize)
        .execute(),
    ]);
    return { total: Number(n), items: rows.map(view) };
  }

  /** Store an uploaded file; nothing is read into the archive yet. */
  async upload(
    p: Principal,
    ip: string | null,
    input: { fileName: string; orgUnitId?: number; body: Readable; maxBytes: number },
  ): Promise<JobView> {
    const orgUnitId = input.orgUnitId ?? p.orgUnitId;
    if (!(await orgUnitInScope(this.db, p, orgUnitId)))
      throw new AppError('SCOPE_DENIED', `org unit ${orgUnitId} is outside your organisation`, 'querystring.orgUnitId');
    const now = new Date().toISOString();
    const hash = crypto.createHash('sha256');
    let size = 0;
    let head = Buffer.alloc(0);
    const id = await this.db.transaction().execute(async (trx) => {
      const { id } = await trx
        .insertInto('import_job')
        .values({
          org_unit_id: orgUnitId,
          kind: null,
          file_name: input.fileName,
          file_size: 0,
          file_sha256: '',
          format: 'csv',
          sheet: null,
          mapping: null,
          status: 'uploading',
          rows_total: null,
          error: null,
          error_code: null,
          error_details: null,
          runner: null,
          heartbeat_at: null,
          created_by: p.userId,
          created_at: now,
          updated_at: now,
          finished_at: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      let seq = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        if (pendingBytes === 0) return;
        await trx
          .insertInto('import_file_chunk')
          .values({ job_id: id, seq: seq++, data: Buffer.concat(pending) })
          .execute();
        pending = [];
        pendingBytes = 0;
      };
      for await (const part of input.body as AsyncIterable<Buffer>) {
        size += part.length;
        if (size > input.maxBytes)
          throw new AppError(
            'BODY_TOO_LARGE',
            `the file is larger than ${Math.round(input.maxBytes / 1024 / 1024)} MB`,
            'body',
          );
        if (head.length < 8) head = Buffer.concat([head, part]).subarray(0, 8);
        hash.update(part);
        pending.push(part);
        pendingBytes += part.length;
        if (pendingBytes >= FILE_CHUNK_BYTES) await flush();
      }
      await flush();
      if (size === 0) throw new AppError('VALIDATION_FAILED', 'the file is empty', 'body');
      await trx
        .updateTable('import_job')
        .set({
          file_size: size,
          file_sha256: hash.digest('hex'),
          format: formatOf(input.fileName, head),
          status: 'uploaded',
        })
        .where('id', '=', id)
        .execute();
      await recordAudit(trx, actorOf(p, ip), {
        action: 'upload',
        entity: 'import',
        entityId: id,
        orgUnitId,
        after: { fileName: input.fileName, size },
      });
      return id;
    });
    return this.get(id);
  }

  /** Write the stored file to a temporary path for the readers; the caller removes it. */
  private async materialize(job: { id: number; format: string }): Promise<string> {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fc-import-')), `import.${job.format}`);
    const out = fs.createWriteStream(file);
    const db = this.db;
    async function* chunks() {
      for (let seq = 0; ; seq++) {
        const row = await db
          .selectFrom('import_file_chunk')
          .select('data')
          .where('job_id', '=', job.id)
          .where('seq', '=', seq)
          .executeTakeFirst();
        if (!row) return;
        yield Buffer.from(row.data);
      }
    }
    await pipeline(chunks(), out);
    return file;
  }

  private async withFile<T>(job: { id: number; format: string }, fn: (file: string) => Promise<T>): Promise<T> {
    const file = await this.materialize(job);
    try {
      return await fn(file);
    } catch (err) {
      throw asAppError(err);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  }

  /** Sheets, headers, the first rows and a suggested mapping for the chosen kind. */
  async inspect(id: number, kind: ImportKind, sheet?: string) {
    const job = await this.load(id);
    if (job.status === 'cancelled') throw new AppError('CONFLICT', `import ${id} was cancelled`);
    return this.withFile(job, async (file) => {
      const sheets = job.format === 'xlsx' ? await this.reader.sheets(file) : [];
      const chosen = sheet ?? sheets[0];
      let headers: string[] = [];
      const sample: string[][] = [];
      for await (const r of this.reader.rows(file, chosen)) {
        if (headers.length === 0) headers = r.cells.map(cellText);
        // The preview shows the start of each cell; a cell may be as long as the limit allows.
        else sample.push(r.cells.map((c) => excerpt(cellText(c), EXCERPT_CHARS)));
        if (sample.length >= PREVIEW_ROWS) break;
      }
      if (headers.length === 0) throw new AppError('VALIDATION_FAILED', 'the file has no header row', 'body');
      const profiles = await this.db
        .selectFrom('import_mapping_profile')
        .select(['id', 'name', 'columns'])
        .where('kind', '=', kind)
        .orderBy('name')
        .execute();
      const suggested = suggestMapping(headers, kind);
      return {
        sheets,
        sheet: chosen ?? null,
        headers,
        sample,
        suggested,
        profiles: profiles.map((x) => ({ id: x.id, name: x.name, columns: JSON.parse(x.columns) as Mapping })),
      };
    });
  }

  async configure(
    p: Principal,
    id: number,
    input: { kind: ImportKind; sheet?: string; mapping: Mapping; saveAs?: string },
  ): Promise<JobView> {
    assertMayImport(p, input.kind);
    const job = await this.load(id);
    // A check left behind by a process that died may be mapped afresh; a commit keeps its mapping to the end.
    const checking = job.status === 'checking' && (this.passes.has(id) || fresh(job.heartbeat_at));
    if (FINAL.has(job.status) || job.status === 'committing' || checking) {
      throw new AppError('CONFLICT', `import ${id} is already ${job.status}`);
    }
    const fields = new Set(Object.values(input.mapping));
    for (const need of requiredFields(input.kind))
      if (!fields.has(need)) throw new AppError('VALIDATION_FAILED', `map a column to ${need}`, `body.mapping`);
    await this.db
      .updateTable('import_job')
      .set({
        kind: input.kind,
        sheet: input.sheet ?? null,
        mapping: JSON.stringify(input.mapping),
        status: 'mapped',
        updated_at: new Date().toISOString(),
      })
      .where('id', '=', id)
      .execute();
    if (input.saveAs) {
      const values = {
        name: input.saveAs,
        kind: input.kind,
        columns: JSON.stringify(input.mapping),
        created_by: p.userId,
        created_at: new Date().toISOString(),
      };
      try {
        await this.db.insertInto('import_mapping_profile').values(values).execute();
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        await this.db
          .updateTable('import_mapping_profile')
          .set({ columns: values.columns })
          .where('kind', '=', input.kind)
          .where('name', '=', input.saveAs)
          .execute();
      }
    }
    return this.get(id);
  }

  async profiles(kind?: ImportKind) {
    let q = this.db
      .selectFrom('import_mapping_profile')
      .select(['id', 'name', 'kind', 'columns', 'created_at'])
      .orderBy('name');
    if (kind) q = q.where('kind', '=', kind);
    return (await q.execute()).map((x) => ({
      id: x.id,
      name: x.name,
      kind: x.kind,
      columns: JSON.parse(x.columns) as Mapping,
      createdAt: x.created_at,
    }));
  }

  async deleteProfile(id: number): Promise<void> {
    await this.db.deleteFrom('import_mapping_profile').where('id', '=', id).execute();
  }

  /**
   * A job a new pass may start on: not finished, not being worked on here, and not by a pass
   * elsewhere that is still alive, unless `force` (the CLI, whose user says the other one is gone).
   */
  private claimable(job: JobRow, force: boolean): void {
    if (FINAL.has(job.status)) throw new AppError('CONFLICT', `import ${job.id} is already ${job.status}`);
    if (!job.kind || !job.mapping) throw new AppError('VALIDATION_FAILED', 'map the columns first', 'body.mapping');
    if (this.passes.has(job.id)) throw new AppError('CONFLICT', `import ${job.id} is running`);
    if (WORKING.has(job.status) && fresh(job.heartbeat_at) && !force) {
      const why = `import ${job.id} is being worked on by another process; wait for it or cancel it`;
      throw new AppError('CONFLICT', why);
    }
  }

  /** Check every row without writing: counts and each row's problems, kept for the error report. */
  async dryRun(p: Principal, id: number, opts: { force?: boolean } = {}): Promise<JobView> {
    const job = await this.load(id);
    assertMayImport(p, job.kind);
    if (job.status === 'committing' || job.status === 'failed') {
      throw new AppError('CONFLICT', `import ${id} is already ${job.status}`);
    }
    this.claimable(job, opts.force ?? false);
    return (await this.startPass(p, null, job, false)).done;
  }

  /**
   * Start a pass over the file, naming it as the job's runner. A commit that was interrupted (the
   * process died, or a chunk failed) resumes after its last committed chunk; a dry run and a first
   * commit start from the top. The job must still be as it was read, or someone else moved first.
   */
  private async begin(job: JobRow, write: boolean): Promise<{ runner: string; resume: boolean }> {
    const resume = write && (job.status === 'committing' || job.status === 'failed');
    const phase = write ? 'commit' : 'dry_run';
    const runner = crypto.randomUUID();
    const now = new Date().toISOString();
    const zero = {
      ...{ rows_done: 0, checkpoint_row: 0, rows_ok: 0, rows_rejected: 0, rows_flagged: 0 },
      ...{ created_count: 0, updated_count: 0, unchanged_count: 0, skipped_count: 0 },
    };
    await this.db.transaction().execute(async (trx) => {
      const claimed = await trx
        .updateTable('import_job')
        .set({
          status: write ? 'committing' : 'checking',
          ...{ runner, heartbeat_at: now, error: null, error_code: null, error_details: null },
          ...(!resume && zero),
          updated_at: now,
        })
        .where('id', '=', job.id)
        .where('status', '=', job.status)
        .where((eb) => (job.runner === null ? eb('runner', 'is', null) : eb('runner', '=', job.runner)))
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 0)
        throw new AppError('CONFLICT', `import ${job.id} changed meanwhile; try again`);
      if (!resume) {
        await trx.deleteFrom('import_row_error').where('job_id', '=', job.id).where('phase', '=', phase).execute();
      }
    });
    return { runner, resume };
  }

  /** Claim the job and run a pass; the pass is known to this process until it ends. */
  private async startPass(p: Principal, ip: string | null, job: JobRow, write: boolean): Promise<Pass> {
    const { runner, resume } = await this.begin(job, write);
    const abort = new AbortController();
    const done = this.process(p, ip, job.id, write, runner, resume, abort.signal).finally(() => {
      if (this.passes.get(job.id)?.runner === runner) this.passes.delete(job.id);
    });
    const pass = { runner, abort, done };
    this.passes.set(job.id, pass);
    return pass;
  }

  /** Start (or resume) committing in the background; the job's progress shows how far it got. */
  async commit(p: Principal, ip: string | null, id: number, opts: { force?: boolean } = {}): Promise<JobView> {
    const job = await this.load(id);
    assertMayImport(p, job.kind);
    if (job.status === 'done') return view(job);
    if (this.passes.has(id) && job.status === 'committing') return view(job);
    if (job.status === 'checking' && (this.passes.has(id) || (fresh(job.heartbeat_at) && !opts.force))) {
      throw new AppError('CONFLICT', `import ${id} is being checked`);
    }
    this.claimable(job, opts.force ?? false);
    // Marked as committing before the reply, so the caller sees the run it started.
    const pass = await this.startPass(p, ip, job, true);
    pass.done.catch(() => undefined);
    return this.get(id);
  }

  /** Commit and wait for the end (the CLI and tests). */
  async commitAndWait(p: Principal, ip: string | null, id: number, opts: { force?: boolean } = {}): Promise<JobView> {
    await this.commit(p, ip, id, opts);
    await this.passes.get(id)?.done.catch(() => undefined);
    return this.get(id);
  }

  /**
   * Carry on with a job that was interrupted, whatever it was doing: a check starts again in the
   * background, a commit resumes after its checkpoint. A job waiting for its user (uploaded, mapped,
   * checked) has nothing to resume and is returned as it is.
   */
  async resume(p: Principal, ip: string | null, id: number, opts: { force?: boolean } = {}): Promise<JobView> {
    const job = await this.load(id);
    assertMayImport(p, job.kind);
    if (FINAL.has(job.status)) throw new AppError('CONFLICT', `import ${id} is already ${job.status}`);
    if (this.passes.has(id)) return view(job);
    if (job.status === 'committing' || job.status === 'failed') return this.commit(p, ip, id, opts);
    if (job.status === 'checking' || job.status === 'check_failed') {
      this.claimable(job, opts.force ?? false);
      const pass = await this.startPass(p, ip, job, false);
      pass.done.catch(() => undefined);
      return this.get(id);
    }
    return view(job);
  }

  /** Wait for this process's pass over a job, if there is one (the CLI and tests). */
  async settled(id: number): Promise<JobView> {
    await this.passes.get(id)?.done.catch(() => undefined);
    return this.get(id);
  }

  /**
   * Give a job up, whatever it was doing. A pass working on it (here or in another process) stops
   * before its next chunk; chunks already committed stay. The stored file is deleted.
   */
  async cancel(p: Principal, ip: string | null, id: number): Promise<JobView> {
    const job = await this.load(id);
    if (job.status === 'cancelled') return view(job);
    if (job.status === 'done') throw new AppError('CONFLICT', `import ${id} is already done`);
    const now = new Date().toISOString();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('import_job')
        .set({ status: 'cancelled', runner: null, heartbeat_at: null, finished_at: now, updated_at: now })
        .where('id', '=', id)
        .execute();
      await trx.deleteFrom('import_file_chunk').where('job_id', '=', id).execute();
      const after = { status: 'cancelled', was: job.status, rowsDone: job.rows_done };
      const entry = { action: 'import_cancel', entity: 'import', entityId: id, orgUnitId: job.org_unit_id, after };
      await recordAudit(trx, actorOf(p, ip), entry);
    });
    const pass = this.passes.get(id);
    if (pass) {
      pass.abort.abort();
      await pass.done.catch(() => undefined);
    }
    return this.get(id);
  }

  private async process(
    p: Principal,
    ip: string | null,
    id: number,
    write: boolean,
    runner: string,
    resume: boolean,
    signal: AbortSignal,
  ): Promise<JobView> {
    const job = await this.load(id);
    const kind = job.kind as ImportKind;
    const mapping = JSON.parse(job.mapping!) as Mapping;
    const phase = write ? 'commit' : 'dry_run';
    const resumeAfter = resume ? job.checkpoint_row : 0;
    const counts = resume
      ? {
          ...{ done: job.rows_done, ok: job.rows_ok, rejected: job.rows_rejected, flagged: job.rows_flagged },
          ...{ created: job.created_count, updated: job.updated_count, unchanged: job.unchanged_count },
          skipped: job.skipped_count,
        }
      : { done: 0, ok: 0, rejected: 0, flagged: 0, created: 0, updated: 0, unchanged: 0, skipped: 0 };
    const customerRows = new CustomerRowImporter(this.customers, p);
    const txRows = this.transactions ? new TransactionRowImporter(this.transactions, job.org_unit_id) : null;
    const topupRows = this.topups ? new TopupRowImporter(this.topups, job.org_unit_id) : null;
    const orgRows = new OrgUnitRowImporter(p);
    const userRows = new UserRowImporter(p, { now: this.now, passwordTtlHours: this.passwordTtlHours });
    const actor = actorOf(p, ip);
    const heartbeat = setInterval(() => {
      void this.db
        .updateTable('import_job')
        .set({ heartbeat_at: new Date().toISOString() })
        .where('id', '=', id)
        .where('runner', '=', runner)
        .execute()
        .catch(() => undefined);
    }, HEARTBEAT_MS);
    heartbeat.unref();
    try {
      const total = await this.withFile(job, async (file) => {
        let header: string[] | null = null;
        let chunk: { rowNumber: number; cells: unknown[] }[] = [];
        let dataRows = 0;
        /** The last row of data (or the header): empty rows are counted once a row of data follows them. */
        let prevRow = 0;
        let skippedRows = 0;
        // Org units are one chunk: a parent may come after its children, so the rows are ordered as a whole.
        let chunkRows = kind === 'org_units' ? Number.MAX_SAFE_INTEGER : CHUNK_ROWS;
        let principalsChanged = false;
        const flush = async () => {
          if (chunk.length === 0) return;
          const rows = chunk;
          chunk = [];
          const lastRow = rows[rows.length - 1]!.rowNumber;
          await this.db.transaction().execute(async (trx) => {
            const problems: RowProblem[] = [];
            const good: { rowNumber: number; value: Record<string, unknown> }[] = [];
            for (const r of rows) {
              const converted = convertRow(kind, mapping, r.cells, r.rowNumber, header!);
              if (converted.ok)
                good.push({ rowNumber: r.rowNumber, value: converted.value as Record<string, unknown> });
              else {
                const errors = [...converted.errors];
                // The archive's own checks of the fields that did convert: every bad field of the row is reported.
                if (kind === 'customers' || kind === 'cards') {
                  errors.push(...checkRow(converted.value, new Set(errors.map((e) => e.field ?? ''))).errors);
                }
                for (const e of errors) {
                  const message = encodeProblem(e.code, e.params);
                  problems.push({ row: r.rowNumber, severity: 'error', field: e.field ?? null, message });
                }
              }
            }
            let created = 0;
            let updated = 0;
            let unchanged = 0;
            // Every converted row is stored, on file already, or has a problem (subtracted below); a dry run stores none.
            let ok = good.length;
            if (kind === 'transactions') {
              if (!txRows) throw new AppError('INTERNAL', 'transactions cannot be imported on this server');
              const r = await txRows.apply(trx, good, write);
              problems.push(...r.problems);
              created = r.inserted;
              unchanged = r.duplicates;
            } else if (kind === 'topups') {
              if (!topupRows) throw new AppError('INTERNAL', 'top-ups cannot be imported on this server');
              const r = await topupRows.apply(trx, good, write);
              problems.push(...r.problems);
              created = r.inserted;
              unchanged = r.duplicates;
            } else if (kind === 'org_units' || kind === 'users') {
              const audit = { actor, importId: id };
              const r =
                kind === 'org_units'
                  ? await orgRows.apply(trx, good, write, audit)
                  : await userRows.apply(trx, good, write, audit);
              problems.push(...r.problems);
              created = r.created;
              updated = r.updated;
              unchanged = r.unchanged;
              if (write && (r.created || r.updated)) principalsChanged = true;
            } else {
              const r = await customerRows.apply(trx, job.org_unit_id, good, write);
              problems.push(...r.problems);
              created = r.created.length;
              updated = r.newlyUpdated;
              unchanged = r.unchanged;
              if (write && (r.created.length || r.updated.length)) {
                await recordAudit(trx, actor, {
                  action: 'import',
                  entity: 'customer',
                  orgUnitId: job.org_unit_id,
                  after: { importId: id, rows: [rows[0]!.rowNumber, lastRow], created: r.created, updated: r.updated },
                });
              }
            }
            const badRows = new Set(problems.map((x) => x.row));
            const flaggedRows = new Set(problems.filter((x) => x.severity === 'flag').map((x) => x.row));
            const goodRows = new Set(good.map((g) => g.rowNumber));
            ok -= [...badRows].filter((row) => goodRows.has(row)).length;
            counts.done += rows.length;
            counts.ok += Math.max(0, ok);
            counts.rejected += badRows.size - flaggedRows.size;
            counts.flagged += flaggedRows.size;
            counts.created += created;
            counts.updated += updated;
            counts.unchanged += unchanged;
            if (problems.length) {
              // A short excerpt of the row, never its whole cells: a hostile file repeats one huge cell on every row.
              const cellsOf = new Map(rows.map((r) => [r.rowNumber, r.cells]));
              const values = problems.map((x) => {
                const cells = cellsOf.get(x.row);
                const message = excerpt(x.message, MESSAGE_CHARS);
                const stored = cells ? cellsExcerpt(cells) : null;
                return {
                  job_id: id,
                  phase,
                  row_number: x.row,
                  severity: x.severity,
                  field: x.field,
                  message,
                  cells: stored,
                };
              });
              for (const part of slices(values, 500)) await trx.insertInto('import_row_error').values(part).execute();
            }
            // The checkpoint moves in the same transaction as the rows it covers, while the job is still this pass's.
            const moved = await trx
              .updateTable('import_job')
              .set({
                rows_done: counts.done,
                checkpoint_row: lastRow,
                rows_ok: counts.ok,
                rows_rejected: counts.rejected,
                rows_flagged: counts.flagged,
                created_count: counts.created,
                updated_count: counts.updated,
                unchanged_count: counts.unchanged,
                skipped_count: counts.skipped,
                heartbeat_at: new Date().toISOString(),
                updated_at: new Date().toISOString(),
              })
              .where('id', '=', id)
              .where('runner', '=', runner)
              .executeTakeFirst();
            if (Number(moved.numUpdatedRows) === 0) throw new Superseded();
          });
          // As a hand edit of people or units does: cached principals go, here and on the other instances.
          if (principalsChanged) {
            principalsChanged = false;
            await this.principalsChanged();
          }
        };
        for await (const r of this.reader.rows(file, job.sheet ?? undefined)) {
          if (signal.aborted) throw new Superseded();
          if (header === null) {
            header = r.cells.map(cellText);
            prevRow = r.rowNumber;
            continue;
          }
          // Empty rows are skipped, not checked; those before a row of data are counted as skipped (a
          // workbook leaves them out of its rows, hence the gap in row numbers), those after the last are not.
          if ((r.cells as Cell[]).every((c) => cellText(c).trim() === '')) continue;
          const gap = r.rowNumber - prevRow - 1;
          prevRow = r.rowNumber;
          skippedRows += gap;
          dataRows++;
          if (r.rowNumber <= resumeAfter) {
            // Rows an earlier pass committed: a users import remembers their usernames (a repeat is refused).
            if (kind === 'users') {
              const converted = convertRow(kind, mapping, r.cells, r.rowNumber, header);
              if (converted.ok)
                userRows.recall({ rowNumber: r.rowNumber, value: converted.value as Record<string, unknown> });
            }
            continue;
          }
          counts.skipped += gap;
          counts.done += gap;
          chunk.push(r);
          if (chunk.length >= chunkRows) {
            const before = performance.eventLoopUtilization();
            await flush();
            if (this.chunkBusyMs > 0) {
              // Halfway to the size that would have kept the event loop busy for chunkBusyMs.
              const busy = Math.max(1, performance.eventLoopUtilization(before).active);
              const aim = Math.round((chunkRows * this.chunkBusyMs) / busy);
              chunkRows = Math.min(CHUNK_ROWS, Math.max(MIN_CHUNK_ROWS, Math.round((chunkRows + aim) / 2)));
            }
            // Rows come ready from the reader and SQLite answers without I/O waits: let other
            // requests in between chunks, or a long import would hold the event loop to the end.
            await new Promise((r) => setImmediate(r));
          }
        }
        await flush();
        return dataRows + skippedRows;
      });
      const ended = await this.db.transaction().execute(async (trx) => {
        const now = new Date().toISOString();
        const r = await trx
          .updateTable('import_job')
          .set({
            status: write ? 'done' : 'checked',
            ...{ rows_total: total, rows_done: total, skipped_count: counts.skipped, runner: null, heartbeat_at: null },
            ...{ finished_at: write ? now : null, updated_at: now },
          })
          .where('id', '=', id)
          .where('runner', '=', runner)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) return false;
        if (write)
          await recordAudit(trx, actor, {
            action: 'import_done',
            entity: 'import',
            entityId: id,
            orgUnitId: job.org_unit_id,
            after: { kind, ...counts },
          });
        if (write)
          await emitWebhookEvent(trx, {
            event: 'import.finished',
            orgUnitId: job.org_unit_id,
            data: { importId: id, kind, fileName: job.file_name, ...counts },
          });
        return true;
      });
      if (!ended) throw new Superseded();
    } catch (err) {
      if (err instanceof Superseded) throw new AppError('CONFLICT', `import ${id} was cancelled or taken over`);
      const e = asAppError(err);
      const message = e instanceof Error ? e.message : String(e);
      // 'failed' is a commit to resume; a failed check is simply checked again.
      await this.db
        .updateTable('import_job')
        .set({
          status: write ? 'failed' : 'check_failed',
          error: excerpt(message, MESSAGE_CHARS),
          error_code: e instanceof AppError ? e.code : null,
          error_details: e instanceof AppError && e.details !== undefined ? JSON.stringify(e.details) : null,
          runner: null,
          heartbeat_at: null,
          updated_at: new Date().toISOString(),
        })
        .where('id', '=', id)
        .where('runner', '=', runner)
        .execute();
      throw e;
    } finally {
      clearInterval(heartbeat);
    }
    return this.get(id);
  }

  /**
   * Every rejected or flagged row of a phase, worded in `locale` (zh-CN unless en-US): the problem's
   * code and parameters as stored, its message and the field's label.
   */
  async problems(id: number, phase: 'dry_run' | 'commit', limit?: number, locale?: string | null) {
    let q = this.db
      .selectFrom('import_row_error')
      .select(['row_number', 'severity', 'field', 'message', 'cells'])
      .where('job_id', '=', id)
      .where('phase', '=', phase)
      .orderBy('row_number')
      .orderBy('id');
    if (limit) q = q.limit(limit);
    return (await q.execute()).map((r) => {
      const { code, params } = decodeProblem(r.message);
      return {
        ...{
          row: r.row_number,
          severity: r.severity,
          field: r.field,
          fieldLabel: fieldLabel(r.field, labelLocale(locale)),
        },
        ...{ code, params, message: renderProblem(r.message, r.field, locale) },
        cells: r.cells ? (JSON.parse(r.cells) as unknown[]) : [],
      };
    });
  }

  /** Lines that group rows one action fixes (card numbers a spreadsheet stored as numbers), worded in `locale`. */
  async summaries(id: number, phase: 'dry_run' | 'commit', locale?: string | null): Promise<string[]> {
    const rows = await this.db
      .selectFrom('import_row_error')
      .select(['row_number as row', 'field', 'message'])
      .where('job_id', '=', id)
      .where('phase', '=', phase)
      .where('message', 'like', '{"c":"LOST_DIGITS"%')
      .orderBy('row_number')
      .execute();
    return groupedSummaries(rows, locale);
  }

  /** The file's header row as written, for the report's columns; none once the file is gone. */
  async headers(id: number): Promise<string[]> {
    const job = await this.load(id);
    if (job.status === 'cancelled') return [];
    return this.withFile(job, async (file) => {
      for await (const r of this.reader.rows(file, job.sheet ?? undefined)) return r.cells.map(cellText);
      return [];
    });
  }

  /** An unfinished import of the same file, kind and unit: what a re-run should resume. */
  async unfinished(orgUnitId: number, sha256: string, kind: ImportKind): Promise<number | null> {
    const r = await this.db
      .selectFrom('import_job')
      .select('id')
      .where('org_unit_id', '=', orgUnitId)
      .where('file_sha256', '=', sha256)
      .where('kind', '=', kind)
      .where('status', 'in', ['committing', 'failed'])
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r?.id ?? null;
  }
}
