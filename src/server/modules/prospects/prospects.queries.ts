// SQL of development plans: prospects with their trail, the branch's monthly plans with their approvals
// and weekly samples, the people who may follow a prospect at a unit, and the board's counts. Every
// read of prospects and plans is cut to the principal's subtree here.
import { sql, type Insertable, type Kysely } from 'kysely';
import type { Database, DevPlanTable, ProspectTable } from '../../db/schema.js';
import type { Principal } from '../../auth/principal.js';
import { inScope } from '../../auth/scope.js';
import { prefixRange, type Engine } from '../../db/dialect.js';
import { LIVE_STAGES } from '../../../domain/development-plan.js';

export interface ProspectFilter {
  stage?: string;
  importance?: string;
  planId?: number;
  /** Prospects I follow. */
  mine?: boolean;
  /** Live prospects whose next step was due before this day. */
  overdueBefore?: string;
  /** Not yet in any plan. */
  unplanned?: boolean;
  /** The unit's subtree (already checked against the principal's scope). */
  unitPath?: string;
  q?: string;
  page: number;
  pageSize: number;
}

export type ProspectChanges = Partial<{
  stage: string;
  importance: string;
  plan_id: number | null;
  dispatch_unit_id: number | null;
  follower_user_id: number | null;
  dispatched_at: string | null;
  due_day: string | null;
  last_progress_at: string;
  overdue_day: string | null;
  customer_id: number;
  closed_at: string;
  kind: string;
  name: string;
  organisation: string | null;
  contact_name: string | null;
  phone: string | null;
  plates: string | null;
  vehicle_count: number | null;
  monthly_litres: number | null;
  products: string | null;
  demand: string | null;
  fuel_use: string | null;
  settlement_method: string | null;
  competitor: string | null;
  notes: string | null;
}>;

export type PlanChanges = Partial<{
  state: string;
  due_day: string;
  note: string | null;
  submitted_at: string | null;
  dept_approver_id: number | null;
  dept_approved_at: string | null;
  dept_note: string | null;
  leader_approver_id: number | null;
  leader_approved_at: string | null;
  leader_note: string | null;
  dispatched_by: number;
  dispatched_at: string;
  overdue_day: string | null;
}>;

function prospects(db: Kysely<Database>) {
  return db
    .selectFrom('prospect as x')
    .innerJoin('org_unit as o', 'o.id', 'x.org_unit_id')
    .leftJoin('org_unit as du', 'du.id', 'x.dispatch_unit_id')
    .leftJoin('app_user as fu', 'fu.id', 'x.follower_user_id')
    .leftJoin('app_user as su', 'su.id', 'x.surveyed_by')
    .leftJoin('dev_plan as pl', 'pl.id', 'x.plan_id')
    .leftJoin('customer as c', 'c.id', 'x.customer_id')
    .selectAll('x')
    .select([
      'o.name as org_unit_name',
      'o.path as org_path',
      'o.time_zone',
      'du.name as dispatch_unit_name',
      'du.path as dispatch_path',
      'du.kind_code as dispatch_kind',
      'fu.display_name as follower_name',
      'su.display_name as surveyed_by_name',
      'pl.month as plan_month',
      'pl.state as plan_state',
      'c.code as customer_code',
    ]);
}

export type ProspectRow = NonNullable<Awaited<ReturnType<ReturnType<typeof prospects>['executeTakeFirst']>>>;

function plans(db: Kysely<Database>) {
  return db
    .selectFrom('dev_plan as d')
    .innerJoin('org_unit as o', 'o.id', 'd.org_unit_id')
    .leftJoin('app_user as cu', 'cu.id', 'd.compiled_by')
    .leftJoin('app_user as da', 'da.id', 'd.dept_approver_id')
    .leftJoin('app_user as la', 'la.id', 'd.leader_approver_id')
    .leftJoin('app_user as di', 'di.id', 'd.dispatched_by')
    .selectAll('d')
    .select([
      'o.name as org_unit_name',
      'o.path as org_path',
      'o.time_zone',
      'cu.display_name as compiled_by_name',
      'da.display_name as dept_approver_name',
      'la.display_name as leader_approver_name',
      'di.display_name as dispatched_by_name',
    ]);
}

export type PlanRow = NonNullable<Awaited<ReturnType<ReturnType<typeof plans>['executeTakeFirst']>>>;

