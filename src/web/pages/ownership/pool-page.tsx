// 公海客户: customers of my subtree back in their unit's pool, why and from whom, with my standing
// against the claim limits and a claim button on each (cards, so it reads on a phone).
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Empty, Flex, List, Pagination, Spin, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useAccess } from '../../access.js';
import { Page } from '../../shared/page.js';
import { errorText, useShowError } from '../../shared/errors.js';
import { claim, fetchPool } from './ownership-api.js';

const PAGE_SIZE = 20;
const when = (v: string | null) => (v ? dayjs(v).format('YYYY-MM-DD') : '—');

export function PoolPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const showError = useShowError();
  const access = useAccess();
  const queryClient = useQueryClient();
  const [page, setPage] = useState(1);
  const q = useQuery({
    queryKey: ['ownership', 'pool', page],
    queryFn: () => fetchPool(page, PAGE_SIZE),
    placeholderData: keepPreviousData,
  });
  const take = useMutation({
    mutationFn: claim,
    onSuccess: async () => {
      void message.success(t('ownership.claimed'));
      await queryClient.invalidateQueries({ queryKey: ['ownership'] });
    },
    onError: (e) => showError(e),
  });
  const d = q.data;
  return (
    <Page title={t('ownership.poolTitle')}>
      <Typography.Paragraph type="secondary">{t('ownership.poolIntro')}</Typography.Paragraph>
      {q.error && <Alert type="error" showIcon title={errorText(q.error)} />}
      {!d && !q.error && <Spin />}
      {d && (
        <Flex vertical gap={12}>
          <Alert
            type="info"
            data-testid="pool-mine"
            title={t('ownership.mine', {
              today: d.mine.claimsToday,
              cap: d.mine.dailyCap,
              owned: d.mine.owned,
              max: d.mine.maxOwned,
              unitOwned: d.mine.unitOwned,
              unitCapacity: d.mine.unitCapacity,
            })}
          />
          {d.items.length === 0 ? (
            <Card>
              <Empty description={t('ownership.poolEmpty')} />
            </Card>
          ) : (
            <List
              grid={{ gutter: 12, xs: 1, sm: 1, md: 2, lg: 3 }}
              dataSource={d.items}
              renderItem={(c) => (
                <List.Item>
                  <Card size="small" data-testid={`pool-${c.id}`}>
                    <Flex justify="space-between" align="start" gap={8}>
                      <Flex vertical>
                        <Link to={`/customers/${c.id}`}>
                          <Typography.Text strong>{c.name ?? c.code}</Typography.Text>
                        </Link>
                        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                          {c.code} · {c.orgUnitName}
                        </Typography.Text>
                      </Flex>
                      <Tag>{c.classCode ?? t('ownership.unrated')}</Tag>
                    </Flex>
                    <div style={{ margin: '6px 0', fontSize: 13 }}>
                      <div>
                        {t('ownership.reasonCol')}：
                        {c.reason
                          ? t(`ownership.reasons.${c.reason as 'no_follow_up'}`, { defaultValue: c.reason })
                          : '—'}
                      </div>
                      <div>
                        {t('ownership.poolSince')}：{when(c.poolSince)} · {t('ownership.formerOwner')}：
                        {c.formerOwnerName ?? '—'}
                      </div>
                      <div>
                        {t('ownership.lastVisit')}：{when(c.lastVisitAt)}
                      </div>
                    </div>
                    {access.canClaimPool && (
                      <Button
                        type="primary"
                        block
                        disabled={c.formerOwnerIsMe}
                        loading={take.isPending && take.variables === c.id}
                        onClick={() => take.mutate(c.id)}
                        data-testid={`claim-${c.id}`}
                      >
                        {c.formerOwnerIsMe ? t('ownership.formerIsMe') : t('ownership.claim')}
                      </Button>
                    )}
                  </Card>
                </List.Item>
              )}
            />
          )}
          {d.total > PAGE_SIZE && (
            <Pagination
              current={page}
              pageSize={PAGE_SIZE}
              total={d.total}
              onChange={setPage}
              showSizeChanger={false}
            />
          )}
        </Flex>
      )}
    </Page>
  );
}
