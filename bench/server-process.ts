// Start a server script in its own process so the load generator does not share its event loop.
import { spawn, type ChildProcess } from 'node:child_process';

export async function startServer(script: string, env: Record<string, string>): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = env.PORT!;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    const up = await fetch(`${url}/api/health`).then(() => true, () => false);
    const bare = up || (await fetch(`${url}/bare`).then(() => true, () => false));
    if (bare) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
