// Customer archive rows from an import: each row is matched against the archive by plate, phone or
// card (normalised), then creates a customer, fills in the one it matches, or is flagged when it
// matches several customers or one the importer may not touch. Works a chunk of rows at a time.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { pathInCustomerScope, pathInScope } from '../../auth/scope.js';
import type { Principal } from '../../auth/principal.js';
import { AppError } from '../../errors.js';
import type { FieldError } from './parse/convert.js';
import { encodeProblem } from './problems.js';
import { customersQueries } from '../customers/customers.queries.js';
import { attachWaitingRows } from '../transactions/rollups.js';
import { serialiseRollupWriters } from '../../db/dialect.js';
import { attachWaitingTopups } from '../topups/topups.service.js';
import { recordCreatedOwners, recordOwnerEdit } from '../ownership/ownership.service.js';
import {
  CUSTOMER_KINDS,
  columnsOf,
  normaliseChildren,
  type CustomerFields,
  type CustomerKind,
  type CustomersService,
  type Normalised,
} from '../customers/customers.service.js';

export interface RowProblem {
  row: number;
  severity: 'error' | 'flag';
  field: string | null;
  /** encodeProblem's text (a code and its parameters), worded when read; older rows hold English. */
  message: string;
}

export interface ChunkResult {
  created: number[];
  /** Customers on file that the chunk fills in (or, in a dry run, would). */
  updated: number[];
  /** Rows that matched a customer on file and bring nothing it lacks. */
  unchanged: number;
  /** Customers on file the chunk fills in that no earlier chunk of the pass had (the figure the job counts). */
  newlyUpdated: number;
  problems: RowProblem[];
}

/** Ids below this stand for customers a dry run's earlier chunks would have created. */
const VIRTUAL_BASE = 1_000_000_000;

export interface CustomerRow {
  rowNumber: number;
  value: Record<string, unknown>;
}

const TEXT_FIELDS = [
  'name',
  'surname',
  'organisation',
  'routes',
  'products',
  'fuelUse',
  'settlementMethod',
  'invoiceType',
  'demandVolume',
  'equipment',
  'birthday',
  'otherStations',
  'whyUs',
  'notes',
] as const;
const KIND_WORDS: Record<string, CustomerKind> = {
  个人: 'individual',
  个人客户: 'individual',
  单位: 'organisation',
  单位客户: 'organisation',
  企业: 'organisation',
  民用: 'residential',
  居民: 'residential',
  商用: 'commercial',
  工商户: 'commercial',
};

function str(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = (v instanceof Date ? v.toISOString().slice(0, 10) : String(v)).trim();
  return s === '' ? null : s;
}

/** A row's fields with every problem found in them (not only the first), each naming its field. */
export interface CheckedRow {
  fields: CustomerFields & { kind: CustomerKind };
  n: Partial<Normalised>;
  errors: FieldError[];
}

/**
 * A converted import row as customer fields, each field checked on its own so a row with a bad
 * phone, a bad plate and a bad birthday is reported for all three. Fields in `skip` already have a
 * problem from the conversion and are left out.
 */
