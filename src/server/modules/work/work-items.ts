// The writer side of the work inbox. Every module that gives someone work calls these inside the
// transaction that makes its own change (docs/architecture.md "Work that people do"); nothing else
// writes `work_item`, and the inbox reads nothing else.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Tx = Kysely<Database> | Transaction<Database>;

/**
 * What kinds of work there are. A module adding a kind adds it here and a label in the web's
 * `work` messages (zh and en); the inbox links each kind to its page through `WORK_LINKS` there.
 */
export const WORK_KINDS = [
  'alert',
  'churn_case',
  'access_approval',
  'rating_approval',
  'visit',
  'visit_follow_up',
  'visit_plan_approval',
  'problem',
  'contact_task',
  'pool_reminder',
  'prospect',
  'dev_plan_approval',
  'complaint',
  'mystery_assignment',
  'mystery_action',
  'survey_call',
  'revisit',
] as const;
export type WorkKind = (typeof WORK_KINDS)[number];

export interface WorkItemInput {
  kind: WorkKind;
  /** Id of the module's own row (the alert, the visit, the task…); (kind, recordId, queueKey) is unique. */
  recordId: number;
  /** The person the work is for; null makes it a queue item for whoever holds `permission` over the unit. */
  assigneeUserId: number | null;
  /** A permission (`rating.approve`) or a role (`role:branch_dept_head`) that takes the queue item. */
  permission?: string | null;
  /** Set when one record waits in several queues at once: one row per key. */
  queueKey?: string;
  /** Queue items: holders of the permission who may not take it (the requester of an approval). */
  excludeUserIds?: readonly number[];
  orgUnitId: number;
  customerId?: number | null;
  /** What the person sees in the list: a customer's name, a plan's month… (cut to 200 characters). */
  subject: string;
  dueAt: string;
}

function rowOf(input: WorkItemInput, now: string) {
  return {
    kind: input.kind,
    record_id: input.recordId,
    assignee_user_id: input.assigneeUserId,
    permission: input.permission ?? null,
    queue_key: input.queueKey ?? '',
    excluded_user_ids: input.excludeUserIds?.length ? `,${input.excludeUserIds.join(',')},` : null,
    org_unit_id: input.orgUnitId,
    org_path: sql<string>`(select path from org_unit where id = ${input.orgUnitId})`,
    customer_id: input.customerId ?? null,
    subject: input.subject.slice(0, 200),
    due_at: input.dueAt,
    state: 'open',
    created_at: now,
    updated_at: now,
    done_at: null,
  };
}

/** Opens the item, or reopens and updates it if the record already had one (a reassigned alert, a rescheduled visit). */
export async function openWorkItem(db: Tx, input: WorkItemInput, now: string): Promise<void> {
  await openWorkItems(db, [input], now);
}

export async function openWorkItems(db: Tx, inputs: readonly WorkItemInput[], now: string): Promise<void> {
  // SQLite takes at most 32,766 parameters per statement; 14 per row.
  for (let i = 0; i < inputs.length; i += 1000) {
    const rows = inputs.slice(i, i + 1000).map((x) => rowOf(x, now));
    await db
      .insertInto('work_item')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['kind', 'record_id', 'queue_key']).doUpdateSet((eb) => ({
          assignee_user_id: eb.ref('excluded.assignee_user_id'),
          permission: eb.ref('excluded.permission'),
          excluded_user_ids: eb.ref('excluded.excluded_user_ids'),
          org_unit_id: eb.ref('excluded.org_unit_id'),
          org_path: eb.ref('excluded.org_path'),
          customer_id: eb.ref('excluded.customer_id'),
          subject: eb.ref('excluded.subject'),
          due_at: eb.ref('excluded.due_at'),
          state: 'open',
          updated_at: now,
          done_at: null,
        })),
      )
      .execute();
  }
}

/** The work is finished (`done`) or no longer anyone's to do (`cancelled`). A record without an item is no error. */
export async function closeWorkItem(
  db: Tx,
  kind: WorkKind,
  recordId: number,
  now: string,
  state: 'done' | 'cancelled' = 'done',
  queueKeys?: readonly string[],
): Promise<void> {
  if (queueKeys === undefined) return closeWorkItems(db, kind, [recordId], now, state);
  if (queueKeys.length === 0) return;
  await db
    .updateTable('work_item')
    .set({ state, updated_at: now, done_at: now })
    .where('kind', '=', kind)
    .where('record_id', '=', recordId)
    .where('queue_key', 'in', queueKeys)
    .where('state', '=', 'open')
    .execute();
}

export async function closeWorkItems(
  db: Tx,
  kind: WorkKind,
  recordIds: readonly number[],
  now: string,
  state: 'done' | 'cancelled' = 'done',
): Promise<void> {
  for (let i = 0; i < recordIds.length; i += 5000) {
    await db
      .updateTable('work_item')
      .set({ state, updated_at: now, done_at: now })
      .where('kind', '=', kind)
      .where('record_id', 'in', recordIds.slice(i, i + 5000))
      .where('state', '=', 'open')
      .execute();
  }
}

/** The same work now belongs to someone else (a customer changed owner, an alert was handed on). */
export async function reassignWorkItem(
  db: Tx,
  kind: WorkKind,
  recordId: number,
  assigneeUserId: number | null,
  now: string,
): Promise<void> {
  await db
    .updateTable('work_item')
    .set({ assignee_user_id: assigneeUserId, updated_at: now })
    .where('kind', '=', kind)
    .where('record_id', '=', recordId)
    .execute();
}

/** One holder of a queue item's permission is done with it (he decided his slot); it stays open for the others (every queue of the record). */
export async function excludeFromWorkItem(
  db: Tx,
  kind: WorkKind,
  recordId: number,
  userId: number,
  now: string,
): Promise<void> {
  await db
    .updateTable('work_item')
    .set({
      excluded_user_ids: sql<string>`coalesce(excluded_user_ids, ',') || ${`${userId},`}`,
      updated_at: now,
    })
    .where('kind', '=', kind)
    .where('record_id', '=', recordId)
    .execute();
}

/** A new due time for open work (a visit moved to another day). */
export async function rescheduleWorkItem(
  db: Tx,
  kind: WorkKind,
  recordId: number,
  dueAt: string,
  now: string,
): Promise<void> {
  await db
    .updateTable('work_item')
    .set({ due_at: dueAt, updated_at: now })
    .where('kind', '=', kind)
    .where('record_id', '=', recordId)
    .where('state', '=', 'open')
    .execute();
}
