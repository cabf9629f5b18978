import { describe, expect, it } from 'vitest';
import {
  addMonths,
  growth,
  isLargeSale,
  isMonth,
  monthDays,
  sameMonthLastYear,
  shareOf,
  topCount,
  topShareOf,
} from './kpi.js';

describe('kpi', () => {
  it('gives growth against a base, and none against a zero base', () => {
    expect(growth(120, 100)).toBeCloseTo(0.2);
    expect(growth(80, 100)).toBeCloseTo(-0.2);
    expect(growth(0, 100)).toBe(-1);
    expect(growth(50, 0)).toBeNull();
    expect(growth(0, 0)).toBeNull();
  });

  it('gives shares, and none of an empty whole', () => {
    expect(shareOf(41, 100)).toBeCloseTo(0.41);
    expect(shareOf(0, 10)).toBe(0);
    expect(shareOf(5, 0)).toBeNull();
  });

  it('counts the top share of customers rounding up, without floating-point surprises', () => {
    expect(topCount(10, 0.2)).toBe(2);
    expect(topCount(10, 0.7)).toBe(7);
    expect(topCount(7, 0.2)).toBe(2);
    expect(topCount(3, 0.2)).toBe(1);
    expect(topCount(0, 0.2)).toBe(0);
    expect(topCount(5, 0)).toBe(0);
    expect(topCount(5, 1)).toBe(5);
  });

  it('sums the volume of the top customers', () => {
    // Ten customers: the top two carry 500 + 300 of 1,000.
    const r = topShareOf([50, 300, 20, 500, 30, 25, 25, 20, 15, 15, 0], 0.2);
    expect(r).toEqual({ customers: 10, topCustomers: 2, topVolume: 800, totalVolume: 1000, share: 0.8 });
    expect(topShareOf([], 0.2)).toEqual({ customers: 0, topCustomers: 0, topVolume: 0, totalVolume: 0, share: null });
  });

  it('marks large sales at the threshold and above', () => {
    expect(isLargeSale(80_000, 800)).toBe(true);
    expect(isLargeSale(79_999, 800)).toBe(false);
    expect(isLargeSale(null, 800)).toBe(false);
  });

  it('does month arithmetic', () => {
    expect(isMonth('2026-02')).toBe(true);
    expect(isMonth('2026-13')).toBe(false);
    expect(addMonths('2026-01', -1)).toBe('2025-12');
    expect(addMonths('2025-12', 1)).toBe('2026-01');
    expect(addMonths('2026-03', -14)).toBe('2025-01');
    expect(sameMonthLastYear('2026-02')).toBe('2025-02');
    expect(monthDays('2024-02')).toEqual({ first: '2024-02-01', last: '2024-02-29' });
    expect(monthDays('2026-12')).toEqual({ first: '2026-12-01', last: '2026-12-31' });
  });
});
