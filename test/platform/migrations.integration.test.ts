import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEngines, openFresh } from '../helpers/engines.js';
import { migrateToLatest } from '../../src/server/db/migrate.js';
import { prepareDatabase } from '../../src/server/bootstrap.js';
import type { Db } from '../../src/server/db/connection.js';
import { DEFAULT_ROLES } from '../../src/domain/permissions.js';

describeEngines('migrations from empty', (engine) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await openFresh(engine));
  });
  afterAll(() => close());

  it('apply every migration to an empty database, then nothing on a second run', async () => {
    const first = await migrateToLatest(db);
    expect(first).toContain('0001-platform');
    expect(await migrateToLatest(db)).toEqual([]);
  });

  it('seed default roles and level kinds once, however often start-up runs', async () => {
    await prepareDatabase(db);
    await prepareDatabase(db);
    const roles = await db.kysely.selectFrom('role').select('code').execute();
    expect(roles.map((r) => r.code).sort()).toEqual(DEFAULT_ROLES.map((r) => r.code).sort());
    const kinds = await db.kysely.selectFrom('org_level_kind').select('code').orderBy('rank').execute();
    expect(kinds.map((k) => k.code)).toEqual(['hq', 'branch', 'area', 'station']);
  });

  it('keeps the audit log append-only in the engine itself', async () => {
    await db.kysely
      .insertInto('audit_log')
      .values({
        at: new Date().toISOString(),
        actor_user_id: null,
        actor_name: 't',
        action: 'x',
        entity: 'y',
        entity_id: null,
        org_unit_id: null,
        before_json: null,
        after_json: null,
        ip: null,
      })
      .execute();
    await expect(db.kysely.updateTable('audit_log').set({ action: 'tampered' }).execute()).rejects.toThrow(
      /append-only/,
    );
    await expect(db.kysely.deleteFrom('audit_log').execute()).rejects.toThrow(/append-only/);
    const rows = await db.kysely.selectFrom('audit_log').select('action').execute();
    expect(rows.map((r) => r.action)).toEqual(['x']);
  });

  it('enforces foreign keys (a user cannot point at a missing org unit)', async () => {
    const now = new Date().toISOString();
    await expect(
      db.kysely
        .insertInto('app_user')
        .values({
          username: 'ghost',
          display_name: 'g',
          org_unit_id: 999,
          password_hash: 'x',
          locale: 'zh-CN',
          active: 1,
          password_changed_at: now,
          created_at: now,
          updated_at: now,
        })
        .execute(),
    ).rejects.toThrow();
    const n = await sql<{ n: number }>`select count(*) as n from app_user`.execute(db.kysely);
    expect(Number(n.rows[0]?.n)).toBe(0);
  });
});

describe('migration files', () => {
  it('never import application code (they are frozen in time)', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const dir = path.resolve(import.meta.dirname, '../../src/server/db/migrations');
    for (const f of fs.readdirSync(dir)) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      for (const m of text.matchAll(/from '([^']+)'/g)) expect(m[1] === 'kysely' || m[1]!.startsWith('./')).toBe(true);
    }
  });
});
