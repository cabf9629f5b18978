// A cell holding U+0000 (which PostgreSQL text cannot store) is refused by row and field; the other
// rows land and the job finishes, on both engines.
import { beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { buildTree, type Tree } from '../helpers/fixtures.js';

describeEngines('import with a NUL character', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
  });

  it('refuses the row with the NUL by field and lands the rest', async () => {
    const csv =
      '姓名,电话,车牌号\n张三,13800138000,冀A12345\n李\u0000四,13800138001,冀A12346\n王五,13800138002,冀A12347\n';
    const res = await ctx.app.inject({
      method: 'POST',
      url: `/api/imports?fileName=a.csv&orgUnitId=${tree.station1}`,
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'application/octet-stream' },
      payload: Buffer.from(csv, 'utf8'),
    });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().id as number;
    const inspected = await ok<{ suggested: Record<string, string> }>(
      call(ctx.app, admin, 'POST', `/api/imports/${id}/inspect`, { kind: 'customers' }),
    );
    await ok(
      call(ctx.app, admin, 'PUT', `/api/imports/${id}/mapping`, { kind: 'customers', mapping: inspected.suggested }),
    );
    await ok(call(ctx.app, admin, 'POST', `/api/imports/${id}/dry-run`));
    await ok(call(ctx.app, admin, 'POST', `/api/imports/${id}/commit`), 202);
    let job: { status: string } = { status: '' };
    for (let i = 0; i < 400 && job.status !== 'done' && job.status !== 'failed'; i++) {
      job = await ok(call(ctx.app, admin, 'GET', `/api/imports/${id}`));
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(job.status).toBe('done');
    const problems = await ok<{ row: number; field: string | null; code: string; message: string }[]>(
      call(ctx.app, admin, 'GET', `/api/imports/${id}/problems?phase=commit`),
    );
    expect(problems).toEqual([expect.objectContaining({ row: 3, field: 'name', code: 'CONTROL_CHAR' })]);
    expect(problems[0]!.message).toContain('控制字符');
    const found = await ok<{ total: number }>(call(ctx.app, admin, 'GET', '/api/customers?pageSize=50'));
    expect(found.total).toBe(2);
  });
});
