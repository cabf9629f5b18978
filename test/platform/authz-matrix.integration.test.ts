// The authorization matrix is generated from the app's own route table: every API route ×
// every default role × a record in scope and one out of scope. A route without an access rule fails here.
import { beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, usersForEveryRole, type Tree } from '../helpers/fixtures.js';
import { insertContactRecords } from '../helpers/contact-moments.js';
import { DEFAULT_ROLES } from '../../src/domain/permissions.js';
import type { RouteEntry } from '../../src/server/app.js';
import { insertVisitRecords } from '../visits/records.js';
import { insertComplaintRecords } from '../complaints/records.js';
import { insertMysteryRecords } from '../mystery-shoppers/records.js';
import { insertSatisfactionRecords } from '../satisfaction/records.js';
import { insertProspectRecords } from '../prospects/records.js';

type Variant = 'in' | 'out' | 'none';
const DENIED = [401, 403];
/** 403 codes of rules on a record, after the route's permission and scope were granted. */
const RULE_REFUSALS = ['COMPLAINT_STAGE_DENIED'];
const SESSION_ENDING = new Set(['/api/auth/logout', '/api/auth/logout-all']);

function apiRoutes(table: RouteEntry[]): RouteEntry[] {
  return table.filter((r) => r.url.startsWith('/api/') && !r.url.startsWith('/api/docs'));
}

