// Rows for the platform sweeps (authorization matrix, fuzz): a surveyed prospect at a station and a
// dispatched plan of its branch, written directly, so every step on them is refused by order (409)
// or by its body, never by who asks.
import type { Kysely } from 'kysely';
import type { Database } from '../../src/server/db/schema.js';

export async function insertProspectRecords(
  db: Kysely<Database>,
  stationId: number,
  branchId: number,
): Promise<{ prospect: number; dev_plan: number }> {
  const at = new Date().toISOString();
  const month = `20${String(10 + (stationId % 80)).padStart(2, '0')}-01`;
  const plan = await db
    .insertInto('dev_plan')
    .values({
      org_unit_id: branchId,
      month,
      state: 'dispatched',
      due_day: `${month}-05`,
      note: null,
      compiled_by: null,
      compiled_at: at,
      submitted_at: at,
      dept_approver_id: null,
      dept_approved_at: at,
      dept_note: null,
      leader_approver_id: null,
      leader_approved_at: at,
      leader_note: null,
      dispatched_by: null,
      dispatched_at: at,
      overdue_day: null,
      updated_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const prospect = await db
    .insertInto('prospect')
    .values({
      org_unit_id: stationId,
      branch_id: branchId,
      kind: 'organisation',
      name: '运输公司',
      organisation: null,
      contact_name: null,
      phone: null,
      plates: null,
      vehicle_count: null,
      monthly_litres: null,
      products: null,
      demand: '柴油',
      fuel_use: null,
      settlement_method: null,
      competitor: null,
      notes: null,
      importance: 'general',
      stage: 'surveyed',
      surveyed_by: null,
      surveyed_at: at,
      survey_day: at.slice(0, 10),
      plan_id: null,
      dispatch_unit_id: null,
      follower_user_id: null,
      dispatched_at: null,
      due_day: null,
      last_progress_at: null,
      overdue_day: null,
      customer_id: null,
      closed_at: null,
      updated_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { prospect: Number(prospect.id), dev_plan: Number(plan.id) };
}
