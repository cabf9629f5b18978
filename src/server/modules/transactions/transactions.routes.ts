import type { Readable } from 'node:stream';
import { Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyRequest, FastifySchemaValidationError } from 'fastify';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { IdParams, Page, Paging, errorResponses } from '../../schemas.js';
import { AppError } from '../../errors.js';
import { BUSINESS_LINES, PAYMENTS } from '../../../domain/fuel-transaction.js';
import { CHUNK_ROWS, MAX_REPORTED_ERRORS, UnreadableRow, type IngestService } from './ingest.service.js';
import type { TransactionsService } from './transactions.service.js';

export const NDJSON = 'application/x-ndjson';
/** A JSON body is read whole (1 MiB at most: a few thousand rows); NDJSON streams without limit. */
const MAX_JSON_ROWS = 10_000;
const MAX_LINE = 64 * 1024;

const Opt = <T extends TSchema>(t: T, description: string) => Type.Optional(Type.Union([t, Type.Null()], { description }));
const Row = Type.Object(
  {
    externalId: Type.String({ maxLength: 64, description: "The sending system's id of the sale; with the source, what makes re-sending harmless" }),
    occurredAt: Type.String({ description: 'ISO-8601 date-time; with Z or an offset an instant, without one the station’s wall clock' }),
    stationCode: Opt(Type.String({ maxLength: 64 }), 'Org unit code of the station; defaults to the key’s own unit'),
    cardNo: Opt(Type.String({ maxLength: 40 }), 'Fuel-card number; rows attach to the card holder first'),
    plate: Opt(Type.String({ maxLength: 20 }), 'Licence plate; rows without a known card attach to the plate’s holder'),
    product: Type.String({ maxLength: 32, description: 'Product as named at the pump, e.g. 92#, 0#柴油' }),
    businessLine: Opt(Type.Union(BUSINESS_LINES.map((b) => Type.Literal(b))), 'Defaults to retail'),
    volumeMl: Type.Optional(Type.Integer({ minimum: 1, description: 'Volume in millilitres (or give volumeLitres)' })),
    volumeLitres: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    unitPriceFen: Opt(Type.Integer({ minimum: 0 }), 'Price per litre in fen'),
    amountFen: Type.Integer({ minimum: 0, description: 'Amount in fen' }),
    payment: Opt(Type.Union(PAYMENTS.map((p) => Type.Literal(p))), 'Defaults to card when a card number is given'),
  },
  { additionalProperties: false, description: 'One sale. Rows are checked one by one: a bad row is reported with its number and field, the rest are stored.' },
);
const Source = Type.String({ pattern: '^[a-z0-9][a-z0-9_.-]{0,31}$', description: "The sending system, e.g. 'ic-card' or 'pos-s1'; 'pump' is reserved" });
const JsonBody = Type.Object({ source: Source, transactions: Type.Array(Row, { maxItems: MAX_JSON_ROWS }) }, { additionalProperties: false });
// What the route checks before the service sees the body: the envelope only. Rows are checked by
// the service one at a time, so that one bad row does not turn the whole batch away.
const Envelope = TypeCompiler.Compile(Type.Object({ source: Type.String({ maxLength: 32 }), transactions: Type.Array(Type.Unknown(), { maxItems: MAX_JSON_ROWS }) }, { additionalProperties: false }));
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
  attached: Type.Integer({ description: 'Inserted rows that found their customer by card or plate' }),
  superseded: Type.Integer({ description: 'Hand-recorded fill-ups replaced by an inserted row' }),
  errors: Type.Array(RowError, { description: `At most ${MAX_REPORTED_ERRORS}` }),
  errorsTruncated: Type.Boolean(),
});

const S = Type.Union([Type.String(), Type.Null()]);
const N = Type.Union([Type.Integer(), Type.Null()]);
const Txn = Type.Object({
  id: Type.Integer(),
  source: Type.String(),
  externalId: Type.String(),
  occurredAt: Type.String(),
  businessDay: Type.String(),
  orgUnitId: Type.Integer(),
  orgUnitName: Type.String(),
  cardNo: S,
  plate: S,
  product: Type.String(),
  businessLine: Type.String(),
  volumeMl: Type.Integer(),
  unitPriceFen: N,
  amountFen: N,
  payment: S,
  visitId: N,
});
const Totals = Type.Object({ volumeMl: Type.Integer(), amountFen: Type.Integer(), txnCount: Type.Integer() });
const VolumeMonthly = Type.Object({
  customerId: Type.Integer(),
  year: Type.Integer(),
  cells: Type.Array(Type.Object({ month: Type.String({ description: 'YYYY-MM' }), product: Type.String(), volumeMl: Type.Integer(), amountFen: Type.Integer(), txnCount: Type.Integer() })),
  months: Type.Array(Type.Object({ month: Type.Integer({ minimum: 1, maximum: 12 }), thisYear: Totals, lastYear: Totals })),
  products: Type.Array(Type.Object({ product: Type.String(), thisYear: Totals, lastYear: Totals })),
  totals: Type.Object({ thisYear: Totals, lastYear: Totals }),
  cadence: Type.Object({
    visitCount: Type.Integer({ description: 'Days with at least one fill-up' }),
    firstVisitAt: S,
    lastVisitAt: S,
    usualIntervalDays: Type.Union([Type.Number(), Type.Null()], { description: 'Mean gap between consecutive visit days' }),
  }),
});

