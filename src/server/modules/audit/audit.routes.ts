import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { Instant, Page, Paging, errorResponses } from '../../schemas.js';
import { maskPhonesIn, type AuditService } from './audit.service.js';
import { can } from '../../auth/principal.js';

const AuditRecord = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  actorUserId: Type.Union([Type.Integer(), Type.Null()]),
  actorName: Type.String({ description: 'The username recorded at the time' }),
  actorDisplayName: Type.Union([Type.String(), Type.Null()], {
    description: "The person's name now (null for the system or an unknown sign-in)",
  }),
  action: Type.String(),
  entity: Type.String(),
  entityId: Type.Union([Type.String(), Type.Null()]),
  orgUnitId: Type.Union([Type.Integer(), Type.Null()]),
  orgUnitName: Type.Union([Type.String(), Type.Null()]),
  before: Type.Union([Type.String(), Type.Null()]),
  after: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
});

export function auditRoutes(app: App, svc: AuditService): void {
  app.get('/api/audit', {
    config: { access: { permission: 'audit.read' } },
    schema: {
      tags: ['audit'],
      summary: 'Search the audit log of your subtree',
      querystring: Type.Object(
        {
          actor: Type.Optional(Type.String({ maxLength: 100, description: "A username or a person's name" })),
          action: Type.Optional(Type.String({ maxLength: 64 })),
          entity: Type.Optional(Type.String({ maxLength: 64 })),
          entityId: Type.Optional(Type.String({ maxLength: 64 })),
          from: Type.Optional(Instant),
          to: Type.Optional(Instant),
          ...Paging,
        },
        { additionalProperties: false },
      ),
      response: { 200: Page(AuditRecord), ...errorResponses },
    },
    handler: async (req) => {
      const q = req.query;
      // Compare instants in one format: stored values are toISOString() output.
      const iso = (v?: string) => (v ? new Date(v).toISOString() : undefined);
      const p = requirePrincipal(req);
      const { total, rows } = await svc.search(p, { ...q, from: iso(q.from), to: iso(q.to) });
      // Before/after snapshots of customers hold phone numbers: mask them for readers without the right.
      const show = can(p, 'customer.phone') ? (v: string | null) => v : maskPhonesIn;
      return {
        total,
        items: rows.map((r) => ({
          id: r.id,
          at: r.at,
          actorUserId: r.actor_user_id,
          actorName: r.actor_name,
          actorDisplayName: r.actor_display_name,
          action: r.action,
          entity: r.entity,
          entityId: r.entity_id,
          orgUnitId: r.org_unit_id,
          orgUnitName: r.org_unit_name,
          before: show(r.before_json),
          after: show(r.after_json),
          ip: r.ip,
        })),
      };
    },
  });
}
