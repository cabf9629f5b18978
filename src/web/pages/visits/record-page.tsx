// A visit record: the assessment, the check-in, photos, follow-ups (done by their owners), problems
// handed up. /visits/follow-ups/:id (where a follow-up work item leads) opens the record it came from.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useParams } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  App,
  Button,
  Card,
  Descriptions,
  Empty,
  Flex,
  Image,
  Input,
  List,
  Result,
  Space,
  Spin,
  Tag,
  Typography,
} from 'antd';
import dayjs from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { Page } from '../../shared/page.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { useShowError } from '../../shared/errors.js';

const ASPECTS = [
  'density',
  'colour',
  'price',
  'delivery_quantity',
  'delivery_timeliness',
  'delivery_safety',
  'delivery_freight',
  'process_efficiency',
  'service',
] as const;
const COMPARE_COLORS: Record<string, string> = { better: 'green', same: 'default', worse: 'red' };

export function VisitRecordPage() {
  const { t } = useTranslation();
  const id = Number(useParams().id);
  const isPhone = useIsPhone();
  const access = useAccess();
  const qc = useQueryClient();
  const showError = useShowError();
  const { message } = App.useApp();
  const [problem, setProblem] = useState('');
  const q = useQuery({
    queryKey: ['visits', 'record', id],
    queryFn: () => unwrap(client.GET('/api/visit-records/{id}', { params: { path: { id } } })),
  });
  const done = useMutation({
    mutationFn: (followUpId: number) =>
      unwrap(
        client.POST('/api/visit-records/{id}/follow-ups/{followUpId}/done', { params: { path: { id, followUpId } } }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['visits'] });
      void qc.invalidateQueries({ queryKey: ['work'] });
    },
    onError: (e) => showError(e),
  });
  const raise = useMutation({
    mutationFn: () =>
      unwrap(
        client.POST('/api/visit-records/{id}/problems', { params: { path: { id } }, body: { text: problem.trim() } }),
      ),
    onSuccess: () => {
      setProblem('');
      void qc.invalidateQueries({ queryKey: ['visits'] });
      void message.success(t('common.saved'));
    },
    onError: (e) => showError(e),
  });
  if (q.isLoading) return <Spin />;
  if (!q.data) return <Result status="404" title={t('notFound.title')} />;
  const r = q.data;
  return (
    <Page title={`${t('visits.recordTitle')}：${r.customerName}`}>
      <Space direction="vertical" style={{ width: '100%' }} data-testid="visit-record">
        <Typography.Text type="secondary">
          {t('visits.by', { name: r.userName ?? '', at: dayjs(r.visitedAt).format('YYYY-MM-DD HH:mm') })} ·{' '}
          <Link to={`/customers/${r.customerId}`}>{r.customerCode}</Link>
        </Typography.Text>
        <Descriptions size="small" bordered column={isPhone ? 1 : 3}>
          {ASPECTS.filter((a) => r.assessment[a]).map((a) => (
            <Descriptions.Item key={a} label={t(`visits.aspects.${a}`)}>
              <Tag color={COMPARE_COLORS[r.assessment[a]!.compared]}>
                {t(`visits.compared.${r.assessment[a]!.compared}` as 'visits.compared.same')}
              </Tag>
              {r.assessment[a]!.note}
            </Descriptions.Item>
          ))}
          {r.competitorsBetter && (
            <Descriptions.Item label={t('visits.competitorsBetter')}>{r.competitorsBetter}</Descriptions.Item>
          )}
          {r.marketOutlook && (
            <Descriptions.Item label={t('visits.marketOutlook')}>{r.marketOutlook}</Descriptions.Item>
          )}
          {r.note && <Descriptions.Item label={t('visits.note')}>{r.note}</Descriptions.Item>}
          <Descriptions.Item label={t('visits.checkIn')}>
            {r.checkIn ? (
              <span data-testid="record-check-in">
                {t('visits.checkInDone', {
                  lat: r.checkIn.lat,
                  lng: r.checkIn.lng,
                  acc: Math.round(r.checkIn.accuracyM),
                })}{' '}
                · {dayjs(r.checkIn.at).format('MM-DD HH:mm')}
              </span>
            ) : (
              t('visits.checkInNone')
            )}
          </Descriptions.Item>
        </Descriptions>
        <Card size="small" title={t('visits.followUps')}>
          {r.followUps.length === 0 ? (
            <Typography.Text>{t('visits.noFollowUps')}</Typography.Text>
          ) : (
            <List
              size="small"
              dataSource={r.followUps}
              renderItem={(f) => (
                <List.Item
                  actions={
                    f.state === 'open' && access.canWriteCustomers
                      ? [
                          <Button
                            key="d"
                            size="small"
                            onClick={() => done.mutate(f.id)}
                            data-testid={`follow-up-done-${f.id}`}
                          >
                            {t('visits.followUpDone')}
                          </Button>,
                        ]
                      : []
                  }
                >
                  <Flex vertical>
                    <span>
                      {f.action} {f.state === 'done' && <Tag color="green">{t('visits.followUpDone')}</Tag>}
                      {f.overdue && <Tag color="red">{t('visits.overdue')}</Tag>}
                    </span>
                    <Typography.Text type="secondary">
                      {f.ownerName} · {f.dueDay}
                    </Typography.Text>
                  </Flex>
                </List.Item>
              )}
            />
          )}
        </Card>
        <Card size="small" title={t('visits.photos')}>
          {r.photos.length === 0 ? (
            <Typography.Text>{t('visits.noPhotos')}</Typography.Text>
          ) : (
            <Image.PreviewGroup>
              <Flex gap={8} wrap>
                {r.photos.map((p) => (
                  <Image key={p.id} width={120} src={`/api/visit-records/${r.id}/photos/${p.id}`} alt="" />
                ))}
              </Flex>
            </Image.PreviewGroup>
          )}
        </Card>
        <Card size="small" title={t('visits.problems')}>
          {r.problems.length === 0 && <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={false} />}
          {r.problems.map((p) => (
            <div key={p.id}>
              <Link to={`/visits/problems/${p.id}`}>{p.text}</Link>{' '}
              <Tag>{t(`visits.problemStates.${p.state}` as 'visits.problemStates.open')}</Tag>
            </div>
          ))}
          {access.canWriteCustomers && (
            <Flex gap={8} style={{ marginTop: 8 }}>
              <Input
                value={problem}
                onChange={(e) => setProblem(e.target.value)}
                maxLength={4000}
                placeholder={t('visits.problemHint')}
              />
              <Button disabled={!problem.trim()} loading={raise.isPending} onClick={() => raise.mutate()}>
                {t('visits.raiseProblem')}
              </Button>
            </Flex>
          )}
        </Card>
      </Space>
    </Page>
  );
}

export function FollowUpPage() {
  const { t } = useTranslation();
  const id = Number(useParams().id);
  const q = useQuery({
    queryKey: ['visits', 'follow-up', id],
    queryFn: () => unwrap(client.GET('/api/visit-records', { params: { query: { followUpId: id, limit: 1 } } })),
  });
  if (q.isLoading) return <Spin />;
  const rec = q.data?.[0];
  if (!rec) return <Result status="404" title={t('notFound.title')} />;
  return <Navigate to={`/visits/records/${rec.id}`} replace />;
}
