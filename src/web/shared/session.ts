// Who is signed in, and whether the first-run setup is still to do; both cached by TanStack Query.
import { useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { ApiError, client, setCsrfToken, unwrap, type ApiData } from '../api/client.js';
import { currentLocale, isLocale, setLocale } from '../i18n/index.js';

export type Me = ApiData<'/api/auth/me'>;

export const ME_KEY = ['me'] as const;
export const SETUP_KEY = ['setup-status'] as const;

async function fetchMe(): Promise<Me | null> {
  // Signed out, /api/auth/me would answer 401 and the browser would log it on every visit.
  const status = await unwrap(client.GET('/api/setup/status'));
  if (!status.signedIn) {
    setCsrfToken(null);
    return null;
  }
  try {
    const me = await unwrap(client.GET('/api/auth/me'));
    setCsrfToken(me.csrfToken);
    return me;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      setCsrfToken(null);
      return null;
    }
    throw err;
  }
}

export function useSetupStatus() {
  return useQuery({ queryKey: SETUP_KEY, queryFn: () => unwrap(client.GET('/api/setup/status')), staleTime: Infinity });
}

export function useMe() {
  return useQuery({ queryKey: ME_KEY, queryFn: fetchMe, staleTime: 60_000 });
}

/** The signed-in user; only for components rendered behind the sign-in guard. */
export function useCurrentUser(): Me {
  const { data } = useMe();
  if (!data) throw new Error('useCurrentUser outside the signed-in area');
  return data;
}

/** After login or setup: keep the CSRF token, load the user and adopt the user's language. */
export async function startSession(queryClient: QueryClient, csrfToken: string): Promise<Me | null> {
  setCsrfToken(csrfToken);
  queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== ME_KEY[0] });
  const me = await queryClient.fetchQuery({ queryKey: ME_KEY, queryFn: fetchMe, staleTime: 0 });
  if (me && isLocale(me.locale) && me.locale !== currentLocale()) await setLocale(me.locale);
  return me;
}

/** Forget everything about the session on this page (after sign-out or when it ended). */
export function endSession(queryClient: QueryClient): void {
  setCsrfToken(null);
  queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== SETUP_KEY[0] });
  queryClient.setQueryData(ME_KEY, null);
}

export function useSignOut() {
  const queryClient = useQueryClient();
  return useCallback(
    async (everywhere: boolean) => {
      try {
        if (everywhere) await unwrap(client.POST('/api/auth/logout-all'));
        else await unwrap(client.POST('/api/auth/logout'));
      } finally {
        endSession(queryClient);
      }
    },
    [queryClient],
  );
}
