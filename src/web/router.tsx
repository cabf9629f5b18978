// The router: the page table of routes.tsx with its components, inside the guards.
import { lazy, Suspense, type ComponentType, type LazyExoticComponent, type ReactNode } from 'react';
import { createBrowserRouter, Outlet } from 'react-router-dom';
import { AppShell } from './layout/app-shell.js';
import { FullPageSpin, GuestOnly, RequireAccess, RequireAuth, SetupGate, SetupOnly } from './layout/guards.js';
import { PAGES, type PagePath, type PageRoute } from './routes.js';

// Pages load on demand, so the sign-in page does not wait for the audit table.
const page = (load: () => Promise<ComponentType>) => lazy(async () => ({ default: await load() }));

const COMPONENTS: Record<PagePath, LazyExoticComponent<ComponentType>> = {
  '/': page(async () => (await import('./pages/home/home-page.js')).HomePage),
  '/work': page(async () => (await import('./pages/work/work-page.js')).WorkPage),
  '/pump': page(async () => (await import('./pages/pump/pump-page.js')).PumpPage),
  '/customers': page(async () => (await import('./pages/customers/customers-page.js')).CustomersPage),
  '/customers/:id': page(async () => (await import('./pages/customers/customer-detail-page.js')).CustomerDetailPage),
  '/alerts': page(async () => (await import('./pages/alerts/alerts-page.js')).AlertsPage),
  '/churn-cases': page(async () => (await import('./pages/churn-cases/churn-cases-page.js')).ChurnCasesPage),
  '/churn-cases/:id': page(async () => (await import('./pages/churn-cases/churn-case-page.js')).ChurnCasePage),
  '/complaints': page(async () => (await import('./pages/complaints/complaints-page.js')).ComplaintsPage),
  '/complaints/new': page(async () => (await import('./pages/complaints/intake-page.js')).ComplaintIntakePage),
  '/complaints/:id': page(async () => (await import('./pages/complaints/complaint-page.js')).ComplaintPage),
  '/satisfaction/surveys': page(async () => (await import('./pages/satisfaction/surveys-page.js')).SurveysPage),
  '/satisfaction/surveys/:id': page(async () => (await import('./pages/satisfaction/survey-page.js')).SurveyPage),
  '/satisfaction/calls/:id': page(async () => (await import('./pages/satisfaction/call-page.js')).SurveyCallPage),
  '/satisfaction/revisits': page(async () => (await import('./pages/satisfaction/revisits-page.js')).RevisitsPage),
  '/mystery': page(async () => (await import('./pages/mystery-shoppers/results-page.js')).MysteryResultsPage),
  '/mystery/forms': page(async () => (await import('./pages/mystery-shoppers/forms-page.js')).MysteryFormsPage),
  '/mystery/assignments': page(
    async () => (await import('./pages/mystery-shoppers/assignments-page.js')).MysteryAssignmentsPage,
  ),
  '/mystery/assignments/:id': page(
    async () => (await import('./pages/mystery-shoppers/assignment-page.js')).MysteryAssignmentPage,
  ),
  '/mystery/mine': page(async () => (await import('./pages/mystery-shoppers/mine-page.js')).MysteryMinePage),
  '/mystery/visit/:id': page(async () => (await import('./pages/mystery-shoppers/visit-page.js')).MysteryVisitPage),
  '/mystery/analysis': page(
    async () => (await import('./pages/mystery-shoppers/analysis-page.js')).MysteryAnalysisPage,
  ),
  '/complaint-stats': page(
    async () => (await import('./pages/complaints/complaint-dashboard-page.js')).ComplaintDashboardPage,
  ),
  '/exit-analysis': page(async () => (await import('./pages/complaints/exit-analysis-page.js')).ExitAnalysisPage),
  '/contact-tasks': page(async () => (await import('./pages/contact-moments/contact-tasks-page.js')).ContactTasksPage),
  '/contact-tasks/:id': page(
    async () => (await import('./pages/contact-moments/contact-task-page.js')).ContactTaskPage,
  ),
  '/contact-moments': page(
    async () => (await import('./pages/contact-moments/contact-moments-page.js')).ContactMomentsPage,
  ),
  '/calendar': page(async () => (await import('./pages/contact-moments/calendar-page.js')).CalendarPage),
  '/prospects': page(async () => (await import('./pages/prospects/prospects-page.js')).ProspectsPage),
  '/prospects/new': page(async () => (await import('./pages/prospects/survey-page.js')).SurveyPage),
  '/prospects/plans': page(async () => (await import('./pages/prospects/plans-page.js')).DevPlansPage),
  '/prospects/plans/:id': page(async () => (await import('./pages/prospects/plan-page.js')).DevPlanPage),
  '/prospects/:id': page(async () => (await import('./pages/prospects/prospect-page.js')).ProspectPage),
  '/ownership/coverage': page(async () => (await import('./pages/ownership/coverage-page.js')).CoveragePage),
  '/ownership/pool': page(async () => (await import('./pages/ownership/pool-page.js')).PoolPage),
  '/visits': page(async () => (await import('./pages/visits/visits-page.js')).VisitsPage),
  '/visits/new': page(async () => (await import('./pages/visits/visit-page.js')).NewVisitPage),
  '/visits/summary': page(async () => (await import('./pages/visits/summary-page.js')).VisitSummaryPage),
  '/visits/plans/:id': page(async () => (await import('./pages/visits/plan-page.js')).VisitPlanPage),
  '/visits/records/:id': page(async () => (await import('./pages/visits/record-page.js')).VisitRecordPage),
  '/visits/follow-ups/:id': page(async () => (await import('./pages/visits/record-page.js')).FollowUpPage),
  '/visits/problems/:id': page(async () => (await import('./pages/visits/problem-page.js')).VisitProblemPage),
  '/visits/:id': page(async () => (await import('./pages/visits/visit-page.js')).PlannedVisitPage),
  '/ratings': page(async () => (await import('./pages/ratings/ratings-page.js')).RatingsPage),
  '/dashboard': page(async () => (await import('./pages/dashboards/dashboard-page.js')).DashboardPage),
  '/duplicates': page(async () => (await import('./pages/customers/duplicates-page.js')).DuplicatesPage),
  '/access-requests': page(async () => (await import('./pages/access/access-requests-page.js')).AccessRequestsPage),
  '/imports': page(async () => (await import('./pages/imports/imports-page.js')).ImportsPage),
  '/api-keys': page(async () => (await import('./pages/api-keys/api-keys-page.js')).ApiKeysPage),
  '/settings': page(async () => (await import('./pages/settings/settings-page.js')).SettingsPage),
  '/org': page(async () => (await import('./pages/org/org-page.js')).OrgPage),
  '/users': page(async () => (await import('./pages/users/users-page.js')).UsersPage),
  '/roles': page(async () => (await import('./pages/roles/roles-page.js')).RolesPage),
  '/audit': page(async () => (await import('./pages/audit/audit-page.js')).AuditPage),
  '/account': page(async () => (await import('./pages/account/account-page.js')).AccountPage),
};
const SetupPage = page(async () => (await import('./pages/setup/setup-page.js')).SetupPage);
const LoginPage = page(async () => (await import('./pages/login/login-page.js')).LoginPage);
const NotFoundPage = page(async () => (await import('./pages/errors/not-found-page.js')).NotFoundPage);

const suspended = (node: ReactNode) => <Suspense fallback={<FullPageSpin />}>{node}</Suspense>;

function pageElement(route: PageRoute) {
  const Component = COMPONENTS[route.path];
  return (
    <RequireAccess rule={route.access}>
      <Component />
    </RequireAccess>
  );
}

export function createAppRouter() {
  return createBrowserRouter([
    {
      element: <SetupGate />,
      children: [
        { path: '/setup', element: <SetupOnly>{suspended(<SetupPage />)}</SetupOnly> },
        { path: '/login', element: <GuestOnly>{suspended(<LoginPage />)}</GuestOnly> },
        {
          element: (
            <RequireAuth>
              <AppShell>{suspended(<Outlet />)}</AppShell>
            </RequireAuth>
          ),
          children: [
            ...PAGES.map((route) => ({ path: route.path, element: pageElement(route) })),
            { path: '*', element: <NotFoundPage /> },
          ],
        },
      ],
    },
  ]);
}
