// Org units from an import: code, name, parent code, kind and time zone per row. The whole file is
// one chunk, because a parent may stand below its children: the rows are ordered parents first, a
// cycle or an unknown parent is reported on the row's parent field, and a row under a refused row is
// refused too. A unit on file is matched by its code: a changed name, kind or time zone updates it, the
// same values leave it alone, and nothing is ever deleted or moved (moves stay on the org page). The
// importer needs org.write and works only inside his own subtree, as the org page does.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor, Principal } from '../../auth/principal.js';
import { pathInScope } from '../../auth/scope.js';
import { childPath } from '../../../domain/org-path.js';
import { isValidTimeZone } from '../org/org.service.js';
import type { FieldError } from './parse/convert.js';
import { encodeProblem } from './problems.js';
import type { RowProblem } from './customer-rows.js';

export interface ImportRow {
  rowNumber: number;
  value: Record<string, unknown>;
}

export interface OrgChunkResult {
  created: number;
  updated: number;
  unchanged: number;
  problems: RowProblem[];
}

/** What the org page accepts as a unit code. */
export const UNIT_CODE = /^[A-Za-z0-9_.-]{1,64}$/;

export function str(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = String(v).trim();
  return s === '' ? null : s;
}

export function slices<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

export function problemsOf(row: number, errors: FieldError[]): RowProblem[] {
  return errors.map((e) => ({
    row,
    severity: 'error' as const,
    field: e.field ?? null,
    message: encodeProblem(e.code, e.params),
  }));
}

/** Many audit records in a few statements (an import of thousands of units or people). */
export async function recordAuditRows(
  trx: Kysely<Database>,
  actor: Actor,
  entries: { action: string; entity: string; entityId: number; orgUnitId: number; before?: unknown; after?: unknown }[],
): Promise<void> {
  const at = new Date().toISOString();
  for (const part of slices(entries, 200))
    await trx
      .insertInto('audit_log')
      .values(
        part.map((e) => ({
          at,
          actor_user_id: actor.userId,
          actor_name: actor.name,
          action: e.action,
          entity: e.entity,
          entity_id: String(e.entityId),
          org_unit_id: e.orgUnitId,
          before_json: e.before === undefined ? null : JSON.stringify(e.before),
          after_json: e.after === undefined ? null : JSON.stringify(e.after),
          ip: actor.ip,
        })),
      )
      .execute();
}

interface UnitOnFile {
  id: number;
  code: string;
  name: string;
  kind_code: string;
  time_zone: string;
  path: string;
  depth: number;
  version: number;
  parent_code: string | null;
}

interface UnitRow {
  row: number;
  code: string;
  name: string;
  parentCode: string | null;
  kind: string | null;
  timeZone: string | null;
}

interface NewUnit extends UnitRow {
  kind: string;
  depth: number;
  timeZone: string;
  /** Known once the parent is written (a unit on file, or one created earlier in the order). */
  parentId?: number;
}

export class OrgUnitRowImporter {
  constructor(private readonly p: Principal) {}

  /** The level kinds by code and by their Chinese and English names (加油站, Station). */
  private async kinds(
    trx: Kysely<Database>,
  ): Promise<{ lookup: Map<string, string>; names: { zh: string[]; en: string[] } }> {
    const rows = await trx.selectFrom('org_level_kind').selectAll().orderBy('rank').execute();
    const lookup = new Map<string, string>();
    for (const k of rows) {
      lookup.set(k.code.toLowerCase(), k.code);
      lookup.set(k.name_zh, k.code);
      lookup.set(k.name_en.toLowerCase(), k.code);
    }
    return { lookup, names: { zh: rows.map((k) => k.name_zh), en: rows.map((k) => k.name_en) } };
  }

  private async onFile(trx: Kysely<Database>, codes: string[]): Promise<Map<string, UnitOnFile>> {
    const out = new Map<string, UnitOnFile>();
    for (const part of slices(codes, 500)) {
      const rows = await trx
        .selectFrom('org_unit as u')
        .leftJoin('org_unit as parent', 'parent.id', 'u.parent_id')
        .select([
          'u.id',
          'u.code',
          'u.name',
          'u.kind_code',
          'u.time_zone',
          'u.path',
          'u.depth',
          'u.version',
          'parent.code as parent_code',
        ])
        .where('u.code', 'in', part)
        .execute();
      for (const r of rows) out.set(r.code, { ...r, id: Number(r.id), parent_code: r.parent_code ?? null });
    }
    return out;
  }

