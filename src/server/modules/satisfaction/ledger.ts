// The satisfaction policy in force, the one ledger of survey contacts that every kind of survey reads
// and writes (complaint callbacks, satisfaction surveys, revisits), and revisits proposed after a low
// score. Called inside the transaction of the change that reached the customer.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import {
  contactDecision,
  contactLookback,
  storedSatisfactionPolicy,
  DEFAULT_SATISFACTION_POLICY,
  type ContactDecision,
  type ContactReason,
  type SatisfactionPolicy,
} from '../../../domain/satisfaction.js';
import { openWorkItem } from '../work/work-items.js';

export type Tx = Kysely<Database> | Transaction<Database>;

export interface PolicyVersion {
  versionId: number | null;
  body: SatisfactionPolicy;
  note: string | null;
  createdAt: string | null;
}

/** The newest saved version, or the default when HQ has never saved one. */
export async function currentSatisfactionPolicy(db: Tx): Promise<PolicyVersion> {
  const row = await db
    .selectFrom('satisfaction_policy')
    .select(['id', 'body', 'note', 'created_at'])
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return { versionId: null, body: DEFAULT_SATISFACTION_POLICY, note: null, createdAt: null };
  return {
    versionId: Number(row.id),
    body: storedSatisfactionPolicy(JSON.parse(row.body)),
    note: row.note,
    createdAt: row.created_at,
  };
}

export interface ContactInput {
  customerId: number | null;
  phone: string | null;
  orgUnitId: number;
  reason: ContactReason;
  sourceId: number;
  at: string;
  userId: number | null;
}

export async function recordContact(db: Tx, c: ContactInput): Promise<void> {
  if (c.customerId === null && !c.phone) return;
  await db
    .insertInto('survey_contact')
    .values({
      customer_id: c.customerId,
      phone: c.phone,
      org_unit_id: c.orgUnitId,
      reason: c.reason,
      source_id: c.sourceId,
      contacted_at: c.at,
      created_by: c.userId,
    })
    .execute();
}

/** A customer's survey contacts since `from`, by his id or any of his phones, newest first. */
export async function contactsOf(db: Tx, customerId: number, from: string) {
  const rows = await db
    .selectFrom('survey_contact as sc')
    .leftJoin('org_unit as o', 'o.id', 'sc.org_unit_id')
    .select(['sc.id', 'sc.reason', 'sc.source_id', 'sc.contacted_at', 'o.name as unit_name'])
    .where('sc.contacted_at', '>=', from)
    .where((eb) =>
      eb.or([
        eb('sc.customer_id', '=', customerId),
        eb('sc.phone', 'in', eb.selectFrom('customer_phone').select('phone').where('customer_id', '=', customerId)),
      ]),
    )
    .orderBy('sc.contacted_at', 'desc')
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    reason: r.reason as ContactReason,
    sourceId: Number(r.source_id),
    at: r.contacted_at,
    unitName: r.unit_name ?? null,
  }));
}

/** May this customer be surveyed now, under the policy? */
export async function contactStatus(
  db: Tx,
  policy: SatisfactionPolicy,
  customerId: number,
  now: Date,
  reason: ContactReason,
): Promise<ContactDecision> {
  const earlier = await contactsOf(db, customerId, contactLookback(policy, now));
  return contactDecision(
    policy,
    earlier.map((c) => c.at),
    now,
    reason,
  );
}

/**
 * A revisit proposed after a low score: planned `revisitAfterDays` later for the customer's owner
 * (else a queue item for the callers at his unit), unless one is planned for him already.
 */
export async function proposeRevisit(
  db: Tx,
  policy: SatisfactionPolicy,
  input: { customerId: number; sourceKind: 'survey_target' | 'complaint'; sourceId: number; purpose: string },
  now: Date,
  createdBy: number | null,
): Promise<number | null> {
  const c = await db
    .selectFrom('customer')
    .select(['id', 'org_unit_id', 'owner_user_id', 'name', 'code'])
    .where('id', '=', input.customerId)
    .executeTakeFirst();
  if (!c) return null;
  const open = await db
    .selectFrom('revisit_plan')
    .select('id')
    .where('customer_id', '=', input.customerId)
    .where('state', '=', 'planned')
    .executeTakeFirst();
  if (open) return null;
  const at = now.toISOString();
  const plannedFor = new Date(now.getTime() + policy.revisitAfterDays * 86_400_000).toISOString();
  const { id } = await db
    .insertInto('revisit_plan')
    .values({
      customer_id: input.customerId,
      org_unit_id: Number(c.org_unit_id),
      planned_for: plannedFor,
      owner_user_id: c.owner_user_id === null ? null : Number(c.owner_user_id),
      purpose: input.purpose.slice(0, 500),
      source: 'low_score',
      source_kind: input.sourceKind,
      source_id: input.sourceId,
      state: 'planned',
      created_by: createdBy,
      created_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await openRevisitWork(db, Number(id), at);
  return Number(id);
}

/** The revisit's inbox item: the owner's, or the unit's callers' queue when nobody owns it. */
export async function openRevisitWork(db: Tx, id: number, now: string): Promise<void> {
  const r = await db
    .selectFrom('revisit_plan as r')
    .leftJoin('customer as c', 'c.id', 'r.customer_id')
    .innerJoin('org_unit as o', 'o.id', 'r.org_unit_id')
    .select([
      'r.id',
      'r.org_unit_id',
      'r.customer_id',
      'r.owner_user_id',
      'r.planned_for',
      'r.purpose',
      'c.name',
      'c.code',
      'o.name as unit_name',
    ])
    .where('r.id', '=', id)
    .executeTakeFirstOrThrow();
  const who = r.customer_id === null ? r.unit_name : (r.name ?? r.code ?? '');
  await openWorkItem(
    db,
    {
      kind: 'revisit',
      recordId: id,
      assigneeUserId: r.owner_user_id === null ? null : Number(r.owner_user_id),
      permission: r.owner_user_id === null ? 'satisfaction.call' : null,
      orgUnitId: Number(r.org_unit_id),
      customerId: r.customer_id === null ? null : Number(r.customer_id),
      subject: `${who} · ${r.purpose}`,
      dueAt: r.planned_for,
    },
    now,
  );
}
