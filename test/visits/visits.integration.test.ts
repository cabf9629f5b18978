// Visits on both engines: a month's plans proposed from the policy on generated data; every step of a
// plan and who may take it (and the refusals); reminders at the local hour of two time zones; a record
// with follow-ups, a check-in and a photo whose EXIF is gone; problems handed up with their trail; and
// the weekly summary against a direct count of the rows.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { runJob } from '../../src/server/jobs/job-runner.js';
import { JOBS } from '../../src/server/jobs/index.js';
import { visitPlansJob, visitRemindersJob, visitWeeklySummaryJob } from '../../src/server/modules/visits/visits.job.js';
import { DEFAULT_VISIT_POLICY, reminderTimes, visitReason, type PlanCandidate } from '../../src/domain/visit-plan.js';

process.env.FORECOURT_DATA_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), 'fc-visits-'));

interface Plan {
  id: number;
  state: string;
  version: number;
  month: string;
  allowedActions: string[];
  visits: { id: number; customerId: number; reason: string; plannedDay: string; plannedAt: string; state: string }[];
  events: { action: string; toState: string }[];
}
interface Inbox {
  total: number;
  items: { kind: string; recordId: number; dueAt: string; subject: string; queue: boolean }[];
}

const MONTH = '2026-12';

describeEngines('visits', (engine) => {
  // The clock jumps by weeks: sessions outlive it.
  const ctx = useTestApp(engine, { sessionIdleMinutes: 10_000_000, sessionAbsoluteHours: 1_000_000 });
  let admin: Session;
  let tree: Tree;
  const s = new Map<string, Session>();
  const u = new Map<string, number>();
  let batchId = 0;
  let n = 0;
  const db = () => ctx.db.kysely;

  const person = async (name: string, unit: number, roles: string[]) => {
    u.set(name, await createUser(ctx.app, admin, name, unit, roles));
    s.set(name, await login(ctx.app, name, USER_PASSWORD));
  };
  const customer = async (unit: number, owner: string | null) => {
    const { id } = await ok<{ id: number }>(
      call(ctx.app, admin, 'POST', '/api/customers', {
        kind: 'individual',
        orgUnitId: unit,
        name: `客户${++n}`,
        vehicles: [{ plate: `冀C${String(10000 + n)}` }],
      }),
      201,
    );
    if (owner)
      await db()
        .updateTable('customer')
        .set({ owner_user_id: u.get(owner)! })
        .where('id', '=', id)
        .execute();
    return id;
  };
  const rate = async (customerId: number, cls: string) => {
    await db()
      .insertInto('customer_rating')
      .values({
        batch_id: batchId,
        customer_id: customerId,
        period: '2026-11',
        computed_stars: 4,
        stars: 4,
        class: cls,
        status: 'final',
        benefits: null,
        note: null,
        updated_at: new Date().toISOString(),
      })
      .execute();
  };
  const sales = async (customerId: number, month: string, litres: number) => {
    await db()
      .insertInto('customer_month')
      .values({
        customer_id: customerId,
        month,
        product: '0#柴油',
        volume_ml: litres * 1000,
        amount_fen: litres * 700,
        txn_count: 1,
      })
      .execute();
  };
  const inbox = (who: string, kind?: string) =>
    ok<Inbox>(call(ctx.app, s.get(who)!, 'GET', `/api/work/inbox?pageSize=200${kind ? `&kind=${kind}` : ''}`));
  const plan = (who: string, id: number) => ok<Plan>(call(ctx.app, s.get(who)!, 'GET', `/api/visit-plans/${id}`));

  beforeAll(async () => {
    ctx.now.value = new Date('2026-11-28T02:00:00Z');
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    // Station 2 keeps Xinjiang time: two hours behind Beijing's clock.
    await db().updateTable('org_unit').set({ time_zone: 'Asia/Urumqi' }).where('id', '=', tree.station2).execute();
    // Two representatives of the area (its stations keep different clocks), a manager beside them and
    // one a level up.
    await person('rep', tree.area1, ['sales_rep']);
    await person('rep2', tree.area1, ['sales_rep']);
    await person('peer', tree.area1, ['area_customer_manager']);
    await person('area', tree.branch1, ['area_customer_manager']);
    await person('branch', tree.branch1, ['branch_manager']);
    await person('other', tree.branch2, ['branch_manager']);
    await person('noperm', tree.area1, ['sales_rep']);
    const batch = await db()
      .insertInto('rating_batch')
      .values({
        period: '2026-11',
        org_unit_id: tree.branch1,
        status: 'final',
        policy_version_id: null,
        computed_at: new Date().toISOString(),
        proposed_by: null,
        proposed_at: null,
        low_approved_by: null,
        low_approved_at: null,
        high_reviewed_by: null,
        high_reviewed_at: null,
        high_approved_by: null,
        high_approved_at: null,
        finalized_at: null,
        note: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    batchId = Number(batch.id);
  }, 120_000);

  describe('plan generation from the policy', () => {
    it('proposes exactly the customers the policy, the sales and the alerts call for', async () => {
      // Generated data: 40 customers of rep with classes, sales and alerts drawn from a fixed sequence.
      const classes = ['VIP', 'A', 'B', 'C', null] as const;
      const expected = new Map<number, string>();
      for (let i = 0; i < 40; i++) {
        const id = await customer(i % 3 === 0 ? tree.station2 : tree.station1, 'rep');
        const cls = classes[i % 5]!;
        if (cls) await rate(id, cls);
        const prev = (i * 37) % 500;
        const last = i % 4 === 0 ? Math.floor(prev / 3) : prev;
        if (prev) await sales(id, '2026-10', prev);
        if (last) await sales(id, '2026-11', last);
        const alerts = i % 7 === 0 ? 1 : 0;
        if (alerts)
          await db()
            .insertInto('alert')
            .values({
              customer_id: id,
              org_unit_id: tree.station1,
              kind: 'cadence',
              episode: `e${i}`,
              status: 'open',
              opened_at: new Date().toISOString(),
            })
            .execute();
        // A visit recorded in October: an A-class customer is then not due before January.
        const lastVisitMonth = i % 6 === 1 ? '2026-10' : null;
        if (lastVisitMonth)
          await db()
            .insertInto('visit_record')
            .values({
              customer_id: id,
              org_unit_id: tree.station1,
              user_id: u.get('rep')!,
              planned_visit_id: null,
              visited_at: '2026-10-10T02:00:00.000Z',
              visited_day: '2026-10-10',
              assessment: '{}',
              market_outlook: null,
              competitors_better: null,
              note: null,
              check_in_lat: null,
              check_in_lng: null,
              check_in_accuracy_m: null,
              check_in_at: null,
              created_at: '2026-10-10T02:00:00.000Z',
            })
            .execute();
        const c: PlanCandidate = {
          customerId: id,
          class: cls,
          lastVisitMonth,
          lastMonthVolume: last * 1000,
          prevMonthVolume: prev * 1000,
          openAlerts: alerts,
        };
        const why = visitReason(DEFAULT_VISIT_POLICY, MONTH, c);
        if (why) expected.set(id, why.reason);
      }
      // A customer of another owner is not in rep's plan.
      await customer(tree.station1, 'rep2');

      ctx.now.value = new Date('2026-11-30T19:30:00Z'); // 03:30 on 1 December in Beijing
      const out = await runJob(ctx.db.kysely, visitPlansJob, MONTH, { now: ctx.now.value });
      expect(out.status).toBe('done');
      expect(JOBS.map((j) => j.name)).toEqual(
        expect.arrayContaining(['visit-plans', 'visit-reminders', 'visit-weekly-summary']),
      );
      const plans = await ok<{ id: number; ownerUserId: number; visits: number; state: string }[]>(
        call(ctx.app, s.get('area')!, 'GET', `/api/visit-plans?month=${MONTH}`),
      );
      const mine = plans.find((p) => p.ownerUserId === u.get('rep'))!;
      expect(mine.state).toBe('draft');
      const p = await plan('rep', mine.id);
      expect(new Map(p.visits.map((v) => [v.customerId, v.reason]))).toEqual(expected);
      expect(expected.size).toBeGreaterThan(10);
      for (const v of p.visits) {
        expect(v.plannedDay.slice(0, 7)).toBe(MONTH);
        const weekday = new Date(`${v.plannedDay}T00:00:00Z`).getUTCDay();
        expect(weekday === 0 || weekday === 6).toBe(false);
      }
      // Running again changes nothing; a branch-2 manager does not see branch 1's plans.
      await runJob(ctx.db.kysely, visitPlansJob, MONTH, { now: ctx.now.value, force: true });
      expect((await plan('rep', mine.id)).visits).toHaveLength(p.visits.length);
      const theirs = await ok<unknown[]>(call(ctx.app, s.get('other')!, 'GET', `/api/visit-plans?month=${MONTH}`));
      expect(theirs).toEqual([]);
      const denied = await call(ctx.app, s.get('other')!, 'GET', `/api/visit-plans/${mine.id}`);
      expect(denied.json().error.code).toBe('SCOPE_DENIED');
    });
  });

  describe('approval', () => {
    let planId = 0;
    it('the owner edits and submits; a queue item waits for the level above, not for him', async () => {
      const p0 = await ok<Plan>(call(ctx.app, s.get('rep2')!, 'POST', '/api/visit-plans/mine', { month: MONTH }));
      planId = p0.id;
      expect(p0.allowedActions).toEqual(expect.arrayContaining(['edit', 'submit']));
      const shanghai = await customer(tree.station1, 'rep2');
      const urumqi = await customer(tree.station2, 'rep2');
      // Someone else may not change rep2's plan.
      const foreign = await call(ctx.app, s.get('rep')!, 'POST', `/api/visit-plans/${planId}/visits`, {
        customerId: shanghai,
        day: '2026-12-15',
      });
      expect(foreign.statusCode).toBe(403);
      const bad = await call(ctx.app, s.get('rep2')!, 'POST', `/api/visit-plans/${planId}/visits`, {
        customerId: shanghai,
        day: '2027-01-15',
      });
      expect(bad.json().error.field).toBe('body.day');
      for (const c of [shanghai, urumqi])
        await ok(
          call(ctx.app, s.get('rep2')!, 'POST', `/api/visit-plans/${planId}/visits`, {
            customerId: c,
            day: '2026-12-15',
            time: '10:00',
          }),
          201,
        );
      const extra = await ok<{ id: number }>(
        call(ctx.app, s.get('rep2')!, 'POST', `/api/visit-plans/${planId}/visits`, {
          customerId: shanghai,
          day: '2026-12-03',
        }),
        201,
      );
      await ok(call(ctx.app, s.get('rep2')!, 'DELETE', `/api/planned-visits/${extra.id}`));
      const p1 = await plan('rep2', planId);
      expect(p1.visits.map((v) => v.plannedAt).sort()).toEqual([
        '2026-12-15T02:00:00.000Z',
        '2026-12-15T04:00:00.000Z',
      ]);

      // Approving a draft is out of order.
      const early = await call(ctx.app, s.get('area')!, 'POST', `/api/visit-plans/${planId}/approve`, {
        version: p1.version,
      });
      expect(early.json().error.code).toBe('CONFLICT');
      const stale = await call(ctx.app, s.get('rep2')!, 'POST', `/api/visit-plans/${planId}/submit`, {
        version: p1.version - 1,
      });
      expect(stale.json().error.code).toBe('VERSION_CONFLICT');
      const p2 = await ok<Plan>(
        call(ctx.app, s.get('rep2')!, 'POST', `/api/visit-plans/${planId}/submit`, { version: p1.version }),
      );
      expect(p2.state).toBe('submitted');
      // Once submitted the owner no longer edits it.
      const locked = await call(ctx.app, s.get('rep2')!, 'POST', `/api/visit-plans/${planId}/visits`, {
        customerId: shanghai,
        day: '2026-12-16',
      });
      expect(locked.json().error.code).toBe('CONFLICT');

      const areaBox = await inbox('area', 'visit_plan_approval');
      expect(areaBox.items.map((i) => i.recordId)).toContain(planId);
      expect((await inbox('branch', 'visit_plan_approval')).items.map((i) => i.recordId)).toContain(planId);
      expect((await inbox('rep2', 'visit_plan_approval')).items.map((i) => i.recordId)).not.toContain(planId);
      expect((await inbox('peer', 'visit_plan_approval')).items.map((i) => i.recordId)).not.toContain(planId);
      expect((await inbox('other', 'visit_plan_approval')).items.map((i) => i.recordId)).not.toContain(planId);
    });

    it('refuses a peer at the same station, the owner, a manager of another branch and one without the permission', async () => {
      const p = await plan('area', planId);
      const tryAs = (who: string, action: string, body: object) =>
        call(ctx.app, s.get(who)!, 'POST', `/api/visit-plans/${planId}/${action}`, { version: p.version, ...body });
      expect((await tryAs('peer', 'approve', {})).json().error.code).toBe('APPROVER_NOT_ELIGIBLE');
      expect((await tryAs('other', 'approve', {})).json().error.code).toBe('SCOPE_DENIED');
      expect((await tryAs('noperm', 'approve', {})).json().error.code).toBe('PERMISSION_DENIED');
      expect((await tryAs('rep2', 'approve', {})).json().error.code).toBe('PERMISSION_DENIED');
      // A return needs its reason.
      expect((await tryAs('area', 'return', {})).json().error.field).toBe('body.note');
    });

    it('return → resubmit → approve: the trail, the work items and the audit', async () => {
      let p = await plan('area', planId);
      p = await ok<Plan>(
        call(ctx.app, s.get('area')!, 'POST', `/api/visit-plans/${planId}/return`, {
          version: p.version,
          note: '漏了重点客户',
        }),
      );
      expect(p.state).toBe('returned');
      expect((await inbox('rep2', 'visit_plan_approval')).items.map((i) => i.recordId)).toContain(planId);
      expect((await inbox('area', 'visit_plan_approval')).items.map((i) => i.recordId)).not.toContain(planId);
      p = await ok<Plan>(
        call(ctx.app, s.get('rep2')!, 'POST', `/api/visit-plans/${planId}/submit`, { version: p.version }),
      );
      p = await ok<Plan>(
        call(ctx.app, s.get('branch')!, 'POST', `/api/visit-plans/${planId}/approve`, { version: p.version }),
      );
      expect(p.state).toBe('approved');
      expect(p.events.map((e) => e.action)).toEqual(['propose', 'submit', 'return', 'submit', 'approve']);
      expect((await inbox('rep2', 'visit_plan_approval')).items.map((i) => i.recordId)).not.toContain(planId);
      // Approving twice is out of order.
      const again = await call(ctx.app, s.get('area')!, 'POST', `/api/visit-plans/${planId}/approve`, {
        version: p.version,
      });
      expect(again.json().error.code).toBe('CONFLICT');
      const visits = (await inbox('rep2', 'visit')).items;
      expect(visits.map((i) => i.recordId).sort()).toEqual(p.visits.map((v) => v.id).sort());
      const audit = await db()
        .selectFrom('audit_log')
        .select('action')
        .where('entity', '=', 'visit_plan')
        .where('entity_id', '=', String(planId))
        .execute();
      expect(audit.map((a) => a.action)).toEqual(
        expect.arrayContaining([
          'visit_plan_add_visit',
          'visit_plan_remove_visit',
          'visit_plan_submit',
          'visit_plan_return',
          'visit_plan_approve',
        ]),
      );
    });

    it('reminders fall at the local hour of each customer’s unit (Beijing and Xinjiang time)', async () => {
      const p = await plan('rep2', planId);
      const [bj, xj] = [...p.visits].sort((a, b) => a.plannedAt.localeCompare(b.plannedAt));
      // 09:00 a week ahead: 01:00Z in Beijing, 03:00Z in Urumqi; the day itself at 08:00 local.
      expect(reminderTimes(DEFAULT_VISIT_POLICY, '2026-12-15', 'Asia/Urumqi').appointment).toBe(
        '2026-12-08T03:00:00.000Z',
      );
      const rem = await db()
        .selectFrom('visit_reminder')
        .selectAll()
        .where('planned_visit_id', 'in', [bj!.id, xj!.id])
        .orderBy('due_at')
        .execute();
      expect(rem.map((r) => [Number(r.planned_visit_id), r.kind, r.due_at])).toEqual([
        [bj!.id, 'appointment', '2026-12-08T01:00:00.000Z'],
        [xj!.id, 'appointment', '2026-12-08T03:00:00.000Z'],
        [bj!.id, 'on_day', '2026-12-15T00:00:00.000Z'],
        [xj!.id, 'on_day', '2026-12-15T02:00:00.000Z'],
      ]);
      const sentCount = async () =>
        (
          await db()
            .selectFrom('visit_reminder')
            .select('id')
            .where('planned_visit_id', 'in', [bj!.id, xj!.id])
            .where('sent_at', 'is not', null)
            .execute()
        ).length;
      const run = async (at: string) => {
        ctx.now.value = new Date(at);
        return runJob(ctx.db.kysely, visitRemindersJob, visitRemindersJob.periodOf(ctx.now.value, 'Asia/Shanghai'), {
          now: ctx.now.value,
        });
      };
      await run('2026-12-08T00:59:00Z');
      expect(await sentCount()).toBe(0);
      await run('2026-12-08T01:00:00Z');
      expect(await sentCount()).toBe(1);
      const item = (await inbox('rep2', 'visit')).items.find((i) => i.recordId === bj!.id)!;
      expect(item.dueAt).toBe('2026-12-08T01:00:00.000Z');
      await run('2026-12-08T02:59:00Z');
      expect(await sentCount()).toBe(1);
      await run('2026-12-08T03:00:00Z');
      expect(await sentCount()).toBe(2);

      // The appointment for the Xinjiang customer moves him to 15:00 local on the 16th: the on-day
      // reminder follows at 08:00 Urumqi time, and the appointment reminder is not sent again.
      const appointed = await ok<{ state: string; plannedDay: string }>(
        call(ctx.app, s.get('rep2')!, 'POST', `/api/planned-visits/${xj!.id}/appointment`, {
          at: '2026-12-16T09:00:00Z',
          note: '客户约下午三点',
        }),
      );
      expect(appointed).toMatchObject({ state: 'appointed', plannedDay: '2026-12-16' });
      const notMine = await call(ctx.app, s.get('area')!, 'POST', `/api/planned-visits/${bj!.id}/appointment`, {
        at: '2026-12-16T09:00:00Z',
      });
      expect(notMine.json().error.code).toBe('APPROVER_NOT_ELIGIBLE');
      const onDay = await db()
        .selectFrom('visit_reminder')
        .select(['due_at', 'sent_at'])
        .where('planned_visit_id', '=', xj!.id)
        .where('kind', '=', 'on_day')
        .executeTakeFirstOrThrow();
      expect(onDay).toEqual({ due_at: '2026-12-16T02:00:00.000Z', sent_at: null });
      await run('2026-12-15T00:00:00Z');
      expect(await sentCount()).toBe(3);
      await run('2026-12-16T02:00:00Z');
      expect(await sentCount()).toBe(4);
      const xjItem = (await inbox('rep2', 'visit')).items.find((i) => i.recordId === xj!.id)!;
      expect(xjItem.dueAt).toBe('2026-12-16T02:00:00.000Z');
    });

    it('the calendar shows a person’s and a unit’s visits, scoped', async () => {
      const mine = await ok<{ id: number; ownerName: string }[]>(
        call(ctx.app, s.get('rep2')!, 'GET', '/api/visits/calendar?from=2026-12-01&to=2026-12-31'),
      );
      expect(mine).toHaveLength(2);
      const unit = await ok<unknown[]>(
        call(
          ctx.app,
          s.get('area')!,
          'GET',
          `/api/visits/calendar?from=2026-12-01&to=2026-12-31&orgUnitId=${tree.area1}`,
        ),
      );
      expect(unit.length).toBeGreaterThan(2);
      const out = await call(
        ctx.app,
        s.get('other')!,
        'GET',
        `/api/visits/calendar?from=2026-12-01&to=2026-12-31&orgUnitId=${tree.area1}`,
      );
      expect(out.json().error.code).toBe('SCOPE_DENIED');
      const long = await call(ctx.app, s.get('rep2')!, 'GET', '/api/visits/calendar?from=2026-01-01&to=2026-12-31');
      expect(long.json().error.field).toBe('querystring.to');
    });
  });

  describe('records', () => {
    let recordId = 0;
    it('a record closes the planned visit, opens follow-ups for their owners and keeps the check-in', async () => {
      ctx.now.value = new Date('2026-12-15T03:00:00Z');
      const visit = (
        await plan(
          'rep2',
          (
            await ok<{ id: number }[]>(
              call(ctx.app, s.get('rep2')!, 'GET', `/api/visit-plans?month=${MONTH}&ownerUserId=${u.get('rep2')}`),
            )
          )[0]!.id,
        )
      ).visits.find((v) => v.state === 'planned')!;
      const bad = await call(ctx.app, s.get('rep2')!, 'POST', '/api/visit-records', {
        customerId: visit.customerId,
        assessment: {},
        followUps: [{ action: '报价', dueDay: '2026-02-30' }],
      });
      expect(bad.json().error.field).toBe('body.followUps.0.dueDay');
      const foreignOwner = await call(ctx.app, s.get('rep2')!, 'POST', '/api/visit-records', {
        customerId: visit.customerId,
        assessment: {},
        followUps: [{ action: '报价', dueDay: '2026-12-20', ownerUserId: u.get('other') }],
      });
      expect(foreignOwner.json().error.field).toBe('body.followUps.0.ownerUserId');
      const rec = await ok<{
        id: number;
        followUps: { id: number; ownerUserId: number }[];
        checkIn: { lat: number } | null;
        plannedVisitId: number;
      }>(
        call(ctx.app, s.get('rep2')!, 'POST', '/api/visit-records', {
          customerId: visit.customerId,
          plannedVisitId: visit.id,
          assessment: {
            density: { compared: 'same' },
            price: { compared: 'worse', note: '比民营站贵 0.3 元' },
            service: { compared: 'better' },
          },
          marketOutlook: '明年工地增加',
          competitorsBetter: '民营站送油上门',
          followUps: [
            { action: '报送团购价', dueDay: '2026-12-18' },
            { action: '安排送油车', dueDay: '2026-12-20', ownerUserId: u.get('area') },
          ],
          checkIn: { lat: 38.0428, lng: 114.5149, accuracyM: 12, at: '2026-12-15T02:58:00Z' },
        }),
        201,
      );
      recordId = rec.id;
      expect(rec.checkIn?.lat).toBe(38.0428);
      expect(rec.followUps.map((f) => f.ownerUserId)).toEqual([u.get('rep2'), u.get('area')]);
      expect((await inbox('rep2', 'visit')).items.map((i) => i.recordId)).not.toContain(visit.id);
      expect((await inbox('rep2', 'visit_follow_up')).items.map((i) => i.recordId)).toEqual([rec.followUps[0]!.id]);
      expect((await inbox('area', 'visit_follow_up')).items.map((i) => i.recordId)).toEqual([rec.followUps[1]!.id]);
      const pv = await db()
        .selectFrom('planned_visit')
        .select(['state', 'record_id'])
        .where('id', '=', visit.id)
        .executeTakeFirstOrThrow();
      expect(pv.state).toBe('done');
      expect(Number(pv.record_id)).toBe(rec.id);
      // A planned visit is done once.
      const twice = await call(ctx.app, s.get('rep2')!, 'POST', '/api/visit-records', {
        customerId: visit.customerId,
        plannedVisitId: visit.id,
        assessment: {},
      });
      expect(twice.json().error.code).toBe('CONFLICT');
      // The follow-up is done: its work item closes.
      await ok(
        call(ctx.app, s.get('rep2')!, 'POST', `/api/visit-records/${rec.id}/follow-ups/${rec.followUps[0]!.id}/done`),
      );
      expect((await inbox('rep2', 'visit_follow_up')).items).toEqual([]);
    });

    it('a photo is stored re-encoded without EXIF, served only to those who may read the record', async () => {
      const withExif = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c33' } })
        .jpeg()
        .withExif({
          IFD0: { Make: 'PhoneCo', Copyright: 'secret' },
          IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '38/1 2/1 34/1' },
        })
        .toBuffer();
      expect((await sharp(withExif).metadata()).exif).toBeDefined();
      const upload = (who: string, body: Buffer, id = recordId) =>
        ctx.app.inject({
          method: 'POST',
          url: `/api/visit-records/${id}/photos`,
          headers: {
            cookie: s.get(who)!.cookie,
            'x-csrf-token': s.get(who)!.csrf,
            'content-type': 'application/octet-stream',
          },
          payload: body,
        });
      const res = await upload('rep2', withExif);
      expect(res.statusCode, res.body).toBe(201);
      const photoId = res.json().id as number;
      const got = await call(ctx.app, s.get('area')!, 'GET', `/api/visit-records/${recordId}/photos/${photoId}`);
      expect(got.statusCode).toBe(200);
      expect(got.headers['content-type']).toBe('image/jpeg');
      const meta = await sharp(got.rawPayload).metadata();
      expect(meta.exif).toBeUndefined();
      expect([meta.width, meta.height]).toEqual([64, 48]);
      const foreign = await call(ctx.app, s.get('other')!, 'GET', `/api/visit-records/${recordId}/photos/${photoId}`);
      expect(foreign.json().error.code).toBe('SCOPE_DENIED');
      // Not an image, whatever it claims: refused by its content.
      const text = await upload('rep2', Buffer.from('GIF89a not really'));
      expect(text.statusCode).toBe(400);
      expect(text.json().error.field).toBe('body');
      const audit = await db()
        .selectFrom('audit_log')
        .select('action')
        .where('entity', '=', 'visit_record')
        .where('entity_id', '=', String(recordId))
        .execute();
      expect(audit.map((a) => a.action)).toEqual(
        expect.arrayContaining(['visit_record_create', 'visit_record_add_photo', 'visit_record_follow_up_done']),
      );
    });

    it('a problem goes up one level at a time with its trail', async () => {
      const pr = await ok<{ id: number; orgUnitId: number }>(
        call(ctx.app, s.get('rep2')!, 'POST', `/api/visit-records/${recordId}/problems`, {
          text: '客户要求月结，站里无权批',
        }),
        201,
      );
      expect(pr.orgUnitId).toBe(tree.area1);
      expect((await inbox('peer', 'problem')).items.map((i) => i.recordId)).toContain(pr.id);
      expect((await inbox('rep2', 'problem')).items).toEqual([]);
      const low = await call(ctx.app, s.get('rep2')!, 'POST', `/api/visit-problems/${pr.id}/resolve`, { note: '我来' });
      expect(low.json().error.code).toBe('PERMISSION_DENIED');
      const below = await call(ctx.app, s.get('rep')!, 'GET', `/api/visit-problems/${pr.id}`);
      expect(below.statusCode).toBe(200);
      const up = await ok<{ orgUnitId: number; steps: { action: string }[] }>(
        call(ctx.app, s.get('area')!, 'POST', `/api/visit-problems/${pr.id}/escalate`, { note: '月结需分公司批准' }),
      );
      expect(up.orgUnitId).toBe(tree.branch1);
      // The peer at the area no longer sees it: it is held above him now.
      expect((await inbox('peer', 'problem')).items.map((i) => i.recordId)).not.toContain(pr.id);
      expect((await inbox('branch', 'problem')).items.map((i) => i.recordId)).toContain(pr.id);
      const done = await ok<{ state: string; steps: { action: string }[] }>(
        call(ctx.app, s.get('branch')!, 'POST', `/api/visit-problems/${pr.id}/resolve`, { note: '已批准月结' }),
      );
      expect(done.state).toBe('resolved');
      expect(done.steps.map((x) => x.action)).toEqual(['raise', 'escalate', 'resolve']);
      expect((await inbox('branch', 'problem')).items.map((i) => i.recordId)).not.toContain(pr.id);
    });

    it('the screen before a visit shows purchases, alerts and earlier records', async () => {
      const c = (
        await db().selectFrom('visit_record').select('customer_id').where('id', '=', recordId).executeTakeFirstOrThrow()
      ).customer_id;
      await sales(Number(c), '2026-11', 300);
      const o = await ok<{ months: { month: string; volumeL: number }[]; records: { id: number }[] }>(
        call(ctx.app, s.get('rep2')!, 'GET', `/api/visits/customers/${c}/overview`),
      );
      expect(o.months).toContainEqual(expect.objectContaining({ month: '2026-11', volumeL: 300 }));
      expect(o.records.map((r) => r.id)).toContain(recordId);
    });
  });

  describe('weekly summary', () => {
    it('matches a direct count of the rows, and the Monday job keeps it', async () => {
      // Some records in the week of 14 December by rep, and an overdue follow-up.
      const cs = await db()
        .selectFrom('customer')
        .select('id')
        .where('owner_user_id', '=', u.get('rep')!)
        .limit(3)
        .execute();
      ctx.now.value = new Date('2026-12-17T03:00:00Z');
      for (const c of cs)
        await ok(
          call(ctx.app, s.get('rep')!, 'POST', '/api/visit-records', {
            customerId: Number(c.id),
            assessment: {},
            followUps: [{ action: '回访', dueDay: '2026-12-18' }],
          }),
          201,
        );
      ctx.now.value = new Date('2026-12-21T00:00:00Z'); // Monday 08:00 in Beijing
      const out = await runJob(
        ctx.db.kysely,
        visitWeeklySummaryJob,
        visitWeeklySummaryJob.periodOf(ctx.now.value, 'Asia/Shanghai'),
        { now: ctx.now.value },
      );
      expect(out.status).toBe('done');
      const sum = await ok<{
        stored: boolean;
        weekStart: string;
        totals: { planned: number; done: number; recorded: number; problems: number; followUpsOverdue: number };
        people: { id: number; planned: number; recorded: number }[];
      }>(call(ctx.app, s.get('branch')!, 'GET', `/api/visit-summaries?orgUnitId=${tree.branch1}&weekStart=2026-12-14`));
      expect(sum.stored).toBe(true);
      const ws = '2026-12-14';
      const we = '2026-12-20';
      const k = db();
      const branchPath = (
        await k.selectFrom('org_unit').select('path').where('id', '=', tree.branch1).executeTakeFirstOrThrow()
      ).path;
      const under = (await k.selectFrom('org_unit').select('id').where('path', 'like', `${branchPath}%`).execute()).map(
        (x) => Number(x.id),
      );
      const count = async (q: Promise<{ n: unknown } | undefined>) => Number((await q)?.n ?? 0);
      const planned = await count(
        k
          .selectFrom('planned_visit as pv')
          .innerJoin('visit_plan as vp', 'vp.id', 'pv.plan_id')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('pv.org_unit_id', 'in', under)
          .where('pv.planned_day', '>=', ws)
          .where('pv.planned_day', '<=', we)
          .where('pv.state', '!=', 'cancelled')
          .where('vp.state', '=', 'approved')
          .executeTakeFirst(),
      );
      const done = await count(
        k
          .selectFrom('planned_visit as pv')
          .innerJoin('visit_plan as vp', 'vp.id', 'pv.plan_id')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('pv.org_unit_id', 'in', under)
          .where('pv.planned_day', '>=', ws)
          .where('pv.planned_day', '<=', we)
          .where('pv.state', '=', 'done')
          .where('vp.state', '=', 'approved')
          .executeTakeFirst(),
      );
      const recorded = await count(
        k
          .selectFrom('visit_record')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('org_unit_id', 'in', under)
          .where('visited_day', '>=', ws)
          .where('visited_day', '<=', we)
          .executeTakeFirst(),
      );
      const problems = await count(
        k
          .selectFrom('visit_problem')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('origin_unit_id', 'in', under)
          .where('raised_day', '>=', ws)
          .where('raised_day', '<=', we)
          .executeTakeFirst(),
      );
      const overdue = await count(
        k
          .selectFrom('visit_follow_up')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('org_unit_id', 'in', under)
          .where('due_at', '<', '2026-12-21T00:00:00.000Z')
          .where((eb) => eb.or([eb('state', '=', 'open'), eb('done_at', '>', '2026-12-21T00:00:00.000Z')]))
          .executeTakeFirst(),
      );
      expect(sum.totals).toEqual({ planned, done, recorded, problems, followUpsOverdue: overdue });
      expect(planned).toBeGreaterThan(0);
      expect(recorded).toBe(4);
      expect(problems).toBe(1);
      expect(overdue).toBe(4);
      expect(sum.people.find((p) => p.id === u.get('rep'))?.recorded).toBe(3);
      const x = await call(
        ctx.app,
        s.get('branch')!,
        'GET',
        `/api/visit-summaries/xlsx?orgUnitId=${tree.branch1}&weekStart=2026-12-14`,
      );
      expect(x.statusCode).toBe(200);
      expect(x.rawPayload.subarray(0, 2).toString()).toBe('PK');
      const ExcelJS = (await import('exceljs')).default;
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(x.rawPayload as never);
      expect(wb.getWorksheet('按人员')!.getRow(1).values).toEqual([
        undefined,
        '人员',
        '单位',
        '计划拜访',
        '已完成',
        '拜访记录',
        '上报问题',
        '逾期跟进',
      ]);
      const notMonday = await call(
        ctx.app,
        s.get('branch')!,
        'GET',
        `/api/visit-summaries?orgUnitId=${tree.branch1}&weekStart=2026-12-15`,
      );
      expect(notMonday.json().error.field).toBe('querystring.weekStart');
      const foreign = await call(ctx.app, s.get('other')!, 'GET', `/api/visit-summaries?orgUnitId=${tree.branch1}`);
      expect(foreign.json().error.code).toBe('SCOPE_DENIED');
      const rep = await call(ctx.app, s.get('rep')!, 'POST', '/api/visit-summaries/generate', {});
      expect(rep.json().error.code).toBe('PERMISSION_DENIED');
    });
  });
});
