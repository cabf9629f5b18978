// The computations of the model rule that can run in a worker thread: fitting a branch sample, and
// scoring histories (packed x, t_x, T triples) with a fitted model (packed P(alive), E[30 days]).
import { fitBranch, scoreCustomer, type BranchFit, type ModelFit } from '../../../domain/anomaly-rules.js';
import type { RfmTriplet } from '../../../domain/churn-models/rfm.js';

export type ChurnTask =
  { kind: 'fit'; sample: readonly RfmTriplet[] } | { kind: 'score'; model: ModelFit; histories: Float64Array };

export function runChurnTask(task: ChurnTask): BranchFit | Float64Array {
  if (task.kind === 'fit') return fitBranch(task.sample);
  const h = task.histories;
  const out = new Float64Array((h.length / 3) * 2);
  for (let i = 0, j = 0; i < h.length; i += 3, j += 2) {
    const s = scoreCustomer(task.model, { x: h[i]!, tx: h[i + 1]!, T: h[i + 2]! });
    out[j] = s.pAlive;
    out[j + 1] = s.expected30d;
  }
  return out;
}
