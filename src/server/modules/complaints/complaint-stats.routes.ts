import { Type } from '@sinclair/typebox';
import type { App } from '../../http.js';
import { requirePrincipal } from '../../auth/access.js';
import { IdParams, Month, errorResponses } from '../../schemas.js';
import type { ComplaintStatsService } from './complaint-stats.js';

const strict = { additionalProperties: false };
const Int = Type.Integer();
const Rate = Type.Union([Type.Number(), Type.Null()], { description: '0–1; null when its base is zero' });
const tags = ['complaints'];
const Unit = Type.Object({ id: Int, name: Type.String(), code: Type.String(), kindCode: Type.String() });

const Figures = {
  taken: Type.Integer({ description: 'Cases taken in the month (merged duplicates left out)' }),
  open: Type.Integer({ description: 'Of them, still in one of the five stages' }),
  overdue: Type.Integer({ description: 'Of the open ones, past the current stage’s due time' }),
  responseDue: Type.Integer({ description: 'Verified, or past the first verification’s due time unverified' }),
  respondedInTime: Type.Integer({ description: 'First verification by its due time' }),
  responseRate: Rate,
  closed: Type.Integer({ description: 'Archived after the callback' }),
  resolutionRate: Rate,
  rated: Type.Integer({ description: 'Callbacks with a rating (every callback of a reopened case counts)' }),
  satisfied: Type.Integer({ description: 'Callbacks rated 4 or 5' }),
  satisfactionRate: Rate,
  stagesFinished: Type.Integer({ description: 'Stages taken forward' }),
  stagesInTime: Type.Integer({ description: 'Stages taken forward by their due time' }),
  slaRate: Rate,
  repeats: Type.Integer({ description: 'Cases whose customer or phone had another case in the 90 days before' }),
  repeatRate: Rate,
  reachedRectify: Type.Integer({ description: 'Cases that reached rectification' }),
  rectified: Type.Integer({ description: 'Cases that passed rectification with evidence on file' }),
  rectificationRate: Rate,
};

const Stats = Type.Object({
  unit: Unit,
  month: Type.String(),
  ...Figures,
  trend: Type.Array(Type.Object({ month: Type.String(), ...Figures })),
  children: Type.Array(Type.Object({ ...Unit.properties, ...Figures })),
  byCategory: Type.Array(
    Type.Object({ code: Type.String(), nameZh: Type.String(), nameEn: Type.String(), ...Figures }),
  ),
  byChannel: Type.Array(Type.Object({ channel: Type.String(), ...Figures })),
});

const Counts = Type.Array(Type.Object({ code: Type.String(), count: Int }));
const Named = Type.Array(Type.Object({ code: Type.String(), nameZh: Type.String(), nameEn: Type.String() }));
const ExitAnalysis = Type.Object({
  unit: Unit,
  month: Type.String(),
  months: Type.Array(Type.String()),
  reasons: Named,
  categories: Named,
  trend: Type.Array(
    Type.Object({
      month: Type.String(),
      lost: Type.Integer({ description: 'Lost customers with an exit survey, in the month of the loss' }),
      complaints: Type.Integer({ description: 'Complaints taken in the month' }),
      byReason: Counts,
      byCategory: Counts,
    }),
  ),
  stations: Type.Array(
    Type.Object({
      ...Unit.properties,
      lost: Int,
      complaints: Int,
      byReason: Counts,
      byCategory: Counts,
      months: Type.Array(Type.Object({ month: Type.String(), lost: Int, complaints: Int })),
    }),
  ),
});

const Query = (defaultMonths: number) =>
  Type.Object(
    {
      month: Type.Optional(Month),
      months: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: 24,
          description: `Months of trend ending with \`month\`; ${defaultMonths} by default`,
        }),
      ),
    },
    strict,
  );

export function complaintStatsRoutes(app: App, svc: ComplaintStatsService): void {
  const unit = { type: 'org_unit' as const, param: 'id' };

  app.get('/api/complaint-stats/:id', {
    config: { access: { permission: 'complaint.intake', resource: unit } },
    schema: {
      tags,
      summary:
        'Complaint figures of a unit per month (response, resolution and satisfaction rates, SLA compliance, repeats, rectification closure), its child units, categories and channels',
      params: IdParams,
      querystring: Query(12),
      response: { 200: Stats, ...errorResponses },
    },
    handler: (req) => svc.stats(requirePrincipal(req), req.params.id, req.query),
  });

  app.get('/api/complaint-stats/:id/xlsx', {
    config: { access: { permission: 'complaint.intake', resource: unit } },
    schema: {
      tags,
      summary: 'The complaint figures as an XLSX file with Chinese headers (audited)',
      params: IdParams,
      querystring: Query(12),
    },
    handler: async (req, reply) => {
      const file = await svc.xlsx(requirePrincipal(req), req.ip, req.params.id, req.query);
      return reply
        .header('content-type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .header('content-disposition', `attachment; filename="${file.fileName}"`)
        .send(file.bytes);
    },
  });

  app.get('/api/exit-analysis/:id', {
    config: { access: { permission: 'dashboard.read', resource: unit } },
    schema: {
      tags,
      summary:
        'Why lost customers left (exit surveys) per unit and month, beside the complaint categories of the same units and months',
      params: IdParams,
      querystring: Query(6),
      response: { 200: ExitAnalysis, ...errorResponses },
    },
    handler: (req) => svc.exitAnalysis(requirePrincipal(req), req.params.id, req.query),
  });
}
