// An alert about an absence ends by itself when the customer buys again: the purchase that ended it
// is recorded with it. Called where purchases are stored (rollups.ts: the ingest, the import, the
// pump's fill-ups and rows attached to a customer later), in the same transaction, once per chunk:
// one look-up of the chunk's customers' open alerts in the open-alert index, which finds nothing
// for nearly every chunk.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Engine } from '../../db/dialect.js';
import { purchaseResolves } from '../../../domain/anomaly-rules.js';
import { alertsQueries as q, type OpenAlert, type Resolved } from './alerts.queries.js';

export interface Purchase {
  /** The stored row; absent only for rows not stored. */
  id?: number;
  customerId: number | null;
  businessDay: string;
}

/** Resolve the open alerts these purchases end; returns how many resolved. */
export async function resolveOnPurchase(
  trx: Kysely<Database>,
  engine: Engine,
  rows: readonly Purchase[],
  at: string,
): Promise<number> {
  const ids = new Set<number>();
  for (const r of rows) if (r.customerId !== null) ids.add(r.customerId);
  if (ids.size === 0) return 0;
  const open = await q.openAlertsOf(trx, engine, [...ids]);
  if (open.length === 0) return 0;
  const byCustomer = new Map<number, OpenAlert[]>();
  for (const a of open) byCustomer.set(a.customerId, [...(byCustomer.get(a.customerId) ?? []), a]);
  // Each alert's earliest purchase (by day, then row) that ends it.
  const best = new Map<number, Purchase>();
  for (const r of rows) {
    if (r.customerId === null) continue;
    for (const a of byCustomer.get(r.customerId) ?? []) {
      if (!purchaseResolves(a, r.businessDay)) continue;
      const b = best.get(a.id);
      if (
        !b ||
        r.businessDay < b.businessDay ||
        (r.businessDay === b.businessDay && (r.id ?? Infinity) < (b.id ?? Infinity))
      )
        best.set(a.id, r);
    }
  }
  if (best.size === 0) return 0;
  const resolved: Resolved[] = [...best].map(([id, r]) => [id, 'returned', at, r.businessDay, r.id ?? null]);
  return q.resolve(trx, engine, resolved);
}

/** Hand-recorded fill-ups replaced by the card system's rows: alerts they resolved name the new rows. */
export async function renameResolvingPurchases(
  trx: Kysely<Database>,
  pairs: { from: number; to: number }[],
): Promise<void> {
  if (pairs.length > 0) await q.renameResolvingTxn(trx, pairs);
}
