// The typed API client. Types come from src/web/api/schema.d.ts, generated from the server's
// route schemas by scripts/openapi.ts, so a changed route shows up here as a type error.
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema.js';

export type { paths };

/** The error body every API route answers with: `{ error: { code, message, field?, details? } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** Whatever the server attached to explain the error, e.g. the matches of DUPLICATE_SUSPECTED. */
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static from(status: number, body: unknown): ApiError {
    const e = (
      body as { error?: { code?: unknown; message?: unknown; field?: unknown; details?: unknown } } | null | undefined
    )?.error;
    if (e && typeof e.code === 'string')
      return new ApiError(
        status,
        e.code,
        typeof e.message === 'string' ? e.message : e.code,
        typeof e.field === 'string' ? e.field : undefined,
        e.details,
      );
    return new ApiError(status, status >= 500 ? 'INTERNAL' : 'UNKNOWN', `HTTP ${status}`);
  }
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
// A 401 from these is an answer to show on the page, not a sign that the session ended.
const NO_REDIRECT = ['/api/auth/login', '/api/setup', '/api/auth/me'];

let csrfToken: string | null = null;
let onUnauthorized: (() => void) | null = null;

/** Remember the CSRF token from /api/auth/me or the login/setup response. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** What to do when a request finds the session gone (the app sends the user to /login). */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

const session: Middleware = {
  onRequest({ request }) {
    if (MUTATING.has(request.method) && csrfToken) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && !NO_REDIRECT.some((p) => new URL(request.url).pathname === p)) onUnauthorized?.();
    return response;
  },
};

export const client = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
client.use(session);

/** Await an openapi-fetch call: the data on success, an ApiError otherwise. */
export async function unwrap<D>(call: Promise<{ data?: D; error?: unknown; response: Response }>): Promise<D> {
  let result: { data?: D; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (err) {
    throw new ApiError(0, 'NETWORK', err instanceof Error ? err.message : String(err));
  }
  const { data, error, response } = result;
  if (error !== undefined || !response.ok) throw ApiError.from(response.status, error);
  return data as D;
}

type JsonOf<R> = R extends { content: { 'application/json': infer J } } ? J : never;
/** The JSON body of a path's GET 200 response, e.g. `ApiData<'/api/org/units'>`. */
export type ApiData<P extends keyof paths> = paths[P] extends { get: { responses: { 200: infer R } } }
  ? JsonOf<R>
  : never;

/**
 * Upload a file as the raw request body (application/octet-stream) with progress, for the routes
 * that take files; answers like `unwrap`.
 */
export function uploadFile<T>(url: string, file: Blob, onProgress?: (fraction: number) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'upload failed'));
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as T);
      else {
        if (xhr.status === 401) onUnauthorized?.();
        reject(ApiError.from(xhr.status, body));
      }
    };
    xhr.send(file);
  });
}
