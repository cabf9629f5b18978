// Every page of the signed-in app: path, menu entry, access rule, in one place.
// router.tsx puts the page components and the guards around this table.
import type { ReactNode } from 'react';
import {
  AlertOutlined,
  NotificationOutlined,
  EyeOutlined,
  ApartmentOutlined,
  ApiOutlined,
  AuditOutlined,
  BarChartOutlined,
  CalendarOutlined,
  CarOutlined,
  CloudUploadOutlined,
  ClusterOutlined,
  ContactsOutlined,
  FundProjectionScreenOutlined,
  HomeOutlined,
  PhoneOutlined,
  SmileOutlined,
  ScheduleOutlined,
  InboxOutlined,
  SwapOutlined,
  KeyOutlined,
  LineChartOutlined,
  PieChartOutlined,
  MergeCellsOutlined,
  SafetyCertificateOutlined,
  SettingOutlined,
  StarOutlined,
  TeamOutlined,
  UserDeleteOutlined,
  UserOutlined,
} from '@ant-design/icons';
import type { Access, AccessKey } from './access.js';
import type { Catalog } from './i18n/zh-CN.js';

export type MenuKey = keyof Catalog['menu'];
export type HomeDescKey =
  | 'alertsDesc'
  | 'pumpDesc'
  | 'customersDesc'
  | 'duplicatesDesc'
  | 'accessDesc'
  | 'settingsDesc'
  | 'importsDesc'
  | 'apiKeysDesc'
  | 'orgDesc'
  | 'usersDesc'
  | 'rolesDesc'
  | 'auditDesc'
  | 'accountDesc'
  | 'dashboardDesc'
  | 'ratingsDesc'
  | 'churnCasesDesc'
  | 'complaintsDesc'
  | 'mysteryDesc'
  | 'mysteryMineDesc'
  | 'complaintStatsDesc'
  | 'exitAnalysisDesc'
  | 'satisfactionDesc'
  | 'revisitsDesc'
  | 'visitsDesc'
  | 'prospectsDesc'
  | 'devPlansDesc'
  | 'coverageDesc'
  | 'poolDesc'
  | 'workDesc';

export type PagePath =
  | '/'
  | '/work'
  | '/alerts'
  | '/pump'
  | '/customers'
  | '/customers/:id'
  | '/duplicates'
  | '/access-requests'
  | '/settings'
  | '/imports'
  | '/api-keys'
  | '/org'
  | '/users'
  | '/roles'
  | '/audit'
  | '/account'
  | '/dashboard'
  | '/ratings'
  | '/churn-cases'
  | '/ownership/coverage'
  | '/ownership/pool'
  | '/churn-cases/:id'
  | '/complaints'
  | '/complaints/new'
  | '/complaints/:id'
  | '/mystery'
  | '/mystery/forms'
  | '/mystery/assignments'
  | '/mystery/assignments/:id'
  | '/mystery/mine'
  | '/mystery/visit/:id'
  | '/mystery/analysis'
  | '/satisfaction/surveys'
  | '/satisfaction/surveys/:id'
  | '/satisfaction/calls/:id'
  | '/satisfaction/revisits'
  | '/complaint-stats'
  | '/exit-analysis'
  | '/contact-tasks'
  | '/contact-tasks/:id'
  | '/contact-moments'
  | '/calendar'
  | '/visits'
  | '/visits/new'
  | '/visits/summary'
  | '/visits/plans/:id'
  | '/visits/records/:id'
  | '/visits/follow-ups/:id'
  | '/visits/problems/:id'
  | '/visits/:id'
  | '/prospects'
  | '/prospects/new'
  | '/prospects/plans'
  | '/prospects/plans/:id'
  | '/prospects/:id';

