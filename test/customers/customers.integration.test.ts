import { beforeAll, expect, it } from 'vitest';
import { CompiledQuery, sql } from 'kysely';
import { describeEngines } from '../helpers/engines.js';
import { call, login, ok, setupAdmin, useTestApp, type Session } from '../helpers/app.js';
import { USER_PASSWORD, buildTree, createUser, type Tree } from '../helpers/fixtures.js';
import { prefixRange } from '../../src/server/db/dialect.js';

interface Detail {
  id: number;
  code: string;
  name: string | null;
  greeting: string | null;
  profileStep: number;
  nextQuestion: string | null;
  phones: { phone: string }[];
  vehicles: { id: number; plate: string; model: string | null }[];
  cards: { cardNo: string }[];
  visits: { id: number; product: string | null; volumeLitres: number | null }[];
  merges: { id: number; undoneAt: string | null }[];
  version: number;
  mergedIntoId: number | null;
}

describeEngines('customer archive', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  let manager: Session; // station manager at station 1: sees phones
  let attendant: Session; // attendant at station 1: phones masked

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    await createUser(ctx.app, admin, 'zhanzhang', tree.station1, ['station_manager']);
    await createUser(ctx.app, admin, 'jiayouyuan', tree.station1, ['attendant']);
    manager = await login(ctx.app, 'zhanzhang', USER_PASSWORD);
    attendant = await login(ctx.app, 'jiayouyuan', USER_PASSWORD);
  });

  it('creates a customer from messy input, numbers it by the scheme and shows the profile step', async () => {
    const c = await ok<Detail>(
      call(ctx.app, manager, 'POST', '/api/customers', {
        kind: 'individual',
        name: '赵建国',
        phones: [{ phone: '+86 138-1234-5678' }],
        vehicles: [{ plate: ' 冀a·12345 ', model: '解放J6' }],
        cards: ['9000 1234 5678'],
        tags: ['月结', '大客户'],
      }),
      201,
    );
    expect(c.code).toMatch(/^B1P0*1$/);
    expect(c.vehicles[0]!.plate).toBe('冀A12345');
    expect(c.phones[0]!.phone).toBe('13812345678');
    expect(c.cards[0]!.cardNo).toBe('900012345678');
    expect(c.greeting).toBe('赵师傅');
    expect(c.profileStep).toBe(3);
    const second = await ok<Detail>(
      call(ctx.app, manager, 'POST', '/api/customers', { kind: 'individual', vehicles: [{ plate: '冀A88888' }] }),
      201,
    );
    expect(second.code).toMatch(/^B1P0*2$/);
    expect(second.profileStep).toBe(1);
    expect(second.nextQuestion).toBe('ask_name');
  });

  it('names the field and row of a bad plate or phone', async () => {
    const res = await call(ctx.app, manager, 'POST', '/api/customers', {
      kind: 'individual',
      vehicles: [{ plate: '冀A12345' }, { plate: '???' }],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe('body.vehicles.1.plate');
    const phone = await call(ctx.app, manager, 'POST', '/api/customers', {
      kind: 'individual',
      phones: [{ phone: '12' }],
    });
    expect(phone.json().error.field).toBe('body.phones.0.phone');
  });

  it('masks phones for roles without the right', async () => {
    const list = await ok(call(ctx.app, attendant, 'GET', '/api/customers?q=赵建国'));
    expect(list.items[0].phones).toEqual(['138****5678']);
    const full = await ok(call(ctx.app, manager, 'GET', '/api/customers?q=赵建国'));
    expect(full.items[0].phones).toEqual(['13812345678']);
    const detail = await ok<Detail>(call(ctx.app, attendant, 'GET', `/api/customers/${list.items[0].id}`));
    expect(detail.phones[0]!.phone).toBe('138****5678');
    expect(JSON.stringify(detail)).not.toContain('13812345678');
  });

  it('masks phones inside audit snapshots for auditors without the phone right', async () => {
    await createUser(ctx.app, admin, 'shenji', tree.hq, ['auditor']);
    const auditor = await login(ctx.app, 'shenji', USER_PASSWORD);
    const created = await ok(call(ctx.app, auditor, 'GET', '/api/audit?entity=customer&action=create'));
    const text = JSON.stringify(created.items);
    expect(text).toContain('138****5678');
    expect(text).not.toContain('13812345678');
    const asAdmin = JSON.stringify(
      (await ok(call(ctx.app, admin, 'GET', '/api/audit?entity=customer&action=create'))).items,
    );
    expect(asAdmin).toContain('13812345678');
  });

  it('audits every full read of a record', async () => {
    const list = await ok(call(ctx.app, manager, 'GET', '/api/customers?q=赵建国'));
    const id = list.items[0].id;
    const before = (await ok(call(ctx.app, admin, 'GET', `/api/audit?entity=customer&entityId=${id}&action=read`)))
      .total;
    await ok(call(ctx.app, manager, 'GET', `/api/customers/${id}`));
    const after = await ok(call(ctx.app, admin, 'GET', `/api/audit?entity=customer&entityId=${id}&action=read`));
    expect(after.total).toBe(before + 1);
    expect(after.items[0].actorName).toBe('zhanzhang');
  });

  it('warns on a duplicate plate or phone and links the existing record; refuses a card on file', async () => {
    const dup = await call(ctx.app, manager, 'POST', '/api/customers', {
      kind: 'individual',
      name: '赵师傅',
      vehicles: [{ plate: '冀A 12345' }],
    });
    expect(dup.statusCode).toBe(409);
    const err = dup.json().error;
    expect(err.code).toBe('DUPLICATE_SUSPECTED');
    expect(err.details[0]).toMatchObject({ on: 'plate', value: '冀A12345', inScope: true, name: '赵建国' });
    const card = await call(ctx.app, manager, 'POST', '/api/customers', {
      kind: 'individual',
      cards: ['900012345678'],
      confirmDuplicate: true,
    });
    expect(card.statusCode).toBe(409);
    expect(card.json().error.code).toBe('DUPLICATE');
    const forced = await call(ctx.app, manager, 'POST', '/api/customers', {
      kind: 'individual',
      name: '赵师傅',
      vehicles: [{ plate: '冀A12345' }],
      phones: [{ phone: '13812345678' }],
      confirmDuplicate: true,
    });
    expect(forced.statusCode).toBe(201);
  });

  it('merges duplicates keeping all history, and undoes the merge', async () => {
    const review = await ok<{ on: string; value: string; customers: { id: number }[] }[]>(
      call(ctx.app, manager, 'GET', '/api/customers/duplicates'),
    );
    const group = review.find((g) => g.on === 'plate' && g.value === '冀A12345')!;
    expect(group.customers).toHaveLength(2);
    const [a, b] = group.customers.map((c) => c.id) as [number, number];
    // Give the duplicate a visit of its own, which must survive the merge.
    const dupVehicle = (await ok<Detail>(call(ctx.app, manager, 'GET', `/api/customers/${b}`))).vehicles[0]!;
    await ok(
      call(ctx.app, attendant, 'POST', '/api/pump/visits', {
        customerId: b,
        vehicleId: dupVehicle.id,
        product: '0#柴油',
        volumeLitres: 210.5,
      }),
      201,
    );

    const denied = await call(ctx.app, attendant, 'POST', `/api/customers/${a}/merge`, { mergedId: b });
    expect(denied.statusCode).toBe(403);
    const { mergeId } = await ok(call(ctx.app, admin, 'POST', `/api/customers/${a}/merge`, { mergedId: b }));
    const survivor = await ok<Detail>(call(ctx.app, manager, 'GET', `/api/customers/${a}`));
    expect(survivor.visits.map((v) => v.volumeLitres)).toContain(210.5);
    expect(survivor.vehicles.length).toBe(2);
    const merged = await ok<Detail>(call(ctx.app, manager, 'GET', `/api/customers/${b}`));
    expect(merged.mergedIntoId).toBe(a);
    const search = await ok(call(ctx.app, manager, 'GET', '/api/customers?plate=12345'));
    expect(search.items.map((c: { id: number }) => c.id)).toEqual([a]);
    const audit = await ok(call(ctx.app, admin, 'GET', `/api/audit?entity=customer&entityId=${a}&action=merge`));
    expect(audit.total).toBe(1);

    await ok(call(ctx.app, admin, 'POST', `/api/customers/${a}/merges/${mergeId}/undo`));
    const restored = await ok<Detail>(call(ctx.app, manager, 'GET', `/api/customers/${b}`));
    expect(restored.mergedIntoId).toBeNull();
    expect(restored.visits.map((v) => v.volumeLitres)).toEqual([210.5]);
    expect(restored.vehicles).toHaveLength(1);
    const survivorAfter = await ok<Detail>(call(ctx.app, manager, 'GET', `/api/customers/${a}`));
    expect(survivorAfter.vehicles).toHaveLength(1);
    expect(survivorAfter.visits.map((v) => v.volumeLitres)).not.toContain(210.5);
    const again = await call(ctx.app, admin, 'POST', `/api/customers/${a}/merges/${mergeId}/undo`);
    expect(again.json().error.code).toBe('MERGE_NOT_UNDOABLE');
  });

  it('gives concurrent edits a conflict, not a silent overwrite', async () => {
    const c = await ok<Detail>(
      call(ctx.app, manager, 'POST', '/api/customers', {
        kind: 'organisation',
        name: '顺达物流有限公司',
        vehicles: [{ plate: '冀A9K2Q1' }],
      }),
      201,
    );
    const first = call(ctx.app, manager, 'PATCH', `/api/customers/${c.id}`, {
      notes: '月结,要增值税专票',
      version: c.version,
    });
    const second = call(ctx.app, attendant, 'PATCH', `/api/customers/${c.id}`, {
      notes: '司机说想办卡',
      version: c.version,
    });
    const codes = (await Promise.all([first, second])).map((r) => r.statusCode).sort();
    expect(codes).toEqual([200, 409]);
  });

  it('exports customer lists only with the export right, audited, with formulas defused', async () => {
    await ok(
      call(ctx.app, manager, 'POST', '/api/customers', {
        kind: 'individual',
        name: '=HYPERLINK("http://x")',
        vehicles: [{ plate: '冀A7777Z' }],
      }),
      201,
    );
    expect((await call(ctx.app, manager, 'GET', '/api/customers/export')).statusCode).toBe(403);
    const res = await call(ctx.app, admin, 'GET', '/api/customers/export');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    expect(res.body).toContain(`"'=HYPERLINK(""http://x"")"`);
    expect(res.body).not.toMatch(/(^|,)=HYPERLINK/m);
    const audit = await ok(call(ctx.app, admin, 'GET', '/api/audit?entity=customer&action=export'));
    expect(audit.total).toBe(1);
  });

  it('finds a customer at the pump from the last characters of the plate, and records a visit', async () => {
    const hits = await ok<{ customerId: number; plate: string; greeting: string }[]>(
      call(ctx.app, attendant, 'GET', '/api/pump/lookup?q=345'),
    );
    expect(hits[0]!.plate).toBe('冀A12345');
    expect(hits[0]!.greeting).toBe('赵师傅');
    const two = await ok<{ plate: string }[]>(call(ctx.app, attendant, 'GET', '/api/pump/lookup?q=45'));
    expect(two.map((h) => h.plate)).toContain('冀A12345');
    const middle = await ok<{ plate: string }[]>(call(ctx.app, attendant, 'GET', '/api/pump/lookup?q=K2Q'));
    expect(middle.map((h) => h.plate)).toEqual(['冀A9K2Q1']);
    const res = await ok(
      call(ctx.app, attendant, 'POST', '/api/pump/visits', {
        customerId: hits[0]!.customerId,
        product: '0#柴油',
        volumeLitres: 300,
      }),
      201,
    );
    expect(res.created).toBe(false);
    const again = await ok<{ customerId: number; name: string | null; lastProduct: string | null; tags: string[] }[]>(
      call(ctx.app, attendant, 'GET', '/api/pump/lookup?q=冀A12345'),
    );
    expect(again.find((x) => x.customerId === hits[0]!.customerId)!.lastProduct).toBe('0#柴油');
    expect(again.find((x) => x.name === '赵建国')!.tags).toEqual(['大客户', '月结'].sort());
    const unknown = await ok(
      call(ctx.app, attendant, 'POST', '/api/pump/visits', {
        plate: '冀B55555',
        model: '东风天龙',
        product: '0#柴油',
        volumeLitres: 150,
      }),
      201,
    );
    expect(unknown.created).toBe(true);
    const step1 = await ok<Detail>(call(ctx.app, manager, 'GET', `/api/customers/${unknown.customerId}`));
    expect(step1.profileStep).toBe(1);
    expect(step1.vehicles[0]).toMatchObject({ plate: '冀B55555', model: '东风天龙' });
    expect(step1.visits).toHaveLength(1);
    const history = (await ok(call(ctx.app, manager, 'GET', `/api/customers/${unknown.customerId}`))).history.map(
      (h: { action: string }) => h.action,
    );
    expect(history).toEqual(['visit', 'create']);
  });

  it('numbers new customers by the scheme HQ sets', async () => {
    expect(
      (await call(ctx.app, manager, 'PUT', '/api/settings/customer-code-scheme', { scheme: '{station}-{seq:4}' }))
        .statusCode,
    ).toBe(403);
    const bad = await call(ctx.app, admin, 'PUT', '/api/settings/customer-code-scheme', { scheme: '{branch}' });
    expect(bad.json().error.field).toBe('body.scheme');
    await ok(call(ctx.app, admin, 'PUT', '/api/settings/customer-code-scheme', { scheme: '{station}-{seq:4}' }));
    const c = await ok<Detail>(
      call(ctx.app, manager, 'POST', '/api/customers', { kind: 'individual', vehicles: [{ plate: '冀A3S7W9' }] }),
      201,
    );
    expect(c.code).toBe('B1-A1-S1-0001');
  });

  it('keeps other areas out: search, lookup and detail stay in the subtree', async () => {
    const out = await ok<Detail>(
      call(ctx.app, admin, 'POST', '/api/customers', {
        kind: 'individual',
        name: '钱多多',
        orgUnitId: tree.station3,
        vehicles: [{ plate: '冀F66666' }],
      }),
      201,
    );
    expect((await call(ctx.app, manager, 'GET', `/api/customers/${out.id}`)).statusCode).toBe(403);
    expect((await ok(call(ctx.app, manager, 'GET', '/api/customers?q=钱多多'))).total).toBe(0);
    expect(await ok(call(ctx.app, manager, 'GET', '/api/pump/lookup?q=66666'))).toEqual([]);
    // A duplicate in another area is reported by the unit that holds it only, never by its code.
    const dup = await call(ctx.app, manager, 'POST', '/api/customers', {
      kind: 'individual',
      vehicles: [{ plate: '冀F66666' }],
    });
    expect(dup.json().error.details[0]).toMatchObject({
      inScope: false,
      customerId: null,
      name: null,
      code: null,
      orgUnitId: tree.station3,
    });
    expect(dup.body).not.toContain(out.code);
    // The duplicate review shows only the customers the user may read, even when a plate is shared across areas.
    await ok(
      call(ctx.app, manager, 'POST', '/api/customers', {
        kind: 'individual',
        name: '钱二',
        vehicles: [{ plate: '冀F66666' }],
        confirmDuplicate: true,
      }),
      201,
    );
    await ok(
      call(ctx.app, manager, 'POST', '/api/customers', {
        kind: 'individual',
        name: '钱三',
        vehicles: [{ plate: '冀F66666' }],
        confirmDuplicate: true,
      }),
      201,
    );
    const review = await ok<{ value: string; customers: { name: string }[] }[]>(
      call(ctx.app, manager, 'GET', '/api/customers/duplicates'),
    );
    const group = review.find((g) => g.value === '冀F66666')!;
    expect(group.customers.map((c) => c.name).sort()).toEqual(['钱三', '钱二'].sort());
    expect(JSON.stringify(review)).not.toContain('钱多多');
  });

  it('counts a long list up to a bound and says so, and counts a short one exactly', async () => {
    // 10,001 customers of station 1, written straight to the table (the API would take minutes).
    const now = new Date().toISOString();
    await sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < 10001)
      insert into customer (org_unit_id, code, kind, name, look_after, version, created_at, updated_at)
      select ${tree.station1}, 'BULK' || i, 'individual', '批量师傅' || i, 0, 1, ${now}, ${now} from n`.execute(
      ctx.db.kysely,
    );
    const long = await ok(call(ctx.app, manager, 'GET', '/api/customers?q=批量师傅&pageSize=20'));
    expect(long).toMatchObject({ total: 10_000, totalIsLowerBound: true });
    expect(long.items).toHaveLength(20);
    const short = await ok(call(ctx.app, manager, 'GET', '/api/customers?q=批量师傅1000'));
    // 批量师傅1000, 批量师傅10000 and 批量师傅10001, counted from the table as well
    const direct = await ctx.db.kysely
      .selectFrom('customer')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('name', 'like', '%批量师傅1000%')
      .executeTakeFirstOrThrow();
    expect(short).toMatchObject({ total: Number(direct.n), totalIsLowerBound: false });
    expect(Number(direct.n)).toBe(3);
    // Out of the manager's subtree, none of them is counted.
    const other = await createUser(ctx.app, admin, 'qita', tree.station3, ['station_manager']).then(() =>
      login(ctx.app, 'qita', USER_PASSWORD),
    );
    expect(await ok(call(ctx.app, other, 'GET', '/api/customers?q=批量师傅'))).toMatchObject({
      total: 0,
      totalIsLowerBound: false,
    });
  });

  it("reads a station's plates ending in what was typed from one index alone, without a table read per plate", async () => {
    if (engine === 'sqlite') {
      // The suffix tier's vehicle read (PumpService.candidates): its columns come from vehicle_unit_suffix_idx.
      const read = ctx.db.kysely
        .selectFrom('vehicle')
        .select(['vehicle.id', 'vehicle.customer_id', 'vehicle.plate', 'vehicle.model'])
        .where((eb) => prefixRange(engine, eb.ref('vehicle.plate_reversed'), '543'))
        .where('vehicle.org_unit_id', 'in', [tree.station1, tree.station2])
        .compile();
      const plan = await ctx.db.kysely.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${read.sql}`, [...read.parameters]),
      );
      expect(plan.rows.map((r) => r.detail).join('\n')).toMatch(/USING COVERING INDEX vehicle_unit_suffix_idx/);
    } else {
      // A test table is too small for the planner to prefer an index at all; the definition is what counts.
      const def = await sql<{
        indexdef: string;
      }>`select indexdef from pg_indexes where indexname = 'vehicle_unit_suffix_idx'`.execute(ctx.db.kysely);
      expect(def.rows[0]?.indexdef).toMatch(
        /\(org_unit_id, plate_reversed text_pattern_ops\) INCLUDE \(id, customer_id, plate, model\)/,
      );
    }
  });

  it("moves a customer's plates with him: the lookup follows the customer's org unit", async () => {
    const c = await ok<Detail>(
      call(ctx.app, admin, 'POST', '/api/customers', {
        kind: 'individual',
        name: '周游',
        orgUnitId: tree.station2,
        vehicles: [{ plate: '冀A7K7K7' }],
      }),
      201,
    );
    expect(await ok(call(ctx.app, attendant, 'GET', '/api/pump/lookup?q=K7K7'))).toEqual([]);
    const unitOf = async () =>
      (
        await ctx.db.kysely
          .selectFrom('vehicle')
          .select('org_unit_id')
          .where('customer_id', '=', c.id)
          .executeTakeFirstOrThrow()
      ).org_unit_id;
    expect(await unitOf()).toBe(tree.station2);
    await ok(call(ctx.app, admin, 'PATCH', `/api/customers/${c.id}`, { orgUnitId: tree.station1, version: c.version }));
    expect(await unitOf()).toBe(tree.station1);
    for (const q of ['K7K7', '7K7', '冀A7']) {
      const found = await ok<{ customerId: number }[]>(
        call(ctx.app, attendant, 'GET', `/api/pump/lookup?q=${encodeURIComponent(q)}`),
      );
      expect(
        found.map((m) => m.customerId),
        q,
      ).toContain(c.id);
    }
  });
});

