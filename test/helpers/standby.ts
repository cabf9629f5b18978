// A hot standby of the local PostgreSQL cluster for tests and benchmarks of DATABASE_READ_URL:
// pg_basebackup into a temporary directory (as the postgres OS user, over the unix socket: Debian's
// pg_hba has `local replication all peer`), then a second postmaster on a free loopback port.
// Needs root (to act as the postgres user) and the server binaries under /usr/lib/postgresql/N/bin.
// The backup copies the whole cluster: seconds on CI's, minutes beside a kept benchmark database.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../../bench/lib/server-process.js';

/** Why a standby cannot be started here, or null. */
export function standbyUnavailable(): string | null {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'must run as root to start a postmaster as the postgres user';
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'pipe' });
  } catch {
    return 'no postgres OS user';
  }
  return null;
}

const osId = (flag: '-u' | '-g') => Number(execFileSync('id', [flag, 'postgres']).toString().trim());

export async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A hot standby of the cluster at `adminUrl`: base backup into a temporary directory, its own postmaster. */
export class Standby {
  dir = '';
  port = 0;
  private child: ChildProcess | null = null;
  private log = '';

  constructor(private readonly adminUrl: string) {}

  async start(): Promise<void> {
    const admin = new pg.Client({ connectionString: this.adminUrl });
    await admin.connect();
    const show = async (name: string) => String((await admin.query(`show ${name}`)).rows[0][name]);
    const major = (await show('server_version_num')).slice(0, 2);
    const socketDir = (await show('unix_socket_directories')).split(',')[0]!.trim();
    const primaryPort = await show('port');
    // A hot standby needs at least the primary's figures for these.
    const atLeast = [
      'max_connections',
      'max_worker_processes',
      'max_wal_senders',
      'max_prepared_transactions',
      'max_locks_per_transaction',
    ];
    const settings: string[] = [];
    for (const n of atLeast) settings.push(`${n}=${await show(n)}`);
    await admin.end();
    const bin = `/usr/lib/postgresql/${major}/bin`;
    const uid = osId('-u');
    const gid = osId('-g');
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-replica-'));
    fs.chownSync(this.dir, uid, gid);
    fs.chmodSync(this.dir, 0o700);
    // As the postgres OS user over the socket: Debian's pg_hba has `local replication all peer`.
    execFileSync(
      `${bin}/pg_basebackup`,
      // A throwaway copy: not synced to disk (here nor at the standby's start, fsync=off below).
      ['-D', this.dir, '-R', '-X', 'stream', '-N', '-h', socketDir, '-p', primaryPort, '-U', 'postgres', '-c', 'fast'],
      { uid, gid, cwd: '/', stdio: 'pipe', timeout: 300_000 },
    );
    // Debian keeps the configuration outside the data directory: the copy gets its own.
    const write = (name: string, text: string) => {
      const file = path.join(this.dir, name);
      fs.writeFileSync(file, text);
      fs.chownSync(file, uid, gid);
    };
    write('postgresql.conf', "# read-replica test\nshared_buffers = '32MB'\n");
    // md5 also accepts a role whose password is stored as SCRAM (it then runs SCRAM).
    write('pg_hba.conf', 'local all all trust\nhost all all 127.0.0.1/32 md5\n');
    write('pg_ident.conf', '');
    this.port = await freePort();
    const args = ['-D', this.dir, '-p', String(this.port), '-k', this.dir];
    for (const s of ['listen_addresses=127.0.0.1', 'hot_standby=on', 'ssl=off', 'fsync=off', ...settings])
      args.push('-c', s);
    this.child = spawn(`${bin}/postgres`, args, { uid, gid, cwd: '/', stdio: ['ignore', 'ignore', 'pipe'] });
    // Should the process end without stop() (a crash, an interrupted run), the postmaster goes with it.
    const child = this.child;
    process.once('exit', () => {
      if (child.exitCode === null) child.kill('SIGQUIT');
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.log = (this.log + d.toString()).slice(-4000);
    });
  }

  url(database: string): string {
    const u = new URL(this.adminUrl);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    u.pathname = `/${database}`;
    return u.toString();
  }

  async query<T = Record<string, unknown>>(database: string, text: string): Promise<T[]> {
    const c = new pg.Client({ connectionString: this.url(database), connectionTimeoutMillis: 2000 });
    await c.connect();
    try {
      return (await c.query(text)).rows as T[];
    } finally {
      await c.end();
    }
  }

  /** Fast shutdown of the postmaster, waiting for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  async remove(): Promise<void> {
    await this.stop();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  get output(): string {
    return this.log;
  }
}
