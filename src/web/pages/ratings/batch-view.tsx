// One branch's rating for one month: where it stands in the flow (who did each step and when), its
// star counts and totals, its customers, and the one step the signed-in user may take next. In the
// high review HQ may change a 3–4-star customer's stars with a reason; the changes go with the step.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Empty,
  Flex,
  Input,
  List,
  Modal,
  Result,
  Row,
  Segmented,
  Spin,
  Statistic,
  Steps,
  Table,
  Tag,
  Typography,
  type TableColumnsType,
} from 'antd';
import { ArrowLeftOutlined, CheckOutlined, EditOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { ApiError, client, unwrap } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { errorText } from '../../shared/errors.js';
import { Page } from '../../shared/page.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { AdjustModal, type Adjustment } from './adjust-modal.js';
import {
  BATCH_KEY,
  BATCHES_KEY,
  benefitName,
  customersOf,
  HIGH_STARS,
  litres,
  myAction,
  ratingErrorText,
  STAR_TAG_COLORS,
  STAR_VALUES,
  stepIndex,
  STATUSES,
  yuan,
  type BatchDetail,
  type Rating,
  type RatingAction,
  type RatingStatus,
} from './labels.js';
import { StarChart } from './star-chart.js';

const PAGE_SIZE = 20;
const fmt = (v: string) => dayjs(v).format('MM-DD HH:mm');

/** The request of each step; the routes differ only in their last segment. */
function takeStep(action: RatingAction, id: number, note: string | undefined, adjustments: Adjustment[]) {
  const params = { path: { id } };
  const body = note ? { note } : {};
  switch (action) {
    case 'propose':
      return unwrap(client.POST('/api/ratings/batches/{id}/propose', { params, body }));
    case 'approve_low':
      return unwrap(client.POST('/api/ratings/batches/{id}/approve-low', { params, body }));
    case 'review_high':
      return unwrap(
        client.POST('/api/ratings/batches/{id}/review-high', {
          params,
          body: {
            ...body,
            adjustments: adjustments.map(({ customerId, stars, note: n }) => ({ customerId, stars, note: n })),
          },
        }),
      );
    case 'finalize':
      return unwrap(client.POST('/api/ratings/batches/{id}/finalize', { params, body }));
  }
}

export function Stars({ n, testId }: { n: number; testId?: string }) {
  const { t } = useTranslation();
  return (
    <Tag color={STAR_TAG_COLORS[n] ?? 'default'} style={{ marginInlineEnd: 0 }} data-testid={testId}>
      {t('ratings.stars', { n })}
    </Tag>
  );
}

function stampsOf(b: BatchDetail): Record<RatingStatus, { byName: string | null; at: string } | null> {
  return {
    computed: { byName: null, at: b.computedAt },
    proposed: b.proposed,
    low_approved: b.lowApproved,
    high_reviewed: b.highReviewed,
    final: b.finalized,
  };
}

export function BatchView({ id, onBack }: { id: number; onBack: () => void }) {
  const { t } = useTranslation();
  const access = useAccess();
  const isPhone = useIsPhone();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [stars, setStars] = useState<number | undefined>(undefined);
  const [text, setText] = useState('');
  const [page, setPage] = useState(1);
  const [acting, setActing] = useState<RatingAction | null>(null);
  const [note, setNote] = useState('');
  const [sending, setSending] = useState(false);
  const [stepError, setStepError] = useState<string | null>(null);
  const [adjusting, setAdjusting] = useState<Rating | null>(null);
  const [adjustments, setAdjustments] = useState<Map<number, Adjustment>>(new Map());

  const batch = useQuery({
    queryKey: [...BATCH_KEY, id, stars, text, page],
    queryFn: () =>
      unwrap(
        client.GET('/api/ratings/batches/{id}', {
          params: {
            path: { id },
            query: { page, pageSize: PAGE_SIZE, ...(stars !== undefined && { stars }), ...(text && { q: text }) },
          },
        }),
      ),
    placeholderData: keepPreviousData,
    retry: (count, err) => !(err instanceof ApiError && err.status < 500) && count < 2,
  });
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: BATCH_KEY }),
      queryClient.invalidateQueries({ queryKey: BATCHES_KEY }),
    ]);

  if (batch.isPending) return <Spin style={{ display: 'block', margin: '80px auto' }} />;
  if (batch.isError) {
    const code = batch.error instanceof ApiError ? batch.error.code : '';
    return (
      <Result
        status={code === 'SCOPE_DENIED' || code === 'PERMISSION_DENIED' ? '403' : '404'}
        title={errorText(batch.error)}
        extra={<Button onClick={onBack}>{t('ratings.back')}</Button>}
      />
    );
  }
  const b = batch.data;
  const mine = myAction(access, b);
  const reviewing = mine === 'review_high';
  const pending = reviewing ? [...adjustments.values()] : [];
  const period = b.period;
  const words = { branch: b.orgUnitName, period };

  const send = async () => {
    if (!acting) return;
    setSending(true);
    setStepError(null);
    try {
      await takeStep(acting, b.id, note.trim() || undefined, acting === 'review_high' ? pending : []);
      void message.success(t(`ratings.actionDone.${acting}`));
      setActing(null);
      setNote('');
      if (acting === 'review_high') setAdjustments(new Map());
      await refresh();
    } catch (err) {
      const words = ratingErrorText(t, err);
      void message.error(words);
      if (
        err instanceof ApiError &&
        (err.code === 'CONFLICT' || err.code === 'PERMISSION_DENIED' || err.code === 'SCOPE_DENIED')
      ) {
        // The batch is not where the page thought it was: show where it is now.
        setActing(null);
        await refresh();
      } else setStepError(words);
    } finally {
      setSending(false);
    }
  };

  const stamps = stampsOf(b);
  // The highlighted step is the one awaited; every step before it is done.
  const current = Math.min(stepIndex(b.status) + 1, STATUSES.length - 1);
  const stepItems = STATUSES.map((s) => {
    const st = stamps[s];
    return {
      title: t(`ratings.steps.${s}`),
      content: st ? (
        <>
          {st.byName && <div>{st.byName}</div>}
          <div>{fmt(st.at)}</div>
        </>
      ) : undefined,
    };
  });

  const shown = (r: Rating) => adjustments.get(r.customerId)?.stars ?? r.stars;
  const adjustedCell = (r: Rating) => {
    const p = reviewing ? adjustments.get(r.customerId) : undefined;
    if (p) {
      return (
        <Flex gap={4} wrap align="center">
          <Stars n={p.stars} />
          <Tag color="warning">{t('ratings.pending')}</Tag>
        </Flex>
      );
    }
    return r.stars !== r.computedStars ? <Stars n={r.stars} testId={`rating-adjusted-${r.customerId}`} /> : null;
  };
  const noteOf = (r: Rating) => (reviewing ? adjustments.get(r.customerId)?.note : undefined) ?? r.note;
  const adjustButton = (r: Rating) =>
    reviewing && r.stars >= HIGH_STARS ? (
      <Flex gap={4} wrap>
        <Button
          size="small"
          icon={<EditOutlined />}
          onClick={() => setAdjusting(r)}
          data-testid={`rating-adjust-${r.customerId}`}
        >
          {t('ratings.adjust')}
        </Button>
        {adjustments.has(r.customerId) && (
          <Button
            size="small"
            type="link"
            onClick={() =>
              setAdjustments((m) => {
                const next = new Map(m);
                next.delete(r.customerId);
                return next;
              })
            }
          >
            {t('ratings.undoAdjust')}
          </Button>
        )}
      </Flex>
    ) : null;
  const customerName = (r: Rating) => r.name ?? r.code;
  const benefitTags = (r: Rating) =>
    r.benefits.length === 0
      ? '—'
      : r.benefits.map((x) => (
          <Tag key={x} color="green">
            {benefitName(t, x)}
          </Tag>
        ));

  const columns: TableColumnsType<Rating> = [
    {
      title: t('ratings.customer'),
      key: 'customer',
      width: 180,
      render: (_x, r) => (
        <>
          <Link to={`/customers/${r.customerId}`}>{customerName(r)}</Link>
          <div>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {r.code} · {t(`customers.kinds.${r.kind as 'individual'}`, { defaultValue: r.kind })}
            </Typography.Text>
          </div>
        </>
      ),
    },
    { title: t('ratings.unit'), dataIndex: 'orgUnitName', width: 150 },
    { title: t('ratings.volume'), dataIndex: 'volumeMl', width: 100, align: 'right', render: litres },
    { title: t('ratings.amount'), dataIndex: 'amountFen', width: 110, align: 'right', render: yuan },
    {
      title: t('ratings.proposedStars'),
      dataIndex: 'computedStars',
      width: 90,
      render: (n: number) => <Stars n={n} />,
    },
    { title: t('ratings.adjustedStars'), key: 'adjusted', width: 110, render: (_x, r) => adjustedCell(r) },
    // Beside the stars it changes, so it needs no sideways scrolling to find.
    ...(reviewing
      ? [{ title: t('common.actions'), key: 'adjust', width: 130, render: (_x: unknown, r: Rating) => adjustButton(r) }]
      : []),
    { title: t('ratings.class'), dataIndex: 'class', width: 60, render: (c: string | null) => c ?? '—' },
    { title: t('ratings.note'), key: 'note', width: 200, render: (_x, r) => noteOf(r) ?? '' },
    ...(b.status === 'final'
      ? [
          {
            title: t('ratings.benefits'),
            key: 'benefits',
            width: 180,
            render: (_x: unknown, r: Rating) => benefitTags(r),
          },
        ]
      : []),
  ];

  const pagination = {
    current: page,
    pageSize: PAGE_SIZE,
    total: b.ratings.total,
    onChange: setPage,
    showSizeChanger: false,
    showTotal: (total: number) => t('common.total', { count: total }),
    ...(isPhone && { simple: true, size: 'small' as const }),
  };

  return (
    <Page
      title={
        <Flex gap={8} align="center" wrap>
          <Button
            type="text"
            icon={<ArrowLeftOutlined />}
            onClick={onBack}
            aria-label={t('ratings.back')}
            data-testid="batch-back"
          />
          <span data-testid="batch-title">{t('ratings.batchTitle', words)}</span>
          <Tag color={b.status === 'final' ? 'green' : 'blue'} data-testid="batch-status">
            {t(`ratings.statuses.${b.status}`)}
          </Tag>
        </Flex>
      }
      extra={
        mine && (
          <Button type="primary" icon={<CheckOutlined />} onClick={() => setActing(mine)} data-testid="batch-action">
            {t(`ratings.actions.${mine}`)}
            {mine === 'review_high' && pending.length > 0 ? ` (${pending.length})` : ''}
          </Button>
        )
      }
    >
      <Card size="small" style={{ marginBottom: 16 }}>
        <Steps
          size="small"
          current={current}
          status={b.status === 'final' ? 'finish' : 'process'}
          orientation={isPhone ? 'vertical' : 'horizontal'}
          titlePlacement={isPhone ? 'horizontal' : 'vertical'}
          items={stepItems}
          data-testid="batch-steps"
        />
        {!mine && b.nextAction && (
          <Typography.Paragraph type="secondary" style={{ margin: '8px 0 0' }} data-testid="batch-waiting">
            {t(`ratings.waiting.${b.nextAction}`)}
          </Typography.Paragraph>
        )}
        {b.note && (
          <Typography.Paragraph style={{ margin: '8px 0 0' }}>
            {t('ratings.comment', { note: b.note })}
          </Typography.Paragraph>
        )}
      </Card>
      {reviewing && (
        <Alert
          type="info"
          showIcon
          style={{ marginBottom: 16 }}
          title={pending.length > 0 ? t('ratings.pendingHint', { n: pending.length }) : t('ratings.reviewHint')}
          data-testid="batch-review-hint"
        />
      )}
      <Row gutter={[16, 16]} style={{ marginBottom: 16 }}>
        <Col xs={24} lg={9}>
          <Card size="small" style={{ height: '100%' }}>
            <Row gutter={[12, 12]}>
              <Col span={12}>
                <Statistic title={t('ratings.customers')} value={b.customerCount} />
              </Col>
              <Col span={12}>
                <Statistic title={t('ratings.adjusted')} value={b.adjusted} />
              </Col>
              <Col span={12}>
                <Statistic title={t('ratings.totalVolume')} value={litres(b.totals.volumeMl)} />
              </Col>
              <Col span={12}>
                <Statistic title={t('ratings.totalAmount')} value={yuan(b.totals.amountFen)} />
              </Col>
            </Row>
            <Tag style={{ marginTop: 12 }}>{t(`ratings.basis.${b.basis}`)}</Tag>
          </Card>
        </Col>
        <Col xs={24} lg={15}>
          <Card size="small" title={t('ratings.distribution')}>
            <StarChart distribution={b.distribution} height={isPhone ? 180 : 200} testId="batch-chart" />
          </Card>
        </Col>
      </Row>
      <Card size="small">
        <Flex gap={8} wrap align="center" style={{ marginBottom: 12 }}>
          <Segmented
            value={stars ?? 'all'}
            onChange={(v) => {
              setStars(v === 'all' ? undefined : Number(v));
              setPage(1);
            }}
            options={[
              { value: 'all', label: t('ratings.allStars') },
              ...STAR_VALUES.map((n) => ({
                value: n,
                label: `${t('ratings.starsShort', { n })} ${b.distribution[n] ?? 0}`,
              })),
            ]}
            style={isPhone ? { width: '100%', overflowX: 'auto' } : undefined}
            data-testid="batch-stars"
          />
          <Input.Search
            allowClear
            placeholder={t('ratings.search')}
            style={{ width: isPhone ? '100%' : 260 }}
            onSearch={(v) => {
              setText(v.trim());
              setPage(1);
            }}
            data-testid="batch-search"
          />
        </Flex>
        {isPhone ? (
          <List
            dataSource={b.ratings.items}
            loading={batch.isFetching}
            pagination={b.ratings.total > PAGE_SIZE ? pagination : false}
            locale={{ emptyText: <Empty description={t('customers.empty')} /> }}
            data-testid="batch-customers"
            renderItem={(r) => (
              <Card size="small" style={{ marginBottom: 8 }} data-testid={`rating-${r.customerId}`}>
                <Flex justify="space-between" align="start" gap={8}>
                  <div style={{ minWidth: 0 }}>
                    <Link to={`/customers/${r.customerId}`}>{customerName(r)}</Link>{' '}
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {r.code}
                    </Typography.Text>
                    <div>
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {r.orgUnitName}
                      </Typography.Text>
                    </div>
                  </div>
                  <Flex gap={4} align="center" style={{ flex: 'none' }}>
                    <Stars n={r.computedStars} />
                    {adjustedCell(r) && (
                      <>
                        <span>→</span>
                        {adjustedCell(r)}
                      </>
                    )}
                  </Flex>
                </Flex>
                <div style={{ margin: '4px 0' }}>
                  {[
                    t('ratings.litresValue', { v: litres(r.volumeMl) }),
                    t('ratings.yuanValue', { v: yuan(r.amountFen) }),
                    r.class,
                  ]
                    .filter(Boolean)
                    .join(' · ')}
                </div>
                {noteOf(r) && <Typography.Paragraph style={{ margin: 0 }}>{noteOf(r)}</Typography.Paragraph>}
                {b.status === 'final' && r.benefits.length > 0 && <div style={{ marginTop: 4 }}>{benefitTags(r)}</div>}
                {adjustButton(r) && <div style={{ marginTop: 6 }}>{adjustButton(r)}</div>}
              </Card>
            )}
          />
        ) : (
          <Table<Rating>
            rowKey="customerId"
            size="small"
            columns={columns}
            dataSource={b.ratings.items}
            loading={batch.isFetching}
            pagination={pagination}
            locale={{ emptyText: <Empty description={t('customers.empty')} /> }}
            scroll={{ x: columns.reduce((sum, c) => sum + Number(c.width ?? 0), 0) }}
            rowClassName={(r) => (shown(r) !== r.computedStars ? 'fc-rating-adjusted' : '')}
            data-testid="batch-customers"
          />
        )}
      </Card>

      <Modal
        open={!!acting}
        title={acting ? t(`ratings.actions.${acting}`) : ''}
        onCancel={() => {
          setActing(null);
          setStepError(null);
        }}
        onOk={() => void send()}
        okText={acting ? t(`ratings.actions.${acting}`) : t('common.confirm')}
        cancelText={t('common.cancel')}
        confirmLoading={sending}
        okButtonProps={{ 'data-testid': 'batch-action-confirm' }}
        destroyOnHidden
      >
        {acting && (
          <Typography.Paragraph>
            {t(`ratings.confirm.${acting}`, { ...words, n: customersOf(acting, b.distribution, b.customerCount) })}
          </Typography.Paragraph>
        )}
        {acting === 'review_high' && (
          <>
            <Typography.Text strong>
              {pending.length > 0 ? t('ratings.adjustmentsToSend', { n: pending.length }) : t('ratings.noAdjustments')}
            </Typography.Text>
            {pending.length > 0 && (
              <List
                size="small"
                dataSource={pending}
                style={{ marginBottom: 12 }}
                renderItem={(a) => (
                  <List.Item>
                    <div>
                      <Flex gap={4} align="center" wrap>
                        {a.name} <Stars n={a.from} /> → <Stars n={a.stars} />
                      </Flex>
                      <Typography.Text type="secondary">{a.note}</Typography.Text>
                    </div>
                  </List.Item>
                )}
              />
            )}
          </>
        )}
        <Input.TextArea
          value={note}
          onChange={(e) => setNote(e.target.value)}
          maxLength={1000}
          autoSize={{ minRows: 2, maxRows: 4 }}
          placeholder={t('ratings.notePlaceholder')}
          aria-label={t('ratings.noteLabel')}
          style={{ marginTop: 8 }}
          data-testid="batch-action-note"
        />
        {stepError && (
          <Alert type="error" showIcon title={stepError} style={{ marginTop: 12 }} data-testid="batch-action-error" />
        )}
      </Modal>

      <AdjustModal
        rating={adjusting}
        basis={b.basis}
        current={adjusting ? adjustments.get(adjusting.customerId) : undefined}
        onCancel={() => setAdjusting(null)}
        onSave={(a) => {
          setAdjustments((m) => new Map(m).set(a.customerId, a));
          setAdjusting(null);
        }}
      />
    </Page>
  );
}
