// Sends due deliveries. Any instance may run it: a delivery is claimed by one conditional update
// (pending → sending, with a lease), so two instances never send the same attempt; a claim whose
// process died is sent again once its lease has passed. Redirects are not followed, the receiver has
// WEBHOOK_TIMEOUT_MS to answer, and each attempt's answer is kept on the delivery.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import {
  DEFAULT_RETRY,
  DELIVERY_HEADER,
  EVENT_HEADER,
  isDelivered,
  retryDelayMs,
  signPayload,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  type RetryPolicy,
} from '../../../domain/webhooks.js';

export interface DispatcherOptions {
  timeoutMs: number;
  retry: RetryPolicy;
  /** Deliveries claimed per run, and sent at once. */
  batch: number;
  parallel: number;
}

export const DEFAULT_DISPATCH: DispatcherOptions = {
  timeoutMs: Number(process.env.WEBHOOK_TIMEOUT_MS) || 10_000,
  retry: DEFAULT_RETRY,
  batch: 50,
  parallel: 4,
};

export interface DispatchResult {
  attempted: number;
  delivered: number;
  failed: number;
  disabled: number;
}

export class WebhookDispatcher {
  private readonly opts: DispatcherOptions;
  constructor(
    private readonly db: Kysely<Database>,
    opts: Partial<DispatcherOptions> = {},
    private readonly now: () => Date = () => new Date(),
    private readonly random: () => number = Math.random,
  ) {
    this.opts = { ...DEFAULT_DISPATCH, ...opts };
  }

  /** Claim and send what is due now. */
  async runOnce(): Promise<DispatchResult> {
    const at = this.now().toISOString();
    const due = await this.db
      .selectFrom('webhook_delivery as d')
      .innerJoin('webhook as w', 'w.id', 'd.webhook_id')
      .select('d.id')
      .where('w.active', '=', 1)
      .where((eb) =>
        eb.or([
          eb.and([eb('d.status', '=', 'pending'), eb('d.next_attempt_at', '<=', at)]),
          eb.and([eb('d.status', '=', 'sending'), eb('d.lease_until', '<', at)]),
        ]),
      )
      .orderBy('d.next_attempt_at')
      .limit(this.opts.batch)
      .execute();
    const result: DispatchResult = { attempted: 0, delivered: 0, failed: 0, disabled: 0 };
    const queue = due.map((d) => d.id);
    await Promise.all(
      Array.from({ length: Math.min(this.opts.parallel, queue.length) }, async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
          if (!(await this.claim(id, at))) continue;
          result.attempted++;
          const r = await this.send(id);
          if (r === 'delivered') result.delivered++;
          else {
            result.failed++;
            if (r === 'disabled') result.disabled++;
          }
        }
      }),
    );
    return result;
  }

  private async claim(id: number, at: string): Promise<boolean> {
    const lease = new Date(Date.parse(at) + this.opts.timeoutMs * 3).toISOString();
    const r = await this.db
      .updateTable('webhook_delivery')
      .set({ status: 'sending', lease_until: lease })
      .where('id', '=', id)
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'pending'), eb('next_attempt_at', '<=', at)]),
          eb.and([eb('status', '=', 'sending'), eb('lease_until', '<', at)]),
        ]),
      )
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  private async send(id: number): Promise<'delivered' | 'failed' | 'disabled'> {
    const d = await this.db
      .selectFrom('webhook_delivery as d')
      .innerJoin('webhook as w', 'w.id', 'd.webhook_id')
      .select(['d.id', 'd.event', 'd.payload', 'd.attempts', 'd.webhook_id', 'w.url', 'w.secret'])
      .where('d.id', '=', id)
      .executeTakeFirstOrThrow();
    const started = Date.now();
    const timestamp = Math.floor(this.now().getTime() / 1000);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.opts.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Forecourt-Webhooks/1',
          [EVENT_HEADER]: d.event,
          [DELIVERY_HEADER]: String(d.id),
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signPayload(d.secret, timestamp, d.payload),
        },
        body: d.payload,
      });
      status = res.status;
      // The answer's body is not needed; reading it frees the connection.
      await res.arrayBuffer().catch(() => undefined);
      if (!isDelivered(status)) error = `HTTP ${status}`;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      error =
        e.name === 'TimeoutError'
          ? `no answer within ${this.opts.timeoutMs} ms`
          : (e.cause?.code ?? e.message).slice(0, 500);
    }
    const at = this.now().toISOString();
    const attempts = d.attempts + 1;
    const duration = Date.now() - started;
    if (error === null) {
      await this.db.transaction().execute(async (trx) => {
        await trx
          .updateTable('webhook_delivery')
          .set({
            status: 'delivered',
            attempts,
            last_status_code: status,
            last_error: null,
            last_attempt_at: at,
            last_duration_ms: duration,
            delivered_at: at,
            lease_until: null,
          })
          .where('id', '=', id)
          .execute();
        await trx.updateTable('webhook').set({ consecutive_failures: 0 }).where('id', '=', d.webhook_id).execute();
      });
      return 'delivered';
    }
    const { retry } = this.opts;
    const giveUp = attempts >= retry.maxAttempts;
    return this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('webhook_delivery')
        .set({
          status: giveUp ? 'failed' : 'pending',
          attempts,
          last_status_code: status,
          last_error: error,
          last_attempt_at: at,
          last_duration_ms: duration,
          lease_until: null,
          next_attempt_at: giveUp
            ? at
            : new Date(Date.parse(at) + retryDelayMs(attempts, retry, this.random())).toISOString(),
        })
        .where('id', '=', id)
        .execute();
      const hook = await trx
        .updateTable('webhook')
        .set((eb) => ({ consecutive_failures: eb('consecutive_failures', '+', 1) }))
        .where('id', '=', d.webhook_id)
        .returning(['consecutive_failures', 'active'])
        .executeTakeFirstOrThrow();
      if (hook.active === 1 && hook.consecutive_failures >= retry.disableAfter) {
        await trx
          .updateTable('webhook')
          .set({
            active: 0,
            disabled_at: at,
            disabled_reason: `failed ${hook.consecutive_failures} times in a row`,
            updated_at: at,
          })
          .where('id', '=', d.webhook_id)
          .execute();
        return 'disabled' as const;
      }
      return 'failed' as const;
    });
  }
}

/** Runs the dispatcher every `everyMs` in the server (not while a run is still going). */
export function startWebhookDispatcher(
  db: Kysely<Database>,
  log: { error: (obj: object, msg: string) => void },
  everyMs = 2_000,
): { stop: () => void } {
  const dispatcher = new WebhookDispatcher(db);
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    dispatcher
      .runOnce()
      .catch((err: unknown) => log.error({ err }, 'webhook dispatch failed'))
      .finally(() => {
        running = false;
      });
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
