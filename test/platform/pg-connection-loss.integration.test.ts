// A PostgreSQL backend ended under an idle pooled connection (a server restart, an operator's
// pg_terminate_backend) must not end the process: the pool drops that connection and the next query
// runs on a new one. PostgreSQL only: SQLite has no server to lose.
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pg from 'pg';
import { isPgAvailable, openFresh, PG_ADMIN_URL } from '../helpers/engines.js';

const pgReady = await isPgAvailable();

(pgReady ? describe : describe.skip)('idle connection lost [postgres]', () => {
  it('drops the ended connection and answers the next query on a new one', async () => {
    const { db, close } = await openFresh('postgres');
    const lost: string[] = [];
    const onWarning = (w: Error & { code?: string }) => {
      if (w.code === 'FORECOURT_PG_IDLE') lost.push(w.message);
    };
    process.on('warning', onWarning);
    try {
      const first = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db.kysely);
      const pid = first.rows[0]!.pid;
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      const ended = await admin.query('select pg_terminate_backend($1) as ok', [pid]);
      await admin.end();
      expect(ended.rows[0].ok).toBe(true);
      for (let i = 0; i < 50 && lost.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(lost[0]).toMatch(/terminat/i);
      const next = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db.kysely);
      expect(next.rows[0]!.pid).not.toBe(pid);
    } finally {
      process.off('warning', onWarning);
      await close();
    }
  });
});
