// Satisfaction surveys and revisit plans (DOMAIN.md "Satisfaction"): a survey samples the eligible
// customers of a unit (in scope, with a phone, not in cool-down under the contact rule, not waiting in
// another open survey) at random with a seed, stratified per station, and puts a call for each into the
// callers' inbox; outcomes are recorded per customer (answered with the answers, refused, unreachable);
// results are per station (average, CSAT, NPS, CES, response rate). Revisit plans per customer or
// station come due in the owner's inbox; a low score proposes one. Rules: src/domain/satisfaction.ts.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { actorOf, can, type Principal } from '../../auth/principal.js';
import { inScope, pathInScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import { maskPhone } from '../../../domain/phone.js';
import {
  answerProblem,
  average,
  contactDecision,
  contactLookback,
  csatPercent,
  isLowScore,
  npsOf,
  stratifiedSample,
  type SatisfactionPolicy,
  type TargetState,
} from '../../../domain/satisfaction.js';
import { recordAudit } from '../audit/audit.service.js';
import { closeWorkItem, closeWorkItems, openWorkItems, type WorkItemInput } from '../work/work-items.js';
import {
  contactStatus,
  contactsOf,
  currentSatisfactionPolicy,
  openRevisitWork,
  proposeRevisit,
  recordContact,
  type Tx,
} from './ledger.js';

export interface SurveyBody {
  name: string;
  orgUnitId: number;
  /** Survey exactly these customers (still subject to scope, phone and the contact rule). */
  customerIds?: number[];
  sampleSize?: number;
  sampleRatio?: number;
  seed?: number;
  askCsat?: boolean;
  askNps?: boolean;
  askCes?: boolean;
  askText?: boolean;
  dueAt: string;
}

export interface OutcomeBody {
  outcome: 'answered' | 'refused' | 'unreachable';
  rating?: number;
  csat?: number;
  nps?: number;
  ces?: number;
  comment?: string;
}

export interface RevisitBody {
  customerId?: number;
  orgUnitId?: number;
  plannedFor: string;
  ownerUserId?: number;
  purpose: string;
}

const n = (v: number | string | null) => (v === null ? null : Number(v));

export class SatisfactionService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  // ── Policy ──────────────────────────────────────────────────────────────────────────────────
  policy() {
    return currentSatisfactionPolicy(this.db);
  }

  async savePolicy(p: Principal, ip: string | null, body: SatisfactionPolicy, note?: string) {
    await this.db.transaction().execute(async (tx) => {
      const before = await currentSatisfactionPolicy(tx);
      const { id } = await tx
        .insertInto('satisfaction_policy')
        .values({
          body: JSON.stringify(body),
          note: note?.trim() || null,
          created_by: p.userId,
          created_at: this.now().toISOString(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await recordAudit(tx, actorOf(p, ip), {
        action: 'satisfaction_policy_save',
        entity: 'satisfaction_policy',
        entityId: Number(id),
        before: before.body,
        after: body,
      });
    });
    return this.policy();
  }

  // ── Contact rule ────────────────────────────────────────────────────────────────────────────
  async customerContacts(customerId: number) {
    const policy = (await this.policy()).body;
    const now = this.now();
    return {
      decision: await contactStatus(this.db, policy, customerId, now, 'survey'),
      contacts: await contactsOf(this.db, customerId, contactLookback(policy, now)),
    };
  }

  // ── Surveys ─────────────────────────────────────────────────────────────────────────────────
  private async unitInScope(p: Principal, id: number, field: string) {
    const u = await this.db
      .selectFrom('org_unit')
      .select(['id', 'path', 'name'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!u || !pathInScope(p, u.path))
      throw new AppError('SCOPE_DENIED', `org unit ${id} is outside your organisation`, field);
    return u;
  }

  /**
   * The customers a survey of `unitPath` may call now: in the unit's subtree and the reader's, not
   * merged, with a phone, not waiting in another open survey, and allowed by the contact rule.
   */
  async eligible(db: Tx, p: Principal, unitPath: string, policy: SatisfactionPolicy, only?: readonly number[]) {
    const now = this.now();
    let q = db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .where('o.path', 'like', `${unitPath}%`)
      .where((eb) => inScope(p, eb.ref('c.org_unit_id')))
      .where('c.merged_into_id', 'is', null)
      .where((eb) =>
        eb.exists(eb.selectFrom('customer_phone as cp').select('cp.id').whereRef('cp.customer_id', '=', 'c.id')),
      )
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('survey_target as st')
              .innerJoin('survey as s', 's.id', 'st.survey_id')
              .select('st.id')
              .whereRef('st.customer_id', '=', 'c.id')
              .where('s.state', '=', 'open')
              .where('st.state', 'in', ['pending', 'unreachable']),
          ),
        ),
      );
    if (only) q = q.where('c.id', 'in', only.length ? [...only] : [-1]);
    const candidates = await q
      .select(['c.id', 'c.org_unit_id'])
      .select((eb) =>
        eb
          .selectFrom('customer_phone as cp')
          .select((e) => e.fn.min('cp.phone').as('p'))
          .whereRef('cp.customer_id', '=', 'c.id')
          .as('phone'),
      )
      .execute();
    // Earlier survey contacts of these customers, by id or phone, within the rule's reach.
    const from = contactLookback(policy, now);
    const ledger = await db
      .selectFrom('survey_contact as sc')
      .leftJoin('customer_phone as cp', 'cp.phone', 'sc.phone')
      .select(['sc.id', 'sc.customer_id', 'cp.customer_id as phone_customer_id', 'sc.contacted_at'])
      .where('sc.contacted_at', '>=', from)
      .execute();
    const seen = new Map<number, Map<number, string>>();
    for (const r of ledger)
      for (const cid of [r.customer_id, r.phone_customer_id]) {
        if (cid === null) continue;
        const k = Number(cid);
        if (!seen.has(k)) seen.set(k, new Map());
        seen.get(k)!.set(Number(r.id), r.contacted_at);
      }
    return candidates
      .filter((c) => contactDecision(policy, [...(seen.get(Number(c.id))?.values() ?? [])], now, 'survey').ok)
      .map((c) => ({ id: Number(c.id), orgUnitId: Number(c.org_unit_id), phone: String(c.phone) }));
  }

  /** How many customers a survey of the unit could sample now, and the sample a seed would draw. */
  async preview(
    p: Principal,
    body: Pick<SurveyBody, 'orgUnitId' | 'customerIds' | 'sampleSize' | 'sampleRatio' | 'seed'>,
  ) {
    const unit = await this.unitInScope(p, body.orgUnitId, 'body.orgUnitId');
    const policy = (await this.policy()).body;
    const list = await this.eligible(this.db, p, unit.path, policy, body.customerIds);
    const sample = this.draw(list, body);
    return { eligible: list.length, sample: sample.map((x) => x.id) };
  }

  private draw(
    list: { id: number; orgUnitId: number; phone: string }[],
    body: Pick<SurveyBody, 'sampleSize' | 'sampleRatio' | 'seed'>,
  ) {
    const strata = new Map<number, number[]>();
    for (const c of list) {
      if (!strata.has(c.orgUnitId)) strata.set(c.orgUnitId, []);
      strata.get(c.orgUnitId)!.push(c.id);
    }
    const ids = new Set(
      stratifiedSample(strata, { size: body.sampleSize, ratio: body.sampleRatio, seed: body.seed ?? 1 }),
    );
    return list.filter((c) => ids.has(c.id)).sort((a, b) => a.id - b.id);
  }

  async createSurvey(p: Principal, ip: string | null, body: SurveyBody) {
    const unit = await this.unitInScope(p, body.orgUnitId, 'body.orgUnitId');
    if (body.sampleSize !== undefined && body.sampleRatio !== undefined)
      throw new AppError('VALIDATION_FAILED', 'give a sample size or a ratio, not both', 'body.sampleRatio');
    const now = this.now();
    const at = now.toISOString();
    if (Date.parse(body.dueAt) <= now.getTime())
      throw new AppError('VALIDATION_FAILED', 'the due time has passed', 'body.dueAt');
    const policy = (await this.policy()).body;
    const seed = body.seed ?? Math.floor(Math.random() * 2_000_000_000) + 1;
    const id = await this.db.transaction().execute(async (tx) => {
      const list = await this.eligible(tx, p, unit.path, policy, body.customerIds);
      const sample = this.draw(list, { ...body, seed });
      const { id } = await tx
        .insertInto('survey')
        .values({
          name: body.name.trim(),
          org_unit_id: Number(unit.id),
          state: 'open',
          ask_csat: (body.askCsat ?? policy.askCsat) ? 1 : 0,
          ask_nps: (body.askNps ?? policy.askNps) ? 1 : 0,
          ask_ces: (body.askCes ?? policy.askCes) ? 1 : 0,
          ask_text: (body.askText ?? true) ? 1 : 0,
          sample_size: body.sampleSize ?? null,
          sample_ratio: body.sampleRatio ?? null,
          seed,
          eligible: list.length,
          due_at: new Date(body.dueAt).toISOString(),
          created_by: p.userId,
          created_at: at,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const surveyId = Number(id);
      const targets: { id: number; customerId: number; orgUnitId: number }[] = [];
      for (let i = 0; i < sample.length; i += 500) {
        const rows = await tx
          .insertInto('survey_target')
          .values(
            sample.slice(i, i + 500).map((c) => ({
              survey_id: surveyId,
              customer_id: c.id,
              org_unit_id: c.orgUnitId,
              phone: c.phone,
              state: 'pending',
            })),
          )
          .returning(['id', 'customer_id', 'org_unit_id'])
          .execute();
        targets.push(
          ...rows.map((r) => ({
            id: Number(r.id),
            customerId: Number(r.customer_id),
            orgUnitId: Number(r.org_unit_id),
          })),
        );
      }
      const names = new Map<number, string>();
      for (let i = 0; i < targets.length; i += 1000) {
        const rows = await tx
          .selectFrom('customer')
          .select(['id', 'name', 'code'])
          .where(
            'id',
            'in',
            targets.slice(i, i + 1000).map((t) => t.customerId),
          )
          .execute();
        for (const r of rows) names.set(Number(r.id), r.name ?? r.code);
      }
      const items: WorkItemInput[] = targets.map((t) => ({
        kind: 'survey_call',
        recordId: t.id,
        assigneeUserId: null,
        permission: 'satisfaction.call',
        orgUnitId: t.orgUnitId,
        customerId: t.customerId,
        subject: `${body.name.trim()} · ${names.get(t.customerId) ?? ''}`,
        dueAt: new Date(body.dueAt).toISOString(),
      }));
      await openWorkItems(tx, items, at);
      await recordAudit(tx, actorOf(p, ip), {
        action: 'survey_create',
        entity: 'survey',
        entityId: surveyId,
        orgUnitId: Number(unit.id),
        after: {
          name: body.name.trim(),
          eligible: list.length,
          sampled: targets.length,
          seed,
          sampleSize: body.sampleSize ?? null,
          sampleRatio: body.sampleRatio ?? null,
        },
      });
      return surveyId;
    });
    return this.survey(p, id);
  }

  async listSurveys(p: Principal, q: { state?: 'open' | 'closed'; page: number; pageSize: number }) {
    let query = this.db
      .selectFrom('survey as s')
      .innerJoin('org_unit as o', 'o.id', 's.org_unit_id')
      .where((eb) => inScope(p, eb.ref('s.org_unit_id')));
    if (q.state) query = query.where('s.state', '=', q.state);
    const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await query
      .select([
        's.id',
        's.name',
        's.org_unit_id',
        'o.name as unit_name',
        's.state',
        's.due_at',
        's.created_at',
        's.eligible',
      ])
      .select((eb) => [
        eb
          .selectFrom('survey_target as t')
          .select((e) => e.fn.countAll<number>().as('n'))
          .whereRef('t.survey_id', '=', 's.id')
          .as('targets'),
        eb
          .selectFrom('survey_target as t')
          .select((e) => e.fn.countAll<number>().as('n'))
          .whereRef('t.survey_id', '=', 's.id')
          .where('t.state', '=', 'answered')
          .as('answered'),
      ])
      .orderBy('s.created_at', 'desc')
      .orderBy('s.id', 'desc')
      .limit(q.pageSize)
      .offset((q.page - 1) * q.pageSize)
      .execute();
    return {
      total: Number(total.n),
      items: rows.map((r) => ({
        id: Number(r.id),
        name: r.name,
        orgUnitId: Number(r.org_unit_id),
        orgUnitName: r.unit_name,
        state: r.state,
        dueAt: r.due_at,
        createdAt: r.created_at,
        eligible: Number(r.eligible),
        targets: Number(r.targets ?? 0),
        answered: Number(r.answered ?? 0),
      })),
    };
  }

  private async surveyRow(id: number, db: Tx = this.db) {
    const s = await db
      .selectFrom('survey as s')
      .innerJoin('org_unit as o', 'o.id', 's.org_unit_id')
      .leftJoin('app_user as u', 'u.id', 's.created_by')
      .selectAll('s')
      .select(['o.name as unit_name', 'o.path as unit_path', 'u.display_name as created_by_name'])
      .where('s.id', '=', id)
      .executeTakeFirst();
    if (!s) throw new AppError('NOT_FOUND', `survey ${id} not found`);
    return s;
  }

  /** A survey with its results per station, and the targets the reader may see. */
  async survey(p: Principal, id: number) {
    const s = await this.surveyRow(id);
    const targets = await this.db
      .selectFrom('survey_target as t')
      .innerJoin('customer as c', 'c.id', 't.customer_id')
      .innerJoin('org_unit as o', 'o.id', 't.org_unit_id')
      .leftJoin('app_user as u', 'u.id', 't.called_by')
      .select([
        't.id',
        't.customer_id',
        't.org_unit_id',
        'o.name as unit_name',
        't.phone',
        't.state',
        't.attempts',
        't.rating',
        't.csat',
        't.nps',
        't.ces',
        't.comment',
        't.called_at',
        'u.display_name as called_by_name',
        'c.name',
        'c.code',
      ])
      .where('t.survey_id', '=', id)
      .where((eb) => inScope(p, eb.ref('t.org_unit_id')))
      .orderBy('t.org_unit_id')
      .orderBy('t.id')
      .execute();
    const phone = can(p, 'customer.phone');
    const byUnit = new Map<number, { name: string; rows: typeof targets }>();
    for (const t of targets) {
      const k = Number(t.org_unit_id);
      if (!byUnit.has(k)) byUnit.set(k, { name: t.unit_name, rows: [] });
      byUnit.get(k)!.rows.push(t);
    }
    const results = (rows: typeof targets) => {
      const answered = rows.filter((r) => r.state === 'answered');
      const nums = (f: 'rating' | 'csat' | 'nps' | 'ces') =>
        answered
          .map((r) => r[f])
          .filter((v): v is number => v !== null)
          .map(Number);
      const nps = npsOf(nums('nps'));
      return {
        targets: rows.length,
        answered: answered.length,
        refused: rows.filter((r) => r.state === 'refused').length,
        unreachable: rows.filter((r) => r.state === 'unreachable').length,
        pending: rows.filter((r) => r.state === 'pending').length,
        responseRate: rows.length === 0 ? null : Math.round((answered.length / rows.length) * 1000) / 10,
        averageRating: average(nums('rating')),
        distribution: [1, 2, 3, 4, 5].map((v) => nums('rating').filter((x) => x === v).length),
        csatPercent: csatPercent(nums('csat')),
        nps: nps.nps,
        promoters: nps.promoters,
        passives: nps.passives,
        detractors: nps.detractors,
        averageCes: average(nums('ces')),
      };
    };
    return {
      id: Number(s.id),
      name: s.name,
      orgUnitId: Number(s.org_unit_id),
      orgUnitName: s.unit_name,
      state: s.state,
      questions: {
        askCsat: Number(s.ask_csat) === 1,
        askNps: Number(s.ask_nps) === 1,
        askCes: Number(s.ask_ces) === 1,
        askText: Number(s.ask_text) === 1,
      },
      sampleSize: n(s.sample_size),
      sampleRatio: s.sample_ratio === null ? null : Number(s.sample_ratio),
      seed: Number(s.seed),
      eligible: Number(s.eligible),
      dueAt: s.due_at,
      createdAt: s.created_at,
      createdByName: s.created_by_name ?? null,
      closedAt: s.closed_at,
      totals: results(targets),
      byUnit: [...byUnit.entries()].map(([unitId, u]) => ({
        orgUnitId: unitId,
        orgUnitName: u.name,
        ...results(u.rows),
      })),
      targets: targets.map((t) => ({
        id: Number(t.id),
        customerId: Number(t.customer_id),
        customerName: t.name ?? t.code,
        orgUnitId: Number(t.org_unit_id),
        orgUnitName: t.unit_name,
        phone: phone ? t.phone : maskPhone(t.phone),
        state: t.state as TargetState,
        attempts: Number(t.attempts),
        rating: n(t.rating),
        csat: n(t.csat),
        nps: n(t.nps),
        ces: n(t.ces),
        comment: t.comment,
        calledAt: t.called_at,
        calledByName: t.called_by_name ?? null,
      })),
    };
  }

  async closeSurvey(p: Principal, ip: string | null, id: number) {
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (tx) => {
      const s = await this.surveyRow(id, tx);
      if (s.state !== 'open') throw new AppError('CONFLICT', 'the survey is closed already');
      await tx.updateTable('survey').set({ state: 'closed', closed_at: at }).where('id', '=', id).execute();
      const open = await tx.selectFrom('survey_target').select('id').where('survey_id', '=', id).execute();
      await closeWorkItems(
        tx,
        'survey_call',
        open.map((t) => Number(t.id)),
        at,
        'cancelled',
      );
      await recordAudit(tx, actorOf(p, ip), {
        action: 'survey_close',
        entity: 'survey',
        entityId: id,
        orgUnitId: Number(s.org_unit_id),
        after: { state: 'closed' },
      });
    });
    return this.survey(p, id);
  }

  // ── Calls ───────────────────────────────────────────────────────────────────────────────────
  private async targetRow(id: number, db: Tx = this.db) {
    const t = await db
      .selectFrom('survey_target as t')
      .innerJoin('survey as s', 's.id', 't.survey_id')
      .innerJoin('customer as c', 'c.id', 't.customer_id')
      .innerJoin('org_unit as o', 'o.id', 't.org_unit_id')
      .selectAll('t')
      .select([
        's.name as survey_name',
        's.state as survey_state',
        's.ask_csat',
        's.ask_nps',
        's.ask_ces',
        's.ask_text',
        's.due_at',
        'c.name',
        'c.code',
        'o.name as unit_name',
      ])
      .where('t.id', '=', id)
      .executeTakeFirst();
    if (!t) throw new AppError('NOT_FOUND', `survey call ${id} not found`);
    return t;
  }

  /** The caller's form: who to call, what to ask, earlier contacts, and whether the rule allows it now. */
  async target(p: Principal, id: number) {
    const t = await this.targetRow(id);
    const policy = (await this.policy()).body;
    const done = t.state === 'answered' || t.state === 'refused';
    return {
      id: Number(t.id),
      surveyId: Number(t.survey_id),
      surveyName: t.survey_name,
      surveyOpen: t.survey_state === 'open',
      customerId: Number(t.customer_id),
      customerName: t.name ?? t.code,
      orgUnitName: t.unit_name,
      phone: can(p, 'customer.phone') ? t.phone : maskPhone(t.phone),
      state: t.state as TargetState,
      attempts: Number(t.attempts),
      questions: {
        askCsat: Number(t.ask_csat) === 1,
        askNps: Number(t.ask_nps) === 1,
        askCes: Number(t.ask_ces) === 1,
        askText: Number(t.ask_text) === 1,
      },
      rating: n(t.rating),
      csat: n(t.csat),
      nps: n(t.nps),
      ces: n(t.ces),
      comment: t.comment,
      dueAt: t.due_at,
      contact: done
        ? { ok: true as const }
        : await contactStatus(this.db, policy, Number(t.customer_id), this.now(), 'survey'),
    };
  }

  async recordOutcome(p: Principal, ip: string | null, id: number, body: OutcomeBody) {
    const now = this.now();
    const at = now.toISOString();
    await this.db.transaction().execute(async (tx) => {
      const t = await this.targetRow(id, tx);
      if (t.survey_state !== 'open') throw new AppError('CONFLICT', 'the survey is closed');
      if (t.state === 'answered' || t.state === 'refused')
        throw new AppError('CONFLICT', `the outcome is recorded already (${t.state})`);
      const policy = (await currentSatisfactionPolicy(tx)).body;
      const customerId = Number(t.customer_id);
      if (body.outcome === 'unreachable') {
        const attempts = Number(t.attempts) + 1;
        await tx
          .updateTable('survey_target')
          .set({ state: 'unreachable', attempts, called_by: p.userId, called_at: at })
          .where('id', '=', id)
          .execute();
        // Enough attempts: nobody need call again.
        if (attempts >= policy.unreachableAttempts) await closeWorkItem(tx, 'survey_call', id, at, 'done');
        await recordAudit(tx, actorOf(p, ip), {
          action: 'survey_call_unreachable',
          entity: 'survey_target',
          entityId: id,
          orgUnitId: Number(t.org_unit_id),
          after: { attempts },
        });
        return;
      }
      // Reaching the customer is a survey contact: the rule decides whether he may be surveyed now.
      const decision = await contactStatus(tx, policy, customerId, now, 'survey');
      if (!decision.ok)
        throw new AppError('SURVEY_COOL_DOWN', `${decision.message}; not before ${decision.until}`, undefined, {
          reason: decision.reason,
          until: decision.until,
        });
      const answers = { rating: body.rating, csat: body.csat, nps: body.nps, ces: body.ces };
      if (body.outcome === 'answered') {
        if (body.rating === undefined)
          throw new AppError('VALIDATION_FAILED', 'the customer’s satisfaction, 1 to 5', 'body.rating');
        const problem = answerProblem(
          { askCsat: Number(t.ask_csat) === 1, askNps: Number(t.ask_nps) === 1, askCes: Number(t.ask_ces) === 1 },
          answers,
        );
        if (problem) throw new AppError('VALIDATION_FAILED', problem.message, `body.${problem.field}`);
        if (body.comment?.trim() && Number(t.ask_text) !== 1)
          throw new AppError('VALIDATION_FAILED', 'comment is not asked', 'body.comment');
      } else if (
        body.rating !== undefined ||
        body.csat !== undefined ||
        body.nps !== undefined ||
        body.ces !== undefined
      ) {
        throw new AppError('VALIDATION_FAILED', 'a customer who refused gave no answers', 'body.outcome');
      }
      const answered = body.outcome === 'answered';
      await tx
        .updateTable('survey_target')
        .set({
          state: body.outcome,
          attempts: Number(t.attempts) + 1,
          rating: answered ? (body.rating ?? null) : null,
          csat: answered ? (body.csat ?? null) : null,
          nps: answered ? (body.nps ?? null) : null,
          ces: answered ? (body.ces ?? null) : null,
          comment: answered ? body.comment?.trim() || null : null,
          called_by: p.userId,
          called_at: at,
        })
        .where('id', '=', id)
        .execute();
      await recordContact(tx, {
        customerId,
        phone: t.phone,
        orgUnitId: Number(t.org_unit_id),
        reason: 'survey',
        sourceId: id,
        at,
        userId: p.userId,
      });
      await closeWorkItem(tx, 'survey_call', id, at, 'done');
      let revisitId: number | null = null;
      if (answered && isLowScore(policy, answers))
        revisitId = await proposeRevisit(
          tx,
          policy,
          { customerId, sourceKind: 'survey_target', sourceId: id, purpose: `${t.survey_name} 满意度低` },
          now,
          p.userId,
        );
      await recordAudit(tx, actorOf(p, ip), {
        action: answered ? 'survey_call_answered' : 'survey_call_refused',
        entity: 'survey_target',
        entityId: id,
        orgUnitId: Number(t.org_unit_id),
        after: { outcome: body.outcome, ...answers, revisitId },
      });
    });
    return this.target(p, id);
  }

  // ── Revisit plans ───────────────────────────────────────────────────────────────────────────
  private revisitQuery(db: Tx = this.db) {
    return db
      .selectFrom('revisit_plan as r')
      .innerJoin('org_unit as o', 'o.id', 'r.org_unit_id')
      .leftJoin('customer as c', 'c.id', 'r.customer_id')
      .leftJoin('app_user as ou', 'ou.id', 'r.owner_user_id')
      .leftJoin('app_user as du', 'du.id', 'r.done_by')
      .select([
        'r.id',
        'r.customer_id',
        'r.org_unit_id',
        'o.name as unit_name',
        'r.planned_for',
        'r.owner_user_id',
        'ou.display_name as owner_name',
        'r.purpose',
        'r.source',
        'r.source_kind',
        'r.source_id',
        'r.state',
        'r.reached',
        'r.rating',
        'r.outcome',
        'r.done_at',
        'du.display_name as done_by_name',
        'r.created_at',
        'r.version',
        'c.name as customer_name',
        'c.code as customer_code',
      ]);
  }

  private revisitOut(
    r: Awaited<ReturnType<ReturnType<SatisfactionService['revisitQuery']>['executeTakeFirstOrThrow']>>,
  ) {
    return {
      id: Number(r.id),
      customer:
        r.customer_id === null
          ? null
          : { id: Number(r.customer_id), name: r.customer_name ?? null, code: r.customer_code ?? '' },
      orgUnitId: Number(r.org_unit_id),
      orgUnitName: r.unit_name,
      plannedFor: r.planned_for,
      ownerUserId: n(r.owner_user_id),
      ownerName: r.owner_name ?? null,
      purpose: r.purpose,
      source: r.source,
      sourceKind: r.source_kind,
      sourceId: n(r.source_id),
      state: r.state,
      reached: r.reached === null ? null : Number(r.reached) === 1,
      rating: n(r.rating),
      outcome: r.outcome,
      doneAt: r.done_at,
      doneByName: r.done_by_name ?? null,
      overdue: r.state === 'planned' && r.planned_for < this.now().toISOString(),
      createdAt: r.created_at,
      version: Number(r.version),
    };
  }

  async listRevisits(
    p: Principal,
    q: {
      state?: 'planned' | 'done' | 'cancelled';
      customerId?: number;
      mine?: boolean;
      page: number;
      pageSize: number;
    },
  ) {
    let query = this.revisitQuery().where((eb) => inScope(p, eb.ref('r.org_unit_id')));
    if (q.state) query = query.where('r.state', '=', q.state);
    if (q.customerId !== undefined) query = query.where('r.customer_id', '=', q.customerId);
    if (q.mine) query = query.where('r.owner_user_id', '=', p.userId);
    const total = await query
      .clearSelect()
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const rows = await query
      .orderBy('r.planned_for', q.state === 'planned' ? 'asc' : 'desc')
      .orderBy('r.id', 'desc')
      .limit(q.pageSize)
      .offset((q.page - 1) * q.pageSize)
      .execute();
    return { total: Number(total.n), items: rows.map((r) => this.revisitOut(r)) };
  }

  async revisit(id: number) {
    const r = await this.revisitQuery().where('r.id', '=', id).executeTakeFirst();
    if (!r) throw new AppError('NOT_FOUND', `revisit plan ${id} not found`);
    return this.revisitOut(r);
  }

  async createRevisit(p: Principal, ip: string | null, body: RevisitBody) {
    const at = this.now().toISOString();
    let unitId: number;
    let customerId: number | null = null;
    let ownerId: number | null = body.ownerUserId ?? null;
    if (body.customerId !== undefined) {
      const c = await this.db
        .selectFrom('customer as c')
        .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
        .select(['c.id', 'c.org_unit_id', 'c.owner_user_id', 'o.path'])
        .where('c.id', '=', body.customerId)
        .where('c.merged_into_id', 'is', null)
        .executeTakeFirst();
      if (!c || !pathInScope(p, c.path))
        throw new AppError(
          'SCOPE_DENIED',
          `customer ${body.customerId} is outside your organisation`,
          'body.customerId',
        );
      unitId = Number(c.org_unit_id);
      customerId = Number(c.id);
      ownerId ??= c.owner_user_id === null ? null : Number(c.owner_user_id);
    } else if (body.orgUnitId !== undefined) {
      unitId = Number((await this.unitInScope(p, body.orgUnitId, 'body.orgUnitId')).id);
    } else {
      throw new AppError('VALIDATION_FAILED', 'name the customer or the station revisited', 'body.customerId');
    }
    if (body.ownerUserId !== undefined) {
      const u = await this.db
        .selectFrom('app_user as u')
        .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
        .select(['u.id', 'o.path'])
        .where('u.id', '=', body.ownerUserId)
        .where('u.active', '=', 1)
        .executeTakeFirst();
      if (!u || !pathInScope(p, u.path))
        throw new AppError(
          'VALIDATION_FAILED',
          `user ${body.ownerUserId} is not in your organisation`,
          'body.ownerUserId',
        );
    }
    ownerId ??= p.userId;
    const id = await this.db.transaction().execute(async (tx) => {
      const { id } = await tx
        .insertInto('revisit_plan')
        .values({
          customer_id: customerId,
          org_unit_id: unitId,
          planned_for: new Date(body.plannedFor).toISOString(),
          owner_user_id: ownerId,
          purpose: body.purpose.trim(),
          source: 'manual',
          source_kind: null,
          source_id: null,
          state: 'planned',
          created_by: p.userId,
          created_at: at,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await openRevisitWork(tx, Number(id), at);
      await recordAudit(tx, actorOf(p, ip), {
        action: 'revisit_plan_create',
        entity: 'revisit_plan',
        entityId: Number(id),
        orgUnitId: unitId,
        after: { customerId, plannedFor: body.plannedFor, ownerUserId: ownerId, purpose: body.purpose.trim() },
      });
      return Number(id);
    });
    return this.revisit(id);
  }

  async recordRevisit(
    p: Principal,
    ip: string | null,
    id: number,
    body: { reached: boolean; rating?: number; outcome: string; version?: number },
  ) {
    const now = this.now();
    const at = now.toISOString();
    await this.db.transaction().execute(async (tx) => {
      const r = await this.revisitQuery(tx).where('r.id', '=', id).executeTakeFirst();
      if (!r) throw new AppError('NOT_FOUND', `revisit plan ${id} not found`);
      if (r.state !== 'planned') throw new AppError('CONFLICT', `the revisit is ${r.state}`);
      if (body.version !== undefined && body.version !== Number(r.version))
        throw new AppError('VERSION_CONFLICT', 'the plan changed meanwhile; reload it');
      if (!body.reached && body.rating !== undefined)
        throw new AppError('VALIDATION_FAILED', 'a customer not reached gave no rating', 'body.rating');
      await tx
        .updateTable('revisit_plan')
        .set({
          state: 'done',
          reached: body.reached ? 1 : 0,
          rating: body.rating ?? null,
          outcome: body.outcome.trim(),
          done_by: p.userId,
          done_at: at,
          version: Number(r.version) + 1,
        })
        .where('id', '=', id)
        .execute();
      if (body.reached && r.customer_id !== null)
        await recordContact(tx, {
          customerId: Number(r.customer_id),
          phone: null,
          orgUnitId: Number(r.org_unit_id),
          reason: 'revisit',
          sourceId: id,
          at,
          userId: p.userId,
        });
      await closeWorkItem(tx, 'revisit', id, at, 'done');
      await recordAudit(tx, actorOf(p, ip), {
        action: 'revisit_plan_record',
        entity: 'revisit_plan',
        entityId: id,
        orgUnitId: Number(r.org_unit_id),
        after: { reached: body.reached, rating: body.rating ?? null, outcome: body.outcome.trim() },
      });
    });
    return this.revisit(id);
  }

  async cancelRevisit(p: Principal, ip: string | null, id: number, reason: string) {
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (tx) => {
      const r = await this.revisitQuery(tx).where('r.id', '=', id).executeTakeFirst();
      if (!r) throw new AppError('NOT_FOUND', `revisit plan ${id} not found`);
      if (r.state !== 'planned') throw new AppError('CONFLICT', `the revisit is ${r.state}`);
      await tx
        .updateTable('revisit_plan')
        .set({
          state: 'cancelled',
          outcome: reason.trim(),
          done_by: p.userId,
          done_at: at,
          version: Number(r.version) + 1,
        })
        .where('id', '=', id)
        .execute();
      await closeWorkItem(tx, 'revisit', id, at, 'cancelled');
      await recordAudit(tx, actorOf(p, ip), {
        action: 'revisit_plan_cancel',
        entity: 'revisit_plan',
        entityId: id,
        orgUnitId: Number(r.org_unit_id),
        after: { reason: reason.trim() },
      });
    });
    return this.revisit(id);
  }
}
