// Fitting and scoring are pure computation, and each branch stands alone: a night's branches are
// fitted and scored in worker threads, as many at once as the machine has cores, while the main
// thread waits. A task whose worker cannot start or dies runs here instead.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BranchFit, ModelFit } from '../../../domain/anomaly-rules.js';
import type { RfmTriplet } from '../../../domain/churn-models/rfm.js';
import { runChurnTask, type ChurnTask } from './churn-tasks.js';

export type FitOutcome = { fit: BranchFit } | { error: string };

const WORKER_ENTRY = new URL('./fit-worker.mjs', import.meta.url);

interface Pending {
  task: ChurnTask;
  resolve: (v: BranchFit | Float64Array) => void;
  reject: (err: Error) => void;
}

export class ChurnPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly running = new Map<Worker, Pending>();
  private broken = false;

  /** `threads` ≤ 1: every task runs in this thread. */
  constructor(threads = os.availableParallelism()) {
    for (let i = 0; threads > 1 && i < threads; i++) {
      let w: Worker;
      try {
        w = new Worker(WORKER_ENTRY);
      } catch {
        this.broken = true;
        break;
      }
      w.on('message', (m: { result?: BranchFit | Float64Array; error?: string }) => {
        const p = this.running.get(w);
        this.running.delete(w);
        if (p) {
          if (m.error !== undefined) p.reject(new Error(m.error));
          else p.resolve(m.result!);
        }
        this.idle.push(w);
        this.pump();
      });
      const fail = () => {
        // The worker is gone: its task and everything queued run here.
        this.broken = true;
        const p = this.running.get(w);
        this.running.delete(w);
        if (p) this.local(p);
        for (const q of this.queue.splice(0)) this.local(q);
      };
      w.once('error', fail);
      w.once('exit', fail);
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /** Whether tasks run in worker threads (false: here). */
  get threaded(): boolean {
    return this.workers.length > 0 && !this.broken;
  }

  run(task: ChurnTask): Promise<BranchFit | Float64Array> {
    return new Promise((resolve, reject) => {
      const p = { task, resolve, reject };
      if (!this.threaded) return this.local(p);
      this.queue.push(p);
      this.pump();
    });
  }

  /** Fit a branch on its sample (fitBranch thins a larger one; the caller sends no more than it needs). */
  async fit(sample: readonly RfmTriplet[]): Promise<FitOutcome> {
    try {
      return { fit: (await this.run({ kind: 'fit', sample })) as BranchFit };
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** P(alive) and E[30 days] of packed (x, t_x, T) histories, packed in pairs. */
  async score(model: ModelFit, histories: Float64Array): Promise<Float64Array> {
    return (await this.run({ kind: 'score', model, histories })) as Float64Array;
  }

  async close(): Promise<void> {
    const ws = this.workers.splice(0);
    for (const w of ws) w.removeAllListeners('exit');
    await Promise.all(ws.map((w) => w.terminate()));
  }

  private pump(): void {
    while (this.threaded && this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const p = this.queue.shift()!;
      this.running.set(w, p);
      w.postMessage(p.task);
    }
  }

  private local(p: Pending): void {
    try {
      p.resolve(runChurnTask(p.task));
    } catch (err) {
      p.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
