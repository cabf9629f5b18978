import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_VISIT_POLICY as P,
  checkPlanStep,
  localInstant,
  parentUnitId,
  proposePlan,
  reminderTimes,
  visitReason,
  weekStart,
  workingDays,
  type PlanCandidate,
  type PlanFacts,
} from './visit-plan.js';

const cand = (over: Partial<PlanCandidate> = {}): PlanCandidate => ({
  customerId: 1,
  class: null,
  lastVisitMonth: null,
  lastMonthVolume: 100,
  prevMonthVolume: 100,
  openAlerts: 0,
  ...over,
});

describe('visit reasons', () => {
  it('VIP monthly, A quarterly, B half-yearly, C never by policy', () => {
    expect(visitReason(P, '2026-12', cand({ class: 'VIP', lastVisitMonth: '2026-11' }))?.reason).toBe('policy');
    expect(visitReason(P, '2026-12', cand({ class: 'VIP', lastVisitMonth: '2026-12' }))).toBeNull();
    expect(visitReason(P, '2026-12', cand({ class: 'A', lastVisitMonth: '2026-10' }))).toBeNull();
    expect(visitReason(P, '2026-12', cand({ class: 'A', lastVisitMonth: '2026-09' }))?.detail).toBe('class:A');
    expect(visitReason(P, '2026-12', cand({ class: 'B', lastVisitMonth: '2026-07' }))).toBeNull();
    expect(visitReason(P, '2026-12', cand({ class: 'B' }))?.reason).toBe('policy');
    expect(visitReason(P, '2026-12', cand({ class: 'C' }))).toBeNull();
  });
  it('an open alert comes first, then a fall in sales', () => {
    expect(visitReason(P, '2026-12', cand({ openAlerts: 2, class: 'VIP' }))).toEqual({
      reason: 'alert',
      detail: 'alerts:2',
    });
    expect(visitReason(P, '2026-12', cand({ lastMonthVolume: 50, prevMonthVolume: 100 }))).toEqual({
      reason: 'decline',
      detail: 'share:50',
    });
    expect(visitReason(P, '2026-12', cand({ lastMonthVolume: 70, prevMonthVolume: 100 }))).toBeNull();
  });
});

describe('proposed plan', () => {
  it('puts the urgent first, caps the count and spreads over working days', () => {
    const cs = [
      cand({ customerId: 1, class: 'B' }),
      cand({ customerId: 2, openAlerts: 1 }),
      cand({ customerId: 3, class: 'VIP' }),
      cand({ customerId: 4, class: 'C' }),
      cand({ customerId: 5, lastMonthVolume: 10 }),
    ];
    const plan = proposePlan(P, '2026-12', cs);
    expect(plan.map((v) => v.customerId)).toEqual([2, 5, 3, 1]);
    const days = workingDays('2026-12');
    for (const v of plan) expect(days).toContain(v.day);
    expect(proposePlan({ ...P, maxVisitsPerOwner: 2 }, '2026-12', cs)).toHaveLength(2);
  });
  it('never plans on a weekend or outside the month, in order of urgency', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 12 }), (n, m) => {
        const month = `2026-${String(m).padStart(2, '0')}`;
        const cs = Array.from({ length: n }, (_, i) => cand({ customerId: i + 1, class: 'VIP' }));
        const plan = proposePlan(P, month, cs);
        const days = new Set(workingDays(month));
        expect(plan.length).toBe(Math.min(n, P.maxVisitsPerOwner));
        for (let i = 0; i < plan.length; i++) {
          expect(days.has(plan[i]!.day)).toBe(true);
          if (i > 0) expect(plan[i]!.day >= plan[i - 1]!.day).toBe(true);
        }
      }),
    );
  });
  it('working days are Monday to Friday', () => {
    expect(workingDays('2026-12')).toHaveLength(23);
    expect(workingDays('2026-12')[0]).toBe('2026-12-01');
    expect(workingDays('2026-12')).not.toContain('2026-12-05');
    expect(weekStart('2026-12-06')).toBe('2026-11-30');
    expect(weekStart('2026-12-07')).toBe('2026-12-07');
  });
});

