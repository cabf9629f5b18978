// Entry of an import parse worker thread: registers the TypeScript loader (as bin/forecourt.mjs does),
// so the worker runs the same way under `npm start`, the CLI and the tests.
import { register } from 'tsx/esm/api';

register();
await import('./parse-worker.ts');
