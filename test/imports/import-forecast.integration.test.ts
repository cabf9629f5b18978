// The dry run forecasts what the commit does, also when the file holds the same customer several
// times with the rows in different chunks (a commit writes 500 rows at a time): a repeated customer
// is one new customer, not a new one and a fill-in; a customer on file is filled in once.
import { beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { buildTree, type Tree } from '../helpers/fixtures.js';

interface Job {
  id: number;
  status: string;
  rowsTotal: number | null;
  rowsOk: number;
  rowsRejected: number;
  rowsFlagged: number;
  createdCount: number;
  updatedCount: number;
  unchangedCount: number;
}

const plate = (i: number) => `冀A${String(10000 + i)}`;
const phone = (i: number) => `139${String(i).padStart(8, '0')}`;

/** 600 customers, then 60 of them again (30 bringing a phone, 30 nothing new), and one on file twice. */
function roster(): Buffer {
  const lines = ['姓名,车牌号,电话,备注'];
  for (let i = 1; i <= 600; i++) lines.push(`客户${i},${plate(i)},,`);
  for (let i = 1; i <= 30; i++) lines.push(`客户${i},${plate(i)},${phone(i)},`);
  for (let i = 31; i <= 60; i++) lines.push(`客户${i},${plate(i)},,`);
  lines.push(`老客户,冀B88888,,第一次补充`);
  for (let i = 0; i < 500; i++) lines.push(`,冀C${String(20000 + i)},,`);
  lines.push(`老客户,冀B88888,${phone(9999)},`);
  return Buffer.from(`\ufeff${lines.join('\n')}\n`);
}

describeEngines('import forecast', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
  });

  it('forecasts in the dry run the figures the commit reports, for a file holding customers twice', async () => {
    const body = { kind: 'individual', name: '老客户', orgUnitId: tree.station1, vehicles: [{ plate: '冀B88888' }] };
    await ok(call(ctx.app, admin, 'POST', '/api/customers', body), 201);
    const res = await ctx.app.inject({
      method: 'POST',
      url: `/api/imports?fileName=roster.csv&orgUnitId=${tree.station1}`,
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'application/octet-stream' },
      payload: roster(),
    });
    expect(res.statusCode, res.body).toBe(201);
    const id = (res.json() as Job).id;
    const mapping = { 姓名: 'name', 车牌号: 'plate', 电话: 'phone', 备注: 'notes' };
    await ok(call(ctx.app, admin, 'PUT', `/api/imports/${id}/mapping`, { kind: 'customers', mapping }));
    const dry = (await ok<{ job: Job }>(call(ctx.app, admin, 'POST', `/api/imports/${id}/dry-run`))).job;
    const figures = (j: Job) => ({
      rowsTotal: j.rowsTotal,
      rowsOk: j.rowsOk,
      rowsRejected: j.rowsRejected,
      rowsFlagged: j.rowsFlagged,
      createdCount: j.createdCount,
      updatedCount: j.updatedCount,
      unchangedCount: j.unchangedCount,
    });
    // 600 + 500 new customers; the repeats belong to them; the one on file filled in once (notes, then a phone).
    expect(figures(dry)).toEqual({
      rowsTotal: 1162,
      rowsOk: 1162,
      rowsRejected: 0,
      rowsFlagged: 0,
      createdCount: 1100,
      updatedCount: 1,
      unchangedCount: 0,
    });
    await ok(call(ctx.app, admin, 'POST', `/api/imports/${id}/commit`), 202);
    let done: Job | null = null;
    for (let i = 0; i < 800 && done === null; i++) {
      const job = await ok<Job>(call(ctx.app, admin, 'GET', `/api/imports/${id}`));
      if (job.status === 'done') done = job;
      else await new Promise((r) => setTimeout(r, 25));
    }
    expect(done).not.toBeNull();
    expect(figures(done!)).toEqual(figures(dry));
    const total = await ok<{ total: number }>(call(ctx.app, admin, 'GET', '/api/customers?pageSize=1'));
    expect(total.total).toBe(1101);
    // The repeated rows did reach their customers: the phone of the second row is on file.
    const found = await ok<{ items: unknown[] }>(call(ctx.app, admin, 'GET', `/api/customers?q=${phone(7)}`));
    expect(found.items).toHaveLength(1);
  });
});
