// The plate-lookup benchmarks' archive: N customers with 1.3·N vehicles (deterministic plates, mostly 冀)
// spread over 40 stations under HQ, an HQ admin `bench` and an attendant at the first station, seeded
// straight into SQLite (better-sqlite3) or PostgreSQL (unnest batches) and analysed. Shared by
// bench/plate-lookup.ts and bench/pump-open-loop.ts so both measure the same data.
import pg from 'pg';
import SQLite from 'better-sqlite3';
import type { Db } from '../../src/server/db/connection.js';
import { prepareDatabase } from '../../src/server/bootstrap.js';
import { hashPassword } from '../../src/server/auth/passwords.js';
import { PLATE_PROVINCES } from '../../src/domain/plate.js';

export const STATIONS = 40;
/** The password of the seeded users (`bench`, `attendant`). */
export const SEED_PASSWORD = 'Bench-passw0rd-1';

// Deterministic PRNG so both engines get the same plates.
export function mulberry32(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const SERIAL = '0123456789' + LETTERS;
export function plates(n: number): string[] {
  const rnd = mulberry32(20261122);
  const out = new Set<string>();
  const provinces = '冀冀冀冀京津晋鲁豫'; // mostly local plates, as at a Hebei station
  while (out.size < n) {
    let p = provinces[Math.floor(rnd() * provinces.length)]! + LETTERS[Math.floor(rnd() * 8)]!;
    for (let i = 0; i < 5; i++)
      p += i < 2 && rnd() < 0.3 ? SERIAL[Math.floor(rnd() * SERIAL.length)]! : String(Math.floor(rnd() * 10));
    out.add(p);
  }
  void PLATE_PROVINCES;
  return [...out];
}

export interface SeededArchive {
  hqId: number;
  /** The 40 stations; customer i belongs to stationIds[i % 40], vehicle v < N to customer v + 1. */
  stationIds: number[];
  /** The attendant's station (the first) and its path. */
  stationId: number;
  stationPath: string;
  userPassword: string;
}

/** Migrate `db` (at `url`, the SQLite file or the PostgreSQL URL) and load the archive into it. */
export async function seedPlateArchive(
  db: Db,
  url: string,
  allPlates: string[],
  CUSTOMERS: number,
): Promise<SeededArchive> {
  const VEHICLES = allPlates.length;
  const dbFile = url;
  const pgUrl = url;
  await prepareDatabase(db);
  const now = new Date().toISOString();
  const k = db.kysely;
  const hq = await k
    .insertInto('org_unit')
    .values({
      parent_id: null,
      kind_code: 'hq',
      code: 'HQ',
      name: '总公司',
      time_zone: 'Asia/Shanghai',
      path: '/1/',
      depth: 1,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const stationIds: number[] = [];
  for (let s = 0; s < STATIONS; s++) {
    const r = await k
      .insertInto('org_unit')
      .values({
        parent_id: hq.id,
        kind_code: 'station',
        code: `S${s}`,
        name: `站${s}`,
        time_zone: 'Asia/Shanghai',
        path: 'x',
        depth: 2,
        created_at: now,
        updated_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await k
      .updateTable('org_unit')
      .set({ path: `/${hq.id}/${r.id}/` })
      .where('id', '=', r.id)
      .execute();
    stationIds.push(r.id);
  }
  const password = SEED_PASSWORD;
  const user = await k
    .insertInto('app_user')
    .values({
      username: 'bench',
      display_name: 'bench',
      org_unit_id: hq.id,
      password_hash: await hashPassword(password),
      locale: 'zh-CN',
      active: 1,
      password_changed_at: now,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const admin = await k.selectFrom('role').select('id').where('code', '=', 'admin').executeTakeFirstOrThrow();
  await k.insertInto('user_role').values({ user_id: user.id, role_id: admin.id }).execute();
  // The user the lookup is for: an attendant at one of the 40 stations.
  const att = await k
    .insertInto('app_user')
    .values({
      username: 'attendant',
      display_name: 'attendant',
      org_unit_id: stationIds[0]!,
      password_hash: await hashPassword(password),
      locale: 'zh-CN',
      active: 1,
      password_changed_at: now,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const attRole = await k.selectFrom('role').select('id').where('code', '=', 'attendant').executeTakeFirstOrThrow();
  await k.insertInto('user_role').values({ user_id: att.id, role_id: attRole.id }).execute();

  const rnd = mulberry32(7);
  const surnames = '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗';
  const day = 86_400_000;
  const base = Date.now();
  const t0 = Date.now();
  if (db.engine === 'sqlite') {
    // The seed goes straight through better-sqlite3; the app's triggers keep the FTS index in step.
    const raw = new SQLite(dbFile);
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = OFF');
    const insC = raw.prepare(
      'insert into customer (id, org_unit_id, code, kind, name, surname, look_after, last_visit_at, version, created_at, updated_at) values (?, ?, ?, ?, ?, ?, 0, ?, 1, ?, ?)',
    );
    const insV = raw.prepare(
      'insert into vehicle (customer_id, plate, plate_reversed, plate_kind, model, created_at) values (?, ?, ?, ?, ?, ?)',
    );
    raw.transaction(() => {
      for (let i = 1; i <= CUSTOMERS; i++) {
        const s = surnames[Math.floor(rnd() * surnames.length)]!;
        insC.run(
          i,
          stationIds[i % STATIONS],
          `C${String(i).padStart(8, '0')}`,
          'individual',
          `${s}师傅`,
          s,
          new Date(base - Math.floor(rnd() * 365) * day).toISOString(),
          now,
          now,
        );
      }
      for (let v = 0; v < VEHICLES; v++) {
        const cust = v < CUSTOMERS ? v + 1 : 1 + Math.floor(rnd() * CUSTOMERS);
        const p = allPlates[v]!;
        insV.run(cust, p, [...p].reverse().join(''), 'standard', null, now);
      }
    })();
    raw.exec('analyze');
    raw.close();
  } else {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    const BATCH = 20_000;
    for (let i = 1; i <= CUSTOMERS; i += BATCH) {
      const ids: number[] = [],
        orgs: number[] = [],
        codes: string[] = [],
        names: string[] = [],
        sur: string[] = [],
        last: string[] = [];
      for (let j = i; j < Math.min(i + BATCH, CUSTOMERS + 1); j++) {
        const s = surnames[Math.floor(rnd() * surnames.length)]!;
        ids.push(j);
        orgs.push(stationIds[j % STATIONS]!);
        codes.push(`C${String(j).padStart(8, '0')}`);
        names.push(`${s}师傅`);
        sur.push(s);
        last.push(new Date(base - Math.floor(rnd() * 365) * day).toISOString());
      }
      await client.query(
        `insert into customer (id, org_unit_id, code, kind, name, surname, look_after, last_visit_at, version, created_at, updated_at)
         select id, org, code, 'individual', name, sur, 0, last::timestamptz, 1, now(), now() from unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) as t(id, org, code, name, sur, last)`,
        [ids, orgs, codes, names, sur, last],
      );
    }
    await client.query(`select setval('customer_id_seq', ${CUSTOMERS})`);
    for (let v = 0; v < VEHICLES; v += BATCH) {
      const cust: number[] = [],
        pl: string[] = [],
        rev: string[] = [];
      for (let j = v; j < Math.min(v + BATCH, VEHICLES); j++) {
        cust.push(j < CUSTOMERS ? j + 1 : 1 + Math.floor(rnd() * CUSTOMERS));
        pl.push(allPlates[j]!);
        rev.push([...allPlates[j]!].reverse().join(''));
      }
      await client.query(
        `insert into vehicle (customer_id, plate, plate_reversed, plate_kind, created_at) select c, p, r, 'standard', now() from unnest($1::bigint[], $2::text[], $3::text[]) as t(c, p, r)`,
        [cust, pl, rev],
      );
    }
    // Vacuumed as a running installation's tables are: the visibility map set (index-only scans read
    // no heap), and no autovacuum of the freshly loaded tables running during the measurement.
    await client.query('vacuum (analyze)');
    await client.end();
  }
  console.log(
    `  seeded ${CUSTOMERS.toLocaleString()} customers, ${VEHICLES.toLocaleString()} vehicles in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return {
    hqId: hq.id,
    stationIds,
    stationId: stationIds[0]!,
    stationPath: `/${hq.id}/${stationIds[0]}/`,
    userPassword: password,
  };
}
