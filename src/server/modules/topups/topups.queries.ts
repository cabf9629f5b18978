// SQL of the top-ups: stations by code, card holders, the insert that skips rows on file and the
// per-station daily rollup, each a handful of statements per chunk however many rows it holds.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { bulkStatements, oneOf, type BulkColumn, type Engine } from '../../db/dialect.js';

/** One top-up as the rules see it. */
export interface TopupRow {
  /** The sender's namespace (its org unit); with source and external id, the row's key. */
  namespace: number;
  source: string;
  externalId: string;
  occurredAt: string;
  timeMs: number;
  businessDay: string;
  orgUnitId: number;
  cardNo: string;
  customerId: number | null;
  amountFen: number;
  bonusFen: number;
  payment: string | null;
}

const TOPUP_COLUMNS: BulkColumn[] = [
  { name: 'namespace', pg: 'bigint' },
  { name: 'source', pg: 'text' },
  { name: 'external_id', pg: 'text' },
  { name: 'occurred_at', pg: 'timestamptz' },
  { name: 'business_day', pg: 'text' },
  { name: 'org_unit_id', pg: 'bigint' },
  { name: 'card_no', pg: 'text' },
  { name: 'customer_id', pg: 'bigint' },
  { name: 'amount_fen', pg: 'integer' },
  { name: 'bonus_fen', pg: 'integer' },
  { name: 'payment', pg: 'text' },
  { name: 'ingest_batch_id', pg: 'bigint' },
  { name: 'created_at', pg: 'timestamptz' },
];
const INSERT_TOPUP = `insert into card_topup (${TOPUP_COLUMNS.map((c) => c.name).join(', ')}) select * from v where true
  on conflict (namespace, source, external_id) do nothing returning external_id`;

const DAY_COLUMNS: BulkColumn[] = [
  { name: 'org_unit_id', pg: 'bigint' },
  { name: 'day', pg: 'text' },
  { name: 'amount_fen', pg: 'bigint' },
  { name: 'bonus_fen', pg: 'bigint' },
  { name: 'topup_count', pg: 'integer' },
];
const UPSERT_DAY = `insert into station_day_topup (org_unit_id, day, amount_fen, bonus_fen, topup_count) select * from v where true
  on conflict (org_unit_id, day) do update set amount_fen = station_day_topup.amount_fen + excluded.amount_fen,
  bonus_fen = station_day_topup.bonus_fen + excluded.bonus_fen, topup_count = station_day_topup.topup_count + excluded.topup_count`;

export const topupsQueries = {
  /** The top-ups on file under these keys of one namespace and source, by external id. */
  async onFile(
    db: Kysely<Database>,
    engine: Engine,
    namespace: number,
    source: string,
    externalIds: string[],
  ): Promise<Map<string, TopupRow>> {
    if (externalIds.length === 0) return new Map();
    const rows = await db
      .selectFrom('card_topup')
      .select(['namespace', 'source', 'external_id', 'occurred_at', 'business_day', 'org_unit_id'])
      .select(['card_no', 'customer_id', 'amount_fen', 'bonus_fen', 'payment'])
      .where('namespace', '=', namespace)
      .where('source', '=', source)
      .where((eb) => oneOf(engine, eb.ref('external_id'), externalIds))
      .execute();
    return new Map(
      rows.map((r) => [
        r.external_id,
        {
          namespace: Number(r.namespace),
          source: r.source,
          externalId: r.external_id,
          occurredAt: r.occurred_at,
          timeMs: Date.parse(r.occurred_at),
          businessDay: r.business_day,
          orgUnitId: Number(r.org_unit_id),
          cardNo: r.card_no,
          customerId: r.customer_id === null ? null : Number(r.customer_id),
          amountFen: Number(r.amount_fen),
          bonusFen: Number(r.bonus_fen),
          payment: r.payment,
        },
      ]),
    );
  },

  /** Live customers holding these cards. */
  async cardHolders(db: Kysely<Database>, engine: Engine, cards: string[]): Promise<Map<string, number>> {
    if (cards.length === 0) return new Map();
    const rows = await db
      .selectFrom('fuel_card as f')
      .innerJoin('customer as c', 'c.id', 'f.customer_id')
      .select(['f.card_no', 'c.id'])
      .where('c.merged_into_id', 'is', null)
      .where((eb) => oneOf(engine, eb.ref('f.card_no'), cards))
      .execute();
    return new Map(rows.map((r) => [r.card_no, Number(r.id)]));
  },

  /**
   * Insert rows; those whose (namespace, source, external id) is on file are skipped. The rows share
   * one namespace and source. Returns the external ids stored now.
   */
  async insert(
    db: Kysely<Database>,
    engine: Engine,
    rows: TopupRow[],
    batchId: number | null,
    now: string,
  ): Promise<Set<string>> {
    // One order for every writer, so concurrent batches meet the unique index in the same order on PostgreSQL.
    const sorted = [...rows].sort((a, b) => (a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0));
    const values = sorted.map((r) => [
      r.namespace,
      r.source,
      r.externalId,
      r.occurredAt,
      r.businessDay,
      r.orgUnitId,
      r.cardNo,
      r.customerId,
      r.amountFen,
      r.bonusFen,
      r.payment,
      batchId,
      now,
    ]);
    const stored = new Set<string>();
    for (const q of bulkStatements(engine, TOPUP_COLUMNS, values, INSERT_TOPUP, 500)) {
      for (const r of (await db.executeQuery<{ external_id: string }>(q)).rows) stored.add(r.external_id);
    }
    return stored;
  },

  /** Add to the daily rollup: rows of [org unit, day, amount, bonus, count]. */
  async addStationDays(
    db: Kysely<Database>,
    engine: Engine,
    rows: [number, string, number, number, number][],
  ): Promise<void> {
    if (rows.length === 0) return;
    // A fixed order makes concurrent upserts on PostgreSQL lock rows in the same order.
    const sorted = [...rows].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    for (const q of bulkStatements(engine, DAY_COLUMNS, sorted, UPSERT_DAY)) await db.executeQuery(q);
  },

  /** Top-ups waiting for one of these cards get the card's live holder. Returns how many did. */
  async attachWaiting(db: Kysely<Database>, engine: Engine, cards: string[]): Promise<number> {
    if (cards.length === 0) return 0;
    const res = await db
      .updateTable('card_topup')
      .set((eb) => ({
        customer_id: eb
          .selectFrom('fuel_card as f')
          .innerJoin('customer as c', 'c.id', 'f.customer_id')
          .select('c.id')
          .whereRef('f.card_no', '=', 'card_topup.card_no')
          .where('c.merged_into_id', 'is', null),
      }))
      .where('customer_id', 'is', null)
      .where((eb) => oneOf(engine, eb.ref('card_no'), cards))
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('fuel_card as f')
            .innerJoin('customer as c', 'c.id', 'f.customer_id')
            .select('c.id')
            .whereRef('f.card_no', '=', 'card_topup.card_no')
            .where('c.merged_into_id', 'is', null),
        ),
      )
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  },
};
