import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyError, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fastifyStatic from '@fastify/static';
import helmet from 'helmet';
import { sharedCompilers } from './schema-compilers.js';
import type { Config } from './config.js';
import type { Db } from './db/connection.js';
import { pgPoolOf, queriesHoldEventLoop } from './db/dialect.js';
import { AppError, type ErrorBody } from './errors.js';
import type { App } from './http.js';
import { boundNumbers, fieldWithNul } from './schemas.js';
import { registerAccess, type Access } from './auth/access.js';
import { registerOriginCheck } from './auth/origin.js';
import { SessionService } from './auth/session.service.js';
import { PrincipalCache } from './auth/principal-cache.js';
import { AuditService } from './modules/audit/audit.service.js';
import { auditRoutes } from './modules/audit/audit.routes.js';
import { AuthService } from './modules/auth/auth.service.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { healthRoutes } from './modules/health/health.routes.js';
import { AppMetrics } from './metrics.js';
import { requestIdOf } from './request-id.js';
import { OrgService } from './modules/org/org.service.js';
import { orgRoutes } from './modules/org/org.routes.js';
import { RolesService } from './modules/roles/roles.service.js';
import { rolesRoutes } from './modules/roles/roles.routes.js';
import { UsersService } from './modules/users/users.service.js';
import { usersRoutes } from './modules/users/users.routes.js';
import { CustomersService } from './modules/customers/customers.service.js';
import { MergeService } from './modules/customers/merge.service.js';
import { customersRoutes } from './modules/customers/customers.routes.js';
import { PumpService } from './modules/pump/pump.service.js';
import { pumpRoutes } from './modules/pump/pump.routes.js';
import { AccessService } from './modules/access/access.service.js';
import { accessRoutes } from './modules/access/access.routes.js';
import { settingsRoutes } from './modules/settings/settings.routes.js';
import { policiesRoutes } from './modules/policies/policies.routes.js';
import { ApiKeysService } from './modules/api-keys/api-keys.service.js';
import { apiKeysRoutes } from './modules/api-keys/api-keys.routes.js';
import { WebhooksService } from './modules/webhooks/webhooks.service.js';
import { webhooksRoutes } from './modules/webhooks/webhooks.routes.js';
import { IngestService } from './modules/transactions/ingest.service.js';
import { TransactionsService } from './modules/transactions/transactions.service.js';
import { transactionsRoutes } from './modules/transactions/transactions.routes.js';
import { PoliciesService } from './modules/policies/policies.service.js';
import { CHUNK_BUSY_MS, ImportsService } from './modules/imports/imports.service.js';
import { importsRoutes } from './modules/imports/imports.routes.js';
import { RatingsService } from './modules/ratings/ratings.service.js';
import { ratingsRoutes } from './modules/ratings/ratings.routes.js';
import { AlertsService } from './modules/alerts/alerts.service.js';
import { alertsRoutes } from './modules/alerts/alerts.routes.js';
import { BacktestService } from './modules/alerts/backtest.service.js';
import { DashboardsService } from './modules/dashboards/dashboards.service.js';
import { dashboardsRoutes } from './modules/dashboards/dashboards.routes.js';
import { CustomerValueService } from './modules/customer-value/value.service.js';
import { customerValueRoutes } from './modules/customer-value/value.routes.js';
import { TopupsService } from './modules/topups/topups.service.js';
import { topupsRoutes } from './modules/topups/topups.routes.js';
import { ChurnCasesService } from './modules/churn-cases/churn-cases.service.js';
import { churnCasesRoutes } from './modules/churn-cases/churn-cases.routes.js';
import { OwnershipService } from './modules/ownership/ownership.service.js';
import { ownershipRoutes } from './modules/ownership/ownership.routes.js';
import { ProspectsService } from './modules/prospects/prospects.service.js';
import { prospectsRoutes } from './modules/prospects/prospects.routes.js';
import { VisitPlansService } from './modules/visits/visit-plans.service.js';
import { VisitRecordsService } from './modules/visits/visit-records.service.js';
import { VisitSummaryService } from './modules/visits/visit-summary.service.js';
import { visitsRoutes } from './modules/visits/visits.routes.js';
import { ComplaintsService } from './modules/complaints/complaints.service.js';
import { complaintsRoutes } from './modules/complaints/complaints.routes.js';
import { ComplaintSlaService } from './modules/complaints/complaint-sla.service.js';
import { complaintSlaRoutes } from './modules/complaints/complaint-sla.routes.js';
import { MysteryShoppersService } from './modules/mystery-shoppers/mystery-shoppers.service.js';
import { mysteryShoppersRoutes } from './modules/mystery-shoppers/mystery-shoppers.routes.js';
import { SatisfactionService } from './modules/satisfaction/satisfaction.service.js';
import { satisfactionRoutes } from './modules/satisfaction/satisfaction.routes.js';
import { ComplaintStatsService } from './modules/complaints/complaint-stats.js';
import { complaintStatsRoutes } from './modules/complaints/complaint-stats.routes.js';
import { defaultStorage, type Storage } from './storage/storage.js';
import { CalendarService } from './modules/contact-moments/calendar.service.js';
import { ContactMomentsService } from './modules/contact-moments/contact-moments.service.js';
import { contactMomentsRoutes } from './modules/contact-moments/contact-moments.routes.js';
import { WorkService } from './modules/work/work.service.js';
import { workRoutes } from './modules/work/work.routes.js';

