// Must-contact moments (DOMAIN.md "Looking after customers"): price changes, holidays, weather and road
// warnings and birthdays become a contact task for each affected customer's owner (else the station
// manager of his unit or the nearest unit above), due at the policy's hour on the unit's own clock, on
// the day or the policy's lead days before. Generation is idempotent: (moment, customer) is unique.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { AppError } from '../../errors.js';
import type { Principal } from '../../auth/principal.js';
import { actorOf } from '../../auth/principal.js';
import { inScope, orgUnitInScope } from '../../auth/scope.js';
import { recordAudit } from '../audit/audit.service.js';
import { currentPolicy } from '../policies/policies.service.js';
import { closeWorkItem, openWorkItems, type WorkItemInput } from '../work/work-items.js';
import { addWorkingDays, holidayStarts } from '../../../domain/business-calendar.js';
import { birthdaysBetween } from '../../../domain/china-calendar.js';
import { businessDay, dayNumber, zonedToUtc } from '../../../domain/business-day.js';
import { addDays, addMonths, isCalendarDay } from '../../../domain/day-arithmetic.js';
import type { ContactPolicy } from '../../../domain/policies.js';
import { loadCalendars, pathIds, type Calendars } from './calendar.service.js';
import { contactQueries as q, type AffectedCustomer, type NewTask } from './contact-moments.queries.js';
import { parsePriceFile, type PriceRow } from './price-file.js';

export const MOMENT_KINDS = ['price_change', 'holiday', 'weather', 'birthday'] as const;
export type MomentKind = (typeof MOMENT_KINDS)[number];
/** How the customer was reached (or not). */
export const CONTACT_OUTCOMES = ['phone', 'sms', 'wechat', 'visit', 'not_reached'] as const;
export type ContactOutcome = (typeof CONTACT_OUTCOMES)[number];

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

function yuan(fen: number): string {
  return (fen / 100).toFixed(2);
}

function customerName(r: { customer_name: string | null; customer_surname: string | null; customer_code: string }) {
  return r.customer_name ?? r.customer_surname ?? r.customer_code;
}

type TaskRow = NonNullable<Awaited<ReturnType<typeof q.taskById>>>;

function toTask(r: TaskRow, p: Principal) {
  return {
    id: Number(r.id),
    customer: { id: Number(r.customer_id), code: r.customer_code, name: customerName(r) },
    orgUnitId: Number(r.org_unit_id),
    orgUnitName: r.org_unit_name,
    momentKind: r.moment_kind as MomentKind,
    momentDay: r.moment_day,
    title: r.title,
    assigneeUserId: r.assignee_user_id === null ? null : Number(r.assignee_user_id),
    assigneeName: r.assignee_name,
    contactDay: r.contact_day,
    dueAt: r.due_at,
    state: r.state as 'open' | 'done',
    channel: r.channel,
    outboxMessageId: r.outbox_message_id === null ? null : Number(r.outbox_message_id),
    outcome: r.outcome as ContactOutcome | null,
    note: r.note,
    doneByName: r.done_by_name,
    doneAt: r.done_at,
    canComplete: r.state === 'open' && r.assignee_user_id !== null && Number(r.assignee_user_id) === p.userId,
  };
}
export type ContactTask = ReturnType<typeof toTask>;

/** Who gets a customer's task: his owner, else a station manager of his unit or the nearest unit above. */
function assigneeOf(c: AffectedCustomer, managers: Map<number, number>): number | null {
  if (c.ownerUserId !== null) return c.ownerUserId;
  const ids = pathIds(c.path);
  for (let i = ids.length - 1; i >= 0; i--) {
    const m = managers.get(ids[i]!);
    if (m !== undefined) return m;
  }
  return null;
}

interface Candidate {
  customer: AffectedCustomer;
  kind: MomentKind;
  key: string;
  momentDay: string;
  contactDay: string;
  title: string;
  priceChangeId?: number;
  weatherWarningId?: number;
}

export interface GenerateResult {
  created: number;
  byKind: Record<MomentKind, number>;
}

