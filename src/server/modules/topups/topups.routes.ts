import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { TOPUP_PAYMENTS } from '../../../domain/card-topup.js';
import { Opt, registerIngestRoute, RowErrors } from '../transactions/ingest-route.js';
import { TOPUP_CHUNK_ROWS, type TopupsService } from './topups.service.js';

const Row = Type.Object(
  {
    externalId: Type.String({
      maxLength: 64,
      description:
        "The card system's id of the top-up; with the source and the key's org unit, " +
        'what makes re-sending harmless',
    }),
    occurredAt: Type.String({
      description: 'ISO-8601 date-time; with Z or an offset an instant, without one the station’s wall clock',
    }),
    stationCode: Opt(
      Type.String({ maxLength: 64 }),
      'Org unit code of the station where the card was topped up; ' +
        'may be left out only when the key belongs to a station',
    ),
    cardNo: Type.String({
      maxLength: 40,
      description: 'Fuel-card number; the top-up attaches to the card holder when the card is on file',
    }),
    amountFen: Type.Integer({ minimum: 1, description: 'Money paid onto the card, in fen' }),
    bonusFen: Opt(
      Type.Integer({ minimum: 0 }),
      'What the card system added on top (赠送), in fen; not part of the amount',
    ),
    payment: Opt(Type.Union(TOPUP_PAYMENTS.map((p) => Type.Literal(p))), 'How the top-up was paid'),
  },
  {
    additionalProperties: false,
    description:
      'One top-up. Rows are checked one by one: a bad row is reported with its number and field, the rest are stored.',
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
    description: 'Rejected rows whose key was stored (or came earlier) with other content: TOPUP_CONFLICT per field',
  }),
  attached: Type.Integer({ description: 'Inserted top-ups whose card belongs to a customer on file' }),
  errors: RowErrors,
  errorsTruncated: Type.Boolean(),
});

export function topupsRoutes(app: App, svc: TopupsService): void {
  registerIngestRoute(app, {
    url: '/api/ingest/topups',
    listField: 'topups',
    row: Row,
    lineDescription: 'One top-up object (as in the JSON form) per line',
    reply: IngestReply,
    summary: 'Send fuel-card top-ups from a card system (API key, not a session)',
    description:
      `JSON ({source, topups}) up to 1 MiB, or NDJSON (one top-up per line, source in the query) of any length, stored ` +
      `in chunks of ${TOPUP_CHUNK_ROWS}. Rows are keyed by the key's org unit, the source and externalId: re-sending a ` +
      `row changes nothing, re-sending its key with other content is refused as TOPUP_CONFLICT. Rows for stations ` +
      `outside the key's org unit are rejected; a key that does not belong to a station must name the station of each row.`,
    run: (input) => svc.ingest(input),
  });
}
