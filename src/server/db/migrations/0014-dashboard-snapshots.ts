import type { Kysely } from 'kysely';
import { idRefType, instantType } from './helpers.js';

// Figures of a dashboard (overview, key customers, card suggestions) of one unit and month, as
// computed at `computed_at` under the policy version `policy_key`. Over a large subtree these take
// seconds to compute from the rollups; a snapshot answers in milliseconds and says how old it is.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('dashboard_snapshot')
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('org_unit_id', idRefType(db), (c) => c.notNull().references('org_unit.id').onDelete('cascade'))
    .addColumn('month', 'varchar(7)', (c) => c.notNull())
    .addColumn('policy_key', 'varchar(64)', (c) => c.notNull())
    .addColumn('computed_at', instantType(db), (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('dashboard_snapshot_pk', ['kind', 'org_unit_id', 'month'])
    .execute();
}
