import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  allowedPlanActions,
  checkPlanStep,
  checkProgress,
  dispatchUnit,
  dueDayProblem,
  followerProblem,
  happenedDayProblem,
  nextApprovalPermission,
  pickSample,
  planOverdue,
  prospectOverdue,
  weekStart,
  PLAN_ACTIONS,
  type PlanFacts,
  type PlanState,
} from './development-plan.js';

const BRANCH = '/1/2/';
const AREA = '/1/2/3/';
const STATION = '/1/2/3/4/';
const OTHER_BRANCH = '/1/9/';

const planner = { userId: 10, orgPath: BRANCH, permissions: ['prospect.plan', 'customer.write'] };
const head = { userId: 11, orgPath: BRANCH, permissions: ['prospect.approve'] };
const leader = { userId: 12, orgPath: BRANCH, permissions: ['prospect.finalize'] };
const both = { userId: 13, orgPath: '/1/', permissions: ['prospect.plan', 'prospect.approve', 'prospect.finalize'] };
const plan = (state: PlanState, over: Partial<PlanFacts> = {}): PlanFacts => ({
  state,
  orgPath: BRANCH,
  compiledBy: planner.userId,
  deptApproverId: null,
  ...over,
});

describe('development plan approvals', () => {
  it('walks draft → submitted → dept_approved → approved → dispatched with two different approvers', () => {
    expect(checkPlanStep('submit', plan('draft'), planner)).toEqual({ ok: true, to: 'submitted' });
    expect(checkPlanStep('approve_dept', plan('submitted'), head)).toEqual({ ok: true, to: 'dept_approved' });
    expect(checkPlanStep('approve_leader', plan('dept_approved', { deptApproverId: 11 }), leader)).toEqual({
      ok: true,
      to: 'approved',
    });
    expect(checkPlanStep('dispatch', plan('approved'), planner)).toEqual({ ok: true, to: 'dispatched' });
    expect(checkPlanStep('reject_dept', plan('submitted'), head)).toEqual({ ok: true, to: 'draft' });
    expect(checkPlanStep('reject_leader', plan('dept_approved'), leader)).toEqual({ ok: true, to: 'draft' });
  });

  it('refuses the wrong slot, the wrong order, self-approval, the same person twice and another branch', () => {
    expect(checkPlanStep('approve_dept', plan('submitted'), leader)).toMatchObject({ ok: false, reason: 'permission' });
    expect(checkPlanStep('approve_leader', plan('submitted'), leader)).toMatchObject({ ok: false, reason: 'order' });
    expect(checkPlanStep('dispatch', plan('dept_approved'), planner)).toMatchObject({ ok: false, reason: 'order' });
    // He compiled it: he approves neither slot, nor sends it back.
    const own = plan('submitted', { compiledBy: both.userId });
    expect(checkPlanStep('approve_dept', own, both)).toMatchObject({ ok: false, reason: 'own_plan' });
    expect(checkPlanStep('reject_dept', own, both)).toMatchObject({ ok: false, reason: 'own_plan' });
    // He took the first slot: the second must be someone else.
    const second = plan('dept_approved', { deptApproverId: both.userId });
    expect(checkPlanStep('approve_leader', second, both)).toMatchObject({ ok: false, reason: 'same_approver' });
    expect(checkPlanStep('approve_leader', second, leader).ok).toBe(true);
    expect(checkPlanStep('approve_dept', plan('submitted', { orgPath: OTHER_BRANCH }), head)).toMatchObject({
      ok: false,
      reason: 'scope',
    });
  });

  it('never lets one person fill both slots of a plan, whatever the order of attempts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...PLAN_ACTIONS), { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 12 }),
        (actions, who) => {
          const people = [
            { userId: 1, orgPath: BRANCH, permissions: ['prospect.plan', 'prospect.approve', 'prospect.finalize'] },
            { userId: 2, orgPath: BRANCH, permissions: ['prospect.plan', 'prospect.approve', 'prospect.finalize'] },
            { userId: 3, orgPath: BRANCH, permissions: ['prospect.plan', 'prospect.approve', 'prospect.finalize'] },
          ];
          let facts: PlanFacts = { state: 'draft', orgPath: BRANCH, compiledBy: 1, deptApproverId: null };
          let leaderId: number | null = null;
          actions.forEach((a, i) => {
            const actor = people[(who[i] ?? 1) - 1]!;
            const r = checkPlanStep(a, facts, actor);
            if (!r.ok) return;
            if (a === 'approve_dept') facts = { ...facts, deptApproverId: actor.userId };
            if (a === 'approve_leader') leaderId = actor.userId;
            if (a.startsWith('reject')) facts = { ...facts, deptApproverId: null };
            facts = { ...facts, state: r.to };
          });
          if (leaderId !== null) {
            expect(leaderId).not.toBe(facts.deptApproverId);
            expect(leaderId).not.toBe(1);
            expect(facts.deptApproverId).not.toBe(1);
          }
        },
      ),
    );
  });

  it('offers each holder the steps he may take, and names who the approval waits for', () => {
    expect(allowedPlanActions(plan('submitted'), head)).toEqual(['approve_dept', 'reject_dept']);
    expect(allowedPlanActions(plan('submitted'), leader)).toEqual([]);
    expect(nextApprovalPermission('submitted')).toBe('prospect.approve');
    expect(nextApprovalPermission('dept_approved')).toBe('prospect.finalize');
    expect(nextApprovalPermission('approved')).toBeNull();
  });
});

