// The business calendar as stored: statutory days from the library, each unit's overrides from
// `calendar_override`, hours from the contact policy. SLAs (complaints), reminders and plans build a
// unit's calendar here and ask the pure functions of src/domain/business-calendar.ts.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { AppError } from '../../errors.js';
import type { Principal } from '../../auth/principal.js';
import { actorOf } from '../../auth/principal.js';
import { recordAudit } from '../audit/audit.service.js';
import { currentPolicy } from '../policies/policies.service.js';
import {
  unitCalendar,
  yearDays,
  type DayKind,
  type OverrideDay,
  type UnitCalendar,
} from '../../../domain/business-calendar.js';
import { chinaStatutoryDays } from '../../../domain/china-calendar.js';
import { isCalendarDay } from '../../../domain/day-arithmetic.js';
import { contactQueries as q, type UnitRow } from './contact-moments.queries.js';

/** The ids of a materialised path, top unit first. */
export const pathIds = (path: string) => path.split('/').filter(Boolean).map(Number);

/** Every unit's calendar from one read of units and overrides; a unit's is built on first use. */
export class Calendars {
  private readonly built = new Map<number, UnitCalendar>();
  constructor(
    readonly units: Map<number, UnitRow>,
    private readonly overrides: Map<number, OverrideDay[]>,
    private readonly hours: { startMinute: number; endMinute: number },
  ) {}

  of(unitId: number): UnitCalendar {
    let cal = this.built.get(unitId);
    if (!cal) {
      const unit = this.units.get(unitId);
      if (!unit) throw new AppError('NOT_FOUND', `org unit ${unitId} not found`);
      cal = unitCalendar({
        timeZone: unit.timeZone,
        hours: this.hours,
        statutory: chinaStatutoryDays,
        overridesTopDown: pathIds(unit.path).map((id) => this.overrides.get(id) ?? []),
      });
      this.built.set(unitId, cal);
    }
    return cal;
  }

  /** The unit whose override decides a day for `unitId`, nearest first. */
  decidingUnit(unitId: number, day: string): number | null {
    const ids = pathIds(this.units.get(unitId)?.path ?? '');
    for (let i = ids.length - 1; i >= 0; i--)
      if (this.overrides.get(ids[i]!)?.some((o) => o.day === day)) return ids[i]!;
    return null;
  }
}

export async function loadCalendars(db: Kysely<Database>): Promise<Calendars> {
  const [units, rows, policy] = await Promise.all([q.units(db), q.overrides(db), currentPolicy(db, 'contact')]);
  const overrides = new Map<number, OverrideDay[]>();
  for (const r of rows) {
    const list = overrides.get(r.org_unit_id) ?? [];
    list.push({ day: r.day, kind: r.kind as DayKind, name: r.name });
    overrides.set(r.org_unit_id, list);
  }
  return new Calendars(new Map(units.map((u) => [u.id, u])), overrides, {
    startMinute: Math.round(policy.body.workdayStartHour * 60),
    endMinute: Math.round(policy.body.workdayEndHour * 60),
  });
}

export class CalendarService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A unit's year, day by day, with the unit that decides each overridden day. */
  async year(unitId: number, year: number) {
    const cals = await loadCalendars(this.db);
    const cal = cals.of(unitId);
    const unit = cals.units.get(unitId)!;
    const own = (await q.overrides(this.db)).filter((o) => o.org_unit_id === unitId);
    return {
      orgUnitId: unitId,
      orgUnitName: unit.name,
      timeZone: unit.timeZone,
      workdayStart: cal.hours.startMinute,
      workdayEnd: cal.hours.endMinute,
      year,
      days: yearDays(cal, year).map((d) => {
        const from = d.mark?.source === 'override' ? cals.decidingUnit(unitId, d.day) : null;
        return {
          day: d.day,
          working: d.working,
          weekend: d.weekend,
          mark: d.mark && {
            kind: d.mark.kind,
            name: d.mark.name,
            nameEn: d.mark.nameEn ?? null,
            source: d.mark.source,
            orgUnitId: from,
            orgUnitName: from === null ? null : (cals.units.get(from)?.name ?? null),
          },
        };
      }),
      overrides: own
        .filter((o) => o.day.startsWith(`${year}-`))
        .map((o) => ({ day: o.day, kind: o.kind as DayKind, name: o.name })),
    };
  }

  async setOverride(p: Principal, ip: string, unitId: number, day: string, kind: DayKind, name: string | null) {
    if (!isCalendarDay(day)) throw new AppError('VALIDATION_FAILED', `${day} is no day of the calendar`, 'body.day');
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (trx) => {
      const before = await q.upsertOverride(trx, unitId, day, kind, name, p.userId, at);
      await recordAudit(trx, actorOf(p, ip), {
        action: 'calendar_override',
        entity: 'calendar_override',
        entityId: `${unitId}:${day}`,
        orgUnitId: unitId,
        before,
        after: { day, kind, name },
      });
    });
    return { day, kind, name };
  }

  async removeOverride(p: Principal, ip: string, unitId: number, day: string) {
    if (!isCalendarDay(day)) throw new AppError('VALIDATION_FAILED', `${day} is no day of the calendar`, 'params.day');
    await this.db.transaction().execute(async (trx) => {
      const before = await q.deleteOverride(trx, unitId, day);
      if (!before) throw new AppError('NOT_FOUND', `no override of ${day} at this unit`, 'params.day');
      await recordAudit(trx, actorOf(p, ip), {
        action: 'calendar_override_remove',
        entity: 'calendar_override',
        entityId: `${unitId}:${day}`,
        orgUnitId: unitId,
        before,
      });
    });
    return { ok: true };
  }
}
