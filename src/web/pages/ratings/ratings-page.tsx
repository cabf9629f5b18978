// The monthly star rating [004]: every branch's batch with its place in the approval flow and its
// star counts; `?batch=<id>` opens one batch (its customers and the step the user may take next).
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import {
  Button,
  Card,
  DatePicker,
  Empty,
  Flex,
  List,
  Progress,
  Table,
  Tag,
  Typography,
  type TableColumnsType,
} from 'antd';
import { RightOutlined } from '@ant-design/icons';
import type { Dayjs } from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { Page } from '../../shared/page.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { BatchView } from './batch-view.js';
import { ComputeButton } from './compute-button.js';
import { BATCHES_KEY, myAction, stepIndex, STATUSES, type Batch } from './labels.js';
import { StarChart } from './star-chart.js';

/** Where the batch stands: its steps done out of five, and who acts next. */
function BatchProgress({ b }: { b: Batch }) {
  const { t } = useTranslation();
  const access = useAccess();
  const mine = myAction(access, b);
  const done = stepIndex(b.status) + 1;
  return (
    <div style={{ minWidth: 0 }}>
      <Flex gap={8} align="center" wrap>
        <Progress
          steps={STATUSES.length}
          percent={(done / STATUSES.length) * 100}
          showInfo={false}
          size={[28, 6]}
          strokeColor={b.status === 'final' ? '#52c41a' : '#1677ff'}
        />
        <Tag color={b.status === 'final' ? 'green' : 'blue'} data-testid={`batch-status-${b.id}`}>
          {t(`ratings.statuses.${b.status}`)}
        </Tag>
      </Flex>
      <Flex gap={4} wrap align="center" style={{ marginTop: 4 }}>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {b.nextAction ? t(`ratings.waiting.${b.nextAction}`) : t('ratings.finished')}
        </Typography.Text>
        {mine && <Tag color="red">{t('ratings.yourTurn')}</Tag>}
      </Flex>
    </div>
  );
}

function BatchList({ onOpen }: { onOpen: (id: number) => void }) {
  const { t } = useTranslation();
  const isPhone = useIsPhone();
  const [period, setPeriod] = useState<string | undefined>(undefined);
  const batches = useQuery({
    queryKey: [...BATCHES_KEY, period],
    queryFn: () => unwrap(client.GET('/api/ratings/batches', { params: { query: period ? { period } : {} } })),
    placeholderData: keepPreviousData,
  });
  const items = batches.data ?? [];

  const columns: TableColumnsType<Batch> = [
    { title: t('ratings.period'), dataIndex: 'period', width: 90 },
    { title: t('ratings.branch'), dataIndex: 'orgUnitName', width: 150 },
    { title: t('ratings.progress'), key: 'progress', width: 240, render: (_x, b) => <BatchProgress b={b} /> },
    { title: t('ratings.customers'), dataIndex: 'customerCount', width: 80, align: 'right' },
    {
      title: t('ratings.distribution'),
      key: 'distribution',
      width: 220,
      render: (_x, b) => <StarChart distribution={b.distribution} height={72} compact />,
    },
    {
      key: 'open',
      width: 80,
      render: (_x, b) => (
        <Button type="link" onClick={() => onOpen(b.id)} data-testid={`batch-open-${b.id}`}>
          {t('ratings.open')}
        </Button>
      ),
    },
  ];

  return (
    <>
      <Typography.Paragraph type="secondary">{t('ratings.intro')}</Typography.Paragraph>
      <Flex gap={8} wrap style={{ marginBottom: 12 }}>
        <DatePicker
          picker="month"
          allowClear
          placeholder={t('ratings.allPeriods')}
          style={{ width: isPhone ? '100%' : 180 }}
          onChange={(d: Dayjs | null) => setPeriod(d ? d.format('YYYY-MM') : undefined)}
        />
      </Flex>
      {isPhone ? (
        <List
          dataSource={items}
          loading={batches.isFetching}
          locale={{ emptyText: <Empty description={t('ratings.empty')} /> }}
          data-testid="ratings-list"
          renderItem={(b) => (
            <Card size="small" style={{ marginBottom: 8 }} onClick={() => onOpen(b.id)} data-testid={`batch-${b.id}`}>
              <Flex justify="space-between" align="center" gap={8}>
                <Typography.Text strong>
                  {b.orgUnitName} · {b.period}
                </Typography.Text>
                <Flex gap={4} align="center">
                  <Typography.Text type="secondary">{t('ratings.customersN', { n: b.customerCount })}</Typography.Text>
                  <RightOutlined />
                </Flex>
              </Flex>
              <div style={{ margin: '6px 0' }}>
                <BatchProgress b={b} />
              </div>
              <StarChart distribution={b.distribution} height={80} compact />
            </Card>
          )}
        />
      ) : (
        <Card size="small">
          <Table<Batch>
            rowKey="id"
            columns={columns}
            dataSource={items}
            loading={batches.isFetching}
            pagination={{ pageSize: 20, hideOnSinglePage: true }}
            locale={{ emptyText: <Empty description={t('ratings.empty')} /> }}
            scroll={{ x: 920 }}
            onRow={(b) => ({ onClick: () => onOpen(b.id), style: { cursor: 'pointer' } })}
            data-testid="ratings-table"
          />
        </Card>
      )}
    </>
  );
}

export function RatingsPage() {
  const { t } = useTranslation();
  const access = useAccess();
  const [params, setParams] = useSearchParams();
  const batchId = Number(params.get('batch'));
  const open = Number.isInteger(batchId) && batchId > 0;

  if (open) return <BatchView id={batchId} onBack={() => setParams({})} />;
  return (
    <Page title={t('ratings.title')} extra={access.canProposeRatings && <ComputeButton />}>
      <BatchList onOpen={(id) => setParams({ batch: String(id) })} />
    </Page>
  );
}
