// The shape every ingest endpoint shares (fuel sales, card top-ups): an API key instead of a session,
// a JSON envelope {source, <rows>} up to 1 MiB or an NDJSON stream of any length, rows checked one by
// one by the service so that a bad row is reported and the rest are stored.
import type { Readable } from 'node:stream';
import { Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyRequest, FastifySchemaValidationError } from 'fastify';
import type { App } from '../../http.js';
import { errorResponses } from '../../schemas.js';
import { AppError } from '../../errors.js';
import { MAX_REPORTED_ERRORS, UnreadableRow } from './ingest.service.js';

export const NDJSON = 'application/x-ndjson';
/** A JSON body is read whole (1 MiB at most: a few thousand rows); NDJSON streams without limit. */
const MAX_JSON_ROWS = 10_000;
const MAX_LINE = 64 * 1024;

export const Opt = <T extends TSchema>(t: T, description: string) =>
  Type.Optional(Type.Union([t, Type.Null()], { description }));
const Source = Type.String({
  pattern: '^[a-z0-9][a-z0-9_.-]{0,31}$',
  description: "The sending system, e.g. 'ic-card' or 'pos-s1'; 'pump' is reserved",
});
const RowError = Type.Object({
  row: Type.Integer({ description: '1-based position in the batch (NDJSON: among the non-empty lines)' }),
  externalId: Type.Union([Type.String(), Type.Null()]),
  field: Type.String(),
  code: Type.String(),
  message: Type.String(),
});
export const RowErrors = Type.Array(RowError, { description: `At most ${MAX_REPORTED_ERRORS}` });

const IngestQuery = Type.Object(
  { source: Type.Optional(Type.String({ maxLength: 32, description: 'The source of an NDJSON body' })) },
  { additionalProperties: false },
);
const QueryCheck = TypeCompiler.Compile(IngestQuery);

/**
 * What an ingest service is given: the rows as they came, and the key's unit — the namespace of the
 * rows' external ids, their scope, and their station when they name none and it is one.
 */
export interface IngestRequest {
  source: string;
  rows: Iterable<unknown> | AsyncIterable<unknown>;
  senderUnitId: number;
  scopePath: string;
  apiKeyId: number;
}

export interface IngestRouteOptions {
  url: string;
  /** The envelope's array of rows: `transactions`, `topups`. */
  listField: string;
  row: TSchema;
  /** What one NDJSON line holds, for the OpenAPI document. */
  lineDescription: string;
  reply: TSchema;
  summary: string;
  description: string;
  run: (input: IngestRequest) => Promise<unknown>;
}

/** Registers one ingest endpoint. NDJSON is parsed only by these routes, as a stream: rows are stored chunk by chunk while it arrives. */
export function registerIngestRoute(app: App, o: IngestRouteOptions): void {
  const JsonBody = Type.Object(
    { source: Source, [o.listField]: Type.Array(o.row, { maxItems: MAX_JSON_ROWS }) },
    { additionalProperties: false },
  );
  // What the route checks before the service sees the body: the envelope only. Rows are checked by
  // the service one at a time, so that one bad row does not turn the whole batch away.
  const Envelope = TypeCompiler.Compile(
    Type.Object(
      {
        source: Type.String({ maxLength: 32 }),
        [o.listField]: Type.Array(Type.Unknown(), { maxItems: MAX_JSON_ROWS }),
      },
      { additionalProperties: false },
    ),
  );
  void app.register(async (child) => {
    const scope = child.withTypeProvider<TypeBoxTypeProvider>();
    scope.addContentTypeParser(
      NDJSON,
      (_req: FastifyRequest, payload: unknown, done: (err: Error | null, body?: unknown) => void) =>
        done(null, payload),
    );
    scope.post(o.url, {
      // Text in rows (U+0000 included) is checked row by row, so one bad row does not turn the batch away.
      config: { access: { apiKey: true }, rowsCheckedOneByOne: true },
      validatorCompiler: ({ httpPart, contentType }) =>
        validatorOf(
          httpPart === 'querystring' ? QueryCheck : httpPart === 'body' && contentType !== NDJSON ? Envelope : null,
        ),
      schema: {
        tags: ['ingest'],
        summary: o.summary,
        description: o.description,
        security: [{ apiKey: [] }],
        querystring: IngestQuery,
        body: {
          content: {
            'application/json': { schema: JsonBody },
            [NDJSON]: { schema: Type.String({ description: o.lineDescription }) },
          },
        },
        response: { 200: o.reply, ...errorResponses },
      },
      handler: async (req) => {
        const client = req.apiClient;
        if (!client) throw new AppError('NOT_AUTHENTICATED');
        const ndjson = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase() === NDJSON;
        let source: string;
        let rows: Iterable<unknown> | AsyncIterable<unknown>;
        if (ndjson) {
          const q = req.query as { source?: string };
          if (!q.source)
            throw new AppError(
              'VALIDATION_FAILED',
              'give the source as ?source= with an NDJSON body',
              'querystring.source',
            );
          source = q.source;
          rows = ndjsonRows(req.body as Readable);
        } else {
          const body = req.body as { source: string } & Record<string, unknown[]>;
          source = body.source;
          rows = body[o.listField]!;
        }
        try {
          const sender = { senderUnitId: client.orgUnitId, scopePath: client.orgPath, apiKeyId: client.keyId };
          return await o.run({ source, rows, ...sender });
        } catch (err) {
          if (err instanceof AppError && err.field === 'source')
            throw new AppError(err.code, err.message, ndjson ? 'querystring.source' : 'body.source');
          throw err;
        }
      },
    });
  });
}

/** An Ajv-shaped validator from a compiled TypeBox check, so errors name their field like every other route's. */
export function validatorOf(
  check: {
    Check(v: unknown): boolean;
    Errors(v: unknown): Iterable<{ path: string; message: string; type: number }>;
  } | null,
) {
  const fn = Object.assign(
    (data: unknown): boolean => {
      if (check === null || check.Check(data)) return true;
      const all = [...check.Errors(data)];
      // A wrong value says more than a missing one.
      const e = all.find((x) => x.message !== 'Expected required property') ?? all[0]!;
      fn.errors = [
        { instancePath: e.path, message: e.message.toLowerCase(), params: {}, keyword: 'type', schemaPath: '#' },
      ];
      return false;
    },
    { errors: null as FastifySchemaValidationError[] | null },
  );
  return fn;
}

/** Rows of an NDJSON stream, one per non-empty line; a line that is not JSON becomes an UnreadableRow. */
export async function* ndjsonRows(stream: Readable): AsyncGenerator<unknown> {
  stream.setEncoding('utf8');
  let rest = '';
  let skipping = false;
  const parse = (line: string): unknown => {
    try {
      return JSON.parse(line);
    } catch (err) {
      return new UnreadableRow(`not JSON: ${(err as Error).message}`);
    }
  };
  for await (const chunk of stream as AsyncIterable<string>) {
    rest += chunk;
    let start = 0;
    for (let nl = rest.indexOf('\n'); nl !== -1; nl = rest.indexOf('\n', start)) {
      const line = rest.slice(start, nl);
      start = nl + 1;
      if (skipping) {
        skipping = false;
        continue;
      }
      if (line.trim() !== '') yield parse(line);
    }
    rest = rest.slice(start);
    if (rest.length > MAX_LINE && !skipping) {
      yield new UnreadableRow(`a line is longer than ${MAX_LINE} characters`);
      skipping = true;
    }
    if (skipping) rest = '';
  }
  if (!skipping && rest.trim() !== '') yield parse(rest);
}
