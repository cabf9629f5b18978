// Emitting an event: one delivery row per active subscription to it whose org unit is the event's
// unit or above it. Called inside the transaction of the change where there is one, so an event is
// on file exactly when its change is (the delivery table is the outbox); with no subscription at
// all this is one indexed read.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { WebhookEvent } from '../../../domain/webhooks.js';
import { isWithin } from '../../../domain/org-path.js';

export interface EmittedEvent {
  event: WebhookEvent;
  /** The org unit the event belongs to (a customer's, an alert's station, a batch's unit). */
  orgUnitId: number;
  data: Record<string, unknown>;
}

export async function emitWebhookEvents(
  db: Kysely<Database>,
  events: readonly EmittedEvent[],
  now: Date = new Date(),
): Promise<number> {
  if (events.length === 0) return 0;
  const hooks = await db
    .selectFrom('webhook as w')
    .innerJoin('org_unit as o', 'o.id', 'w.org_unit_id')
    .select(['w.id', 'w.events', 'o.path'])
    .where('w.active', '=', 1)
    .execute();
  if (hooks.length === 0) return 0;
  const unitIds = [...new Set(events.map((e) => e.orgUnitId))];
  const paths = new Map<number, string>();
  for (let i = 0; i < unitIds.length; i += 1000) {
    const rows = await db
      .selectFrom('org_unit')
      .select(['id', 'path'])
      .where('id', 'in', unitIds.slice(i, i + 1000))
      .execute();
    for (const r of rows) paths.set(r.id, r.path);
  }
  const at = now.toISOString();
  const rows = [];
  for (const e of events) {
    const path = paths.get(e.orgUnitId);
    if (!path) continue;
    for (const h of hooks) {
      if (!h.events.includes(`,${e.event},`) || !isWithin(path, h.path)) continue;
      rows.push({
        webhook_id: h.id,
        event: e.event,
        payload: JSON.stringify({ event: e.event, occurredAt: at, orgUnitId: e.orgUnitId, data: e.data }),
        status: 'pending',
        attempts: 0,
        next_attempt_at: at,
        created_at: at,
      });
    }
  }
  for (let i = 0; i < rows.length; i += 500)
    await db
      .insertInto('webhook_delivery')
      .values(rows.slice(i, i + 500))
      .execute();
  return rows.length;
}

/** One event; see emitWebhookEvents. */
export function emitWebhookEvent(db: Kysely<Database>, e: EmittedEvent, now?: Date): Promise<number> {
  return emitWebhookEvents(db, [e], now);
}

/** Whether any active subscription takes this event: callers skip gathering an event's data when none does. */
export async function anyWebhookFor(db: Kysely<Database>, event: WebhookEvent): Promise<boolean> {
  const row = await db
    .selectFrom('webhook')
    .select('id')
    .where('active', '=', 1)
    .where('events', 'like', `%,${event},%`)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Alerts by id as events (opened, resolved), read in chunks: the nightly run raises thousands at once. */
export async function emitAlertEvents(
  db: Kysely<Database>,
  event: 'alert.opened' | 'alert.resolved',
  ids: readonly number[],
  now?: Date,
): Promise<number> {
  if (ids.length === 0 || !(await anyWebhookFor(db, event))) return 0;
  let n = 0;
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await db
      .selectFrom('alert')
      .select(['id', 'org_unit_id', 'customer_id', 'kind', 'status'])
      .where('id', 'in', ids.slice(i, i + 1000))
      .execute();
    n += await emitWebhookEvents(
      db,
      rows.map((r) => ({
        event,
        orgUnitId: Number(r.org_unit_id),
        data: { alertId: r.id, customerId: r.customer_id, kind: r.kind, status: r.status },
      })),
      now,
    );
  }
  return n;
}
