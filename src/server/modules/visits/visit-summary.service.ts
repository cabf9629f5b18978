// The weekly visit summary of a branch for HQ (DOMAIN.md: "weekly visit summary per branch to HQ by
// Monday"): visits planned and done per unit and per person, problems raised, follow-ups overdue.
// Generated every Monday morning for the week before and kept; a page and an XLSX show it.
import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { actorOf, type Principal } from '../../auth/principal.js';
import { pathInScope } from '../../auth/scope.js';
import { likeEscape } from '../../db/dialect.js';
import { AppError } from '../../errors.js';
import { recordAudit } from '../audit/audit.service.js';
import { addDays, isCalendarDay } from '../../../domain/day-arithmetic.js';
import { weekStart as mondayOf } from '../../../domain/visit-plan.js';
import { businessDay } from '../../../domain/business-day.js';
import { num, unitOf, type Db } from './visits.common.js';
import { readerOf } from '../../db/replica.js';

export interface SummaryRow {
  id: number;
  name: string;
  planned: number;
  done: number;
  recorded: number;
  problems: number;
  followUpsOverdue: number;
}

export interface WeeklySummary {
  orgUnitId: number;
  orgUnitName: string;
  weekStart: string;
  weekEnd: string;
  generatedAt: string;
  /** Kept by the Monday job (false: computed now for a week not generated yet). */
  stored: boolean;
  totals: Omit<SummaryRow, 'id' | 'name'>;
  units: SummaryRow[];
  people: (SummaryRow & { orgUnitName: string })[];
}

type Acc = Omit<SummaryRow, 'id' | 'name'>;
const zero = (): Acc => ({ planned: 0, done: 0, recorded: 0, problems: 0, followUpsOverdue: 0 });

