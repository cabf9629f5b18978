// The permission catalogue and the default roles of DOMAIN.md. Roles are stored as data;
// this list only seeds them on first start and names what the code can check.

export const PERMISSIONS = [
  'org.read',
  'org.write',
  'user.read',
  'user.write',
  'role.read',
  'role.write',
  'audit.read',
  'customer.read',
  'customer.write',
  'customer.phone',
  'customer.export',
  'customer.merge',
  'owner.assign',
  'pool.claim',
  'access.approve',
  'policy.write',
  'rating.propose',
  'rating.approve',
  'rating.read',
  'rating.finalize',
  'import.run',
  'apikey.manage',
  'alert.read',
  'alert.run',
  'churn.assign',
  'prospect.plan',
  'prospect.approve',
  'prospect.finalize',
  'dashboard.read',
  'visit.approve',
  'complaint.intake',
  'complaint.handle',
  'calendar.write',
  'moment.write',
  'mystery.read',
  'mystery.manage',
  'mystery.evaluate',
  'satisfaction.call',
  'satisfaction.manage',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

export interface DefaultRole {
  code: string;
  nameZh: string;
  nameEn: string;
  permissions: readonly Permission[];
}

const CUSTOMER_WORK: readonly Permission[] = [
  'customer.read',
  'customer.write',
  'customer.phone',
  'alert.read',
  'pool.claim',
];

export const DEFAULT_ROLES: readonly DefaultRole[] = [
  // Mystery shoppers (神秘顾客) rate stations on HQ's forms; they see only their own assignments.
  { code: 'mystery_shopper', nameZh: '神秘顾客', nameEn: 'Mystery shopper', permissions: ['mystery.evaluate'] },
  { code: 'admin', nameZh: '系统管理员', nameEn: 'System admin', permissions: PERMISSIONS },
  {
    code: 'hq_marketing',
    nameZh: '营销处',
    nameEn: 'HQ marketing',
    permissions: [
      'mystery.read',
      'mystery.manage',
      'org.read',
      'user.read',
      ...CUSTOMER_WORK,
      'owner.assign',
      'customer.export',
      'policy.write',
      'alert.run',
      'rating.approve',
      'rating.read',
      'access.approve',
      'dashboard.read',
      'churn.assign',
      'visit.approve',
      'complaint.intake',
      'complaint.handle',
      'calendar.write',
      'moment.write',
      'satisfaction.call',
      'satisfaction.manage',
    ],
  },
  {
    code: 'branch_customer_admin',
    nameZh: '客户专职管理员',
    nameEn: 'Branch customer admin',
    permissions: [
      'mystery.read',
      'mystery.manage',
      'org.read',
      'user.read',
      ...CUSTOMER_WORK,
      'owner.assign',
      'customer.export',
      'customer.merge',
      'alert.run',
      'rating.propose',
      'rating.read',
      'import.run',
      'dashboard.read',
      'churn.assign',
      'prospect.plan',
      'complaint.intake',
      'complaint.handle',
      'moment.write',
      'satisfaction.call',
      'satisfaction.manage',
    ],
  },
  {
    code: 'branch_dept_head',
    nameZh: '业务部主管',
    nameEn: 'Business dept head',
    permissions: [
      'mystery.read',
      'org.read',
      'user.read',
      ...CUSTOMER_WORK,
      'owner.assign',
      'access.approve',
      'rating.propose',
      'rating.read',
      'dashboard.read',
      'churn.assign',
      'visit.approve',
      'prospect.approve',
      'complaint.intake',
    ],
  },
  {
    code: 'branch_manager',
    nameZh: '分公司经理',
    nameEn: 'Branch manager',
    permissions: [
      'mystery.read',
      'org.read',
      'user.read',
      ...CUSTOMER_WORK,
      'owner.assign',
      'access.approve',
      'customer.export',
      'rating.read',
      'dashboard.read',
      'churn.assign',
      'visit.approve',
      'prospect.finalize',
      'complaint.intake',
      'complaint.handle',
      'moment.write',
      'satisfaction.call',
      'satisfaction.manage',
    ],
  },
  {
    code: 'area_customer_manager',
    nameZh: '片区客户经理',
    nameEn: 'Area customer manager',
    permissions: [
      'mystery.read',
      'org.read',
      ...CUSTOMER_WORK,
      'owner.assign',
      'access.approve',
      'rating.read',
      'dashboard.read',
      'churn.assign',
      'visit.approve',
      'complaint.intake',
      'complaint.handle',
      'moment.write',
      'satisfaction.call',
      'satisfaction.manage',
    ],
  },
  {
    code: 'sales_rep',
    nameZh: '销售代表',
    nameEn: 'Sales representative',
    permissions: ['org.read', ...CUSTOMER_WORK, 'access.approve', 'dashboard.read', 'complaint.intake'],
  },
  {
    code: 'station_manager',
    nameZh: '站长',
    nameEn: 'Station manager',
    permissions: [
      'mystery.read',
      'org.read',
      'user.read',
      ...CUSTOMER_WORK,
      'dashboard.read',
      'owner.assign',
      'complaint.intake',
      'complaint.handle',
      'satisfaction.call',
    ],
  },
  {
    code: 'shift_lead',
    nameZh: '值班长',
    nameEn: 'Shift lead',
    permissions: ['org.read', ...CUSTOMER_WORK, 'dashboard.read', 'complaint.intake'],
  },
  // Attendants greet and record visits but do not see full phone numbers.
  {
    code: 'attendant',
    nameZh: '加油员',
    nameEn: 'Attendant',
    permissions: ['org.read', 'customer.read', 'customer.write', 'alert.read', 'pool.claim', 'complaint.intake'],
  },
  {
    code: 'cs_agent',
    nameZh: '客服专岗',
    nameEn: 'Customer-service agent',
    permissions: [
      'org.read',
      ...CUSTOMER_WORK,
      'dashboard.read',
      'complaint.intake',
      'complaint.handle',
      'satisfaction.call',
    ],
  },
  {
    code: 'auditor',
    nameZh: '审计员',
    nameEn: 'Auditor',
    permissions: [
      'org.read',
      'user.read',
      'role.read',
      'audit.read',
      'customer.read',
      'rating.read',
      'dashboard.read',
      'complaint.intake',
    ],
  },
];

export const DEFAULT_LEVEL_KINDS = [
  { code: 'hq', nameZh: '总公司', nameEn: 'HQ', rank: 1 },
  { code: 'branch', nameZh: '分公司', nameEn: 'Branch', rank: 2 },
  { code: 'area', nameZh: '片区', nameEn: 'Area', rank: 3 },
  { code: 'station', nameZh: '加油站', nameEn: 'Station', rank: 4 },
] as const;

/**
 * The permissions of `target` that `actor` does not hold. Nobody may edit, reset, re-role or
 * deactivate a user, or change a role, whose rights go beyond their own: otherwise a user manager
 * without export rights could take over an exporter's account.
 */
export function rightsBeyond(actor: ReadonlySet<string>, target: Iterable<string>): string[] {
  return [...new Set(target)].filter((x) => !actor.has(x)).sort();
}

/** A company administrator holds every permission of the catalogue. */
export function isFullAdministrator(permissions: Iterable<string>): boolean {
  const held = new Set(permissions);
  return PERMISSIONS.every((x) => held.has(x));
}