export function checkRow(value: Record<string, unknown>, skip: ReadonlySet<string> = new Set()): CheckedRow {
  const errors: FieldError[] = [];
  const kindText = str(value.kind);
  let kind: CustomerKind | undefined =
    kindText === null
      ? 'individual'
      : (CUSTOMER_KINDS as readonly string[]).includes(kindText)
        ? (kindText as CustomerKind)
        : KIND_WORDS[kindText];
  if (!kind) {
    errors.push({ field: 'kind', code: 'UNKNOWN_KIND', params: { value: kindText ?? '' } });
    kind = 'individual';
  }
  const f: CustomerFields & { kind: CustomerKind } = { kind };
  for (const k of TEXT_FIELDS) {
    const v = skip.has(k) ? null : str(value[k]);
    if (v !== null) (f as unknown as Record<string, unknown>)[k] = v;
  }
  if (f.birthday && !/^\d{4}-\d{2}-\d{2}$/.test(f.birthday)) {
    errors.push({ field: 'birthday', code: 'NOT_DATE', params: { value: f.birthday } });
    delete f.birthday;
  }
  const n: Partial<Normalised> = {};
  const contactName = str(value.contactName);
  for (const field of ['phone', 'phone2'] as const) {
    const phone = skip.has(field) ? null : str(value[field]);
    if (phone === null) continue;
    try {
      const one = normaliseChildren({ phones: [{ phone, contactName }] });
      (n.phones ??= []).push(...one.phones!);
      (f.phones ??= []).push({ phone, contactName });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      errors.push({ field, code: 'BAD_PHONE', params: { value: phone } });
    }
  }
  const plate = skip.has('plate') ? null : str(value.plate);
  if (plate) {
    try {
      f.vehicles = [{ plate, model: str(value.model) }];
      n.vehicles = normaliseChildren({ vehicles: f.vehicles }).vehicles;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      delete f.vehicles;
      errors.push({ field: 'plate', code: 'BAD_PLATE', params: { value: plate } });
    }
  }
  const card = skip.has('cardNo') ? null : str(value.cardNo);
  if (card) {
    try {
      f.cards = [card];
      n.cards = normaliseChildren({ cards: f.cards }).cards;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      delete f.cards;
      errors.push({ field: 'cardNo', code: 'BAD_CARD', params: { value: card } });
    }
  }
  const tags = value.tags;
  if (Array.isArray(tags)) f.tags = tags.map(String);
  else if (str(tags))
    f.tags = str(tags)!
      .split(/[,，;；、\s]+/)
      .filter(Boolean);
  if (f.tags) n.tags = normaliseChildren({ tags: f.tags }).tags;
  const bad = errors.length > 0 || skip.size > 0;
  if (!bad && !f.name && !f.organisation && !n.vehicles?.length && !n.phones?.length && !n.cards?.length) {
    errors.push({ field: 'name', code: 'NEEDS_KEY' });
  }
  return { fields: f, n, errors };
}

interface Prepared {
  row: number;
  fields: CustomerFields & { kind: CustomerKind };
  n: Partial<Normalised>;
}

export class CustomerRowImporter {
  // What the pass's earlier chunks did (or, in a dry run, would have done), so that a customer the
  // file holds twice is counted the same whatever chunks its rows fall in, and a dry run forecasts
  // what the commit does: the second row fills in the customer the first created, not one on file.
  /** Customers the pass created: real ids in a commit, ids below -VIRTUAL_BASE in a dry run. */
  private readonly createdByPass = new Set<number>();
  /** Dry run only: plate/phone/card keys and key-less names of the customers it would have created. */
  private readonly virtualKeys = new Map<string, number>();
  private readonly virtualNames = new Map<string, number>();
  private virtualCount = 0;
  /** Customers on file already counted as filled in. */
  private readonly filled = new Set<number>();
  /** Dry run only: the rows earlier chunks matched with a customer on file, to plan later rows after them. */
  private readonly plannedRows = new Map<number, Prepared[]>();
  private readonly plannedUnchanged = new Map<number, number>();

  constructor(
    private readonly customers: CustomersService,
    private readonly p: Principal,
  ) {}

  /** Parse and normalise, collecting every problem of each row instead of stopping. */
  prepare(rows: CustomerRow[], problems: RowProblem[], owners: ReadonlyMap<string, number> = new Map()): Prepared[] {
    const out: Prepared[] = [];
    for (const r of rows) {
      const { fields, n, errors } = checkRow(r.value);
      // The owner column names a username of an active person in the importer's subtree.
      const owner = str(r.value.owner);
      if (owner !== null) {
        const id = owners.get(owner);
        if (id === undefined) errors.push({ field: 'owner', code: 'UNKNOWN_OWNER', params: { value: owner } });
        else fields.ownerUserId = id;
      }
      if (errors.length === 0) out.push({ row: r.rowNumber, fields, n });
      for (const e of errors) {
        const message = encodeProblem(e.code, e.params);
        problems.push({ row: r.rowNumber, severity: 'error', field: e.field ?? null, message });
      }
    }
    return out;
  }

