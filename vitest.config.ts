import { defineConfig } from 'vitest/config';
import LongestFirst from './test/sequencer.js';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most of a test's time is spent waiting on PostgreSQL, SQLite's disk or Chromium, so three workers
    // keep two cores busy; TEST_WORKERS changes it.
    maxWorkers: Number(process.env.TEST_WORKERS) || 3,
    sequence: { sequencer: LongestFirst },
  },
});
