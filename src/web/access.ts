// Access rules in one place: what the signed-in user may see and do, from /api/auth/me permissions.
import { useMe, type Me } from './shared/session.js';

export function accessOf(me: Me | null | undefined) {
  const has = (permission: string) => me?.permissions.includes(permission) ?? false;
  return {
    signedIn: !!me,
    canReadOrg: has('org.read'),
    canWriteOrg: has('org.write'),
    canReadUsers: has('user.read'),
    canWriteUsers: has('user.write'),
    canReadRoles: has('role.read'),
    canWriteRoles: has('role.write'),
    canReadAudit: has('audit.read'),
    canReadCustomers: has('customer.read'),
    canWriteCustomers: has('customer.write'),
    canSeePhones: has('customer.phone'),
    canExportCustomers: has('customer.export'),
    canMergeCustomers: has('customer.merge'),
    canApproveAccess: has('access.approve'),
    canWritePolicy: has('policy.write'),
    canRunImport: has('import.run'),
    canManageApiKeys: has('apikey.manage'),
    canReadAlerts: has('alert.read'),
    canRunAlerts: has('alert.run'),
    canReadDashboards: has('dashboard.read'),
    canReadRatings: has('rating.read'),
    canProposeRatings: has('rating.propose'),
    canApproveRatings: has('rating.approve'),
    canFinalizeRatings: has('rating.finalize'),
  };
}

export type Access = ReturnType<typeof accessOf>;
export type AccessKey = keyof Access;

export function useAccess(): Access {
  const { data } = useMe();
  return accessOf(data);
}
