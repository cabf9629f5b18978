// Every scheduled job of the server, in one list (each is defined beside its feature).
import type { JobDefinition } from './job-runner.js';

export const JOBS: JobDefinition[] = [];
