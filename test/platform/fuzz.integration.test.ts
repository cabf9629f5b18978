// Bad input on every route: malformed JSON, wrong types, unknown fields, oversized bodies and random
// JSON, then hostile values on every route of the route table (U+0000 in text, integers past int8,
// 1e30 and 1e+308, huge pages, no body, bodies of the wrong media type). Every answer must be a 4xx
// naming the field where there is one, never a 5xx; a histogram of the answers is printed per engine.
import { afterAll, beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import { describeEngines } from '../helpers/engines.js';
import { ADMIN_PASSWORD, login, setupAdmin, useTestApp, type Session, type TestApp } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { insertContactRecords } from '../helpers/contact-moments.js';
import type { RouteEntry } from '../../src/server/app.js';
import { insertVisitRecords } from '../visits/records.js';
import { insertComplaintRecords } from '../complaints/records.js';
import { insertMysteryRecords } from '../mystery-shoppers/records.js';
import { insertSatisfactionRecords } from '../satisfaction/records.js';
import { insertProspectRecords } from '../prospects/records.js';

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  minItems?: number;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  patternProperties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
}

/** Integers no column holds (int8 + 1, "integers" written as floats, past 2^53, int4 + 1) and the edges below 1. */
const HOSTILE_INTS = [
  '9223372036854775808',
  '1e30',
  '1e+308',
  '2147483648',
  '9007199254740991',
  '9007199254740993',
  '-9007199254740991',
  '-1',
  '0',
];
const NUL_TEXTS = ['a\u0000b', '\u0000'];
/** Dates at the ends of what a date pattern or format admits: year 0 and year 9999, whose next month is 10000. */
const EDGE_DATES = [
  '0000-01',
  '0001-01',
  '9999-12',
  '0000-01-01',
  '0050-02-28',
  '9999-12-31',
  '0000-01-01T00:00:00Z',
  '0001-01-01T00:00:00+14:00',
  '9999-12-31T23:59:59-12:00',
];
/** The edge dates a text schema accepts. */
function edgeDates(s: JsonSchema): string[] {
  if (s.type !== 'string' || (!s.pattern && !s.format)) return [];
  // Only patterns of dates: a code pattern would take '0000-01' as a code and rename a record.
  if (s.pattern && new RegExp(s.pattern).test('abc')) return [];
  const fits = (d: string) =>
    s.pattern
      ? new RegExp(s.pattern).test(d)
      : s.format === 'date'
        ? d.length === 10
        : s.format === 'date-time'
          ? d.length > 10
          : false;
  return EDGE_DATES.filter(fits);
}
/** A valid text for a pattern is the first of these it accepts. */
const TEXT_CANDIDATES = ['FZ1', 'fz', '2026-11', '2026-11-22', 'fuzz'];
/** The last path segment that stands for "a key holding U+0000" in a record-like object. */
const NUL_KEY = Symbol('nul key');

const variantOf = (s: JsonSchema): JsonSchema =>
  s.anyOf ? (s.anyOf.find((x) => x.type !== 'null') ?? s.anyOf[0]!) : s;
const recordValueOf = (s: JsonSchema): JsonSchema | undefined =>
  s.patternProperties
    ? Object.values(s.patternProperties)[0]
    : typeof s.additionalProperties === 'object'
      ? s.additionalProperties
      : undefined;

/** A value the schema accepts, with only the required properties of objects. */
function sample(s: JsonSchema): unknown {
  if (s.default !== undefined) return s.default;
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return s.enum[0];
  if (s.anyOf) return sample(variantOf(s));
  switch (s.type) {
    case 'object':
      return Object.fromEntries(
        (s.required ?? []).filter((k) => s.properties?.[k]).map((k) => [k, sample(s.properties![k]!)]),
      );
    case 'array':
      return s.items ? Array.from({ length: s.minItems ?? 0 }, () => sample(s.items!)) : [];
    case 'integer':
    case 'number':
      return Math.min(Math.max(s.minimum ?? 1, 1), s.maximum ?? Infinity);
    case 'boolean':
      return false;
    case 'string': {
      if (s.format === 'date-time') return '2026-11-22T08:00:00Z';
      if (s.format === 'date') return '2026-11-22';
      if (s.pattern) {
        const re = new RegExp(s.pattern);
        return TEXT_CANDIDATES.find((c) => re.test(c)) ?? 'x';
      }
      return 'x'.repeat(Math.max(1, s.minLength ?? 1));
    }
  }
  return null;
}

