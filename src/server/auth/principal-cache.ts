// Signed-in requests find their principal here instead of rebuilding it with three queries. An entry
// lives `boundMs` at most; any change that could alter a principal (users, roles, units, grants,
// passwords, sign-outs) clears this instance's cache at once and, on PostgreSQL, every other
// instance's through NOTIFY. Where a notice cannot arrive (SQLite has no other instances; a CLI
// process changing users), the bound is the longest a stale principal is served.
import pg from 'pg';

const PgClient = pg.Client;
import type { Principal } from './principal.js';

export const PRINCIPAL_CHANNEL = 'forecourt_principals';

interface Entry {
  principal: Principal;
  /** The session's own deadlines, checked on every hit as the database row would be. */
  expiresAt: number;
  lastSeenAt: number;
  cachedAt: number;
}

export class PrincipalCache {
  private readonly entries = new Map<string, Entry>();
  private listener: pg.Client | null = null;
  private notifier: ((payload: string) => Promise<void>) | null = null;

  constructor(
    readonly boundMs: number,
    private readonly maxEntries = 50_000,
  ) {}

  get enabled(): boolean {
    return this.boundMs > 0;
  }

  get(sessionId: string, now: number): Entry | undefined {
    const e = this.entries.get(sessionId);
    if (!e) return undefined;
    if (now - e.cachedAt >= this.boundMs || now < e.cachedAt) {
      this.entries.delete(sessionId);
      return undefined;
    }
    return e;
  }

  set(sessionId: string, entry: Entry): void {
    if (!this.enabled) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(sessionId, entry);
  }

  touch(sessionId: string, lastSeenAt: number): void {
    const e = this.entries.get(sessionId);
    if (e) e.lastSeenAt = lastSeenAt;
  }

  /** Forget one session here and on the other instances (a sign-out). */
  async forget(sessionId: string): Promise<void> {
    this.entries.delete(sessionId);
    await this.notifier?.(sessionId);
  }

  /** Forget every principal here and on the other instances (a change to users, roles, units or grants). */
  async clear(): Promise<void> {
    this.entries.clear();
    await this.notifier?.('*');
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * PostgreSQL: listen for other instances' changes on a connection of its own (outside the pool, so
   * it never takes a connection requests wait for), and tell them of ours through the pool.
   */
  async listen(pool: pg.Pool): Promise<void> {
    if (!this.enabled) return;
    const client = new PgClient(pool.options);
    // A lost listening connection would leave only the bound: drop everything and stop caching.
    client.on('error', () => {
      this.entries.clear();
      (this as { boundMs: number }).boundMs = 0;
    });
    client.on('notification', (msg) => {
      if (msg.channel !== PRINCIPAL_CHANNEL) return;
      if (!msg.payload || msg.payload === '*') this.entries.clear();
      else this.entries.delete(msg.payload);
    });
    await client.connect();
    await client.query(`listen ${PRINCIPAL_CHANNEL}`);
    this.listener = client;
    this.notifier = async (payload) => {
      await pool.query('select pg_notify($1, $2)', [PRINCIPAL_CHANNEL, payload]);
    };
  }

  async close(): Promise<void> {
    this.notifier = null;
    const l = this.listener;
    this.listener = null;
    if (l) {
      try {
        await l.end();
      } catch {
        // closing anyway
      }
    }
  }
}
