import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import SQLite from 'better-sqlite3';
import { describeEngines, openFresh } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, testConfig, useTestApp } from '../helpers/app.js';
import { prepareDatabase } from '../../src/server/bootstrap.js';
import { buildApp } from '../../src/server/app.js';
import { openDb, type Db } from '../../src/server/db/connection.js';
import { buildDemo, DEMO_PASSWORD, DEMO_STAFF } from '../../src/cli/commands/demo.js';
import { backup } from '../../src/cli/commands/backup.js';

const ROLE_COUNTS = {
  admin: 1,
  hq_marketing: 1,
  auditor: 1,
  cs_agent: 1,
  mystery_shopper: 1,
  branch_customer_admin: 2,
  branch_dept_head: 2,
  branch_manager: 2,
  area_customer_manager: 6,
  sales_rep: 6,
  station_manager: 40,
  shift_lead: 40,
  attendant: 40,
};
const BIN = fileURLToPath(new URL('../../bin/forecourt.mjs', import.meta.url));
const USERS = Object.values(ROLE_COUNTS).reduce((a, b) => a + b, 0); // 143

async function snapshot(db: Db) {
  const k = db.kysely;
  return {
    units: await k
      .selectFrom('org_unit')
      .select(['id', 'parent_id', 'kind_code', 'code', 'name', 'path', 'depth', 'version'])
      .orderBy('id')
      .execute(),
    users: await k
      .selectFrom('app_user')
      .select(['id', 'username', 'display_name', 'org_unit_id', 'password_hash', 'version'])
      .orderBy('id')
      .execute(),
    userRoles: await k
      .selectFrom('user_role')
      .select(['user_id', 'role_id'])
      .orderBy('user_id')
      .orderBy('role_id')
      .execute(),
    audit: Number(
      (
        await k
          .selectFrom('audit_log')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    ),
  };
}

describeEngines('forecourt demo on an empty database', (engine) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await openFresh(engine, { migrated: true }));
    await prepareDatabase(db);
  });
  afterAll(() => close());

  it('does the first-run setup and builds 1 HQ, 2 branches, 6 areas, 40 stations with staff for every role', async () => {
    const report = await buildDemo(db);
    expect(report.didSetup).toBe(true);
    expect(report.created).toEqual({ orgUnits: 49, users: USERS });
    expect(report.total).toEqual({ orgUnits: 49, users: USERS });
    expect(report.accounts.map((a) => a.role).sort()).toEqual(Object.keys(ROLE_COUNTS).sort());

    const k = db.kysely;
    const kinds = await k
      .selectFrom('org_unit')
      .select(['kind_code', 'depth', (eb) => eb.fn.countAll().as('n')])
      .groupBy(['kind_code', 'depth'])
      .execute();
    expect(Object.fromEntries(kinds.map((r) => [`${r.kind_code}@${r.depth}`, Number(r.n)]))).toEqual({
      'hq@1': 1,
      'branch@2': 2,
      'area@3': 6,
      'station@4': 40,
    });
    expect(
      await k.selectFrom('org_unit').select('code').where('code', '=', 'SJZ-CA-01').executeTakeFirst(),
    ).toBeTruthy();

    // Each role sits at its level, and every unit of a level has its whole staff.
    const perRole = await k
      .selectFrom('user_role as ur')
      .innerJoin('role as r', 'r.id', 'ur.role_id')
      .innerJoin('app_user as u', 'u.id', 'ur.user_id')
      .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
      .select([
        'r.code as role',
        'o.kind_code as kind',
        (eb) => eb.fn.count('o.id').distinct().as('units'),
        (eb) => eb.fn.countAll().as('n'),
      ])
      .groupBy(['r.code', 'o.kind_code'])
      .execute();
    expect(Object.fromEntries(perRole.map((r) => [r.role, Number(r.n)]))).toEqual(ROLE_COUNTS);
    for (const [level, roles] of Object.entries(DEMO_STAFF)) {
      for (const role of roles) {
        const row = perRole.find((r) => r.role === role)!;
        expect(row.kind, role).toBe(level);
        expect(Number(row.units), role).toBe(Number(row.n));
      }
    }

    const people = await k
      .selectFrom('app_user')
      .select(['username', 'display_name'])
      .where('username', '!=', 'admin')
      .execute();
    expect(people.every((u) => /^[\u4e00-\u9fff]{2,3}$/.test(u.display_name))).toBe(true);
    expect(people.every((u) => /^[a-z]+\.[a-z]+\.[a-z0-9]+$/.test(u.username))).toBe(true);

    // One audit entry per created record, by the actor `demo`.
    const audit = await k
      .selectFrom('audit_log')
      .select(['entity', (eb) => eb.fn.countAll().as('n')])
      .where('actor_name', '=', 'demo')
      .groupBy('entity')
      .execute();
    expect(Object.fromEntries(audit.map((r) => [r.entity, Number(r.n)]))).toEqual({ org_unit: 49, user: USERS });
  });

  it('changes nothing when run again', async () => {
    const before = await snapshot(db);
    const report = await buildDemo(db);
    expect(report).toMatchObject({
      didSetup: false,
      created: { orgUnits: 0, users: 0 },
      total: { orgUnits: 49, users: USERS },
    });
    expect(await snapshot(db)).toEqual(before);
  });

  it('lets a demo station manager sign in and see exactly their station', async () => {
    const app = await buildApp({ db, config: testConfig(), webRoot: null });
    try {
      const status = await ok(app.inject({ method: 'GET', url: '/api/setup/status' }));
      expect(status).toEqual({ needsSetup: false, signedIn: false });
      const manager = await db.kysely
        .selectFrom('app_user as u')
        .innerJoin('user_role as ur', 'ur.user_id', 'u.id')
        .innerJoin('role as r', 'r.id', 'ur.role_id')
        .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
        .select(['u.username', 'o.id', 'o.code'])
        .where('r.code', '=', 'station_manager')
        .where('o.code', '=', 'BD-JX-03')
        .executeTakeFirstOrThrow();
      const res = await app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: manager.username, password: DEMO_PASSWORD },
      });
      expect(res.statusCode).toBe(200);
      const session = {
        cookie: `fc_session=${res.cookies.find((c) => c.name === 'fc_session')!.value}`,
        csrf: res.json().csrfToken,
      };
      const units = await ok<{ id: number; code: string }[]>(call(app, session, 'GET', '/api/org/units'));
      expect(units.map((u) => [u.id, u.code])).toEqual([[manager.id, 'BD-JX-03']]);
      // And the admin the demo set up sees the whole company.
      const admin = await login(app, 'admin', DEMO_PASSWORD);
      expect(await ok<unknown[]>(call(app, admin, 'GET', '/api/org/units'))).toHaveLength(49);
    } finally {
      await app.close();
    }
  });
});