  /**
   * Apply one chunk inside the caller's transaction. With `write` false nothing is written and the
   * result says what would happen (the dry run). New customers of a chunk are written together:
   * one reservation of codes, one insert per table, so a large archive loads in bulk.
   */
  async apply(trx: Kysely<Database>, orgUnitId: number, rows: CustomerRow[], write: boolean): Promise<ChunkResult> {
    const problems: RowProblem[] = [];
    const prepared = this.prepare(rows, problems, await this.owners(trx, rows));
    const plates = new Set<string>();
    const phones = new Set<string>();
    const cards = new Set<string>();
    for (const x of prepared) {
      x.n.vehicles?.forEach((v) => plates.add(v.plate));
      x.n.phones?.forEach((v) => phones.add(v.phone));
      x.n.cards?.forEach((c) => cards.add(c));
    }
    const holders = await customersQueries.holders(trx, [...plates], [...phones], [...cards]);
    const byKey = new Map<string, Set<number>>();
    const add = (key: string, id: number) => (byKey.get(key) ?? byKey.set(key, new Set()).get(key)!).add(id);
    for (const h of holders) add(`${h.on}:${h.value}`, h.customerId);
    if (!write) {
      for (const x of prepared) {
        for (const k of keysOf(x)) {
          const v = this.virtualKeys.get(k);
          if (v !== undefined) add(k, v);
        }
      }
    }
    const ids = [...new Set(holders.map((h) => h.customerId))];
    const info = new Map<number, { code: string; path: string }>();
    if (ids.length)
      for (const r of await trx
        .selectFrom('customer as c')
        .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
        .select(['c.id', 'c.code', 'o.path'])
        .where('c.id', 'in', ids)
        .execute())
        info.set(r.id, r);

    // Customers this chunk creates, by a negative id until they are written; later rows with the
    // same plate, phone or card fill them in.
    const groups: Prepared[] = [];
    const fills = new Map<number, Prepared[]>();
    for (const x of prepared) {
      const keys = keysOf(x);
      const matches = new Set<number>();
      for (const k of keys) byKey.get(k)?.forEach((id) => matches.add(id));
      if (keys.length === 0 && x.fields.name) {
        // No key to match on: the same name in the same unit is the same customer (re-imports stay single).
        const same = await trx
          .selectFrom('customer')
          .select('id')
          .where('org_unit_id', '=', orgUnitId)
          .where('name', '=', x.fields.name)
          .where('merged_into_id', 'is', null)
          .limit(2)
          .execute();
        if (same.length === 1) matches.add(same[0]!.id);
        const pending = groups.findIndex(
          (g) => g.fields.name === x.fields.name && !g.n.vehicles?.length && !g.n.phones?.length && !g.n.cards?.length,
        );
        if (same.length === 0 && pending >= 0) matches.add(-(pending + 1));
        const virtual = write ? undefined : this.virtualNames.get(x.fields.name);
        if (same.length === 0 && pending < 0 && virtual !== undefined) matches.add(virtual);
      }
      if (matches.size > 1) {
        // A record outside the importer's scope is named by its unit only, never by its code.
        const nameOf = (id: number) => {
          const known = info.get(id);
          if (!known) return `#${id < 0 && id > -VIRTUAL_BASE ? groups[-id - 1]!.row : id < 0 ? '' : id}`;
          return pathInCustomerScope(this.p, known.path) ? known.code : '?';
        };
        const codes = [...matches].map(nameOf);
        problems.push({
          row: x.row,
          severity: 'flag',
          field: null,
          message: encodeProblem('DUPLICATE', { matches: codes }),
        });
        continue;
      }
      let id: number;
      if (matches.size === 1) {
        id = [...matches][0]!;
        const known = info.get(id);
        if (id > 0 && known && !pathInCustomerScope(this.p, known.path)) {
          problems.push({ row: x.row, severity: 'flag', field: null, message: encodeProblem('OTHER_AREA') });
          continue;
        }
        if (id <= -VIRTUAL_BASE) {
          // A customer an earlier chunk of this dry run would have created: the commit fills it in, as created.
          for (const k of keys) {
            this.virtualKeys.set(k, id);
            add(k, id);
          }
          continue;
        }
        if (id < 0) mergeInto(groups[-id - 1]!, x);
        else (fills.get(id) ?? fills.set(id, []).get(id)!).push(x);
      } else {
        groups.push({ ...x, n: { ...x.n } });
        id = -groups.length;
      }
      for (const k of keys) add(k, id);
    }
    // What each match would fill in, worked out the same way in a dry run and a commit.
    const plans: { current: CustomerRecord; plan: FillPlan }[] = [];
    let unchanged = 0;
    if (fills.size) {
      const current = new Map(
        (
          await trx
            .selectFrom('customer')
            .selectAll()
            .where('id', 'in', [...fills.keys()])
            .execute()
        ).map((c) => [c.id, c]),
      );
      const children = await customersQueries.children(trx, [...fills.keys()]);
      for (const [id, xs] of fills) {
        // A dry run plans after the rows its earlier chunks matched with the customer, as the commit
        // finds them written; only this chunk's rows are counted.
        const before = write ? [] : (this.plannedRows.get(id) ?? []);
        const plan = planFill(current.get(id)!, children, [...before, ...xs]);
        const ownUnchanged = plan.unchangedRows - (this.plannedUnchanged.get(id) ?? 0);
        if (!write) {
          this.plannedRows.set(id, [...before, ...xs]);
          this.plannedUnchanged.set(id, plan.unchangedRows);
        }
        // Rows filling in a customer this pass created belong to that new customer, not to the file's fill-ins.
        if (!this.createdByPass.has(id)) unchanged += ownUnchanged;
        if (plan.changed) plans.push({ current: current.get(id)!, plan });
      }
    }
    const updated = plans.map((x) => x.current.id);
    let newlyUpdated = 0;
    for (const id of updated) {
      if (this.createdByPass.has(id) || this.filled.has(id)) continue;
      this.filled.add(id);
      newlyUpdated++;
    }
    if (!write) {
      for (const g of groups) {
        const v = -(VIRTUAL_BASE + ++this.virtualCount);
        for (const k of keysOf(g)) this.virtualKeys.set(k, v);
        if (keysOf(g).length === 0 && g.fields.name) this.virtualNames.set(g.fields.name, v);
      }
      return { created: groups.map((_, i) => -(i + 1)), updated, unchanged, newlyUpdated, problems };
    }
    const created = await this.createAll(trx, orgUnitId, groups);
    for (const id of created) this.createdByPass.add(id);
    for (const x of plans) await this.fillIn(trx, x.current, x.plan);
    return { created, updated, unchanged, newlyUpdated, problems };
  }