type Segment = string | number | typeof NUL_KEY;
/** Every leaf of a request schema (objects' properties, arrays' first item, records' keys) with its schema. */
function leaves(
  s: JsonSchema,
  path: Segment[] = [],
  out: { path: Segment[]; schema: JsonSchema; nullable?: boolean }[] = [],
) {
  const v = variantOf(s);
  if (path.length > 6) return out;
  if (v.type === 'object') {
    for (const [k, p] of Object.entries(v.properties ?? {})) leaves(p, [...path, k], out);
    if (recordValueOf(v)) out.push({ path: [...path, NUL_KEY], schema: { type: 'string' } });
  } else if (v.type === 'array' && v.items) leaves(v.items, [...path, 0], out);
  else out.push({ path, schema: v, nullable: s.anyOf?.some((x) => x.type === 'null') });
  return out;
}

const childOf = (s: JsonSchema, seg: Segment): JsonSchema => {
  const v = variantOf(s);
  if (typeof seg === 'number') return v.items ?? {};
  return (typeof seg === 'string' ? v.properties?.[seg] : undefined) ?? recordValueOf(v) ?? {};
};

/** JSON text of a valid body in which the leaf at `path` is `literal` (raw JSON, so 9223372036854775808 stays as written). */
function bodyWith(root: JsonSchema, path: Segment[], literal: string): string {
  const MARK = '__hostile_value__';
  const body = { v: sample(root) };
  let node = body as Record<string | number, unknown>;
  let key: string | number = 'v';
  let schema = root;
  for (const seg of path) {
    if (typeof node[key] !== 'object' || node[key] === null)
      node[key] = typeof seg === 'number' ? [] : (sample(schema) ?? {});
    node = node[key] as Record<string | number, unknown>;
    if (seg === NUL_KEY) {
      key = 'k\u0000';
      break;
    }
    schema = childOf(schema, seg);
    key = seg;
    if (typeof seg === 'number' || node[seg] === undefined) node[seg] = sample(schema);
  }
  node[key] = MARK;
  return JSON.stringify(body.v).replace(`"${MARK}"`, literal);
}

/** Whether the schema itself accepts the number (then only "no 5xx" is asked of the answer). */
const inRange = (s: JsonSchema, text: string) => {
  const n = Number(text);
  return (
    (s.type === 'integer' || s.type === 'number') &&
    Number.isSafeInteger(n) &&
    n >= (s.minimum ?? -Infinity) &&
    n <= (s.maximum ?? Infinity)
  );
};

/** Whether a 4xx is owed (text with U+0000, a number past the schema's bounds), not just "no 5xx". */
const mustRefuse = (s: JsonSchema, text: string) =>
  text.includes('\u0000') ||
  text.includes('\\u0000') ||
  ((s.type === 'integer' || s.type === 'number') && !inRange(s, text));

const hostileLiterals = (s: JsonSchema): string[] =>
  s.type === 'integer' || s.type === 'number'
    ? HOSTILE_INTS
    : s.type === 'boolean'
      ? []
      : [...NUL_TEXTS, ...edgeDates(s)].map((t) => JSON.stringify(t));

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A value of a type the schema does not accept. */
function wrongValue(s: JsonSchema): unknown {
  const t = s.type ?? s.anyOf?.[0]?.type;
  if (t === 'string') return { not: 'a string' };
  if (t === 'integer' || t === 'number') return 'not-a-number';
  if (t === 'boolean') return { no: true };
  if (t === 'array') return 'not-an-array';
  if (t === 'object') return 42;
  return { unexpected: [] };
}

