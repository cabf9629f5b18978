// Import files are read in worker threads, never on the server's event loop: a spreadsheet can take
// seconds of pure computation to inflate and parse (and a hostile one was built to), and while the
// main thread only receives finished rows it keeps answering requests. One worker per file being
// read; finished workers wait for the next file (unref'd, so they never keep a process alive) and
// end after a while unused. A worker that dies (out of its memory cap) fails only its own read.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { readRows, listSheets, type SourceRow } from './read.js';
import { ImportLimitError, rehydrateParseError, type ImportLimits, type SerialisedParseError } from './limits.js';

export type ParseRequest =
  | { op: 'sheets'; task: number; file: string; limits: ImportLimits }
  | { op: 'rows'; task: number; file: string; sheet?: string; limits: ImportLimits; credit: number }
  | { op: 'more' | 'stop'; task: number };

export type ParseReply =
  | { type: 'sheets'; task: number; names: string[] }
  | { type: 'rows'; task: number; batch: EncodedRows }
  | { type: 'end'; task: number }
  | { type: 'error'; task: number; error: SerialisedParseError };

/**
 * A batch of rows as one JSON text ([rowNumber, cells] pairs) and its date cells apart (row index,
 * column, epoch ms): V8 parses JSON about twice as fast as it deserialises the same rows posted as
 * objects, and the main thread is the one that pays.
 */
export interface EncodedRows {
  json: string;
  dates: number[];
}

export function encodeRows(rows: SourceRow[]): EncodedRows {
  const dates: number[] = [];
  const out = rows.map((r, i) => {
    const cells = r.cells.map((c, j) => {
      if (!(c instanceof Date)) return c;
      dates.push(i, j, c.getTime());
      return null;
    });
    return [r.rowNumber, cells];
  });
  return { json: JSON.stringify(out), dates };
}

export function decodeRows(batch: EncodedRows): SourceRow[] {
  const pairs = JSON.parse(batch.json) as [number, SourceRow['cells']][];
  const rows = pairs.map(([rowNumber, cells]) => ({ rowNumber, cells }));
  const d = batch.dates;
  for (let i = 0; i < d.length; i += 3) rows[d[i]!]!.cells[d[i + 1]!] = new Date(d[i + 2]!);
  return rows;
}

/** How a pass reads its file: in a worker thread (the server) or here (a baseline for the bench). */
export interface RowReader {
  sheets(file: string): Promise<string[]>;
  rows(file: string, sheet?: string): AsyncGenerator<SourceRow>;
  close(): Promise<void>;
}

const WORKER_ENTRY = new URL('./parse-worker.mjs', import.meta.url);
/** Batches the worker may have parsed ahead of the main thread. */
const CREDIT = 2;
const IDLE_MS = 30_000;

/** A worker's heap: room for the shared strings (up to their limit, as UTF-16) and batches in flight. */
export function workerMemoryMb(limits: ImportLimits): number {
  return 256 + 4 * limits.sharedStringsMb;
}

export class InProcessReader implements RowReader {
  constructor(private readonly limits: ImportLimits) {}
  sheets(file: string): Promise<string[]> {
    return listSheets(file, this.limits);
  }
  rows(file: string, sheet?: string): AsyncGenerator<SourceRow> {
    return readRows(file, { sheet, limits: this.limits });
  }
  async close(): Promise<void> {}
}

interface Slot {
  worker: Worker;
  /** Set when the worker has exited; its task fails with this. */
  died: Error | null;
  idleTimer: NodeJS.Timeout | null;
  onDeath: ((err: Error) => void) | null;
}

export class ParsePool implements RowReader {
  private readonly idle: Slot[] = [];
  private readonly all = new Set<Slot>();
  private nextTask = 1;
  private closed = false;

  constructor(
    private readonly limits: ImportLimits,
    private readonly maxIdle = Math.max(1, Math.min(2, os.availableParallelism() - 1)),
  ) {}

