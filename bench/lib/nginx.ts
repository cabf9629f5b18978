// The shipped deploy/nginx.conf in front of app instances on this machine, as an operator runs it but with
// this run's ports, a throw-away certificate and a directory of its own for nginx's files. Shared by
// e2e/nginx-instances.e2e.test.ts (what the file promises) and bench/branch-load.ts (what it carries).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TEMP_DIRS = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'];

function which(cmd: string): string | null {
  for (const dir of ['/usr/sbin', '/usr/local/sbin', ...(process.env.PATH ?? '').split(':')]) {
    const p = path.join(dir, cmd);
    if (dir && fs.existsSync(p)) return p;
  }
  return null;
}
export const NGINX = which('nginx');
export const OPENSSL = which('openssl');

export interface NginxConfOptions {
  /** nginx's own files (pid, logs, temp paths) and the certificate live here. */
  dir: string;
  https: number;
  http: number;
  /** The instances' ports; the shipped file lists two, each port here gets a `server` line like them. */
  upstreams: number[];
  webRoot: string;
  brotli: boolean;
  /** `worker_processes` (nginx's default, 1, when left out; Debian's /etc/nginx/nginx.conf says auto). */
  workerProcesses?: number | 'auto';
  workerConnections?: number;
}

/**
 * deploy/nginx.conf as shipped, with this run's ports, certificate, web root and a prefix for nginx's
 * own files; wrapped in the main/events/http contexts that /etc/nginx/nginx.conf gives it on a server.
 * Every substitution must find its text, so a change to the shipped file that breaks this fails here.
 */
export function renderNginxConf(source: string, o: NginxConfOptions): string {
  let conf = source;
  const sub = (from: RegExp, to: string) => {
    if (!from.test(conf)) throw new Error(`deploy/nginx.conf no longer contains ${from}`);
    conf = conf.replace(from, to);
  };
  if (o.upstreams.length === 0) throw new Error('nginx needs at least one upstream');
  const second = /\n\s*server 127\.0\.0\.1:3002 [^;]*;/;
  const line = /server 127\.0\.0\.1:3001 ([^;]*;)/.exec(conf);
  if (!line || !second.test(conf)) throw new Error('deploy/nginx.conf no longer lists the instances on 3001 and 3002');
  sub(second, '');
  sub(/server 127\.0\.0\.1:3001 [^;]*;/, o.upstreams.map((p) => `server 127.0.0.1:${p} ${line[1]}`).join('\n    '));
  sub(/listen 80;/, `listen 127.0.0.1:${o.http};`);
  sub(/\n\s*listen \[::\]:80;/, '');
  sub(/listen 443 ssl/, `listen 127.0.0.1:${o.https} ssl`);
  sub(/\n\s*listen \[::\]:443 [^;]*;/, '');
  sub(/ssl_certificate \s*\S+;/, `ssl_certificate ${o.dir}/cert.pem;`);
  sub(/ssl_certificate_key \s*\S+;/, `ssl_certificate_key ${o.dir}/key.pem;`);
  sub(/root \/opt\/forecourt\/dist\/web;/, `root ${o.webRoot};`);
  if (!o.brotli) sub(/\n\s*brotli[^\n]*/g, '');
  const temp = TEMP_DIRS.map((t) => `  ${t}_temp_path ${o.dir}/${t};`);
  return [
    process.getuid?.() === 0 ? 'user root;' : '',
    o.brotli ? 'include /etc/nginx/modules-enabled/*brotli*.conf;' : '',
    o.workerProcesses !== undefined ? `worker_processes ${o.workerProcesses};` : '',
    `pid ${o.dir}/nginx.pid;`,
    `error_log ${o.dir}/error.log warn;`,
    `events { worker_connections ${o.workerConnections ?? 512}; }`,
    'http {',
    '  include /etc/nginx/mime.types;',
    '  default_type application/octet-stream;',
    `  access_log ${o.dir}/access.log;`,
    ...temp,
    conf,
    '}',
  ].join('\n');
}

export interface RunningNginx {
  /** https://127.0.0.1:PORT */
  front: string;
  httpPort: number;
  dir: string;
  /** The master process (its workers are its children). */
  child: ChildProcess;
  stop: () => Promise<void>;
}

/**
 * A directory with a self-signed certificate for 127.0.0.1, the rendered configuration (checked with
 * `nginx -t`) and nginx running in the foreground on it, answering on /api/health/live through to the
 * instances. `stop` ends nginx and removes the directory.
 */
export async function startNginx(o: {
  https: number;
  http: number;
  upstreams: number[];
  webRoot?: string;
  workerProcesses?: number | 'auto';
  workerConnections?: number;
}): Promise<RunningNginx> {
  if (!NGINX) throw new Error('nginx is not installed');
  if (!OPENSSL) throw new Error('openssl is needed for the certificate');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-nginx-'));
  fs.chmodSync(dir, 0o755);
  for (const t of TEMP_DIRS) fs.mkdirSync(path.join(dir, t));
  const cert = spawnSync(
    OPENSSL,
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'].concat([
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ]),
    { encoding: 'utf8' },
  );
  if (cert.status !== 0) throw new Error(`openssl failed: ${cert.stderr}`);
  const brotli =
    fs.existsSync('/etc/nginx/modules-enabled') &&
    fs.readdirSync('/etc/nginx/modules-enabled').some((f) => f.includes('brotli'));
  const conf = renderNginxConf(fs.readFileSync(path.join(ROOT, 'deploy/nginx.conf'), 'utf8'), {
    dir,
    https: o.https,
    http: o.http,
    upstreams: o.upstreams,
    webRoot: o.webRoot ?? path.join(ROOT, 'dist/web'),
    brotli,
    workerProcesses: o.workerProcesses,
    workerConnections: o.workerConnections,
  });
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const check = spawnSync(NGINX, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t refused the rendered deploy/nginx.conf:\n${check.stderr}`);
  const child = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const front = `https://127.0.0.1:${o.https}`;
  const agent = new https.Agent({ rejectUnauthorized: false });
  const live = () =>
    new Promise<boolean>((resolve) => {
      const req = https.get(`${front}/api/health/live`, { agent, timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
    });
  let up = false;
  for (let i = 0; i < 100 && !up; i++) {
    if (child.exitCode !== null) break;
    up = await live();
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  agent.destroy();
  const stop = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        fs.rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', done);
      child.kill('SIGTERM');
    });
  if (!up) {
    await stop();
    throw new Error('nginx did not answer /api/health/live through to the instances within 10 s');
  }
  return { front, httpPort: o.http, dir, child, stop };
}
