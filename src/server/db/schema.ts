import type { ColumnType, Generated } from 'kysely';

// Instants are ISO-8601 UTC strings on both engines (pg's timestamptz parser is set in connection.ts).
type Instant = ColumnType<string, string, string>;

export interface OrgLevelKindTable {
  code: string;
  name_zh: string;
  name_en: string;
  rank: number;
}

export interface OrgUnitTable {
  id: Generated<number>;
  parent_id: number | null;
  kind_code: string;
  code: string;
  name: string;
  time_zone: string;
  path: string;
  depth: number;
  version: Generated<number>;
  created_at: Instant;
  updated_at: Instant;
}

export interface RoleTable {
  id: Generated<number>;
  code: string;
  name_zh: string;
  name_en: string;
  builtin: number;
  version: Generated<number>;
  created_at: Instant;
  updated_at: Instant;
}

export interface RolePermissionTable {
  role_id: number;
  permission: string;
}

export interface AppUserTable {
  id: Generated<number>;
  username: string;
  display_name: string;
  org_unit_id: number;
  password_hash: string;
  locale: string;
  active: number;
  failed_logins: Generated<number>;
  locked_until: Instant | null;
  password_changed_at: Instant;
  version: Generated<number>;
  created_at: Instant;
  updated_at: Instant;
}

export interface UserRoleTable {
  user_id: number;
  role_id: number;
}

export interface SessionTable {
  id: string;
  user_id: number;
  csrf_token: string;
  created_at: Instant;
  last_seen_at: Instant;
  expires_at: Instant;
  ip: string | null;
  user_agent: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: Instant;
  actor_user_id: number | null;
  actor_name: string;
  action: string;
  entity: string;
  entity_id: string | null;
  org_unit_id: number | null;
  before_json: string | null;
  after_json: string | null;
  ip: string | null;
}

export interface SystemStateTable {
  key: string;
  value: string;
}

export interface JobRunTable {
  id: Generated<number>;
  job: string;
  period: string;
  status: string;
  started_at: Instant;
  finished_at: Instant | null;
  detail: string | null;
}

export interface Database {
  org_level_kind: OrgLevelKindTable;
  org_unit: OrgUnitTable;
  role: RoleTable;
  role_permission: RolePermissionTable;
  app_user: AppUserTable;
  user_role: UserRoleTable;
  session: SessionTable;
  audit_log: AuditLogTable;
  system_state: SystemStateTable;
  job_run: JobRunTable;
}
