import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor, Principal } from '../../auth/principal.js';
import { auditQueries, type AuditFilter } from './audit.queries.js';

export interface AuditEntry {
  action: string;
  entity: string;
  entityId?: string | number | null;
  orgUnitId?: number | null;
  before?: unknown;
  after?: unknown;
}

// Secrets never reach the log, whatever a caller passes as before/after.
const REDACT = new Set(['password', 'password_hash', 'passwordHash', 'token', 'csrf_token', 'key_hash']);

function toJson(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return JSON.stringify(value, (k, v: unknown) => (REDACT.has(k) ? '[redacted]' : v));
}

/** Append one audit record; pass the transaction of the change so both commit or neither. */
export async function recordAudit(db: Kysely<Database>, actor: Actor, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      at: new Date().toISOString(),
      actor_user_id: actor.userId,
      actor_name: actor.name,
      action: entry.action,
      entity: entry.entity,
      entity_id: entry.entityId === undefined || entry.entityId === null ? null : String(entry.entityId),
      org_unit_id: entry.orgUnitId ?? null,
      before_json: toJson(entry.before),
      after_json: toJson(entry.after),
      ip: actor.ip,
    })
    .execute();
}

/** For features that show a full customer record: reading is audited too. */
export function recordRead(
  db: Kysely<Database>,
  actor: Actor,
  entity: string,
  entityId: string | number,
  orgUnitId: number | null,
): Promise<void> {
  return recordAudit(db, actor, { action: 'read', entity, entityId, orgUnitId });
}

/** The changes made to one record, newest first, for its history timeline (reads are left out). */
export async function changeHistory(db: Kysely<Database>, entity: string, entityId: string | number, limit = 100) {
  const rows = await auditQueries.history(db, entity, String(entityId), limit);
  return rows.map((h) => ({
    id: h.id,
    at: h.at,
    actorName: h.actor_name,
    actorDisplayName: h.actor_display_name,
    action: h.action,
  }));
}

// Mainland mobiles and area-coded landlines, wherever they stand in a JSON snapshot.
const PHONE_IN_TEXT = /(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)|(?<!\d)(0\d{2,3}-)\d{3,4}(\d{4})(?!\d)/g;

export function maskPhonesIn(text: string | null): string | null {
  return text === null
    ? null
    : text.replace(PHONE_IN_TEXT, (_m, a?: string, b?: string, c?: string, d?: string) =>
        a ? `${a}****${b}` : `${c}****${d}`,
      );
}

export class AuditService {
  constructor(private readonly db: Kysely<Database>) {}

  search(p: Principal, filter: AuditFilter) {
    return auditQueries.search(this.db, p, filter);
  }
}
