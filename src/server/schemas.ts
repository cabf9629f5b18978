// Shared TypeBox pieces for route schemas, and the checks every request part gets whatever its schema.
import { Type, type TSchema } from '@sinclair/typebox';

export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String()),
    details: Type.Optional(Type.Unknown()),
  }),
});

/**
 * The range of an integer or number in a request whose schema sets no bound of its own. Past 2^53 a JSON
 * number has lost digits, and past int8 (or as 1e30) the databases refuse it with an error, not an answer.
 */
export const MAX_INT = Number.MAX_SAFE_INTEGER;
/** Highest page of a paged list: page × pageSize stays far inside what both engines take as an offset. */
export const MAX_PAGE = 10_000_000;
/** Columns such as `version` are 4-byte integers on PostgreSQL; a larger value is refused, not compared. */
export const MAX_INT4 = 2_147_483_647;

export const Id = Type.Integer({ minimum: 1, maximum: MAX_INT });
/**
 * Years a date in a request may have (1900–2999). Year 0 does not exist for PostgreSQL, year 10000
 * (the end of 9999 in a western zone) has no ISO form that JavaScript and the databases share, and
 * JavaScript reads years 0–99 as 1900–1999; the business has no dates outside these.
 */
const YEAR = '(19|2\\d)\\d{2}';
/** A calendar month, YYYY-MM. */
export const Month = Type.String({ pattern: `^${YEAR}-(0[1-9]|1[0-2])$`, description: 'YYYY-MM' });
/** An instant, ISO 8601 with its offset. */
export const Instant = Type.String({
  format: 'date-time',
  pattern: `^${YEAR}-`,
  description: 'ISO 8601, e.g. 2026-11-22T08:30:00+08:00',
});

/** The version a client read, sent back with an edit (optimistic locking). */
export const Version = Type.Integer({ minimum: 1, maximum: MAX_INT4 });
export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });

export const Paging = {
  page: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 1 }),
  pageSize: Type.Integer({ minimum: 1, maximum: 200, default: 20 }),
};

export function Page<T extends TSchema>(item: T) {
  return Type.Object({ total: Type.Integer(), items: Type.Array(item) });
}

export const Ok = Type.Object({ ok: Type.Boolean() });

/** Standard error responses every route may give, for the OpenAPI document. */
export const errorResponses = {
  400: ErrorSchema,
  401: ErrorSchema,
  403: ErrorSchema,
  404: ErrorSchema,
  409: ErrorSchema,
  422: ErrorSchema,
};

/**
 * Give every integer and number of a request schema that has no bound of its own the range
 * [-MAX_INT, MAX_INT], in place. Called once per route as it is registered, so no route can let
 * 9223372036854775808 or 1e+308 through to a query, and the OpenAPI document shows the bounds.
 */
export function boundNumbers(schema: unknown): void {
  const stack: unknown[] = [schema];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null || seen.has(node)) continue;
    seen.add(node);
    if (Array.isArray(node)) {
      stack.push(...(node as unknown[]));
      continue;
    }
    const s = node as Record<string, unknown>;
    const types = Array.isArray(s.type) ? (s.type as unknown[]) : [s.type];
    if (types.includes('integer') || types.includes('number')) {
      if (s.maximum === undefined && s.exclusiveMaximum === undefined) s.maximum = MAX_INT;
      if (s.minimum === undefined && s.exclusiveMinimum === undefined) s.minimum = -MAX_INT;
    }
    // Sub-schemas only: literal values (default, const, enum, examples) are not schemas.
    for (const [key, value] of Object.entries(s)) {
      if (key !== 'default' && key !== 'const' && key !== 'enum' && key !== 'examples') stack.push(value);
    }
  }
}

/** What a parser built (JSON objects and arrays, query and params objects), not a stream or bytes. */
function isParsed(v: object): boolean {
  return !ArrayBuffer.isView(v) && typeof (v as { pipe?: unknown }).pipe !== 'function';
}

/**
 * The first field of a parsed request part whose text (or key) holds U+0000, as a path like
 * `body.vehicles.1.plate`, or null. PostgreSQL cannot store that character in text: it would fail the
 * statement (a 500, or a whole ingest batch), so it is refused before validation on both engines.
 */
export function fieldWithNul(value: unknown, root: string): string | null {
  // An explicit stack: a deeply nested JSON body must not overflow the call stack.
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return path;
    } else if (typeof v === 'object' && v !== null && isParsed(v)) {
      const entries = Object.entries(v);
      for (const [key] of entries) if (key.includes('\u0000')) return `${path}.${key.replaceAll('\u0000', '\\u0000')}`;
      // Pushed last to first, so the first field in the document is reported.
      for (let i = entries.length - 1; i >= 0; i--) stack.push([entries[i]![1], `${path}.${entries[i]![0]}`]);
    }
  }
  return null;
}
