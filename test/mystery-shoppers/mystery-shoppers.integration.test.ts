// Mystery shoppers on both engines: forms validated with field-named errors, frozen on publishing and
// versioned on editing (evaluations keep their version); visits refused outside the window and without
// required photos, photos typed from their content and stripped of EXIF; the weighted score with the
// critical automatic fail; shoppers seeing only their own assignments and readers only their subtree;
// the analysis of items failed by many stations vs few, checked against a direct count, and the
// corrective actions it sends to the network or to the stations as work items, closed and audited.
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { actionScope } from '../../src/domain/mystery-shopper.js';

const NOW = new Date('2026-12-06T02:00:00Z'); // 10:00 in Shanghai

const item = (key: string, text: string, weight: number, over: Record<string, unknown> = {}) => ({
  key,
  text,
  weight,
  critical: false,
  photoRequired: false,
  answerType: 'yes_no',
  maxScore: null,
  ...over,
});
const FORM = {
  code: 'station_visit',
  title: '加油站神秘顾客检查表',
  passPercent: 80,
  sections: [
    {
      title: '环境',
      items: [
        item('clean', '站内整洁', 20, { photoRequired: true }),
        item('toilet', '卫生间干净', 10, { answerType: 'score', maxScore: 5 }),
      ],
    },
    {
      title: '服务',
      items: [
        item('greet', '主动问候', 30),
        item('safety', '加油前提示熄火', 10, { critical: true }),
        item('invoice', '主动提供发票', 30),
      ],
    },
  ],
};
type Answers = Record<string, number>;
const ALL_GOOD: Answers = { clean: 1, toilet: 5, greet: 1, safety: 1, invoice: 1 };

interface Detail {
  id: number;
  formVersion: number;
  state: string;
  sections: { items: { key: string }[] }[];
  visit: { scorePercent: number; passed: boolean; criticalFailed: boolean } | null;
  answers: { itemKey: string; failed: boolean; points: number }[];
  photos: { id: number; itemKey: string }[];
}

