import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { isUniqueViolation, serialiseRollupWriters, type Engine } from '../../db/dialect.js';
import { readerOf } from '../../db/replica.js';
import { actorOf, can, type Principal } from '../../auth/principal.js';
import { orgUnitInScope, pathInCustomerScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import { isCalendarDay } from '../../../domain/day-arithmetic.js';
import { parsePlate, plateSearchKey } from '../../../domain/plate.js';
import { maskPhone, parsePhone } from '../../../domain/phone.js';
import { greetingOf, profileOf, type Profile } from '../../../domain/customer-profile.js';
import { DEFAULT_CODE_SCHEME, codePrefix, formatCode, type CodeParts } from '../../../domain/customer-code.js';
import { changeHistory, recordAudit, recordRead } from '../audit/audit.service.js';
import { emitWebhookEvent } from '../webhooks/webhook-events.js';
import { customersQueries, type CustomerFilter, type CustomerRow } from './customers.queries.js';
import {
  exportCells,
  exportFile,
  type ExportCell,
  type ExportCustomer,
  type ExportFile,
  type ExportFormat,
} from './customer-export.js';
import { labelLocale } from '../../../domain/customer-labels.js';
import { attachWaitingRows } from '../transactions/rollups.js';
import { attachWaitingTopups } from '../topups/topups.service.js';
import { checkOwner, recordCreatedOwners, recordOwnerEdit } from '../ownership/ownership.service.js';
import { ownershipQueries } from '../ownership/ownership.queries.js';

const EXPORT_LIMIT = 100_000;
const EXPORT_CHUNK = 500;

export const CUSTOMER_KINDS = ['individual', 'organisation', 'residential', 'commercial'] as const;
export type CustomerKind = (typeof CUSTOMER_KINDS)[number];

export interface CustomerFields {
  kind?: CustomerKind;
  name?: string | null;
  surname?: string | null;
  gender?: 'male' | 'female' | null;
  organisation?: string | null;
  parentId?: number | null;
  ownerUserId?: number | null;
  routes?: string | null;
  products?: string | null;
  fuelUse?: string | null;
  settlementMethod?: string | null;
  invoiceType?: string | null;
  demandVolume?: string | null;
  equipment?: string | null;
  birthday?: string | null;
  /** How the birthday is kept: 'solar', or 'lunar' (month and day of the lunar calendar). */
  birthdayCalendar?: 'solar' | 'lunar';
  otherStations?: string | null;
  whyUs?: string | null;
  satisfaction?: number | null;
  notes?: string | null;
  lookAfter?: boolean;
  phones?: { phone: string; label?: string | null; contactName?: string | null }[];
  vehicles?: { plate: string; model?: string | null }[];
  cards?: string[];
  tags?: string[];
}

export interface CreateCustomer extends CustomerFields {
  kind: CustomerKind;
  orgUnitId?: number;
  /** Create even though a plate or phone is already on file. */
  confirmDuplicate?: boolean;
}

export interface Normalised {
  phones: { phone: string; kind: string; label: string | null; contactName: string | null }[];
  vehicles: { plate: string; kind: string; model: string | null }[];
  cards: string[];
  tags: string[];
}

export interface DuplicateMatch {
  on: 'plate' | 'phone' | 'card';
  value: string;
  customerId: number | null;
  /** Null outside the caller's scope: a guessed phone, plate or card must not reveal whose it is. */
  code: string | null;
  name: string | null;
  inScope: boolean;
  /** The unit holding the record: enough to ask for access (the org chart is not the secret). */
  orgUnitId: number;
  orgUnitName: string;
}

function holderOf(d: DuplicateMatch): string {
  return d.inScope ? `customer ${d.code}` : `a customer of ${d.orgUnitName}`;
}

const FIELD_COLUMNS = {
  kind: 'kind',
  name: 'name',
  surname: 'surname',
  gender: 'gender',
  organisation: 'organisation',
  parentId: 'parent_id',
  ownerUserId: 'owner_user_id',
  routes: 'routes',
  products: 'products',
  fuelUse: 'fuel_use',
  settlementMethod: 'settlement_method',
  invoiceType: 'invoice_type',
  demandVolume: 'demand_volume',
  equipment: 'equipment',
  birthday: 'birthday',
  birthdayCalendar: 'birthday_calendar',
  otherStations: 'other_stations',
  whyUs: 'why_us',
  satisfaction: 'satisfaction',
  notes: 'notes',
} as const;

/** A solar birthday is a day of the calendar; a lunar one a lunar month (1–12) and day (1–30), so 02-30 may be one. */
function checkBirthday(birthday: string | null | undefined, calendar: 'solar' | 'lunar'): void {
  if (!birthday) return;
  const ok =
    calendar === 'lunar' ? /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|30)$/.test(birthday) : isCalendarDay(birthday);
  if (!ok)
    throw new AppError(
      'VALIDATION_FAILED',
      calendar === 'lunar' ? `${birthday} is no lunar month and day` : `${birthday} is no day of the calendar`,
      'body.birthday',
    );
}

