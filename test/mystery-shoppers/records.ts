// Mystery-shopper rows written straight into the tables, for the platform tests that walk every route.
import type { Kysely } from 'kysely';
import type { Database } from '../../src/server/db/schema.js';

let seq = 0;

export async function insertMysteryRecords(
  db: Kysely<Database>,
  unitId: number,
): Promise<{ mystery_form: number; mystery_assignment: number; mystery_action: number }> {
  const at = new Date().toISOString();
  const definition = JSON.stringify({
    sections: [
      {
        title: '服务',
        items: [
          {
            key: 'greet',
            text: '主动问候',
            weight: 5,
            critical: false,
            photoRequired: false,
            answerType: 'yes_no',
            maxScore: null,
          },
        ],
      },
    ],
  });
  const form = await db
    .insertInto('mystery_form')
    .values({
      code: `test_${unitId}_${++seq}_${Math.random().toString(36).slice(2, 8)}`,
      version: 1,
      state: 'draft',
      title: '测试表',
      pass_percent: 80,
      definition,
      org_unit_id: unitId,
      created_by: null,
      created_at: at,
      updated_at: at,
      published_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const user = await db.selectFrom('app_user').select('id').orderBy('id').executeTakeFirstOrThrow();
  const assignment = await db
    .insertInto('mystery_assignment')
    .values({
      form_id: Number(form.id),
      org_unit_id: unitId,
      shopper_user_id: Number(user.id),
      window_from: at,
      window_to: new Date(Date.now() + 86_400_000).toISOString(),
      hour_from: null,
      hour_to: null,
      note: null,
      state: 'open',
      created_by: null,
      created_at: at,
      updated_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const action = await db
    .insertInto('mystery_action')
    .values({
      form_code: 'test',
      item_key: 'greet',
      item_text: '主动问候',
      scope: 'station',
      org_unit_id: unitId,
      period_from: '2026-12-01',
      period_to: '2026-12-31',
      failed_stations: 1,
      evaluated_stations: 4,
      note: null,
      due_at: at,
      state: 'open',
      created_by: null,
      created_at: at,
      closed_at: null,
      closed_by: null,
      close_note: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return {
    mystery_form: Number(form.id),
    mystery_assignment: Number(assignment.id),
    mystery_action: Number(action.id),
  };
}