export interface RouteEntry {
  method: string;
  url: string;
  access: Access | undefined;
  schema: { body?: unknown; querystring?: unknown; params?: unknown } | undefined;
}

export interface AppOptions {
  db: Db;
  config: Config;
  logger?: FastifyServerOptions['logger'];
  /** Serve the built web UI from this folder (defaults to dist/web when it exists). */
  webRoot?: string | null;
  now?: () => Date;
  /** Where attachments (visit photos…) are kept; files under the data folder by default. */
  storage?: Storage;
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_WEB_ROOT = path.join(projectRoot, 'dist/web');

/** Where a change can alter a signed-in principal: users, roles, units, access grants, one's own account. */
const PRINCIPAL_PREFIXES = ['/api/users', '/api/roles', '/api/org', '/api/access-requests', '/api/auth', '/api/setup'];
const MUTATING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The OpenAPI document and its viewer are public; every other API route declares its own rule. */
const DOCS_PREFIX = '/api/docs';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The body's rows are checked one by one by the service (ingest), text included: no whole-body U+0000 check. */
    rowsCheckedOneByOne?: boolean;
  }
}

/**
 * What the browser may load: the SPA (Vite's bundle: module scripts, no inline script) and the API
 * viewer under /api/docs, both from this origin. Styles may be inline: antd's CSS-in-JS writes <style>
 * elements at run time and React, ECharts and Swagger UI set style attributes. Images may be data: URLs
 * (the favicon, Swagger UI's icons) or blobs (a chart saved as an image). No framing by anyone.
 */
function contentSecurityPolicy(https: boolean) {
  return {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      baseUri: ["'self'"],
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:', 'blob:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      // Behind HTTPS only: on plain HTTP it would send the page's own requests to an https:// that is not there.
      ...(https && { upgradeInsecureRequests: [] }),
    },
  };
}

function validationField(err: FastifyError): string | undefined {
  const v = err.validation?.[0];
  if (!v) return undefined;
  const params = v.params as Record<string, unknown>;
  const base = `${err.validationContext ?? 'body'}${v.instancePath.replace(/\//g, '.')}`;
  const extra = (params.missingProperty ?? params.additionalProperty) as string | undefined;
  return extra ? `${base}.${extra}` : base;
}

