import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkWebhookUrl, DEFAULT_RETRY, retryDelayMs, signPayload, verifySignature } from './webhooks.js';

describe('webhook signatures', () => {
  it('match an HMAC-SHA256 computed independently', () => {
    // openssl: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
    const direct = crypto.createHmac('sha256', 's3cret').update('1700000000.{"a":1}').digest('hex');
    expect(signPayload('s3cret', 1700000000, '{"a":1}')).toBe(`sha256=${direct}`);
    expect(verifySignature('s3cret', 1700000000, '{"a":1}', `sha256=${direct}`)).toBe(true);
    expect(verifySignature('s3cret', 1700000001, '{"a":1}', `sha256=${direct}`)).toBe(false);
    expect(verifySignature('other', 1700000000, '{"a":1}', `sha256=${direct}`)).toBe(false);
    expect(verifySignature('s3cret', 1700000000, '{"a":2}', `sha256=${direct}`)).toBe(false);
  });
});

describe('retry delays', () => {
  it('double from 30 s with equal jitter, capped at 6 h', () => {
    expect(retryDelayMs(1, DEFAULT_RETRY, 0)).toBe(15_000);
    expect(retryDelayMs(1, DEFAULT_RETRY, 0.999999)).toBe(30_000);
    expect(retryDelayMs(3, DEFAULT_RETRY, 0)).toBe(60_000);
    expect(retryDelayMs(40, DEFAULT_RETRY, 0)).toBe(DEFAULT_RETRY.capMs / 2);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 0.999, noNaN: true }), (n, r) => {
        const d = retryDelayMs(n, DEFAULT_RETRY, r);
        const raw = Math.min(DEFAULT_RETRY.capMs, DEFAULT_RETRY.baseMs * 2 ** (n - 1));
        return d >= raw / 2 - 1 && d <= raw + 1 && retryDelayMs(n + 1, DEFAULT_RETRY, r) >= d;
      }),
    );
  });
});

describe('receiver URLs', () => {
  it('take http(s) without credentials', () => {
    expect(checkWebhookUrl('https://erp.example.com/hooks/forecourt')).toBeNull();
    expect(checkWebhookUrl('http://127.0.0.1:8080/x')).toBeNull();
    expect(checkWebhookUrl('ftp://x')).toMatch(/https/);
    expect(checkWebhookUrl('https://u:p@x.example')).toMatch(/password/);
    expect(checkWebhookUrl('nonsense')).toMatch(/not a URL/);
  });
});
