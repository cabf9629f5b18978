// Complaints on both engines: intake with a case number at once, the known customer linked and his
// pump card flagged, phones masked for those without customer.phone; every stage of the chain and who
// may take it (wrong unit, wrong role, a skipped stage, rectify without evidence); evidence files by
// content type and size, re-encoded without EXIF, served only inside the case's scope; returns and
// reassignments counted; emergencies owned at company level; an unsatisfied callback reopening the case
// one level up; duplicates found, merged, linked and undone; work items for each owner; audit.
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { grantComplaintPermissions } from '../../src/server/db/migrations/0028-complaints.js';

interface Detail {
  id: number;
  caseNo: string;
  state: string;
  emergency: boolean;
  ownerUnitId: number | null;
  levelUp: number;
  customer: { id: number } | null;
  complainantPhone: string | null;
  customerFlag: boolean;
  returnCount: number;
  reassignCount: number;
  reopenCount: number;
  rating: number | null;
  orgUnitId: number;
  allowedActions: string[];
  events: {
    action: string;
    fromState: string | null;
    toState: string;
    actorName: string;
    detail: Record<string, unknown>;
  }[];
  attachments: { id: number; stage: string; contentType: string }[];
  duplicates: { id: number; reasons: string[] }[];
  linked: { id: number }[];
  merged: { id: number }[];
  owners: { stage: string; level: string; unitId: number }[];
}

const NOW = new Date('2026-12-06T02:00:00Z');

