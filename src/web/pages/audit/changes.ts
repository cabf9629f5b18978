// An audit record's before/after snapshots as rows a person reads: one row per field, field names and
// coded values in the reader's language where the customer form names them, unchanged fields left out.
// The snapshots differ in shape (a stored row in snake_case before, the request in camelCase after).

export interface ChangeRow {
  key: string;
  /** The translated field name, or null when only the raw key is known. */
  label: string | null;
  before: string | null;
  after: string | null;
}

/** How the page names things: a catalog lookup that answers null for keys it lacks. */
export interface ChangeWords {
  field: (entity: string, key: string) => string | null;
  value: (entity: string, key: string, code: string) => string | null;
  yes: string;
  no: string;
  separator: string;
  /** A value with its detail beside it: a plate and its model, a phone and its contact. */
  aside: (value: string, detail: string) => string;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function parse(raw: string | null): Json | undefined {
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as Json;
  } catch {
    return raw;
  }
}

const isObject = (v: Json | undefined): v is { [k: string]: Json } =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const camel = (k: string) => k.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

function camelKeys(o: { [k: string]: Json }): Map<string, Json> {
  return new Map(Object.entries(o).map(([k, v]) => [camel(k), v]));
}

// The element of a list worth showing: a phone, a plate, a card, with its detail beside it.
function itemText(v: Json, words: ChangeWords): string {
  if (!isObject(v)) return scalarText(v, words);
  const o = camelKeys(v);
  const main = o.get('phone') ?? o.get('plate') ?? o.get('cardNo') ?? o.get('tag') ?? o.get('name') ?? null;
  if (main === null || typeof main === 'object') return JSON.stringify(v);
  const detail = [o.get('model'), o.get('contactName'), o.get('label')].filter((x) => typeof x === 'string' && x);
  return detail.length ? words.aside(String(main), detail.join(' · ')) : String(main);
}

function scalarText(v: Json, words: ChangeWords): string {
  if (v === null) return '';
  if (typeof v === 'boolean') return v ? words.yes : words.no;
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.map((x) => itemText(x, words)).join(words.separator);
  return JSON.stringify(v);
}

function valueText(entity: string, key: string, v: Json | undefined, words: ChangeWords): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'string') return words.value(entity, key, v) ?? v;
  // Coded numbers: flags stored as 0/1, ids of other records.
  if (typeof v === 'number') return words.value(entity, key, String(v)) ?? String(v);
  const text = scalarText(v, words);
  return text === '' ? null : text;
}

/**
 * Rows for the fields of one record. With both snapshots (an edit) only the fields the change named
 * and that differ are listed; with one snapshot (a creation, a deletion) every field is.
 */
export function changeRows(
  entity: string,
  beforeRaw: string | null,
  afterRaw: string | null,
  words: ChangeWords,
): ChangeRow[] | null {
  const before = parse(beforeRaw);
  const after = parse(afterRaw);
  if ((before !== undefined && !isObject(before)) || (after !== undefined && !isObject(after))) return null;
  if (before === undefined && after === undefined) return [];
  const b = before ? camelKeys(before) : new Map<string, Json>();
  const a = after ? camelKeys(after) : new Map<string, Json>();
  const keys = after ? [...a.keys()] : [...b.keys()];
  const rows: ChangeRow[] = [];
  for (const key of keys) {
    const bt = before ? valueText(entity, key, b.get(key), words) : null;
    const at = after ? valueText(entity, key, a.get(key), words) : null;
    if (before && after && bt === at) continue;
    if (bt === null && at === null) continue;
    rows.push({ key, label: words.field(entity, key), before: bt, after: at });
  }
  return rows;
}
