// Customer archive rows from an import: each row is matched against the archive by plate, phone or
// card (normalised), then creates a customer, fills in the one it matches, or is flagged when it
// matches several customers or one the importer may not touch. Works a chunk of rows at a time.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { pathInCustomerScope } from '../../auth/scope.js';
import type { Principal } from '../../auth/principal.js';
import { AppError } from '../../errors.js';
import { customersQueries } from '../customers/customers.queries.js';
import { CUSTOMER_KINDS, columnsOf, normaliseChildren, type CustomerFields, type CustomerKind, type CustomersService, type Normalised } from '../customers/customers.service.js';

export interface RowProblem {
  row: number;
  severity: 'error' | 'flag';
  field: string | null;
  message: string;
}

export interface ChunkResult {
  created: number[];
  updated: number[];
  problems: RowProblem[];
}

export interface CustomerRow {
  rowNumber: number;
  value: Record<string, unknown>;
}

const TEXT_FIELDS = ['name', 'surname', 'organisation', 'routes', 'products', 'fuelUse', 'settlementMethod', 'invoiceType', 'demandVolume', 'equipment', 'birthday', 'otherStations', 'whyUs', 'notes'] as const;
const KIND_WORDS: Record<string, CustomerKind> = { 个人: 'individual', 个人客户: 'individual', 单位: 'organisation', 单位客户: 'organisation', 企业: 'organisation', 民用: 'residential', 居民: 'residential', 商用: 'commercial', 工商户: 'commercial' };

function str(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = (v instanceof Date ? v.toISOString().slice(0, 10) : String(v)).trim();
  return s === '' ? null : s;
}

/** A converted import row as customer fields; throws AppError naming the field when it cannot be. */
export function fieldsOfRow(value: Record<string, unknown>): CustomerFields & { kind: CustomerKind } {
  const kindText = str(value.kind);
  const kind = kindText === null ? 'individual' : ((CUSTOMER_KINDS as readonly string[]).includes(kindText) ? (kindText as CustomerKind) : KIND_WORDS[kindText]);
  if (!kind) throw new AppError('VALIDATION_FAILED', `unknown customer kind ${JSON.stringify(kindText)}`, 'kind');
  const f: CustomerFields & { kind: CustomerKind } = { kind };
  for (const k of TEXT_FIELDS) {
    const v = str(value[k]);
    if (v !== null) (f as unknown as Record<string, unknown>)[k] = v;
  }
  if (f.birthday && !/^\d{4}-\d{2}-\d{2}$/.test(f.birthday)) throw new AppError('VALIDATION_FAILED', `birthday ${JSON.stringify(f.birthday)} is not a date`, 'birthday');
  const phones = [value.phone, value.phone2].map(str).filter((x): x is string => x !== null);
  if (phones.length) f.phones = phones.map((phone) => ({ phone, contactName: str(value.contactName) }));
  const plate = str(value.plate);
  if (plate) f.vehicles = [{ plate, model: str(value.model) }];
  const card = str(value.cardNo);
  if (card) f.cards = [card];
  const tags = value.tags;
  if (Array.isArray(tags)) f.tags = tags.map(String);
  else if (str(tags)) f.tags = str(tags)!.split(/[,，;；、\s]+/).filter(Boolean);
  return f;
}

/** `body.phones.0.phone` → `phone`: the import's own field name for an error from the archive's rules. */
function importField(field: string | undefined): string | null {
  if (!field) return null;
  if (field.includes('phones')) return 'phone';
  if (field.includes('vehicles')) return 'plate';
  if (field.includes('cards')) return 'cardNo';
  return field.replace(/^body\./, '');
}

interface Prepared {
  row: number;
  fields: CustomerFields & { kind: CustomerKind };
  n: Partial<Normalised>;
}

export class CustomerRowImporter {
  constructor(
    private readonly customers: CustomersService,
    private readonly p: Principal,
  ) {}

  /** Parse and normalise, collecting each row's problems instead of stopping. */
  prepare(rows: CustomerRow[], problems: RowProblem[]): Prepared[] {
    const out: Prepared[] = [];
    for (const r of rows) {
      try {
        const fields = fieldsOfRow(r.value);
        const n = normaliseChildren(fields);
        if (!fields.name && !fields.organisation && !n.vehicles?.length && !n.phones?.length && !n.cards?.length) throw new AppError('VALIDATION_FAILED', 'a row needs at least a name, plate, phone or card', 'name');
        out.push({ row: r.rowNumber, fields, n });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        problems.push({ row: r.rowNumber, severity: 'error', field: importField(err.field), message: err.message });
      }
    }
    return out;
  }

