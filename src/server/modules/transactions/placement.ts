// Placing incoming rows (fuel sales, card top-ups) at their stations: the station by code, inside
// the sender's org unit; the time on the station's clock and calendar; repeats within a chunk; and
// what a repeat of a row on file is — the same row sent again, or a conflict.
import { businessDay, zonedToUtc } from '../../../domain/business-day.js';
import { isWithin } from '../../../domain/org-path.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Engine } from '../../db/dialect.js';
import { transactionsQueries } from './transactions.queries.js';

/** The org-unit kind at which sales and top-ups are booked. */
export const STATION_KIND = 'station';

export interface StationUnit {
  id: number;
  path: string;
  timeZone: string;
  kind: string;
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

export interface RowIssue {
  field: string;
  code: string;
  message: string;
  /** What the message names (the station code, the external id and its first row), for wording it elsewhere. */
  params?: Record<string, string | number>;
}

/** A refused row and why, one issue per field; the row counts once among the rejected. */
export type PlacementReject = (row: number, externalId: string | null, issues: RowIssue[]) => void;

/** Station codes of a chunk not yet known to this batch, looked up at once; unknown codes are remembered as null. */
export async function resolveStations(
  db: Kysely<Database>,
  engine: Engine,
  chunk: { stationCode: string | null }[],
  units: Map<string, StationUnit | null>,
): Promise<void> {
  const missing = new Set<string>();
  for (const p of chunk) if (p.stationCode !== null && !units.has(p.stationCode)) missing.add(p.stationCode);
  if (missing.size === 0) return;
  const found = await transactionsQueries.stationsByCode(db, engine, [...missing]);
  for (const c of missing) units.set(c, found.get(c) ?? null);
}

/** How one kind of row (sales, top-ups) is built from a placed row and compared with a repeat of its key. */
export interface RowKind<P, R> {
  build: (p: P, at: Placement) => R;
  /** The fields (JSON names) in which `again` differs from `first`; none for the same row sent again. */
  differs: (first: R, again: R) => string[];
  /** The code a repeat with other content is reported under. */
  conflictCode: string;
}

/** A chunk's rows placed at their stations: the first of each external id, and the rows that repeat one of them. */
export interface Placed<R> {
  rows: R[];
  /** `rows[i]`'s 1-based number in the batch. */
  rowNos: number[];
  /** Rows that repeat `rows[first]` with the same content: they share its fate (duplicate or conflict). */
  repeats: { first: number; rowNo: number }[];
  /** Rows refused because they repeat an external id of the chunk with other content. */
  conflicts: number;
}

/**
 * Rows placed at stations the sender may send for. A row must be booked at a station: without a
 * station code it goes to the sender's own unit when that is a station, and is refused otherwise.
 * A row whose external id came earlier in the chunk is a repeat when it says the same, and is
 * refused as a conflict (one issue per differing field) when it does not.
 */
export function placeRows<P extends Placeable, R>(
  chunk: P[],
  units: Map<string, StationUnit | null>,
  home: StationUnit,
  scopePath: string,
  reject: PlacementReject,
  kind: RowKind<P, R>,
): Placed<R> {
  const out: Placed<R> = { rows: [], rowNos: [], repeats: [], conflicts: 0 };
  const seen = new Map<string, number>();
  const refuse = (p: P, code: string, message: string) =>
    reject(p.rowNo, p.externalId, [{ field: 'stationCode', code, message, params: { value: p.stationCode ?? '' } }]);
  for (const p of chunk) {
    const unit = p.stationCode === null ? home : units.get(p.stationCode);
    if (!unit) {
      refuse(p, 'STATION_UNKNOWN', `no station has the code ${p.stationCode}`);
      continue;
    }
    if (!isWithin(unit.path, scopePath)) {
      refuse(p, 'STATION_OUT_OF_SCOPE', `station ${p.stationCode} is outside the organisation this key may send for`);
      continue;
    }
    if (unit.kind !== STATION_KIND) {
      const kindNote = `of kind ${unit.kind}, not a station`;
      if (p.stationCode !== null) refuse(p, 'NOT_A_STATION', `${p.stationCode} is a unit ${kindNote}`);
      else refuse(p, 'STATION_REQUIRED', `stationCode is required: the sender's unit is ${kindNote}`);
      continue;
    }
    const timeMs = p.local ? zonedToUtc(p.timeMs, unit.timeZone) : p.timeMs;
    const occurredAt = p.utcText ?? new Date(timeMs).toISOString();
    const day = businessDay(timeMs, unit.timeZone);
    const row = kind.build(p, { orgUnitId: unit.id, occurredAt, timeMs, businessDay: day });
    const first = seen.get(p.externalId);
    if (first === undefined) {
      seen.set(p.externalId, out.rows.length);
      out.rows.push(row);
      out.rowNos.push(p.rowNo);
      continue;
    }
    const fields = kind.differs(out.rows[first]!, row);
    if (fields.length === 0) out.repeats.push({ first, rowNo: p.rowNo });
    else {
      out.conflicts++;
      reject(p.rowNo, p.externalId, conflictIssues(kind.conflictCode, p.externalId, fields, out.rowNos[first]!));
    }
  }
  return out;
}

/**
 * One issue per field in which a repeat of an external id differs from the row first received: the
 * row of the batch it came in, or null when it is on file.
 */
function conflictIssues(code: string, externalId: string, fields: string[], firstRow: number | null): RowIssue[] {
  const first = firstRow === null ? 'is on file' : `came in row ${firstRow}`;
  return fields.map((field) => ({
    field,
    code,
    message: `externalId ${externalId} ${first} with another ${field}; a changed row needs a new externalId`,
    params: { externalId, firstRow: firstRow ?? 0 },
  }));
}

/**
 * What became of the placed rows the insert did not store because their key was on file: the same
 * content is a duplicate; other content is refused as a conflict, one issue per differing field.
 * Repeats within the chunk share the fate of the row they repeat. `onFile` holds the stored rows by
 * external id. Returns the duplicates and conflicts counted.
 */
export function settleOnFile<R extends { externalId: string }>(
  placed: Placed<R>,
  stored: (row: R) => boolean,
  onFile: Map<string, R>,
  kind: Pick<RowKind<unknown, R>, 'differs' | 'conflictCode'>,
  reject: PlacementReject,
): { duplicates: number; conflicts: number } {
  let duplicates = 0;
  let conflicts = 0;
  const differing = new Map<number, string[]>();
  placed.rows.forEach((row, i) => {
    if (stored(row)) return;
    const mine = onFile.get(row.externalId);
    const fields = mine ? kind.differs(mine, row) : [];
    if (fields.length === 0) {
      duplicates++;
      return;
    }
    conflicts++;
    differing.set(i, fields);
    reject(placed.rowNos[i]!, row.externalId, conflictIssues(kind.conflictCode, row.externalId, fields, null));
  });
  for (const r of placed.repeats) {
    const fields = differing.get(r.first);
    const externalId = placed.rows[r.first]!.externalId;
    if (!fields) duplicates++;
    else {
      conflicts++;
      reject(r.rowNo, externalId, conflictIssues(kind.conflictCode, externalId, fields, null));
    }
  }
  return { duplicates, conflicts };
}