export function columnsOf(f: CustomerFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(FIELD_COLUMNS)) {
    const v = (f as Record<string, unknown>)[key];
    if (v !== undefined) out[column] = typeof v === 'string' ? v.trim() || null : v;
  }
  if (f.lookAfter !== undefined) out.look_after = f.lookAfter ? 1 : 0;
  return out;
}

/** Parse and normalise plates, phones and cards, naming the field and index of anything wrong. */
export function normaliseChildren(f: CustomerFields): Partial<Normalised> {
  const out: Partial<Normalised> = {};
  if (f.phones) {
    out.phones = f.phones.map((x, i) => {
      const parsed = parsePhone(x.phone);
      if (!parsed.ok)
        throw new AppError(
          'VALIDATION_FAILED',
          `phone ${JSON.stringify(x.phone)}: ${parsed.reason}`,
          `body.phones.${i}.phone`,
        );
      return { phone: parsed.national, kind: parsed.kind, label: x.label ?? null, contactName: x.contactName ?? null };
    });
  }
  if (f.vehicles) {
    out.vehicles = f.vehicles.map((x, i) => {
      const parsed = parsePlate(x.plate);
      if (!parsed.ok)
        throw new AppError(
          'VALIDATION_FAILED',
          `plate ${JSON.stringify(x.plate)}: ${parsed.reason}`,
          `body.vehicles.${i}.plate`,
        );
      return { plate: parsed.plate, kind: parsed.kind, model: x.model?.trim() || null };
    });
  }
  if (f.cards) {
    out.cards = f.cards.map((c, i) => {
      const card = c.replace(/[\s-]/g, '');
      if (!/^[0-9A-Za-z]{6,32}$/.test(card))
        throw new AppError(
          'VALIDATION_FAILED',
          `card number ${JSON.stringify(c)} must be 6–32 letters or digits`,
          `body.cards.${i}`,
        );
      return card.toUpperCase();
    });
  }
  if (f.tags) out.tags = [...new Set(f.tags.map((t) => t.trim()).filter(Boolean))];
  return out;
}

