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
    const all = await ok<{ kind: string; versionId: number | null; body: unknown }[]>(call(ctx.app, manager, 'GET', '/api/policies'));
    expect(all.find((p) => p.kind === 'anomaly')).toMatchObject({ versionId: null, body: DEFAULT_POLICIES.anomaly });
  });

  it('keeps every saved version, audited, and puts the newest in force', async () => {
    await ok(call(ctx.app, marketing, 'PUT', '/api/policies/anomaly', { body: { ...DEFAULT_POLICIES.anomaly, graceDays: 4 }, note: '节后放宽' }));
    await ok(call(ctx.app, marketing, 'PUT', '/api/policies/anomaly', { body: { ...DEFAULT_POLICIES.anomaly, graceDays: 5 } }));
    const all = await ok<{ kind: string; body: { graceDays: number }; createdByName: string }[]>(call(ctx.app, manager, 'GET', '/api/policies'));
    expect(all.find((p) => p.kind === 'anomaly')!.body.graceDays).toBe(5);
    const history = await ok<{ body: { graceDays: number }; note: string | null }[]>(call(ctx.app, manager, 'GET', '/api/policies/anomaly/history'));
    expect(history.map((h) => h.body.graceDays)).toEqual([5, 4]);
    expect(history[1]!.note).toBe('节后放宽');
    const audit = await ok<{ items: { entity: string }[] }>(call(ctx.app, admin, 'GET', '/api/audit?entity=policy'));
    expect(audit.items.length).toBeGreaterThanOrEqual(2);
  });

  it('denies saving without policy.write and names the bad field', async () => {
    expect((await call(ctx.app, manager, 'PUT', '/api/policies/anomaly', { body: DEFAULT_POLICIES.anomaly })).statusCode).toBe(403);
    const bad = await call(ctx.app, marketing, 'PUT', '/api/policies/star_rating', { body: { ...DEFAULT_POLICIES.star_rating, thresholds: { default: [100, 50, 200, 300] } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/thresholds.default/);
    const wrongType = await call(ctx.app, marketing, 'PUT', '/api/policies/card', { body: { discountRate: 'a lot', minMonthlyYuan: 1 } });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().error.field).toMatch(/discountRate/);
  });
});
