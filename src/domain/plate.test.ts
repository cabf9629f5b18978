import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizePlate, parsePlate, plateSearchKey, PLATE_PROVINCES, type PlateKind } from './plate.js';

const PROVINCES = [...PLATE_PROVINCES];
const AUTHORITY = [...'ABCDEFGHJKLMNOPQRSTUVWXYZ'];
const SERIAL = [...'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789'];
const DIGITS = [...'0123456789'];

const province = fc.constantFrom(...PROVINCES);
const authority = fc.constantFrom(...AUTHORITY);
const serial = (n: number) =>
  fc.array(fc.constantFrom(...SERIAL), { minLength: n, maxLength: n }).map((a) => a.join(''));
const digits = (n: number) =>
  fc.array(fc.constantFrom(...DIGITS), { minLength: n, maxLength: n }).map((a) => a.join(''));
const join = (...parts: fc.Arbitrary<string>[]) => fc.tuple(...parts).map((p) => p.join(''));
const lit = (s: string) => fc.constant(s);

const GENERATORS: Record<PlateKind, fc.Arbitrary<string>> = {
  standard: join(province, authority, serial(5)),
  new_energy: fc.oneof(
    join(province, authority, fc.constantFrom('D', 'F'), serial(1), digits(4)),
    join(province, authority, digits(5), fc.constantFrom('D', 'F')),
  ),
  trailer: join(province, authority, serial(4), lit('挂')),
  coach: join(province, authority, serial(4), lit('学')),
  police: join(province, authority, serial(4), lit('警')),
  hk_macao: join(lit('粤Z'), serial(4), fc.constantFrom('港', '澳')),
  embassy: fc.oneof(join(lit('使'), digits(6)), join(province, authority, serial(4), fc.constantFrom('使', '领'))),
  military_armed_police: fc.oneof(join(lit('WJ'), province, serial(5)), join(lit('WJ'), serial(5))),
  emergency: fc.oneof(
    join(province, authority, serial(4), lit('应急')),
    join(lit('应急'), province, digits(3), authority),
  ),
};
const KINDS = Object.keys(GENERATORS) as PlateKind[];
const anyPlate = fc.oneof(...KINDS.map((kind) => GENERATORS[kind].map((plate) => ({ kind, plate }))));

const SEPARATORS = [' ', '\u3000', '·', '•', '.', '。', '・', '-', '－', '．', '\t'];
const fullWidth = (ch: string) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0);
// How an attendant might type one character: any case, half or full width, with stray separators around it.
const messyChar = (ch: string) => {
  const forms = /[A-Z0-9]/.test(ch)
    ? [...new Set([ch, ch.toLowerCase(), fullWidth(ch), fullWidth(ch.toLowerCase())])]
    : [ch];
  const sep = fc.array(fc.constantFrom(...SEPARATORS), { maxLength: 2 }).map((a) => a.join(''));
  return join(sep, fc.constantFrom(...forms), sep);
};
const messy = (plate: string) => join(...[...plate].map(messyChar));

describe('normalizePlate', () => {
  it('folds full width, case, dots, spaces and hyphens', () => {
    expect(normalizePlate(' 京ａ·１２３４５ ')).toBe('京A12345');
    expect(normalizePlate('粤b 8k-2q.9')).toBe('粤B8K2Q9');
    expect(normalizePlate('粤B•D1234。5')).toBe('粤BD12345');
    expect(normalizePlate('沪Ａ－1234・领')).toBe('沪A1234领');
    expect(normalizePlate('京\u3000A\t12345')).toBe('京A12345');
  });
  it('does not auto-correct O/0 or I/1', () => {
    expect(normalizePlate('京AO1I34')).toBe('京AO1I34');
  });
});

