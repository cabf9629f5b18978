import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskPhone, normalizePhone, parsePhone } from './phone.js';

const digit = fc.constantFrom(...'0123456789');
const digits = (n: number) => fc.array(digit, { minLength: n, maxLength: n }).map((a) => a.join(''));
const join = (...parts: fc.Arbitrary<string>[]) => fc.tuple(...parts).map((p) => p.join(''));

const mobile = join(fc.constantFrom('13', '14', '15', '16', '17', '18', '19'), digits(9));
const areaCode = fc.oneof(
  fc.constant('010'),
  fc.constantFrom(...'012345789').map((d) => `02${d}`),
  join(fc.constantFrom(...'3456789'), digits(2)).map((d) => `0${d}`),
);
const local = join(fc.constantFrom(...'23456789'), fc.oneof(digits(6), digits(7)));
const landline = fc.tuple(areaCode, local);
const service = join(fc.constantFrom('400', '800'), digits(7));

const SEPARATORS = [' ', '\u3000', '-', '－', '.', '—'];
const fullWidth = (ch: string) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0);
// Each digit maybe full width, maybe followed by a separator: how numbers arrive from forms and spreadsheets.
const messyDigits = (s: string) =>
  join(
    ...[...s].map((ch) =>
      join(
        fc.constantFrom(ch, fullWidth(ch)),
        fc.oneof({ weight: 3, arbitrary: fc.constant('') }, fc.constantFrom(...SEPARATORS)),
      ),
    ),
  );

const messyMobile = mobile.chain((m) =>
  join(fc.constantFrom('', '+86', '+86 ', '＋８６', '0086 ', '86', '86-', '(+86) ', '0'), messyDigits(m)).map(
    (input) => ({ canonical: m, input }),
  ),
);
const messyLandline = landline.chain(([area, loc]) =>
  fc
    .oneof(
      join(messyDigits(area), fc.constantFrom('', '-', ' ', ')'), messyDigits(loc)),
      join(fc.constant('('), messyDigits(area), fc.constantFrom(')', '）'), messyDigits(loc)),
      join(
        fc.constantFrom('+86 ', '+86-', '0086 ', '+86 (0)'),
        messyDigits(area.slice(1)),
        fc.constantFrom(' ', '-'),
        messyDigits(loc),
      ),
      join(fc.constant('+86 '), messyDigits(area), fc.constant(' '), messyDigits(loc)),
    )
    .map((input) => ({ canonical: `${area}-${loc}`, input })),
);
const messyService = service.chain((s) => messyDigits(s).map((input) => ({ canonical: s, input })));
const anyMessy = fc.oneof(messyMobile, messyLandline, messyService);