  /** The owner column's usernames that name an active person in the importer's own subtree. */
  private async owners(trx: Kysely<Database>, rows: CustomerRow[]): Promise<Map<string, number>> {
    const names = [...new Set(rows.map((r) => str(r.value.owner)).filter((x): x is string => x !== null))];
    const out = new Map<string, number>();
    if (names.length === 0) return out;
    const found = await trx
      .selectFrom('app_user as u')
      .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
      .select(['u.id', 'u.username', 'o.path'])
      .where('u.username', 'in', names)
      .where('u.active', '=', 1)
      .execute();
    for (const u of found) if (pathInScope(this.p, u.path)) out.set(u.username, Number(u.id));
    return out;
  }

  private async createAll(trx: Kysely<Database>, orgUnitId: number, groups: Prepared[]): Promise<number[]> {
    if (groups.length === 0) return [];
    const now = new Date().toISOString();
    const codes = new Map<Prepared, string>();
    for (const kind of new Set(groups.map((g) => g.fields.kind))) {
      const ofKind = groups.filter((g) => g.fields.kind === kind);
      const reserved = await this.customers.codesFor(trx, orgUnitId, kind, ofKind.length);
      ofKind.forEach((g, i) => codes.set(g, reserved[i]!));
    }
    const ids: number[] = [];
    for (const part of slices(groups, 200)) {
      const values = part.map((g) => ({
        ...(columnsOf(g.fields) as object),
        // The owner column's person, else whoever imports: a customer created by a user is his to look after.
        owner_user_id: g.fields.ownerUserId ?? this.p.userId,
        kind: g.fields.kind,
        org_unit_id: orgUnitId,
        code: codes.get(g)!,
        created_by: this.p.userId,
        created_at: now,
        updated_at: now,
      }));
      const out = await trx
        .insertInto('customer')
        .values(values as never)
        .returning(['id', 'code'])
        .execute();
      const byCode = new Map(out.map((r) => [r.code, r.id]));
      for (const g of part) ids.push(byCode.get(codes.get(g)!)!);
    }
    await recordCreatedOwners(
      trx,
      groups.map((g, i) => ({ customerId: ids[i]!, orgUnitId, ownerUserId: g.fields.ownerUserId ?? this.p.userId })),
      this.p.userId,
      now,
    );
    const phones = groups.flatMap((g, i) =>
      (g.n.phones ?? []).map((x) => ({
        customer_id: ids[i]!,
        phone: x.phone,
        kind: x.kind,
        label: x.label,
        contact_name: x.contactName,
      })),
    );
    const vehicles = groups.flatMap((g, i) =>
      (g.n.vehicles ?? []).map((v) => ({
        customer_id: ids[i]!,
        plate: v.plate,
        plate_reversed: [...v.plate].reverse().join(''),
        plate_kind: v.kind,
        model: v.model,
        created_at: now,
      })),
    );
    const cards = groups.flatMap((g, i) =>
      (g.n.cards ?? []).map((card_no) => ({ customer_id: ids[i]!, card_no, created_at: now })),
    );
    const tags = groups.flatMap((g, i) => (g.n.tags ?? []).map((tag) => ({ customer_id: ids[i]!, tag })));
    for (const part of slices(phones, 500)) await trx.insertInto('customer_phone').values(part).execute();
    for (const part of slices(vehicles, 500)) await trx.insertInto('vehicle').values(part).execute();
    for (const part of slices(cards, 500)) await trx.insertInto('fuel_card').values(part).execute();
    for (const part of slices(tags, 500)) await trx.insertInto('customer_tag').values(part).execute();
    // Transactions that were waiting for these cards or plates: usually none, so look once for the chunk,
    // holding off the rollup writers first, so a sale being stored for one of these cards is either
    // seen here or finds its customer itself (as in attachWaitingRows).
    const allCards = cards.map((c) => c.card_no);
    const allPlates = vehicles.map((v) => v.plate);
    await attachWaitingTopups(trx, allCards);
    if (allCards.length + allPlates.length > 0) await serialiseRollupWriters(trx);
    if (await waitingRowsExist(trx, allCards, allPlates)) {
      for (let i = 0; i < groups.length; i++) {
        const g = groups[i]!;
        await attachWaitingRows(trx, ids[i]!, {
          cards: g.n.cards ?? [],
          plates: (g.n.vehicles ?? []).map((v) => v.plate),
        });
      }
    }
    return ids;
  }

