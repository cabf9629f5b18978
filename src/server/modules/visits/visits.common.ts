// What the parts of the visits module share: the policy in force, units' time zones, names.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { storedVisitPolicy, type VisitPolicy } from '../../../domain/visit-plan.js';

export type Db = Kysely<Database>;
export type Tx = Kysely<Database> | Transaction<Database>;

/** The policy kind under which visit frequencies are saved (src/domain/visit-plan.ts holds its default). */
export const VISIT_POLICY_KIND = 'visit_frequency';

/** The visit policy in force: the newest saved version, or the default. */
export async function visitPolicy(db: Tx): Promise<VisitPolicy> {
  const row = await db
    .selectFrom('policy_version')
    .select('body')
    .where('kind', '=', VISIT_POLICY_KIND)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return storedVisitPolicy(row ? JSON.parse(row.body) : null);
}

export interface UnitInfo {
  id: number;
  path: string;
  parentId: number | null;
  timeZone: string;
  name: string;
  kind: string;
}

export async function unitsById(db: Tx, ids: Iterable<number>): Promise<Map<number, UnitInfo>> {
  const list = [...new Set(ids)];
  const out = new Map<number, UnitInfo>();
  for (let i = 0; i < list.length; i += 5000) {
    const rows = await db
      .selectFrom('org_unit')
      .select(['id', 'path', 'parent_id', 'time_zone', 'name', 'kind_code'])
      .where('id', 'in', list.slice(i, i + 5000))
      .execute();
    for (const r of rows)
      out.set(Number(r.id), {
        id: Number(r.id),
        path: r.path,
        parentId: r.parent_id === null ? null : Number(r.parent_id),
        timeZone: r.time_zone,
        name: r.name,
        kind: r.kind_code,
      });
  }
  return out;
}

export async function unitOf(db: Tx, id: number): Promise<UnitInfo | null> {
  return (await unitsById(db, [id])).get(id) ?? null;
}

export async function userNames(db: Tx, ids: Iterable<number | null>): Promise<Map<number, string>> {
  const list = [...new Set([...ids].filter((x): x is number => x !== null))];
  const out = new Map<number, string>();
  for (let i = 0; i < list.length; i += 5000) {
    const rows = await db
      .selectFrom('app_user')
      .select(['id', 'display_name'])
      .where('id', 'in', list.slice(i, i + 5000))
      .execute();
    for (const r of rows) out.set(Number(r.id), r.display_name);
  }
  return out;
}

/** How a customer is named in lists: his name, else his organisation, else his code. */
export function customerLabel(c: { name: string | null; organisation: string | null; code: string }): string {
  return c.name || c.organisation || c.code;
}

export const num = (v: unknown): number => Number(v);
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
