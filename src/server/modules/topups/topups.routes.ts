import type { Readable } from 'node:stream';
import { Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { App } from '../../http.js';
import { errorResponses } from '../../schemas.js';
import { AppError } from '../../errors.js';
import { TOPUP_PAYMENTS } from '../../../domain/card-topup.js';
import { MAX_REPORTED_ERRORS } from '../transactions/ingest.service.js';
import { NDJSON, ndjsonRows, validatorOf } from '../transactions/transactions.routes.js';
import { TOPUP_CHUNK_ROWS, type TopupsService } from './topups.service.js';

/** A JSON body is read whole (1 MiB at most); NDJSON streams without limit. */
const MAX_JSON_ROWS = 10_000;

const Opt = <T extends TSchema>(t: T, description: string) => Type.Optional(Type.Union([t, Type.Null()], { description }));
const Row = Type.Object(
  {
    externalId: Type.String({ maxLength: 64, description: "The card system's id of the top-up; with the source, what makes re-sending harmless" }),
    occurredAt: Type.String({ description: 'ISO-8601 date-time; with Z or an offset an instant, without one the station’s wall clock' }),
    stationCode: Opt(Type.String({ maxLength: 64 }), 'Org unit code of the station (or outlet) where the card was topped up; defaults to the key’s own unit'),
    cardNo: Type.String({ maxLength: 40, description: 'Fuel-card number; the top-up attaches to the card holder when the card is on file' }),
    amountFen: Type.Integer({ minimum: 1, description: 'Money paid onto the card, in fen' }),
    bonusFen: Opt(Type.Integer({ minimum: 0 }), 'What the card system added on top (赠送), in fen; not part of the amount'),
    payment: Opt(Type.Union(TOPUP_PAYMENTS.map((p) => Type.Literal(p))), 'How the top-up was paid'),
  },
  { additionalProperties: false, description: 'One top-up. Rows are checked one by one: a bad row is reported with its number and field, the rest are stored.' },
);
const Source = Type.String({ pattern: '^[a-z0-9][a-z0-9_.-]{0,31}$', description: "The sending system, e.g. 'ic-card'; 'pump' is reserved" });
const JsonBody = Type.Object({ source: Source, topups: Type.Array(Row, { maxItems: MAX_JSON_ROWS }) }, { additionalProperties: false });
// The route checks the envelope only; the service checks rows one at a time, so one bad row does not turn the batch away.
const Envelope = TypeCompiler.Compile(Type.Object({ source: Type.String({ maxLength: 32 }), topups: Type.Array(Type.Unknown(), { maxItems: MAX_JSON_ROWS }) }, { additionalProperties: false }));
const IngestQuery = Type.Object({ source: Type.Optional(Type.String({ maxLength: 32, description: 'The source of an NDJSON body' })) }, { additionalProperties: false });
const QueryCheck = TypeCompiler.Compile(IngestQuery);

const RowError = Type.Object({
  row: Type.Integer({ description: '1-based position in the batch (NDJSON: among the non-empty lines)' }),
  externalId: Type.Union([Type.String(), Type.Null()]),
  field: Type.String(),
  code: Type.String(),
  message: Type.String(),
});
const IngestReply = Type.Object({
  batchId: Type.Integer(),
  received: Type.Integer(),
  inserted: Type.Integer(),
  duplicates: Type.Integer({ description: 'Rows already stored (same source and external id): re-sending changes nothing' }),
  rejected: Type.Integer(),
  attached: Type.Integer({ description: 'Inserted top-ups whose card belongs to a customer on file' }),
  errors: Type.Array(RowError, { description: `At most ${MAX_REPORTED_ERRORS}` }),
  errorsTruncated: Type.Boolean(),
});

export function topupsRoutes(app: App, svc: TopupsService): void {
  // NDJSON is parsed only by this route, as a stream: the rows are stored chunk by chunk while it arrives.
  void app.register(async (child) => {
    const scope = child.withTypeProvider<TypeBoxTypeProvider>();
    scope.addContentTypeParser(NDJSON, (_req: FastifyRequest, payload: unknown, done: (err: Error | null, body?: unknown) => void) => done(null, payload));
    scope.post('/api/ingest/topups', {
      config: { access: { apiKey: true } },
      validatorCompiler: ({ httpPart, contentType }) => validatorOf(httpPart === 'querystring' ? QueryCheck : httpPart === 'body' && contentType !== NDJSON ? Envelope : null),
      schema: {
        tags: ['ingest'],
        summary: 'Send fuel-card top-ups from a card system (API key, not a session)',
        description: `JSON ({source, topups}) up to 1 MiB, or NDJSON (one top-up per line, source in the query) of any length, stored in chunks of ${TOPUP_CHUNK_ROWS}. Re-sending a row (same source and externalId) changes nothing. Rows for stations outside the key's org unit are rejected.`,
        security: [{ apiKey: [] }],
        querystring: IngestQuery,
        body: { content: { 'application/json': { schema: JsonBody }, [NDJSON]: { schema: Type.String({ description: 'One top-up object (as in the JSON form) per line' }) } } },
        response: { 200: IngestReply, ...errorResponses },
      },
      handler: async (req) => {
        const client = req.apiClient;
        if (!client) throw new AppError('NOT_AUTHENTICATED');
        const ndjson = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase() === NDJSON;
        let source: string;
        let rows: Iterable<unknown> | AsyncIterable<unknown>;
        if (ndjson) {
          const q = req.query as { source?: string };
          if (!q.source) throw new AppError('VALIDATION_FAILED', 'give the source as ?source= with an NDJSON body', 'querystring.source');
          source = q.source;
          rows = ndjsonRows(req.body as Readable);
        } else {
          const body = req.body as { source: string; topups: unknown[] };
          source = body.source;
          rows = body.topups;
        }
        try {
          return await svc.ingest({ source, rows, defaultOrgUnitId: client.orgUnitId, scopePath: client.orgPath, apiKeyId: client.keyId });
        } catch (err) {
          if (err instanceof AppError && err.field === 'source') throw new AppError(err.code, err.message, ndjson ? 'querystring.source' : 'body.source');
          throw err;
        }
      },
    });
  });
}
