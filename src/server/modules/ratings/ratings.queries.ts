// SQL of the monthly star rating: batches, their customers' ratings, final-star histories and the
// messages that tell customers. No rules here; those live in the service and src/domain.
import { sql, type Kysely, type SqlBool, type Updateable } from 'kysely';
import type { Database, RatingBatchTable } from '../../db/schema.js';
import { engineOf, ilike, likeEscape, oneOf, sqliteStatement } from '../../db/dialect.js';
import type { Principal } from '../../auth/principal.js';
import type { ClassesPolicy, StarRatingPolicy, StarThresholds } from '../../../domain/policies.js';
import { inScope } from '../../auth/scope.js';

type Db = Kysely<Database>;

export interface RatingUnitRow {
  id: number;
  name: string;
  path: string;
}

export interface CustomerFigureRow {
  id: number;
  kind: string;
  volumeMl: number;
  amountFen: number;
}

export interface NewRating {
  batch_id: number;
  customer_id: number;
  period: string;
  computed_stars: number;
  stars: number;
  class: string | null;
  basis_volume_ml: number;
  basis_amount_fen: number;
  status: string;
  benefits: string | null;
  note: string | null;
  updated_at: string;
}

export interface NewOutbox {
  customer_id: number;
  channel: string;
  template: string;
  payload: string;
  dedupe_key: string;
  status: string;
  created_at: string;
}

// 13 columns a row: well inside SQLite's parameter limit.
const INSERT_CHUNK = 500;
const RATING_COLUMNS = [
  'batch_id',
  'customer_id',
  'period',
  'computed_stars',
  'stars',
  'class',
  'basis_volume_ml',
  'basis_amount_fen',
  'status',
  'benefits',
  'note',
  'updated_at',
] as const;
const INSERT_RATING_ROW = `insert into customer_rating (${RATING_COLUMNS.join(', ')}) values (${RATING_COLUMNS.map(() => '?').join(', ')}) on conflict (customer_id, period) do nothing`;

const batchColumns = [
  'b.id',
  'b.period',
  'b.org_unit_id',
  'o.name as org_unit_name',
  'o.path as org_path',
  'b.status',
  'b.policy_version_id',
  'b.computed_at',
  'b.proposed_at',
  'b.low_approved_at',
  'b.high_reviewed_at',
  'b.high_approved_at',
  'b.finalized_at',
  'b.note',
  'pu.display_name as proposed_by_name',
  'lu.display_name as low_approved_by_name',
  'hu.display_name as high_reviewed_by_name',
  'fu.display_name as high_approved_by_name',
] as const;

function batchesBase(db: Db) {
  return db
    .selectFrom('rating_batch as b')
    .innerJoin('org_unit as o', 'o.id', 'b.org_unit_id')
    .leftJoin('app_user as pu', 'pu.id', 'b.proposed_by')
    .leftJoin('app_user as lu', 'lu.id', 'b.low_approved_by')
    .leftJoin('app_user as hu', 'hu.id', 'b.high_reviewed_by')
    .leftJoin('app_user as fu', 'fu.id', 'b.high_approved_by');
}

/** Each live customer of `path` (less `excluded`) with his volume and amount of `month`: what the rating reads. */
function monthFigures(db: Db, path: string, excluded: readonly string[], month: string) {
  let q = db
    .selectFrom('customer as c')
    .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
    .leftJoin('customer_month as m', (j) => j.onRef('m.customer_id', '=', 'c.id').on('m.month', '=', month))
    .select([
      'c.id',
      'c.kind',
      (eb) => eb.fn.coalesce(eb.fn.sum<number>('m.volume_ml'), sql<number>`0`).as('volume_ml'),
      (eb) => eb.fn.coalesce(eb.fn.sum<number>('m.amount_fen'), sql<number>`0`).as('amount_fen'),
    ])
    .where('c.merged_into_id', 'is', null)
    .where(sql<SqlBool>`o.path like ${`${likeEscape(path)}%`} escape '\\'`);
  for (const x of excluded) q = q.where(sql<SqlBool>`o.path not like ${`${likeEscape(x)}%`} escape '\\'`);
  return q.groupBy(['c.id', 'c.kind']);
}

