// Visit records: the structured form of a visit (DOMAIN.md's list), its follow-up actions (each a
// `visit_follow_up` work item for its owner), photos (through the storage interface, re-encoded
// without EXIF), an optional check-in with the phone's position, and problems handed up one level
// at a time (a `problem` work item for the level above). Also the screen before a visit.
import { sql } from 'kysely';
import { actorOf, type Principal } from '../../auth/principal.js';
import { inCustomerScope, pathInCustomerScope, pathInCustomerWriteScope, pathInScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import { recordAudit, recordRead } from '../audit/audit.service.js';
import { closeWorkItem, openWorkItem, openWorkItems, type WorkItemInput } from '../work/work-items.js';
import { isWithin } from '../../../domain/org-path.js';
import { businessDay } from '../../../domain/business-day.js';
import { addMonths, isCalendarDay } from '../../../domain/day-arithmetic.js';
import {
  checkInProblem,
  localInstant,
  parentUnitId,
  type VisitAspect,
  type Comparison,
} from '../../../domain/visit-plan.js';
import { cleanImage } from '../../storage/images.js';
import { newKey, type Storage } from '../../storage/storage.js';
import { VisitPlansService } from './visit-plans.service.js';
import { customerLabel, num, numOrNull, unitOf, userNames, type Db, type Tx } from './visits.common.js';
import { markFollowedUp } from './ownership-hook.js';

export interface RecordBody {
  customerId: number;
  plannedVisitId?: number;
  visitedAt?: string;
  assessment: Partial<Record<VisitAspect, { compared: Comparison; note?: string }>>;
  marketOutlook?: string;
  competitorsBetter?: string;
  note?: string;
  followUps?: { action: string; ownerUserId?: number; dueDay: string }[];
  checkIn?: { lat: number; lng: number; accuracyM: number; at: string };
  problem?: string;
}

const MAX_PHOTOS = 12;

export class VisitRecordsService {
  constructor(
    private readonly db: Db,
    private readonly storage: Storage,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private async customer(db: Tx, id: number, field: string) {
    const c = await db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .select([
        'c.id',
        'c.code',
        'c.name',
        'c.organisation',
        'c.kind',
        'c.org_unit_id',
        'c.owner_user_id',
        'o.path',
        'o.time_zone',
        'o.name as unit_name',
      ])
      .where('c.id', '=', id)
      .where('c.merged_into_id', 'is', null)
      .executeTakeFirst();
    if (!c) throw new AppError('VALIDATION_FAILED', `no customer ${id}`, field);
    return c;
  }

  async create(p: Principal, ip: string, body: RecordBody) {
    const at = this.now().toISOString();
    const visitedAt = body.visitedAt ? new Date(body.visitedAt).toISOString() : at;
    if (visitedAt > new Date(Date.parse(at) + 3_600_000).toISOString())
      throw new AppError('VALIDATION_FAILED', 'a visit is recorded after it happened', 'body.visitedAt');
    if (body.checkIn) {
      const problem = checkInProblem(body.checkIn);
      if (problem)
        throw new AppError('VALIDATION_FAILED', `check-in ${problem} is out of range`, `body.checkIn.${problem}`);
    }
    for (const [i, f] of (body.followUps ?? []).entries())
      if (!isCalendarDay(f.dueDay))
        throw new AppError('VALIDATION_FAILED', 'dueDay is no day of the calendar', `body.followUps.${i}.dueDay`);
    const recordId = await this.db.transaction().execute(async (trx) => {
      const c = await this.customer(trx, body.customerId, 'body.customerId');
      if (!pathInCustomerWriteScope(p, c.path))
        throw new AppError('SCOPE_DENIED', 'that customer is outside your organisation');
      const visitedDay = businessDay(Date.parse(visitedAt), c.time_zone);
      if (body.plannedVisitId !== undefined) {
        const pv = await trx
          .selectFrom('planned_visit')
          .selectAll()
          .where('id', '=', body.plannedVisitId)
          .executeTakeFirst();
        if (!pv || num(pv.customer_id) !== body.customerId)
          throw new AppError('VALIDATION_FAILED', 'that planned visit is not of this customer', 'body.plannedVisitId');
        if (pv.state === 'done' || pv.state === 'cancelled')
          throw new AppError('CONFLICT', `the planned visit is ${pv.state} already`, 'body.plannedVisitId');
      }
      // Follow-up owners: the recorder by default, else someone of his own organisation.
      const owners = [
        ...new Set((body.followUps ?? []).map((f) => f.ownerUserId).filter((x): x is number => x !== undefined)),
      ];
      if (owners.length) {
        const found = await trx
          .selectFrom('app_user as u')
          .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
          .select(['u.id', 'o.path', 'u.active'])
          .where('u.id', 'in', owners)
          .execute();
        for (const [i, f] of (body.followUps ?? []).entries()) {
          if (f.ownerUserId === undefined) continue;
          const u = found.find((x) => num(x.id) === f.ownerUserId);
          if (!u || u.active !== 1 || !(pathInScope(p, u.path) || isWithin(p.orgPath, u.path)))
            throw new AppError(
              'VALIDATION_FAILED',
              'the owner must be an active user of your organisation',
              `body.followUps.${i}.ownerUserId`,
            );
        }
      }
      const row = await trx
        .insertInto('visit_record')
        .values({
          customer_id: body.customerId,
          org_unit_id: num(c.org_unit_id),
          user_id: p.userId,
          planned_visit_id: body.plannedVisitId ?? null,
          visited_at: visitedAt,
          visited_day: visitedDay,
          assessment: JSON.stringify(body.assessment),
          market_outlook: body.marketOutlook?.trim() || null,
          competitors_better: body.competitorsBetter?.trim() || null,
          note: body.note?.trim() || null,
          check_in_lat: body.checkIn?.lat ?? null,
          check_in_lng: body.checkIn?.lng ?? null,
          check_in_accuracy_m: body.checkIn?.accuracyM ?? null,
          check_in_at: body.checkIn ? new Date(body.checkIn.at).toISOString() : null,
          created_at: at,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const id = num(row.id);
      if (body.plannedVisitId !== undefined) await VisitPlansService.markDone(trx, body.plannedVisitId, id, at);
      const items: WorkItemInput[] = [];
      for (const f of body.followUps ?? []) {
        const owner = f.ownerUserId ?? p.userId;
        const dueAt = localInstant(f.dueDay, 18, 0, c.time_zone);
        const fu = await trx
          .insertInto('visit_follow_up')
          .values({
            record_id: id,
            customer_id: body.customerId,
            org_unit_id: num(c.org_unit_id),
            owner_user_id: owner,
            action: f.action.trim(),
            due_day: f.dueDay,
            due_at: dueAt,
            state: 'open',
            done_at: null,
            done_by: null,
            created_at: at,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        items.push({
          kind: 'visit_follow_up',
          recordId: num(fu.id),
          assigneeUserId: owner,
          orgUnitId: num(c.org_unit_id),
          customerId: body.customerId,
          subject: `${customerLabel(c)}：${f.action.trim()}`,
          dueAt,
        });
      }
      await openWorkItems(trx, items, at);
      if (body.problem?.trim())
        await this.raise(
          trx,
          p,
          ip,
          {
            recordId: id,
            customerId: body.customerId,
            unitPath: c.path,
            unitId: num(c.org_unit_id),
            label: customerLabel(c),
            text: body.problem.trim(),
          },
          at,
        );
      await markFollowedUp(trx, body.customerId, p.userId, visitedAt);
      await recordAudit(trx, actorOf(p, ip), {
        action: 'visit_record_create',
        entity: 'visit_record',
        entityId: id,
        orgUnitId: num(c.org_unit_id),
        after: {
          customerId: body.customerId,
          plannedVisitId: body.plannedVisitId ?? null,
          visitedAt,
          followUps: items.length,
          checkIn: body.checkIn ?? null,
        },
      });
      return id;
    });
    return this.read(recordId);
  }

  async get(p: Principal, ip: string, id: number) {
    const r = await this.read(id);
    await recordRead(this.db, actorOf(p, ip), 'visit_record', id, r.orgUnitId);
    return r;
  }

  private async read(id: number) {
    const r = await this.db
      .selectFrom('visit_record as r')
      .innerJoin('customer as c', 'c.id', 'r.customer_id')
      .leftJoin('app_user as u', 'u.id', 'r.user_id')
      .selectAll('r')
      .select(['c.code', 'c.name', 'c.organisation', 'u.display_name as user_name'])
      .where('r.id', '=', id)
      .executeTakeFirst();
    if (!r) throw new AppError('NOT_FOUND', `visit record ${id} not found`);
    const followUps = await this.db
      .selectFrom('visit_follow_up')
      .selectAll()
      .where('record_id', '=', id)
      .orderBy('id')
      .execute();
    const photos = await this.db
      .selectFrom('visit_photo')
      .select(['id', 'width', 'height', 'bytes', 'created_at'])
      .where('record_id', '=', id)
      .orderBy('id')
      .execute();
    const problems = await this.db
      .selectFrom('visit_problem')
      .select(['id', 'state', 'text', 'org_unit_id'])
      .where('record_id', '=', id)
      .orderBy('id')
      .execute();
    const names = await userNames(
      this.db,
      followUps.map((f) => numOrNull(f.owner_user_id)),
    );
    return {
      id: num(r.id),
      customerId: num(r.customer_id),
      customerName: customerLabel(r),
      customerCode: r.code,
      orgUnitId: num(r.org_unit_id),
      userId: numOrNull(r.user_id),
      userName: r.user_name ?? null,
      plannedVisitId: numOrNull(r.planned_visit_id),
      visitedAt: r.visited_at,
      visitedDay: r.visited_day,
      assessment: JSON.parse(r.assessment) as RecordBody['assessment'],
      marketOutlook: r.market_outlook,
      competitorsBetter: r.competitors_better,
      note: r.note,
      checkIn:
        r.check_in_lat === null
          ? null
          : {
              lat: Number(r.check_in_lat),
              lng: Number(r.check_in_lng),
              accuracyM: Number(r.check_in_accuracy_m),
              at: r.check_in_at!,
            },
      followUps: followUps.map((f) => ({
        id: num(f.id),
        action: f.action,
        ownerUserId: numOrNull(f.owner_user_id),
        ownerName: f.owner_user_id === null ? null : (names.get(num(f.owner_user_id)) ?? null),
        dueDay: f.due_day,
        state: f.state,
        overdue: f.state === 'open' && f.due_at < this.now().toISOString(),
        doneAt: f.done_at,
      })),
      photos: photos.map((x) => ({
        id: num(x.id),
        width: numOrNull(x.width),
        height: numOrNull(x.height),
        bytes: num(x.bytes),
        createdAt: x.created_at,
      })),
      problems: problems.map((x) => ({ id: num(x.id), state: x.state, text: x.text, orgUnitId: num(x.org_unit_id) })),
      createdAt: r.created_at,
    };
  }

  async list(
    p: Principal,
    q: { customerId?: number; userId?: number; followUpId?: number; from?: string; to?: string; limit: number },
  ) {
    const rows = await this.db
      .selectFrom('visit_record as r')
      .innerJoin('customer as c', 'c.id', 'r.customer_id')
      .leftJoin('app_user as u', 'u.id', 'r.user_id')
      .select([
        'r.id',
        'r.customer_id',
        'c.code',
        'c.name',
        'c.organisation',
        'r.visited_at',
        'r.visited_day',
        'u.display_name as user_name',
        'r.note',
        'r.competitors_better',
        'r.check_in_lat',
      ])
      .where(inCustomerScope(p, sql.ref('r.org_unit_id')))
      .$if(q.customerId !== undefined, (x) => x.where('r.customer_id', '=', q.customerId!))
      .$if(q.userId !== undefined, (x) => x.where('r.user_id', '=', q.userId!))
      .$if(q.followUpId !== undefined, (x) =>
        x.where('r.id', 'in', (eb) =>
          eb.selectFrom('visit_follow_up').select('record_id').where('id', '=', q.followUpId!),
        ),
      )
      .$if(q.from !== undefined, (x) => x.where('r.visited_day', '>=', q.from!))
      .$if(q.to !== undefined, (x) => x.where('r.visited_day', '<=', q.to!))
      .orderBy('r.visited_at', 'desc')
      .limit(q.limit)
      .execute();
    return rows.map((r) => ({
      id: num(r.id),
      customerId: num(r.customer_id),
      customerName: customerLabel(r),
      visitedAt: r.visited_at,
      visitedDay: r.visited_day,
      userName: r.user_name ?? null,
      note: r.note,
      competitorsBetter: r.competitors_better,
      checkedIn: r.check_in_lat !== null,
    }));
  }

  // ---- photos ----------------------------------------------------------------------------------

  async addPhoto(p: Principal, ip: string, recordId: number, bytes: Buffer) {
    const rec = await this.db
      .selectFrom('visit_record as r')
      .innerJoin('customer as c', 'c.id', 'r.customer_id')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .select([
        'r.id',
        'r.org_unit_id',
        'o.path',
        (eb) =>
          eb
            .selectFrom('visit_photo as f')
            .select(eb.fn.countAll<number>().as('n'))
            .whereRef('f.record_id', '=', 'r.id')
            .as('photos'),
      ])
      .where('r.id', '=', recordId)
      .executeTakeFirstOrThrow();
    if (!pathInCustomerWriteScope(p, rec.path))
      throw new AppError('SCOPE_DENIED', 'that customer was lent to you for reading only');
    if (Number(rec.photos ?? 0) >= MAX_PHOTOS)
      throw new AppError('CONFLICT', `a record keeps at most ${MAX_PHOTOS} photos`, 'body');
    const clean = await cleanImage(bytes);
    if (!clean.ok)
      throw new AppError(
        clean.problem === 'too_large' ? 'BODY_TOO_LARGE' : 'VALIDATION_FAILED',
        `photo: ${clean.detail}`,
        'body',
      );
    const at = this.now();
    const key = newKey('visit', clean.image.extension, at);
    await this.storage.put(key, clean.image.bytes);
    try {
      const id = await this.db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('visit_photo')
          .values({
            record_id: recordId,
            storage_key: key,
            content_type: clean.image.contentType,
            bytes: clean.image.bytes.length,
            width: clean.image.width,
            height: clean.image.height,
            created_by: p.userId,
            created_at: at.toISOString(),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await recordAudit(trx, actorOf(p, ip), {
          action: 'visit_record_add_photo',
          entity: 'visit_record',
          entityId: recordId,
          orgUnitId: num(rec.org_unit_id),
          after: {
            photoId: num(row.id),
            bytes: clean.image.bytes.length,
            width: clean.image.width,
            height: clean.image.height,
          },
        });
        return num(row.id);
      });
      return {
        id,
        width: clean.image.width,
        height: clean.image.height,
        bytes: clean.image.bytes.length,
        createdAt: at.toISOString(),
      };
    } catch (err) {
      await this.storage.delete(key);
      throw err;
    }
  }

  async photo(recordId: number, photoId: number): Promise<{ bytes: Buffer; contentType: string }> {
    const row = await this.db
      .selectFrom('visit_photo')
      .select(['storage_key', 'content_type'])
      .where('id', '=', photoId)
      .where('record_id', '=', recordId)
      .executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', `photo ${photoId} of record ${recordId} not found`);
    const bytes = await this.storage.get(row.storage_key);
    if (!bytes) throw new AppError('NOT_FOUND', `photo ${photoId} is missing from storage`);
    return { bytes, contentType: row.content_type };
  }

  // ---- follow-ups ------------------------------------------------------------------------------

  async completeFollowUp(p: Principal, ip: string, recordId: number, followUpId: number) {
    await this.db.transaction().execute(async (trx) => {
      const f = await trx
        .selectFrom('visit_follow_up')
        .selectAll()
        .where('id', '=', followUpId)
        .where('record_id', '=', recordId)
        .executeTakeFirst();
      if (!f) throw new AppError('NOT_FOUND', `follow-up ${followUpId} of record ${recordId} not found`);
      if (f.state !== 'open') throw new AppError('CONFLICT', 'that follow-up is done already');
      const unit = await unitOf(trx, num(f.org_unit_id));
      if (numOrNull(f.owner_user_id) !== p.userId && !(unit && pathInCustomerWriteScope(p, unit.path)))
        throw new AppError('SCOPE_DENIED', 'that follow-up is not yours');
      const at = this.now().toISOString();
      await trx
        .updateTable('visit_follow_up')
        .set({ state: 'done', done_at: at, done_by: p.userId })
        .where('id', '=', followUpId)
        .execute();
      await closeWorkItem(trx, 'visit_follow_up', followUpId, at);
      await recordAudit(trx, actorOf(p, ip), {
        action: 'visit_record_follow_up_done',
        entity: 'visit_record',
        entityId: recordId,
        orgUnitId: num(f.org_unit_id),
        after: { followUpId, at },
      });
    });
    return this.read(recordId);
  }

  // ---- problems handed up ----------------------------------------------------------------------

  async raiseProblem(p: Principal, ip: string, recordId: number, text: string) {
    const id = await this.db.transaction().execute(async (trx) => {
      const r = await trx
        .selectFrom('visit_record as r')
        .innerJoin('customer as c', 'c.id', 'r.customer_id')
        .innerJoin('org_unit as o', 'o.id', 'r.org_unit_id')
        .select(['r.id', 'r.customer_id', 'r.org_unit_id', 'o.path', 'c.name', 'c.organisation', 'c.code'])
        .where('r.id', '=', recordId)
        .executeTakeFirstOrThrow();
      if (!pathInCustomerWriteScope(p, r.path))
        throw new AppError('SCOPE_DENIED', 'that customer was lent to you for reading only');
      return this.raise(
        trx,
        p,
        ip,
        {
          recordId,
          customerId: num(r.customer_id),
          unitPath: r.path,
          unitId: num(r.org_unit_id),
          label: customerLabel(r),
          text: text.trim(),
        },
        this.now().toISOString(),
      );
    });
    return this.problem(id);
  }

  /** A new problem, handed straight to the level above the customer's unit. */
  private async raise(
    trx: Tx,
    p: Principal,
    ip: string,
    x: { recordId: number; customerId: number; unitPath: string; unitId: number; label: string; text: string },
    at: string,
  ): Promise<number> {
    const up = parentUnitId(x.unitPath) ?? x.unitId;
    const unit = await unitOf(trx, x.unitId);
    const row = await trx
      .insertInto('visit_problem')
      .values({
        record_id: x.recordId,
        customer_id: x.customerId,
        origin_unit_id: x.unitId,
        org_unit_id: up,
        raised_by: p.userId,
        text: x.text,
        state: 'open',
        raised_at: at,
        raised_day: businessDay(Date.parse(at), unit?.timeZone ?? 'Asia/Shanghai'),
        resolved_at: null,
        updated_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const id = num(row.id);
    await trx
      .insertInto('visit_problem_step')
      .values({
        problem_id: id,
        action: 'raise',
        from_unit_id: x.unitId,
        to_unit_id: up,
        actor_user_id: p.userId,
        actor_name: p.displayName,
        note: x.text,
        at,
      })
      .execute();
    await this.problemItem(trx, id, up, x.customerId, `${x.label}：${x.text}`, at);
    await recordAudit(trx, actorOf(p, ip), {
      action: 'visit_problem_raise',
      entity: 'visit_problem',
      entityId: id,
      orgUnitId: x.unitId,
      after: { recordId: x.recordId, toUnitId: up, text: x.text },
    });
    return id;
  }

  private async problemItem(trx: Tx, id: number, unitId: number, customerId: number, subject: string, at: string) {
    await openWorkItem(
      trx,
      {
        kind: 'problem',
        recordId: id,
        assigneeUserId: null,
        permission: 'visit.approve',
        orgUnitId: unitId,
        customerId,
        subject,
        dueAt: new Date(Date.parse(at) + 3 * 86_400_000).toISOString(),
      },
      at,
    );
  }

  /** The level holding the problem hands it up one more, or settles it. */
  async problemStep(p: Principal, ip: string, id: number, action: 'escalate' | 'resolve', note: string) {
    await this.db.transaction().execute(async (trx) => {
      const pr = await trx
        .selectFrom('visit_problem as x')
        .innerJoin('org_unit as o', 'o.id', 'x.org_unit_id')
        .innerJoin('customer as c', 'c.id', 'x.customer_id')
        .select([
          'x.id',
          'x.state',
          'x.org_unit_id',
          'x.customer_id',
          'x.text',
          'o.path',
          'c.name',
          'c.organisation',
          'c.code',
        ])
        .where('x.id', '=', id)
        .executeTakeFirstOrThrow();
      if (pr.state !== 'open') throw new AppError('CONFLICT', 'that problem is settled');
      // Those at the holding level or above decide; the maintainer below only sees it.
      if (!isWithin(pr.path, p.orgPath))
        throw new AppError('APPROVER_NOT_ELIGIBLE', 'the level holding the problem decides it');
      const at = this.now().toISOString();
      const from = num(pr.org_unit_id);
      if (action === 'escalate') {
        const to = parentUnitId(pr.path);
        if (to === null) throw new AppError('CONFLICT', 'the problem is at the top already');
        await trx.updateTable('visit_problem').set({ org_unit_id: to, updated_at: at }).where('id', '=', id).execute();
        await trx
          .insertInto('visit_problem_step')
          .values({
            problem_id: id,
            action,
            from_unit_id: from,
            to_unit_id: to,
            actor_user_id: p.userId,
            actor_name: p.displayName,
            note,
            at,
          })
          .execute();
        await this.problemItem(trx, id, to, num(pr.customer_id), `${customerLabel(pr)}：${pr.text}`, at);
      } else {
        await trx
          .updateTable('visit_problem')
          .set({ state: 'resolved', resolved_at: at, updated_at: at })
          .where('id', '=', id)
          .execute();
        await trx
          .insertInto('visit_problem_step')
          .values({
            problem_id: id,
            action,
            from_unit_id: from,
            to_unit_id: null,
            actor_user_id: p.userId,
            actor_name: p.displayName,
            note,
            at,
          })
          .execute();
        await closeWorkItem(trx, 'problem', id, at);
      }
      await recordAudit(trx, actorOf(p, ip), {
        action: action === 'escalate' ? 'visit_problem_escalate' : 'visit_problem_resolve',
        entity: 'visit_problem',
        entityId: id,
        orgUnitId: from,
        after: { note },
      });
    });
    return this.problem(id);
  }

  async problem(id: number) {
    const x = await this.db
      .selectFrom('visit_problem as x')
      .innerJoin('customer as c', 'c.id', 'x.customer_id')
      .innerJoin('org_unit as o', 'o.id', 'x.org_unit_id')
      .innerJoin('org_unit as og', 'og.id', 'x.origin_unit_id')
      .selectAll('x')
      .select(['c.name', 'c.organisation', 'c.code', 'o.name as unit_name', 'og.name as origin_name'])
      .where('x.id', '=', id)
      .executeTakeFirst();
    if (!x) throw new AppError('NOT_FOUND', `problem ${id} not found`);
    const steps = await this.db
      .selectFrom('visit_problem_step as s')
      .leftJoin('org_unit as f', 'f.id', 's.from_unit_id')
      .leftJoin('org_unit as t', 't.id', 's.to_unit_id')
      .select(['s.id', 's.action', 's.actor_name', 's.note', 's.at', 'f.name as from_name', 't.name as to_name'])
      .where('s.problem_id', '=', id)
      .orderBy('s.id')
      .execute();
    return {
      id: num(x.id),
      recordId: numOrNull(x.record_id),
      customerId: num(x.customer_id),
      customerName: customerLabel(x),
      originUnitName: x.origin_name,
      orgUnitId: num(x.org_unit_id),
      orgUnitName: x.unit_name,
      text: x.text,
      state: x.state,
      raisedAt: x.raised_at,
      resolvedAt: x.resolved_at,
      steps: steps.map((s) => ({
        id: num(s.id),
        action: s.action,
        actorName: s.actor_name,
        note: s.note,
        at: s.at,
        fromUnitName: s.from_name ?? null,
        toUnitName: s.to_name ?? null,
      })),
    };
  }

  // ---- before a visit --------------------------------------------------------------------------

  /** One screen before a visit: the customer, his purchases by month, open alerts, earlier records, coming visits. */
  async overview(p: Principal, ip: string, customerId: number) {
    const c = await this.customer(this.db, customerId, 'params.id');
    if (!pathInCustomerScope(p, c.path))
      throw new AppError('SCOPE_DENIED', 'that customer is outside your organisation');
    const today = businessDay(this.now().getTime(), c.time_zone);
    const from = addMonths(today.slice(0, 7), -11);
    const months = await this.db
      .selectFrom('customer_month')
      .select([
        'month',
        (eb) => eb.fn.sum<number>('volume_ml').as('volume_ml'),
        (eb) => eb.fn.sum<number>('amount_fen').as('amount_fen'),
      ])
      .where('customer_id', '=', customerId)
      .where('month', '>=', from)
      .groupBy('month')
      .orderBy('month')
      .execute();
    const alerts = await this.db
      .selectFrom('alert')
      .select(['id', 'kind', 'opened_at', 'detail'])
      .where('customer_id', '=', customerId)
      .where('status', '=', 'open')
      .orderBy('opened_at', 'desc')
      .limit(20)
      .execute();
    const records = await this.list(p, { customerId, limit: 10 });
    const coming = await this.db
      .selectFrom('planned_visit as pv')
      .innerJoin('visit_plan as vp', 'vp.id', 'pv.plan_id')
      .select(['pv.id', 'pv.planned_at', 'pv.planned_day', 'pv.state', 'vp.state as plan_state', 'pv.owner_user_id'])
      .where('pv.customer_id', '=', customerId)
      .where('pv.state', 'in', ['planned', 'appointed'])
      .where('pv.planned_day', '>=', today)
      .orderBy('pv.planned_at')
      .limit(5)
      .execute();
    const owner =
      c.owner_user_id === null
        ? null
        : ((await userNames(this.db, [num(c.owner_user_id)])).get(num(c.owner_user_id)) ?? null);
    await recordRead(this.db, actorOf(p, ip), 'customer', customerId, num(c.org_unit_id));
    return {
      customer: {
        id: num(c.id),
        code: c.code,
        name: customerLabel(c),
        kind: c.kind,
        orgUnitName: c.unit_name,
        ownerName: owner,
      },
      months: months.map((m) => ({
        month: m.month,
        volumeL: Number(m.volume_ml ?? 0) / 1000,
        amountYuan: Number(m.amount_fen ?? 0) / 100,
      })),
      alerts: alerts.map((a) => ({ id: num(a.id), kind: a.kind, openedAt: a.opened_at })),
      records,
      coming: coming.map((v) => ({
        id: num(v.id),
        plannedAt: v.planned_at,
        plannedDay: v.planned_day,
        state: v.state,
        planState: v.plan_state,
        mine: num(v.owner_user_id) === p.userId,
      })),
    };
  }
}
