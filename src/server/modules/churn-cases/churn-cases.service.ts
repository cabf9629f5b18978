// Churn cases: an alert turned into a case of natural or non-natural loss, reported upward, given a
// second attempt by the level above, an exit survey for every lost customer, and a win-back when he
// buys again. The steps and who may take them are src/domain/churn-case-workflow.ts; this service
// loads the case, asks the workflow, writes the change with its trail and audit in one transaction.
//
// Win-back is found by comparing the customer's last visit day (kept on ingest) with the case's
// baseline (his last visit day when the case was opened): nightly for every live case (a handful per
// unit, read by state), and on reading for the cases a person is looking at, so no page shows a
// customer who has come back as lost. A hook in the ingest would be immediate, but would put a
// churn-case lookup into every chunk of every sale for the sake of a few hundred cases.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { isUniqueViolation, type Engine } from '../../db/dialect.js';
import { readerOf } from '../../db/replica.js';
import { actorOf, type Actor, type Principal } from '../../auth/principal.js';
import { pathInScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import { businessDay } from '../../../domain/business-day.js';
import { greetingOf } from '../../../domain/customer-profile.js';
import { isWithin } from '../../../domain/org-path.js';
import { addMonths } from '../../../domain/kpi.js';
import {
  allowedActions,
  checkStep,
  checkSurvey,
  dueDayProblem,
  isChurnCaseState,
  lossRate,
  monthlyRate,
  needsSurvey,
  LIVE_STATES,
  type CaseActor,
  type CaseFacts,
  type ChurnCaseAction,
  type ChurnCaseState,
  type ChurnCategory,
  type StepResult,
} from '../../../domain/churn-case-workflow.js';
import { currentPolicy } from '../policies/policies.service.js';
import { recordAudit } from '../audit/audit.service.js';
import { alertsQueries } from '../alerts/alerts.queries.js';
import { SnapshotStore } from '../dashboards/dashboards.snapshots.js';
import { syncChurnCaseWork } from './churn-cases.work.js';
import { churnCasesQueries as q, type CaseChanges, type CaseFilter, type CaseRow } from './churn-cases.queries.js';
import { markFollowedUp } from '../ownership/ownership.service.js';

export interface SurveyBody {
  reasonCode: string;
  freeText?: string;
}

export interface OpenBody {
  category: ChurnCategory;
  lossKind: string;
  note: string;
  survey?: SurveyBody;
}

export interface CatalogBody {
  lossKinds: { code: string; category: ChurnCategory; nameZh: string; nameEn: string; sort: number; active: boolean }[];
  reasons: { code: string; nameZh: string; nameEn: string; needsText: boolean; sort: number; active: boolean }[];
}

export interface ListQuery {
  state?: ChurnCaseState;
  mine?: boolean;
  orgUnitId?: number;
  lostMonth?: string;
  customerId?: number;
  alertIds?: number[];
  page: number;
  pageSize: number;
}

/** Who records what nobody did by hand: the win-back check. */
export const WIN_BACK_ACTOR: Actor = { userId: null, name: 'job:churn-win-backs', ip: null };

const text = (v: string | null | undefined) => (v === null || v === undefined ? null : v);

function caseActor(p: Principal): CaseActor {
  return { permissions: p.permissions, orgPath: p.orgPath, userId: p.userId };
}

function factsOf(r: CaseRow): CaseFacts {
  return {
    state: isChurnCaseState(r.state) ? r.state : null,
    category: r.category as ChurnCategory,
    orgPath: r.org_path,
    assigneeUserId: r.assignee_user_id === null ? null : Number(r.assignee_user_id),
  };
}

/** The error a refused step answers with. */
function refusal(r: Extract<StepResult, { ok: false }>): AppError {
  switch (r.reason) {
    case 'permission':
    case 'system':
      return new AppError('PERMISSION_DENIED', r.message);
    case 'scope':
      return new AppError('SCOPE_DENIED', r.message);
    case 'level':
    case 'assignee':
      return new AppError('CHURN_LEVEL_DENIED', r.message);
    case 'order':
      return new AppError('CONFLICT', r.message);
  }
}

function toCase(r: CaseRow, today: string) {
  return {
    id: Number(r.id),
    state: r.state as ChurnCaseState,
    category: r.category as ChurnCategory,
    lossKind: { code: r.loss_kind_code, nameZh: r.loss_kind_zh, nameEn: r.loss_kind_en },
    note: r.note,
    alertId: r.alert_id === null ? null : Number(r.alert_id),
    orgUnitId: Number(r.org_unit_id),
    orgUnitName: r.org_unit_name,
    customer: {
      id: Number(r.customer_id),
      code: r.code,
      kind: r.customer_kind,
      name: r.name,
      greeting: greetingOf(r.surname, r.name, r.gender),
      organisation: r.organisation,
      plate: r.plate,
      lastVisitDay: r.last_visit_day,
    },
    openedAt: r.opened_at,
    openedByName: text(r.opened_by_name),
    report:
      r.reported_at === null
        ? null
        : { text: r.report_text ?? '', byName: text(r.reported_by_name), at: r.reported_at },
    secondAttempt:
      r.assigned_at === null
        ? null
        : {
            assigneeUserId: r.assignee_user_id === null ? null : Number(r.assignee_user_id),
            assigneeName: text(r.assignee_name),
            dueDay: r.due_day ?? '',
            assignedByName: text(r.assigned_by_name),
            assignedAt: r.assigned_at,
            overdue: r.state === 'second_attempt' && r.due_day !== null && r.due_day < today,
          },
    outcome:
      r.outcome_at === null ? null : { note: r.outcome_note ?? '', byName: text(r.outcome_by_name), at: r.outcome_at },
    lostAt: r.lost_at,
    lostDay: r.lost_day,
    lostMonth: r.lost_month,
    wonBack: r.won_back_at === null ? null : { at: r.won_back_at, day: r.won_back_day },
    survey:
      r.reason_code === null
        ? null
        : {
            reasonCode: r.reason_code,
            reasonNameZh: r.reason_zh ?? r.reason_code,
            reasonNameEn: r.reason_en ?? r.reason_code,
            freeText: r.free_text,
            recordedByName: text(r.survey_by_name),
            recordedAt: r.survey_at ?? '',
          },
    updatedAt: r.updated_at,
    version: Number(r.version),
  };
}

export type ChurnCase = ReturnType<typeof toCase>;

export interface ChurnCasesOptions {
  /** The loss rate of a large unit is kept as a dashboard snapshot this long (Config.dashboardSnapshotMinutes; 0: computed every time). */
  snapshotMinutes?: number;
  onBackgroundError?: (err: unknown) => void;
}

type UnitRow = NonNullable<Awaited<ReturnType<typeof q.unit>>>;

export class ChurnCasesService {
  private readonly snapshots: SnapshotStore;
  /**
   * The loss rate's counts are read here: the read replica when one is configured (DATABASE_READ_URL).
   * The unit and scope check, the policy and the snapshot stay on the primary, as the dashboards do.
   */
  private readonly read: Kysely<Database>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
    private readonly now: () => Date = () => new Date(),
    opts: ChurnCasesOptions = {},
  ) {
    this.read = readerOf(db);
    this.snapshots = new SnapshotStore(db, now, opts.snapshotMinutes ?? 0, opts.onBackgroundError);
  }

  /** Today on the case unit's calendar. */
  private today(timeZone: string): string {
    return businessDay(this.now().getTime(), timeZone);
  }

  private shaped(p: Principal, r: CaseRow) {
    const facts = factsOf(r);
    const actor = caseActor(p);
    return {
      ...toCase(r, this.today(r.time_zone)),
      allowedActions: allowedActions(facts, actor),
      canRecordSurvey: checkSurvey(facts, actor).ok,
    };
  }

  async catalog() {
    const [kinds, reasons] = await Promise.all([q.lossKinds(this.db), q.reasons(this.db)]);
    return {
      lossKinds: kinds.map((k) => ({
        code: k.code,
        category: k.category as ChurnCategory,
        nameZh: k.name_zh,
        nameEn: k.name_en,
        sort: Number(k.sort),
        active: Number(k.active) === 1,
      })),
      reasons: reasons.map((r) => ({
        code: r.code,
        nameZh: r.name_zh,
        nameEn: r.name_en,
        needsText: Number(r.needs_text) === 1,
        sort: Number(r.sort),
        active: Number(r.active) === 1,
      })),
    };
  }

  /**
   * Rename, reorder, retire or add kinds of loss and survey reasons. Codes stay: cases and surveys
   * name them, so a code is retired (inactive), never removed, and a kind keeps its category.
   */
  async saveCatalog(p: Principal, ip: string | null, body: CatalogBody) {
    const before = await this.catalog();
    const kindCategory = new Map(before.lossKinds.map((k) => [k.code, k.category]));
    const unique = (codes: string[], field: string) => {
      const seen = new Set<string>();
      codes.forEach((c, i) => {
        if (seen.has(c))
          throw new AppError('VALIDATION_FAILED', `${field}.${i}.code repeats ${c}`, `body.${field}.${i}.code`);
        seen.add(c);
      });
    };
    unique(
      body.lossKinds.map((k) => k.code),
      'lossKinds',
    );
    unique(
      body.reasons.map((r) => r.code),
      'reasons',
    );
    body.lossKinds.forEach((k, i) => {
      const was = kindCategory.get(k.code);
      if (was !== undefined && was !== k.category)
        throw new AppError(
          'VALIDATION_FAILED',
          `lossKinds.${i}.category cannot change (${k.code} is ${was})`,
          `body.lossKinds.${i}.category`,
        );
    });
    // Every code on file must stay listed (retired, if need be): the list is the whole catalogue.
    const listedKinds = new Set(body.lossKinds.map((k) => k.code));
    const missingKind = before.lossKinds.find((k) => !listedKinds.has(k.code));
    if (missingKind)
      throw new AppError(
        'VALIDATION_FAILED',
        `lossKinds must keep ${missingKind.code}; retire it instead`,
        'body.lossKinds',
      );
    const listedReasons = new Set(body.reasons.map((r) => r.code));
    const missingReason = before.reasons.find((r) => !listedReasons.has(r.code));
    if (missingReason)
      throw new AppError(
        'VALIDATION_FAILED',
        `reasons must keep ${missingReason.code}; retire it instead`,
        'body.reasons',
      );
    for (const category of ['natural', 'non_natural'] as const) {
      if (!body.lossKinds.some((k) => k.active && k.category === category))
        throw new AppError('VALIDATION_FAILED', `lossKinds need an active ${category} kind`, 'body.lossKinds');
    }
    if (!body.reasons.some((r) => r.active))
      throw new AppError('VALIDATION_FAILED', 'reasons need an active reason', 'body.reasons');

    await this.db.transaction().execute(async (trx) => {
      for (const k of body.lossKinds)
        await q.upsertLossKind(trx, { ...k, nameZh: k.nameZh.trim(), nameEn: k.nameEn.trim() });
      for (const r of body.reasons)
        await q.upsertReason(trx, { ...r, nameZh: r.nameZh.trim(), nameEn: r.nameEn.trim() });
      await recordAudit(trx, actorOf(p, ip), {
        action: 'update',
        entity: 'churn_catalog',
        orgUnitId: p.orgUnitId,
        before,
        after: body,
      });
    });
    return this.catalog();
  }

  /** A survey answer checked against the reasons on file: active, with words where the reason asks for them. */
  private async cleanSurvey(
    db: Kysely<Database>,
    s: SurveyBody,
    prefix: string,
  ): Promise<{ reasonCode: string; freeText: string | null }> {
    const reason = (await q.reasons(db)).find((r) => r.code === s.reasonCode);
    if (!reason || Number(reason.active) !== 1) {
      throw new AppError('VALIDATION_FAILED', `${prefix}reasonCode is not a reason in use`, `body.${prefix}reasonCode`);
    }
    const freeText = s.freeText?.trim() || null;
    if (Number(reason.needs_text) === 1 && !freeText) {
      throw new AppError(
        'VALIDATION_FAILED',
        `${prefix}freeText must say more for ${reason.code}`,
        `body.${prefix}freeText`,
      );
    }
    return { reasonCode: reason.code, freeText };
  }

  async list(p: Principal, query: ListQuery) {
    const filter: CaseFilter = { page: query.page, pageSize: query.pageSize };
    if (query.state) filter.state = query.state;
    if (query.mine) filter.mine = true;
    if (query.lostMonth) filter.lostMonth = query.lostMonth;
    if (query.customerId) filter.customerId = query.customerId;
    if (query.alertIds) filter.alertIds = query.alertIds;
    if (query.orgUnitId) {
      const unit = await q.unit(this.db, query.orgUnitId);
      if (!unit) throw new AppError('NOT_FOUND', `org unit ${query.orgUnitId} not found`, 'querystring.orgUnitId');
      if (!pathInScope(p, unit.path)) {
        throw new AppError(
          'SCOPE_DENIED',
          `org unit ${query.orgUnitId} is outside your organisation`,
          'querystring.orgUnitId',
        );
      }
      filter.unitPath = unit.path;
    }
    let page = await q.list(this.db, this.engine, p, filter);
    // A customer on this page who has bought since: his return is recorded before he is shown.
    const returned = page.rows.filter((r) => hasReturned(r.state, r.baseline_day, r.last_visit_day));
    if (returned.length > 0 && (await this.recordWinBacks(returned.map((r) => Number(r.id)))) > 0) {
      page = await q.list(this.db, this.engine, p, filter);
    }
    return { total: page.total, items: page.rows.map((r) => this.shaped(p, r)) };
  }

  async get(p: Principal, id: number) {
    let row = await q.one(this.db, p, id);
    if (!row) throw new AppError('NOT_FOUND', `churn case ${id} not found`);
    if (hasReturned(row.state, row.baseline_day, row.last_visit_day) && (await this.recordWinBacks([id])) > 0) {
      row = (await q.one(this.db, p, id))!;
    }
    const events = await q.events(this.db, id);
    return {
      ...this.shaped(p, row),
      events: events.map((e) => ({
        id: Number(e.id),
        action: e.action,
        fromState: e.from_state,
        toState: e.to_state,
        // The person's name as it is now; the system's steps (and departed users') by the name recorded.
        actorName: e.display_name ?? e.actor_name,
        bySystem: e.actor_user_id === null && e.actor_name.startsWith('job:'),
        at: e.at,
        detail: e.detail ? (JSON.parse(e.detail) as Record<string, unknown>) : {},
      })),
    };
  }

  /**
   * Open a case from an alert. A natural loss is lost at once and needs its exit survey now; a
   * non-natural one waits for its written report. The alert, if still open, is closed by the case.
   */
  async openFromAlert(p: Principal, ip: string | null, alertId: number, body: OpenBody) {
    const note = body.note.trim();
    if (!note) throw new AppError('VALIDATION_FAILED', 'body.note must not be empty', 'body.note');
    const kind = (await q.lossKinds(this.db)).find((k) => k.code === body.lossKind);
    if (!kind || Number(kind.active) !== 1 || kind.category !== body.category) {
      throw new AppError(
        'VALIDATION_FAILED',
        `lossKind is not a ${body.category} kind of loss in use`,
        'body.lossKind',
      );
    }
    if (needsSurvey('open', body.category) && !body.survey) {
      throw new AppError('EXIT_SURVEY_REQUIRED', 'a lost customer needs an exit survey', 'body.survey');
    }
    const survey = body.survey ? await this.cleanSurvey(this.db, body.survey, 'survey.') : null;
    const actor = actorOf(p, ip);
    const id = await this.db.transaction().execute(async (trx) => {
      const alert = await q.alertForCase(trx, alertId);
      if (!alert) throw new AppError('NOT_FOUND', `alert ${alertId} not found`);
      const customerId = Number(alert.customer_id);
      const orgUnitId = Number(alert.org_unit_id);
      const check = checkStep(
        'open',
        { state: null, category: body.category, orgPath: alert.path, assigneeUserId: null },
        caseActor(p),
      );
      if (!check.ok) throw refusal(check);
      const existing = await q.existingCase(trx, alertId, customerId);
      if (existing) {
        throw new AppError('CHURN_CASE_EXISTS', `the customer already has churn case ${existing.id}`, undefined, {
          caseId: Number(existing.id),
        });
      }
      const now = this.now();
      const at = now.toISOString();
      const day = businessDay(now.getTime(), alert.time_zone);
      const lost = check.to === 'lost' ? { at, day, month: day.slice(0, 7) } : null;
      let caseId: number;
      try {
        caseId = await q.insertCase(trx, {
          customerId,
          orgUnitId,
          alertId,
          category: body.category,
          lossKindCode: kind.code,
          state: check.to,
          note,
          baselineDay: alert.last_visit_day,
          openedBy: p.userId,
          at,
          lost,
        });
      } catch (err) {
        // Two people turning the customer's alerts into cases at once: the second finds the first's.
        if (isUniqueViolation(err)) throw new AppError('CHURN_CASE_EXISTS', 'the customer already has a churn case');
        throw err;
      }
      if (survey) await q.saveSurvey(trx, { caseId, customerId, ...survey, by: p.userId, at });
      await syncChurnCaseWork(trx, caseId, at);
      await markFollowedUp(trx, customerId, p.userId, at);
      const detail = { category: body.category, lossKind: kind.code, note, ...(survey && { survey }) };
      await q.insertEvent(trx, {
        caseId,
        action: 'open',
        from: null,
        to: check.to,
        actorUserId: p.userId,
        actorName: p.username,
        at,
        detail,
      });
      await recordAudit(trx, actor, {
        action: 'create',
        entity: 'churn_case',
        entityId: caseId,
        orgUnitId,
        after: { alertId, state: check.to, ...detail },
      });
      // The alert's work is now the case's: its queue entry is closed with what was found.
      const closed = { contactMade: note, reasonFound: kind.name_zh, actionTaken: `churn_case:${caseId}` };
      if (alert.status === 'open' && (await alertsQueries.close(trx, alertId, p.userId, at, closed))) {
        await recordAudit(trx, actor, {
          action: 'close',
          entity: 'alert',
          entityId: alertId,
          orgUnitId,
          before: { status: 'open' },
          after: { status: 'closed', ...closed },
        });
      }
      return caseId;
    });
    return this.get(p, id);
  }

  /** Take a step on a case: loaded in scope, checked by the workflow, moved from the state it was read in. */
  private async step(
    trx: Kysely<Database>,
    p: Principal,
    id: number,
    action: ChurnCaseAction,
    changes: CaseChanges,
    detail: Record<string, unknown>,
  ) {
    const row = await q.one(trx, p, id);
    if (!row) throw new AppError('NOT_FOUND', `churn case ${id} not found`);
    const check = checkStep(action, factsOf(row), caseActor(p));
    if (!check.ok) throw refusal(check);
    const at = this.now().toISOString();
    if (!(await q.moveCase(trx, id, row.state, at, { state: check.to, ...changes }))) {
      throw new AppError('CONFLICT', `churn case ${id} was moved on by someone else`);
    }
    await q.insertEvent(trx, {
      caseId: id,
      action,
      from: row.state,
      to: check.to,
      actorUserId: p.userId,
      actorName: p.username,
      at,
      detail,
    });
    await syncChurnCaseWork(trx, id, at);
    // A step the customer's owner takes is a follow-up of his (the public pool's window moves on).
    await markFollowedUp(trx, Number(row.customer_id), p.userId, at);
    return { row, to: check.to, at };
  }

  /** The written report of a non-natural loss to the level above. */
  async report(p: Principal, ip: string | null, id: number, body: { report: string }) {
    const report = body.report.trim();
    if (!report) throw new AppError('VALIDATION_FAILED', 'body.report must not be empty', 'body.report');
    await this.db.transaction().execute(async (trx) => {
      const at = this.now().toISOString();
      const { row, to } = await this.step(
        trx,
        p,
        id,
        'report',
        { report_text: report, reported_by: p.userId, reported_at: at },
        { report },
      );
      await recordAudit(trx, actorOf(p, ip), {
        action: 'report',
        entity: 'churn_case',
        entityId: id,
        orgUnitId: Number(row.org_unit_id),
        before: { state: row.state },
        after: { state: to, report },
      });
    });
    return this.get(p, id);
  }

  /** The people the level above may send: at the case's unit or above it, within the assigner's subtree. */
  async assignees(p: Principal, id: number) {
    const row = await q.one(this.db, p, id);
    if (!row) throw new AppError('NOT_FOUND', `churn case ${id} not found`);
    const check = checkStep('assign', { ...factsOf(row), state: 'reported' }, caseActor(p));
    if (!check.ok) throw refusal(check);
    const users = await q.assignees(this.db, this.engine, row.org_path, p.orgPath);
    return users.map((u) => ({
      id: Number(u.id),
      displayName: u.display_name,
      username: u.username,
      orgUnitId: Number(u.org_unit_id),
      orgUnitName: u.org_unit_name,
    }));
  }

  /** The level above names the person for the second attempt and the day it is due. */
  async assign(
    p: Principal,
    ip: string | null,
    id: number,
    body: { assigneeUserId: number; dueDay: string; note?: string },
  ) {
    const note = body.note?.trim() || null;
    await this.db.transaction().execute(async (trx) => {
      const current = await q.one(trx, p, id);
      if (!current) throw new AppError('NOT_FOUND', `churn case ${id} not found`);
      // Who may comes first: a person without the right learns that, not what was wrong with his input.
      const check = checkStep('assign', factsOf(current), caseActor(p));
      if (!check.ok) throw refusal(check);
      const problem = dueDayProblem(body.dueDay, this.today(current.time_zone));
      if (problem) {
        const why = {
          invalid: 'is not a calendar day',
          past: 'must come after today',
          too_far: 'must be within a year',
        }[problem];
        throw new AppError('VALIDATION_FAILED', `body.dueDay ${why}`, 'body.dueDay');
      }
      const eligible = await q.assignees(trx, this.engine, current.org_path, p.orgPath);
      const person = eligible.find((u) => Number(u.id) === body.assigneeUserId);
      if (!person) {
        const why = 'the person must be active, allowed to change customers and see the case';
        throw new AppError('ASSIGNEE_NOT_ELIGIBLE', why, 'body.assigneeUserId');
      }
      const at = this.now().toISOString();
      const changes: CaseChanges = {
        assignee_user_id: body.assigneeUserId,
        due_day: body.dueDay,
        assigned_by: p.userId,
        assigned_at: at,
      };
      const detail = {
        assigneeUserId: body.assigneeUserId,
        assigneeName: person.display_name,
        dueDay: body.dueDay,
        ...(note && { note }),
      };
      const { row, to } = await this.step(trx, p, id, 'assign', changes, detail);
      await recordAudit(trx, actorOf(p, ip), {
        action: 'assign',
        entity: 'churn_case',
        entityId: id,
        orgUnitId: Number(row.org_unit_id),
        before: { state: row.state, assigneeUserId: row.assignee_user_id, dueDay: row.due_day },
        after: { state: to, ...detail },
      });
    });
    return this.get(p, id);
  }

  /** The second attempt kept the customer. */
  async retain(p: Principal, ip: string | null, id: number, body: { note: string }) {
    const note = body.note.trim();
    if (!note) throw new AppError('VALIDATION_FAILED', 'body.note must not be empty', 'body.note');
    await this.db.transaction().execute(async (trx) => {
      const at = this.now().toISOString();
      const { row, to } = await this.step(
        trx,
        p,
        id,
        'retain',
        { outcome_note: note, outcome_by: p.userId, outcome_at: at },
        { note },
      );
      await recordAudit(trx, actorOf(p, ip), {
        action: 'retain',
        entity: 'churn_case',
        entityId: id,
        orgUnitId: Number(row.org_unit_id),
        before: { state: row.state },
        after: { state: to, note },
      });
    });
    return this.get(p, id);
  }

  /** The second attempt failed: the customer is lost, with his exit survey (on file or given now). */
  async confirmLost(p: Principal, ip: string | null, id: number, body: { note: string; survey?: SurveyBody }) {
    const note = body.note.trim();
    if (!note) throw new AppError('VALIDATION_FAILED', 'body.note must not be empty', 'body.note');
    const survey = body.survey ? await this.cleanSurvey(this.db, body.survey, 'survey.') : null;
    await this.db.transaction().execute(async (trx) => {
      const current = await q.one(trx, p, id);
      if (!current) throw new AppError('NOT_FOUND', `churn case ${id} not found`);
      const check = checkStep('confirm_lost', factsOf(current), caseActor(p));
      if (!check.ok) throw refusal(check);
      if (!survey && current.reason_code === null) {
        throw new AppError('EXIT_SURVEY_REQUIRED', 'a lost customer needs an exit survey', 'body.survey');
      }
      const now = this.now();
      const at = now.toISOString();
      const day = businessDay(now.getTime(), current.time_zone);
      const changes: CaseChanges = {
        outcome_note: note,
        outcome_by: p.userId,
        outcome_at: at,
        lost_at: at,
        lost_day: day,
        lost_month: day.slice(0, 7),
      };
      const { row, to } = await this.step(trx, p, id, 'confirm_lost', changes, { note, ...(survey && { survey }) });
      if (survey)
        await q.saveSurvey(trx, { caseId: id, customerId: Number(row.customer_id), ...survey, by: p.userId, at });
      await recordAudit(trx, actorOf(p, ip), {
        action: 'confirm_lost',
        entity: 'churn_case',
        entityId: id,
        orgUnitId: Number(row.org_unit_id),
        before: { state: row.state },
        after: { state: to, note, lostDay: day, ...(survey && { survey }) },
      });
    });
    return this.get(p, id);
  }

  /** Record or correct the exit survey: why the customer left, in his words. */
  async saveSurvey(p: Principal, ip: string | null, id: number, body: SurveyBody) {
    const survey = await this.cleanSurvey(this.db, body, '');
    await this.db.transaction().execute(async (trx) => {
      const row = await q.one(trx, p, id);
      if (!row) throw new AppError('NOT_FOUND', `churn case ${id} not found`);
      const check = checkSurvey(factsOf(row), caseActor(p));
      if (!check.ok) throw refusal(check);
      const before = await q.survey(trx, id);
      const at = this.now().toISOString();
      await q.saveSurvey(trx, { caseId: id, customerId: Number(row.customer_id), ...survey, by: p.userId, at });
      await q.insertEvent(trx, {
        caseId: id,
        action: 'survey',
        from: row.state,
        to: row.state,
        actorUserId: p.userId,
        actorName: p.username,
        at,
        detail: survey,
      });
      await recordAudit(trx, actorOf(p, ip), {
        action: 'exit_survey',
        entity: 'churn_case',
        entityId: id,
        orgUnitId: Number(row.org_unit_id),
        before: before ? { reasonCode: before.reason_code, freeText: before.free_text } : null,
        after: survey,
      });
    });
    return this.get(p, id);
  }

  /**
   * Record the return of every customer with a live case (or of the cases `ids`) who has bought since
   * the case's baseline: the case is won back with the first purchase after it. Returns how many.
   */
  async recordWinBacks(ids?: number[]): Promise<number> {
    const found = await q.returned(this.db, this.engine, ids);
    let recorded = 0;
    for (const c of found) {
      const check = checkStep(
        'win_back',
        { state: c.state as ChurnCaseState, category: 'non_natural', orgPath: '/', assigneeUserId: null },
        'system',
      );
      if (!check.ok) continue;
      const moved = await this.db.transaction().execute(async (trx) => {
        const purchase = await q.firstPurchaseAfter(trx, Number(c.customer_id), c.baseline_day);
        const at = this.now().toISOString();
        const day = purchase?.business_day ?? c.last_visit_day;
        const changes: CaseChanges = {
          won_back_at: at,
          won_back_day: day ?? undefined,
          won_back_txn_id: purchase ? Number(purchase.id) : null,
        };
        if (!(await q.moveCase(trx, Number(c.id), c.state, at, { state: check.to, ...changes }))) return false;
        const detail = { day, transactionId: purchase ? Number(purchase.id) : null, baselineDay: c.baseline_day };
        await q.insertEvent(trx, {
          caseId: Number(c.id),
          action: 'win_back',
          from: c.state,
          to: check.to,
          actorUserId: null,
          actorName: WIN_BACK_ACTOR.name,
          at,
          detail,
        });
        await syncChurnCaseWork(trx, Number(c.id), at);
        await recordAudit(trx, WIN_BACK_ACTOR, {
          action: 'win_back',
          entity: 'churn_case',
          entityId: Number(c.id),
          orgUnitId: Number(c.org_unit_id),
          before: { state: c.state },
          after: { state: check.to, ...detail },
        });
        return true;
      });
      if (moved) recorded++;
    }
    return recorded;
  }

  /**
   * The loss rate of a unit: per month, customers lost (cases whose loss was confirmed that month)
   * over customers active at its start — those who bought anything in the month before, as the
   * dashboards count "active" — beside the policy's normal rate; the unit's children for drill-down.
   */
  async lossRate(
    p: Principal,
    unitId: number,
    monthArg: string | undefined,
    monthsArg: number | undefined,
    opts: { refresh?: boolean } = {},
  ) {
    const unit = await q.unit(this.db, unitId);
    if (!unit) throw new AppError('NOT_FOUND', `org unit ${unitId} not found`);
    if (!pathInScope(p, unit.path))
      throw new AppError('SCOPE_DENIED', `org unit ${unitId} is outside your organisation`);
    const month = monthArg ?? this.today(unit.time_zone).slice(0, 7);
    const count = monthsArg ?? 12;
    const policy = await currentPolicy(this.db, 'anomaly');
    // Twelve months of active customers over HQ's whole archive take seconds (bench: 2 s on SQLite, 0.7 s
    // on PostgreSQL at 100,000 customers): kept as a dashboard snapshot like the other tabs' figures.
    const key = `${policy.versionId ?? 'default'}:${count}`;
    const snap = await this.snapshots.read(
      'loss_rate',
      unit.id,
      month,
      key,
      () => this.computeLossRate(unit, month, count, policy.body.normalYearlyLossRate),
      opts,
    );
    return { ...snap.body, asOf: snap.asOf };
  }

  private async computeLossRate(unit: UnitRow, month: string, count: number, normalYearlyRate: number) {
    const months = Array.from({ length: count }, (_, i) => addMonths(month, i - count + 1));
    const starts = months.map((m) => addMonths(m, -1));
    const units = await q.subtree(this.read, this.engine, unit.path);
    const ids = units.map((u) => Number(u.id));
    const children = units.filter((u) => Number(u.parent_id) === unit.id);
    // Each unit's figures go to the unit asked about and to the child whose subtree holds it.
    const childOf = new Map<number, number>();
    for (const u of units) {
      const child = children.find((c) => isWithin(u.path, c.path));
      if (child) childOf.set(Number(u.id), Number(child.id));
    }
    const [lost, won, active] = await Promise.all([
      q.lostCounts(this.read, this.engine, ids, months[0]!, month),
      q.wonBackCounts(this.read, this.engine, ids, months[0]!, month),
      q.activeCounts(this.read, this.engine, ids, starts),
    ]);
    interface Tally {
      natural: number;
      nonNatural: number;
      wonBack: number;
      activeAtStart: number;
    }
    const tallies = new Map<string, Tally>();
    const tally = (owner: number | 'all', m: string) => {
      const key = `${owner}|${m}`;
      let t = tallies.get(key);
      if (!t) tallies.set(key, (t = { natural: 0, nonNatural: 0, wonBack: 0, activeAtStart: 0 }));
      return t;
    };
    const add = (unitOf: number, m: string, f: (t: Tally) => void) => {
      f(tally('all', m));
      const child = childOf.get(unitOf);
      if (child !== undefined) f(tally(child, m));
    };
    for (const l of lost)
      add(l.orgUnitId, l.month, (t) => (l.category === 'natural' ? (t.natural += l.count) : (t.nonNatural += l.count)));
    for (const w of won) add(w.orgUnitId, w.month, (t) => (t.wonBack += w.count));
    // Active in the month before counts at the start of the month.
    for (const a of active) add(a.orgUnitId, addMonths(a.month, 1), (t) => (t.activeAtStart += a.count));
    const normalMonthlyRate = monthlyRate(normalYearlyRate);
    const figures = (owner: number | 'all', m: string) => {
      const t = tally(owner, m);
      const lostCount = t.natural + t.nonNatural;
      const rate = lossRate(lostCount, t.activeAtStart);
      return {
        lost: lostCount,
        natural: t.natural,
        nonNatural: t.nonNatural,
        wonBack: t.wonBack,
        activeAtStart: t.activeAtStart,
        rate,
        aboveNormal: rate !== null && rate > normalMonthlyRate,
      };
    };
    return {
      unit: { id: unit.id, name: unit.name, code: unit.code, kindCode: unit.kind_code },
      month,
      normalYearlyRate,
      normalMonthlyRate,
      ...figures('all', month),
      trend: months.map((m) => ({ month: m, ...figures('all', m) })),
      children: children.map((c) => ({
        id: Number(c.id),
        name: c.name,
        code: c.code,
        kindCode: c.kind_code,
        ...figures(Number(c.id), month),
      })),
    };
  }
}

/** A live case whose customer has bought since its baseline. */
function hasReturned(state: string, baselineDay: string | null, lastVisitDay: string | null): boolean {
  return (
    (LIVE_STATES as readonly string[]).includes(state) &&
    lastVisitDay !== null &&
    (baselineDay === null || lastVisitDay > baselineDay)
  );
}