describe('reminders at local hours', () => {
  it('Shanghai and Urumqi, and a zone with daylight saving', () => {
    expect(reminderTimes(P, '2026-12-15', 'Asia/Shanghai')).toEqual({
      appointment: '2026-12-08T01:00:00.000Z',
      onDay: '2026-12-15T00:00:00.000Z',
    });
    expect(reminderTimes(P, '2026-12-15', 'Asia/Urumqi')).toEqual({
      appointment: '2026-12-08T03:00:00.000Z',
      onDay: '2026-12-15T02:00:00.000Z',
    });
    // Berlin: 09:00 CET on 2026-03-25 (UTC+1), 08:00 CEST on 2026-04-01 (UTC+2).
    expect(reminderTimes(P, '2026-04-01', 'Europe/Berlin')).toEqual({
      appointment: '2026-03-25T08:00:00.000Z',
      onDay: '2026-04-01T06:00:00.000Z',
    });
    expect(localInstant('2026-12-15', 10, 30, 'Asia/Shanghai')).toBe('2026-12-15T02:30:00.000Z');
  });
});

describe('plan workflow', () => {
  const plan: PlanFacts = { state: 'draft', ownerUserId: 7, unitPath: '/1/2/3/', hasParent: true };
  const owner = { userId: 7, orgPath: '/1/2/3/', permissions: new Set<string>() };
  const area = { userId: 8, orgPath: '/1/2/', permissions: new Set(['visit.approve']) };
  const peer = { userId: 9, orgPath: '/1/2/3/', permissions: new Set(['visit.approve']) };
  const other = { userId: 10, orgPath: '/1/5/', permissions: new Set(['visit.approve']) };
  const noPerm = { userId: 11, orgPath: '/1/', permissions: new Set<string>() };

  it('the owner edits and submits; nobody else does', () => {
    expect(checkPlanStep('submit', plan, owner)).toEqual({ ok: true, to: 'submitted' });
    expect(checkPlanStep('edit', plan, area)).toMatchObject({ ok: false, reason: 'owner' });
    expect(checkPlanStep('submit', { ...plan, state: 'returned' }, owner)).toEqual({ ok: true, to: 'submitted' });
    expect(checkPlanStep('submit', { ...plan, state: 'approved' }, owner)).toMatchObject({ reason: 'order' });
    expect(checkPlanStep('move', { ...plan, state: 'approved' }, owner)).toMatchObject({ ok: true });
    expect(checkPlanStep('edit', { ...plan, state: 'submitted' }, owner)).toMatchObject({ reason: 'order' });
  });
  it('one level up approves or returns a submitted plan; the owner, a peer, another branch and one without the permission may not', () => {
    const sub = { ...plan, state: 'submitted' as const };
    expect(checkPlanStep('approve', sub, area)).toEqual({ ok: true, to: 'approved' });
    expect(checkPlanStep('return', sub, area)).toEqual({ ok: true, to: 'returned' });
    expect(checkPlanStep('approve', sub, { ...area, orgPath: '/1/' })).toEqual({ ok: true, to: 'approved' });
    expect(checkPlanStep('approve', sub, { ...owner, permissions: new Set(['visit.approve']) })).toMatchObject({
      reason: 'own_plan',
    });
    expect(checkPlanStep('approve', sub, peer)).toMatchObject({ reason: 'level' });
    expect(checkPlanStep('approve', sub, other)).toMatchObject({ reason: 'level' });
    expect(checkPlanStep('approve', sub, noPerm)).toMatchObject({ reason: 'permission' });
    expect(checkPlanStep('approve', plan, area)).toMatchObject({ reason: 'order' });
    expect(checkPlanStep('approve', { ...sub, state: 'approved' }, area)).toMatchObject({ reason: 'order' });
  });
  it('the top unit’s plans are decided by a peer', () => {
    const top = { state: 'submitted' as const, ownerUserId: 7, unitPath: '/1/', hasParent: false };
    expect(checkPlanStep('approve', top, { ...peer, orgPath: '/1/' })).toEqual({ ok: true, to: 'approved' });
  });
  it('problems go one level up', () => {
    expect(parentUnitId('/1/7/23/')).toBe(7);
    expect(parentUnitId('/1/')).toBeNull();
  });
});
