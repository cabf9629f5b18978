import type { Permission } from '../../domain/permissions.js';

/** The signed-in user as every service sees it. */
export interface Principal {
  userId: number;
  username: string;
  displayName: string;
  orgUnitId: number;
  /** Materialised path of the user's org unit: the subtree the user sees. */
  orgPath: string;
  /** Org paths of other areas whose customer archive this user may read through an approved access request. */
  grantPaths: readonly string[];
  /** Of those, the ones lent for writing too (a grant is read-only unless asked and approved for writing). */
  grantWritePaths: readonly string[];
  permissions: ReadonlySet<Permission>;
  roleCodes: readonly string[];
  locale: string;
  sessionId: string;
  csrfToken: string;
  /** The password is one someone else chose: until it is changed, the session may do little else. */
  mustChangePassword?: boolean;
}

/** Who did it, for the audit log. */
export interface Actor {
  userId: number | null;
  name: string;
  ip: string | null;
}

export function actorOf(p: Principal, ip: string | null): Actor {
  return { userId: p.userId, name: p.username, ip };
}

export function can(p: Principal, permission: Permission): boolean {
  return p.permissions.has(permission);
}
