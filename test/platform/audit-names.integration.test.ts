// The audit log and a customer's history name the person who acted, not only the username kept in
// the (append-only) row; an auditor can search by either.
import { beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';

interface AuditItem {
  actorName: string;
  actorDisplayName: string | null;
  action: string;
  entity: string;
  entityId: string | null;
  orgUnitName: string | null;
}

describeEngines('audit names', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  let manager: Session;
  let auditor: Session;
  let customerId: number;

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    await createUser(ctx.app, admin, 'xie.yan.sjzca01', tree.station1, ['station_manager']);
    manager = await login(ctx.app, 'xie.yan.sjzca01', USER_PASSWORD);
    await createUser(ctx.app, admin, 'shenji', tree.hq, ['auditor']);
    auditor = await login(ctx.app, 'shenji', USER_PASSWORD);
    const body = { kind: 'individual', name: '赵建国', vehicles: [{ plate: '冀A12345' }] };
    customerId = (await ok<{ id: number }>(call(ctx.app, manager, 'POST', '/api/customers', body), 201)).id;
  });

  it("gives each audit record the actor's display name beside the username, and the unit's name", async () => {
    const url = `/api/audit?entity=customer&entityId=${customerId}&action=create`;
    const page = await ok<{ items: AuditItem[] }>(call(ctx.app, auditor, 'GET', url));
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({
      actorName: 'xie.yan.sjzca01',
      actorDisplayName: '用户xie.yan.sjzca01',
      orgUnitName: '中华北大街加油站',
    });
  });

  it('finds records by the display name as well as by the username', async () => {
    const search = (actor: string) =>
      ok<{ total: number; items: AuditItem[] }>(
        call(ctx.app, auditor, 'GET', `/api/audit?actor=${encodeURIComponent(actor)}`),
      );
    const byName = await search('用户xie.yan.sjzca01');
    const byUsername = await search('xie.yan.sjzca01');
    expect(byName.total).toBeGreaterThan(0);
    expect(byName.total).toBe(byUsername.total);
    expect(new Set(byName.items.map((i) => i.actorName))).toEqual(new Set(['xie.yan.sjzca01']));
    expect((await search('没有这个人')).total).toBe(0);
  });

  it("names the person in the customer's history", async () => {
    type History = { action: string; actorName: string; actorDisplayName: string | null }[];
    const c = await ok<{ history: History }>(call(ctx.app, manager, 'GET', `/api/customers/${customerId}`));
    const created = { action: 'create', actorName: 'xie.yan.sjzca01', actorDisplayName: '用户xie.yan.sjzca01' };
    expect(c.history).toEqual([expect.objectContaining(created)]);
  });

  it('keeps the log to auditors', async () => {
    const res = await call(ctx.app, manager, 'GET', '/api/audit');
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('PERMISSION_DENIED');
  });
});
