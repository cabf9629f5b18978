// Complaint figures on both engines: cases taken through the API on a controlled clock (on time and
// late, reassigned, merged, reopened by an unsatisfied callback, rectified with evidence, repeats by
// phone), then every figure of every level (HQ, branch, area, station), month, child unit, category
// and channel compared with a count written here in plain SQL, independent of the service; the XLSX
// with its Chinese headers; the exit surveys beside the complaints of the same stations and months;
// a station manager refused another station's figures and a user without complaint rights refused all;
// the customer page's complaints (card and timeline) holding only the cases the reader may read.
import { beforeAll, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import sharp from 'sharp';
import { sql } from 'kysely';
import { describeEngines } from '../helpers/engines.js';
import { call, ok, setupAdmin, login, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';

const FIGURES = [
  'taken',
  'open',
  'overdue',
  'responseDue',
  'respondedInTime',
  'closed',
  'rated',
  'satisfied',
  'stagesFinished',
  'stagesInTime',
  'repeats',
  'reachedRectify',
  'rectified',
] as const;
type Counts = Record<(typeof FIGURES)[number], number>;
type Figures = Counts & { responseRate: number | null; satisfactionRate: number | null; slaRate: number | null };

interface Stats extends Figures {
  month: string;
  trend: (Figures & { month: string })[];
  children: (Figures & { id: number })[];
  byCategory: (Figures & { code: string })[];
  byChannel: (Figures & { channel: string })[];
}

// Months on the company's calendar (Asia/Shanghai, UTC+8), written out by hand.
const MONTHS = {
  '2026-11': { from: '2026-10-31T16:00:00.000Z', to: '2026-11-30T16:00:00.000Z' },
  '2026-12': { from: '2026-11-30T16:00:00.000Z', to: '2026-12-31T16:00:00.000Z' },
} as const;
const READ_AT = new Date('2026-12-20T02:00:00.000Z');
const STAGE_ACTIONS = ['take', 'verify', 'review', 'rectify', 'callback', 'archive', 'return', 'reassign'];

describeEngines('complaint figures', (engine) => {
  // The clock walks over two months: sessions must outlive it.
  const ctx = useTestApp(engine, { sessionIdleMinutes: 200_000, sessionAbsoluteHours: 5_000 });
  let admin: Session;
  let tree: Tree;
  const s = new Map<string, Session>();
  let jpeg: Buffer;
  let plateNo = 0;

  const as = (who: string) => (who === 'admin' ? admin : s.get(who)!);
  const at = (iso: string) => (ctx.now.value = new Date(iso));
  const take = async (when: string, body: Record<string, unknown>, who = 'zhanzhang') => {
    at(when);
    return (
      await ok<{ id: number }>(
        call(ctx.app, as(who), 'POST', '/api/complaints', {
          channel: 'station',
          categoryCode: 'station_service',
          severityCode: 'general',
          orgUnitId: tree.station1,
          content: '加油员态度不好',
          complainantName: '赵先生',
          ...body,
        }),
        201,
      )
    ).id;
  };
  const step = async (when: string, who: string, id: number, body: Record<string, unknown>) => {
    at(when);
    await ok(call(ctx.app, as(who), 'POST', `/api/complaints/${id}/steps`, { note: '已办理', ...body }));
  };
  const evidence = async (when: string, who: string, id: number) => {
    at(when);
    const res = await ctx.app.inject({
      method: 'POST',
      url: `/api/complaints/${id}/attachments?fileName=photo.jpg`,
      headers: { cookie: as(who).cookie, 'x-csrf-token': as(who).csrf, 'content-type': 'application/octet-stream' },
      payload: jpeg,
    });
    expect(res.statusCode, res.body).toBe(201);
  };
  const customer = async (unit: number, phone: string) => {
    const plate = `冀A${String(30000 + ++plateNo)}`;
    return (
      await ok<{ id: number }>(
        call(ctx.app, admin, 'POST', '/api/customers', {
          kind: 'individual',
          orgUnitId: unit,
          name: `流失客户${plateNo}`,
          vehicles: [{ plate }],
          phones: [{ phone }],
        }),
        201,
      )
    ).id;
  };
  const get = <T>(who: string, url: string) => {
    ctx.now.value = READ_AT;
    return ok<T>(call(ctx.app, as(who), 'GET', url));
  };

  // ── The counts, in plain SQL ────────────────────────────────────────────────────────────────
  const plusHours = (instant: string, hours: string) =>
    engine === 'postgres'
      ? `(${instant} + ${hours} * interval '1 hour')`
      : `strftime('%Y-%m-%dT%H:%M:%fZ', ${instant}, '+' || (${hours}) || ' hours')`;
  const minusDays = (instant: string, days: number) =>
    engine === 'postgres'
      ? `(${instant} - interval '${days} days')`
      : `strftime('%Y-%m-%dT%H:%M:%fZ', ${instant}, '-${days} days')`;
  const rating = (detail: string) =>
    engine === 'postgres' ? `((${detail})::json->>'rating')::int` : `json_extract(${detail}, '$.rating')`;
  const stageList = "('verify','review','rectify','callback','archive')";
  const actionList = `(${STAGE_ACTIONS.map((a) => `'${a}'`).join(',')})`;

  async function sqlCounts(path: string, month: keyof typeof MONTHS, extra = ''): Promise<Counts> {
    const { from, to } = MONTHS[month];
    const now = `'${READ_AT.toISOString()}'`;
    const ts = (v: string) => (engine === 'postgres' ? `${v}::timestamptz` : v);
    // The first verification of each case, and when its clock started (intake, or the last reassignment before it).
    const firstVerify = `(select min(v.id) from complaint_event v where v.complaint_id = k.id and v.action = 'verify' and v.from_state = 'verify')`;
    const spanStart = (e: string) =>
      `(select max(s.at) from complaint_event s where s.complaint_id = ${e}.complaint_id and s.id < ${e}.id
        and s.to_state = ${e}.from_state and s.action in ${actionList})`;
    const text = `
      with c as (
        select k.* , sev.stage_hours from complaint k
        join org_unit o on o.id = k.org_unit_id
        join complaint_severity sev on sev.code = k.severity_code
        where o.path like '${path}%' and k.taken_at >= ${ts(`'${from}'`)} and k.taken_at < ${ts(`'${to}'`)}
          and k.state <> 'merged' ${extra}
      )
      select
        (select count(*) from c) as taken,
        (select count(*) from c where c.state in ${stageList}) as open,
        (select count(*) from c where c.state in ${stageList} and c.stage_due_at < ${ts(now)}) as overdue,
        (select count(*) from c k where ${firstVerify} is not null
           or (k.state = 'verify' and k.level_up = 0 and k.stage_due_at < ${ts(now)})) as response_due,
        (select count(*) from c k join complaint_event v on v.id = ${firstVerify}
           where v.at <= ${plusHours(spanStart('v'), 'k.stage_hours')}) as responded_in_time,
        (select count(*) from c where c.state = 'closed') as closed,
        (select count(*) from c join complaint_event e on e.complaint_id = c.id
           where e.action = 'callback' and e.from_state = 'callback') as rated,
        (select count(*) from c join complaint_event e on e.complaint_id = c.id
           where e.action = 'callback' and e.from_state = 'callback' and ${rating('e.detail')} >= 4) as satisfied,
        (select count(*) from c join complaint_event e on e.complaint_id = c.id
           where e.action in ${stageList} and e.from_state = e.action) as stages_finished,
        (select count(*) from c join complaint_event e on e.complaint_id = c.id
           where e.action in ${stageList} and e.from_state = e.action
             and e.at <= ${plusHours(spanStart('e'), 'c.stage_hours')}) as stages_in_time,
        (select count(*) from c where exists (
           select 1 from complaint r where r.state <> 'merged' and r.id <> c.id
             and (r.customer_id = c.customer_id or r.complainant_phone = c.complainant_phone)
             and r.taken_at >= ${minusDays('c.taken_at', 90)}
             and (r.taken_at < c.taken_at or (r.taken_at = c.taken_at and r.id < c.id)))) as repeats,
        (select count(*) from c where exists (select 1 from complaint_event e where e.complaint_id = c.id
           and e.to_state = 'rectify' and e.action in ${actionList})) as reached_rectify,
        (select count(*) from c where exists (select 1 from complaint_event e where e.complaint_id = c.id
           and e.action = 'rectify' and e.from_state = 'rectify')
           and exists (select 1 from complaint_attachment a where a.complaint_id = c.id and a.stage = 'rectify')) as rectified`;
    const { rows } = await sql.raw<Record<string, unknown>>(text).execute(ctx.db.kysely);
    const r = rows[0]!;
    return {
      taken: Number(r.taken),
      open: Number(r.open),
      overdue: Number(r.overdue),
      responseDue: Number(r.response_due),
      respondedInTime: Number(r.responded_in_time),
      closed: Number(r.closed),
      rated: Number(r.rated),
      satisfied: Number(r.satisfied),
      stagesFinished: Number(r.stages_finished),
      stagesInTime: Number(r.stages_in_time),
      repeats: Number(r.repeats),
      reachedRectify: Number(r.reached_rectify),
      rectified: Number(r.rectified),
    };
  }
  const pathOf = async (id: number) =>
    (await ctx.db.kysely.selectFrom('org_unit').select('path').where('id', '=', id).executeTakeFirstOrThrow()).path;
  const countsOf = (f: Figures): Counts => Object.fromEntries(FIGURES.map((k) => [k, f[k]])) as Counts;

  beforeAll(async () => {
    at('2026-10-01T00:00:00Z');
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    const people: [string, number, string[]][] = [
      ['zhanzhang', tree.station1, ['station_manager']],
      ['zhanzhang2', tree.station2, ['station_manager']],
      ['zhanzhang3', tree.station3, ['station_manager']],
      ['pianqu', tree.area1, ['area_customer_manager']],
      ['kefu', tree.area1, ['cs_agent']],
      ['fengongsi', tree.branch1, ['branch_customer_admin']],
      ['yingxiao', tree.hq, ['hq_marketing']],
    ];
    for (const [name, unit, roles] of people) await createUser(ctx.app, admin, name, unit, roles);
    // Dashboards without complaint rights.
    await ok(
      call(ctx.app, admin, 'POST', '/api/roles', {
        code: 'stats_no_complaints',
        nameZh: '只看看板',
        nameEn: 'Dashboards only',
        permissions: ['org.read', 'dashboard.read', 'customer.read'],
      }),
      201,
    );
    await createUser(ctx.app, admin, 'kanban', tree.branch1, ['stats_no_complaints']);
    for (const [name] of [...people, ['kanban']]) s.set(name, await login(ctx.app, name, USER_PASSWORD));
    jpeg = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#39c' } })
      .jpeg()
      .toBuffer();

    // November. A: every stage on time, rated 5, closed.
    const a = await take('2026-11-03T02:00:00Z', { complainantPhone: '13800000001' });
    await step('2026-11-03T04:00:00Z', 'zhanzhang', a, { action: 'verify' });
    await step('2026-11-04T04:00:00Z', 'pianqu', a, { action: 'review' });
    await evidence('2026-11-05T01:00:00Z', 'zhanzhang', a);
    await step('2026-11-05T04:00:00Z', 'zhanzhang', a, { action: 'rectify' });
    await step('2026-11-06T04:00:00Z', 'kefu', a, { action: 'callback', rating: 5 });
    await step('2026-11-07T04:00:00Z', 'fengongsi', a, { action: 'archive' });
    // B: verified late (80 h of 72), review on time, rectified, the customer unhappy: reopened one level up.
    const b = await take('2026-11-10T02:00:00Z', { categoryCode: 'finance', channel: 'hotline_400' });
    await step('2026-11-13T10:00:00Z', 'zhanzhang', b, { action: 'verify' });
    await step('2026-11-14T10:00:00Z', 'pianqu', b, { action: 'review' });
    await evidence('2026-11-15T01:00:00Z', 'zhanzhang', b);
    await step('2026-11-20T10:00:00Z', 'zhanzhang', b, { action: 'rectify' });
    await step('2026-11-21T10:00:00Z', 'kefu', b, { action: 'callback', rating: 2 });
    // I (station 2): reached rectification and stays there; review returned once and taken again.
    const i = await take(
      '2026-11-20T02:00:00Z',
      { orgUnitId: tree.station2, categoryCode: 'quantity_quality' },
      'zhanzhang2',
    );
    await step('2026-11-20T05:00:00Z', 'zhanzhang2', i, { action: 'verify' });
    await step('2026-11-21T05:00:00Z', 'pianqu', i, { action: 'return', reason: '核实不充分' });
    await step('2026-11-21T09:00:00Z', 'zhanzhang2', i, { action: 'verify' });
    await step('2026-11-28T09:00:00Z', 'pianqu', i, { action: 'review' });

    // December. C: the phone 13800000001 complained in November (A): a repeat; verified on time, at review.
    const c = await take('2026-12-01T02:00:00Z', { complainantPhone: '13800000001', channel: 'wechat' });
    await step('2026-12-01T03:00:00Z', 'zhanzhang', c, { action: 'verify' });
    // D: the same phone again; never verified and past due when read.
    await take('2026-12-02T02:00:00Z', { complainantPhone: '13800000001' });
    // H: a duplicate merged into C (left out of every figure).
    const h = await take('2026-12-04T02:00:00Z', { complainantPhone: '13800000009' });
    at('2026-12-04T03:00:00Z');
    await ok(call(ctx.app, as('zhanzhang'), 'POST', `/api/complaints/${c}/links`, { otherId: h, mode: 'merge' }));
    // F: handed to station 2 after 70 h; its clock restarts there, verified 10 h later (in time).
    const f = await take('2026-12-03T02:00:00Z', { categoryCode: 'finance' });
    await step('2026-12-06T00:00:00Z', 'zhanzhang', f, {
      action: 'reassign',
      reason: '属邻站',
      orgUnitId: tree.station2,
    });
    await step('2026-12-06T10:00:00Z', 'zhanzhang2', f, { action: 'verify' });
    // G (branch 2): critical, verified 3 h after intake (2 h allowed): late.
    const g = await take('2026-12-05T02:00:00Z', { orgUnitId: tree.station3, severityCode: 'critical' }, 'zhanzhang3');
    at('2026-12-05T05:00:00Z');
    await ok(call(ctx.app, as('zhanzhang3'), 'POST', `/api/complaints/${g}/steps`, { action: 'verify', note: '属实' }));
    // E: taken just before the reading, inside its first deadline: not yet in the response base.
    await take('2026-12-19T23:00:00Z', { categoryCode: 'store_food' });

    // Exit surveys of lost customers at station 1 (price, twice) and station 3 (service).
    const lost = async (unit: number, phone: string, month: string, reason: string) => {
      const customerId = await customer(unit, phone);
      const atIso = `${month}-10T02:00:00.000Z`;
      const { id } = await ctx.db.kysely
        .insertInto('churn_case')
        .values({
          customer_id: customerId,
          org_unit_id: unit,
          category: 'non_natural',
          loss_kind_code: 'all',
          state: 'lost',
          note: '转去别家',
          opened_at: atIso,
          lost_at: atIso,
          lost_day: `${month}-10`,
          lost_month: month,
          updated_at: atIso,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await ctx.db.kysely
        .insertInto('exit_survey')
        .values({
          case_id: id,
          customer_id: customerId,
          reason_code: reason,
          recorded_at: atIso,
          updated_at: atIso,
        })
        .execute();
    };
    await lost(tree.station1, '13900000001', '2026-12', 'price');
    await lost(tree.station1, '13900000002', '2026-12', 'price');
    await lost(tree.station1, '13900000003', '2026-11', 'service');
    await lost(tree.station3, '13900000004', '2026-12', 'service');
  }, 120_000);

  it('answers every level, month and child with the counts of a plain SQL count', async () => {
    const levels: [string, number][] = [
      ['yingxiao', tree.hq],
      ['fengongsi', tree.branch1],
      ['pianqu', tree.area1],
      ['zhanzhang', tree.station1],
    ];
    for (const [who, unit] of levels) {
      const d = await get<Stats>(who, `/api/complaint-stats/${unit}?month=2026-12&months=2`);
      expect(d.trend.map((t) => t.month)).toEqual(['2026-11', '2026-12']);
      const path = await pathOf(unit);
      expect(countsOf(d), `unit ${unit} 2026-12`).toEqual(await sqlCounts(path, '2026-12'));
      expect(countsOf(d.trend[0]!), `unit ${unit} 2026-11`).toEqual(await sqlCounts(path, '2026-11'));
      for (const c of d.children)
        expect(countsOf(c), `child ${c.id} of ${unit}`).toEqual(await sqlCounts(await pathOf(c.id), '2026-12'));
      for (const c of d.byCategory)
        expect(countsOf(c), `category ${c.code}`).toEqual(
          await sqlCounts(path, '2026-12', `and k.category_code = '${c.code}'`),
        );
      for (const c of d.byChannel)
        expect(countsOf(c), `channel ${c.channel}`).toEqual(
          await sqlCounts(path, '2026-12', `and k.channel = '${c.channel}'`),
        );
    }
  });

  it('gives the figures the seeded cases were built to give', async () => {
    const hq = await get<Stats>('yingxiao', `/api/complaint-stats/${tree.hq}?month=2026-12&months=2`);
    const nov = hq.trend[0]!;
    // November: A, B, I taken; B verified late; A and I's first verification on time.
    expect([nov.taken, nov.responseDue, nov.respondedInTime, nov.closed]).toEqual([3, 3, 2, 1]);
    expect([nov.rated, nov.satisfied, nov.satisfactionRate]).toEqual([2, 1, 0.5]);
    expect([nov.reachedRectify, nov.rectified]).toEqual([3, 2]);
    // December: C, D, F, G, E (H merged away); D unverified past due, E not yet due; G late; C and D repeats;
    // all but E past their current stage's due time.
    expect([hq.taken, hq.responseDue, hq.respondedInTime, hq.repeats, hq.overdue]).toEqual([5, 4, 2, 2, 4]);
    expect(hq.responseRate).toBe(0.5);
    // The branch-2 station is an HQ child of branch 2; drill-down from HQ lists the two branches.
    expect(hq.children.map((c) => [c.id, c.taken])).toEqual([
      [tree.branch1, 4],
      [tree.branch2, 1],
    ]);
    const area = await get<Stats>('pianqu', `/api/complaint-stats/${tree.area1}?month=2026-12&months=2`);
    expect(area.children.map((c) => [c.id, c.taken])).toEqual([
      [tree.station1, 3],
      [tree.station2, 1],
    ]);
    expect(area.byChannel.map((c) => [c.channel, c.taken])).toEqual([
      ['station', 3],
      ['wechat', 1],
    ]);
  });

  it('exports the figures as XLSX with Chinese headers, audited', async () => {
    ctx.now.value = READ_AT;
    const res = await call(ctx.app, as('fengongsi'), 'GET', `/api/complaint-stats/${tree.branch1}/xlsx?month=2026-12`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toContain('spreadsheetml');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
    const trend = wb.getWorksheet('月度趋势')!;
    expect(trend.getRow(1).values).toEqual(expect.arrayContaining(['月份', '受理件数', '响应率', '解决率', '满意率']));
    const dec = trend.getRow(13).values as unknown[];
    expect(dec[1]).toBe('2026-12');
    expect(dec[2]).toBe((await sqlCounts(await pathOf(tree.branch1), '2026-12')).taken);
    expect(wb.worksheets.map((w) => w.name)).toEqual([
      '月度趋势',
      '下级单位 2026-12',
      '按类别 2026-12',
      '按渠道 2026-12',
    ]);
    const audit = await ctx.db.kysely
      .selectFrom('audit_log')
      .select(['entity_id', 'org_unit_id'])
      .where('action', '=', 'complaint_stats_export')
      .execute();
    expect(audit).toEqual([{ entity_id: `${tree.branch1}#2026-12`, org_unit_id: tree.branch1 }]);
  });

  it('puts exit-survey reasons beside the complaint categories of the same stations and months', async () => {
    interface Exit {
      months: string[];
      trend: { month: string; lost: number; complaints: number; byReason: { code: string; count: number }[] }[];
      stations: {
        id: number;
        lost: number;
        complaints: number;
        byReason: { code: string; count: number }[];
        byCategory: { code: string; count: number }[];
        months: { month: string; lost: number; complaints: number }[];
      }[];
    }
    const d = await get<Exit>('fengongsi', `/api/exit-analysis/${tree.branch1}?month=2026-12&months=2`);
    expect(d.months).toEqual(['2026-11', '2026-12']);
    const branchPath = await pathOf(tree.branch1);
    const surveys = await sql
      .raw<{ org_unit_id: number; lost_month: string; reason_code: string; n: number }>(
        `
      select cc.org_unit_id, cc.lost_month, es.reason_code, count(*) as n from exit_survey es
      join churn_case cc on cc.id = es.case_id join org_unit o on o.id = cc.org_unit_id
      where o.path like '${branchPath}%' and cc.lost_month in ('2026-11', '2026-12')
      group by cc.org_unit_id, cc.lost_month, es.reason_code`,
      )
      .execute(ctx.db.kysely);
    const s1 = d.stations.find((x) => x.id === tree.station1)!;
    const mine = surveys.rows.filter((r) => Number(r.org_unit_id) === tree.station1);
    expect(s1.lost).toBe(mine.reduce((n, r) => n + Number(r.n), 0));
    expect(s1.byReason).toEqual([
      { code: 'price', count: Number(mine.find((r) => r.reason_code === 'price')!.n) },
      { code: 'service', count: Number(mine.find((r) => r.reason_code === 'service')!.n) },
    ]);
    for (const m of ['2026-11', '2026-12'] as const) {
      const cell = s1.months.find((x) => x.month === m)!;
      expect(cell.complaints, m).toBe((await sqlCounts(await pathOf(tree.station1), m)).taken);
      expect(cell.lost, m).toBe(mine.filter((r) => r.lost_month === m).reduce((n, r) => n + Number(r.n), 0));
    }
    const byCat = await sql
      .raw<{ category_code: string; n: number }>(
        `
      select k.category_code, count(*) as n from complaint k
      where k.org_unit_id = ${tree.station1} and k.state <> 'merged'
        and k.taken_at >= ${engine === 'postgres' ? `'${MONTHS['2026-11'].from}'::timestamptz` : `'${MONTHS['2026-11'].from}'`}
      group by k.category_code`,
      )
      .execute(ctx.db.kysely);
    expect(Object.fromEntries(s1.byCategory.map((c) => [c.code, c.count]))).toEqual(
      Object.fromEntries(byCat.rows.map((r) => [r.category_code, Number(r.n)])),
    );
    // Branch 2's station is not in branch 1's analysis.
    expect(d.stations.some((x) => x.id === tree.station3)).toBe(false);
    expect(d.trend.find((t) => t.month === '2026-12')!.lost).toBe(2);
  });

  it('lists on the customer’s page only the cases the reader may read', async () => {
    // One customer of station 1 complained there and (through HQ's hotline) about branch 2's station.
    const customerId = await customer(tree.station1, '13700000001');
    const here = await take('2026-12-10T02:00:00Z', { customerId });
    at('2026-12-10T03:00:00Z');
    const there = (
      await ok<{ id: number }>(
        call(ctx.app, as('yingxiao'), 'POST', '/api/complaints', {
          channel: 'hotline_400',
          categoryCode: 'station_service',
          severityCode: 'general',
          orgUnitId: tree.station3,
          content: '外地加油站服务差',
          customerId,
        }),
        201,
      )
    ).id;
    const list = (who: string) =>
      get<{ items: { id: number }[] }>(who, `/api/complaints?customerId=${customerId}&page=1&pageSize=20`);
    expect((await list('yingxiao')).items.map((x) => x.id)).toEqual([there, here]);
    expect((await list('zhanzhang')).items.map((x) => x.id)).toEqual([here]);
    expect((await list('zhanzhang3')).items.map((x) => x.id)).toEqual([there]);
  });

  it('refuses another unit’s figures and a user without complaint rights', async () => {
    ctx.now.value = READ_AT;
    for (const url of [
      `/api/complaint-stats/${tree.station2}`,
      `/api/complaint-stats/${tree.area1}`,
      `/api/complaint-stats/${tree.station2}/xlsx`,
      `/api/exit-analysis/${tree.station3}`,
    ]) {
      const res = await call(ctx.app, as('zhanzhang'), 'GET', url);
      expect(res.statusCode, url).toBe(403);
      expect(res.json().error.code, url).toBe('SCOPE_DENIED');
    }
    const other = await call(ctx.app, as('pianqu'), 'GET', `/api/complaint-stats/${tree.branch2}`);
    expect([other.statusCode, other.json().error.code]).toEqual([403, 'SCOPE_DENIED']);
    for (const url of [`/api/complaint-stats/${tree.branch1}`, `/api/complaint-stats/${tree.branch1}/xlsx`]) {
      const res = await call(ctx.app, as('kanban'), 'GET', url);
      expect(res.statusCode, url).toBe(403);
      expect(res.json().error.code, url).toBe('PERMISSION_DENIED');
    }
    // His own station's figures he does read, and they hold only his station's cases.
    const own = await get<Stats>('zhanzhang', `/api/complaint-stats/${tree.station1}?month=2026-12`);
    expect(own.taken).toBe((await sqlCounts(await pathOf(tree.station1), '2026-12')).taken);
  });
});
