// The customer's monthly star ratings, newest first: stars as computed and as HQ left them, the
// month's figures, where the batch stands, and the benefits a final rating brought.
import { useTranslation } from 'react-i18next';
import { useQuery } from '@tanstack/react-query';
import { Card, Empty, Flex, List, Table, Tag, Typography, type TableColumnsType } from 'antd';
import { Link } from 'react-router-dom';
import { client, unwrap, type ApiData } from '../../../api/client.js';
import { useAccess } from '../../../access.js';
import { useIsPhone } from '../../../shared/use-is-phone.js';
import { benefitName, litres, STAR_TAG_COLORS, yuan, type RatingStatus } from '../../ratings/labels.js';

type Entry = ApiData<'/api/customers/{id}/ratings'>[number];
const STATUS_SET = new Set<string>(['computed', 'proposed', 'low_approved', 'high_reviewed', 'final']);

export function RatingsPanel({ customerId }: { customerId: number }) {
  const { t } = useTranslation();
  const isPhone = useIsPhone();
  const access = useAccess();
  const history = useQuery({
    queryKey: ['customer-ratings', customerId],
    queryFn: () => unwrap(client.GET('/api/customers/{id}/ratings', { params: { path: { id: customerId } } })),
  });

  const stars = (e: Entry) => (
    <Flex gap={4} align="center" wrap>
      <Tag color={STAR_TAG_COLORS[e.stars] ?? 'default'} style={{ marginInlineEnd: 0 }}>
        {t('ratings.stars', { n: e.stars })}
      </Tag>
      {e.stars !== e.computedStars && (
        <Typography.Text type="secondary">({t('ratings.history.computed', { n: e.computedStars })})</Typography.Text>
      )}
    </Flex>
  );
  const status = (e: Entry) => {
    const label = STATUS_SET.has(e.batchStatus)
      ? t(`ratings.statuses.${e.batchStatus as RatingStatus}`)
      : e.batchStatus;
    const tag = <Tag color={e.batchStatus === 'final' ? 'green' : 'blue'}>{label}</Tag>;
    return access.canReadRatings ? <Link to={`/ratings?batch=${e.batchId}`}>{tag}</Link> : tag;
  };
  const benefits = (e: Entry) =>
    e.benefits.length === 0
      ? '—'
      : e.benefits.map((b) => (
          <Tag key={b} color="green">
            {benefitName(t, b)}
          </Tag>
        ));

  const columns: TableColumnsType<Entry> = [
    { title: t('ratings.period'), dataIndex: 'period', width: 90 },
    { title: t('ratings.history.stars'), key: 'stars', width: 150, render: (_x, e) => stars(e) },
    { title: t('ratings.class'), dataIndex: 'class', width: 60, render: (c: string | null) => c ?? '—' },
    { title: t('ratings.volume'), dataIndex: 'volumeMl', width: 100, align: 'right', render: litres },
    { title: t('ratings.amount'), dataIndex: 'amountFen', width: 110, align: 'right', render: yuan },
    { title: t('ratings.history.status'), key: 'status', width: 130, render: (_x, e) => status(e) },
    { title: t('ratings.benefits'), key: 'benefits', width: 200, render: (_x, e) => benefits(e) },
    { title: t('ratings.note'), dataIndex: 'note', width: 180, render: (n: string | null) => n ?? '' },
  ];

  const empty = <Empty description={t('ratings.history.empty')} />;
  return (
    <Card size="small" title={t('ratings.history.title')} data-testid="customer-ratings">
      {isPhone ? (
        <List
          size="small"
          dataSource={history.data ?? []}
          loading={history.isFetching}
          locale={{ emptyText: empty }}
          renderItem={(e) => (
            <List.Item>
              <div style={{ width: '100%' }}>
                <Flex justify="space-between" align="center" gap={8} wrap>
                  <Flex gap={8} align="center">
                    <Typography.Text strong>{e.period}</Typography.Text>
                    {stars(e)}
                  </Flex>
                  {status(e)}
                </Flex>
                <Typography.Text type="secondary">
                  {t('ratings.volume')} {litres(e.volumeMl)} · {t('ratings.amount')} {yuan(e.amountFen)}
                  {e.class && ` · ${e.class}`}
                </Typography.Text>
                {e.note && <div>{e.note}</div>}
                {e.benefits.length > 0 && <div>{benefits(e)}</div>}
              </div>
            </List.Item>
          )}
        />
      ) : (
        <Table<Entry>
          size="small"
          rowKey="period"
          columns={columns}
          dataSource={history.data ?? []}
          loading={history.isFetching}
          pagination={{ pageSize: 12, hideOnSinglePage: true }}
          locale={{ emptyText: empty }}
          scroll={{ x: 1000 }}
        />
      )}
    </Card>
  );
}