export class VisitSummaryService {
  /** Where the week's figures are read: the read replica when DATABASE_READ_URL is set. */
  private readonly read: Db;

  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.read = readerOf(db);
  }

  /** Figures of the week starting `weekStart` (a Monday) over the subtree of `orgUnitId`. */
  async compute(orgUnitId: number, weekStart: string): Promise<WeeklySummary> {
    const unit = await unitOf(this.read, orgUnitId);
    if (!unit) throw new AppError('NOT_FOUND', `org unit ${orgUnitId} not found`);
    const weekEnd = addDays(weekStart, 6);
    const prefix = `${likeEscape(unit.path)}%`;
    const under = sql<boolean>`o.path like ${prefix} escape '\\'`;
    const nowIso = this.now().toISOString();
    // The units of the subtree and where each sits: figures are given per unit of the row (station, area…).
    const units = await this.read
      .selectFrom('org_unit as o')
      .select(['o.id', 'o.name', 'o.path'])
      .where(under)
      .execute();
    const unitName = new Map(units.map((u) => [num(u.id), u.name]));

    const planned = await this.read
      .selectFrom('planned_visit as pv')
      .innerJoin('org_unit as o', 'o.id', 'pv.org_unit_id')
      .innerJoin('visit_plan as vp', 'vp.id', 'pv.plan_id')
      .select([
        'pv.org_unit_id',
        'pv.owner_user_id',
        (eb) => eb.fn.countAll<number>().as('planned'),
        (eb) => eb.fn.sum<number>(sql`case when pv.state = 'done' then 1 else 0 end`).as('done'),
      ])
      .where(under)
      .where('pv.planned_day', '>=', weekStart)
      .where('pv.planned_day', '<=', weekEnd)
      .where('pv.state', '!=', 'cancelled')
      .where('vp.state', '=', 'approved')
      .groupBy(['pv.org_unit_id', 'pv.owner_user_id'])
      .execute();
    const recorded = await this.read
      .selectFrom('visit_record as r')
      .innerJoin('org_unit as o', 'o.id', 'r.org_unit_id')
      .select(['r.org_unit_id', 'r.user_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where(under)
      .where('r.visited_day', '>=', weekStart)
      .where('r.visited_day', '<=', weekEnd)
      .groupBy(['r.org_unit_id', 'r.user_id'])
      .execute();
    const problems = await this.read
      .selectFrom('visit_problem as x')
      .innerJoin('org_unit as o', 'o.id', 'x.origin_unit_id')
      .select(['x.origin_unit_id', 'x.raised_by', (eb) => eb.fn.countAll<number>().as('n')])
      .where(under)
      .where('x.raised_day', '>=', weekStart)
      .where('x.raised_day', '<=', weekEnd)
      .groupBy(['x.origin_unit_id', 'x.raised_by'])
      .execute();
    // Overdue at the end of the week (or now, if that is earlier): still open past their due time.
    const endInstant = `${addDays(weekEnd, 1)}T00:00:00.000Z`;
    const asOf = nowIso < endInstant ? nowIso : endInstant;
    const overdue = await this.read
      .selectFrom('visit_follow_up as f')
      .innerJoin('org_unit as o', 'o.id', 'f.org_unit_id')
      .select(['f.org_unit_id', 'f.owner_user_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where(under)
      .where('f.due_at', '<', asOf)
      .where((eb) => eb.or([eb('f.state', '=', 'open'), eb('f.done_at', '>', asOf)]))
      .groupBy(['f.org_unit_id', 'f.owner_user_id'])
      .execute();

    const byUnit = new Map<number, Acc>();
    const byPerson = new Map<number, Acc>();
    const add = (unitId: number, userId: number | null, field: keyof Acc, n: number) => {
      let u = byUnit.get(unitId);
      if (!u) byUnit.set(unitId, (u = zero()));
      u[field] += n;
      if (userId === null) return;
      let pr = byPerson.get(userId);
      if (!pr) byPerson.set(userId, (pr = zero()));
      pr[field] += n;
    };
    for (const r of planned) {
      add(num(r.org_unit_id), num(r.owner_user_id), 'planned', Number(r.planned));
      add(num(r.org_unit_id), num(r.owner_user_id), 'done', Number(r.done ?? 0));
    }
    for (const r of recorded)
      add(num(r.org_unit_id), r.user_id === null ? null : num(r.user_id), 'recorded', Number(r.n));
    for (const r of problems)
      add(num(r.origin_unit_id), r.raised_by === null ? null : num(r.raised_by), 'problems', Number(r.n));
    for (const r of overdue)
      add(num(r.org_unit_id), r.owner_user_id === null ? null : num(r.owner_user_id), 'followUpsOverdue', Number(r.n));

    // People are counted once whatever units their customers sit in, under their own unit.
    const userIds = [...byPerson.keys()];
    const people = new Map<number, { name: string; unit: string }>();
    for (let i = 0; i < userIds.length; i += 5000) {
      const rows = await this.read
        .selectFrom('app_user as u')
        .innerJoin('org_unit as uo', 'uo.id', 'u.org_unit_id')
        .select(['u.id', 'u.display_name', 'uo.name as unit_name'])
        .where('u.id', 'in', userIds.slice(i, i + 5000))
        .execute();
      for (const r of rows) people.set(num(r.id), { name: r.display_name, unit: r.unit_name });
    }
    const totals = zero();
    for (const u of byUnit.values()) for (const k of Object.keys(totals) as (keyof Acc)[]) totals[k] += u[k];
    const order = (a: SummaryRow, b: SummaryRow) => b.planned - a.planned || a.name.localeCompare(b.name, 'zh-CN');
    return {
      orgUnitId,
      orgUnitName: unit.name,
      weekStart,
      weekEnd,
      generatedAt: nowIso,
      stored: false,
      totals,
      units: [...byUnit.entries()].map(([id, a]) => ({ id, name: unitName.get(id) ?? String(id), ...a })).sort(order),
      people: [...byPerson.entries()]
        .map(([userId, a]) => ({
          id: userId,
          name: people.get(userId)?.name ?? String(userId),
          orgUnitName: people.get(userId)?.unit ?? '',
          ...a,
        }))
        .sort(order),
    };
  }

  /** The Monday job: the week before, for every branch, kept (a re-run replaces it). */
  async generateAll(): Promise<{ branches: number; weekStart: string }> {
    const branches = await this.db
      .selectFrom('org_unit')
      .select(['id', 'time_zone'])
      .where('kind_code', '=', 'branch')
      .execute();
    let weekStart = '';
    for (const b of branches) {
      const today = businessDay(this.now().getTime(), b.time_zone);
      weekStart = addDays(mondayOf(today), -7);
      await this.store(await this.compute(num(b.id), weekStart));
    }
    return { branches: branches.length, weekStart };
  }

  private async store(s: WeeklySummary): Promise<void> {
    const body = JSON.stringify({ ...s, stored: true });
    await this.db
      .insertInto('weekly_summary')
      .values({ org_unit_id: s.orgUnitId, week_start: s.weekStart, body, generated_at: s.generatedAt })
      .onConflict((oc) => oc.columns(['org_unit_id', 'week_start']).doUpdateSet({ body, generated_at: s.generatedAt }))
      .execute();
  }

  private async checked(p: Principal, orgUnitId: number | undefined, weekStart: string | undefined) {
    const unitId = orgUnitId ?? p.orgUnitId;
    const unit = await unitOf(this.db, unitId);
    if (!unit) throw new AppError('VALIDATION_FAILED', `no org unit ${unitId}`, 'querystring.orgUnitId');
    if (!pathInScope(p, unit.path)) throw new AppError('SCOPE_DENIED', 'that unit is outside your organisation');
    const today = businessDay(this.now().getTime(), unit.timeZone);
    const ws = weekStart ?? addDays(mondayOf(today), -7);
    if (!isCalendarDay(ws))
      throw new AppError('VALIDATION_FAILED', 'weekStart is no day of the calendar', 'querystring.weekStart');
    if (mondayOf(ws) !== ws)
      throw new AppError('VALIDATION_FAILED', 'weekStart must be a Monday', 'querystring.weekStart');
    return { unitId, ws };
  }

  /** The kept summary of the week, or the figures as they stand if it was not generated yet. */
  async get(p: Principal, q: { orgUnitId?: number; weekStart?: string }): Promise<WeeklySummary> {
    const { unitId, ws } = await this.checked(p, q.orgUnitId, q.weekStart);
    const row = await this.db
      .selectFrom('weekly_summary')
      .select('body')
      .where('org_unit_id', '=', unitId)
      .where('week_start', '=', ws)
      .executeTakeFirst();
    if (row) return JSON.parse(row.body) as WeeklySummary;
    return this.compute(unitId, ws);
  }

  async generate(p: Principal, ip: string, body: { orgUnitId?: number; weekStart?: string }): Promise<WeeklySummary> {
    const { unitId, ws } = await this.checked(p, body.orgUnitId, body.weekStart);
    const s = await this.compute(unitId, ws);
    await this.store(s);
    await recordAudit(this.db, actorOf(p, ip), {
      action: 'visit_summary_generate',
      entity: 'weekly_summary',
      entityId: `${unitId}#${ws}`,
      orgUnitId: unitId,
      after: s.totals,
    });
    return { ...s, stored: true };
  }

  async xlsx(
    p: Principal,
    ip: string,
    q: { orgUnitId?: number; weekStart?: string },
  ): Promise<{ bytes: Buffer; fileName: string }> {
    const s = await this.get(p, q);
    const wb = new ExcelJS.Workbook();
    wb.creator = 'Forecourt';
    const headers = ['计划拜访', '已完成', '拜访记录', '上报问题', '逾期跟进'];
    const values = (r: Acc) => [r.planned, r.done, r.recorded, r.problems, r.followUpsOverdue];
    const head = wb.addWorksheet('汇总');
    head.addRow(['单位', s.orgUnitName]);
    head.addRow(['周', `${s.weekStart} 至 ${s.weekEnd}`]);
    head.addRow(['生成时间', s.generatedAt]);
    head.addRow([]);
    head.addRow(headers);
    head.addRow(values(s.totals));
    const units = wb.addWorksheet('按单位');
    units.addRow(['单位', ...headers]);
    for (const r of s.units) units.addRow([r.name, ...values(r)]);
    const people = wb.addWorksheet('按人员');
    people.addRow(['人员', '单位', ...headers]);
    for (const r of s.people) people.addRow([r.name, r.orgUnitName, ...values(r)]);
    for (const ws of [head, units, people]) {
      ws.getRow(ws === head ? 5 : 1).font = { bold: true };
      ws.columns.forEach((c) => (c.width = 14));
    }
    const bytes = Buffer.from(await wb.xlsx.writeBuffer());
    await recordAudit(this.db, actorOf(p, ip), {
      action: 'visit_summary_export',
      entity: 'weekly_summary',
      entityId: `${s.orgUnitId}#${s.weekStart}`,
      orgUnitId: s.orgUnitId,
    });
    return { bytes, fileName: `visit-summary-${s.weekStart}.xlsx` };
  }
}
