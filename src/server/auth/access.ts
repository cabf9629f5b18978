// Authentication and authorization for every route, decided from the route's own `config.access`.
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Permission } from '../../domain/permissions.js';
import type { Database } from '../db/schema.js';
import { AppError } from '../errors.js';
import { pathInCustomerScope, pathInCustomerWriteScope, pathInScope } from './scope.js';
import { assertMayActOnUser } from './rights.js';
import { SESSION_COOKIE, type SessionService } from './session.service.js';
import type { Principal } from './principal.js';
import { lookupApiKey, type ApiClient } from './api-key.js';

/** Owned records a route can name in its URL; each resolves to the org path that owns it. */
export type ResourceType =
  | 'org_unit'
  | 'user'
  | 'customer'
  | 'access_request'
  | 'import_job'
  | 'api_key'
  | 'webhook'
  | 'webhook_delivery'
  | 'alert'
  | 'rating_batch'
  | 'churn_case'
  | 'contact_task'
  | 'price_change'
  | 'weather_warning'
  | 'complaint'
  | 'mystery_form'
  | 'mystery_assignment'
  | 'mystery_action'
  | 'visit_plan'
  | 'planned_visit'
  | 'visit_record'
  | 'visit_problem'
  | 'prospect'
  | 'dev_plan'
  | 'survey'
  | 'survey_target'
  | 'revisit_plan';

export type Access =
  | { public: true }
  /** `beforePasswordChange`: open to a session that must change its initial password first (me, password, sign-out). */
  | { session: true; beforePasswordChange?: true }
  /** Systems that send data: `Authorization: Bearer fck_…`, no session, no CSRF. */
  | { apiKey: true }
  | { permission: Permission; resource?: { type: ResourceType; param: string } };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
    apiClient: ApiClient | null;
    sessionProblem: 'missing' | 'expired' | 'disabled' | null;
  }
}

type Resolver = (db: Kysely<Database>, id: number) => Promise<string | null>;

