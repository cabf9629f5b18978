import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { App } from '../../http.js';
import type { Db } from '../../db/connection.js';

export function healthRoutes(app: App, db: Db): void {
  app.get('/api/health', {
    config: { access: { public: true } },
    schema: {
      tags: ['system'],
      summary: 'Liveness and database reachability',
      response: {
        200: Type.Object({ status: Type.String(), engine: Type.String() }),
        503: Type.Object({ status: Type.String(), engine: Type.String() }),
      },
    },
    handler: async (_req, reply) => {
      try {
        await sql`select 1`.execute(db.kysely);
        return { status: 'ok', engine: db.engine };
      } catch {
        return reply.code(503).send({ status: 'db_unreachable', engine: db.engine });
      }
    },
  });
}
