// Privilege escalation, tried as an attacker would: nobody acts on a user or role whose rights go
// beyond their own, the company keeps an administrator, each approval slot is a different person,
// a grant lends reading unless writing was asked for, and a duplicate outside one's scope reveals
// nothing but the unit that holds it.
import { beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, roleIds, type Tree } from '../helpers/fixtures.js';
import { DEFAULT_ROLES } from '../../src/domain/permissions.js';

type RoleRow = { id: number; code: string; version: number; permissions: string[] };

describeEngines('rights over users and roles', (engine) => {
  const ctx = useTestApp(engine, { loginRateLimitPerMinute: 100_000 });
  let admin: Session;
  let tree: Tree;
  let roles: Map<string, number>;
  // A user manager of branch 1: may manage users, not export, not read phones.
  const MANAGER_PERMS = [
    'org.read',
    'user.read',
    'user.write',
    'role.read',
    'role.write',
    'customer.read',
    'customer.write',
    'alert.read',
    // The attendant's own rights to claim from the public pool and to take a complaint, so the attendant stays within.
    'pool.claim',
    'complaint.intake',
  ];
  let manager: Session;

  const role = async (code: string) =>
    (await ok<RoleRow[]>(call(ctx.app, admin, 'GET', '/api/roles'))).find((r) => r.code === code)!;

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    await ok(
      call(ctx.app, admin, 'POST', '/api/roles', {
        code: 'user_manager',
        nameZh: '用户管理员',
        nameEn: 'User manager',
        permissions: MANAGER_PERMS,
      }),
      201,
    );
    roles = await roleIds(ctx.app, admin);
    await createUser(ctx.app, admin, 'mgr', tree.branch1, ['user_manager']);
    manager = await login(ctx.app, 'mgr', USER_PASSWORD);
  }, 60_000);

  it('acts on a user only when every permission the user holds is also the actor’s (every default role)', async () => {
    const outcomes: string[] = [];
    for (const def of DEFAULT_ROLES) {
      const id = await createUser(ctx.app, admin, `t_${def.code}`, tree.station1, [def.code]);
      const allowed = def.permissions.every((x) => MANAGER_PERMS.includes(x));
      const version = (await ok<{ version: number }>(call(ctx.app, admin, 'GET', `/api/users/${id}`))).version;
      const attempts = [
        call(ctx.app, manager, 'POST', `/api/users/${id}/reset-password`, { password: 'Taken-over-secret-9' }),
        call(ctx.app, manager, 'PATCH', `/api/users/${id}`, { displayName: '改名', version }),
        call(ctx.app, manager, 'POST', `/api/users/${id}/unlock`, {}),
        call(ctx.app, manager, 'POST', `/api/users/${id}/revoke-sessions`, {}),
      ];
      for (const res of await Promise.all(attempts.map((a) => a))) {
        const label = `${def.code}: ${res.statusCode} ${res.body.slice(0, 100)}`;
        if (allowed) expect(res.statusCode, label).toBeLessThan(300);
        else {
          expect(res.statusCode, label).toBe(403);
          expect(res.json().error.code, label).toBe('TARGET_EXCEEDS_RIGHTS');
        }
        outcomes.push(label);
      }
    }
    // The attendant is within the manager's rights; the exporting and approving roles are not.
    expect(outcomes.some((o) => o.startsWith('attendant: 20'))).toBe(true);
    expect(outcomes.filter((o) => / 403 /.test(o)).length).toBeGreaterThanOrEqual(4 * 8);
  });

  it('refuses the account takeover of the finding: reset, sign in as him, export phones', async () => {
    const id = await createUser(ctx.app, admin, 'bca', tree.branch1, ['branch_customer_admin']);
    const reset = await call(ctx.app, manager, 'POST', `/api/users/${id}/reset-password`, {
      password: 'Taken-over-secret-9',
    });
    expect(reset.json().error.code).toBe('TARGET_EXCEEDS_RIGHTS');
    // The old password still works and the new one does not.
    await login(ctx.app, 'bca', USER_PASSWORD);
    const stolen = await call(ctx.app, null, 'POST', '/api/auth/login', {
      username: 'bca',
      password: 'Taken-over-secret-9',
    });
    expect(stolen.statusCode).toBe(401);
    // Demoting the branch manager by changing his roles is refused too.
    const bm = await createUser(ctx.app, admin, 'bm', tree.branch1, ['branch_manager']);
    const v = (await ok<{ version: number }>(call(ctx.app, admin, 'GET', `/api/users/${bm}`))).version;
    const demote = await call(ctx.app, manager, 'PATCH', `/api/users/${bm}`, {
      roleIds: [roles.get('attendant')],
      version: v,
    });
    expect(demote.json().error.code).toBe('TARGET_EXCEEDS_RIGHTS');
    expect(
      (await ok<{ roles: { code: string }[] }>(call(ctx.app, admin, 'GET', `/api/users/${bm}`))).roles.map(
        (r) => r.code,
      ),
    ).toEqual(['branch_manager']);
  });

  it('refuses a branch user editing company-wide roles: admin, branch customer admin, attendant', async () => {
    for (const code of ['admin', 'branch_customer_admin', 'attendant']) {
      const r = await role(code);
      const res = await call(ctx.app, manager, 'PATCH', `/api/roles/${r.id}`, {
        permissions: ['org.read'],
        version: r.version,
      });
      expect(res.statusCode, code).toBe(403);
      expect(res.json().error.code, code).toBe('TARGET_EXCEEDS_RIGHTS');
      expect((await role(code)).permissions, code).toEqual(r.permissions);
    }
    // Even renaming is refused for a role held outside his subtree.
    const att = await role('attendant');
    expect(
      (await call(ctx.app, manager, 'PATCH', `/api/roles/${att.id}`, { nameZh: '改', version: att.version })).json()
        .error.code,
    ).toBe('TARGET_EXCEEDS_RIGHTS');
    // A role of his own, held only inside his subtree and within his rights, he may change.
    const mine = await ok<RoleRow>(
      call(ctx.app, manager, 'POST', '/api/roles', {
        code: 'b1_helper',
        nameZh: '助手',
        nameEn: 'Helper',
        permissions: ['org.read'],
      }),
      201,
    );
    await createUser(ctx.app, admin, 'helper1', tree.station1, ['b1_helper']);
    const changed = await ok<RoleRow>(
      call(ctx.app, manager, 'PATCH', `/api/roles/${mine.id}`, {
        permissions: ['org.read', 'customer.read'],
        version: mine.version,
      }),
    );
    expect(changed.permissions).toEqual(['customer.read', 'org.read']);
    // Once someone in branch 2 holds it, it is no longer his alone.
    await createUser(ctx.app, admin, 'helper2', tree.station3, ['b1_helper']);
    const res = await call(ctx.app, manager, 'PATCH', `/api/roles/${mine.id}`, {
      permissions: ['org.read'],
      version: changed.version,
    });
    expect(res.json().error.code).toBe('TARGET_EXCEEDS_RIGHTS');
  });

  it('keeps the last active administrator: no demotion, deactivation, move or stripped admin role', async () => {
    const adminRole = await role('admin');
    const all = adminRole.permissions;
    // The admin himself cannot strip the built-in admin role while it is all that makes him administrator.
    const strip = await call(ctx.app, admin, 'PATCH', `/api/roles/${adminRole.id}`, {
      permissions: all.filter((x) => x !== 'user.write'),
      version: adminRole.version,
    });
    expect(strip.statusCode).toBe(409);
    expect(strip.json().error.code).toBe('LAST_ADMINISTRATOR');
    expect((await role('admin')).permissions).toEqual(all);
    // Moving himself down into a branch would leave the company without one.
    const me = await ok<{ userId: number }>(call(ctx.app, admin, 'GET', '/api/auth/me'));
    const v = (await ok<{ version: number }>(call(ctx.app, admin, 'GET', `/api/users/${me.userId}`))).version;
    const move = await call(ctx.app, admin, 'PATCH', `/api/users/${me.userId}`, {
      orgUnitId: tree.branch1,
      version: v,
    });
    expect(move.json().error.code).toBe('LAST_ADMINISTRATOR');
    // With a second administrator, one may deactivate the other; the last one left is kept.
    const second = await createUser(ctx.app, admin, 'admin2', tree.hq, ['admin']);
    const admin2 = await login(ctx.app, 'admin2', USER_PASSWORD);
    const v1 = (await ok<{ version: number }>(call(ctx.app, admin, 'GET', `/api/users/${me.userId}`))).version;
    await ok(call(ctx.app, admin2, 'PATCH', `/api/users/${me.userId}`, { active: false, version: v1 }));
    const v2 = (await ok<{ version: number }>(call(ctx.app, admin2, 'GET', `/api/users/${second}`))).version;
    const selfMove = await call(ctx.app, admin2, 'PATCH', `/api/users/${second}`, {
      orgUnitId: tree.branch2,
      version: v2,
    });
    expect(selfMove.json().error.code).toBe('LAST_ADMINISTRATOR');
    // Bring the first back for the other tests.
    const v3 = (await ok<{ version: number }>(call(ctx.app, admin2, 'GET', `/api/users/${me.userId}`))).version;
    await ok(call(ctx.app, admin2, 'PATCH', `/api/users/${me.userId}`, { active: true, version: v3 }));
    admin = await login(ctx.app, 'admin', (await import('../helpers/app.js')).ADMIN_PASSWORD);
  });
});

