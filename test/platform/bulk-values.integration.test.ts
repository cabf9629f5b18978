// Values that travel in bulk (array parameters on PostgreSQL, `values` lists on SQLite, COPY text)
// come back exactly as they were sent, awkward characters included.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { from as copyFrom } from 'pg-copy-streams';
import { describeEngines, openFresh } from '../helpers/engines.js';
import type { Db } from '../../src/server/db/connection.js';
import { bulkStatements, copyField, oneOf, pgClientOf } from '../../src/server/db/dialect.js';

const AWKWARD = [
  'plain',
  '',
  'with "quotes"',
  'back\\slash',
  'tab\there',
  'line\nbreak',
  'cr\rhere',
  '{braces},comma',
  'NULL',
  '冀A12345',
  ' spaced ',
  '\\N',
  "it's",
];

describeEngines('bulk values', (engine) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await openFresh(engine));
    await sql`create table bulk_probe (n integer not null, t text, b bigint)`.execute(db.kysely);
  });
  afterAll(() => close());

  const rows = AWKWARD.map((t, i) => [i, t, i % 3 === 0 ? null : 2 ** 40 + i]).concat([[AWKWARD.length, null, -1]]);
  const read = async () =>
    (
      await sql<{
        n: number;
        t: string | null;
        b: string | number | null;
      }>`select n, t, b from bulk_probe order by n`.execute(db.kysely)
    ).rows.map((r) => [Number(r.n), r.t, r.b === null ? null : Number(r.b)]);

  it('array parameters and values lists keep every character, nulls and large numbers', async () => {
    const columns = [
      { name: 'n', pg: 'integer' },
      { name: 't', pg: 'text' },
      { name: 'b', pg: 'bigint' },
    ] as const;
    for (const q of bulkStatements(
      engine,
      columns,
      rows,
      'insert into bulk_probe (n, t, b) select * from v where true',
    ))
      await db.kysely.executeQuery(q);
    expect(await read()).toEqual(rows);
    // A list bound as one parameter finds the same texts.
    const found = await db.kysely
      .selectFrom('bulk_probe' as never)
      .select(sql<number>`n`.as('n'))
      .where(oneOf(engine, sql.ref('t'), AWKWARD))
      .execute();
    expect(found.map((r) => Number(r.n)).sort((a, b) => a - b)).toEqual(AWKWARD.map((_, i) => i));
  });

  // SQLite has no COPY; its rows travel as bound parameters (above).
  if (engine === 'postgres')
    it('COPY text fields keep every character and null', async () => {
      await sql`delete from bulk_probe`.execute(db.kysely);
      await db.kysely.transaction().execute(async (trx) => {
        const client = await pgClientOf(trx);
        const text = rows.map((r) => r.map(copyField).join('\t') + '\n').join('');
        await pipeline(Readable.from([text]), client.query(copyFrom('copy bulk_probe (n, t, b) from stdin')));
      });
      expect(await read()).toEqual(rows);
    });
});
