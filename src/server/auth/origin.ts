// Where a state-changing request with a session cookie comes from. SameSite=Lax and the X-CSRF-Token
// header already stop a foreign page from acting with the user's session; refusing a foreign Origin
// as well closes what those two leave (a sibling subdomain is "same site", a signed-in user's login
// form can be posted to). Requests without Origin and Referer (scripts, curl) are left to the CSRF
// token; API-key requests carry no cookie that a browser would add, so they are not checked.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { SESSION_COOKIE } from './session.service.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `https://crm.example.com:8443` from an allow-list entry or an Origin header; null when it is not a URL. */
export function originOf(text: string): string | null {
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

/**
 * Why the request's Origin (or, without one, its Referer) is foreign, or null when it may go on. Same
 * host: the origin's host and port equal the request's Host (X-Forwarded-Host under TRUST_PROXY=1),
 * default ports read for the origin's scheme. Otherwise the origin must be on the allow-list.
 */
export function foreignOrigin(request: FastifyRequest, allowed: ReadonlySet<string>): string | null {
  const header = request.headers.origin ?? request.headers.referer;
  if (typeof header !== 'string' || header === '') return null;
  // "null" is an opaque origin: a sandboxed frame, a data: or file: page, a privacy-stripped form post.
  const origin = originOf(header);
  if (origin === null) return header.slice(0, 100);
  if (allowed.has(origin)) return null;
  const scheme = origin.slice(0, origin.indexOf(':'));
  let host: string | null = null;
  try {
    host = new URL(`${scheme}://${request.host}`).host;
  } catch {
    host = null;
  }
  return host !== null && new URL(origin).host === host ? null : origin;
}

/** One onRequest hook, registered before the access hook, so a foreign request never reaches a session. */
export function registerOriginCheck(app: FastifyInstance, allowedOrigins: readonly string[]): void {
  const allowed = new Set(
    allowedOrigins.map((o) => {
      const origin = originOf(o);
      if (origin === null) throw new Error(`ALLOWED_ORIGINS: ${o} is not an origin like https://crm.example.com`);
      return origin;
    }),
  );
  app.addHook('onRequest', async (request) => {
    if (!MUTATING.has(request.method) || request.cookies[SESSION_COOKIE] === undefined) return;
    const access = request.routeOptions.config.access;
    if (request.routeOptions.url === undefined || (access && 'apiKey' in access)) return;
    const foreign = foreignOrigin(request, allowed);
    const field = request.headers.origin === undefined ? 'headers.referer' : 'headers.origin';
    if (foreign !== null) throw new AppError('ORIGIN_DENIED', `requests from ${foreign} are not accepted here`, field);
  });
}
