import { Type } from '@sinclair/typebox';
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { AppError } from '../../errors.js';
import { IdParams, Paging, Page, Ok, errorResponses } from '../../schemas.js';
import { IMPORT_KINDS, type ImportsService } from './imports.service.js';
import { errorReportCsv, errorReportXlsx, phaseOf, reportInput } from './report.js';
import { totalsLine } from './problems.js';
import { passwordsCsv } from './passwords-csv.js';

const S = Type.Union([Type.String(), Type.Null()]);
const N = Type.Union([Type.Integer(), Type.Null()]);
const Kind = Type.Union(IMPORT_KINDS.map((k) => Type.Literal(k)));
const Mapping = Type.Record(Type.String({ maxLength: 200 }), Type.String({ maxLength: 64 }));
const Job = Type.Object({
  id: Type.Integer(),
  orgUnitId: Type.Integer(),
  kind: S,
  fileName: Type.String(),
  fileSize: Type.Integer(),
  format: Type.String(),
  sheet: S,
  mapping: Type.Union([Mapping, Type.Null()]),
  status: Type.String(),
  rowsTotal: N,
  rowsDone: Type.Integer(),
  rowsOk: Type.Integer(),
  rowsRejected: Type.Integer(),
  rowsFlagged: Type.Integer(),
  createdCount: Type.Integer(),
  updatedCount: Type.Integer(),
  unchangedCount: Type.Integer({ description: 'rows that matched what is on file and changed nothing' }),
  skippedCount: Type.Integer({
    description:
      'empty rows skipped between the header and the last row of data; rowsOk + rowsRejected + rowsFlagged + skippedCount = rowsTotal',
  }),
  error: S,
  errorCode: S,
  errorDetails: Type.Unknown({ description: 'e.g. { limit, value, setting, row } for IMPORT_LIMIT_EXCEEDED' }),
  active: Type.Boolean({ description: 'a pass is working on the job now, here or in another live process' }),
  passwordsWaiting: Type.Optional(
    Type.Integer({ description: 'an import of users: initial passwords not yet taken by the one who ran it' }),
  ),
  createdAt: Type.String(),
  finishedAt: S,
});
const Problem = Type.Object({
  row: Type.Integer(),
  severity: Type.String(),
  field: S,
  fieldLabel: Type.String({ description: "the field's label in the reader's language" }),
  code: Type.String({
    description: 'LOST_DIGITS, REQUIRED, NOT_DATE, BAD_PHONE, BAD_PLATE, …; INVALID for older rows',
  }),
  params: Type.Record(Type.String(), Type.Unknown()),
  message: Type.String({ description: "the problem in the reader's language (zh-CN unless en-US)" }),
  cells: Type.Array(Type.Unknown()),
});
const Phase = Type.Object(
  { phase: Type.Union([Type.Literal('dry_run'), Type.Literal('commit')], { default: 'dry_run' }) },
  { additionalProperties: false },
);
const importJob = { type: 'import_job', param: 'id' } as const;
const tags = ['imports'];
const MAX_UPLOAD_BYTES = Number(process.env.IMPORT_MAX_MB ?? 512) * 1024 * 1024;

