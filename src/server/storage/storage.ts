// One storage interface for attachments (photos of visits, documents of complaints…): put, get and
// delete by key. The default keeps files under the data folder; another backend (an object store)
// implements the same three calls. Nothing here knows what a file is for.
import fs from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';

export interface Storage {
  put(key: string, bytes: Buffer): Promise<void>;
  /** The bytes, or null when nothing is stored under the key. */
  get(key: string): Promise<Buffer | null>;
  delete(key: string): Promise<void>;
}

const KEY = /^[a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9._-]*)*$/;

/** Keys are paths of lower-case segments (`visit/2026/12/ab12….jpg`): nothing can climb out of the root. */
export function assertKey(key: string): void {
  if (!KEY.test(key) || key.includes('..') || key.length > 200) throw new Error(`bad storage key: ${key}`);
}

/** A fresh key under `prefix` for a file of `extension`. */
export function newKey(prefix: string, extension: string, now = new Date()): string {
  const month = now.toISOString().slice(0, 7).replace('-', '/');
  return `${prefix}/${month}/${crypto.randomBytes(16).toString('hex')}.${extension}`;
}

export class FileStorage implements Storage {
  constructor(private readonly root: string) {}

  private file(key: string): string {
    assertKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  async put(key: string, bytes: Buffer): Promise<void> {
    const file = this.file(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    // Written aside and renamed: a reader never sees half a file.
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    await fs.writeFile(tmp, bytes, { flag: 'wx' });
    await fs.rename(tmp, file);
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await fs.readFile(this.file(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.file(key), { force: true });
  }
}

/**
 * The data folder: FORECOURT_DATA_DIR, else the folder of the SQLite file, else ./data (PostgreSQL
 * installs keep their attachments beside the app unless told otherwise).
 */
export function dataDirOf(databaseUrl: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.FORECOURT_DATA_DIR) return env.FORECOURT_DATA_DIR;
  if (!/^postgres(ql)?:\/\//.test(databaseUrl) && databaseUrl !== ':memory:') return path.dirname(databaseUrl);
  return './data';
}

export function defaultStorage(databaseUrl: string): Storage {
  return new FileStorage(path.join(dataDirOf(databaseUrl), 'files'));
}
