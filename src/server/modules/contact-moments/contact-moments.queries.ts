// SQL of must-contact moments and the business calendar's stored overrides; rules live in the service.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { likeEscape } from '../../db/dialect.js';
import type { Principal } from '../../auth/principal.js';
import { inScope } from '../../auth/scope.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface UnitRow {
  id: number;
  parentId: number | null;
  path: string;
  timeZone: string;
  name: string;
}

export interface AffectedCustomer {
  id: number;
  orgUnitId: number;
  ownerUserId: number | null;
  label: string;
  path: string;
  timeZone: string;
}

export interface NewTask {
  customer_id: number;
  org_unit_id: number;
  moment_kind: string;
  moment_key: string;
  moment_day: string;
  price_change_id: number | null;
  weather_warning_id: number | null;
  title: string;
  assignee_user_id: number | null;
  contact_day: string;
  due_at: string;
  state: 'open';
  channel: string | null;
  created_at: string;
  updated_at: string;
}

const customerColumns = [
  'c.id',
  'c.org_unit_id',
  'c.owner_user_id',
  'c.name',
  'c.surname',
  'c.code',
  'o.path',
  'o.time_zone',
] as const;

function toAffected(r: {
  id: number;
  org_unit_id: number;
  owner_user_id: number | null;
  name: string | null;
  surname: string | null;
  code: string;
  path: string;
  time_zone: string;
}): AffectedCustomer {
  return {
    id: Number(r.id),
    orgUnitId: Number(r.org_unit_id),
    ownerUserId: r.owner_user_id === null ? null : Number(r.owner_user_id),
    label: r.name ?? (r.surname ? `${r.surname}` : r.code),
    path: r.path,
    timeZone: r.time_zone,
  };
}