describeEngines('forecourt demo after first-run setup', (engine) => {
  const ctx = useTestApp(engine);

  it('puts the demo tree under the existing top unit and adds no admin', async () => {
    await setupAdmin(ctx.app, 'chief');
    const root = await ctx.db.kysely
      .selectFrom('org_unit')
      .select(['id', 'code'])
      .where('parent_id', 'is', null)
      .executeTakeFirstOrThrow();
    const report = await buildDemo(ctx.db);
    expect(report).toMatchObject({
      didSetup: false,
      created: { orgUnits: 48, users: USERS - 1 },
      total: { orgUnits: 49, users: USERS },
    });
    expect(report.accounts.some((a) => a.role === 'admin')).toBe(false);
    const k = ctx.db.kysely;
    expect(
      await k.selectFrom('app_user').select('id').where('username', '=', 'admin').executeTakeFirst(),
    ).toBeUndefined();
    const branches = await k
      .selectFrom('org_unit')
      .select(['code', 'parent_id'])
      .where('kind_code', '=', 'branch')
      .orderBy('code')
      .execute();
    expect(branches).toEqual([
      { code: 'BD', parent_id: root.id },
      { code: 'SJZ', parent_id: root.id },
    ]);
    const hqStaff = await k
      .selectFrom('app_user')
      .select('username')
      .where('org_unit_id', '=', root.id)
      .where('username', '!=', 'chief')
      .execute();
    expect(hqStaff).toHaveLength(DEMO_STAFF.hq.length);
  });
});

describe('forecourt backup [sqlite]', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-backup-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('copies a database in use, including what is still in its WAL', async () => {
    const file = path.join(dir, 'live.db');
    const db = openDb({ url: file });
    try {
      await prepareDatabase(db);
      await buildDemo(db);
      expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(0);
      await backup(file, path.join(dir, 'copies', 'copy.db'));
      const live = Number(
        (
          await db.kysely
            .selectFrom('app_user')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
      const copy = new SQLite(path.join(dir, 'copies', 'copy.db'), { readonly: true, fileMustExist: true });
      try {
        expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
        expect((copy.prepare('select count(*) as n from app_user').get() as { n: number }).n).toBe(live);
        expect(live).toBe(USERS);
      } finally {
        copy.close();
      }
    } finally {
      await db.close();
    }
    expect(fs.readdirSync(path.join(dir, 'copies'))).toEqual(['copy.db']);
  });

  it('runs as `forecourt` commands: migrate, demo, backup', () => {
    const file = path.join(dir, 'cli.db');
    const env = { ...process.env, DATABASE_URL: file };
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 60_000 });
    const migrate = run('migrate');
    expect(migrate.status, migrate.stderr).toBe(0);
    expect(migrate.stdout).toContain('applied 0001-platform');
    const demo = run('demo');
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stdout).toContain(DEMO_PASSWORD);
    const copy = path.join(dir, 'cli-copy.db');
    const backedUp = run('backup', copy);
    expect(backedUp.status, backedUp.stderr).toBe(0);
    const db = new SQLite(copy, { readonly: true });
    expect((db.prepare('select count(*) as n from org_unit').get() as { n: number }).n).toBe(49);
    db.close();
    const usage = run('backup');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('usage: forecourt backup <file>');
  }, 60_000);
});
