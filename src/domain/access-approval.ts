// Borrowing another area's archive [004][003]: that area's representative and the business dept
// head must agree; a requester from outside the business department also needs the branch manager.

export type ApprovalSlot = 'area_rep' | 'dept_head' | 'branch_manager';

const BUSINESS_ROLES = new Set([
  'sales_rep',
  'area_customer_manager',
  'branch_dept_head',
  'branch_customer_admin',
  'hq_marketing',
]);

export function requiredSlots(requesterRoles: readonly string[]): ApprovalSlot[] {
  const business = requesterRoles.some((r) => BUSINESS_ROLES.has(r));
  return business ? ['area_rep', 'dept_head'] : ['area_rep', 'dept_head', 'branch_manager'];
}

/** The roles that fill each slot. */
export const ROLES_OF_SLOT: Record<ApprovalSlot, readonly string[]> = {
  area_rep: ['sales_rep', 'area_customer_manager'],
  dept_head: ['branch_dept_head'],
  branch_manager: ['branch_manager'],
};

/** Which slot an approver may fill, by role; the caller checks that the target lies in the approver's subtree. */
export function slotsOf(approverRoles: readonly string[]): ApprovalSlot[] {
  return (Object.keys(ROLES_OF_SLOT) as ApprovalSlot[]).filter((slot) =>
    ROLES_OF_SLOT[slot].some((r) => approverRoles.includes(r)),
  );
}

export type RequestStatus = 'pending' | 'approved' | 'rejected';

export function statusAfter(
  required: readonly ApprovalSlot[],
  decisions: readonly { slot: ApprovalSlot; decision: 'approve' | 'reject' }[],
): RequestStatus {
  if (decisions.some((d) => d.decision === 'reject')) return 'rejected';
  const approved = new Set(decisions.filter((d) => d.decision === 'approve').map((d) => d.slot));
  return required.every((s) => approved.has(s)) ? 'approved' : 'pending';
}
