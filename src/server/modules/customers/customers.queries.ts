import { sql, type Kysely, type Selectable } from 'kysely';
import type { CustomerTable, Database } from '../../db/schema.js';
import type { Principal } from '../../auth/principal.js';
import { inCustomerScope } from '../../auth/scope.js';
import { ilike, likeEscape, plateContains, prefixRange, type Engine } from '../../db/dialect.js';

export type CustomerRow = Selectable<CustomerTable>;

export interface CustomerFilter {
  q?: string;
  plate?: string;
  phone?: string;
  card?: string;
  code?: string;
  tag?: string;
  kind?: string;
  ownerUserId?: number;
  orgUnitId?: number;
  lookAfter?: boolean;
  sort: 'code' | 'name' | 'lastVisitAt' | 'createdAt';
  order: 'asc' | 'desc';
  page: number;
  pageSize: number;
}

/** Matches counted at most; past it the list's total is "at least". */
export const SEARCH_COUNT_LIMIT = 10_000;

const SORT_COLUMN = {
  code: 'c.code',
  name: 'c.name',
  lastVisitAt: 'c.last_visit_at',
  createdAt: 'c.created_at',
} as const;

/** Vehicle ids whose plate contains `key`, through the engine's substring index (never a scan). */
export function vehiclesMatching(db: Kysely<Database>, engine: Engine, key: string) {
  if (key.length >= 3) return plateContains(db, engine, key);
  // Two characters are too few for a trigram: match them at the start or the end of the plate.
  const reversed = [...key].reverse().join('');
  return db
    .selectFrom('vehicle')
    .select('id')
    .where((eb) =>
      eb.or([prefixRange(engine, eb.ref('plate'), key), prefixRange(engine, eb.ref('plate_reversed'), reversed)]),
    );
}

export type SearchFilter = Omit<CustomerFilter, 'page' | 'pageSize'> & {
  normalizedPlate?: string;
  normalizedPhone?: string;
  qPlate?: string;
  qPhone?: string;
};

/** The live customers of the principal's scope that match the filter, unsorted and unpaged. */
function matching(db: Kysely<Database>, engine: Engine, p: Principal, f: SearchFilter) {
  let q = db
    .selectFrom('customer as c')
    .where('c.merged_into_id', 'is', null)
    .where((eb) => inCustomerScope(p, eb.ref('c.org_unit_id')));
  if (f.orgUnitId)
    q = q.where(
      'c.org_unit_id',
      'in',
      db
        .selectFrom('org_unit as sub')
        .select('sub.id')
        .where(
          'sub.path',
          'like',
          db
            .selectFrom('org_unit as top')
            .select(sql<string>`top.path || '%'`.as('p'))
            .where('top.id', '=', f.orgUnitId),
        ),
    );
  if (f.kind) q = q.where('c.kind', '=', f.kind);
  if (f.ownerUserId) q = q.where('c.owner_user_id', '=', f.ownerUserId);
  if (f.lookAfter !== undefined) q = q.where('c.look_after', '=', f.lookAfter ? 1 : 0);
  if (f.code) q = q.where('c.code', '=', f.code);
  if (f.tag) q = q.where('c.id', 'in', db.selectFrom('customer_tag').select('customer_id').where('tag', '=', f.tag));
  if (f.card) q = q.where('c.id', 'in', db.selectFrom('fuel_card').select('customer_id').where('card_no', '=', f.card));
  if (f.normalizedPhone)
    q = q.where(
      'c.id',
      'in',
      db.selectFrom('customer_phone').select('customer_id').where('phone', '=', f.normalizedPhone),
    );
  if (f.normalizedPlate)
    q = q.where(
      'c.id',
      'in',
      db
        .selectFrom('vehicle')
        .select('customer_id')
        .where('id', 'in', vehiclesMatching(db, engine, f.normalizedPlate)),
    );
  if (f.q) {
    const text = f.q;
    q = q.where((eb) =>
      eb.or([
        ilike(engine, eb.ref('c.name'), `%${likeEscape(text)}%`),
        ilike(engine, eb.ref('c.organisation'), `%${likeEscape(text)}%`),
        eb('c.code', '=', text),
        eb('c.id', 'in', db.selectFrom('fuel_card').select('customer_id').where('card_no', '=', text)),
        ...(f.qPhone
          ? [eb('c.id', 'in', db.selectFrom('customer_phone').select('customer_id').where('phone', '=', f.qPhone))]
          : []),
        ...(f.qPlate && f.qPlate.length >= 2
          ? [
              eb(
                'c.id',
                'in',
                db
                  .selectFrom('vehicle')
                  .select('customer_id')
                  .where('id', 'in', vehiclesMatching(db, engine, f.qPlate)),
              ),
            ]
          : []),
      ]),
    );
  }
  return q;
}

