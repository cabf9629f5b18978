// What the complaint pages share: the API's shapes, names in the reader's language, state colours.
import { useQuery } from '@tanstack/react-query';
import { client, unwrap, type ApiData } from '../../api/client.js';
import { currentLocale } from '../../i18n/index.js';

export type Complaint = ApiData<'/api/complaints/{id}'>;
export type ComplaintItem = ApiData<'/api/complaints'>['items'][number];

export const STAGES = ['verify', 'review', 'rectify', 'callback', 'archive'] as const;
export const STATES = [...STAGES, 'closed'] as const;
export const CHANNELS = [
  'station',
  'hotline_400',
  'suggestion_box',
  'wechat',
  'social_supervisor',
  'regulator',
  'media',
] as const;

export const STATE_COLORS: Record<string, string> = {
  verify: 'orange',
  review: 'gold',
  rectify: 'blue',
  callback: 'purple',
  archive: 'cyan',
  closed: 'green',
  merged: 'default',
};

export const named = (x: { nameZh: string; nameEn: string }) => (currentLocale() === 'zh-CN' ? x.nameZh : x.nameEn);

export function useComplaintCatalog() {
  return useQuery({
    queryKey: ['complaint-catalog'],
    queryFn: () => unwrap(client.GET('/api/complaints/catalog')),
    staleTime: 5 * 60_000,
  });
}
