import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_POLICIES, type OwnershipPolicy } from './policies.js';
import {
  allowedOwnerLevels,
  claimProblem,
  coverageFlag,
  dayStartUtc,
  ownerFits,
  poolReturnAt,
  poolStep,
  returnDaysFor,
} from './pool-rules.js';

const P: OwnershipPolicy = DEFAULT_POLICIES.ownership;
const C = DEFAULT_POLICIES.classes;

describe('who may own a customer', () => {
  it('follows DOMAIN.md: VIP by branch or company, A-class+ organisations by area, B-class+ individuals by station', () => {
    expect(allowedOwnerLevels(P, C, { kind: 'individual', classCode: 'VIP' })).toEqual(['hq', 'branch']);
    expect(allowedOwnerLevels(P, C, { kind: 'organisation', classCode: 'VIP' })).toEqual(['hq', 'branch']);
    expect(allowedOwnerLevels(P, C, { kind: 'organisation', classCode: 'A' })).toEqual(['hq', 'branch', 'area']);
    expect(allowedOwnerLevels(P, C, { kind: 'individual', classCode: 'A' })).toContain('station');
    expect(allowedOwnerLevels(P, C, { kind: 'organisation', classCode: 'B' })).toBeNull();
    expect(allowedOwnerLevels(P, C, { kind: 'individual', classCode: null })).toBeNull();
  });

  it('refuses a station attendant for a VIP and says which levels may', () => {
    const fit = ownerFits(P, C, { kind: 'individual', classCode: 'VIP' }, 'station');
    expect(fit.ok).toBe(false);
    if (!fit.ok) {
      expect(fit.allowed).toEqual(['hq', 'branch']);
      expect(fit.message).toContain('branch');
    }
    expect(ownerFits(P, C, { kind: 'individual', classCode: 'VIP' }, 'branch').ok).toBe(true);
    expect(ownerFits(P, C, { kind: 'organisation', classCode: 'A' }, 'station').ok).toBe(false);
    expect(ownerFits(P, C, { kind: 'individual', classCode: 'C' }, 'station').ok).toBe(true);
  });

  it('a better class never allows more levels than a worse one (property)', () => {
    const codes = [null, 'C', 'B', 'A', 'VIP'];
    fc.assert(
      fc.property(fc.constantFrom('individual', 'organisation', 'commercial'), fc.nat(3), (kind, i) => {
        const worse = allowedOwnerLevels(P, C, { kind, classCode: codes[i]! }) ?? ['hq', 'branch', 'area', 'station'];
        const better = allowedOwnerLevels(P, C, { kind, classCode: codes[i + 1]! }) ?? [
          'hq',
          'branch',
          'area',
          'station',
        ];
        return better.every((l) => worse.includes(l));
      }),
    );
  });
});

describe('return to the pool', () => {
  const since = '2026-01-01T00:00:00.000Z';
  it('counts N days per class from the last of owner-since, follow-up and (exempting) purchase', () => {
    expect(returnDaysFor(P, 'VIP')).toBe(30);
    expect(returnDaysFor(P, null)).toBe(P.unratedReturnDays);
    expect(returnDaysFor(P, 'unknown')).toBe(P.unratedReturnDays);
    expect(poolReturnAt(P, 'VIP', { ownerSince: since, lastFollowUpAt: null, lastPurchaseAt: null })).toBe(
      '2026-01-31T00:00:00.000Z',
    );
    const f = {
      ownerSince: since,
      lastFollowUpAt: '2026-01-10T00:00:00.000Z',
      lastPurchaseAt: '2026-01-20T00:00:00.000Z',
    };
    expect(poolReturnAt(P, 'VIP', f)).toBe('2026-02-19T00:00:00.000Z');
    expect(poolReturnAt({ ...P, exemptRecentPurchase: false }, 'VIP', f)).toBe('2026-02-09T00:00:00.000Z');
  });

  it('keeps, reminds reminderDaysBefore ahead, then returns', () => {
    const at = '2026-01-31T00:00:00.000Z';
    expect(poolStep(P, at, '2026-01-25T23:59:59.000Z')).toBe('keep');
    expect(poolStep(P, at, '2026-01-26T00:00:00.000Z')).toBe('remind');
    expect(poolStep(P, at, '2026-01-30T23:59:59.000Z')).toBe('remind');
    expect(poolStep(P, at, at)).toBe('return');
  });
});

describe('claims from the pool', () => {
  const base = {
    now: '2026-03-01T08:00:00.000Z',
    claimsToday: 0,
    ownedByMe: 10,
    ownedInMyUnit: 10,
    releasedByMeAt: null,
  };
  it('allows a claim within every limit', () => expect(claimProblem(P, base)).toBeNull());
  it('refuses above the daily cap', () =>
    expect(claimProblem(P, { ...base, claimsToday: P.claimDailyCap })?.rule).toBe('daily_cap'));
  it('refuses the former owner during cooling-off, and lets him after', () => {
    expect(claimProblem(P, { ...base, releasedByMeAt: '2026-02-20T00:00:00.000Z' })?.rule).toBe('cooling_off');
    expect(claimProblem(P, { ...base, releasedByMeAt: '2026-01-01T00:00:00.000Z' })).toBeNull();
  });
  it('refuses over the person’s and the unit’s capacity', () => {
    expect(claimProblem(P, { ...base, ownedByMe: P.maxCustomersPerOwner })?.rule).toBe('person_capacity');
    expect(claimProblem(P, { ...base, ownedInMyUnit: P.unitCapacity })?.rule).toBe('unit_capacity');
  });
});

describe('coverage', () => {
  it('flags below 1:15 and over the maximum', () => {
    expect(coverageFlag(P, 14)).toBe('below_minimum');
    expect(coverageFlag(P, 15)).toBeNull();
    expect(coverageFlag(P, P.maxCustomersPerOwner)).toBeNull();
    expect(coverageFlag(P, P.maxCustomersPerOwner + 1)).toBe('over_maximum');
  });
  it('counts a day from local midnight', () => {
    expect(dayStartUtc('2026-03-01T17:00:00.000Z', 'Asia/Shanghai')).toBe('2026-03-01T16:00:00.000Z');
    expect(dayStartUtc('2026-03-01T15:00:00.000Z', 'Asia/Shanghai')).toBe('2026-02-28T16:00:00.000Z');
    expect(dayStartUtc('2026-03-01T15:00:00.000Z', 'UTC')).toBe('2026-03-01T00:00:00.000Z');
  });
});
