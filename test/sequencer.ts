// Test files in order of how long they take, longest first, so the long browser walks do not start
// last and leave the other workers idle. Durations recorded by an earlier run (vitest's cache) decide
// where there are any; on a clean clone, browser tests go first and the page walks before them.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

function weight(spec: TestSpecification): number {
  const id = spec.moduleId;
  if (id.includes('/e2e/page-walk')) return 3;
  if (id.includes('/e2e/')) return 2;
  if (/import-resume|http-hardening/.test(id)) return 1;
  return 0;
}

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cached = await super.sort(files);
    const rank = new Map(cached.map((f, i) => [f, i]));
    return [...files].sort((a, b) => weight(b) - weight(a) || rank.get(a)! - rank.get(b)!);
  }
}
