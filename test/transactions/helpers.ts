// Shared by the transaction tests: sending rows with an API key, and the rollups recomputed from raw rows.
import { expect } from 'vitest';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/server/db/schema.js';
import { call, login, ok, setupAdmin, type Session, type TestApp } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';

export interface Txn {
  externalId: string;
  occurredAt: string;
  stationCode?: string;
  cardNo?: string;
  plate?: string;
  product: string;
  volumeMl?: number;
  volumeLitres?: number;
  amountFen: number;
  unitPriceFen?: number;
  payment?: string;
  [extra: string]: unknown;
}

export function send(app: TestApp, key: string | null, body: unknown, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/api/ingest/transactions',
    headers: { ...(key && { authorization: `Bearer ${key}` }), ...headers },
    payload: body as Record<string, unknown>,
  });
}

export function sendNdjson(app: TestApp, key: string, source: string, lines: string[]) {
  return app.inject({
    method: 'POST',
    url: `/api/ingest/transactions?source=${source}`,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
    payload: lines.join('\n'),
  });
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** The rollups as stored and as recomputed from the rows: they must be equal. */
export async function expectRollupsMatchRows(db: Kysely<Database>): Promise<void> {
  const months = await db
    .selectFrom('customer_month')
    .selectAll()
    .orderBy('customer_id')
    .orderBy('month')
    .orderBy('product')
    .execute();
  const monthsFromRows = await sql<{
    customer_id: number;
    month: string;
    product: string;
    volume_ml: number;
    amount_fen: number;
    txn_count: number;
  }>`
    select customer_id, substr(business_day, 1, 7) as month, product, sum(volume_ml) as volume_ml, coalesce(sum(amount_fen), 0) as amount_fen, count(*) as txn_count
    from fuel_transaction where customer_id is not null group by customer_id, substr(business_day, 1, 7), product order by customer_id, month, product`.execute(
    db,
  );
  const norm = (rows: Record<string, unknown>[]) =>
    rows.map((r) => ({
      ...r,
      customer_id: num(r.customer_id),
      volume_ml: num(r.volume_ml),
      amount_fen: num(r.amount_fen),
      txn_count: num(r.txn_count),
    }));
  expect(norm(months)).toEqual(norm(monthsFromRows.rows));

  const days = await db
    .selectFrom('station_day')
    .selectAll()
    .orderBy('org_unit_id')
    .orderBy('day')
    .orderBy('product')
    .execute();
  const daysFromRows = await sql<Record<string, unknown>>`
    select org_unit_id, business_day as day, product, sum(volume_ml) as volume_ml, coalesce(sum(amount_fen), 0) as amount_fen, count(*) as txn_count,
      coalesce(sum(case when payment = 'card' or (payment is null and card_no is not null) then amount_fen else 0 end), 0) as card_amount_fen
    from fuel_transaction group by org_unit_id, business_day, product order by org_unit_id, day, product`.execute(db);
  const normDay = (rows: Record<string, unknown>[]) =>
    rows.map((r) => ({
      org_unit_id: num(r.org_unit_id),
      day: r.day,
      product: r.product,
      volume_ml: num(r.volume_ml),
      amount_fen: num(r.amount_fen),
      txn_count: num(r.txn_count),
      card_amount_fen: num(r.card_amount_fen),
    }));
  expect(normDay(days)).toEqual(normDay(daysFromRows.rows));

  const customers = await db
    .selectFrom('customer')
    .select([
      'id',
      'visit_count',
      'first_visit_at',
      'last_visit_at',
      'first_visit_day',
      'last_visit_day',
      'usual_interval_days',
    ])
    .orderBy('id')
    .execute();
  const fromRows = await sql<Record<string, unknown>>`
    select customer_id, count(distinct business_day) as days, min(occurred_at) as first_at, max(occurred_at) as last_at, min(business_day) as first_day, max(business_day) as last_day
    from fuel_transaction where customer_id is not null group by customer_id`.execute(db);
  const visits = await sql<
    Record<string, unknown>
  >`select customer_id, max(at) as at from visit group by customer_id`.execute(db);
  const byId = new Map(fromRows.rows.map((r) => [Number(r.customer_id), r]));
  const visitById = new Map(visits.rows.map((r) => [Number(r.customer_id), new Date(r.at as string).toISOString()]));
  const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());
  for (const c of customers) {
    const r = byId.get(Number(c.id));
    const days = r ? Number(r.days) : 0;
    const dayNo = (d: unknown) => Date.parse(`${d as string}T00:00:00Z`) / 86_400_000;
    const expected = {
      visit_count: days,
      first_visit_at: iso(r?.first_at),
      first_visit_day: (r?.first_day as string | undefined) ?? null,
      last_visit_day: (r?.last_day as string | undefined) ?? null,
      usual_interval_days: days >= 2 ? (dayNo(r!.last_day) - dayNo(r!.first_day)) / (days - 1) : null,
    };
    const actual = {
      visit_count: Number(c.visit_count),
      first_visit_at: iso(c.first_visit_at),
      first_visit_day: c.first_visit_day,
      last_visit_day: c.last_visit_day,
      usual_interval_days: c.usual_interval_days === null ? null : Number(c.usual_interval_days),
    };
    expect(actual, `customer ${c.id}`).toEqual(expected);
    // The last visit is the latest fill-up or recorded visit.
    const latest =
      [iso(r?.last_at), visitById.get(Number(c.id)) ?? null]
        .filter((x): x is string => x !== null)
        .sort()
        .at(-1) ?? null;
    if (latest !== null) expect(iso(c.last_visit_at), `customer ${c.id} last visit`).toBe(latest);
  }
}

/** The rollup tests' branch: an administrator, the org tree, an attendant of station 1 and an HQ API key. */
export async function rollupBranch(
  app: TestApp,
): Promise<{ admin: Session; attendant: Session; tree: Tree; key: string }> {
  const admin = await setupAdmin(app);
  const tree = await buildTree(app, admin);
  await createUser(app, admin, 'jiayou', tree.station1, ['attendant']);
  const attendant = await login(app, 'jiayou', USER_PASSWORD);
  const key = (
    await ok<{ key: string }>(call(app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.hq }), 201)
  ).key;
  return { admin, attendant, tree, key };
}