export interface PageRoute {
  path: PagePath;
  /** Menu label: `menu.<key>` in the catalogs. */
  menuKey: MenuKey;
  /** What the page is for, on the home page's quick links: `home.<key>`. */
  descKey?: HomeDescKey;
  icon: ReactNode;
  /** Who may open it (see access.ts); none means every signed-in user. */
  access?: AccessKey;
  /** Who sees it in the menu and the start page's links, when narrower than who may open it. */
  menuAccess?: AccessKey;
  inMenu: boolean;
}

/** Whether `page` shows in the menu and the start page's links for this user. */
export function inMenuFor(page: PageRoute, access: Access): boolean {
  const rule = page.menuAccess ?? page.access;
  return page.inMenu && (!rule || access[rule]);
}

export const PAGES: readonly PageRoute[] = [
  { path: '/', menuKey: 'home', icon: <HomeOutlined />, menuAccess: 'notFrontline', inMenu: true },
  // Everyone: work is handed to any role (an attendant's follow-ups, a manager's approvals).
  { path: '/work', menuKey: 'work', descKey: 'workDesc', icon: <InboxOutlined />, inMenu: true },
  {
    path: '/pump',
    menuKey: 'pump',
    descKey: 'pumpDesc',
    icon: <CarOutlined />,
    access: 'canReadCustomers',
    inMenu: true,
  },
  {
    path: '/customers',
    menuKey: 'customers',
    descKey: 'customersDesc',
    icon: <ContactsOutlined />,
    access: 'canReadCustomers',
    inMenu: true,
  },
  {
    path: '/customers/:id',
    menuKey: 'customers',
    icon: <ContactsOutlined />,
    access: 'canReadCustomers',
    inMenu: false,
  },
  {
    path: '/alerts',
    menuKey: 'alerts',
    descKey: 'alertsDesc',
    icon: <AlertOutlined />,
    access: 'canReadAlerts',
    inMenu: true,
  },
  // Attendants too: the alerts they turn into natural losses are cases they may look up.
  {
    path: '/churn-cases',
    menuKey: 'churnCases',
    descKey: 'churnCasesDesc',
    icon: <UserDeleteOutlined />,
    access: 'canReadAlerts',
    inMenu: true,
  },
  {
    path: '/churn-cases/:id',
    menuKey: 'churnCases',
    icon: <UserDeleteOutlined />,
    access: 'canReadAlerts',
    inMenu: false,
  },
  // Complaints: taken at every station (attendants too), handled along the chain by its owners.
  {
    path: '/complaints',
    menuKey: 'complaints',
    descKey: 'complaintsDesc',
    icon: <NotificationOutlined />,
    access: 'canTakeComplaints',
    inMenu: true,
  },
  {
    path: '/complaints/new',
    menuKey: 'complaints',
    icon: <NotificationOutlined />,
    access: 'canTakeComplaints',
    inMenu: false,
  },
  {
    path: '/complaints/:id',
    menuKey: 'complaints',
    icon: <NotificationOutlined />,
    access: 'canTakeComplaints',
    inMenu: false,
  },
  // Complaint figures per level and the reasons lost customers give beside them: for managers.
  {
    path: '/complaint-stats',
    menuKey: 'complaintStats',
    descKey: 'complaintStatsDesc',
    icon: <LineChartOutlined />,
    access: 'canTakeComplaints',
    menuAccess: 'canReadComplaintStats',
    inMenu: true,
  },
  {
    path: '/exit-analysis',
    menuKey: 'exitAnalysis',
    descKey: 'exitAnalysisDesc',
    icon: <PieChartOutlined />,
    access: 'canReadDashboards',
    menuAccess: 'canReadComplaintStats',
    inMenu: true,
  },
  // Satisfaction surveys and revisit plans: for the callers (customer service, station and area
  // managers) and the managers who start surveys.
  {
    path: '/satisfaction/surveys',
    menuKey: 'satisfaction',
    descKey: 'satisfactionDesc',
    icon: <SmileOutlined />,
    access: 'canCallSurveys',
    inMenu: true,
  },
  {
    path: '/satisfaction/surveys/:id',
    menuKey: 'satisfaction',
    icon: <SmileOutlined />,
    access: 'canCallSurveys',
    inMenu: false,
  },
  {
    path: '/satisfaction/calls/:id',
    menuKey: 'satisfaction',
    icon: <SmileOutlined />,
    access: 'canCallSurveys',
    inMenu: false,
  },
  {
    path: '/satisfaction/revisits',
    menuKey: 'revisits',
    descKey: 'revisitsDesc',
    icon: <ScheduleOutlined />,
    access: 'canCallSurveys',
    inMenu: true,
  },
  // Mystery shoppers: station results for the levels that read them; forms, assignments and the analysis
  // for marketing; the shopper's own list and visit form on a phone.
  {
    path: '/mystery',
    menuKey: 'mystery',
    descKey: 'mysteryDesc',
    icon: <EyeOutlined />,
    access: 'canReadMystery',
    inMenu: true,
  },
  {
    path: '/mystery/analysis',
    menuKey: 'mysteryAnalysis',
    icon: <EyeOutlined />,
    access: 'canManageMystery',
    inMenu: true,
  },
  {
    path: '/mystery/assignments',
    menuKey: 'mysteryAssignments',
    icon: <EyeOutlined />,
    access: 'canManageMystery',
    inMenu: true,
  },
  {
    path: '/mystery/forms',
    menuKey: 'mysteryForms',
    icon: <EyeOutlined />,
    access: 'canWriteMysteryForms',
    inMenu: true,
  },
  {
    path: '/mystery/assignments/:id',
    menuKey: 'mystery',
    icon: <EyeOutlined />,
    access: 'canReadMystery',
    inMenu: false,
  },
  {
    path: '/mystery/mine',
    menuKey: 'mysteryMine',
    descKey: 'mysteryMineDesc',
    icon: <EyeOutlined />,
    access: 'canEvaluateMystery',
    inMenu: true,
  },
  {
    path: '/mystery/visit/:id',
    menuKey: 'mysteryMine',
    icon: <EyeOutlined />,
    access: 'canEvaluateMystery',
    inMenu: false,
  },
  // Development plans: stations survey prospects, the branch plans, approves, dispatches and samples.
  {
    path: '/prospects',
    menuKey: 'prospects',
    descKey: 'prospectsDesc',
    icon: <FundProjectionScreenOutlined />,
    access: 'canReadCustomers',
    menuAccess: 'notFrontline',
    inMenu: true,
  },
  {
    path: '/prospects/plans',
    menuKey: 'devPlans',
    descKey: 'devPlansDesc',
    icon: <FundProjectionScreenOutlined />,
    access: 'canReadCustomers',
    menuAccess: 'notFrontline',
    inMenu: true,
  },
  {
    path: '/prospects/new',
    menuKey: 'prospects',
    icon: <FundProjectionScreenOutlined />,
    access: 'canWriteCustomers',
    inMenu: false,
  },
  {
    path: '/prospects/plans/:id',
    menuKey: 'devPlans',
    icon: <FundProjectionScreenOutlined />,
    access: 'canReadCustomers',
    inMenu: false,
  },
  {
    path: '/prospects/:id',
    menuKey: 'prospects',
    icon: <FundProjectionScreenOutlined />,
    access: 'canReadCustomers',
    inMenu: false,
  },
  // Ownership: managers see their units' coverage and move customers; whoever reads customers sees the pool.
  {
    path: '/ownership/coverage',
    menuKey: 'coverage',
    descKey: 'coverageDesc',
    icon: <ClusterOutlined />,
    access: 'canAssignOwners',
    inMenu: true,
  },
  {
    path: '/ownership/pool',
    menuKey: 'pool',
    descKey: 'poolDesc',
    icon: <SwapOutlined />,
    access: 'canReadCustomers',
    inMenu: true,
  },
  // Visits: everyone who looks after customers plans, records and reads them.
  {
    path: '/visits',
    menuKey: 'visits',
    descKey: 'visitsDesc',
    icon: <CalendarOutlined />,
    access: 'canReadCustomers',
    menuAccess: 'notFrontline',
    inMenu: true,
  },
  ...(
    [
      ['/visits/new', 'canWriteCustomers'],
      ['/visits/summary', 'canReadDashboards'],
      ['/visits/plans/:id', 'canReadCustomers'],
      ['/visits/records/:id', 'canReadCustomers'],
      ['/visits/follow-ups/:id', 'canReadCustomers'],
      ['/visits/problems/:id', 'canReadCustomers'],
      ['/visits/:id', 'canReadCustomers'],
    ] as const
  ).map(([path, access]) => ({ path, menuKey: 'visits' as const, icon: <CalendarOutlined />, access, inMenu: false })),
  {
    path: '/ratings',
    menuKey: 'ratings',
    descKey: 'ratingsDesc',
    icon: <StarOutlined />,
    access: 'canReadRatings',
    inMenu: true,
  },
  {
    path: '/dashboard',
    menuKey: 'dashboard',
    descKey: 'dashboardDesc',
    icon: <BarChartOutlined />,
    access: 'canReadDashboards',
    inMenu: true,
  },
  {
    path: '/duplicates',
    menuKey: 'duplicates',
    descKey: 'duplicatesDesc',
    icon: <MergeCellsOutlined />,
    access: 'canMergeCustomers',
    inMenu: true,
  },
  {
    path: '/access-requests',
    menuKey: 'accessRequests',
    descKey: 'accessDesc',
    icon: <KeyOutlined />,
    access: 'canRequestAccess',
    inMenu: true,
  },
  {
    path: '/imports',
    menuKey: 'imports',
    descKey: 'importsDesc',
    icon: <CloudUploadOutlined />,
    access: 'canRunImport',
    inMenu: true,
  },
  {
    path: '/api-keys',
    menuKey: 'apiKeys',
    descKey: 'apiKeysDesc',
    icon: <ApiOutlined />,
    access: 'canManageApiKeys',
    inMenu: true,
  },
  {
    path: '/settings',
    menuKey: 'settings',
    descKey: 'settingsDesc',
    icon: <SettingOutlined />,
    access: 'canWritePolicy',
    inMenu: true,
  },
  {
    path: '/org',
    menuKey: 'org',
    descKey: 'orgDesc',
    icon: <ApartmentOutlined />,
    access: 'canSeeOrgPage',
    inMenu: true,
  },
  {
    path: '/users',
    menuKey: 'users',
    descKey: 'usersDesc',
    icon: <TeamOutlined />,
    access: 'canReadUsers',
    inMenu: true,
  },
  {
    path: '/roles',
    menuKey: 'roles',
    descKey: 'rolesDesc',
    icon: <SafetyCertificateOutlined />,
    access: 'canReadRoles',
    inMenu: true,
  },
  {
    path: '/audit',
    menuKey: 'audit',
    descKey: 'auditDesc',
    icon: <AuditOutlined />,
    access: 'canReadAudit',
    inMenu: true,
  },
  { path: '/account', menuKey: 'account', descKey: 'accountDesc', icon: <UserOutlined />, inMenu: true },
  {
    path: '/contact-tasks',
    menuKey: 'contactTasks',
    icon: <PhoneOutlined />,
    access: 'canReadCustomers',
    menuAccess: 'notFrontline',
    inMenu: true,
  },
  {
    path: '/contact-tasks/:id',
    menuKey: 'contactTasks',
    icon: <PhoneOutlined />,
    access: 'canReadCustomers',
    inMenu: false,
  },
  {
    path: '/contact-moments',
    menuKey: 'contactMoments',
    icon: <NotificationOutlined />,
    access: 'canReadCustomers',
    menuAccess: 'notFrontline',
    inMenu: true,
  },
  {
    path: '/calendar',
    menuKey: 'calendar',
    icon: <CalendarOutlined />,
    access: 'canReadOrg',
    menuAccess: 'notFrontline',
    inMenu: true,
  },
];