export function importsRoutes(app: App, svc: ImportsService): void {
  app.addHook('onClose', () => svc.close());
  const reportOf = (id: number, phase: 'dry_run' | 'commit', locale: string | null | undefined) =>
    reportInput(svc, id, phase, locale);

  // Files arrive as the raw request body, streamed into the database as they come.
  void app.register(async (child) => {
    const scope = child.withTypeProvider<TypeBoxTypeProvider>();
    scope.addContentTypeParser(
      'application/octet-stream',
      (_req: FastifyRequest, payload: unknown, done: (err: Error | null, body?: unknown) => void) =>
        done(null, payload),
    );
    scope.post('/api/imports', {
      config: { access: { permission: 'import.run' } },
      schema: {
        tags,
        summary: 'Upload a CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or XLSX file as application/octet-stream',
        querystring: Type.Object(
          {
            fileName: Type.String({ minLength: 1, maxLength: 255 }),
            orgUnitId: Type.Optional(Type.Integer({ minimum: 1 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Job, ...errorResponses },
      },
      handler: async (req, reply) => {
        // JSON and text bodies are parsed by the app's own parsers; only a raw stream is a file.
        if (!(req.body instanceof Readable))
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the file as application/octet-stream', 'content-type');
        const job = await svc.upload(requirePrincipal(req), req.ip, {
          fileName: req.query.fileName,
          orgUnitId: req.query.orgUnitId,
          body: req.body,
          maxBytes: MAX_UPLOAD_BYTES,
        });
        return reply.code(201).send(job);
      },
    });
  });

  app.get('/api/imports', {
    config: { access: { permission: 'import.run' } },
    schema: {
      tags,
      summary: 'Imports of your subtree, newest first',
      querystring: Type.Object({ ...Paging }, { additionalProperties: false }),
      response: { 200: Page(Job), ...errorResponses },
    },
    handler: (req) => svc.list(requirePrincipal(req), req.query.page, req.query.pageSize),
  });

  app.get('/api/imports/:id', {
    config: { access: { permission: 'import.run', resource: importJob } },
    schema: {
      tags,
      summary: 'One import and its progress',
      params: IdParams,
      response: { 200: Job, ...errorResponses },
    },
    handler: (req) => svc.get(req.params.id),
  });

  app.post('/api/imports/:id/inspect', {
    config: { access: { permission: 'import.run', resource: importJob } },
    schema: {
      tags,
      summary: 'Sheets, headers, the first rows and a suggested column mapping',
      params: IdParams,
      body: Type.Object(
        { kind: Kind, sheet: Type.Optional(Type.String({ maxLength: 100 })) },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          sheets: Type.Array(Type.String()),
          sheet: S,
          headers: Type.Array(Type.String()),
          sample: Type.Array(Type.Array(Type.String())),
          suggested: Mapping,
          profiles: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String(), columns: Mapping })),
        }),
        ...errorResponses,
      },
    },
    handler: (req) => svc.inspect(req.params.id, req.body.kind, req.body.sheet),
  });

  app.put('/api/imports/:id/mapping', {
    config: { access: { permission: 'import.run', resource: importJob } },
    schema: {
      tags,
      summary: 'Choose what the file holds, the sheet and the column mapping (optionally saved as a profile)',
      params: IdParams,
      body: Type.Object(
        {
          kind: Kind,
          sheet: Type.Optional(Type.String({ maxLength: 100 })),
          mapping: Mapping,
          saveAs: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        },
        { additionalProperties: false },
      ),
      response: { 200: Job, ...errorResponses },
    },
    handler: (req) => svc.configure(requirePrincipal(req), req.params.id, req.body),
  });

  app.post('/api/imports/:id/dry-run', {
    config: { access: { permission: 'import.run', resource: importJob } },
    schema: {
      tags,
      summary: 'Check every row without writing; the problems are kept for the report',
      params: IdParams,
      response: { 200: Type.Object({ job: Job, problems: Type.Array(Problem) }), ...errorResponses },
    },
    handler: async (req) => {
      const job = await svc.dryRun(requirePrincipal(req), req.params.id);
      return { job, problems: await svc.problems(req.params.id, 'dry_run', 200, requirePrincipal(req).locale) };
    },
  });

  app.post('/api/imports/:id/commit', {
    config: { access: { permission: 'import.run', resource: importJob } },
    schema: {
      tags,
      summary: 'Write the rows (in the background; resumes after an interruption)',
      params: IdParams,
      response: { 202: Job, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(202).send(await svc.commit(requirePrincipal(req), req.ip, req.params.id)),
  });

  app.post('/api/imports/:id/resume', {
    config: { access: { permission: 'import.run', resource: importJob } },
    schema: {
      tags,
      summary:
        'Carry on with an interrupted import: a check starts again, a commit resumes after its last chunk (in the background)',
      params: IdParams,
      response: { 202: Job, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(202).send(await svc.resume(requirePrincipal(req), req.ip, req.params.id)),
  });

  app.post('/api/imports/:id/cancel', {
    config: { access: { permission: 'import.run', resource: importJob } },
    schema: {
      tags,
      summary: 'Give an import up; a pass working on it stops before its next chunk',
      params: IdParams,
      response: { 200: Job, ...errorResponses },
    },
    handler: (req) => svc.cancel(requirePrincipal(req), req.ip, req.params.id),
  });

  app.get('/api/imports/:id/problems', {
    config: { access: { permission: 'import.run', resource: importJob } },
    schema: {
      tags,
      summary: 'Rows rejected or flagged',
      params: IdParams,
      querystring: Phase,
      response: { 200: Type.Array(Problem), ...errorResponses },
    },
    handler: (req) => svc.problems(req.params.id, req.query.phase, 1000, requirePrincipal(req).locale),
  });

  app.get('/api/imports/:id/summaries', {
    config: { access: { permission: 'import.run', resource: importJob } },
    schema: {
      tags,
      summary: "A phase's lines said once: the file's rows accounted for, and rows one action fixes",
      params: IdParams,
      querystring: Phase,
      response: {
        200: Type.Object({
          totals: Type.Union([Type.String(), Type.Null()], {
            description: "good + rejected + flagged + empty rows skipped, when the job's figures are this phase's",
          }),
          grouped: Type.Array(Type.String(), {
            description: 'e.g. the rows whose card numbers a spreadsheet stored as numbers, with the fix',
          }),
        }),
        ...errorResponses,
      },
    },
    handler: async (req) => {
      const locale = requirePrincipal(req).locale;
      const job = await svc.get(req.params.id);
      const grouped = await svc.summaries(req.params.id, req.query.phase, locale);
      return { totals: phaseOf(job.status) === req.query.phase ? totalsLine(job, locale) : null, grouped };
    },
  });

  app.get('/api/imports/:id/report.csv', {
    config: { access: { permission: 'import.run', resource: importJob } },
    schema: {
      tags,
      summary: 'The error report as CSV (UTF-8 with BOM; formulas defused)',
      params: IdParams,
      querystring: Phase,
    },
    handler: async (req, reply) => {
      const job = await svc.get(req.params.id);
      const body = errorReportCsv(await reportOf(req.params.id, req.query.phase, requirePrincipal(req).locale));
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="import-${job.id}-errors.csv"`)
        .send(body);
    },
  });

  app.get('/api/imports/:id/report.xlsx', {
    config: { access: { permission: 'import.run', resource: importJob } },
    schema: { tags, summary: 'The error report as XLSX (every cell text)', params: IdParams, querystring: Phase },
    handler: async (req, reply) => {
      const job = await svc.get(req.params.id);
      const body = await errorReportXlsx(await reportOf(req.params.id, req.query.phase, requirePrincipal(req).locale));
      return reply
        .header('content-type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .header('content-disposition', `attachment; filename="import-${job.id}-errors.xlsx"`)
        .send(body);
    },
  });

  app.post('/api/imports/:id/passwords', {
    config: { access: { permission: 'user.write', resource: importJob } },
    schema: {
      tags,
      summary:
        'The initial passwords of the users an import created, as CSV, for the one who ran it; handed over once (they are deleted as they are sent)',
      params: IdParams,
    },
    handler: async (req, reply) => {
      const p = requirePrincipal(req);
      const rows = await svc.takePasswords(p, req.ip, req.params.id);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="import-${req.params.id}-passwords.csv"`)
        .send(passwordsCsv(rows, p.locale));
    },
  });

  app.get('/api/import-profiles', {
    config: { access: { permission: 'import.run' } },
    schema: {
      tags,
      summary: 'Saved column mappings',
      querystring: Type.Object({ kind: Type.Optional(Kind) }, { additionalProperties: false }),
      response: {
        200: Type.Array(
          Type.Object({
            id: Type.Integer(),
            name: Type.String(),
            kind: Type.String(),
            columns: Mapping,
            createdAt: Type.String(),
          }),
        ),
        ...errorResponses,
      },
    },
    handler: (req) => svc.profiles(req.query.kind),
  });

  app.delete('/api/import-profiles/:id', {
    config: { access: { permission: 'import.run' } },
    schema: {
      tags,
      summary: 'Delete a saved column mapping',
      params: IdParams,
      response: { 200: Ok, ...errorResponses },
    },
    handler: async (req) => {
      await svc.deleteProfile(req.params.id);
      return { ok: true };
    },
  });
}