  /**
   * Apply one chunk inside the caller's transaction. With `write` false nothing is written and the
   * result says what would happen (the dry run).
   */
  async apply(trx: Kysely<Database>, orgUnitId: number, rows: CustomerRow[], write: boolean): Promise<ChunkResult> {
    const problems: RowProblem[] = [];
    const prepared = this.prepare(rows, problems);
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
    const ids = [...new Set(holders.map((h) => h.customerId))];
    const info = new Map<number, { code: string; path: string }>();
    if (ids.length) for (const r of await trx.selectFrom('customer as c').innerJoin('org_unit as o', 'o.id', 'c.org_unit_id').select(['c.id', 'c.code', 'o.path']).where('c.id', 'in', ids).execute()) info.set(r.id, r);

    const created: number[] = [];
    const updated: number[] = [];
    let fakeId = -1;
    for (const x of prepared) {
      const keys = [...(x.n.vehicles ?? []).map((v) => `plate:${v.plate}`), ...(x.n.phones ?? []).map((v) => `phone:${v.phone}`), ...(x.n.cards ?? []).map((c) => `card:${c}`)];
      const matches = new Set<number>();
      for (const k of keys) byKey.get(k)?.forEach((id) => matches.add(id));
      if (keys.length === 0 && x.fields.name) {
        // No key to match on: the same name in the same unit is the same customer (re-imports stay single).
        const same = await trx.selectFrom('customer').select('id').where('org_unit_id', '=', orgUnitId).where('name', '=', x.fields.name).where('merged_into_id', 'is', null).limit(2).execute();
        if (same.length === 1) matches.add(same[0]!.id);
      }
      if (matches.size > 1) {
        const codes = [...matches].map((id) => info.get(id)?.code ?? `row ${-id}`).join(', ');
        problems.push({ row: x.row, severity: 'flag', field: null, message: `possible duplicate: matches customers ${codes}; review and merge them first` });
        continue;
      }
      let id: number;
      if (matches.size === 1) {
        id = [...matches][0]!;
        const known = info.get(id);
        // Negative ids are rows of this chunk in a dry run, created by the importer himself.
        if (known && id > 0 && !pathInCustomerScope(this.p, known.path)) {
          problems.push({ row: x.row, severity: 'flag', field: null, message: `on file in another area as ${known.code}; not changed` });
          continue;
        }
        if (write && id > 0) await this.fillIn(trx, id, x);
        if (!updated.includes(id) && !created.includes(id)) updated.push(id);
      } else {
        id = write ? await this.create(trx, orgUnitId, x) : fakeId--;
        created.push(id);
        // Later rows of the chunk with the same plate, phone or card fill in this customer.
        if (!write) info.set(id, { code: `row ${x.row}`, path: '' });
      }
      for (const k of keys) (byKey.get(k) ?? byKey.set(k, new Set()).get(k)!).add(id);
    }
    return { created: created.filter((id) => id > 0 || !write), updated, problems };
  }

  private async create(trx: Kysely<Database>, orgUnitId: number, x: Prepared): Promise<number> {
    const now = new Date().toISOString();
    const code = await this.customers.codeFor(trx, orgUnitId, x.fields.kind);
    const { id } = await trx
      .insertInto('customer')
      .values({ ...(columnsOf(x.fields) as object), kind: x.fields.kind, org_unit_id: orgUnitId, code, created_by: this.p.userId, created_at: now, updated_at: now } as never)
      .returning('id')
      .executeTakeFirstOrThrow();
    await this.customers.writeChildren(trx, id, x.n, false);
    return id;
  }

  /** Fill the fields the archive lacks and add new phones, vehicles, cards and tags; never overwrite. */
  private async fillIn(trx: Kysely<Database>, id: number, x: Prepared): Promise<void> {
    const current = await trx.selectFrom('customer').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const given = columnsOf(x.fields);
    const patch: Record<string, unknown> = {};
    for (const [col, v] of Object.entries(given)) if (v !== null && v !== undefined && (current as Record<string, unknown>)[col] === null) patch[col] = v;
    const existing = await customersQueries.children(trx, [id]);
    const has = (list: { [k: string]: unknown }[], key: string, v: string) => list.some((e) => e[key] === v);
    const n: Partial<Normalised> = {
      phones: (x.n.phones ?? []).filter((ph) => !has(existing.phones, 'phone', ph.phone)),
      vehicles: (x.n.vehicles ?? []).filter((v) => !has(existing.vehicles, 'plate', v.plate)),
      cards: (x.n.cards ?? []).filter((c) => !has(existing.cards, 'card_no', c)),
      tags: (x.n.tags ?? []).filter((t) => !has(existing.tags, 'tag', t)),
    };
    const changed = Object.keys(patch).length > 0 || Object.values(n).some((l) => l && l.length > 0);
    if (!changed) return;
    await trx
      .updateTable('customer')
      .set({ ...patch, version: current.version + 1, updated_at: new Date().toISOString() } as never)
      .where('id', '=', id)
      .execute();
    await this.customers.writeChildren(trx, id, n, false);
  }
}
