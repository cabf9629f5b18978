// Complaint figures of a unit (HQ → branch → area → station) per month: the three rates 三率, SLA
// compliance, repeat complaints and rectification closure, per child unit for drill-down and by
// category and channel; their XLSX; and the exit surveys of lost customers beside the complaints of
// the same stations and months. The definitions are src/domain/complaint-stats.ts; this file reads
// the cases of the unit's subtree (the unit is checked against the reader's scope first, so the
// subtree is his), hands each case's trail to the domain, and adds the figures up.
import ExcelJS from 'exceljs';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { oneOf, prefixRange, type Engine } from '../../db/dialect.js';
import { readerOf } from '../../db/replica.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { pathInScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import { businessDay, zonedToUtc } from '../../../domain/business-day.js';
import { isWithin } from '../../../domain/org-path.js';
import { addMonths } from '../../../domain/kpi.js';
import {
  REPEAT_WINDOW_DAYS,
  addCase,
  caseFigures,
  emptyTally,
  figuresOf,
  type Figures,
  type StatsEvent,
  type Tally,
} from '../../../domain/complaint-stats.js';
import { COMPLAINT_CHANNELS } from '../../../domain/complaint-workflow.js';
import { recordAudit } from '../audit/audit.service.js';
import { dashboardsQueries, type UnitRow } from '../dashboards/dashboards.queries.js';

const DAY_MS = 86_400_000;
/** Case ids per statement when reading trails and evidence. */
const CHUNK = 5000;

export interface StatsQuery {
  month?: string;
  months?: number;
}

interface MonthRange {
  month: string;
  from: string;
  to: string;
}

interface CaseRow {
  id: number;
  orgUnitId: number;
  category: string;
  channel: string;
  state: string;
  stageDueAt: string | null;
  takenAt: string;
  customerId: number | null;
  phone: string | null;
  stageHours: number;
}

const unitOut = (u: UnitRow) => ({ id: u.id, name: u.name, code: u.code, kindCode: u.kindCode });

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

