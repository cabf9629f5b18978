// Mystery shoppers (神秘顾客): HQ's evaluation forms as frozen versions, assignments of a station to a
// shopper within a visit window, the visit with its photos and weighted score, results per station, and
// the analysis that sends a corrective action to the whole network or to the stations that failed an
// item. The rules are src/domain/mystery-shopper.ts; this service loads, asks them, and writes each
// change with its work items and its audit in one transaction.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { inScope, pathInScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import { businessDay } from '../../../domain/business-day.js';
import {
  ACTION_DUE_DAYS,
  NETWORK_MIN_STATIONS,
  NETWORK_SHARE_PERCENT,
  actionScope,
  checkAnswers,
  checkWindow,
  formItems,
  scoreVisit,
  validateForm,
  type FormDefinition,
} from '../../../domain/mystery-shopper.js';
import { recordAudit } from '../audit/audit.service.js';
import { closeWorkItem, openWorkItems, type WorkItemInput } from '../work/work-items.js';
import { newKey, type Storage } from '../../storage/storage.js';
import { PHOTO_LIMITS, cleanImage } from '../../storage/images.js';

type Tx = Kysely<Database> | Transaction<Database>;

export interface FormBody {
  code?: string;
  title: string;
  passPercent: number;
  sections: FormDefinition['sections'];
}

export interface AssignmentBody {
  formId: number;
  orgUnitId: number;
  shopperUserId: number;
  windowFrom: string;
  windowTo: string;
  hourFrom?: number;
  hourTo?: number;
  note?: string;
}

export interface VisitBody {
  answers: { itemKey: string; value: number }[];
  visitedAt?: string;
  comment?: string;
}

export interface ActionBody {
  formCode: string;
  itemKey: string;
  from: string;
  to: string;
  dueAt?: string;
  note?: string;
}

const formColumns = [
  'f.id',
  'f.code',
  'f.version',
  'f.state',
  'f.title',
  'f.pass_percent',
  'f.definition',
  'f.org_unit_id',
  'f.created_at',
  'f.updated_at',
  'f.published_at',
] as const;

const assignmentColumns = [
  'a.id',
  'a.form_id',
  'a.org_unit_id',
  'a.shopper_user_id',
  'a.window_from',
  'a.window_to',
  'a.hour_from',
  'a.hour_to',
  'a.note',
  'a.state',
  'a.created_at',
  'o.name as unit_name',
  'o.path as unit_path',
  'o.time_zone',
  'su.display_name as shopper_name',
  'f.code as form_code',
  'f.version as form_version',
  'f.title as form_title',
  'f.pass_percent',
  'f.definition',
  'v.id as visit_id',
  'v.visited_at',
  'v.score_permille',
  'v.passed',
  'v.critical_failed',
  'v.comment',
] as const;

function definitionOf(r: { title: string; pass_percent: number; definition: string }): FormDefinition {
  const d = JSON.parse(r.definition) as Pick<FormDefinition, 'sections'>;
  return { title: r.title, passPercent: Number(r.pass_percent), sections: d.sections };
}

function formView(r: {
  id: number;
  code: string;
  version: number;
  state: string;
  title: string;
  pass_percent: number;
  definition: string;
  created_at: string;
  updated_at: string;
  published_at: string | null;
}) {
  const def = definitionOf(r);
  return {
    id: Number(r.id),
    code: r.code,
    version: Number(r.version),
    state: r.state,
    title: r.title,
    passPercent: Number(r.pass_percent),
    sections: def.sections,
    itemCount: formItems(def).length,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    publishedAt: r.published_at,
  };
}

/** The form refused with every problem named by its field; the first names the error. */
function invalid(problems: { field: string; message: string }[], prefix: string): AppError {
  const first = problems[0]!;
  return new AppError(
    'VALIDATION_FAILED',
    first.message,
    `${prefix}.${first.field}`,
    problems.map((x) => ({ field: `${prefix}.${x.field}`, message: x.message })),
  );
}

const percent = (permille: number) => Number(permille) / 10;
const DAY_MS = 86_400_000;

