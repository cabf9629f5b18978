// Placing incoming rows (fuel sales, card top-ups) at their stations: the station by code, inside
// the sender's org unit; the time on the station's clock and calendar; repeats within a chunk.
import { businessDay, zonedToUtc } from '../../../domain/business-day.js';
import { isWithin } from '../../../domain/org-path.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Engine } from '../../db/dialect.js';
import { transactionsQueries } from './transactions.queries.js';

export interface StationUnit {
  id: number;
  path: string;
  timeZone: string;
}

interface Placeable {
  rowNo: number;
  externalId: string;
  stationCode: string | null;
  /** The time was a wall-clock reading (no zone): it is the station's. */
  local: boolean;
  timeMs: number;
  utcText: string | null;
}

export interface Placement {
  orgUnitId: number;
  occurredAt: string;
  timeMs: number;
  businessDay: string;
}

/** Station codes of a chunk not yet known to this batch, looked up at once; unknown codes are remembered as null. */
export async function resolveStations(db: Kysely<Database>, engine: Engine, chunk: { stationCode: string | null }[], units: Map<string, StationUnit | null>): Promise<void> {
  const missing = new Set<string>();
  for (const p of chunk) if (p.stationCode !== null && !units.has(p.stationCode)) missing.add(p.stationCode);
  if (missing.size === 0) return;
  const found = await transactionsQueries.stationsByCode(db, engine, [...missing]);
  for (const c of missing) units.set(c, found.get(c) ?? null);
}

export type PlacementReject = (row: number, externalId: string | null, p: { field: string; code: string; message: string }) => void;

/** Rows placed at stations the sender may send for; a row on file twice in one chunk counts as a duplicate. */
export function placeRows<P extends Placeable, R>(
  chunk: P[],
  units: Map<string, StationUnit | null>,
  home: StationUnit,
  scopePath: string,
  reject: PlacementReject,
  build: (p: P, at: Placement) => R,
): { rows: R[]; duplicates: number } {
  const rows: R[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  for (const p of chunk) {
    const unit = p.stationCode === null ? home : units.get(p.stationCode);
    if (!unit) {
      reject(p.rowNo, p.externalId, { field: 'stationCode', code: 'STATION_UNKNOWN', message: `no station has the code ${p.stationCode}` });
      continue;
    }
    if (!isWithin(unit.path, scopePath)) {
      reject(p.rowNo, p.externalId, { field: 'stationCode', code: 'STATION_OUT_OF_SCOPE', message: `station ${p.stationCode} is outside the organisation this key may send for` });
      continue;
    }
    if (seen.has(p.externalId)) {
      duplicates++;
      continue;
    }
    seen.add(p.externalId);
    const timeMs = p.local ? zonedToUtc(p.timeMs, unit.timeZone) : p.timeMs;
    rows.push(build(p, { orgUnitId: unit.id, occurredAt: p.utcText ?? new Date(timeMs).toISOString(), timeMs, businessDay: businessDay(timeMs, unit.timeZone) }));
  }
  return { rows, duplicates };
}