  /**
   * Check (and with `write`, apply) every row of the file inside the caller's transaction. A dry run
   * goes through the same steps without writing, so its figures are the commit's.
   */
  async apply(
    trx: Kysely<Database>,
    rows: ImportRow[],
    write: boolean,
    audit: { actor: Actor; importId: number },
  ): Promise<OrgChunkResult> {
    const problems: RowProblem[] = [];
    const { lookup, names } = await this.kinds(trx);
    const parsed: UnitRow[] = [];
    /** Codes of rows refused before ordering: their children are refused with them. */
    const refused = new Set<string>();
    const firstRow = new Map<string, number>();
    for (const r of rows) {
      const errors: FieldError[] = [];
      const code = str(r.value.unitCode);
      const name = str(r.value.unitName);
      const parentCode = str(r.value.parentCode);
      const kindText = str(r.value.unitKind);
      const tz = str(r.value.timeZone);
      if (code === null) errors.push({ field: 'unitCode', code: 'REQUIRED' });
      else if (!UNIT_CODE.test(code)) errors.push({ field: 'unitCode', code: 'BAD_CODE', params: { value: code } });
      if (name === null) errors.push({ field: 'unitName', code: 'REQUIRED' });
      else if (name.length > 200)
        errors.push({ field: 'unitName', code: 'TOO_LONG', params: { value: name, maxChars: 200 } });
      if (parentCode !== null && !UNIT_CODE.test(parentCode))
        errors.push({ field: 'parentCode', code: 'BAD_CODE', params: { value: parentCode } });
      let kind: string | null = null;
      if (kindText !== null) {
        kind = lookup.get(kindText) ?? lookup.get(kindText.toLowerCase()) ?? null;
        if (kind === null)
          errors.push({
            field: 'unitKind',
            code: 'UNKNOWN_UNIT_KIND',
            params: { value: kindText, allowed: names.zh, allowedEn: names.en },
          });
      }
      if (tz !== null && !isValidTimeZone(tz))
        errors.push({ field: 'timeZone', code: 'BAD_TIME_ZONE', params: { value: tz } });
      if (code !== null && UNIT_CODE.test(code)) {
        const first = firstRow.get(code);
        if (first !== undefined) {
          errors.push({ field: 'unitCode', code: 'DUPLICATE_IN_FILE', params: { value: code, firstRow: first } });
          problems.push(...problemsOf(r.rowNumber, errors));
          continue;
        }
        firstRow.set(code, r.rowNumber);
      }
      if (errors.length) {
        problems.push(...problemsOf(r.rowNumber, errors));
        if (code !== null) refused.add(code);
        continue;
      }
      parsed.push({ row: r.rowNumber, code: code!, name: name!, parentCode, kind, timeZone: tz });
    }

    const codes = new Set<string>();
    for (const x of parsed) {
      codes.add(x.code);
      if (x.parentCode) codes.add(x.parentCode);
    }
    const known = await this.onFile(trx, [...codes]);
    const updates: {
      row: UnitRow;
      before: UnitOnFile;
      patch: { name?: string; kind_code?: string; time_zone?: string };
    }[] = [];
    const fresh = new Map<string, UnitRow>();
    let unchanged = 0;
    const refuse = (row: number, e: FieldError) => problems.push(...problemsOf(row, [e]));
    for (const x of parsed) {
      const before = known.get(x.code);
      if (before) {
        if (!pathInScope(this.p, before.path)) {
          refuse(x.row, { field: 'unitCode', code: 'UNIT_OUT_OF_SCOPE', params: { value: x.code } });
          continue;
        }
        if (x.parentCode !== null && x.parentCode !== before.parent_code) {
          const params = { value: x.code, parent: before.parent_code ?? '' };
          refuse(x.row, { field: 'parentCode', code: 'PARENT_DIFFERS', params });
          continue;
        }
        const patch: { name?: string; kind_code?: string; time_zone?: string } = {};
        if (x.name !== before.name) patch.name = x.name;
        if (x.kind !== null && x.kind !== before.kind_code) patch.kind_code = x.kind;
        if (x.timeZone !== null && x.timeZone !== before.time_zone) patch.time_zone = x.timeZone;
        if (Object.keys(patch).length) updates.push({ row: x, before, patch });
        else unchanged++;
        continue;
      }
      const errors: FieldError[] = [];
      if (x.parentCode === null) errors.push({ field: 'parentCode', code: 'REQUIRED' });
      if (x.kind === null) errors.push({ field: 'unitKind', code: 'REQUIRED' });
      if (errors.length) {
        problems.push(...problemsOf(x.row, errors));
        refused.add(x.code);
        continue;
      }
      fresh.set(x.code, x);
    }

    // Order the new units parents first; a parent is a unit on file, or a new unit of this file.
    const ready = new Map<string, NewUnit>();
    const bad = new Set<string>(refused);
    const resolve = (start: UnitRow) => {
      const chain: UnitRow[] = [];
      const onChain = new Map<string, number>();
      let cur: UnitRow | undefined = start;
      let root: { depth: number; timeZone: string; id?: number } | null = null;
      while (cur && !ready.has(cur.code) && !bad.has(cur.code)) {
        const seen = onChain.get(cur.code);
        if (seen !== undefined) {
          // A cycle: every unit on it is refused, naming the loop.
          const loop = chain.slice(seen).map((c) => c.code);
          for (const c of chain.slice(seen)) {
            refuse(c.row, { field: 'parentCode', code: 'CYCLE', params: { value: c.parentCode!, cycle: loop } });
            bad.add(c.code);
          }
          chain.length = seen;
          break;
        }
        onChain.set(cur.code, chain.length);
        chain.push(cur);
        const parentCode = cur.parentCode!;
        const parent = known.get(parentCode);
        if (parent) {
          if (!pathInScope(this.p, parent.path)) {
            refuse(cur.row, { field: 'parentCode', code: 'PARENT_OUT_OF_SCOPE', params: { value: parentCode } });
            bad.add(cur.code);
            chain.pop();
          } else root = { depth: parent.depth, timeZone: parent.time_zone, id: parent.id };
          break;
        }
        const next = fresh.get(parentCode);
        if (!next) {
          if (bad.has(parentCode)) break;
          refuse(cur.row, { field: 'parentCode', code: 'PARENT_UNKNOWN', params: { value: parentCode } });
          bad.add(cur.code);
          chain.pop();
          break;
        }
        cur = next;
      }
      // Back down the chain: each unit is ready when its parent is, refused when its parent was.
      for (let i = chain.length - 1; i >= 0; i--) {
        const x = chain[i]!;
        if (ready.has(x.code) || bad.has(x.code)) continue;
        const parent = known.get(x.parentCode!) ? root : ready.get(x.parentCode!);
        if (!parent) {
          refuse(x.row, { field: 'parentCode', code: 'PARENT_REFUSED', params: { value: x.parentCode! } });
          bad.add(x.code);
          continue;
        }
        ready.set(x.code, {
          ...x,
          kind: x.kind!,
          depth: parent.depth + 1,
          timeZone: x.timeZone ?? parent.timeZone,
          ...(known.get(x.parentCode!) && { parentId: root!.id }),
        });
      }
    };
    for (const x of fresh.values()) resolve(x);

    const result = { created: ready.size, updated: updates.length, unchanged, problems };
    if (!write) return result;

    const now = new Date().toISOString();
    const entries: Parameters<typeof recordAuditRows>[2] = [];
    for (const u of updates) {
      await trx
        .updateTable('org_unit')
        .set({ ...u.patch, version: u.before.version + 1, updated_at: now })
        .where('id', '=', u.before.id)
        .execute();
      const before = {
        code: u.before.code,
        name: u.before.name,
        kindCode: u.before.kind_code,
        timeZone: u.before.time_zone,
      };
      const after = {
        ...before,
        ...(u.patch.name !== undefined && { name: u.patch.name }),
        ...(u.patch.kind_code !== undefined && { kindCode: u.patch.kind_code }),
        ...(u.patch.time_zone !== undefined && { timeZone: u.patch.time_zone }),
        importId: audit.importId,
        row: u.row.row,
      };
      entries.push({
        action: 'update',
        entity: 'org_unit',
        entityId: u.before.id,
        orgUnitId: u.before.id,
        before,
        after,
      });
    }
    // New units a level at a time: each level's parents are written (and their ids known) before it.
    const byDepth = new Map<number, NewUnit[]>();
    for (const x of ready.values()) (byDepth.get(x.depth) ?? byDepth.set(x.depth, []).get(x.depth)!).push(x);
    const ids = new Map<string, { id: number; path: string }>();
    for (const depth of [...byDepth.keys()].sort((a, b) => a - b)) {
      const level = byDepth.get(depth)!;
      for (const part of slices(level, 200)) {
        const inserted = await trx
          .insertInto('org_unit')
          .values(
            part.map((x) => ({
              parent_id: x.parentId ?? ids.get(x.parentCode!)!.id,
              kind_code: x.kind,
              code: x.code,
              name: x.name,
              time_zone: x.timeZone,
              path: 'pending',
              depth,
              created_at: now,
              updated_at: now,
            })),
          )
          .returning(['id', 'code'])
          .execute();
        const idOf = new Map(inserted.map((r) => [r.code, Number(r.id)]));
        const paths = part.map((x) => {
          const id = idOf.get(x.code)!;
          const parentPath = known.get(x.parentCode!)?.path ?? ids.get(x.parentCode!)!.path;
          const path = childPath(parentPath, id);
          ids.set(x.code, { id, path });
          return { id, path };
        });
        // One statement for the part's paths: path = CASE id WHEN … THEN … END.
        const cases = sql.join(
          paths.map((x) => sql`when ${x.id} then ${x.path}`),
          sql` `,
        );
        await sql`update org_unit set path = case id ${cases} end where id in (${sql.join(paths.map((x) => x.id))})`.execute(
          trx,
        );
        for (const x of part) {
          const { id } = ids.get(x.code)!;
          entries.push({
            action: 'create',
            entity: 'org_unit',
            entityId: id,
            orgUnitId: id,
            after: {
              code: x.code,
              name: x.name,
              kindCode: x.kind,
              timeZone: x.timeZone,
              parentCode: x.parentCode,
              importId: audit.importId,
              row: x.row,
            },
          });
        }
      }
    }
    await recordAuditRows(trx, audit.actor, entries);
    return result;
  }
}
