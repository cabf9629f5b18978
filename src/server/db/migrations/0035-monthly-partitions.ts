import type { Kysely } from 'kysely';
import { isPostgres, sql } from './helpers.js';

// PostgreSQL: fuel_transaction becomes a table partitioned by month of its business day (native
// declarative partitioning, RANGE on `business_day`), so a month's sales sit together and the
// indexes of the current month stay small. An existing table is converted: a partitioned copy is
// made (columns and defaults as they are, the id sequence kept), with a partition per month from
// the oldest row (or 24 months back, if earlier) to three months ahead and a DEFAULT partition for
// any other day, the rows moved,
// the names swapped, the indexes and foreign keys made again.
//
// A unique constraint on a partitioned table must contain the partition key, and a sale re-sent
// with another time may fall on another day: the key (namespace, source, external id) moves to
// `fuel_transaction_key`, a plain table the ingest writes beside the rows, which also records
// where each row lives (id and day). The ingest writes the keys itself (a second COPY beside the
// rows'); for any other writer row triggers keep the key table in step: an insert claims the key
// (refused as a unique violation when another row holds it), an update of a key column moves it,
// a delete frees it. The insert trigger's condition skips transactions that set
// `forecourt.txn_keys` to 'written', so the ingest's COPY keeps its batched inserts; 'moving' (rows
// moved out of DEFAULT into a new partition) skips the delete trigger too. The row's
// unique index becomes (id, business_day); ids still come from the one sequence. customer_merge_txn loses its
// foreign key to the rows (a foreign key needs a unique constraint on the referenced columns
// alone); the delete trigger removes its entries as the cascade did.
//
// SQLite has no partitioning: nothing changes there.
const AHEAD_MONTHS = 3;
const BACK_MONTHS = 24;

function monthOf(day: string): string {
  return day.slice(0, 7);
}