export class CustomersService {
  /** Where exports read (the read replica when DATABASE_READ_URL is set); everything else reads the primary. */
  private readonly read: Kysely<Database>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
  ) {
    this.read = readerOf(db);
  }

  // ---- reading -------------------------------------------------------------------------------

  private async loadInScope(p: Principal, id: number): Promise<CustomerRow & { path: string }> {
    const row = await this.db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .selectAll('c')
      .select('o.path')
      .where('c.id', '=', id)
      .executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', `customer ${id} not found`);
    if (!pathInCustomerScope(p, row.path))
      throw new AppError('SCOPE_DENIED', `customer ${id} belongs to another area; request access first`);
    return row;
  }

  private phoneOut(p: Principal, phone: string): string {
    return can(p, 'customer.phone') ? phone : maskPhone(phone);
  }

  async summaries(p: Principal, rows: CustomerRow[]) {
    const ids = rows.map((r) => r.id);
    const { phones, vehicles, tags } = await customersQueries.children(this.db, ids);
    const names = await this.namesFor(rows);
    return rows.map((r) => {
      const v = vehicles.filter((x) => x.customer_id === r.id);
      const ph = phones.filter((x) => x.customer_id === r.id);
      return {
        id: r.id,
        code: r.code,
        kind: r.kind,
        name: r.name,
        surname: r.surname,
        organisation: r.organisation,
        orgUnitId: r.org_unit_id,
        orgUnitName: names.units.get(r.org_unit_id) ?? '',
        ownerUserId: r.owner_user_id,
        ownerName: r.owner_user_id ? (names.users.get(r.owner_user_id) ?? null) : null,
        plates: v.map((x) => x.plate),
        phones: ph.map((x) => this.phoneOut(p, x.phone)),
        tags: tags.filter((x) => x.customer_id === r.id).map((x) => x.tag),
        profileStep: this.profile(
          r,
          v.length,
          v.some((x) => x.model),
          ph.length,
        ).step,
        lookAfter: r.look_after === 1,
        lastVisitAt: r.last_visit_at,
        version: r.version,
      };
    });
  }

  private async namesFor(rows: CustomerRow[], db: Kysely<Database> = this.db) {
    const unitIds = [...new Set(rows.map((r) => r.org_unit_id))];
    const userIds = [...new Set(rows.map((r) => r.owner_user_id).filter((x): x is number => x !== null))];
    const units = unitIds.length
      ? await db.selectFrom('org_unit').select(['id', 'name', 'time_zone']).where('id', 'in', unitIds).execute()
      : [];
    const users = userIds.length
      ? await db.selectFrom('app_user').select(['id', 'display_name']).where('id', 'in', userIds).execute()
      : [];
    return {
      units: new Map(units.map((u) => [u.id, u.name])),
      zones: new Map(units.map((u) => [u.id, u.time_zone])),
      users: new Map(users.map((u) => [u.id, u.display_name])),
    };
  }

  profile(r: CustomerRow, vehicleCount: number, hasModel: boolean, phoneCount: number): Profile {
    return profileOf({
      kind: r.kind as CustomerKind,
      hasVehicle: vehicleCount > 0,
      hasVehicleModel: hasModel,
      name: r.name,
      surname: r.surname,
      organisation: r.organisation,
      phoneCount,
      products: r.products,
      routes: r.routes,
    });
  }

  filterFrom(f: CustomerFilter) {
    const extra: { normalizedPlate?: string; normalizedPhone?: string; qPlate?: string; qPhone?: string } = {};
    if (f.plate) extra.normalizedPlate = plateSearchKey(f.plate);
    if (f.phone) {
      const parsed = parsePhone(f.phone);
      if (!parsed.ok) throw new AppError('VALIDATION_FAILED', parsed.reason, 'querystring.phone');
      extra.normalizedPhone = parsed.national;
    }
    if (f.q) {
      const phone = parsePhone(f.q);
      if (phone.ok) extra.qPhone = phone.national;
      const key = plateSearchKey(f.q);
      if (key.length >= 2 && /^[0-9A-Z\u4e00-\u9fff]+$/.test(key)) extra.qPlate = key;
    }
    return { ...f, ...extra };
  }

  async search(p: Principal, f: CustomerFilter) {
    const { total, totalIsLowerBound, rows } = await customersQueries.search(
      this.db,
      this.engine,
      p,
      this.filterFrom(f),
    );
    return { total, totalIsLowerBound, items: await this.summaries(p, rows) };
  }

  /**
   * The matching customers as a spreadsheet in the reader's language; exporting is a separate
   * permission and is audited. The reader's scope and phone right apply as on screen.
   */
  async export(
    p: Principal,
    ip: string | null,
    filter: Omit<CustomerFilter, 'page' | 'pageSize'>,
    format: ExportFormat,
  ): Promise<ExportFile> {
    const locale = labelLocale(p.locale);
    const lines: ExportCell[][] = [];
    const ids = await customersQueries.matchingIds(
      this.read,
      this.engine,
      p,
      this.filterFrom({ ...filter, page: 1, pageSize: 1 }),
      EXPORT_LIMIT,
    );
    // The rows and their children are read a chunk at a time, so no one query holds the whole export.
    for (let i = 0; i < ids.length; i += EXPORT_CHUNK) {
      const rows = await customersQueries.byIds(this.read, ids.slice(i, i + EXPORT_CHUNK));
      for (const c of await this.exportDetails(p, rows)) lines.push(exportCells(c, locale));
    }
    // Recorded at the exporter's unit, so the auditors over that unit see it, not only the top level.
    await recordAudit(this.db, actorOf(p, ip), {
      action: 'export',
      entity: 'customer',
      orgUnitId: p.orgUnitId,
      after: { filter, format, locale, rows: lines.length },
    });
    return exportFile(format, locale, lines);
  }

  private async exportDetails(p: Principal, rows: CustomerRow[]): Promise<ExportCustomer[]> {
    const ids = rows.map((r) => r.id);
    const [{ phones, vehicles, cards, tags }, names, ratings] = await Promise.all([
      customersQueries.children(this.read, ids),
      this.namesFor(rows, this.read),
      customersQueries.latestFinalRatings(this.read, ids),
    ]);
    const byCustomer = <T extends { customer_id: number }>(items: T[]) => {
      const m = new Map<number, T[]>();
      for (const x of items) m.set(x.customer_id, [...(m.get(x.customer_id) ?? []), x]);
      return m;
    };
    const [ph, ve, ca, ta] = [byCustomer(phones), byCustomer(vehicles), byCustomer(cards), byCustomer(tags)];
    return rows.map((r) => {
      const v = ve.get(r.id) ?? [];
      const myPhones = ph.get(r.id) ?? [];
      return {
        row: r,
        orgUnitName: names.units.get(r.org_unit_id) ?? '',
        timeZone: names.zones.get(r.org_unit_id) ?? 'Asia/Shanghai',
        ownerName: r.owner_user_id ? (names.users.get(r.owner_user_id) ?? null) : null,
        phones: myPhones.map((x) => ({
          phone: this.phoneOut(p, x.phone),
          contactName: x.contact_name,
          label: x.label,
        })),
        vehicles: v.map((x) => ({ plate: x.plate, model: x.model })),
        cards: (ca.get(r.id) ?? []).map((x) => ({ cardNo: x.card_no, status: x.status })),
        tags: (ta.get(r.id) ?? []).map((x) => x.tag),
        profileStep: this.profile(
          r,
          v.length,
          v.some((x) => x.model),
          myPhones.length,
        ).step,
        rating: ratings.get(r.id) ?? null,
      };
    });
  }

  /** The full record. Every full read is audited: the archive is a trade secret. */
  async get(p: Principal, id: number, ip: string | null) {
    const r = await this.loadInScope(p, id);
    const { phones, vehicles, cards, tags } = await customersQueries.children(this.db, [id]);
    const names = await this.namesFor([r]);
    const visits = await customersQueries.visits(this.db, id, 50);
    const merges = await this.db
      .selectFrom('customer_merge')
      .selectAll()
      .where('survivor_id', '=', id)
      .orderBy('id', 'desc')
      .execute();
    // The history timeline: every change to the record, newest first (reads are left out).
    const history = await changeHistory(this.db, 'customer', id);
    await recordRead(this.db, actorOf(p, ip), 'customer', id, r.org_unit_id);
    const profile = this.profile(
      r,
      vehicles.length,
      vehicles.some((v) => v.model),
      phones.length,
    );
    return {
      id: r.id,
      code: r.code,
      kind: r.kind,
      name: r.name,
      surname: r.surname,
      gender: r.gender,
      organisation: r.organisation,
      parentId: r.parent_id,
      orgUnitId: r.org_unit_id,
      orgUnitName: names.units.get(r.org_unit_id) ?? '',
      ownerUserId: r.owner_user_id,
      ownerName: r.owner_user_id ? (names.users.get(r.owner_user_id) ?? null) : null,
      routes: r.routes,
      products: r.products,
      fuelUse: r.fuel_use,
      settlementMethod: r.settlement_method,
      invoiceType: r.invoice_type,
      demandVolume: r.demand_volume,
      equipment: r.equipment,
      birthday: r.birthday,
      birthdayCalendar: r.birthday_calendar === 'lunar' ? ('lunar' as const) : ('solar' as const),
      otherStations: r.other_stations,
      whyUs: r.why_us,
      satisfaction: r.satisfaction,
      notes: r.notes,
      lookAfter: r.look_after === 1,
      mergedIntoId: r.merged_into_id,
      lastVisitAt: r.last_visit_at,
      greeting: greetingOf(r.surname, r.name, r.gender),
      profileStep: profile.step,
      nextQuestion: profile.next,
      phones: phones.map((x) => ({
        id: x.id,
        phone: this.phoneOut(p, x.phone),
        kind: x.kind,
        label: x.label,
        contactName: x.contact_name,
      })),
      vehicles: vehicles.map((x) => ({ id: x.id, plate: x.plate, plateKind: x.plate_kind, model: x.model })),
      cards: cards.map((x) => ({ id: x.id, cardNo: x.card_no, status: x.status })),
      tags: tags.map((x) => x.tag),
      visits: visits.map((v) => ({
        id: v.id,
        at: v.at,
        product: v.product,
        volumeLitres: v.volume_ml === null ? null : v.volume_ml / 1000,
        note: v.note,
        userName: v.user_name,
        orgUnitName: v.org_unit_name,
        plate: v.plate,
      })),
      merges: merges.map((m) => ({ id: m.id, mergedId: m.merged_id, at: m.at, undoneAt: m.undone_at })),
      history,
      version: r.version,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  // ---- duplicates ----------------------------------------------------------------------------

  async findDuplicates(p: Principal, n: Partial<Normalised>, exceptId?: number): Promise<DuplicateMatch[]> {
    const holders = await customersQueries.holders(
      this.db,
      (n.vehicles ?? []).map((v) => v.plate),
      (n.phones ?? []).map((x) => x.phone),
      n.cards ?? [],
      exceptId,
    );
    if (holders.length === 0) return [];
    const ids = [...new Set(holders.map((h) => h.customerId))];
    const rows = await this.db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .select(['c.id', 'c.code', 'c.name', 'o.path', 'o.id as unit_id', 'o.name as unit_name'])
      .where('c.id', 'in', ids)
      .execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    return holders.map((h) => {
      const r = byId.get(h.customerId)!;
      const inScope = pathInCustomerScope(p, r.path);
      // Out of scope we say only that a record exists and which unit holds it: enough to ask for access.
      return {
        on: h.on,
        value: h.on === 'phone' ? this.phoneOut(p, h.value) : h.value,
        customerId: inScope ? r.id : null,
        code: inScope ? r.code : null,
        name: inScope ? r.name : null,
        inScope,
        orgUnitId: r.unit_id,
        orgUnitName: r.unit_name,
      };
    });
  }

  async duplicateReview(p: Principal) {
    const groups = await customersQueries.duplicateGroups(this.db, p, 100);
    const out: {
      on: 'plate' | 'phone';
      value: string;
      customers: Awaited<ReturnType<CustomersService['summaries']>>;
    }[] = [];
    for (const [on, values] of [
      ['plate', groups.plates],
      ['phone', groups.phones],
    ] as const) {
      for (const value of values) {
        const holders = await customersQueries.holders(
          this.db,
          on === 'plate' ? [value] : [],
          on === 'phone' ? [value] : [],
          [],
        );
        const rows = await this.db
          .selectFrom('customer as c')
          .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
          .selectAll('c')
          .select('o.path')
          .where('c.id', 'in', [...new Set(holders.map((h) => h.customerId))])
          .orderBy('c.id')
          .execute();
        // Holders are looked up company-wide; only those the user may read are shown.
        const visible = rows.filter((r) => pathInCustomerScope(p, r.path));
        out.push({
          on,
          value: on === 'phone' ? this.phoneOut(p, value) : value,
          customers: await this.summaries(p, visible),
        });
      }
    }
    return out;
  }

  // ---- writing -------------------------------------------------------------------------------

  /** The next customer code for a new customer of `orgUnitId`, by the numbering scheme in force. */
  async codeFor(trx: Kysely<Database>, orgUnitId: number, kind: string): Promise<string> {
    return (await this.codesFor(trx, orgUnitId, kind, 1))[0]!;
  }

  /** `count` consecutive codes for new customers of one unit and kind, reserved in one statement. */
  async codesFor(trx: Kysely<Database>, orgUnitId: number, kind: string, count: number): Promise<string[]> {
    if (count === 0) return [];
    const scheme =
      (
        await trx
          .selectFrom('system_state')
          .select('value')
          .where('key', '=', 'customer_code_scheme')
          .executeTakeFirst()
      )?.value ?? DEFAULT_CODE_SCHEME;
    const unit = await trx.selectFrom('org_unit').select('path').where('id', '=', orgUnitId).executeTakeFirstOrThrow();
    const ids = unit.path.split('/').filter(Boolean).map(Number);
    const chain = await trx.selectFrom('org_unit').select(['id', 'kind_code', 'code']).where('id', 'in', ids).execute();
    const codeOf = (k: string) => chain.find((u) => u.kind_code === k)?.code ?? '';
    const parts: CodeParts = {
      branch: codeOf('branch') || codeOf('hq'),
      area: codeOf('area'),
      station: codeOf('station'),
      kind,
    };
    const last = await customersQueries.reserveSequence(trx, codePrefix(scheme, parts), count);
    return Array.from({ length: count }, (_, i) => formatCode(scheme, parts, last - count + 1 + i));
  }

  /** Store phones, vehicles, cards and tags; `replace` drops those not given, else they are added. */
  async writeChildren(
    trx: Kysely<Database>,
    customerId: number,
    n: Partial<Normalised>,
    replace: boolean,
  ): Promise<void> {
    const now = new Date().toISOString();
    if (n.phones) {
      if (replace) await trx.deleteFrom('customer_phone').where('customer_id', '=', customerId).execute();
      if (n.phones.length)
        await trx
          .insertInto('customer_phone')
          .values(
            n.phones.map((x) => ({
              customer_id: customerId,
              phone: x.phone,
              kind: x.kind,
              label: x.label,
              contact_name: x.contactName,
            })),
          )
          .execute();
    }
    if (n.vehicles) {
      const existing = await trx
        .selectFrom('vehicle')
        .select(['id', 'plate'])
        .where('customer_id', '=', customerId)
        .execute();
      const keep = new Set(n.vehicles.map((v) => v.plate));
      // Keep vehicle rows (and the visits that point at them) whose plate stays.
      if (replace) {
        const drop = existing.filter((e) => !keep.has(e.plate)).map((e) => e.id);
        if (drop.length) await trx.deleteFrom('vehicle').where('id', 'in', drop).execute();
      }
      for (const v of n.vehicles) {
        const found = existing.find((e) => e.plate === v.plate);
        if (found) await trx.updateTable('vehicle').set({ model: v.model }).where('id', '=', found.id).execute();
        else
          await trx
            .insertInto('vehicle')
            .values({
              customer_id: customerId,
              plate: v.plate,
              plate_reversed: [...v.plate].reverse().join(''),
              plate_kind: v.kind,
              model: v.model,
              created_at: now,
            })
            .execute();
      }
    }
    if (n.cards) {
      if (replace) await trx.deleteFrom('fuel_card').where('customer_id', '=', customerId).execute();
      if (n.cards.length)
        await trx
          .insertInto('fuel_card')
          .values(n.cards.map((card_no) => ({ customer_id: customerId, card_no, created_at: now })))
          .execute();
    }
    if (n.tags) {
      if (replace) await trx.deleteFrom('customer_tag').where('customer_id', '=', customerId).execute();
      if (n.tags.length)
        await trx
          .insertInto('customer_tag')
          .values(n.tags.map((tag) => ({ customer_id: customerId, tag })))
          .execute();
    }
    // Transactions that were waiting for one of these cards or plates now have their customer.
    if (n.cards?.length || n.vehicles?.length)
      await attachWaitingRows(trx, customerId, {
        cards: n.cards ?? [],
        plates: (n.vehicles ?? []).map((v) => v.plate),
      });
    if (n.cards?.length) await attachWaitingTopups(trx, n.cards);
  }

  private async checkRefs(
    p: Principal,
    f: CustomerFields,
    customer: { kind: string; classCode: string | null } | null,
  ): Promise<void> {
    // An owner works inside the user's own subtree at a level the ownership policy allows for the class.
    if (f.ownerUserId && customer) await checkOwner(this.db, p, customer, f.ownerUserId, 'body.ownerUserId');
    if (f.parentId)
      await this.loadInScope(p, f.parentId).catch(() => {
        throw new AppError(
          'VALIDATION_FAILED',
          `parent customer ${f.parentId} not found in your organisation`,
          'body.parentId',
        );
      });
  }

  /**
   * `opts.inTransaction` runs inside the transaction that stores the customer, after it: a module that
   * creates a customer as part of its own change (a signed prospect) writes that change atomically with it.
   */
  async create(
    p: Principal,
    ip: string | null,
    input: CreateCustomer,
    opts: { inTransaction?: (trx: Kysely<Database>, customerId: number) => Promise<void> } = {},
  ) {
    const orgUnitId = input.orgUnitId ?? p.orgUnitId;
    if (!(await orgUnitInScope(this.db, p, orgUnitId)))
      throw new AppError('SCOPE_DENIED', `org unit ${orgUnitId} is outside your organisation`, 'body.orgUnitId');
    checkBirthday(input.birthday, input.birthdayCalendar ?? 'solar');
    const n = normaliseChildren(input);
    await this.checkRefs(p, input, { kind: input.kind, classCode: null });
    const dups = await this.findDuplicates(p, n);
    const cardDup = dups.find((d) => d.on === 'card');
    if (cardDup)
      throw new AppError(
        'DUPLICATE',
        `card ${cardDup.value} already belongs to ${holderOf(cardDup)}`,
        'body.cards',
        dups,
      );
    if (dups.length > 0 && !input.confirmDuplicate)
      throw new AppError(
        'DUPLICATE_SUSPECTED',
        'a customer with this plate or phone is already on file',
        dups[0]!.on === 'plate' ? 'body.vehicles' : 'body.phones',
        dups,
      );
    const now = new Date().toISOString();
    const ownerUserId = input.ownerUserId === undefined ? p.userId : input.ownerUserId;
    try {
      const id = await this.db.transaction().execute(async (trx) => {
        const code = await this.codeFor(trx, orgUnitId, input.kind);
        const { id } = await trx
          .insertInto('customer')
          .values({
            ...(columnsOf(input) as object),
            kind: input.kind,
            org_unit_id: orgUnitId,
            code,
            // Whoever creates a customer looks after him unless the form names someone else (or nobody).
            owner_user_id: ownerUserId,
            created_by: p.userId,
            created_at: now,
            updated_at: now,
          } as never)
          .returning('id')
          .executeTakeFirstOrThrow();
        await this.writeChildren(trx, id, n, false);
        await recordCreatedOwners(trx, [{ customerId: id, orgUnitId, ownerUserId }], p.userId, now);
        // Record what was stored (normalised), not what was typed.
        await recordAudit(trx, actorOf(p, ip), {
          action: 'create',
          entity: 'customer',
          entityId: id,
          orgUnitId,
          after: { ...input, ...n, code },
        });
        // Identifiers only: a receiver reads the record through the API, within its key's scope.
        await emitWebhookEvent(trx, {
          event: 'customer.created',
          orgUnitId,
          data: { customerId: id, code, kind: input.kind, name: input.name ?? null },
        });
        await opts.inTransaction?.(trx, id);
        return id;
      });
      return this.get(p, id, ip);
    } catch (err) {
      if (isUniqueViolation(err))
        throw new AppError('DUPLICATE', 'a fuel card in this record already belongs to another customer', 'body.cards');
      throw err;
    }
  }

  async update(
    p: Principal,
    ip: string | null,
    id: number,
    patch: CustomerFields & { version: number; orgUnitId?: number },
  ) {
    const before = await this.loadInScope(p, id);
    if (before.merged_into_id)
      throw new AppError('CONFLICT', `customer ${id} was merged into ${before.merged_into_id}`);
    if (patch.orgUnitId !== undefined && !(await orgUnitInScope(this.db, p, patch.orgUnitId)))
      throw new AppError('SCOPE_DENIED', `org unit ${patch.orgUnitId} is outside your organisation`, 'body.orgUnitId');
    checkBirthday(patch.birthday, patch.birthdayCalendar ?? (before.birthday_calendar === 'lunar' ? 'lunar' : 'solar'));
    const n = normaliseChildren(patch);
    const ownerChanges = patch.ownerUserId !== undefined && patch.ownerUserId !== before.owner_user_id;
    const [owned] = ownerChanges ? await ownershipQueries.customers(this.db, [id]) : [];
    await this.checkRefs(p, patch, owned ? { kind: patch.kind ?? owned.kind, classCode: owned.class_code } : null);
    const cardDup = (await this.findDuplicates(p, { cards: n.cards ?? [] }, id)).find((d) => d.on === 'card');
    if (cardDup)
      throw new AppError('DUPLICATE', `card ${cardDup.value} already belongs to ${holderOf(cardDup)}`, 'body.cards');
    const beforeChildren = await customersQueries.children(this.db, [id]);
    await this.db.transaction().execute(async (trx) => {
      // Before the customer row is locked: rollup writers lock in this order (see attachWaitingRows).
      await serialiseRollupWriters(trx);
      const res = await trx
        .updateTable('customer')
        .set({
          ...(columnsOf(patch) as object),
          ...(patch.orgUnitId !== undefined && { org_unit_id: patch.orgUnitId }),
          version: before.version + 1,
          updated_at: new Date().toISOString(),
        } as never)
        .where('id', '=', id)
        .where('version', '=', patch.version)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0)
        throw new AppError(
          'VERSION_CONFLICT',
          'someone else changed this customer; reload to see their change',
          'body.version',
        );
      await this.writeChildren(trx, id, n, true);
      if (ownerChanges)
        await recordOwnerEdit(trx, {
          customerId: id,
          orgUnitId: patch.orgUnitId ?? before.org_unit_id,
          from: before.owner_user_id,
          to: patch.ownerUserId ?? null,
          changedBy: p.userId,
          at: new Date().toISOString(),
        });
      await recordAudit(trx, actorOf(p, ip), {
        action: 'update',
        entity: 'customer',
        entityId: id,
        orgUnitId: patch.orgUnitId ?? before.org_unit_id,
        before: { ...before, path: undefined, ...beforeChildren },
        after: { ...patch, ...n },
      });
    });
    return this.get(p, id, ip);
  }
}
