// Ownership and the public pool (公海) on both engines: the creator owns a customer on every path (form,
// pump, import with and without an owner column), changes by hand, in bulk and by the pool land in one
// history with an audit entry each, coverage and "1:15" against a direct count, the nightly return to
// the pool with its reminder under a controlled clock, and every rule's refusal (outside the subtree,
// an owner at the wrong level, the daily cap, cooling-off, both capacities).
import { beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import ExcelJS from 'exceljs';
import { describeEngines } from '../helpers/engines.js';
import { ADMIN_PASSWORD, call, login, ok, setupAdmin, useTestApp, type Session, type TestApp } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { runJob } from '../../src/server/jobs/job-runner.js';
import { JOBS } from '../../src/server/jobs/index.js';
import { ownershipPoolJob } from '../../src/server/modules/ownership/ownership.job.js';
import { markFollowedUp } from '../../src/server/modules/ownership/ownership.service.js';
import { DEFAULT_POLICIES } from '../../src/domain/policies.js';
import { grantOwnershipPermissions } from '../../src/server/db/migrations/0023-ownership.js';

const DAY = 86_400_000;

interface Owner {
  ownerUserId: number | null;
  pool: { since: string; reason: string | null } | null;
  history: { how: string; fromUserId: number | null; toUserId: number | null; reason: string | null }[];
}

async function upload(app: TestApp, s: Session, orgUnitId: number, content: Buffer): Promise<{ id: number }> {
  const res = await app.inject({
    method: 'POST',
    url: `/api/imports?fileName=${encodeURIComponent('客户.xlsx')}&orgUnitId=${orgUnitId}`,
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/octet-stream' },
    payload: content,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

describeEngines('ownership and the public pool', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  const s = new Map<string, Session>();
  const u = new Map<string, number>();
  let plateNo = 0;
  let batchNo = 0;
  const db = () => ctx.db.kysely;

  const create = async (who: string, body: Record<string, unknown> = {}) => {
    const plate = `冀C${String(10000 + ++plateNo)}`;
    const r = await ok<{ id: number; ownerUserId: number | null }>(
      call(ctx.app, s.get(who) ?? admin, 'POST', '/api/customers', {
        kind: 'individual',
        orgUnitId: tree.station1,
        name: `客户${plateNo}`,
        vehicles: [{ plate }],
        ...body,
      }),
      201,
    );
    return r;
  };
  const owner = (who: Session, id: number) => ok<Owner>(call(ctx.app, who, 'GET', `/api/ownership/customers/${id}`));
  const makeClass = async (customerId: number, cls: string) => {
    const { id } = await db()
      .insertInto('rating_batch')
      .values({
        period: `2025-${String(++batchNo).padStart(2, '0')}`,
        org_unit_id: tree.branch1,
        status: 'final',
        computed_at: '2026-11-02T00:00:00.000Z',
      } as never)
      .returning('id')
      .executeTakeFirstOrThrow();
    await db()
      .insertInto('customer_rating')
      .values({
        batch_id: Number(id),
        customer_id: customerId,
        period: '2026-11',
        computed_stars: 4,
        stars: 4,
        class: cls,
        status: 'final',
        updated_at: '2026-11-02T00:00:00.000Z',
      } as never)
      .execute();
  };
  /** Sessions expire when the clock moves on by weeks: sign everyone in again at the new time. */
  const relogin = async () => {
    admin = await login(ctx.app, 'admin', ADMIN_PASSWORD);
    for (const name of [...s.keys()]) s.set(name, await login(ctx.app, name, USER_PASSWORD));
  };
  const savePolicy = async (patch: Partial<typeof DEFAULT_POLICIES.ownership>) =>
    ok(
      call(ctx.app, admin, 'PUT', '/api/policies/ownership', {
        body: { ...DEFAULT_POLICIES.ownership, ...patch },
        note: 'test',
      }),
    );

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    const people: [string, number, string][] = [
      ['zhanzhang', tree.station1, 'station_manager'],
      ['jiayou', tree.station1, 'attendant'],
      ['jiayou2', tree.station1, 'attendant'],
      ['pianqu', tree.area1, 'area_customer_manager'],
      ['fengongsi', tree.branch1, 'branch_manager'],
      ['waidi', tree.station3, 'station_manager'],
    ];
    for (const [name, unit, role] of people) {
      u.set(name, await createUser(ctx.app, admin, name, unit, [role]));
      s.set(name, await login(ctx.app, name, USER_PASSWORD));
    }
  }, 120_000);

  it('makes whoever creates a customer its owner: the form and the API', async () => {
    const c = await create('jiayou');
    expect(c.ownerUserId).toBe(u.get('jiayou'));
    const o = await owner(s.get('zhanzhang')!, c.id);
    expect(o.history).toMatchObject([{ how: 'created', fromUserId: null, toUserId: u.get('jiayou') }]);
    // Explicitly nobody, or someone else in the subtree.
    expect((await create('zhanzhang', { ownerUserId: null })).ownerUserId).toBeNull();
    expect((await create('zhanzhang', { ownerUserId: u.get('jiayou2') })).ownerUserId).toBe(u.get('jiayou2'));
  });

  it('makes the attendant the owner of a customer he creates at the pump', async () => {
    const res = await ok<{ customerId: number; created: boolean }>(
      call(ctx.app, s.get('jiayou')!, 'POST', '/api/pump/visits', { plate: '冀C99001', product: '92#汽油' }),
      201,
    );
    const c = await db().selectFrom('customer').selectAll().where('id', '=', res.customerId).executeTakeFirstOrThrow();
    expect(Number(c.owner_user_id)).toBe(u.get('jiayou'));
    expect(c.owner_since).not.toBeNull();
    // His own visit recorded at the pump is a follow-up of his.
    expect(c.last_follow_up_at).not.toBeNull();
    const h = await db().selectFrom('ownership_change').selectAll().where('customer_id', '=', res.customerId).execute();
    expect(h.map((x) => x.how)).toEqual(['created']);
  });

  it('makes the importer the owner, or the person the owner column names; an unknown one is a row error', async () => {
    const guanli = await createUser(ctx.app, admin, 'guanli', tree.branch1, ['branch_customer_admin']);
    u.set('guanli', guanli);
    const g = await login(ctx.app, 'guanli', USER_PASSWORD);
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('客户');
    ws.addRow(['姓名', '车牌号', '负责人']);
    ws.addRow(['导入甲', '冀C88001', 'jiayou2']);
    ws.addRow(['导入乙', '冀C88002', null]);
    ws.addRow(['导入丙', '冀C88003', 'nobody']);
    ws.addRow(['导入丁', '冀C88004', 'waidi']);
    const job = await upload(ctx.app, g, tree.station1, Buffer.from(await wb.xlsx.writeBuffer()));
    const inspected = await ok<{ suggested: Record<string, string> }>(
      call(ctx.app, g, 'POST', `/api/imports/${job.id}/inspect`, { kind: 'customers' }),
    );
    expect(inspected.suggested['负责人']).toBe('owner');
    await ok(
      call(ctx.app, g, 'PUT', `/api/imports/${job.id}/mapping`, { kind: 'customers', mapping: inspected.suggested }),
    );
    await ok(call(ctx.app, g, 'POST', `/api/imports/${job.id}/commit`), 202);
    for (let i = 0; i < 400; i++) {
      const j = await ok<{ status: string }>(call(ctx.app, g, 'GET', `/api/imports/${job.id}`));
      if (j.status === 'done' || j.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const problems = await ok<{ row: number; field: string | null; code: string; message: string }[]>(
      call(ctx.app, g, 'GET', `/api/imports/${job.id}/problems?phase=commit`),
    );
    expect(problems.map((p) => [p.row, p.field, p.code]).sort()).toEqual([
      [4, 'owner', 'UNKNOWN_OWNER'],
      [5, 'owner', 'UNKNOWN_OWNER'],
    ]);
    expect(problems[0]!.message).toContain('负责人');
    const rows = await db()
      .selectFrom('customer')
      .select(['name', 'owner_user_id', 'owner_since'])
      .where('name', 'in', ['导入甲', '导入乙', '导入丙', '导入丁'])
      .orderBy('name')
      .execute();
    const byName = Object.fromEntries(rows.map((r) => [r.name, Number(r.owner_user_id)]));
    expect(byName).toEqual({ 导入甲: u.get('jiayou2'), 导入乙: guanli });
    expect(rows.every((r) => r.owner_since !== null)).toBe(true);
  });

  it('changes the owner by hand with a reason, in the history and the audit; refuses outside the subtree and without the right', async () => {
    const c = await create('jiayou');
    const zz = s.get('zhanzhang')!;
    const o = await ok<Owner>(
      call(ctx.app, zz, 'POST', `/api/ownership/customers/${c.id}/owner`, {
        ownerUserId: u.get('jiayou2'),
        reason: '加油员调岗',
      }),
    );
    expect(o.ownerUserId).toBe(u.get('jiayou2'));
    expect(o.history[0]).toMatchObject({
      how: 'manual',
      fromUserId: u.get('jiayou'),
      toUserId: u.get('jiayou2'),
      reason: '加油员调岗',
    });
    const audit = await db()
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'change_owner')
      .where('entity_id', '=', String(c.id))
      .execute();
    expect(audit).toHaveLength(1);

    const outside = await call(ctx.app, zz, 'POST', `/api/ownership/customers/${c.id}/owner`, {
      ownerUserId: u.get('waidi'),
      reason: 'x',
    });
    expect(outside.statusCode).toBe(403);
    expect(outside.json().error).toMatchObject({ code: 'SCOPE_DENIED', field: 'body.ownerUserId' });
    // The area's manager is above the station: the station manager may not name him either.
    const above = await call(ctx.app, zz, 'POST', `/api/ownership/customers/${c.id}/owner`, {
      ownerUserId: u.get('pianqu'),
      reason: 'x',
    });
    expect(above.json().error.code).toBe('SCOPE_DENIED');
    const attendant = await call(ctx.app, s.get('jiayou')!, 'POST', `/api/ownership/customers/${c.id}/owner`, {
      ownerUserId: u.get('jiayou'),
      reason: 'x',
    });
    expect(attendant.statusCode).toBe(403);
    expect(attendant.json().error.code).toBe('PERMISSION_DENIED');
    // The form's owner field obeys the same subtree rule.
    const form = await call(ctx.app, zz, 'POST', '/api/customers', {
      kind: 'individual',
      orgUnitId: tree.station1,
      name: '表单',
      ownerUserId: u.get('waidi'),
    });
    expect(form.json().error).toMatchObject({ code: 'SCOPE_DENIED', field: 'body.ownerUserId' });
  });

  it('refuses an owner whose unit level does not fit the class: a VIP is the branch’s or the company’s', async () => {
    const c = await create('fengongsi');
    await makeClass(c.id, 'VIP');
    const f = s.get('fengongsi')!;
    const denied = await call(ctx.app, f, 'POST', `/api/ownership/customers/${c.id}/owner`, {
      ownerUserId: u.get('jiayou'),
      reason: '交给加油员',
    });
    expect(denied.statusCode).toBe(422);
    expect(denied.json().error).toMatchObject({ code: 'OWNER_LEVEL_DENIED', field: 'body.ownerUserId' });
    expect(denied.json().error.details.allowed).toEqual(['hq', 'branch']);
    // The customer form's owner field too.
    const cur = await ok<{ version: number }>(call(ctx.app, f, 'GET', `/api/customers/${c.id}`));
    const patch = await call(ctx.app, f, 'PATCH', `/api/customers/${c.id}`, {
      ownerUserId: u.get('pianqu'),
      version: cur.version,
    });
    expect(patch.json().error.code).toBe('OWNER_LEVEL_DENIED');
    // An A-class organisation may be the area's, not the station's.
    const org = await create('fengongsi', { kind: 'organisation', organisation: '运输公司' });
    await makeClass(org.id, 'A');
    expect(
      (
        await call(ctx.app, f, 'POST', `/api/ownership/customers/${org.id}/owner`, {
          ownerUserId: u.get('zhanzhang'),
          reason: 'x',
        })
      ).json().error.code,
    ).toBe('OWNER_LEVEL_DENIED');
    await ok(
      call(ctx.app, f, 'POST', `/api/ownership/customers/${org.id}/owner`, {
        ownerUserId: u.get('pianqu'),
        reason: '片区维护',
      }),
    );
    // A PATCH that changes the owner lands in the history too.
    const other = await create('fengongsi');
    const v = await ok<{ version: number }>(call(ctx.app, f, 'GET', `/api/customers/${other.id}`));
    await ok(
      call(ctx.app, f, 'PATCH', `/api/customers/${other.id}`, { ownerUserId: u.get('zhanzhang'), version: v.version }),
    );
    expect((await owner(f, other.id)).history[0]).toMatchObject({ how: 'manual', toUserId: u.get('zhanzhang') });
  });

  it('gives coverage per unit with drill-down, matching a direct count', async () => {
    // Give jiayou enough customers to pass 1:15.
    for (let i = 0; i < 15; i++) await create('jiayou');
    const cov = await ok<any>(
      call(ctx.app, s.get('fengongsi')!, 'GET', `/api/ownership/coverage?orgUnitId=${tree.branch1}`),
    );
    const path = (
      await db().selectFrom('org_unit').select('path').where('id', '=', tree.branch1).executeTakeFirstOrThrow()
    ).path;
    const direct = await sql<{ total: number; unowned: number }>`
      select count(*) as total, sum(case when c.owner_user_id is null and c.pool_since is null then 1 else 0 end) as unowned
      from customer c join org_unit o on o.id = c.org_unit_id
      where c.merged_into_id is null and o.path like ${`${path}%`}`.execute(db());
    expect(cov.total).toBe(Number(direct.rows[0]!.total));
    expect(cov.unowned).toBe(Number(direct.rows[0]!.unowned));
    expect(cov.unowned).toBeGreaterThan(0);
    const people = await sql<{ id: number; owned: number }>`
      select u.id, (select count(*) from customer c where c.owner_user_id = u.id and c.merged_into_id is null) as owned
      from app_user u join org_unit o on o.id = u.org_unit_id
      where u.active = 1 and o.path like ${`${path}%`}`.execute(db());
    expect(cov.employees).toBe(people.rows.length);
    expect(cov.belowMinimum).toBe(people.rows.filter((r) => Number(r.owned) < 15).length);
    expect(cov.overMaximum).toBe(people.rows.filter((r) => Number(r.owned) > 300).length);
    const jiayou = cov.people.find((p: any) => p.userId === u.get('jiayou'));
    expect(jiayou.owned).toBe(Number(people.rows.find((r) => Number(r.id) === u.get('jiayou'))!.owned));
    expect(jiayou.flag).toBeNull();
    expect(cov.people.find((p: any) => p.userId === u.get('jiayou2')).flag).toBe('below_minimum');
    // Drill-down: the area below the branch, and its figures add up to the branch's (the branch's own people aside).
    expect(cov.children.map((x: any) => x.id)).toEqual([tree.area1]);
    const area = await ok<any>(
      call(ctx.app, s.get('fengongsi')!, 'GET', `/api/ownership/coverage?orgUnitId=${tree.area1}`),
    );
    expect(area.total).toBe(cov.children[0].total);
    expect(area.children.map((x: any) => x.id).sort()).toEqual([tree.station1, tree.station2].sort());
    // Another branch's unit is out of reach.
    const denied = await call(ctx.app, s.get('fengongsi')!, 'GET', `/api/ownership/coverage?orgUnitId=${tree.branch2}`);
    expect(denied.json().error.code).toBe('SCOPE_DENIED');
  });

  it('moves an attendant’s customers in bulk after a preview: one history row and one audit entry each', async () => {
    const zz = s.get('zhanzhang')!;
    const body = { fromUserId: u.get('jiayou')!, toUserId: u.get('zhanzhang')! };
    const count = Number(
      (
        await db()
          .selectFrom('customer')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('owner_user_id', '=', u.get('jiayou')!)
          .executeTakeFirstOrThrow()
      ).n,
    );
    const preview = await ok<any>(call(ctx.app, zz, 'POST', '/api/ownership/reassign/preview', body));
    expect(preview.count).toBe(count);
    expect(preview.sample.length).toBe(Math.min(10, count));
    expect(preview.misfitCount).toBe(0);
    // The preview wrote nothing.
    expect(await db().selectFrom('ownership_change').select('id').where('how', '=', 'reassign').execute()).toHaveLength(
      0,
    );
    const auditBefore = (
      await db().selectFrom('audit_log').select('id').where('action', '=', 'reassign_owner').execute()
    ).length;
    const done = await ok<{ moved: number }>(
      call(ctx.app, zz, 'POST', '/api/ownership/reassign', { ...body, reason: '加油员离职' }),
    );
    expect(done.moved).toBe(count);
    const history = await db().selectFrom('ownership_change').selectAll().where('how', '=', 'reassign').execute();
    expect(history).toHaveLength(count);
    expect(history.every((h) => h.reason === '加油员离职' && Number(h.from_user_id) === u.get('jiayou'))).toBe(true);
    const audit = await db().selectFrom('audit_log').select('id').where('action', '=', 'reassign_owner').execute();
    expect(audit.length - auditBefore).toBe(count);
    // Outside the subtree and without the right: refused.
    const out = await call(ctx.app, zz, 'POST', '/api/ownership/reassign/preview', {
      ...body,
      toUserId: u.get('waidi'),
    });
    expect(out.json().error.code).toBe('SCOPE_DENIED');
    const att = await call(ctx.app, s.get('jiayou')!, 'POST', '/api/ownership/reassign/preview', body);
    expect(att.json().error.code).toBe('PERMISSION_DENIED');
    // Back to jiayou, for the pool's tests (the history keeps both moves).
    await ok(
      call(ctx.app, zz, 'POST', '/api/ownership/reassign', {
        fromUserId: u.get('zhanzhang'),
        toUserId: u.get('jiayou'),
        orgUnitId: tree.station1,
        reason: '回到原岗',
      }),
    );
  });

  it('reminds the owner before the pool, and returns the customers nobody followed up; a purchase exempts', async () => {
    expect(JOBS).toContain(ownershipPoolJob);
    for (let i = 0; i < 3; i++) await create('zhanzhang', { ownerUserId: u.get('jiayou2') });
    const mine = await db()
      .selectFrom('customer')
      .select(['id', 'owner_since'])
      .where('owner_user_id', '=', u.get('jiayou2')!)
      .orderBy('id')
      .execute();
    expect(mine.length).toBeGreaterThanOrEqual(2);
    const latestSince = Math.max(...mine.map((m) => Date.parse(m.owner_since!)));
    const returnDays = DEFAULT_POLICIES.ownership.unratedReturnDays;
    // A day inside the reminder window of every one of them.
    const remindAt = new Date(latestSince + (returnDays - 2) * DAY);
    const first = await runJob(db(), ownershipPoolJob, 'remind', { now: remindAt });
    expect(first.status, JSON.stringify(first)).toBe('done');
    const items = await db()
      .selectFrom('work_item')
      .selectAll()
      .where('kind', '=', 'pool_reminder')
      .where('assignee_user_id', '=', u.get('jiayou2')!)
      .where('state', '=', 'open')
      .execute();
    expect(items.map((i) => Number(i.record_id)).sort()).toEqual(mine.map((m) => Number(m.id)).sort());
    const inbox = await ok<{ items: { kind: string; customerId: number }[] }>(
      call(ctx.app, s.get('jiayou2')!, 'GET', '/api/work/inbox?kind=pool_reminder'),
    );
    expect(inbox.items.length).toBe(mine.length);
    // Run again: nothing new.
    const again = await runJob(db(), ownershipPoolJob, 'remind', { now: remindAt, force: true });
    expect((again as any).detail.reminded).toBe(0);

    // He follows one up (a visit record or any touch calls markFollowedUp); a second bought recently.
    const [followed, bought, ...rest] = mine.map((m) => Number(m.id));
    await markFollowedUp(db(), followed!, u.get('jiayou2')!, remindAt.toISOString());
    // Another person's touch does not count.
    await markFollowedUp(db(), bought!, u.get('jiayou')!, remindAt.toISOString());
    const doneItem = await db()
      .selectFrom('work_item')
      .select('state')
      .where('kind', '=', 'pool_reminder')
      .where('record_id', '=', followed!)
      .executeTakeFirstOrThrow();
    expect(doneItem.state).toBe('done');
    await db()
      .updateTable('customer')
      .set({ last_visit_at: remindAt.toISOString() })
      .where('id', '=', bought!)
      .execute();

    const returnAt = new Date(latestSince + (returnDays + 1) * DAY);
    ctx.now.value = returnAt;
    await relogin();
    const run = await runJob(db(), ownershipPoolJob, 'return', { now: returnAt });
    expect(run.status).toBe('done');
    const after = await db()
      .selectFrom('customer')
      .select(['id', 'owner_user_id', 'pool_since', 'pool_former_owner_id'])
      .where(
        'id',
        'in',
        mine.map((m) => Number(m.id)),
      )
      .execute();
    const byId = new Map(after.map((a) => [Number(a.id), a]));
    expect(Number(byId.get(followed!)!.owner_user_id)).toBe(u.get('jiayou2'));
    expect(Number(byId.get(bought!)!.owner_user_id)).toBe(u.get('jiayou2'));
    for (const id of rest) {
      expect(byId.get(id)!.owner_user_id).toBeNull();
      expect(byId.get(id)!.pool_since).not.toBeNull();
      expect(Number(byId.get(id)!.pool_former_owner_id)).toBe(u.get('jiayou2'));
      const o = await owner(s.get('zhanzhang')!, id);
      expect(o.history[0]).toMatchObject({ how: 'pool_return', fromUserId: u.get('jiayou2'), toUserId: null });
      expect(o.pool).toMatchObject({ reason: 'no_follow_up' });
    }
    // Every other owner's quiet customers went too (nobody followed them up either), each audited once.
    const audit = await db().selectFrom('audit_log').select('entity_id').where('action', '=', 'pool_return').execute();
    const audited = audit.map((a) => Number(a.entity_id));
    for (const id of rest) expect(audited.filter((x) => x === id)).toHaveLength(1);
    expect(audited).not.toContain(followed);
    expect(audited).not.toContain(bought);
    const cancelled = await db()
      .selectFrom('work_item')
      .select('state')
      .where('kind', '=', 'pool_reminder')
      .where('record_id', 'in', rest)
      .execute();
    expect(cancelled.every((c) => c.state === 'cancelled')).toBe(true);
  });

  it('lists the pool in scope and claims from it: caps, cooling-off and capacities refuse, the history stays whole', async () => {
    const pool = await ok<any>(call(ctx.app, s.get('zhanzhang')!, 'GET', '/api/ownership/pool'));
    expect(pool.total).toBeGreaterThanOrEqual(1);
    expect(pool.items[0]).toMatchObject({ reason: 'no_follow_up', formerOwnerName: '用户jiayou2' });
    const none = await ok<any>(call(ctx.app, s.get('waidi')!, 'GET', '/api/ownership/pool'));
    expect(none.total).toBe(0);
    const ids: number[] = pool.items.filter((i: any) => i.formerOwnerName === '用户jiayou2').map((i: any) => i.id);
    expect(ids.length).toBeGreaterThanOrEqual(2);

    // The former owner waits out the cooling-off.
    const former = await call(ctx.app, s.get('jiayou2')!, 'POST', `/api/ownership/pool/${ids[0]}/claim`);
    expect(former.statusCode).toBe(422);
    expect(former.json().error).toMatchObject({ code: 'POOL_CLAIM_DENIED', details: { rule: 'cooling_off' } });
    // Someone in another branch cannot reach it.
    expect(
      (await call(ctx.app, s.get('waidi')!, 'POST', `/api/ownership/pool/${ids[0]}/claim`)).json().error.code,
    ).toBe('SCOPE_DENIED');

    await savePolicy({ claimDailyCap: 1, minCustomersPerOwner: 0 });
    const visitsBefore = await db()
      .selectFrom('ownership_change')
      .select('id')
      .where('customer_id', '=', ids[0]!)
      .execute();
    const claimed = await ok<Owner>(call(ctx.app, s.get('jiayou')!, 'POST', `/api/ownership/pool/${ids[0]}/claim`));
    expect(claimed.ownerUserId).toBe(u.get('jiayou'));
    expect(claimed.pool).toBeNull();
    // The same customer row, with every earlier change still in its history.
    expect(claimed.history).toHaveLength(visitsBefore.length + 1);
    expect(claimed.history.slice(0, 2).map((h) => h.how)).toEqual(['pool_claim', 'pool_return']);
    {
      const cap = await call(ctx.app, s.get('jiayou')!, 'POST', `/api/ownership/pool/${ids[1]}/claim`);
      expect(cap.json().error).toMatchObject({ code: 'POOL_CLAIM_DENIED', details: { rule: 'daily_cap' } });
      // The next day the cap starts again; but his capacity is full.
      ctx.now.value = new Date(ctx.now.value!.getTime() + DAY);
      await relogin();
      const owned = Number(
        (
          await db()
            .selectFrom('customer')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('owner_user_id', '=', u.get('jiayou')!)
            .executeTakeFirstOrThrow()
        ).n,
      );
      await savePolicy({ claimDailyCap: 5, minCustomersPerOwner: 0, maxCustomersPerOwner: owned });
      const full = await call(ctx.app, s.get('jiayou')!, 'POST', `/api/ownership/pool/${ids[1]}/claim`);
      expect(full.json().error.details.rule).toBe('person_capacity');
      await savePolicy({ claimDailyCap: 5, minCustomersPerOwner: 0, unitCapacity: 1 });
      const unit = await call(ctx.app, s.get('jiayou')!, 'POST', `/api/ownership/pool/${ids[1]}/claim`);
      expect(unit.json().error.details.rule).toBe('unit_capacity');
      await savePolicy({});
      await ok(call(ctx.app, s.get('jiayou')!, 'POST', `/api/ownership/pool/${ids[1]}/claim`));
      const audit = await db().selectFrom('audit_log').select('entity_id').where('action', '=', 'pool_claim').execute();
      expect(audit.map((a) => Number(a.entity_id)).sort()).toEqual([ids[0], ids[1]].sort());
    }
    // A customer not in the pool cannot be claimed.
    const notInPool = await call(ctx.app, s.get('jiayou')!, 'POST', `/api/ownership/pool/${ids[0]}/claim`);
    expect(notInPool.json().error.code).toBe('CONFLICT');
  });

  it('refuses a claim by someone whose level does not fit the customer’s class', async () => {
    const c = await create('fengongsi');
    await makeClass(c.id, 'VIP');
    await db()
      .updateTable('customer')
      .set({
        owner_user_id: null,
        owner_since: null,
        pool_since: new Date().toISOString(),
        pool_reason: 'no_follow_up',
      })
      .where('id', '=', c.id)
      .execute();
    const r = await call(ctx.app, s.get('zhanzhang')!, 'POST', `/api/ownership/pool/${c.id}/claim`);
    expect(r.json().error.code).toBe('OWNER_LEVEL_DENIED');
    await ok(call(ctx.app, s.get('fengongsi')!, 'POST', `/api/ownership/pool/${c.id}/claim`));
  });

  it('gives owner.assign and pool.claim to the roles of a database that had none (migration 0023)', async () => {
    await db().deleteFrom('role_permission').where('permission', 'in', ['owner.assign', 'pool.claim']).execute();
    await grantOwnershipPermissions(db());
    const held = await db()
      .selectFrom('role_permission as rp')
      .innerJoin('role as r', 'r.id', 'rp.role_id')
      .select(['r.code', 'rp.permission'])
      .where('rp.permission', 'in', ['owner.assign', 'pool.claim'])
      .execute();
    const of = (perm: string) =>
      held
        .filter((h) => h.permission === perm)
        .map((h) => h.code)
        .sort();
    expect(of('owner.assign')).toEqual(
      [
        'admin',
        'area_customer_manager',
        'branch_customer_admin',
        'branch_dept_head',
        'branch_manager',
        'hq_marketing',
        'station_manager',
      ].sort(),
    );
    // Every role that writes customers claims from the pool; the auditor does not.
    expect(of('pool.claim')).toContain('attendant');
    expect(of('pool.claim')).toContain('sales_rep');
    expect(of('pool.claim')).not.toContain('auditor');
    // Run twice: nothing doubles.
    await grantOwnershipPermissions(db());
    const again = await db()
      .selectFrom('role_permission')
      .select('role_id')
      .where('permission', '=', 'pool.claim')
      .execute();
    expect(again.length).toBe(of('pool.claim').length);
  });
});
