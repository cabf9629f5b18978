// Ownership and the public pool (公海). Whoever creates a customer owns him; owners change by hand
// (with a reason), by a bulk reassignment, or through the pool, and every change lands in one history
// (`ownership_change`) with an audit entry per customer. The rules (who may own a class of customer,
// when a customer goes back to the pool, what limits a claim) are src/domain/pool-rules.ts; this
// service reads the facts and the policy in force, asks them, and writes the change in one transaction.
//
// Other modules call `markFollowedUp` inside their own transaction when the owner touches the customer
// (a pump visit, a closed alert, a churn-case step, a visit record): it moves the owner's window on and
// closes his pool reminder. The reminder is a work item of kind `pool_reminder` whose record id is the
// customer's id, due at the day the customer would go back to the pool.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { actorOf, type Actor, type Principal } from '../../auth/principal.js';
import { inScope, pathInScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import {
  allowedOwnerLevels,
  claimProblem,
  coverageFlag,
  dayStartUtc,
  ownerFits,
  poolReturnAt,
  poolStep,
  type OwnershipHow,
} from '../../../domain/pool-rules.js';
import type { ClassesPolicy, OwnershipPolicy } from '../../../domain/policies.js';
import { currentPolicy } from '../policies/policies.service.js';
import { recordAudit } from '../audit/audit.service.js';
import { closeWorkItem, closeWorkItems, openWorkItems, type WorkItemInput } from '../work/work-items.js';
import {
  ownershipQueries as q,
  underPath,
  type ChangeRow,
  type CustomerOwnership,
  type Tx,
} from './ownership.queries.js';

/** Who records what nobody did by hand: the nightly return to the pool. */
export const POOL_ACTOR: Actor = { userId: null, name: 'job:ownership-pool', ip: null };

const CHUNK = 5000;

async function policies(db: Tx): Promise<{ policy: OwnershipPolicy; classes: ClassesPolicy }> {
  const [o, c] = await Promise.all([currentPolicy(db, 'ownership'), currentPolicy(db, 'classes')]);
  return { policy: o.body, classes: c.body };
}

/**
 * The owner touched the customer (call inside the transaction of the touch). Only the present owner's
 * touches count; the reminder, if open, is done.
 */
export async function markFollowedUp(trx: Tx, customerId: number, userId: number | null, at: string): Promise<void> {
  if (userId === null) return;
  const res = await trx
    .updateTable('customer')
    .set({ last_follow_up_at: at })
    .where('id', '=', customerId)
    .where('owner_user_id', '=', userId)
    .where((eb) => eb.or([eb('last_follow_up_at', 'is', null), eb('last_follow_up_at', '<', at)]))
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) > 0) await closeWorkItem(trx, 'pool_reminder', customerId, at, 'done');
}

/** A customer was just created with this owner (call inside the creating transaction). */
export async function recordCreatedOwners(
  trx: Tx,
  rows: readonly { customerId: number; orgUnitId: number; ownerUserId: number | null }[],
  createdBy: number | null,
  at: string,
): Promise<void> {
  const owned = rows.filter((r) => r.ownerUserId !== null);
  if (owned.length === 0) return;
  const ids = owned.map((r) => r.customerId);
  for (let i = 0; i < ids.length; i += 5000)
    await trx
      .updateTable('customer')
      .set({ owner_since: at })
      .where('id', 'in', ids.slice(i, i + 5000))
      .execute();
  await q.insertChanges(
    trx,
    owned.map((r) => ({
      customerId: r.customerId,
      orgUnitId: r.orgUnitId,
      from: null,
      to: r.ownerUserId,
      how: 'created',
      reason: null,
      changedBy: createdBy,
      at,
    })),
  );
}

/**
 * The customer form changed the owner (the customer row itself is written by the form's update, which
 * audits it): the history gets the change, the new owner's window starts, the customer leaves the pool.
 */
