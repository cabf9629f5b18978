// One customer, one record: merging moves everything of the duplicate onto the survivor, keeps a
// snapshot of exactly what moved, and can be undone from that snapshot.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { serialiseRollupWriters } from '../../db/dialect.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { pathInCustomerScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import { emitWebhookEvent } from '../webhooks/webhook-events.js';
import { recordAudit } from '../audit/audit.service.js';
import { moveTransactionsBack, moveTransactionsForMerge } from '../transactions/rollups.js';

// Survivor fields that a merge may fill from the duplicate when the survivor has none.
const FILLABLE = [
  'name',
  'surname',
  'gender',
  'organisation',
  'owner_user_id',
  'routes',
  'products',
  'fuel_use',
  'settlement_method',
  'invoice_type',
  'demand_volume',
  'equipment',
  'birthday',
  'other_stations',
  'why_us',
  'satisfaction',
  'notes',
] as const;

interface Snapshot {
  phones: number[];
  vehicles: number[];
  cards: number[];
  visits: number[];
  children: number[];
  tagsAdded: string[];
  tagsOfMerged: string[];
  filled: string[];
  survivorVersionAfter: number;
  mergedVersionBefore: number;
  lastVisitBefore: string | null;
}

export class MergeService {
  constructor(private readonly db: Kysely<Database>) {}

  private async live(p: Principal, id: number, field: string) {
    const row = await this.db
      .selectFrom('customer as c')
      .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
      .selectAll('c')
      .select('o.path')
      .where('c.id', '=', id)
      .executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', `customer ${id} not found`, field);
    if (!pathInCustomerScope(p, row.path))
      throw new AppError('SCOPE_DENIED', `customer ${id} is outside your organisation`, field);
    if (row.merged_into_id)
      throw new AppError('CONFLICT', `customer ${id} is already merged into ${row.merged_into_id}`, field);
    return row;
  }

