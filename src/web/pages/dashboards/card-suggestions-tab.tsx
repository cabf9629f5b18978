// Customers without a fuel card who spent enough in the month for one to pay, each with the
// sentence a station can say to him.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { Alert, Card, List, Table, Typography } from 'antd';
import { client, unwrap } from '../../api/client.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { litresText, percent, yuanText, type CardSuggestions } from './format.js';
import { AsOfBar, useSnapshotQuery } from './snapshot.js';

type Item = CardSuggestions['items'][number];

export function CardSuggestionsTab({
  orgUnitId,
  month,
  previousMonth,
}: {
  orgUnitId: number;
  month: string;
  previousMonth: boolean;
}) {
  const { t } = useTranslation();
  const isPhone = useIsPhone();
  const [page, setPage] = useState(1);
  const pageSize = 20;
  const snapshot = useSnapshotQuery(['card-suggestions', orgUnitId, month, page], (refresh) =>
    unwrap(
      client.GET('/api/card-suggestions', {
        params: { query: { orgUnitId, month, page, pageSize, ...(refresh && { refresh }) } },
      }),
    ),
  );
  const q = snapshot.query;
  const sentence = (i: Item) => {
    const amount = yuanText(i.amountFen);
    const values = { month, amount, topUp: amount, saving: yuanText(i.savingFen) };
    return previousMonth ? t('dashboard.cardSentenceLastMonth', values) : t('dashboard.cardSentence', values);
  };
  const name = (i: Item) => <Link to={`/customers/${i.customerId}`}>{i.name ?? i.code}</Link>;
  const pagination = {
    current: page,
    pageSize,
    total: q.data?.total ?? 0,
    onChange: setPage,
    simple: isPhone,
    hideOnSinglePage: true,
  };

  return (
    <>
      <AsOfBar asOf={q.data?.asOf} onRefresh={() => void snapshot.refresh()} refreshing={snapshot.refreshing} />
      {q.data && (
        <Alert
          type="info"
          showIcon
          style={{ marginBottom: 12 }}
          title={t('dashboard.cardPolicy', {
            min: q.data.policy.minMonthlyYuan.toLocaleString('zh-CN'),
            rate: percent(q.data.policy.discountRate),
            count: q.data.total,
          })}
        />
      )}
      <Card size="small" data-testid="card-suggestions">
        {isPhone ? (
          <List
            dataSource={q.data?.items ?? []}
            loading={q.isFetching}
            pagination={pagination}
            locale={{ emptyText: t('dashboard.noSuggestions') }}
            renderItem={(i) => (
              <Card size="small" style={{ marginBottom: 8 }}>
                <Typography.Text strong>{name(i)}</Typography.Text>{' '}
                <Typography.Text type="secondary">{i.orgUnitName}</Typography.Text>
                <div style={{ marginTop: 4 }}>{sentence(i)}</div>
              </Card>
            )}
          />
        ) : (
          <Table<Item>
            size="small"
            rowKey="customerId"
            loading={q.isFetching}
            dataSource={q.data?.items ?? []}
            pagination={pagination}
            locale={{ emptyText: t('dashboard.noSuggestions') }}
            scroll={{ x: 820 }}
            columns={[
              { title: t('customers.name'), key: 'name', width: 140, render: (_x, i) => name(i) },
              { title: t('customers.orgUnit'), dataIndex: 'orgUnitName', width: 140 },
              {
                title: t('dashboard.spentYuan'),
                dataIndex: 'amountFen',
                width: 110,
                align: 'right' as const,
                render: (f: number) => yuanText(f),
              },
              {
                title: t('dashboard.volumeL'),
                dataIndex: 'volumeMl',
                width: 90,
                align: 'right' as const,
                render: litresText,
              },
              {
                title: t('dashboard.savingYuan'),
                dataIndex: 'savingFen',
                width: 100,
                align: 'right' as const,
                render: (f: number) => yuanText(f),
              },
              { title: t('dashboard.pitch'), key: 'pitch', render: (_x, i) => sentence(i) },
            ]}
          />
        )}
      </Card>
    </>
  );
}
