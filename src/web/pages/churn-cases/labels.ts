// What the churn-case pages share: the API's shapes, the catalogue in the reader's language, state colours.
import { useQuery } from '@tanstack/react-query';
import { client, unwrap, type ApiData } from '../../api/client.js';
import { currentLocale } from '../../i18n/index.js';

export type ChurnCase = ApiData<'/api/churn-cases/{id}'>;
export type ChurnCaseItem = ApiData<'/api/churn-cases'>['items'][number];
export type Catalog = ApiData<'/api/churn-cases/catalog'>;
export type ChurnState = ChurnCaseItem['state'];
export type ChurnCategory = ChurnCaseItem['category'];

export const STATE_COLORS: Record<ChurnState, string> = {
  open: 'orange',
  reported: 'gold',
  second_attempt: 'blue',
  retained: 'green',
  lost: 'red',
  won_back: 'cyan',
};

export const STATES: readonly ChurnState[] = ['open', 'reported', 'second_attempt', 'lost', 'won_back', 'retained'];

/** A catalogue entry's name in the reader's language (HQ names each kind and reason in both). */
export const named = (x: { nameZh: string; nameEn: string }) => (currentLocale() === 'zh-CN' ? x.nameZh : x.nameEn);

export const CATALOG_KEY = ['churn-catalog'] as const;

export function useCatalog() {
  return useQuery({
    queryKey: CATALOG_KEY,
    queryFn: () => unwrap(client.GET('/api/churn-cases/catalog')),
    staleTime: 5 * 60_000,
  });
}

/** What a person or the system did, in the reader's words. */
export const reasonName = (s: { reasonNameZh: string; reasonNameEn: string }) =>
  currentLocale() === 'zh-CN' ? s.reasonNameZh : s.reasonNameEn;
