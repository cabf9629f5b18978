// The work inbox on the client: counts for the menu, the home page and the pump page, and where
// each kind of work is done.
import { useQuery } from '@tanstack/react-query';
import { client, unwrap, type ApiData } from '../api/client.js';

export type WorkItem = ApiData<'/api/work/inbox'>['items'][number];
export type WorkCounts = ApiData<'/api/work/counts'>;
export const WORK_KEY = ['work'] as const;

export function useWorkCounts(enabled = true) {
  return useQuery({
    queryKey: [...WORK_KEY, 'counts'],
    queryFn: () => unwrap(client.GET('/api/work/counts')),
    enabled,
    // The badge follows what others hand me while the page is open.
    refetchInterval: 60_000,
    staleTime: 30_000,
  });
}

/** The page where the item's work is done. */
export function workLink(item: Pick<WorkItem, 'kind' | 'recordId' | 'customerId'>): string {
  const id = item.recordId;
  switch (item.kind) {
    case 'alert':
      return item.customerId ? `/customers/${item.customerId}` : '/alerts';
    case 'churn_case':
      return `/churn-cases/${id}`;
    case 'access_approval':
      return '/access-requests';
    case 'rating_approval':
      return `/ratings?batch=${id}`;
    case 'visit':
      return `/visits/${id}`;
    case 'visit_follow_up':
      return `/visits/follow-ups/${id}`;
    case 'visit_plan_approval':
      return `/visits/plans/${id}`;
    case 'problem':
      return `/visits/problems/${id}`;
    case 'contact_task':
      return `/contact-tasks/${id}`;
    case 'pool_reminder':
      return item.customerId ? `/customers/${item.customerId}` : '/pool';
    case 'prospect':
      return `/prospects/${id}`;
    case 'dev_plan_approval':
      return `/prospects/plans/${id}`;
    case 'complaint':
      return `/complaints/${id}`;
    case 'survey_call':
      return `/satisfaction/calls/${id}`;
    case 'revisit':
      return item.customerId ? `/satisfaction/revisits?customerId=${item.customerId}` : '/satisfaction/revisits';
    case 'mystery_assignment':
      return `/mystery/visit/${id}`;
    case 'mystery_action':
      return '/mystery';
    default:
      return item.customerId ? `/customers/${item.customerId}` : '/work';
  }
}
