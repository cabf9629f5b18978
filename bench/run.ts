// `npm run bench [-- name… [options]]`: every benchmark in bench/ (each *.ts file here but this
// one; helpers live in lib/), one after another, each in its own process. Options after the names
// are passed to each benchmark, e.g. `npm run bench -- api-throughput --seconds 3`.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const ALL = fs
  .readdirSync(benchDir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -'.ts'.length))
  .sort();

const argv = process.argv.slice(2);
const firstOption = argv.findIndex((a) => a.startsWith('-'));
const chosen = firstOption === -1 ? argv : argv.slice(0, firstOption);
const extra = firstOption === -1 ? [] : argv.slice(firstOption);
const unknown = chosen.filter((name) => !ALL.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${ALL.join(', ')}`);
  process.exit(2);
}

let failed = 0;
for (const name of chosen.length ? chosen : ALL) {
  const started = Date.now();
  console.log(`\n### ${name} (${new Date(started).toISOString()})\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(benchDir, `${name}.ts`), ...extra], {
    stdio: 'inherit',
    cwd: path.dirname(benchDir),
  });
  console.log(
    `\n### ${name}: ${r.status === 0 ? 'done' : `FAILED (${r.signal ?? `exit code ${r.status}`})`} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  if (r.status !== 0) failed++;
}
process.exitCode = failed > 0 ? 1 : 0;