export const prospectsQueries = {
  async unit(db: Kysely<Database>, id: number) {
    return db
      .selectFrom('org_unit')
      .select(['id', 'name', 'path', 'kind_code', 'time_zone', 'parent_id'])
      .where('id', '=', id)
      .executeTakeFirst();
  },

  /** The units on a path, from the top down. */
  async chain(db: Kysely<Database>, path: string) {
    const ids = path.split('/').filter(Boolean).map(Number);
    if (ids.length === 0) return [];
    const rows = await db
      .selectFrom('org_unit')
      .select(['id', 'path', 'kind_code', 'name'])
      .where('id', 'in', ids)
      .execute();
    return rows
      .map((r) => ({ id: Number(r.id), path: r.path, kindCode: r.kind_code, name: r.name }))
      .sort((a, b) => a.path.length - b.path.length);
  },

  async insertProspect(db: Kysely<Database>, values: Insertable<ProspectTable>) {
    const { id } = await db.insertInto('prospect').values(values).returning('id').executeTakeFirstOrThrow();
    return Number(id);
  },

  async prospect(db: Kysely<Database>, p: Principal | null, id: number) {
    let q = prospects(db).where('x.id', '=', id);
    if (p) q = q.where(inScope(p, sql.ref('x.org_unit_id')));
    return q.executeTakeFirst();
  },

  async prospectsOfPlan(db: Kysely<Database>, planId: number) {
    return prospects(db).where('x.plan_id', '=', planId).orderBy('x.importance').orderBy('x.id').execute();
  },

  async listProspects(db: Kysely<Database>, engine: Engine, p: Principal, f: ProspectFilter) {
    let q = prospects(db).where(inScope(p, sql.ref('x.org_unit_id')));
    if (f.stage) q = q.where('x.stage', '=', f.stage);
    if (f.importance) q = q.where('x.importance', '=', f.importance);
    if (f.planId) q = q.where('x.plan_id', '=', f.planId);
    if (f.mine) q = q.where('x.follower_user_id', '=', p.userId);
    if (f.unplanned) q = q.where('x.plan_id', 'is', null).where('x.stage', '=', 'surveyed');
    if (f.overdueBefore) q = q.where('x.stage', 'in', [...LIVE_STAGES]).where('x.due_day', '<', f.overdueBefore);
    if (f.unitPath) q = q.where((eb) => prefixRange(engine, eb.ref('o.path'), f.unitPath!));
    if (f.q) {
      const like = `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where((eb) =>
        eb.or([sql<boolean>`x.name like ${like} escape '\\'`, sql<boolean>`x.organisation like ${like} escape '\\'`]),
      );
    }
    const total = await q
      .clearSelect()
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    const rows = await q
      .orderBy('x.updated_at', 'desc')
      .orderBy('x.id', 'desc')
      .limit(f.pageSize)
      .offset((f.page - 1) * f.pageSize)
      .execute();
    return { total: Number(total.n), rows };
  },

  /** Moves the prospect on from the stage it was read in (and the version), or reports that someone was first. */
  async moveProspect(
    db: Kysely<Database>,
    id: number,
    fromStage: string,
    version: number,
    at: string,
    changes: ProspectChanges,
  ): Promise<boolean> {
    const res = await db
      .updateTable('prospect')
      .set({ ...changes, updated_at: at, version: version + 1 })
      .where('id', '=', id)
      .where('stage', '=', fromStage)
      .where('version', '=', version)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  },

  async insertProspectEvent(
    db: Kysely<Database>,
    e: {
      prospectId: number;
      action: string;
      from: string | null;
      to: string;
      day: string;
      dueDay?: string | null;
      note?: string | null;
      actorUserId: number | null;
      actorName: string;
      at: string;
    },
  ) {
    await db
      .insertInto('prospect_event')
      .values({
        prospect_id: e.prospectId,
        action: e.action,
        from_stage: e.from,
        to_stage: e.to,
        day: e.day,
        due_day: e.dueDay ?? null,
        note: e.note ?? null,
        actor_user_id: e.actorUserId,
        actor_name: e.actorName,
        at: e.at,
      })
      .execute();
  },

  async prospectEvents(db: Kysely<Database>, id: number) {
    return db
      .selectFrom('prospect_event as e')
      .leftJoin('app_user as u', 'u.id', 'e.actor_user_id')
      .selectAll('e')
      .select('u.display_name')
      .where('e.prospect_id', '=', id)
      .orderBy('e.id')
      .execute();
  },

  /** Active people at exactly this unit who may change customers: who may follow a prospect dispatched there. */
  async followersAt(db: Kysely<Database>, unitIds: number[]) {
    if (unitIds.length === 0) return [];
    return db
      .selectFrom('app_user as u')
      .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
      .select(['u.id', 'u.display_name', 'u.username', 'u.org_unit_id', 'o.name as org_unit_name'])
      .where('u.active', '=', 1)
      .where('u.org_unit_id', 'in', unitIds)
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
      .orderBy('u.display_name')
      .orderBy('u.id')
      .limit(2000)
      .execute();
  },

  async user(db: Kysely<Database>, id: number) {
    return db
      .selectFrom('app_user as u')
      .select(['u.id', 'u.org_unit_id', 'u.active', 'u.display_name'])
      .where('u.id', '=', id)
      .executeTakeFirst();
  },

  async userPermissions(db: Kysely<Database>, id: number): Promise<Set<string>> {
    const rows = await db
      .selectFrom('user_role as ur')
      .innerJoin('role_permission as rp', 'rp.role_id', 'ur.role_id')
      .select('rp.permission')
      .where('ur.user_id', '=', id)
      .execute();
    return new Set(rows.map((r) => r.permission));
  },

  // ---- plans ---------------------------------------------------------------------------------

  async plan(db: Kysely<Database>, p: Principal | null, id: number) {
    let q = plans(db).where('d.id', '=', id);
    if (p) q = q.where(inScope(p, sql.ref('d.org_unit_id')));
    return q.executeTakeFirst();
  },

  async planOf(db: Kysely<Database>, branchId: number, month: string) {
    return db
      .selectFrom('dev_plan')
      .select(['id'])
      .where('org_unit_id', '=', branchId)
      .where('month', '=', month)
      .executeTakeFirst();
  },

  async listPlans(
    db: Kysely<Database>,
    engine: Engine,
    p: Principal,
    f: { state?: string; month?: string; unitPath?: string; page: number; pageSize: number },
  ) {
    let q = plans(db).where(inScope(p, sql.ref('d.org_unit_id')));
    if (f.state) q = q.where('d.state', '=', f.state);
    if (f.month) q = q.where('d.month', '=', f.month);
    if (f.unitPath) q = q.where((eb) => prefixRange(engine, eb.ref('o.path'), f.unitPath!));
    const total = await q
      .clearSelect()
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    const rows = await q
      .orderBy('d.month', 'desc')
      .orderBy('d.id', 'desc')
      .limit(f.pageSize)
      .offset((f.page - 1) * f.pageSize)
      .execute();
    return { total: Number(total.n), rows };
  },

  /** Prospects per plan and stage, for the plan list. */
  async planCounts(db: Kysely<Database>, planIds: number[]) {
    if (planIds.length === 0) return [];
    const rows = await db
      .selectFrom('prospect')
      .select(['plan_id', 'stage', (eb) => eb.fn.countAll().as('n')])
      .where('plan_id', 'in', planIds)
      .groupBy(['plan_id', 'stage'])
      .execute();
    return rows.map((r) => ({ planId: Number(r.plan_id), stage: r.stage, count: Number(r.n) }));
  },

  async insertPlan(db: Kysely<Database>, values: Insertable<DevPlanTable>) {
    const { id } = await db.insertInto('dev_plan').values(values).returning('id').executeTakeFirstOrThrow();
    return Number(id);
  },

  async movePlan(
    db: Kysely<Database>,
    id: number,
    fromState: string,
    at: string,
    changes: PlanChanges,
  ): Promise<boolean> {
    const res = await db
      .updateTable('dev_plan')
      .set((eb) => ({ ...changes, updated_at: at, version: eb('version', '+', 1) }))
      .where('id', '=', id)
      .where('state', '=', fromState)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  },

  async insertPlanEvent(
    db: Kysely<Database>,
    e: {
      planId: number;
      action: string;
      from: string | null;
      to: string;
      actorUserId: number | null;
      actorName: string;
      at: string;
      note?: string | null;
    },
  ) {
    await db
      .insertInto('dev_plan_event')
      .values({
        plan_id: e.planId,
        action: e.action,
        from_state: e.from,
        to_state: e.to,
        actor_user_id: e.actorUserId,
        actor_name: e.actorName,
        at: e.at,
        note: e.note ?? null,
      })
      .execute();
  },

  async planEvents(db: Kysely<Database>, id: number) {
    return db
      .selectFrom('dev_plan_event as e')
      .leftJoin('app_user as u', 'u.id', 'e.actor_user_id')
      .selectAll('e')
      .select('u.display_name')
      .where('e.plan_id', '=', id)
      .orderBy('e.id')
      .execute();
  },

  /** The branch's surveyed prospects not yet in any plan: what a new plan collects. */
  async unplannedOfBranch(db: Kysely<Database>, branchId: number) {
    return db
      .selectFrom('prospect')
      .select(['id', 'org_unit_id', 'importance', 'surveyed_by'])
      .where('branch_id', '=', branchId)
      .where('stage', '=', 'surveyed')
      .where('plan_id', 'is', null)
      .orderBy('id')
      .execute();
  },

  async prospectsByIds(db: Kysely<Database>, ids: number[]) {
    if (ids.length === 0) return [];
    return prospects(db).where('x.id', 'in', ids).execute();
  },

  async samples(db: Kysely<Database>, planId: number) {
    return db
      .selectFrom('dev_plan_sample as s')
      .innerJoin('org_unit as o', 'o.id', 's.station_id')
      .leftJoin('app_user as pu', 'pu.id', 's.picked_by')
      .leftJoin('app_user as cu', 'cu.id', 's.checked_by')
      .selectAll('s')
      .select(['o.name as station_name', 'pu.display_name as picked_by_name', 'cu.display_name as checked_by_name'])
      .where('s.plan_id', '=', planId)
      .orderBy('s.week', 'desc')
      .orderBy('s.id')
      .execute();
  },

  /** Per station of the plan: its dispatched prospects by stage (stations are the surveyed units). */
  async stationStages(db: Kysely<Database>, planId: number) {
    const rows = await db
      .selectFrom('prospect')
      .select(['org_unit_id', 'stage', (eb) => eb.fn.countAll().as('n')])
      .where('plan_id', '=', planId)
      .where('stage', '!=', 'surveyed')
      .groupBy(['org_unit_id', 'stage'])
      .execute();
    return rows.map((r) => ({ stationId: Number(r.org_unit_id), stage: r.stage, count: Number(r.n) }));
  },

  /** Counts by stage and importance of the prospects in a unit's subtree (or of a plan). */
  async board(db: Kysely<Database>, engine: Engine, unitPath: string, planId: number | undefined, today: string) {
    let q = db
      .selectFrom('prospect as x')
      .innerJoin('org_unit as o', 'o.id', 'x.org_unit_id')
      .select([
        'x.stage',
        'x.importance',
        (eb) => eb.fn.countAll().as('n'),
        sql<number>`sum(case when x.stage in ('dispatched', 'contacted', 'offered') and x.due_day < ${today} then 1 else 0 end)`.as(
          'overdue',
        ),
      ])
      .where((eb) => prefixRange(engine, eb.ref('o.path'), unitPath));
    if (planId) q = q.where('x.plan_id', '=', planId);
    const rows = await q.groupBy(['x.stage', 'x.importance']).execute();
    return rows.map((r) => ({
      stage: r.stage,
      importance: r.importance,
      count: Number(r.n),
      overdue: Number(r.overdue ?? 0),
    }));
  },

  /** Live prospects and undispatched plans whose due day passed before `today`, not flagged yet. */
  async newlyOverdue(db: Kysely<Database>, today: string) {
    const [ps, pls] = await Promise.all([
      db
        .selectFrom('prospect')
        .select(['id', 'org_unit_id', 'stage', 'due_day'])
        .where('stage', 'in', [...LIVE_STAGES])
        .where('due_day', '<', today)
        .where('overdue_day', 'is', null)
        .execute(),
      db
        .selectFrom('dev_plan')
        .select(['id', 'org_unit_id', 'state', 'due_day'])
        .where('state', '!=', 'dispatched')
        .where('due_day', '<', today)
        .where('overdue_day', 'is', null)
        .execute(),
    ]);
    return { prospects: ps, plans: pls };
  },
};
