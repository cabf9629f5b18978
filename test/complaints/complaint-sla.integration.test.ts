// Complaint SLA clocks on both engines, with a controlled clock: a general case counted in working
// time on the station's calendar, warnings at 50/75/90 %, the breach with a reminder to the owner and
// the written reminder (督办) to the level above, each fired once however often the sweep runs; the HQ
// list; pauses that move the due time; extensions asked before the deadline and decided by the level
// above only; emergencies on the HQ list at once; 督办 by hand from above only.
import { beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { ADMIN_PASSWORD, call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { grantComplaintPermissions } from '../../src/server/db/migrations/0028-complaints.js';
import { ComplaintSlaService } from '../../src/server/modules/complaints/complaint-sla.service.js';

interface Clock {
  clock: { mode: string; dueAt: string | null; percent: number; state: string; pauseReason: string | null } | null;
  extensions: { id: number; state: string }[];
  pauses: { reason: string; endedAt: string | null; pausedMs: number | null }[];
  canPause: boolean;
  canSupervise: boolean;
  canDecideExtension: boolean;
}
interface Row {
  id: number;
  emergency: boolean;
  sla: { state: string; percent: number | null; level: number; hqWatch: boolean; superviseCount: number };
}

// Monday 7 December 2026, 09:00 in Beijing.
const MONDAY_9 = new Date('2026-12-07T01:00:00Z');
const H = 3_600_000;

describeEngines('complaint SLA clocks', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  const s = new Map<string, Session>();
  const as = (who: string) => (who === 'admin' ? admin : s.get(who)!);
  const names = ['jiayou', 'zhanzhang', 'zhanzhang2', 'pianqu', 'yingxiao'];
  /** Moves the clock; sessions idle over the jump are signed in again. */
  const at = async (iso: string) => {
    ctx.now.value = new Date(iso);
    for (const n of names) s.set(n, await login(ctx.app, n, USER_PASSWORD));
    admin = await login(ctx.app, 'admin', ADMIN_PASSWORD);
  };
  const take = async (over: Record<string, unknown> = {}) =>
    (
      await ok<{ id: number }>(
        call(ctx.app, as('jiayou'), 'POST', '/api/complaints', {
          channel: 'station',
          categoryCode: 'station_service',
          severityCode: 'general',
          orgUnitId: tree.station1,
          content: '加油员态度不好',
          complainantName: '赵先生',
          ...over,
        }),
        201,
      )
    ).id;
  const clock = (who: string, id: number) => ok<Clock>(call(ctx.app, as(who), 'GET', `/api/complaints/${id}/sla`));
  const sweep = () => new ComplaintSlaService(ctx.db.kysely, () => ctx.now.value!).sweep();
  const trail = async (id: number) =>
    (
      await ctx.db.kysely
        .selectFrom('complaint_event')
        .select(['action', 'actor_name', 'detail'])
        .where('complaint_id', '=', id)
        .orderBy('id')
        .execute()
    ).filter((e) => e.action.startsWith('sla_') || e.action === 'supervise');
  const work = async (id: number, prefix: string) =>
    (
      await ctx.db.kysely
        .selectFrom('work_item')
        .select(['queue_key', 'org_unit_id', 'state'])
        .where('kind', '=', 'complaint')
        .where('record_id', '=', id)
        .where('queue_key', 'like', `${prefix}%`)
        .execute()
    ).map((w) => `${w.queue_key}@${Number(w.org_unit_id)}:${w.state}`);
  const row = async (who: string, id: number, query = '') =>
    (await ok<{ items: Row[] }>(call(ctx.app, as(who), 'GET', `/api/complaints?pageSize=100${query}`))).items.find(
      (x) => x.id === id,
    );
  const denied = async (
    res: Promise<{ statusCode: number; json: () => any; body: string }>,
    status: number,
    code: string,
  ) => {
    const r = await res;
    expect(r.statusCode, r.body).toBe(status);
    expect(r.json().error.code).toBe(code);
  };

  beforeAll(async () => {
    ctx.now.value = MONDAY_9;
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    const people: [string, number, string][] = [
      ['jiayou', tree.station1, 'attendant'],
      ['zhanzhang', tree.station1, 'station_manager'],
      ['zhanzhang2', tree.station2, 'station_manager'],
      ['pianqu', tree.area1, 'area_customer_manager'],
      ['yingxiao', tree.hq, 'hq_marketing'],
    ];
    for (const [name, unit, role] of people) {
      await createUser(ctx.app, admin, name, unit, [role]);
      s.set(name, await login(ctx.app, name, USER_PASSWORD));
    }
    await grantComplaintPermissions(ctx.db.kysely);
  }, 120_000);

  it('counts a general case in working time, warns at 50/75/90 %, breaches, then writes to the level above, once each', async () => {
    await at('2026-12-07T01:00:00Z');
    const id = await take();
    const c = await clock('zhanzhang', id);
    // One working day (08:30–17:30) from Monday 09:00 Beijing: Tuesday 09:00.
    expect(c.clock).toMatchObject({ mode: 'working', dueAt: '2026-12-08T01:00:00.000Z', state: 'ok' });
    expect(c.canPause).toBe(true);
    await at('2026-12-07T05:29:00Z');
    await sweep();
    expect(await trail(id)).toEqual([]);
    await at('2026-12-07T05:31:00Z'); // 13:31 Beijing: just past 4.5 working hours
    await sweep();
    await sweep();
    expect((await trail(id)).map((e) => `${e.action}:${JSON.parse(e.detail!).percent}`)).toEqual(['sla_warning:50']);
    expect(await work(id, 'sla:')).toEqual([`sla:station_manager@${tree.station1}:open`]);
    expect((await row('yingxiao', id))!.sla).toMatchObject({ state: 'warning', level: 50, hqWatch: false });
    // Overnight: 75 and 90 % pass together and go on the trail as one warning at 90 %.
    await at('2026-12-08T00:45:00Z');
    await sweep();
    expect((await trail(id)).map((e) => e.action)).toEqual(['sla_warning', 'sla_warning']);
    expect(JSON.parse((await trail(id))[1]!.detail!)).toEqual({ percent: 90, levels: [75, 90] });
    await at('2026-12-08T01:00:01Z');
    await sweep();
    await sweep();
    expect((await trail(id)).map((e) => e.action)).toEqual(['sla_warning', 'sla_warning', 'sla_breach']);
    const breached = (await row('yingxiao', id, '&watch=true'))!;
    expect(breached.sla).toMatchObject({ state: 'breached', level: 100, hqWatch: true });
    // 125 %: 2¼ working hours after the deadline, the area above the station gets the 督办.
    await at('2026-12-08T03:16:00Z');
    await sweep();
    await sweep();
    const t = await trail(id);
    expect(t.map((e) => e.action)).toEqual(['sla_warning', 'sla_warning', 'sla_breach', 'supervise']);
    expect(t[3]!.actor_name).toBe('system');
    expect(JSON.parse(t[3]!.detail!)).toMatchObject({ auto: true, toUnitId: tree.area1 });
    expect(await work(id, 'supervise:')).toEqual([`supervise:area_customer_manager@${tree.area1}:open`]);
    expect((await row('yingxiao', id, '&watch=true'))!.sla).toMatchObject({ level: 125, superviseCount: 1 });
    // The next stage starts a fresh clock; the reminders are done.
    await ok(call(ctx.app, as('zhanzhang'), 'POST', `/api/complaints/${id}/steps`, { action: 'verify', note: '属实' }));
    expect((await clock('pianqu', id)).clock).toMatchObject({ state: 'ok' });
    expect(await work(id, 'supervise:')).toEqual([`supervise:area_customer_manager@${tree.area1}:done`]);
    // Still on the HQ list: it was breached.
    expect((await row('yingxiao', id, '&watch=true'))!.sla).toMatchObject({ level: 0, hqWatch: true });
  });

  it('pauses only for a named reason by the owner; nothing fires while paused; the due time moves by the working time', async () => {
    await at('2026-12-07T01:00:00Z');
    const id = await take();
    const body = { reason: 'fuel_test', note: '油品送第三方检测' };
    await denied(
      call(ctx.app, as('jiayou'), 'POST', `/api/complaints/${id}/sla/pause`, body),
      403,
      'PERMISSION_DENIED',
    );
    await denied(call(ctx.app, as('zhanzhang2'), 'POST', `/api/complaints/${id}/sla/pause`, body), 403, 'SCOPE_DENIED');
    const bad = await call(ctx.app, as('zhanzhang'), 'POST', `/api/complaints/${id}/sla/pause`, { reason: 'lunch' });
    expect(bad.statusCode).toBe(400);
    await at('2026-12-07T02:00:00Z'); // Monday 10:00 Beijing
    await ok(call(ctx.app, as('zhanzhang'), 'POST', `/api/complaints/${id}/sla/pause`, body));
    expect((await clock('zhanzhang', id)).clock).toMatchObject({ state: 'paused', pauseReason: 'fuel_test' });
    expect((await row('zhanzhang', id))!.sla.state).toBe('paused');
    await denied(call(ctx.app, as('zhanzhang'), 'POST', `/api/complaints/${id}/sla/pause`, body), 409, 'CONFLICT');
    await at('2026-12-09T02:00:00Z'); // Wednesday 10:00: two working days later
    await sweep();
    expect(await trail(id)).toHaveLength(1);
    await ok(call(ctx.app, as('zhanzhang'), 'POST', `/api/complaints/${id}/sla/resume`, {}));
    const c = await clock('zhanzhang', id);
    // 18 working hours stood still: Tuesday 09:00 becomes Thursday 09:00.
    expect(c.clock!.dueAt).toBe('2026-12-10T01:00:00.000Z');
    expect(c.pauses).toEqual([expect.objectContaining({ reason: 'fuel_test', pausedMs: 18 * H })]);
    expect((await trail(id)).map((e) => e.action)).toEqual(['sla_pause', 'sla_resume']);
  });

  it('extensions: asked before the deadline, decided by the level above and never by the asker', async () => {
    await at('2026-12-07T01:00:00Z');
    const id = await take();
    const ask = { unit: 'working_hours', amount: 4, reason: '等待客户提供发票' };
    await ok(call(ctx.app, as('zhanzhang'), 'POST', `/api/complaints/${id}/sla/extensions`, ask));
    await denied(call(ctx.app, as('zhanzhang'), 'POST', `/api/complaints/${id}/sla/extensions`, ask), 409, 'CONFLICT');
    const ext = (await clock('zhanzhang', id)).extensions[0]!;
    expect(ext.state).toBe('pending');
    expect(await work(id, 'extension:')).toEqual([`extension:area_customer_manager@${tree.area1}:open`]);
    const decide = (who: string, approve: boolean) =>
      call(ctx.app, as(who), 'POST', `/api/complaints/${id}/sla/extensions/${ext.id}`, { approve });
    await denied(decide('zhanzhang', true), 403, 'APPROVER_NOT_ELIGIBLE');
    await denied(decide('zhanzhang2', true), 403, 'SCOPE_DENIED');
    expect((await clock('pianqu', id)).canDecideExtension).toBe(true);
    await ok(decide('pianqu', true));
    // Tuesday 09:00 + 4 working hours = Tuesday 13:00 Beijing.
    expect((await clock('zhanzhang', id)).clock!.dueAt).toBe('2026-12-08T05:00:00.000Z');
    await denied(decide('pianqu', false), 409, 'CONFLICT');
    // After the deadline an extension is refused.
    await at('2026-12-08T05:00:01Z');
    await denied(call(ctx.app, as('zhanzhang'), 'POST', `/api/complaints/${id}/sla/extensions`, ask), 409, 'CONFLICT');
    expect((await trail(id)).map((e) => e.action)).toEqual(['sla_extension_request', 'sla_extension_approve']);
  });

  it('puts a safety case on the HQ list at once with its emergency flag, on a one-hour clock', async () => {
    await at('2026-12-12T03:00:00Z'); // a Saturday: the clock runs all the same
    const id = await take({ categoryCode: 'safety', severityCode: 'critical' });
    const r = (await row('yingxiao', id, '&watch=true'))!;
    expect(r.emergency).toBe(true);
    expect(r.sla.hqWatch).toBe(true);
    expect((await clock('yingxiao', id)).clock).toMatchObject({ mode: 'clock', dueAt: '2026-12-12T04:00:00.000Z' });
    await at('2026-12-12T04:00:00Z');
    await sweep();
    expect((await trail(id)).map((e) => e.action)).toEqual(['sla_breach']);
  });

  it('issues a written reminder (督办) by hand only from above the owning unit', async () => {
    await at('2026-12-07T01:00:00Z');
    const id = await take();
    expect((await clock('zhanzhang', id)).canSupervise).toBe(false);
    await denied(
      call(ctx.app, as('zhanzhang'), 'POST', `/api/complaints/${id}/supervise`, { note: '请尽快处理' }),
      403,
      'COMPLAINT_STAGE_DENIED',
    );
    expect((await clock('pianqu', id)).canSupervise).toBe(true);
    await ok(call(ctx.app, as('pianqu'), 'POST', `/api/complaints/${id}/supervise`, { note: '请今天内回复客户' }));
    const t = await trail(id);
    expect(t.map((e) => `${e.action}:${e.actor_name}`)).toEqual(['supervise:用户pianqu']);
    expect(await work(id, 'supervise:')).toEqual([`supervise:station_manager@${tree.station1}:open`]);
    expect((await row('yingxiao', id, '&watch=true'))!.sla).toMatchObject({ hqWatch: true, superviseCount: 1 });
  });

  it('lets HQ edit the matrix with validation, and nobody else', async () => {
    const m = await ok<{ rules: Record<string, unknown>[] }>(
      call(ctx.app, as('zhanzhang'), 'GET', '/api/complaints/sla-rules'),
    );
    expect(m.rules.length).toBeGreaterThan(5);
    await denied(call(ctx.app, as('zhanzhang'), 'PUT', '/api/complaints/sla-rules', m), 403, 'PERMISSION_DENIED');
    const noCatchAll = { rules: m.rules.filter((x) => !(x.categoryCode === '*' && x.severityCode === '*')) };
    await denied(call(ctx.app, as('admin'), 'PUT', '/api/complaints/sla-rules', noCatchAll), 400, 'VALIDATION_FAILED');
    const edited = m.rules.map((x) => (x.categoryCode === 'finance' ? x : x));
    edited.push({
      categoryCode: 'finance',
      severityCode: 'minor',
      unit: 'working_days',
      verify: 3,
      review: 3,
      rectify: 10,
      callback: 3,
      archive: 5,
    });
    const saved = await ok<{ rules: { categoryCode: string }[] }>(
      call(ctx.app, as('admin'), 'PUT', '/api/complaints/sla-rules', { rules: edited }),
    );
    expect(saved.rules.filter((x) => x.categoryCode === 'finance')).toHaveLength(1);
  });
});
