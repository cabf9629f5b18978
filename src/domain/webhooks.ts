// Webhooks: other systems subscribe to what happens in the CRM. Each delivery is signed with the
// subscription's secret (HMAC-SHA256 over "<timestamp>.<body>", as Stripe and GitHub sign theirs, so a
// receiver can refuse replays older than a few minutes), retried with exponential back-off and jitter,
// and a subscription that keeps failing is switched off until someone switches it on again.
import crypto from 'node:crypto';

export const WEBHOOK_EVENTS = [
  'customer.created',
  'customer.merged',
  'customer.unmerged',
  'alert.opened',
  'alert.resolved',
  'alert.closed',
  'rating.finalised',
  'import.finished',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export function isWebhookEvent(v: string): v is WebhookEvent {
  return (WEBHOOK_EVENTS as readonly string[]).includes(v);
}

export const SIGNATURE_HEADER = 'x-forecourt-signature';
export const TIMESTAMP_HEADER = 'x-forecourt-timestamp';
export const EVENT_HEADER = 'x-forecourt-event';
export const DELIVERY_HEADER = 'x-forecourt-delivery';

/** `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>"); timestamp in whole seconds. */
export function signPayload(secret: string, timestamp: number, body: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: recompute and compare in constant time. */
export function verifySignature(secret: string, timestamp: number, body: string, signature: string): boolean {
  const expected = Buffer.from(signPayload(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given);
}

export function newWebhookSecret(): string {
  return `whsec_${crypto.randomBytes(24).toString('base64url')}`;
}

export interface RetryPolicy {
  /** Attempts in all before a delivery is given up (the first one included). */
  maxAttempts: number;
  baseMs: number;
  capMs: number;
  /** Failed attempts in a row, over all deliveries, after which the subscription is switched off. */
  disableAfter: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 8,
  baseMs: 30_000,
  capMs: 6 * 3_600_000,
  disableAfter: 20,
};

/**
 * The wait before attempt `attempt + 1` after `attempt` failed ones: base · 2^(attempt−1), capped, with
 * "equal jitter" (half fixed, half random) so receivers that come back are not hit by every sender at
 * once. `random` is in [0, 1). 30 s, 1 min, 2 min … up to 6 h; eight attempts span about an hour.
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy = DEFAULT_RETRY, random = Math.random()): number {
  const raw = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(raw / 2 + (raw / 2) * random);
}

/** A 2xx answer is delivered; anything else (3xx included: deliveries do not follow redirects) failed. */
export function isDelivered(status: number): boolean {
  return status >= 200 && status < 300;
}

/** A receiver URL: http(s) with a host; credentials in it are refused (they would show in logs). */
export function checkWebhookUrl(text: string): string | null {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return 'not a URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must start with https:// or http://';
  if (u.username || u.password) return 'must not carry a user name or password';
  return null;
}