describe('parsePlate examples', () => {
  const cases: Array<[string, PlateKind, string | undefined]> = [
    ['京A12345', 'standard', '京'],
    ['粤B8K2Q9', 'standard', '粤'],
    ['粤BD12345', 'new_energy', '粤'],
    ['京AF12345', 'new_energy', '京'],
    ['粤B12345D', 'new_energy', '粤'],
    ['粤B1234挂', 'trailer', '粤'],
    ['京A1234学', 'coach', '京'],
    ['京A0001警', 'police', '京'],
    ['粤Z1234港', 'hk_macao', '粤'],
    ['粤Z1234澳', 'hk_macao', '粤'],
    ['使014578', 'embassy', undefined],
    ['沪A1234领', 'embassy', '沪'],
    ['WJ京12345', 'military_armed_police', '京'],
    ['WJ01234', 'military_armed_police', undefined],
    ['京A1234应急', 'emergency', '京'],
  ];
  it.each(cases)('%s is %s', (input, kind, province) => {
    const r = parsePlate(input);
    expect(r).toEqual(province ? { ok: true, plate: input, kind, province } : { ok: true, plate: input, kind });
  });

  it('accepts messy forms', () => {
    expect(parsePlate('京a·12345')).toMatchObject({ ok: true, plate: '京A12345' });
    expect(parsePlate('粤 B D1234 5')).toMatchObject({ ok: true, plate: '粤BD12345', kind: 'new_energy' });
    expect(parsePlate('ＷＪ京１２３４５')).toMatchObject({ ok: true, plate: 'WJ京12345' });
    expect(parsePlate('粤z-1234-港')).toMatchObject({ ok: true, kind: 'hk_macao' });
  });

  it('reports empty input', () => {
    expect(parsePlate('')).toMatchObject({ ok: false, code: 'PLATE_EMPTY' });
    expect(parsePlate(' · - ')).toMatchObject({ ok: false, code: 'PLATE_EMPTY' });
  });

  it('rejects I and O in serials with a hint, without correcting them', () => {
    const r = parsePlate('京AO1234');
    expect(r).toMatchObject({ ok: false, code: 'PLATE_INVALID' });
    expect(!r.ok && r.reason).toMatch(/I or O/);
    expect(parsePlate('粤B1I345')).toMatchObject({ ok: false, code: 'PLATE_INVALID' });
  });

  it('explains unknown provinces and missing provinces', () => {
    const unknown = parsePlate('港A12345');
    expect(!unknown.ok && unknown.reason).toMatch(/province abbreviation/);
    const missing = parsePlate('A12345');
    expect(!missing.ok && missing.reason).toMatch(/missing its province/);
  });

  it('rejects wrong shapes', () => {
    for (const bad of [
      '京A1234',
      '京A123456',
      '粤BX12345',
      '粤B1234X5',
      '京12345',
      '沪Z1234港',
      '使01457',
      '1234567',
      'hello',
    ]) {
      expect(parsePlate(bad), bad).toMatchObject({ ok: false, code: 'PLATE_INVALID' });
    }
  });
});

describe('plateSearchKey', () => {
  it('normalises partial plates for substring search', () => {
    expect(plateSearchKey('345')).toBe('345');
    expect(plateSearchKey('a123')).toBe('A123');
    expect(plateSearchKey('粤 b')).toBe('粤B');
    expect(plateSearchKey('粤B*12?')).toBe('粤B12');
    expect('粤B8K2Q9'.includes(plateSearchKey('8k 2q'))).toBe(true);
  });
});

describe('plate properties', () => {
  it('parses every generated plate of every kind as that kind', () => {
    fc.assert(
      fc.property(anyPlate, ({ kind, plate }) => {
        expect(parsePlate(plate)).toMatchObject({ ok: true, plate, kind });
      }),
    );
  });

  it('normalisation is idempotent', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          anyPlate.chain(({ plate }) => messy(plate)),
        ),
        (s) => {
          const once = normalizePlate(s);
          expect(normalizePlate(once)).toBe(once);
        },
      ),
    );
  });

  it('messy spellings (separators, full width, lower case) normalise to the same plate', () => {
    fc.assert(
      fc.property(
        anyPlate.chain(({ kind, plate }) => messy(plate).map((input) => ({ kind, plate, input }))),
        ({ kind, plate, input }) => {
          expect(normalizePlate(input)).toBe(plate);
          expect(parsePlate(input)).toMatchObject({ ok: true, plate, kind });
        },
      ),
    );
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        parsePlate(s);
        plateSearchKey(s);
      }),
    );
  });

  it('any accepted plate re-parses to itself and is its own search key', () => {
    const plateish = fc.string({
      unit: fc.constantFrom(...PROVINCES.slice(0, 4), ...'ADFZWJIO0159 ·-', '挂', '使', '应急', '港'),
      maxLength: 10,
    });
    fc.assert(
      fc.property(
        fc.oneof(
          plateish,
          anyPlate.map((p) => p.plate),
        ),
        (s) => {
          const r = parsePlate(s);
          if (!r.ok) return;
          expect(parsePlate(r.plate)).toEqual(r);
          expect(plateSearchKey(r.plate)).toBe(r.plate);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
