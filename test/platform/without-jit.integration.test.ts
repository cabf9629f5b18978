// withoutJit: the read inside runs with PostgreSQL's JIT off and everything else keeps the server's
// setting; on SQLite it is the read itself.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEngines, openFresh } from '../helpers/engines.js';
import type { Db } from '../../src/server/db/connection.js';
import { withoutJit } from '../../src/server/db/dialect.js';

describeEngines('withoutJit', (engine) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await openFresh(engine));
  });
  afterAll(() => close());

  it('runs the read with JIT off, and only the read', async () => {
    if (engine === 'sqlite') {
      const r = await withoutJit(
        db.kysely,
        async (k) => (await sql<{ n: number }>`select 41 + 1 as n`.execute(k)).rows[0]!.n,
      );
      expect(r).toBe(42);
      return;
    }
    const jit = async (k: typeof db.kysely) => (await sql<{ jit: string }>`show jit`.execute(k)).rows[0]!.jit;
    const before = await jit(db.kysely);
    expect(await withoutJit(db.kysely, jit)).toBe('off');
    // Every connection of the pool still has the server's setting afterwards.
    const after = await Promise.all(Array.from({ length: 4 }, () => jit(db.kysely)));
    expect(after).toEqual(Array(4).fill(before));
  });

  it('runs a read that failed in its transaction once more as an ordinary read', async () => {
    let calls = 0;
    const r = await withoutJit(db.kysely, async (k) => {
      calls++;
      if (engine === 'postgres' && k.isTransaction) throw new Error('canceled by the replica');
      return (await sql<{ n: number }>`select 7 as n`.execute(k)).rows[0]!.n;
    });
    expect(r).toBe(7);
    expect(calls).toBe(engine === 'postgres' ? 2 : 1);
  });
});