describeEngines('authorization matrix', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  let sessions: Map<string, Session>;
  const records = {
    org_unit: { in: 0, out: 0 },
    user: { in: 0, out: 0 },
    customer: { in: 0, out: 0 },
    access_request: { in: 0, out: 0 },
    api_key: { in: 0, out: 0 },
    webhook: { in: 0, out: 0 },
    webhook_delivery: { in: 0, out: 0 },
    import_job: { in: 0, out: 0 },
    alert: { in: 0, out: 0 },
    rating_batch: { in: 0, out: 0 },
    churn_case: { in: 0, out: 0 },
    complaint: { in: 0, out: 0 },
    mystery_form: { in: 0, out: 0 },
    mystery_assignment: { in: 0, out: 0 },
    mystery_action: { in: 0, out: 0 },
    contact_task: { in: 0, out: 0 },
    price_change: { in: 0, out: 0 },
    weather_warning: { in: 0, out: 0 },
    visit_plan: { in: 0, out: 0 },
    planned_visit: { in: 0, out: 0 },
    visit_record: { in: 0, out: 0 },
    visit_problem: { in: 0, out: 0 },
    prospect: { in: 0, out: 0 },
    dev_plan: { in: 0, out: 0 },
    survey: { in: 0, out: 0 },
    survey_target: { in: 0, out: 0 },
    revisit_plan: { in: 0, out: 0 },
    role: 0,
  };

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    // Everyone sits at branch 1: station 1 is inside their subtree, station 3 (branch 2) is not.
    sessions = await usersForEveryRole(ctx.app, admin, tree.branch1);
    records.org_unit = { in: tree.station1, out: tree.station3 };
    records.user = {
      in: await createUser(ctx.app, admin, 'inside', tree.station1, ['attendant']),
      out: await createUser(ctx.app, admin, 'outside', tree.station3, ['attendant']),
    };
    const cust = async (orgUnitId: number, plate: string) =>
      (
        await ok<{ id: number }>(
          call(ctx.app, admin, 'POST', '/api/customers', {
            kind: 'individual',
            orgUnitId,
            name: '赵大海',
            vehicles: [{ plate }],
          }),
          201,
        )
      ).id;
    records.customer = { in: await cust(tree.station1, '冀A12345'), out: await cust(tree.station3, '冀F54321') };
    // Requests are named by their target: one aimed at branch 1's station, one at branch 2's.
    await createUser(ctx.app, admin, 'req_b2', tree.station3, ['sales_rep']);
    await createUser(ctx.app, admin, 'req_b1', tree.station2, ['sales_rep']);
    const reqB2 = await login(ctx.app, 'req_b2', USER_PASSWORD);
    const reqB1 = await login(ctx.app, 'req_b1', USER_PASSWORD);
    const ar = async (s: Session, target: number) =>
      (
        await ok<{ id: number }>(
          call(ctx.app, s, 'POST', '/api/access-requests', { targetOrgUnitId: target, reason: '核对客户', days: 3 }),
          201,
        )
      ).id;
    records.access_request = { in: await ar(reqB2, tree.station1), out: await ar(reqB1, tree.station3) };
    const key = async (orgUnitId: number) =>
      (await ok<{ id: number }>(call(ctx.app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId }), 201)).id;
    records.api_key = { in: await key(tree.station1), out: await key(tree.station3) };
    const hook = async (orgUnitId: number) =>
      (
        await ok<{ id: number }>(
          call(ctx.app, admin, 'POST', '/api/webhooks', {
            name: 'ERP',
            url: 'http://127.0.0.1:9/hook',
            events: ['customer.created'],
            orgUnitId,
          }),
          201,
        )
      ).id;
    records.webhook = { in: await hook(tree.station1), out: await hook(tree.station3) };
    // A delivered row each, so a replay is allowed where the scope allows it.
    const delivery = async (webhookId: number) =>
      (
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
    records.webhook_delivery = { in: await delivery(records.webhook.in), out: await delivery(records.webhook.out) };
    const upload = async (orgUnitId: number) =>
      (
        await ok<{ id: number }>(
          ctx.app.inject({
            method: 'POST',
            url: `/api/imports?fileName=a.csv&orgUnitId=${orgUnitId}`,
            headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'application/octet-stream' },
            payload: '客户名称,手机\n张三,13800138000\n',
          }),
          201,
        )
      ).id;
    records.import_job = { in: await upload(tree.station1), out: await upload(tree.station3) };
    // One rating batch per branch: branch 1's is in scope, branch 2's is not.
    const batches = await ok<{ batchId: number; orgUnitId: number }[]>(
      call(ctx.app, admin, 'POST', '/api/ratings/compute', { period: '2025-01' }),
    );
    records.rating_batch = {
      in: batches.find((b) => b.orgUnitId === tree.branch1)!.batchId,
      out: batches.find((b) => b.orgUnitId === tree.branch2)!.batchId,
    };
    const alert = async (customerId: number, orgUnitId: number) =>
      Number(
        (
          await ctx.db.kysely
            .insertInto('alert')
            .values({
              customer_id: customerId,
              org_unit_id: orgUnitId,
              kind: 'cadence',
              episode: '2026-11-20',
              status: 'open',
              opened_at: new Date().toISOString(),
            })
            .returning('id')
            .executeTakeFirstOrThrow()
        ).id,
      );
    records.alert = {
      in: await alert(records.customer.in, tree.station1),
      out: await alert(records.customer.out, tree.station3),
    };
    const churnCase = async (customerId: number, orgUnitId: number) => {
      const at = new Date().toISOString();
      const values = {
        customer_id: customerId,
        org_unit_id: orgUnitId,
        category: 'non_natural',
        loss_kind_code: 'all',
        state: 'reported',
        note: '整体转走',
        opened_at: at,
        updated_at: at,
      };
      return Number(
        (await ctx.db.kysely.insertInto('churn_case').values(values).returning('id').executeTakeFirstOrThrow()).id,
      );
    };
    records.churn_case = {
      in: await churnCase(records.customer.in, tree.station1),
      out: await churnCase(records.customer.out, tree.station3),
    };
    const devIn = await insertProspectRecords(ctx.db.kysely, tree.station1, tree.branch1);
    const devOut = await insertProspectRecords(ctx.db.kysely, tree.station3, tree.branch2);
    records.prospect = { in: devIn.prospect, out: devOut.prospect };
    records.dev_plan = { in: devIn.dev_plan, out: devOut.dev_plan };
    records.complaint = {
      in: (await insertComplaintRecords(ctx.db.kysely, tree.station1)).complaint,
      out: (await insertComplaintRecords(ctx.db.kysely, tree.station3)).complaint,
    };
    const visitsIn = await insertVisitRecords(ctx.db.kysely, tree.station1);
    const visitsOut = await insertVisitRecords(ctx.db.kysely, tree.station3);
    for (const k of ['visit_plan', 'planned_visit', 'visit_record', 'visit_problem'] as const)
      records[k] = { in: visitsIn[k], out: visitsOut[k] };
    const contactIn = await insertContactRecords(ctx.db.kysely, tree.station1, records.customer.in);
    const contactOut = await insertContactRecords(ctx.db.kysely, tree.station3, records.customer.out);
    for (const k of ['contact_task', 'price_change', 'weather_warning'] as const)
      records[k] = { in: contactIn[k], out: contactOut[k] };
    const mysteryIn = await insertMysteryRecords(ctx.db.kysely, tree.station1);
    const mysteryOut = await insertMysteryRecords(ctx.db.kysely, tree.station3);
    for (const k of ['mystery_form', 'mystery_assignment', 'mystery_action'] as const)
      records[k] = { in: mysteryIn[k], out: mysteryOut[k] };
    const satIn = await insertSatisfactionRecords(ctx.db.kysely, tree.station1, records.customer.in);
    const satOut = await insertSatisfactionRecords(ctx.db.kysely, tree.station3, records.customer.out);
    for (const k of ['survey', 'survey_target', 'revisit_plan'] as const) records[k] = { in: satIn[k], out: satOut[k] };
    const roles = await ok<{ id: number; code: string }[]>(call(ctx.app, admin, 'GET', '/api/roles'));
    records.role = roles.find((r) => r.code === 'auditor')!.id;
  }, 120_000);

  it('every API route declares an access rule', () => {
    const missing = apiRoutes(ctx.app.routeTable)
      .filter((r) => !r.access)
      .map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
  });

  it('every route that names a record in its path checks that record against the scope', () => {
    // Roles, policies and column mappings are company-wide reference data, not owned by an org unit.
    const companyWide = new Set(['/api/roles/:id', '/api/policies/:kind/history', '/api/import-profiles/:id']);
    const unscoped = apiRoutes(ctx.app.routeTable)
      .filter((r) => r.url.includes('/:') && !companyWide.has(r.url))
      .filter((r) => !(r.access && 'permission' in r.access && r.access.resource))
      .map((r) => `${r.method} ${r.url}`);
    expect(unscoped).toEqual([]);
  });

  it('refuses every write on a user whose rights exceed the actor’s, and allows it on one within them', async () => {
    // A user manager of branch 1 without export, phone or approval rights.
    // An attendant's rights (the user within them below) and user management; no export, phone or approval rights.
    const perms = [
      'org.read',
      'user.read',
      'user.write',
      'customer.read',
      'customer.write',
      'alert.read',
      'pool.claim',
      'complaint.intake',
    ];
    await ok(
      call(ctx.app, admin, 'POST', '/api/roles', {
        code: 'matrix_user_manager',
        nameZh: '用户管理',
        nameEn: 'User manager',
        permissions: perms,
      }),
      201,
    );
    await createUser(ctx.app, admin, 'matrix_mgr', tree.branch1, ['matrix_user_manager']);
    const mgr = await login(ctx.app, 'matrix_mgr', USER_PASSWORD);
    const above = await createUser(ctx.app, admin, 'matrix_bm', tree.station1, ['branch_manager']);
    const within = await createUser(ctx.app, admin, 'matrix_att', tree.station1, ['attendant']);
    const writes = apiRoutes(ctx.app.routeTable).filter((r) => {
      const a = r.access;
      return r.method !== 'GET' && a !== undefined && 'permission' in a && a.resource?.type === 'user';
    });
    expect(writes.length).toBeGreaterThanOrEqual(4);
    for (const r of writes) {
      const res = await call(ctx.app, mgr, r.method as 'POST', r.url.replace(':id', String(above)), {});
      expect(res.statusCode, `${r.method} ${r.url}: ${res.body}`).toBe(403);
      expect(res.json().error.code, `${r.method} ${r.url}`).toBe('TARGET_EXCEEDS_RIGHTS');
      const allowed = await call(ctx.app, mgr, r.method as 'POST', r.url.replace(':id', String(within)), {});
      expect(DENIED, `${r.method} ${r.url} on a user within his rights: ${allowed.body}`).not.toContain(
        allowed.statusCode,
      );
    }
  });

  it('refuses every non-public route without a session', async () => {
    for (const r of apiRoutes(ctx.app.routeTable)) {
      if (r.access && 'public' in r.access) continue;
      const res = await call(
        ctx.app,
        null,
        r.method as 'GET',
        r.url.replace(':id', '1'),
        r.method === 'GET' ? undefined : {},
      );
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
    }
  });

  it('allows and denies every route × role × scope as the rules and default roles say', async () => {
    const checked: string[] = [];
    for (const route of apiRoutes(ctx.app.routeTable)) {
      const access = route.access!;
      const resource = 'permission' in access ? access.resource : undefined;
      const variants: Variant[] = resource ? ['in', 'out'] : ['none'];
      for (const role of DEFAULT_ROLES) {
        for (const variant of variants) {
          let url = route.url;
          if (resource)
            url = url.replace(`:${resource.param}`, String(records[resource.type][variant as 'in' | 'out']));
          else url = url.replace(':id', String(records.role));
          const session = SESSION_ENDING.has(route.url)
            ? await login(ctx.app, `u_${role.code}`, USER_PASSWORD)
            : sessions.get(role.code)!;
          const res = await call(ctx.app, session, route.method as 'GET', url, route.method === 'GET' ? undefined : {});
          // Signing out of all sessions also ends the one kept for later routes.
          if (SESSION_ENDING.has(route.url))
            sessions.set(role.code, await login(ctx.app, `u_${role.code}`, USER_PASSWORD));
          const label = `${route.method} ${route.url} as ${role.code} (${variant}) → ${res.statusCode} ${res.body.slice(0, 120)}`;

          if ('public' in access || 'session' in access) {
            expect(DENIED, label).not.toContain(res.statusCode);
          } else if ('apiKey' in access) {
            // Systems authenticate with an API key; a user's session opens nothing here.
            expect(res.statusCode, label).toBe(401);
          } else if (!role.permissions.includes(access.permission)) {
            expect(res.statusCode, label).toBe(403);
            expect(res.json().error.code, label).toBe('PERMISSION_DENIED');
          } else if (variant === 'out') {
            expect(res.statusCode, label).toBe(403);
            expect(res.json().error.code, label).toBe('SCOPE_DENIED');
          } else if (res.statusCode === 403) {
            // Past the access layer, a rule of the record itself may still refuse this role (a complaint
            // stage owned by another role); it says so with its own code, never the access layer's.
            expect(RULE_REFUSALS, label).toContain(res.json().error.code);
          } else {
            expect(DENIED, label).not.toContain(res.statusCode);
          }
          checked.push(label);
        }
      }
    }
    // Sanity: the matrix really covered the routes and roles, with denials among them.
    expect(checked.length).toBeGreaterThan(DEFAULT_ROLES.length * 20);
    expect(checked.filter((c) => / → 403 /.test(c)).length).toBeGreaterThan(50);
  }, 120_000);
});