describe('parsePhone examples', () => {
  it('parses mobiles in many forms', () => {
    for (const input of [
      '13812345678',
      '138 1234 5678',
      '138-1234-5678',
      '+86 138 1234 5678',
      '+86-13812345678',
      '008613812345678',
      '8613812345678',
      '１３８１２３４５６７８',
      '(+86)138.1234.5678',
      '013812345678',
      '手机：13812345678',
    ]) {
      expect(parsePhone(input), input).toEqual({
        ok: true,
        e164: '+8613812345678',
        national: '13812345678',
        kind: 'mobile',
      });
    }
  });

  it('parses landlines with 3- and 4-digit area codes', () => {
    expect(parsePhone('010-12345678')).toEqual({
      ok: true,
      e164: '+861012345678',
      national: '010-12345678',
      kind: 'landline',
      areaCode: '010',
    });
    expect(parsePhone('(021) 6234 5678')).toMatchObject({ national: '021-62345678', areaCode: '021' });
    expect(parsePhone('０５７１－８８８８８８８')).toMatchObject({ national: '0571-8888888', e164: '+865718888888' });
    expect(parsePhone('0311 8765 4321')).toMatchObject({ national: '0311-87654321', kind: 'landline' });
    expect(parsePhone('+86 10 8888 6666')).toMatchObject({ national: '010-88886666' });
    expect(parsePhone('+86 (0)20 8888 6666')).toMatchObject({ national: '020-88886666' });
  });

  it('keeps extensions apart from the number', () => {
    expect(parsePhone('010-12345678转123')).toMatchObject({ national: '010-12345678', extension: '123' });
    expect(parsePhone('0571-88888888 ext. 8001')).toMatchObject({ national: '0571-88888888', extension: '8001' });
    expect(parsePhone('0571 88888888 x8001')).toMatchObject({ extension: '8001' });
    expect(parsePhone('021-62345678#22')).toMatchObject({ extension: '22' });
    expect(parsePhone('021-62345678分机22')).toMatchObject({ extension: '22' });
    expect(parsePhone('0571-88888888-8001')).toMatchObject({ national: '0571-88888888', extension: '8001' });
    expect(parsePhone('400-123-4567转1')).toMatchObject({ kind: 'service', extension: '1' });
    expect(normalizePhone('010-12345678转123')).toBe('010-12345678');
    expect(parsePhone('13812345678转1')).toMatchObject({ ok: false, code: 'PHONE_INVALID' });
  });

  it('parses 400/800 service numbers', () => {
    expect(parsePhone('400-123-4567')).toEqual({
      ok: true,
      e164: '+864001234567',
      national: '4001234567',
      kind: 'service',
    });
    expect(parsePhone('800 810 8888')).toMatchObject({ national: '8008108888', kind: 'service' });
  });

  it('reports empty and invalid input', () => {
    expect(parsePhone('')).toMatchObject({ ok: false, code: 'PHONE_EMPTY' });
    expect(parsePhone(' - ( ) ')).toMatchObject({ ok: false, code: 'PHONE_EMPTY' });
    for (const bad of [
      '1381234567',
      '138123456789',
      '12345678',
      '88886666',
      '+1 415 555 0100',
      '001 415 5550100',
      '02612345678',
      '010-0234567',
      'abc',
      '110',
      '12812345678',
      '86 10 12345678',
    ]) {
      expect(parsePhone(bad), bad).toMatchObject({ ok: false, code: 'PHONE_INVALID' });
    }
    const noArea = parsePhone('8888 6666');
    expect(!noArea.ok && noArea.reason).toMatch(/area code/);
  });
});

describe('normalizePhone and maskPhone examples', () => {
  it('produces the canonical stored form', () => {
    expect(normalizePhone('+86 138-1234-5678')).toBe('13812345678');
    expect(normalizePhone('(010)12345678')).toBe('010-12345678');
    expect(normalizePhone('400 123 4567')).toBe('4001234567');
    expect(normalizePhone('not a phone')).toBeNull();
  });

  it('masks each kind', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('010-12345678')).toBe('010-****5678');
    expect(maskPhone('0571-8888888')).toBe('0571-****888');
    expect(maskPhone('4001234567')).toBe('400***4567');
    expect(maskPhone('+86 138 1234 5678')).toBe('138****5678');
    expect(maskPhone('12345')).toBe('*****');
    expect(maskPhone('1234567')).toBe('*****67');
    expect(maskPhone('')).toBe('');
  });
});

describe('phone properties', () => {
  it('messy formatting normalises to the canonical form', () => {
    fc.assert(
      fc.property(anyMessy, ({ canonical, input }) => {
        expect(normalizePhone(input)).toBe(canonical);
      }),
    );
  });

  it('normalisation is idempotent and canonical forms re-parse to themselves', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyMessy.map((m) => m.input),
          fc.string({ unit: 'binary' }),
          fc.string({ unit: fc.constantFrom(...'0123456789+-() '), maxLength: 16 }),
        ),
        (input) => {
          const once = normalizePhone(input);
          if (once === null) return;
          expect(normalizePhone(once)).toBe(once);
          const r = parsePhone(once);
          expect(r.ok && r.national).toBe(once);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('the mask never reveals more than 7 digits of a mobile', () => {
    fc.assert(
      fc.property(messyMobile, ({ canonical, input }) => {
        for (const masked of [maskPhone(canonical), maskPhone(input)]) {
          expect(masked.replace(/\D/g, '').length).toBeLessThanOrEqual(7);
          expect(masked).toBe(`${canonical.slice(0, 3)}****${canonical.slice(7)}`);
        }
      }),
    );
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        parsePhone(s);
        normalizePhone(s);
        maskPhone(s);
      }),
    );
  });
});
