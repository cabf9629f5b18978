// Chinese vehicle licence plates (GA 36-2018 shapes): normalisation of attendant input, validation, search keys.

/** The 31 mainland province-level abbreviations that open a civilian plate. */
export const PLATE_PROVINCES = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼';

export type PlateKind =
  | 'standard'
  | 'new_energy'
  | 'trailer'
  | 'coach'
  | 'police'
  | 'hk_macao'
  | 'embassy'
  | 'military_armed_police'
  | 'emergency';

export type PlateParseResult =
  | { ok: true; plate: string; kind: PlateKind; province?: string }
  | { ok: false; code: 'PLATE_EMPTY' | 'PLATE_INVALID'; reason: string };

// Spaces, the dot printed between authority letter and serial in its many guises, and dashes.
const SEPARATOR = /[\s\u200b-\u200d\u2060·•‧∙⋅.。｡﹒・･\-‐‑‒–—―−﹣]/u;

/** Full-width to half-width, drop separators, upper-case ASCII; every other character is kept as typed. */
export function normalizePlate(input: string): string {
  if (typeof input !== 'string') return ''; // callers from untyped JS (form bodies) must not crash us
  let out = '';
  for (const raw of input) {
    const ch = toHalfWidth(raw);
    if (SEPARATOR.test(ch)) continue;
    out += ch >= 'a' && ch <= 'z' ? ch.toUpperCase() : ch;
  }
  return out;
}

/** Key for substring search over plates: use it for both the stored column and the query, partial plates welcome. */
export function plateSearchKey(input: string): string {
  // Anything that can never be part of a plate (punctuation, emoji) would only make substring matches miss.
  return normalizePlate(input).replace(/[^A-Z0-9\p{Script=Han}]/gu, '');
}

const P = `[${PLATE_PROVINCES}]`;
const DIGIT = '[0-9]';
// Issuing-authority letter: I is never issued; O is kept because some provinces issued it (e.g. 粤O).
const AUTHORITY = { strict: '[A-HJ-Z]', loose: '[A-Z]' };
// Serial characters: I and O are never used, so they look like 1 and 0 but must be reported, not guessed.
const SERIAL = { strict: '[A-HJ-NP-Z0-9]', loose: '[A-Z0-9]' };
// Small NEV: D/F originally, extended in 2021 with A B C E (electric) and G H J K (non-electric).
const NEV_SMALL = '[DFABCEGHJK]';

type Shape = { kind: PlateKind; build: (a: string, s: string) => string };

const SHAPES: Shape[] = [
  { kind: 'standard', build: (a, s) => `${P}${a}${s}{5}` },
  { kind: 'new_energy', build: (a, s) => `${P}${a}${NEV_SMALL}${s}${DIGIT}{4}` },
  { kind: 'new_energy', build: (a) => `${P}${a}${DIGIT}{5}[DF]` },
  { kind: 'trailer', build: (a, s) => `${P}${a}${s}{4}挂` },
  { kind: 'coach', build: (a, s) => `${P}${a}${s}{4}学` },
  { kind: 'police', build: (a, s) => `${P}${a}${s}{4}警` },
  { kind: 'hk_macao', build: (_a, s) => `粤Z${s}{4}[港澳]` },
  { kind: 'embassy', build: () => `使${DIGIT}{6}` },
  { kind: 'embassy', build: (a, s) => `${P}${a}${s}{4}[使领]` },
  { kind: 'military_armed_police', build: (_a, s) => `WJ${P}?${s}{5}` },
  { kind: 'emergency', build: (a, s) => `${P}${a}${s}{4}应急` },
  { kind: 'emergency', build: (a) => `应急${P}${DIGIT}{3}${a}` },
];

const STRICT = SHAPES.map((s) => ({
  kind: s.kind,
  re: new RegExp(`^${s.build(AUTHORITY.strict, SERIAL.strict)}$`, 'u'),
}));
const LOOSE = SHAPES.map((s) => new RegExp(`^${s.build(AUTHORITY.loose, SERIAL.loose)}$`, 'u'));

export function parsePlate(input: string): PlateParseResult {
  const plate = normalizePlate(input);
  if (plate === '') return { ok: false, code: 'PLATE_EMPTY', reason: 'the plate is empty' };
  const hit = STRICT.find((s) => s.re.test(plate));
  if (hit) {
    const province = [...plate].find((ch) => PLATE_PROVINCES.includes(ch));
    return province ? { ok: true, plate, kind: hit.kind, province } : { ok: true, plate, kind: hit.kind };
  }
  return { ok: false, code: 'PLATE_INVALID', reason: explain(plate) };
}

function explain(plate: string): string {
  if (LOOSE.some((re) => re.test(plate))) {
    return `"${plate}" uses the letter I or O, which Chinese plates never use (did you mean 1 or 0?)`;
  }
  const first = [...plate][0] ?? '';
  if (/^\p{Script=Han}$/u.test(first) && !PLATE_PROVINCES.includes(first) && first !== '使' && first !== '应') {
    return `"${first}" is not a province abbreviation`;
  }
  if (/^[A-Z]/.test(plate) && !plate.startsWith('WJ') && LOOSE.some((re) => re.test(`京${plate}`))) {
    return `"${plate}" is missing its province abbreviation (e.g. 京, 粤)`;
  }
  return `"${plate}" is not a recognised plate format`;
}

function toHalfWidth(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (code >= 0xff01 && code <= 0xff5e) return String.fromCharCode(code - 0xfee0);
  return code === 0x3000 ? ' ' : ch;
}