  async merge(p: Principal, ip: string | null, survivorId: number, mergedId: number): Promise<{ mergeId: number }> {
    if (survivorId === mergedId)
      throw new AppError('VALIDATION_FAILED', 'a customer cannot be merged into itself', 'body.mergedId');
    const survivor = await this.live(p, survivorId, 'body.survivorId');
    const merged = await this.live(p, mergedId, 'body.mergedId');
    return this.db.transaction().execute(async (trx) => {
      // Transactions and their rollups move too; rollup writers take this lock before any row lock.
      await serialiseRollupWriters(trx);
      const ids = async (table: 'customer_phone' | 'vehicle' | 'fuel_card' | 'visit') =>
        (await trx.selectFrom(table).select('id').where('customer_id', '=', mergedId).execute()).map((r) => r.id);
      const phones = await ids('customer_phone');
      const vehicles = await ids('vehicle');
      const cards = await ids('fuel_card');
      const visits = await ids('visit');
      const children = (await trx.selectFrom('customer').select('id').where('parent_id', '=', mergedId).execute()).map(
        (r) => r.id,
      );
      const survivorTags = new Set(
        (await trx.selectFrom('customer_tag').select('tag').where('customer_id', '=', survivorId).execute()).map(
          (r) => r.tag,
        ),
      );
      const tagsOfMerged = (
        await trx.selectFrom('customer_tag').select('tag').where('customer_id', '=', mergedId).execute()
      ).map((r) => r.tag);
      const tagsAdded = tagsOfMerged.filter((t) => !survivorTags.has(t));

      for (const table of ['customer_phone', 'vehicle', 'fuel_card', 'visit'] as const)
        await trx.updateTable(table).set({ customer_id: survivorId }).where('customer_id', '=', mergedId).execute();
      if (children.length)
        await trx.updateTable('customer').set({ parent_id: survivorId }).where('id', 'in', children).execute();
      await trx.deleteFrom('customer_tag').where('customer_id', '=', mergedId).execute();
      if (tagsAdded.length)
        await trx
          .insertInto('customer_tag')
          .values(tagsAdded.map((tag) => ({ customer_id: survivorId, tag })))
          .execute();

      const fill: Record<string, unknown> = {};
      for (const col of FILLABLE)
        if ((survivor as Record<string, unknown>)[col] == null && (merged as Record<string, unknown>)[col] != null)
          fill[col] = (merged as Record<string, unknown>)[col];
      if (merged.look_after === 1 && survivor.look_after === 0) fill.look_after = 1;
      const lastVisit =
        [survivor.last_visit_at, merged.last_visit_at]
          .filter((x): x is string => x !== null)
          .sort()
          .at(-1) ?? null;
      const now = new Date().toISOString();
      await trx
        .updateTable('customer')
        .set({ ...fill, last_visit_at: lastVisit, version: survivor.version + 1, updated_at: now } as never)
        .where('id', '=', survivorId)
        .execute();
      await trx
        .updateTable('customer')
        .set({ merged_into_id: survivorId, version: merged.version + 1, updated_at: now })
        .where('id', '=', mergedId)
        .execute();

      const snapshot: Snapshot = {
        phones,
        vehicles,
        cards,
        visits,
        children,
        tagsAdded,
        tagsOfMerged,
        filled: Object.keys(fill),
        survivorVersionAfter: survivor.version + 1,
        mergedVersionBefore: merged.version,
        lastVisitBefore: survivor.last_visit_at,
      };
      const { id } = await trx
        .insertInto('customer_merge')
        .values({
          survivor_id: survivorId,
          merged_id: mergedId,
          snapshot: JSON.stringify(snapshot),
          by_user_id: p.userId,
          at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await moveTransactionsForMerge(trx, id, mergedId, survivorId);
      await recordAudit(trx, actorOf(p, ip), {
        action: 'merge',
        entity: 'customer',
        entityId: survivorId,
        orgUnitId: survivor.org_unit_id,
        before: { survivor: { ...survivor, path: undefined }, merged: { ...merged, path: undefined } },
        after: { mergeId: id, ...snapshot },
      });
      await emitWebhookEvent(trx, {
        event: 'customer.merged',
        orgUnitId: survivor.org_unit_id,
        data: { survivorId, mergedId, mergeId: id },
      });
      return { mergeId: id };
    });
  }

  async undo(p: Principal, ip: string | null, survivorId: number, mergeId: number): Promise<void> {
    const m = await this.db.selectFrom('customer_merge').selectAll().where('id', '=', mergeId).executeTakeFirst();
    if (!m || m.survivor_id !== survivorId)
      throw new AppError('NOT_FOUND', `merge ${mergeId} not found on customer ${survivorId}`, 'params.mergeId');
    if (m.undone_at) throw new AppError('MERGE_NOT_UNDOABLE', 'this merge was already undone');
    const survivor = await this.live(p, m.survivor_id, 'params.id');
    const s = JSON.parse(m.snapshot) as Snapshot;
    if (survivor.version !== s.survivorVersionAfter)
      throw new AppError(
        'MERGE_NOT_UNDOABLE',
        'the surviving record was edited after the merge; undo would lose that edit',
      );
    await this.db.transaction().execute(async (trx) => {
      await serialiseRollupWriters(trx);
      const back = async (table: 'customer_phone' | 'vehicle' | 'fuel_card' | 'visit', ids: number[]) => {
        if (ids.length) await trx.updateTable(table).set({ customer_id: m.merged_id }).where('id', 'in', ids).execute();
      };
      await back('customer_phone', s.phones);
      await back('vehicle', s.vehicles);
      await back('fuel_card', s.cards);
      await back('visit', s.visits);
      if (s.children.length)
        await trx.updateTable('customer').set({ parent_id: m.merged_id }).where('id', 'in', s.children).execute();
      if (s.tagsAdded.length)
        await trx
          .deleteFrom('customer_tag')
          .where('customer_id', '=', m.survivor_id)
          .where('tag', 'in', s.tagsAdded)
          .execute();
      if (s.tagsOfMerged.length)
        await trx
          .insertInto('customer_tag')
          .values(s.tagsOfMerged.map((tag) => ({ customer_id: m.merged_id, tag })))
          .execute();
      const cleared: Record<string, unknown> = Object.fromEntries(
        s.filled.map((c) => [c, c === 'look_after' ? 0 : null]),
      );
      const now = new Date().toISOString();
      await trx
        .updateTable('customer')
        .set({ ...cleared, last_visit_at: s.lastVisitBefore, version: survivor.version + 1, updated_at: now } as never)
        .where('id', '=', m.survivor_id)
        .execute();
      await trx
        .updateTable('customer')
        .set({ merged_into_id: null, version: s.mergedVersionBefore + 2, updated_at: now })
        .where('id', '=', m.merged_id)
        .execute();
      await moveTransactionsBack(trx, mergeId, m.survivor_id, m.merged_id);
      await trx.updateTable('customer_merge').set({ undone_at: now }).where('id', '=', mergeId).execute();
      await recordAudit(trx, actorOf(p, ip), {
        action: 'merge_undo',
        entity: 'customer',
        entityId: m.survivor_id,
        orgUnitId: survivor.org_unit_id,
        after: { mergeId, restored: m.merged_id },
      });
      await emitWebhookEvent(trx, {
        event: 'customer.unmerged',
        orgUnitId: survivor.org_unit_id,
        data: { survivorId: m.survivor_id, restoredId: m.merged_id, mergeId },
      });
    });
  }
}
