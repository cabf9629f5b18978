// A price change, a weather warning and a contact task at a unit, for tests that walk every route.
import type { Kysely } from 'kysely';
import type { Database } from '../../src/server/db/schema.js';

export async function insertContactRecords(
  db: Kysely<Database>,
  orgUnitId: number,
  customerId: number,
): Promise<{ contact_task: number; price_change: number; weather_warning: number }> {
  const at = new Date().toISOString();
  const pc = await db
    .insertInto('price_change')
    .values({
      org_unit_id: orgUnitId,
      product: '0#柴油',
      old_price_fen: 745,
      new_price_fen: 760,
      effective_at: '2026-12-10T00:00:00.000Z',
      source: 'manual',
      note: null,
      created_by: null,
      created_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const ww = await db
    .insertInto('weather_warning')
    .values({
      org_unit_id: orgUnitId,
      title: '大雾',
      detail: null,
      route_text: null,
      start_day: '2026-12-11',
      end_day: '2026-12-11',
      created_by: null,
      created_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const task = await db
    .insertInto('contact_task')
    .values({
      customer_id: customerId,
      org_unit_id: orgUnitId,
      moment_kind: 'price_change',
      moment_key: `price_change:${pc.id}`,
      moment_day: '2026-12-10',
      price_change_id: pc.id,
      weather_warning_id: null,
      title: '0#柴油 7.45 → 7.60',
      assignee_user_id: null,
      contact_day: '2026-12-09',
      due_at: '2026-12-09T01:00:00.000Z',
      state: 'open',
      channel: null,
      created_at: at,
      updated_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { contact_task: Number(task.id), price_change: Number(pc.id), weather_warning: Number(ww.id) };
}