describe('dispatch by importance', () => {
  const chain = [
    { id: 1, path: '/1/', kindCode: 'hq' },
    { id: 2, path: BRANCH, kindCode: 'branch' },
    { id: 3, path: AREA, kindCode: 'area' },
    { id: 4, path: STATION, kindCode: 'station' },
  ];
  it('sends important prospects to the branch, secondary to the area, general to the station', () => {
    expect(dispatchUnit(chain, 'important')?.id).toBe(2);
    expect(dispatchUnit(chain, 'secondary')?.id).toBe(3);
    expect(dispatchUnit(chain, 'general')?.id).toBe(4);
  });
  it('goes up, never down, when a level is missing', () => {
    const noArea = [chain[0]!, chain[1]!, { id: 5, path: '/1/2/5/', kindCode: 'station' }];
    expect(dispatchUnit(noArea, 'secondary')?.id).toBe(2);
    expect(dispatchUnit(noArea, 'general')?.id).toBe(5);
  });
  it('takes a follower only at that very unit, active, allowed to change customers', () => {
    const at = chain[2]!;
    expect(followerProblem(at, { orgUnitId: 3, active: true, permissions: ['customer.write'] })).toBeNull();
    expect(followerProblem(at, { orgUnitId: 4, active: true, permissions: ['customer.write'] })).toBe('level');
    expect(followerProblem(at, { orgUnitId: 2, active: true, permissions: ['customer.write'] })).toBe('level');
    expect(followerProblem(at, { orgUnitId: 3, active: false, permissions: ['customer.write'] })).toBe('inactive');
    expect(followerProblem(at, { orgUnitId: 3, active: true, permissions: ['customer.read'] })).toBe('permission');
  });
});

describe('progress', () => {
  const follower = { userId: 20, orgPath: AREA, permissions: ['customer.write'] };
  const stationHand = { userId: 21, orgPath: STATION, permissions: ['customer.write'] };
  const colleague = { userId: 22, orgPath: AREA, permissions: ['customer.write'] };
  const facts = { stage: 'dispatched' as const, dispatchPath: AREA, followerUserId: 20 };
  it('lets the follower and the branch planner move a prospect on, in order', () => {
    expect(checkProgress('contact', facts, follower)).toEqual({ ok: true, to: 'contacted' });
    expect(checkProgress('offer', facts, planner)).toEqual({ ok: true, to: 'offered' });
    expect(checkProgress('note', facts, follower)).toEqual({ ok: true, to: 'dispatched' });
    expect(checkProgress('sign', facts, follower)).toMatchObject({ ok: false, reason: 'order' });
    expect(checkProgress('sign', { ...facts, stage: 'offered' }, follower)).toEqual({ ok: true, to: 'signed' });
    expect(checkProgress('lose', { ...facts, stage: 'signed' }, follower)).toMatchObject({
      ok: false,
      reason: 'order',
    });
  });
  it('refuses someone below the level, a colleague who is not the follower, and a prospect not yet dispatched', () => {
    expect(checkProgress('contact', facts, stationHand)).toMatchObject({ ok: false, reason: 'scope' });
    expect(checkProgress('contact', facts, colleague)).toMatchObject({ ok: false, reason: 'follower' });
    expect(
      checkProgress('contact', { stage: 'surveyed', dispatchPath: null, followerUserId: 20 }, follower),
    ).toMatchObject({
      ok: false,
      reason: 'order',
    });
    expect(checkProgress('contact', facts, { ...follower, permissions: ['customer.read'] })).toMatchObject({
      ok: false,
      reason: 'permission',
    });
  });
});

describe('days and flags', () => {
  it('checks due days and the days things happened', () => {
    expect(dueDayProblem('2026-02-30', '2026-01-10')).toBe('invalid');
    expect(dueDayProblem('2026-01-09', '2026-01-10')).toBe('past');
    expect(dueDayProblem('2026-01-10', '2026-01-10')).toBeNull();
    expect(dueDayProblem('2027-03-01', '2026-01-10')).toBe('too_far');
    expect(happenedDayProblem('2026-01-11', '2026-01-10')).toBe('future');
    expect(happenedDayProblem('2024-01-11', '2026-01-10')).toBe('too_old');
  });
  it('flags a plan not dispatched past its due day, and a live prospect past his', () => {
    expect(planOverdue('approved', '2026-01-05', '2026-01-06')).toBe(true);
    expect(planOverdue('approved', '2026-01-05', '2026-01-05')).toBe(false);
    expect(planOverdue('dispatched', '2026-01-05', '2026-02-06')).toBe(false);
    expect(prospectOverdue('contacted', '2026-01-05', '2026-01-06')).toBe(true);
    expect(prospectOverdue('signed', '2026-01-05', '2026-01-06')).toBe(false);
    expect(prospectOverdue('surveyed', null, '2026-01-06')).toBe(false);
  });
  it('starts weeks on Monday', () => {
    expect(weekStart('2026-12-06')).toBe('2026-11-30'); // a Sunday
    expect(weekStart('2026-11-30')).toBe('2026-11-30');
    expect(weekStart('2026-12-02')).toBe('2026-11-30');
  });
  it('samples the same stations for the same seed, fresh ones first, never more than asked', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 500 }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 50 }),
        (c, n) => {
          const a = pickSample(c, new Set(), n, 'x');
          expect(a).toEqual(pickSample(c, new Set(), n, 'x'));
          expect(a.length).toBe(Math.min(n, c.length));
          expect(new Set(a).size).toBe(a.length);
          for (const x of a) expect(c).toContain(x);
        },
      ),
    );
    expect(pickSample([1, 2, 3, 4], new Set([1, 2, 3]), 1, 'w')).toEqual([4]);
  });
});
