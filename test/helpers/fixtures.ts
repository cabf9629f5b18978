import { DEFAULT_ROLES } from '../../src/domain/permissions.js';
import { call, login, ok, type Session, type TestApp } from './app.js';

export const USER_PASSWORD = 'Staff-passw0rd-long';

export interface Tree {
  hq: number;
  branch1: number;
  area1: number;
  station1: number;
  station2: number;
  branch2: number;
  area2: number;
  station3: number;
}

async function unit(
  app: TestApp,
  s: Session,
  parentId: number,
  kindCode: string,
  code: string,
  name: string,
): Promise<number> {
  const body = await ok<{ id: number }>(
    call(app, s, 'POST', '/api/org/units', { parentId, kindCode, code, name }),
    201,
  );
  return body.id;
}

/** HQ → two branches, each with an area and stations. */
export async function buildTree(app: TestApp, admin: Session): Promise<Tree> {
  const me = await ok<{ orgUnitId: number }>(call(app, admin, 'GET', '/api/auth/me'));
  const hq = me.orgUnitId;
  const branch1 = await unit(app, admin, hq, 'branch', 'B1', '石家庄分公司');
  const area1 = await unit(app, admin, branch1, 'area', 'B1-A1', '长安片区');
  const station1 = await unit(app, admin, area1, 'station', 'B1-A1-S1', '中华北大街加油站');
  const station2 = await unit(app, admin, area1, 'station', 'B1-A1-S2', '建设南大街加油站');
  const branch2 = await unit(app, admin, hq, 'branch', 'B2', '保定分公司');
  const area2 = await unit(app, admin, branch2, 'area', 'B2-A1', '竞秀片区');
  const station3 = await unit(app, admin, area2, 'station', 'B2-A1-S1', '朝阳大街加油站');
  return { hq, branch1, area1, station1, station2, branch2, area2, station3 };
}

export async function roleIds(app: TestApp, s: Session): Promise<Map<string, number>> {
  const roles = await ok<{ id: number; code: string }[]>(call(app, s, 'GET', '/api/roles'));
  return new Map(roles.map((r) => [r.code, r.id]));
}

export async function createUser(
  app: TestApp,
  admin: Session,
  username: string,
  orgUnitId: number,
  roleCodes: string[],
): Promise<number> {
  const ids = await roleIds(app, admin);
  const body = await ok<{ id: number }>(
    call(app, admin, 'POST', '/api/users', {
      username,
      displayName: `用户${username}`,
      orgUnitId,
      password: USER_PASSWORD,
      roleIds: roleCodes.map((c) => ids.get(c)!),
    }),
    201,
  );
  return body.id;
}

/** One signed-in user per default role, all placed at `orgUnitId`. */
export async function usersForEveryRole(
  app: TestApp,
  admin: Session,
  orgUnitId: number,
): Promise<Map<string, Session>> {
  const sessions = new Map<string, Session>();
  for (const role of DEFAULT_ROLES) {
    const username = `u_${role.code}`;
    await createUser(app, admin, username, orgUnitId, [role.code]);
    sessions.set(role.code, await login(app, username, USER_PASSWORD));
  }
  return sessions;
}
