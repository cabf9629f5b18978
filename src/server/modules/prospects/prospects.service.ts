// Development plans: prospects surveyed at stations, the branch's monthly plan collecting them, its two
// approvals, the dispatch of each prospect to a follower at the level its importance names, progress
// up to a signature (the prospect becomes a customer through the archive's own create path) or a
// loss, the branch's weekly sampling of stations, and the overdue flags. The steps and who may take
// them are src/domain/development-plan.ts; this service loads, asks the rules, and writes the change
// with its trail, its work items and its audit in one transaction.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { isUniqueViolation, type Engine } from '../../db/dialect.js';
import { actorOf, can, type Actor as AuditActor, type Principal } from '../../auth/principal.js';
import { pathInScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import { businessDay, dayNumber, zonedToUtc } from '../../../domain/business-day.js';
import { maskPhone, parsePhone } from '../../../domain/phone.js';
import { parsePlate } from '../../../domain/plate.js';
import {
  allowedPlanActions,
  allowedProgress,
  branchOf,
  checkPlanStep,
  checkProgress,
  defaultNextDue,
  defaultPlanDue,
  defaultSampleSize,
  dispatchUnit,
  dueDayProblem,
  followerProblem,
  happenedDayProblem,
  isPlanState,
  isStage,
  nextApprovalPermission,
  pickSample,
  planOverdue,
  prospectOverdue,
  weekStart,
  IMPORTANCES,
  PROGRESS_STEPS,
  STAGES,
  type Actor,
  type Check,
  type Importance,
  type PathUnit,
  type PlanAction,
  type PlanFacts,
  type PlanState,
  type ProgressAction,
  type ProspectFacts,
  type Stage,
} from '../../../domain/development-plan.js';
import { recordAudit } from '../audit/audit.service.js';
import { closeWorkItem, excludeFromWorkItem, openWorkItem, openWorkItems } from '../work/work-items.js';
import type { CustomersService, CustomerKind } from '../customers/customers.service.js';
import {
  prospectsQueries as q,
  type PlanChanges,
  type PlanRow,
  type ProspectChanges,
  type ProspectFilter,
  type ProspectRow,
} from './prospects.queries.js';

export interface SurveyBody {
  orgUnitId?: number;
  kind: 'individual' | 'organisation';
  name: string;
  organisation?: string | null;
  contactName?: string | null;
  phone?: string | null;
  plates?: string[];
  vehicleCount?: number | null;
  monthlyLitres?: number | null;
  products?: string | null;
  demand: string;
  fuelUse?: string | null;
  settlementMethod?: string | null;
  competitor?: string | null;
  notes?: string | null;
  importance: Importance;
  /** Record him even though his phone or plate is already in the archive. */
  confirmDuplicate?: boolean;
}

export type SurveyPatch = Partial<Omit<SurveyBody, 'orgUnitId' | 'confirmDuplicate'>> & { version: number };

export interface ProgressBody {
  action: Exclude<ProgressAction, 'sign'>;
  note: string;
  day?: string;
  nextDueDay?: string;
}

export interface SignBody {
  note: string;
  day?: string;
  confirmDuplicate?: boolean;
}

export interface PlanItem {
  prospectId: number;
  importance: Importance;
  followerUserId: number | null;
}

/** Who flags what nobody did by hand: the overdue check. */
export const OVERDUE_ACTOR: AuditActor = { userId: null, name: 'job:dev-plan-overdue', ip: null };

const DAY_MS = 86_400_000;
const text = (v: string | null | undefined) => {
  const t = v?.trim();
  return t ? t : null;
};

function ruleActor(p: Principal): Actor {
  return { userId: p.userId, orgPath: p.orgPath, permissions: p.permissions };
}

function planFacts(r: PlanRow): PlanFacts {
  return {
    state: (isPlanState(r.state) ? r.state : 'draft') as PlanState,
    orgPath: r.org_path,
    compiledBy: r.compiled_by === null ? null : Number(r.compiled_by),
    deptApproverId: r.dept_approver_id === null ? null : Number(r.dept_approver_id),
  };
}

function prospectFacts(r: ProspectRow): ProspectFacts {
  return {
    stage: (isStage(r.stage) ? r.stage : 'surveyed') as Stage,
    dispatchPath: r.stage === 'surveyed' ? null : r.dispatch_path,
    followerUserId: r.follower_user_id === null ? null : Number(r.follower_user_id),
  };
}

function refusal(r: Extract<Check<unknown>, { ok: false }>): AppError {
  switch (r.reason) {
    case 'permission':
      return new AppError('PERMISSION_DENIED', r.message);
    case 'scope':
      return new AppError('SCOPE_DENIED', r.message);
    case 'own_plan':
    case 'same_approver':
      return new AppError('APPROVER_NOT_ELIGIBLE', r.message);
    case 'level':
    case 'follower':
      return new AppError('PERMISSION_DENIED', r.message);
    case 'order':
      return new AppError('CONFLICT', r.message);
  }
}

/** The end of a day on a unit's calendar, as an instant: when a task due that day falls due. */
export function endOfDay(day: string, timeZone: string): string {
  return new Date(zonedToUtc((dayNumber(day) + 1) * DAY_MS, timeZone) - 1000).toISOString();
}

const DUE_WHY = {
  invalid: 'is not a calendar day',
  past: 'must not be before today',
  too_far: 'must be within a year',
};
const DAY_WHY = {
  invalid: 'is not a calendar day',
  future: 'must not be after today',
  too_old: 'is more than a year ago',
};

export class ProspectsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
    private readonly customers: CustomersService,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private today(timeZone: string): string {
    return businessDay(this.now().getTime(), timeZone);
  }

  private phoneOut(p: Principal, phone: string | null): string | null {
    if (phone === null) return null;
    return can(p, 'customer.phone') ? phone : maskPhone(phone);
  }

  // ---- shaping -------------------------------------------------------------------------------

  private shapeProspect(p: Principal, r: ProspectRow) {
    const today = this.today(r.time_zone);
    const facts = prospectFacts(r);
    const actor = ruleActor(p);
    return {
      id: Number(r.id),
      orgUnitId: Number(r.org_unit_id),
      orgUnitName: r.org_unit_name,
      branchId: Number(r.branch_id),
      kind: r.kind as 'individual' | 'organisation',
      name: r.name,
      organisation: r.organisation,
      contactName: r.contact_name,
      phone: this.phoneOut(p, r.phone),
      plates: r.plates ? (JSON.parse(r.plates) as string[]) : [],
      vehicleCount: r.vehicle_count === null ? null : Number(r.vehicle_count),
      monthlyLitres: r.monthly_litres === null ? null : Number(r.monthly_litres),
      products: r.products,
      demand: r.demand,
      fuelUse: r.fuel_use,
      settlementMethod: r.settlement_method,
      competitor: r.competitor,
      notes: r.notes,
      importance: r.importance as Importance,
      stage: r.stage as Stage,
      surveyedByName: r.surveyed_by_name ?? null,
      surveyedAt: r.surveyed_at,
      surveyDay: r.survey_day,
      plan: r.plan_id === null ? null : { id: Number(r.plan_id), month: r.plan_month ?? '', state: r.plan_state ?? '' },
      dispatchUnit:
        r.dispatch_unit_id === null
          ? null
          : { id: Number(r.dispatch_unit_id), name: r.dispatch_unit_name ?? '', kindCode: r.dispatch_kind ?? '' },
      followerUserId: r.follower_user_id === null ? null : Number(r.follower_user_id),
      followerName: r.follower_name ?? null,
      dispatchedAt: r.dispatched_at,
      dueDay: r.due_day,
      overdue: prospectOverdue(facts.stage, r.due_day, today),
      overdueSince: r.overdue_day,
      lastProgressAt: r.last_progress_at,
      customer: r.customer_id === null ? null : { id: Number(r.customer_id), code: r.customer_code ?? '' },
      closedAt: r.closed_at,
      updatedAt: r.updated_at,
      version: Number(r.version),
      allowedActions: allowedProgress(facts, actor) as string[],
      canEdit: this.editProblem(p, r) === null,
    };
  }

  private shapePlan(p: Principal, r: PlanRow, counts: { stage: string; count: number }[] = []) {
    const facts = planFacts(r);
    const today = this.today(r.time_zone);
    const byStage = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
    for (const c of counts) if (isStage(c.stage)) byStage[c.stage] += c.count;
    return {
      id: Number(r.id),
      orgUnitId: Number(r.org_unit_id),
      orgUnitName: r.org_unit_name,
      month: r.month,
      state: facts.state,
      dueDay: r.due_day,
      overdue: planOverdue(facts.state, r.due_day, today),
      overdueSince: r.overdue_day,
      note: r.note,
      compiledBy: r.compiled_by === null ? null : Number(r.compiled_by),
      compiledByName: r.compiled_by_name ?? null,
      compiledAt: r.compiled_at,
      submittedAt: r.submitted_at,
      deptApproval:
        r.dept_approved_at === null
          ? null
          : { byName: r.dept_approver_name ?? null, at: r.dept_approved_at, note: r.dept_note },
      leaderApproval:
        r.leader_approved_at === null
          ? null
          : { byName: r.leader_approver_name ?? null, at: r.leader_approved_at, note: r.leader_note },
      dispatched: r.dispatched_at === null ? null : { byName: r.dispatched_by_name ?? null, at: r.dispatched_at },
      waitingFor: nextApprovalPermission(facts.state),
      counts: byStage,
      total: Object.values(byStage).reduce((a, b) => a + b, 0),
      updatedAt: r.updated_at,
      version: Number(r.version),
      allowedActions: allowedPlanActions(facts, ruleActor(p)) as string[],
    };
  }

  // ---- prospects -----------------------------------------------------------------------------

  /** What a survey or an edit stores, checked field by field. */
  private cleanFacts(body: Partial<SurveyBody>) {
    const out: ProspectChanges = {};
    if (body.kind !== undefined) out.kind = body.kind;
    if (body.name !== undefined) {
      const name = text(body.name);
      if (!name) throw new AppError('VALIDATION_FAILED', 'body.name must not be empty', 'body.name');
      out.name = name;
    }
    if (body.organisation !== undefined) out.organisation = text(body.organisation);
    if (body.contactName !== undefined) out.contact_name = text(body.contactName);
    if (body.phone !== undefined) {
      const raw = text(body.phone);
      if (raw === null) out.phone = null;
      else {
        const parsed = parsePhone(raw);
        if (!parsed.ok)
          throw new AppError('VALIDATION_FAILED', `phone ${JSON.stringify(raw)}: ${parsed.reason}`, 'body.phone');
        out.phone = parsed.national;
      }
    }
    if (body.plates !== undefined) {
      const plates = body.plates.map((x, i) => {
        const parsed = parsePlate(x);
        if (!parsed.ok)
          throw new AppError('VALIDATION_FAILED', `plate ${JSON.stringify(x)}: ${parsed.reason}`, `body.plates.${i}`);
        return parsed.plate;
      });
      out.plates = plates.length ? JSON.stringify([...new Set(plates)]) : null;
    }
    if (body.vehicleCount !== undefined) out.vehicle_count = body.vehicleCount;
    if (body.monthlyLitres !== undefined) out.monthly_litres = body.monthlyLitres;
    if (body.products !== undefined) out.products = text(body.products);
    if (body.demand !== undefined) {
      const demand = text(body.demand);
      if (!demand) throw new AppError('VALIDATION_FAILED', 'body.demand must say what he really needs', 'body.demand');
      out.demand = demand;
    }
    if (body.fuelUse !== undefined) out.fuel_use = text(body.fuelUse);
    if (body.settlementMethod !== undefined) out.settlement_method = text(body.settlementMethod);
    if (body.competitor !== undefined) out.competitor = text(body.competitor);
    if (body.notes !== undefined) out.notes = text(body.notes);
    if (body.importance !== undefined) out.importance = body.importance;
    return out;
  }

  /** A phone or plate already in the archive: recorded only when the surveyor confirms he is someone new. */
  private async duplicateCheck(p: Principal, facts: ProspectChanges, confirm: boolean | undefined) {
    if (confirm) return;
    const plates = facts.plates ? (JSON.parse(facts.plates) as string[]) : [];
    const dups = await this.customers.findDuplicates(p, {
      phones: facts.phone ? [{ phone: facts.phone, kind: 'mobile', label: null, contactName: null }] : [],
      vehicles: plates.map((plate) => ({ plate, kind: '', model: null })),
    });
    if (dups.length > 0)
      throw new AppError(
        'DUPLICATE_SUSPECTED',
        'a customer with this phone or plate is already on file',
        dups[0]!.on === 'plate' ? 'body.plates' : 'body.phone',
        dups,
      );
  }

  async survey(p: Principal, ip: string | null, body: SurveyBody) {
    const unitId = body.orgUnitId ?? p.orgUnitId;
    const unit = await q.unit(this.db, unitId);
    if (!unit) throw new AppError('VALIDATION_FAILED', `org unit ${unitId} does not exist`, 'body.orgUnitId');
    if (!pathInScope(p, unit.path))
      throw new AppError('SCOPE_DENIED', `org unit ${unitId} is outside your organisation`, 'body.orgUnitId');
    const branch = branchOf(await q.chain(this.db, unit.path));
    if (!branch)
      throw new AppError('VALIDATION_FAILED', 'a prospect is surveyed at a unit within a branch', 'body.orgUnitId');
    const facts = this.cleanFacts(body);
    await this.duplicateCheck(p, facts, body.confirmDuplicate);
    const now = this.now();
    const at = now.toISOString();
    const day = businessDay(now.getTime(), unit.time_zone);
    const id = await this.db.transaction().execute(async (trx) => {
      const id = await q.insertProspect(trx, {
        org_unit_id: unitId,
        branch_id: branch.id,
        kind: body.kind,
        name: facts.name!,
        organisation: facts.organisation ?? null,
        contact_name: facts.contact_name ?? null,
        phone: facts.phone ?? null,
        plates: facts.plates ?? null,
        vehicle_count: facts.vehicle_count ?? null,
        monthly_litres: facts.monthly_litres ?? null,
        products: facts.products ?? null,
        demand: facts.demand!,
        fuel_use: facts.fuel_use ?? null,
        settlement_method: facts.settlement_method ?? null,
        competitor: facts.competitor ?? null,
        notes: facts.notes ?? null,
        importance: body.importance,
        stage: 'surveyed',
        surveyed_by: p.userId,
        surveyed_at: at,
        survey_day: day,
        plan_id: null,
        dispatch_unit_id: null,
        follower_user_id: null,
        dispatched_at: null,
        due_day: null,
        last_progress_at: null,
        overdue_day: null,
        customer_id: null,
        closed_at: null,
        updated_at: at,
      });
      await q.insertProspectEvent(trx, {
        prospectId: id,
        action: 'survey',
        from: null,
        to: 'surveyed',
        day,
        note: facts.demand ?? null,
        actorUserId: p.userId,
        actorName: p.username,
        at,
      });
      await recordAudit(trx, actorOf(p, ip), {
        action: 'create',
        entity: 'prospect',
        entityId: id,
        orgUnitId: unitId,
        after: { ...facts, phone: facts.phone ? maskPhone(facts.phone) : null, importance: body.importance },
      });
      return id;
    });
    return this.get(p, id);
  }

  /** Why the reader may not edit the survey now, or null: before dispatch, in his subtree, while the plan is a draft. */
  private editProblem(p: Principal, r: ProspectRow): string | null {
    if (!can(p, 'customer.write')) return 'requires customer.write';
    if (r.stage !== 'surveyed') return `the prospect is ${r.stage}; the survey is kept as it was`;
    if (r.plan_state !== null && r.plan_state !== undefined && r.plan_state !== 'draft')
      return `the prospect's plan is ${r.plan_state}; it can be changed when the plan is sent back`;
    return null;
  }

  async update(p: Principal, ip: string | null, id: number, patch: SurveyPatch) {
    const facts = this.cleanFacts(patch);
    await this.db.transaction().execute(async (trx) => {
      const row = await q.prospect(trx, p, id);
      if (!row) throw new AppError('NOT_FOUND', `prospect ${id} not found`);
      const problem = this.editProblem(p, row);
      if (problem) throw new AppError('CONFLICT', problem);
      if (Number(row.version) !== patch.version)
        throw new AppError('VERSION_CONFLICT', 'someone else changed this prospect; reload to see it', 'body.version');
      const at = this.now().toISOString();
      // A new importance moves him to another level: the follower proposed for the old one no longer fits.
      const levelChanged = facts.importance !== undefined && facts.importance !== row.importance;
      const changes: ProspectChanges = {
        ...facts,
        ...(levelChanged && { dispatch_unit_id: null, follower_user_id: null }),
      };
      if (!(await q.moveProspect(trx, id, row.stage, Number(row.version), at, changes)))
        throw new AppError('VERSION_CONFLICT', 'someone else changed this prospect; reload to see it', 'body.version');
      const before: Record<string, unknown> = {};
      for (const k of Object.keys(facts)) before[k] = (row as Record<string, unknown>)[k];
      if ('phone' in before && typeof before.phone === 'string') before.phone = maskPhone(before.phone);
      await recordAudit(trx, actorOf(p, ip), {
        action: 'update',
        entity: 'prospect',
        entityId: id,
        orgUnitId: Number(row.org_unit_id),
        before,
        after: { ...facts, ...(facts.phone && { phone: maskPhone(facts.phone) }) },
      });
    });
    return this.get(p, id);
  }

  async list(
    p: Principal,
    query: Omit<ProspectFilter, 'overdueBefore' | 'unitPath'> & { overdue?: boolean; orgUnitId?: number },
  ) {
    const { overdue, orgUnitId, ...rest } = query;
    const filter: ProspectFilter = { ...rest };
    if (orgUnitId) filter.unitPath = (await this.unitInScope(p, orgUnitId, 'querystring.orgUnitId')).path;
    if (overdue) filter.overdueBefore = this.today(await this.zoneOf(p.orgUnitId));
    const page = await q.listProspects(this.db, this.engine, p, filter);
    return { total: page.total, items: page.rows.map((r) => this.shapeProspect(p, r)) };
  }

  private async zoneOf(unitId: number): Promise<string> {
    return (await q.unit(this.db, unitId))?.time_zone ?? 'Asia/Shanghai';
  }

  private async unitInScope(p: Principal, unitId: number, field: string) {
    const unit = await q.unit(this.db, unitId);
    if (!unit) throw new AppError('NOT_FOUND', `org unit ${unitId} not found`, field);
    if (!pathInScope(p, unit.path))
      throw new AppError('SCOPE_DENIED', `org unit ${unitId} is outside your organisation`, field);
    return unit;
  }

  async get(p: Principal, id: number) {
    const row = await q.prospect(this.db, p, id);
    if (!row) throw new AppError('NOT_FOUND', `prospect ${id} not found`);
    const events = await q.prospectEvents(this.db, id);
    return {
      ...this.shapeProspect(p, row),
      events: events.map((e) => ({
        id: Number(e.id),
        action: e.action,
        fromStage: e.from_stage,
        toStage: e.to_stage,
        day: e.day,
        dueDay: e.due_day,
        note: e.note,
        actorName: e.display_name ?? e.actor_name,
        bySystem: e.actor_user_id === null && e.actor_name.startsWith('job:'),
        at: e.at,
      })),
    };
  }

  /** The people who may follow the prospect at the unit its importance names. */
  async followers(p: Principal, id: number, importanceArg?: Importance) {
    const row = await q.prospect(this.db, p, id);
    if (!row) throw new AppError('NOT_FOUND', `prospect ${id} not found`);
    const importance = importanceArg ?? (row.importance as Importance);
    const target = dispatchUnit(await q.chain(this.db, row.org_path), importance);
    if (!target) return { unit: null, people: [] };
    const people = await q.followersAt(this.db, [target.id]);
    return {
      unit: { id: target.id, name: (await q.unit(this.db, target.id))?.name ?? '', kindCode: target.kindCode },
      people: people.map((u) => ({ id: Number(u.id), displayName: u.display_name, username: u.username })),
    };
  }

  /** Contact made, offer made, lost, or a follow-up note; each with the day it happened and what was done. */
  async progress(p: Principal, ip: string | null, id: number, body: ProgressBody) {
    const note = text(body.note);
    if (!note) throw new AppError('VALIDATION_FAILED', 'body.note must say what was done', 'body.note');
    await this.db.transaction().execute(async (trx) => {
      const row = await q.prospect(trx, p, id);
      if (!row) throw new AppError('NOT_FOUND', `prospect ${id} not found`);
      const check = checkProgress(body.action, prospectFacts(row), ruleActor(p));
      if (!check.ok) throw refusal(check);
      const today = this.today(row.time_zone);
      const day = this.happenedDay(body.day, today);
      const to = check.to;
      let dueDay: string | null = null;
      if (PROGRESS_STEPS[body.action].nextDue) {
        dueDay = body.nextDueDay ?? defaultNextDue(to, today);
        const problem = dueDay === null ? null : dueDayProblem(dueDay, today);
        if (problem) throw new AppError('VALIDATION_FAILED', `body.nextDueDay ${DUE_WHY[problem]}`, 'body.nextDueDay');
      }
      const at = this.now().toISOString();
      const closing = to === 'lost';
      const changes: ProspectChanges = {
        stage: to,
        due_day: closing ? null : dueDay,
        last_progress_at: at,
        overdue_day: null,
        ...(closing && { closed_at: at }),
      };
      if (!(await q.moveProspect(trx, id, row.stage, Number(row.version), at, changes)))
        throw new AppError('CONFLICT', `prospect ${id} was moved on by someone else`);
      await q.insertProspectEvent(trx, {
        prospectId: id,
        action: body.action,
        from: row.stage,
        to,
        day,
        dueDay: closing ? null : dueDay,
        note,
        actorUserId: p.userId,
        actorName: p.username,
        at,
      });
      if (closing) await closeWorkItem(trx, 'prospect', id, at);
      else
        await openWorkItem(
          trx,
          {
            kind: 'prospect',
            recordId: id,
            assigneeUserId: Number(row.follower_user_id),
            orgUnitId: Number(row.dispatch_unit_id),
            subject: row.name,
            dueAt: endOfDay(dueDay!, row.time_zone),
          },
          at,
        );
      await recordAudit(trx, actorOf(p, ip), {
        action: body.action === 'note' ? 'follow_up' : body.action,
        entity: 'prospect',
        entityId: id,
        orgUnitId: Number(row.org_unit_id),
        before: { stage: row.stage, dueDay: row.due_day },
        after: { stage: to, day, dueDay: closing ? null : dueDay, note },
      });
    });
    return this.get(p, id);
  }

  private happenedDay(day: string | undefined, today: string): string {
    if (day === undefined) return today;
    const problem = happenedDayProblem(day, today);
    if (problem) throw new AppError('VALIDATION_FAILED', `body.day ${DAY_WHY[problem]}`, 'body.day');
    return day;
  }

  /**
   * Signed: the prospect becomes a customer through the archive's own create path (its code, duplicate
   * checks and audit), owned by the follower, in the unit that surveyed him; the prospect links to it.
   * Both are written in one transaction: a refused customer leaves the prospect as it was.
   */
  async sign(p: Principal, ip: string | null, id: number, body: SignBody) {
    const note = text(body.note);
    if (!note) throw new AppError('VALIDATION_FAILED', 'body.note must say what was agreed', 'body.note');
    const row = await q.prospect(this.db, p, id);
    if (!row) throw new AppError('NOT_FOUND', `prospect ${id} not found`);
    const check = checkProgress('sign', prospectFacts(row), ruleActor(p));
    if (!check.ok) throw refusal(check);
    const today = this.today(row.time_zone);
    const day = this.happenedDay(body.day, today);
    const plates = row.plates ? (JSON.parse(row.plates) as string[]) : [];
    const notes = [row.demand && `开发需求：${row.demand}`, row.notes, note].filter(Boolean).join('\n');
    const customer = await this.customers.create(
      p,
      ip,
      {
        kind: row.kind as CustomerKind,
        orgUnitId: Number(row.org_unit_id),
        name: row.kind === 'organisation' ? (row.organisation ?? row.name) : row.name,
        organisation: row.organisation,
        ownerUserId: Number(row.follower_user_id),
        products: row.products,
        fuelUse: row.fuel_use,
        settlementMethod: row.settlement_method,
        demandVolume: row.monthly_litres === null ? null : `${row.monthly_litres} L/月`,
        otherStations: row.competitor,
        notes,
        phones: row.phone ? [{ phone: row.phone, contactName: row.contact_name }] : [],
        vehicles: plates.map((plate) => ({ plate })),
        confirmDuplicate: body.confirmDuplicate ?? false,
      },
      {
        inTransaction: async (trx, customerId) => {
          const at = this.now().toISOString();
          const changes: ProspectChanges = {
            stage: 'signed',
            customer_id: customerId,
            due_day: null,
            last_progress_at: at,
            overdue_day: null,
            closed_at: at,
          };
          if (!(await q.moveProspect(trx, id, row.stage, Number(row.version), at, changes)))
            throw new AppError('CONFLICT', `prospect ${id} was moved on by someone else`);
          await q.insertProspectEvent(trx, {
            prospectId: id,
            action: 'sign',
            from: row.stage,
            to: 'signed',
            day,
            note,
            actorUserId: p.userId,
            actorName: p.username,
            at,
          });
          await closeWorkItem(trx, 'prospect', id, at);
          await recordAudit(trx, actorOf(p, ip), {
            action: 'sign',
            entity: 'prospect',
            entityId: id,
            orgUnitId: Number(row.org_unit_id),
            before: { stage: row.stage },
            after: { stage: 'signed', day, note, customerId, ownerUserId: Number(row.follower_user_id) },
          });
        },
      },
    );
    return { prospect: await this.get(p, id), customerId: customer.id, customerCode: customer.code };
  }

  /** Counts by stage and importance in a unit's subtree (or a plan), with overdue counts. */
  async board(p: Principal, query: { orgUnitId?: number; planId?: number }) {
    let unitPath = p.orgPath;
    let zone = await this.zoneOf(p.orgUnitId);
    if (query.planId) {
      const plan = await q.plan(this.db, p, query.planId);
      if (!plan) throw new AppError('NOT_FOUND', `plan ${query.planId} not found`, 'querystring.planId');
      unitPath = plan.org_path;
      zone = plan.time_zone;
    } else if (query.orgUnitId) {
      const unit = await this.unitInScope(p, query.orgUnitId, 'querystring.orgUnitId');
      unitPath = unit.path;
      zone = unit.time_zone;
    }
    const rows = await q.board(this.db, this.engine, unitPath, query.planId, this.today(zone));
    const stages = STAGES.map((stage) => {
      const of = rows.filter((r) => r.stage === stage);
      return {
        stage,
        count: of.reduce((a, r) => a + r.count, 0),
        overdue: of.reduce((a, r) => a + r.overdue, 0),
        byImportance: Object.fromEntries(
          IMPORTANCES.map((i) => [i, of.filter((r) => r.importance === i).reduce((a, r) => a + r.count, 0)]),
        ) as Record<Importance, number>,
      };
    });
    return {
      stages,
      total: stages.reduce((a, s) => a + s.count, 0),
      overdue: stages.reduce((a, s) => a + s.overdue, 0),
    };
  }

  // ---- plans ---------------------------------------------------------------------------------

  /**
   * The branch's plan for a month: a draft collecting its surveyed prospects not yet in a plan, each
   * proposed to the unit its importance names and, there, to the person who surveyed him if he may
   * follow him, else to the first person who may.
   */
  async createPlan(
    p: Principal,
    ip: string | null,
    body: { orgUnitId: number; month: string; dueDay?: string; note?: string },
  ) {
    if (!can(p, 'prospect.plan')) throw new AppError('PERMISSION_DENIED', 'requires prospect.plan');
    const unit = await this.unitInScope(p, body.orgUnitId, 'body.orgUnitId');
    if (unit.kind_code !== 'branch')
      throw new AppError('VALIDATION_FAILED', 'a development plan is made for a branch', 'body.orgUnitId');
    const today = this.today(unit.time_zone);
    const dueDay = body.dueDay ?? defaultPlanDue(body.month);
    const problem = dueDayProblem(dueDay, today);
    if (problem && !(problem === 'past' && body.dueDay === undefined))
      throw new AppError('VALIDATION_FAILED', `body.dueDay ${DUE_WHY[problem]}`, 'body.dueDay');
    if (await q.planOf(this.db, unit.id, body.month))
      throw new AppError('CONFLICT', `the branch already has a plan for ${body.month}`, 'body.month');
    let id: number;
    try {
      id = await this.db.transaction().execute(async (trx) => {
        const at = this.now().toISOString();
        const id = await q.insertPlan(trx, {
          org_unit_id: unit.id,
          month: body.month,
          state: 'draft',
          due_day: dueDay,
          note: text(body.note),
          compiled_by: p.userId,
          compiled_at: at,
          submitted_at: null,
          dept_approver_id: null,
          dept_approved_at: null,
          dept_note: null,
          leader_approver_id: null,
          leader_approved_at: null,
          leader_note: null,
          dispatched_by: null,
          dispatched_at: null,
          overdue_day: null,
          updated_at: at,
        });
        const found = await q.unplannedOfBranch(trx, unit.id);
        await this.placeInPlan(
          trx,
          id,
          found.map((f) => ({
            prospectId: Number(f.id),
            importance: f.importance as Importance,
            followerUserId: null,
          })),
          at,
          true,
        );
        await q.insertPlanEvent(trx, {
          planId: id,
          action: 'compile',
          from: null,
          to: 'draft',
          actorUserId: p.userId,
          actorName: p.username,
          at,
          note: text(body.note),
        });
        await recordAudit(trx, actorOf(p, ip), {
          action: 'create',
          entity: 'dev_plan',
          entityId: id,
          orgUnitId: unit.id,
          after: { month: body.month, dueDay, prospects: found.map((f) => Number(f.id)) },
        });
        return id;
      });
    } catch (err) {
      if (isUniqueViolation(err))
        throw new AppError('CONFLICT', `the branch already has a plan for ${body.month}`, 'body.month');
      throw err;
    }
    return this.getPlan(p, id);
  }

  /**
   * Put prospects into a plan with their importance and follower. `propose` fills in a follower where
   * none is given: the surveyor if he may follow at that level, else the first who may.
   */
  private async placeInPlan(trx: Kysely<Database>, planId: number, items: PlanItem[], at: string, propose: boolean) {
    const rows = await q.prospectsByIds(
      trx,
      items.map((i) => i.prospectId),
    );
    const byId = new Map(rows.map((r) => [Number(r.id), r]));
    const chains = new Map<string, PathUnit[]>();
    const targets: { item: PlanItem; row: ProspectRow; target: PathUnit | null }[] = [];
    for (const item of items) {
      const row = byId.get(item.prospectId)!;
      let chain = chains.get(row.org_path);
      if (!chain) chains.set(row.org_path, (chain = await q.chain(trx, row.org_path)));
      targets.push({ item, row, target: dispatchUnit(chain, item.importance) });
    }
    const unitIds = [...new Set(targets.flatMap((t) => (t.target ? [t.target.id] : [])))];
    const people = await q.followersAt(trx, unitIds);
    for (const { item, row, target } of targets) {
      let follower = item.followerUserId;
      if (follower === null && propose && target) {
        const here = people.filter((u) => Number(u.org_unit_id) === target.id);
        const surveyor = here.find((u) => Number(u.id) === Number(row.surveyed_by));
        follower = surveyor ? Number(surveyor.id) : here[0] ? Number(here[0].id) : null;
      }
      await trx
        .updateTable('prospect')
        .set((eb) => ({
          plan_id: planId,
          importance: item.importance,
          dispatch_unit_id: target?.id ?? null,
          follower_user_id: follower,
          updated_at: at,
          version: eb('version', '+', 1),
        }))
        .where('id', '=', item.prospectId)
        .execute();
    }
  }

  async listPlans(
    p: Principal,
    query: { state?: string; month?: string; orgUnitId?: number; page: number; pageSize: number },
  ) {
    const { orgUnitId, ...rest } = query;
    const filter: Parameters<typeof q.listPlans>[3] = { ...rest };
    if (orgUnitId) filter.unitPath = (await this.unitInScope(p, orgUnitId, 'querystring.orgUnitId')).path;
    const page = await q.listPlans(this.db, this.engine, p, filter);
    const counts = await q.planCounts(
      this.db,
      page.rows.map((r) => Number(r.id)),
    );
    return {
      total: page.total,
      items: page.rows.map((r) =>
        this.shapePlan(
          p,
          r,
          counts.filter((c) => c.planId === Number(r.id)),
        ),
      ),
    };
  }

  async getPlan(p: Principal, id: number) {
    const row = await q.plan(this.db, p, id);
    if (!row) throw new AppError('NOT_FOUND', `plan ${id} not found`);
    const [items, events, samples] = await Promise.all([
      q.prospectsOfPlan(this.db, id),
      q.planEvents(this.db, id),
      q.samples(this.db, id),
    ]);
    const counts = items.map((r) => ({ stage: r.stage, count: 1 }));
    return {
      ...this.shapePlan(p, row, counts),
      prospects: items.map((r) => this.shapeProspect(p, r)),
      events: events.map((e) => ({
        id: Number(e.id),
        action: e.action,
        fromState: e.from_state,
        toState: e.to_state,
        actorName: e.display_name ?? e.actor_name,
        bySystem: e.actor_user_id === null && e.actor_name.startsWith('job:'),
        at: e.at,
        note: e.note,
      })),
      samples: samples.map((s) => ({
        id: Number(s.id),
        stationId: Number(s.station_id),
        stationName: s.station_name,
        week: s.week,
        snapshot: JSON.parse(s.snapshot) as Record<string, number>,
        pickedByName: s.picked_by_name ?? null,
        pickedAt: s.picked_at,
        finding: s.finding as 'on_track' | 'slow' | null,
        note: s.note,
        checkedByName: s.checked_by_name ?? null,
        checkedAt: s.checked_at,
      })),
    };
  }

  /** Replace the draft's prospects, their importance and proposed followers. */
  async setItems(p: Principal, ip: string | null, id: number, body: { items: PlanItem[]; version: number }) {
    await this.db.transaction().execute(async (trx) => {
      const plan = await q.plan(trx, p, id);
      if (!plan) throw new AppError('NOT_FOUND', `plan ${id} not found`);
      if (!can(p, 'prospect.plan')) throw new AppError('PERMISSION_DENIED', 'requires prospect.plan');
      if (plan.state !== 'draft') throw new AppError('CONFLICT', `the plan is ${plan.state}; only a draft is edited`);
      if (Number(plan.version) !== body.version)
        throw new AppError('VERSION_CONFLICT', 'someone else changed this plan; reload to see it', 'body.version');
      const seen = new Set<number>();
      const rows = new Map(
        (
          await q.prospectsByIds(
            trx,
            body.items.map((i) => i.prospectId),
          )
        ).map((r) => [Number(r.id), r]),
      );
      const targets = new Map<number, PathUnit | null>();
      for (const [i, item] of body.items.entries()) {
        const field = `body.items.${i}`;
        if (seen.has(item.prospectId))
          throw new AppError('VALIDATION_FAILED', `${field}.prospectId repeats`, `${field}.prospectId`);
        seen.add(item.prospectId);
        const row = rows.get(item.prospectId);
        if (!row || Number(row.branch_id) !== Number(plan.org_unit_id))
          throw new AppError(
            'VALIDATION_FAILED',
            `${field}.prospectId is not a prospect of this branch`,
            `${field}.prospectId`,
          );
        const elsewhere = row.plan_id !== null && Number(row.plan_id) !== id;
        if (row.stage !== 'surveyed' || elsewhere)
          throw new AppError(
            'VALIDATION_FAILED',
            `${field}.prospectId is already in another plan or under way`,
            `${field}.prospectId`,
          );
        const target = dispatchUnit(await q.chain(trx, row.org_path), item.importance);
        targets.set(item.prospectId, target);
        if (item.followerUserId !== null)
          await this.checkFollower(trx, target, item.followerUserId, `${field}.followerUserId`);
      }
      const at = this.now().toISOString();
      const before = await q.prospectsOfPlan(trx, id);
      const dropped = before.filter((r) => !seen.has(Number(r.id))).map((r) => Number(r.id));
      if (dropped.length)
        await trx
          .updateTable('prospect')
          .set((eb) => ({
            plan_id: null,
            dispatch_unit_id: null,
            follower_user_id: null,
            updated_at: at,
            version: eb('version', '+', 1),
          }))
          .where('id', 'in', dropped)
          .execute();
      await this.placeInPlan(trx, id, body.items, at, false);
      await q.movePlan(trx, id, 'draft', at, {});
      await recordAudit(trx, actorOf(p, ip), {
        action: 'update',
        entity: 'dev_plan',
        entityId: id,
        orgUnitId: Number(plan.org_unit_id),
        before: before.map((r) => ({
          prospectId: Number(r.id),
          importance: r.importance,
          followerUserId: r.follower_user_id,
        })),
        after: body.items,
      });
    });
    return this.getPlan(p, id);
  }

  /** A follower sits at the unit the importance names and may change customers. */
  private async checkFollower(trx: Kysely<Database>, target: PathUnit | null, userId: number, field: string) {
    if (!target) throw new AppError('ASSIGNEE_NOT_ELIGIBLE', 'no unit of that level above the prospect', field);
    const user = await q.user(trx, userId);
    if (!user) throw new AppError('ASSIGNEE_NOT_ELIGIBLE', `user ${userId} does not exist`, field);
    const problem = followerProblem(target, {
      orgUnitId: Number(user.org_unit_id),
      active: Number(user.active) === 1,
      permissions: await q.userPermissions(trx, userId),
    });
    if (problem) {
      const why = {
        inactive: 'the person is not active',
        permission: 'the person may not change customers',
        level: `the follower must sit at the ${target.kindCode} the importance names`,
      }[problem];
      throw new AppError('ASSIGNEE_NOT_ELIGIBLE', why, field);
    }
  }

  /** Submit, approve or send back (either slot), or dispatch: one step on the plan, with its trail and work. */
  async planStep(p: Principal, ip: string | null, id: number, action: PlanAction, body: { note?: string }) {
    const note = text(body.note);
    if ((action === 'reject_dept' || action === 'reject_leader') && !note)
      throw new AppError('VALIDATION_FAILED', 'body.note must say why the plan goes back', 'body.note');
    await this.db.transaction().execute(async (trx) => {
      const plan = await q.plan(trx, p, id);
      if (!plan) throw new AppError('NOT_FOUND', `plan ${id} not found`);
      const check = checkPlanStep(action, planFacts(plan), ruleActor(p));
      if (!check.ok) throw refusal(check);
      const at = this.now().toISOString();
      const items = await q.prospectsOfPlan(trx, id);
      const changes: PlanChanges = { state: check.to };
      if (action === 'submit') {
        if (items.length === 0) throw new AppError('CONFLICT', 'the plan has no prospects to approve');
        changes.submitted_at = at;
      } else if (action === 'approve_dept') {
        Object.assign(changes, { dept_approver_id: p.userId, dept_approved_at: at, dept_note: note });
      } else if (action === 'approve_leader') {
        Object.assign(changes, { leader_approver_id: p.userId, leader_approved_at: at, leader_note: note });
      } else if (action === 'reject_dept' || action === 'reject_leader') {
        // Back to the drafter: the approvals given are void and must be given again.
        Object.assign(changes, {
          submitted_at: null,
          dept_approver_id: null,
          dept_approved_at: null,
          dept_note: null,
          leader_approver_id: null,
          leader_approved_at: null,
          leader_note: null,
        });
      } else if (action === 'dispatch') {
        Object.assign(changes, { dispatched_by: p.userId, dispatched_at: at, overdue_day: null });
        await this.dispatchProspects(trx, p, plan, items, at);
      }
      if (!(await q.movePlan(trx, id, plan.state, at, changes)))
        throw new AppError('CONFLICT', `plan ${id} was moved on by someone else`);
      await q.insertPlanEvent(trx, {
        planId: id,
        action,
        from: plan.state,
        to: check.to,
        actorUserId: p.userId,
        actorName: p.username,
        at,
        note,
      });
      // The approval item waits for whoever holds the next slot; the compiler and the first approver never take it.
      const waiting = nextApprovalPermission(check.to);
      if (waiting) {
        const exclude = [plan.compiled_by, action === 'approve_dept' ? p.userId : null].filter(
          (x): x is number => x !== null,
        );
        await openWorkItem(
          trx,
          {
            kind: 'dev_plan_approval',
            recordId: id,
            assigneeUserId: null,
            permission: waiting,
            excludeUserIds: exclude.map(Number),
            orgUnitId: Number(plan.org_unit_id),
            subject: `${plan.org_unit_name} ${plan.month}`,
            dueAt: endOfDay(plan.due_day, plan.time_zone),
          },
          at,
        );
        if (action === 'approve_dept') await excludeFromWorkItem(trx, 'dev_plan_approval', id, p.userId, at);
      } else {
        await closeWorkItem(trx, 'dev_plan_approval', id, at, action.startsWith('reject') ? 'cancelled' : 'done');
      }
      await recordAudit(trx, actorOf(p, ip), {
        action: `plan_${action}`,
        entity: 'dev_plan',
        entityId: id,
        orgUnitId: Number(plan.org_unit_id),
        before: { state: plan.state },
        after: { state: check.to, ...(note && { note }) },
      });
    });
    return this.getPlan(p, id);
  }

  /** Every prospect of the approved plan goes to its follower, whose work item opens due in a week. */
  private async dispatchProspects(
    trx: Kysely<Database>,
    p: Principal,
    plan: PlanRow,
    items: ProspectRow[],
    at: string,
  ) {
    const today = this.today(plan.time_zone);
    const works = [];
    for (const [i, r] of items.entries()) {
      if (r.stage !== 'surveyed') continue;
      const chain = await q.chain(trx, r.org_path);
      const target = dispatchUnit(chain, r.importance as Importance);
      const field = `prospects.${i}.followerUserId`;
      if (r.follower_user_id === null)
        throw new AppError('ASSIGNEE_NOT_ELIGIBLE', `prospect ${r.id} (${r.name}) has no follower yet`, field);
      await this.checkFollower(trx, target, Number(r.follower_user_id), field);
      const dueDay = defaultNextDue('dispatched', today)!;
      if (
        !(await q.moveProspect(trx, Number(r.id), 'surveyed', Number(r.version), at, {
          stage: 'dispatched',
          dispatch_unit_id: target!.id,
          dispatched_at: at,
          due_day: dueDay,
        }))
      )
        throw new AppError('CONFLICT', `prospect ${r.id} was changed by someone else`);
      await q.insertProspectEvent(trx, {
        prospectId: Number(r.id),
        action: 'dispatch',
        from: 'surveyed',
        to: 'dispatched',
        day: today,
        dueDay,
        note: null,
        actorUserId: p.userId,
        actorName: p.username,
        at,
      });
      works.push({
        kind: 'prospect' as const,
        recordId: Number(r.id),
        assigneeUserId: Number(r.follower_user_id),
        orgUnitId: target!.id,
        subject: r.name,
        dueAt: endOfDay(dueDay, plan.time_zone),
      });
    }
    await openWorkItems(trx, works, at);
  }

  /**
   * The week's sample: the branch picks stations of the plan to check (those given, else a fifth of
   * the stations with dispatched prospects, drawn the same way for the same week), with their progress
   * by stage as it stands.
   */
  async pickSamples(
    p: Principal,
    ip: string | null,
    id: number,
    body: { week?: string; stationIds?: number[]; count?: number },
  ) {
    const plan = await q.plan(this.db, p, id);
    if (!plan) throw new AppError('NOT_FOUND', `plan ${id} not found`);
    if (!can(p, 'prospect.plan')) throw new AppError('PERMISSION_DENIED', 'requires prospect.plan');
    if (plan.state !== 'dispatched')
      throw new AppError('CONFLICT', `the plan is ${plan.state}; sampling follows dispatch`);
    const today = this.today(plan.time_zone);
    if (body.week !== undefined && happenedDayProblem(body.week, today) === 'invalid')
      throw new AppError('VALIDATION_FAILED', 'body.week is not a calendar day', 'body.week');
    const week = weekStart(body.week ?? today);
    if (week > today) throw new AppError('VALIDATION_FAILED', 'body.week must not be a future week', 'body.week');
    const stages = await q.stationStages(this.db, id);
    const stations = [...new Set(stages.map((s) => s.stationId))];
    const existing = await q.samples(this.db, id);
    let picked: number[];
    if (body.stationIds && body.stationIds.length > 0) {
      body.stationIds.forEach((s, i) => {
        if (!stations.includes(s))
          throw new AppError(
            'VALIDATION_FAILED',
            `body.stationIds.${i} has no prospects of this plan`,
            `body.stationIds.${i}`,
          );
      });
      picked = [...new Set(body.stationIds)];
    } else {
      const checkedBefore = new Set(existing.filter((s) => s.week !== week).map((s) => Number(s.station_id)));
      picked = pickSample(stations, checkedBefore, body.count ?? defaultSampleSize(stations.length), `${id}:${week}`);
    }
    const already = new Set(existing.filter((s) => s.week === week).map((s) => Number(s.station_id)));
    const fresh = picked.filter((s) => !already.has(s));
    await this.db.transaction().execute(async (trx) => {
      const at = this.now().toISOString();
      for (const station of fresh) {
        const snapshot = Object.fromEntries(
          stages.filter((s) => s.stationId === station).map((s) => [s.stage, s.count]),
        );
        await trx
          .insertInto('dev_plan_sample')
          .values({
            plan_id: id,
            station_id: station,
            week,
            snapshot: JSON.stringify(snapshot),
            picked_by: p.userId,
            picked_at: at,
            finding: null,
            note: null,
            checked_by: null,
            checked_at: null,
          })
          .onConflict((oc) => oc.columns(['plan_id', 'week', 'station_id']).doNothing())
          .execute();
      }
      await recordAudit(trx, actorOf(p, ip), {
        action: 'sample',
        entity: 'dev_plan',
        entityId: id,
        orgUnitId: Number(plan.org_unit_id),
        after: { week, stations: fresh },
      });
    });
    return this.getPlan(p, id);
  }

  /** What the check of a sampled station found: on track, or slow (special supervision). */
  async checkSample(
    p: Principal,
    ip: string | null,
    id: number,
    sampleId: number,
    body: { finding: 'on_track' | 'slow'; note: string },
  ) {
    const note = text(body.note);
    if (!note) throw new AppError('VALIDATION_FAILED', 'body.note must say what the check found', 'body.note');
    await this.db.transaction().execute(async (trx) => {
      const plan = await q.plan(trx, p, id);
      if (!plan) throw new AppError('NOT_FOUND', `plan ${id} not found`);
      if (!can(p, 'prospect.plan')) throw new AppError('PERMISSION_DENIED', 'requires prospect.plan');
      const sample = await trx
        .selectFrom('dev_plan_sample')
        .selectAll()
        .where('id', '=', sampleId)
        .where('plan_id', '=', id)
        .executeTakeFirst();
      if (!sample) throw new AppError('NOT_FOUND', `sample ${sampleId} not found in plan ${id}`, 'params.sampleId');
      const at = this.now().toISOString();
      await trx
        .updateTable('dev_plan_sample')
        .set({ finding: body.finding, note, checked_by: p.userId, checked_at: at })
        .where('id', '=', sampleId)
        .execute();
      await recordAudit(trx, actorOf(p, ip), {
        action: 'sample_check',
        entity: 'dev_plan',
        entityId: id,
        orgUnitId: Number(plan.org_unit_id),
        before: { sampleId, finding: sample.finding, note: sample.note },
        after: { sampleId, stationId: Number(sample.station_id), week: sample.week, finding: body.finding, note },
      });
    });
    return this.getPlan(p, id);
  }

  // ---- the nightly flag ----------------------------------------------------------------------

  /**
   * Flag plans not dispatched and prospects without their next step by the due day: once each, with
   * a line in the trail (the pages also compute the flag on reading). Returns how many were flagged.
   */
  async flagOverdue(today: string): Promise<{ plans: number; prospects: number }> {
    const found = await q.newlyOverdue(this.db, today);
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (trx) => {
      for (const r of found.prospects) {
        await trx.updateTable('prospect').set({ overdue_day: today }).where('id', '=', r.id).execute();
        await q.insertProspectEvent(trx, {
          prospectId: Number(r.id),
          action: 'overdue',
          from: r.stage,
          to: r.stage,
          day: today,
          dueDay: r.due_day,
          actorUserId: null,
          actorName: OVERDUE_ACTOR.name,
          at,
        });
      }
      for (const r of found.plans) {
        await trx.updateTable('dev_plan').set({ overdue_day: today }).where('id', '=', r.id).execute();
        await q.insertPlanEvent(trx, {
          planId: Number(r.id),
          action: 'overdue',
          from: r.state,
          to: r.state,
          actorUserId: null,
          actorName: OVERDUE_ACTOR.name,
          at,
          note: `due ${r.due_day}`,
        });
      }
      if (found.prospects.length + found.plans.length > 0)
        await recordAudit(trx, OVERDUE_ACTOR, {
          action: 'flag_overdue',
          entity: 'dev_plan',
          after: {
            day: today,
            prospects: found.prospects.map((r) => Number(r.id)),
            plans: found.plans.map((r) => Number(r.id)),
          },
        });
    });
    return { plans: found.plans.length, prospects: found.prospects.length };
  }
}