describeEngines('mystery shoppers', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  const s = new Map<string, Session>();
  const u = new Map<string, number>();
  const stations: number[] = [];
  let jpeg: Buffer;
  let formV1 = 0;

  const as = (who: string) => (who === 'admin' ? admin : s.get(who)!);
  const post = (who: string, url: string, body: unknown) => call(ctx.app, as(who), 'POST', url, body);
  const get = (who: string, url: string) => call(ctx.app, as(who), 'GET', url);
  const upload = (who: string, id: number, itemKey: string, body: Buffer) =>
    ctx.app.inject({
      method: 'POST',
      url: `/api/mystery/assignments/${id}/photos?itemKey=${itemKey}`,
      headers: { cookie: as(who).cookie, 'x-csrf-token': as(who).csrf, 'content-type': 'application/octet-stream' },
      payload: body,
    });
  const denied = async (
    res: Promise<{ statusCode: number; json: () => any; body: string }>,
    status: number,
    code: string,
    field?: string,
  ) => {
    const r = await res;
    expect(r.statusCode, r.body).toBe(status);
    expect(r.json().error.code).toBe(code);
    if (field) expect(r.json().error.field).toBe(field);
    return r.json().error;
  };
  const assign = (station: number, formId: number, over: Record<string, unknown> = {}, shopper = 'shopper') =>
    ok<{ id: number }>(
      post('yingxiao', '/api/mystery/assignments', {
        formId,
        orgUnitId: station,
        shopperUserId: u.get(shopper),
        windowFrom: '2026-12-01T00:00:00+08:00',
        windowTo: '2026-12-10T23:59:59+08:00',
        ...over,
      }),
      201,
    );
  const visit = async (id: number, answers: Answers, visitedAt?: string) => {
    expect((await upload('shopper', id, 'clean', jpeg)).statusCode).toBe(201);
    return ok<Detail>(
      post('shopper', `/api/mystery/assignments/${id}/visit`, {
        answers: Object.entries(answers).map(([itemKey, value]) => ({ itemKey, value })),
        ...(visitedAt && { visitedAt }),
      }),
    );
  };

  beforeAll(async () => {
    ctx.now.value = NOW;
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    const people: [string, number, string][] = [
      ['yingxiao', tree.hq, 'hq_marketing'],
      ['fengongsi', tree.branch1, 'branch_customer_admin'],
      ['zhanzhang', tree.station1, 'station_manager'],
      ['zhanzhang2', tree.station2, 'station_manager'],
      ['zhanzhang3', tree.station3, 'station_manager'],
      ['shopper', tree.hq, 'mystery_shopper'],
      ['shopper2', tree.hq, 'mystery_shopper'],
    ];
    for (const [name, unit, role] of people) {
      u.set(name, await createUser(ctx.app, admin, name, unit, [role]));
      s.set(name, await login(ctx.app, name, USER_PASSWORD));
    }
    stations.push(tree.station1, tree.station2, tree.station3);
    for (let i = 4; i <= 10; i++) {
      const parentId = i % 2 === 0 ? tree.area1 : tree.area2;
      const { id } = await ok<{ id: number }>(
        call(ctx.app, admin, 'POST', '/api/org/units', {
          parentId,
          kindCode: 'station',
          code: `MS-${i}`,
          name: `第${i}加油站`,
        }),
        201,
      );
      stations.push(id);
    }
    jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#39c' } })
      .jpeg()
      .withExif({ IFD0: { Make: 'PhoneCo' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '38/1 2/1 34/1' } })
      .toBuffer();
  }, 120_000);

  describe('forms', () => {
    it('refuses a form with field-named errors: weights, items, scores', async () => {
      const bad = structuredClone(FORM) as any;
      bad.sections[0].items[0].weight = 0;
      let err = await denied(
        post('yingxiao', '/api/mystery/forms', bad),
        400,
        'VALIDATION_FAILED',
        'body.sections.0.items.0.weight',
      );
      expect(err.details).toEqual([
        { field: 'body.sections.0.items.0.weight', message: expect.stringContaining('weight') },
      ]);
      const empty = { ...FORM, sections: [{ title: '空', items: [] }] };
      await denied(post('yingxiao', '/api/mystery/forms', empty), 400, 'VALIDATION_FAILED', 'body.sections.0.items');
      const noMax = structuredClone(FORM) as any;
      noMax.sections[0].items[1].maxScore = null;
      noMax.sections[1].items[0].key = 'clean';
      err = await denied(post('yingxiao', '/api/mystery/forms', noMax), 400, 'VALIDATION_FAILED');
      expect(err.details.map((d: { field: string }) => d.field)).toEqual([
        'body.sections.0.items.1.maxScore',
        'body.sections.1.items.0.key',
      ]);
    });

    it('lets only HQ policy writers author forms', async () => {
      await denied(post('fengongsi', '/api/mystery/forms', FORM), 403, 'PERMISSION_DENIED');
      await denied(post('zhanzhang', '/api/mystery/forms', FORM), 403, 'PERMISSION_DENIED');
    });

    it('publishes a draft before it can be assigned', async () => {
      const v1 = await ok<{ id: number; version: number; state: string }>(
        post('yingxiao', '/api/mystery/forms', FORM),
        201,
      );
      expect(v1).toMatchObject({ version: 1, state: 'draft' });
      await denied(
        post('yingxiao', '/api/mystery/assignments', {
          formId: v1.id,
          orgUnitId: tree.station1,
          shopperUserId: u.get('shopper'),
          windowFrom: '2026-12-01T00:00:00+08:00',
          windowTo: '2026-12-10T23:59:59+08:00',
        }),
        400,
        'VALIDATION_FAILED',
        'body.formId',
      );
      await ok(post('yingxiao', `/api/mystery/forms/${v1.id}/publish`, undefined));
      formV1 = v1.id;
      // Only stations are evaluated, and only by mystery shoppers.
      await denied(
        post('yingxiao', '/api/mystery/assignments', {
          formId: formV1,
          orgUnitId: tree.area1,
          shopperUserId: u.get('shopper'),
          windowFrom: '2026-12-01T00:00:00+08:00',
          windowTo: '2026-12-10T23:59:59+08:00',
        }),
        400,
        'VALIDATION_FAILED',
        'body.orgUnitId',
      );
      await denied(
        post('yingxiao', '/api/mystery/assignments', {
          formId: formV1,
          orgUnitId: tree.station1,
          shopperUserId: u.get('zhanzhang'),
          windowFrom: '2026-12-01T00:00:00+08:00',
          windowTo: '2026-12-10T23:59:59+08:00',
        }),
        400,
        'VALIDATION_FAILED',
        'body.shopperUserId',
      );
    });
  });

  describe('visits', () => {
    it('refuses a visit outside the window: before, after and outside the daily hours', async () => {
      const a = await assign(tree.station2, formV1, { hourFrom: 7, hourTo: 9 });
      const body = (visitedAt?: string) => ({
        answers: Object.entries(ALL_GOOD).map(([itemKey, value]) => ({ itemKey, value })),
        ...(visitedAt && { visitedAt }),
      });
      let err = await denied(
        post('shopper', `/api/mystery/assignments/${a.id}/visit`, body('2026-11-30T00:30:00Z')),
        422,
        'MYSTERY_OUTSIDE_WINDOW',
        'body.visitedAt',
      );
      expect(err.message).toContain('2026-12-01');
      // 10:00 station time, outside 07–09.
      err = await denied(
        post('shopper', `/api/mystery/assignments/${a.id}/visit`, body()),
        422,
        'MYSTERY_OUTSIDE_WINDOW',
      );
      expect(err.details).toEqual({ reason: 'hours' });
      expect(err.message).toContain('7:00');
      const past = await assign(tree.station2, formV1, {
        windowFrom: '2026-11-20T00:00:00+08:00',
        windowTo: '2026-11-30T23:59:59+08:00',
      });
      err = await denied(
        post('shopper', `/api/mystery/assignments/${past.id}/visit`, body()),
        422,
        'MYSTERY_OUTSIDE_WINDOW',
      );
      expect(err.details).toEqual({ reason: 'after' });
      expect(err.message).toContain('2026-11-30');
      // 08:30 station time is inside.
      expect((await upload('shopper', a.id, 'clean', jpeg)).statusCode).toBe(201);
      await ok(post('shopper', `/api/mystery/assignments/${a.id}/visit`, body('2026-12-06T00:30:00Z')));
    });

    it('needs every item answered and the required photos; photos are typed from content and lose EXIF', async () => {
      const a = await assign(tree.station3, formV1);
      const answers = Object.entries(ALL_GOOD).map(([itemKey, value]) => ({ itemKey, value }));
      await denied(
        post('shopper', `/api/mystery/assignments/${a.id}/visit`, { answers: answers.slice(1) }),
        400,
        'VALIDATION_FAILED',
        'body.answers.clean',
      );
      await denied(
        post('shopper', `/api/mystery/assignments/${a.id}/visit`, {
          answers: answers.map((x) => (x.itemKey === 'toilet' ? { ...x, value: 6 } : x)),
        }),
        400,
        'VALIDATION_FAILED',
        'body.answers.toilet',
      );
      const err = await denied(
        post('shopper', `/api/mystery/assignments/${a.id}/visit`, { answers, visitedAt: '2026-12-06T01:00:00Z' }),
        422,
        'MYSTERY_PHOTO_REQUIRED',
        'body.answers.clean',
      );
      expect(err.details).toEqual({ items: ['clean'] });
      // A text file named .jpg is refused by its content.
      const fake = await upload('shopper', a.id, 'clean', Buffer.from('not a photo at all, just text'));
      expect(fake.statusCode).toBe(415);
      // Another shopper's assignment does not exist for him.
      await denied(
        ctx.app.inject({
          method: 'POST',
          url: `/api/mystery/assignments/${a.id}/photos?itemKey=clean`,
          headers: {
            cookie: as('shopper2').cookie,
            'x-csrf-token': as('shopper2').csrf,
            'content-type': 'application/octet-stream',
          },
          payload: jpeg,
        }),
        404,
        'NOT_FOUND',
      );
      const done = await visit(a.id, { ...ALL_GOOD, safety: 0 }, '2026-12-06T01:00:00Z');
      // 90 of 100 points, but the critical item failed: the whole visit fails.
      expect(done.visit).toMatchObject({ scorePercent: 90, passed: false, criticalFailed: true });
      const photo = await ctx.app.inject({
        method: 'GET',
        url: `/api/mystery/assignments/${a.id}/photos/${done.photos[0]!.id}`,
        headers: { cookie: as('zhanzhang3').cookie },
      });
      expect(photo.statusCode).toBe(200);
      expect(photo.headers['content-type']).toBe('image/jpeg');
      const meta = await sharp(photo.rawPayload).metadata();
      expect(meta.exif).toBeUndefined();
      // The visit is recorded once.
      await denied(post('shopper', `/api/mystery/assignments/${a.id}/visit`, { answers }), 409, 'CONFLICT');
    });

    it('weights the score: a 3-of-5 score keeps its points, a missed greeting costs 30', async () => {
      const a = await assign(stations[3]!, formV1);
      const done = await visit(a.id, { ...ALL_GOOD, toilet: 3, greet: 0 }, '2026-12-06T01:00:00Z');
      expect(done.visit).toMatchObject({ scorePercent: 66, passed: false, criticalFailed: false });
      const byKey = Object.fromEntries(done.answers.map((x) => [x.itemKey, x]));
      expect(byKey.toilet).toMatchObject({ points: 6, failed: false });
      expect(byKey.greet).toMatchObject({ points: 0, failed: true });
    });
  });

  describe('scope', () => {
    it('shows shoppers only their assignments and readers only their subtree', async () => {
      const mine = await ok<{ id: number; orgUnitId: number }[]>(get('shopper2', '/api/mystery/my-assignments'));
      expect(mine).toEqual([]);
      await denied(get('shopper', '/api/mystery/assignments'), 403, 'PERMISSION_DENIED');
      await denied(get('shopper', '/api/mystery/results?from=2026-12-01&to=2026-12-31'), 403, 'PERMISSION_DENIED');
      const list = await ok<{ items: { id: number; orgUnitId: number }[] }>(
        get('zhanzhang3', '/api/mystery/assignments'),
      );
      expect(new Set(list.items.map((x) => x.orgUnitId))).toEqual(new Set([tree.station3]));
      const other = list.items[0]!.id;
      await denied(get('zhanzhang2', `/api/mystery/assignments/${other}`), 403, 'SCOPE_DENIED');
      await denied(get('shopper2', `/api/mystery/assignments/${other}/sheet`), 404, 'NOT_FOUND');
      const photoOf = await ok<Detail>(get('zhanzhang3', `/api/mystery/assignments/${other}`));
      const photo = await ctx.app.inject({
        method: 'GET',
        url: `/api/mystery/assignments/${other}/photos/${photoOf.photos[0]!.id}`,
        headers: { cookie: as('zhanzhang2').cookie },
      });
      expect(photo.statusCode).toBe(403);
      const results = await ok<{ visits: { orgUnitId: number }[] }>(
        get('zhanzhang3', '/api/mystery/results?from=2026-12-01&to=2026-12-31'),
      );
      expect(results.visits.map((v) => v.orgUnitId)).toEqual([tree.station3]);
      await denied(
        get('zhanzhang', '/api/mystery/analysis?formCode=station_visit&from=2026-12-01&to=2026-12-31'),
        403,
        'PERMISSION_DENIED',
      );
    });
  });

  describe('versions', () => {
    it('freezes a published version; editing makes the next version and evaluations keep theirs', async () => {
      const onV1 = await assign(tree.station1, formV1);
      const { code: _code, ...fields } = FORM;
      const edited = structuredClone(fields);
      edited.sections[1]!.items.push(item('smile', '微笑服务', 10));
      const v2 = await ok<{ id: number; version: number; state: string }>(
        call(ctx.app, admin, 'PUT', `/api/mystery/forms/${formV1}`, edited),
      );
      expect(v2).toMatchObject({ version: 2, state: 'draft' });
      expect(v2.id).not.toBe(formV1);
      // One draft at a time.
      await denied(call(ctx.app, admin, 'PUT', `/api/mystery/forms/${formV1}`, edited), 409, 'CONFLICT');
      await ok(post('yingxiao', `/api/mystery/forms/${v2.id}/publish`, undefined));
      const forms = await ok<{ id: number; version: number; state: string; itemCount: number }[]>(
        get('yingxiao', '/api/mystery/forms'),
      );
      expect(forms.map((f) => [f.version, f.state, f.itemCount])).toEqual([
        [2, 'published', 6],
        [1, 'retired', 5],
      ]);
      await denied(post('yingxiao', `/api/mystery/forms/${formV1}/publish`, undefined), 409, 'CONFLICT');
      await denied(
        post('yingxiao', '/api/mystery/assignments', {
          formId: formV1,
          orgUnitId: tree.station1,
          shopperUserId: u.get('shopper'),
          windowFrom: '2026-12-01T00:00:00+08:00',
          windowTo: '2026-12-10T23:59:59+08:00',
        }),
        400,
        'VALIDATION_FAILED',
        'body.formId',
      );
      // The assignment made on version 1 is answered on version 1's five items.
      const sheet = await ok<Detail>(get('shopper', `/api/mystery/assignments/${onV1.id}/sheet`));
      expect(sheet.formVersion).toBe(1);
      expect(sheet.sections.flatMap((x) => x.items.map((i) => i.key))).toEqual([
        'clean',
        'toilet',
        'greet',
        'safety',
        'invoice',
      ]);
      const done = await visit(onV1.id, ALL_GOOD, '2026-12-06T01:00:00Z');
      expect(done.formVersion).toBe(1);
      expect(done.visit).toMatchObject({ scorePercent: 100, passed: true });
    });
  });

  describe('analysis and corrective actions', () => {
    it('sends an item many stations failed to the network and one few failed to those stations', async () => {
      const forms = await ok<{ id: number; state: string }[]>(get('yingxiao', '/api/mystery/forms'));
      const v2 = forms.find((f) => f.state === 'published')!.id;
      // Stations 5..10 get a visit on version 2 in the second week; three of all ten fail "clean"
      // between them, only station 10 fails "invoice".
      const plan: Answers[] = [
        { ...ALL_GOOD, smile: 1, clean: 0 },
        { ...ALL_GOOD, smile: 1, clean: 0 },
        { ...ALL_GOOD, smile: 1 },
        { ...ALL_GOOD, smile: 1 },
        { ...ALL_GOOD, smile: 1 },
        { ...ALL_GOOD, smile: 1, clean: 0, invoice: 0 },
      ];
      for (let i = 0; i < plan.length; i++) {
        const a = await assign(stations[4 + i]!, v2);
        await visit(a.id, plan[i]!, '2026-12-06T01:00:00Z');
      }
      const analysis = await ok<{
        items: {
          itemKey: string;
          evaluatedStations: number;
          failedStations: number;
          decision: string | null;
          stations: { orgUnitId: number }[];
        }[];
      }>(get('yingxiao', '/api/mystery/analysis?formCode=station_visit&from=2026-12-01&to=2026-12-31'));
      const byKey = Object.fromEntries(analysis.items.map((x) => [x.itemKey, x]));

      // The same figures straight from the answers.
      const direct = async (key: string) => {
        const rows = await ctx.db.kysely
          .selectFrom('mystery_answer')
          .select(['org_unit_id', 'failed'])
          .where('form_code', '=', 'station_visit')
          .where('item_key', '=', key)
          .execute();
        const evaluated = new Set(rows.map((r) => Number(r.org_unit_id))).size;
        const failed = new Set(rows.filter((r) => Number(r.failed) === 1).map((r) => Number(r.org_unit_id))).size;
        return { evaluatedStations: evaluated, failedStations: failed };
      };
      for (const key of ['clean', 'greet', 'safety', 'invoice', 'toilet', 'smile']) {
        const d = await direct(key);
        expect(byKey[key], key).toMatchObject(d);
        expect(byKey[key]!.decision, key).toBe(actionScope(d));
      }
      expect(byKey.clean).toMatchObject({ evaluatedStations: 10, failedStations: 3, decision: 'network' });
      expect(byKey.invoice).toMatchObject({ failedStations: 1, decision: 'station' });
      expect(byKey.invoice!.stations.map((x) => x.orgUnitId)).toEqual([stations[9]]);
      expect(byKey.smile).toMatchObject({ failedStations: 0, decision: null });

      // The network's problem: one action for HQ marketing.
      const net = await ok<{ scope: string; actionIds: number[] }>(
        post('yingxiao', '/api/mystery/actions', {
          formCode: 'station_visit',
          itemKey: 'clean',
          from: '2026-12-01',
          to: '2026-12-31',
        }),
        201,
      );
      expect(net.scope).toBe('network');
      expect(net.actionIds).toHaveLength(1);
      await denied(
        post('yingxiao', '/api/mystery/actions', {
          formCode: 'station_visit',
          itemKey: 'clean',
          from: '2026-12-01',
          to: '2026-12-31',
        }),
        409,
        'CONFLICT',
      );
      const netWork = await ctx.db.kysely
        .selectFrom('work_item')
        .select(['permission', 'org_unit_id', 'due_at'])
        .where('kind', '=', 'mystery_action')
        .where('record_id', '=', net.actionIds[0]!)
        .executeTakeFirstOrThrow();
      expect(netWork).toMatchObject({ permission: 'mystery.manage', org_unit_id: tree.hq });
      expect(new Date(netWork.due_at).toISOString()).toBe('2027-01-05T02:00:00.000Z');

      // One station's problem: to that station's manager.
      const one = await ok<{ scope: string; actionIds: number[] }>(
        post('yingxiao', '/api/mystery/actions', {
          formCode: 'station_visit',
          itemKey: 'invoice',
          from: '2026-12-01',
          to: '2026-12-31',
          dueAt: '2026-12-13T18:00:00+08:00',
        }),
        201,
      );
      expect(one.scope).toBe('station');
      const oneWork = await ctx.db.kysely
        .selectFrom('work_item')
        .select(['permission', 'org_unit_id'])
        .where('kind', '=', 'mystery_action')
        .where('record_id', '=', one.actionIds[0]!)
        .executeTakeFirstOrThrow();
      expect(oneWork).toMatchObject({ permission: 'role:station_manager', org_unit_id: stations[9] });
      await denied(
        post('yingxiao', '/api/mystery/actions', {
          formCode: 'station_visit',
          itemKey: 'smile',
          from: '2026-12-01',
          to: '2026-12-31',
        }),
        400,
        'VALIDATION_FAILED',
        'body.itemKey',
      );

      // HQ marketing finds the network action in the inbox; station 1's manager sees neither.
      const inbox = await ok<{ items: { kind: string; recordId: number }[] }>(
        get('yingxiao', '/api/work/inbox?kind=mystery_action'),
      );
      expect(inbox.items.map((x) => x.recordId)).toEqual([net.actionIds[0]]);
      const actions1 = await ok<{ items: unknown[] }>(get('zhanzhang', '/api/mystery/actions'));
      expect(actions1.items).toEqual([]);
      await denied(
        post('zhanzhang', `/api/mystery/actions/${one.actionIds[0]}/close`, { note: '已整改' }),
        403,
        'SCOPE_DENIED',
      );

      // HQ closes the station's action on its behalf here (the station's manager would in practice).
      await ok(post('yingxiao', `/api/mystery/actions/${one.actionIds[0]}/close`, { note: '已培训开票' }));
      await denied(
        post('yingxiao', `/api/mystery/actions/${one.actionIds[0]}/close`, { note: '再次' }),
        409,
        'CONFLICT',
      );
      const closed = await ctx.db.kysely
        .selectFrom('work_item')
        .select('state')
        .where('kind', '=', 'mystery_action')
        .where('record_id', '=', one.actionIds[0]!)
        .executeTakeFirstOrThrow();
      expect(closed.state).toBe('done');
      const audit = await ctx.db.kysely
        .selectFrom('audit_log')
        .select('action')
        .where('action', 'like', 'mystery_%')
        .execute();
      expect(new Set(audit.map((x) => x.action))).toEqual(
        new Set([
          'mystery_form_create',
          'mystery_form_version',
          'mystery_form_publish',
          'mystery_assign',
          'mystery_photo',
          'mystery_visit',
          'mystery_action_create',
          'mystery_action_close',
        ]),
      );
    });
  });
});
