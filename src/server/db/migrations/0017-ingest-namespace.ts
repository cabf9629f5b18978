import type { Kysely } from 'kysely';
import { isPostgres, sql } from './helpers.js';

// Sales and top-ups are keyed by (namespace, source, external id) instead of (source, external id):
// the namespace is the org unit of the API key (or import) that sent the row, so a sender can no
// longer claim another sender's external ids. Rows on file take the unit of their batch's key; rows
// no key sent (fill-ups recorded at the pump, imports) take namespace 0, the system's own.
const TABLES = [
  { table: 'fuel_transaction', oldKey: 'fuel_transaction_source_external_uq', newKey: 'fuel_transaction_key_uq' },
  { table: 'card_topup', oldKey: 'card_topup_source_external_uq', newKey: 'card_topup_key_uq' },
] as const;

export async function up(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    for (const { table, oldKey, newKey } of TABLES) {
      // A column with a constant default is added without rewriting the table; only rows sent with
      // a key are written again, by one statement.
      await sql.raw(`alter table ${table} add column namespace bigint not null default 0`).execute(db);
      await sql.raw(`alter table ${table} drop constraint ${oldKey}`).execute(db);
      await sql
        .raw(
          `update ${table} t set namespace = k.org_unit_id
        from ingest_batch b join api_key k on k.id = b.api_key_id where b.id = t.ingest_batch_id`,
        )
        .execute(db);
      await sql
        .raw(`alter table ${table} add constraint ${newKey} unique (namespace, source, external_id)`)
        .execute(db);
    }
    return;
  }
  // SQLite cannot drop a unique constraint declared in CREATE TABLE: each table is built anew from
  // its own definition with the new key, filled by one insert … select, and takes the old one's
  // place, indexes and triggers recreated. Foreign keys are off meanwhile, or dropping the old table
  // would delete the rows that refer to it (customer_merge_txn cascades).
  const fk = Number((await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db)).rows[0]?.foreign_keys ?? 0);
  await sql`pragma foreign_keys = off`.execute(db);
  try {
    await sql`begin`.execute(db);
    try {
      for (const t of TABLES) await rebuildSqlite(db, t.table, t.oldKey, t.newKey);
      await sql`commit`.execute(db);
    } catch (err) {
      await sql`rollback`.execute(db);
      throw err;
    }
  } finally {
    await sql.raw(`pragma foreign_keys = ${fk ? 'on' : 'off'}`).execute(db);
  }
}

async function rebuildSqlite(db: Kysely<any>, table: string, oldKey: string, newKey: string): Promise<void> {
  const def = (
    await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = ${table}`.execute(db)
  ).rows[0]?.sql;
  const idColumn = '"id" integer primary key autoincrement, ';
  const key = `constraint "${oldKey}" unique ("source", "external_id")`;
  if (!def || !def.startsWith(`CREATE TABLE "${table}" (`) || !def.includes(idColumn) || !def.includes(key)) {
    throw new Error(`${table} is not defined as migration 0017 expects: ${def}`);
  }
  const rebuilt = `${table}_rebuilt`;
  const create = def
    .replace(`CREATE TABLE "${table}" (`, `CREATE TABLE "${rebuilt}" (`)
    .replace(idColumn, `${idColumn}"namespace" integer default 0 not null, `)
    .replace(key, `constraint "${newKey}" unique ("namespace", "source", "external_id")`);
  const columns = (await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(db)).rows.map(
    (r) => `"${r.name}"`,
  );
  const dependents = (
    await sql<{ sql: string }>`select sql from sqlite_master
      where tbl_name = ${table} and type in ('index', 'trigger') and sql is not null order by type, name`.execute(db)
  ).rows;
  const seq = (await sql<{ seq: number }>`select seq from sqlite_sequence where name = ${table}`.execute(db)).rows[0]
    ?.seq;

  await sql.raw(create).execute(db);
  await sql
    .raw(
      `insert into "${rebuilt}" (${columns.join(', ')}, "namespace")
      select ${columns.map((c) => `t.${c}`).join(', ')}, coalesce(k.org_unit_id, 0)
      from "${table}" t left join ingest_batch b on b.id = t.ingest_batch_id left join api_key k on k.id = b.api_key_id
      order by t.id`,
    )
    .execute(db);
  await sql.raw(`drop table "${table}"`).execute(db);
  await sql.raw(`alter table "${rebuilt}" rename to "${table}"`).execute(db);
  for (const d of dependents) await sql.raw(d.sql).execute(db);
  // Ids of rows deleted since (replaced fill-ups) are never handed out again.
  if (seq !== undefined) await sql`update sqlite_sequence set seq = max(seq, ${seq}) where name = ${table}`.execute(db);
  // The tables that refer to this one still find every row they referred to.
  const referrers = (
    await sql<{ name: string }>`select m.name from sqlite_master m, pragma_foreign_key_list(m.name) f
      where m.type = 'table' and f."table" = ${table}`.execute(db)
  ).rows;
  for (const r of referrers) {
    const broken = await sql.raw(`pragma foreign_key_check("${r.name}")`).execute(db);
    if (broken.rows.length) {
      throw new Error(`rebuilding ${table} broke ${broken.rows.length} references from ${r.name}`);
    }
  }
}