describeEngines('bad input on every route', (engine) => {
  const ctx = useTestApp(engine, { loginRateLimitPerMinute: 100_000 });
  let admin: Session;
  let tree: Tree;
  let routes: RouteEntry[];
  let userId: number;
  let roleId: number;
  let customerId: number;
  let accessRequestId: number;
  let apiKeyId: number;
  let webhookId: number;
  let webhookDeliveryId: number;
  let apiKey = '';
  let importJobId: number;
  let ratingBatchId: number;
  let alertId: number;
  let churnCaseId: number;
  let visitRecords: Awaited<ReturnType<typeof insertVisitRecords>>;
  let complaintRecords: Awaited<ReturnType<typeof insertComplaintRecords>>;
  let mysteryRecords: Awaited<ReturnType<typeof insertMysteryRecords>>;
  let contactRecords: Awaited<ReturnType<typeof insertContactRecords>>;
  let satisfactionRecords: Awaited<ReturnType<typeof insertSatisfactionRecords>>;
  let devRecords: { prospect: number; dev_plan: number };

  async function send(
    app: TestApp,
    method: string,
    url: string,
    opts: { payload?: string | Buffer; contentType?: string } = {},
  ) {
    // Routes for other systems take the API key; the others ignore it.
    const headers = () => ({
      cookie: admin.cookie,
      'x-csrf-token': admin.csrf,
      authorization: `Bearer ${apiKey}`,
      ...(opts.contentType && { 'content-type': opts.contentType }),
    });
    let res = await app.inject({
      method: method as 'GET',
      url,
      headers: headers(),
      ...(opts.payload !== undefined && { payload: opts.payload }),
    });
    if (res.statusCode === 401) {
      // A fuzzed logout may have ended the admin's session; sign in again and retry once.
      admin = await login(app, 'admin', ADMIN_PASSWORD);
      res = await app.inject({
        method: method as 'GET',
        url,
        headers: headers(),
        ...(opts.payload !== undefined && { payload: opts.payload }),
      });
    }
    return res;
  }

  function expect4xx(res: { statusCode: number; body: string }, label: string) {
    expect(res.statusCode, `${label}: ${res.body}`).toBeGreaterThanOrEqual(400);
    expect(res.statusCode, `${label}: ${res.body}`).toBeLessThan(500);
    const body = JSON.parse(res.body) as { error?: { code?: string } };
    expect(body.error?.code, label).toBeTypeOf('string');
  }

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    userId = await createUser(ctx.app, admin, 'fuzzed', tree.station1, ['attendant']);
    roleId = (await send(ctx.app, 'GET', '/api/roles')).json()[0].id;
    customerId = (
      await send(ctx.app, 'POST', '/api/customers', {
        payload: JSON.stringify({ kind: 'individual', orgUnitId: tree.station1, vehicles: [{ plate: '冀A12345' }] }),
        contentType: 'application/json',
      })
    ).json().id;
    await createUser(ctx.app, admin, 'borrower', tree.station3, ['sales_rep']);
    const borrower = await login(ctx.app, 'borrower', USER_PASSWORD);
    accessRequestId = (
      await ctx.app.inject({
        method: 'POST',
        url: '/api/access-requests',
        headers: { cookie: borrower.cookie, 'x-csrf-token': borrower.csrf },
        payload: { targetOrgUnitId: tree.station1, reason: '核对', days: 1 },
      })
    ).json().id;
    apiKey = (
      await send(ctx.app, 'POST', '/api/api-keys', {
        payload: JSON.stringify({ name: 'POS', orgUnitId: tree.hq }),
        contentType: 'application/json',
      })
    ).json().key;
    apiKeyId = (
      await send(ctx.app, 'POST', '/api/api-keys', {
        payload: JSON.stringify({ name: 'to revoke', orgUnitId: tree.station1 }),
        contentType: 'application/json',
      })
    ).json().id;
    webhookId = (
      await send(ctx.app, 'POST', '/api/webhooks', {
        payload: JSON.stringify({
          name: 'ERP',
          url: 'http://127.0.0.1:9/hook',
          events: ['customer.created'],
          orgUnitId: tree.station1,
        }),
        contentType: 'application/json',
      })
    ).json().id;
    webhookDeliveryId = (
      await ctx.db.kysely
        .insertInto('webhook_delivery')
        .values({
          webhook_id: webhookId,
          event: 'customer.created',
          payload: '{}',
          status: 'delivered',
          attempts: 1,
          next_attempt_at: new Date().toISOString(),
          created_at: new Date().toISOString(),
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    importJobId = (
      await send(ctx.app, 'POST', `/api/imports?fileName=a.csv&orgUnitId=${tree.station1}`, {
        payload: '客户名称,手机\n张三,13800138000\n',
        contentType: 'application/octet-stream',
      })
    ).json().id;
    ratingBatchId = (
      await send(ctx.app, 'POST', '/api/ratings/compute', {
        payload: JSON.stringify({ period: '2025-01' }),
        contentType: 'application/json',
      })
    ).json()[0].batchId;
    alertId = Number(
      (
        await ctx.db.kysely
          .insertInto('alert')
          .values({
            customer_id: customerId,
            org_unit_id: tree.station1,
            kind: 'cadence',
            episode: '2026-11-20',
            status: 'open',
            opened_at: new Date().toISOString(),
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id,
    );
    const at = new Date().toISOString();
    const churnCase = {
      customer_id: customerId,
      org_unit_id: tree.station1,
      category: 'non_natural',
      loss_kind_code: 'all',
      state: 'open',
      note: '客户说换了单位',
      opened_at: at,
      updated_at: at,
    };
    churnCaseId = Number(
      (await ctx.db.kysely.insertInto('churn_case').values(churnCase).returning('id').executeTakeFirstOrThrow()).id,
    );
    devRecords = await insertProspectRecords(ctx.db.kysely, tree.station1, tree.branch1);
    visitRecords = await insertVisitRecords(ctx.db.kysely, tree.station1);
    complaintRecords = await insertComplaintRecords(ctx.db.kysely, tree.station1);
    mysteryRecords = await insertMysteryRecords(ctx.db.kysely, tree.station1);
    contactRecords = await insertContactRecords(ctx.db.kysely, tree.station1, customerId);
    satisfactionRecords = await insertSatisfactionRecords(ctx.db.kysely, tree.station1, customerId);
    routes = ctx.app.routeTable.filter((r) => r.url.startsWith('/api/') && !r.url.startsWith('/api/docs'));
  });

  // Point each route at a record of the kind it names, so that the body is what gets tested.
  const urlOf = (r: RouteEntry) => {
    const type = r.access && 'permission' in r.access ? r.access.resource?.type : undefined;
    const ids = {
      user: userId,
      org_unit: tree.station1,
      customer: customerId,
      access_request: accessRequestId,
      api_key: apiKeyId,
      webhook: webhookId,
      webhook_delivery: webhookDeliveryId,
      import_job: importJobId,
      rating_batch: ratingBatchId,
      alert: alertId,
      churn_case: churnCaseId,
      ...visitRecords,
      ...complaintRecords,
      ...mysteryRecords,
      ...contactRecords,
      ...satisfactionRecords,
      ...devRecords,
    };
    return (
      r.url
        .replace(':id', String(type ? ids[type] : roleId))
        .replace(':mergeId', '1')
        // Any other path parameter: a day, or the id of a row that need not exist (the body is checked first).
        .replace(/:(\w+)/g, (_, name: string) => (name === 'day' ? '2026-12-01' : '1'))
    );
  };

  // A route that takes several media types documents each; its JSON schema is the one to fuzz.
  const bodyOf = (r: RouteEntry) => {
    const body = r.schema?.body as (JsonSchema & { content?: Record<string, { schema: JsonSchema }> }) | undefined;
    return body?.content?.['application/json']?.schema ?? body;
  };

  it('answers malformed JSON with BAD_JSON', async () => {
    for (const r of routes.filter((x) => MUTATING.has(x.method))) {
      const res = await send(ctx.app, r.method, urlOf(r), {
        payload: '{"parentId": 1,',
        contentType: 'application/json',
      });
      expect4xx(res, `${r.method} ${r.url}`);
      expect(res.json().error.code).toBe('BAD_JSON');
    }
  });

  it('refuses other content types', async () => {
    for (const r of routes.filter((x) => MUTATING.has(x.method))) {
      const res = await send(ctx.app, r.method, urlOf(r), {
        payload: 'a=1',
        contentType: 'application/x-www-form-urlencoded',
      });
      expect4xx(res, `${r.method} ${r.url}`);
    }
  });

  it('names the field when a body field has the wrong type', async () => {
    let checked = 0;
    for (const r of routes) {
      const props = bodyOf(r)?.properties;
      if (!props) continue;
      for (const [name, s] of Object.entries(props)) {
        const res = await send(ctx.app, r.method, urlOf(r), {
          payload: JSON.stringify({ [name]: wrongValue(s) }),
          contentType: 'application/json',
        });
        expect4xx(res, `${r.method} ${r.url} ${name}`);
        const err = res.json().error;
        expect(err.field, `${r.method} ${r.url} ${name}: ${res.body}`).toMatch(/^body/);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('refuses unknown fields, naming them', async () => {
    for (const r of routes.filter((x) => x.schema?.body)) {
      const res = await send(ctx.app, r.method, urlOf(r), {
        payload: JSON.stringify({ surprise_field: 1 }),
        contentType: 'application/json',
      });
      expect4xx(res, `${r.method} ${r.url}`);
      expect(res.json().error.field).toMatch(/^body/);
    }
    // With everything else valid, the unknown field alone is named.
    const res = await send(ctx.app, 'POST', '/api/org/units', {
      payload: JSON.stringify({ parentId: tree.hq, kindCode: 'area', code: 'FZ-1', name: 'x', surprise_field: 1 }),
      contentType: 'application/json',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe('body.surprise_field');
  });

  it('refuses wrong types in path and query', async () => {
    for (const r of routes.filter((x) => x.url.includes(':id'))) {
      const res = await send(
        ctx.app,
        r.method,
        r.url.replace(':id', 'abc'),
        MUTATING.has(r.method) ? { payload: '{}', contentType: 'application/json' } : {},
      );
      expect4xx(res, `${r.method} ${r.url}`);
      expect(res.json().error.field, `${r.method} ${r.url}: ${res.body}`).toBe('params.id');
    }
    for (const r of routes.filter((x) => (x.schema?.querystring as JsonSchema | undefined)?.properties)) {
      const qs = r.schema!.querystring as JsonSchema & { required?: string[] };
      for (const [name, s] of Object.entries(qs.properties!)) {
        if (s.type === 'string') continue; // any text is a valid string in a query
        // Fill the other required parameters so that only this one is wrong.
        const valid = (
          x: JsonSchema & { pattern?: string; enum?: unknown[]; anyOf?: { const?: unknown }[]; default?: unknown },
        ) =>
          x.default !== undefined
            ? String(x.default)
            : x.anyOf?.[0]?.const !== undefined
              ? String(x.anyOf[0].const)
              : x.enum?.length
                ? String(x.enum[0])
                : x.type === 'integer' || x.type === 'number'
                  ? '1'
                  : x.pattern?.includes('3[01]')
                    ? '2026-11-02'
                    : x.pattern?.includes('\\d{4}') || x.pattern?.includes('(0[1-9]|1[0-2])')
                      ? '2026-11'
                      : 'ab';
        const others = (qs.required ?? [])
          .filter((x) => x !== name && qs.properties![x])
          .map((x) => `${x}=${valid(qs.properties![x]!)}&`)
          .join('');
        const res = await send(ctx.app, r.method, `${urlOf(r)}?${others}${name}=%7Bbad`);
        expect4xx(res, `${r.method} ${r.url}?${name}`);
        expect(res.json().error.field).toBe(`querystring.${name}`);
      }
    }
  });

  it('refuses oversized bodies with 413', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
    for (const r of routes.filter((x) => MUTATING.has(x.method))) {
      const res = await send(ctx.app, r.method, urlOf(r), { payload: big, contentType: 'application/json' });
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(413);
    }
  });

  // Every answer of the hostile sweep, counted by status for the histogram; the 5xx ones kept whole.
  const histogram = new Map<number, number>();
  const serverErrors: string[] = [];
  async function probe(
    label: string,
    method: string,
    url: string,
    opts: { payload?: string | Buffer; contentType?: string } = {},
  ) {
    const res = await send(ctx.app, method, url, opts);
    histogram.set(res.statusCode, (histogram.get(res.statusCode) ?? 0) + 1);
    if (res.statusCode >= 500)
      serverErrors.push(`${label}: ${method} ${url.slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 200)}`);
    return res;
  }

  afterAll(() => {
    const cases = [...histogram.values()].reduce((a, b) => a + b, 0);
    if (cases === 0) return;
    const counts = [...histogram.entries()].sort(([a], [b]) => a - b).map(([status, n]) => `${status} × ${n}`);
    console.log(`[fuzz ${engine}] ${cases} hostile cases: ${counts.join(', ')}; ${serverErrors.length} × 5xx`);
  });

  /** The URL of a route with its path parameters filled (a record of the kind it names, or `override`) and a query string. */
  const urlWith = (r: RouteEntry, override: Record<string, string> = {}, query = '') => {
    const params = (r.schema?.params as JsonSchema | undefined)?.properties ?? {};
    const filled = urlOf(r).split('/');
    r.url.split('/').forEach((seg, i) => {
      if (!seg.startsWith(':')) return;
      const name = seg.slice(1);
      if (override[name] !== undefined) filled[i] = override[name];
      else if (filled[i]!.startsWith(':')) filled[i] = encodeURIComponent(String(sample(params[name] ?? {})));
    });
    return `${filled.join('/')}${query ? `?${query}` : ''}`;
  };

  /** The body and media type a route takes when nothing in it is under test. */
  const validBody = (r: RouteEntry): { payload?: string; contentType?: string } => {
    if (!MUTATING.has(r.method)) return {};
    if (r.url === '/api/imports') return { payload: '客户名称\n张三\n', contentType: 'application/octet-stream' };
    const body = bodyOf(r);
    return body ? { payload: JSON.stringify(sample(body)), contentType: 'application/json' } : {};
  };

  /** A valid query string for the required parameters other than `except`. */
  const requiredQuery = (r: RouteEntry, except: string) => {
    const qs = r.schema?.querystring as JsonSchema | undefined;
    return (qs?.required ?? [])
      .filter((x) => x !== except && qs!.properties?.[x])
      .map((x) => `${x}=${encodeURIComponent(String(sample(qs!.properties![x]!)))}`)
      .join('&');
  };

  it('never answers hostile values in path, query and body with a 5xx', async () => {
    const started = Date.now();
    for (const r of routes) {
      const label = `${r.method} ${r.url}`;
      // Path parameters: ids past int8, 1e30, negative, zero, U+0000.
      const params = (r.schema?.params as JsonSchema | undefined)?.properties ?? {};
      for (const [name, schema] of Object.entries(params)) {
        for (const v of [...HOSTILE_INTS, ...NUL_TEXTS]) {
          const res = await probe(
            `${label} params.${name}=${JSON.stringify(v)}`,
            r.method,
            urlWith(r, { [name]: encodeURIComponent(v) }, requiredQuery(r, '')),
            validBody(r),
          );
          if (mustRefuse(variantOf(schema), v))
            expect(res.statusCode, `${label} params.${name}=${JSON.stringify(v)}: ${res.body}`).toBeGreaterThanOrEqual(
              400,
            );
        }
      }
      // Query parameters: the same, pages and page sizes included, and a parameter named with U+0000.
      const qs = r.schema?.querystring as JsonSchema | undefined;
      for (const [name, schema] of Object.entries(qs?.properties ?? {})) {
        const v = variantOf(schema);
        const values =
          v.type === 'integer' || v.type === 'number'
            ? HOSTILE_INTS
            : v.type === 'boolean'
              ? []
              : [...NUL_TEXTS, ...edgeDates(v)];
        for (const value of values) {
          const others = requiredQuery(r, name);
          const query = `${others ? `${others}&` : ''}${name}=${encodeURIComponent(value)}`;
          const res = await probe(
            `${label} querystring.${name}=${JSON.stringify(value)}`,
            r.method,
            urlWith(r, {}, query),
            validBody(r),
          );
          if (mustRefuse(v, value))
            expect(
              res.statusCode,
              `${label} querystring.${name}=${JSON.stringify(value)}: ${res.body}`,
            ).toBeGreaterThanOrEqual(400);
        }
      }
      if (qs)
        await probe(
          `${label} querystring key with U+0000`,
          r.method,
          urlWith(r, {}, `${requiredQuery(r, '')}&a%00=1`),
          validBody(r),
        );
      // Body fields, one at a time, the rest of the body valid.
      const body = r.url.startsWith('/api/ingest/') ? undefined : bodyOf(r);
      if (body) {
        for (const leaf of leaves(body)) {
          for (const literal of hostileLiterals(leaf.schema)) {
            const payload = bodyWith(body, leaf.path, literal);
            const res = await probe(`${label} body ${payload.slice(0, 120)}`, r.method, urlWith(r), {
              payload,
              contentType: 'application/json',
            });
            // Where null is allowed, Ajv's type coercion reads 0 as null.
            if (mustRefuse(leaf.schema, literal) && !(leaf.nullable && literal === '0'))
              expect(res.statusCode, `${label} ${payload}: ${res.body}`).toBeGreaterThanOrEqual(400);
          }
        }
      }
    }
    expect(serverErrors, serverErrors.slice(0, 20).join('\n')).toEqual([]);
    console.log(`[fuzz ${engine}] hostile values: ${Date.now() - started} ms`);
  }, 180_000);

  it('never answers a missing body or a body of the wrong media type with a 5xx', async () => {
    const multipart = '--fz\r\ncontent-disposition: form-data; name="a"\r\n\r\n1\r\n--fz--\r\n';
    const kinds: { name: string; payload?: string | Buffer; contentType?: string }[] = [
      { name: 'no body, no content type' },
      { name: 'empty JSON', payload: '', contentType: 'application/json' },
      { name: 'JSON null', payload: 'null', contentType: 'application/json' },
      { name: 'text/plain', payload: 'hello', contentType: 'text/plain' },
      { name: 'multipart', payload: multipart, contentType: 'multipart/form-data; boundary=fz' },
      { name: 'octet-stream', payload: Buffer.from([0, 1, 2, 0xff]), contentType: 'application/octet-stream' },
      { name: 'NDJSON', payload: '{"a":1}\n', contentType: 'application/x-ndjson' },
    ];
    for (const r of routes.filter((x) => MUTATING.has(x.method))) {
      const takesBody = Boolean(r.schema?.body) || r.url === '/api/imports';
      for (const k of kinds) {
        const res = await probe(
          `${r.method} ${r.url} ${k.name}`,
          r.method,
          urlWith(
            r,
            {},
            r.url === '/api/imports'
              ? `fileName=a.csv`
              : r.url.startsWith('/api/ingest/') && k.name === 'NDJSON'
                ? 'source=fz'
                : '',
          ),
          k,
        );
        // A route that takes a body refuses every one of these but its own media type.
        const own =
          (r.url === '/api/imports' && k.name === 'octet-stream') ||
          (r.url.startsWith('/api/ingest/') && k.name === 'NDJSON');
        if (takesBody && !own)
          expect(res.statusCode, `${r.method} ${r.url} ${k.name}: ${res.body}`).toBeGreaterThanOrEqual(400);
      }
    }
    // The file upload: JSON, text, a form or nothing instead of a file is 415/400, never a 500.
    for (const k of kinds.filter((x) => x.name !== 'octet-stream')) {
      const res = await probe(`upload ${k.name}`, 'POST', `/api/imports?fileName=a.csv&orgUnitId=${tree.station1}`, k);
      expect(res.statusCode, `upload ${k.name}: ${res.body}`).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, `upload ${k.name}: ${res.body}`).toBeLessThan(500);
    }
    const json = await probe('upload JSON', 'POST', '/api/imports?fileName=a.csv', {
      payload: '{"a":1}',
      contentType: 'application/json',
    });
    expect(json.statusCode).toBe(415);
    // Ingest with a valid key and no body, or a body it does not take.
    for (const url of ['/api/ingest/transactions', '/api/ingest/topups']) {
      const none = await probe(`${url} no body`, 'POST', url);
      expect(none.statusCode, none.body).toBe(400);
      expect(none.json().error.field).toBe('body');
      const text = await probe(`${url} text`, 'POST', url, { payload: 'hello', contentType: 'text/plain' });
      expect(text.statusCode, text.body).toBe(415);
    }
    expect(serverErrors, serverErrors.slice(0, 20).join('\n')).toEqual([]);
  });

  it('answers an unreadable CSV (a quote never closed) with a 4xx on inspect and dry run', async () => {
    const up = await probe('upload broken CSV', 'POST', `/api/imports?fileName=broken.csv&orgUnitId=${tree.station1}`, {
      payload: '客户名称,手机\n"张三,13800138000\n李四,13900139000\n',
      contentType: 'application/octet-stream',
    });
    expect(up.statusCode, up.body).toBe(201);
    const id = up.json().id as number;
    const inspect = await probe('inspect broken CSV', 'POST', `/api/imports/${id}/inspect`, {
      payload: JSON.stringify({ kind: 'customers' }),
      contentType: 'application/json',
    });
    expect(inspect.statusCode, inspect.body).toBeGreaterThanOrEqual(400);
    expect(inspect.statusCode, inspect.body).toBeLessThan(500);
    expect(inspect.json().error.field).toBe('body');
    const mapping = await probe('map broken CSV', 'PUT', `/api/imports/${id}/mapping`, {
      payload: JSON.stringify({ kind: 'customers', mapping: { 客户名称: 'name', 手机: 'phone' } }),
      contentType: 'application/json',
    });
    expect(mapping.statusCode, mapping.body).toBe(200);
    const dry = await probe('dry-run broken CSV', 'POST', `/api/imports/${id}/dry-run`);
    expect(dry.statusCode, dry.body).toBeGreaterThanOrEqual(400);
    expect(dry.statusCode, dry.body).toBeLessThan(500);
  });

  it('refuses an ingest row holding U+0000 on its own: the row is reported, the rest land', async () => {
    const sale = (externalId: string, extra: Record<string, unknown> = {}) => ({
      externalId,
      occurredAt: '2026-10-15T09:00:00+08:00',
      stationCode: 'B1-A1-S1',
      product: '92#',
      volumeMl: 40_000,
      amountFen: 30_000,
      ...extra,
    });
    const rows = [
      sale('nul-ok-1'),
      sale('nul\u0000id'),
      sale('nul-ok-2'),
      sale('nul-product', { product: '92\u0000#' }),
      sale('nul-station', { stationCode: 'B1\u0000' }),
      sale('nul-plate', { plate: '冀A\u000012345' }),
      sale('nul-card', { cardNo: '9000\u0000' }),
      { ...sale('nul-key'), ['k\u0000']: 1 },
      sale('huge-volume', { volumeMl: 1e30 }),
    ];
    const check = (res: { statusCode: number; body: string; json: () => any }) => {
      expect(res.statusCode, res.body).toBe(200);
      const reply = res.json();
      expect(reply.inserted, res.body).toBe(2);
      expect(reply.rejected).toBe(7);
      expect(reply.errors.map((e: { row: number; field: string }) => [e.row, e.field])).toEqual([
        [2, 'externalId'],
        [4, 'product'],
        [5, 'stationCode'],
        [6, 'plate'],
        [7, 'cardNo'],
        [8, 'k\u0000'],
        [9, 'volumeMl'],
      ]);
    };
    check(
      await probe('ingest JSON with U+0000 rows', 'POST', '/api/ingest/transactions', {
        payload: JSON.stringify({ source: 'fz', transactions: rows }),
        contentType: 'application/json',
      }),
    );
    const ndjsonRows = rows.map((x) => ({ ...x, externalId: `nd-${String(x.externalId)}` }));
    check(
      await probe('ingest NDJSON with U+0000 rows', 'POST', '/api/ingest/transactions?source=fz', {
        payload: ndjsonRows.map((x) => JSON.stringify(x)).join('\n'),
        contentType: 'application/x-ndjson',
      }),
    );
    // The envelope's own text is not a row: U+0000 in the source is the whole request's problem.
    const badSource = await probe('ingest source with U+0000', 'POST', '/api/ingest/transactions', {
      payload: JSON.stringify({ source: 'f\u0000', transactions: [sale('x')] }),
      contentType: 'application/json',
    });
    expect(badSource.statusCode, badSource.body).toBe(400);
    const badQuerySource = await probe('NDJSON source with U+0000', 'POST', '/api/ingest/transactions?source=f%00', {
      payload: JSON.stringify(sale('y')),
      contentType: 'application/x-ndjson',
    });
    expect(badQuerySource.statusCode, badQuerySource.body).toBe(400);
    expect(badQuerySource.json().error.field).toBe('querystring.source');

    const topup = (externalId: string, extra: Record<string, unknown> = {}) => ({
      externalId,
      occurredAt: '2026-10-15T09:00:00+08:00',
      stationCode: 'B1-A1-S1',
      cardNo: '9000000001',
      amountFen: 100_000,
      ...extra,
    });
    const res = await probe('top-ups with U+0000 rows', 'POST', '/api/ingest/topups', {
      payload: JSON.stringify({
        source: 'fz',
        topups: [
          topup('t-ok'),
          topup('t\u0000'),
          topup('t-card', { cardNo: '9\u0000' }),
          topup('t-big', { amountFen: 9223372036854775808 }),
        ],
      }),
      contentType: 'application/json',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().inserted).toBe(1);
    expect(res.json().errors.map((e: { row: number; field: string }) => [e.row, e.field])).toEqual([
      [2, 'externalId'],
      [3, 'cardNo'],
      [4, 'amountFen'],
    ]);
  });

  it('never answers random JSON with a 5xx', async () => {
    const mutating = routes.filter((x) => MUTATING.has(x.method));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: mutating.length - 1 }),
        fc.jsonValue({ maxDepth: 3 }),
        async (i, value) => {
          const r = mutating[i]!;
          const res = await send(ctx.app, r.method, urlOf(r), {
            payload: JSON.stringify(value),
            contentType: 'application/json',
          });
          expect(res.statusCode, `${r.method} ${r.url} ${JSON.stringify(value)}: ${res.body}`).toBeLessThan(500);
        },
      ),
      { numRuns: 300, seed: 20261122 },
    );
  }, 60_000);
});
