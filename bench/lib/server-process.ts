// Start a server script in its own process, so the load generator (autocannon, in the parent) does
// not share the server's event loop. The child reports where it listens over the IPC channel
// (`reportListening`), which lets it take any free port; scripts that cannot report (the real
// src/server/main.ts) are given a fixed PORT and polled until they answer.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ServerProcess {
  url: string;
  /** The server's node process, e.g. to read its CPU time from /proc. */
  pid: number;
  stop: () => Promise<void>;
}

/** Called by a child script once it listens. */
export function reportListening(url: string): void {
  process.send?.({ listening: url });
}

export async function startServer(script: string, env: Record<string, string>): Promise<ServerProcess> {
  // BENCH_SERVER_NODE_ARGS passes options to the server's node, e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.resolve(projectRoot, script)], {
    cwd: projectRoot,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`${script} exited before listening (${signal ?? code})`))),
  );
  const reported = new Promise<string>((resolve) =>
    child.on('message', (m: { listening?: string }) => m.listening && resolve(m.listening)),
  );
  const polled = env.PORT ? poll(`http://127.0.0.1:${env.PORT}`) : new Promise<string>(() => {});
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`${script} did not start within 30 s`)), 30_000).unref(),
  );
  let url: string;
  try {
    url = await Promise.race([reported, polled, exited, timeout]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  exited.catch(() => {}); // from here on an exit is expected
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function poll(url: string): Promise<string> {
  for (;;) {
    // Any HTTP answer, even a 404, means the server is up.
    if (
      await fetch(`${url}/api/health`).then(
        () => true,
        () => false,
      )
    )
      return url;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A TCP port free on 127.0.0.1 at the moment of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