  /** Write what planFill found: the fields the archive lacked and the new phones, vehicles, cards, tags. */
  private async fillIn(trx: Kysely<Database>, current: CustomerRecord, plan: FillPlan): Promise<void> {
    await trx
      .updateTable('customer')
      .set({ ...plan.patch, version: current.version + 1, updated_at: new Date().toISOString() } as never)
      .where('id', '=', current.id)
      .execute();
    await this.customers.writeChildren(trx, current.id, plan.n, false);
    // A customer nobody owned gets the owner column's person (never replacing an owner), in the history too.
    if (typeof plan.patch.owner_user_id === 'number')
      await recordOwnerEdit(trx, {
        customerId: current.id,
        orgUnitId: Number(current.org_unit_id),
        from: null,
        to: plan.patch.owner_user_id,
        changedBy: this.p.userId,
        at: new Date().toISOString(),
      });
  }
}

type CustomerRecord = Record<string, unknown> & { id: number; version: number };

interface FillPlan {
  patch: Record<string, unknown>;
  n: Partial<Normalised>;
  changed: boolean;
  /** Rows of the file that bring nothing the customer lacks. */
  unchangedRows: number;
}

/** Fill the fields the archive lacks and add new phones, vehicles, cards and tags; never overwrite. */
function planFill(
  current: CustomerRecord,
  existing: Awaited<ReturnType<typeof customersQueries.children>>,
  xs: Prepared[],
): FillPlan {
  const id = current.id;
  const patch: Record<string, unknown> = {};
  const mine = <T extends { customer_id: number }>(list: T[]) => list.filter((e) => e.customer_id === id);
  const phones = new Set(mine(existing.phones).map((e) => e.phone));
  const plates = new Set(mine(existing.vehicles).map((e) => e.plate));
  const cardNos = new Set(mine(existing.cards).map((e) => e.card_no));
  const tagSet = new Set(mine(existing.tags).map((e) => e.tag));
  const n: Partial<Normalised> = { phones: [], vehicles: [], cards: [], tags: [] };
  let unchangedRows = 0;
  for (const x of xs) {
    let brings = false;
    for (const [col, v] of Object.entries(columnsOf(x.fields))) {
      if (v !== null && v !== undefined && current[col] === null && !(col in patch)) {
        patch[col] = v;
        brings = true;
      }
    }
    for (const ph of x.n.phones ?? [])
      if (!phones.has(ph.phone)) {
        phones.add(ph.phone);
        n.phones!.push(ph);
        brings = true;
      }
    for (const v of x.n.vehicles ?? [])
      if (!plates.has(v.plate)) {
        plates.add(v.plate);
        n.vehicles!.push(v);
        brings = true;
      }
    for (const c of x.n.cards ?? [])
      if (!cardNos.has(c)) {
        cardNos.add(c);
        n.cards!.push(c);
        brings = true;
      }
    for (const t of x.n.tags ?? [])
      if (!tagSet.has(t)) {
        tagSet.add(t);
        n.tags!.push(t);
        brings = true;
      }
    if (!brings) unchangedRows++;
  }
  const changed = Object.keys(patch).length > 0 || Object.values(n).some((l) => l && l.length > 0);
  return { patch, n, changed, unchangedRows };
}