function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  const partitioned = await sql<{ n: number }>`select count(*)::int as n from pg_partitioned_table
    where partrelid = to_regclass('fuel_transaction')`.execute(db);
  if (partitioned.rows[0]!.n > 0) return;

  // What the old table carries besides its columns: secondary indexes and foreign keys, as written.
  const indexes = (
    await sql<{ def: string }>`select pg_get_indexdef(i.indexrelid) as def from pg_index i
      where i.indrelid = 'fuel_transaction'::regclass and not i.indisprimary
        and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)`.execute(db)
  ).rows.map((r) => r.def);
  const foreignKeys = (
    await sql<{ name: string; def: string }>`select conname as name, pg_get_constraintdef(oid) as def
      from pg_constraint where conrelid = 'fuel_transaction'::regclass and contype = 'f'`.execute(db)
  ).rows;
  const referrers = (
    await sql<{ tbl: string; name: string }>`select conrelid::regclass::text as tbl, conname as name
      from pg_constraint where confrelid = 'fuel_transaction'::regclass and contype = 'f'`.execute(db)
  ).rows;

  const today = new Date().toISOString().slice(0, 10);
  const [ty, tm] = today.split('-').map(Number) as [number, number];
  const back = ty * 12 + (tm - 1) - BACK_MONTHS;
  const backDay = `${Math.floor(back / 12)}-${String((back % 12) + 1).padStart(2, '0')}-01`;
  // A stray date (year 1, year 2999) is no reason for thousands of partitions: days more than ten
  // years back or a year ahead stay in DEFAULT, whose months the partitions job splits off one by one.
  const floorDay = `${ty - 10}-01-01`;
  const ceilDay = `${ty + 1}-12-31`;
  const span = (
    await sql<{ lo: string | null; hi: string | null }>`select min(business_day) as lo, max(business_day) as hi
      from fuel_transaction where business_day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
        and business_day >= ${floorDay} and business_day <= ${ceilDay}`.execute(db)
  ).rows[0]!;
  let month = monthOf(span.lo && span.lo < backDay ? span.lo : backDay);
  let last = monthOf(span.hi && span.hi > today ? span.hi : today);
  for (let i = 0; i < AHEAD_MONTHS; i++) last = nextMonth(last);

  await sql`create table fuel_transaction_part (like fuel_transaction including defaults including constraints)
    partition by range (business_day)`.execute(db);
  for (;;) {
    const name = `fuel_transaction_p${month.replace('-', '_')}`;
    await sql
      .raw(
        `create table ${name} partition of fuel_transaction_part
        for values from ('${month}-01') to ('${nextMonth(month)}-01')`,
      )
      .execute(db);
    if (month === last) break;
    month = nextMonth(month);
  }
  await sql`create table fuel_transaction_default partition of fuel_transaction_part default`.execute(db);
  await sql`insert into fuel_transaction_part select * from fuel_transaction`.execute(db);

  await sql`create table fuel_transaction_key (
      namespace bigint not null,
      source varchar(32) not null,
      external_id varchar(64) not null,
      txn_id bigint not null,
      business_day varchar(10) not null)`.execute(db);
  await sql`insert into fuel_transaction_key (namespace, source, external_id, txn_id, business_day)
    select namespace, source, external_id, id, business_day from fuel_transaction`.execute(db);
  await sql`alter table fuel_transaction_key add constraint fuel_transaction_key_pk
    primary key (namespace, source, external_id)`.execute(db);

  for (const r of referrers) await sql.raw(`alter table ${r.tbl} drop constraint "${r.name}"`).execute(db);
  // The sequence belongs to the old table's id column: it would go with the table.
  await sql`alter sequence fuel_transaction_id_seq owned by fuel_transaction_part.id`.execute(db);
  await sql`drop table fuel_transaction`.execute(db);
  await sql`alter table fuel_transaction_part rename to fuel_transaction`.execute(db);
  // A unique index rather than a primary key constraint: pg_restore --clean (PostgreSQL 15) tries to
  // drop each partition's copy of a primary key constraint and fails, as it is inherited.
  await sql`create unique index fuel_transaction_pkey on fuel_transaction (id, business_day)`.execute(db);
  for (const def of indexes) await sql.raw(def).execute(db);
  for (const fk of foreignKeys)
    await sql.raw(`alter table fuel_transaction add constraint "${fk.name}" ${fk.def}`).execute(db);

  await sql`create function fuel_transaction_key_sync() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then
        insert into fuel_transaction_key (namespace, source, external_id, txn_id, business_day)
          values (new.namespace, new.source, new.external_id, new.id, new.business_day)
          on conflict (namespace, source, external_id) do nothing;
        if not found and not exists (select 1 from fuel_transaction_key k where k.namespace = new.namespace
            and k.source = new.source and k.external_id = new.external_id and k.txn_id = new.id) then
          raise unique_violation using
            message = 'duplicate key value violates unique constraint "fuel_transaction_key_pk"',
            detail = format('Key (namespace, source, external_id)=(%s, %s, %s) already exists.',
              new.namespace, new.source, new.external_id);
        end if;
      elsif tg_op = 'UPDATE' then
        update fuel_transaction_key set namespace = new.namespace, source = new.source,
            external_id = new.external_id, txn_id = new.id, business_day = new.business_day
          where namespace = old.namespace and source = old.source and external_id = old.external_id
            and txn_id = old.id;
      else
        delete from fuel_transaction_key where namespace = old.namespace and source = old.source
          and external_id = old.external_id and txn_id = old.id;
        delete from customer_merge_txn where txn_id = old.id;
      end if;
      return null;
    end $$`.execute(db);
  await sql`create trigger fuel_transaction_key_insert after insert on fuel_transaction for each row
    when (coalesce(current_setting('forecourt.txn_keys', true), '') not in ('written', 'moving'))
    execute function fuel_transaction_key_sync()`.execute(db);
  await sql`create trigger fuel_transaction_key_update
    after update of namespace, source, external_id, business_day on fuel_transaction for each row
    execute function fuel_transaction_key_sync()`.execute(db);
  await sql`create trigger fuel_transaction_key_delete after delete on fuel_transaction for each row
    when (coalesce(current_setting('forecourt.txn_keys', true), '') <> 'moving')
    execute function fuel_transaction_key_sync()`.execute(db);
  await sql`analyze fuel_transaction`.execute(db);
  await sql`analyze fuel_transaction_key`.execute(db);
}
