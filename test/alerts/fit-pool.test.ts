// The nightly fits in worker threads give what fitting in process gives.
import { describe, expect, it } from 'vitest';
import { fitBranch } from '../../src/domain/anomaly-rules.js';
import { createRng, simulateParetoNbd } from '../../src/domain/churn-models/simulate.js';
import { fitBranches, fitInWorkers } from '../../src/server/modules/alerts/fit-pool.js';

function branch(seed: number, params: { r: number; alpha: number; s: number; beta: number }) {
  const rng = createRng(seed);
  const Ts = Array.from({ length: 400 }, () => Math.round((20 + rng() * 40) * 7) / 7);
  return simulateParetoNbd(params, Ts, 0, rng).map((c) => ({ x: c.x, tx: Math.min(Math.round(c.tx * 7) / 7, c.T), T: c.T }));
}

describe('churn fits in worker threads', () => {
  const branches = [branch(1, { r: 3, alpha: 2, s: 0.8, beta: 25 }), branch(2, { r: 1, alpha: 4, s: 0.5, beta: 60 }), branch(3, { r: 2, alpha: 3, s: 1, beta: 40 })];

  it('fits each branch in a worker as it would be fitted here', async () => {
    const inWorkers = await fitInWorkers(branches, 2);
    expect(inWorkers).toHaveLength(3);
    for (const [i, b] of branches.entries()) expect(inWorkers[i]).toEqual({ fit: fitBranch(b) });
  }, 120_000);

  it('reports a branch that cannot be fitted and fits the others', async () => {
    const out = await fitBranches([branches[0]!, [], branches[1]!], 2);
    expect(out[0]).toEqual({ fit: fitBranch(branches[0]!) });
    expect(out[1]).toMatchObject({ error: expect.stringMatching(/no customers/) });
    expect(out[2]).toEqual({ fit: fitBranch(branches[1]!) });
  }, 120_000);
});
