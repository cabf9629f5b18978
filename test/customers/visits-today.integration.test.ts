// The start page's "today's visits": the day's visits of my subtree only, counted against a direct
// count, with a customer of another area shown by plate alone.
import { beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';

type Today = {
  day: string;
  count: number;
  volumeMl: number;
  items: { plate: string | null; customerId: number | null; greeting: string | null; stationName: string }[];
};

describeEngines("today's visits", (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    await ok(
      call(ctx.app, admin, 'POST', '/api/customers', {
        kind: 'individual',
        orgUnitId: tree.station3,
        surname: '孙',
        gender: 'male',
        vehicles: [{ plate: '冀F11111' }],
      }),
      201,
    );
  }, 60_000);

  it('lists the subtree’s visits of today, newest first, and hides other areas’ customers', async () => {
    await createUser(ctx.app, admin, 'att1', tree.station1, ['attendant']);
    await createUser(ctx.app, admin, 'att2', tree.station2, ['attendant']);
    await createUser(ctx.app, admin, 'sm1', tree.station1, ['station_manager']);
    const att1 = await login(ctx.app, 'att1', USER_PASSWORD);
    const att2 = await login(ctx.app, 'att2', USER_PASSWORD);
    const sm1 = await login(ctx.app, 'sm1', USER_PASSWORD);
    await ok(
      call(ctx.app, att1, 'POST', '/api/pump/visits', { plate: '冀A10001', product: '92#', volumeLitres: 40 }),
      201,
    );
    await ok(
      call(ctx.app, att1, 'POST', '/api/pump/visits', { plate: '冀F11111', product: '95#', volumeLitres: 20 }),
      201,
    );
    await ok(
      call(ctx.app, att2, 'POST', '/api/pump/visits', { plate: '冀A20002', product: '92#', volumeLitres: 30 }),
      201,
    );
    // A visit from yesterday does not count today.
    const c = await ctx.db.kysely.selectFrom('customer').select('id').limit(1).executeTakeFirstOrThrow();
    await ctx.db.kysely
      .insertInto('visit')
      .values({
        customer_id: c.id,
        org_unit_id: tree.station1,
        user_id: null,
        vehicle_id: null,
        at: new Date(Date.now() - 2 * 86_400_000).toISOString(),
        product: '92#',
        volume_ml: 1000,
        note: null,
      })
      .execute();

    const mine = await ok<Today>(call(ctx.app, sm1, 'GET', '/api/pump/visits/today'));
    expect(mine.count).toBe(2);
    expect(mine.volumeMl).toBe(60_000);
    expect(mine.items.map((v) => v.plate)).toEqual(['冀F11111', '冀A10001']);
    // 冀F11111 is branch 2's customer: plate only, no id, no greeting.
    expect(mine.items[0]).toMatchObject({ customerId: null, greeting: null });
    expect(mine.items[1]!.customerId).toBeTypeOf('number');

    const hq = await ok<Today>(call(ctx.app, admin, 'GET', '/api/pump/visits/today'));
    const direct = await ctx.db.kysely
      .selectFrom('visit')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('at', '>=', new Date(Date.now() - 86_400_000).toISOString())
      .executeTakeFirstOrThrow();
    expect(hq.count).toBe(Number(direct.n));
    expect(hq.items.find((v) => v.plate === '冀F11111')!.greeting).toBe('孙师傅');
  });

  it('is refused without customer rights', async () => {
    await createUser(ctx.app, admin, 'aud', tree.hq, ['auditor']);
    const noRights = await createUser(ctx.app, admin, 'nobody', tree.hq, []);
    expect(noRights).toBeGreaterThan(0);
    const s = await login(ctx.app, 'nobody', USER_PASSWORD);
    expect((await call(ctx.app, s, 'GET', '/api/pump/visits/today')).statusCode).toBe(403);
  });
});