export const customersQueries = {
  byId: (db: Kysely<Database>, id: number) =>
    db.selectFrom('customer').selectAll().where('id', '=', id).executeTakeFirst(),

  async search(
    db: Kysely<Database>,
    engine: Engine,
    p: Principal,
    f: SearchFilter & { page: number; pageSize: number },
  ) {
    const q = matching(db, engine, p, f);
    // Counted up to a bound: an area holds hundreds of thousands of customers, and a page of a list
    // that long says "10,000+" rather than reading every match to give the exact figure.
    const counted = Number(
      (
        await db
          .selectFrom(
            q
              .select(sql`1`.as('one'))
              .limit(SEARCH_COUNT_LIMIT + 1)
              .as('m'),
          )
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
    const totalIsLowerBound = counted > SEARCH_COUNT_LIMIT;
    const total = totalIsLowerBound ? SEARCH_COUNT_LIMIT : counted;
    const rows = await q
      .selectAll('c')
      .orderBy(sql.ref(SORT_COLUMN[f.sort]), f.order)
      .orderBy('c.id', f.order)
      .limit(f.pageSize)
      .offset((f.page - 1) * f.pageSize)
      .execute();
    return { total, totalIsLowerBound, rows };
  },

  /**
   * The ids of every match in the list's order, up to `limit`: an export sorts once and then reads the
   * rows by id, where paging by offset sorted the whole match again for every page.
   */
  async matchingIds(
    db: Kysely<Database>,
    engine: Engine,
    p: Principal,
    f: SearchFilter,
    limit: number,
  ): Promise<number[]> {
    const rows = await matching(db, engine, p, f)
      .select('c.id')
      .orderBy(sql.ref(SORT_COLUMN[f.sort]), f.order)
      .orderBy('c.id', f.order)
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  },

  /** Customer rows by id, in the order of `ids`. */
  async byIds(db: Kysely<Database>, ids: number[]): Promise<CustomerRow[]> {
    if (ids.length === 0) return [];
    const rows = await db.selectFrom('customer').selectAll().where('id', 'in', ids).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id)).filter((r): r is CustomerRow => r !== undefined);
  },

  async children(db: Kysely<Database>, ids: number[]) {
    if (ids.length === 0) return { phones: [], vehicles: [], cards: [], tags: [] };
    const [phones, vehicles, cards, tags] = await Promise.all([
      db.selectFrom('customer_phone').selectAll().where('customer_id', 'in', ids).orderBy('id').execute(),
      db.selectFrom('vehicle').selectAll().where('customer_id', 'in', ids).orderBy('id').execute(),
      db.selectFrom('fuel_card').selectAll().where('customer_id', 'in', ids).orderBy('id').execute(),
      db.selectFrom('customer_tag').selectAll().where('customer_id', 'in', ids).orderBy('tag').execute(),
    ]);
    return { phones, vehicles, cards, tags };
  },

  /** Live customers (any org unit) holding one of these plates, phones or cards. */
  async holders(db: Kysely<Database>, plates: string[], phones: string[], cards: string[], exceptId?: number) {
    const out: { customerId: number; on: 'plate' | 'phone' | 'card'; value: string }[] = [];
    const live = (q: any) => (exceptId ? q.where('c.id', '!=', exceptId) : q).where('c.merged_into_id', 'is', null);
    if (plates.length)
      for (const r of await live(
        db
          .selectFrom('vehicle as v')
          .innerJoin('customer as c', 'c.id', 'v.customer_id')
          .select(['c.id', 'v.plate as value'])
          .where('v.plate', 'in', plates),
      ).execute())
        out.push({ customerId: r.id, on: 'plate', value: r.value });
    if (phones.length)
      for (const r of await live(
        db
          .selectFrom('customer_phone as v')
          .innerJoin('customer as c', 'c.id', 'v.customer_id')
          .select(['c.id', 'v.phone as value'])
          .where('v.phone', 'in', phones),
      ).execute())
        out.push({ customerId: r.id, on: 'phone', value: r.value });
    if (cards.length)
      for (const r of await live(
        db
          .selectFrom('fuel_card as v')
          .innerJoin('customer as c', 'c.id', 'v.customer_id')
          .select(['c.id', 'v.card_no as value'])
          .where('v.card_no', 'in', cards),
      ).execute())
        out.push({ customerId: r.id, on: 'card', value: r.value });
    return out;
  },

  async duplicateGroups(db: Kysely<Database>, p: Principal, limit: number) {
    const plates = await db
      .selectFrom('vehicle as v')
      .innerJoin('customer as c', 'c.id', 'v.customer_id')
      .select(['v.plate as value', (eb) => eb.fn.count<number>('c.id').distinct().as('n')])
      .where('c.merged_into_id', 'is', null)
      .where((eb) => inCustomerScope(p, eb.ref('c.org_unit_id')))
      .groupBy('v.plate')
      .having((eb) => eb.fn.count('c.id').distinct(), '>', 1)
      .limit(limit)
      .execute();
    const phones = await db
      .selectFrom('customer_phone as v')
      .innerJoin('customer as c', 'c.id', 'v.customer_id')
      .select(['v.phone as value', (eb) => eb.fn.count<number>('c.id').distinct().as('n')])
      .where('c.merged_into_id', 'is', null)
      .where((eb) => inCustomerScope(p, eb.ref('c.org_unit_id')))
      .groupBy('v.phone')
      .having((eb) => eb.fn.count('c.id').distinct(), '>', 1)
      .limit(limit)
      .execute();
    return { plates: plates.map((r) => r.value), phones: phones.map((r) => r.value) };
  },

  async visits(db: Kysely<Database>, customerId: number, limit: number) {
    return db
      .selectFrom('visit as v')
      .leftJoin('app_user as u', 'u.id', 'v.user_id')
      .leftJoin('org_unit as o', 'o.id', 'v.org_unit_id')
      .leftJoin('vehicle as veh', 'veh.id', 'v.vehicle_id')
      .select([
        'v.id',
        'v.at',
        'v.product',
        'v.volume_ml',
        'v.note',
        'u.display_name as user_name',
        'o.name as org_unit_name',
        'veh.plate',
      ])
      .where('v.customer_id', '=', customerId)
      .orderBy('v.at', 'desc')
      .limit(limit)
      .execute();
  },

  /** Each customer's latest rating of a finalised batch (a rating under review is not yet his). */
  async latestFinalRatings(db: Kysely<Database>, ids: number[]) {
    if (ids.length === 0) return new Map<number, { period: string; stars: number; class: string | null }>();
    const rows = await db
      .selectFrom('customer_rating as r')
      .innerJoin('rating_batch as b', 'b.id', 'r.batch_id')
      .select(['r.customer_id', 'r.period', 'r.stars', 'r.class'])
      .where('r.customer_id', 'in', ids)
      .where('b.status', '=', 'final')
      .orderBy('r.customer_id')
      .orderBy('r.period', 'desc')
      .execute();
    const out = new Map<number, { period: string; stars: number; class: string | null }>();
    for (const r of rows)
      if (!out.has(r.customer_id)) out.set(r.customer_id, { period: r.period, stars: r.stars, class: r.class });
    return out;
  },

  /** Advance the prefix's counter by `count`; returns the last value reserved. */
  async reserveSequence(db: Kysely<Database>, prefix: string, count: number): Promise<number> {
    const row = await db
      .insertInto('code_sequence')
      .values({ prefix, last_value: count })
      .onConflict((oc) => oc.column('prefix').doUpdateSet({ last_value: sql`code_sequence.last_value + ${count}` }))
      .returning('last_value')
      .executeTakeFirstOrThrow();
    return Number(row.last_value);
  },
};
