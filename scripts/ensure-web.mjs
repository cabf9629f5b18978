// Builds the web UI when dist/web is missing or older than its sources, so a fresh clone's
// `npm install && npm start` serves the UI and a second start is instant.
// `node scripts/ensure-web.mjs [--force]`, or import { ensureWeb } (the e2e tests do).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = path.join(root, 'src/web');
const outDir = path.join(root, 'dist/web');
const configFile = path.join(root, 'vite.config.ts');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const t = entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

/** Why the UI needs building, or null when dist/web is up to date. */
export function staleReason() {
  const index = path.join(outDir, 'index.html');
  if (!fs.existsSync(index)) return 'dist/web/index.html is missing';
  const built = fs.statSync(index).mtimeMs;
  const sources = Math.max(newestMtime(srcDir), fs.statSync(configFile).mtimeMs);
  return sources > built ? 'src/web changed since the last build' : null;
}

/**
 * Build dist/web if needed. Vite writes into a temporary folder that then replaces dist/web,
 * so a concurrent reader never sees a half-written build.
 */
export async function ensureWeb({ force = false, log = console.log } = {}) {
  const reason = force ? 'forced' : staleReason();
  if (!reason) return { built: false };
  log(`[web] building the web UI (${reason})…`);
  const started = Date.now();
  const { build } = await import('vite');
  const tmp = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  // The bundle users get is a production build, also when the tests build it (vitest sets
  // NODE_ENV=test, which would keep the libraries' development checks in the bundle).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile, mode: 'production', logLevel: 'warn', build: { outDir: tmp, emptyOutDir: true } });
    const old = `${outDir}.old-${process.pid}-${Date.now()}`;
    if (fs.existsSync(outDir)) fs.renameSync(outDir, old);
    fs.renameSync(tmp, outDir);
    fs.rmSync(old, { recursive: true, force: true });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  log(`[web] built dist/web in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { built: true };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await ensureWeb({ force: process.argv.includes('--force') });
  } catch (err) {
    console.error('[web] build failed:', err);
    process.exit(1);
  }
}