export async function recordOwnerEdit(
  trx: Tx,
  c: { customerId: number; orgUnitId: number; from: number | null; to: number | null; changedBy: number; at: string },
): Promise<void> {
  await trx
    .updateTable('customer')
    .set({
      owner_since: c.to === null ? null : c.at,
      last_follow_up_at: null,
      pool_since: null,
      pool_reason: null,
      pool_former_owner_id: null,
    })
    .where('id', '=', c.customerId)
    .execute();
  await closeWorkItem(trx, 'pool_reminder', c.customerId, c.at, 'cancelled');
  await q.insertChanges(trx, [
    {
      customerId: c.customerId,
      orgUnitId: c.orgUnitId,
      from: c.from,
      to: c.to,
      how: 'manual',
      reason: null,
      changedBy: c.changedBy,
      at: c.at,
    },
  ]);
}

/**
 * Whether `p` may make `ownerUserId` the owner of a customer of this kind and class: the owner exists,
 * is active, works inside p's own subtree, and sits at a level the ownership policy allows for the
 * class. Throws the error naming `field`.
 */
export async function checkOwner(
  db: Tx,
  p: Principal,
  customer: { kind: string; classCode: string | null },
  ownerUserId: number,
  field: string,
): Promise<void> {
  const owner = await q.user(db, ownerUserId);
  if (!owner) throw new AppError('VALIDATION_FAILED', `user ${ownerUserId} does not exist`, field);
  if (!owner.active) throw new AppError('VALIDATION_FAILED', `user ${ownerUserId} is not active`, field);
  if (!pathInScope(p, owner.path))
    throw new AppError('SCOPE_DENIED', `user ${ownerUserId} is outside your organisation`, field);
  const { policy, classes } = await policies(db);
  const fit = ownerFits(policy, classes, customer, owner.kind_code);
  if (!fit.ok) throw new AppError('OWNER_LEVEL_DENIED', fit.message, field, { allowed: fit.allowed });
}

/** Writes an owner change on the customer row, its history and its audit; cancels the old owner's reminder. */
async function applyChange(
  trx: Tx,
  actor: Actor,
  c: CustomerOwnership,
  to: number | null,
  how: OwnershipHow,
  reason: string | null,
  at: string,
  action: string,
): Promise<void> {
  const toPool = how === 'pool_return';
  await trx
    .updateTable('customer')
    .set({
      owner_user_id: to,
      owner_since: to === null ? null : at,
      last_follow_up_at: null,
      pool_since: toPool ? at : null,
      pool_reason: toPool ? reason : null,
      pool_former_owner_id: toPool ? c.owner_user_id : null,
      version: c.version + 1,
      updated_at: at,
    })
    .where('id', '=', c.id)
    .execute();
  await closeWorkItem(trx, 'pool_reminder', c.id, at, 'cancelled');
  await q.insertChanges(trx, [
    { customerId: c.id, orgUnitId: c.org_unit_id, from: c.owner_user_id, to, how, reason, changedBy: actor.userId, at },
  ]);
  await recordAudit(trx, actor, {
    action,
    entity: 'customer',
    entityId: c.id,
    orgUnitId: c.org_unit_id,
    before: { ownerUserId: c.owner_user_id, inPool: c.pool_since !== null },
    after: { ownerUserId: to, inPool: toPool, how, reason },
  });
}

export interface ReassignBody {
  fromUserId: number;
  toUserId: number;
  /** Only his customers of this unit's subtree. */
  orgUnitId?: number;
  kind?: string;
  /** Only these of his customers. */
  customerIds?: number[];
  reason?: string;
}

