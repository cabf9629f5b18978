// Fitting is pure computation and each branch is fitted on its own: the branches of a night are
// fitted in worker threads, as many at once as the machine has cores, while the main thread waits.
// Where no worker can be started, they are fitted here, one after the other.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { evenSample, fitBranch, MAX_CUSTOMERS_TO_FIT, type BranchFit } from '../../../domain/anomaly-rules.js';
import type { RfmTriplet } from '../../../domain/churn-models/rfm.js';

export type FitOutcome = { fit: BranchFit } | { error: string };

const WORKER_ENTRY = new URL('./fit-worker.mjs', import.meta.url);

function inProcess(triplets: readonly RfmTriplet[]): FitOutcome {
  try {
    return { fit: fitBranch(triplets) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** Fit each branch's customers; the outcomes are in the order of `branches`. */
export async function fitBranches(branches: readonly (readonly RfmTriplet[])[], threads = Math.min(os.availableParallelism(), branches.length)): Promise<FitOutcome[]> {
  // Only the sample travels to a worker (fitBranch samples the same way, so the fit is the same).
  const samples = branches.map((b) => evenSample(b, MAX_CUSTOMERS_TO_FIT));
  if (samples.length <= 1 || threads <= 1) return samples.map(inProcess);
  const outcomes: FitOutcome[] = new Array(samples.length);
  try {
    await fitInWorkers(samples, threads, outcomes);
  } catch {
    // A worker could not start or died: whatever is not fitted yet is fitted here.
  }
  for (let i = 0; i < samples.length; i++) outcomes[i] ??= inProcess(samples[i]!);
  return outcomes;
}

/** Fit the samples in `threads` worker threads, filling `outcomes`; rejects if a worker fails. */
export async function fitInWorkers(samples: readonly (readonly RfmTriplet[])[], threads: number, outcomes: FitOutcome[] = new Array(samples.length)): Promise<FitOutcome[]> {
  let next = 0;
  const run = (worker: Worker) =>
    new Promise<void>((resolve, reject) => {
      const give = () => {
        if (next >= samples.length) return resolve();
        const id = next++;
        worker.postMessage({ id, sample: samples[id] });
      };
      worker.on('message', (m: { id: number } & FitOutcome) => {
        outcomes[m.id] = 'fit' in m ? { fit: m.fit } : { error: m.error };
        give();
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`fit worker exited (${code})`)));
      give();
    });
  const workers: Worker[] = [];
  try {
    for (let i = 0; i < threads; i++) workers.push(new Worker(WORKER_ENTRY));
    await Promise.all(workers.map(run));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return outcomes;
}
