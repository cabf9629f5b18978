import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import SQLite from 'better-sqlite3';
import { describeEngines, openFresh } from '../helpers/engines.js';
import { testConfig } from '../helpers/app.js';
import { prepareDatabase } from '../../src/server/bootstrap.js';
import { buildApp } from '../../src/server/app.js';
import { openDb, type Db } from '../../src/server/db/connection.js';
import { buildDemo, DEMO_PASSWORD } from '../../src/cli/commands/demo.js';
import { backup } from '../../src/cli/commands/backup.js';

describeEngines('demo company', (engine) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await openFresh(engine));
    await prepareDatabase(db);
  });
  afterAll(() => close());

  it('builds 1 HQ, 2 branches, 6 areas, 40 stations and users for every role', async () => {
    const report = await buildDemo(db.kysely);
    expect(report.orgUnits).toBe(49);
    const kinds = await db.kysely.selectFrom('org_unit').select(['kind_code', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('kind_code').execute();
    expect(Object.fromEntries(kinds.map((k) => [k.kind_code, Number(k.n)]))).toEqual({ hq: 1, branch: 2, area: 6, station: 40 });
    const perRole = await db.kysely.selectFrom('user_role as ur').innerJoin('role as r', 'r.id', 'ur.role_id').select(['r.code', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('r.code').execute();
    expect(Object.fromEntries(perRole.map((r) => [r.code, Number(r.n)]))).toEqual({
      admin: 1, hq_marketing: 1, auditor: 1, cs_agent: 1,
      branch_customer_admin: 2, branch_dept_head: 2, branch_manager: 2,
      area_customer_manager: 6, sales_rep: 6,
      station_manager: 40, shift_lead: 40, attendant: 40,
    });
    const names = await db.kysely.selectFrom('app_user').select('display_name').where('username', '!=', 'admin').execute();
    expect(names.every((n) => /^[\u4e00-\u9fff]{2,4}$/.test(n.display_name))).toBe(true);
  });

  it('changes nothing when run again', async () => {
    const report = await buildDemo(db.kysely);
    expect(report).toMatchObject({ orgUnitsCreated: 0, usersCreated: 0, orgUnits: 49, users: 142 });
  });

  it('lets a demo station manager sign in and see exactly the station', async () => {
    const app = await buildApp({ db, config: testConfig(), webRoot: null });
    const manager = await db.kysely.selectFrom('app_user as u').innerJoin('user_role as ur', 'ur.user_id', 'u.id').innerJoin('role as r', 'r.id', 'ur.role_id').innerJoin('org_unit as o', 'o.id', 'u.org_unit_id').select(['u.username', 'o.code']).where('r.code', '=', 'station_manager').orderBy('u.id').executeTakeFirstOrThrow();
    const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: manager.username, password: DEMO_PASSWORD } });
    expect(res.statusCode).toBe(200);
    const cookie = `fc_session=${res.cookies.find((c) => c.name === 'fc_session')!.value}`;
    const units = (await app.inject({ method: 'GET', url: '/api/org/units', headers: { cookie } })).json();
    expect(units.map((u: { code: string }) => u.code)).toEqual([manager.code]);
    await app.close();
  });
});

describe('backup [sqlite]', () => {
  it('writes a consistent copy that opens with the same users', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-backup-'));
    const file = path.join(dir, 'live.db');
    const db = openDb({ url: file });
    await prepareDatabase(db);
    await buildDemo(db.kysely);
    await backup(file, path.join(dir, 'copy.db'));
    await db.close();
    const copy = new SQLite(path.join(dir, 'copy.db'), { readonly: true });
    expect((copy.prepare('select count(*) as n from app_user').get() as { n: number }).n).toBe(142);
    copy.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
