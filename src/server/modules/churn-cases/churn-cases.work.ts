// What a churn case asks of whom, as an inbox item (one per case, following its state):
// open → the person who opened it writes the report to the level above;
// reported → the level above (anyone holding churn.assign at the parent unit or above) names someone;
// second_attempt → the person sent, by the due day (end of that day in the unit's time zone);
// lost, retained, won back → nothing left to do.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { zoneOffsetMs } from '../../../domain/business-day.js';
import { closeWorkItem, openWorkItem } from '../work/work-items.js';

/** Days to write the report, and for the level above to send someone. */
export const CHURN_STEP_DAYS = 3;
const DAY_MS = 86_400_000;

function endOfDay(day: string, timeZone: string): string {
  const utc = Date.parse(`${day}T23:59:59.000Z`);
  return new Date(utc - zoneOffsetMs(timeZone, utc)).toISOString();
}

export async function syncChurnCaseWork(db: Kysely<Database>, caseId: number, now: string): Promise<void> {
  const c = await db
    .selectFrom('churn_case as k')
    .innerJoin('org_unit as o', 'o.id', 'k.org_unit_id')
    .innerJoin('customer as c', 'c.id', 'k.customer_id')
    .select([
      'k.state',
      'k.customer_id',
      'k.org_unit_id',
      'k.opened_by',
      'k.opened_at',
      'k.reported_at',
      'k.assignee_user_id',
      'k.due_day',
      'o.parent_id',
      'o.time_zone',
      'c.name',
      'c.organisation',
      'c.code',
    ])
    .where('k.id', '=', caseId)
    .executeTakeFirst();
  if (!c) return;
  const base = {
    kind: 'churn_case' as const,
    recordId: caseId,
    customerId: Number(c.customer_id),
    subject: c.name ?? c.organisation ?? c.code,
  };
  const later = (from: string) => new Date(Date.parse(from) + CHURN_STEP_DAYS * DAY_MS).toISOString();
  if (c.state === 'open' && c.opened_by !== null) {
    await openWorkItem(
      db,
      { ...base, assigneeUserId: Number(c.opened_by), orgUnitId: Number(c.org_unit_id), dueAt: later(c.opened_at) },
      now,
    );
  } else if (c.state === 'reported') {
    await openWorkItem(
      db,
      {
        ...base,
        assigneeUserId: null,
        permission: 'churn.assign',
        orgUnitId: Number(c.parent_id ?? c.org_unit_id),
        dueAt: later(c.reported_at ?? now),
      },
      now,
    );
  } else if (c.state === 'second_attempt' && c.assignee_user_id !== null && c.due_day !== null) {
    await openWorkItem(
      db,
      {
        ...base,
        assigneeUserId: Number(c.assignee_user_id),
        orgUnitId: Number(c.org_unit_id),
        dueAt: endOfDay(c.due_day, c.time_zone),
      },
      now,
    );
  } else {
    await closeWorkItem(db, 'churn_case', caseId, now);
  }
}
