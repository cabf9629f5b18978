// Webhook subscriptions of the user's subtree: created for an org unit (events of that unit and below
// are delivered), the signing secret shown when created or rotated, switched off and on, the delivery
// log with replay. Every change audited; managed by those who manage API keys.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { actorOf, type Principal } from '../../auth/principal.js';
import { inScope, orgUnitInScope } from '../../auth/scope.js';
import { AppError } from '../../errors.js';
import { recordAudit } from '../audit/audit.service.js';
import { checkWebhookUrl, isWebhookEvent, newWebhookSecret, WEBHOOK_EVENTS } from '../../../domain/webhooks.js';

export interface WebhookOut {
  id: number;
  name: string;
  url: string;
  events: string[];
  orgUnitId: number;
  orgUnitName: string;
  active: boolean;
  consecutiveFailures: number;
  disabledAt: string | null;
  disabledReason: string | null;
  createdByName: string | null;
  createdAt: string;
  pending: number;
  failed: number;
  lastDeliveredAt: string | null;
}

export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed';

export interface DeliveryOut {
  id: number;
  event: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  lastDurationMs: number | null;
  deliveredAt: string | null;
  replayOf: number | null;
  createdAt: string;
  payload: string;
}

export interface WebhookBody {
  name: string;
  url: string;
  events: string[];
  orgUnitId?: number;
}

function eventsField(events: string[], field: string): string {
  const bad = events.find((e) => !isWebhookEvent(e));
  if (bad !== undefined)
    throw new AppError('VALIDATION_FAILED', `unknown event "${bad}"; one of ${WEBHOOK_EVENTS.join(', ')}`, field);
  if (events.length === 0) throw new AppError('VALIDATION_FAILED', 'choose at least one event', field);
  return `,${[...new Set(events)].sort().join(',')},`;
}

function urlField(url: string, field: string): string {
  const problem = checkWebhookUrl(url.trim());
  if (problem) throw new AppError('VALIDATION_FAILED', `the receiver URL ${problem}`, field);
  return url.trim();
}

