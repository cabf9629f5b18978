// API keys for systems that send data (card, e-ledger and POS systems). A key is a random secret
// shown once; the database keeps its SHA-256 and the first characters for people to recognise it.
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export const API_KEY_PREFIX = 'fck_';
const SHOWN_CHARS = 12;
/** last_used_at is written at most this often per key, not on every request. */
const TOUCH_MS = 60_000;

/** The system behind a request authenticated by an API key. */
export interface ApiClient {
  keyId: number;
  name: string;
  orgUnitId: number;
  /** Materialised path of the key's org unit: the stations it may send for. */
  orgPath: string;
}

export function hashApiKey(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

export function newApiKey(): { secret: string; prefix: string; hash: string } {
  const secret = `${API_KEY_PREFIX}${crypto.randomBytes(32).toString('base64url')}`;
  return { secret, prefix: secret.slice(0, SHOWN_CHARS), hash: hashApiKey(secret) };
}

export async function lookupApiKey(
  db: Kysely<Database>,
  secret: string,
  now: Date,
): Promise<{ ok: true; client: ApiClient } | { ok: false; reason: 'unknown' | 'revoked' }> {
  if (!secret.startsWith(API_KEY_PREFIX) || secret.length > 100) return { ok: false, reason: 'unknown' };
  const row = await db
    .selectFrom('api_key as k')
    .innerJoin('org_unit as o', 'o.id', 'k.org_unit_id')
    .select(['k.id', 'k.name', 'k.org_unit_id', 'k.revoked_at', 'k.last_used_at', 'o.path'])
    .where('k.key_hash', '=', hashApiKey(secret))
    .executeTakeFirst();
  if (!row) return { ok: false, reason: 'unknown' };
  if (row.revoked_at !== null) return { ok: false, reason: 'revoked' };
  if (row.last_used_at === null || now.getTime() - Date.parse(row.last_used_at) > TOUCH_MS) {
    await db.updateTable('api_key').set({ last_used_at: now.toISOString() }).where('id', '=', row.id).execute();
  }
  return { ok: true, client: { keyId: row.id, name: row.name, orgUnitId: row.org_unit_id, orgPath: row.path } };
}
