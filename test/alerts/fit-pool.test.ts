// The nightly model rule's worker threads give what computing in process gives.
import { afterAll, describe, expect, it } from 'vitest';
import { fitBranch, scoreCustomer } from '../../src/domain/anomaly-rules.js';
import { createRng, simulateParetoNbd } from '../../src/domain/churn-models/simulate.js';
import { ChurnPool } from '../../src/server/modules/alerts/fit-pool.js';

function branch(seed: number, params: { r: number; alpha: number; s: number; beta: number }) {
  const rng = createRng(seed);
  const Ts = Array.from({ length: 400 }, () => Math.round((20 + rng() * 40) * 7) / 7);
  return simulateParetoNbd(params, Ts, 0, rng).map((c) => ({
    x: c.x,
    tx: Math.min(Math.round(c.tx * 7) / 7, c.T),
    T: c.T,
  }));
}

describe('churn model work in worker threads', () => {
  const branches = [
    branch(1, { r: 3, alpha: 2, s: 0.8, beta: 25 }),
    branch(2, { r: 1, alpha: 4, s: 0.5, beta: 60 }),
    branch(3, { r: 2, alpha: 3, s: 1, beta: 40 }),
  ];
  const pool = new ChurnPool(2);
  afterAll(() => pool.close());

  it('fits each branch in a worker as it would be fitted here, and reports one that cannot be fitted', async () => {
    expect(pool.threaded).toBe(true);
    const out = await Promise.all([...branches, []].map((b) => pool.fit(b)));
    for (const [i, b] of branches.entries()) expect(out[i]).toEqual({ fit: fitBranch(b) });
    expect(out[3]).toMatchObject({ error: expect.stringMatching(/no customers/) });
    expect(pool.threaded).toBe(true);
  }, 120_000);

  it('scores histories in a worker as they would be scored here', async () => {
    for (const b of branches) {
      const { chosen } = fitBranch(b);
      const packed = Float64Array.from(b.flatMap((t) => [t.x, t.tx, t.T]));
      const out = await pool.score(chosen, packed);
      expect(out).toHaveLength(b.length * 2);
      b.forEach((t, i) => {
        const s = scoreCustomer(chosen, t);
        expect([out[2 * i], out[2 * i + 1]]).toEqual([s.pAlive, s.expected30d]);
      });
    }
  }, 120_000);

  it('computes in this thread when asked for one thread', async () => {
    const local = new ChurnPool(1);
    expect(local.threaded).toBe(false);
    expect(await local.fit(branches[0]!)).toEqual({ fit: fitBranch(branches[0]!) });
    await local.close();
  }, 120_000);
});
