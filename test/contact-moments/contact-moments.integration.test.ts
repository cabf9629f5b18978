// Must-contact moments on both engines, with a controlled clock: the business calendar as stored (statutory
// days, make-up days, overrides inherited down the tree, who may edit), price changes entered and
// imported, weather warnings, holidays and birthdays (solar and lunar, leap month, a 30th in a 29-day
// month) becoming contact tasks for the right customers and owners (else the station manager), due at
// 09:00 on each unit's own clock across two time zones, re-runs creating nothing twice, and completing a
// task (its assignee only) closing its work item.
import { beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import ExcelJS from 'exceljs';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { runJob } from '../../src/server/jobs/job-runner.js';
import { JOBS } from '../../src/server/jobs/index.js';
import { contactMomentsJob } from '../../src/server/modules/contact-moments/contact-moments.job.js';

interface Task {
  id: number;
  customer: { id: number; name: string };
  momentKind: string;
  momentDay: string;
  title: string;
  assigneeUserId: number | null;
  contactDay: string;
  dueAt: string;
  state: string;
  outcome: string | null;
  canComplete: boolean;
}

describeEngines('contact moments', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  const s = new Map<string, Session>();
  const u = new Map<string, number>();
  const c = new Map<string, number>();
  let batchId = 0;

  // The job gets its own clock; the app's stays put so that sessions do not expire.
  const run = async (iso: string) => {
    const now = new Date(iso);
    const r = await runJob(ctx.db.kysely, contactMomentsJob, contactMomentsJob.periodOf(now, 'UTC'), {
      now,
      force: true,
    });
    if (r.status !== 'done') throw new Error(JSON.stringify(r));
    return r.detail as { created: number; byKind: Record<string, number> };
  };
  const tasksOf = async (customer: string) =>
    (
      await ctx.db.kysely
        .selectFrom('contact_task')
        .selectAll()
        .where('customer_id', '=', c.get(customer)!)
        .orderBy('id')
        .execute()
    ).map((t) => ({ ...t, id: Number(t.id), assignee_user_id: t.assignee_user_id && Number(t.assignee_user_id) }));
  const customer = async (
    name: string,
    unit: number,
    opts: { owner?: string; birthday?: string; lunar?: boolean; routes?: string; buys?: string[]; stars?: number } = {},
  ) => {
    const row = await ctx.db.kysely
      .insertInto('customer')
      .values({
        org_unit_id: unit,
        code: `T${c.size + 1}`,
        kind: 'individual',
        name,
        owner_user_id: opts.owner ? u.get(opts.owner)! : null,
        birthday: opts.birthday ?? null,
        birthday_calendar: opts.lunar ? 'lunar' : 'solar',
        routes: opts.routes ?? null,
        created_at: '2026-01-01T00:00:00Z',
        updated_at: '2026-01-01T00:00:00Z',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const id = Number(row.id);
    c.set(name, id);
    for (const product of opts.buys ?? [])
      await ctx.db.kysely
        .insertInto('customer_month')
        .values({ customer_id: id, month: '2026-11', product, volume_ml: 100_000, amount_fen: 78_000, txn_count: 2 })
        .execute();
    if (opts.stars !== undefined)
      await ctx.db.kysely
        .insertInto('customer_rating')
        .values({
          batch_id: batchId,
          customer_id: id,
          period: '2026-08',
          computed_stars: opts.stars,
          stars: opts.stars,
          class: null,
          status: 'final',
          benefits: null,
          note: null,
          updated_at: '2026-09-05T00:00:00Z',
        })
        .execute();
    return id;
  };
  const denied = async (
    res: Promise<{ statusCode: number; body: string; json: () => any }>,
    status: number,
    code: string,
  ) => {
    const r = await res;
    expect(r.statusCode, r.body).toBe(status);
    expect(r.json().error.code).toBe(code);
    return r.json().error;
  };

  beforeAll(async () => {
    ctx.now.value = new Date('2026-09-01T00:00:00Z');
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    // Station 3 keeps Pacific time (a unit abroad): its day starts 16 hours after Beijing's.
    await ctx.db.kysely
      .updateTable('org_unit')
      .set({ time_zone: 'America/Los_Angeles' })
      .where('id', '=', tree.station3)
      .execute();
    const people: [string, number, string][] = [
      ['yingxiao', tree.hq, 'hq_marketing'],
      ['guanli', tree.branch1, 'branch_customer_admin'],
      ['daibiao', tree.area1, 'sales_rep'],
      ['zhanzhang', tree.station1, 'station_manager'],
      ['jiayou', tree.station1, 'attendant'],
      ['zhanzhang3', tree.station3, 'station_manager'],
    ];
    for (const [name, unit, role] of people) {
      u.set(name, await createUser(ctx.app, admin, name, unit, [role]));
      s.set(name, await login(ctx.app, name, USER_PASSWORD));
    }
    batchId = Number(
      (
        await ctx.db.kysely
          .insertInto('rating_batch')
          .values({
            period: '2026-08',
            org_unit_id: tree.hq,
            status: 'final',
            policy_version_id: null,
            computed_at: '2026-09-02T00:00:00Z',
            proposed_by: null,
            proposed_at: null,
            low_approved_by: null,
            low_approved_at: null,
            high_reviewed_by: null,
            high_reviewed_at: null,
            high_approved_by: null,
            high_approved_at: null,
            finalized_at: '2026-09-05T00:00:00Z',
            note: null,
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id,
    );
    await customer('甲', tree.station1, { owner: 'daibiao', buys: ['0#柴油'], stars: 3, routes: '石黄高速' });
    await customer('乙', tree.station1, { buys: ['0#柴油', '92#汽油'], stars: 1 });
    await customer('丙', tree.station2, { owner: 'daibiao', buys: ['92#汽油'], routes: '京港澳高速' });
    await customer('丁', tree.station3, { buys: ['0#柴油'], stars: 4 });
    await customer('生日', tree.station1, { owner: 'daibiao', birthday: '1985-12-09' });
    await customer('农历三十', tree.station1, { owner: 'daibiao', birthday: '1980-02-30', lunar: true });
    await customer('闰月', tree.station1, { owner: 'daibiao', birthday: '1990-06-01', lunar: true });
  });

  it('is scheduled with the other jobs', () => {
    expect(JOBS).toContain(contactMomentsJob);
  });

  describe('business calendar', () => {
    it('shows the statutory holidays and make-up days of a year', async () => {
      const year = await ok(call(ctx.app, s.get('zhanzhang')!, 'GET', `/api/calendar/${tree.station1}?year=2026`));
      const day = (d: string) => year.days.find((x: { day: string }) => x.day === d);
      expect(year.days).toHaveLength(365);
      expect(year.timeZone).toBe('Asia/Shanghai');
      expect(day('2026-02-14')).toMatchObject({
        working: true,
        weekend: true,
        mark: { kind: 'workday', name: '春节' },
      });
      expect(day('2026-02-16')).toMatchObject({
        working: false,
        weekend: false,
        mark: { kind: 'holiday', source: 'statutory' },
      });
      expect(day('2026-10-10')).toMatchObject({ working: true, weekend: true });
      expect(day('2026-03-09')).toMatchObject({ working: true, mark: null });
    });

    it('HQ marks days for the company; a unit below inherits, and its own mark wins for itself', async () => {
      const hq = s.get('yingxiao')!;
      await ok(
        call(ctx.app, hq, 'PUT', `/api/calendar/${tree.hq}/overrides/2026-03-09`, {
          kind: 'holiday',
          name: '公司成立日',
        }),
      );
      await ok(call(ctx.app, admin, 'PUT', `/api/calendar/${tree.station2}/overrides/2026-03-09`, { kind: 'workday' }));
      const day = async (unit: number, d: string) =>
        (await ok(call(ctx.app, admin, 'GET', `/api/calendar/${unit}?year=2026`))).days.find(
          (x: { day: string }) => x.day === d,
        );
      expect(await day(tree.station1, '2026-03-09')).toMatchObject({
        working: false,
        mark: { kind: 'holiday', name: '公司成立日', source: 'override', orgUnitId: tree.hq },
      });
      expect(await day(tree.station2, '2026-03-09')).toMatchObject({
        working: true,
        mark: { source: 'override', orgUnitId: tree.station2 },
      });
      // Removed again: the day follows the weekly pattern.
      await ok(call(ctx.app, hq, 'DELETE', `/api/calendar/${tree.hq}/overrides/2026-03-09`));
      expect(await day(tree.station1, '2026-03-09')).toMatchObject({ working: true, mark: null });
      const audits = await sql<{
        action: string;
      }>`select action from audit_log where entity = 'calendar_override' order by id`.execute(ctx.db.kysely);
      expect(audits.rows.map((r) => r.action)).toEqual([
        'calendar_override',
        'calendar_override',
        'calendar_override_remove',
      ]);
    });

    it('refuses edits from a station and outside the editor’s subtree, and days that do not exist', async () => {
      await denied(
        call(ctx.app, s.get('zhanzhang')!, 'PUT', `/api/calendar/${tree.hq}/overrides/2026-03-10`, { kind: 'holiday' }),
        403,
        'PERMISSION_DENIED',
      );
      await denied(
        call(ctx.app, s.get('zhanzhang')!, 'PUT', `/api/calendar/${tree.station1}/overrides/2026-03-10`, {
          kind: 'holiday',
        }),
        403,
        'PERMISSION_DENIED',
      );
      const e = await denied(
        call(ctx.app, admin, 'PUT', `/api/calendar/${tree.hq}/overrides/2026-02-30`, { kind: 'holiday' }),
        400,
        'VALIDATION_FAILED',
      );
      expect(e.field).toBe('body.day');
      await denied(call(ctx.app, admin, 'DELETE', `/api/calendar/${tree.hq}/overrides/2026-03-11`), 404, 'NOT_FOUND');
      await denied(
        call(ctx.app, s.get('zhanzhang')!, 'GET', `/api/calendar/${tree.station3}?year=2026`),
        403,
        'SCOPE_DENIED',
      );
    });
  });

  describe('price changes', () => {
    it('a station user may not enter one; a branch may not enter one for HQ', async () => {
      const body = {
        orgUnitId: tree.station1,
        product: '0#柴油',
        oldPriceFen: 745,
        newPriceFen: 760,
        effectiveAt: '2026-12-10T00:00:00+08:00',
      };
      await denied(call(ctx.app, s.get('jiayou')!, 'POST', '/api/price-changes', body), 403, 'PERMISSION_DENIED');
      await denied(call(ctx.app, s.get('zhanzhang')!, 'POST', '/api/price-changes', body), 403, 'PERMISSION_DENIED');
      await denied(
        call(ctx.app, s.get('guanli')!, 'POST', '/api/price-changes', { ...body, orgUnitId: tree.hq }),
        403,
        'SCOPE_DENIED',
      );
    });

    it('HQ enters one: its buyers’ owners (else the station manager) are to call the day before, at 09:00 local', async () => {
      const r = await ok(
        call(ctx.app, s.get('yingxiao')!, 'POST', '/api/price-changes', {
          orgUnitId: tree.hq,
          product: '0#柴油',
          oldPriceFen: 745,
          newPriceFen: 760,
          effectiveAt: '2026-12-10T00:00:00+08:00',
        }),
        201,
      );
      expect(r.created).toBe(1);
      // 8 Dec, 20:00 UTC: 9 Dec 04:00 in Beijing, still 8 Dec 12:00 in Los Angeles.
      const first = await run('2026-12-08T20:00:00Z');
      expect(first.byKind.price_change).toBe(3);
      const [a] = await tasksOf('甲');
      expect(a).toMatchObject({
        moment_kind: 'price_change',
        contact_day: '2026-12-09',
        assignee_user_id: u.get('daibiao'),
        title: '0#柴油 7.45 → 7.60',
        state: 'open',
      });
      expect(new Date(a!.due_at).toISOString()).toBe('2026-12-09T01:00:00.000Z');
      expect((await tasksOf('乙'))[0]).toMatchObject({ assignee_user_id: u.get('zhanzhang') });
      // Bought only petrol: nothing to say to him.
      expect(await tasksOf('丙')).toEqual([]);
      // Los Angeles: the change takes effect on 9 Dec 08:00 local, so its call is due on 8 Dec at 09:00 local.
      const [d] = await tasksOf('丁');
      expect(d).toMatchObject({
        contact_day: '2026-12-08',
        moment_day: '2026-12-09',
        assignee_user_id: u.get('zhanzhang3'),
      });
      expect(new Date(d!.due_at).toISOString()).toBe('2026-12-08T17:00:00.000Z');
      // Each task is in its assignee's inbox.
      const items = await ctx.db.kysely
        .selectFrom('work_item')
        .select(['record_id', 'assignee_user_id', 'due_at', 'state', 'subject'])
        .where('kind', '=', 'contact_task')
        .where('record_id', '=', a!.id)
        .execute();
      expect(items).toHaveLength(1);
      expect(Number(items[0]!.assignee_user_id)).toBe(u.get('daibiao'));
      expect(new Date(items[0]!.due_at).toISOString()).toBe('2026-12-09T01:00:00.000Z');
      expect(items[0]!.subject).toContain('甲');
      const inbox = await ok(call(ctx.app, s.get('daibiao')!, 'GET', '/api/work/inbox'));
      expect(JSON.stringify(inbox)).toContain('contact_task');
    });

    it('a re-run creates nothing twice', async () => {
      const before = await ctx.db.kysely
        .selectFrom('contact_task')
        .select((x) => x.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      const again = await run('2026-12-08T21:00:00Z');
      expect(again.created).toBe(0);
      const after = await ctx.db.kysely
        .selectFrom('contact_task')
        .select((x) => x.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(after.n)).toBe(Number(before.n));
      const items = await ctx.db.kysely
        .selectFrom('work_item')
        .select((x) => x.fn.countAll().as('n'))
        .where('kind', '=', 'contact_task')
        .executeTakeFirstOrThrow();
      expect(Number(items.n)).toBe(Number(before.n));
    });

    it('imports a file, naming the row and field of a bad cell, and a second import adds nothing', async () => {
      const csv = (text: string) => ({
        orgUnitId: tree.branch1,
        fileName: 'prices.csv',
        content: Buffer.from(text).toString('base64'),
      });
      const bad = await denied(
        call(
          ctx.app,
          s.get('guanli')!,
          'POST',
          '/api/price-changes/import',
          csv('油品,原价,新价,生效时间\n0#柴油,7.45,7.60,2026-12-20 00:00\n92#汽油,七元,7.90,2026-12-20\n'),
        ),
        400,
        'VALIDATION_FAILED',
      );
      expect(bad.field).toBe('file.3.oldPrice');
      const wb = new ExcelJS.Workbook();
      const ws = wb.addWorksheet('调价');
      ws.addRow(['油品', '原价（元/升）', '新价（元/升）', '生效时间', '备注']);
      ws.addRow(['0#柴油', 7.45, 7.6, '2026-12-20 00:00', '']);
      ws.addRow(['92#汽油', '7.70', '7.90', '2026/12/20', '国家发改委通知']);
      const xlsx = Buffer.from(await wb.xlsx.writeBuffer()).toString('base64');
      const body = { orgUnitId: tree.branch1, fileName: '调价.xlsx', content: xlsx };
      const first = await ok(call(ctx.app, s.get('guanli')!, 'POST', '/api/price-changes/import', body), 201);
      expect(first).toMatchObject({ created: 2, unchanged: 0 });
      const second = await ok(call(ctx.app, s.get('guanli')!, 'POST', '/api/price-changes/import', body), 201);
      expect(second).toMatchObject({ created: 0, unchanged: 2 });
      const list = await ok(call(ctx.app, s.get('zhanzhang')!, 'GET', '/api/price-changes'));
      // The station sees its branch's and HQ's changes.
      expect(list.map((x: { product: string; source: string }) => `${x.product}/${x.source}`).sort()).toEqual([
        '0#柴油/import',
        '0#柴油/manual',
        '92#汽油/import',
      ]);
      // Branch 2's station sees only HQ's.
      expect(await ok(call(ctx.app, s.get('zhanzhang3')!, 'GET', '/api/price-changes'))).toHaveLength(1);
    });
  });

  describe('weather warnings across time zones', () => {
    it('tasks appear after each unit’s own midnight, due at 09:00 on its own clock', async () => {
      await denied(
        call(ctx.app, s.get('jiayou')!, 'POST', '/api/weather-warnings', {
          orgUnitId: tree.station1,
          title: '大雾',
          startDay: '2026-12-11',
        }),
        403,
        'PERMISSION_DENIED',
      );
      await ok(
        call(ctx.app, s.get('yingxiao')!, 'POST', '/api/weather-warnings', {
          orgUnitId: tree.hq,
          title: '寒潮大风',
          startDay: '2026-12-11',
          endDay: '2026-12-12',
        }),
        201,
      );
      // Only customers on the 石黄高速: 甲.
      await ok(
        call(ctx.app, s.get('yingxiao')!, 'POST', '/api/weather-warnings', {
          orgUnitId: tree.branch1,
          title: '石黄高速封路',
          routeText: '石黄',
          startDay: '2026-12-11',
        }),
        201,
      );
      const bad = await denied(
        call(ctx.app, s.get('yingxiao')!, 'POST', '/api/weather-warnings', {
          orgUnitId: tree.hq,
          title: 'x',
          startDay: '2026-12-11',
          endDay: '2026-12-10',
        }),
        400,
        'VALIDATION_FAILED',
      );
      expect(bad.field).toBe('body.endDay');

      // 10 Dec 17:00 UTC: 11 Dec 01:00 in Beijing, 10 Dec 09:00 in Los Angeles.
      await run('2026-12-10T17:00:00Z');
      const weather = async (name: string) => (await tasksOf(name)).filter((t) => t.moment_kind === 'weather');
      expect((await weather('甲')).map((t) => t.title).sort()).toEqual(['寒潮大风', '石黄高速封路']);
      expect((await weather('丙')).map((t) => t.title)).toEqual(['寒潮大风']);
      expect(new Date((await weather('丙'))[0]!.due_at).toISOString()).toBe('2026-12-11T01:00:00.000Z');
      expect(await weather('丁')).toEqual([]);
      // 11 Dec 08:30 UTC: 11 Dec 00:30 in Los Angeles.
      await run('2026-12-11T08:30:00Z');
      const [d] = await weather('丁');
      expect(d).toMatchObject({ contact_day: '2026-12-11', title: '寒潮大风' });
      expect(new Date(d!.due_at).toISOString()).toBe('2026-12-11T17:00:00.000Z');
    });
  });

  describe('holidays', () => {
    it('key customers are contacted three working days before National Day', async () => {
      // 25 Sep is the Mid-autumn festival's first day; 28 Sep is three working days before 1 October.
      const national = (t: { moment_key: string }) => t.moment_key === 'holiday:2026-10-01';
      await run('2026-09-25T02:00:00Z');
      expect((await tasksOf('甲')).filter(national)).toEqual([]);
      await run('2026-09-28T02:00:00Z');
      const [h] = (await tasksOf('甲')).filter(national);
      expect(h).toMatchObject({ moment_key: 'holiday:2026-10-01', contact_day: '2026-09-28', title: '国庆节' });
      // 1 star: not a key customer.
      expect((await tasksOf('乙')).filter((t) => t.moment_kind === 'holiday')).toEqual([]);
      // Los Angeles: its 28 Sep has not begun at 02:00 UTC; it has by 08:00 UTC.
      expect((await tasksOf('丁')).filter(national)).toEqual([]);
      await run('2026-09-28T08:00:00Z');
      const [dh] = (await tasksOf('丁')).filter(national);
      expect(new Date(dh!.due_at).toISOString()).toBe('2026-09-28T16:00:00.000Z');
    });

    it('with lead days reaching back over the Spring Festival’s make-up Saturday', async () => {
      // Qingming 2026 starts on Saturday 4 April; three working days before it: 1 April.
      await run('2026-04-01T01:00:00Z');
      const [q] = (await tasksOf('甲')).filter((t) => t.moment_key === 'holiday:2026-04-04');
      expect(q).toMatchObject({ contact_day: '2026-04-01', title: '清明' });
    });
  });

  describe('birthdays', () => {
    it('a solar birthday on the day, due at 09:00', async () => {
      await run('2026-12-08T17:00:00Z');
      const [b] = await tasksOf('生日');
      expect(b).toMatchObject({
        moment_key: 'birthday:2026-12-09',
        contact_day: '2026-12-09',
        assignee_user_id: u.get('daibiao'),
      });
      expect(new Date(b!.due_at).toISOString()).toBe('2026-12-09T01:00:00.000Z');
    });

    it('a lunar 30th in a 29-day month falls on its last day', async () => {
      // The second lunar month of 2026 has 29 days: 2/30 is kept on 2/29, 16 April.
      await run('2026-04-15T15:00:00Z');
      const birthdays = async (name: string) =>
        (await tasksOf(name)).filter((t) => t.moment_kind === 'birthday').map((t) => t.moment_key);
      expect(await birthdays('农历三十')).toEqual([]);
      await run('2026-04-16T01:00:00Z');
      expect(await birthdays('农历三十')).toEqual(['birthday:2026-04-16']);
    });

    it('a lunar birthday in a year with a leap month of the same number is kept in the ordinary month', async () => {
      // 2025 has a leap sixth month: 6/1 is 25 June; the leap 6/1 (25 July) is no birthday.
      await run('2025-06-25T01:00:00Z');
      await run('2025-07-25T01:00:00Z');
      const keys = (await tasksOf('闰月')).filter((t) => t.moment_kind === 'birthday').map((t) => t.moment_key);
      expect(keys).toEqual(['birthday:2025-06-25']);
    });

    it('the customer form keeps a lunar birthday, 30th included', async () => {
      const id = c.get('乙')!;
      const before = await ok(call(ctx.app, admin, 'GET', `/api/customers/${id}`));
      const e = await denied(
        call(ctx.app, admin, 'PATCH', `/api/customers/${id}`, {
          version: before.version,
          birthday: '1980-02-30',
          birthdayCalendar: 'solar',
        }),
        400,
        'VALIDATION_FAILED',
      );
      expect(e.field).toBe('body.birthday');
      const saved = await ok(
        call(ctx.app, admin, 'PATCH', `/api/customers/${id}`, {
          version: before.version,
          birthday: '1980-02-30',
          birthdayCalendar: 'lunar',
        }),
      );
      expect(saved).toMatchObject({ birthday: '1980-02-30', birthdayCalendar: 'lunar' });
    });
  });

  describe('completing a task', () => {
    it('only its assignee records how the customer was reached; the inbox item closes', async () => {
      const [a] = (await tasksOf('甲')).filter((t) => t.moment_kind === 'price_change');
      await denied(
        call(ctx.app, s.get('zhanzhang')!, 'POST', `/api/contact-tasks/${a!.id}/complete`, { outcome: 'phone' }),
        403,
        'PERMISSION_DENIED',
      );
      await denied(
        call(ctx.app, s.get('zhanzhang3')!, 'POST', `/api/contact-tasks/${a!.id}/complete`, { outcome: 'phone' }),
        403,
        'SCOPE_DENIED',
      );
      await denied(
        call(ctx.app, s.get('daibiao')!, 'POST', `/api/contact-tasks/${a!.id}/complete`, { outcome: 'fax' }),
        400,
        'VALIDATION_FAILED',
      );
      const view = await ok<Task>(call(ctx.app, s.get('daibiao')!, 'GET', `/api/contact-tasks/${a!.id}`));
      expect(view.canComplete).toBe(true);
      const done = await ok<Task>(
        call(ctx.app, s.get('daibiao')!, 'POST', `/api/contact-tasks/${a!.id}/complete`, {
          outcome: 'wechat',
          note: '已告知明天调价',
        }),
      );
      expect(done).toMatchObject({ state: 'done', outcome: 'wechat', canComplete: false });
      await denied(
        call(ctx.app, s.get('daibiao')!, 'POST', `/api/contact-tasks/${a!.id}/complete`, { outcome: 'phone' }),
        409,
        'CONFLICT',
      );
      const item = await ctx.db.kysely
        .selectFrom('work_item')
        .select('state')
        .where('kind', '=', 'contact_task')
        .where('record_id', '=', a!.id)
        .executeTakeFirstOrThrow();
      expect(item.state).toBe('done');
      const audit = await sql<{
        action: string;
      }>`select action from audit_log where entity = 'contact_task' and entity_id = ${String(a!.id)}`.execute(
        ctx.db.kysely,
      );
      expect(audit.rows.map((r) => r.action)).toEqual(['contact_task_complete']);
      // Another branch cannot read it.
      await denied(call(ctx.app, s.get('zhanzhang3')!, 'GET', `/api/contact-tasks/${a!.id}`), 403, 'SCOPE_DENIED');
    });

    it('lists a person’s own open tasks by due time', async () => {
      const mine = await ok<{ total: number; items: Task[] }>(
        call(ctx.app, s.get('daibiao')!, 'GET', '/api/contact-tasks?mine=true&state=open&pageSize=200'),
      );
      expect(mine.items.length).toBeGreaterThan(0);
      expect(mine.items.every((t) => t.assigneeUserId === u.get('daibiao') && t.state === 'open')).toBe(true);
      const due = mine.items.map((t) => t.dueAt);
      expect([...due].sort()).toEqual(due);
      // Station 3's manager sees none of branch 1's.
      const other = await ok<{ items: Task[] }>(
        call(ctx.app, s.get('zhanzhang3')!, 'GET', '/api/contact-tasks?pageSize=200'),
      );
      expect(other.items.every((t) => t.customer.name === '丁')).toBe(true);
    });
  });
});
