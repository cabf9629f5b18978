// `npm run bench [-- name…]`: run the benchmarks one after another, each in its own process.
import { spawnSync } from 'node:child_process';

const ALL = ['api-throughput', 'plate-lookup'];
// Names first, then options passed through to each benchmark: `npm run bench -- plate-lookup --customers 100000`.
const argv = process.argv.slice(2);
const firstOption = argv.findIndex((a) => a.startsWith('-'));
const chosen = firstOption === -1 ? argv : argv.slice(0, firstOption);
const extra = firstOption === -1 ? [] : argv.slice(firstOption);
for (const name of chosen.length ? chosen : ALL) {
  if (!ALL.includes(name)) {
    console.error(`unknown benchmark ${name}; choose from ${ALL.join(', ')}`);
    process.exit(2);
  }
  console.log(`\n### ${name} (${new Date().toISOString()})`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.ts`, ...extra], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