/** An Ajv-shaped validator from a compiled TypeBox check, so errors name their field like every other route's. */
export function validatorOf(check: { Check(v: unknown): boolean; Errors(v: unknown): Iterable<{ path: string; message: string; type: number }> } | null) {
  const fn = Object.assign(
    (data: unknown): boolean => {
      if (check === null || check.Check(data)) return true;
      const all = [...check.Errors(data)];
      // A wrong value says more than a missing one.
      const e = all.find((x) => x.message !== 'Expected required property') ?? all[0]!;
      fn.errors = [{ instancePath: e.path, message: e.message.toLowerCase(), params: {}, keyword: 'type', schemaPath: '#' }];
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

const customerResource = { type: 'customer', param: 'id' } as const;

export function transactionsRoutes(app: App, ingest: IngestService, reads: TransactionsService): void {
  // NDJSON is parsed only by this route, as a stream: the rows are stored chunk by chunk while it arrives.
  void app.register(async (child) => {
    const scope = child.withTypeProvider<TypeBoxTypeProvider>();
    scope.addContentTypeParser(NDJSON, (_req: FastifyRequest, payload: unknown, done: (err: Error | null, body?: unknown) => void) => done(null, payload));
    scope.post('/api/ingest/transactions', {
      config: { access: { apiKey: true } },
      validatorCompiler: ({ httpPart, contentType }) => validatorOf(httpPart === 'querystring' ? QueryCheck : httpPart === 'body' && contentType !== NDJSON ? Envelope : null),
      schema: {
        tags: ['ingest'],
        summary: 'Send transactions from a card, e-ledger or POS system (API key, not a session)',
        description: `JSON ({source, transactions}) up to 1 MiB, or NDJSON (one transaction per line, source in the query) of any length, stored in chunks of ${CHUNK_ROWS}. Re-sending a row (same source and externalId) changes nothing. Rows for stations outside the key's org unit are rejected.`,
        security: [{ apiKey: [] }],
        querystring: IngestQuery,
        body: { content: { 'application/json': { schema: JsonBody }, [NDJSON]: { schema: Type.String({ description: 'One transaction object (as in the JSON form) per line' }) } } },
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
          const body = req.body as { source: string; transactions: unknown[] };
          source = body.source;
          rows = body.transactions;
        }
        try {
          return await ingest.ingest({ source, rows, defaultOrgUnitId: client.orgUnitId, scopePath: client.orgPath, apiKeyId: client.keyId });
        } catch (err) {
          if (err instanceof AppError && err.field === 'source') throw new AppError(err.code, err.message, ndjson ? 'querystring.source' : 'body.source');
          throw err;
        }
      },
    });
  });

  app.get('/api/customers/:id/transactions', {
    config: { access: { permission: 'customer.read', resource: customerResource } },
    schema: { tags: ['customers'], summary: "The customer's transactions, newest first (the read is audited)", params: IdParams, querystring: Type.Object({ ...Paging }, { additionalProperties: false }), response: { 200: Page(Txn), ...errorResponses } },
    handler: (req) => reads.list(requirePrincipal(req), req.ip, req.params.id, req.query.page, req.query.pageSize),
  });

  app.get('/api/customers/:id/volume-monthly', {
    config: { access: { permission: 'customer.read', resource: customerResource } },
    schema: {
      tags: ['customers'],
      summary: 'Volume by month and product, this year beside last year, with totals and the visit cadence',
      params: IdParams,
      querystring: Type.Object({ year: Type.Optional(Type.Integer({ minimum: 2000, maximum: 2100, description: 'Defaults to the current year' })) }, { additionalProperties: false }),
      response: { 200: VolumeMonthly, ...errorResponses },
    },
    handler: (req) => reads.volumeMonthly(req.params.id, req.query.year),
  });
}
