// Complaints: intake from every channel with an acknowledgement number at once, the five-stage chain
// (核实—审查—整改—回访—归档) with an owner per stage by role and org level, evidence files, returns and
// reassignments counted on the case, duplicate links and merges with undo, and the "unhappy before"
// flag on a known customer's pump card until the case is closed after its callback. The rules are
// src/domain/complaint-workflow.ts; this service loads, asks them, and writes the change with its
// trail, its work items and its audit in one transaction.
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { actorOf, can, type Principal } from '../../auth/principal.js';
import { inCustomerScope, inScope, pathInCustomerScope, pathInScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import { businessDay } from '../../../domain/business-day.js';
import { maskPhone, normalizePhone } from '../../../domain/phone.js';
import { parsePlate } from '../../../domain/plate.js';
import { isWithin } from '../../../domain/org-path.js';
import {
  BOUNCE_WARNING,
  COMPLAINT_STAGES,
  DUPLICATE_WINDOW_DAYS,
  LEVEL_ROLES,
  REFERENCE_CHANNELS,
  allowedActions,
  caseNumber,
  checkStep,
  duplicateReasons,
  isEmergency,
  isStage,
  outcomeOf,
  ownerUnit,
  stageOwner,
  type ComplaintAction,
  type ComplaintChannel,
  type ComplaintStage,
  type ComplaintState,
  type StepInput,
  type StepResult,
} from '../../../domain/complaint-workflow.js';
import { recordAudit } from '../audit/audit.service.js';
import { closeWorkItem, openWorkItems, type WorkItemInput } from '../work/work-items.js';
import { newKey, type Storage } from '../../storage/storage.js';
import { checkAttachment } from './attachments.js';
import { ComplaintSlaService, slaSummary } from './complaint-sla.service.js';
import { recordComplaintCallback } from '../satisfaction/callbacks.js';

type Tx = Kysely<Database> | Transaction<Database>;

export interface TakeBody {
  channel: ComplaintChannel;
  categoryCode: string;
  severityCode: string;
  orgUnitId: number;
  content: string;
  customerId?: number;
  complainantName?: string;
  complainantPhone?: string;
  plate?: string;
  referenceNo?: string;
  replyDeadline?: string;
}

export interface ListQuery {
  state?: ComplaintState;
  categoryCode?: string;
  severityCode?: string;
  orgUnitId?: number;
  emergency?: boolean;
  customerId?: number;
  open?: boolean;
  /** Breached, supervised (督办) or emergency cases: the HQ list. */
  watch?: boolean;
  page: number;
  pageSize: number;
}

export interface CatalogBody {
  categories: { code: string; nameZh: string; nameEn: string; emergency: boolean; sort: number; active: boolean }[];
  severities: { code: string; nameZh: string; nameEn: string; stageHours: number; sort: number; active: boolean }[];
}

/** Every queue key a stage item may have: one per role that can own a stage. */
const STAGE_KEYS = [...new Set([...Object.values(LEVEL_ROLES).flat(), 'cs_agent'])].map((r) => `stage:${r}`);
const OWNER_KEY = 'owner';

function refusal(r: Extract<StepResult, { ok: false }>): AppError {
  switch (r.reason) {
    case 'scope':
    case 'role':
      return new AppError('COMPLAINT_STAGE_DENIED', r.message);
    case 'evidence':
      return new AppError('COMPLAINT_EVIDENCE_REQUIRED', r.message, r.field);
    case 'note':
    case 'rating':
    case 'reason':
      return new AppError('VALIDATION_FAILED', r.message, r.field);
    case 'order':
    case 'first_stage':
    case 'closed':
      return new AppError('CONFLICT', r.message);
  }
}

const caseColumns = [
  'k.id',
  'k.case_no',
  'k.channel',
  'k.category_code',
  'k.severity_code',
  'k.org_unit_id',
  'k.customer_id',
  'k.complainant_name',
  'k.complainant_phone',
  'k.plate',
  'k.content',
  'k.reference_no',
  'k.reply_deadline',
  'k.emergency',
  'k.state',
  'k.level_up',
  'k.owner_unit_id',
  'k.stage_started_at',
  'k.stage_due_at',
  'k.return_count',
  'k.reassign_count',
  'k.reopen_count',
  'k.rating',
  'k.customer_flag',
  'k.merged_into_id',
  'k.merged_from_state',
  'k.taken_at',
  'k.closed_at',
  'k.updated_at',
  'k.version',
  'o.name as org_unit_name',
  'o.path as org_path',
  'ow.name as owner_unit_name',
  'ow.path as owner_path',
  'cat.name_zh as category_zh',
  'cat.name_en as category_en',
  'sev.name_zh as severity_zh',
  'sev.name_en as severity_en',
  'sev.stage_hours',
  'c.name as customer_name',
  'c.code as customer_code',
  'c.owner_user_id',
  'tu.display_name as taken_by_name',
  'k.sla_mode',
  'k.sla_paused_at',
  'k.sla_pause_reason',
  'k.sla_warn50_at',
  'k.sla_warn75_at',
  'k.sla_warn90_at',
  'k.sla_supervise_at',
  'k.sla_fired',
  'k.supervised_at',
  'k.supervise_count',
  'k.hq_watch',
] as const;

export class ComplaintsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly storage: Storage,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The stage clocks (SLA), pauses, extensions and 督办. */
  private get sla() {
    return new ComplaintSlaService(this.db, this.now);
  }

  private base(db: Tx = this.db) {
    return db
      .selectFrom('complaint as k')
      .innerJoin('org_unit as o', 'o.id', 'k.org_unit_id')
      .leftJoin('org_unit as ow', 'ow.id', 'k.owner_unit_id')
      .innerJoin('complaint_category as cat', 'cat.code', 'k.category_code')
      .innerJoin('complaint_severity as sev', 'sev.code', 'k.severity_code')
      .leftJoin('customer as c', 'c.id', 'k.customer_id')
      .leftJoin('app_user as tu', 'tu.id', 'k.taken_by');
  }

  private async row(id: number, db: Tx = this.db) {
    const r = await this.base(db).select(caseColumns).where('k.id', '=', id).executeTakeFirst();
    if (!r) throw new AppError('NOT_FOUND', `complaint ${id} not found`);
    return r;
  }

  // ── Catalogue ───────────────────────────────────────────────────────────────────────────────
  async catalog() {
    const categories = await this.db.selectFrom('complaint_category').selectAll().orderBy('sort').execute();
    const severities = await this.db.selectFrom('complaint_severity').selectAll().orderBy('sort').execute();
    return {
      categories: categories.map((c) => ({
        code: c.code,
        nameZh: c.name_zh,
        nameEn: c.name_en,
        emergency: Number(c.emergency) === 1,
        sort: Number(c.sort),
        active: Number(c.active) === 1,
      })),
      severities: severities.map((s) => ({
        code: s.code,
        nameZh: s.name_zh,
        nameEn: s.name_en,
        stageHours: Number(s.stage_hours),
        sort: Number(s.sort),
        active: Number(s.active) === 1,
      })),
    };
  }

  /** HQ renames, reorders, retires or adds; codes on file stay (a code left out is kept, retired). */
  async saveCatalog(p: Principal, ip: string | null, body: CatalogBody) {
    const dup = (xs: { code: string }[], field: string) => {
      const seen = new Set<string>();
      xs.forEach((x, i) => {
        if (seen.has(x.code))
          throw new AppError('VALIDATION_FAILED', `code ${x.code} twice`, `body.${field}.${i}.code`);
        seen.add(x.code);
      });
    };
    dup(body.categories, 'categories');
    dup(body.severities, 'severities');
    const before = await this.catalog();
    await this.db.transaction().execute(async (tx) => {
      for (const c of body.categories) {
        const v = {
          name_zh: c.nameZh,
          name_en: c.nameEn,
          emergency: c.emergency ? 1 : 0,
          sort: c.sort,
          active: c.active ? 1 : 0,
        };
        await tx
          .insertInto('complaint_category')
          .values({ code: c.code, ...v })
          .onConflict((oc) => oc.column('code').doUpdateSet(v))
          .execute();
      }
      for (const s of body.severities) {
        const v = {
          name_zh: s.nameZh,
          name_en: s.nameEn,
          stage_hours: s.stageHours,
          sort: s.sort,
          active: s.active ? 1 : 0,
        };
        await tx
          .insertInto('complaint_severity')
          .values({ code: s.code, ...v })
          .onConflict((oc) => oc.column('code').doUpdateSet(v))
          .execute();
      }
      await recordAudit(tx, actorOf(p, ip), {
        action: 'complaint_catalog_save',
        entity: 'complaint_catalog',
        before,
        after: body,
      });
    });
    return this.catalog();
  }

  // ── Owners ──────────────────────────────────────────────────────────────────────────────────
  /** The case unit and its ancestors, root first, with their level ranks. */
  private async chain(db: Tx, unitPath: string) {
    const ids = unitPath.split('/').filter(Boolean).map(Number);
    const rows = await db
      .selectFrom('org_unit as u')
      .innerJoin('org_level_kind as lk', 'lk.code', 'u.kind_code')
      .select(['u.id', 'u.path', 'u.parent_id', 'lk.rank'])
      .where('u.id', 'in', ids)
      .execute();
    return rows
      .map((r) => ({ ...r, id: Number(r.id), rank: Number(r.rank) }))
      .sort((a, b) => a.path.length - b.path.length);
  }

  private async ownerOf(db: Tx, unitPath: string, stage: ComplaintStage, emergency: boolean, levelUp: number) {
    const owner = stageOwner(stage, { emergency, levelUp });
    const chain = await this.chain(db, unitPath);
    const unit = ownerUnit(chain, owner.rank) ?? chain[0]!;
    return { ...owner, unitId: unit.id, unitPath: unit.path };
  }

  /** The stage's work items for its owner's roles, and the owner's alert while the flag is up. */
  private async syncWork(db: Tx, id: number, now: string) {
    const k = await this.row(id, db);
    await closeWorkItem(db, 'complaint', id, now, k.state === 'merged' ? 'cancelled' : 'done', STAGE_KEYS);
    const items: WorkItemInput[] = [];
    const subject = `${k.case_no} ${k.category_zh}`;
    if (isStage(k.state) && k.owner_unit_id !== null) {
      const owner = stageOwner(k.state, { emergency: k.emergency === 1, levelUp: Number(k.level_up) });
      for (const role of owner.roles)
        items.push({
          kind: 'complaint',
          recordId: id,
          assigneeUserId: null,
          permission: `role:${role}`,
          queueKey: `stage:${role}`,
          orgUnitId: Number(k.owner_unit_id),
          customerId: k.customer_id === null ? null : Number(k.customer_id),
          subject,
          dueAt: k.stage_due_at ?? now,
        });
    }
    if (k.customer_flag === 1 && k.owner_user_id !== null) {
      items.push({
        kind: 'complaint',
        recordId: id,
        assigneeUserId: Number(k.owner_user_id),
        queueKey: OWNER_KEY,
        orgUnitId: Number(k.org_unit_id),
        customerId: Number(k.customer_id),
        subject: `${k.customer_name ?? k.customer_code ?? ''} · ${subject}`,
        dueAt: new Date(Date.parse(k.taken_at) + 86_400_000).toISOString(),
      });
    } else {
      await closeWorkItem(db, 'complaint', id, now, 'done', [OWNER_KEY]);
    }
    if (items.length > 0) await openWorkItems(db, items, now);
  }

  // ── Intake ──────────────────────────────────────────────────────────────────────────────────
  private async nextNumber(db: Tx, now: Date): Promise<string> {
    const root = await db
      .selectFrom('org_unit')
      .select('time_zone')
      .where('parent_id', 'is', null)
      .orderBy('id')
      .executeTakeFirst();
    const month = businessDay(now.getTime(), root?.time_zone ?? 'Asia/Shanghai').slice(0, 7);
    const r = await db
      .insertInto('complaint_number')
      .values({ month, last: 1 })
      .onConflict((oc) => oc.column('month').doUpdateSet({ last: sql`complaint_number.last + 1` }))
      .returning('last')
      .executeTakeFirstOrThrow();
    return caseNumber(month, Number(r.last));
  }

  /** A known customer by id (in the reader's archive scope), phone or plate; null when none is found. */
  private async findCustomer(db: Tx, p: Principal, body: TakeBody, phone: string | null, plate: string | null) {
    if (body.customerId !== undefined) {
      const c = await db
        .selectFrom('customer as c')
        .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
        .select(['c.id', 'o.path'])
        .where('c.id', '=', body.customerId)
        .where('c.merged_into_id', 'is', null)
        .executeTakeFirst();
      if (!c || !pathInCustomerScope(p, c.path))
        throw new AppError('VALIDATION_FAILED', `customer ${body.customerId} not found`, 'body.customerId');
      return Number(c.id);
    }
    if (plate) {
      const v = await db
        .selectFrom('vehicle as v')
        .innerJoin('customer as c', 'c.id', 'v.customer_id')
        .select('c.id')
        .where('v.plate', '=', plate)
        .where('c.merged_into_id', 'is', null)
        .where((eb) => inCustomerScope(p, eb.ref('c.org_unit_id')))
        .executeTakeFirst();
      if (v) return Number(v.id);
    }
    if (phone) {
      const c = await db
        .selectFrom('customer_phone as cp')
        .innerJoin('customer as c', 'c.id', 'cp.customer_id')
        .select('c.id')
        .where('cp.phone', '=', phone)
        .where('c.merged_into_id', 'is', null)
        .where((eb) => inCustomerScope(p, eb.ref('c.org_unit_id')))
        .executeTakeFirst();
      if (c) return Number(c.id);
    }
    return null;
  }

  async take(p: Principal, ip: string | null, body: TakeBody) {
    const now = this.now();
    const at = now.toISOString();
    const unit = await this.db
      .selectFrom('org_unit')
      .select(['id', 'path'])
      .where('id', '=', body.orgUnitId)
      .executeTakeFirst();
    if (!unit || !pathInScope(p, unit.path))
      throw new AppError(
        'VALIDATION_FAILED',
        `org unit ${body.orgUnitId} is not in your organisation`,
        'body.orgUnitId',
      );
    const category = await this.db
      .selectFrom('complaint_category')
      .selectAll()
      .where('code', '=', body.categoryCode)
      .where('active', '=', 1)
      .executeTakeFirst();
    if (!category) throw new AppError('VALIDATION_FAILED', 'not a category in use', 'body.categoryCode');
    const severity = await this.db
      .selectFrom('complaint_severity')
      .selectAll()
      .where('code', '=', body.severityCode)
      .where('active', '=', 1)
      .executeTakeFirst();
    if (!severity) throw new AppError('VALIDATION_FAILED', 'not a severity in use', 'body.severityCode');
    if (REFERENCE_CHANNELS.includes(body.channel)) {
      if (!body.referenceNo?.trim())
        throw new AppError(
          'VALIDATION_FAILED',
          'a regulator or media case needs its reference number',
          'body.referenceNo',
        );
      if (!body.replyDeadline)
        throw new AppError(
          'VALIDATION_FAILED',
          'a regulator or media case needs its reply deadline',
          'body.replyDeadline',
        );
    }
    let phone: string | null = null;
    if (body.complainantPhone?.trim()) {
      phone = normalizePhone(body.complainantPhone);
      if (!phone) throw new AppError('VALIDATION_FAILED', 'not a phone number', 'body.complainantPhone');
    }
    let plate: string | null = null;
    if (body.plate?.trim()) {
      const parsed = parsePlate(body.plate);
      if (!parsed.ok) throw new AppError('VALIDATION_FAILED', parsed.reason, 'body.plate');
      plate = parsed.plate;
    }
    if (body.customerId === undefined && !body.complainantName?.trim() && !phone && !plate)
      throw new AppError('VALIDATION_FAILED', 'name the complainant, or give a phone or plate', 'body.complainantName');
    const emergency = isEmergency(body.channel, Number(category.emergency) === 1);

    const id = await this.db.transaction().execute(async (tx) => {
      const customerId = await this.findCustomer(tx, p, body, phone, plate);
      const owner = await this.ownerOf(tx, unit.path, 'verify', emergency, 0);
      const caseNo = await this.nextNumber(tx, now);
      const { id } = await tx
        .insertInto('complaint')
        .values({
          case_no: caseNo,
          channel: body.channel,
          category_code: category.code,
          severity_code: severity.code,
          org_unit_id: Number(unit.id),
          customer_id: customerId,
          complainant_name: body.complainantName?.trim() || null,
          complainant_phone: phone,
          plate,
          content: body.content.trim(),
          reference_no: body.referenceNo?.trim() || null,
          reply_deadline: body.replyDeadline ? new Date(body.replyDeadline).toISOString() : null,
          emergency: emergency ? 1 : 0,
          state: 'verify',
          owner_unit_id: owner.unitId,
          stage_started_at: at,
          stage_due_at: null,
          // An emergency case is on the HQ list at once.
          hq_watch: emergency ? 1 : 0,
          customer_flag: customerId === null ? 0 : 1,
          taken_by: p.userId,
          taken_at: at,
          updated_at: at,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const caseId = Number(id);
      await this.sla.restart(tx, caseId, at);
      await this.event(tx, p, caseId, 'take', null, 'verify', owner.unitId, at, {
        caseNo,
        channel: body.channel,
        emergency,
      });
      await this.syncWork(tx, caseId, at);
      await recordAudit(tx, actorOf(p, ip), {
        action: 'complaint_take',
        entity: 'complaint',
        entityId: caseId,
        orgUnitId: Number(unit.id),
        after: {
          caseNo,
          channel: body.channel,
          category: category.code,
          severity: severity.code,
          emergency,
          customerId,
          phone: phone ? maskPhone(phone) : null,
        },
      });
      return caseId;
    });
    return this.get(p, id);
  }

  private async event(
    db: Tx,
    p: Principal | null,
    caseId: number,
    action: string,
    from: string | null,
    to: string,
    ownerUnitId: number | null,
    at: string,
    detail: Record<string, unknown>,
  ) {
    await db
      .insertInto('complaint_event')
      .values({
        complaint_id: caseId,
        action,
        from_state: from,
        to_state: to,
        owner_unit_id: ownerUnitId,
        actor_user_id: p?.userId ?? null,
        actor_name: p?.displayName ?? 'system',
        at,
        detail: JSON.stringify(detail),
      })
      .execute();
  }

  // ── Reading ─────────────────────────────────────────────────────────────────────────────────
  private phoneFor(p: Principal, phone: string | null) {
    if (phone === null) return null;
    return can(p, 'customer.phone') ? phone : maskPhone(phone);
  }

  private summary(p: Principal, r: Awaited<ReturnType<ComplaintsService['row']>>) {
    return {
      id: Number(r.id),
      caseNo: r.case_no,
      channel: r.channel,
      category: { code: r.category_code, nameZh: r.category_zh, nameEn: r.category_en },
      severity: { code: r.severity_code, nameZh: r.severity_zh, nameEn: r.severity_en },
      orgUnitId: Number(r.org_unit_id),
      orgUnitName: r.org_unit_name,
      ownerUnitId: r.owner_unit_id === null ? null : Number(r.owner_unit_id),
      ownerUnitName: r.owner_unit_name ?? null,
      customer:
        r.customer_id === null
          ? null
          : { id: Number(r.customer_id), name: r.customer_name ?? null, code: r.customer_code ?? '' },
      complainantName: r.complainant_name,
      complainantPhone: this.phoneFor(p, r.complainant_phone),
      plate: r.plate,
      content: r.content,
      referenceNo: r.reference_no,
      replyDeadline: r.reply_deadline,
      emergency: r.emergency === 1,
      state: r.state as ComplaintState,
      levelUp: Number(r.level_up),
      stageDueAt: r.stage_due_at,
      overdue: isStage(r.state) && r.stage_due_at !== null && r.stage_due_at < this.now().toISOString(),
      returnCount: Number(r.return_count),
      reassignCount: Number(r.reassign_count),
      reopenCount: Number(r.reopen_count),
      bouncing: Number(r.return_count) + Number(r.reassign_count) >= BOUNCE_WARNING,
      rating: r.rating === null ? null : Number(r.rating),
      customerFlag: r.customer_flag === 1,
      ...slaSummary(r, this.now()),
      mergedIntoId: r.merged_into_id === null ? null : Number(r.merged_into_id),
      takenAt: r.taken_at,
      takenByName: r.taken_by_name ?? null,
      closedAt: r.closed_at,
      updatedAt: r.updated_at,
      version: Number(r.version),
    };
  }

  async list(p: Principal, q: ListQuery) {
    // The filters as plain conditions on the case (alias k) and its unit (alias o), so the count reads
    // the case table alone and only the page's rows are joined to names and people.
    const conds = [inScope(p, sql.ref('k.org_unit_id')), sql<SqlBool>`k.state <> 'merged'`];
    if (q.state) conds.push(sql<SqlBool>`k.state = ${q.state}`);
    if (q.open) conds.push(sql<SqlBool>`k.state in (${sql.join([...COMPLAINT_STAGES])})`);
    if (q.categoryCode) conds.push(sql<SqlBool>`k.category_code = ${q.categoryCode}`);
    if (q.severityCode) conds.push(sql<SqlBool>`k.severity_code = ${q.severityCode}`);
    if (q.emergency !== undefined) conds.push(sql<SqlBool>`k.emergency = ${q.emergency ? 1 : 0}`);
    if (q.customerId !== undefined) conds.push(sql<SqlBool>`k.customer_id = ${q.customerId}`);
    if (q.watch) conds.push(sql<SqlBool>`k.hq_watch = 1`);
    if (q.orgUnitId !== undefined) {
      const u = await this.db.selectFrom('org_unit').select('path').where('id', '=', q.orgUnitId).executeTakeFirst();
      if (!u || !pathInScope(p, u.path))
        throw new AppError(
          'SCOPE_DENIED',
          `org unit ${q.orgUnitId} is outside your organisation`,
          'querystring.orgUnitId',
        );
      conds.push(sql<SqlBool>`k.org_unit_id in (select sub.id from org_unit sub where sub.path like ${`${u.path}%`})`);
    }
    const where = sql<SqlBool>`${sql.join(conds, sql` and `)}`;
    const total = await this.db
      .selectFrom('complaint as k')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(where)
      .executeTakeFirstOrThrow();
    const rows = await this.base()
      .where(where)
      .select(caseColumns)
      .orderBy('k.taken_at', 'desc')
      .orderBy('k.id', 'desc')
      .limit(q.pageSize)
      .offset((q.page - 1) * q.pageSize)
      .execute();
    return { total: Number(total.n), items: rows.map((r) => this.summary(p, r)) };
  }

  private async duplicates(p: Principal, r: Awaited<ReturnType<ComplaintsService['row']>>) {
    const window = DUPLICATE_WINDOW_DAYS * 86_400_000;
    const from = new Date(Date.parse(r.taken_at) - window).toISOString();
    const to = new Date(Date.parse(r.taken_at) + window).toISOString();
    const rows = await this.db
      .selectFrom('complaint as k')
      .select([
        'k.id',
        'k.case_no',
        'k.customer_id',
        'k.complainant_phone',
        'k.plate',
        'k.org_unit_id',
        'k.category_code',
        'k.taken_at',
        'k.state',
      ])
      .where('k.id', '!=', r.id)
      .where('k.state', '!=', 'merged')
      .where('k.taken_at', '>=', from)
      .where('k.taken_at', '<=', to)
      .where((eb) => inScope(p, eb.ref('k.org_unit_id')))
      .where((eb) =>
        eb.or([
          ...(r.customer_id !== null ? [eb('k.customer_id', '=', r.customer_id)] : []),
          ...(r.complainant_phone ? [eb('k.complainant_phone', '=', r.complainant_phone)] : []),
          ...(r.plate ? [eb('k.plate', '=', r.plate)] : []),
          eb.and([eb('k.org_unit_id', '=', r.org_unit_id), eb('k.category_code', '=', r.category_code)]),
        ]),
      )
      .orderBy('k.taken_at', 'desc')
      .limit(20)
      .execute();
    const probe = (x: {
      customer_id: number | null;
      complainant_phone: string | null;
      plate: string | null;
      org_unit_id: number;
      category_code: string;
      taken_at: string;
    }) => ({
      customerId: x.customer_id === null ? null : Number(x.customer_id),
      phone: x.complainant_phone,
      plate: x.plate,
      orgUnitId: Number(x.org_unit_id),
      category: x.category_code,
      takenAt: x.taken_at,
    });
    return rows
      .map((x) => ({
        id: Number(x.id),
        caseNo: x.case_no,
        state: x.state,
        takenAt: x.taken_at,
        reasons: duplicateReasons(probe(r), probe(x)),
      }))
      .filter((x) => x.reasons.length > 0);
  }

  async get(p: Principal, id: number) {
    // The route checked the case against the reader's scope; a step that just handed it to another
    // unit answers with the case as it now is.
    const r = await this.row(id);
    const events = await this.db
      .selectFrom('complaint_event as e')
      .leftJoin('org_unit as o', 'o.id', 'e.owner_unit_id')
      .select([
        'e.id',
        'e.action',
        'e.from_state',
        'e.to_state',
        'e.actor_name',
        'e.at',
        'e.detail',
        'o.name as unit_name',
      ])
      .where('e.complaint_id', '=', id)
      .orderBy('e.id')
      .execute();
    const attachments = await this.db
      .selectFrom('complaint_attachment as a')
      .leftJoin('app_user as u', 'u.id', 'a.uploaded_by')
      .select(['a.id', 'a.stage', 'a.file_name', 'a.content_type', 'a.bytes', 'a.uploaded_at', 'u.display_name'])
      .where('a.complaint_id', '=', id)
      .orderBy('a.id')
      .execute();
    const linked = await this.linked(id);
    const merged = await this.db
      .selectFrom('complaint')
      .select(['id', 'case_no', 'merged_from_state'])
      .where('merged_into_id', '=', id)
      .orderBy('id')
      .execute();
    const facts = await this.facts(this.db, r);
    const owners = await Promise.all(
      COMPLAINT_STAGES.map(async (stage) => {
        const o = await this.ownerOf(this.db, r.org_path, stage, r.emergency === 1, Number(r.level_up));
        const unit = await this.db.selectFrom('org_unit').select('name').where('id', '=', o.unitId).executeTakeFirst();
        return { stage, level: o.level, roles: [...o.roles], unitId: o.unitId, unitName: unit?.name ?? '' };
      }),
    );
    return {
      ...this.summary(p, r),
      events: events.map((e) => ({
        id: Number(e.id),
        action: e.action,
        fromState: e.from_state,
        toState: e.to_state,
        actorName: e.actor_name,
        unitName: e.unit_name ?? null,
        at: e.at,
        detail: e.detail ? (JSON.parse(e.detail) as Record<string, unknown>) : {},
      })),
      attachments: attachments.map((a) => ({
        id: Number(a.id),
        stage: a.stage,
        fileName: a.file_name,
        contentType: a.content_type,
        bytes: Number(a.bytes),
        uploadedAt: a.uploaded_at,
        uploadedByName: a.display_name ?? null,
      })),
      owners,
      duplicates: r.state === 'merged' ? [] : await this.duplicates(p, r),
      linked,
      merged: merged.map((m) => ({ id: Number(m.id), caseNo: m.case_no })),
      allowedActions: can(p, 'complaint.handle') ? allowedActions(facts, p) : [],
      canAttach: can(p, 'complaint.handle') && isStage(r.state),
    };
  }

  private async linked(id: number) {
    const rows = await this.db
      .selectFrom('complaint_link as l')
      .innerJoin('complaint as k', (j) =>
        j.on((eb) =>
          eb.or([
            eb.and([eb('l.complaint_id', '=', id), eb('k.id', '=', eb.ref('l.other_id'))]),
            eb.and([eb('l.other_id', '=', id), eb('k.id', '=', eb.ref('l.complaint_id'))]),
          ]),
        ),
      )
      .select(['k.id', 'k.case_no', 'k.state'])
      .orderBy('k.id')
      .execute();
    return rows.map((x) => ({ id: Number(x.id), caseNo: x.case_no, state: x.state }));
  }

  private async facts(db: Tx, r: Awaited<ReturnType<ComplaintsService['row']>>) {
    const stage = isStage(r.state) ? r.state : 'archive';
    const owner = stageOwner(stage, { emergency: r.emergency === 1, levelUp: Number(r.level_up) });
    const evidence = await db
      .selectFrom('complaint_attachment')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('complaint_id', '=', r.id)
      .where('stage', '=', 'rectify')
      .where('uploaded_at', '>=', r.stage_started_at)
      .executeTakeFirstOrThrow();
    return {
      state: r.state as ComplaintState,
      ownerPath: r.owner_path ?? r.org_path,
      ownerRoles: owner.roles,
      rectifyEvidence: Number(evidence.n),
    };
  }

  // ── Steps ───────────────────────────────────────────────────────────────────────────────────
  async step(
    p: Principal,
    ip: string | null,
    id: number,
    action: ComplaintAction,
    body: StepInput & { orgUnitId?: number; version?: number },
  ) {
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (tx) => {
      const r = await this.row(id, tx);
      if (!pathInScope(p, r.org_path))
        throw new AppError('SCOPE_DENIED', `complaint ${id} is outside your organisation`);
      if (body.version !== undefined && body.version !== Number(r.version))
        throw new AppError('VERSION_CONFLICT', 'the case changed meanwhile; reload it');
      const facts = await this.facts(tx, r);
      const check = checkStep(action, facts, p, body);
      if (!check.ok) throw refusal(check);
      // The callback's answers, unreachable attempts, survey-contact ledger and low-score revisit.
      if (action === 'callback') await recordComplaintCallback(tx, p, r, body, this.now());
      const stage = r.state as ComplaintStage;
      const outcome = outcomeOf(action, stage, body);
      let unitPath = r.org_path;
      let unitId = Number(r.org_unit_id);
      if (action === 'reassign') {
        if (body.orgUnitId === undefined)
          throw new AppError('VALIDATION_FAILED', 'name the unit the case goes to', 'body.orgUnitId');
        const target = await tx
          .selectFrom('org_unit')
          .select(['id', 'path'])
          .where('id', '=', body.orgUnitId)
          .executeTakeFirst();
        const chain = await this.chain(tx, r.org_path);
        const parentPath = chain.length > 1 ? chain[chain.length - 2]!.path : r.org_path;
        // A unit hands a case on to a neighbour (under the same parent) or anywhere in its own subtree.
        if (!target || !(isWithin(target.path, parentPath) || pathInScope(p, target.path)))
          throw new AppError(
            'VALIDATION_FAILED',
            'the case can go to a neighbouring unit or one below you',
            'body.orgUnitId',
          );
        if (Number(target.id) === unitId)
          throw new AppError('VALIDATION_FAILED', 'the case is already there', 'body.orgUnitId');
        unitPath = target.path;
        unitId = Number(target.id);
      }
      const reopen = outcome.reopen;
      const levelUp = Number(r.level_up) + (reopen ? 1 : 0);
      const nextStage = isStage(outcome.state) ? outcome.state : null;
      const owner = nextStage ? await this.ownerOf(tx, unitPath, nextStage, r.emergency === 1, levelUp) : null;
      const closing = outcome.state === 'closed';
      const changed = await tx
        .updateTable('complaint')
        .set({
          state: outcome.state,
          org_unit_id: unitId,
          level_up: levelUp,
          owner_unit_id: owner ? owner.unitId : null,
          stage_started_at: at,
          stage_due_at: null,
          ...(action === 'return' && { return_count: Number(r.return_count) + 1 }),
          ...(action === 'reassign' && { reassign_count: Number(r.reassign_count) + 1 }),
          ...(reopen && { reopen_count: Number(r.reopen_count) + 1 }),
          ...(action === 'callback' && { rating: body.rating ?? null }),
          // The flag on the pump card goes when the case is closed after its callback.
          ...(closing && { customer_flag: 0, closed_at: at }),
          updated_at: at,
          version: Number(r.version) + 1,
        })
        .where('id', '=', id)
        .where('version', '=', Number(r.version))
        .executeTakeFirst();
      if (Number(changed.numUpdatedRows) !== 1) throw new AppError('VERSION_CONFLICT', 'the case changed meanwhile');
      await this.sla.restart(tx, id, at);
      const detail: Record<string, unknown> = {
        ...(body.note && { note: body.note }),
        ...(body.reason && { reason: body.reason }),
        ...(action === 'callback' && { rating: body.rating }),
        ...(action === 'callback' && body.csat !== undefined && { csat: body.csat }),
        ...(action === 'callback' && body.nps !== undefined && { nps: body.nps }),
        ...(action === 'callback' && body.ces !== undefined && { ces: body.ces }),
        ...(action === 'callback' && body.unreachable && { unreachable: true }),
        ...(reopen && { reopened: true, levelUp }),
        ...(action === 'reassign' && { fromUnitId: Number(r.org_unit_id), toUnitId: unitId }),
      };
      await this.event(tx, p, id, action, r.state, outcome.state, Number(r.owner_unit_id), at, detail);
      await this.syncWork(tx, id, at);
      await recordAudit(tx, actorOf(p, ip), {
        action:
          action === 'return'
            ? 'complaint_return'
            : action === 'reassign'
              ? 'complaint_reassign'
              : reopen
                ? 'complaint_reopen'
                : 'complaint_step',
        entity: 'complaint',
        entityId: id,
        orgUnitId: unitId,
        before: { state: r.state, orgUnitId: Number(r.org_unit_id) },
        after: { state: outcome.state, action, ...detail },
      });
    });
    return this.get(p, id);
  }

  // ── Evidence ────────────────────────────────────────────────────────────────────────────────
  async addAttachment(p: Principal, ip: string | null, id: number, fileName: string, input: Buffer) {
    const r = await this.row(id);
    if (!isStage(r.state)) throw new AppError('CONFLICT', `the case is ${r.state}`);
    const checked = await checkAttachment(input);
    if (!checked.ok)
      throw new AppError(
        checked.problem === 'too_large'
          ? 'BODY_TOO_LARGE'
          : checked.problem === 'type'
            ? 'UNSUPPORTED_MEDIA_TYPE'
            : 'VALIDATION_FAILED',
        checked.detail,
        'body',
      );
    const at = this.now().toISOString();
    const key = newKey('complaint', checked.file.extension, this.now());
    await this.storage.put(key, checked.file.bytes);
    const name = (fileName.trim() || `evidence.${checked.file.extension}`).slice(0, 200);
    try {
      const attachmentId = await this.db.transaction().execute(async (tx) => {
        const { id: aid } = await tx
          .insertInto('complaint_attachment')
          .values({
            complaint_id: id,
            stage: r.state,
            storage_key: key,
            file_name: name,
            content_type: checked.file.contentType,
            bytes: checked.file.bytes.length,
            uploaded_by: p.userId,
            uploaded_at: at,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await recordAudit(tx, actorOf(p, ip), {
          action: 'complaint_attach',
          entity: 'complaint',
          entityId: id,
          orgUnitId: Number(r.org_unit_id),
          after: { attachmentId: Number(aid), stage: r.state, fileName: name, contentType: checked.file.contentType },
        });
        return Number(aid);
      });
      return {
        id: attachmentId,
        stage: r.state,
        fileName: name,
        contentType: checked.file.contentType,
        bytes: checked.file.bytes.length,
        uploadedAt: at,
        uploadedByName: p.displayName,
      };
    } catch (err) {
      await this.storage.delete(key);
      throw err;
    }
  }

  async attachment(id: number, attachmentId: number) {
    const a = await this.db
      .selectFrom('complaint_attachment')
      .select(['storage_key', 'content_type', 'file_name'])
      .where('id', '=', attachmentId)
      .where('complaint_id', '=', id)
      .executeTakeFirst();
    if (!a) throw new AppError('NOT_FOUND', `attachment ${attachmentId} not found`);
    const bytes = await this.storage.get(a.storage_key);
    if (!bytes) throw new AppError('NOT_FOUND', `attachment ${attachmentId} is missing from storage`);
    return { bytes, contentType: a.content_type, fileName: a.file_name };
  }

  // ── Duplicates ──────────────────────────────────────────────────────────────────────────────
  private async other(db: Tx, p: Principal, otherId: number, id: number) {
    if (otherId === id) throw new AppError('VALIDATION_FAILED', 'a case is not its own duplicate', 'body.otherId');
    const o = await db
      .selectFrom('complaint as k')
      .innerJoin('org_unit as u', 'u.id', 'k.org_unit_id')
      .select(['k.id', 'k.state', 'k.merged_into_id', 'k.merged_from_state', 'u.path', 'k.org_unit_id', 'k.version'])
      .where('k.id', '=', otherId)
      .executeTakeFirst();
    if (!o || !pathInScope(p, o.path))
      throw new AppError('VALIDATION_FAILED', `complaint ${otherId} not found`, 'body.otherId');
    return o;
  }

  /** Link `otherId` to the case (both stay open), or merge it in (it stops; its trail stays on it). */
  async link(p: Principal, ip: string | null, id: number, otherId: number, mode: 'link' | 'merge') {
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (tx) => {
      const r = await this.row(id, tx);
      if (r.state === 'merged') throw new AppError('CONFLICT', 'this case was merged into another');
      const o = await this.other(tx, p, otherId, id);
      if (mode === 'link') {
        const exists = await tx
          .selectFrom('complaint_link')
          .select('id')
          .where((eb) =>
            eb.or([
              eb.and([eb('complaint_id', '=', id), eb('other_id', '=', otherId)]),
              eb.and([eb('complaint_id', '=', otherId), eb('other_id', '=', id)]),
            ]),
          )
          .executeTakeFirst();
        if (exists) throw new AppError('CONFLICT', 'the cases are linked already');
        await tx
          .insertInto('complaint_link')
          .values({ complaint_id: id, other_id: otherId, created_by: p.userId, created_at: at })
          .execute();
        await this.event(tx, p, id, 'link', r.state, r.state, null, at, { otherId });
        await this.event(tx, p, otherId, 'link', o.state, o.state, null, at, { otherId: id });
      } else {
        if (o.state === 'merged') throw new AppError('CONFLICT', 'that case was merged already');
        if (o.state === 'closed') throw new AppError('CONFLICT', 'a closed case is not merged');
        const carried = await tx
          .selectFrom('complaint')
          .select('id')
          .where('merged_into_id', '=', otherId)
          .executeTakeFirst();
        if (carried) throw new AppError('CONFLICT', 'that case has cases merged into it; undo those first');
        await tx
          .updateTable('complaint')
          .set({
            state: 'merged',
            merged_into_id: id,
            merged_from_state: o.state,
            customer_flag: 0,
            updated_at: at,
            version: Number(o.version) + 1,
          })
          .where('id', '=', otherId)
          .execute();
        await this.event(tx, p, otherId, 'merge', o.state, 'merged', null, at, { intoId: id, intoCaseNo: r.case_no });
        await this.event(tx, p, id, 'merge_in', r.state, r.state, null, at, { otherId });
        await this.syncWork(tx, otherId, at);
      }
      await recordAudit(tx, actorOf(p, ip), {
        action: mode === 'link' ? 'complaint_link' : 'complaint_merge',
        entity: 'complaint',
        entityId: id,
        orgUnitId: Number(r.org_unit_id),
        after: { otherId, mode },
      });
    });
    return this.get(p, id);
  }

  /** Undo a link or a merge: the merged case goes back to the stage it was at, its trail kept. */
  async unlink(p: Principal, ip: string | null, id: number, otherId: number) {
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (tx) => {
      const r = await this.row(id, tx);
      const o = await this.other(tx, p, otherId, id);
      if (o.state === 'merged' && Number(o.merged_into_id) === id) {
        const back = (o.merged_from_state ?? 'verify') as ComplaintState;
        const oc = await tx
          .selectFrom('complaint')
          .select(['customer_id'])
          .where('id', '=', otherId)
          .executeTakeFirstOrThrow();
        await tx
          .updateTable('complaint')
          .set({
            state: back,
            merged_into_id: null,
            merged_from_state: null,
            customer_flag: oc.customer_id !== null && isStage(back) ? 1 : 0,
            // Its stage clock is computed afresh by the next SLA sweep.
            sla_mode: null,
            updated_at: at,
            version: Number(o.version) + 1,
          })
          .where('id', '=', otherId)
          .execute();
        await this.event(tx, p, otherId, 'unmerge', 'merged', back, null, at, { fromId: id });
        await this.event(tx, p, id, 'unmerge_out', r.state, r.state, null, at, { otherId });
        await this.syncWork(tx, otherId, at);
        await recordAudit(tx, actorOf(p, ip), {
          action: 'complaint_unmerge',
          entity: 'complaint',
          entityId: id,
          orgUnitId: Number(r.org_unit_id),
          after: { otherId, state: back },
        });
        return;
      }
      const gone = await tx
        .deleteFrom('complaint_link')
        .where((eb) =>
          eb.or([
            eb.and([eb('complaint_id', '=', id), eb('other_id', '=', otherId)]),
            eb.and([eb('complaint_id', '=', otherId), eb('other_id', '=', id)]),
          ]),
        )
        .executeTakeFirst();
      if (Number(gone.numDeletedRows) === 0) throw new AppError('NOT_FOUND', 'the cases are neither linked nor merged');
      await this.event(tx, p, id, 'unlink', r.state, r.state, null, at, { otherId });
      await this.event(tx, p, otherId, 'unlink', o.state, o.state, null, at, { otherId: id });
      await recordAudit(tx, actorOf(p, ip), {
        action: 'complaint_unlink',
        entity: 'complaint',
        entityId: id,
        orgUnitId: Number(r.org_unit_id),
        after: { otherId },
      });
    });
    return this.get(p, id);
  }

  /**
   * Whether the customer `customerId` refers to has an open complaint flag ("unhappy before — look
   * after him"): a correlated subquery, so a caller reading a few customers asks it in the same query.
   */
  static flaggedOf(eb: ExpressionBuilder<any, any>, customerId: Expression<number>) {
    return eb.exists(
      eb
        .selectFrom('complaint as flag')
        .select(sql`1`.as('one'))
        .where('flag.customer_id', '=', customerId)
        .where('flag.customer_flag', '=', 1),
    );
  }
}
