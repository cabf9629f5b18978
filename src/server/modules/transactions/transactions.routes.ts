import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { IdParams, Page, Paging, errorResponses } from '../../schemas.js';
import { BUSINESS_LINES, PAYMENTS } from '../../../domain/fuel-transaction.js';
import type { IngestService } from './ingest.service.js';
import { Opt, registerIngestRoute, RowErrors } from './ingest-route.js';
import type { TransactionsService } from './transactions.service.js';

const Row = Type.Object(
  {
    externalId: Type.String({
      maxLength: 64,
      description:
        "The sending system's id of the sale; with the source and the key's org unit, " +
        'what makes re-sending harmless',
    }),
    occurredAt: Type.String({
      description: 'ISO-8601 date-time; with Z or an offset an instant, without one the station’s wall clock',
    }),
    stationCode: Opt(
      Type.String({ maxLength: 64 }),
      'Org unit code of the station; may be left out only when the key belongs to a station',
    ),
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
  {
    additionalProperties: false,
    description:
      'One sale. Rows are checked one by one: a bad row is reported with its number and field, the rest are stored.',
  },
);
const IngestReply = Type.Object({
  batchId: Type.Integer(),
  received: Type.Integer(),
  inserted: Type.Integer(),
  duplicates: Type.Integer({
    description: 'Rows already stored (same key org unit, source, external id and content): re-sending changes nothing',
  }),
  rejected: Type.Integer(),
  conflicts: Type.Integer({
    description:
      'Rejected rows whose key was stored (or came earlier) with other content: TRANSACTION_CONFLICT per field',
  }),
  attached: Type.Integer({ description: 'Inserted rows that found their customer by card or plate' }),
  superseded: Type.Integer({ description: 'Hand-recorded fill-ups replaced by an inserted row' }),
  errors: RowErrors,
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
  cells: Type.Array(
    Type.Object({
      month: Type.String({ description: 'YYYY-MM' }),
      product: Type.String(),
      volumeMl: Type.Integer(),
      amountFen: Type.Integer(),
      txnCount: Type.Integer(),
    }),
  ),
  months: Type.Array(
    Type.Object({ month: Type.Integer({ minimum: 1, maximum: 12 }), thisYear: Totals, lastYear: Totals }),
  ),
  products: Type.Array(Type.Object({ product: Type.String(), thisYear: Totals, lastYear: Totals })),
  totals: Type.Object({ thisYear: Totals, lastYear: Totals }),
  cadence: Type.Object({
    visitCount: Type.Integer({ description: 'Days with at least one fill-up' }),
    firstVisitAt: S,
    lastVisitAt: S,
    usualIntervalDays: Type.Union([Type.Number(), Type.Null()], {
      description: 'Mean gap between consecutive visit days',
    }),
  }),
});

const customerResource = { type: 'customer', param: 'id' } as const;

export function transactionsRoutes(app: App, ingest: IngestService, reads: TransactionsService): void {
  registerIngestRoute(app, {
    url: '/api/ingest/transactions',
    listField: 'transactions',
    row: Row,
    lineDescription: 'One transaction object (as in the JSON form) per line',
    reply: IngestReply,
    summary: 'Send transactions from a card, e-ledger or POS system (API key, not a session)',
    description:
      `JSON ({source, transactions}) up to 1 MiB, or NDJSON (one transaction per line, source in the query) of any length, ` +
      `stored in chunks of ${ingest.chunkRows} (INGEST_CHUNK_ROWS). Rows are keyed by the key's org unit, the source and ` +
      `externalId: re-sending a row changes nothing, re-sending its key with other content is refused as ` +
      `TRANSACTION_CONFLICT. Rows for stations outside the key's org unit are rejected; a key that does not belong to a ` +
      `station must name the station of each row.`,
    run: (input) => ingest.ingest(input),
  });

  app.get('/api/customers/:id/transactions', {
    config: { access: { permission: 'customer.read', resource: customerResource } },
    schema: {
      tags: ['customers'],
      summary: "The customer's transactions, newest first (the read is audited)",
      params: IdParams,
      querystring: Type.Object({ ...Paging }, { additionalProperties: false }),
      response: { 200: Page(Txn), ...errorResponses },
    },
    handler: (req) => reads.list(requirePrincipal(req), req.ip, req.params.id, req.query.page, req.query.pageSize),
  });

  app.get('/api/customers/:id/volume-monthly', {
    config: { access: { permission: 'customer.read', resource: customerResource } },
    schema: {
      tags: ['customers'],
      summary: 'Volume by month and product, this year beside last year, with totals and the visit cadence',
      params: IdParams,
      querystring: Type.Object(
        {
          year: Type.Optional(
            Type.Integer({ minimum: 2000, maximum: 2100, description: 'Defaults to the current year' }),
          ),
        },
        { additionalProperties: false },
      ),
      response: { 200: VolumeMonthly, ...errorResponses },
    },
    handler: (req) => reads.volumeMonthly(req.params.id, req.query.year),
  });
}
