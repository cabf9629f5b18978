// Access rules in one place: what the signed-in user may see and do, from /api/auth/me permissions.
import { useMe, type Me } from './shared/session.js';

export function accessOf(me: Me | null | undefined) {
  const has = (permission: string) => me?.permissions.includes(permission) ?? false;
  // Who works at the pump only (the attendant): records visits, sees no phones and no dashboards.
  const frontline = has('customer.write') && !has('customer.phone') && !has('dashboard.read');
  // Who works from a list of things to do: those who look after customers and their managers nearby.
  const fromInbox = !frontline && (me?.roles ?? []).some((r) => INBOX_ROLES.includes(r));
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
    canWriteCalendar: has('calendar.write'),
    canWriteMoments: has('moment.write'),
    canRunImport: has('import.run'),
    canManageApiKeys: has('apikey.manage'),
    canReadAlerts: has('alert.read'),
    canTakeComplaints: has('complaint.intake'),
    canCallSurveys: has('satisfaction.call'),
    canManageSurveys: has('satisfaction.manage'),
    canHandleComplaints: has('complaint.handle'),
    canReadMystery: has('mystery.read'),
    canManageMystery: has('mystery.manage'),
    canWriteMysteryForms: has('mystery.manage') && has('policy.write'),
    canEvaluateMystery: has('mystery.evaluate'),
    // Complaint figures and exit-survey analysis are for those who read dashboards and complaints.
    canReadComplaintStats: has('complaint.intake') && has('dashboard.read'),
    canRunAlerts: has('alert.run'),
    canReadDashboards: has('dashboard.read'),
    canApproveVisits: has('visit.approve'),
    canAssignOwners: has('owner.assign'),
    canClaimPool: has('pool.claim'),
    canReadRatings: has('rating.read'),
    canProposeRatings: has('rating.propose'),
    canApproveRatings: has('rating.approve'),
    canFinalizeRatings: has('rating.finalize'),
    isFrontline: frontline,
    worksFromInbox: fromInbox,
    notFrontline: signedInAndNot(me, frontline),
    // Asking to read another area is for people who follow customers up, not for the pump.
    canRequestAccess: has('customer.read') && (has('customer.phone') || has('access.approve')),
    // The org page is for those who maintain the tree or its people; everyone else knows his unit.
    canSeeOrgPage: has('org.write') || has('user.read'),
  };
}

/** Roles whose start page is the work inbox (我的待办). */
const INBOX_ROLES = ['sales_rep', 'area_customer_manager', 'station_manager'];

function signedInAndNot(me: Me | null | undefined, flag: boolean): boolean {
  return !!me && !flag;
}

/**
 * Where a user lands after signing in: the pump for attendants, the work inbox for representatives,
 * area managers and station managers, the start page for everyone else.
 */
export function startPathOf(access: Access): '/' | '/pump' | '/work' {
  if (access.isFrontline) return '/pump';
  return access.worksFromInbox ? '/work' : '/';
}

export type Access = ReturnType<typeof accessOf>;
export type AccessKey = keyof Access;

export function useAccess(): Access {
  const { data } = useMe();
  return accessOf(data);
}
