// The customer page's complaints: a card with his cases (newest first), each a link to its page, and
// the same cases as entries of his timeline (taken, and archived when closed). Only cases the reader
// may read come back from the list, which is scoped to his subtree.
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Card, Empty, List, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { i18n } from '../../i18n/index.js';
import { ComplaintCard } from './complaints-page.js';
import { STATE_COLORS, named, type ComplaintItem } from './labels.js';

/** His latest cases (the card and the timeline share one request). */
export function useCustomerComplaints(customerId: number, enabled = true) {
  return useQuery({
    queryKey: ['complaints', 'list', { customerId }],
    queryFn: () => unwrap(client.GET('/api/complaints', { params: { query: { customerId, page: 1, pageSize: 20 } } })),
    enabled: enabled && Number.isInteger(customerId) && customerId > 0,
  });
}

export interface TimelineEntry {
  key: string;
  at: string;
  content: ReactNode;
}

/** Each case as timeline entries: when it was taken (state, category, link) and when it was archived. */
export function complaintTimelineEntries(items: readonly ComplaintItem[]): TimelineEntry[] {
  const t = i18n.t.bind(i18n);
  const line = (c: ComplaintItem, text: string, at: string) => (
    <>
      <Link to={`/complaints/${c.id}`}>
        <Typography.Text strong>{text}</Typography.Text>
      </Link>{' '}
      <Tag color={STATE_COLORS[c.state]}>{t(`complaints.states.${c.state as 'verify'}`)}</Tag>
      <div>
        <Typography.Text type="secondary">
          {named(c.category)} · {dayjs(at).format('YYYY-MM-DD HH:mm')}
        </Typography.Text>
      </div>
    </>
  );
  return items.flatMap((c) => [
    {
      key: `complaint-${c.id}`,
      at: c.takenAt,
      content: line(c, t('complaints.timelineTaken', { caseNo: c.caseNo }), c.takenAt),
    },
    ...(c.closedAt
      ? [
          {
            key: `complaint-${c.id}-closed`,
            at: c.closedAt,
            content: line(c, t('complaints.timelineClosed', { caseNo: c.caseNo }), c.closedAt),
          },
        ]
      : []),
  ]);
}

export function CustomerComplaints({ customerId }: { customerId: number }) {
  const { t } = useTranslation();
  const list = useCustomerComplaints(customerId);
  const items = list.data?.items ?? [];
  return (
    <Card size="small" title={t('complaints.customerCard')} loading={list.isLoading} data-testid="customer-complaints">
      {items.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('complaints.noComplaints')} />
      ) : (
        <List
          dataSource={items}
          split={false}
          renderItem={(c) => (
            <List.Item style={{ padding: '4px 0', display: 'block' }}>
              <ComplaintCard c={c} />
            </List.Item>
          )}
        />
      )}
    </Card>
  );
}
