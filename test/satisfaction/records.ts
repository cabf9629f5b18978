// A survey, one of its calls and a revisit plan written straight into the tables, for the platform
// tests that walk every route.
import type { Kysely } from 'kysely';
import type { Database } from '../../src/server/db/schema.js';

export async function insertSatisfactionRecords(
  db: Kysely<Database>,
  unitId: number,
  customerId: number,
): Promise<{ survey: number; survey_target: number; revisit_plan: number }> {
  const at = new Date().toISOString();
  const due = new Date(Date.now() + 7 * 86_400_000).toISOString();
  const s = await db
    .insertInto('survey')
    .values({
      name: '满意度调查',
      org_unit_id: unitId,
      state: 'open',
      seed: 1,
      eligible: 1,
      due_at: due,
      created_by: null,
      created_at: at,
      sample_size: null,
      sample_ratio: null,
      closed_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const t = await db
    .insertInto('survey_target')
    .values({
      survey_id: Number(s.id),
      customer_id: customerId,
      org_unit_id: unitId,
      phone: '13800000000',
      state: 'pending',
      rating: null,
      csat: null,
      nps: null,
      ces: null,
      comment: null,
      called_by: null,
      called_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const r = await db
    .insertInto('revisit_plan')
    .values({
      customer_id: customerId,
      org_unit_id: unitId,
      planned_for: due,
      owner_user_id: null,
      purpose: '回访',
      source: 'manual',
      source_kind: null,
      source_id: null,
      state: 'planned',
      reached: null,
      rating: null,
      outcome: null,
      done_by: null,
      done_at: null,
      created_by: null,
      created_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { survey: Number(s.id), survey_target: Number(t.id), revisit_plan: Number(r.id) };
}