describeEngines('access requests (archive borrowing)', (engine) => {
  const ctx = useTestApp(engine);
  let admin: Session;
  let tree: Tree;
  let rep: Session;
  let customerId: number;

  beforeAll(async () => {
    admin = await setupAdmin(ctx.app);
    tree = await buildTree(ctx.app, admin);
    await createUser(ctx.app, admin, 'rep_b1', tree.area1, ['sales_rep']);
    await createUser(ctx.app, admin, 'rep_b2', tree.area2, ['sales_rep']);
    await createUser(ctx.app, admin, 'head_b2', tree.branch2, ['branch_dept_head']);
    await createUser(ctx.app, admin, 'mgr_b2', tree.branch2, ['branch_manager']);
    await createUser(ctx.app, admin, 'cs_b1', tree.branch1, ['cs_agent']);
    rep = await login(ctx.app, 'rep_b1', USER_PASSWORD);
    customerId = (
      await ok<{ id: number }>(
        call(ctx.app, admin, 'POST', '/api/customers', {
          kind: 'organisation',
          name: '保定城投',
          orgUnitId: tree.station3,
          vehicles: [{ plate: '冀F12121' }],
        }),
        201,
      )
    ).id;
  });

  it('offers as request targets only the units whose customers the user cannot read yet', async () => {
    const targets = await ok<{ id: number }[]>(call(ctx.app, rep, 'GET', '/api/access-requests/targets'));
    const ids = targets.map((x) => x.id);
    expect(ids).toEqual(expect.arrayContaining([tree.branch2, tree.area2, tree.station3]));
    for (const own of [tree.area1, tree.station1, tree.station2, tree.hq]) expect(ids).not.toContain(own);
  });

  it('denies before approval, allows inside the grant window, denies after it expires', async () => {
    expect((await call(ctx.app, rep, 'GET', `/api/customers/${customerId}`)).statusCode).toBe(403);
    const req = await ok(
      call(ctx.app, rep, 'POST', '/api/access-requests', {
        targetOrgUnitId: tree.area2,
        reason: '客户在两地加油,核对用量',
        days: 7,
      }),
      201,
    );
    expect(req.requiredSlots).toEqual(['area_rep', 'dept_head']);
    // The requester cannot approve, nor can the wrong people.
    expect(
      (await call(ctx.app, rep, 'POST', `/api/access-requests/${req.id}/decision`, { decision: 'approve' })).statusCode,
    ).toBe(403);
    const mgr = await login(ctx.app, 'mgr_b2', USER_PASSWORD);
    const wrong = await call(ctx.app, mgr, 'POST', `/api/access-requests/${req.id}/decision`, { decision: 'approve' });
    expect(wrong.json().error.code).toBe('APPROVER_NOT_ELIGIBLE');

    const areaRep = await login(ctx.app, 'rep_b2', USER_PASSWORD);
    const inbox = await ok<{ id: number }[]>(call(ctx.app, areaRep, 'GET', '/api/access-requests?box=to_approve'));
    expect(inbox.map((r) => r.id)).toEqual([req.id]);
    const half = await ok(
      call(ctx.app, areaRep, 'POST', `/api/access-requests/${req.id}/decision`, {
        decision: 'approve',
        comment: '同意',
      }),
    );
    expect(half.status).toBe('pending');
    expect((await call(ctx.app, rep, 'GET', `/api/customers/${customerId}`)).statusCode).toBe(403);

    const head = await login(ctx.app, 'head_b2', USER_PASSWORD);
    const done = await ok(
      call(ctx.app, head, 'POST', `/api/access-requests/${req.id}/decision`, { decision: 'approve' }),
    );
    expect(done.status).toBe('approved');
    expect(done.approvals.map((a: { slot: string }) => a.slot)).toEqual(['area_rep', 'dept_head']);

    const inside = await call(ctx.app, rep, 'GET', `/api/customers/${customerId}`);
    expect(inside.statusCode).toBe(200);
    expect((await ok(call(ctx.app, rep, 'GET', '/api/customers?q=保定城投'))).total).toBe(1);

    ctx.now.value = new Date(Date.now() + 8 * 86_400_000);
    const fresh = await login(ctx.app, 'rep_b1', USER_PASSWORD);
    const after = await call(ctx.app, fresh, 'GET', `/api/customers/${customerId}`);
    ctx.now.value = null;
    expect(after.statusCode).toBe(403);
    const trail = await ok(call(ctx.app, admin, 'GET', `/api/audit?entity=access_request&entityId=${req.id}`));
    expect(trail.items.map((i: { action: string }) => i.action).sort()).toEqual([
      'access_approve',
      'access_approve',
      'access_request',
    ]);
  });

  it('asks the branch manager too when the requester is from another department; a rejection ends it', async () => {
    const cs = await login(ctx.app, 'cs_b1', USER_PASSWORD);
    const req = await ok(
      call(ctx.app, cs, 'POST', '/api/access-requests', { targetOrgUnitId: tree.area2, reason: '处理投诉', days: 1 }),
      201,
    );
    expect(req.requiredSlots).toEqual(['area_rep', 'dept_head', 'branch_manager']);
    const mgr = await login(ctx.app, 'mgr_b2', USER_PASSWORD);
    const rejected = await ok(
      call(ctx.app, mgr, 'POST', `/api/access-requests/${req.id}/decision`, {
        decision: 'reject',
        comment: '请走客服流程',
      }),
    );
    expect(rejected.status).toBe('rejected');
    expect((await call(ctx.app, cs, 'GET', `/api/customers/${customerId}`)).statusCode).toBe(403);
  });
});
