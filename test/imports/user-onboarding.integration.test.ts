// Onboarding people by import, the rules around it, on both engines:
// - a row that would leave the company without an administrator is refused on its own (its roles or its
//   unit named), the rows before and after it land;
// - people the import created change their initial password first: until then only /api/auth/me,
//   changing the password and signing out are open to them;
// - initial passwords not downloaded in time are deleted by the import-passwords job (audited), and the
//   download then says they expired;
// - a users import that died after its first chunk resumes to the end an uninterrupted run reaches, and a
//   username repeated across the checkpoint is refused on its row.
import { Readable } from 'node:stream';
import { beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEngines } from '../helpers/engines.js';
import { ADMIN_PASSWORD, call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { buildTree, createUser, USER_PASSWORD, type Tree } from '../helpers/fixtures.js';
import { ImportsService, type JobView } from '../../src/server/modules/imports/imports.service.js';
import { CustomersService } from '../../src/server/modules/customers/customers.service.js';
import { SessionService } from '../../src/server/auth/session.service.js';
import { ParsePool, type RowReader } from '../../src/server/modules/imports/parse/parse-pool.js';
import { DEFAULT_IMPORT_LIMITS } from '../../src/server/modules/imports/parse/limits.js';
import { runJob } from '../../src/server/jobs/job-runner.js';
import { importPasswordsExpiryJob } from '../../src/server/modules/imports/import-passwords.job.js';
import type { Principal } from '../../src/server/auth/principal.js';

const HEAD = ['姓名', '用户名', '所属单位编码', '角色'];
const MAPPING = { 姓名: 'displayName', 用户名: 'username', 所属单位编码: 'userUnitCode', 角色: 'roles' };
const csv = (rows: string[][]) => Buffer.from([HEAD, ...rows].map((r) => r.join(',')).join('\r\n') + '\r\n', 'utf8');
const figures = (j: JobView) => ({
  ok: j.rowsOk,
  rejected: j.rowsRejected,
  created: j.createdCount,
  updated: j.updatedCount,
  unchanged: j.unchangedCount,
});
const HOUR = 3_600_000;

/** A reader that dies once the pass asks for the row after `lastRow`, as a killed process stops reading. */
class DyingReader implements RowReader {
  constructor(
    private readonly inner: RowReader,
    private readonly lastRow: number,
  ) {}
  sheets(file: string) {
    return this.inner.sheets(file);
  }
  async *rows(file: string, sheet?: string) {
    for await (const r of this.inner.rows(file, sheet)) {
      if (r.rowNumber > this.lastRow) throw new Error('process killed');
      yield r;
    }
  }
  close() {
    return this.inner.close();
  }
}

describeEngines('onboarding people by import', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let svc: ImportsService;
  let tree: Tree;

  const service = (reader?: RowReader) =>
    new ImportsService(ctx.db.kysely, new CustomersService(ctx.db.kysely, ctx.db.engine), null, null, {
      ...(reader && { reader }),
      now: () => ctx.now.value ?? new Date(),
    });
  const principalOf = (username: string) => new SessionService(ctx.db.kysely, ctx.config).principalOf(username);

  /** Upload, map, check and commit a users file as the CLI does; the check's and the commit's outcome. */
  async function importUsers(s: ImportsService, p: Principal, rows: string[][]) {
    const job = await s.upload(p, null, { fileName: 'users.csv', body: Readable.from([csv(rows)]), maxBytes: 1e7 });
    await s.configure(p, job.id, { kind: 'users', mapping: MAPPING });
    const dry = await s.dryRun(p, job.id);
    const done = await s.commitAndWait(p, null, job.id);
    return { id: job.id, dry, done };
  }
  const problemsOf = async (id: number, phase: 'dry_run' | 'commit', locale = 'zh-CN') =>
    (await svc.problems(id, phase, undefined, locale)).map((x) => ({
      row: x.row,
      field: x.field,
      code: x.code,
      message: x.message,
    }));
  const rolesOf = async (username: string) =>
    (
      await ctx.db.kysely
        .selectFrom('user_role as ur')
        .innerJoin('app_user as u', 'u.id', 'ur.user_id')
        .innerJoin('role as r', 'r.id', 'ur.role_id')
        .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
        .select(['r.code', 'o.code as unit', 'u.display_name'])
        .where('u.username', '=', username)
        .orderBy('r.code')
        .execute()
    ).map((x) => `${x.unit}:${x.code}:${x.display_name}`);

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    svc = service();
  });

  async function me(s: Session) {
    return ok<{ orgUnitId: number; mustChangePassword: boolean; displayName: string }>(
      call(ctx.app, s, 'GET', '/api/auth/me'),
    );
  }

  /** The initial password of `username` from the import's CSV, taken by whoever ran it. */
  async function passwordFrom(s: Session, id: number, username: string): Promise<string> {
    const res = await call(ctx.app, s, 'POST', `/api/imports/${id}/passwords`);
    expect(res.statusCode, res.body).toBe(200);
    const line = res.body.split('\r\n').find((l) => l.split(',')[1] === username)!;
    return line.split(',')[4]!;
  }

  it('has people the import created change their initial password before anything else', async () => {
    // Every right, at a branch: he runs the imports below without being a company administrator.
    const boss = await createUser(ctx.app, admin, 'boss1', tree.branch1, ['admin']);
    expect(boss).toBeGreaterThan(0);
    const bossSession = await login(ctx.app, 'boss1', USER_PASSWORD);
    // Someone an administrator created with a password he chose is not held up.
    expect((await me(bossSession)).mustChangePassword).toBe(false);
    const run = await importUsers(svc, await principalOf('boss1'), [['新员工', 'fresh1', 'B1-A1-S1', 'attendant']]);
    expect(figures(run.done)).toEqual({ ok: 1, rejected: 0, created: 1, updated: 0, unchanged: 0 });
    const initial = await passwordFrom(bossSession, run.id, 'fresh1');
    const fresh = await login(ctx.app, 'fresh1', initial);

    // Before: he may read himself, and nothing else, whatever his roles allow.
    expect((await me(fresh)).mustChangePassword).toBe(true);
    for (const [method, url, body] of [
      ['GET', '/api/customers?page=1&pageSize=10', undefined],
      ['GET', '/api/org/units', undefined],
      ['PUT', '/api/auth/locale', { locale: 'en-US' }],
    ] as const) {
      const res = await call(ctx.app, fresh, method, url, body);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error.code).toBe('PASSWORD_CHANGE_REQUIRED');
    }
    // The initial password is needed to change it, and the policy holds.
    const wrong = await call(ctx.app, fresh, 'POST', '/api/auth/password', {
      currentPassword: 'not-the-one-12',
      newPassword: 'Chosen-by-me-2026',
    });
    expect(wrong.json().error.code).toBe('PASSWORD_WRONG');
    expect((await me(fresh)).mustChangePassword).toBe(true);
    await ok(
      call(ctx.app, fresh, 'POST', '/api/auth/password', {
        currentPassword: initial,
        newPassword: 'Chosen-by-me-2026',
      }),
    );

    // After: the same session (its cached principal gone) does what his roles allow.
    expect((await me(fresh)).mustChangePassword).toBe(false);
    expect((await call(ctx.app, fresh, 'GET', '/api/customers?page=1&pageSize=10')).statusCode).toBe(200);
    expect((await call(ctx.app, fresh, 'GET', '/api/org/units')).statusCode).toBe(200);
    const row = await ctx.db.kysely
      .selectFrom('app_user')
      .select('must_change_password')
      .where('username', '=', 'fresh1')
      .executeTakeFirstOrThrow();
    expect(Number(row.must_change_password)).toBe(0);
    // Signing out is open before the change too: a second person, signed out without changing.
    const run2 = await importUsers(svc, await principalOf('boss1'), [['新员工二', 'fresh2', 'B1-A1-S1', 'attendant']]);
    const fresh2 = await login(ctx.app, 'fresh2', await passwordFrom(bossSession, run2.id, 'fresh2'));
    expect((await call(ctx.app, fresh2, 'GET', '/api/org/units')).json().error.code).toBe('PASSWORD_CHANGE_REQUIRED');
    await ok(call(ctx.app, fresh2, 'POST', '/api/auth/logout'));
    expect((await call(ctx.app, fresh2, 'GET', '/api/auth/me')).statusCode).toBe(401);
  });

  it('holds up someone an administrator created or reset with "must change at first sign-in" ticked, only him', async () => {
    const made = await ok<{ id: number }>(
      call(ctx.app, admin, 'POST', '/api/users', {
        ...{ username: 'handmade1', displayName: '手建员工', orgUnitId: tree.station1 },
        ...{ password: USER_PASSWORD, roleIds: [], mustChangePassword: true },
      }),
      201,
    );
    const s = await login(ctx.app, 'handmade1', USER_PASSWORD);
    expect((await me(s)).mustChangePassword).toBe(true);
    expect((await call(ctx.app, s, 'GET', '/api/org/units')).json().error.code).toBe('PASSWORD_CHANGE_REQUIRED');
    await ok(
      call(ctx.app, s, 'POST', '/api/auth/password', { currentPassword: USER_PASSWORD, newPassword: 'Mine-now-2026x' }),
    );
    expect((await me(s)).mustChangePassword).toBe(false);
    // A reset with the box ticked holds him up again; one without it does not.
    await ok(
      call(ctx.app, admin, 'POST', `/api/users/${made.id}/reset-password`, {
        password: 'Reset-by-admin-1',
        mustChangePassword: true,
      }),
    );
    const again = await login(ctx.app, 'handmade1', 'Reset-by-admin-1');
    expect((await me(again)).mustChangePassword).toBe(true);
    await ok(call(ctx.app, admin, 'POST', `/api/users/${made.id}/reset-password`, { password: 'Reset-by-admin-2' }));
    expect((await me(await login(ctx.app, 'handmade1', 'Reset-by-admin-2'))).mustChangePassword).toBe(false);
  });

  it('deletes initial passwords not downloaded in time, audits it, and the download then says they expired', async () => {
    const t0 = new Date(Date.now() + 24 * HOUR);
    ctx.now.value = t0;
    try {
      const p = await principalOf('boss1');
      const late = await importUsers(svc, p, [['晚到甲', 'late1', 'B1-A1-S1', 'attendant']]);
      const onTime = await importUsers(svc, p, [['准时乙', 'ontime1', 'B1-A1-S1', 'attendant']]);
      const creds = await ctx.db.kysely
        .selectFrom('import_credential')
        .select(['job_id', 'expires_at'])
        .where('job_id', 'in', [late.id, onTime.id])
        .execute();
      expect(creds).toHaveLength(2);
      for (const c of creds) expect(new Date(c.expires_at!).getTime()).toBe(t0.getTime() + 72 * HOUR);

      // An hour before the deadline the job deletes nothing, and the passwords can be taken.
      ctx.now.value = new Date(t0.getTime() + 71 * HOUR);
      const period = (d: Date) => importPasswordsExpiryJob.periodOf(d, 'Asia/Shanghai');
      const early = await runJob(ctx.db.kysely, importPasswordsExpiryJob, period(ctx.now.value), {
        now: ctx.now.value,
      });
      expect(early).toMatchObject({ status: 'done', detail: { imports: 0, passwords: 0 } });
      let boss = await login(ctx.app, 'boss1', USER_PASSWORD);
      expect((await ok<JobView>(call(ctx.app, boss, 'GET', `/api/imports/${late.id}`))).passwordsWaiting).toBe(1);
      expect(await passwordFrom(boss, onTime.id, 'ontime1')).toMatch(/^[A-Za-z2-9]{14}$/);

      // Past it, the download is refused before the job has run, and the job deletes them.
      ctx.now.value = new Date(t0.getTime() + 73 * HOUR);
      boss = await login(ctx.app, 'boss1', USER_PASSWORD);
      const refused = await call(ctx.app, boss, 'POST', `/api/imports/${late.id}/passwords`);
      expect(refused.statusCode).toBe(410);
      expect(refused.json().error.code).toBe('IMPORT_PASSWORDS_EXPIRED');
      const purged = await runJob(ctx.db.kysely, importPasswordsExpiryJob, period(ctx.now.value), {
        now: ctx.now.value,
      });
      expect(purged).toMatchObject({ status: 'done', detail: { imports: 1, passwords: 1 } });
      expect(
        await ctx.db.kysely.selectFrom('import_credential').selectAll().where('job_id', '=', late.id).execute(),
      ).toEqual([]);
      expect((await ok<JobView>(call(ctx.app, boss, 'GET', `/api/imports/${late.id}`))).passwordsWaiting).toBe(0);
      const after = await call(ctx.app, boss, 'POST', `/api/imports/${late.id}/passwords`);
      expect(after.statusCode).toBe(410);
      expect(after.json().error.code).toBe('IMPORT_PASSWORDS_EXPIRED');
      // The import handed over already is not "expired": it says so as before.
      expect((await call(ctx.app, boss, 'POST', `/api/imports/${onTime.id}/passwords`)).json().error.code).toBe(
        'CONFLICT',
      );
      const audits = await ctx.db.kysely
        .selectFrom('audit_log')
        .select(['actor_name', 'entity_id', 'after_json'])
        .where('action', '=', 'import_passwords_expired')
        .execute();
      expect(audits).toEqual([
        { actor_name: 'job:import-passwords-expiry', entity_id: String(late.id), after_json: '{"users":1}' },
      ]);
      // The person was created all the same; his password is reset on the users page.
      expect(await rolesOf('late1')).toEqual(['B1-A1-S1:attendant:晚到甲']);
    } finally {
      ctx.now.value = null;
    }
  });

  it('resumes a users import that died after its first chunk: nothing doubled, a repeat across the checkpoint refused', async () => {
    const rows: string[][] = [];
    for (let i = 0; i < 520; i++) rows.push([`员工${i}`, `bulk${String(i).padStart(4, '0')}`, 'B1-A1-S1', 'attendant']);
    // File row 510 repeats row 10's username (the first chunk is rows 2–501).
    rows[508] = ['重复的人', 'bulk0008', 'B1-A1-S2', 'attendant'];
    const p = await principalOf('boss1');
    const users = async () =>
      Number(
        (
          await sql<{ n: number }>`select count(*) as n from app_user where username like 'bulk%'`.execute(
            ctx.db.kysely,
          )
        ).rows[0]!.n,
      );

    const dying = service(new DyingReader(new ParsePool(DEFAULT_IMPORT_LIMITS), 505));
    let id: number;
    let dry: JobView;
    try {
      const job = await dying.upload(p, null, {
        fileName: 'bulk.csv',
        body: Readable.from([csv(rows)]),
        maxBytes: 1e7,
      });
      id = job.id;
      await dying.configure(p, id, { kind: 'users', mapping: MAPPING });
      // The check over the whole file is what an uninterrupted run does.
      dry = await svc.dryRun(p, id);
      const crashed = await dying.commitAndWait(p, null, id);
      expect(crashed.status).toBe('failed');
    } finally {
      await dying.close();
    }
    // As kill -9 leaves it: still committing, named by a pass that stopped beating.
    await ctx.db.kysely
      .updateTable('import_job')
      .set({ status: 'committing', runner: 'dead-pass', heartbeat_at: new Date(Date.now() - 3_600_000).toISOString() })
      .where('id', '=', id)
      .execute();
    const job = await ctx.db.kysely.selectFrom('import_job').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(job.checkpoint_row).toBe(501);
    expect(await users()).toBe(500);

    const resumed = await svc.commitAndWait(p, null, id);
    expect(resumed.status).toBe('done');
    expect(figures(dry)).toEqual({ ok: 519, rejected: 1, created: 519, updated: 0, unchanged: 0 });
    expect(figures(resumed)).toEqual(figures(dry));
    expect(resumed.rowsTotal).toBe(520);
    expect(await problemsOf(id, 'commit')).toEqual([
      {
        row: 510,
        field: 'username',
        code: 'DUPLICATE_IN_FILE',
        message: '用户名“bulk0008”与本文件第 10 行重复，这一行未导入',
      },
    ]);
    expect(await problemsOf(id, 'commit')).toEqual(await problemsOf(id, 'dry_run'));
    // One person per username, as the first row says; one password and one audit entry each.
    expect(await users()).toBe(519);
    expect(await rolesOf('bulk0008')).toEqual(['B1-A1-S1:attendant:员工8']);
    expect(resumed.passwordsWaiting).toBe(519);
    const created = await sql<{ n: number }>`select count(*) as n from audit_log
      where entity = 'user' and action = 'create' and after_json like ${`%"importId":${id},%`}`.execute(ctx.db.kysely);
    expect(Number(created.rows[0]!.n)).toBe(519);
  }, 120_000);

  it('signs in with the setup password still (the administrator chose it)', async () => {
    const s = await login(ctx.app, 'admin', ADMIN_PASSWORD);
    expect((await me(s)).mustChangePassword).toBe(false);
  });

  it('refuses only the row that would demote or move the last administrator; the rows around it land', async () => {
    // Last in this file: it leaves `admin` without his administrator role.
    // The one who runs the import is an administrator when it starts (the CLI takes his rights then) and
    // is deactivated by the other while it runs: `admin` is the last one left.
    const second = await createUser(ctx.app, admin, 'admin2', tree.hq, ['admin']);
    const p = await principalOf('admin2');
    const v = (await ok<{ version: number }>(call(ctx.app, admin, 'GET', `/api/users/${second}`))).version;
    await ok(call(ctx.app, admin, 'PATCH', `/api/users/${second}`, { active: false, version: v }));

    const demote = await importUsers(svc, p, [
      ['新人甲', 'new_a', 'B1-A1-S1', 'attendant'], // 2
      ['系统管理员', 'admin', 'HQ', 'attendant'], // 3: the last administrator demoted
      ['新人乙', 'new_b', 'B1-A1-S2', 'attendant'], // 4
    ]);
    const refusedRoles = [{ row: 3, field: 'roles', code: 'LAST_ADMINISTRATOR' }];
    for (const phase of ['dry_run', 'commit'] as const)
      expect((await problemsOf(demote.id, phase)).map(({ row, field, code }) => ({ row, field, code }))).toEqual(
        refusedRoles,
      );
    const want = { ok: 2, rejected: 1, created: 2, updated: 0, unchanged: 0 };
    expect(figures(demote.dry)).toEqual(want);
    expect(figures(demote.done)).toEqual(want);
    expect(demote.done.status).toBe('done');
    expect(await rolesOf('new_a')).toEqual(['B1-A1-S1:attendant:新人甲']);
    expect(await rolesOf('new_b')).toEqual(['B1-A1-S2:attendant:新人乙']);
    expect(await rolesOf('admin')).toEqual(['HQ:admin:系统管理员']);
    const [zh] = await problemsOf(demote.id, 'commit');
    expect(zh!.message).toBe('角色：“admin”将不再是系统管理员，公司会没有在用的系统管理员，这一行未导入');
    const [en] = await problemsOf(demote.id, 'commit', 'en-US');
    expect(en!.message).toBe(
      'Roles: "admin" would no longer be an administrator, leaving the company without an active administrator; ' +
        'the row was not imported',
    );

    const move = await importUsers(svc, p, [
      ['新人甲改', 'new_a', 'B1-A1-S1', 'attendant'], // 2: renamed
      ['系统管理员', 'admin', 'B1', 'admin'], // 3: the last administrator moved out of the top unit
      ['新人丙', 'new_c', 'B1-A1-S1', 'attendant'], // 4
    ]);
    expect((await problemsOf(move.id, 'commit')).map(({ row, field, code }) => ({ row, field, code }))).toEqual([
      { row: 3, field: 'userUnitCode', code: 'LAST_ADMINISTRATOR' },
    ]);
    expect(figures(move.done)).toEqual({ ok: 2, rejected: 1, created: 1, updated: 1, unchanged: 0 });
    expect(await rolesOf('new_a')).toEqual(['B1-A1-S1:attendant:新人甲改']);
    expect(await rolesOf('new_c')).toEqual(['B1-A1-S1:attendant:新人丙']);
    expect(await rolesOf('admin')).toEqual(['HQ:admin:系统管理员']);

    // A row that makes a new administrator first lets a later row demote the old one.
    const handOver = await importUsers(svc, p, [
      ['新管理员', 'admin3', 'HQ', 'admin'], // 2
      ['系统管理员', 'admin', 'HQ', 'admin、attendant'], // 3: still an administrator: fine
      ['新人丁', 'new_d', 'B1-A1-S1', 'attendant'], // 4
    ]);
    expect(await problemsOf(handOver.id, 'commit')).toEqual([]);
    expect(figures(handOver.done)).toEqual({ ok: 3, rejected: 0, created: 2, updated: 1, unchanged: 0 });
    const demoteNow = await importUsers(svc, p, [['系统管理员', 'admin', 'HQ', 'attendant']]);
    expect(await problemsOf(demoteNow.id, 'commit')).toEqual([]);
    expect(await rolesOf('admin')).toEqual(['HQ:attendant:系统管理员']);
    // admin3 is the last one now.
    expect((await problemsOf(demoteNow.id, 'dry_run')).length).toBe(0);
  });
});
