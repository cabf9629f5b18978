import crypto from 'node:crypto';

const SAFE = /^[A-Za-z0-9._:-]{1,64}$/;

/** The request's id: the proxy's X-Request-Id when it is trusted and looks like an id, else a new UUID. */
export function requestIdOf(header: string | string[] | undefined, trustProxy: boolean): string {
  const given = Array.isArray(header) ? header[0] : header;
  return trustProxy && given && SAFE.test(given) ? given : crypto.randomUUID();
}
