// At the pump: find the customer from a glimpse of the plate, greet him by surname, record the visit.
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Database } from '../../db/schema.js';
import { groupConcat, plateContains, prefixRange, type Engine } from '../../db/dialect.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { inCustomerScope, inScope, pathInCustomerScope, pathInCustomerWriteScope } from '../../auth/scope.js';
import { businessDay, zonedToUtc } from '../../../domain/business-day.js';
import { AppError } from '../../errors.js';
import { parsePlate, plateSearchKey } from '../../../domain/plate.js';
import { greetingOf } from '../../../domain/customer-profile.js';
import { recordAudit } from '../audit/audit.service.js';
import type { CustomersService } from '../customers/customers.service.js';
import { recordPumpFill } from '../transactions/rollups.js';
import { markFollowedUp } from '../ownership/ownership.service.js';
import { ComplaintsService } from '../complaints/complaints.service.js';

export const PRODUCTS = ['92#', '95#', '98#', '0#柴油', '-10#柴油', 'LNG', 'CNG', '尿素'] as const;

const CANDIDATE_CAP = 1500;
/** Up to this many org units in scope, the lookup reads only their plates through (org unit, reversed plate). */
const UNIT_LIST_MAX = 64;

export interface PumpMatch {
  customerId: number;
  vehicleId: number;
  plate: string;
  model: string | null;
  code: string;
  kind: string;
  name: string | null;
  greeting: string | null;
  notes: string | null;
  lookAfter: boolean;
  /** An open complaint of his: "unhappy before — look after him" (cleared when closed after the callback). */
  unhappyBefore: boolean;
  tags: string[];
  profileStep: number;
  nextQuestion: string | null;
  lastVisitAt: string | null;
  lastProduct: string | null;
}

/** Exact plate first, then plates ending with what was typed (what attendants catch), then starting, then containing. */
export function rankOf(plate: string, key: string): number {
  if (plate === key) return 0;
  if (plate.endsWith(key)) return 1;
  if (plate.startsWith(key) || plate.slice(1).startsWith(key)) return 2;
  return 3;
}