export class ContactMomentsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  // ---- generation -------------------------------------------------------------------------------

  /**
   * Makes every task due by each unit's today (its own time zone) that is not on file yet. A task's day
   * is its moment's day less the policy's lead days (working days for holidays), never before the day
   * it is made; it is due at the policy's hour of that day on the unit's clock.
   */
  async generate(): Promise<GenerateResult> {
    const now = this.now();
    const nowMs = now.getTime();
    const policy = (await currentPolicy(this.db, 'contact')).body;
    const cals = await loadCalendars(this.db);
    const today = (c: AffectedCustomer) => businessDay(nowMs, c.timeZone);
    const candidates: Candidate[] = [];

    // Price changes taking effect from yesterday (UTC) to the lead days and two more ahead.
    const fromMonth = addMonths(businessDay(nowMs - policy.priceLookbackDays * DAY_MS, 'UTC').slice(0, 7), 0);
    const changes = await q.pendingPriceChanges(
      this.db,
      new Date(nowMs - 2 * DAY_MS).toISOString(),
      new Date(nowMs + (policy.priceLeadDays + 2) * DAY_MS).toISOString(),
    );
    for (const pc of changes) {
      const title = `${pc.product} ${yuan(pc.old_price_fen)} → ${yuan(pc.new_price_fen)}`;
      for (const c of await q.buyersOf(this.db, pc.path, pc.product, fromMonth)) {
        const momentDay = businessDay(Date.parse(pc.effective_at), c.timeZone);
        candidates.push({
          customer: c,
          kind: 'price_change',
          key: `price_change:${pc.id}`,
          momentDay,
          contactDay: addDays(momentDay, -policy.priceLeadDays),
          title,
          priceChangeId: Number(pc.id),
        });
      }
    }

    // Weather and road warnings not over yet anywhere.
    for (const w of await q.pendingWeatherWarnings(this.db, businessDay(nowMs - DAY_MS, 'UTC'))) {
      for (const c of await q.customersOf(this.db, w.path, w.route_text)) {
        if (today(c) > w.end_day) continue;
        candidates.push({
          customer: c,
          kind: 'weather',
          key: `weather:${w.id}`,
          momentDay: w.start_day,
          contactDay: addDays(w.start_day, -policy.weatherLeadDays),
          title: w.title,
          weatherWarningId: Number(w.id),
        });
      }
    }

    // Holidays on each customer's unit calendar: key customers are contacted ahead by working days.
    const holidayCache = new Map<string, { day: string; name: string | null; contactDay: string }[]>();
    for (const c of await q.ratedAtLeast(this.db, policy.holidayMinStars)) {
      const t = today(c);
      const cacheKey = `${c.orgUnitId}:${t}`;
      let list = holidayCache.get(cacheKey);
      if (!list) {
        const cal = cals.of(c.orgUnitId);
        // Lead days are working days: a holiday as far ahead as lead working days can reach.
        const horizon = addDays(t, policy.holidayLeadDays * 3 + 31);
        list = holidayStarts(cal, t, horizon).map((h) => ({
          ...h,
          contactDay: policy.holidayLeadDays === 0 ? h.day : addWorkingDays(cal, h.day, -policy.holidayLeadDays),
        }));
        holidayCache.set(cacheKey, list);
      }
      for (const h of list) {
        candidates.push({
          customer: c,
          kind: 'holiday',
          key: `holiday:${h.day}`,
          momentDay: h.day,
          contactDay: h.contactDay,
          title: h.name ?? h.day,
        });
      }
    }

    // Birthdays, solar or lunar, within the lead days.
    for (let after = 0; ;) {
      const chunk = await q.withBirthday(this.db, after, 5000);
      if (chunk.length === 0) break;
      after = chunk[chunk.length - 1]!.id;
      for (const c of chunk) {
        const t = today(c);
        let days: string[];
        try {
          days = birthdaysBetween(c.birthday, c.calendar, t, addDays(t, policy.birthdayLeadDays));
        } catch {
          continue; // a lunar date no lunar month has; the archive's own check refuses new ones
        }
        for (const d of days)
          candidates.push({
            customer: c,
            kind: 'birthday',
            key: `birthday:${d}`,
            momentDay: d,
            contactDay: addDays(d, -policy.birthdayLeadDays),
            title: c.calendar === 'lunar' ? '生日（农历）' : '生日',
          });
      }
    }

    return this.store(candidates, policy, nowMs);
  }

  private async store(candidates: Candidate[], policy: ContactPolicy, nowMs: number): Promise<GenerateResult> {
    const at = new Date(nowMs).toISOString();
    const byKind: Record<MomentKind, number> = { price_change: 0, holiday: 0, weather: 0, birthday: 0 };
    const rows: NewTask[] = [];
    const subjects = new Map<string, Candidate>();
    const managers = await q.stationManagers(this.db);
    for (const x of candidates) {
      const t = businessDay(nowMs, x.customer.timeZone);
      // Due today or earlier, and the moment not past: a late-entered change is due today.
      if (x.contactDay > t || x.momentDay < t) continue;
      const contactDay = x.contactDay < t ? t : x.contactDay;
      const dueAt = zonedToUtc(dayNumber(contactDay) * DAY_MS + policy.dueHour * HOUR_MS, x.customer.timeZone);
      subjects.set(`${x.key}|${x.customer.id}`, x);
      rows.push({
        customer_id: x.customer.id,
        org_unit_id: x.customer.orgUnitId,
        moment_kind: x.kind,
        moment_key: x.key,
        moment_day: x.momentDay,
        price_change_id: x.priceChangeId ?? null,
        weather_warning_id: x.weatherWarningId ?? null,
        title: x.title.slice(0, 200),
        assignee_user_id: assigneeOf(x.customer, managers),
        contact_day: contactDay,
        due_at: new Date(dueAt).toISOString(),
        state: 'open',
        channel: null,
        created_at: at,
        updated_at: at,
      });
    }
    // One candidate per (moment, customer) in a run; a customer in two overlapping lists counts once.
    const unique = [...new Map(rows.map((r) => [`${r.moment_key}|${r.customer_id}`, r])).values()];
    let created = 0;
    for (let i = 0; i < unique.length; i += 2000) {
      const part = unique.slice(i, i + 2000);
      await this.db.transaction().execute(async (trx) => {
        const inserted = await q.insertTasks(trx, part);
        const byKey = new Map(part.map((r) => [`${r.moment_key}|${r.customer_id}`, r]));
        const items: WorkItemInput[] = [];
        for (const ins of inserted) {
          const row = byKey.get(`${ins.key}|${ins.customer_id}`)!;
          const x = subjects.get(`${ins.key}|${ins.customer_id}`)!;
          byKind[x.kind]++;
          items.push({
            kind: 'contact_task',
            recordId: ins.id,
            assigneeUserId: row.assignee_user_id,
            permission: row.assignee_user_id === null ? 'customer.write' : null,
            orgUnitId: row.org_unit_id,
            customerId: row.customer_id,
            subject: `${x.customer.label} · ${row.title}`,
            dueAt: row.due_at,
          });
        }
        await openWorkItems(trx, items, at);
        created += inserted.length;
      });
    }
    return { created, byKind };
  }

  // ---- tasks --------------------------------------------------------------------------------------

  async listTasks(
    p: Principal,
    f: { mine?: boolean; state?: 'open' | 'done'; kind?: MomentKind; page: number; pageSize: number },
  ) {
    let query = q.taskSelect(this.db).where(inScope(p, sql.ref<number>('t.org_unit_id')));
    if (f.mine) query = query.where('t.assignee_user_id', '=', p.userId);
    if (f.state) query = query.where('t.state', '=', f.state);
    if (f.kind) query = query.where('t.moment_kind', '=', f.kind);
    const total = await this.db
      .selectFrom(query.as('x'))
      .select((s) => s.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const rows = await query
      .orderBy('t.due_at')
      .orderBy('t.id')
      .limit(f.pageSize)
      .offset((f.page - 1) * f.pageSize)
      .execute();
    return { total: Number(total.n), items: rows.map((r) => toTask(r, p)) };
  }

  async getTask(p: Principal, id: number): Promise<ContactTask> {
    const r = await q.taskById(this.db, id);
    if (!r) throw new AppError('NOT_FOUND', `contact task ${id} not found`);
    return toTask(r, p);
  }

  /** The assignee records how the customer was reached; nobody else may close his task. */
  async complete(p: Principal, ip: string, id: number, outcome: ContactOutcome, note: string | null) {
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (trx) => {
      const r = await q.taskById(trx, id);
      if (!r) throw new AppError('NOT_FOUND', `contact task ${id} not found`);
      if (r.assignee_user_id === null || Number(r.assignee_user_id) !== p.userId)
        throw new AppError('PERMISSION_DENIED', 'only the person the task is for may complete it');
      if (r.state !== 'open' || !(await q.completeTask(trx, id, outcome, note, p.userId, at)))
        throw new AppError('CONFLICT', `contact task ${id} is already done`);
      await closeWorkItem(trx, 'contact_task', id, at);
      await recordAudit(trx, actorOf(p, ip), {
        action: 'contact_task_complete',
        entity: 'contact_task',
        entityId: id,
        orgUnitId: Number(r.org_unit_id),
        before: { state: r.state },
        after: { state: 'done', outcome, note },
      });
    });
    return this.getTask(p, id);
  }

  // ---- price changes and warnings ------------------------------------------------------------------

  private async assertUnit(p: Principal, unitId: number, field: string) {
    if (!(await orgUnitInScope(this.db, p, unitId)))
      throw new AppError('SCOPE_DENIED', `org unit ${unitId} is outside your organisation`, field);
  }

  async createPriceChanges(p: Principal, ip: string, unitId: number, list: PriceRow[], source: 'manual' | 'import') {
    await this.assertUnit(p, unitId, 'body.orgUnitId');
    const at = this.now().toISOString();
    return this.db.transaction().execute(async (trx) => {
      const ids = await q.insertPriceChanges(
        trx,
        list.map((r) => ({
          org_unit_id: unitId,
          product: r.product,
          old_price_fen: r.oldPriceFen,
          new_price_fen: r.newPriceFen,
          effective_at: new Date(Date.parse(r.effectiveAt)).toISOString(),
          source,
          note: r.note ?? null,
          created_by: p.userId,
          created_at: at,
        })),
      );
      for (const id of ids)
        await recordAudit(trx, actorOf(p, ip), {
          action: 'price_change_create',
          entity: 'price_change',
          entityId: id,
          orgUnitId: unitId,
          after: { source },
        });
      return { created: ids.length, unchanged: list.length - ids.length, ids };
    });
  }

  async importPriceChanges(p: Principal, ip: string, unitId: number, fileName: string, base64: string) {
    const rows = await parsePriceFile(fileName, Buffer.from(base64, 'base64'));
    return this.createPriceChanges(p, ip, unitId, rows, 'import');
  }

  async listPriceChanges(p: Principal) {
    const rows = await q.listPriceChanges(this.db, p, 200);
    return rows.map((r) => ({
      id: Number(r.id),
      orgUnitId: Number(r.org_unit_id),
      orgUnitName: r.org_unit_name,
      product: r.product,
      oldPriceFen: Number(r.old_price_fen),
      newPriceFen: Number(r.new_price_fen),
      effectiveAt: r.effective_at,
      source: r.source,
      note: r.note,
      createdByName: r.created_by_name,
      createdAt: r.created_at,
    }));
  }

  async createWeatherWarning(
    p: Principal,
    ip: string,
    input: {
      orgUnitId: number;
      title: string;
      detail?: string | null;
      routeText?: string | null;
      startDay: string;
      endDay?: string | null;
    },
  ) {
    await this.assertUnit(p, input.orgUnitId, 'body.orgUnitId');
    if (!isCalendarDay(input.startDay))
      throw new AppError('VALIDATION_FAILED', `${input.startDay} is no day of the calendar`, 'body.startDay');
    const endDay = input.endDay ?? input.startDay;
    if (!isCalendarDay(endDay))
      throw new AppError('VALIDATION_FAILED', `${endDay} is no day of the calendar`, 'body.endDay');
    if (endDay < input.startDay) throw new AppError('VALIDATION_FAILED', 'endDay is before startDay', 'body.endDay');
    const at = this.now().toISOString();
    const id = await this.db.transaction().execute(async (trx) => {
      const newId = await q.insertWeatherWarning(trx, {
        org_unit_id: input.orgUnitId,
        title: input.title,
        detail: input.detail ?? null,
        route_text: input.routeText?.trim() || null,
        start_day: input.startDay,
        end_day: endDay,
        created_by: p.userId,
        created_at: at,
      });
      await recordAudit(trx, actorOf(p, ip), {
        action: 'weather_warning_create',
        entity: 'weather_warning',
        entityId: newId,
        orgUnitId: input.orgUnitId,
        after: { title: input.title, startDay: input.startDay, endDay, routeText: input.routeText ?? null },
      });
      return newId;
    });
    return { id };
  }

  async listWeatherWarnings(p: Principal) {
    const rows = await q.listWeatherWarnings(this.db, p, 200);
    return rows.map((r) => ({
      id: Number(r.id),
      orgUnitId: Number(r.org_unit_id),
      orgUnitName: r.org_unit_name,
      title: r.title,
      detail: r.detail,
      routeText: r.route_text,
      startDay: r.start_day,
      endDay: r.end_day,
      createdByName: r.created_by_name,
      createdAt: r.created_at,
    }));
  }

  /** Upcoming moments of the reader's unit, for the page: the next holidays on its calendar. */
  async upcomingHolidays(p: Principal, cals?: Calendars) {
    const all = cals ?? (await loadCalendars(this.db));
    const cal = all.of(p.orgUnitId);
    const t = businessDay(this.now().getTime(), cal.timeZone);
    return holidayStarts(cal, t, addDays(t, 120));
  }
}