/** A later row of the same new customer: fields it lacks and children it does not have yet. */
function mergeInto(g: Prepared, x: Prepared): void {
  const fields = g.fields as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(x.fields))
    if (v !== undefined && v !== null && fields[k] === undefined) fields[k] = v;
  const union = <T>(a: T[] | undefined, b: T[] | undefined, key: (t: T) => string) => {
    const out = [...(a ?? [])];
    const seen = new Set(out.map(key));
    for (const t of b ?? [])
      if (!seen.has(key(t))) {
        seen.add(key(t));
        out.push(t);
      }
    return out;
  };
  g.n.phones = union(g.n.phones, x.n.phones, (p) => p.phone);
  g.n.vehicles = union(g.n.vehicles, x.n.vehicles, (v) => v.plate);
  g.n.cards = union(g.n.cards, x.n.cards, (c) => c);
  g.n.tags = union(g.n.tags, x.n.tags, (t) => t);
}

/** The plate, phone and card keys a row is matched on. */
function keysOf(x: Prepared): string[] {
  return [
    ...(x.n.vehicles ?? []).map((v) => `plate:${v.plate}`),
    ...(x.n.phones ?? []).map((v) => `phone:${v.phone}`),
    ...(x.n.cards ?? []).map((c) => `card:${c}`),
  ];
}

function slices<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

async function waitingRowsExist(trx: Kysely<Database>, cards: string[], plates: string[]): Promise<boolean> {
  for (const part of slices(cards, 500))
    if (
      await trx
        .selectFrom('fuel_transaction')
        .select('id')
        .where('customer_id', 'is', null)
        .where('card_no', 'in', part)
        .limit(1)
        .executeTakeFirst()
    )
      return true;
  for (const part of slices(plates, 500))
    if (
      await trx
        .selectFrom('fuel_transaction')
        .select('id')
        .where('customer_id', 'is', null)
        .where('plate', 'in', part)
        .limit(1)
        .executeTakeFirst()
    )
      return true;
  return false;
}