export function toErrorReply(err: FastifyError | AppError | Error): { status: number; body: ErrorBody } {
  if (err instanceof AppError)
    return {
      status: err.status,
      body: {
        error: {
          code: err.code,
          message: err.message,
          ...(err.field && { field: err.field }),
          ...(err.details !== undefined && { details: err.details }),
        },
      },
    };
  const fe = err as FastifyError;
  if (fe.validation) {
    const field = validationField(fe);
    const v = fe.validation[0];
    const params = (v?.params ?? {}) as Record<string, unknown>;
    const message = params.additionalProperty ? `unknown field ${field}` : `${field} ${v?.message ?? 'is invalid'}`;
    return { status: 400, body: { error: { code: 'VALIDATION_FAILED', message, ...(field && { field }) } } };
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: { error: { code: 'BAD_JSON', message: fe.message, field: 'body' } } };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        body: { error: { code: 'BODY_TOO_LARGE', message: 'request body is too large', field: 'body' } },
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        status: 415,
        body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'send application/json', field: 'content-type' } },
      };
  }
  if (err instanceof SyntaxError && fe.statusCode === 400)
    return { status: 400, body: { error: { code: 'BAD_JSON', message: err.message, field: 'body' } } };
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500)
    return { status: fe.statusCode, body: { error: { code: fe.code ?? 'BAD_REQUEST', message: fe.message } } };
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } };
}

