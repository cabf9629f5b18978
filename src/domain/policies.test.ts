import { describe, expect, it } from 'vitest';
import { benefitsFor, cardSaving, classFor, DEFAULT_POLICIES, policyProblem, starsFor } from './policies.js';

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

  it('refuses thresholds that do not rise', () => {
    expect(policyProblem('star_rating', { ...rating, thresholds: { default: [10, 10, 20, 30] } })).toMatch(/thresholds.default/);
    expect(policyProblem('star_rating', rating)).toBeNull();
  });
});
