// What the customer is likely worth: P(alive), the visits to expect, what each visit brings and a
// year's value, from his branch's churn and spend models, with the same told in one plain sentence.
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from '@tanstack/react-query';
import { Alert, Card, Col, Row, Statistic, Typography } from 'antd';
import { client, unwrap, type ApiData } from '../../../api/client.js';
import { errorText } from '../../../shared/errors.js';

type Value = ApiData<'/api/customers/{id}/value'>;

/** ¥ amounts in whole yuan, and three significant digits from ¥1,000 up: the models give no more. */
export function approxYuan(fen: number): string {
  const yuan = fen / 100;
  const rounded = yuan >= 1000 ? Number(yuan.toPrecision(3)) : Math.round(yuan);
  return rounded.toLocaleString('zh-CN');
}

/** Visits: whole ones from ten up, else one decimal. */
export function approxVisits(n: number): string {
  return n >= 10 ? String(Math.round(n)) : n.toFixed(1);
}

export const percentOf = (p: number) => `${Math.round(p * 100)}%`;

export function ValuePanel({ customerId }: { customerId: number }) {
  const { t } = useTranslation();
  const query = useQuery({
    queryKey: ['customer-value', customerId],
    queryFn: () => unwrap(client.GET('/api/customers/{id}/value', { params: { path: { id: customerId } } })),
  });
  const v: Value | undefined = query.data;

  let body: ReactNode = null;
  if (v && v.missing !== null) {
    body = (
      <Typography.Text type="secondary">
        {t(v.missing === 'no_history' ? 'customerValue.noHistory' : 'customerValue.noModel')}
      </Typography.Text>
    );
  } else if (v && v.pAlive != null && v.expectedVisits365d != null) {
    const pAlive = percentOf(v.pAlive);
    const visits = approxVisits(v.expectedVisits365d);
    const sentence =
      v.value12mFen != null && v.spendPerVisitFen != null
        ? t('customerValue.explain', {
            pAlive,
            visits,
            spend: approxYuan(v.spendPerVisitFen),
            value: approxYuan(v.value12mFen),
          })
        : t('customerValue.explainNoSpend', { pAlive, visits });
    body = (
      <>
        <Alert
          type="info"
          showIcon
          title={sentence}
          style={{ marginBottom: 12 }}
          data-testid="customer-value-sentence"
        />
        <Row gutter={[12, 12]}>
          <Col xs={12} md={6}>
            <Statistic title={t('customerValue.pAlive')} value={pAlive} />
          </Col>
          <Col xs={12} md={6}>
            <Statistic
              title={t('customerValue.visits')}
              value={visits}
              suffix={
                <Typography.Text type="secondary">
                  {t('customerValue.in30', { visits: approxVisits(v.expectedVisits30d ?? 0) })}
                </Typography.Text>
              }
            />
          </Col>
          <Col xs={12} md={6}>
            <Statistic
              title={t('customerValue.spendPerVisit')}
              value={v.spendPerVisitFen != null ? `¥${approxYuan(v.spendPerVisitFen)}` : '—'}
            />
          </Col>
          <Col xs={12} md={6}>
            <Statistic
              title={t('customerValue.value12m')}
              value={v.value12mFen != null ? `¥${approxYuan(v.value12mFen)}` : '—'}
            />
          </Col>
        </Row>
        <Typography.Paragraph type="secondary" style={{ marginTop: 8, marginBottom: 0, fontSize: 12 }}>
          {v.ownSpendPerVisitFen != null &&
            v.spendPerVisitFen != null &&
            `${t('customerValue.spendNote', { count: v.spendVisits, own: approxYuan(v.ownSpendPerVisitFen) })} `}
          {t('customerValue.basis', { fitted: v.modelFittedFor ?? '', asOf: v.asOf })}
        </Typography.Paragraph>
      </>
    );
  }

  return (
    <Card size="small" title={t('customerValue.title')} loading={query.isPending} data-testid="customer-value">
      {query.error ? <Typography.Text type="danger">{errorText(query.error)}</Typography.Text> : body}
    </Card>
  );
}
