// Writers of the rollups at the same moment: a branch's pump fill-ups and its stations' small sales
// batches run beside each other when they are about different customers, take turns when they share
// one, and whatever the interleaving, the rollups equal a recomputation from the rows and no sale is
// left waiting for a card or plate a customer already holds.
import { beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, ok, useTestApp, type Session } from '../helpers/app.js';
import type { Tree } from '../helpers/fixtures.js';
import { lockRollupCustomers, shareRollupWriters } from '../../src/server/db/dialect.js';
import { expectRollupsMatchRows, send, type Txn, rollupBranch } from './helpers.js';

/** Whether `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

describeEngines('rollup writers at the same moment', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let attendant: Session;
  let tree: Tree;
  let key: string;
  let seq = 0;

  const sale = (over: Partial<Txn>): Txn => ({
    externalId: `w${++seq}`,
    occurredAt: new Date(Date.now() - 3_600_000 * (1 + (seq % 200))).toISOString(),
    stationCode: 'B1-A1-S1',
    product: '92#',
    volumeMl: 30_000 + seq,
    amountFen: 22_000,
    ...over,
  });
  const customer = async (cards: string[], plates: string[]) =>
    (
      await ok<{ id: number }>(
        call(ctx.app, admin, 'POST', '/api/customers', {
          kind: 'individual',
          orgUnitId: tree.station1,
          cards,
          vehicles: plates.map((plate) => ({ plate })),
          confirmDuplicate: true,
        }),
        201,
      )
    ).id;

  beforeAll(async () => {
    ({ admin, attendant, tree, key } = await rollupBranch(ctx.app));
  });

  it('holds only the customers a small writer touches; a merge or a new card waits for them (PostgreSQL)', async () => {
    const a = await customer(['7100000001'], []);
    const b = await customer(['7100000002'], []);
    if (engine === 'sqlite') {
      // SQLite runs one writer at a time: the lock levels take nothing, and both sales land.
      await ctx.db.kysely.transaction().execute(async (trx) => {
        await shareRollupWriters(trx);
        await lockRollupCustomers(trx, [a]);
      });
      for (const card of ['7100000001', '7100000002'])
        expect(
          (await send(ctx.app, key, { source: 'pos', transactions: [sale({ cardNo: card })] })).json(),
        ).toMatchObject({
          inserted: 1,
          attached: 1,
        });
      await expectRollupsMatchRows(ctx.db.kysely);
      return;
    }
    // A writer holding customer a, as a pump fill-up does, kept open until released.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const writer = ctx.db.kysely.transaction().execute(async (trx) => {
      await shareRollupWriters(trx);
      await lockRollupCustomers(trx, [a]);
      holding();
      await released;
    });
    await held;
    try {
      // Another customer's sale goes through at once.
      const other = send(ctx.app, key, { source: 'pos', transactions: [sale({ cardNo: '7100000002' })] });
      expect(await settlesWithin(other, 5_000)).toBe(true);
      expect((await other).json()).toMatchObject({ inserted: 1, attached: 1 });
      // The held customer's sale, and a card given to b (which looks for waiting rows), wait.
      const same = send(ctx.app, key, { source: 'pos', transactions: [sale({ cardNo: '7100000001' })] });
      const detail = await ok<{ version: number }>(call(ctx.app, admin, 'GET', `/api/customers/${b}`));
      const edit = call(ctx.app, admin, 'PATCH', `/api/customers/${b}`, {
        version: detail.version,
        cards: ['7100000002', '7100000003'],
      });
      expect(await settlesWithin(same, 700)).toBe(false);
      expect(await settlesWithin(edit, 300)).toBe(false);
      release();
      await writer;
      expect((await same).json()).toMatchObject({ inserted: 1, attached: 1 });
      expect((await edit).statusCode).toBe(200);
    } finally {
      release();
      await writer;
    }
    await expectRollupsMatchRows(ctx.db.kysely);
  });

  it('keeps the rollups equal to the rows when fill-ups, sales, new cards and merges overlap', async () => {
    const plates = Array.from({ length: 6 }, (_, i) => `冀B${String(70000 + i)}`);
    const cards = Array.from({ length: 10 }, (_, i) => `72000000${String(10 + i)}`);
    // Customers with one card and one plate each; cards 6-9 are nobody's yet, and their sales wait.
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) ids.push(await customer([cards[i]!], [plates[i]!]));
    const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();

    const ops: (() => Promise<unknown>)[] = [];
    for (let i = 0; i < 24; i++) {
      // Few customers and few days, so writers meet on a customer and on a new visit day.
      const batch = Array.from({ length: 1 + (i % 4) }, (_, j) =>
        sale({
          occurredAt: day((i + j) % 3),
          ...(j % 2 === 0 ? { cardNo: cards[(i + j) % cards.length] } : { plate: plates[(i * 3 + j) % plates.length] }),
        }),
      );
      ops.push(async () => {
        const res = await ok<{ rejected: number }>(send(ctx.app, key, { source: 'pos', transactions: batch }));
        expect(res.rejected).toBe(0);
      });
      ops.push(() =>
        ok(
          call(ctx.app, attendant, 'POST', '/api/pump/visits', {
            customerId: ids[i % 5], // not the merged one
            product: '95#',
            volumeLitres: 20 + i,
          }),
          201,
        ),
      );
    }
    // Two customers receive the waiting cards while sales for them arrive.
    for (const [i, card] of [
      [0, cards[6]!],
      [1, cards[7]!],
    ] as const) {
      ops.push(async () => {
        const detail = await ok<{ version: number }>(call(ctx.app, admin, 'GET', `/api/customers/${ids[i]}`));
        await ok(
          call(ctx.app, admin, 'PATCH', `/api/customers/${ids[i]}`, {
            version: detail.version,
            cards: [cards[i], card],
          }),
        );
      });
    }
    ops.push(() => ok(call(ctx.app, admin, 'POST', `/api/customers/${ids[4]}/merge`, { mergedId: ids[5] })));
    // Interleaved: every writer is started before any has finished.
    await Promise.all(ops.map((op) => op()));

    await expectRollupsMatchRows(ctx.db.kysely);
    const waiting = await ctx.db.kysely
      .selectFrom('fuel_transaction as t')
      .innerJoin('fuel_card as c', 'c.card_no', 't.card_no')
      .innerJoin('customer as k', 'k.id', 'c.customer_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('t.customer_id', 'is', null)
      .where('k.merged_into_id', 'is', null)
      .executeTakeFirstOrThrow();
    expect(Number(waiting.n)).toBe(0);
    const attached = await ctx.db.kysely
      .selectFrom('fuel_transaction')
      .select((eb) => eb.fn.count<number>('customer_id').as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(attached.n)).toBeGreaterThan(40);
  }, 60_000);
});
