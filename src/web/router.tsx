// The router: guards around the route table of routes.tsx.
import { Suspense, type ReactNode } from 'react';
import { createBrowserRouter, Outlet } from 'react-router-dom';
import { AppShell } from './layout/app-shell.js';
import { FullPageSpin, GuestOnly, RequireAccess, RequireAuth, SetupGate, SetupOnly } from './layout/guards.js';
import { LoginPage, NotFoundPage, PAGES, SetupPage } from './routes.js';

const suspended = (node: ReactNode) => <Suspense fallback={<FullPageSpin />}>{node}</Suspense>;

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
            ...PAGES.map(({ path, access, Component }) => ({
              path,
              element: (
                <RequireAccess rule={access}>
                  <Component />
                </RequireAccess>
              ),
            })),
            { path: '*', element: <NotFoundPage /> },
          ],
        },
      ],
    },
  ]);
}
