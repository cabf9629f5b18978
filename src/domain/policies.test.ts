import { describe, expect, it } from 'vitest';
import {
  benefitsFor,
  storedPolicy,
  cardSaving,
  classFor,
  DEFAULT_POLICIES,
  isFen,
  limitProblem,
  POLICY_LIMITS,
  policyChanges,
  policyProblem,
  starsFor,
} from './policies.js';

describe('policies', () => {
  const rating = DEFAULT_POLICIES.star_rating;

  it('gives stars by the thresholds of the customer kind, falling back to the default', () => {
    expect(starsFor(rating, 'individual', 0)).toBe(0);
    expect(starsFor(rating, 'individual', 200)).toBe(1);
    expect(starsFor(rating, 'individual', 2999)).toBe(2);
    expect(starsFor(rating, 'individual', 8000)).toBe(4);
    expect(starsFor(rating, 'organisation', 8000)).toBe(2);
  });

  it('maps stars to the best class they earn', () => {
    expect(classFor(DEFAULT_POLICIES.classes, 4)).toBe('VIP');
    expect(classFor(DEFAULT_POLICIES.classes, 3)).toBe('A');
    expect(classFor(DEFAULT_POLICIES.classes, 0)).toBe('C');
  });

  it('grants benefits only after enough consecutive months at the level', () => {
    const b = DEFAULT_POLICIES.benefits;
    expect(benefitsFor(b, [2])).toEqual([]);
    expect(benefitsFor(b, [2, 2])).toEqual(['supply_priority']);
    expect(benefitsFor(b, [3, 3, 2])).toEqual(['supply_priority']);
    expect(benefitsFor(b, [3, 3, 3])).toEqual(['supply_priority', 'discount_5_per_ton']);
    expect(benefitsFor(b, [3, null, 3])).toEqual([]);
    expect(benefitsFor(b, [4, 1, 4])).toEqual([]);
  });

  it('works out what a card saves from the policy rate', () => {
    expect(cardSaving(DEFAULT_POLICIES.card, 20000)).toBe(400);
    expect(cardSaving(DEFAULT_POLICIES.card, 100)).toBeNull();
  });

  it('refuses thresholds that do not rise, naming the star that does not', () => {
    expect(policyProblem('star_rating', { ...rating, thresholds: { default: [10, 10, 20, 30] } })).toMatchObject({
      field: 'thresholds.default.1',
      rule: 'thresholds_rise',
    });
    expect(policyProblem('star_rating', rating)).toBeNull();
  });

  it('names the field of every rule the schema cannot express', () => {
    expect(policyProblem('star_rating', { ...rating, computeDay: 6, finalDay: 5 })).toMatchObject({
      field: 'finalDay',
    });
    const amount = {
      ...rating,
      basis: 'amount' as const,
      thresholds: { default: [100, 200.5, 300.255, 400] as [number, number, number, number] },
    };
    expect(policyProblem('star_rating', amount)).toMatchObject({ field: 'thresholds.default.2', rule: 'fen' });
    const classes = { classes: [...DEFAULT_POLICIES.classes.classes, { code: 'A', minStars: 1 }] };
    expect(policyProblem('classes', classes)).toMatchObject({ field: 'classes.4.code', rule: 'code_unique' });
    const benefit = { ...DEFAULT_POLICIES.benefits.benefits[1]!, discountYuanPerTon: 5.001 };
    expect(policyProblem('benefits', { benefits: [benefit] })).toMatchObject({
      field: 'benefits.0.discountYuanPerTon',
    });
    expect(policyProblem('card', { discountRate: 0.02, minMonthlyYuan: 3000.1 })).toBeNull();
    expect(policyProblem('card', { discountRate: 0.02, minMonthlyYuan: 3000.123 })).toMatchObject({
      field: 'minMonthlyYuan',
    });
  });

  it('checks numbers against the limits the schema and the form share', () => {
    expect(isFen(0.29)).toBe(true);
    expect(isFen(19.99)).toBe(true);
    expect(isFen(0.295)).toBe(false);
    expect(limitProblem(POLICY_LIMITS.graceDays, 61)).toBe('max');
    expect(limitProblem(POLICY_LIMITS.graceDays, 2.5)).toBe('integer');
    expect(limitProblem(POLICY_LIMITS.minVisits, 1)).toBe('min');
    expect(limitProblem(POLICY_LIMITS.minMonthlyYuan, 0.001)).toBe('fen');
    expect(limitProblem(POLICY_LIMITS.discountRate, 0.5)).toBeNull();
  });

  it('lists what changed field by field, rules matched by code', () => {
    const before = DEFAULT_POLICIES.classes;
    const after = {
      classes: [
        { code: 'C', minStars: 0 },
        { code: 'VIP', minStars: 4 },
        { code: 'A', minStars: 2 },
        { code: 'D', minStars: 1 },
      ],
    };
    expect(policyChanges(before, after)).toEqual([
      { path: ['classes', 'A', 'minStars'], before: 3, after: 2 },
      { path: ['classes', 'D', 'minStars'], before: null, after: 1 },
      { path: ['classes', 'B', 'minStars'], before: 2, after: null },
    ]);
    const rated = { ...rating, thresholds: { default: rating.thresholds.default } };
    expect(policyChanges(rating, rated)).toEqual([
      { path: ['thresholds', 'organisation'], before: [1000, 5000, 15000, 40000], after: null },
    ]);
    expect(policyChanges(DEFAULT_POLICIES.anomaly, { ...DEFAULT_POLICIES.anomaly, graceDays: 5 })).toEqual([
      { path: ['graceDays'], before: 3, after: 5 },
    ]);
    expect(policyChanges(DEFAULT_POLICIES.benefits, { benefits: [] })).toHaveLength(9);
    expect(policyChanges(DEFAULT_POLICIES.card, DEFAULT_POLICIES.card)).toEqual([]);
  });
});

describe('versions saved before a field existed', () => {
  it('read with the defaults of fields added since, without fields retired since', () => {
    const old = { graceDays: 5, minVisits: 4, declineMonths: 3, pAliveBelow: 0.2 };
    expect(storedPolicy('anomaly', old)).toEqual({ ...DEFAULT_POLICIES.anomaly, graceDays: 5, pAliveBelow: 0.2 });
    expect(storedPolicy('anomaly', DEFAULT_POLICIES.anomaly)).toEqual(DEFAULT_POLICIES.anomaly);
    expect(storedPolicy('card', { discountRate: 0.03, minMonthlyYuan: 100 })).toEqual({
      discountRate: 0.03,
      minMonthlyYuan: 100,
    });
  });
});
