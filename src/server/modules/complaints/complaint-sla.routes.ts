// The SLA clocks of the complaint stages: the matrix HQ edits, pauses for named reasons, extension
// requests decided by the level above, and written reminders (督办) by hand.
import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { Id, IdParams, errorResponses } from '../../schemas.js';
import type { ComplaintSlaService } from './complaint-sla.service.js';

const strict = { additionalProperties: false };
const tags = ['complaints'];
const Unit = Type.Union([Type.Literal('clock_hours'), Type.Literal('working_hours'), Type.Literal('working_days')], {
  description: 'clock_hours (wall clock), working_hours or working_days (the owning unit’s calendar)',
});
const Amount = Type.Integer({ minimum: 1, maximum: 1000 });
const Code = Type.String({
  minLength: 1,
  maxLength: 32,
  pattern: '^([a-z0-9_]+|\\*)$',
  description: 'A code, or * for any',
});

const Rules = Type.Object(
  {
    rules: Type.Array(
      Type.Object(
        {
          categoryCode: Code,
          severityCode: Code,
          unit: Unit,
          verify: Amount,
          review: Amount,
          rectify: Amount,
          callback: Amount,
          archive: Amount,
        },
        strict,
      ),
      { minItems: 1, maxItems: 400 },
    ),
  },
  strict,
);
const Ok = Type.Object({ ok: Type.Boolean() });
const S = Type.Union([Type.String(), Type.Null()]);
const N = Type.Union([Type.Integer(), Type.Null()]);
const Int = Type.Integer();

/** The current stage's SLA clock on the case page, with its pauses, extensions and buttons. */
const SlaClock = Type.Object({
  clock: Type.Union([
    Type.Object({
      mode: Type.String({ description: 'clock or working (the owning unit’s business calendar)' }),
      allowanceMs: Int,
      usedMs: Int,
      leftMs: Int,
      percent: Int,
      state: Type.String(),
      dueAt: S,
      pausedAt: S,
      pauseReason: S,
    }),
    Type.Null(),
  ]),
  pauses: Type.Array(
    Type.Object({
      id: Int,
      stage: Type.String(),
      reason: Type.String(),
      note: S,
      startedAt: Type.String(),
      endedAt: S,
      pausedMs: N,
      byName: S,
    }),
  ),
  extensions: Type.Array(
    Type.Object({
      id: Int,
      stage: Type.String(),
      unit: Type.String(),
      amount: Int,
      reason: Type.String(),
      state: Type.String({ description: 'pending, approved, refused, lapsed (the stage ended first)' }),
      requestedAt: Type.String(),
      requestedByName: S,
      decidedAt: S,
      decidedByName: S,
      decisionNote: S,
      dueAfter: S,
    }),
  ),
  canPause: Type.Boolean(),
  canResume: Type.Boolean(),
  canRequestExtension: Type.Boolean(),
  canDecideExtension: Type.Boolean(),
  canSupervise: Type.Boolean(),
});

export function complaintSlaRoutes(app: App, svc: ComplaintSlaService): void {
  const complaint = { type: 'complaint' as const, param: 'id' };

  app.get('/api/complaints/sla-rules', {
    config: { access: { permission: 'complaint.intake' } },
    schema: {
      tags,
      summary: 'The SLA matrix: per category × severity (or * for any), each stage’s allowance and its unit',
      response: { 200: Rules, ...errorResponses },
    },
    handler: async () => ({ rules: await svc.rules() }),
  });

  app.put('/api/complaints/sla-rules', {
    config: { access: { permission: 'policy.write' } },
    schema: {
      tags,
      summary: 'Replace the SLA matrix (a row for * × * is required); stages started from now on count by it',
      body: Rules,
      response: { 200: Rules, ...errorResponses },
    },
    handler: async (req) => ({
      rules: await svc.saveRules(requirePrincipal(req), req.ip, req.body.rules),
    }),
  });

  app.get('/api/complaints/:id/sla', {
    config: { access: { permission: 'complaint.intake', resource: complaint } },
    schema: {
      tags,
      summary:
        'The current stage’s clock (time left, share used, paused), its pauses and extensions, and what I may do',
      params: IdParams,
      response: { 200: SlaClock, ...errorResponses },
    },
    handler: (req) => {
      const p = requirePrincipal(req);
      return svc.detail(p, req.params.id, p.permissions.has('complaint.handle'));
    },
  });

  app.post('/api/complaints/:id/sla/pause', {
    config: { access: { permission: 'complaint.handle', resource: complaint } },
    schema: {
      tags,
      summary: 'Stop the current stage’s clock for a named reason (the owner of the stage)',
      params: IdParams,
      body: Type.Object(
        {
          reason: Type.Union(
            [
              Type.Literal('waiting_customer'),
              Type.Literal('fuel_test'),
              Type.Literal('regulator'),
              Type.Literal('judicial'),
            ],
            { description: 'waiting_customer, fuel_test (third-party test of fuel), regulator, judicial' },
          ),
          note: Type.Optional(Type.String({ maxLength: 2000 })),
        },
        strict,
      ),
      response: { 200: Ok, ...errorResponses },
    },
    handler: async (req) => {
      await svc.pause(requirePrincipal(req), req.ip, req.params.id, req.body.reason, req.body.note);
      return { ok: true };
    },
  });

  app.post('/api/complaints/:id/sla/resume', {
    config: { access: { permission: 'complaint.handle', resource: complaint } },
    schema: {
      tags,
      summary: 'Start the clock again; the due time moves by the working time it stood still',
      params: IdParams,
      response: { 200: Ok, ...errorResponses },
    },
    handler: async (req) => {
      await svc.resume(requirePrincipal(req), req.ip, req.params.id);
      return { ok: true };
    },
  });

  app.post('/api/complaints/:id/sla/extensions', {
    config: { access: { permission: 'complaint.handle', resource: complaint } },
    schema: {
      tags,
      summary: 'Ask the level above for more time on the current stage (before its deadline, with a reason)',
      params: IdParams,
      body: Type.Object({ unit: Unit, amount: Amount, reason: Type.String({ minLength: 1, maxLength: 2000 }) }, strict),
      response: { 200: Ok, ...errorResponses },
    },
    handler: async (req) => {
      await svc.requestExtension(requirePrincipal(req), req.ip, req.params.id, req.body);
      return { ok: true };
    },
  });

  app.post('/api/complaints/:id/sla/extensions/:extensionId', {
    config: { access: { permission: 'complaint.handle', resource: complaint } },
    schema: {
      tags,
      summary: 'Approve or refuse an extension (the level above the owning unit, never the asker)',
      params: Type.Object({ id: Id, extensionId: Id }, strict),
      body: Type.Object({ approve: Type.Boolean(), note: Type.Optional(Type.String({ maxLength: 2000 })) }, strict),
      response: { 200: Ok, ...errorResponses },
    },
    handler: async (req) => {
      const p = requirePrincipal(req);
      await svc.decideExtension(p, req.ip, req.params.id, req.params.extensionId, req.body.approve, req.body.note);
      return { ok: true };
    },
  });

  app.post('/api/complaints/:id/supervise', {
    config: { access: { permission: 'complaint.handle', resource: complaint } },
    schema: {
      tags,
      summary: 'Issue a written reminder (督办) to the owner of the current stage, from a level above it',
      params: IdParams,
      body: Type.Object({ note: Type.String({ minLength: 1, maxLength: 2000 }) }, strict),
      response: { 200: Ok, ...errorResponses },
    },
    handler: async (req) => {
      await svc.supervise(requirePrincipal(req), req.ip, req.params.id, req.body.note);
      return { ok: true };
    },
  });
}