export class ComplaintStatsService {
  /** Where the figures are read: the read replica when DATABASE_READ_URL is set. */
  private readonly read: Kysely<Database>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.read = readerOf(db);
  }

  private async scopedUnit(p: Principal, id: number): Promise<UnitRow> {
    const unit = await dashboardsQueries.unit(this.db, id);
    if (!unit) throw new AppError('NOT_FOUND', `org unit ${id} not found`);
    if (!pathInScope(p, unit.path)) throw new AppError('SCOPE_DENIED', `org unit ${id} is outside your organisation`);
    return unit;
  }

  /** The company's time zone (the root unit's): case numbers and months are on its calendar. */
  private async companyZone(): Promise<string> {
    const root = await this.read
      .selectFrom('org_unit')
      .select('time_zone')
      .where('parent_id', 'is', null)
      .orderBy('id')
      .executeTakeFirst();
    return root?.time_zone ?? 'Asia/Shanghai';
  }

  private ranges(last: string, count: number, zone: string): MonthRange[] {
    const start = (m: string) =>
      new Date(zonedToUtc(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)) - 1, 1), zone)).toISOString();
    return Array.from({ length: count }, (_, i) => {
      const month = addMonths(last, i - count + 1);
      return { month, from: start(month), to: start(addMonths(month, 1)) };
    });
  }

  private async period(unit: UnitRow, q: StatsQuery, defaultMonths: number) {
    const zone = await this.companyZone();
    const month = q.month ?? businessDay(this.now().getTime(), zone).slice(0, 7);
    const ranges = this.ranges(month, q.months ?? defaultMonths, zone);
    const units = await dashboardsQueries.subtree(this.read, this.engine, undefined, unit.path);
    const children = units.filter((u) => u.parentId === unit.id);
    const childOf = new Map<number, number>();
    for (const u of units) {
      const child = children.find((c) => isWithin(u.path, c.path));
      if (child) childOf.set(u.id, child.id);
    }
    const monthOf = (at: string) => ranges.find((r) => at >= r.from && at < r.to)?.month ?? null;
    return { month, ranges, units, children, childOf, monthOf };
  }

  // ── Reading ─────────────────────────────────────────────────────────────────────────────────
  /** The cases of the subtree taken in [from, to), merged duplicates left out. */
  private async cases(unit: UnitRow, from: string, to: string): Promise<CaseRow[]> {
    const rows = await this.read
      .selectFrom('complaint as k')
      .innerJoin('org_unit as o', 'o.id', 'k.org_unit_id')
      .innerJoin('complaint_severity as sev', 'sev.code', 'k.severity_code')
      .select([
        'k.id',
        'k.org_unit_id',
        'k.category_code',
        'k.channel',
        'k.state',
        'k.stage_due_at',
        'k.taken_at',
        'k.customer_id',
        'k.complainant_phone',
        'sev.stage_hours',
      ])
      .where((eb) => prefixRange(this.engine, eb.ref('o.path'), unit.path))
      .where('k.taken_at', '>=', from)
      .where('k.taken_at', '<', to)
      .where('k.state', '!=', 'merged')
      .orderBy('k.id')
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      orgUnitId: Number(r.org_unit_id),
      category: r.category_code,
      channel: r.channel,
      state: r.state,
      stageDueAt: r.stage_due_at,
      takenAt: r.taken_at,
      customerId: r.customer_id === null ? null : Number(r.customer_id),
      phone: r.complainant_phone,
      stageHours: Number(r.stage_hours),
    }));
  }

  /** The trails of the cases `cases` read, in order; only the details the figures use are parsed. */
  private async trails(unit: UnitRow, from: string, to: string): Promise<Map<number, StatsEvent[]>> {
    const out = new Map<number, StatsEvent[]>();
    const rows = await this.read
      .selectFrom('complaint_event as e')
      .select((eb) => [
        'e.complaint_id',
        'e.action',
        'e.from_state',
        'e.to_state',
        'e.at',
        // A callback's rating and a recorded due time are all the figures read from a detail.
        eb
          .case()
          .when(eb.or([eb('e.action', '=', 'callback'), eb('e.detail', 'like', '%"dueAt"%')]))
          .then(eb.ref('e.detail'))
          .else(null)
          .end()
          .as('detail'),
      ])
      .where((eb) =>
        eb(
          'e.complaint_id',
          'in',
          eb
            .selectFrom('complaint as k')
            .innerJoin('org_unit as o', 'o.id', 'k.org_unit_id')
            .select('k.id')
            .where((w) => prefixRange(this.engine, w.ref('o.path'), unit.path))
            .where('k.taken_at', '>=', from)
            .where('k.taken_at', '<', to)
            .where('k.state', '!=', 'merged'),
        ),
      )
      .orderBy('e.complaint_id')
      .orderBy('e.id')
      .execute();
    const none: Record<string, unknown> = {};
    let last = -1;
    let list: StatsEvent[] = [];
    for (const r of rows) {
      const id = Number(r.complaint_id);
      if (id !== last) out.set(id, (list = []));
      last = id;
      list.push({
        action: r.action,
        fromState: r.from_state,
        toState: r.to_state,
        at: r.at,
        detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : none,
      });
    }
    return out;
  }

  private async rectifyEvidence(ids: number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const part of chunks(ids, CHUNK)) {
      const rows = await this.read
        .selectFrom('complaint_attachment')
        .select((eb) => ['complaint_id', eb.fn.countAll<number>().as('n')])
        .where('stage', '=', 'rectify')
        .where((eb) => oneOf(this.engine, eb.ref('complaint_id'), part))
        .groupBy('complaint_id')
        .execute();
      for (const r of rows) out.set(Number(r.complaint_id), Number(r.n));
    }
    return out;
  }

  /**
   * Cases whose customer or phone had another case (anywhere in the company, merged ones aside) in
   * the window before them. Only "was there one" is used, never what or where it was.
   */
  private async repeats(cases: CaseRow[], from: string, to: string): Promise<Set<number>> {
    const customers = [...new Set(cases.flatMap((c) => (c.customerId === null ? [] : [c.customerId])))];
    const phones = [...new Set(cases.flatMap((c) => (c.phone ? [c.phone] : [])))];
    if (customers.length === 0 && phones.length === 0) return new Set();
    const since = new Date(Date.parse(from) - REPEAT_WINDOW_DAYS * DAY_MS).toISOString();
    const earlier: { id: number; customerId: number | null; phone: string | null; takenAt: string }[] = [];
    const read = async (column: 'customer_id' | 'complainant_phone', values: (string | number)[]) => {
      for (const part of chunks(values, CHUNK)) {
        const rows = await this.read
          .selectFrom('complaint')
          .select(['id', 'customer_id', 'complainant_phone', 'taken_at'])
          .where((eb) => oneOf(this.engine, eb.ref(column), part))
          .where('taken_at', '>=', since)
          .where('taken_at', '<', to)
          .where('state', '!=', 'merged')
          .execute();
        for (const r of rows)
          earlier.push({
            id: Number(r.id),
            customerId: r.customer_id === null ? null : Number(r.customer_id),
            phone: r.complainant_phone,
            takenAt: r.taken_at,
          });
      }
    };
    await read('customer_id', customers);
    await read('complainant_phone', phones);
    const byKey = new Map<string, { id: number; takenAt: string }[]>();
    for (const e of earlier) {
      for (const key of [e.customerId === null ? null : `c${e.customerId}`, e.phone ? `p${e.phone}` : null]) {
        if (!key) continue;
        let list = byKey.get(key);
        if (!list) byKey.set(key, (list = []));
        list.push(e);
      }
    }
    const out = new Set<number>();
    for (const c of cases) {
      const windowStart = new Date(Date.parse(c.takenAt) - REPEAT_WINDOW_DAYS * DAY_MS).toISOString();
      const keys = [c.customerId === null ? null : `c${c.customerId}`, c.phone ? `p${c.phone}` : null];
      const before = (e: { id: number; takenAt: string }) =>
        e.id !== c.id &&
        e.takenAt >= windowStart &&
        (e.takenAt < c.takenAt || (e.takenAt === c.takenAt && e.id < c.id));
      if (keys.some((k) => k !== null && (byKey.get(k) ?? []).some(before))) out.add(c.id);
    }
    return out;
  }

  private async catalogNames() {
    const categories = await this.read
      .selectFrom('complaint_category')
      .select(['code', 'name_zh', 'name_en', 'sort'])
      .orderBy('sort')
      .execute();
    return categories.map((c) => ({ code: c.code, nameZh: c.name_zh, nameEn: c.name_en }));
  }

  // ── Complaint figures ───────────────────────────────────────────────────────────────────────
  /** The figures of a unit for `month` and the months before it, its children and breakdowns. */
  async stats(p: Principal, unitId: number, q: StatsQuery) {
    const unit = await this.scopedUnit(p, unitId);
    const { month, ranges, children, childOf, monthOf } = await this.period(unit, q, 12);
    const from = ranges[0]!.from;
    const to = ranges[ranges.length - 1]!.to;
    const cases = await this.cases(unit, from, to);
    const ids = cases.map((c) => c.id);
    const [trails, evidence, repeats, categories] = await Promise.all([
      this.trails(unit, from, to),
      this.rectifyEvidence(ids),
      this.repeats(cases, from, to),
      this.catalogNames(),
    ]);
    const now = this.now().toISOString();
    const tallies = new Map<string, Tally>();
    const tally = (key: string) => {
      let t = tallies.get(key);
      if (!t) tallies.set(key, (t = emptyTally()));
      return t;
    };
    for (const c of cases) {
      const m = monthOf(c.takenAt);
      if (!m) continue;
      const f = caseFigures(
        {
          state: c.state,
          events: trails.get(c.id) ?? [],
          stageHours: c.stageHours,
          stageDueAt: c.stageDueAt,
          repeat: repeats.has(c.id),
          rectifyEvidence: evidence.get(c.id) ?? 0,
        },
        now,
      );
      addCase(tally(`all|${m}`), f);
      const child = childOf.get(c.orgUnitId);
      if (child !== undefined) addCase(tally(`unit:${child}|${m}`), f);
      if (m === month) {
        addCase(tally(`category:${c.category}`), f);
        addCase(tally(`channel:${c.channel}`), f);
      }
    }
    const fig = (key: string): Figures => figuresOf(tallies.get(key) ?? emptyTally());
    const categoryCodes = new Set(cases.filter((c) => monthOf(c.takenAt) === month).map((c) => c.category));
    return {
      unit: unitOut(unit),
      month,
      ...fig(`all|${month}`),
      trend: ranges.map((r) => ({ month: r.month, ...fig(`all|${r.month}`) })),
      children: children.map((c) => ({ ...unitOut(c), ...fig(`unit:${c.id}|${month}`) })),
      byCategory: categories
        .filter((c) => categoryCodes.has(c.code))
        .map((c) => ({ ...c, ...fig(`category:${c.code}`) })),
      byChannel: COMPLAINT_CHANNELS.filter((ch) => tallies.has(`channel:${ch}`)).map((ch) => ({
        channel: ch,
        ...fig(`channel:${ch}`),
      })),
    };
  }

  /** The figures as an XLSX file with Chinese headers: the trend, the child units, categories, channels. */
  async xlsx(p: Principal, ip: string | null, unitId: number, q: StatsQuery) {
    const s = await this.stats(p, unitId, q);
    const wb = new ExcelJS.Workbook();
    wb.creator = 'Forecourt';
    const pct = (v: number | null) => (v === null ? null : Math.round(v * 10000) / 10000);
    const headers = [
      '受理件数',
      '未办结',
      '超期未办',
      '应响应',
      '按时响应',
      '响应率',
      '已办结',
      '解决率',
      '回访评价',
      '满意（4–5 分）',
      '满意率',
      '完成环节',
      '按时完成环节',
      '环节按时率',
      '重复投诉',
      '重复投诉率',
      '进入整改',
      '整改闭环（有证据）',
      '整改闭环率',
    ];
    const values = (f: Figures) => [
      f.taken,
      f.open,
      f.overdue,
      f.responseDue,
      f.respondedInTime,
      pct(f.responseRate),
      f.closed,
      pct(f.resolutionRate),
      f.rated,
      f.satisfied,
      pct(f.satisfactionRate),
      f.stagesFinished,
      f.stagesInTime,
      pct(f.slaRate),
      f.repeats,
      pct(f.repeatRate),
      f.reachedRectify,
      f.rectified,
      pct(f.rectificationRate),
    ];
    const RATE_COLUMNS = [6, 8, 11, 14, 16, 19];
    const sheet = (name: string, first: string, rows: [string, Figures][]) => {
      const ws = wb.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
      ws.addRow([first, ...headers]).font = { bold: true };
      for (const [label, f] of rows) ws.addRow([label, ...values(f)]);
      ws.columns.forEach((c, i) => (c.width = i === 0 ? 18 : 12));
      for (const col of RATE_COLUMNS) ws.getColumn(col + 1).numFmt = '0.0%';
    };
    sheet(
      '月度趋势',
      '月份',
      s.trend.map((t) => [t.month, t]),
    );
    sheet(
      `下级单位 ${s.month}`,
      '单位',
      s.children.map((c) => [c.name, c]),
    );
    sheet(
      `按类别 ${s.month}`,
      '投诉类别',
      s.byCategory.map((c) => [c.nameZh, c]),
    );
    sheet(
      `按渠道 ${s.month}`,
      '来源渠道',
      s.byChannel.map((c) => [CHANNEL_ZH[c.channel] ?? c.channel, c]),
    );
    const bytes = Buffer.from(await wb.xlsx.writeBuffer());
    await recordAudit(this.db, actorOf(p, ip), {
      action: 'complaint_stats_export',
      entity: 'complaint_stats',
      entityId: `${s.unit.id}#${s.month}`,
      orgUnitId: s.unit.id,
      after: { month: s.month, months: s.trend.length },
    });
    return { bytes, fileName: `complaint-stats-${s.unit.id}-${s.month}.xlsx` };
  }

  // ── Exit surveys beside complaints ──────────────────────────────────────────────────────────
  /**
   * Why lost customers left (their exit surveys, counted at the unit and in the month of the loss)
   * beside the complaints taken at the same units in the same months, per unit of the subtree that
   * has either, so a manager sees whether the units losing customers are the ones complained about.
   */
  async exitAnalysis(p: Principal, unitId: number, q: StatsQuery) {
    const unit = await this.scopedUnit(p, unitId);
    const { month, ranges, units, monthOf } = await this.period(unit, q, 6);
    const months = ranges.map((r) => r.month);
    const surveys = await this.read
      .selectFrom('exit_survey as es')
      .innerJoin('churn_case as cc', 'cc.id', 'es.case_id')
      .innerJoin('org_unit as o', 'o.id', 'cc.org_unit_id')
      .select((eb) => ['cc.org_unit_id', 'cc.lost_month', 'es.reason_code', eb.fn.countAll<number>().as('n')])
      .where((eb) => prefixRange(this.engine, eb.ref('o.path'), unit.path))
      .where('cc.lost_month', '>=', months[0]!)
      .where('cc.lost_month', '<=', month)
      .groupBy(['cc.org_unit_id', 'cc.lost_month', 'es.reason_code'])
      .execute();
    const cases = await this.cases(unit, ranges[0]!.from, ranges[ranges.length - 1]!.to);
    const reasons = (
      await this.read.selectFrom('churn_reason').select(['code', 'name_zh', 'name_en']).orderBy('sort').execute()
    ).map((r) => ({ code: r.code, nameZh: r.name_zh, nameEn: r.name_en }));
    const categories = await this.catalogNames();

    interface Cell {
      lost: number;
      complaints: number;
      byReason: Map<string, number>;
      byCategory: Map<string, number>;
    }
    const cells = new Map<string, Cell>();
    const cell = (key: string) => {
      let c = cells.get(key);
      if (!c) cells.set(key, (c = { lost: 0, complaints: 0, byReason: new Map(), byCategory: new Map() }));
      return c;
    };
    const bump = (m: Map<string, number>, k: string, n: number) => m.set(k, (m.get(k) ?? 0) + n);
    const withData = new Set<number>();
    for (const s of surveys) {
      const n = Number(s.n);
      const uid = Number(s.org_unit_id);
      withData.add(uid);
      for (const key of [`all|${s.lost_month}`, `u${uid}|${s.lost_month}`, `u${uid}|*`]) {
        const c = cell(key);
        c.lost += n;
        bump(c.byReason, s.reason_code, n);
      }
    }
    for (const k of cases) {
      const m = monthOf(k.takenAt);
      if (!m) continue;
      withData.add(k.orgUnitId);
      for (const key of [`all|${m}`, `u${k.orgUnitId}|${m}`, `u${k.orgUnitId}|*`]) {
        const c = cell(key);
        c.complaints++;
        bump(c.byCategory, k.category, 1);
      }
    }
    const counts = (m: Map<string, number>) =>
      [...m.entries()].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count);
    const out = (key: string) => {
      const c = cells.get(key);
      return {
        lost: c?.lost ?? 0,
        complaints: c?.complaints ?? 0,
        byReason: c ? counts(c.byReason) : [],
        byCategory: c ? counts(c.byCategory) : [],
      };
    };
    const stations = units
      .filter((u) => withData.has(u.id))
      .map((u) => ({
        ...unitOut(u),
        ...out(`u${u.id}|*`),
        months: months.map((m) => {
          const c = out(`u${u.id}|${m}`);
          return { month: m, lost: c.lost, complaints: c.complaints };
        }),
      }))
      .sort((a, b) => b.lost - a.lost || b.complaints - a.complaints || a.id - b.id);
    return {
      unit: unitOut(unit),
      month,
      months,
      reasons,
      categories,
      trend: months.map((m) => ({ month: m, ...out(`all|${m}`) })),
      stations,
    };
  }
}

/** Channel names in the export (the UI has them in its catalogs; the file is in Chinese). */
const CHANNEL_ZH: Record<string, string> = {
  station: '站内',
  hotline_400: '400 热线',
  suggestion_box: '意见箱',
  wechat: '微信',
  social_supervisor: '社会监督员',
  regulator: '监管部门',
  media: '媒体',
};
