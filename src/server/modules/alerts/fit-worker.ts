// A churn worker: fits branch samples and scores histories with a fitted model, as it is asked.
import { parentPort } from 'node:worker_threads';
import { runChurnTask, type ChurnTask } from './churn-tasks.js';

parentPort!.on('message', (m: { id: number; task: ChurnTask }) => {
  try {
    const result = runChurnTask(m.task);
    parentPort!.postMessage({ id: m.id, result }, result instanceof Float64Array ? [result.buffer as ArrayBuffer] : []);
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) });
  }
});