const RESOLVERS: Record<ResourceType, Resolver> = {
  // A form belongs to the unit that authored it (HQ); an assignment to the station evaluated; a
  // corrective action to its station, or to the unit whose whole network it addresses.
  mystery_form: async (db, id) =>
    (
      await db
        .selectFrom('mystery_form as x')
        .innerJoin('org_unit as o', 'o.id', 'x.org_unit_id')
        .select('o.path')
        .where('x.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  mystery_assignment: async (db, id) =>
    (
      await db
        .selectFrom('mystery_assignment as x')
        .innerJoin('org_unit as o', 'o.id', 'x.org_unit_id')
        .select('o.path')
        .where('x.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  mystery_action: async (db, id) =>
    (
      await db
        .selectFrom('mystery_action as x')
        .innerJoin('org_unit as o', 'o.id', 'x.org_unit_id')
        .select('o.path')
        .where('x.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  org_unit: async (db, id) =>
    (await db.selectFrom('org_unit').select('path').where('id', '=', id).executeTakeFirst())?.path ?? null,
  user: async (db, id) =>
    (
      await db
        .selectFrom('app_user as u')
        .innerJoin('org_unit as o', 'o.id', 'u.org_unit_id')
        .select('o.path')
        .where('u.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  customer: async (db, id) =>
    (
      await db
        .selectFrom('customer as c')
        .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
        .select('o.path')
        .where('c.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  access_request: async (db, id) =>
    (
      await db
        .selectFrom('access_request as a')
        .innerJoin('org_unit as o', 'o.id', 'a.target_org_unit_id')
        .select('o.path')
        .where('a.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  import_job: async (db, id) =>
    (
      await db
        .selectFrom('import_job as j')
        .innerJoin('org_unit as o', 'o.id', 'j.org_unit_id')
        .select('o.path')
        .where('j.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  rating_batch: async (db, id) =>
    (
      await db
        .selectFrom('rating_batch as b')
        .innerJoin('org_unit as o', 'o.id', 'b.org_unit_id')
        .select('o.path')
        .where('b.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  webhook: async (db, id) =>
    (
      await db
        .selectFrom('webhook as w')
        .innerJoin('org_unit as o', 'o.id', 'w.org_unit_id')
        .select('o.path')
        .where('w.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  webhook_delivery: async (db, id) =>
    (
      await db
        .selectFrom('webhook_delivery as d')
        .innerJoin('webhook as w', 'w.id', 'd.webhook_id')
        .innerJoin('org_unit as o', 'o.id', 'w.org_unit_id')
        .select('o.path')
        .where('d.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  api_key: async (db, id) =>
    (
      await db
        .selectFrom('api_key as k')
        .innerJoin('org_unit as o', 'o.id', 'k.org_unit_id')
        .select('o.path')
        .where('k.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  alert: async (db, id) =>
    (
      await db
        .selectFrom('alert as a')
        .innerJoin('org_unit as o', 'o.id', 'a.org_unit_id')
        .select('o.path')
        .where('a.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  churn_case: async (db, id) =>
    (
      await db
        .selectFrom('churn_case as c')
        .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
        .select('o.path')
        .where('c.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  // Visit plans belong to the owner's unit; planned visits, records and problems to the customer's unit
  // (a problem is seen from where it was raised up; the level holding it decides, in the service).
  visit_plan: async (db, id) =>
    (
      await db
        .selectFrom('visit_plan as x')
        .innerJoin('org_unit as o', 'o.id', 'x.org_unit_id')
        .select('o.path')
        .where('x.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  planned_visit: async (db, id) =>
    (
      await db
        .selectFrom('planned_visit as x')
        .innerJoin('org_unit as o', 'o.id', 'x.org_unit_id')
        .select('o.path')
        .where('x.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  visit_record: async (db, id) =>
    (
      await db
        .selectFrom('visit_record as x')
        .innerJoin('org_unit as o', 'o.id', 'x.org_unit_id')
        .select('o.path')
        .where('x.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  visit_problem: async (db, id) =>
    (
      await db
        .selectFrom('visit_problem as x')
        .innerJoin('org_unit as o', 'o.id', 'x.origin_unit_id')
        .select('o.path')
        .where('x.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  // A complaint belongs to the unit concerned (the station); the levels above see it too.
  complaint: async (db, id) =>
    (
      await db
        .selectFrom('complaint as c')
        .innerJoin('org_unit as o', 'o.id', 'c.org_unit_id')
        .select('o.path')
        .where('c.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  // A prospect belongs to the station that surveyed him; the levels above see him too.
  prospect: async (db, id) =>
    (
      await db
        .selectFrom('prospect as x')
        .innerJoin('org_unit as o', 'o.id', 'x.org_unit_id')
        .select('o.path')
        .where('x.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  dev_plan: async (db, id) =>
    (
      await db
        .selectFrom('dev_plan as d')
        .innerJoin('org_unit as o', 'o.id', 'd.org_unit_id')
        .select('o.path')
        .where('d.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  contact_task: async (db, id) =>
    (
      await db
        .selectFrom('contact_task as t')
        .innerJoin('org_unit as o', 'o.id', 't.org_unit_id')
        .select('o.path')
        .where('t.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  price_change: async (db, id) =>
    (
      await db
        .selectFrom('price_change as t')
        .innerJoin('org_unit as o', 'o.id', 't.org_unit_id')
        .select('o.path')
        .where('t.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  weather_warning: async (db, id) =>
    (
      await db
        .selectFrom('weather_warning as t')
        .innerJoin('org_unit as o', 'o.id', 't.org_unit_id')
        .select('o.path')
        .where('t.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  // A survey belongs to the unit whose customers it samples; a target to the customer's unit; a
  // revisit plan to the customer's unit or the station revisited.
  survey: async (db, id) =>
    (
      await db
        .selectFrom('survey as t')
        .innerJoin('org_unit as o', 'o.id', 't.org_unit_id')
        .select('o.path')
        .where('t.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  survey_target: async (db, id) =>
    (
      await db
        .selectFrom('survey_target as t')
        .innerJoin('org_unit as o', 'o.id', 't.org_unit_id')
        .select('o.path')
        .where('t.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
  revisit_plan: async (db, id) =>
    (
      await db
        .selectFrom('revisit_plan as t')
        .innerJoin('org_unit as o', 'o.id', 't.org_unit_id')
        .select('o.path')
        .where('t.id', '=', id)
        .executeTakeFirst()
    )?.path ?? null,
};

// Customer records are also readable through an approved access request; everything else only in the own subtree.
const IN_SCOPE: Record<ResourceType, (p: Principal, path: string) => boolean> = {
  // Evaluations are the own organisation's work, not lent with an archive.
  mystery_form: pathInScope,
  mystery_assignment: pathInScope,
  mystery_action: pathInScope,
  org_unit: pathInScope,
  user: pathInScope,
  customer: pathInCustomerScope,
  access_request: pathInScope,
  import_job: pathInScope,
  api_key: pathInScope,
  webhook: pathInScope,
  webhook_delivery: pathInScope,
  rating_batch: pathInScope,
  // Alerts are work of the own organisation; a borrowed archive does not bring its tasks.
  alert: pathInScope,
  // Like alerts: a case is work of the own organisation, not lent with an archive.
  churn_case: pathInScope,
  // Complaints and their evidence are work of the own organisation, not lent with an archive.
  complaint: pathInScope,
  // Plans and planned visits are work of the own organisation; a visit record is part of the customer's
  // archive (readable through a lent archive, written only where it is lent for writing).
  visit_plan: pathInScope,
  planned_visit: pathInScope,
  visit_record: pathInCustomerScope,
  visit_problem: pathInScope,
  // Development work of the own organisation, like churn cases.
  prospect: pathInScope,
  dev_plan: pathInScope,
  // Must-contact work and its moments are the own organisation's, not lent with an archive.
  contact_task: pathInScope,
  price_change: pathInScope,
  weather_warning: pathInScope,
  // Surveys, their calls and revisits are work of the own organisation, not lent with an archive.
  survey: pathInScope,
  survey_target: pathInScope,
  revisit_plan: pathInScope,
};

// Writes to a customer need the own subtree or a grant lent for writing; a read grant lends reading only.
const IN_WRITE_SCOPE: Partial<Record<ResourceType, (p: Principal, path: string) => boolean>> = {
  customer: pathInCustomerWriteScope,
  visit_record: pathInCustomerWriteScope,
};

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && crypto.timingSafeEqual(ab, bb);
}

export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('NOT_AUTHENTICATED');
  return request.principal;
}

export function registerAccess(app: FastifyInstance, db: Kysely<Database>, sessions: SessionService): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('apiClient', null);
  app.decorateRequest('sessionProblem', null);

  app.addHook('onRequest', async (request) => {
    const token = request.cookies[SESSION_COOKIE];
    if (token) {
      const found = await sessions.lookup(token);
      if (found.ok) request.principal = found.principal;
      else request.sessionProblem = found.reason;
    }

    const url = request.routeOptions.url;
    if (url === undefined) return; // 404s are answered by the not-found handler
    const access = request.routeOptions.config.access;
    // Fail closed: an API route that forgot to declare its rule is denied to everybody.
    if (!access) {
      if (url.startsWith('/api/')) throw new AppError('PERMISSION_DENIED', 'route has no access rule');
      return;
    }
    if ('public' in access) return;
    if ('apiKey' in access) {
      const header = request.headers.authorization;
      const bearer = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
      if (!bearer) throw new AppError('NOT_AUTHENTICATED', 'send the API key as Authorization: Bearer fck_…');
      const found = await lookupApiKey(db, bearer[1]!, new Date());
      if (!found.ok)
        throw new AppError(
          'API_KEY_INVALID',
          found.reason === 'revoked' ? 'this API key was revoked' : 'unknown API key',
        );
      request.apiClient = found.client;
      return;
    }

    const p = request.principal;
    if (!p) throw new AppError(request.sessionProblem === 'expired' ? 'SESSION_EXPIRED' : 'NOT_AUTHENTICATED');

    if (MUTATING.has(request.method)) {
      const header = request.headers['x-csrf-token'];
      if (typeof header !== 'string' || !safeEqual(header, p.csrfToken))
        throw new AppError('CSRF_FAILED', 'missing or wrong X-CSRF-Token header');
    }
    // A password someone else chose (an import's) is changed before anything else is done with it.
    if (p.mustChangePassword && !('session' in access && access.beforePasswordChange))
      throw new AppError('PASSWORD_CHANGE_REQUIRED', 'change your initial password first (POST /api/auth/password)');
    if ('session' in access) return;

    if (!p.permissions.has(access.permission)) throw new AppError('PERMISSION_DENIED', `requires ${access.permission}`);
    if (access.resource) {
      const raw = (request.params as Record<string, string | undefined>)[access.resource.param];
      const id = Number(raw);
      if (!raw || !Number.isSafeInteger(id) || id <= 0)
        throw new AppError(
          'VALIDATION_FAILED',
          `${access.resource.param} must be a positive integer`,
          `params.${access.resource.param}`,
        );
      const path = await RESOLVERS[access.resource.type](db, id);
      if (path === null) throw new AppError('NOT_FOUND', `${access.resource.type} ${id} not found`);
      const type = access.resource.type;
      if (!IN_SCOPE[type](p, path)) throw new AppError('SCOPE_DENIED', `${type} ${id} is outside your organisation`);
      const mutating = MUTATING.has(request.method);
      const writeScope = IN_WRITE_SCOPE[type];
      if (mutating && writeScope && !writeScope(p, path)) {
        throw new AppError('SCOPE_DENIED', `${type} ${id} was lent to you for reading only`);
      }
      // Every write on a user (edit, roles, password, unlock, sessions) obeys the rule of rights.ts.
      if (mutating && type === 'user') await assertMayActOnUser(db, p, id);
    }
  });
}
