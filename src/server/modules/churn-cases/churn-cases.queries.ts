// SQL of churn cases: the case with its trail and exit survey, the kinds of loss and survey reasons,
// the people who may be sent for a second attempt, the win-back check and the loss rate's counts.
// Every read of cases is cut to the principal's subtree here.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Principal } from '../../auth/principal.js';
import { inScope } from '../../auth/scope.js';
import { oneOf, prefixRange, type Engine } from '../../db/dialect.js';
import { LIVE_STATES } from '../../../domain/churn-case-workflow.js';

export interface CaseFilter {
  state?: string;
  /** Cases whose second attempt is mine. */
  mine?: boolean;
  /** The unit's subtree (already checked against the principal's scope). */
  unitPath?: string;
  lostMonth?: string;
  customerId?: number;
  alertIds?: number[];
  page: number;
  pageSize: number;
}

export interface NewCase {
  customerId: number;
  orgUnitId: number;
  alertId: number;
  category: string;
  lossKindCode: string;
  state: string;
  note: string;
  baselineDay: string | null;
  openedBy: number;
  at: string;
  lost: { at: string; day: string; month: string } | null;
}

export type CaseChanges = Partial<{
  state: string;
  report_text: string;
  reported_by: number;
  reported_at: string;
  assignee_user_id: number;
  due_day: string;
  assigned_by: number;
  assigned_at: string;
  outcome_note: string;
  outcome_by: number;
  outcome_at: string;
  lost_at: string;
  lost_day: string;
  lost_month: string;
  won_back_at: string;
  won_back_day: string;
  won_back_txn_id: number | null;
}>;

const n = (v: unknown) => Number(v ?? 0);

function cases(db: Kysely<Database>, p: Principal | null) {
  return db
    .selectFrom('churn_case as k')
    .innerJoin('customer as c', 'c.id', 'k.customer_id')
    .innerJoin('org_unit as o', 'o.id', 'k.org_unit_id')
    .innerJoin('churn_loss_kind as lk', 'lk.code', 'k.loss_kind_code')
    .leftJoin('exit_survey as s', 's.case_id', 'k.id')
    .leftJoin('churn_reason as r', 'r.code', 's.reason_code')
    .leftJoin('app_user as ob', 'ob.id', 'k.opened_by')
    .leftJoin('app_user as rb', 'rb.id', 'k.reported_by')
    .leftJoin('app_user as asg', 'asg.id', 'k.assignee_user_id')
    .leftJoin('app_user as ab', 'ab.id', 'k.assigned_by')
    .leftJoin('app_user as ub', 'ub.id', 'k.outcome_by')
    .leftJoin('app_user as sb', 'sb.id', 's.recorded_by')
    .$if(p !== null, (q) => q.where(inScope(p!, sql.ref('k.org_unit_id'))));
}

function withColumns(q: ReturnType<typeof cases>) {
  return q.select((eb) => [
    'k.id',
    'k.state',
    'k.category',
    'k.loss_kind_code',
    'lk.name_zh as loss_kind_zh',
    'lk.name_en as loss_kind_en',
    'k.note',
    'k.alert_id',
    'k.baseline_day',
    'k.opened_at',
    'ob.display_name as opened_by_name',
    'k.report_text',
    'k.reported_at',
    'rb.display_name as reported_by_name',
    'k.assignee_user_id',
    'asg.display_name as assignee_name',
    'k.due_day',
    'k.assigned_at',
    'ab.display_name as assigned_by_name',
    'k.outcome_note',
    'k.outcome_at',
    'ub.display_name as outcome_by_name',
    'k.lost_at',
    'k.lost_day',
    'k.lost_month',
    'k.won_back_at',
    'k.won_back_day',
    'k.updated_at',
    'k.version',
    'k.org_unit_id',
    'o.name as org_unit_name',
    'o.path as org_path',
    'o.time_zone',
    'c.id as customer_id',
    'c.code',
    'c.kind as customer_kind',
    'c.name',
    'c.surname',
    'c.gender',
    'c.organisation',
    'c.last_visit_day',
    's.reason_code',
    'r.name_zh as reason_zh',
    'r.name_en as reason_en',
    's.free_text',
    's.recorded_at as survey_at',
    'sb.display_name as survey_by_name',
    eb
      .selectFrom('vehicle as v')
      .select('v.plate')
      .whereRef('v.customer_id', '=', 'c.id')
      .orderBy('v.id')
      .limit(1)
      .as('plate'),
  ]);
}

