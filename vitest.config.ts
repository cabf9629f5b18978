import { defineConfig } from 'vitest/config';
import LongestFirst from './test/sequencer.js';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two workers: a test waits on PostgreSQL, SQLite's disk or Chromium much of the time, but more
    // workers than cores made browser tests time out on a 2-core machine; TEST_WORKERS changes it.
    maxWorkers: Number(process.env.TEST_WORKERS) || 2,
    sequence: { sequencer: LongestFirst },
  },
});
