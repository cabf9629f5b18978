// `forecourt import --kind org_units | users` on both engines: the same import center from the command
// line; the new users' initial passwords are written once to a file only its owner can read, and the
// same files again change nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeEngines, freshDatabase } from '../helpers/engines.js';
import { login, setupAdmin, testConfig } from '../helpers/app.js';
import { buildApp } from '../../src/server/app.js';
import { prepareDatabase } from '../../src/server/bootstrap.js';
import { openDb } from '../../src/server/db/connection.js';
import { runImport } from '../../src/cli/commands/import.js';

describeEngines('forecourt import org_units / users', (engine) => {
  let url: string;
  let drop: () => Promise<void>;
  let dir: string;

  beforeAll(async () => {
    ({ url, drop } = await freshDatabase(engine, { migrated: true }));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-org-cli-'));
    const db = openDb({ url, poolSize: 2 });
    await prepareDatabase(db);
    const app = await buildApp({ db, config: testConfig({ databaseUrl: url }), webRoot: null });
    await setupAdmin(app);
    await app.close();
    await db.close();
  }, 60_000);
  afterAll(async () => {
    await drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The command's printed lines. */
  const cli = async (args: string[]) => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...x: unknown[]) => void lines.push(x.join(' ')));
    try {
      const code = await runImport(args, testConfig({ databaseUrl: url }));
      return { code, out: lines.join('\n') };
    } finally {
      spy.mockRestore();
    }
  };

  it('loads units then people; passwords once to a private file; again changes nothing', async () => {
    const units = path.join(dir, 'units.csv');
    fs.writeFileSync(
      units,
      '单位编码,单位名称,上级单位编码,单位类型\r\nS1,一号站,A1,加油站\r\nA1,一片区,B1,片区\r\nB1,一分公司,HQ,分公司\r\n',
    );
    const first = await cli([units, '--kind', 'org_units', '--user', 'admin']);
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain('created 3, updated 0, unchanged 0');
    expect(first.out).toContain('新建 3，更新 0，无变化 0');

    const users = path.join(dir, 'users.csv');
    fs.writeFileSync(
      users,
      '姓名,用户名,所属单位编码,角色\r\n张三,zhang3,S1,加油员、shift_lead\r\n李四,li4,A1,area_customer_manager\r\n',
    );
    const passwords = path.join(dir, 'passwords.csv');
    const r = await cli([users, '--kind', 'users', '--user', 'admin', '--passwords', passwords]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('新建 2，更新 0，无变化 0');
    expect(r.out).toContain(`written to ${passwords}`);
    expect(fs.statSync(passwords).mode & 0o777).toBe(0o600);
    const line = fs
      .readFileSync(passwords, 'utf8')
      .split('\r\n')
      .find((l) => l.includes('zhang3'))!;
    const password = line.split(',')[4]!;

    // The password signs him in.
    const db = openDb({ url, poolSize: 2 });
    const app = await buildApp({ db, config: testConfig({ databaseUrl: url }), webRoot: null });
    try {
      await login(app, 'zhang3', password);
    } finally {
      await app.close();
      await db.close();
    }

    // Nobody imports as li4 before he has changed his initial password.
    await expect(cli([units, '--kind', 'org_units', '--user', 'li4'])).rejects.toThrow(
      /li4 must sign in and change the initial password/,
    );

    const again = await cli([users, '--kind', 'users', '--user', 'admin', '--passwords', path.join(dir, 'p2.csv')]);
    expect(again.out).toContain('新建 0，更新 0，无变化 2');
    expect(fs.existsSync(path.join(dir, 'p2.csv'))).toBe(false);
    const unitsAgain = await cli([units, '--kind', 'org_units', '--user', 'admin']);
    expect(unitsAgain.out).toContain('新建 0，更新 0，无变化 3');
    // A passwords file that exists already is refused before anything is imported.
    await expect(cli([users, '--kind', 'users', '--user', 'admin', '--passwords', passwords])).rejects.toThrow(
      /exists already/,
    );
  });
});