export class WebhooksService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private base() {
    return this.db
      .selectFrom('webhook as w')
      .innerJoin('org_unit as o', 'o.id', 'w.org_unit_id')
      .leftJoin('app_user as u', 'u.id', 'w.created_by')
      .select((eb) => [
        'w.id',
        'w.name',
        'w.url',
        'w.events',
        'w.org_unit_id',
        'o.name as org_unit_name',
        'w.active',
        'w.consecutive_failures',
        'w.disabled_at',
        'w.disabled_reason',
        'u.display_name',
        'w.created_at',
        eb
          .selectFrom('webhook_delivery as d')
          .select((x) => x.fn.countAll<number>().as('n'))
          .whereRef('d.webhook_id', '=', 'w.id')
          .where('d.status', 'in', ['pending', 'sending'])
          .as('pending'),
        eb
          .selectFrom('webhook_delivery as d')
          .select((x) => x.fn.countAll<number>().as('n'))
          .whereRef('d.webhook_id', '=', 'w.id')
          .where('d.status', '=', 'failed')
          .as('failed'),
        eb
          .selectFrom('webhook_delivery as d')
          .select((x) => x.fn.max('d.delivered_at').as('m'))
          .whereRef('d.webhook_id', '=', 'w.id')
          .as('last_delivered_at'),
      ]);
  }

  private out(r: Awaited<ReturnType<ReturnType<WebhooksService['base']>['executeTakeFirstOrThrow']>>): WebhookOut {
    return {
      id: r.id,
      name: r.name,
      url: r.url,
      events: r.events.split(',').filter(Boolean),
      orgUnitId: r.org_unit_id,
      orgUnitName: r.org_unit_name,
      active: r.active === 1,
      consecutiveFailures: r.consecutive_failures,
      disabledAt: r.disabled_at,
      disabledReason: r.disabled_reason,
      createdByName: r.display_name,
      createdAt: r.created_at,
      pending: Number(r.pending ?? 0),
      failed: Number(r.failed ?? 0),
      lastDeliveredAt: (r.last_delivered_at as string | null) ?? null,
    };
  }

  private async one(id: number): Promise<WebhookOut> {
    const r = await this.base().where('w.id', '=', id).executeTakeFirst();
    if (!r) throw new AppError('NOT_FOUND', `webhook ${id} not found`, 'params.id');
    return this.out(r);
  }

  async list(p: Principal): Promise<WebhookOut[]> {
    const rows = await this.base()
      .where((eb) => inScope(p, eb.ref('w.org_unit_id')))
      .orderBy('w.id', 'desc')
      .execute();
    return rows.map((r) => this.out(r));
  }

  /** The signing secret is in this answer (and a rotation's) only. */
  async create(p: Principal, ip: string | null, body: WebhookBody): Promise<WebhookOut & { secret: string }> {
    const orgUnitId = body.orgUnitId ?? p.orgUnitId;
    if (!(await orgUnitInScope(this.db, p, orgUnitId)))
      throw new AppError('SCOPE_DENIED', `org unit ${orgUnitId} is outside your organisation`, 'body.orgUnitId');
    const name = body.name.trim();
    if (!name) throw new AppError('VALIDATION_FAILED', 'name is required', 'body.name');
    const url = urlField(body.url, 'body.url');
    const events = eventsField(body.events, 'body.events');
    const secret = newWebhookSecret();
    const at = this.now().toISOString();
    const id = await this.db.transaction().execute(async (trx) => {
      const { id } = await trx
        .insertInto('webhook')
        .values({
          org_unit_id: orgUnitId,
          name,
          url,
          secret,
          events,
          active: 1,
          consecutive_failures: 0,
          created_by: p.userId,
          created_at: at,
          updated_at: at,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await recordAudit(trx, actorOf(p, ip), {
        action: 'create',
        entity: 'webhook',
        entityId: id,
        orgUnitId,
        after: { name, url, events: events.split(',').filter(Boolean) },
      });
      return id;
    });
    return { ...(await this.one(id)), secret };
  }

  /** Change name, URL or events; `active: true` switches a disabled subscription on again from zero failures. */
  async update(
    p: Principal,
    ip: string | null,
    id: number,
    body: Partial<Omit<WebhookBody, 'orgUnitId'>> & { active?: boolean },
  ): Promise<WebhookOut> {
    const before = await this.one(id);
    const at = this.now().toISOString();
    const set: Partial<Record<string, unknown>> = { updated_at: at };
    if (body.name !== undefined) {
      if (!body.name.trim()) throw new AppError('VALIDATION_FAILED', 'name is required', 'body.name');
      set.name = body.name.trim();
    }
    if (body.url !== undefined) set.url = urlField(body.url, 'body.url');
    if (body.events !== undefined) set.events = eventsField(body.events, 'body.events');
    if (body.active === true && !before.active)
      Object.assign(set, { active: 1, consecutive_failures: 0, disabled_at: null, disabled_reason: null });
    if (body.active === false && before.active)
      Object.assign(set, { active: 0, disabled_at: at, disabled_reason: 'switched off by hand' });
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('webhook').set(set).where('id', '=', id).execute();
      await recordAudit(trx, actorOf(p, ip), {
        action: 'update',
        entity: 'webhook',
        entityId: id,
        orgUnitId: before.orgUnitId,
        before: { name: before.name, url: before.url, events: before.events, active: before.active },
        after: body,
      });
    });
    return this.one(id);
  }

  async rotateSecret(p: Principal, ip: string | null, id: number): Promise<WebhookOut & { secret: string }> {
    const before = await this.one(id);
    const secret = newWebhookSecret();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('webhook')
        .set({ secret, updated_at: this.now().toISOString() })
        .where('id', '=', id)
        .execute();
      await recordAudit(trx, actorOf(p, ip), {
        action: 'rotate_secret',
        entity: 'webhook',
        entityId: id,
        orgUnitId: before.orgUnitId,
      });
    });
    return { ...(await this.one(id)), secret };
  }

  async remove(p: Principal, ip: string | null, id: number): Promise<void> {
    const before = await this.one(id);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('webhook').where('id', '=', id).execute();
      await recordAudit(trx, actorOf(p, ip), {
        action: 'delete',
        entity: 'webhook',
        entityId: id,
        orgUnitId: before.orgUnitId,
        before: { name: before.name, url: before.url, events: before.events },
      });
    });
  }

  async deliveries(id: number, q: { status?: string; limit?: number }): Promise<DeliveryOut[]> {
    await this.one(id);
    let query = this.db
      .selectFrom('webhook_delivery')
      .selectAll()
      .where('webhook_id', '=', id)
      .orderBy('id', 'desc')
      .limit(q.limit ?? 100);
    if (q.status) query = query.where('status', '=', q.status);
    const rows = await query.execute();
    return rows.map((r) => ({
      id: r.id,
      event: r.event,
      status: r.status as DeliveryStatus,
      attempts: r.attempts,
      nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null,
      lastStatusCode: r.last_status_code,
      lastError: r.last_error,
      lastAttemptAt: r.last_attempt_at,
      lastDurationMs: r.last_duration_ms,
      deliveredAt: r.delivered_at,
      replayOf: r.replay_of,
      createdAt: r.created_at,
      payload: r.payload,
    }));
  }

  /** Send a delivery's payload again, as a new delivery due now (the original stays as it was). */
  async replay(p: Principal, ip: string | null, deliveryId: number): Promise<DeliveryOut> {
    const d = await this.db
      .selectFrom('webhook_delivery as d')
      .innerJoin('webhook as w', 'w.id', 'd.webhook_id')
      .select(['d.id', 'd.webhook_id', 'd.event', 'd.payload', 'd.status', 'w.org_unit_id'])
      .where('d.id', '=', deliveryId)
      .executeTakeFirst();
    if (!d) throw new AppError('NOT_FOUND', `delivery ${deliveryId} not found`, 'params.id');
    if (d.status === 'pending' || d.status === 'sending')
      throw new AppError('CONFLICT', `delivery ${deliveryId} is still being sent`);
    const at = this.now().toISOString();
    const id = await this.db.transaction().execute(async (trx) => {
      const { id } = await trx
        .insertInto('webhook_delivery')
        .values({
          webhook_id: d.webhook_id,
          event: d.event,
          payload: d.payload,
          status: 'pending',
          attempts: 0,
          next_attempt_at: at,
          replay_of: d.id,
          created_at: at,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await recordAudit(trx, actorOf(p, ip), {
        action: 'replay',
        entity: 'webhook',
        entityId: d.webhook_id,
        orgUnitId: d.org_unit_id,
        after: { delivery: d.id, replay: id, event: d.event },
      });
      return id;
    });
    return (await this.deliveries(d.webhook_id, { limit: 1000 })).find((x) => x.id === id)!;
  }
}
