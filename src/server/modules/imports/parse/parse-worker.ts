// An import parse worker: reads one file at a time (the sheet list, or its rows) and posts the rows
// in batches. It runs ahead of the main thread by at most the batches it has credit for, so a large
// file never piles up in memory; the main thread grants one more for each batch it takes.
import { parentPort } from 'node:worker_threads';
import { listSheets, readRows, type SourceRow } from './read.js';
import { serialiseParseError } from './limits.js';
import { encodeRows, type ParseReply, type ParseRequest } from './parse-pool.js';

/** A batch is posted when it holds this many rows or roughly this many characters of cells. */
const BATCH_ROWS = 1000;
const BATCH_CHARS = 4 * 1024 * 1024;

const port = parentPort!;
let task = 0;
let credit = 0;
let stopping = false;
let wake: (() => void) | null = null;

const post = (m: ParseReply) => port.postMessage(m);

function weight(r: SourceRow): number {
  let n = 16;
  for (const c of r.cells) n += typeof c === 'string' ? c.length : 8;
  return n;
}

async function send(id: number, rows: SourceRow[]): Promise<void> {
  while (credit <= 0 && !stopping) await new Promise<void>((r) => (wake = r));
  if (stopping) return;
  credit--;
  post({ type: 'rows', task: id, batch: encodeRows(rows) });
}

async function run(m: Extract<ParseRequest, { op: 'sheets' | 'rows' }>): Promise<void> {
  task = m.task;
  credit = m.op === 'rows' ? m.credit : 0;
  stopping = false;
  try {
    if (m.op === 'sheets') {
      post({ type: 'sheets', task: m.task, names: await listSheets(m.file, m.limits) });
      return;
    }
    let batch: SourceRow[] = [];
    let size = 0;
    try {
      for await (const r of readRows(m.file, { sheet: m.sheet, limits: m.limits })) {
        batch.push(r);
        size += weight(r);
        if (batch.length >= BATCH_ROWS || size >= BATCH_CHARS) {
          await send(m.task, batch);
          batch = [];
          size = 0;
          if (stopping) break;
        }
      }
    } finally {
      // The rows read before a failure come first: a reader that wanted only those never sees it.
      if (batch.length && !stopping) await send(m.task, batch);
    }
    post({ type: 'end', task: m.task });
  } catch (err) {
    post({ type: 'error', task: m.task, error: serialiseParseError(err) });
  } finally {
    task = 0;
  }
}

port.on('message', (m: ParseRequest) => {
  if (m.op === 'sheets' || m.op === 'rows') void run(m);
  else if (m.task === task) {
    if (m.op === 'more') credit++;
    else stopping = true;
    wake?.();
    wake = null;
  }
});
