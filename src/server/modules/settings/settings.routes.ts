import { Type } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import type { App } from '../../http.js';
import type { Database } from '../../db/schema.js';
import { requirePrincipal } from '../../auth/access.js';
import { actorOf } from '../../auth/principal.js';
import { AppError } from '../../errors.js';
import { errorResponses } from '../../schemas.js';
import { DEFAULT_CODE_SCHEME, formatCode, validateScheme } from '../../../domain/customer-code.js';
import { recordAudit } from '../audit/audit.service.js';

const KEY = 'customer_code_scheme';
const SchemeSchema = Type.Object({ scheme: Type.String(), example: Type.String() });
const example = (scheme: string) =>
  formatCode(scheme, { branch: 'SJZ', area: 'CA', station: 'S01', kind: 'organisation' }, 1);

export function settingsRoutes(app: App, db: Kysely<Database>): void {
  app.get('/api/settings/customer-code-scheme', {
    config: { access: { session: true } },
    schema: {
      tags: ['settings'],
      summary: 'How customer codes are numbered',
      response: { 200: SchemeSchema, ...errorResponses },
    },
    handler: async () => {
      const scheme =
        (await db.selectFrom('system_state').select('value').where('key', '=', KEY).executeTakeFirst())?.value ??
        DEFAULT_CODE_SCHEME;
      return { scheme, example: example(scheme) };
    },
  });

  app.put('/api/settings/customer-code-scheme', {
    config: { access: { permission: 'policy.write' } },
    schema: {
      tags: ['settings'],
      summary: 'Change the numbering scheme for new customers: {branch} {area} {station} {kind} {seq:N}',
      body: Type.Object({ scheme: Type.String({ minLength: 1, maxLength: 60 }) }, { additionalProperties: false }),
      response: { 200: SchemeSchema, ...errorResponses },
    },
    handler: async (req) => {
      const problem = validateScheme(req.body.scheme);
      if (problem) throw new AppError('VALIDATION_FAILED', problem, 'body.scheme');
      const p = requirePrincipal(req);
      await db.transaction().execute(async (trx) => {
        const before = await trx.selectFrom('system_state').select('value').where('key', '=', KEY).executeTakeFirst();
        await trx
          .insertInto('system_state')
          .values({ key: KEY, value: req.body.scheme })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value: req.body.scheme }))
          .execute();
        await recordAudit(trx, actorOf(p, req.ip), {
          action: 'update',
          entity: 'setting',
          entityId: KEY,
          before: before?.value ?? DEFAULT_CODE_SCHEME,
          after: req.body.scheme,
        });
      });
      return { scheme: req.body.scheme, example: example(req.body.scheme) };
    },
  });
}