describeEngines('complaints', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  const s = new Map<string, Session>();
  const u = new Map<string, number>();
  let plateNo = 0;
  let jpeg: Buffer;

  const as = (who: string) => (who === 'admin' ? admin : s.get(who)!);
  const take = (who: string, body: Record<string, unknown>) => call(ctx.app, as(who), 'POST', '/api/complaints', body);
  const read = (who: string, id: number) => call(ctx.app, as(who), 'GET', `/api/complaints/${id}`);
  const step = (who: string, id: number, body: Record<string, unknown>) =>
    call(ctx.app, as(who), 'POST', `/api/complaints/${id}/steps`, body);
  const upload = (who: string, id: number, body: Buffer, fileName = 'photo.jpg') =>
    ctx.app.inject({
      method: 'POST',
      url: `/api/complaints/${id}/attachments?fileName=${encodeURIComponent(fileName)}`,
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
  };
  const customer = async (unit: number, phone?: string) => {
    const plate = `冀A${String(20000 + ++plateNo)}`;
    const { id } = await ok<{ id: number }>(
      call(ctx.app, admin, 'POST', '/api/customers', {
        kind: 'individual',
        orgUnitId: unit,
        name: `投诉客户${plateNo}`,
        surname: '赵',
        vehicles: [{ plate }],
        ...(phone && { phones: [{ phone }] }),
      }),
      201,
    );
    return { id, plate };
  };
  const base = (over: Record<string, unknown> = {}) => ({
    channel: 'station',
    categoryCode: 'station_service',
    severityCode: 'general',
    orgUnitId: tree.station1,
    content: '加油员态度不好，发票开错了',
    complainantName: '赵先生',
    ...over,
  });
  const work = async (id: number) =>
    ctx.db.kysely
      .selectFrom('work_item')
      .select(['queue_key', 'permission', 'assignee_user_id', 'org_unit_id', 'state'])
      .where('kind', '=', 'complaint')
      .where('record_id', '=', id)
      .orderBy('queue_key')
      .execute();
  const pumpFlag = async (plate: string) => {
    const rows = await ok<{ plate: string; unhappyBefore: boolean }[]>(
      call(ctx.app, s.get('zhanzhang')!, 'GET', `/api/pump/lookup?q=${encodeURIComponent(plate)}`),
    );
    return rows.find((r) => r.plate === plate)!.unhappyBefore;
  };
  /** Verify and review a fresh case, upload evidence and rectify it: it waits for the callback. */
  const toCallback = async (id: number) => {
    await ok(step('zhanzhang', id, { action: 'verify', note: '属实' }));
    await ok(step('pianqu', id, { action: 'review', note: '同意整改' }));
    expect((await upload('zhanzhang', id, jpeg)).statusCode).toBe(201);
    return ok<Detail>(step('zhanzhang', id, { action: 'rectify', note: '已培训' }));
  };

  beforeAll(async () => {
    ctx.now.value = NOW;
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    const people: [string, number, string][] = [
      ['jiayou', tree.station1, 'attendant'],
      ['zhanzhang', tree.station1, 'station_manager'],
      ['zhanzhang2', tree.station2, 'station_manager'],
      ['pianqu', tree.area1, 'area_customer_manager'],
      ['kefu', tree.area1, 'cs_agent'],
      ['kefu_b', tree.branch1, 'cs_agent'],
      ['fengongsi', tree.branch1, 'branch_customer_admin'],
      ['yingxiao', tree.hq, 'hq_marketing'],
      ['zhanzhang3', tree.station3, 'station_manager'],
      ['daibiao', tree.area1, 'sales_rep'],
    ];
    for (const [name, unit, role] of people) {
      u.set(name, await createUser(ctx.app, admin, name, unit, [role]));
      s.set(name, await login(ctx.app, name, USER_PASSWORD));
    }
    jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3c3' } })
      .jpeg()
      .withExif({
        IFD0: { Make: 'PhoneCo', Copyright: 'secret' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '38/1 2/1 34/1' },
      })
      .toBuffer();
  }, 120_000);

  it('serves the twelve categories and the severity levels as data, editable by HQ only', async () => {
    const cat = await ok<{ categories: { code: string; emergency: boolean }[]; severities: { code: string }[] }>(
      call(ctx.app, s.get('jiayou')!, 'GET', '/api/complaints/catalog'),
    );
    expect(cat.categories).toHaveLength(12);
    expect(cat.categories.filter((c) => c.emergency).map((c) => c.code)).toEqual([
      'safety',
      'mass_incident',
      'regulator',
      'media',
    ]);
    expect(cat.severities.map((x) => x.code)).toEqual(['critical', 'major', 'general', 'minor']);
    await denied(call(ctx.app, s.get('zhanzhang')!, 'PUT', '/api/complaints/catalog', cat), 403, 'PERMISSION_DENIED');
    const edited = await ok<typeof cat>(
      call(ctx.app, s.get('yingxiao')!, 'PUT', '/api/complaints/catalog', {
        categories: (cat as any).categories.map((c: any) =>
          c.code === 'finance' ? { ...c, nameZh: '财务与发票' } : c,
        ),
        severities: (cat as any).severities,
      }),
    );
    expect((edited as any).categories.find((c: any) => c.code === 'finance').nameZh).toBe('财务与发票');
  });

  it('takes a complaint at the station: case number at once, the customer linked by plate, flagged, phone masked', async () => {
    const c = await customer(tree.station1, '13912345678');
    await ctx.db.kysely
      .updateTable('customer')
      .set({ owner_user_id: u.get('daibiao')! })
      .where('id', '=', c.id)
      .execute();
    const res = await ok<Detail>(take('jiayou', base({ plate: c.plate, complainantPhone: '13912345678' })), 201);
    expect(res.caseNo).toMatch(/^TS-202612-\d{6}$/);
    expect(res.state).toBe('verify');
    expect(res.customer?.id).toBe(c.id);
    expect(res.customerFlag).toBe(true);
    expect(res.complainantPhone).toBe('139****5678');
    expect(res.ownerUnitId).toBe(tree.station1);
    expect(res.owners.map((o) => `${o.stage}:${o.level}`)).toEqual([
      'verify:station',
      'review:area',
      'rectify:station',
      'callback:area',
      'archive:branch',
    ]);
    expect((await ok<Detail>(read('zhanzhang', res.id))).complainantPhone).toBe('13912345678');
    // Numbers run on: the next one is one more.
    const next = await ok<Detail>(take('jiayou', base({ complainantName: '钱女士', categoryCode: 'finance' })), 201);
    expect(Number(next.caseNo.slice(-6))).toBe(Number(res.caseNo.slice(-6)) + 1);
    // The station manager's queue and the owner's alert.
    const items = await work(res.id);
    expect(items.map((i) => [i.queue_key, i.permission, i.assignee_user_id, i.org_unit_id])).toEqual([
      ['owner', null, u.get('daibiao')!, tree.station1],
      ['stage:station_manager', 'role:station_manager', null, tree.station1],
    ]);
    expect(await pumpFlag(c.plate)).toBe(true);
  });

  it('refuses bad intake naming the field', async () => {
    await denied(take('jiayou', base({ categoryCode: 'nope' })), 400, 'VALIDATION_FAILED', 'body.categoryCode');
    await denied(take('jiayou', base({ channel: 'regulator' })), 400, 'VALIDATION_FAILED', 'body.referenceNo');
    await denied(
      take('jiayou', base({ channel: 'media', referenceNo: 'M-1' })),
      400,
      'VALIDATION_FAILED',
      'body.replyDeadline',
    );
    await denied(take('jiayou', base({ orgUnitId: tree.station3 })), 400, 'VALIDATION_FAILED', 'body.orgUnitId');
    await denied(take('jiayou', base({ complainantPhone: '12' })), 400, 'VALIDATION_FAILED', 'body.complainantPhone');
  });

  it('passes all five stages with their owners, refusing the wrong unit, role, order and missing evidence', async () => {
    const c = await customer(tree.station1);
    const k = await ok<Detail>(take('jiayou', base({ plate: c.plate })), 201);
    // The attendant took it but does not verify it; another station cannot even see it; nothing is skipped.
    await denied(step('jiayou', k.id, { action: 'verify', note: 'x' }), 403, 'PERMISSION_DENIED');
    await denied(step('zhanzhang2', k.id, { action: 'verify', note: 'x' }), 403, 'SCOPE_DENIED');
    await denied(read('zhanzhang3', k.id), 403, 'SCOPE_DENIED');
    await denied(step('zhanzhang', k.id, { action: 'review', note: 'x' }), 409, 'CONFLICT');
    await denied(step('pianqu', k.id, { action: 'verify', note: 'x' }), 403, 'COMPLAINT_STAGE_DENIED');
    await denied(step('zhanzhang', k.id, { action: 'verify' }), 400, 'VALIDATION_FAILED', 'body.note');
    let d = await ok<Detail>(step('zhanzhang', k.id, { action: 'verify', note: '核实属实' }));
    expect([d.state, d.ownerUnitId]).toEqual(['review', tree.area1]);
    await denied(step('zhanzhang', k.id, { action: 'review', note: 'x' }), 403, 'COMPLAINT_STAGE_DENIED');
    d = await ok<Detail>(step('pianqu', k.id, { action: 'review', note: '同意整改方案' }));
    expect([d.state, d.ownerUnitId]).toEqual(['rectify', tree.station1]);
    await denied(
      step('zhanzhang', k.id, { action: 'rectify', note: '已整改' }),
      422,
      'COMPLAINT_EVIDENCE_REQUIRED',
      'attachments',
    );
    const up = await upload('zhanzhang', k.id, jpeg, '整改照片.jpg');
    expect(up.statusCode, up.body).toBe(201);
    d = await ok<Detail>(step('zhanzhang', k.id, { action: 'rectify', note: '已培训当班员工' }));
    expect([d.state, d.ownerUnitId]).toEqual(['callback', tree.area1]);
    // Customer service calls back; the station does not.
    await denied(step('zhanzhang', k.id, { action: 'callback', note: 'x', rating: 5 }), 403, 'COMPLAINT_STAGE_DENIED');
    await denied(step('kefu', k.id, { action: 'callback', note: '回访' }), 400, 'VALIDATION_FAILED', 'body.rating');
    d = await ok<Detail>(step('kefu', k.id, { action: 'callback', note: '客户表示满意', rating: 4 }));
    expect([d.state, d.ownerUnitId, d.rating]).toEqual(['archive', tree.branch1, 4]);
    expect(d.customerFlag).toBe(true);
    expect(await pumpFlag(c.plate)).toBe(true);
    d = await ok<Detail>(step('fengongsi', k.id, { action: 'archive', note: '归档' }));
    expect(d.state).toBe('closed');
    expect(d.customerFlag).toBe(false);
    expect(await pumpFlag(c.plate)).toBe(false);
    expect(d.events.map((e) => `${e.action}:${e.toState}`)).toEqual([
      'take:verify',
      'verify:review',
      'review:rectify',
      'rectify:callback',
      'callback:archive',
      'archive:closed',
    ]);
    expect(d.events[1]!.actorName).toBe('用户zhanzhang');
    await denied(step('fengongsi', k.id, { action: 'archive', note: 'x' }), 409, 'CONFLICT');
    expect((await work(k.id)).every((i) => i.state === 'done')).toBe(true);
    const audit = await ctx.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('entity', '=', 'complaint')
      .where('entity_id', '=', String(k.id))
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual([
      'complaint_take',
      'complaint_step',
      'complaint_step',
      'complaint_attach',
      'complaint_step',
      'complaint_step',
      'complaint_step',
    ]);
  });

  it('stores evidence by its content, without EXIF, within limits, and serves it only inside the case’s scope', async () => {
    expect((await sharp(jpeg).metadata()).exif).toBeDefined();
    const k = await ok<Detail>(take('jiayou', base()), 201);
    const res = await upload('zhanzhang', k.id, jpeg);
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().id as number;
    const got = await call(ctx.app, s.get('jiayou')!, 'GET', `/api/complaints/${k.id}/attachments/${id}`);
    expect(got.statusCode).toBe(200);
    expect(got.headers['content-type']).toBe('image/jpeg');
    const meta = await sharp(got.rawPayload).metadata();
    expect(meta.exif).toBeUndefined();
    expect([meta.width, meta.height]).toEqual([64, 48]);
    await denied(
      call(ctx.app, s.get('zhanzhang3')!, 'GET', `/api/complaints/${k.id}/attachments/${id}`),
      403,
      'SCOPE_DENIED',
    );
    // A PDF is kept as sent; a text file calling itself a photo is refused; so is anything over 10 MB.
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    const p = await upload('zhanzhang', k.id, pdf, '整改报告.pdf');
    expect(p.statusCode, p.body).toBe(201);
    expect(p.json().contentType).toBe('application/pdf');
    const txt = await upload('zhanzhang', k.id, Buffer.from('just some words, not a photo'), 'x.jpg');
    expect(txt.statusCode).toBe(415);
    expect(txt.json().error.field).toBe('body');
    const big = await upload('zhanzhang', k.id, Buffer.alloc(10 * 1024 * 1024 + 1, 1));
    expect(big.statusCode).toBe(413);
    // Only handlers add evidence.
    expect((await upload('jiayou', k.id, jpeg)).statusCode).toBe(403);
  });

  it('returns a stage with a reason and reassigns to a neighbour, counting both on the case', async () => {
    const k = await ok<Detail>(take('jiayou', base({ complainantName: '孙先生' })), 201);
    await denied(step('zhanzhang', k.id, { action: 'return', reason: '不是本站' }), 409, 'CONFLICT');
    await denied(
      step('zhanzhang', k.id, { action: 'reassign', orgUnitId: tree.station2 }),
      400,
      'VALIDATION_FAILED',
      'body.reason',
    );
    await denied(
      step('zhanzhang', k.id, { action: 'reassign', orgUnitId: tree.station3, reason: '不是本站' }),
      400,
      'VALIDATION_FAILED',
      'body.orgUnitId',
    );
    let d = await ok<Detail>(
      step('zhanzhang', k.id, { action: 'reassign', orgUnitId: tree.station2, reason: '车在二站加的油' }),
    );
    expect([d.state, d.orgUnitId, d.ownerUnitId, d.reassignCount]).toEqual(['verify', tree.station2, tree.station2, 1]);
    // Now it is station 2's: station 1 no longer sees it.
    await denied(read('zhanzhang', k.id), 403, 'SCOPE_DENIED');
    d = await ok<Detail>(step('zhanzhang2', k.id, { action: 'verify', note: '属实' }));
    d = await ok<Detail>(step('pianqu', k.id, { action: 'return', reason: '核实不充分，补充监控录像' }));
    expect([d.state, d.returnCount, d.ownerUnitId]).toEqual(['verify', 1, tree.station2]);
    expect(d.events.at(-1)).toMatchObject({ action: 'return', fromState: 'review', toState: 'verify' });
    expect(d.events.at(-1)!.detail.reason).toBe('核实不充分，补充监控录像');
  });

  it('owns safety, mass-incident, regulator and media cases at company level at once', async () => {
    const safety = await ok<Detail>(take('jiayou', base({ categoryCode: 'safety', severityCode: 'critical' })), 201);
    expect([safety.emergency, safety.ownerUnitId]).toEqual([true, tree.hq]);
    expect(safety.owners.every((o) => o.level === 'hq')).toBe(true);
    await denied(step('zhanzhang', safety.id, { action: 'verify', note: 'x' }), 403, 'COMPLAINT_STAGE_DENIED');
    await denied(step('fengongsi', safety.id, { action: 'verify', note: 'x' }), 403, 'COMPLAINT_STAGE_DENIED');
    const d = await ok<Detail>(step('yingxiao', safety.id, { action: 'verify', note: '总部已派人' }));
    expect([d.state, d.ownerUnitId]).toEqual(['review', tree.hq]);
    const media = await ok<Detail>(
      take('kefu', base({ channel: 'media', referenceNo: 'HB-TV-0042', replyDeadline: '2026-12-08T09:00:00Z' })),
      201,
    );
    expect([media.emergency, media.ownerUnitId]).toEqual([true, tree.hq]);
    const items = await work(media.id);
    expect(items.map((i) => [i.permission, i.org_unit_id])).toEqual([['role:hq_marketing', tree.hq]]);
  });

  it('reopens the case one level up when the customer is unsatisfied (rating 1–2)', async () => {
    const c = await customer(tree.station1);
    const k = await ok<Detail>(take('jiayou', base({ plate: c.plate })), 201);
    await toCallback(k.id);
    const d = await ok<Detail>(step('kefu', k.id, { action: 'callback', note: '客户仍不满意', rating: 2 }));
    expect([d.state, d.levelUp, d.reopenCount, d.ownerUnitId]).toEqual(['verify', 1, 1, tree.area1]);
    expect(d.owners.map((o) => `${o.stage}:${o.level}`)).toEqual([
      'verify:area',
      'review:branch',
      'rectify:area',
      'callback:branch',
      'archive:hq',
    ]);
    expect(d.customerFlag).toBe(true);
    await denied(step('zhanzhang', k.id, { action: 'verify', note: 'x' }), 403, 'COMPLAINT_STAGE_DENIED');
    const v = await ok<Detail>(step('pianqu', k.id, { action: 'verify', note: '片区重新核实' }));
    expect([v.state, v.ownerUnitId]).toEqual(['review', tree.branch1]);
    const audit = await ctx.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('entity', '=', 'complaint')
      .where('entity_id', '=', String(k.id))
      .execute();
    expect(audit.map((a) => a.action)).toContain('complaint_reopen');
  });

  it('finds possible duplicates, merges and links them, and undoes both keeping the trail', async () => {
    const c = await customer(tree.station2);
    const first = await ok<Detail>(
      take('zhanzhang2', base({ orgUnitId: tree.station2, plate: c.plate, categoryCode: 'quantity_quality' })),
      201,
    );
    const second = await ok<Detail>(
      take(
        'kefu',
        base({ channel: 'hotline_400', orgUnitId: tree.station2, plate: c.plate, categoryCode: 'card_outlet' }),
      ),
      201,
    );
    const dup = second.duplicates.find((x) => x.id === first.id);
    expect(dup?.reasons).toEqual(['customer', 'plate']);
    // A station user outside station 2 cannot merge; the area can.
    await denied(
      call(ctx.app, s.get('zhanzhang')!, 'POST', `/api/complaints/${first.id}/links`, {
        otherId: second.id,
        mode: 'merge',
      }),
      403,
      'SCOPE_DENIED',
    );
    let d = await ok<Detail>(
      call(ctx.app, s.get('pianqu')!, 'POST', `/api/complaints/${first.id}/links`, {
        otherId: second.id,
        mode: 'merge',
      }),
    );
    expect(d.merged.map((m) => m.id)).toEqual([second.id]);
    const merged = await ok<Detail>(read('pianqu', second.id));
    expect(merged.state).toBe('merged');
    expect(merged.allowedActions).toEqual([]);
    expect((await work(second.id)).every((i) => i.state !== 'open')).toBe(true);
    const list = await ok<{ items: { id: number }[] }>(
      call(ctx.app, s.get('pianqu')!, 'GET', `/api/complaints?orgUnitId=${tree.station2}`),
    );
    expect(list.items.map((i) => i.id)).not.toContain(second.id);
    // Undo: it returns to its stage, its trail kept.
    d = await ok<Detail>(call(ctx.app, s.get('pianqu')!, 'DELETE', `/api/complaints/${first.id}/links/${second.id}`));
    expect(d.merged).toEqual([]);
    const back = await ok<Detail>(read('pianqu', second.id));
    expect(back.state).toBe('verify');
    expect(back.customerFlag).toBe(true);
    expect(back.events.map((e) => e.action)).toEqual(['take', 'merge', 'unmerge']);
    expect((await work(second.id)).some((i) => i.state === 'open')).toBe(true);
    // Link and unlink.
    d = await ok<Detail>(
      call(ctx.app, s.get('pianqu')!, 'POST', `/api/complaints/${first.id}/links`, {
        otherId: second.id,
        mode: 'link',
      }),
    );
    expect(d.linked.map((x) => x.id)).toEqual([second.id]);
    expect((await ok<Detail>(read('pianqu', second.id))).linked.map((x) => x.id)).toEqual([first.id]);
    d = await ok<Detail>(call(ctx.app, s.get('pianqu')!, 'DELETE', `/api/complaints/${second.id}/links/${first.id}`));
    expect(d.linked).toEqual([]);
    await denied(
      call(ctx.app, s.get('pianqu')!, 'DELETE', `/api/complaints/${second.id}/links/${first.id}`),
      404,
      'NOT_FOUND',
    );
  });

  it('lists in scope with filters', async () => {
    const mine = await ok<{ total: number; items: { orgUnitId: number; emergency: boolean }[] }>(
      call(ctx.app, s.get('zhanzhang')!, 'GET', '/api/complaints?pageSize=200'),
    );
    expect(mine.items.every((i) => i.orgUnitId === tree.station1)).toBe(true);
    expect((await ok<{ total: number }>(call(ctx.app, s.get('zhanzhang3')!, 'GET', '/api/complaints'))).total).toBe(0);
    const em = await ok<{ items: { emergency: boolean }[] }>(
      call(ctx.app, s.get('yingxiao')!, 'GET', '/api/complaints?emergency=true'),
    );
    expect(em.items.length).toBeGreaterThanOrEqual(2);
    expect(em.items.every((i) => i.emergency)).toBe(true);
    await denied(
      call(ctx.app, s.get('zhanzhang')!, 'GET', `/api/complaints?orgUnitId=${tree.station3}`),
      403,
      'SCOPE_DENIED',
    );
  });

  describe('permissions on an existing database', () => {
    it('grants complaint.intake and complaint.handle to built-in roles and full administrators', async () => {
      const db = ctx.db.kysely;
      await db
        .deleteFrom('role_permission')
        .where('permission', 'in', ['complaint.intake', 'complaint.handle'])
        .execute();
      await grantComplaintPermissions(db);
      const rows = await db
        .selectFrom('role_permission as rp')
        .innerJoin('role as r', 'r.id', 'rp.role_id')
        .select(['r.code', 'rp.permission'])
        .where('rp.permission', 'in', ['complaint.intake', 'complaint.handle'])
        .execute();
      const has = (code: string, perm: string) => rows.some((r) => r.code === code && r.permission === perm);
      expect(has('admin', 'complaint.handle')).toBe(true);
      expect(has('station_manager', 'complaint.handle')).toBe(true);
      expect(has('attendant', 'complaint.intake')).toBe(true);
      expect(has('attendant', 'complaint.handle')).toBe(false);
    });
  });
});