  private acquire(): Slot {
    if (this.closed) throw new Error('the import reader is closed');
    const slot = this.idle.pop();
    if (slot) {
      if (slot.idleTimer) clearTimeout(slot.idleTimer);
      slot.idleTimer = null;
      slot.worker.ref();
      return slot;
    }
    // A heap limit also shrinks V8's young generation, and parsing makes short-lived garbage quickly:
    // at the default a worker spent about twice the main thread's time collecting it.
    const resourceLimits = { maxOldGenerationSizeMb: workerMemoryMb(this.limits), maxYoungGenerationSizeMb: 64 };
    const worker = new Worker(WORKER_ENTRY, { resourceLimits });
    const fresh: Slot = { worker, died: null, idleTimer: null, onDeath: null };
    const die = (err: Error) => {
      if (fresh.died) return;
      const memory = (err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
      fresh.died = memory ? new ImportLimitError({ limit: 'memoryMb', value: workerMemoryMb(this.limits) }) : err;
      this.all.delete(fresh);
      const at = this.idle.indexOf(fresh);
      if (at >= 0) this.idle.splice(at, 1);
      if (fresh.idleTimer) clearTimeout(fresh.idleTimer);
      fresh.onDeath?.(fresh.died);
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`the import reader stopped (exit code ${code})`)));
    this.all.add(fresh);
    return fresh;
  }

  private release(slot: Slot): void {
    slot.onDeath = null;
    if (slot.died) return;
    if (this.closed || this.idle.length >= this.maxIdle) {
      this.all.delete(slot);
      void slot.worker.terminate();
      return;
    }
    slot.worker.unref();
    slot.idleTimer = setTimeout(() => {
      const at = this.idle.indexOf(slot);
      if (at >= 0) this.idle.splice(at, 1);
      this.all.delete(slot);
      void slot.worker.terminate();
    }, IDLE_MS);
    slot.idleTimer.unref();
    this.idle.push(slot);
  }

  /** Stop a slot's unfinished task; it is reused once it says it stopped, or ended if it does not. */
  private abandon(slot: Slot, task: number): void {
    if (slot.died) return;
    const timer = setTimeout(() => {
      slot.worker.off('message', onMessage);
      this.all.delete(slot);
      void slot.worker.terminate();
    }, 10_000);
    timer.unref();
    const onMessage = (m: ParseReply) => {
      if (m.task !== task || m.type === 'rows') return;
      clearTimeout(timer);
      slot.worker.off('message', onMessage);
      this.release(slot);
    };
    slot.worker.on('message', onMessage);
    slot.onDeath = () => clearTimeout(timer);
    slot.worker.postMessage({ op: 'stop', task } satisfies ParseRequest);
  }

  async sheets(file: string): Promise<string[]> {
    const slot = this.acquire();
    const task = this.nextTask++;
    try {
      return await new Promise<string[]>((resolve, reject) => {
        const onMessage = (m: ParseReply) => {
          if (m.task !== task) return;
          slot.worker.off('message', onMessage);
          if (m.type === 'sheets') resolve(m.names);
          else if (m.type === 'error') reject(rehydrateParseError(m.error));
          else reject(new Error(`unexpected reply ${m.type}`));
        };
        slot.worker.on('message', onMessage);
        slot.onDeath = (err) => {
          slot.worker.off('message', onMessage);
          reject(err);
        };
        slot.worker.postMessage({ op: 'sheets', task, file, limits: this.limits } satisfies ParseRequest);
      });
    } finally {
      this.release(slot);
    }
  }

  async *rows(file: string, sheet?: string): AsyncGenerator<SourceRow> {
    const slot = this.acquire();
    const task = this.nextTask++;
    const batches: EncodedRows[] = [];
    let ended = false;
    let failure: Error | null = null;
    let notify: (() => void) | null = null;
    const wake = () => {
      notify?.();
      notify = null;
    };
    const onMessage = (m: ParseReply) => {
      if (m.task !== task) return;
      if (m.type === 'rows') batches.push(m.batch);
      else {
        ended = true;
        if (m.type === 'error') failure = rehydrateParseError(m.error);
      }
      wake();
    };
    slot.worker.on('message', onMessage);
    slot.onDeath = (err) => {
      ended = true;
      failure = err;
      wake();
    };
    const request: ParseRequest = { op: 'rows', task, file, sheet, limits: this.limits, credit: CREDIT };
    slot.worker.postMessage(request);
    let finished = false;
    try {
      for (;;) {
        const batch = batches.shift();
        if (batch) {
          // Ask for the next batch before working on this one, so the worker reads while we write.
          if (!ended) slot.worker.postMessage({ op: 'more', task } satisfies ParseRequest);
          for (const r of decodeRows(batch)) yield r;
          continue;
        }
        if (ended) break;
        await new Promise<void>((r) => (notify = r));
      }
      if (failure) throw failure;
      finished = true;
    } finally {
      slot.worker.off('message', onMessage);
      slot.onDeath = null;
      if (finished || (ended && !slot.died)) this.release(slot);
      else this.abandon(slot, task);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    for (const s of slots) {
      if (s.idleTimer) clearTimeout(s.idleTimer);
      s.worker.removeAllListeners('exit');
      // A read still going fails now rather than wait for rows that will not come.
      s.died = new Error('the import reader was closed');
      s.onDeath?.(s.died);
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