export class OwnershipService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private async loadOwnScope(p: Principal, id: number): Promise<CustomerOwnership> {
    const [c] = await q.customers(this.db, [id]);
    if (!c) throw new AppError('NOT_FOUND', `customer ${id} not found`);
    if (!pathInScope(p, c.path)) throw new AppError('SCOPE_DENIED', `customer ${id} is outside your organisation`);
    if (c.merged_into_id !== null) throw new AppError('CONFLICT', `customer ${id} was merged into ${c.merged_into_id}`);
    return c;
  }

  /** The owner block of a customer's page: owner, since when, last follow-up, the pool, the history. */
  async ofCustomer(p: Principal, id: number) {
    const [c] = await q.customers(this.db, [id]);
    if (!c) throw new AppError('NOT_FOUND', `customer ${id} not found`);
    const { policy, classes } = await policies(this.db);
    const names = async (uid: number | null) =>
      uid === null ? null : ((await q.user(this.db, uid))?.display_name ?? null);
    const returnAt =
      c.owner_user_id === null
        ? null
        : poolReturnAt(policy, c.class_code, {
            ownerSince: c.owner_since ?? c.created_at,
            lastFollowUpAt: c.last_follow_up_at,
            lastPurchaseAt: c.last_visit_at,
          });
    return {
      customerId: c.id,
      ownerUserId: c.owner_user_id,
      ownerName: await names(c.owner_user_id),
      ownerSince: c.owner_since,
      lastFollowUpAt: c.last_follow_up_at,
      classCode: c.class_code,
      allowedLevels: allowedOwnerLevels(policy, classes, { kind: c.kind, classCode: c.class_code }),
      poolReturnAt: returnAt,
      pool:
        c.pool_since === null
          ? null
          : {
              since: c.pool_since,
              reason: c.pool_reason,
              formerOwnerName: await names(c.pool_former_owner_id),
            },
      mayChange: p.permissions.has('owner.assign') && pathInScope(p, c.path),
      history: await q.history(this.db, c.id),
    };
  }

  /** Change the owner by hand (or take the customer out of anyone's hands with null), with a reason. */
  async changeOwner(p: Principal, ip: string | null, id: number, ownerUserId: number | null, reason: string) {
    const c = await this.loadOwnScope(p, id);
    if (ownerUserId !== null)
      await checkOwner(this.db, p, { kind: c.kind, classCode: c.class_code }, ownerUserId, 'body.ownerUserId');
    if (ownerUserId === c.owner_user_id && c.pool_since === null)
      throw new AppError('CONFLICT', `user ${ownerUserId} already owns customer ${id}`, 'body.ownerUserId');
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (trx) => {
      // The same row read again under the transaction: a concurrent change loses, not overwrites.
      const [fresh] = await q.customers(trx, [id]);
      if (!fresh || fresh.version !== c.version)
        throw new AppError('VERSION_CONFLICT', 'someone else changed this customer; reload to see their change');
      await applyChange(trx, actorOf(p, ip), fresh, ownerUserId, 'manual', reason, at, 'change_owner');
    });
    return this.ofCustomer(p, id);
  }

  /** The customers a reassignment would move: his live customers in my subtree, narrowed by the filter. */
  private async selection(p: Principal, b: ReassignBody) {
    const from = await q.user(this.db, b.fromUserId);
    if (!from) throw new AppError('VALIDATION_FAILED', `user ${b.fromUserId} does not exist`, 'body.fromUserId');
    if (!pathInScope(p, from.path))
      throw new AppError('SCOPE_DENIED', `user ${b.fromUserId} is outside your organisation`, 'body.fromUserId');
    let path = p.orgPath;
    if (b.orgUnitId !== undefined) {
      const unit = await this.db.selectFrom('org_unit').select('path').where('id', '=', b.orgUnitId).executeTakeFirst();
      if (!unit) throw new AppError('VALIDATION_FAILED', `org unit ${b.orgUnitId} does not exist`, 'body.orgUnitId');
      if (!pathInScope(p, unit.path))
        throw new AppError('SCOPE_DENIED', `org unit ${b.orgUnitId} is outside your organisation`, 'body.orgUnitId');
      path = unit.path;
    }
    let query = this.db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .select('c.id')
      .where('c.owner_user_id', '=', b.fromUserId)
      .where('c.merged_into_id', 'is', null)
      .where(underPath('o.path', path));
    if (b.kind) query = query.where('c.kind', '=', b.kind);
    if (b.customerIds?.length) query = query.where('c.id', 'in', b.customerIds);
    const ids = (await query.orderBy('c.id').execute()).map((r) => Number(r.id));
    return q.customers(this.db, ids);
  }

  /** What a reassignment would do: how many customers, a sample, and those the new owner may not own. */
  async previewReassign(p: Principal, b: ReassignBody) {
    const to = await q.user(this.db, b.toUserId);
    if (!to) throw new AppError('VALIDATION_FAILED', `user ${b.toUserId} does not exist`, 'body.toUserId');
    if (!to.active) throw new AppError('VALIDATION_FAILED', `user ${b.toUserId} is not active`, 'body.toUserId');
    if (!pathInScope(p, to.path))
      throw new AppError('SCOPE_DENIED', `user ${b.toUserId} is outside your organisation`, 'body.toUserId');
    if (b.toUserId === b.fromUserId)
      throw new AppError('VALIDATION_FAILED', 'the new owner is the present one', 'body.toUserId');
    const list = await this.selection(p, b);
    const { policy, classes } = await policies(this.db);
    const misfits = list.filter(
      (c) => !ownerFits(policy, classes, { kind: c.kind, classCode: c.class_code }, to.kind_code).ok,
    );
    const toOwned = await q.ownedBy(this.db, b.toUserId);
    return {
      count: list.length,
      sample: list.slice(0, 10).map((c) => ({ id: c.id, code: c.code, name: c.name, classCode: c.class_code })),
      misfits: misfits.slice(0, 10).map((c) => ({ id: c.id, code: c.code, name: c.name, classCode: c.class_code })),
      misfitCount: misfits.length,
      toOwnedBefore: toOwned,
      toOwnedAfter: toOwned + list.length,
      overMaximum: toOwned + list.length > policy.maxCustomersPerOwner,
      list,
    };
  }

  /** Move the customers: one history row and one audit entry per customer, in one transaction. */
  async reassign(p: Principal, ip: string | null, b: ReassignBody) {
    const preview = await this.previewReassign(p, b);
    if (preview.misfitCount > 0) {
      const first = preview.misfits[0]!;
      throw new AppError(
        'OWNER_LEVEL_DENIED',
        `${preview.misfitCount} of these customers may not be looked after at the new owner's level (first: ${first.code}, class ${first.classCode})`,
        'body.toUserId',
        { misfits: preview.misfits },
      );
    }
    if (preview.count === 0) throw new AppError('VALIDATION_FAILED', 'no customers to move', 'body.fromUserId');
    const at = this.now().toISOString();
    const actor = actorOf(p, ip);
    await this.db.transaction().execute(async (trx) => {
      const fresh = await q.customers(
        trx,
        preview.list.map((c) => c.id),
      );
      for (const c of fresh) {
        if (c.owner_user_id !== b.fromUserId) continue;
        await applyChange(trx, actor, c, b.toUserId, 'reassign', b.reason ?? null, at, 'reassign_owner');
      }
    });
    return { moved: preview.count };
  }

  /** Coverage of a unit's subtree and of each child unit, with the people below "1:15" and over the maximum. */
  async coverage(p: Principal, orgUnitId: number | undefined) {
    const id = orgUnitId ?? p.orgUnitId;
    const unit = await this.db
      .selectFrom('org_unit')
      .select(['id', 'name', 'kind_code', 'path', 'parent_id'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!unit) throw new AppError('NOT_FOUND', `org unit ${id} not found`);
    if (!pathInScope(p, unit.path)) throw new AppError('SCOPE_DENIED', `org unit ${id} is outside your organisation`);
    const { policy } = await policies(this.db);
    const figures = async (path: string) => {
      const counts = await q.customerCounts(this.db, path);
      const people = await q.employees(this.db, path);
      return {
        ...counts,
        owned: counts.total - counts.unowned - counts.inPool,
        employees: people.length,
        belowMinimum: people.filter((e) => coverageFlag(policy, e.owned) === 'below_minimum').length,
        overMaximum: people.filter((e) => coverageFlag(policy, e.owned) === 'over_maximum').length,
        people,
      };
    };
    const own = await figures(unit.path);
    const children = await this.db
      .selectFrom('org_unit')
      .select(['id', 'name', 'kind_code', 'path'])
      .where('parent_id', '=', id)
      .orderBy('code')
      .execute();
    const childFigures = [];
    for (const ch of children) {
      const { people: _people, ...f } = await figures(ch.path);
      childFigures.push({ id: Number(ch.id), name: ch.name, kind: ch.kind_code, ...f });
    }
    const { people, ...totals } = own;
    return {
      unit: {
        id: Number(unit.id),
        name: unit.name,
        kind: unit.kind_code,
        parentId:
          unit.parent_id !== null && pathInScope(p, unit.path.replace(/\d+\/$/, '')) ? Number(unit.parent_id) : null,
      },
      minimum: policy.minCustomersPerOwner,
      maximum: policy.maxCustomersPerOwner,
      ...totals,
      children: childFigures,
      people: people
        .map((e) => ({ ...e, flag: coverageFlag(policy, e.owned) }))
        .sort((a, b) => a.owned - b.owned || a.userId - b.userId)
        .slice(0, 500),
    };
  }

  /** The pool of my subtree (or a unit of it): customers nobody owns now because they came back to it. */
  async pool(p: Principal, f: { orgUnitId?: number; page: number; pageSize: number }) {
    let path = p.orgPath;
    if (f.orgUnitId !== undefined) {
      const unit = await this.db.selectFrom('org_unit').select('path').where('id', '=', f.orgUnitId).executeTakeFirst();
      if (!unit || !pathInScope(p, unit.path))
        throw new AppError(
          'SCOPE_DENIED',
          `org unit ${f.orgUnitId} is outside your organisation`,
          'querystring.orgUnitId',
        );
      path = unit.path;
    }
    const base = this.db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .where('c.pool_since', 'is not', null)
      .where('c.merged_into_id', 'is', null)
      .where(inScope(p, sql.ref('c.org_unit_id')))
      .where(underPath('o.path', path));
    const total = Number((await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const rows = await base
      .leftJoin('app_user as f', 'f.id', 'c.pool_former_owner_id')
      .select([
        'c.id',
        'c.code',
        'c.name',
        'c.kind',
        'c.org_unit_id',
        'o.name as unit_name',
        'c.pool_since',
        'c.pool_reason',
        'c.pool_former_owner_id',
        'f.display_name as former_name',
        'c.last_visit_at',
        (eb) =>
          eb
            .selectFrom('customer_rating as cr')
            .innerJoin('rating_batch as rb', 'rb.id', 'cr.batch_id')
            .select('cr.class')
            .whereRef('cr.customer_id', '=', 'c.id')
            .where('rb.status', '=', 'final')
            .orderBy('cr.period', 'desc')
            .limit(1)
            .as('class_code'),
      ])
      .orderBy('c.pool_since', 'desc')
      .orderBy('c.id', 'desc')
      .limit(f.pageSize)
      .offset((f.page - 1) * f.pageSize)
      .execute();
    const mine = await this.claimStatus(p);
    return {
      total,
      items: rows.map((r) => ({
        id: Number(r.id),
        code: r.code,
        name: r.name,
        kind: r.kind,
        orgUnitId: Number(r.org_unit_id),
        orgUnitName: r.unit_name,
        poolSince: r.pool_since!,
        reason: r.pool_reason,
        formerOwnerName: r.former_name,
        formerOwnerIsMe: r.pool_former_owner_id !== null && Number(r.pool_former_owner_id) === p.userId,
        lastVisitAt: r.last_visit_at,
        classCode: r.class_code ?? null,
      })),
      mine,
    };
  }

  /** My standing against the claim limits today. */
  async claimStatus(p: Principal) {
    const { policy } = await policies(this.db);
    const me = await q.user(this.db, p.userId);
    const now = this.now().toISOString();
    const since = dayStartUtc(now, me?.time_zone ?? 'Asia/Shanghai');
    return {
      claimsToday: await q.claimsSince(this.db, p.userId, since),
      dailyCap: policy.claimDailyCap,
      owned: await q.ownedBy(this.db, p.userId),
      maxOwned: policy.maxCustomersPerOwner,
      unitOwned: await q.ownedInUnit(this.db, p.orgUnitId),
      unitCapacity: policy.unitCapacity,
      coolingOffDays: policy.coolingOffDays,
    };
  }

  /** Claim a customer from the pool: the daily cap, cooling-off, both capacities and the level rule apply. */
  async claim(p: Principal, ip: string | null, id: number) {
    const c = await this.loadOwnScope(p, id);
    if (c.pool_since === null) throw new AppError('CONFLICT', `customer ${id} is not in the pool`);
    await checkOwner(this.db, p, { kind: c.kind, classCode: c.class_code }, p.userId, 'params.id');
    const { policy } = await policies(this.db);
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (trx) => {
      const [fresh] = await q.customers(trx, [id]);
      if (!fresh || fresh.pool_since === null || fresh.version !== c.version)
        throw new AppError('CONFLICT', `customer ${id} was claimed or changed meanwhile; reload`);
      const me = await q.user(trx, p.userId);
      const problem = claimProblem(policy, {
        now: at,
        claimsToday: await q.claimsSince(trx, p.userId, dayStartUtc(at, me?.time_zone ?? 'Asia/Shanghai')),
        ownedByMe: await q.ownedBy(trx, p.userId),
        ownedInMyUnit: await q.ownedInUnit(trx, p.orgUnitId),
        releasedByMeAt: await q.releasedBy(trx, id, p.userId),
      });
      if (problem) throw new AppError('POOL_CLAIM_DENIED', problem.message, 'params.id', { rule: problem.rule });
      await applyChange(trx, actorOf(p, ip), fresh, p.userId, 'pool_claim', null, at, 'pool_claim');
    });
    return this.ofCustomer(p, id);
  }

  /**
   * The nightly pass: an owned customer whose owner has not followed him up within his class's days goes
   * back to his unit's pool; one within the reminder days gets (or keeps) a reminder to the owner.
   */
  async runPool(): Promise<{ returned: number; reminded: number; checked: number }> {
    const now = this.now().toISOString();
    const { policy } = await policies(this.db);
    let afterId = 0;
    let returned = 0;
    let reminded = 0;
    let checked = 0;
    for (;;) {
      const chunk = await q.ownedChunk(this.db, afterId, CHUNK);
      if (chunk.length === 0) break;
      afterId = chunk[chunk.length - 1]!.id;
      checked += chunk.length;
      const toReturn: number[] = [];
      const reminders: WorkItemInput[] = [];
      for (const c of chunk) {
        const returnAt = poolReturnAt(policy, c.class_code, {
          ownerSince: c.owner_since ?? c.created_at,
          lastFollowUpAt: c.last_follow_up_at,
          lastPurchaseAt: c.last_visit_at,
        });
        const step = poolStep(policy, returnAt, now);
        if (step === 'return') toReturn.push(c.id);
        else if (step === 'remind')
          reminders.push({
            kind: 'pool_reminder',
            recordId: c.id,
            assigneeUserId: c.owner_user_id,
            orgUnitId: c.org_unit_id,
            customerId: c.id,
            subject: c.name ?? c.code,
            dueAt: returnAt,
          });
      }
      await this.db.transaction().execute(async (trx) => {
        if (reminders.length) {
          // An open reminder with the same due time stays as it is; a new window reopens it.
          const open = await trx
            .selectFrom('work_item')
            .select(['record_id', 'due_at', 'assignee_user_id'])
            .where('kind', '=', 'pool_reminder')
            .where('state', '=', 'open')
            .where(
              'record_id',
              'in',
              reminders.map((r) => r.recordId),
            )
            .execute();
          const have = new Map(open.map((o) => [Number(o.record_id), o]));
          const fresh = reminders.filter((r) => {
            const o = have.get(r.recordId);
            return !o || o.due_at !== r.dueAt || Number(o.assignee_user_id) !== r.assigneeUserId;
          });
          await openWorkItems(trx, fresh, now);
          reminded += fresh.length;
        }
        if (toReturn.length) {
          const rows = await q.customers(trx, toReturn);
          const changes: ChangeRow[] = [];
          for (const c of rows) {
            if (c.owner_user_id === null) continue;
            await trx
              .updateTable('customer')
              .set({
                owner_user_id: null,
                owner_since: null,
                last_follow_up_at: null,
                pool_since: now,
                pool_reason: 'no_follow_up',
                pool_former_owner_id: c.owner_user_id,
                version: c.version + 1,
                updated_at: now,
              })
              .where('id', '=', c.id)
              .execute();
            changes.push({
              customerId: c.id,
              orgUnitId: c.org_unit_id,
              from: c.owner_user_id,
              to: null,
              how: 'pool_return',
              reason: 'no_follow_up',
              changedBy: null,
              at: now,
            });
            await recordAudit(trx, POOL_ACTOR, {
              action: 'pool_return',
              entity: 'customer',
              entityId: c.id,
              orgUnitId: c.org_unit_id,
              before: { ownerUserId: c.owner_user_id, lastFollowUpAt: c.last_follow_up_at },
              after: { ownerUserId: null, inPool: true, reason: 'no_follow_up' },
            });
          }
          await q.insertChanges(trx, changes);
          await closeWorkItems(
            trx,
            'pool_reminder',
            changes.map((x) => x.customerId),
            now,
            'cancelled',
          );
          returned += changes.length;
        }
      });
    }
    return { returned, reminded, checked };
  }
}
