// PostgreSQL: fuel_transaction is partitioned by month of its business day (migration 0035). This
// keeps a partition ready for the current month, the next `ahead` ones and the `back` ones before it
// (empty partitions cost next to nothing), and gives each month
// found in the DEFAULT partition (a sale dated far ahead or long ago) a partition of its own. An
// insert never waits for this: a day without its month's partition lands in DEFAULT.
// SQLite has no partitions: nothing to do.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { engineOf } from '../../db/dialect.js';

/** Months kept ready ahead of the current one. */
export const PARTITION_MONTHS_AHEAD = Math.max(1, Number(process.env.PARTITION_MONTHS_AHEAD) || 3);
/**
 * Months behind the current one that have a partition even while empty, so that history loaded late
 * (an import of last year's sales) goes straight to its month rather than through DEFAULT.
 */
export const PARTITION_MONTHS_BACK = Math.max(0, Number(process.env.PARTITION_MONTHS_BACK ?? 24) || 0);

const PARENT = 'fuel_transaction';
const DEFAULT_PARTITION = 'fuel_transaction_default';
/** Any lock number, the same in every process: two runs do not add the same month together. */
const LOCK = 7_300_035;

export function partitionName(month: string): string {
  return `${PARENT}_p${month.replace('-', '_')}`;
}

export function nextMonth(month: string): string {
  return addMonths(month, 1);
}

export function addMonths(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const i = y * 12 + (m - 1) + n;
  return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
}

export interface PartitionResult {
  /** Months given a partition now, oldest first. */
  created: string[];
  /** Rows moved out of DEFAULT into the new partitions. */
  moved: number;
}

/** The months that have a partition, from the partitions' bounds. */
export async function partitionMonths(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ bound: string }>`select pg_get_expr(c.relpartbound, c.oid) as bound
    from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = ${PARENT}::regclass`.execute(db);
  const months: string[] = [];
  for (const r of rows) {
    const m = /FROM \('(\d{4}-\d{2})-01'\) TO/.exec(r.bound);
    if (m) months.push(m[1]!);
  }
  return months.sort();
}

/**
 * Make sure the months from `back` months before `now`'s to `ahead` months after it have partitions, and that every month with rows
 * in DEFAULT gets one (its rows moved there). Idempotent; safe with several processes.
 */
export async function ensurePartitions(
  db: Kysely<Database>,
  now: Date,
  ahead = PARTITION_MONTHS_AHEAD,
  back = PARTITION_MONTHS_BACK,
): Promise<PartitionResult> {
  const result: PartitionResult = { created: [], moved: 0 };
  if (engineOf(db) !== 'postgres') return result;
  const isPartitioned = await sql<{ n: number }>`select count(*)::int as n from pg_partitioned_table
    where partrelid = to_regclass(${PARENT})`.execute(db);
  if (isPartitioned.rows[0]!.n === 0) return result;

  await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${LOCK})`.execute(trx);
    await sql.raw(`create table if not exists ${DEFAULT_PARTITION} partition of ${PARENT} default`).execute(trx);
    const have = new Set(await partitionMonths(trx));
    const want = new Set<string>();
    let month = addMonths(now.toISOString().slice(0, 7), -back);
    for (let i = 0; i <= back + ahead; i++, month = nextMonth(month)) want.add(month);
    const stray = await sql<{ month: string }>`select distinct substr(business_day, 1, 7) as month
      from ${sql.table(DEFAULT_PARTITION)} where business_day ~ '^[0-9]{4}-[0-9]{2}-'`.execute(trx);
    for (const r of stray.rows) want.add(r.month);
    for (const m of [...want].sort()) {
      if (have.has(m)) continue;
      result.moved += await addPartition(trx, m);
      result.created.push(m);
    }
  });
  return result;
}

/**
 * One month's partition: made as a plain table, given that month's rows from DEFAULT (a partition
 * cannot be added while DEFAULT holds rows of its range), then attached, which makes its indexes,
 * primary key and foreign keys as the parent's.
 */
async function addPartition(trx: Kysely<Database>, month: string): Promise<number> {
  const name = partitionName(month);
  const from = `${month}-01`;
  const to = `${nextMonth(month)}-01`;
  await sql.raw(`create table ${name} (like ${PARENT} including defaults)`).execute(trx);
  // The rows keep their keys and merge entries: the key triggers (migration 0035) stand aside.
  await sql`select set_config('forecourt.txn_keys', 'moving', true)`.execute(trx);
  const moved = await sql`with gone as (delete from ${sql.table(DEFAULT_PARTITION)}
      where business_day >= ${from} and business_day < ${to} returning *)
    insert into ${sql.table(name)} select * from gone`.execute(trx);
  await sql.raw(`alter table ${PARENT} attach partition ${name} for values from ('${from}') to ('${to}')`).execute(trx);
  await sql`select set_config('forecourt.txn_keys', '', true)`.execute(trx);
  return Number(moved.numAffectedRows ?? 0);
}
