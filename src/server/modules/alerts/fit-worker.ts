// A churn worker: fits branch samples and scores histories with a fitted model, as it is asked.
import { parentPort } from 'node:worker_threads';
import { runChurnTask, type ChurnTask } from './churn-tasks.js';

// One task at a time: the pool sends the next only when this one has answered.
parentPort!.on('message', (task: ChurnTask) => {
  try {
    const result = runChurnTask(task);
    parentPort!.postMessage({ result }, result instanceof Float64Array ? [result.buffer as ArrayBuffer] : []);
  } catch (err) {
    parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
});
