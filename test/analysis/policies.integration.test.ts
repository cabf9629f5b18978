import { beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { buildTree, createUser, USER_PASSWORD } from '../helpers/fixtures.js';
import { DEFAULT_POLICIES } from '../../src/domain/policies.js';

describeEngines('policies', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let marketing: Session;
  let manager: Session;

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    const tree = await buildTree(ctx.app, admin);
    await createUser(ctx.app, admin, 'hq_mkt', tree.hq, ['hq_marketing']);
    await createUser(ctx.app, admin, 'st_mgr', tree.station1, ['station_manager']);
    marketing = await login(ctx.app, 'hq_mkt', USER_PASSWORD);
    manager = await login(ctx.app, 'st_mgr', USER_PASSWORD);
  });

  it('starts from the defaults', async () => {
    const all = await ok<{ kind: string; versionId: number | null; body: unknown }[]>(
      call(ctx.app, manager, 'GET', '/api/policies'),
    );
    expect(all.find((p) => p.kind === 'anomaly')).toMatchObject({ versionId: null, body: DEFAULT_POLICIES.anomaly });
  });

  it('keeps every saved version, audited, and puts the newest in force', async () => {
    await ok(
      call(ctx.app, marketing, 'PUT', '/api/policies/anomaly', {
        body: { ...DEFAULT_POLICIES.anomaly, graceDays: 4 },
        note: '节后放宽',
      }),
    );
    await ok(
      call(ctx.app, marketing, 'PUT', '/api/policies/anomaly', { body: { ...DEFAULT_POLICIES.anomaly, graceDays: 5 } }),
    );
    const all = await ok<{ kind: string; body: { graceDays: number }; createdByName: string }[]>(
      call(ctx.app, manager, 'GET', '/api/policies'),
    );
    expect(all.find((p) => p.kind === 'anomaly')!.body.graceDays).toBe(5);
    const history = await ok<{ body: { graceDays: number }; note: string | null }[]>(
      call(ctx.app, manager, 'GET', '/api/policies/anomaly/history'),
    );
    expect(history.map((h) => h.body.graceDays)).toEqual([5, 4]);
    expect(history[1]!.note).toBe('节后放宽');
    const audit = await ok<{ items: { entity: string }[] }>(call(ctx.app, admin, 'GET', '/api/audit?entity=policy'));
    expect(audit.items.length).toBeGreaterThanOrEqual(2);
  });

  type Change = { path: string[]; before: unknown; after: unknown };
  type Entry = { versionId: number; createdByName: string; note: string | null; changes: Change[] };
  const put = (s: Session, kind: string, body: unknown, note?: string) =>
    call(ctx.app, s, 'PUT', `/api/policies/${kind}`, { body, ...(note !== undefined && { note }) });
  const historyOf = (kind: string) => ok<Entry[]>(call(ctx.app, manager, 'GET', `/api/policies/${kind}/history`));

  it('lists each version with the display name of who saved it and what it changed', async () => {
    await ok(put(marketing, 'card', { ...DEFAULT_POLICIES.card, minMonthlyYuan: 2500.5 }));
    await ok(put(admin, 'card', { discountRate: 0.03, minMonthlyYuan: 2500.5 }, '提高折扣'));
    const history = await historyOf('card');
    expect(history.map((h) => h.createdByName)).toEqual(['系统管理员', '用户hq_mkt']);
    expect(history[0]!.note).toBe('提高折扣');
    expect(history[0]!.changes).toEqual([{ path: ['discountRate'], before: 0.02, after: 0.03 }]);
    // The first version is compared with the default.
    expect(history[1]!.changes).toEqual([{ path: ['minMonthlyYuan'], before: 3000, after: 2500.5 }]);

    const classes = [
      { code: 'VIP', minStars: 4 },
      { code: 'A', minStars: 2 },
      { code: 'C', minStars: 0 },
    ];
    await ok(put(marketing, 'classes', { classes }));
    const [latest] = await historyOf('classes');
    expect(latest!.changes).toEqual([
      { path: ['classes', 'A', 'minStars'], before: 3, after: 2 },
      { path: ['classes', 'B', 'minStars'], before: 2, after: null },
    ]);
    expect((await call(ctx.app, null, 'GET', '/api/policies/classes/history')).statusCode).toBe(401);
    expect((await call(ctx.app, manager, 'GET', '/api/policies/nonsense/history')).statusCode).toBe(400);
  });

  it('names the field of a value outside its limits or a rule across fields, and saves nothing', async () => {
    const before = await historyOf('anomaly');
    const tooMany = await put(marketing, 'anomaly', { ...DEFAULT_POLICIES.anomaly, graceDays: 61 });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.body.graceDays' });
    const fraction = await put(marketing, 'anomaly', { ...DEFAULT_POLICIES.anomaly, minVisits: 2.5 });
    expect(fraction.json().error.field).toBe('body.body.minVisits');
    expect(await historyOf('anomaly')).toHaveLength(before.length);

    const fen = await put(marketing, 'key_customer', { ...DEFAULT_POLICIES.key_customer, minTransactionYuan: 800.005 });
    expect(fen.statusCode).toBe(400);
    expect(fen.json().error).toMatchObject({ field: 'body.body.minTransactionYuan', details: { rule: 'fen' } });
    const dup = await put(marketing, 'classes', {
      classes: [
        { code: 'A', minStars: 3 },
        { code: 'A', minStars: 1 },
      ],
    });
    expect(dup.json().error).toMatchObject({ field: 'body.body.classes.1.code', details: { rule: 'code_unique' } });
    const late = await put(marketing, 'star_rating', { ...DEFAULT_POLICIES.star_rating, computeDay: 6 });
    expect(late.json().error).toMatchObject({ field: 'body.body.finalDay', details: { rule: 'final_before_compute' } });
    expect((await historyOf('star_rating')).length).toBe(0);
  });

  it('denies saving without policy.write and names the bad field', async () => {
    expect(
      (await call(ctx.app, manager, 'PUT', '/api/policies/anomaly', { body: DEFAULT_POLICIES.anomaly })).statusCode,
    ).toBe(403);
    const bad = await call(ctx.app, marketing, 'PUT', '/api/policies/star_rating', {
      body: { ...DEFAULT_POLICIES.star_rating, thresholds: { default: [100, 50, 200, 300] } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/thresholds.default/);
    expect(bad.json().error).toMatchObject({
      field: 'body.body.thresholds.default.1',
      details: { rule: 'thresholds_rise' },
    });
    const wrongType = await call(ctx.app, marketing, 'PUT', '/api/policies/card', {
      body: { discountRate: 'a lot', minMonthlyYuan: 1 },
    });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().error.field).toMatch(/discountRate/);
  });
});