export async function buildApp(opts: AppOptions): Promise<App & { routeTable: RouteEntry[]; inFlight: () => number }> {
  const { db, config } = opts;
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: 1024 * 1024,
    exposeHeadRoutes: false,
    trustProxy: process.env.TRUST_PROXY === '1',
    // Every log line carries the request's id, and so does the response (X-Request-Id); behind a
    // trusted proxy the proxy's id is kept so one request can be followed through both logs.
    genReqId: (req) => requestIdOf(req.headers['x-request-id'], process.env.TRUST_PROXY === '1'),
    // Reject unknown fields instead of silently dropping them.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    schemaController: { compilersFactory: sharedCompilers },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Requests in flight, so a graceful shutdown can let them finish before the database closes.
  let inFlight = 0;
  const metrics = new AppMetrics(db.kysely, db.engine);
  app.addHook('onRequest', async () => {
    inFlight++;
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    inFlight--;
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  const routeTable: RouteEntry[] = [];
  app.addHook('onRoute', (route) => {
    if (route.schema?.headers)
      throw new Error(`${route.method} ${route.url}: a headers schema needs Fastify's own compiler`);
    if (route.url.startsWith(DOCS_PREFIX)) route.config = { ...route.config, access: { public: true } };
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    // Every integer and number a request can carry gets a bound, so none reaches a query as 1e30.
    const schema = route.schema as RouteEntry['schema'] & { headers?: unknown };
    if (schema)
      for (const part of [schema.body, schema.querystring, schema.params, schema.headers]) if (part) boundNumbers(part);
    for (const method of methods)
      routeTable.push({
        method,
        url: route.url,
        access: (route.config as { access?: Access } | undefined)?.access,
        schema: route.schema as RouteEntry['schema'],
      });
  });

  app.setErrorHandler((err: FastifyError | AppError, request, reply) => {
    const { status, body } = toErrorReply(err);
    if (status >= 500) request.log.error({ err }, 'unhandled error');
    return reply.code(status).send(body);
  });

  // The security headers are worked out once: helmet's Fastify plugin built them anew (parsing the
  // CSP) on every request, about a fifth of a cached `auth/me`'s time.
  const securityHeaders = helmet({
    contentSecurityPolicy: contentSecurityPolicy(config.secureCookies),
    frameguard: { action: 'deny' },
    // Full referrer to this site (the origin check may read it), nothing to others.
    referrerPolicy: { policy: 'same-origin' },
    // HSTS only where the site is served over HTTPS (SECURE_COOKIES=1); browsers ignore it over HTTP anyway.
    strictTransportSecurity: config.secureCookies ? { maxAge: 31_536_000 } : false,
  });
  app.addHook('onRequest', (request, reply, done) => {
    securityHeaders(request.raw, reply.raw, () => done());
  });
  await app.register(cookie);

  // Checks every request part gets before its schema: no U+0000 in any text (PostgreSQL cannot store
  // it; refused on both engines alike), and a body where the route takes one, in a type it takes.
  app.addHook('preValidation', async (request) => {
    const { params, query, body } = request;
    const config = request.routeOptions.config;
    const nul =
      fieldWithNul(params, 'params') ??
      fieldWithNul(query, 'querystring') ??
      (config.rowsCheckedOneByOne ? null : fieldWithNul(body, 'body'));
    if (nul !== null) throw new AppError('VALIDATION_FAILED', `${nul} must not contain the character U+0000`, nul);
    const bodySchema = (request.routeOptions.schema as RouteEntry['schema'])?.body as
      { content?: Record<string, unknown> } | undefined;
    if (bodySchema === undefined) return;
    if (body === undefined || body === null)
      throw new AppError('VALIDATION_FAILED', 'this request needs a body', 'body');
    // A route that documents its media types is validated only for those; anything else would reach the handler unchecked.
    if (bodySchema.content && !((request.mediaType ?? '') in bodySchema.content)) {
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `send ${Object.keys(bodySchema.content).join(' or ')}`,
        'content-type',
      );
    }
  });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: () => new AppError('RATE_LIMITED', 'too many attempts; wait a minute'),
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Forecourt API',
        version: '0.1.0',
        description:
          'CRM for fuel-station networks. Sign in at /api/auth/login; send the X-CSRF-Token header from /api/auth/me on every mutating request.',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'fc_session' },
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (fck_…) for systems that send data' },
        },
      },
      security: [{ session: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });

  const principals = new PrincipalCache(config.principalCacheMs);
  const pool = pgPoolOf(db.kysely);
  if (pool) await principals.listen(pool);
  app.addHook('onClose', async () => principals.close());
  // A change to who someone is or what he may do forgets the cached principals before the answer goes
  // out, so the next request (here, or on another PostgreSQL instance) sees it.
  app.addHook('onSend', async (request, reply) => {
    if (
      MUTATING_METHODS.has(request.method) &&
      reply.statusCode < 400 &&
      PRINCIPAL_PREFIXES.some((prefix) => request.url.startsWith(prefix))
    )
      await principals.clear();
  });
  const sessions = new SessionService(db.kysely, config, opts.now, principals);
  registerOriginCheck(app, config.allowedOrigins);
  registerAccess(app, db.kysely, sessions);

  app.get('/api/openapi.json', { config: { access: { public: true } }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
  healthRoutes(app, db, metrics, config.metricsToken);
  authRoutes(app, new AuthService(db.kysely, sessions, config, opts.now), config);
  orgRoutes(app, new OrgService(db.kysely));
  usersRoutes(app, new UsersService(db.kysely, db.engine, sessions));
  rolesRoutes(app, new RolesService(db.kysely));
  auditRoutes(app, new AuditService(db.kysely));
  const customers = new CustomersService(db.kysely, db.engine);
  customersRoutes(app, customers, new MergeService(db.kysely));
  pumpRoutes(app, new PumpService(db.kysely, db.engine, customers));
  accessRoutes(app, new AccessService(db.kysely, opts.now));
  settingsRoutes(app, db.kysely);
  policiesRoutes(app, new PoliciesService(db.kysely));
  apiKeysRoutes(app, new ApiKeysService(db.kysely, opts.now));
  webhooksRoutes(app, new WebhooksService(db.kysely, opts.now));
  const ingest = new IngestService(db.kysely, db.engine, opts.now, config.ingestChunkRows);
  transactionsRoutes(app, ingest, new TransactionsService(db.kysely, opts.now));
  const topups = new TopupsService(db.kysely, db.engine, opts.now);
  topupsRoutes(app, topups);
  const importChunkBusyMs = queriesHoldEventLoop(db.engine) ? CHUNK_BUSY_MS : 0;
  importsRoutes(
    app,
    new ImportsService(db.kysely, customers, ingest, topups, {
      limits: config.importLimits,
      chunkBusyMs: importChunkBusyMs,
      principalsChanged: () => principals.clear(),
      passwordTtlHours: config.importPasswordTtlHours,
      ...(opts.now && { now: opts.now }),
    }),
  );
  ratingsRoutes(app, new RatingsService(db.kysely, opts.now));
  customerValueRoutes(app, new CustomerValueService(db.kysely, opts.now));
  alertsRoutes(app, new AlertsService(db.kysely, opts.now), new BacktestService(db.kysely, opts.now));
  churnCasesRoutes(
    app,
    new ChurnCasesService(db.kysely, db.engine, opts.now, {
      snapshotMinutes: opts.config.dashboardSnapshotMinutes,
      onBackgroundError: (err) => app.log.error({ err }, 'loss-rate snapshot failed'),
    }),
  );
  workRoutes(app, new WorkService(db.kysely, opts.now));
  contactMomentsRoutes(app, new CalendarService(db.kysely, opts.now), new ContactMomentsService(db.kysely, opts.now));
  ownershipRoutes(app, new OwnershipService(db.kysely, opts.now));
  complaintsRoutes(app, new ComplaintsService(db.kysely, opts.storage ?? defaultStorage(config.databaseUrl), opts.now));
  complaintSlaRoutes(app, new ComplaintSlaService(db.kysely, opts.now));
  mysteryShoppersRoutes(
    app,
    new MysteryShoppersService(db.kysely, opts.storage ?? defaultStorage(config.databaseUrl), opts.now),
  );
  satisfactionRoutes(
    app,
    new SatisfactionService(db.kysely, opts.now),
    new ComplaintsService(db.kysely, opts.storage ?? defaultStorage(config.databaseUrl), opts.now),
    db.kysely,
    opts.now ?? (() => new Date()),
  );
  complaintStatsRoutes(app, new ComplaintStatsService(db.kysely, db.engine, opts.now));
  prospectsRoutes(app, new ProspectsService(db.kysely, db.engine, customers, opts.now));
  visitsRoutes(
    app,
    new VisitPlansService(db.kysely, opts.now),
    new VisitRecordsService(db.kysely, opts.storage ?? defaultStorage(config.databaseUrl), opts.now),
    new VisitSummaryService(db.kysely, opts.now),
  );
  dashboardsRoutes(
    app,
    new DashboardsService(db.kysely, db.engine, opts.now, {
      snapshotMinutes: opts.config.dashboardSnapshotMinutes,
      onBackgroundError: (err) => app.log.error({ err }, 'dashboard snapshot failed'),
    }),
  );

  const webRoot = opts.webRoot === undefined ? DEFAULT_WEB_ROOT : opts.webRoot;
  const hasWeb = webRoot !== null && fs.existsSync(path.join(webRoot, 'index.html'));
  if (hasWeb)
    await app.register(fastifyStatic, { root: webRoot, wildcard: false, index: false, serve: true, prefix: '/' });
  app.setNotFoundHandler((request, reply) => {
    if (request.url.startsWith('/api/') || request.method !== 'GET' || !hasWeb) {
      return reply.code(404).send({
        error: { code: 'ROUTE_NOT_FOUND', message: `${request.method} ${request.url.split('?')[0]} does not exist` },
      });
    }
    // Client-side routes of the single-page app all load index.html.
    return reply.type('text/html').sendFile('index.html');
  });

  return Object.assign(app, { routeTable, inFlight: () => inFlight });
}
