import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICIES, benefitsFor } from './policies.js';
import {
  RATING_ACTIONS,
  RATING_STATUSES,
  adjustmentProblem,
  canRecompute,
  checkTransition,
  monthsBack,
  nextAction,
  starHistory,
  type RatingAction,
  type RatingStatus,
} from './rating-workflow.js';

const everything = new Set(['rating.propose', 'rating.approve', 'rating.finalize']);

describe('rating workflow', () => {
  it('walks computed → proposed → low_approved → high_reviewed → final, one action each', () => {
    let status: RatingStatus = 'computed';
    const taken: RatingAction[] = [];
    for (let action = nextAction(status); action !== null; action = nextAction(status)) {
      const r = checkTransition(status, action, { permissions: everything, inScope: true });
      if (!r.ok) throw new Error(r.message);
      taken.push(action);
      status = r.to;
    }
    expect(taken).toEqual(['propose', 'approve_low', 'review_high', 'finalize']);
    expect(status).toBe('final');
  });

  it('refuses every action out of order', () => {
    const allowed: Record<RatingAction, RatingStatus> = {
      propose: 'computed',
      approve_low: 'proposed',
      review_high: 'low_approved',
      finalize: 'high_reviewed',
    };
    for (const status of RATING_STATUSES) {
      for (const action of RATING_ACTIONS) {
        const r = checkTransition(status, action, { permissions: everything, inScope: true });
        expect(r.ok, `${action} on ${status}`).toBe(allowed[action] === status);
        if (!r.ok) expect(r.reason).toBe('order');
      }
    }
  });

  it('asks each step for its own permission', () => {
    const only = (p: string) => ({ permissions: [p], inScope: true });
    expect(checkTransition('computed', 'propose', only('rating.propose')).ok).toBe(true);
    expect(checkTransition('computed', 'propose', only('rating.approve'))).toMatchObject({
      ok: false,
      reason: 'permission',
    });
    expect(checkTransition('proposed', 'approve_low', only('rating.approve')).ok).toBe(true);
    expect(checkTransition('proposed', 'approve_low', only('rating.propose'))).toMatchObject({
      ok: false,
      reason: 'permission',
    });
    expect(checkTransition('low_approved', 'review_high', only('rating.approve')).ok).toBe(true);
    expect(checkTransition('low_approved', 'review_high', only('rating.finalize'))).toMatchObject({
      ok: false,
      reason: 'permission',
    });
    expect(checkTransition('high_reviewed', 'finalize', only('rating.finalize')).ok).toBe(true);
    // HQ marketing approves but does not make the rating final: that is leadership's.
    expect(checkTransition('high_reviewed', 'finalize', only('rating.approve'))).toMatchObject({
      ok: false,
      reason: 'permission',
    });
  });

  it('refuses a batch outside the actor’s subtree, before looking at the order', () => {
    expect(checkTransition('computed', 'propose', { permissions: everything, inScope: false })).toMatchObject({
      ok: false,
      reason: 'scope',
    });
    expect(checkTransition('final', 'propose', { permissions: everything, inScope: false })).toMatchObject({
      ok: false,
      reason: 'scope',
    });
    // Without the permission the answer is about the permission, whatever the scope.
    expect(checkTransition('computed', 'propose', { permissions: [], inScope: false })).toMatchObject({
      ok: false,
      reason: 'permission',
    });
  });

  it('recomputes only until the branch has proposed', () => {
    expect(RATING_STATUSES.filter(canRecompute)).toEqual(['computed']);
    expect(nextAction('final')).toBeNull();
  });

  it('lets HQ adjust only the 3–4-star part, to 0–4 stars', () => {
    expect(adjustmentProblem(3, 2)).toBeNull();
    expect(adjustmentProblem(4, 0)).toBeNull();
    expect(adjustmentProblem(3, 4)).toBeNull();
    expect(adjustmentProblem(2, 3)).toMatch(/only 3–4-star/);
    expect(adjustmentProblem(0, 4)).toMatch(/only 3–4-star/);
    expect(adjustmentProblem(3, 5)).toMatch(/0 to 4/);
    expect(adjustmentProblem(3, 2.5)).toMatch(/0 to 4/);
  });

  it('counts months back across a year end', () => {
    expect(monthsBack('2026-02', 4)).toEqual(['2026-02', '2026-01', '2025-12', '2025-11']);
    expect(monthsBack('2026-11', 1)).toEqual(['2026-11']);
  });

  it('turns final stars into the history benefitsFor reads, a missing month breaking the run', () => {
    const months = monthsBack('2026-11', 3);
    const full = starHistory(
      months,
      new Map([
        ['2026-11', 3],
        ['2026-10', 3],
        ['2026-09', 4],
      ]),
    );
    expect(full).toEqual([3, 3, 4]);
    expect(benefitsFor(DEFAULT_POLICIES.benefits, full)).toEqual(['supply_priority', 'discount_5_per_ton']);
    const gap = starHistory(
      months,
      new Map([
        ['2026-11', 3],
        ['2026-09', 4],
      ]),
    );
    expect(gap).toEqual([3, null, 4]);
    expect(benefitsFor(DEFAULT_POLICIES.benefits, gap)).toEqual([]);
    const two = starHistory(
      months,
      new Map([
        ['2026-11', 2],
        ['2026-10', 2],
      ]),
    );
    expect(benefitsFor(DEFAULT_POLICIES.benefits, two)).toEqual(['supply_priority']);
  });
});
