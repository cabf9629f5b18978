// Borrowing another area's archive: a recorded request, approvals by named people, a time-limited grant.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { pathInCustomerScope, pathInCustomerWriteScope, pathInScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import {
  ROLES_OF_SLOT,
  requiredSlots,
  slotsOf,
  statusAfter,
  type ApprovalSlot,
} from '../../../domain/access-approval.js';
import { recordAudit } from '../audit/audit.service.js';
import { closeWorkItem, excludeFromWorkItem, openWorkItems } from '../work/work-items.js';

/** Days approvers have before a request shows as overdue in their inboxes. */
const DECIDE_DAYS = 2;

export class AccessService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async request(
    p: Principal,
    ip: string | null,
    input: { targetOrgUnitId: number; reason: string; days: number; mode?: 'read' | 'write' },
  ) {
    const target = await this.db
      .selectFrom('org_unit')
      .select(['id', 'path'])
      .where('id', '=', input.targetOrgUnitId)
      .executeTakeFirst();
    if (!target) throw new AppError('NOT_FOUND', `org unit ${input.targetOrgUnitId} not found`, 'body.targetOrgUnitId');
    const mode = input.mode ?? 'read';
    const covered = mode === 'write' ? pathInCustomerWriteScope(p, target.path) : pathInCustomerScope(p, target.path);
    if (covered) throw new AppError('ACCESS_NOT_NEEDED', 'you can already read this archive', 'body.targetOrgUnitId');
    const slots = requiredSlots(p.roleCodes);
    const at = this.now().toISOString();
    const id = await this.db.transaction().execute(async (trx) => {
      const { id } = await trx
        .insertInto('access_request')
        .values({
          requester_id: p.userId,
          target_org_unit_id: target.id,
          reason: input.reason,
          days: input.days,
          mode,
          required_slots: slots.join(','),
          status: 'pending',
          created_at: at,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await recordAudit(trx, actorOf(p, ip), {
        action: 'access_request',
        entity: 'access_request',
        entityId: id,
        orgUnitId: target.id,
        after: { ...input, mode, requiredSlots: slots },
      });
      // Waiting in the queue of every role that fills an open slot, over the target unit, but not for the requester.
      await openWorkItems(
        trx,
        slots.flatMap((slot) =>
          ROLES_OF_SLOT[slot].map((role) => ({
            kind: 'access_approval' as const,
            recordId: Number(id),
            assigneeUserId: null,
            permission: `role:${role}`,
            queueKey: role,
            excludeUserIds: [p.userId],
            orgUnitId: target.id,
            subject: p.displayName,
            dueAt: new Date(Date.parse(at) + DECIDE_DAYS * 86_400_000).toISOString(),
          })),
        ),
        at,
      );
      return id;
    });
    return this.get(id);
  }

  /**
   * Org units whose archive the user could ask to read: everything outside what he can already
   * read, names and codes only (the org chart is not the secret, the customers are).
   */
  async targets(p: Principal) {
    const units = await this.db
      .selectFrom('org_unit as o')
      .leftJoin('org_unit as parent', 'parent.id', 'o.parent_id')
      .select(['o.id', 'o.code', 'o.name', 'o.path', 'parent.name as parent_name'])
      .where('o.parent_id', 'is not', null)
      .orderBy('o.path')
      .execute();
    return units
      .filter((u) => !pathInCustomerScope(p, u.path))
      .map((u) => ({ id: u.id, code: u.code, name: u.name, parentName: u.parent_name }));
  }

  async get(id: number) {
    const r = await this.db
      .selectFrom('access_request as a')
      .innerJoin('app_user as u', 'u.id', 'a.requester_id')
      .innerJoin('org_unit as o', 'o.id', 'a.target_org_unit_id')
      .selectAll('a')
      .select(['u.display_name as requester_name', 'o.name as target_name'])
      .where('a.id', '=', id)
      .executeTakeFirst();
    if (!r) throw new AppError('NOT_FOUND', `access request ${id} not found`);
    const approvals = await this.db
      .selectFrom('access_approval as x')
      .innerJoin('app_user as u', 'u.id', 'x.approver_id')
      .select(['x.slot', 'x.decision', 'x.comment', 'x.at', 'x.approver_id', 'u.display_name as approver_name'])
      .where('x.request_id', '=', id)
      .orderBy('x.id')
      .execute();
    const now = this.now().toISOString();
    const expired = r.status === 'approved' && r.valid_until !== null && r.valid_until <= now;
    return {
      id: r.id,
      requesterId: r.requester_id,
      requesterName: r.requester_name,
      targetOrgUnitId: r.target_org_unit_id,
      targetName: r.target_name,
      reason: r.reason,
      days: r.days,
      mode: r.mode === 'write' ? ('write' as const) : ('read' as const),
      requiredSlots: r.required_slots.split(','),
      status: expired ? 'expired' : r.status,
      validFrom: r.valid_from,
      validUntil: r.valid_until,
      createdAt: r.created_at,
      approvals: approvals.map((a) => ({
        slot: a.slot,
        decision: a.decision,
        comment: a.comment,
        at: a.at,
        approverId: a.approver_id,
        approverName: a.approver_name,
      })),
    };
  }

  async list(p: Principal, box: 'mine' | 'to_approve') {
    let q = this.db
      .selectFrom('access_request as a')
      .innerJoin('org_unit as o', 'o.id', 'a.target_org_unit_id')
      .select(['a.id', 'o.path', 'a.required_slots'])
      .orderBy('a.id', 'desc')
      .limit(200);
    if (box === 'mine') q = q.where('a.requester_id', '=', p.userId);
    else q = q.where('a.status', '=', 'pending');
    let rows = await q.execute();
    if (box === 'to_approve') {
      const mySlots = slotsOf(p.roleCodes);
      rows = rows.filter(
        (r) => pathInScope(p, r.path) && r.required_slots.split(',').some((s) => mySlots.includes(s as ApprovalSlot)),
      );
    }
    const out = await Promise.all(rows.map((r) => this.get(r.id)));
    // A request the user has already decided on waits for other people, not for him.
    return box === 'to_approve' ? out.filter((r) => !r.approvals.some((a) => a.approverId === p.userId)) : out;
  }

  async decide(p: Principal, ip: string | null, id: number, decision: 'approve' | 'reject', comment?: string) {
    const req = await this.get(id);
    if (req.status !== 'pending') throw new AppError('CONFLICT', `request ${id} is ${req.status}`);
    if (req.requesterId === p.userId)
      throw new AppError('APPROVER_NOT_ELIGIBLE', 'you cannot approve your own request');
    // Each slot is a different person: holding several approving roles fills one slot only.
    if (req.approvals.some((a) => a.approverId === p.userId)) {
      throw new AppError(
        'APPROVER_NOT_ELIGIBLE',
        'you have already decided on this request; the other approvals need other people',
      );
    }
    const decided = new Set(req.approvals.map((a) => a.slot));
    const slot = slotsOf(p.roleCodes).find((s) => req.requiredSlots.includes(s) && !decided.has(s));
    if (!slot) throw new AppError('APPROVER_NOT_ELIGIBLE', 'your role fills no open approval of this request');
    const now = this.now();
    await this.db.transaction().execute(async (trx) => {
      // Two clicks of one approver must not both pass the check above: decide one at a time per request.
      await trx
        .updateTable('access_request')
        .set({ status: 'pending' })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .execute();
      const again = await trx
        .selectFrom('access_approval')
        .select('slot')
        .where('request_id', '=', id)
        .where((eb) => eb.or([eb('approver_id', '=', p.userId), eb('slot', '=', slot)]))
        .executeTakeFirst();
      if (again) throw new AppError('CONFLICT', `request ${id} was decided meanwhile; reload it`);
      await trx
        .insertInto('access_approval')
        .values({
          request_id: id,
          approver_id: p.userId,
          slot,
          decision,
          comment: comment ?? null,
          at: now.toISOString(),
        })
        .execute();
      const all = [
        ...req.approvals.map((a) => ({ slot: a.slot as ApprovalSlot, decision: a.decision as 'approve' | 'reject' })),
        { slot, decision },
      ];
      const status = statusAfter(req.requiredSlots as ApprovalSlot[], all);
      if (status !== 'pending') {
        await trx
          .updateTable('access_request')
          .set({
            status,
            decided_at: now.toISOString(),
            ...(status === 'approved' && {
              valid_from: now.toISOString(),
              valid_until: new Date(now.getTime() + req.days * 86_400_000).toISOString(),
            }),
          })
          .where('id', '=', id)
          .execute();
      }
      // The slot is filled: its roles' queues are done; the decider is done with the others too.
      if (status === 'pending') {
        await closeWorkItem(trx, 'access_approval', id, now.toISOString(), 'done', ROLES_OF_SLOT[slot]);
        await excludeFromWorkItem(trx, 'access_approval', id, p.userId, now.toISOString());
      } else await closeWorkItem(trx, 'access_approval', id, now.toISOString());
      await recordAudit(trx, actorOf(p, ip), {
        action: `access_${decision}`,
        entity: 'access_request',
        entityId: id,
        orgUnitId: req.targetOrgUnitId,
        after: { slot, comment, status },
      });
    });
    return this.get(id);
  }
}
