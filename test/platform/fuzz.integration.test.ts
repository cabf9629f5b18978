// Bad input on every route: malformed JSON, wrong types, unknown fields, oversized bodies and random
// JSON. Every answer must be a 4xx naming the field where there is one, never a 5xx.
import { beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import { describeEngines } from '../helpers/engines.js';
import { ADMIN_PASSWORD, login, setupAdmin, useTestApp, type Session, type TestApp } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import type { RouteEntry } from '../../src/server/app.js';

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
}

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
  let apiKey = '';
  let importJobId: number;
  let ratingBatchId: number;
  let alertId: number;

  async function send(app: TestApp, method: string, url: string, opts: { payload?: string; contentType?: string } = {}) {
    // Routes for other systems take the API key; the others ignore it.
    const headers = () => ({ cookie: admin.cookie, 'x-csrf-token': admin.csrf, authorization: `Bearer ${apiKey}`, ...(opts.contentType && { 'content-type': opts.contentType }) });
    let res = await app.inject({ method: method as 'GET', url, headers: headers(), ...(opts.payload !== undefined && { payload: opts.payload }) });
    if (res.statusCode === 401) {
      // A fuzzed logout may have ended the admin's session; sign in again and retry once.
      admin = await login(app, 'admin', ADMIN_PASSWORD);
      res = await app.inject({ method: method as 'GET', url, headers: headers(), ...(opts.payload !== undefined && { payload: opts.payload }) });
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
    customerId = (await send(ctx.app, 'POST', '/api/customers', { payload: JSON.stringify({ kind: 'individual', orgUnitId: tree.station1, vehicles: [{ plate: '冀A12345' }] }), contentType: 'application/json' })).json().id;
    await createUser(ctx.app, admin, 'borrower', tree.station3, ['sales_rep']);
    const borrower = await login(ctx.app, 'borrower', USER_PASSWORD);
    accessRequestId = (await ctx.app.inject({ method: 'POST', url: '/api/access-requests', headers: { cookie: borrower.cookie, 'x-csrf-token': borrower.csrf }, payload: { targetOrgUnitId: tree.station1, reason: '核对', days: 1 } })).json().id;
    apiKey = (await send(ctx.app, 'POST', '/api/api-keys', { payload: JSON.stringify({ name: 'POS', orgUnitId: tree.hq }), contentType: 'application/json' })).json().key;
    apiKeyId = (await send(ctx.app, 'POST', '/api/api-keys', { payload: JSON.stringify({ name: 'to revoke', orgUnitId: tree.station1 }), contentType: 'application/json' })).json().id;
    importJobId = (await send(ctx.app, 'POST', `/api/imports?fileName=a.csv&orgUnitId=${tree.station1}`, { payload: '客户名称,手机\n张三,13800138000\n', contentType: 'application/octet-stream' })).json().id;
    ratingBatchId = (await send(ctx.app, 'POST', '/api/ratings/compute', { payload: JSON.stringify({ period: '2025-01' }), contentType: 'application/json' })).json()[0].batchId;
    alertId = Number((await ctx.db.kysely.insertInto('alert').values({ customer_id: customerId, org_unit_id: tree.station1, kind: 'cadence', episode: '2026-11-20', status: 'open', opened_at: new Date().toISOString() }).returning('id').executeTakeFirstOrThrow()).id);
    routes = ctx.app.routeTable.filter((r) => r.url.startsWith('/api/') && !r.url.startsWith('/api/docs'));
  });

  // Point each route at a record of the kind it names, so that the body is what gets tested.
  const urlOf = (r: RouteEntry) => {
    const type = r.access && 'permission' in r.access ? r.access.resource?.type : undefined;
    const ids = { user: userId, org_unit: tree.station1, customer: customerId, access_request: accessRequestId, api_key: apiKeyId, import_job: importJobId, rating_batch: ratingBatchId, alert: alertId };
    return r.url.replace(':id', String(type ? ids[type] : roleId)).replace(':mergeId', '1');
  };

  // A route that takes several media types documents each; its JSON schema is the one to fuzz.
  const bodyOf = (r: RouteEntry) => {
    const body = r.schema?.body as (JsonSchema & { content?: Record<string, { schema: JsonSchema }> }) | undefined;
    return body?.content?.['application/json']?.schema ?? body;
  };

  it('answers malformed JSON with BAD_JSON', async () => {
    for (const r of routes.filter((x) => MUTATING.has(x.method))) {
      const res = await send(ctx.app, r.method, urlOf(r), { payload: '{"parentId": 1,', contentType: 'application/json' });
      expect4xx(res, `${r.method} ${r.url}`);
      expect(res.json().error.code).toBe('BAD_JSON');
    }
  });

  it('refuses other content types', async () => {
    for (const r of routes.filter((x) => MUTATING.has(x.method))) {
      const res = await send(ctx.app, r.method, urlOf(r), { payload: 'a=1', contentType: 'application/x-www-form-urlencoded' });
      expect4xx(res, `${r.method} ${r.url}`);
    }
  });

  it('names the field when a body field has the wrong type', async () => {
    let checked = 0;
    for (const r of routes) {
      const props = bodyOf(r)?.properties;
      if (!props) continue;
      for (const [name, s] of Object.entries(props)) {
        const res = await send(ctx.app, r.method, urlOf(r), { payload: JSON.stringify({ [name]: wrongValue(s) }), contentType: 'application/json' });
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
      const res = await send(ctx.app, r.method, urlOf(r), { payload: JSON.stringify({ surprise_field: 1 }), contentType: 'application/json' });
      expect4xx(res, `${r.method} ${r.url}`);
      expect(res.json().error.field).toMatch(/^body/);
    }
    // With everything else valid, the unknown field alone is named.
    const res = await send(ctx.app, 'POST', '/api/org/units', { payload: JSON.stringify({ parentId: tree.hq, kindCode: 'area', code: 'FZ-1', name: 'x', surprise_field: 1 }), contentType: 'application/json' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe('body.surprise_field');
  });

  it('refuses wrong types in path and query', async () => {
    for (const r of routes.filter((x) => x.url.includes(':id'))) {
      const res = await send(ctx.app, r.method, r.url.replace(':id', 'abc'), MUTATING.has(r.method) ? { payload: '{}', contentType: 'application/json' } : {});
      expect4xx(res, `${r.method} ${r.url}`);
      expect(res.json().error.field, `${r.method} ${r.url}: ${res.body}`).toBe('params.id');
    }
    for (const r of routes.filter((x) => (x.schema?.querystring as JsonSchema | undefined)?.properties)) {
      const qs = r.schema!.querystring as JsonSchema & { required?: string[] };
      for (const [name, s] of Object.entries(qs.properties!)) {
        if (s.type === 'string') continue; // any text is a valid string in a query
        // Fill the other required parameters so that only this one is wrong.
        const valid = (x: JsonSchema & { pattern?: string; enum?: unknown[]; anyOf?: { const?: unknown }[]; default?: unknown }) =>
          x.default !== undefined ? String(x.default) : x.anyOf?.[0]?.const !== undefined ? String(x.anyOf[0].const) : x.enum?.length ? String(x.enum[0]) : x.type === 'integer' || x.type === 'number' ? '1' : x.pattern?.includes('\\d{4}') ? '2026-11' : 'ab';
        const others = (qs.required ?? []).filter((x) => x !== name && qs.properties![x]).map((x) => `${x}=${valid(qs.properties![x]!)}&`).join('');
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

  it('never answers random JSON with a 5xx', async () => {
    const mutating = routes.filter((x) => MUTATING.has(x.method));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: mutating.length - 1 }), fc.jsonValue({ maxDepth: 3 }), async (i, value) => {
        const r = mutating[i]!;
        const res = await send(ctx.app, r.method, urlOf(r), { payload: JSON.stringify(value), contentType: 'application/json' });
        expect(res.statusCode, `${r.method} ${r.url} ${JSON.stringify(value)}: ${res.body}`).toBeLessThan(500);
      }),
      { numRuns: 300, seed: 20261122 },
    );
  }, 60_000);
});
