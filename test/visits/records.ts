// Rows for the platform sweeps (authorization matrix, fuzz): a submitted visit plan of a person at a
// station, one of its visits, a visit record and a problem held by the station, written directly so
// every step on them is refused by its body (400), by order (409) or by its rules, never by scope.
import type { Kysely } from 'kysely';
import type { Database } from '../../src/server/db/schema.js';

export async function insertVisitRecords(
  db: Kysely<Database>,
  stationId: number,
): Promise<{ visit_plan: number; planned_visit: number; visit_record: number; visit_problem: number }> {
  const at = new Date().toISOString();
  const tag = `${stationId}_${Math.random().toString(36).slice(2, 8)}`;
  const user = await db
    .insertInto('app_user')
    .values({
      username: `visit_owner_${tag}`,
      display_name: '拜访人',
      org_unit_id: stationId,
      password_hash: 'x',
      locale: 'zh-CN',
      active: 1,
      locked_until: null,
      password_changed_at: at,
      created_at: at,
      updated_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const customer = await db
    .insertInto('customer')
    .values({
      org_unit_id: stationId,
      code: `V${tag}`,
      kind: 'individual',
      name: '钱师傅',
      owner_user_id: Number(user.id),
      created_at: at,
      updated_at: at,
    } as never)
    .returning('id')
    .executeTakeFirstOrThrow();
  const plan = await db
    .insertInto('visit_plan')
    .values({
      owner_user_id: Number(user.id),
      org_unit_id: stationId,
      month: '2026-12',
      state: 'submitted',
      submitted_at: at,
      decided_by: null,
      decided_at: null,
      decision_note: null,
      created_at: at,
      updated_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const visit = await db
    .insertInto('planned_visit')
    .values({
      plan_id: Number(plan.id),
      customer_id: Number(customer.id),
      org_unit_id: stationId,
      owner_user_id: Number(user.id),
      planned_day: '2026-12-15',
      planned_at: '2026-12-15T02:00:00.000Z',
      reason: 'manual',
      reason_detail: null,
      state: 'planned',
      appointed_at: null,
      appointment_note: null,
      record_id: null,
      created_at: at,
      updated_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const record = await db
    .insertInto('visit_record')
    .values({
      customer_id: Number(customer.id),
      org_unit_id: stationId,
      user_id: Number(user.id),
      planned_visit_id: null,
      visited_at: at,
      visited_day: at.slice(0, 10),
      assessment: '{}',
      market_outlook: null,
      competitors_better: null,
      note: null,
      check_in_lat: null,
      check_in_lng: null,
      check_in_accuracy_m: null,
      check_in_at: null,
      created_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const problem = await db
    .insertInto('visit_problem')
    .values({
      record_id: Number(record.id),
      customer_id: Number(customer.id),
      origin_unit_id: stationId,
      org_unit_id: stationId,
      raised_by: Number(user.id),
      text: '价格高于对手',
      state: 'open',
      raised_at: at,
      raised_day: at.slice(0, 10),
      resolved_at: null,
      updated_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return {
    visit_plan: Number(plan.id),
    planned_visit: Number(visit.id),
    visit_record: Number(record.id),
    visit_problem: Number(problem.id),
  };
}
