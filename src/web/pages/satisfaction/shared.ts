// What the satisfaction pages share: the API's shapes and the colours of states.
import { useQuery } from '@tanstack/react-query';
import { client, unwrap, type ApiData } from '../../api/client.js';

export type Survey = ApiData<'/api/satisfaction/surveys/{id}'>;
export type SurveyItem = ApiData<'/api/satisfaction/surveys'>['items'][number];
export type SurveyCall = ApiData<'/api/satisfaction/calls/{id}'>;
export type Revisit = ApiData<'/api/satisfaction/revisits'>['items'][number];

export const TARGET_COLORS: Record<string, string> = {
  pending: 'default',
  answered: 'green',
  refused: 'orange',
  unreachable: 'red',
};

export const REVISIT_COLORS: Record<string, string> = { planned: 'blue', done: 'green', cancelled: 'default' };

export function useSatisfactionPolicy() {
  return useQuery({
    queryKey: ['satisfaction-policy'],
    queryFn: () => unwrap(client.GET('/api/satisfaction/policy')),
    staleTime: 300_000,
  });
}
