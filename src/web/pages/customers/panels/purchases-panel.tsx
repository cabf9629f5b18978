// What the customer buys: monthly volume by product this year beside last year (the monthly
// purchase review), totals, his usual cadence, and the transactions themselves.
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Card, Col, Empty, Row, Select, Statistic, Table, Tabs, Tag } from 'antd';
import dayjs from 'dayjs';
import { client, unwrap, type ApiData } from '../../../api/client.js';
import { Chart, type ChartOption } from '../../../shared/chart.js';

type Volume = ApiData<'/api/customers/{id}/volume-monthly'>;
type Txn = ApiData<'/api/customers/{id}/transactions'>['items'][number];

const litres = (ml: number) => Math.round(ml / 100) / 10;
const yuan = (fen: number | null) =>
  fen === null ? '—' : (fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const PALETTE = ['#0b6bcb', '#13a8a8', '#fa8c16', '#722ed1', '#52c41a', '#eb2f96', '#2f54eb', '#faad14'];

function volumeOption(
  v: Volume,
  labels: { lastYear: string; litres: string; month: (m: number) => string },
): ChartOption {
  const products = v.products.filter((p) => p.thisYear.volumeMl > 0).map((p) => p.product);
  const months = Array.from({ length: 12 }, (_, i) => i + 1);
  const cell = (m: number, product: string) =>
    v.cells.find((c) => c.month === `${v.year}-${String(m).padStart(2, '0')}` && c.product === product)?.volumeMl ?? 0;
  return {
    color: PALETTE,
    tooltip: { trigger: 'axis' },
    legend: { top: 0, type: 'scroll' },
    grid: { left: 48, right: 16, top: 36, bottom: 28 },
    xAxis: { type: 'category', data: months.map(labels.month) },
    yAxis: { type: 'value', name: labels.litres },
    series: [
      ...products.map((product) => ({
        name: product,
        type: 'bar',
        stack: 'this',
        data: months.map((m) => litres(cell(m, product))),
      })),
      {
        name: labels.lastYear,
        type: 'line',
        smooth: true,
        symbol: 'circle',
        lineStyle: { type: 'dashed' },
        itemStyle: { color: '#8c8c8c' },
        data: months.map((m) => litres(v.months.find((x) => x.month === m)?.lastYear.volumeMl ?? 0)),
      },
    ],
  };
}

export function PurchasesPanel({ customerId }: { customerId: number }) {
  const { t } = useTranslation();
  const thisYear = dayjs().year();
  const [year, setYear] = useState(thisYear);
  const [page, setPage] = useState(1);
  const volume = useQuery({
    queryKey: ['customer-volume', customerId, year],
    queryFn: () =>
      unwrap(
        client.GET('/api/customers/{id}/volume-monthly', { params: { path: { id: customerId }, query: { year } } }),
      ),
    placeholderData: keepPreviousData,
  });
  const txns = useQuery({
    queryKey: ['customer-transactions', customerId, page],
    queryFn: () =>
      unwrap(
        client.GET('/api/customers/{id}/transactions', {
          params: { path: { id: customerId }, query: { page, pageSize: 10 } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const option = useMemo(
    () =>
      volume.data
        ? volumeOption(volume.data, {
            lastYear: t('purchases.lastYear', { year: year - 1 }),
            litres: t('purchases.litres'),
            month: (m) => t('purchases.month', { month: m }),
          })
        : null,
    [volume.data, t, year],
  );
  const v = volume.data;
  const growth =
    v && v.totals.lastYear.volumeMl > 0
      ? ((v.totals.thisYear.volumeMl - v.totals.lastYear.volumeMl) / v.totals.lastYear.volumeMl) * 100
      : null;

  return (
    <Card
      size="small"
      title={t('purchases.title')}
      extra={
        <Select
          size="small"
          value={year}
          onChange={setYear}
          options={[thisYear, thisYear - 1, thisYear - 2].map((y) => ({ value: y, label: String(y) }))}
        />
      }
      data-testid="customer-purchases"
    >
      <Tabs
        size="small"
        items={[
          {
            key: 'chart',
            label: t('purchases.monthly'),
            children:
              v && v.totals.thisYear.txnCount + v.totals.lastYear.txnCount > 0 ? (
                <>
                  <Row gutter={[12, 12]} style={{ marginBottom: 8 }}>
                    <Col xs={12} md={6}>
                      <Statistic
                        title={t('purchases.volumeYear', { year })}
                        value={litres(v.totals.thisYear.volumeMl)}
                        suffix="L"
                      />
                    </Col>
                    <Col xs={12} md={6}>
                      <Statistic
                        title={t('purchases.amountYear', { year })}
                        value={yuan(v.totals.thisYear.amountFen)}
                        prefix="¥"
                      />
                    </Col>
                    <Col xs={12} md={6}>
                      <Statistic
                        title={t('purchases.yoy')}
                        value={growth === null ? '—' : growth.toFixed(1)}
                        suffix={growth === null ? undefined : '%'}
                        styles={{ content: { color: growth !== null && growth < 0 ? '#cf1322' : '#389e0d' } }}
                      />
                    </Col>
                    <Col xs={12} md={6}>
                      <Statistic
                        title={t('purchases.cadence')}
                        value={v.cadence.usualIntervalDays === null ? '—' : v.cadence.usualIntervalDays.toFixed(1)}
                        suffix={v.cadence.usualIntervalDays === null ? undefined : t('purchases.days')}
                      />
                    </Col>
                  </Row>
                  {option && <Chart option={option} height={280} testId="customer-volume-chart" />}
                </>
              ) : (
                <Empty description={t('purchases.none')} />
              ),
          },
          {
            key: 'list',
            label: t('purchases.transactions'),
            children: (
              <Table<Txn>
                size="small"
                rowKey="id"
                loading={txns.isFetching}
                dataSource={txns.data?.items ?? []}
                locale={{ emptyText: <Empty description={t('purchases.none')} /> }}
                scroll={{ x: 640 }}
                pagination={{
                  current: page,
                  pageSize: 10,
                  total: txns.data?.total ?? 0,
                  onChange: setPage,
                  simple: true,
                }}
                columns={[
                  {
                    title: t('purchases.at'),
                    dataIndex: 'occurredAt',
                    width: 140,
                    render: (x: string) => dayjs(x).format('YYYY-MM-DD HH:mm'),
                  },
                  { title: t('purchases.station'), dataIndex: 'orgUnitName', width: 130 },
                  { title: t('purchases.product'), dataIndex: 'product', width: 80 },
                  {
                    title: t('purchases.litres'),
                    dataIndex: 'volumeMl',
                    width: 80,
                    align: 'right' as const,
                    render: (ml: number) => litres(ml),
                  },
                  {
                    title: t('purchases.amount'),
                    dataIndex: 'amountFen',
                    width: 90,
                    align: 'right' as const,
                    render: yuan,
                  },
                  {
                    title: t('purchases.via'),
                    key: 'via',
                    width: 110,
                    render: (_x, r) =>
                      r.cardNo ? (
                        <Tag color="blue">{r.cardNo}</Tag>
                      ) : r.source === 'pump' ? (
                        <Tag>{t('purchases.byHand')}</Tag>
                      ) : (
                        <Tag>{r.source}</Tag>
                      ),
                  },
                ]}
              />
            ),
          },
        ]}
      />
    </Card>
  );
}
