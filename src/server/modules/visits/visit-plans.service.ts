// Visit plans: proposed each month per owner from the policy, last month's sales and open alerts;
// edited and submitted by the owner; approved or returned one level up. An approved plan gives the
// owner a `visit` work item per planned visit, due at the appointment reminder (a week ahead, local
// time of the customer's unit) and then on the day; the reminder job moves it when each falls due.
import { sql } from 'kysely';
import { actorOf, type Actor, type Principal } from '../../auth/principal.js';
import { inScope, pathInCustomerWriteScope, pathInScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import { bulkStatements, engineOf, type BulkColumn } from '../../db/dialect.js';
import { recordAudit } from '../audit/audit.service.js';
import { closeWorkItem, closeWorkItems, openWorkItem, openWorkItems, rescheduleWorkItem } from '../work/work-items.js';
import type { WorkItemInput } from '../work/work-items.js';
import { businessDay } from '../../../domain/business-day.js';
import { addDays, addMonths, isCalendarDay, monthEnd } from '../../../domain/day-arithmetic.js';
import {
  allowedPlanActions,
  checkPlanStep,
  localInstant,
  proposePlan,
  reminderTimes,
  type PlanAction,
  type PlanCandidate,
  type PlanFacts,
  type PlanState,
  type VisitPolicy,
} from '../../../domain/visit-plan.js';
import {
  customerLabel,
  num,
  numOrNull,
  unitOf,
  unitsById,
  userNames,
  visitPolicy,
  type Db,
  type Tx,
} from './visits.common.js';

export const PLAN_JOB_ACTOR: Actor = { userId: null, name: 'job:visit-plans', ip: null };

export interface AddVisitBody {
  customerId: number;
  day: string;
  time?: string;
}

function refusal(r: { reason: string; message: string }): AppError {
  if (r.reason === 'order') return new AppError('CONFLICT', r.message);
  if (r.reason === 'permission') return new AppError('PERMISSION_DENIED', r.message);
  return new AppError('APPROVER_NOT_ELIGIBLE', r.message);
}

function hourMinute(time: string | undefined, policy: VisitPolicy): [number, number] {
  if (!time) return [policy.visitHour, 0];
  return [Number(time.slice(0, 2)), Number(time.slice(3, 5))];
}

/** The columns the monthly proposal writes; the rest of a planned visit starts empty. */
const PLANNED_VISIT_COLUMNS: readonly BulkColumn[] = [
  { name: 'plan_id', pg: 'bigint' },
  { name: 'customer_id', pg: 'bigint' },
  { name: 'org_unit_id', pg: 'bigint' },
  { name: 'owner_user_id', pg: 'bigint' },
  { name: 'planned_day', pg: 'text' },
  { name: 'planned_at', pg: 'timestamptz' },
  { name: 'reason', pg: 'text' },
  { name: 'reason_detail', pg: 'text' },
  { name: 'state', pg: 'text' },
  { name: 'created_at', pg: 'timestamptz' },
  { name: 'updated_at', pg: 'timestamptz' },
];
const PLANNED_VISIT_NAMES = PLANNED_VISIT_COLUMNS.map((c) => c.name).join(', ');
const INSERT_PLANNED_VISITS = `insert into planned_visit (${PLANNED_VISIT_NAMES}) select ${PLANNED_VISIT_NAMES} from v`;

export class VisitPlansService {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  // ---- generation ------------------------------------------------------------------------------

  /**
   * Proposes the month's plan for every owner who has none yet (the monthly job), or for the owners
   * named. Existing plans are left alone: re-running the job changes nothing.
   */
  async generate(month: string, ownerUserIds?: readonly number[]): Promise<{ plans: number; visits: number }> {
    const policy = await visitPolicy(this.db);
    const candidates = await this.candidates(month, ownerUserIds);
    const existing = new Set(
      (
        await this.db
          .selectFrom('visit_plan')
          .select('owner_user_id')
          .where('month', '=', month)
          .$if(ownerUserIds !== undefined, (q) => q.where('owner_user_id', 'in', [...(ownerUserIds ?? []), -1]))
          .execute()
      ).map((r) => num(r.owner_user_id)),
    );
    const owners = new Map<number, { unitId: number; list: (PlanCandidate & { unitId: number })[] }>();
    for (const c of candidates) {
      if (existing.has(c.ownerUserId)) continue;
      let o = owners.get(c.ownerUserId);
      if (!o) owners.set(c.ownerUserId, (o = { unitId: c.ownerUnitId, list: [] }));
      o.list.push(c);
    }
    for (const id of ownerUserIds ?? []) {
      if (!existing.has(id) && !owners.has(id)) {
        const u = await this.db.selectFrom('app_user').select('org_unit_id').where('id', '=', id).executeTakeFirst();
        if (u) owners.set(id, { unitId: num(u.org_unit_id), list: [] });
      }
    }
    const units = await unitsById(
      this.db,
      [...owners.values()].flatMap((o) => [o.unitId, ...o.list.map((c) => c.unitId)]),
    );
    const at = this.now().toISOString();
    let plans = 0;
    let visits = 0;
    const ownerIds = [...owners.keys()];
    // Many owners per transaction and per statement: one each would cost a commit and three round
    // trips per owner (2,000 on a branch). The visits go in through one `unnest` statement per
    // chunk on PostgreSQL (a `values` list on SQLite), and on PostgreSQL two chunks are written at
    // once: the server's foreign-key checks, not parsing, are most of the cost, and the chunks'
    // owners are distinct.
    const engine = engineOf(this.db);
    const writeChunk = async (chunk: number[]) => {
      await this.db.transaction().execute(async (trx) => {
        const created = await trx
          .insertInto('visit_plan')
          .values(
            chunk.map((ownerId) => ({
              owner_user_id: ownerId,
              org_unit_id: owners.get(ownerId)!.unitId,
              month,
              state: 'draft',
              submitted_at: null,
              decided_by: null,
              decided_at: null,
              decision_note: null,
              created_at: at,
              updated_at: at,
            })),
          )
          .onConflict((oc) => oc.columns(['owner_user_id', 'month']).doNothing())
          .returning(['id', 'owner_user_id'])
          .execute();
        const rows: unknown[][] = [];
        const events = [];
        for (const plan of created) {
          const ownerId = num(plan.owner_user_id);
          const o = owners.get(ownerId)!;
          plans++;
          const byId = new Map(o.list.map((c) => [c.customerId, c]));
          const proposed = proposePlan(policy, month, o.list);
          for (const v of proposed) {
            const c = byId.get(v.customerId)!;
            const tz = units.get(c.unitId)?.timeZone ?? 'Asia/Shanghai';
            rows.push([
              num(plan.id),
              v.customerId,
              c.unitId,
              ownerId,
              v.day,
              localInstant(v.day, policy.visitHour, 0, tz),
              v.reason,
              v.detail,
              'planned',
              at,
              at,
            ]);
          }
          events.push({
            plan_id: num(plan.id),
            action: 'propose',
            from_state: null,
            to_state: 'draft',
            actor_user_id: null,
            actor_name: PLAN_JOB_ACTOR.name,
            note: `${proposed.length}`,
            at,
          });
        }
        for (const q of bulkStatements(engine, PLANNED_VISIT_COLUMNS, rows, INSERT_PLANNED_VISITS, 2000))
          await trx.executeQuery(q);
        for (let j = 0; j < events.length; j += 2000)
          await trx
            .insertInto('visit_plan_event')
            .values(events.slice(j, j + 2000))
            .execute();
        visits += rows.length;
      });
    };
    const chunks: number[][] = [];
    for (let i = 0; i < ownerIds.length; i += 250) chunks.push(ownerIds.slice(i, i + 250));
    const lanes = engine === 'postgres' ? 2 : 1;
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(lanes, chunks.length) }, async () => {
        while (next < chunks.length) await writeChunk(chunks[next++]!);
      }),
    );
    return { plans, visits };
  }

  /** Every owned customer (of the named owners) with what the policy needs to judge him. */
  private async candidates(
    month: string,
    ownerUserIds?: readonly number[],
  ): Promise<(PlanCandidate & { ownerUserId: number; ownerUnitId: number; unitId: number })[]> {
    const last = addMonths(month, -1);
    const prev = addMonths(month, -2);
    const owners = ownerUserIds === undefined ? null : [...ownerUserIds, -1];
    const customers = await this.db
      .selectFrom('customer as c')
      .innerJoin('app_user as u', 'u.id', 'c.owner_user_id')
      .select(['c.id', 'c.owner_user_id', 'c.org_unit_id', 'u.org_unit_id as owner_unit_id'])
      .where('c.merged_into_id', 'is', null)
      .where('u.active', '=', 1)
      .$if(owners !== null, (q) => q.where('c.owner_user_id', 'in', owners!))
      .execute();
    const ownedBy = (col: string) =>
      owners === null
        ? sql<boolean>`1 = 1`
        : sql<boolean>`${sql.ref(col)} in (select id from customer where owner_user_id in (${sql.join(owners)}))`;
    // The latest class of each customer, from the last year's ratings.
    const ratings = await this.db
      .selectFrom('customer_rating')
      .select(['customer_id', 'period', 'class'])
      .where('period', '>=', addMonths(month, -12))
      .where(ownedBy('customer_id'))
      .orderBy('period')
      .execute();
    const classOf = new Map<number, string | null>();
    for (const r of ratings) classOf.set(num(r.customer_id), r.class);
    const sales = await this.db
      .selectFrom('customer_month')
      .select(['customer_id', 'month', (eb) => eb.fn.sum<number>('volume_ml').as('volume')])
      .where('month', 'in', [last, prev])
      .where(ownedBy('customer_id'))
      .groupBy(['customer_id', 'month'])
      .execute();
    const lastVol = new Map<number, number>();
    const prevVol = new Map<number, number>();
    for (const s of sales) (s.month === last ? lastVol : prevVol).set(num(s.customer_id), Number(s.volume));
    const alerts = await this.db
      .selectFrom('alert')
      .select(['customer_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', '=', 'open')
      .where(ownedBy('customer_id'))
      .groupBy('customer_id')
      .execute();
    const alertCount = new Map(alerts.map((a) => [num(a.customer_id), Number(a.n)]));
    const visited = await this.db
      .selectFrom('visit_record')
      .select(['customer_id', (eb) => eb.fn.max('visited_day').as('day')])
      .where(ownedBy('customer_id'))
      .groupBy('customer_id')
      .execute();
    const lastVisit = new Map(visited.map((v) => [num(v.customer_id), String(v.day).slice(0, 7)]));
    return customers.map((c) => {
      const id = num(c.id);
      return {
        customerId: id,
        ownerUserId: num(c.owner_user_id),
        ownerUnitId: num(c.owner_unit_id),
        unitId: num(c.org_unit_id),
        class: classOf.get(id) ?? null,
        lastVisitMonth: lastVisit.get(id) ?? null,
        lastMonthVolume: lastVol.get(id) ?? 0,
        prevMonthVolume: prevVol.get(id) ?? 0,
        openAlerts: alertCount.get(id) ?? 0,
      };
    });
  }

  // ---- reading ---------------------------------------------------------------------------------

  async list(p: Principal, q: { month: string; state?: PlanState; ownerUserId?: number; orgUnitId?: number }) {
    const rows = await this.db
      .selectFrom('visit_plan as vp')
      .innerJoin('app_user as u', 'u.id', 'vp.owner_user_id')
      .innerJoin('org_unit as o', 'o.id', 'vp.org_unit_id')
      .select([
        'vp.id',
        'vp.owner_user_id',
        'u.display_name as owner_name',
        'vp.org_unit_id',
        'o.name as unit_name',
        'o.path as unit_path',
        'vp.month',
        'vp.state',
        'vp.submitted_at',
        'vp.decided_at',
        'vp.version',
        (eb) =>
          eb
            .selectFrom('planned_visit as pv')
            .select(eb.fn.countAll<number>().as('n'))
            .whereRef('pv.plan_id', '=', 'vp.id')
            .where('pv.state', '!=', 'cancelled')
            .as('visits'),
        (eb) =>
          eb
            .selectFrom('planned_visit as pv')
            .select(eb.fn.countAll<number>().as('n'))
            .whereRef('pv.plan_id', '=', 'vp.id')
            .where('pv.state', '=', 'done')
            .as('done'),
      ])
      .where('vp.month', '=', q.month)
      .where(inScope(p, sql.ref('vp.org_unit_id')))
      .$if(q.state !== undefined, (x) => x.where('vp.state', '=', q.state!))
      .$if(q.ownerUserId !== undefined, (x) => x.where('vp.owner_user_id', '=', q.ownerUserId!))
      .$if(q.orgUnitId !== undefined, (x) => x.where('vp.org_unit_id', '=', q.orgUnitId!))
      .orderBy('o.path')
      .orderBy('u.display_name')
      .limit(2000)
      .execute();
    return rows.map((r) => ({
      id: num(r.id),
      ownerUserId: num(r.owner_user_id),
      ownerName: r.owner_name,
      orgUnitId: num(r.org_unit_id),
      orgUnitName: r.unit_name,
      month: r.month,
      state: r.state as PlanState,
      submittedAt: r.submitted_at,
      decidedAt: r.decided_at,
      visits: Number(r.visits ?? 0),
      done: Number(r.done ?? 0),
      version: num(r.version),
    }));
  }

  private async facts(db: Tx, planId: number) {
    const r = await db
      .selectFrom('visit_plan as vp')
      .innerJoin('org_unit as o', 'o.id', 'vp.org_unit_id')
      .innerJoin('app_user as u', 'u.id', 'vp.owner_user_id')
      .selectAll('vp')
      .select(['o.path as unit_path', 'o.parent_id', 'o.name as unit_name', 'u.display_name as owner_name'])
      .where('vp.id', '=', planId)
      .executeTakeFirst();
    if (!r) throw new AppError('NOT_FOUND', `visit plan ${planId} not found`);
    const facts: PlanFacts = {
      state: r.state as PlanState,
      ownerUserId: num(r.owner_user_id),
      unitPath: r.unit_path,
      hasParent: r.parent_id !== null,
    };
    return { row: r, facts };
  }

  async get(p: Principal, planId: number) {
    const { row, facts } = await this.facts(this.db, planId);
    const visits = await this.db
      .selectFrom('planned_visit as pv')
      .innerJoin('customer as c', 'c.id', 'pv.customer_id')
      .select([
        'pv.id',
        'pv.customer_id',
        'c.code',
        'c.name',
        'c.organisation',
        'pv.org_unit_id',
        'pv.planned_day',
        'pv.planned_at',
        'pv.reason',
        'pv.reason_detail',
        'pv.state',
        'pv.appointed_at',
        'pv.appointment_note',
        'pv.record_id',
      ])
      .where('pv.plan_id', '=', planId)
      .orderBy('pv.planned_at')
      .orderBy('pv.id')
      .execute();
    const events = await this.db
      .selectFrom('visit_plan_event')
      .selectAll()
      .where('plan_id', '=', planId)
      .orderBy('id')
      .execute();
    const decider =
      row.decided_by === null ? null : (await userNames(this.db, [num(row.decided_by)])).get(num(row.decided_by));
    return {
      id: num(row.id),
      ownerUserId: num(row.owner_user_id),
      ownerName: row.owner_name,
      orgUnitId: num(row.org_unit_id),
      orgUnitName: row.unit_name,
      month: row.month,
      state: row.state as PlanState,
      submittedAt: row.submitted_at,
      decidedAt: row.decided_at,
      decidedByName: decider ?? null,
      decisionNote: row.decision_note,
      version: num(row.version),
      allowedActions: allowedPlanActions(facts, p),
      visits: visits.map(toVisit),
      events: events.map((e) => ({
        id: num(e.id),
        action: e.action,
        fromState: e.from_state,
        toState: e.to_state,
        actorName: e.actor_name,
        note: e.note,
        at: e.at,
      })),
    };
  }

  /** Planned visits between two days (at most 62), of one person or of a unit's subtree. */
  async calendar(p: Principal, q: { from: string; to: string; userId?: number; orgUnitId?: number }) {
    for (const [field, day] of [
      ['from', q.from],
      ['to', q.to],
    ] as const)
      if (!isCalendarDay(day))
        throw new AppError('VALIDATION_FAILED', `${field} is no day of the calendar`, `querystring.${field}`);
    if (q.to < q.from || addDays(q.from, 62) < q.to)
      throw new AppError('VALIDATION_FAILED', 'to must be from 0 to 62 days after from', 'querystring.to');
    let unitPath: string | null = null;
    if (q.orgUnitId !== undefined) {
      const u = await unitOf(this.db, q.orgUnitId);
      if (!u) throw new AppError('NOT_FOUND', `org unit ${q.orgUnitId} not found`, 'querystring.orgUnitId');
      if (!pathInScope(p, u.path)) throw new AppError('SCOPE_DENIED', 'that unit is outside your organisation');
      unitPath = u.path;
    }
    const userId = q.userId ?? (unitPath === null ? p.userId : undefined);
    const rows = await this.db
      .selectFrom('planned_visit as pv')
      .innerJoin('visit_plan as vp', 'vp.id', 'pv.plan_id')
      .innerJoin('customer as c', 'c.id', 'pv.customer_id')
      .innerJoin('app_user as u', 'u.id', 'pv.owner_user_id')
      .innerJoin('org_unit as o', 'o.id', 'pv.org_unit_id')
      .select([
        'pv.id',
        'pv.plan_id',
        'vp.state as plan_state',
        'pv.customer_id',
        'c.code',
        'c.name',
        'c.organisation',
        'pv.org_unit_id',
        'pv.planned_day',
        'pv.planned_at',
        'pv.reason',
        'pv.reason_detail',
        'pv.state',
        'pv.appointed_at',
        'pv.appointment_note',
        'pv.record_id',
        'pv.owner_user_id',
        'u.display_name as owner_name',
        'o.name as unit_name',
      ])
      .where('pv.planned_day', '>=', q.from)
      .where('pv.planned_day', '<=', q.to)
      .where('pv.state', '!=', 'cancelled')
      .where(inScope(p, sql.ref('pv.org_unit_id')))
      .$if(userId !== undefined, (x) => x.where('pv.owner_user_id', '=', userId!))
      .$if(unitPath !== null, (x) =>
        x.where(sql<boolean>`o.path like ${`${unitPath!.replace(/[\\%_]/g, (m) => `\\${m}`)}%`} escape '\\'`),
      )
      .orderBy('pv.planned_at')
      .limit(5000)
      .execute();
    return rows.map((r) => ({
      ...toVisit(r),
      planId: num(r.plan_id),
      planState: r.plan_state as PlanState,
      ownerUserId: num(r.owner_user_id),
      ownerName: r.owner_name,
      orgUnitName: r.unit_name,
    }));
  }

  // ---- the owner's changes --------------------------------------------------------------------

  private async step(trx: Tx, p: Principal, planId: number, action: PlanAction) {
    const loaded = await this.facts(trx, planId);
    if (!pathInScope(p, loaded.row.unit_path) && p.userId !== loaded.facts.ownerUserId)
      throw new AppError('SCOPE_DENIED', 'that plan is outside your organisation');
    const r = checkPlanStep(action, loaded.facts, p);
    if (!r.ok) throw refusal(r);
    return { ...loaded, to: r.to };
  }

  async generateMine(p: Principal, ip: string, month: string) {
    const r = await this.generate(month, [p.userId]);
    const plan = await this.db
      .selectFrom('visit_plan')
      .select('id')
      .where('owner_user_id', '=', p.userId)
      .where('month', '=', month)
      .executeTakeFirstOrThrow();
    await recordAudit(this.db, actorOf(p, ip), {
      action: 'visit_plan_generate',
      entity: 'visit_plan',
      entityId: num(plan.id),
      orgUnitId: p.orgUnitId,
      after: { month, created: r.plans, visits: r.visits },
    });
    return this.get(p, num(plan.id));
  }

  async addVisit(p: Principal, ip: string, planId: number, body: AddVisitBody) {
    if (!isCalendarDay(body.day)) throw new AppError('VALIDATION_FAILED', 'day is no day of the calendar', 'body.day');
    const policy = await visitPolicy(this.db);
    const id = await this.db.transaction().execute(async (trx) => {
      const { row } = await this.step(trx, p, planId, 'edit');
      if (body.day.slice(0, 7) !== row.month)
        throw new AppError('VALIDATION_FAILED', `day must fall in the plan's month ${row.month}`, 'body.day');
      const c = await trx
        .selectFrom('customer as c')
        .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
        .select(['c.id', 'c.org_unit_id', 'o.path', 'o.time_zone'])
        .where('c.id', '=', body.customerId)
        .where('c.merged_into_id', 'is', null)
        .executeTakeFirst();
      if (!c || !pathInCustomerWriteScope(p, c.path))
        throw new AppError('VALIDATION_FAILED', 'no such customer in your organisation', 'body.customerId');
      const [h, m] = hourMinute(body.time, policy);
      const at = this.now().toISOString();
      const inserted = await trx
        .insertInto('planned_visit')
        .values({
          plan_id: planId,
          customer_id: body.customerId,
          org_unit_id: num(c.org_unit_id),
          owner_user_id: num(row.owner_user_id),
          planned_day: body.day,
          planned_at: localInstant(body.day, h, m, c.time_zone),
          reason: 'manual',
          reason_detail: null,
          state: 'planned',
          appointed_at: null,
          appointment_note: null,
          record_id: null,
          created_at: at,
          updated_at: at,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.touch(trx, planId, at);
      await recordAudit(trx, actorOf(p, ip), {
        action: 'visit_plan_add_visit',
        entity: 'visit_plan',
        entityId: planId,
        orgUnitId: num(row.org_unit_id),
        after: {
          plannedVisitId: num(inserted.id),
          customerId: body.customerId,
          day: body.day,
          time: body.time ?? null,
        },
      });
      return num(inserted.id);
    });
    return { id, plan: await this.get(p, planId) };
  }

  private async visitRow(trx: Tx, id: number) {
    const v = await trx
      .selectFrom('planned_visit as pv')
      .innerJoin('org_unit as o', 'o.id', 'pv.org_unit_id')
      .innerJoin('customer as c', 'c.id', 'pv.customer_id')
      .selectAll('pv')
      .select(['o.time_zone', 'c.name', 'c.organisation', 'c.code'])
      .where('pv.id', '=', id)
      .executeTakeFirst();
    if (!v) throw new AppError('NOT_FOUND', `planned visit ${id} not found`);
    return v;
  }

  async removeVisit(p: Principal, ip: string, id: number) {
    await this.db.transaction().execute(async (trx) => {
      const v = await this.visitRow(trx, id);
      const { row } = await this.step(trx, p, num(v.plan_id), 'edit');
      await trx.deleteFrom('planned_visit').where('id', '=', id).execute();
      await this.touch(trx, num(v.plan_id), this.now().toISOString());
      await recordAudit(trx, actorOf(p, ip), {
        action: 'visit_plan_remove_visit',
        entity: 'visit_plan',
        entityId: num(v.plan_id),
        orgUnitId: num(row.org_unit_id),
        before: { plannedVisitId: id, customerId: num(v.customer_id), day: v.planned_day },
      });
    });
    return { ok: true };
  }

  /** Moves a visit to another day or time; after approval its work item and reminders follow. */
  async moveVisit(p: Principal, ip: string, id: number, body: { day: string; time?: string }) {
    if (!isCalendarDay(body.day)) throw new AppError('VALIDATION_FAILED', 'day is no day of the calendar', 'body.day');
    const policy = await visitPolicy(this.db);
    await this.db.transaction().execute(async (trx) => {
      const v = await this.visitRow(trx, id);
      const { row } = await this.step(trx, p, num(v.plan_id), 'move');
      if (v.state === 'done' || v.state === 'cancelled')
        throw new AppError('CONFLICT', `a ${v.state} visit cannot be moved`);
      const [h, m] = hourMinute(body.time, policy);
      const plannedAt = localInstant(body.day, h, m, v.time_zone);
      const at = this.now().toISOString();
      await trx
        .updateTable('planned_visit')
        .set({ planned_day: body.day, planned_at: plannedAt, updated_at: at })
        .where('id', '=', id)
        .execute();
      if (row.state === 'approved')
        await this.scheduleReminders(trx, policy, [{ ...v, planned_day: body.day, planned_at: plannedAt }], at);
      await recordAudit(trx, actorOf(p, ip), {
        action: 'visit_plan_move_visit',
        entity: 'visit_plan',
        entityId: num(v.plan_id),
        orgUnitId: num(row.org_unit_id),
        before: { plannedVisitId: id, day: v.planned_day, at: v.planned_at },
        after: { plannedVisitId: id, day: body.day, at: plannedAt },
      });
    });
    return this.visit(id);
  }

  /** The appointment step: the time is confirmed with the customer. */
  async appoint(p: Principal, ip: string, id: number, body: { at: string; note?: string }) {
    const policy = await visitPolicy(this.db);
    await this.db.transaction().execute(async (trx) => {
      const v = await this.visitRow(trx, id);
      const { row } = await this.facts(trx, num(v.plan_id));
      if (num(v.owner_user_id) !== p.userId)
        throw new AppError('APPROVER_NOT_ELIGIBLE', 'only the owner of the visit makes its appointment');
      if (row.state !== 'approved') throw new AppError('CONFLICT', 'appointments are made on an approved plan');
      if (v.state !== 'planned' && v.state !== 'appointed')
        throw new AppError('CONFLICT', `a ${v.state} visit takes no appointment`);
      const plannedAt = new Date(body.at).toISOString();
      const day = businessDay(Date.parse(plannedAt), v.time_zone);
      if (day.slice(0, 7) < row.month || day > monthEnd(addMonths(row.month, 1)))
        throw new AppError(
          'VALIDATION_FAILED',
          `the appointment must fall in ${row.month} or the month after`,
          'body.at',
        );
      const at = this.now().toISOString();
      await trx
        .updateTable('planned_visit')
        .set({
          state: 'appointed',
          planned_at: plannedAt,
          planned_day: day,
          appointed_at: at,
          appointment_note: body.note ?? null,
          updated_at: at,
        })
        .where('id', '=', id)
        .execute();
      await this.scheduleReminders(
        trx,
        policy,
        [{ ...v, planned_day: day, planned_at: plannedAt, state: 'appointed' }],
        at,
      );
      await recordAudit(trx, actorOf(p, ip), {
        action: 'visit_plan_appoint',
        entity: 'visit_plan',
        entityId: num(v.plan_id),
        orgUnitId: num(row.org_unit_id),
        before: { plannedVisitId: id, at: v.planned_at, state: v.state },
        after: { plannedVisitId: id, at: plannedAt, note: body.note ?? null },
      });
    });
    return this.visit(id);
  }

  async visitDetail(id: number) {
    const r = await this.db
      .selectFrom('planned_visit as pv')
      .innerJoin('visit_plan as vp', 'vp.id', 'pv.plan_id')
      .innerJoin('customer as c', 'c.id', 'pv.customer_id')
      .innerJoin('app_user as u', 'u.id', 'pv.owner_user_id')
      .innerJoin('org_unit as o', 'o.id', 'pv.org_unit_id')
      .selectAll('pv')
      .select([
        'vp.state as plan_state',
        'c.code',
        'c.name',
        'c.organisation',
        'u.display_name as owner_name',
        'o.name as unit_name',
      ])
      .where('pv.id', '=', id)
      .executeTakeFirst();
    if (!r) throw new AppError('NOT_FOUND', `planned visit ${id} not found`);
    return {
      ...toVisit(r),
      planId: num(r.plan_id),
      planState: r.plan_state as PlanState,
      ownerUserId: num(r.owner_user_id),
      ownerName: r.owner_name,
      orgUnitName: r.unit_name,
    };
  }

  async visit(id: number) {
    const v = await this.visitRow(this.db, id);
    return toVisit(v);
  }

  // ---- the workflow ----------------------------------------------------------------------------

  async submit(p: Principal, ip: string, planId: number, version: number) {
    await this.transition(p, ip, planId, 'submit', version, null);
    return this.get(p, planId);
  }

  async decide(
    p: Principal,
    ip: string,
    planId: number,
    action: 'approve' | 'return',
    version: number,
    note: string | null,
  ) {
    if (action === 'return' && !note?.trim())
      throw new AppError('VALIDATION_FAILED', 'say why the plan is returned', 'body.note');
    await this.transition(p, ip, planId, action, version, note);
    return this.get(p, planId);
  }

  private async transition(
    p: Principal,
    ip: string,
    planId: number,
    action: 'submit' | 'approve' | 'return',
    version: number,
    note: string | null,
  ) {
    const policy = await visitPolicy(this.db);
    await this.db.transaction().execute(async (trx) => {
      const { row, to } = await this.step(trx, p, planId, action);
      const at = this.now().toISOString();
      const updated = await trx
        .updateTable('visit_plan')
        .set({
          state: to,
          updated_at: at,
          version: sql`version + 1`,
          ...(action === 'submit'
            ? { submitted_at: at, decided_by: null, decided_at: null, decision_note: null }
            : { decided_by: p.userId, decided_at: at, decision_note: note }),
        })
        .where('id', '=', planId)
        .where('version', '=', version)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1)
        throw new AppError('VERSION_CONFLICT', 'the plan was changed meanwhile; reload it', 'body.version');
      await trx
        .insertInto('visit_plan_event')
        .values({
          plan_id: planId,
          action,
          from_state: row.state,
          to_state: to,
          actor_user_id: p.userId,
          actor_name: p.displayName,
          note,
          at,
        })
        .execute();
      const unit = await unitOf(trx, num(row.org_unit_id));
      const subject = `${row.owner_name} ${row.month}`;
      if (action === 'submit') {
        // A queue for managers holding visit.approve at the parent unit or above; never the owner.
        await openWorkItem(
          trx,
          {
            kind: 'visit_plan_approval',
            recordId: planId,
            assigneeUserId: null,
            permission: 'visit.approve',
            excludeUserIds: [num(row.owner_user_id)],
            orgUnitId: unit?.parentId ?? num(row.org_unit_id),
            subject,
            dueAt: new Date(Date.parse(at) + 3 * 86_400_000).toISOString(),
          },
          at,
        );
      } else if (action === 'return') {
        // Back to the owner to change and submit again.
        await openWorkItem(
          trx,
          {
            kind: 'visit_plan_approval',
            recordId: planId,
            assigneeUserId: num(row.owner_user_id),
            orgUnitId: num(row.org_unit_id),
            subject,
            dueAt: new Date(Date.parse(at) + 2 * 86_400_000).toISOString(),
          },
          at,
        );
      } else {
        await closeWorkItem(trx, 'visit_plan_approval', planId, at);
        const visits = await trx
          .selectFrom('planned_visit as pv')
          .innerJoin('org_unit as o', 'o.id', 'pv.org_unit_id')
          .innerJoin('customer as c', 'c.id', 'pv.customer_id')
          .selectAll('pv')
          .select(['o.time_zone', 'c.name', 'c.organisation', 'c.code'])
          .where('pv.plan_id', '=', planId)
          .where('pv.state', 'in', ['planned', 'appointed'])
          .execute();
        await this.scheduleReminders(trx, policy, visits, at);
      }
      await recordAudit(trx, actorOf(p, ip), {
        action:
          action === 'submit' ? 'visit_plan_submit' : action === 'approve' ? 'visit_plan_approve' : 'visit_plan_return',
        entity: 'visit_plan',
        entityId: planId,
        orgUnitId: num(row.org_unit_id),
        before: { state: row.state },
        after: { state: to, note },
      });
    });
  }

  /**
   * The reminders of approved visits (the appointment a week ahead unless made, and the day itself), at
   * the local hours of the customer's unit, and each visit's work item due at the next one to come.
   */
  private async scheduleReminders(
    trx: Tx,
    policy: VisitPolicy,
    visits: readonly {
      id: number;
      customer_id: number;
      org_unit_id: number;
      owner_user_id: number;
      planned_day: string;
      planned_at: string;
      state: string;
      time_zone: string;
      name: string | null;
      organisation: string | null;
      code: string;
    }[],
    at: string,
  ): Promise<void> {
    if (visits.length === 0) return;
    const ids = visits.map((v) => num(v.id));
    for (let i = 0; i < ids.length; i += 5000)
      await trx
        .deleteFrom('visit_reminder')
        .where('planned_visit_id', 'in', ids.slice(i, i + 5000))
        .where('sent_at', 'is', null)
        .execute();
    const reminders: { planned_visit_id: number; kind: string; due_at: string; sent_at: null }[] = [];
    const items: WorkItemInput[] = [];
    for (const v of visits) {
      const t = reminderTimes(policy, v.planned_day, v.time_zone);
      const appointed = v.state === 'appointed';
      if (!appointed)
        reminders.push({ planned_visit_id: num(v.id), kind: 'appointment', due_at: t.appointment, sent_at: null });
      reminders.push({ planned_visit_id: num(v.id), kind: 'on_day', due_at: t.onDay, sent_at: null });
      items.push({
        kind: 'visit',
        recordId: num(v.id),
        assigneeUserId: num(v.owner_user_id),
        orgUnitId: num(v.org_unit_id),
        customerId: num(v.customer_id),
        subject: `${customerLabel(v)} ${v.planned_day}`,
        dueAt: appointed ? t.onDay : t.appointment,
      });
    }
    for (let i = 0; i < reminders.length; i += 2000)
      await trx
        .insertInto('visit_reminder')
        .values(reminders.slice(i, i + 2000))
        .onConflict((oc) =>
          oc
            .columns(['planned_visit_id', 'kind'])
            .doUpdateSet((eb) => ({ due_at: eb.ref('excluded.due_at'), sent_at: null })),
        )
        .execute();
    await openWorkItems(trx, items, at);
  }

  /**
   * The reminders due by now: each is marked sent and its visit's work item is due at that moment, so
   * it rises to the top of the owner's inbox at the local hour of the customer's unit.
   */
  async sendDueReminders(): Promise<{ sent: number }> {
    const now = this.now().toISOString();
    let sent = 0;
    for (;;) {
      const due = await this.db
        .selectFrom('visit_reminder as r')
        .innerJoin('planned_visit as pv', 'pv.id', 'r.planned_visit_id')
        .select(['r.id', 'r.kind', 'r.due_at', 'pv.id as visit_id', 'pv.state'])
        .where('r.sent_at', 'is', null)
        .where('r.due_at', '<=', now)
        .orderBy('r.due_at')
        .limit(1000)
        .execute();
      if (due.length === 0) break;
      await this.db.transaction().execute(async (trx) => {
        await trx
          .updateTable('visit_reminder')
          .set({ sent_at: now })
          .where(
            'id',
            'in',
            due.map((d) => num(d.id)),
          )
          .execute();
        for (const d of due) {
          if (d.state !== 'planned' && d.state !== 'appointed') continue;
          // An appointment already made needs no appointment reminder.
          if (d.kind === 'appointment' && d.state === 'appointed') continue;
          await rescheduleWorkItem(trx, 'visit', num(d.visit_id), d.due_at, now);
          sent++;
        }
      });
    }
    return { sent };
  }

  private async touch(trx: Tx, planId: number, at: string) {
    await trx
      .updateTable('visit_plan')
      .set({ updated_at: at, version: sql`version + 1` })
      .where('id', '=', planId)
      .execute();
  }

  /** A visit done by a record: its work item closes with it. */
  static async markDone(trx: Tx, plannedVisitId: number, recordId: number, at: string): Promise<void> {
    await trx
      .updateTable('planned_visit')
      .set({ state: 'done', record_id: recordId, updated_at: at })
      .where('id', '=', plannedVisitId)
      .execute();
    await closeWorkItems(trx, 'visit', [plannedVisitId], at);
  }
}

function toVisit(r: {
  id: number;
  customer_id: number;
  code: string;
  name: string | null;
  organisation: string | null;
  org_unit_id: number;
  planned_day: string;
  planned_at: string;
  reason: string;
  reason_detail: string | null;
  state: string;
  appointed_at: string | null;
  appointment_note: string | null;
  record_id: number | null;
}) {
  return {
    id: num(r.id),
    customerId: num(r.customer_id),
    customerName: customerLabel(r),
    customerCode: r.code,
    orgUnitId: num(r.org_unit_id),
    plannedDay: r.planned_day,
    plannedAt: r.planned_at,
    reason: r.reason,
    reasonDetail: r.reason_detail,
    state: r.state,
    appointedAt: r.appointed_at,
    appointmentNote: r.appointment_note,
    recordId: numOrNull(r.record_id),
  };
}