describeEngines('access requests and grants', (engine) => {
  const ctx = useTestApp(engine, { loginRateLimitPerMinute: 100_000 });
  let admin: Session;
  let tree: Tree;
  let customerB1: number;

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    customerB1 = (
      await ok<{ id: number }>(
        call(ctx.app, admin, 'POST', '/api/customers', {
          kind: 'individual',
          orgUnitId: tree.station1,
          name: '钱大海',
          vehicles: [{ plate: '冀A12345' }],
          cards: ['9000123412341234'],
        }),
        201,
      )
    ).id;
  }, 60_000);

  async function ask(username: string, mode?: 'read' | 'write') {
    await createUser(ctx.app, admin, username, tree.station3, ['sales_rep']);
    const s = await login(ctx.app, username, USER_PASSWORD);
    const body = { targetOrgUnitId: tree.station1, reason: '核对客户资料', days: 3, ...(mode && { mode }) };
    const r = await ok<{ id: number; mode: string }>(call(ctx.app, s, 'POST', '/api/access-requests', body), 201);
    return { s, id: r.id, mode: r.mode };
  }

  it('needs a different person for every slot, and never the requester', async () => {
    const { s: requester, id } = await ask('borrower1');
    expect((await call(ctx.app, requester, 'GET', `/api/customers/${customerB1}`)).statusCode).toBe(403);
    // One man holding all three approving roles fills one slot only.
    await createUser(ctx.app, admin, 'triple', tree.branch1, ['sales_rep', 'branch_dept_head', 'branch_manager']);
    const triple = await login(ctx.app, 'triple', USER_PASSWORD);
    const first = await ok<{ status: string; approvals: unknown[] }>(
      call(ctx.app, triple, 'POST', `/api/access-requests/${id}/decision`, { decision: 'approve' }),
    );
    expect(first.status).toBe('pending');
    for (let i = 0; i < 2; i++) {
      const again = await call(ctx.app, triple, 'POST', `/api/access-requests/${id}/decision`, { decision: 'approve' });
      expect(again.statusCode).toBe(403);
      expect(again.json().error.code).toBe('APPROVER_NOT_ELIGIBLE');
    }
    // It no longer waits in his box.
    const box = await ok<{ id: number }[]>(call(ctx.app, triple, 'GET', '/api/access-requests?box=to_approve'));
    expect(box.map((r) => r.id)).not.toContain(id);
    expect((await call(ctx.app, requester, 'GET', `/api/customers/${customerB1}`)).statusCode).toBe(403);
    // A second person fills the remaining slot; only then is it approved.
    await createUser(ctx.app, admin, 'head1', tree.branch1, ['branch_dept_head']);
    const head = await login(ctx.app, 'head1', USER_PASSWORD);
    const done = await ok<{ status: string; approvals: { approverId: number }[] }>(
      call(ctx.app, head, 'POST', `/api/access-requests/${id}/decision`, { decision: 'approve' }),
    );
    expect(done.status).toBe('approved');
    expect(new Set(done.approvals.map((a) => a.approverId)).size).toBe(2);
    const fresh = await login(ctx.app, 'borrower1', USER_PASSWORD);
    expect((await call(ctx.app, fresh, 'GET', `/api/customers/${customerB1}`)).statusCode).toBe(200);
  });

  it('lends reading only unless writing was asked for and approved', async () => {
    const approveBy = async (id: number) => {
      for (const [name, r] of [
        [`rep_${id}`, 'sales_rep'],
        [`head_${id}`, 'branch_dept_head'],
      ] as const) {
        await createUser(ctx.app, admin, name, tree.area1, [r]);
        await ok(
          call(ctx.app, await login(ctx.app, name, USER_PASSWORD), 'POST', `/api/access-requests/${id}/decision`, {
            decision: 'approve',
          }),
        );
      }
    };
    const read = await ask('reader1');
    expect(read.mode).toBe('read');
    await approveBy(read.id);
    const reader = await login(ctx.app, 'reader1', USER_PASSWORD);
    const c = await ok<{ version: number }>(call(ctx.app, reader, 'GET', `/api/customers/${customerB1}`));
    const patch = await call(ctx.app, reader, 'PATCH', `/api/customers/${customerB1}`, {
      notes: '改写',
      version: c.version,
    });
    expect(patch.statusCode).toBe(403);
    expect(patch.json().error.code).toBe('SCOPE_DENIED');
    const visit = await call(ctx.app, reader, 'POST', '/api/pump/visits', {
      customerId: customerB1,
      product: '92#',
      volumeLitres: 30,
    });
    expect(visit.statusCode).toBe(403);
    expect(visit.json().error.code).toBe('SCOPE_DENIED');

    const write = await ask('writer1', 'write');
    expect(write.mode).toBe('write');
    await approveBy(write.id);
    const writer = await login(ctx.app, 'writer1', USER_PASSWORD);
    const c2 = await ok<{ version: number }>(call(ctx.app, writer, 'GET', `/api/customers/${customerB1}`));
    await ok(
      call(ctx.app, writer, 'PATCH', `/api/customers/${customerB1}`, { notes: '补充资料', version: c2.version }),
    );
  });

  it('answers a duplicate outside the scope with the unit, never the customer code', async () => {
    await createUser(ctx.app, admin, 'clerk3', tree.station3, ['station_manager']);
    const clerk = await login(ctx.app, 'clerk3', USER_PASSWORD);
    const code = (await ok<{ code: string }>(call(ctx.app, admin, 'GET', `/api/customers/${customerB1}`))).code;
    const card = await call(ctx.app, clerk, 'POST', '/api/customers', {
      kind: 'individual',
      name: '试探',
      cards: ['9000123412341234'],
    });
    expect(card.statusCode).toBe(409);
    expect(card.json().error.code).toBe('DUPLICATE');
    expect(card.body).not.toContain(code);
    expect(card.json().error.details[0]).toMatchObject({
      code: null,
      customerId: null,
      name: null,
      inScope: false,
      orgUnitId: tree.station1,
    });
    const plate = await call(ctx.app, clerk, 'POST', '/api/customers', {
      kind: 'individual',
      vehicles: [{ plate: '冀A12345' }],
    });
    expect(plate.json().error.code).toBe('DUPLICATE_SUSPECTED');
    expect(plate.body).not.toContain(code);
    // Inside the scope the code is given, so the user can open the record.
    const own = await call(ctx.app, admin, 'POST', '/api/customers', {
      kind: 'individual',
      vehicles: [{ plate: '冀A12345' }],
    });
    expect(own.json().error.details[0].code).toBe(code);
  });

  it('counts a pump visit with a plate on file in another area for that customer, without a second record', async () => {
    await createUser(ctx.app, admin, 'pumper3', tree.station3, ['attendant']);
    const att = await login(ctx.app, 'pumper3', USER_PASSWORD);
    const count = async () =>
      Number(
        (
          await ctx.db.kysely
            .selectFrom('vehicle')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('plate', '=', '冀A12345')
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    const res = await ok<{ visitId: number; customerId: number | null; created: boolean; elsewhere: boolean }>(
      call(ctx.app, att, 'POST', '/api/pump/visits', { plate: '冀A12345', product: '92#', volumeLitres: 40 }),
      201,
    );
    expect(res).toMatchObject({ customerId: null, created: false, elsewhere: true });
    expect(await count()).toBe(before);
    const visit = await ctx.db.kysely
      .selectFrom('visit')
      .selectAll()
      .where('id', '=', res.visitId)
      .executeTakeFirstOrThrow();
    expect(visit.customer_id).toBe(customerB1);
    expect(visit.org_unit_id).toBe(tree.station3);
    // An unknown plate still becomes a step-1 record at his station.
    const fresh = await ok<{ customerId: number; created: boolean }>(
      call(ctx.app, att, 'POST', '/api/pump/visits', { plate: '冀F99999', product: '92#', volumeLitres: 40 }),
      201,
    );
    expect(fresh.created).toBe(true);
  });
});
