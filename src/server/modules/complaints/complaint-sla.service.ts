// SLA clocks of the complaint stages on the stored side: the category × severity matrix HQ edits, the
// clock of the running stage (restarted on every step, stopped by a named pause, lengthened by an
// approved extension), and the sweep that fires the warnings (50/75/90 %), the breach (100 %, a
// reminder to the owner) and the written reminder (督办) to the level above (125 %), each once per
// stage occurrence. Every change stores the instants the levels fall at, so the sweep reads only the
// cases whose next level is due (an index range on `sla_next_at`) and does no calendar arithmetic.
// The rules are src/domain/complaint-sla.ts.
import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { pathInScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import {
  COMPLAINT_STAGES,
  isStage,
  mayActFor,
  stageOwner,
  LEVEL_ROLES,
  type OrgLevel,
} from '../../../domain/complaint-workflow.js';
import {
  ANY,
  DEFAULT_SLA_RULES,
  SLA_LEVELS,
  allowanceOf,
  amountMs,
  checkExtensionDecision,
  checkExtensionRequest,
  checkRules,
  clockAt,
  isAbove,
  levelInstants,
  levelsDue,
  measure,
  nextLevel,
  percentFromInstants,
  ruleFor,
  stateOf,
  type PauseReason,
  type SlaClock,
  type SlaLevel,
  type SlaMode,
  type SlaRule,
  type SlaUnit,
} from '../../../domain/complaint-sla.js';
import { recordAudit } from '../audit/audit.service.js';
import { closeWorkItem, openWorkItems, type WorkItemInput } from '../work/work-items.js';
import { loadCalendars, type Calendars } from '../contact-moments/calendar.service.js';

type Tx = Kysely<Database> | Transaction<Database>;

const OPEN = [...COMPLAINT_STAGES] as string[];
const ALL_ROLES = [...new Set([...Object.values(LEVEL_ROLES).flat(), 'cs_agent'])];
/** Queue keys of the SLA work: reminders to the owner, 督办 to the level above (or below), extension approvals. */
export const SLA_KEYS = ALL_ROLES.flatMap((r) => [`sla:${r}`, `supervise:${r}`, `extension:${r}`]);
const LEVEL_OF_RANK: OrgLevel[] = ['hq', 'hq', 'branch', 'area', 'station'];

const iso = (ms: number) => new Date(ms).toISOString();
const ms = (s: string | null | undefined) => (s ? Date.parse(s) : null);

/** The columns a list row needs to show its clock without any calendar. */
export interface SlaColumns {
  state: string;
  stage_started_at: string;
  stage_due_at: string | null;
  sla_mode?: string | null;
  sla_paused_at?: string | null;
  sla_pause_reason?: string | null;
  sla_warn50_at?: string | null;
  sla_warn75_at?: string | null;
  sla_warn90_at?: string | null;
  sla_supervise_at?: string | null;
  sla_fired: number;
  supervised_at?: string | null;
  supervise_count: number;
  hq_watch: number;
}

/** The clock as the list shows it: colour band, share used (read from the stored instants), paused. */
export interface SlaBrief {
  state: string;
  percent: number | null;
  pauseReason: string | null;
  level: number;
  hqWatch: boolean;
  supervisedAt: string | null;
  superviseCount: number;
}

export function slaSummary(r: SlaColumns, now: Date): { sla: SlaBrief } {
  const open = isStage(r.state);
  const paused = open && !!r.sla_paused_at;
  const percent =
    open && !paused && r.sla_mode
      ? percentFromInstants(
          Date.parse(r.stage_started_at),
          [r.sla_warn50_at, r.sla_warn75_at, r.sla_warn90_at, r.stage_due_at, r.sla_supervise_at].map(
            (x) => ms(x) ?? null,
          ),
          now.getTime(),
        )
      : null;
  return {
    sla: {
      state: !open || (percent === null && !paused) ? 'none' : stateOf(percent ?? 0, paused),
      percent: percent === null ? null : Math.round(percent),
      pauseReason: paused ? (r.sla_pause_reason ?? null) : null,
      level: Number(r.sla_fired),
      hqWatch: Number(r.hq_watch) === 1,
      supervisedAt: r.supervised_at ?? null,
      superviseCount: Number(r.supervise_count),
    },
  };
}

const caseCols = [
  'k.id',
  'k.case_no',
  'k.state',
  'k.category_code',
  'k.severity_code',
  'k.org_unit_id',
  'k.owner_unit_id',
  'k.customer_id',
  'k.emergency',
  'k.level_up',
  'k.stage_started_at',
  'k.stage_due_at',
  'k.sla_mode',
  'k.sla_allowance_ms',
  'k.sla_paused_ms',
  'k.sla_paused_at',
  'k.sla_pause_reason',
  'k.sla_fired',
  'k.version',
  'o.path as org_path',
  'ow.path as owner_path',
  'ow.parent_id as owner_parent_id',
  'cat.name_zh as category_zh',
] as const;

export class ComplaintSlaService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  // ── The matrix ──────────────────────────────────────────────────────────────────────────────
  async rules(db: Tx = this.db): Promise<SlaRule[]> {
    const rows = await db.selectFrom('complaint_sla_rule').selectAll().execute();
    const rank = (x: { category_code: string; severity_code: string }) =>
      (x.category_code === ANY ? 2 : 0) + (x.severity_code === ANY ? 1 : 0);
    return rows
      .sort(
        (a, b) =>
          rank(a) - rank(b) ||
          a.category_code.localeCompare(b.category_code) ||
          a.severity_code.localeCompare(b.severity_code),
      )
      .map((x) => ({
        categoryCode: x.category_code,
        severityCode: x.severity_code,
        unit: x.unit as SlaUnit,
        verify: Number(x.verify),
        review: Number(x.review),
        rectify: Number(x.rectify),
        callback: Number(x.callback),
        archive: Number(x.archive),
      }));
  }

  /** HQ replaces the matrix; it applies to stages started from now on (running clocks keep theirs). */
  async saveRules(p: Principal, ip: string | null, rules: SlaRule[]) {
    const [cats, sevs] = await Promise.all([
      this.db.selectFrom('complaint_category').select('code').execute(),
      this.db.selectFrom('complaint_severity').select('code').execute(),
    ]);
    const problems = checkRules(rules, {
      categories: cats.map((c) => c.code),
      severities: sevs.map((s) => s.code),
    });
    if (problems.length > 0) {
      const first = problems[0]!;
      throw new AppError('VALIDATION_FAILED', first.message, `body.rules.${first.index}.${first.field}`);
    }
    const before = await this.rules();
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('complaint_sla_rule').execute();
      await tx
        .insertInto('complaint_sla_rule')
        .values(
          rules.map((x) => ({
            category_code: x.categoryCode,
            severity_code: x.severityCode,
            unit: x.unit,
            verify: x.verify,
            review: x.review,
            rectify: x.rectify,
            callback: x.callback,
            archive: x.archive,
          })),
        )
        .execute();
      await recordAudit(tx, actorOf(p, ip), {
        action: 'complaint_sla_save',
        entity: 'complaint_sla',
        before,
        after: rules,
      });
    });
    return this.rules();
  }

  // ── Clocks ──────────────────────────────────────────────────────────────────────────────────
  private async load(db: Tx, id: number) {
    const r = await db
      .selectFrom('complaint as k')
      .innerJoin('org_unit as o', 'o.id', 'k.org_unit_id')
      .leftJoin('org_unit as ow', 'ow.id', 'k.owner_unit_id')
      .innerJoin('complaint_category as cat', 'cat.code', 'k.category_code')
      .select(caseCols)
      .where('k.id', '=', id)
      .executeTakeFirst();
    if (!r) throw new AppError('NOT_FOUND', `complaint ${id} not found`);
    return r;
  }

  private clockOf(r: Awaited<ReturnType<ComplaintSlaService['load']>>): SlaClock {
    return {
      mode: (r.sla_mode ?? 'clock') as SlaMode,
      startMs: Date.parse(r.stage_started_at),
      allowanceMs: Number(r.sla_allowance_ms ?? 0),
      pausedMs: Number(r.sla_paused_ms ?? 0),
      pausedAtMs: ms(r.sla_paused_at),
    };
  }

  /** The stored columns of a clock: the instants of its levels and the next one the sweep waits for. */
  private columns(clock: SlaClock, cals: Calendars, unitId: number, fired: number) {
    const inst = levelInstants(clock, cals.of(unitId));
    const next = nextLevel(inst, fired);
    return {
      sla_mode: clock.mode,
      sla_allowance_ms: clock.allowanceMs,
      sla_paused_ms: clock.pausedMs,
      sla_paused_at: clock.pausedAtMs === null ? null : iso(clock.pausedAtMs),
      sla_warn50_at: inst ? iso(inst[50]) : null,
      sla_warn75_at: inst ? iso(inst[75]) : null,
      sla_warn90_at: inst ? iso(inst[90]) : null,
      sla_supervise_at: inst ? iso(inst[125]) : null,
      sla_next_at: next ? iso(next.atMs) : null,
      sla_fired: fired,
      ...(inst && { stage_due_at: iso(inst[100]) }),
    };
  }

  /**
   * The stage that started at `stage_started_at` gets a fresh clock from the matrix, on the calendar
   * of the unit that owns it; an open pause ends with the stage. Called inside the step's transaction.
   */
  async restart(db: Tx, id: number, at: string, ctx?: { cals: Calendars; rules: SlaRule[] }): Promise<void> {
    const r = await this.load(db, id);
    await this.endOpenPause(db, id, at, null, null);
    await closeWorkItem(db, 'complaint', id, at, 'done', SLA_KEYS);
    await db
      .updateTable('complaint_extension')
      .set({ state: 'lapsed', decided_at: at })
      .where('complaint_id', '=', id)
      .where('state', '=', 'pending')
      .execute();
    if (!isStage(r.state)) {
      await db
        .updateTable('complaint')
        .set({ sla_next_at: null, sla_paused_at: null, sla_mode: r.sla_mode ?? 'clock' })
        .where('id', '=', id)
        .execute();
      return;
    }
    const cals = ctx?.cals ?? (await loadCalendars(db as Kysely<Database>));
    const rules = ctx?.rules ?? (await this.rules(db));
    const rule = ruleFor(rules, r.category_code, r.severity_code) ?? ruleFor(DEFAULT_SLA_RULES, ANY, ANY)!;
    const unitId = Number(r.owner_unit_id ?? r.org_unit_id);
    const allowance = allowanceOf(rule, r.state, cals.of(unitId));
    const clock: SlaClock = {
      mode: allowance.mode,
      startMs: Date.parse(r.stage_started_at),
      allowanceMs: allowance.ms,
      pausedMs: 0,
      pausedAtMs: null,
    };
    await db
      .updateTable('complaint')
      .set({ ...this.columns(clock, cals, unitId, 0), sla_pause_reason: null })
      .where('id', '=', id)
      .execute();
  }

  private async endOpenPause(db: Tx, id: number, at: string, by: number | null, pausedMs: number | null) {
    await db
      .updateTable('complaint_pause')
      .set({ ended_at: at, ended_by: by, paused_ms: pausedMs })
      .where('complaint_id', '=', id)
      .where('ended_at', 'is', null)
      .execute();
  }

  private async event(
    db: Tx,
    p: Principal | null,
    r: { id: number; state: string; owner_unit_id: number | null },
    action: string,
    at: string,
    detail: Record<string, unknown>,
  ) {
    await db
      .insertInto('complaint_event')
      .values({
        complaint_id: Number(r.id),
        action,
        from_state: r.state,
        to_state: r.state,
        owner_unit_id: r.owner_unit_id === null ? null : Number(r.owner_unit_id),
        actor_user_id: p?.userId ?? null,
        actor_name: p?.displayName ?? 'system',
        at,
        detail: JSON.stringify(detail),
      })
      .execute();
  }

  /** The case, checked: in the reader's scope, at a stage, and (unless `above`) acted on by its owner. */
  private async owned(db: Tx, p: Principal, id: number) {
    const r = await this.load(db, id);
    if (!pathInScope(p, r.org_path)) throw new AppError('SCOPE_DENIED', `complaint ${id} is outside your organisation`);
    if (!isStage(r.state)) throw new AppError('CONFLICT', `the case is ${r.state}`);
    const owner = stageOwner(r.state, { emergency: r.emergency === 1, levelUp: Number(r.level_up) });
    const who = mayActFor(p, { ownerPath: r.owner_path ?? r.org_path, ownerRoles: owner.roles });
    return { r, stage: r.state, owner, mayAct: who.ok, whyNot: who.ok ? '' : who.message };
  }

  private bump(r: { version: number }, at: string) {
    return { updated_at: at, version: Number(r.version) + 1 };
  }

  private async moveStageWork(db: Tx, id: number, dueAt: string | null, at: string) {
    if (!dueAt) return;
    await db
      .updateTable('work_item')
      .set({ due_at: dueAt, updated_at: at })
      .where('kind', '=', 'complaint')
      .where('record_id', '=', id)
      .where('queue_key', 'like', 'stage:%')
      .where('state', '=', 'open')
      .execute();
  }

  async pause(p: Principal, ip: string | null, id: number, reason: PauseReason, note: string | undefined) {
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (tx) => {
      const { r, stage, mayAct, whyNot } = await this.owned(tx, p, id);
      if (!mayAct) throw new AppError('COMPLAINT_STAGE_DENIED', whyNot);
      if (r.sla_paused_at) throw new AppError('CONFLICT', 'the clock is paused already');
      const cals = await loadCalendars(tx as Kysely<Database>);
      const clock = { ...this.clockOf(r), pausedAtMs: Date.parse(at) };
      const unitId = Number(r.owner_unit_id ?? r.org_unit_id);
      await tx
        .updateTable('complaint')
        .set({
          ...this.columns(clock, cals, unitId, Number(r.sla_fired)),
          sla_pause_reason: reason,
          ...this.bump(r, at),
        })
        .where('id', '=', id)
        .execute();
      await tx
        .insertInto('complaint_pause')
        .values({ complaint_id: id, stage, reason, note: note?.trim() || null, started_at: at, started_by: p.userId })
        .execute();
      await this.event(tx, p, r, 'sla_pause', at, { reason, ...(note?.trim() && { note: note.trim() }) });
      await recordAudit(tx, actorOf(p, ip), {
        action: 'complaint_sla_pause',
        entity: 'complaint',
        entityId: id,
        orgUnitId: Number(r.org_unit_id),
        after: { stage, reason },
      });
    });
  }

  async resume(p: Principal, ip: string | null, id: number) {
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (tx) => {
      const { r, stage, mayAct, whyNot } = await this.owned(tx, p, id);
      if (!mayAct) throw new AppError('COMPLAINT_STAGE_DENIED', whyNot);
      if (!r.sla_paused_at) throw new AppError('CONFLICT', 'the clock is running');
      const cals = await loadCalendars(tx as Kysely<Database>);
      const unitId = Number(r.owner_unit_id ?? r.org_unit_id);
      const clock = this.clockOf(r);
      const stood = measure(clock.mode, cals.of(unitId), clock.pausedAtMs!, Date.parse(at));
      const running: SlaClock = { ...clock, pausedMs: clock.pausedMs + stood, pausedAtMs: null };
      const cols = this.columns(running, cals, unitId, Number(r.sla_fired));
      await tx
        .updateTable('complaint')
        .set({ ...cols, sla_pause_reason: null, ...this.bump(r, at) })
        .where('id', '=', id)
        .execute();
      await this.endOpenPause(tx, id, at, p.userId, stood);
      await this.moveStageWork(tx, id, cols.stage_due_at ?? null, at);
      await this.event(tx, p, r, 'sla_resume', at, {
        reason: r.sla_pause_reason,
        pausedMs: stood,
        dueAt: cols.stage_due_at,
      });
      await recordAudit(tx, actorOf(p, ip), {
        action: 'complaint_sla_resume',
        entity: 'complaint',
        entityId: id,
        orgUnitId: Number(r.org_unit_id),
        after: { stage, pausedMs: stood, dueAt: cols.stage_due_at },
      });
    });
  }

  /** The roles and unit of the level above a unit (the unit itself at the top). */
  private async levelAbove(db: Tx, unitId: number) {
    const u = await db
      .selectFrom('org_unit as u')
      .leftJoin('org_unit as pu', 'pu.id', 'u.parent_id')
      .leftJoin('org_level_kind as lk', 'lk.code', 'pu.kind_code')
      .select(['u.id', 'u.parent_id', 'lk.rank'])
      .where('u.id', '=', unitId)
      .executeTakeFirst();
    if (!u || u.parent_id === null) return { unitId, roles: LEVEL_ROLES.hq };
    const level = LEVEL_OF_RANK[Math.max(1, Math.min(4, Number(u.rank ?? 1)))]!;
    return { unitId: Number(u.parent_id), roles: LEVEL_ROLES[level] };
  }

  async requestExtension(
    p: Principal,
    ip: string | null,
    id: number,
    body: { unit: SlaUnit; amount: number; reason: string },
  ) {
    const now = this.now();
    const at = now.toISOString();
    if (!body.reason.trim()) throw new AppError('VALIDATION_FAILED', 'say why', 'body.reason');
    await this.db.transaction().execute(async (tx) => {
      const { r, stage, mayAct, whyNot } = await this.owned(tx, p, id);
      if (!mayAct) throw new AppError('COMPLAINT_STAGE_DENIED', whyNot);
      const pending = await tx
        .selectFrom('complaint_extension')
        .select('id')
        .where('complaint_id', '=', id)
        .where('state', '=', 'pending')
        .executeTakeFirst();
      const refused = checkExtensionRequest({
        nowMs: now.getTime(),
        dueMs: ms(r.stage_due_at),
        paused: !!r.sla_paused_at,
        pending: !!pending,
      });
      if (refused)
        throw new AppError(
          'CONFLICT',
          refused === 'after_deadline'
            ? 'the deadline has passed: an extension is asked before it'
            : refused === 'paused'
              ? 'the clock is paused; resume it first'
              : 'an extension is waiting for a decision already',
        );
      const { id: extId } = await tx
        .insertInto('complaint_extension')
        .values({
          complaint_id: id,
          stage,
          unit: body.unit,
          amount: body.amount,
          reason: body.reason.trim(),
          state: 'pending',
          requested_by: p.userId,
          requested_at: at,
          due_before: r.stage_due_at,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const above = await this.levelAbove(tx, Number(r.owner_unit_id ?? r.org_unit_id));
      await openWorkItems(
        tx,
        above.roles.map((role) => ({
          kind: 'complaint',
          recordId: id,
          assigneeUserId: null,
          permission: `role:${role}`,
          queueKey: `extension:${role}`,
          excludeUserIds: [p.userId],
          orgUnitId: above.unitId,
          customerId: r.customer_id === null ? null : Number(r.customer_id),
          subject: `延期申请 ${r.case_no} ${r.category_zh}`,
          dueAt: r.stage_due_at ?? at,
        })),
        at,
      );
      await this.event(tx, p, r, 'sla_extension_request', at, {
        extensionId: Number(extId),
        unit: body.unit,
        amount: body.amount,
        reason: body.reason.trim(),
      });
      await recordAudit(tx, actorOf(p, ip), {
        action: 'complaint_sla_extension_request',
        entity: 'complaint',
        entityId: id,
        orgUnitId: Number(r.org_unit_id),
        after: { stage, unit: body.unit, amount: body.amount, reason: body.reason.trim() },
      });
    });
  }

  async decideExtension(
    p: Principal,
    ip: string | null,
    id: number,
    extensionId: number,
    approve: boolean,
    note: string | undefined,
  ) {
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (tx) => {
      const r = await this.load(tx, id);
      if (!pathInScope(p, r.org_path))
        throw new AppError('SCOPE_DENIED', `complaint ${id} is outside your organisation`);
      const ext = await tx
        .selectFrom('complaint_extension')
        .selectAll()
        .where('id', '=', extensionId)
        .where('complaint_id', '=', id)
        .executeTakeFirst();
      if (!ext) throw new AppError('NOT_FOUND', `extension ${extensionId} not found`);
      const refused = checkExtensionDecision({
        deciderUserId: p.userId,
        requesterUserId: ext.requested_by === null ? null : Number(ext.requested_by),
        deciderPath: p.orgPath,
        ownerPath: r.owner_path ?? r.org_path,
        pending: ext.state === 'pending',
      });
      if (refused === 'decided') throw new AppError('CONFLICT', `the request is ${ext.state}`);
      if (refused === 'own')
        throw new AppError('APPROVER_NOT_ELIGIBLE', 'an extension is decided by someone else than the asker');
      if (refused) throw new AppError('APPROVER_NOT_ELIGIBLE', 'the level above the owning unit decides an extension');
      if (ext.stage !== r.state) throw new AppError('CONFLICT', 'the case has moved on to another stage');
      let dueAfter: string | null = r.stage_due_at;
      if (approve) {
        const cals = await loadCalendars(tx as Kysely<Database>);
        const unitId = Number(r.owner_unit_id ?? r.org_unit_id);
        const clock = this.clockOf(r);
        const longer = {
          ...clock,
          allowanceMs: clock.allowanceMs + amountMs(ext.unit as SlaUnit, Number(ext.amount), cals.of(unitId)),
        };
        const cols = this.columns(longer, cals, unitId, Number(r.sla_fired));
        dueAfter = cols.stage_due_at ?? dueAfter;
        await tx
          .updateTable('complaint')
          .set({ ...cols, ...this.bump(r, at) })
          .where('id', '=', id)
          .execute();
        await this.moveStageWork(tx, id, cols.stage_due_at ?? null, at);
      }
      await tx
        .updateTable('complaint_extension')
        .set({
          state: approve ? 'approved' : 'refused',
          decided_by: p.userId,
          decided_at: at,
          decision_note: note?.trim() || null,
          due_after: approve ? dueAfter : null,
        })
        .where('id', '=', extensionId)
        .execute();
      await closeWorkItem(
        tx,
        'complaint',
        id,
        at,
        'done',
        ALL_ROLES.map((x) => `extension:${x}`),
      );
      await this.event(tx, p, r, approve ? 'sla_extension_approve' : 'sla_extension_refuse', at, {
        extensionId,
        ...(note?.trim() && { note: note.trim() }),
        ...(approve && { dueAt: dueAfter }),
      });
      await recordAudit(tx, actorOf(p, ip), {
        action: approve ? 'complaint_sla_extension_approve' : 'complaint_sla_extension_refuse',
        entity: 'complaint',
        entityId: id,
        orgUnitId: Number(r.org_unit_id),
        before: { dueAt: r.stage_due_at },
        after: { extensionId, dueAt: dueAfter },
      });
    });
  }

  /** A written reminder (督办) by hand from someone above the owning unit: to the owner, on the HQ list. */
  async supervise(p: Principal, ip: string | null, id: number, note: string) {
    const at = this.now().toISOString();
    if (!note.trim()) throw new AppError('VALIDATION_FAILED', 'say what is asked of the owner', 'body.note');
    await this.db.transaction().execute(async (tx) => {
      const { r, owner } = await this.owned(tx, p, id);
      if (!isAbove(p.orgPath, r.owner_path ?? r.org_path))
        throw new AppError('COMPLAINT_STAGE_DENIED', 'a written reminder comes from a level above the owning unit');
      await tx
        .updateTable('complaint')
        .set((eb) => ({
          supervised_at: at,
          supervise_count: eb('supervise_count', '+', 1),
          hq_watch: 1,
          ...this.bump(r, at),
        }))
        .where('id', '=', id)
        .execute();
      const unitId = Number(r.owner_unit_id ?? r.org_unit_id);
      await openWorkItems(
        tx,
        owner.roles.map((role) => ({
          kind: 'complaint',
          recordId: id,
          assigneeUserId: null,
          permission: `role:${role}`,
          queueKey: `supervise:${role}`,
          orgUnitId: unitId,
          customerId: r.customer_id === null ? null : Number(r.customer_id),
          subject: `督办 ${r.case_no} ${r.category_zh}`,
          dueAt: r.stage_due_at ?? at,
        })),
        at,
      );
      await this.event(tx, p, r, 'supervise', at, { note: note.trim(), manual: true, toUnitId: unitId });
      await recordAudit(tx, actorOf(p, ip), {
        action: 'complaint_supervise',
        entity: 'complaint',
        entityId: id,
        orgUnitId: Number(r.org_unit_id),
        after: { stage: r.state, note: note.trim() },
      });
    });
  }

  /** The clock of the current stage as the case page shows it, with its pauses, extensions and buttons. */
  async detail(p: Principal, id: number, canHandle: boolean) {
    const r = await this.load(this.db, id);
    const now = this.now();
    const pauses = await this.db
      .selectFrom('complaint_pause as x')
      .leftJoin('app_user as u', 'u.id', 'x.started_by')
      .select(['x.id', 'x.stage', 'x.reason', 'x.note', 'x.started_at', 'x.ended_at', 'x.paused_ms', 'u.display_name'])
      .where('x.complaint_id', '=', id)
      .orderBy('x.id')
      .execute();
    const extensions = await this.db
      .selectFrom('complaint_extension as x')
      .leftJoin('app_user as u', 'u.id', 'x.requested_by')
      .leftJoin('app_user as d', 'd.id', 'x.decided_by')
      .select([
        'x.id',
        'x.stage',
        'x.unit',
        'x.amount',
        'x.reason',
        'x.state',
        'x.requested_by',
        'x.requested_at',
        'x.decided_at',
        'x.decision_note',
        'x.due_after',
        'u.display_name as requested_by_name',
        'd.display_name as decided_by_name',
      ])
      .where('x.complaint_id', '=', id)
      .orderBy('x.id')
      .execute();
    let clock = null;
    let mayAct = false;
    const ownerPath = r.owner_path ?? r.org_path;
    if (isStage(r.state) && r.sla_mode) {
      const cals = await loadCalendars(this.db);
      const c = clockAt(this.clockOf(r), cals.of(Number(r.owner_unit_id ?? r.org_unit_id)), now.getTime());
      clock = {
        mode: r.sla_mode as SlaMode,
        allowanceMs: Number(r.sla_allowance_ms ?? 0),
        usedMs: Math.round(c.usedMs),
        leftMs: Math.round(c.leftMs),
        percent: Math.round(c.percent),
        state: c.state,
        dueAt: c.dueMs === null ? null : iso(c.dueMs),
        pausedAt: r.sla_paused_at ?? null,
        pauseReason: r.sla_pause_reason ?? null,
      };
      const owner = stageOwner(r.state, { emergency: r.emergency === 1, levelUp: Number(r.level_up) });
      mayAct = mayActFor(p, { ownerPath, ownerRoles: owner.roles }).ok;
    }
    const pending = extensions.find((x) => x.state === 'pending');
    const open = isStage(r.state);
    return {
      clock,
      pauses: pauses.map((x) => ({
        id: Number(x.id),
        stage: x.stage,
        reason: x.reason,
        note: x.note,
        startedAt: x.started_at,
        endedAt: x.ended_at,
        pausedMs: x.paused_ms === null ? null : Number(x.paused_ms),
        byName: x.display_name ?? null,
      })),
      extensions: extensions.map((x) => ({
        id: Number(x.id),
        stage: x.stage,
        unit: x.unit,
        amount: Number(x.amount),
        reason: x.reason,
        state: x.state,
        requestedAt: x.requested_at,
        requestedByName: x.requested_by_name ?? null,
        decidedAt: x.decided_at,
        decidedByName: x.decided_by_name ?? null,
        decisionNote: x.decision_note,
        dueAfter: x.due_after,
      })),
      canPause: canHandle && open && mayAct && !r.sla_paused_at,
      canResume: canHandle && open && mayAct && !!r.sla_paused_at,
      canRequestExtension:
        canHandle &&
        open &&
        mayAct &&
        !pending &&
        !r.sla_paused_at &&
        r.stage_due_at !== null &&
        r.stage_due_at > now.toISOString(),
      canDecideExtension:
        canHandle &&
        !!pending &&
        pending.stage === r.state &&
        Number(pending.requested_by) !== p.userId &&
        isAbove(p.orgPath, ownerPath),
      canSupervise: canHandle && open && isAbove(p.orgPath, ownerPath),
    };
  }

  // ── The sweep ───────────────────────────────────────────────────────────────────────────────
  /**
   * Fires every level that fell due, once: a warning (50/75/90 %) and the breach (100 %) go on the
   * trail and to the owner's inbox; at 125 % a written reminder (督办) goes to the level above the
   * owning unit, and the case joins the HQ list. Cases whose clock was never computed (taken before
   * the clocks) get one first. Idempotent: a level fires when `sla_fired` is below it, and the same
   * statement raises `sla_fired`.
   */
  async sweep(opts: { batch?: number } = {}) {
    const at = this.now().toISOString();
    const nowMs = Date.parse(at);
    const batch = opts.batch ?? 2000;
    const out = { computed: 0, warnings: 0, breaches: 0, supervised: 0 };
    // Clocks never computed (cases from before the clocks): a handful, once.
    const missing = await this.db
      .selectFrom('complaint')
      .select('id')
      .where('sla_mode', 'is', null)
      .where('state', 'in', OPEN)
      .limit(500)
      .execute();
    if (missing.length > 0) {
      const ctx = { cals: await loadCalendars(this.db), rules: await this.rules() };
      for (const m of missing)
        await this.db.transaction().execute((tx) => this.restart(tx, Number(m.id), at, ctx).then(() => undefined));
      out.computed = missing.length;
    }
    // A case that left its stages keeps no pending level.
    await this.db
      .updateTable('complaint')
      .set({ sla_next_at: null })
      .where('sla_next_at', '<=', at)
      .where('state', 'not in', OPEN)
      .execute();
    let units: Map<number, { parentId: number | null; rank: number }> | null = null;
    for (;;) {
      const rows = await this.db
        .selectFrom('complaint as k')
        .innerJoin('complaint_category as cat', 'cat.code', 'k.category_code')
        .select([
          'k.id',
          'k.case_no',
          'k.state',
          'k.owner_unit_id',
          'k.org_unit_id',
          'k.customer_id',
          'k.emergency',
          'k.level_up',
          'k.sla_fired',
          'k.sla_warn50_at',
          'k.sla_warn75_at',
          'k.sla_warn90_at',
          'k.stage_due_at',
          'k.sla_supervise_at',
          'cat.name_zh as category_zh',
        ])
        .where('k.sla_next_at', '<=', at)
        .orderBy('k.sla_next_at')
        .limit(batch)
        .execute();
      if (rows.length === 0) break;
      if (!units) units = await this.unitTree();
      const events: Insertable<Database['complaint_event']>[] = [];
      const work: WorkItemInput[] = [];
      for (const r of rows) {
        const fired = Number(r.sla_fired);
        const due = levelsDue(
          {
            50: ms(r.sla_warn50_at),
            75: ms(r.sla_warn75_at),
            90: ms(r.sla_warn90_at),
            100: ms(r.stage_due_at),
            125: ms(r.sla_supervise_at),
          },
          fired,
          nowMs,
        );
        if (due.length === 0 || !isStage(r.state)) continue;
        const ownerUnit = Number(r.owner_unit_id ?? r.org_unit_id);
        const owner = stageOwner(r.state, { emergency: r.emergency === 1, levelUp: Number(r.level_up) });
        const subject = `${r.case_no} ${r.category_zh}`;
        const base = {
          complaint_id: Number(r.id),
          from_state: r.state,
          to_state: r.state,
          owner_unit_id: ownerUnit,
          actor_user_id: null,
          actor_name: 'system',
          at,
        };
        const warnings = due.filter((l) => l < 100);
        const top = due[due.length - 1]!;
        if (warnings.length > 0 && top < 100) {
          events.push({ ...base, action: 'sla_warning', detail: JSON.stringify({ percent: top, levels: warnings }) });
          out.warnings++;
        }
        if (due.includes(100)) {
          events.push({
            ...base,
            action: 'sla_breach',
            detail: JSON.stringify({ percent: 100, dueAt: r.stage_due_at }),
          });
          out.breaches++;
        }
        if (top < 125)
          for (const role of owner.roles)
            work.push({
              kind: 'complaint',
              recordId: Number(r.id),
              assigneeUserId: null,
              permission: `role:${role}`,
              queueKey: `sla:${role}`,
              orgUnitId: ownerUnit,
              customerId: r.customer_id === null ? null : Number(r.customer_id),
              subject: `${subject} · ${top >= 100 ? '超时' : `${top}%`}`,
              dueAt: r.stage_due_at ?? at,
            });
        if (due.includes(125)) {
          const u = units.get(ownerUnit);
          const aboveId = u?.parentId ?? ownerUnit;
          const aboveRank = u?.parentId ? (units.get(u.parentId)?.rank ?? 1) : 1;
          const roles = LEVEL_ROLES[LEVEL_OF_RANK[Math.max(1, Math.min(4, aboveRank))]!];
          events.push({
            ...base,
            action: 'supervise',
            detail: JSON.stringify({ auto: true, toUnitId: aboveId, percent: 125 }),
          });
          for (const role of roles)
            work.push({
              kind: 'complaint',
              recordId: Number(r.id),
              assigneeUserId: null,
              permission: `role:${role}`,
              queueKey: `supervise:${role}`,
              orgUnitId: aboveId,
              customerId: r.customer_id === null ? null : Number(r.customer_id),
              subject: `督办 ${subject}`,
              dueAt: at,
            });
          out.supervised++;
        }
      }
      const ids = rows.map((r) => Number(r.id));
      await this.db.transaction().execute(async (tx) => {
        for (let i = 0; i < events.length; i += 500)
          await tx
            .insertInto('complaint_event')
            .values(events.slice(i, i + 500))
            .execute();
        if (work.length > 0) await openWorkItems(tx, work, at);
        for (let i = 0; i < ids.length; i += 5000) await this.raise(tx, ids.slice(i, i + 5000), at);
      });
      if (rows.length < batch) break;
    }
    return out;
  }

  /** One statement for a batch: the highest level due becomes fired, the next instant is the one after it. */
  private async raise(tx: Tx, ids: number[], at: string) {
    const le = (col: string) => sql`${sql.ref(col)} <= ${at}`;
    await tx
      .updateTable('complaint')
      .set({
        sla_fired: sql<number>`case when ${le('sla_supervise_at')} then 125 when ${le('stage_due_at')} then 100 when ${le('sla_warn90_at')} then 90 when ${le('sla_warn75_at')} then 75 when ${le('sla_warn50_at')} then 50 else sla_fired end`,
        sla_next_at: sql<string>`case when ${le('sla_supervise_at')} then null when ${le('stage_due_at')} then sla_supervise_at when ${le('sla_warn90_at')} then stage_due_at when ${le('sla_warn75_at')} then sla_warn90_at when ${le('sla_warn50_at')} then sla_warn75_at else sla_next_at end`,
        hq_watch: sql<number>`case when ${le('stage_due_at')} then 1 else hq_watch end`,
        supervise_count: sql<number>`supervise_count + case when ${le('sla_supervise_at')} then 1 else 0 end`,
        supervised_at: sql<string>`case when ${le('sla_supervise_at')} then ${at} else supervised_at end`,
      })
      .where('id', 'in', ids)
      .where('sla_next_at', '<=', at)
      .execute();
  }

  private async unitTree() {
    const rows = await this.db
      .selectFrom('org_unit as u')
      .innerJoin('org_level_kind as lk', 'lk.code', 'u.kind_code')
      .select(['u.id', 'u.parent_id', 'lk.rank'])
      .execute();
    return new Map(
      rows.map((r) => [
        Number(r.id),
        { parentId: r.parent_id === null ? null : Number(r.parent_id), rank: Number(r.rank) },
      ]),
    );
  }
}

export { SLA_LEVELS, type SlaLevel };