export type CaseRow = Awaited<ReturnType<ReturnType<typeof withColumns>['executeTakeFirstOrThrow']>>;

export const churnCasesQueries = {
  async lossKinds(db: Kysely<Database>) {
    return db.selectFrom('churn_loss_kind').selectAll().orderBy('sort').orderBy('code').execute();
  },

  async reasons(db: Kysely<Database>) {
    return db.selectFrom('churn_reason').selectAll().orderBy('sort').orderBy('code').execute();
  },

  async upsertLossKind(
    db: Kysely<Database>,
    k: { code: string; category: string; nameZh: string; nameEn: string; sort: number; active: boolean },
  ) {
    const values = { name_zh: k.nameZh, name_en: k.nameEn, sort: k.sort, active: k.active ? 1 : 0 };
    await db
      .insertInto('churn_loss_kind')
      .values({ code: k.code, category: k.category, ...values })
      .onConflict((oc) => oc.column('code').doUpdateSet(values))
      .execute();
  },

  async upsertReason(
    db: Kysely<Database>,
    r: { code: string; nameZh: string; nameEn: string; needsText: boolean; sort: number; active: boolean },
  ) {
    const values = {
      name_zh: r.nameZh,
      name_en: r.nameEn,
      needs_text: r.needsText ? 1 : 0,
      sort: r.sort,
      active: r.active ? 1 : 0,
    };
    await db
      .insertInto('churn_reason')
      .values({ code: r.code, ...values })
      .onConflict((oc) => oc.column('code').doUpdateSet(values))
      .execute();
  },

  /** The alert a case is opened from, with the customer's last visit and the unit's path and calendar. */
  async alertForCase(db: Kysely<Database>, alertId: number) {
    return db
      .selectFrom('alert as a')
      .innerJoin('customer as c', 'c.id', 'a.customer_id')
      .innerJoin('org_unit as o', 'o.id', 'a.org_unit_id')
      .select([
        'a.id',
        'a.status',
        'a.customer_id',
        'a.org_unit_id',
        'o.path',
        'o.time_zone',
        'c.last_visit_day',
        'c.merged_into_id',
      ])
      .where('a.id', '=', alertId)
      .executeTakeFirst();
  },

  /** A case already opened from this alert, or a live case of this customer. */
  async existingCase(db: Kysely<Database>, alertId: number, customerId: number) {
    return db
      .selectFrom('churn_case')
      .select(['id', 'alert_id'])
      .where((eb) =>
        eb.or([
          eb('alert_id', '=', alertId),
          eb.and([eb('customer_id', '=', customerId), eb('state', 'in', [...LIVE_STATES])]),
        ]),
      )
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
  },

  async insertCase(db: Kysely<Database>, c: NewCase): Promise<number> {
    const row = await db
      .insertInto('churn_case')
      .values({
        customer_id: c.customerId,
        org_unit_id: c.orgUnitId,
        alert_id: c.alertId,
        category: c.category,
        loss_kind_code: c.lossKindCode,
        state: c.state,
        note: c.note,
        baseline_day: c.baselineDay,
        opened_by: c.openedBy,
        opened_at: c.at,
        lost_at: c.lost?.at ?? null,
        lost_day: c.lost?.day ?? null,
        lost_month: c.lost?.month ?? null,
        updated_at: c.at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  },

  /** Move a case on from `from`; false when someone else moved it first. */
  async moveCase(db: Kysely<Database>, id: number, from: string, at: string, changes: CaseChanges): Promise<boolean> {
    const res = await db
      .updateTable('churn_case')
      .set((eb) => ({ ...changes, updated_at: at, version: eb('version', '+', 1) }))
      .where('id', '=', id)
      .where('state', '=', from)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  },

  async insertEvent(
    db: Kysely<Database>,
    e: {
      caseId: number;
      action: string;
      from: string | null;
      to: string;
      actorUserId: number | null;
      actorName: string;
      at: string;
      detail: unknown;
    },
  ) {
    await db
      .insertInto('churn_case_event')
      .values({
        case_id: e.caseId,
        action: e.action,
        from_state: e.from,
        to_state: e.to,
        actor_user_id: e.actorUserId,
        actor_name: e.actorName,
        at: e.at,
        detail: e.detail === undefined ? null : JSON.stringify(e.detail),
      })
      .execute();
  },

  async events(db: Kysely<Database>, caseId: number) {
    return db
      .selectFrom('churn_case_event as e')
      .leftJoin('app_user as u', 'u.id', 'e.actor_user_id')
      .select([
        'e.id',
        'e.action',
        'e.from_state',
        'e.to_state',
        'e.actor_user_id',
        'e.actor_name',
        'u.display_name',
        'e.at',
        'e.detail',
      ])
      .where('e.case_id', '=', caseId)
      .orderBy('e.id')
      .execute();
  },

  async survey(db: Kysely<Database>, caseId: number) {
    return db.selectFrom('exit_survey').selectAll().where('case_id', '=', caseId).executeTakeFirst();
  },

  async saveSurvey(
    db: Kysely<Database>,
    s: { caseId: number; customerId: number; reasonCode: string; freeText: string | null; by: number; at: string },
  ) {
    const values = { reason_code: s.reasonCode, free_text: s.freeText, recorded_by: s.by, updated_at: s.at };
    await db
      .insertInto('exit_survey')
      .values({ case_id: s.caseId, customer_id: s.customerId, recorded_at: s.at, ...values })
      .onConflict((oc) => oc.column('case_id').doUpdateSet(values))
      .execute();
  },

  async one(db: Kysely<Database>, p: Principal | null, id: number): Promise<CaseRow | undefined> {
    return withColumns(cases(db, p).where('k.id', '=', id)).executeTakeFirst();
  },

  async list(db: Kysely<Database>, engine: Engine, p: Principal, f: CaseFilter) {
    let q = cases(db, p);
    if (f.state) q = q.where('k.state', '=', f.state);
    if (f.mine) q = q.where('k.assignee_user_id', '=', p.userId);
    if (f.unitPath) q = q.where((eb) => prefixRange(engine, eb.ref('o.path'), f.unitPath!));
    if (f.lostMonth) q = q.where('k.lost_month', '=', f.lostMonth);
    if (f.customerId) q = q.where('k.customer_id', '=', f.customerId);
    if (f.alertIds) q = q.where((eb) => oneOf(engine, eb.ref('k.alert_id'), f.alertIds!));
    const { total } = await q.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
    const rows = await withColumns(q)
      .orderBy('k.updated_at', 'desc')
      .orderBy('k.id', 'desc')
      .limit(f.pageSize)
      .offset((f.page - 1) * f.pageSize)
      .execute();
    return { total: n(total), rows };
  },

  /**
   * Active users who may be sent for a second attempt on a case of `casePath`: at the case's unit or
   * a unit above it (so they see the case), inside the assigner's subtree, allowed to change customers.
   */
  async assignees(db: Kysely<Database>, engine: Engine, casePath: string, actorPath: string) {
    const unitIds = casePath.split('/').filter(Boolean).map(Number);
    return db
      .selectFrom('app_user as u')
      .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
      .select(['u.id', 'u.display_name', 'u.username', 'o.id as org_unit_id', 'o.name as org_unit_name', 'o.depth'])
      .where('u.active', '=', 1)
      .where((eb) => oneOf(engine, eb.ref('o.id'), unitIds))
      .where((eb) => prefixRange(engine, eb.ref('o.path'), actorPath))
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('user_role as ur')
            .innerJoin('role_permission as rp', 'rp.role_id', 'ur.role_id')
            .select('ur.user_id')
            .whereRef('ur.user_id', '=', 'u.id')
            .where('rp.permission', '=', 'customer.write'),
        ),
      )
      .orderBy('o.depth', 'desc')
      .orderBy('u.display_name')
      .limit(500)
      .execute();
  },

  /**
   * Live cases whose customer has bought since the case's baseline (his last visit day when it was
   * opened): the win-back candidates, all of them or those of `ids`.
   */
  async returned(db: Kysely<Database>, engine: Engine, ids?: number[]) {
    if (ids && ids.length === 0) return [];
    return db
      .selectFrom('churn_case as k')
      .innerJoin('customer as c', 'c.id', 'k.customer_id')
      .select(['k.id', 'k.state', 'k.customer_id', 'k.org_unit_id', 'k.baseline_day', 'c.last_visit_day'])
      .where('k.state', 'in', [...LIVE_STATES])
      .where('c.last_visit_day', 'is not', null)
      .where((eb) => eb.or([eb('k.baseline_day', 'is', null), eb('c.last_visit_day', '>', eb.ref('k.baseline_day'))]))
      .$if(ids !== undefined, (q) => q.where((eb) => oneOf(engine, eb.ref('k.id'), ids!)))
      .orderBy('k.id')
      .execute();
  },

  /** The customer's first purchase after `day` (the one that brought him back). */
  async firstPurchaseAfter(db: Kysely<Database>, customerId: number, day: string | null) {
    return db
      .selectFrom('fuel_transaction')
      .select(['id', 'business_day', 'occurred_at'])
      .where('customer_id', '=', customerId)
      .$if(day !== null, (q) => q.where('business_day', '>', day!))
      .orderBy('business_day')
      .orderBy('occurred_at')
      .limit(1)
      .executeTakeFirst();
  },

  async unit(db: Kysely<Database>, id: number) {
    return db
      .selectFrom('org_unit')
      .select(['id', 'parent_id', 'kind_code', 'code', 'name', 'path', 'time_zone'])
      .where('id', '=', id)
      .executeTakeFirst();
  },

  async subtree(db: Kysely<Database>, engine: Engine, path: string) {
    return db
      .selectFrom('org_unit')
      .select(['id', 'parent_id', 'kind_code', 'code', 'name', 'path'])
      .where((eb) => prefixRange(engine, eb.ref('path'), path))
      .orderBy('path')
      .execute();
  },

  /** Cases lost per unit, month and category, months in [from, to]. */
  async lostCounts(db: Kysely<Database>, engine: Engine, unitIds: number[], from: string, to: string) {
    if (unitIds.length === 0) return [];
    const rows = await db
      .selectFrom('churn_case')
      .select((eb) => ['org_unit_id', 'lost_month', 'category', eb.fn.countAll<number>().as('n')])
      .where((eb) => oneOf(engine, eb.ref('org_unit_id'), unitIds))
      .where('lost_month', '>=', from)
      .where('lost_month', '<=', to)
      .groupBy(['org_unit_id', 'lost_month', 'category'])
      .execute();
    return rows.map((r) => ({
      orgUnitId: n(r.org_unit_id),
      month: r.lost_month!,
      category: r.category,
      count: n(r.n),
    }));
  },

  /** Cases won back per unit and month of the return, months in [from, to]. */
  async wonBackCounts(db: Kysely<Database>, engine: Engine, unitIds: number[], from: string, to: string) {
    if (unitIds.length === 0) return [];
    const month = sql<string>`substr(won_back_day, 1, 7)`;
    const rows = await db
      .selectFrom('churn_case')
      .select((eb) => ['org_unit_id', month.as('month'), eb.fn.countAll<number>().as('n')])
      .where('state', '=', 'won_back')
      .where((eb) => oneOf(engine, eb.ref('org_unit_id'), unitIds))
      .where('won_back_day', '>=', `${from}-01`)
      .where('won_back_day', '<=', `${to}-31`)
      .groupBy(['org_unit_id', month])
      .execute();
    return rows.map((r) => ({ orgUnitId: n(r.org_unit_id), month: r.month, count: n(r.n) }));
  },

  /**
   * Customers per unit who bought anything in each of `months`, as the dashboards count "active": from
   * the monthly rollup, the unit's customers read first and each probed for the months.
   */
  async activeCounts(db: Kysely<Database>, engine: Engine, unitIds: number[], months: string[]) {
    if (unitIds.length === 0 || months.length === 0) return [];
    const rows = await db
      // SQLite keeps a cross join's order (customers of the units, then their months); PostgreSQL plans it.
      .selectFrom('customer as c')
      .crossJoin('customer_month as m')
      .whereRef('m.customer_id', '=', 'c.id')
      .select(['c.org_unit_id', 'm.month', sql<number>`count(distinct m.customer_id)`.as('n')])
      .where((eb) => oneOf(engine, eb.ref('m.month'), months))
      .where((eb) => oneOf(engine, eb.ref('c.org_unit_id'), unitIds))
      .groupBy(['c.org_unit_id', 'm.month'])
      .execute();
    return rows.map((r) => ({ orgUnitId: n(r.org_unit_id), month: r.month, count: n(r.n) }));
  },
};
