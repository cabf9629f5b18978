import type { Kysely } from 'kysely';
import { idRefType, instantType, sql, withId } from './helpers.js';

// SLA clocks of the complaint stages: the category × severity matrix as rows (seeded with the
// defaults of src/domain/complaint-sla.ts, edited by HQ), and per case the current stage's clock —
// its mode and allowance, the time it stood still, the instants at which 50/75/90/100/125 % fall and
// the highest level fired — so the sweep is a range query on `sla_next_at`. Pauses (named reasons,
// start and end) and extension requests keep their own rows; `hq_watch` puts a breached, supervised
// (督办) or emergency case on the HQ list.
const DEFAULTS: [string, string, string, number, number, number, number, number][] = [
  ['safety', '*', 'clock_hours', 1, 1, 24, 24, 48],
  ['mass_incident', '*', 'clock_hours', 1, 1, 24, 24, 48],
  ['regulator', '*', 'working_hours', 2, 4, 16, 8, 16],
  ['media', '*', 'working_hours', 2, 4, 16, 8, 16],
  ['*', 'critical', 'clock_hours', 2, 2, 24, 24, 24],
  ['*', 'major', 'working_hours', 4, 8, 24, 8, 16],
  ['*', 'general', 'working_days', 1, 2, 5, 2, 3],
  ['*', 'minor', 'working_days', 2, 3, 10, 3, 5],
  ['*', '*', 'working_days', 1, 2, 5, 2, 3],
];

export async function up(db: Kysely<any>): Promise<void> {
  const ts = instantType(db);
  const ref = idRefType(db);

  await db.schema
    .createTable('complaint_sla_rule')
    .addColumn('category_code', 'varchar(32)', (c) => c.notNull())
    .addColumn('severity_code', 'varchar(32)', (c) => c.notNull())
    .addColumn('unit', 'varchar(16)', (c) => c.notNull())
    .addColumn('verify', 'integer', (c) => c.notNull())
    .addColumn('review', 'integer', (c) => c.notNull())
    .addColumn('rectify', 'integer', (c) => c.notNull())
    .addColumn('callback', 'integer', (c) => c.notNull())
    .addColumn('archive', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('complaint_sla_rule_pk', ['category_code', 'severity_code'])
    .execute();
  await db
    .insertInto('complaint_sla_rule')
    .values(
      DEFAULTS.map(([category_code, severity_code, unit, verify, review, rectify, callback, archive]) => ({
        category_code,
        severity_code,
        unit,
        verify,
        review,
        rectify,
        callback,
        archive,
      })),
    )
    .execute();

  // The running stage's clock (null mode: not computed yet; the sweep computes it).
  for (const [name, type] of [
    ['sla_mode', 'varchar(8)'],
    ['sla_allowance_ms', 'bigint'],
    ['sla_paused_ms', 'bigint'],
    ['sla_paused_at', ts],
    ['sla_pause_reason', 'varchar(24)'],
    ['sla_warn50_at', ts],
    ['sla_warn75_at', ts],
    ['sla_warn90_at', ts],
    ['sla_supervise_at', ts],
    ['sla_next_at', ts],
    ['supervised_at', ts],
  ] as const)
    await db.schema.alterTable('complaint').addColumn(name, type).execute();
  await db.schema
    .alterTable('complaint')
    .addColumn('sla_fired', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('complaint')
    .addColumn('supervise_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('complaint')
    .addColumn('hq_watch', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // Cases taken before the clocks: closed ones need none; open ones get theirs from the next sweep.
  await db
    .updateTable('complaint')
    .set({ sla_mode: 'clock', sla_allowance_ms: 0, sla_paused_ms: 0 })
    .where('state', 'in', ['closed', 'merged'])
    .execute();
  await db.updateTable('complaint').set({ hq_watch: 1 }).where('emergency', '=', 1).execute();
  await sql`create index complaint_sla_next_idx on complaint (sla_next_at) where sla_next_at is not null`.execute(db);
  await sql`create index complaint_sla_missing_idx on complaint (id) where sla_mode is null`.execute(db);
  await sql`create index complaint_watch_idx on complaint (taken_at) where hq_watch = 1`.execute(db);

  await withId(db, db.schema.createTable('complaint_pause'))
    .addColumn('complaint_id', ref, (c) => c.notNull().references('complaint.id').onDelete('cascade'))
    .addColumn('stage', 'varchar(16)', (c) => c.notNull())
    .addColumn('reason', 'varchar(24)', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('started_at', ts, (c) => c.notNull())
    .addColumn('started_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('ended_at', ts)
    .addColumn('ended_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    // Clock time (working or wall-clock, as the stage counts) the pause held the clock still.
    .addColumn('paused_ms', 'bigint')
    .execute();
  await db.schema
    .createIndex('complaint_pause_case_idx')
    .on('complaint_pause')
    .columns(['complaint_id', 'id'])
    .execute();

  await withId(db, db.schema.createTable('complaint_extension'))
    .addColumn('complaint_id', ref, (c) => c.notNull().references('complaint.id').onDelete('cascade'))
    .addColumn('stage', 'varchar(16)', (c) => c.notNull())
    .addColumn('unit', 'varchar(16)', (c) => c.notNull())
    .addColumn('amount', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('state', 'varchar(12)', (c) => c.notNull())
    .addColumn('requested_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('requested_at', ts, (c) => c.notNull())
    .addColumn('due_before', ts)
    .addColumn('decided_by', ref, (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('decided_at', ts)
    .addColumn('decision_note', 'text')
    .addColumn('due_after', ts)
    .execute();
  await db.schema
    .createIndex('complaint_extension_case_idx')
    .on('complaint_extension')
    .columns(['complaint_id', 'id'])
    .execute();
}
