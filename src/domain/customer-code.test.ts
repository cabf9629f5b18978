import { describe, expect, it } from 'vitest';
import { codePrefix, formatCode, validateScheme } from './customer-code.js';

const parts = { branch: 'SJZ', area: 'CA', station: 'S01', kind: 'organisation' };

describe('customer code scheme', () => {
  it('fills placeholders and pads the sequence', () => {
    expect(formatCode('{branch}-{area}-{kind}{seq:6}', parts, 42)).toBe('SJZ-CA-O000042');
    expect(formatCode('{station}{seq}', parts, 7)).toBe('S017');
  });
  it('shares a counter between codes with the same prefix only', () => {
    expect(codePrefix('{branch}{kind}{seq:6}', parts)).toBe(
      codePrefix('{branch}{kind}{seq:6}', { ...parts, area: 'XX' }),
    );
    expect(codePrefix('{branch}{kind}{seq:6}', parts)).not.toBe(
      codePrefix('{branch}{kind}{seq:6}', { ...parts, kind: 'individual' }),
    );
  });
  it('rejects schemes without a sequence or with unknown placeholders', () => {
    expect(validateScheme('{branch}')).toMatch(/seq/);
    expect(validateScheme('{branch}{foo}{seq}')).toMatch(/unknown/);
    expect(validateScheme('{branch}{seq:5}')).toBeNull();
  });
});
