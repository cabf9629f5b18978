// A churn-fit worker: fits each branch sample it is sent and sends the fit back.
import { parentPort } from 'node:worker_threads';
import { fitBranch } from '../../../domain/anomaly-rules.js';
import type { RfmTriplet } from '../../../domain/churn-models/rfm.js';

parentPort!.on('message', (job: { id: number; sample: RfmTriplet[] }) => {
  try {
    parentPort!.postMessage({ id: job.id, fit: fitBranch(job.sample) });
  } catch (err) {
    parentPort!.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) });
  }
});
