import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { Page, Paging, errorResponses } from '../../schemas.js';
import { WORK_KINDS, type WorkKind } from './work-items.js';
import type { InboxFilter, WorkService } from './work.service.js';

const tags = ['work'];
const Kind = Type.Unsafe<WorkKind>({
  type: 'string',
  enum: [...WORK_KINDS],
  description: 'What kind of work: an alert, a planned visit, a follow-up, an approval…',
});
const S = Type.Union([Type.String(), Type.Null()]);

const WorkItem = Type.Object({
  id: Type.Integer(),
  kind: Kind,
  recordId: Type.Integer({ description: 'Id of the alert, visit, task… the item is about' }),
  customerId: Type.Union([Type.Integer(), Type.Null()]),
  subject: Type.String(),
  orgUnitId: Type.Integer(),
  orgUnitName: Type.String(),
  dueAt: Type.String(),
  overdue: Type.Boolean(),
  queue: Type.Boolean({ description: 'Open to everyone who holds its permission in my subtree, not mine by name' }),
  state: Type.String(),
  doneAt: S,
});

export function workRoutes(app: App, svc: WorkService): void {
  app.get('/api/work/inbox', {
    config: { access: { session: true } },
    schema: {
      tags,
      summary: 'My work (我的待办): open items by due time, or finished ones newest first',
      querystring: Type.Object(
        {
          state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('done')])),
          kind: Type.Optional(Kind),
          ...Paging,
        },
        { additionalProperties: false },
      ),
      response: { 200: Page(WorkItem), ...errorResponses },
    },
    handler: (req) => svc.inbox(requirePrincipal(req), req.query as InboxFilter),
  });

  app.get('/api/work/counts', {
    config: { access: { session: true } },
    schema: {
      tags,
      summary: 'How much open work I have, by kind, overdue and due by the end of today (menu and home badges)',
      response: {
        200: Type.Object({
          total: Type.Integer(),
          overdue: Type.Integer(),
          dueToday: Type.Integer(),
          byKind: Type.Record(Type.String(), Type.Integer()),
        }),
        ...errorResponses,
      },
    },
    handler: (req) => svc.counts(requirePrincipal(req)),
  });
}
