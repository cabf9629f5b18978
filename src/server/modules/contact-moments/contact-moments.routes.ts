import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { Id, IdParams, Instant, MAX_INT4, Ok, Page, Paging, errorResponses } from '../../schemas.js';
import { DAY_KINDS } from '../../../domain/business-calendar.js';
import type { CalendarService } from './calendar.service.js';
import { CONTACT_OUTCOMES, MOMENT_KINDS, type ContactMomentsService } from './contact-moments.service.js';

const strict = { additionalProperties: false };
const S = Type.Union([Type.String(), Type.Null()]);
const Int = Type.Integer();
const Day = Type.String({
  pattern: '^(19|2\\d)\\d{2}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$',
  description: 'YYYY-MM-DD',
});
const [HOLIDAY, WORKDAY] = DAY_KINDS;
const DayKind = Type.Union([Type.Literal(HOLIDAY), Type.Literal(WORKDAY)], {
  description: 'holiday: a day off whatever its weekday; workday: a working (make-up) day',
});
const [PRICE, HOLIDAYS, WEATHER, BIRTHDAY] = MOMENT_KINDS;
const MomentKind = Type.Union([
  Type.Literal(PRICE),
  Type.Literal(HOLIDAYS),
  Type.Literal(WEATHER),
  Type.Literal(BIRTHDAY),
]);
const [PHONE, SMS, WECHAT, VISIT, NOT_REACHED] = CONTACT_OUTCOMES;
const Outcome = Type.Union(
  [Type.Literal(PHONE), Type.Literal(SMS), Type.Literal(WECHAT), Type.Literal(VISIT), Type.Literal(NOT_REACHED)],
  { description: 'How the customer was reached, or not_reached' },
);
const Fen = Type.Integer({ minimum: 1, maximum: MAX_INT4, description: 'Price per litre in fen' });

const CalendarYear = Type.Object({
  orgUnitId: Int,
  orgUnitName: Type.String(),
  timeZone: Type.String(),
  workdayStart: Type.Integer({ description: 'Minutes after local midnight' }),
  workdayEnd: Type.Integer({ description: 'Minutes after local midnight' }),
  year: Int,
  days: Type.Array(
    Type.Object({
      day: Type.String(),
      working: Type.Boolean(),
      weekend: Type.Boolean(),
      mark: Type.Union([
        Type.Object({
          kind: DayKind,
          name: S,
          nameEn: S,
          source: Type.Union([Type.Literal('statutory'), Type.Literal('override')]),
          orgUnitId: Type.Union([Type.Integer(), Type.Null()], { description: 'The unit whose override decides' }),
          orgUnitName: S,
        }),
        Type.Null(),
      ]),
    }),
  ),
  overrides: Type.Array(Type.Object({ day: Type.String(), kind: DayKind, name: S }), {
    description: 'The unit’s own overrides in the year',
  }),
});

const Task = Type.Object({
  id: Int,
  customer: Type.Object({ id: Int, code: Type.String(), name: Type.String() }),
  orgUnitId: Int,
  orgUnitName: Type.String(),
  momentKind: MomentKind,
  momentDay: Type.String(),
  title: Type.String(),
  assigneeUserId: Type.Union([Type.Integer(), Type.Null()]),
  assigneeName: S,
  contactDay: Type.String({ description: 'The day on the unit’s calendar the customer is to be contacted' }),
  dueAt: Type.String(),
  state: Type.Union([Type.Literal('open'), Type.Literal('done')]),
  channel: Type.Union([Type.String(), Type.Null()], { description: 'The channel a message goes by, once sent' }),
  outboxMessageId: Type.Union([Type.Integer(), Type.Null()]),
  outcome: Type.Union([Outcome, Type.Null()]),
  note: S,
  doneByName: S,
  doneAt: S,
  canComplete: Type.Boolean(),
});

