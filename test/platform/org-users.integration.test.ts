import { beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, roleIds, type Tree } from '../helpers/fixtures.js';

interface Unit {
  id: number;
  parentId: number | null;
  code: string;
  name: string;
  path: string;
  depth: number;
  version: number;
}

describeEngines('org tree, users and roles', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  let branchAdmin: Session;

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    // A branch-level administrator: custom role with org and user rights but not admin's full set.
    await ok(
      call(ctx.app, admin, 'POST', '/api/roles', {
        code: 'branch_it',
        nameZh: '分公司信息员',
        nameEn: 'Branch IT',
        permissions: ['org.read', 'org.write', 'user.read', 'user.write'],
      }),
      201,
    );
    await createUser(ctx.app, admin, 'b1it', tree.branch1, ['branch_it']);
    branchAdmin = await login(ctx.app, 'b1it', USER_PASSWORD);
  });

  it('shows each user only their subtree', async () => {
    const units = await ok<Unit[]>(call(ctx.app, branchAdmin, 'GET', '/api/org/units'));
    expect(units.map((u) => u.code).sort()).toEqual(['B1', 'B1-A1', 'B1-A1-S1', 'B1-A1-S2']);
    const all = await ok<Unit[]>(call(ctx.app, admin, 'GET', '/api/org/units'));
    expect(all).toHaveLength(8);
  });

  it('supports any depth: level kinds are data', async () => {
    const team = await ok<Unit>(
      call(ctx.app, admin, 'POST', '/api/org/units', {
        parentId: tree.station1,
        kindCode: 'station',
        code: 'B1-A1-S1-K',
        name: '便利店',
      }),
      201,
    );
    expect(team.depth).toBe(5);
    expect(team.path).toBe(`/${tree.hq}/${tree.branch1}/${tree.area1}/${tree.station1}/${team.id}/`);
    await ok(call(ctx.app, admin, 'DELETE', `/api/org/units/${team.id}`));
  });

  it('refuses to create a unit under someone else’s subtree, or with a taken code', async () => {
    const out = await call(ctx.app, branchAdmin, 'POST', '/api/org/units', {
      parentId: tree.area2,
      kindCode: 'station',
      code: 'X-1',
      name: '越界站',
    });
    expect(out.statusCode).toBe(403);
    expect(out.json().error).toMatchObject({ code: 'SCOPE_DENIED', field: 'body.parentId' });
    const dup = await call(ctx.app, branchAdmin, 'POST', '/api/org/units', {
      parentId: tree.area1,
      kindCode: 'station',
      code: 'B1-A1-S1',
      name: '重复',
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toMatchObject({ code: 'DUPLICATE', field: 'body.code' });
    const kind = await call(ctx.app, branchAdmin, 'POST', '/api/org/units', {
      parentId: tree.area1,
      kindCode: 'planet',
      code: 'B1-Z',
      name: '?',
    });
    expect(kind.statusCode).toBe(400);
    expect(kind.json().error.field).toBe('body.kindCode');
    const tz = await call(ctx.app, branchAdmin, 'POST', '/api/org/units', {
      parentId: tree.area1,
      kindCode: 'station',
      code: 'B1-Z',
      name: '?',
      timeZone: 'Mars/Olympus',
    });
    expect(tz.json().error.field).toBe('body.timeZone');
  });

  it('renames with a version check: a stale edit gets a conflict, not an overwrite', async () => {
    const unit = await ok<Unit>(call(ctx.app, admin, 'GET', `/api/org/units/${tree.station2}`));
    const first = await ok<Unit>(
      call(ctx.app, admin, 'PATCH', `/api/org/units/${tree.station2}`, {
        name: '建设南大街加油站(新)',
        version: unit.version,
      }),
    );
    expect(first.version).toBe(unit.version + 1);
    const stale = await call(ctx.app, branchAdmin, 'PATCH', `/api/org/units/${tree.station2}`, {
      name: '另一个名字',
      version: unit.version,
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.code).toBe('VERSION_CONFLICT');
    expect((await ok<Unit>(call(ctx.app, admin, 'GET', `/api/org/units/${tree.station2}`))).name).toBe(
      '建设南大街加油站(新)',
    );
  });

  it('moves a subtree, keeps paths right, and refuses cycles', async () => {
    const area = await ok<Unit>(
      call(ctx.app, admin, 'POST', '/api/org/units', {
        parentId: tree.branch1,
        kindCode: 'area',
        code: 'B1-A9',
        name: '新华片区',
      }),
      201,
    );
    const st = await ok<Unit>(
      call(ctx.app, admin, 'POST', '/api/org/units', {
        parentId: area.id,
        kindCode: 'station',
        code: 'B1-A9-S1',
        name: '新华路加油站',
      }),
      201,
    );
    const moved = await ok<Unit>(
      call(ctx.app, admin, 'POST', `/api/org/units/${area.id}/move`, { parentId: tree.branch2, version: area.version }),
    );
    expect(moved.path).toBe(`/${tree.hq}/${tree.branch2}/${area.id}/`);
    const child = await ok<Unit>(call(ctx.app, admin, 'GET', `/api/org/units/${st.id}`));
    expect(child.path).toBe(`/${tree.hq}/${tree.branch2}/${area.id}/${st.id}/`);
    // The branch-1 admin no longer sees it.
    expect((await call(ctx.app, branchAdmin, 'GET', `/api/org/units/${st.id}`)).statusCode).toBe(403);
    const cycle = await call(ctx.app, admin, 'POST', `/api/org/units/${area.id}/move`, {
      parentId: st.id,
      version: moved.version,
    });
    expect(cycle.statusCode).toBe(422);
    expect(cycle.json().error.code).toBe('ORG_UNIT_CYCLE');
    const root = await call(ctx.app, admin, 'POST', `/api/org/units/${tree.hq}/move`, {
      parentId: tree.branch1,
      version: 1,
    });
    expect(root.statusCode).toBe(422);
  });

  it('refuses to delete a unit that owns records or children', async () => {
    await createUser(ctx.app, admin, 'owner1', tree.station2, ['attendant']);
    const withUser = await call(ctx.app, admin, 'DELETE', `/api/org/units/${tree.station2}`);
    expect(withUser.statusCode).toBe(409);
    expect(withUser.json().error.code).toBe('ORG_UNIT_IN_USE');
    const withChildren = await call(ctx.app, admin, 'DELETE', `/api/org/units/${tree.area1}`);
    expect(withChildren.statusCode).toBe(409);
    expect((await call(ctx.app, admin, 'GET', `/api/org/units/${tree.station2}`)).statusCode).toBe(200);
  });

  it('refuses to create users outside the subtree or with rights the creator lacks', async () => {
    const ids = await roleIds(ctx.app, admin);
    const outside = await call(ctx.app, branchAdmin, 'POST', '/api/users', {
      username: 'sneaky',
      displayName: 'S',
      orgUnitId: tree.station3,
      password: USER_PASSWORD,
      roleIds: [ids.get('attendant')],
    });
    expect(outside.statusCode).toBe(403);
    expect(outside.json().error).toMatchObject({ code: 'SCOPE_DENIED', field: 'body.orgUnitId' });
    const escalate = await call(ctx.app, branchAdmin, 'POST', '/api/users', {
      username: 'sneaky',
      displayName: 'S',
      orgUnitId: tree.station1,
      password: USER_PASSWORD,
      roleIds: [ids.get('admin')],
    });
    expect(escalate.statusCode).toBe(403);
    expect(escalate.json().error).toMatchObject({ code: 'PERMISSION_DENIED', field: 'body.roleIds' });
    const users = await ok(call(ctx.app, admin, 'GET', '/api/users?q=sneaky'));
    expect(users.total).toBe(0);
  });

  it('lists users of the subtree only, with paging and search', async () => {
    const mine = await ok(call(ctx.app, branchAdmin, 'GET', '/api/users?pageSize=200'));
    const names = mine.items.map((u: { username: string }) => u.username);
    expect(names).toContain('b1it');
    expect(names).toContain('owner1');
    expect(names).not.toContain('admin');
    const page = await ok(call(ctx.app, admin, 'GET', '/api/users?pageSize=1&page=2'));
    expect(page.items).toHaveLength(1);
    expect(page.total).toBeGreaterThanOrEqual(3);
    const search = await ok(call(ctx.app, admin, 'GET', '/api/users?q=OWNER'));
    expect(search.items.map((u: { username: string }) => u.username)).toEqual(['owner1']);
  });

  it('ends a user’s sessions when an admin changes their roles or resets their password', async () => {
    const id = await createUser(ctx.app, admin, 'mover', tree.station1, ['attendant']);
    const s = await login(ctx.app, 'mover', USER_PASSWORD);
    const ids = await roleIds(ctx.app, admin);
    const u = await ok(call(ctx.app, admin, 'GET', `/api/users/${id}`));
    await ok(
      call(ctx.app, admin, 'PATCH', `/api/users/${id}`, { roleIds: [ids.get('shift_lead')], version: u.version }),
    );
    expect((await call(ctx.app, s, 'GET', '/api/auth/me')).statusCode).toBe(401);
    const s2 = await login(ctx.app, 'mover', USER_PASSWORD);
    expect((await ok(call(ctx.app, s2, 'GET', '/api/auth/me'))).roles).toEqual(['shift_lead']);
    await ok(call(ctx.app, admin, 'POST', `/api/users/${id}/reset-password`, { password: 'Brand-new-secret-1' }));
    expect((await call(ctx.app, s2, 'GET', '/api/auth/me')).statusCode).toBe(401);
    await login(ctx.app, 'mover', 'Brand-new-secret-1');
  });

  it('edits roles as data and protects the default ones', async () => {
    const roles = await ok<{ id: number; code: string; builtin: boolean; version: number; permissions: string[] }[]>(
      call(ctx.app, admin, 'GET', '/api/roles'),
    );
    const auditor = roles.find((r) => r.code === 'auditor')!;
    expect((await call(ctx.app, admin, 'DELETE', `/api/roles/${auditor.id}`)).json().error.code).toBe('ROLE_BUILTIN');
    const custom = roles.find((r) => r.code === 'branch_it')!;
    expect((await call(ctx.app, admin, 'DELETE', `/api/roles/${custom.id}`)).json().error.code).toBe('ROLE_IN_USE');
    const bad = await call(ctx.app, admin, 'PATCH', `/api/roles/${custom.id}`, {
      permissions: ['org.read', 'fly.to.moon'],
      version: custom.version,
    });
    expect(bad.json().error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.permissions' });
  });

  it('audits every write with before and after, visible to the auditor of that subtree only', async () => {
    await createUser(ctx.app, admin, 'aud_hq', tree.hq, ['auditor']);
    await createUser(ctx.app, admin, 'aud_b2', tree.branch2, ['auditor']);
    const hq = await login(ctx.app, 'aud_hq', USER_PASSWORD);
    const b2 = await login(ctx.app, 'aud_b2', USER_PASSWORD);
    const renames = await ok(
      call(ctx.app, hq, 'GET', `/api/audit?entity=org_unit&entityId=${tree.station2}&action=update`),
    );
    expect(renames.total).toBe(1);
    const entry = renames.items[0];
    expect(JSON.parse(entry.before).name).toBe('建设南大街加油站');
    expect(JSON.parse(entry.after).name).toBe('建设南大街加油站(新)');
    expect(entry.actorName).toBe('admin');
    // Branch 2's auditor cannot see what happened in branch 1.
    const hidden = await ok(call(ctx.app, b2, 'GET', `/api/audit?entity=org_unit&entityId=${tree.station2}`));
    expect(hidden.total).toBe(0);
    const creates = await ok(call(ctx.app, hq, 'GET', '/api/audit?entity=user&action=create&pageSize=200'));
    expect(creates.total).toBeGreaterThanOrEqual(5);
    // The attendant has no audit rights at all.
    const clerk = await login(ctx.app, 'owner1', USER_PASSWORD);
    expect((await call(ctx.app, clerk, 'GET', '/api/audit')).statusCode).toBe(403);
  });
});