export class MysteryShoppersService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly storage: Storage,
    private readonly now: () => Date = () => new Date(),
  ) {}

  // ── Forms ───────────────────────────────────────────────────────────────────────────────────
  /** Every version of every form: company-wide reference data, small. */
  async forms() {
    const rows = await this.db
      .selectFrom('mystery_form as f')
      .select(formColumns)
      .orderBy('f.code')
      .orderBy('f.version', 'desc')
      .execute();
    return rows.map(formView);
  }

  private async form(db: Tx, id: number) {
    const r = await db.selectFrom('mystery_form as f').select(formColumns).where('f.id', '=', id).executeTakeFirst();
    if (!r) throw new AppError('NOT_FOUND', `form ${id} not found`);
    return r;
  }

  private check(body: FormBody): FormDefinition {
    const def: FormDefinition = {
      title: body.title,
      passPercent: body.passPercent,
      sections: body.sections.map((s) => ({
        title: s.title.trim(),
        items: s.items.map((it) => ({
          key: it.key,
          text: it.text.trim(),
          weight: it.weight,
          critical: it.critical,
          photoRequired: it.photoRequired,
          answerType: it.answerType,
          maxScore: it.answerType === 'score' ? it.maxScore : null,
        })),
      })),
    };
    const problems = validateForm(def);
    if (problems.length > 0) throw invalid(problems, 'body');
    return def;
  }

  async createForm(p: Principal, ip: string | null, body: FormBody) {
    const def = this.check(body);
    const code = body.code ?? '';
    if (!/^[a-z0-9_]{1,32}$/.test(code))
      throw new AppError('VALIDATION_FAILED', 'the form code is 1–32 lower-case letters, digits or _', 'body.code');
    const at = this.now().toISOString();
    const id = await this.db.transaction().execute(async (tx) => {
      const taken = await tx.selectFrom('mystery_form').select('id').where('code', '=', code).executeTakeFirst();
      if (taken) throw new AppError('DUPLICATE', `a form ${code} exists; edit it to make a new version`, 'body.code');
      const { id } = await tx
        .insertInto('mystery_form')
        .values({
          code,
          version: 1,
          state: 'draft',
          title: def.title.trim(),
          pass_percent: def.passPercent,
          definition: JSON.stringify({ sections: def.sections }),
          org_unit_id: p.orgUnitId,
          created_by: p.userId,
          created_at: at,
          updated_at: at,
          published_at: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await recordAudit(tx, actorOf(p, ip), {
        action: 'mystery_form_create',
        entity: 'mystery_form',
        entityId: Number(id),
        orgUnitId: p.orgUnitId,
        after: { code, version: 1, items: formItems(def).length },
      });
      return Number(id);
    });
    return formView(await this.form(this.db, id));
  }

  /**
   * A draft is edited in place; a published (or retired) version stays as evaluations were made on
   * it, and the edit becomes the next version's draft.
   */
  async saveForm(p: Principal, ip: string | null, id: number, body: FormBody) {
    const def = this.check(body);
    const at = this.now().toISOString();
    const savedId = await this.db.transaction().execute(async (tx) => {
      const f = await this.form(tx, id);
      const values = {
        title: def.title.trim(),
        pass_percent: def.passPercent,
        definition: JSON.stringify({ sections: def.sections }),
        updated_at: at,
      };
      if (f.state === 'draft') {
        await tx.updateTable('mystery_form').set(values).where('id', '=', id).execute();
        await recordAudit(tx, actorOf(p, ip), {
          action: 'mystery_form_save',
          entity: 'mystery_form',
          entityId: id,
          orgUnitId: Number(f.org_unit_id),
          after: { code: f.code, version: Number(f.version), items: formItems(def).length },
        });
        return id;
      }
      const draft = await tx
        .selectFrom('mystery_form')
        .select(['id', 'version'])
        .where('code', '=', f.code)
        .where('state', '=', 'draft')
        .executeTakeFirst();
      if (draft)
        throw new AppError('CONFLICT', `version ${draft.version} of ${f.code} is a draft already; edit that one`);
      const last = await tx
        .selectFrom('mystery_form')
        .select((eb) => eb.fn.max('version').as('v'))
        .where('code', '=', f.code)
        .executeTakeFirstOrThrow();
      const version = Number(last.v) + 1;
      const { id: newId } = await tx
        .insertInto('mystery_form')
        .values({
          code: f.code,
          version,
          state: 'draft',
          ...values,
          org_unit_id: Number(f.org_unit_id),
          created_by: p.userId,
          created_at: at,
          published_at: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await recordAudit(tx, actorOf(p, ip), {
        action: 'mystery_form_version',
        entity: 'mystery_form',
        entityId: Number(newId),
        orgUnitId: Number(f.org_unit_id),
        before: { id, version: Number(f.version) },
        after: { code: f.code, version, items: formItems(def).length },
      });
      return Number(newId);
    });
    return formView(await this.form(this.db, savedId));
  }

  /** The draft is frozen and assignable; the version it replaces is retired (its evaluations keep it). */
  async publishForm(p: Principal, ip: string | null, id: number) {
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (tx) => {
      const f = await this.form(tx, id);
      if (f.state !== 'draft') throw new AppError('CONFLICT', `version ${f.version} of ${f.code} is ${f.state}`);
      const problems = validateForm(definitionOf(f));
      if (problems.length > 0) throw invalid(problems, 'form');
      await tx
        .updateTable('mystery_form')
        .set({ state: 'retired', updated_at: at })
        .where('code', '=', f.code)
        .where('state', '=', 'published')
        .execute();
      await tx
        .updateTable('mystery_form')
        .set({ state: 'published', published_at: at, updated_at: at })
        .where('id', '=', id)
        .execute();
      await recordAudit(tx, actorOf(p, ip), {
        action: 'mystery_form_publish',
        entity: 'mystery_form',
        entityId: id,
        orgUnitId: Number(f.org_unit_id),
        after: { code: f.code, version: Number(f.version) },
      });
    });
    return formView(await this.form(this.db, id));
  }

  // ── Assignments ─────────────────────────────────────────────────────────────────────────────
  private assignments(db: Tx = this.db) {
    return db
      .selectFrom('mystery_assignment as a')
      .innerJoin('org_unit as o', 'o.id', 'a.org_unit_id')
      .innerJoin('app_user as su', 'su.id', 'a.shopper_user_id')
      .innerJoin('mystery_form as f', 'f.id', 'a.form_id')
      .leftJoin('mystery_visit as v', 'v.assignment_id', 'a.id');
  }

  private async assignment(db: Tx, id: number) {
    const r = await this.assignments(db).select(assignmentColumns).where('a.id', '=', id).executeTakeFirst();
    if (!r) throw new AppError('NOT_FOUND', `assignment ${id} not found`);
    return r;
  }

  private summary(r: Awaited<ReturnType<MysteryShoppersService['assignment']>>) {
    return {
      id: Number(r.id),
      formId: Number(r.form_id),
      formCode: r.form_code,
      formVersion: Number(r.form_version),
      formTitle: r.form_title,
      orgUnitId: Number(r.org_unit_id),
      orgUnitName: r.unit_name,
      shopperUserId: Number(r.shopper_user_id),
      shopperName: r.shopper_name,
      windowFrom: r.window_from,
      windowTo: r.window_to,
      hourFrom: r.hour_from === null ? null : Number(r.hour_from),
      hourTo: r.hour_to === null ? null : Number(r.hour_to),
      note: r.note,
      state: r.state,
      visit:
        r.visit_id === null
          ? null
          : {
              id: Number(r.visit_id),
              visitedAt: r.visited_at!,
              scorePercent: percent(Number(r.score_permille)),
              passed: Number(r.passed) === 1,
              criticalFailed: Number(r.critical_failed) === 1,
              comment: r.comment,
            },
    };
  }

  async createAssignment(p: Principal, ip: string | null, body: AssignmentBody) {
    const from = Date.parse(body.windowFrom);
    const to = Date.parse(body.windowTo);
    if (!(to > from)) throw new AppError('VALIDATION_FAILED', 'the window ends after it opens', 'body.windowTo');
    const hours = body.hourFrom !== undefined || body.hourTo !== undefined;
    if (hours && (body.hourFrom === undefined || body.hourTo === undefined || body.hourTo <= body.hourFrom))
      throw new AppError('VALIDATION_FAILED', 'daily hours need a start before their end', 'body.hourTo');
    const at = this.now().toISOString();
    const id = await this.db.transaction().execute(async (tx) => {
      const form = await tx
        .selectFrom('mystery_form')
        .select(['id', 'state', 'title', 'code', 'version'])
        .where('id', '=', body.formId)
        .executeTakeFirst();
      if (!form || form.state !== 'published')
        throw new AppError('VALIDATION_FAILED', 'assign a published form version', 'body.formId');
      const unit = await tx
        .selectFrom('org_unit')
        .select(['id', 'path', 'name', 'kind_code'])
        .where('id', '=', body.orgUnitId)
        .executeTakeFirst();
      if (!unit || !pathInScope(p, unit.path))
        throw new AppError(
          'VALIDATION_FAILED',
          `org unit ${body.orgUnitId} is not in your organisation`,
          'body.orgUnitId',
        );
      if (unit.kind_code !== 'station')
        throw new AppError('VALIDATION_FAILED', 'mystery shoppers evaluate a station', 'body.orgUnitId');
      const shopper = await tx
        .selectFrom('app_user as u')
        .innerJoin('user_role as ur', 'ur.user_id', 'u.id')
        .innerJoin('role_permission as rp', 'rp.role_id', 'ur.role_id')
        .select(['u.id', 'u.display_name'])
        .where('u.id', '=', body.shopperUserId)
        .where('u.active', '=', 1)
        .where('rp.permission', '=', 'mystery.evaluate')
        .executeTakeFirst();
      if (!shopper)
        throw new AppError('VALIDATION_FAILED', 'that user is not an active mystery shopper', 'body.shopperUserId');
      const { id } = await tx
        .insertInto('mystery_assignment')
        .values({
          form_id: Number(form.id),
          org_unit_id: Number(unit.id),
          shopper_user_id: Number(shopper.id),
          window_from: new Date(from).toISOString(),
          window_to: new Date(to).toISOString(),
          hour_from: hours ? body.hourFrom! : null,
          hour_to: hours ? body.hourTo! : null,
          note: body.note?.trim() || null,
          state: 'open',
          created_by: p.userId,
          created_at: at,
          updated_at: at,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await openWorkItems(
        tx,
        [
          {
            kind: 'mystery_assignment',
            recordId: Number(id),
            assigneeUserId: Number(shopper.id),
            orgUnitId: Number(unit.id),
            subject: `${unit.name} · ${form.title}`,
            dueAt: new Date(to).toISOString(),
          },
        ],
        at,
      );
      await recordAudit(tx, actorOf(p, ip), {
        action: 'mystery_assign',
        entity: 'mystery_assignment',
        entityId: Number(id),
        orgUnitId: Number(unit.id),
        after: {
          form: `${form.code} v${form.version}`,
          shopperUserId: Number(shopper.id),
          windowFrom: body.windowFrom,
          windowTo: body.windowTo,
          hourFrom: body.hourFrom ?? null,
          hourTo: body.hourTo ?? null,
        },
      });
      return Number(id);
    });
    return this.summary(await this.assignment(this.db, id));
  }

  /** Active users who may evaluate (hold mystery.evaluate through a role), to choose from when assigning. */
  async shoppers() {
    const rows = await this.db
      .selectFrom('app_user as u')
      .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
      .select(['u.id', 'u.display_name', 'o.name as unit_name'])
      .where('u.active', '=', 1)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('user_role as ur')
            .innerJoin('role_permission as rp', 'rp.role_id', 'ur.role_id')
            .select('ur.user_id')
            .whereRef('ur.user_id', '=', 'u.id')
            .where('rp.permission', '=', 'mystery.evaluate'),
        ),
      )
      .orderBy('u.display_name')
      .limit(500)
      .execute();
    return rows.map((r) => ({ id: Number(r.id), displayName: r.display_name, orgUnitName: r.unit_name }));
  }

  /** Assignments of the reader's subtree, the latest window first. */
  async list(p: Principal, q: { orgUnitId?: number; state?: string; page: number; pageSize: number }) {
    let base = this.assignments().where((eb) => inScope(p, eb.ref('a.org_unit_id')));
    if (q.state) base = base.where('a.state', '=', q.state);
    if (q.orgUnitId !== undefined) base = base.where('a.org_unit_id', '=', q.orgUnitId);
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await base
      .select(assignmentColumns)
      .orderBy('a.window_to', 'desc')
      .orderBy('a.id', 'desc')
      .limit(q.pageSize)
      .offset((q.page - 1) * q.pageSize)
      .execute();
    return { total: Number(total.n), items: rows.map((r) => this.summary(r)) };
  }

  /** A shopper's own assignments: open ones by window end, then the last done ones. */
  async mine(p: Principal) {
    const rows = await this.assignments()
      .select(assignmentColumns)
      .where('a.shopper_user_id', '=', p.userId)
      .orderBy('a.state', 'desc')
      .orderBy('a.window_to')
      .limit(100)
      .execute();
    return rows.map((r) => this.summary(r));
  }

  private async photos(db: Tx, assignmentId: number) {
    const rows = await db
      .selectFrom('mystery_photo')
      .select(['id', 'item_key', 'uploaded_at'])
      .where('assignment_id', '=', assignmentId)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ id: Number(r.id), itemKey: r.item_key, uploadedAt: r.uploaded_at }));
  }

  /** What the shopper fills in: the form version, the window and the photos sent so far; only his own. */
  async sheet(p: Principal, id: number) {
    const r = await this.assignment(this.db, id);
    // Someone else's assignment does not exist for a shopper: nothing says which stations are watched.
    if (Number(r.shopper_user_id) !== p.userId) throw new AppError('NOT_FOUND', `assignment ${id} not found`);
    return { ...this.summary(r), ...this.formPart(r), photos: await this.photos(this.db, id) };
  }

  private formPart(r: Awaited<ReturnType<MysteryShoppersService['assignment']>>) {
    const def = definitionOf({ title: r.form_title, pass_percent: r.pass_percent, definition: r.definition });
    return { passPercent: def.passPercent, sections: def.sections };
  }

  /** The assignment with its form, result, answers and photos, for readers of the station. */
  async detail(id: number) {
    const r = await this.assignment(this.db, id);
    const answers =
      r.visit_id === null
        ? []
        : await this.db
            .selectFrom('mystery_answer')
            .select(['item_key', 'value', 'earned100', 'failed', 'critical'])
            .where('visit_id', '=', Number(r.visit_id))
            .orderBy('id')
            .execute();
    return {
      ...this.summary(r),
      ...this.formPart(r),
      answers: answers.map((a) => ({
        itemKey: a.item_key,
        value: Number(a.value),
        points: Number(a.earned100) / 100,
        failed: Number(a.failed) === 1,
        critical: Number(a.critical) === 1,
      })),
      photos: await this.photos(this.db, id),
    };
  }

  private mustBeOpenOwn(p: Principal, r: Awaited<ReturnType<MysteryShoppersService['assignment']>>) {
    if (Number(r.shopper_user_id) !== p.userId) throw new AppError('NOT_FOUND', `assignment ${r.id} not found`);
    if (r.state !== 'open') throw new AppError('CONFLICT', `the assignment is ${r.state}`);
  }

  async addPhoto(p: Principal, ip: string | null, id: number, itemKey: string, input: Buffer) {
    const r = await this.assignment(this.db, id);
    this.mustBeOpenOwn(p, r);
    const def = definitionOf({ title: r.form_title, pass_percent: r.pass_percent, definition: r.definition });
    if (!formItems(def).some((it) => it.key === itemKey))
      throw new AppError('VALIDATION_FAILED', `${itemKey} is not an item of this form`, 'querystring.itemKey');
    const img = await cleanImage(input, PHOTO_LIMITS);
    if (!img.ok)
      throw new AppError(
        img.problem === 'too_large'
          ? 'BODY_TOO_LARGE'
          : img.problem === 'type'
            ? 'UNSUPPORTED_MEDIA_TYPE'
            : 'VALIDATION_FAILED',
        img.detail,
        'body',
      );
    const now = this.now();
    const at = now.toISOString();
    const key = newKey('mystery', img.image.extension, now);
    await this.storage.put(key, img.image.bytes);
    try {
      const photoId = await this.db.transaction().execute(async (tx) => {
        const { id: pid } = await tx
          .insertInto('mystery_photo')
          .values({
            assignment_id: id,
            item_key: itemKey,
            storage_key: key,
            content_type: img.image.contentType,
            bytes: img.image.bytes.length,
            uploaded_by: p.userId,
            uploaded_at: at,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await recordAudit(tx, actorOf(p, ip), {
          action: 'mystery_photo',
          entity: 'mystery_assignment',
          entityId: id,
          orgUnitId: Number(r.org_unit_id),
          after: { photoId: Number(pid), itemKey, bytes: img.image.bytes.length },
        });
        return Number(pid);
      });
      return { id: photoId, itemKey, uploadedAt: at };
    } catch (err) {
      await this.storage.delete(key);
      throw err;
    }
  }

  async photo(id: number, photoId: number) {
    const ph = await this.db
      .selectFrom('mystery_photo')
      .select(['storage_key', 'content_type'])
      .where('id', '=', photoId)
      .where('assignment_id', '=', id)
      .executeTakeFirst();
    if (!ph) throw new AppError('NOT_FOUND', `photo ${photoId} not found`);
    const bytes = await this.storage.get(ph.storage_key);
    if (!bytes) throw new AppError('NOT_FOUND', `photo ${photoId} is missing from storage`);
    return { bytes, contentType: ph.content_type };
  }

  /** The visit: inside the window, every item answered, every required photo sent; scored and closed. */
  async recordVisit(p: Principal, ip: string | null, id: number, body: VisitBody) {
    const now = this.now();
    const r = await this.assignment(this.db, id);
    this.mustBeOpenOwn(p, r);
    const visitedAt = body.visitedAt ? new Date(body.visitedAt) : now;
    if (visitedAt.getTime() > now.getTime() + 5 * 60_000)
      throw new AppError('VALIDATION_FAILED', 'the visit cannot be in the future', 'body.visitedAt');
    const window = checkWindow(
      visitedAt,
      { from: r.window_from, to: r.window_to, hourFrom: r.hour_from, hourTo: r.hour_to },
      r.time_zone,
    );
    if (!window.ok)
      throw new AppError('MYSTERY_OUTSIDE_WINDOW', window.message, 'body.visitedAt', { reason: window.reason });
    const def = definitionOf({ title: r.form_title, pass_percent: r.pass_percent, definition: r.definition });
    const answers = new Map<string, number>();
    for (const a of body.answers) {
      if (answers.has(a.itemKey))
        throw new AppError('VALIDATION_FAILED', `${a.itemKey} is answered twice`, `body.answers.${a.itemKey}`);
      answers.set(a.itemKey, a.value);
    }
    const problems = checkAnswers(def, answers);
    if (problems.length > 0) throw invalid(problems, 'body');
    const photos = new Set((await this.photos(this.db, id)).map((x) => x.itemKey));
    const missing = formItems(def).filter((it) => it.photoRequired && !photos.has(it.key));
    if (missing.length > 0)
      throw new AppError(
        'MYSTERY_PHOTO_REQUIRED',
        `a photo is required for “${missing[0]!.text}”`,
        `body.answers.${missing[0]!.key}`,
        { items: missing.map((m) => m.key) },
      );
    const score = scoreVisit(def, answers);
    const at = now.toISOString();
    const day = businessDay(visitedAt.getTime(), r.time_zone);
    await this.db.transaction().execute(async (tx) => {
      const claimed = await tx
        .updateTable('mystery_assignment')
        .set({ state: 'done', updated_at: at })
        .where('id', '=', id)
        .where('state', '=', 'open')
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) throw new AppError('CONFLICT', 'the visit was recorded meanwhile');
      const { id: visitId } = await tx
        .insertInto('mystery_visit')
        .values({
          assignment_id: id,
          form_id: Number(r.form_id),
          form_code: r.form_code,
          org_unit_id: Number(r.org_unit_id),
          shopper_user_id: p.userId,
          visited_at: visitedAt.toISOString(),
          business_day: day,
          score_permille: score.permille,
          passed: score.passed ? 1 : 0,
          critical_failed: score.criticalFailed.length > 0 ? 1 : 0,
          comment: body.comment?.trim() || null,
          recorded_at: at,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await tx
        .insertInto('mystery_answer')
        .values(
          score.items.map((it) => ({
            visit_id: Number(visitId),
            form_code: r.form_code,
            item_key: it.key,
            org_unit_id: Number(r.org_unit_id),
            business_day: day,
            value: it.value,
            earned100: it.earned100,
            failed: it.failed ? 1 : 0,
            critical: it.critical ? 1 : 0,
          })),
        )
        .execute();
      await closeWorkItem(tx, 'mystery_assignment', id, at);
      await recordAudit(tx, actorOf(p, ip), {
        action: 'mystery_visit',
        entity: 'mystery_assignment',
        entityId: id,
        orgUnitId: Number(r.org_unit_id),
        after: {
          visitId: Number(visitId),
          scorePercent: percent(score.permille),
          passed: score.passed,
          criticalFailed: score.criticalFailed,
        },
      });
    });
    return this.detail(id);
  }

  // ── Results and analysis ────────────────────────────────────────────────────────────────────
  /** Visits of the reader's subtree in a period, each station's average and pass rate beside them. */
  async results(p: Principal, q: { from: string; to: string; orgUnitId?: number; formCode?: string }) {
    let base = this.db
      .selectFrom('mystery_visit as v')
      .innerJoin('org_unit as o', 'o.id', 'v.org_unit_id')
      .innerJoin('mystery_form as f', 'f.id', 'v.form_id')
      .where((eb) => inScope(p, eb.ref('v.org_unit_id')))
      .where('v.business_day', '>=', q.from)
      .where('v.business_day', '<=', q.to);
    if (q.orgUnitId !== undefined) base = base.where('v.org_unit_id', '=', q.orgUnitId);
    if (q.formCode) base = base.where('v.form_code', '=', q.formCode);
    const rows = await base
      .select([
        'v.id',
        'v.assignment_id',
        'v.org_unit_id',
        'o.name as unit_name',
        'v.business_day',
        'v.visited_at',
        'v.score_permille',
        'v.passed',
        'v.critical_failed',
        'f.code',
        'f.version',
        'f.title',
      ])
      .orderBy('v.business_day')
      .orderBy('v.id')
      .limit(5000)
      .execute();
    const visits = rows.map((r) => ({
      id: Number(r.id),
      assignmentId: Number(r.assignment_id),
      orgUnitId: Number(r.org_unit_id),
      orgUnitName: r.unit_name,
      day: r.business_day,
      visitedAt: r.visited_at,
      scorePercent: percent(Number(r.score_permille)),
      passed: Number(r.passed) === 1,
      criticalFailed: Number(r.critical_failed) === 1,
      formCode: r.code,
      formVersion: Number(r.version),
      formTitle: r.title,
    }));
    const byStation = new Map<
      number,
      { orgUnitId: number; orgUnitName: string; n: number; sum: number; passed: number }
    >();
    for (const v of visits) {
      const s = byStation.get(v.orgUnitId) ?? {
        orgUnitId: v.orgUnitId,
        orgUnitName: v.orgUnitName,
        n: 0,
        sum: 0,
        passed: 0,
      };
      s.n++;
      s.sum += v.scorePercent;
      if (v.passed) s.passed++;
      byStation.set(v.orgUnitId, s);
    }
    return {
      visits,
      stations: [...byStation.values()]
        .map((s) => ({
          orgUnitId: s.orgUnitId,
          orgUnitName: s.orgUnitName,
          visits: s.n,
          averagePercent: Math.round((s.sum / s.n) * 10) / 10,
          passRate: Math.round((s.passed * 1000) / s.n) / 10,
        }))
        .sort((a, b) => a.averagePercent - b.averagePercent),
    };
  }

  /** Per item: stations evaluated and stations that failed it in the period, in the reader's subtree. */
  private async spread(db: Tx, p: Principal, formCode: string, from: string, to: string, itemKey?: string) {
    let q = db
      .selectFrom('mystery_answer as a')
      .where('a.form_code', '=', formCode)
      .where('a.business_day', '>=', from)
      .where('a.business_day', '<=', to)
      .where((eb) => inScope(p, eb.ref('a.org_unit_id')));
    if (itemKey) q = q.where('a.item_key', '=', itemKey);
    const counts = await q
      .select([
        'a.item_key',
        sql<number>`count(distinct a.org_unit_id)`.as('evaluated'),
        sql<number>`count(distinct case when a.failed = 1 then a.org_unit_id end)`.as('failed'),
        sql<number>`count(*)`.as('answers'),
        sql<number>`sum(a.failed)`.as('failed_answers'),
      ])
      .groupBy('a.item_key')
      .execute();
    const failing = await q
      .innerJoin('org_unit as o', 'o.id', 'a.org_unit_id')
      .select(['a.item_key', 'a.org_unit_id', 'o.name'])
      .where('a.failed', '=', 1)
      .groupBy(['a.item_key', 'a.org_unit_id', 'o.name'])
      .orderBy('o.name')
      .execute();
    return { counts, failing };
  }

  /** The latest version's wording of each item of a form family (older keys keep their last wording). */
  private async itemTexts(db: Tx, formCode: string) {
    const forms = await db
      .selectFrom('mystery_form')
      .select(['title', 'pass_percent', 'definition', 'version'])
      .where('code', '=', formCode)
      .where('state', '!=', 'draft')
      .orderBy('version')
      .execute();
    const texts = new Map<string, { text: string; critical: boolean; order: number }>();
    let order = 0;
    for (const f of forms)
      for (const it of formItems(definitionOf(f)))
        texts.set(it.key, { text: it.text, critical: it.critical, order: order++ });
    return texts;
  }

  async analysis(p: Principal, q: { formCode: string; from: string; to: string }) {
    const [{ counts, failing }, texts] = await Promise.all([
      this.spread(this.db, p, q.formCode, q.from, q.to),
      this.itemTexts(this.db, q.formCode),
    ]);
    const open = await this.db
      .selectFrom('mystery_action as x')
      .innerJoin('org_unit as o', 'o.id', 'x.org_unit_id')
      .select(['x.item_key', 'x.scope', 'x.org_unit_id'])
      .where('x.form_code', '=', q.formCode)
      .where('x.state', '=', 'open')
      .where((eb) => inScope(p, eb.ref('x.org_unit_id')))
      .execute();
    const items = counts.map((c) => {
      const evaluated = Number(c.evaluated);
      const failed = Number(c.failed);
      const t = texts.get(c.item_key);
      return {
        itemKey: c.item_key,
        text: t?.text ?? c.item_key,
        critical: t?.critical ?? false,
        evaluatedStations: evaluated,
        failedStations: failed,
        sharePercent: evaluated === 0 ? 0 : Math.round((failed * 1000) / evaluated) / 10,
        answers: Number(c.answers),
        failedAnswers: Number(c.failed_answers ?? 0),
        decision: actionScope({ evaluatedStations: evaluated, failedStations: failed }),
        stations: failing
          .filter((f) => f.item_key === c.item_key)
          .map((f) => ({ orgUnitId: Number(f.org_unit_id), orgUnitName: f.name })),
        openActions: open.filter((o) => o.item_key === c.item_key).length,
        order: t?.order ?? Number.MAX_SAFE_INTEGER,
      };
    });
    items.sort((a, b) => b.sharePercent - a.sharePercent || a.order - b.order);
    return {
      networkSharePercent: NETWORK_SHARE_PERCENT,
      networkMinStations: NETWORK_MIN_STATIONS,
      items: items.map(({ order: _order, ...rest }) => rest),
    };
  }

  // ── Corrective actions ──────────────────────────────────────────────────────────────────────
  /**
   * The analysis decides where the action goes: to the reader's whole network (one action for the
   * managers of that level) when many stations failed the item, else to each station that failed it.
   */
  async createActions(p: Principal, ip: string | null, body: ActionBody) {
    if (body.to < body.from) throw new AppError('VALIDATION_FAILED', 'the period ends after it starts', 'body.to');
    const now = this.now();
    const at = now.toISOString();
    return this.db.transaction().execute(async (tx) => {
      const { counts, failing } = await this.spread(tx, p, body.formCode, body.from, body.to, body.itemKey);
      const c = counts[0];
      const evaluated = Number(c?.evaluated ?? 0);
      const failed = Number(c?.failed ?? 0);
      const scope = actionScope({ evaluatedStations: evaluated, failedStations: failed });
      if (scope === null)
        throw new AppError('VALIDATION_FAILED', 'no station failed that item in the period', 'body.itemKey');
      const text = (await this.itemTexts(tx, body.formCode)).get(body.itemKey)?.text ?? body.itemKey;
      const dueAt = body.dueAt
        ? new Date(body.dueAt).toISOString()
        : new Date(now.getTime() + ACTION_DUE_DAYS[scope] * DAY_MS).toISOString();
      if (dueAt <= at) throw new AppError('VALIDATION_FAILED', 'the due date is in the future', 'body.dueAt');
      const openFor = new Set(
        (
          await tx
            .selectFrom('mystery_action')
            .select('org_unit_id')
            .where('form_code', '=', body.formCode)
            .where('item_key', '=', body.itemKey)
            .where('state', '=', 'open')
            .execute()
        ).map((x) => Number(x.org_unit_id)),
      );
      const targets =
        scope === 'network'
          ? [{ unitId: p.orgUnitId, name: null as string | null }]
          : failing.map((f) => ({ unitId: Number(f.org_unit_id), name: f.name as string | null }));
      const fresh = targets.filter((t) => !openFor.has(t.unitId));
      if (fresh.length === 0) throw new AppError('CONFLICT', 'an open corrective action for that item exists already');
      const created: number[] = [];
      const items: WorkItemInput[] = [];
      for (const t of fresh) {
        const { id } = await tx
          .insertInto('mystery_action')
          .values({
            form_code: body.formCode,
            item_key: body.itemKey,
            item_text: text.slice(0, 500),
            scope,
            org_unit_id: t.unitId,
            period_from: body.from,
            period_to: body.to,
            failed_stations: failed,
            evaluated_stations: evaluated,
            note: body.note?.trim() || null,
            due_at: dueAt,
            state: 'open',
            created_by: p.userId,
            created_at: at,
            closed_at: null,
            closed_by: null,
            close_note: null,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        created.push(Number(id));
        // Network-wide problems are the marketing managers' of the level (HQ marketing at the top);
        // a station's problem is its station manager's.
        items.push({
          kind: 'mystery_action',
          recordId: Number(id),
          assigneeUserId: null,
          permission: scope === 'network' ? 'mystery.manage' : 'role:station_manager',
          orgUnitId: t.unitId,
          subject: `${t.name ? `${t.name} · ` : ''}${text}`,
          dueAt,
        });
        await recordAudit(tx, actorOf(p, ip), {
          action: 'mystery_action_create',
          entity: 'mystery_action',
          entityId: Number(id),
          orgUnitId: t.unitId,
          after: { formCode: body.formCode, itemKey: body.itemKey, scope, failed, evaluated, dueAt },
        });
      }
      await openWorkItems(tx, items, at);
      return { scope, evaluatedStations: evaluated, failedStations: failed, actionIds: created };
    });
  }

  async actions(p: Principal, q: { state?: 'open' | 'closed'; page: number; pageSize: number }) {
    let base = this.db
      .selectFrom('mystery_action as x')
      .innerJoin('org_unit as o', 'o.id', 'x.org_unit_id')
      .where((eb) => inScope(p, eb.ref('x.org_unit_id')));
    if (q.state) base = base.where('x.state', '=', q.state);
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await base
      .leftJoin('app_user as cu', 'cu.id', 'x.closed_by')
      .selectAll('x')
      .select(['o.name as unit_name', 'cu.display_name as closed_by_name'])
      .orderBy('x.state', 'desc')
      .orderBy('x.due_at')
      .orderBy('x.id')
      .limit(q.pageSize)
      .offset((q.page - 1) * q.pageSize)
      .execute();
    const now = this.now().toISOString();
    return {
      total: Number(total.n),
      items: rows.map((r) => ({
        id: Number(r.id),
        formCode: r.form_code,
        itemKey: r.item_key,
        itemText: r.item_text,
        scope: r.scope,
        orgUnitId: Number(r.org_unit_id),
        orgUnitName: r.unit_name,
        periodFrom: r.period_from,
        periodTo: r.period_to,
        failedStations: Number(r.failed_stations),
        evaluatedStations: Number(r.evaluated_stations),
        note: r.note,
        dueAt: r.due_at,
        overdue: r.state === 'open' && r.due_at < now,
        state: r.state,
        closedAt: r.closed_at,
        closedByName: r.closed_by_name,
        closeNote: r.close_note,
      })),
    };
  }

  async closeAction(p: Principal, ip: string | null, id: number, note: string) {
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (tx) => {
      const x = await tx.selectFrom('mystery_action').selectAll().where('id', '=', id).executeTakeFirst();
      if (!x) throw new AppError('NOT_FOUND', `action ${id} not found`);
      if (x.state !== 'open') throw new AppError('CONFLICT', 'the action is closed already');
      if (!note.trim()) throw new AppError('VALIDATION_FAILED', 'say what was done', 'body.note');
      await tx
        .updateTable('mystery_action')
        .set({ state: 'closed', closed_at: at, closed_by: p.userId, close_note: note.trim() })
        .where('id', '=', id)
        .execute();
      await closeWorkItem(tx, 'mystery_action', id, at);
      await recordAudit(tx, actorOf(p, ip), {
        action: 'mystery_action_close',
        entity: 'mystery_action',
        entityId: id,
        orgUnitId: Number(x.org_unit_id),
        before: { state: 'open' },
        after: { state: 'closed', note: note.trim() },
      });
    });
    return { id, state: 'closed', closedAt: at };
  }
}