export const ratingsQueries = {
  /** Units that get a batch: every branch, or the top unit of a company without branches. */
  async ratingUnits(db: Db): Promise<RatingUnitRow[]> {
    const branches = await db
      .selectFrom('org_unit')
      .select(['id', 'name', 'path'])
      .where('kind_code', '=', 'branch')
      .orderBy('path')
      .execute();
    if (branches.length > 0) return branches;
    return db
      .selectFrom('org_unit')
      .select(['id', 'name', 'path'])
      .where('parent_id', 'is', null)
      .orderBy('id')
      .execute();
  },

  /** The time zone of the company: its top unit's. */
  async companyTimeZone(db: Db): Promise<string> {
    const row = await db
      .selectFrom('org_unit')
      .select('time_zone')
      .where('parent_id', 'is', null)
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return row?.time_zone ?? 'Asia/Shanghai';
  },

  /** Live customers under `path` (but not under `excluded` sub-paths) with their purchases in `month`, over all products. */
  async customerFigures(
    db: Db,
    path: string,
    excluded: readonly string[],
    month: string,
  ): Promise<CustomerFigureRow[]> {
    const rows = await monthFigures(db, path, excluded, month).orderBy('c.id').execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      volumeMl: Number(r.volume_ml),
      amountFen: Number(r.amount_fen),
    }));
  },

  /**
   * PostgreSQL: rate the customers of `path` (less `excluded`) for `month` into batch `batchId` with
   * one `insert … select`, nothing read into the process (a million ratings are 250,000 a branch);
   * a customer already rated for the month in another unit's batch keeps that rating, as with
   * insertRatings. The stars and class are `starsFor` and `classFor` (src/domain/policies.ts) of
   * the policy's figures, written as CASE expressions over the same thresholds in the same float8
   * arithmetic. Returns how many customers got 0–4 stars.
   */
  async rateInPlace(
    db: Db,
    o: {
      batchId: number;
      month: string;
      path: string;
      excluded: readonly string[];
      policy: StarRatingPolicy;
      classes: ClassesPolicy;
      at: string;
    },
  ): Promise<number[]> {
    const figure = o.policy.basis === 'amount' ? sql`f.amount_fen::float8 / 100` : sql`f.volume_ml::float8 / 1000`;
    const ladder = (t: StarThresholds) =>
      sql`case ${sql.join(
        [3, 2, 1, 0].map((i) => sql`when ${figure} >= ${t[i]!}::float8 then ${sql.lit(i + 1)}`),
        sql` `,
      )} else 0 end`;
    const kinds = Object.entries(o.policy.thresholds).filter(
      (e): e is [string, StarThresholds] => e[0] !== 'default' && e[1] !== undefined,
    );
    const stars = kinds.length
      ? sql`case ${sql.join(
          kinds.map(([kind, t]) => sql`when f.kind = ${kind}::text then ${ladder(t)}`),
          sql` `,
        )} else ${ladder(o.policy.thresholds.default)} end`
      : ladder(o.policy.thresholds.default);
    const best = [...o.classes.classes].sort((a, b) => b.minStars - a.minStars);
    const klass = best.length
      ? sql`case ${sql.join(
          best.map((c) => sql`when s.stars >= ${c.minStars}::int then ${c.code}::text`),
          sql` `,
        )} else null end`
      : sql`null`;
    // A branch's quarter of a million customers is summed by hash and sorted by id for the insert:
    // with the default 4 MB both went to disk (16 partitions, a 17.5 MB external merge). For this
    // transaction only; the caller's is the compute's.
    await sql`set local work_mem = '64MB'`.execute(db);
    const rows = await sql<{ stars: number; n: number }>`
      with f as (${monthFigures(db, o.path, o.excluded, o.month)}),
      s as (select f.id, f.volume_ml, f.amount_fen, ${stars} as stars from f),
      ins as (
        insert into customer_rating (${sql.raw(RATING_COLUMNS.join(', '))})
        select ${o.batchId}::bigint, s.id, ${o.month}::text, s.stars, s.stars, ${klass}, s.volume_ml, s.amount_fen, 'computed', null, null, ${o.at}::timestamptz
        from s order by s.id
        on conflict (customer_id, period) do nothing
      )
      select s.stars, count(*)::int as n from s group by s.stars`.execute(db);
    const out = [0, 0, 0, 0, 0];
    for (const r of rows.rows) out[Number(r.stars)] = Number(r.n);
    return out;
  },

  /** Create the batch unless it exists; true when it was created now. */
  async ensureBatch(db: Db, period: string, orgUnitId: number, at: string): Promise<boolean> {
    const r = await db
      .insertInto('rating_batch')
      .values({ period, org_unit_id: orgUnitId, status: 'computed', policy_version_id: null, computed_at: at })
      .onConflict((oc) => oc.columns(['period', 'org_unit_id']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  },

  /** Mark the batch recomputed if it is still open for that; undefined when the branch has proposed it already. */
  async reopenForCompute(
    db: Db,
    period: string,
    orgUnitId: number,
    policyVersionId: number | null,
    at: string,
  ): Promise<{ id: number } | undefined> {
    return db
      .updateTable('rating_batch')
      .set({ computed_at: at, policy_version_id: policyVersionId })
      .where('period', '=', period)
      .where('org_unit_id', '=', orgUnitId)
      .where('status', '=', 'computed')
      .returning('id')
      .executeTakeFirst();
  },

  async batchIdOf(db: Db, period: string, orgUnitId: number) {
    return db
      .selectFrom('rating_batch')
      .select(['id', 'status'])
      .where('period', '=', period)
      .where('org_unit_id', '=', orgUnitId)
      .executeTakeFirst();
  },

  async deleteRatings(db: Db, batchId: number): Promise<number> {
    const r = await db.deleteFrom('customer_rating').where('batch_id', '=', batchId).executeTakeFirst();
    return Number(r.numDeletedRows);
  },

  /**
   * SQLite, inside the compute's transaction: insert ratings one prepared statement a row (as the
   * ingest writes its rows; multi-row statements cost more per row there). A customer already rated
   * for the month in another unit's batch keeps that rating. PostgreSQL rates with rateInPlace.
   */
  insertRatings(db: Db, rows: readonly NewRating[]): void {
    const stmt = sqliteStatement(db, INSERT_RATING_ROW);
    for (const r of rows) stmt.run(...RATING_COLUMNS.map((c) => r[c]));
  },

  async batch(db: Db, id: number) {
    return batchesBase(db).select(batchColumns).where('b.id', '=', id).executeTakeFirst();
  },

  async listBatches(db: Db, p: Principal, period: string | undefined) {
    let q = batchesBase(db)
      .select(batchColumns)
      .where(inScope(p, sql.ref('b.org_unit_id')));
    if (period) q = q.where('b.period', '=', period);
    return q.orderBy('b.period', 'desc').orderBy('o.path').limit(500).execute();
  },

  /** Customers per star count of each batch. */
  async distributions(db: Db, batchIds: readonly number[]): Promise<Map<number, number[]>> {
    const out = new Map<number, number[]>();
    if (batchIds.length === 0) return out;
    const rows = await db
      .selectFrom('customer_rating')
      .select(['batch_id', 'stars', (eb) => eb.fn.countAll<number>().as('n')])
      .where(oneOf(engineOf(db), sql.ref('batch_id'), batchIds))
      .groupBy(['batch_id', 'stars'])
      .execute();
    for (const id of batchIds) out.set(id, [0, 0, 0, 0, 0]);
    for (const r of rows) {
      const d = out.get(r.batch_id)!;
      d[Math.max(0, Math.min(4, r.stars))]! += Number(r.n);
    }
    return out;
  },

  async adjustedCount(db: Db, batchId: number): Promise<number> {
    const { n } = await db
      .selectFrom('customer_rating')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('batch_id', '=', batchId)
      .whereRef('stars', '!=', 'computed_stars')
      .executeTakeFirstOrThrow();
    return Number(n);
  },

  async totals(db: Db, batchId: number) {
    const row = await db
      .selectFrom('customer_rating')
      .select((eb) => [
        eb.fn.coalesce(eb.fn.sum<number>('basis_volume_ml'), sql<number>`0`).as('volume_ml'),
        eb.fn.coalesce(eb.fn.sum<number>('basis_amount_fen'), sql<number>`0`).as('amount_fen'),
      ])
      .where('batch_id', '=', batchId)
      .executeTakeFirstOrThrow();
    return { volumeMl: Number(row.volume_ml), amountFen: Number(row.amount_fen) };
  },

  /** A page of a batch's ratings; `text` matches part of the customer's name, organisation or code. */
  async ratingsPage(db: Db, batchId: number, f: { stars?: number; text?: string }, page: number, pageSize: number) {
    let base = db
      .selectFrom('customer_rating as r')
      .innerJoin('customer as c', 'c.id', 'r.customer_id')
      .where('r.batch_id', '=', batchId);
    if (f.stars !== undefined) base = base.where('r.stars', '=', f.stars);
    if (f.text) {
      const pattern = `%${likeEscape(f.text)}%`;
      const engine = engineOf(db);
      base = base.where((eb) =>
        eb.or([
          ilike(engine, eb.ref('c.name'), pattern),
          ilike(engine, eb.ref('c.organisation'), pattern),
          ilike(engine, eb.ref('c.code'), pattern),
        ]),
      );
    }
    const { n } = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await base
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .select([
        'r.customer_id',
        'c.code',
        'c.name',
        'c.kind',
        'o.name as org_unit_name',
        'r.computed_stars',
        'r.stars',
        'r.class',
        'r.basis_volume_ml',
        'r.basis_amount_fen',
        'r.status',
        'r.benefits',
        'r.note',
      ])
      .orderBy('r.stars', 'desc')
      .orderBy('r.basis_volume_ml', 'desc')
      .orderBy('r.customer_id')
      .limit(pageSize)
      .offset((page - 1) * pageSize)
      .execute();
    return { total: Number(n), rows };
  },

  async ratingsOf(db: Db, batchId: number, customerIds?: readonly number[]) {
    let q = db
      .selectFrom('customer_rating as r')
      .innerJoin('customer as c', 'c.id', 'r.customer_id')
      .select([
        'r.customer_id',
        'c.kind',
        'r.stars',
        'r.computed_stars',
        'r.class',
        'r.basis_volume_ml',
        'r.basis_amount_fen',
        'r.note',
      ])
      .where('r.batch_id', '=', batchId);
    if (customerIds) {
      if (customerIds.length === 0) return [];
      q = q.where(oneOf(engineOf(db), sql.ref('r.customer_id'), customerIds));
    }
    return q.orderBy('r.customer_id').execute();
  },

  async setStars(
    db: Db,
    batchId: number,
    customerId: number,
    stars: number,
    cls: string | null,
    note: string,
    at: string,
  ): Promise<void> {
    await db
      .updateTable('customer_rating')
      .set({ stars, class: cls, note, updated_at: at })
      .where('batch_id', '=', batchId)
      .where('customer_id', '=', customerId)
      .execute();
  },

  /** Move a batch on from `from`, stamping who and when; undefined when it was not in `from` (someone else moved it first). */
  async transition(db: Db, id: number, from: string, set: Updateable<RatingBatchTable>) {
    return db
      .updateTable('rating_batch')
      .set(set)
      .where('id', '=', id)
      .where('status', '=', from)
      .returning('id')
      .executeTakeFirst();
  },

  /** Final stars of this batch's customers in `months`, from any unit's batch. */
  async finalStars(db: Db, batchId: number, months: readonly string[]): Promise<Map<number, Map<string, number>>> {
    const out = new Map<number, Map<string, number>>();
    if (months.length === 0) return out;
    const rows = await db
      .selectFrom('customer_rating as h')
      .innerJoin('customer_rating as r', 'r.customer_id', 'h.customer_id')
      .select(['h.customer_id', 'h.period', 'h.stars'])
      .where('r.batch_id', '=', batchId)
      .where('h.status', '=', 'final')
      .where(oneOf(engineOf(db), sql.ref('h.period'), months))
      .execute();
    for (const r of rows) {
      let m = out.get(r.customer_id);
      if (!m) out.set(r.customer_id, (m = new Map()));
      m.set(r.period, r.stars);
    }
    return out;
  },

  async finalizeRatings(
    db: Db,
    batchId: number,
    customerIds: readonly number[],
    benefits: string,
    at: string,
  ): Promise<void> {
    if (customerIds.length === 0) return;
    await db
      .updateTable('customer_rating')
      .set({ status: 'final', benefits, updated_at: at })
      .where('batch_id', '=', batchId)
      .where(oneOf(engineOf(db), sql.ref('customer_id'), customerIds))
      .execute();
  },

  /** Queue messages; a dedupe key already queued is left as it is, so a re-run never sends twice. */
  async queueMessages(db: Db, rows: readonly NewOutbox[]): Promise<number> {
    let queued = 0;
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const r = await db
        .insertInto('outbox_message')
        .values(rows.slice(i, i + INSERT_CHUNK).map((m) => ({ ...m, sent_at: null, error: null })))
        .onConflict((oc) => oc.column('dedupe_key').doNothing())
        .executeTakeFirst();
      queued += Number(r.numInsertedOrUpdatedRows ?? 0);
    }
    return queued;
  },

  async policyBody(db: Db, versionId: number): Promise<string | null> {
    return (
      (await db.selectFrom('policy_version').select('body').where('id', '=', versionId).executeTakeFirst())?.body ??
      null
    );
  },

  async customerHistory(db: Db, customerId: number) {
    return db
      .selectFrom('customer_rating as r')
      .innerJoin('rating_batch as b', 'b.id', 'r.batch_id')
      .select([
        'r.period',
        'r.batch_id',
        'b.status as batch_status',
        'r.computed_stars',
        'r.stars',
        'r.class',
        'r.basis_volume_ml',
        'r.basis_amount_fen',
        'r.status',
        'r.benefits',
        'r.note',
      ])
      .where('r.customer_id', '=', customerId)
      .orderBy('r.period', 'desc')
      .limit(60)
      .execute();
  },

  async customerUnit(db: Db, id: number): Promise<number | null> {
    return (
      (await db.selectFrom('customer').select('org_unit_id').where('id', '=', id).executeTakeFirst())?.org_unit_id ??
      null
    );
  },
};

export type BatchRow = NonNullable<Awaited<ReturnType<(typeof ratingsQueries)['batch']>>>;