export class PumpService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
    private readonly customers: CustomersService,
  ) {}

  /**
   * The customers of the vehicles `vehicles` selects (at most CANDIDATE_CAP of them), most recent
   * visitor first. `units`, when the caller has them, are the org units of the principal's customer
   * scope (as `unitsInScope` reads them): the customers' units are checked against the list instead
   * of the org tree.
   */
  private candidates(
    p: Principal,
    units: number[] | null,
    vehicles: SelectQueryBuilder<Database, 'vehicle', object>,
    limit: number,
  ) {
    // The vehicles' rows are read once, in a derived table, rather than their ids in a subquery and
    // the rows again by id. Cap them: two characters can match 1% of all plates, and the attendant
    // will type a third.
    const picked = vehicles
      .select(['vehicle.id', 'vehicle.customer_id', 'vehicle.plate', 'vehicle.model'])
      .limit(CANDIDATE_CAP)
      .as('v');
    return this.db
      .selectFrom(picked)
      .innerJoin('customer as c', 'c.id', 'v.customer_id')
      .select([
        'v.id as vehicle_id',
        'v.plate',
        'v.model',
        'c.id',
        'c.code',
        'c.kind',
        'c.name',
        'c.surname',
        'c.gender',
        'c.notes',
        'c.look_after',
        'c.last_visit_at',
        'c.organisation',
        'c.products',
        'c.routes',
      ])
      .where('c.merged_into_id', 'is', null)
      .where((eb) =>
        units === null
          ? inCustomerScope(p, eb.ref('c.org_unit_id'))
          : eb('c.org_unit_id', 'in', units.length > 0 ? units : [-1]),
      )
      .orderBy(sql`c.last_visit_at is null`)
      .orderBy('c.last_visit_at', 'desc')
      .limit(limit)
      .execute();
  }

  /** The org units whose customers `p` may read, when they are few (a station, an area); else null. */
  private async unitsInScope(p: Principal): Promise<number[] | null> {
    // On SQLite the subtrees are read as ranges of org_unit_path_idx: SQLite's LIKE … ESCAPE cannot
    // use an index, and scanning the whole tree (1,600 units in a province) on every lookup costs
    // more than the lookup. PostgreSQL's LIKE uses org_unit_path_prefix_idx (text_pattern_ops).
    const rows = await this.db
      .selectFrom('org_unit as u')
      .select('u.id')
      .where((eb) =>
        this.engine === 'sqlite'
          ? eb.or([p.orgPath, ...p.grantPaths].map((path) => prefixRange(this.engine, eb.ref('u.path'), path)))
          : inCustomerScope(p, eb.ref('u.id')),
      )
      .limit(UNIT_LIST_MAX + 1)
      .execute();
    return rows.length > UNIT_LIST_MAX ? null : rows.map((r) => r.id);
  }

  async lookup(p: Principal, q: string, limit = 10): Promise<PumpMatch[]> {
    const key = plateSearchKey(q);
    if (key.length < 2)
      throw new AppError('VALIDATION_FAILED', 'type at least 2 characters of the plate', 'querystring.q');
    // A station's attendant searches his station's plates only, not the company's million.
    const units = await this.unitsInScope(p);
    const own = (query: SelectQueryBuilder<Database, 'vehicle', object>) =>
      units === null ? query : query.where('vehicle.org_unit_id', 'in', units.length > 0 ? units : [-1]);
    // Tiers, cheapest and most likely first: attendants usually catch the end of the plate, and a
    // suffix is a btree range on the reversed plate; only when that finds too few do we ask the
    // substring index (trigram) or, for two characters, the plate's start.
    const reversed = [...key].reverse().join('');
    const rows = await this.candidates(
      p,
      units,
      own(
        this.db
          .selectFrom('vehicle')
          .where((eb) => prefixRange(this.engine, eb.ref('vehicle.plate_reversed'), reversed)),
      ),
      limit,
    );
    // A whole plate found exactly needs no substring search.
    const exact = parsePlate(key).ok && rows.some((r) => r.plate === key);
    if (rows.length < limit && !exact) {
      const more = own(
        key.length >= 3
          ? this.db.selectFrom('vehicle').where('vehicle.id', 'in', plateContains(this.db, this.engine, key))
          : this.db.selectFrom('vehicle').where((eb) => prefixRange(this.engine, eb.ref('vehicle.plate'), key)),
      );
      const seen = new Set(rows.map((r) => r.vehicle_id));
      for (const r of await this.candidates(p, units, more, limit * 3)) if (!seen.has(r.vehicle_id)) rows.push(r);
    }
    const ranked = rows.sort((a, b) => rankOf(a.plate, key) - rankOf(b.plate, key)).slice(0, limit);
    const ids = [...new Set(ranked.map((r) => r.id))];
    // One query for the extras of the few customers shown.
    const extras = ids.length
      ? await this.db
          .selectFrom('customer as c')
          .select((eb) => [
            'c.id',
            eb
              .selectFrom('customer_phone as cp')
              .select((e) => e.fn.countAll<number>().as('n'))
              .whereRef('cp.customer_id', '=', 'c.id')
              .as('phones'),
            eb
              .selectFrom('visit as vv')
              .select('vv.product')
              .whereRef('vv.customer_id', '=', 'c.id')
              .where('vv.product', 'is not', null)
              .orderBy('vv.at', 'desc')
              .limit(1)
              .as('last_product'),
            groupConcat(
              this.engine,
              eb.selectFrom('customer_tag as ct').whereRef('ct.customer_id', '=', 'c.id'),
              'ct.tag',
            ).as('tags'),
            ComplaintsService.flaggedOf(eb, eb.ref('c.id')).as('unhappy'),
          ])
          .where('c.id', 'in', ids)
          .execute()
      : [];
    const extra = new Map(extras.map((e) => [e.id, e]));
    return ranked.map((r) => {
      const x = extra.get(r.id);
      const profile = this.customers.profile(r as never, 1, Boolean(r.model), Number(x?.phones ?? 0));
      return {
        customerId: r.id,
        vehicleId: r.vehicle_id,
        plate: r.plate,
        model: r.model,
        code: r.code,
        kind: r.kind,
        name: r.name,
        greeting: greetingOf(r.surname, r.name, r.gender),
        notes: r.notes,
        lookAfter: r.look_after === 1,
        unhappyBefore: Boolean(x?.unhappy),
        tags: x?.tags ? String(x.tags).split('\u001f').sort() : [],
        profileStep: profile.step,
        nextQuestion: profile.next,
        lastVisitAt: r.last_visit_at,
        lastProduct: x?.last_product ?? null,
      };
    });
  }

  /**
   * Visits recorded today in the principal's subtree (the calendar day of his unit's time zone),
   * newest first: what the station manager looks at on his start page. A visit of a customer whose
   * archive is another area's shows the plate only.
   */
  async today(p: Principal, now: Date, limit: number) {
    const unit = await this.db
      .selectFrom('org_unit')
      .select('time_zone')
      .where('id', '=', p.orgUnitId)
      .executeTakeFirst();
    const tz = unit?.time_zone ?? 'Asia/Shanghai';
    const day = businessDay(now.getTime(), tz);
    const from = new Date(zonedToUtc(Date.parse(`${day}T00:00:00Z`), tz)).toISOString();
    const base = this.db
      .selectFrom('visit as v')
      .where('v.at', '>=', from)
      .where((eb) => inScope(p, eb.ref('v.org_unit_id')));
    const totals = await base
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number | null>('v.volume_ml').as('ml')])
      .executeTakeFirstOrThrow();
    const rows = await base
      .innerJoin('customer as c', 'c.id', 'v.customer_id')
      .innerJoin('org_unit as cu', 'cu.id', 'c.org_unit_id')
      .innerJoin('org_unit as su', 'su.id', 'v.org_unit_id')
      .leftJoin('vehicle as vh', 'vh.id', 'v.vehicle_id')
      .leftJoin('app_user as u', 'u.id', 'v.user_id')
      .select(['v.id', 'v.at', 'v.product', 'v.volume_ml', 'c.id as customer_id', 'c.name', 'c.surname', 'c.gender'])
      .select(['cu.path', 'su.name as station_name', 'vh.plate', 'u.display_name as recorded_by'])
      .orderBy('v.at', 'desc')
      .limit(limit)
      .execute();
    return {
      day,
      count: Number(totals.n),
      volumeMl: Number(totals.ml ?? 0),
      items: rows.map((r) => {
        const visible = pathInCustomerScope(p, r.path);
        return {
          visitId: r.id,
          at: r.at,
          product: r.product,
          volumeMl: r.volume_ml,
          plate: r.plate,
          customerId: visible ? r.customer_id : null,
          greeting: visible ? greetingOf(r.surname, r.name, r.gender) : null,
          stationName: r.station_name,
          recordedBy: r.recorded_by,
        };
      }),
    };
  }

  /**
   * Record a fill-up. With a known customer the visit attaches to him; an unknown plate becomes a
   * step-1 record (plate and model only) at the attendant's own station.
   */
  async recordVisit(
    p: Principal,
    ip: string | null,
    input: {
      customerId?: number;
      vehicleId?: number;
      plate?: string;
      model?: string;
      product?: string;
      volumeLitres?: number;
      note?: string;
    },
  ) {
    let customerId = input.customerId;
    let vehicleId = input.vehicleId ?? null;
    let created = false;
    let elsewhere = false;
    if (customerId === undefined) {
      if (!input.plate) throw new AppError('VALIDATION_FAILED', 'give customerId or plate', 'body.plate');
      const parsed = parsePlate(input.plate);
      if (!parsed.ok) throw new AppError('VALIDATION_FAILED', parsed.reason, 'body.plate');
      const known = await this.db
        .selectFrom('vehicle as v')
        .innerJoin('customer as c', 'c.id', 'v.customer_id')
        .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
        .select(['v.id', 'v.customer_id', 'o.path'])
        .where('v.plate', '=', parsed.plate)
        .where('c.merged_into_id', 'is', null)
        .execute();
      const mine = known.find((k) => pathInCustomerWriteScope(p, k.path));
      // The oldest record elsewhere: the customer filled up here, but his archive is another area's.
      const theirs = known.sort((a, b) => a.customer_id - b.customer_id)[0];
      if (mine) {
        customerId = mine.customer_id;
        vehicleId = mine.id;
      } else if (theirs) {
        // A plate on file elsewhere gets no second record here: the fill-up is this station's and
        // counts for that customer, and nothing of his record is shown to the attendant.
        customerId = theirs.customer_id;
        vehicleId = theirs.id;
        elsewhere = true;
      } else {
        const c = await this.customers.create(p, ip, {
          kind: 'individual',
          vehicles: [{ plate: parsed.plate, model: input.model ?? null }],
        });
        customerId = c.id;
        vehicleId = c.vehicles[0]?.id ?? null;
        created = true;
      }
    }
    const cust = await this.db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .select(['c.id', 'c.org_unit_id', 'c.merged_into_id', 'o.path'])
      .where('c.id', '=', customerId)
      .executeTakeFirst();
    if (!cust) throw new AppError('NOT_FOUND', `customer ${customerId} not found`, 'body.customerId');
    if (!elsewhere && !pathInCustomerWriteScope(p, cust.path)) {
      const why = pathInCustomerScope(p, cust.path)
        ? 'was lent to you for reading only'
        : 'is outside your organisation';
      throw new AppError('SCOPE_DENIED', `customer ${customerId} ${why}`, 'body.customerId');
    }
    if (cust.merged_into_id)
      throw new AppError(
        'CONFLICT',
        `customer ${customerId} was merged into ${cust.merged_into_id}`,
        'body.customerId',
      );
    if (vehicleId !== null) {
      const v = await this.db
        .selectFrom('vehicle')
        .select('customer_id')
        .where('id', '=', vehicleId)
        .executeTakeFirst();
      if (!v || v.customer_id !== customerId)
        throw new AppError('VALIDATION_FAILED', `vehicle ${vehicleId} is not this customer's`, 'body.vehicleId');
    }
    const at = new Date().toISOString();
    const visitId = await this.db.transaction().execute(async (trx) => {
      const { id } = await trx
        .insertInto('visit')
        .values({
          customer_id: customerId!,
          org_unit_id: p.orgUnitId,
          user_id: p.userId,
          vehicle_id: vehicleId,
          at,
          product: input.product ?? null,
          volume_ml: input.volumeLitres === undefined ? null : Math.round(input.volumeLitres * 1000),
          note: input.note ?? null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      // A fill-up counts in the customer's and the station's figures at once (before the customer row is locked below).
      if (input.product && input.volumeLitres !== undefined)
        await recordPumpFill(trx, {
          visitId: id,
          customerId: customerId!,
          orgUnitId: p.orgUnitId,
          at,
          product: input.product,
          volumeMl: Math.round(input.volumeLitres * 1000),
          plate: null,
        });
      await trx.updateTable('customer').set({ last_visit_at: at }).where('id', '=', customerId!).execute();
      // A fill-up the owner records himself is a follow-up of his (the public pool's window moves on).
      await markFollowedUp(trx, customerId!, p.userId, at);
      await recordAudit(trx, actorOf(p, ip), {
        action: 'visit',
        entity: 'customer',
        entityId: customerId!,
        orgUnitId: cust.org_unit_id,
        after: { visitId: id, ...input },
      });
      return id;
    });
    return { visitId, customerId: elsewhere ? null : customerId!, created, elsewhere };
  }
}
