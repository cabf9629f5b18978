// A complaint written straight into the tables, for the platform tests that walk every route.
import type { Kysely } from 'kysely';
import type { Database } from '../../src/server/db/schema.js';

let seq = 0;

export async function insertComplaintRecords(db: Kysely<Database>, unitId: number): Promise<{ complaint: number }> {
  const at = new Date().toISOString();
  const { id } = await db
    .insertInto('complaint')
    .values({
      case_no: `TS-TEST-${unitId}-${++seq}-${Math.random().toString(36).slice(2, 8)}`,
      channel: 'station',
      category_code: 'station_service',
      severity_code: 'general',
      org_unit_id: unitId,
      customer_id: null,
      complainant_name: '王先生',
      complainant_phone: null,
      plate: null,
      content: '加油员态度不好',
      reference_no: null,
      reply_deadline: null,
      emergency: 0,
      state: 'verify',
      owner_unit_id: unitId,
      stage_started_at: at,
      stage_due_at: at,
      rating: null,
      merged_into_id: null,
      merged_from_state: null,
      taken_by: null,
      taken_at: at,
      closed_at: null,
      updated_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { complaint: Number(id) };
}