const PriceChange = Type.Object({
  id: Int,
  orgUnitId: Int,
  orgUnitName: Type.String(),
  product: Type.String(),
  oldPriceFen: Int,
  newPriceFen: Int,
  effectiveAt: Type.String(),
  source: Type.String(),
  note: S,
  createdByName: S,
  createdAt: Type.String(),
});

const WeatherWarning = Type.Object({
  id: Int,
  orgUnitId: Int,
  orgUnitName: Type.String(),
  title: Type.String(),
  detail: S,
  routeText: S,
  startDay: Type.String(),
  endDay: Type.String(),
  createdByName: S,
  createdAt: Type.String(),
});

const Created = Type.Object({ created: Int, unchanged: Int, ids: Type.Array(Int) });

export function contactMomentsRoutes(app: App, calendar: CalendarService, svc: ContactMomentsService): void {
  app.get('/api/calendar/:id', {
    config: { access: { permission: 'org.read', resource: { type: 'org_unit', param: 'id' } } },
    schema: {
      summary: 'A unit’s business calendar for a year: statutory holidays, make-up days and overrides',
      tags: ['contact moments'],
      params: IdParams,
      querystring: Type.Object({ year: Type.Integer({ minimum: 1900, maximum: 2999 }) }, strict),
      response: { 200: CalendarYear, ...errorResponses },
    },
    handler: (req) => calendar.year(req.params.id, req.query.year),
  });

  const OverrideParams = Type.Object({ id: Id, day: Day }, strict);
  app.put('/api/calendar/:id/overrides/:day', {
    config: { access: { permission: 'calendar.write', resource: { type: 'org_unit', param: 'id' } } },
    schema: {
      summary: 'Mark a day of a unit’s calendar as a holiday or a working day (the units below inherit it)',
      tags: ['contact moments'],
      params: OverrideParams,
      body: Type.Object(
        {
          kind: DayKind,
          name: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
        },
        strict,
      ),
      response: { 200: Type.Object({ day: Type.String(), kind: DayKind, name: S }), ...errorResponses },
    },
    handler: (req) =>
      calendar.setOverride(
        requirePrincipal(req),
        req.ip,
        req.params.id,
        req.params.day,
        req.body.kind,
        req.body.name ?? null,
      ),
  });

  app.delete('/api/calendar/:id/overrides/:day', {
    config: { access: { permission: 'calendar.write', resource: { type: 'org_unit', param: 'id' } } },
    schema: {
      summary: 'Remove a unit’s own mark of a day (the day follows the units above and the statutory calendar again)',
      tags: ['contact moments'],
      params: OverrideParams,
      response: { 200: Ok, ...errorResponses },
    },
    handler: (req) => calendar.removeOverride(requirePrincipal(req), req.ip, req.params.id, req.params.day),
  });

  app.get('/api/contact-tasks', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      summary: 'Contact tasks of the reader’s organisation (or his own), by due time',
      tags: ['contact moments'],
      querystring: Type.Object(
        {
          mine: Type.Optional(Type.Boolean()),
          state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('done')])),
          kind: Type.Optional(MomentKind),
          ...Paging,
        },
        strict,
      ),
      response: { 200: Page(Task), ...errorResponses },
    },
    handler: (req) => svc.listTasks(requirePrincipal(req), req.query),
  });

  app.get('/api/contact-tasks/:id', {
    config: { access: { permission: 'customer.read', resource: { type: 'contact_task', param: 'id' } } },
    schema: {
      summary: 'One contact task',
      tags: ['contact moments'],
      params: IdParams,
      response: { 200: Task, ...errorResponses },
    },
    handler: (req) => svc.getTask(requirePrincipal(req), req.params.id),
  });

  app.post('/api/contact-tasks/:id/complete', {
    config: { access: { permission: 'customer.write', resource: { type: 'contact_task', param: 'id' } } },
    schema: {
      summary: 'Record how the customer was reached and close the task (its assignee only)',
      tags: ['contact moments'],
      params: IdParams,
      body: Type.Object(
        { outcome: Outcome, note: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])) },
        strict,
      ),
      response: { 200: Task, ...errorResponses },
    },
    handler: (req) =>
      svc.complete(requirePrincipal(req), req.ip, req.params.id, req.body.outcome, req.body.note?.trim() || null),
  });

  app.get('/api/price-changes', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      summary: 'Price changes of the reader’s units and the units above them, newest first (200 at most)',
      tags: ['contact moments'],
      response: { 200: Type.Array(PriceChange), ...errorResponses },
    },
    handler: (req) => svc.listPriceChanges(requirePrincipal(req)),
  });

  app.post('/api/price-changes', {
    config: { access: { permission: 'moment.write' } },
    schema: {
      summary: 'Enter a price change: its buyers’ owners get a contact task ahead of it',
      tags: ['contact moments'],
      body: Type.Object(
        {
          orgUnitId: Id,
          product: Type.String({ minLength: 1, maxLength: 32 }),
          oldPriceFen: Fen,
          newPriceFen: Fen,
          effectiveAt: Instant,
          note: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
        },
        strict,
      ),
      response: { 201: Created, ...errorResponses },
    },
    handler: async (req, reply) => {
      const { orgUnitId, ...row } = req.body;
      reply.code(201);
      return svc.createPriceChanges(requirePrincipal(req), req.ip, orgUnitId, [row], 'manual');
    },
  });

  app.post('/api/price-changes/import', {
    config: { access: { permission: 'moment.write' } },
    schema: {
      summary: 'Import price changes from a small CSV or XLSX file (product, old price, new price, effective time)',
      tags: ['contact moments'],
      body: Type.Object(
        {
          orgUnitId: Id,
          fileName: Type.String({ minLength: 1, maxLength: 200, description: 'Ends in .csv or .xlsx' }),
          content: Type.String({ minLength: 1, maxLength: 700_000, description: 'The file, base64' }),
        },
        strict,
      ),
      response: { 201: Created, ...errorResponses },
    },
    handler: async (req, reply) => {
      const r = await svc.importPriceChanges(
        requirePrincipal(req),
        req.ip,
        req.body.orgUnitId,
        req.body.fileName,
        req.body.content,
      );
      reply.code(201);
      return r;
    },
  });

  app.get('/api/weather-warnings', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      summary: 'Weather and road warnings of the reader’s units and the units above them (200 at most)',
      tags: ['contact moments'],
      response: { 200: Type.Array(WeatherWarning), ...errorResponses },
    },
    handler: (req) => svc.listWeatherWarnings(requirePrincipal(req)),
  });

  app.post('/api/weather-warnings', {
    config: { access: { permission: 'moment.write' } },
    schema: {
      summary: 'Enter a weather or road warning for a unit’s customers (optionally those on a route)',
      tags: ['contact moments'],
      body: Type.Object(
        {
          orgUnitId: Id,
          title: Type.String({ minLength: 1, maxLength: 200 }),
          detail: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
          routeText: Type.Optional(
            Type.Union([Type.String({ maxLength: 100 }), Type.Null()], {
              description: 'Only customers whose routes mention this text',
            }),
          ),
          startDay: Day,
          endDay: Type.Optional(Type.Union([Day, Type.Null()])),
        },
        strict,
      ),
      response: { 201: Type.Object({ id: Int }), ...errorResponses },
    },
    handler: async (req, reply) => {
      const r = await svc.createWeatherWarning(requirePrincipal(req), req.ip, req.body);
      reply.code(201);
      return r;
    },
  });

  app.get('/api/contact-moments/holidays', {
    config: { access: { permission: 'customer.read' } },
    schema: {
      summary: 'The next holidays on the reader’s unit calendar (120 days ahead)',
      tags: ['contact moments'],
      response: { 200: Type.Array(Type.Object({ day: Type.String(), name: S })), ...errorResponses },
    },
    handler: (req) => svc.upcomingHolidays(requirePrincipal(req)),
  });
}
