// The customer page's complaints card: his cases (newest first), each a link to its page.
import { useTranslation } from 'react-i18next';
import { useQuery } from '@tanstack/react-query';
import { Card, Empty, List } from 'antd';
import { client, unwrap } from '../../api/client.js';
import { ComplaintCard } from './complaints-page.js';

export function CustomerComplaints({ customerId }: { customerId: number }) {
  const { t } = useTranslation();
  const list = useQuery({
    queryKey: ['complaints', 'list', { customerId }],
    queryFn: () => unwrap(client.GET('/api/complaints', { params: { query: { customerId, page: 1, pageSize: 20 } } })),
  });
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
