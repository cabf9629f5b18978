// The decline pass reads customer_month through a sieve in SQL that sends only customers who can be
// in decline. On generated months of every shape (steady, collapsed, gaps, one-off, zero last month,
// ties at the share), checked on both engines against a plain per-month sum read straight from the
// table: no customer the rule finds on the full figures is sieved out, the figures of those sent are
// the full ones, the customers kept for a recovery check are sent whatever their months, and the
// sieve does leave most customers out.
import { beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEngines } from '../helpers/engines.js';
import { call, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { buildTree, type Tree } from '../helpers/fixtures.js';
import { alertsQueries as q } from '../../src/server/modules/alerts/alerts.queries.js';
import { declineFinding, declineMonthsOf } from '../../src/domain/decline-rule.js';
import { DEFAULT_POLICIES } from '../../src/domain/policies.js';

const TODAY = '2026-11-15';
const CUSTOMERS = 240;

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

describeEngines('the decline sieve', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  const ids: number[] = [];
  const policy = DEFAULT_POLICIES.anomaly;
  const months = declineMonthsOf(policy, TODAY);

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    for (let i = 0; i < CUSTOMERS; i++) {
      const body = { kind: 'individual', orgUnitId: tree.station1, name: `客户${i}` };
      ids.push((await ok<{ id: number }>(call(ctx.app, admin, 'POST', '/api/customers', body), 201)).id);
    }
    const rnd = rng(20261207);
    const rows: {
      customer_id: number;
      month: string;
      product: string;
      volume_ml: number;
      amount_fen: number;
      txn_count: number;
    }[] = [];
    ids.forEach((id, i) => {
      const usual = 40_000 + Math.floor(rnd() * 400_000);
      const shape = i % 8;
      months.forEach((month, k) => {
        const last = k === months.length - 1;
        let volume = Math.round(usual * (0.8 + 0.4 * rnd()));
        if (shape === 1 && last) volume = Math.round(usual * 0.2 * rnd()); // collapsed last month
        if (shape === 2 && k >= months.length - 3) volume = Math.round(usual * 0.1); // a slide over three months
        if (shape === 3 && rnd() < 0.5) volume = 0; // buys in some months only
        if (shape === 4 && last) volume = 0; // nothing last month
        if (shape === 5 && k !== 0) volume = 0; // one month, long ago
        if (shape === 6) volume = last ? Math.round(usual * policy.declineShare) : usual; // exactly at the share
        if (volume === 0) return;
        // Two products in some months: the figures are sums over products.
        const split = shape === 7 ? Math.floor(volume / 3) : 0;
        const fills = 1 + Math.floor(rnd() * 4);
        rows.push({
          customer_id: id,
          month,
          product: '92#',
          volume_ml: volume - split,
          amount_fen: volume,
          txn_count: fills,
        });
        if (split > 0)
          rows.push({ customer_id: id, month, product: '0#柴油', volume_ml: split, amount_fen: split, txn_count: 1 });
      });
    });
    for (let i = 0; i < rows.length; i += 500)
      await ctx.db.kysely
        .insertInto('customer_month')
        .values(rows.slice(i, i + 500))
        .execute();
  });

  it('sends every customer the rule can find, with his full figures, and few others', async () => {
    // The reference: one row per customer and month, summed over products, straight from the table.
    const { rows } = await sql<{ customer_id: number; month: string; v: number; f: number }>`
      select customer_id, month, sum(volume_ml) as v, sum(txn_count) as f from customer_month group by customer_id, month`.execute(
      ctx.db.kysely,
    );
    const full = new Map<number, Map<string, { volumeMl: number; fills: number }>>();
    for (const r of rows) {
      const id = Number(r.customer_id);
      if (!full.has(id)) full.set(id, new Map());
      full.get(id)!.set(r.month, { volumeMl: Number(r.v), fills: Number(r.f) });
    }
    const keep = [ids[5]!, ids[13]!]; // shape 5 and 5: one month long ago, never in decline
    const sieved = await q.monthlyFigures(ctx.db.kysely, engine, ids, months, {
      share: policy.declineShare,
      keep,
    });
    const unsieved = await q.monthlyFigures(ctx.db.kysely, engine, ids, months);

    let found = 0;
    for (const id of ids) {
      const mine = full.get(id) ?? new Map();
      expect(unsieved.get(id) ?? new Map()).toEqual(mine);
      if (declineFinding(policy, mine, TODAY)) {
        found++;
        expect(sieved.has(id), `customer ${id} in decline was sieved out`).toBe(true);
      }
      if (sieved.has(id)) expect(sieved.get(id)).toEqual(mine);
    }
    for (const id of keep) {
      expect(declineFinding(policy, full.get(id) ?? new Map(), TODAY)).toBeNull();
      expect(sieved.has(id)).toBe(true);
    }
    // The generated shapes hold declines, and the sieve leaves out most of the steady buyers.
    expect(found).toBeGreaterThan(CUSTOMERS / 8);
    expect(sieved.size).toBeLessThan(unsieved.size * 0.75);
  });
});
