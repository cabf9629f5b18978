// Shared by the rating tests: customers with plates, and their fill-ups sent in a given month.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/server/db/schema.js';
import { call, ok, type Session, type TestApp } from '../helpers/app.js';

let seq = 0;

export async function customer(
  app: TestApp,
  admin: Session,
  orgUnitId: number,
  plate: string,
  kind = 'individual',
): Promise<number> {
  const body = {
    kind,
    orgUnitId,
    name: `客户${plate}`,
    vehicles: [{ plate }],
    confirmDuplicate: true,
    ...(kind === 'organisation' && { organisation: `单位${plate}` }),
  };
  return (await ok<{ id: number }>(call(app, admin, 'POST', '/api/customers', body), 201)).id;
}

/** Fill-ups of `litres` each, on the 10th of `month` (Shanghai time) unless `at` says otherwise. */
export async function fill(
  app: TestApp,
  key: string,
  plate: string,
  stationCode: string,
  month: string,
  litres: number[],
  at = `${month}-10T09:00:00+08:00`,
): Promise<void> {
  const transactions = litres.map((l) => ({
    externalId: `t${++seq}`,
    occurredAt: at,
    stationCode,
    plate,
    product: '0#柴油',
    volumeMl: Math.round(l * 1000),
    amountFen: Math.round(l * 750),
  }));
  const res = await app.inject({
    method: 'POST',
    url: '/api/ingest/transactions',
    headers: { authorization: `Bearer ${key}` },
    payload: { source: 'pos', transactions },
  });
  if (res.statusCode !== 200 || res.json().rejected !== 0) throw new Error(`ingest failed: ${res.body}`);
}

/** Each customer's volume and amount in `month`, summed straight from the raw rows. */
export async function sumsFromRows(
  db: Kysely<Database>,
  month: string,
): Promise<Map<number, { volumeMl: number; amountFen: number }>> {
  const r = await sql<{ customer_id: number; v: number; a: number }>`
    select customer_id, sum(volume_ml) as v, coalesce(sum(amount_fen), 0) as a from fuel_transaction
    where customer_id is not null and business_day >= ${`${month}-01`} and business_day <= ${`${month}-31`} group by customer_id`.execute(
    db,
  );
  return new Map(r.rows.map((x) => [Number(x.customer_id), { volumeMl: Number(x.v), amountFen: Number(x.a) }]));
}

/** Walk a batch through the whole flow with the given sessions. */
export async function approveAll(
  app: TestApp,
  id: number,
  s: { branch: Session; hq: Session; leader: Session },
): Promise<void> {
  await ok(call(app, s.branch, 'POST', `/api/ratings/batches/${id}/propose`, {}));
  await ok(call(app, s.hq, 'POST', `/api/ratings/batches/${id}/approve-low`, {}));
  await ok(call(app, s.hq, 'POST', `/api/ratings/batches/${id}/review-high`, {}));
  await ok(call(app, s.leader, 'POST', `/api/ratings/batches/${id}/finalize`, {}));
}
