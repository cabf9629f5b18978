// `forecourt alerts run|backtest` as a person types them, on both engines.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines, freshDatabase } from '../helpers/engines.js';
import { call, ok, setupAdmin, testConfig } from '../helpers/app.js';
import { buildTree } from '../helpers/fixtures.js';
import { send } from '../transactions/helpers.js';
import { buildApp } from '../../src/server/app.js';
import { prepareDatabase } from '../../src/server/bootstrap.js';
import { openDb, type Db } from '../../src/server/db/connection.js';
import { addDays } from '../../src/domain/anomaly-rules.js';

const BIN = fileURLToPath(new URL('../../bin/forecourt.mjs', import.meta.url));

describeEngines('forecourt alerts', (engine) => {
  let url: string;
  let drop: () => Promise<void>;
  let db: Db;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-alerts-cli-'));
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, 'alerts', ...args], {
      env: { ...process.env, DATABASE_URL: url },
      encoding: 'utf8',
      timeout: 120_000,
    });

  beforeAll(async () => {
    ({ url, drop } = await freshDatabase(engine, { migrated: true }));
    db = openDb({ url, poolSize: 2 });
    await prepareDatabase(db);
    const app = await buildApp({ db, config: testConfig(), webRoot: null, now: () => new Date() });
    await app.ready();
    const admin = await setupAdmin(app);
    const tree = await buildTree(app, admin);
    const key = (
      await ok<{ key: string }>(call(app, admin, 'POST', '/api/api-keys', { name: 'POS', orgUnitId: tree.hq }), 201)
    ).key;
    const days: string[] = [];
    for (let d = '2026-11-02'; d <= '2026-11-20'; d = addDays(d, 2)) days.push(d);
    days.push('2026-11-30'); // back after the night judged
    await ok(
      call(app, admin, 'POST', '/api/customers', {
        kind: 'individual',
        orgUnitId: tree.station1,
        name: '王',
        vehicles: [{ plate: '冀A12345' }],
      }),
      201,
    );
    const rows = days.map((d, i) => ({
      externalId: `c${i}`,
      occurredAt: `${d}T10:00:00+08:00`,
      stationCode: 'B1-A1-S1',
      plate: '冀A12345',
      product: '92#',
      volumeMl: 40_000,
      amountFen: 30_000,
    }));
    expect((await ok<{ rejected: number }>(send(app, key, { source: 'pos', transactions: rows }))).rejected).toBe(0);
    await app.close();
  }, 120_000);

  afterAll(async () => {
    await db.close();
    await drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs the rules as of a night, counting only or for real', async () => {
    const dry = run('run', '--as-of', '2026-11-25', '--dry-run', '--json');
    expect(dry.status, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      period: '2026-11-25',
      dryRun: true,
      raised: { cadence: 1, decline: 0, model: 0 },
    });
    expect(await db.kysely.selectFrom('alert').select('id').execute()).toEqual([]);
    const wet = run('run', '--as-of', '2026-11-25');
    expect(wet.status, wet.stderr).toBe(0);
    expect(wet.stdout).toContain('raised: cadence 1');
    // He came back on the 30th: on file already, the alert is resolved by it at once.
    expect(wet.stdout).toContain('resolved: came back 1');
    expect(await db.kysely.selectFrom('alert').select(['status', 'resolved_day']).execute()).toEqual([
      { status: 'resolved', resolved_day: '2026-11-30' },
    ]);
  });

  it('back-tests a policy from a file and prints the report per rule and per station', async () => {
    const file = path.join(dir, 'policy.json');
    fs.writeFileSync(file, JSON.stringify({ graceDays: 7 }));
    const text = run('backtest', '--from', '2026-11-20', '--to', '2026-11-30', '--follow-up', '14');
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/back-test 2026-11-20 – 2026-11-30 \(11 nights\)/);
    expect(text.stdout).toMatch(/cadence\s+1\s+1\s+1\s/); // raised, customers, back within 14 days
    expect(text.stdout).toContain('per station:');
    expect(text.stdout).toContain('中华北大街加油站');
    const tried = run('backtest', '--from', '2026-11-20', '--to', '2026-11-30', '--policy', file, '--json');
    expect(tried.status, tried.stderr).toBe(0);
    const report = JSON.parse(tried.stdout);
    expect(report.policy.graceDays).toBe(7);
    // A week's grace: he is back on the 30th before the rule would have called him overdue (the 27th + 1).
    expect(report.rules.find((r: { rule: string }) => r.rule === 'cadence').raised).toBe(1);
    expect(report.rules.find((r: { rule: string }) => r.rule === 'cadence').delayDays.median).toBe(8);
    // Nothing written by a back-test.
    expect(await db.kysely.selectFrom('alert').select('id').execute()).toHaveLength(1);
  });

  it('refuses a wrong call with the reason and exit code 2', () => {
    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ graceDays: 1000 }));
    fs.writeFileSync(path.join(dir, 'unknown.json'), JSON.stringify({ declineMonths: 3 }));
    const cases: [string[], RegExp][] = [
      [['backtest', '--from', '2026-11-20'], /needs --from and --to/],
      [['backtest', '--from', '2026-11-30', '--to', '2026-11-20'], /to must not come before from/],
      [['backtest', '--from', '2026-06-01', '--to', '2026-11-20'], /at most 92 nights/],
      [
        ['backtest', '--from', '2026-11-20', '--to', '2026-11-30', '--policy', path.join(dir, 'bad.json')],
        /graceDays must be at most 60/,
      ],
      [
        ['backtest', '--from', '2026-11-20', '--to', '2026-11-30', '--policy', path.join(dir, 'unknown.json')],
        /declineMonths is not a field/,
      ],
      [['run', '--as-of', '25/11/2026'], /--as-of takes a date/],
      [['run', '--scope', 'NOPE'], /no org unit with code NOPE/],
      [['sweep'], /run or backtest/],
    ];
    for (const [args, message] of cases) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });
});