export const contactQueries = {
  async units(db: Db): Promise<UnitRow[]> {
    const rows = await db.selectFrom('org_unit').select(['id', 'parent_id', 'path', 'time_zone', 'name']).execute();
    return rows.map((r) => ({
      id: Number(r.id),
      parentId: r.parent_id === null ? null : Number(r.parent_id),
      path: r.path,
      timeZone: r.time_zone,
      name: r.name,
    }));
  },

  async overrides(db: Db) {
    const rows = await db
      .selectFrom('calendar_override')
      .select(['id', 'org_unit_id', 'day', 'kind', 'name'])
      .orderBy('day')
      .execute();
    return rows.map((r) => ({ ...r, id: Number(r.id), org_unit_id: Number(r.org_unit_id) }));
  },

  async upsertOverride(db: Db, unitId: number, day: string, kind: string, name: string | null, by: number, at: string) {
    const before = await db
      .selectFrom('calendar_override')
      .select(['kind', 'name'])
      .where('org_unit_id', '=', unitId)
      .where('day', '=', day)
      .executeTakeFirst();
    await db
      .insertInto('calendar_override')
      .values({ org_unit_id: unitId, day, kind, name, created_by: by, created_at: at })
      .onConflict((oc) =>
        oc.columns(['org_unit_id', 'day']).doUpdateSet({ kind, name, created_by: by, created_at: at }),
      )
      .execute();
    return before ?? null;
  },

  async deleteOverride(db: Db, unitId: number, day: string) {
    const before = await db
      .selectFrom('calendar_override')
      .select(['kind', 'name'])
      .where('org_unit_id', '=', unitId)
      .where('day', '=', day)
      .executeTakeFirst();
    if (before)
      await db.deleteFrom('calendar_override').where('org_unit_id', '=', unitId).where('day', '=', day).execute();
    return before ?? null;
  },

  /** Active station managers by unit, lowest id first: who gets the task of a customer nobody owns. */
  async stationManagers(db: Db): Promise<Map<number, number>> {
    const rows = await db
      .selectFrom('app_user as u')
      .innerJoin('user_role as ur', 'ur.user_id', 'u.id')
      .innerJoin('role as r', 'r.id', 'ur.role_id')
      .select(['u.id', 'u.org_unit_id'])
      .where('r.code', '=', 'station_manager')
      .where('u.active', '=', 1)
      .orderBy('u.id')
      .execute();
    const out = new Map<number, number>();
    for (const r of rows) if (!out.has(Number(r.org_unit_id))) out.set(Number(r.org_unit_id), Number(r.id));
    return out;
  },

  async insertPriceChanges(
    db: Db,
    rows: {
      org_unit_id: number;
      product: string;
      old_price_fen: number;
      new_price_fen: number;
      effective_at: string;
      source: string;
      note: string | null;
      created_by: number;
      created_at: string;
    }[],
  ): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < rows.length; i += 500) {
      const out = await db
        .insertInto('price_change')
        .values(rows.slice(i, i + 500))
        .onConflict((oc) => oc.columns(['org_unit_id', 'product', 'effective_at']).doNothing())
        .returning('id')
        .execute();
      ids.push(...out.map((r) => Number(r.id)));
    }
    return ids;
  },

  listPriceChanges(db: Db, p: Principal, limit: number) {
    // Changes of the own subtree and of the units above (HQ's prices apply to a station too).
    return db
      .selectFrom('price_change as pc')
      .innerJoin('org_unit as o', 'o.id', 'pc.org_unit_id')
      .leftJoin('app_user as u', 'u.id', 'pc.created_by')
      .select([
        'pc.id',
        'pc.org_unit_id',
        'o.name as org_unit_name',
        'pc.product',
        'pc.old_price_fen',
        'pc.new_price_fen',
        'pc.effective_at',
        'pc.source',
        'pc.note',
        'u.display_name as created_by_name',
        'pc.created_at',
      ])
      .where((eb) => eb.or([inScope(p, eb.ref('pc.org_unit_id')), sql<boolean>`${p.orgPath} like o.path || '%'`]))
      .orderBy('pc.effective_at', 'desc')
      .orderBy('pc.id', 'desc')
      .limit(limit)
      .execute();
  },

  async insertWeatherWarning(
    db: Db,
    row: {
      org_unit_id: number;
      title: string;
      detail: string | null;
      route_text: string | null;
      start_day: string;
      end_day: string;
      created_by: number;
      created_at: string;
    },
  ): Promise<number> {
    const r = await db.insertInto('weather_warning').values(row).returning('id').executeTakeFirstOrThrow();
    return Number(r.id);
  },

  listWeatherWarnings(db: Db, p: Principal, limit: number) {
    return db
      .selectFrom('weather_warning as w')
      .innerJoin('org_unit as o', 'o.id', 'w.org_unit_id')
      .leftJoin('app_user as u', 'u.id', 'w.created_by')
      .select([
        'w.id',
        'w.org_unit_id',
        'o.name as org_unit_name',
        'w.title',
        'w.detail',
        'w.route_text',
        'w.start_day',
        'w.end_day',
        'u.display_name as created_by_name',
        'w.created_at',
      ])
      .where((eb) => eb.or([inScope(p, eb.ref('w.org_unit_id')), sql<boolean>`${p.orgPath} like o.path || '%'`]))
      .orderBy('w.start_day', 'desc')
      .orderBy('w.id', 'desc')
      .limit(limit)
      .execute();
  },

  /** Price changes that may still need tasks: taking effect from `fromAt` up to `toAt`. */
  pendingPriceChanges(db: Db, fromAt: string, toAt: string) {
    return db
      .selectFrom('price_change as pc')
      .innerJoin('org_unit as o', 'o.id', 'pc.org_unit_id')
      .select(['pc.id', 'pc.product', 'pc.old_price_fen', 'pc.new_price_fen', 'pc.effective_at', 'o.path'])
      .where('pc.effective_at', '>=', fromAt)
      .where('pc.effective_at', '<=', toAt)
      .execute();
  },

  /** Live customers of a subtree who bought `product` in `fromMonth` or later. */
  async buyersOf(db: Db, path: string, product: string, fromMonth: string): Promise<AffectedCustomer[]> {
    const rows = await db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .select(customerColumns)
      .where('o.path', 'like', `${likeEscape(path)}%`)
      .where('c.merged_into_id', 'is', null)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('customer_month as cm')
            .select('cm.customer_id')
            .whereRef('cm.customer_id', '=', 'c.id')
            .where('cm.product', '=', product)
            .where('cm.month', '>=', fromMonth),
        ),
      )
      .execute();
    return rows.map(toAffected);
  },

  pendingWeatherWarnings(db: Db, fromDay: string) {
    return db
      .selectFrom('weather_warning as w')
      .innerJoin('org_unit as o', 'o.id', 'w.org_unit_id')
      .select(['w.id', 'w.title', 'w.route_text', 'w.start_day', 'w.end_day', 'o.path'])
      .where('w.end_day', '>=', fromDay)
      .execute();
  },

  async customersOf(db: Db, path: string, routeText: string | null): Promise<AffectedCustomer[]> {
    let q = db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .select(customerColumns)
      .where('o.path', 'like', `${likeEscape(path)}%`)
      .where('c.merged_into_id', 'is', null);
    if (routeText)
      q = q.where(sql<boolean>`lower(c.routes) like ${`%${likeEscape(routeText.toLowerCase())}%`} escape '\\'`);
    return (await q.execute()).map(toAffected);
  },

  /** Live customers whose latest final star rating is at least `minStars`: the key customers for holidays. */
  async ratedAtLeast(db: Db, minStars: number): Promise<AffectedCustomer[]> {
    const rows = await db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .innerJoin('customer_rating as cr', 'cr.customer_id', 'c.id')
      .select(customerColumns)
      .where('c.merged_into_id', 'is', null)
      .where('cr.status', '=', 'final')
      .where('cr.stars', '>=', minStars)
      .where((eb) =>
        eb(
          'cr.period',
          '=',
          eb
            .selectFrom('customer_rating as latest')
            .select((s) => s.fn.max('latest.period').as('p'))
            .whereRef('latest.customer_id', '=', 'c.id')
            .where('latest.status', '=', 'final'),
        ),
      )
      .execute();
    return rows.map(toAffected);
  },

  /** Live customers with a birthday, a chunk at a time by id. */
  async withBirthday(db: Db, afterId: number, limit: number) {
    const rows = await db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .select([...customerColumns, 'c.birthday', 'c.birthday_calendar'])
      .where('c.merged_into_id', 'is', null)
      .where('c.birthday', 'is not', null)
      .where('c.id', '>', afterId)
      .orderBy('c.id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      ...toAffected(r),
      birthday: r.birthday!,
      calendar: r.birthday_calendar === 'lunar' ? ('lunar' as const) : ('solar' as const),
    }));
  },

  /** Inserts the tasks not on file yet; returns those it inserted. */
  async insertTasks(db: Db, rows: NewTask[]) {
    const out: { id: number; customer_id: number; key: string }[] = [];
    for (let i = 0; i < rows.length; i += 500) {
      const inserted = await db
        .insertInto('contact_task')
        .values(rows.slice(i, i + 500))
        .onConflict((oc) => oc.columns(['moment_key', 'customer_id']).doNothing())
        .returning(['id', 'customer_id', 'moment_key'])
        .execute();
      out.push(...inserted.map((r) => ({ id: Number(r.id), customer_id: Number(r.customer_id), key: r.moment_key })));
    }
    return out;
  },

  taskSelect(db: Db) {
    return db
      .selectFrom('contact_task as t')
      .innerJoin('customer as c', 'c.id', 't.customer_id')
      .innerJoin('org_unit as o', 'o.id', 't.org_unit_id')
      .leftJoin('app_user as a', 'a.id', 't.assignee_user_id')
      .leftJoin('app_user as d', 'd.id', 't.done_by')
      .select([
        't.id',
        't.customer_id',
        'c.code as customer_code',
        'c.name as customer_name',
        'c.surname as customer_surname',
        't.org_unit_id',
        'o.name as org_unit_name',
        't.moment_kind',
        't.moment_day',
        't.title',
        't.assignee_user_id',
        'a.display_name as assignee_name',
        't.contact_day',
        't.due_at',
        't.state',
        't.channel',
        't.outbox_message_id',
        't.outcome',
        't.note',
        'd.display_name as done_by_name',
        't.done_at',
        't.created_at',
      ]);
  },

  async taskById(db: Db, id: number) {
    return contactQueries.taskSelect(db).where('t.id', '=', id).executeTakeFirst();
  },

  async completeTask(db: Db, id: number, outcome: string, note: string | null, by: number, at: string) {
    const r = await db
      .updateTable('contact_task')
      .set({ state: 'done', outcome, note, done_by: by, done_at: at, updated_at: at })
      .where('id', '=', id)
      .where('state', '=', 'open')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
};
