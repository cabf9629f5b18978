// Mainland Chinese phone numbers: parse messy attendant input into one canonical stored form, and mask for display.

export type PhoneKind = 'mobile' | 'landline' | 'service';

export type PhoneParseResult =
  | {
      ok: true;
      /** '+8613812345678', '+861012345678', '+864001234567'. */
      e164: string;
      /** The canonical stored form, same as normalizePhone: '13812345678', '010-12345678', '4001234567'. */
      national: string;
      kind: PhoneKind;
      /** Landlines only, with its trunk 0 as written in China: '010', '0571'. */
      areaCode?: string;
      /** Digits after 转 / 分机 / ext / x / #; never part of `national` so lookups still match the base number. */
      extension?: string;
    }
  | { ok: false; code: 'PHONE_EMPTY' | 'PHONE_INVALID'; reason: string };

const MOBILE = /^1[3-9]\d{9}$/;
const SERVICE = /^[48]00\d{7}$/;
// 010 Beijing, 02x big cities (026 is reserved for Taiwan), otherwise 4-digit codes.
// Local numbers really start 2-9, but 1 is allowed because records are full of 010-12345678-style numbers.
const LANDLINE = /^(010|02[0-57-9]|0[3-9]\d{2})([1-9]\d{6,7})$/;

const DASH = '\\-‐‑‒–—―−﹣';
const SEPARATORS = new RegExp(`[\\s\\u200b-\\u200d\\u2060${DASH}.·•。()\\[\\]【】]`, 'gu');
const LABEL = /^\s*(?:tel|phone|mobile|电话|手机|座机|固话)\s*[:：]?\s*/iu;
const EXTENSION = /^(.*?)\s*(?:转|分机|ext\.?|x|#)\s*[:=.]?\s*(\d{1,6})\s*$/isu;
const NOT_CHINA = 'only mainland China (+86) numbers are supported';

export function parsePhone(input: string): PhoneParseResult {
  const text = toHalfWidth(typeof input === 'string' ? input : '').replace(LABEL, '');
  if (text.replace(SEPARATORS, '') === '')
    return { ok: false, code: 'PHONE_EMPTY', reason: 'the phone number is empty' };

  const ext = EXTENSION.exec(text);
  if (ext) return withExtension(ext[1] ?? '', ext[2] ?? '');

  const whole = parseMain(text);
  if (whole.ok) return whole;
  // '0571-88888888-8001': a trailing dash group is the usual way to write an extension on a business card.
  const dashed = new RegExp(`^(.*\\d.*)[${DASH}]\\s*(\\d{1,6})\\s*$`, 'su').exec(text);
  if (dashed) {
    const base = parseMain(dashed[1] ?? '');
    if (base.ok && base.kind !== 'mobile') return { ...base, extension: dashed[2] ?? '' };
  }
  return whole;
}

/** Canonical stored form, or null when the input is not a valid mainland number. The extension is dropped. */
export function normalizePhone(input: string): string | null {
  const r = parsePhone(input);
  return r.ok ? r.national : null;
}

/** Display mask: '138****5678', '010-****5678', '0571-****567', '400***4567'; anything else keeps at most 2 digits. */
export function maskPhone(normalised: string): string {
  const value = typeof normalised === 'string' ? normalised : '';
  const n = normalizePhone(value) ?? value; // tolerate un-normalised input rather than leak it unmasked
  if (MOBILE.test(n)) return `${n.slice(0, 3)}****${n.slice(7)}`;
  const land = /^(0\d{2,3})-(\d{7,8})$/.exec(n);
  if (land) {
    const local = land[2] ?? '';
    const keep = local.length >= 8 ? 4 : 3;
    return `${land[1] ?? ''}-${'*'.repeat(local.length - keep)}${local.slice(-keep)}`;
  }
  if (SERVICE.test(n)) return `${n.slice(0, 3)}***${n.slice(6)}`;
  const digits = n.replace(/\D/g, '').length;
  let reveal = digits >= 7 ? 2 : 0; // short or unknown strings: too little left to mask if we showed more
  let out = '';
  for (let i = n.length - 1; i >= 0; i--) {
    const ch = n[i] ?? '';
    if (/\d/.test(ch) && reveal-- <= 0) out = '*' + out;
    else out = ch + out;
  }
  return out;
}

function withExtension(main: string, extension: string): PhoneParseResult {
  const base = parseMain(main);
  if (!base.ok) return base;
  if (base.kind === 'mobile') return invalid('mobile numbers do not take an extension');
  return { ...base, extension };
}

function parseMain(text: string): PhoneParseResult {
  const compact = text.replace(SEPARATORS, '');
  if (compact === '') return { ok: false, code: 'PHONE_EMPTY', reason: 'the phone number is empty' };
  if (!/^\+?\d+$/.test(compact))
    return invalid('a phone number may only contain digits, spaces, hyphens, dots, brackets and a leading +');

  let s = compact;
  let international = false;
  if (s.startsWith('+')) {
    if (!s.startsWith('+86')) return invalid(NOT_CHINA);
    s = s.slice(3);
    international = true;
  } else if (s.startsWith('0086')) {
    s = s.slice(4);
    international = true;
  } else if (s.startsWith('00')) {
    return invalid(NOT_CHINA);
  } else if (/^861[3-9]\d{9}$/.test(s)) {
    s = s.slice(2); // a bare 86 only counts as the country code in front of a full mobile number
  }

  if (/^01[3-9]\d{9}$/.test(s)) s = s.slice(1); // trunk 0 people dial before a mobile from a landline
  if (MOBILE.test(s)) return { ok: true, e164: `+86${s}`, national: s, kind: 'mobile' };
  if (SERVICE.test(s)) return { ok: true, e164: `+86${s}`, national: s, kind: 'service' };

  // Internationally the trunk 0 is dropped (+86 10 ...), but people also write +86 010 ...
  const land = LANDLINE.exec(international && !s.startsWith('0') ? `0${s}` : s);
  if (land) {
    const areaCode = land[1] ?? '';
    const local = land[2] ?? '';
    return {
      ok: true,
      e164: `+86${areaCode.slice(1)}${local}`,
      national: `${areaCode}-${local}`,
      kind: 'landline',
      areaCode,
    };
  }
  if (!international && /^[2-9]\d{6,7}$/.test(s)) return invalid('a landline needs its area code, e.g. 010-12345678');
  if (/^1\d*$/.test(s) && s.length !== 11) return invalid(`a mobile number has 11 digits, this has ${s.length}`);
  return invalid(`"${compact}" is not a valid mainland China phone number`);
}

function invalid(reason: string): PhoneParseResult {
  return { ok: false, code: 'PHONE_INVALID', reason };
}

function toHalfWidth(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0xff01 && code <= 0xff5e) out += String.fromCharCode(code - 0xfee0);
    else out += code === 0x3000 ? ' ' : ch;
  }
  return out;
}
