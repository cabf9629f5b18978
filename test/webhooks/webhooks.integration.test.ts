// Webhooks on both engines, against receivers this test starts on loopback: a delivery is signed
// (checked with an HMAC computed here), retried with back-off after failures and timeouts, given up
// after its attempts, the subscription switched off after failures in a row and on again by hand,
// replayed from the log; events reach only subscriptions of the event's unit or above; only those who
// manage API keys, within their subtree, see or change subscriptions.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { buildTree, createUser, USER_PASSWORD, type Tree } from '../helpers/fixtures.js';
import { WebhookDispatcher } from '../../src/server/modules/webhooks/webhook-dispatcher.js';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A receiver: each path answers by its rule (status codes in turn; 'hang' never answers in time). */
async function startReceiver(rules: Record<string, (number | 'hang')[]>) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const path = req.url ?? '/';
      got.push({ path, headers: req.headers, body });
      const seq = rules[path] ?? [200];
      const next = seq.length > 1 ? seq.shift()! : seq[0]!;
      if (next === 'hang') {
        setTimeout(() => {
          res.writeHead(200);
          res.end('late');
        }, 2_000);
        return;
      }
      res.writeHead(next);
      res.end(next < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    got,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describeEngines('webhooks', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  // Deliveries fall due when their change was made (the real clock); the dispatcher's runs from an hour later.
  const clock = { at: new Date(Date.now() + 3_600_000) };
  const retry = { maxAttempts: 4, baseMs: 60_000, capMs: 3_600_000, disableAfter: 3 };
  const dispatcher = () =>
    new WebhookDispatcher(
      ctx.db.kysely,
      { timeoutMs: 300, retry },
      () => clock.at,
      () => 0,
    );

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    receiver = await startReceiver({ '/flaky': [500, 502, 200], '/slow': ['hang'], '/down': [503] });
  }, 60_000);
  afterAll(async () => {
    await receiver?.close();
  });

  const subscribe = (s: Session, body: Record<string, unknown>) => call(ctx.app, s, 'POST', '/api/webhooks', body);
  const deliveries = (id: number) =>
    ok<
      {
        id: number;
        status: string;
        attempts: number;
        lastError: string | null;
        lastStatusCode: number | null;
        nextAttemptAt: string | null;
      }[]
    >(call(ctx.app, admin, 'GET', `/api/webhooks/${id}/deliveries`));
  const newCustomer = (unit: number, name: string) =>
    ok<{ id: number }>(
      call(ctx.app, admin, 'POST', '/api/customers', { kind: 'individual', name, orgUnitId: unit }),
      201,
    );

  it('signs each delivery, and sends a branch only the events of its own units', async () => {
    const hook = await ok<{ id: number; secret: string; events: string[] }>(
      subscribe(admin, {
        name: '一分公司 ERP',
        url: `${receiver.base}/ok`,
        events: ['customer.created', 'customer.merged'],
        orgUnitId: tree.branch1,
      }),
      201,
    );
    expect(hook.secret).toMatch(/^whsec_/);
    const inBranch = await newCustomer(tree.station1, '周师傅');
    await newCustomer(tree.station3, '吴师傅'); // branch 2: not this subscription's
    const other = await newCustomer(tree.station2, '周师傅2');
    await ok(call(ctx.app, admin, 'POST', `/api/customers/${inBranch.id}/merge`, { mergedId: other.id }));

    expect((await deliveries(hook.id)).map((d) => d.status)).toEqual(['pending', 'pending', 'pending']);
    const run = await dispatcher().runOnce();
    expect(run).toMatchObject({ attempted: 3, delivered: 3, failed: 0 });
    const got = receiver.got.filter((g) => g.path === '/ok');
    // Sent four at a time: the order of arrival is not the order of events.
    expect(got.map((g) => JSON.parse(g.body).event).sort()).toEqual([
      'customer.created',
      'customer.created',
      'customer.merged',
    ]);
    for (const g of got) {
      const ts = String(g.headers['x-forecourt-timestamp']);
      const mac = crypto.createHmac('sha256', hook.secret).update(`${ts}.${g.body}`).digest('hex');
      expect(g.headers['x-forecourt-signature']).toBe(`sha256=${mac}`);
      expect(g.headers['content-type']).toBe('application/json');
    }
    const bodies = got.map((g) => JSON.parse(g.body) as { event: string; data: Record<string, unknown> });
    expect(bodies.map((b) => b.data)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ customerId: inBranch.id, name: '周师傅' }),
        expect.objectContaining({ survivorId: inBranch.id, mergedId: other.id }),
      ]),
    );
    // Nothing is sent twice.
    expect(await dispatcher().runOnce()).toMatchObject({ attempted: 0 });
    expect((await deliveries(hook.id)).every((d) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
    // From here on it takes merges only, so the next subscriptions' receivers are the only ones called.
    await ok(call(ctx.app, admin, 'PATCH', `/api/webhooks/${hook.id}`, { events: ['customer.merged'] }));
  });

  it('retries failures with back-off until the receiver answers 2xx', async () => {
    const hook = await ok<{ id: number }>(
      subscribe(admin, {
        name: 'flaky',
        url: `${receiver.base}/flaky`,
        events: ['customer.created'],
        orgUnitId: tree.station2,
      }),
      201,
    );
    await newCustomer(tree.station2, '郑师傅');
    const t0 = clock.at.getTime();
    expect(await dispatcher().runOnce()).toMatchObject({ attempted: 1, failed: 1 });
    let [d] = await deliveries(hook.id);
    expect(d).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500' });
    // Back-off with the random part at 0: half of base · 2^0 = 30 s.
    expect(Date.parse(d!.nextAttemptAt!) - t0).toBe(30_000);
    expect(await dispatcher().runOnce()).toMatchObject({ attempted: 0 });
    clock.at = new Date(t0 + 30_000);
    expect(await dispatcher().runOnce()).toMatchObject({ attempted: 1, failed: 1 });
    [d] = await deliveries(hook.id);
    expect(Date.parse(d!.nextAttemptAt!) - clock.at.getTime()).toBe(60_000);
    clock.at = new Date(clock.at.getTime() + 60_000);
    expect(await dispatcher().runOnce()).toMatchObject({ attempted: 1, delivered: 1 });
    [d] = await deliveries(hook.id);
    expect(d).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 200 });
    const hooks = await ok<{ id: number; consecutiveFailures: number }[]>(call(ctx.app, admin, 'GET', '/api/webhooks'));
    expect(hooks.find((h) => h.id === hook.id)!.consecutiveFailures).toBe(0);
  });

  it('counts a receiver that does not answer in time as a failure, switches the subscription off after failures in a row, and on again by hand', async () => {
    const hook = await ok<{ id: number }>(
      subscribe(admin, {
        name: 'slow',
        url: `${receiver.base}/slow`,
        events: ['customer.created'],
        orgUnitId: tree.station3,
      }),
      201,
    );
    await newCustomer(tree.station3, '王师傅');
    await newCustomer(tree.station3, '李师傅');
    await newCustomer(tree.station3, '冯师傅');
    const started = Date.now();
    const run = await dispatcher().runOnce();
    expect(Date.now() - started).toBeLessThan(1_500);
    // Three attempts failed in a row: the third switched the subscription off.
    expect(run).toMatchObject({ attempted: 3, failed: 3, disabled: 1 });
    const list = await deliveries(hook.id);
    expect(list.every((d) => d.lastError === 'no answer within 300 ms')).toBe(true);
    let h = (
      await ok<{ id: number; active: boolean; disabledReason: string }[]>(call(ctx.app, admin, 'GET', '/api/webhooks'))
    ).find((x) => x.id === hook.id)!;
    expect(h).toMatchObject({ active: false, disabledReason: 'failed 3 times in a row' });
    // Switched off: nothing of it is sent, however long one waits.
    clock.at = new Date(clock.at.getTime() + 86_400_000);
    expect(await dispatcher().runOnce()).toMatchObject({ attempted: 0 });
    h = await ok(
      call(ctx.app, admin, 'PATCH', `/api/webhooks/${hook.id}`, { active: true, url: `${receiver.base}/ok` }),
    );
    expect(h).toMatchObject({ active: true, consecutiveFailures: 0 });
    expect(await dispatcher().runOnce()).toMatchObject({ attempted: 3, delivered: 3 });
  });

  it('gives a delivery up after its attempts, and replays it from the log as a new delivery', async () => {
    const hook = await ok<{ id: number }>(
      subscribe(admin, {
        name: 'down',
        url: `${receiver.base}/down`,
        events: ['customer.created'],
        orgUnitId: tree.area2,
      }),
      201,
    );
    // One failure at a time, far apart: attempts run out before failures in a row switch it off.
    await ok(call(ctx.app, admin, 'PATCH', `/api/webhooks/${hook.id}`, {}));
    await newCustomer(tree.station3, '陈师傅');
    const local = new WebhookDispatcher(
      ctx.db.kysely,
      { timeoutMs: 300, retry: { ...retry, disableAfter: 100 } },
      () => clock.at,
      () => 0,
    );
    for (let i = 0; i < 4; i++) {
      await local.runOnce();
      clock.at = new Date(clock.at.getTime() + 3_600_000);
    }
    const [d] = await deliveries(hook.id);
    expect(d).toMatchObject({ status: 'failed', attempts: 4, lastStatusCode: 503 });
    expect(await local.runOnce()).toMatchObject({ attempted: 0 });
    await ok(call(ctx.app, admin, 'PATCH', `/api/webhooks/${hook.id}`, { url: `${receiver.base}/ok` }));
    const replay = await ok<{ id: number; status: string }>(
      call(ctx.app, admin, 'POST', `/api/webhook-deliveries/${d!.id}/replay`),
      201,
    );
    expect(replay.status).toBe('pending');
    expect(await local.runOnce()).toMatchObject({ attempted: 1, delivered: 1 });
    // A delivery still being sent cannot be replayed; the replay is in the audit log.
    expect((await call(ctx.app, admin, 'POST', `/api/webhook-deliveries/${replay.id}/replay`)).statusCode).toBe(201);
    const again = (await deliveries(hook.id))[0]!;
    expect((await call(ctx.app, admin, 'POST', `/api/webhook-deliveries/${again.id}/replay`)).statusCode).toBe(409);
    const audit = await ctx.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('entity', '=', 'webhook')
      .where('entity_id', '=', String(hook.id))
      .execute();
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['create', 'update', 'replay']));
  });

  it('refuses bad input by field, and anyone outside the subtree or without the right', async () => {
    const bad = await subscribe(admin, { name: 'x', url: 'ftp://x.example', events: ['customer.created'] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe('body.url');
    const badEvent = await subscribe(admin, { name: 'x', url: 'https://x.example', events: ['customer.deleted'] });
    expect(badEvent.statusCode).toBe(400);
    expect(badEvent.json().error.field).toMatch(/body\.events/);

    await ok(
      call(ctx.app, admin, 'POST', '/api/roles', {
        code: 'integrator',
        nameZh: '接口管理员',
        nameEn: 'Integrator',
        permissions: ['apikey.manage'],
      }),
      201,
    );
    await createUser(ctx.app, admin, 'integrator2', tree.branch2, ['integrator']);
    await createUser(ctx.app, admin, 'attendant1', tree.station1, ['attendant']);
    const b2 = await login(ctx.app, 'integrator2', USER_PASSWORD);
    const att = await login(ctx.app, 'attendant1', USER_PASSWORD);
    const mine = await ok<{ id: number }[]>(call(ctx.app, b2, 'GET', '/api/webhooks'));
    const all = await ok<{ id: number; orgUnitId: number }[]>(call(ctx.app, admin, 'GET', '/api/webhooks'));
    const branch1Hook = all.find((h) => h.orgUnitId === tree.branch1)!;
    expect(mine.map((h) => h.id)).not.toContain(branch1Hook.id);
    expect(mine.length).toBe(all.filter((h) => [tree.station3, tree.area2].includes(h.orgUnitId)).length);
    for (const [method, path, body] of [
      ['PATCH', `/api/webhooks/${branch1Hook.id}`, { active: false }],
      ['GET', `/api/webhooks/${branch1Hook.id}/deliveries`, undefined],
      ['POST', `/api/webhooks/${branch1Hook.id}/rotate-secret`, undefined],
      ['DELETE', `/api/webhooks/${branch1Hook.id}`, undefined],
    ] as const) {
      const res = await call(ctx.app, b2, method, path, body);
      expect([403, 404], `${method} ${path}`).toContain(res.statusCode);
    }
    expect(
      (await subscribe(b2, { name: 'x', url: 'https://x.example', events: ['alert.opened'], orgUnitId: tree.branch1 }))
        .statusCode,
    ).toBe(403);
    expect((await call(ctx.app, att, 'GET', '/api/webhooks')).statusCode).toBe(403);
    expect((await subscribe(att, { name: 'x', url: 'https://x.example', events: ['alert.opened'] })).statusCode).toBe(
      403,
    );
    // The branch-1 subscription is untouched.
    expect(
      (await ok<{ id: number; active: boolean }[]>(call(ctx.app, admin, 'GET', '/api/webhooks'))).find(
        (h) => h.id === branch1Hook.id,
      )!.active,
    ).toBe(true);
  });
});
