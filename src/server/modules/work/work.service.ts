// The reader side of the work inbox (我的待办): one person's open work by due time, and the counts
// the menu and the home page show. Reads `work_item` only.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Principal } from '../../auth/principal.js';
import { likeEscape } from '../../db/dialect.js';
import type { WorkKind } from './work-items.js';

export interface WorkItemView {
  id: number;
  kind: WorkKind;
  recordId: number;
  customerId: number | null;
  subject: string;
  orgUnitId: number;
  orgUnitName: string;
  dueAt: string;
  overdue: boolean;
  /** Mine by name, or a queue item open to everyone holding its permission in my subtree. */
  queue: boolean;
  state: string;
  doneAt: string | null;
}

export interface InboxFilter {
  state?: 'open' | 'done';
  kind?: WorkKind;
  page: number;
  pageSize: number;
}

export class WorkService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * My work as two index-friendly parts, never one OR: the items with my name on them (index on
   * assignee, state, due), and the queue items for a permission or role I hold over a unit in my
   * subtree (index on permission, state, path) that I have not already done my part of.
   */
  private parts(p: Principal, state: 'open' | 'done', kind: WorkKind | undefined) {
    // A queue item names a permission or a role ("role:branch_dept_head").
    const claims = [...p.permissions, ...p.roleCodes.map((r) => `role:${r}`)];
    const prefix = `${likeEscape(p.orgPath)}%`;
    const states = state === 'open' ? ['open'] : ['done', 'cancelled'];
    const base = () => {
      let q = this.db.selectFrom('work_item as w').where('w.state', 'in', states);
      if (kind) q = q.where('w.kind', '=', kind);
      return q;
    };
    const named = base().where('w.assignee_user_id', '=', p.userId);
    const queued = base()
      .where('w.assignee_user_id', 'is', null)
      .where('w.permission', 'in', claims.length ? claims : ['-'])
      .where(sql<boolean>`w.org_path like ${prefix} escape '\\'`)
      .where((eb) =>
        eb.or([eb('w.excluded_user_ids', 'is', null), eb('w.excluded_user_ids', 'not like', `%,${p.userId},%`)]),
      );
    return [named, queued] as const;
  }

  async inbox(p: Principal, f: InboxFilter): Promise<{ total: number; items: WorkItemView[] }> {
    const state = f.state ?? 'open';
    const order = state === 'open' ? 'w.due_at' : 'w.done_at';
    const dir = state === 'open' ? 'asc' : 'desc';
    const upTo = f.page * f.pageSize;
    const parts = this.parts(p, state, f.kind);
    const [totals, pages] = await Promise.all([
      Promise.all(parts.map((q) => q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow())),
      Promise.all(
        parts.map((q) =>
          q
            .innerJoin('org_unit as u', 'u.id', 'w.org_unit_id')
            .select([
              'w.id',
              'w.kind',
              'w.record_id',
              'w.customer_id',
              'w.subject',
              'w.org_unit_id',
              'u.name as unit_name',
              'w.due_at',
              'w.assignee_user_id',
              'w.state',
              'w.done_at',
            ])
            .orderBy(order, dir)
            .orderBy('w.id')
            .limit(upTo)
            .execute(),
        ),
      ),
    ]);
    // The two parts merged in the same order, then the page cut out of them.
    const [named, queued] = pages as [(typeof pages)[0], (typeof pages)[0]];
    const sign = state === 'open' ? 1 : -1;
    const key = (r: (typeof named)[number]) => (state === 'open' ? r.due_at : (r.done_at ?? ''));
    const rows = [...named, ...queued]
      .sort((a, b) => (key(a) === key(b) ? Number(a.id) - Number(b.id) : key(a) < key(b) ? -sign : sign))
      .slice((f.page - 1) * f.pageSize, upTo);
    const now = this.now().toISOString();
    return {
      total: totals.reduce((sum, t) => sum + Number(t.n), 0),
      items: rows.map((r) => ({
        id: Number(r.id),
        kind: r.kind as WorkKind,
        recordId: Number(r.record_id),
        customerId: r.customer_id === null ? null : Number(r.customer_id),
        subject: r.subject,
        orgUnitId: Number(r.org_unit_id),
        orgUnitName: r.unit_name,
        dueAt: r.due_at,
        overdue: r.state === 'open' && r.due_at < now,
        queue: r.assignee_user_id === null,
        state: r.state,
        doneAt: r.done_at,
      })),
    };
  }

  /** Open items by kind, how many are past due and how many fall due today or earlier. */
  async counts(
    p: Principal,
  ): Promise<{ total: number; overdue: number; dueToday: number; byKind: Record<string, number> }> {
    const now = this.now();
    const endOfDay = new Date(now.getTime() + 86_400_000).toISOString();
    const parts = this.parts(p, 'open', undefined);
    const rows = (
      await Promise.all(
        parts.map((q) =>
          q
            .select((eb) => [
              'w.kind',
              eb.fn.countAll<number>().as('n'),
              eb.fn.sum<number>(sql`case when w.due_at < ${now.toISOString()} then 1 else 0 end`).as('overdue'),
              eb.fn.sum<number>(sql`case when w.due_at < ${endOfDay} then 1 else 0 end`).as('due'),
            ])
            .groupBy('w.kind')
            .execute(),
        ),
      )
    ).flat();
    const byKind: Record<string, number> = {};
    let total = 0;
    let overdue = 0;
    let dueToday = 0;
    for (const r of rows) {
      byKind[r.kind] = (byKind[r.kind] ?? 0) + Number(r.n);
      total += Number(r.n);
      overdue += Number(r.overdue ?? 0);
      dueToday += Number(r.due ?? 0);
    }
    return { total, overdue, dueToday, byKind };
  }
}
