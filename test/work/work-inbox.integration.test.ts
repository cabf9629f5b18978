// The work inbox on both engines: what each role finds in "my work" as the modules give it — alerts
// raised at night and closed by hand or by the customer's return, the steps of a churn case, the
// approval slots of an access request, the steps of a rating batch — by due time, with counts and
// overdue, and nothing from another branch or for the person who asked.
import { beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { send } from '../transactions/helpers.js';
import { alertsQueries } from '../../src/server/modules/alerts/alerts.queries.js';

interface Item {
  kind: string;
  recordId: number;
  customerId: number | null;
  subject: string;
  dueAt: string;
  overdue: boolean;
  queue: boolean;
}
interface Counts {
  total: number;
  overdue: number;
  dueToday: number;
  byKind: Record<string, number>;
}

const NOW = new Date('2026-11-20T03:00:00Z');

describeEngines('work inbox', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  let key: string;
  const s = new Map<string, Session>();
  const u = new Map<string, number>();
  let plateNo = 0;

  const inbox = async (who: string, query = '') =>
    (await ok<{ total: number; items: Item[] }>(call(ctx.app, s.get(who)!, 'GET', `/api/work/inbox${query}`))).items;
  const counts = (who: string) => ok<Counts>(call(ctx.app, s.get(who)!, 'GET', '/api/work/counts'));
  const has = async (who: string, kind: string, recordId: number) =>
    (await inbox(who)).some((i) => i.kind === kind && i.recordId === recordId);
  const customer = async (unit: number) => {
    const plate = `冀A${String(20000 + ++plateNo)}`;
    const { id } = await ok<{ id: number }>(
      call(ctx.app, admin, 'POST', '/api/customers', {
        kind: 'individual',
        orgUnitId: unit,
        name: `王${plateNo}`,
        surname: '王',
        vehicles: [{ plate }],
      }),
      201,
    );
    return { id, plate };
  };
  const alert = async (customerId: number, orgUnitId: number, assignee: number | null, openedAt = NOW) =>
    Number(
      (
        await ctx.db.kysely
          .insertInto('alert')
          .values({
            customer_id: customerId,
            org_unit_id: orgUnitId,
            kind: 'cadence',
            episode: '2026-11-10',
            lapse: '2026-11-10',
            assignee_user_id: assignee,
            status: 'open',
            opened_at: openedAt.toISOString(),
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id,
    );

  beforeAll(async () => {
    ctx.now.value = NOW;
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    key = (
      await ok<{ key: string }>(call(ctx.app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.hq }), 201)
    ).key;
    const people: [string, number, string][] = [
      ['jiayou', tree.station1, 'attendant'],
      ['zhanzhang', tree.station1, 'station_manager'],
      ['zhanzhang2', tree.station2, 'station_manager'],
      ['pianqu', tree.area1, 'area_customer_manager'],
      ['daibiao', tree.area1, 'sales_rep'],
      ['zhuguan', tree.branch1, 'branch_dept_head'],
      ['jingli', tree.branch1, 'branch_manager'],
      ['guanli', tree.branch1, 'branch_customer_admin'],
      ['pianqu2', tree.area2, 'area_customer_manager'],
      ['zhuguan2', tree.branch2, 'branch_dept_head'],
      ['guanli2', tree.branch2, 'branch_customer_admin'],
      ['yingxiao', tree.hq, 'hq_marketing'],
    ];
    for (const [name, unit, role] of people) {
      u.set(name, await createUser(ctx.app, admin, name, unit, [role]));
      s.set(name, await login(ctx.app, name, USER_PASSWORD));
    }
  }, 120_000);

  it('gives each open alert to its assignee, due in three days, once however often the sync runs', async () => {
    const c1 = await customer(tree.station1);
    const c2 = await customer(tree.station2);
    const a1 = await alert(c1.id, tree.station1, u.get('zhanzhang')!);
    const a2 = await alert(c2.id, tree.station2, u.get('zhanzhang2')!);
    expect(await alertsQueries.openAlertWork(ctx.db.kysely, NOW.toISOString())).toBe(2);
    expect(await alertsQueries.openAlertWork(ctx.db.kysely, NOW.toISOString())).toBe(0);

    const mine = await inbox('zhanzhang');
    expect(mine.map((i) => [i.kind, i.recordId])).toEqual([['alert', a1]]);
    expect(mine[0]).toMatchObject({ customerId: c1.id, subject: '王1', queue: false, overdue: false });
    expect(Date.parse(mine[0]!.dueAt) - NOW.getTime()).toBe(3 * 86_400_000);
    // The other station's manager has his own; nobody else has either by name.
    expect((await inbox('zhanzhang2')).map((i) => i.recordId)).toEqual([a2]);
    for (const who of ['jiayou', 'pianqu', 'guanli', 'guanli2', 'yingxiao'])
      expect(await has(who, 'alert', a1)).toBe(false);

    // One raised four days ago is overdue and comes first; the counts say so.
    const c3 = await customer(tree.station1);
    const a3 = await alert(c3.id, tree.station1, u.get('zhanzhang')!, new Date(NOW.getTime() - 4 * 86_400_000));
    expect(await alertsQueries.openAlertWork(ctx.db.kysely, NOW.toISOString())).toBe(1);
    const two = await inbox('zhanzhang');
    expect(two.map((i) => [i.recordId, i.overdue])).toEqual([
      [a3, true],
      [a1, false],
    ]);
    expect(await counts('zhanzhang')).toMatchObject({ total: 2, overdue: 1, dueToday: 1, byKind: { alert: 2 } });
    await ok(
      call(ctx.app, s.get('zhanzhang')!, 'POST', `/api/alerts/${a3}/close`, {
        contactMade: '没联系上',
        reasonFound: '不详',
        actionTaken: '下周再打',
      }),
    );

    // Closing by hand is done work: it leaves the open list for the done list.
    await ok(
      call(ctx.app, s.get('zhanzhang')!, 'POST', `/api/alerts/${a1}/close`, {
        contactMade: '电话联系上了',
        reasonFound: '出差一个月',
        actionTaken: '下周回来加油',
      }),
    );
    expect(await has('zhanzhang', 'alert', a1)).toBe(false);
    const done = await inbox('zhanzhang', '?state=done');
    expect(done.map((i) => [i.kind, i.recordId]).sort()).toEqual([
      ['alert', a1],
      ['alert', a3],
    ]);
    expect((await counts('zhanzhang')).total).toBe(0);
  });

  it('closes an alert’s work when the customer comes back and buys', async () => {
    const c = await customer(tree.station1);
    const a = await alert(c.id, tree.station1, u.get('zhanzhang')!);
    await alertsQueries.openAlertWork(ctx.db.kysely, NOW.toISOString());
    expect(await has('zhanzhang', 'alert', a)).toBe(true);
    const res = await ok<{ attached: number }>(
      send(ctx.app, key, {
        source: 'pos',
        transactions: [
          {
            externalId: `back-${c.id}`,
            occurredAt: '2026-11-20T09:00:00+08:00',
            stationCode: 'B1-A1-S1',
            plate: c.plate,
            product: '92#汽油',
            volumeMl: 40_000,
            amountFen: 31_000,
          },
        ],
      }),
    );
    expect(res.attached).toBe(1);
    const row = await ctx.db.kysely.selectFrom('alert').select('status').where('id', '=', a).executeTakeFirstOrThrow();
    expect(row.status).toBe('resolved');
    expect(await has('zhanzhang', 'alert', a)).toBe(false);
  });

  it('follows a churn case: the report with whoever opened it, the level above’s queue, then the person sent', async () => {
    const c = await customer(tree.station1);
    const a = await alert(c.id, tree.station1, u.get('zhanzhang')!);
    const k = await ok<{ id: number }>(
      call(ctx.app, s.get('zhanzhang')!, 'POST', `/api/churn-cases/from-alert/${a}`, {
        category: 'non_natural',
        lossKind: 'all',
        note: '去了对面的站',
      }),
      201,
    );
    expect(await has('zhanzhang', 'churn_case', k.id)).toBe(true);
    await ok(call(ctx.app, s.get('zhanzhang')!, 'POST', `/api/churn-cases/${k.id}/report`, { report: '价格差两毛' }));
    expect(await has('zhanzhang', 'churn_case', k.id)).toBe(false);
    // The level above: the area and the branch hold churn.assign over the station; the station does not, nor another branch.
    const queued = (await inbox('pianqu')).find((i) => i.kind === 'churn_case' && i.recordId === k.id);
    expect(queued).toMatchObject({ queue: true, customerId: c.id });
    expect(await has('guanli', 'churn_case', k.id)).toBe(true);
    for (const who of ['zhanzhang', 'jiayou', 'guanli2', 'pianqu2'])
      expect(await has(who, 'churn_case', k.id)).toBe(false);

    await ok(
      call(ctx.app, s.get('pianqu')!, 'POST', `/api/churn-cases/${k.id}/assign`, {
        assigneeUserId: u.get('daibiao')!,
        dueDay: '2026-11-25',
      }),
    );
    expect(await has('pianqu', 'churn_case', k.id)).toBe(false);
    const sent = (await inbox('daibiao')).find((i) => i.kind === 'churn_case' && i.recordId === k.id)!;
    // Due at the end of the 25th in Shanghai.
    expect(sent.dueAt).toBe('2026-11-25T15:59:59.000Z');
    await ok(call(ctx.app, s.get('daibiao')!, 'POST', `/api/churn-cases/${k.id}/retain`, { note: '给了优惠' }));
    expect(await has('daibiao', 'churn_case', k.id)).toBe(false);
  });

  it('queues an access request for each role that fills an open slot, never for the requester or someone who decided', async () => {
    const r = await ok<{ id: number }>(
      call(ctx.app, s.get('pianqu2')!, 'POST', '/api/access-requests', {
        targetOrgUnitId: tree.area1,
        reason: '客户搬到长安片区',
        days: 7,
      }),
      201,
    );
    // Slots area_rep and dept_head over area 1: its representative and area manager, the branch's dept head.
    for (const who of ['daibiao', 'pianqu', 'zhuguan']) expect(await has(who, 'access_approval', r.id)).toBe(true);
    // Holding access.approve is not enough without a slot (the branch manager is not asked of a business requester);
    // another branch and the requester see nothing.
    for (const who of ['jingli', 'zhuguan2', 'pianqu2', 'yingxiao', 'zhanzhang'])
      expect(await has(who, 'access_approval', r.id)).toBe(false);

    await ok(
      call(ctx.app, s.get('daibiao')!, 'POST', `/api/access-requests/${r.id}/decision`, { decision: 'approve' }),
    );
    // The area slot is filled: the area manager's queue entry goes too; the dept head still waits.
    expect(await has('daibiao', 'access_approval', r.id)).toBe(false);
    expect(await has('pianqu', 'access_approval', r.id)).toBe(false);
    expect(await has('zhuguan', 'access_approval', r.id)).toBe(true);
    expect((await counts('zhuguan')).byKind.access_approval).toBe(1);
    await ok(
      call(ctx.app, s.get('zhuguan')!, 'POST', `/api/access-requests/${r.id}/decision`, { decision: 'approve' }),
    );
    expect(await has('zhuguan', 'access_approval', r.id)).toBe(false);
    const rows = await ctx.db.kysely
      .selectFrom('work_item')
      .select(['state'])
      .where('kind', '=', 'access_approval')
      .where('record_id', '=', r.id)
      .execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((x) => x.state === 'done')).toBe(true);
  });

  it('puts each step of a rating batch in the queue of those who take it', async () => {
    const outcomes = await ok<{ batchId: number; orgUnitId: number }[]>(
      call(ctx.app, s.get('guanli')!, 'POST', '/api/ratings/compute', { period: '2026-10' }),
    );
    const b = outcomes.find((o) => o.orgUnitId === tree.branch1)!;
    expect(b).toBeDefined();
    // Computed: the branch proposes (its customer admin), HQ does not yet, nor the other branch.
    expect(await has('guanli', 'rating_approval', b.batchId)).toBe(true);
    expect(await has('guanli2', 'rating_approval', b.batchId)).toBe(false);
    expect(await has('yingxiao', 'rating_approval', b.batchId)).toBe(false);
    await ok(call(ctx.app, s.get('guanli')!, 'POST', `/api/ratings/batches/${b.batchId}/propose`, {}));
    expect(await has('guanli', 'rating_approval', b.batchId)).toBe(false);
    expect(await has('yingxiao', 'rating_approval', b.batchId)).toBe(true);
  });

  it('refuses the inbox without a session and takes only its own filters', async () => {
    const anon = await ctx.app.inject({ method: 'GET', url: '/api/work/inbox' });
    expect(anon.statusCode).toBe(401);
    const bad = await call(ctx.app, s.get('jiayou')!, 'GET', '/api/work/inbox?kind=nonsense');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toContain('kind');
  });
});
