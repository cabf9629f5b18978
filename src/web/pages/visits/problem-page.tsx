// A problem handed up from a visit: where it was raised, the level holding it, its trail; that level
// (or one above) hands it up once more or settles it.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Card, Flex, Input, Result, Space, Spin, Tag, Timeline, Typography } from 'antd';
import dayjs from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { Page } from '../../shared/page.js';
import { useShowError } from '../../shared/errors.js';

export function VisitProblemPage() {
  const { t } = useTranslation();
  const id = Number(useParams().id);
  const access = useAccess();
  const qc = useQueryClient();
  const showError = useShowError();
  const [note, setNote] = useState('');
  const q = useQuery({
    queryKey: ['visits', 'problem', id],
    queryFn: () => unwrap(client.GET('/api/visit-problems/{id}', { params: { path: { id } } })),
  });
  const step = useMutation({
    mutationFn: (action: 'escalate' | 'resolve') =>
      action === 'escalate'
        ? unwrap(
            client.POST('/api/visit-problems/{id}/escalate', { params: { path: { id } }, body: { note: note.trim() } }),
          )
        : unwrap(
            client.POST('/api/visit-problems/{id}/resolve', { params: { path: { id } }, body: { note: note.trim() } }),
          ),
    onSuccess: () => {
      setNote('');
      void qc.invalidateQueries({ queryKey: ['visits'] });
      void qc.invalidateQueries({ queryKey: ['work'] });
    },
    onError: (e) => showError(e),
  });
  if (q.isLoading) return <Spin />;
  if (!q.data) return <Result status="404" title={t('notFound.title')} />;
  const p = q.data;
  return (
    <Page title={t('visits.problemTitle')}>
      <Space direction="vertical" style={{ width: '100%' }}>
        <Card size="small">
          <Typography.Paragraph strong style={{ overflowWrap: 'anywhere' }}>
            {p.text}
          </Typography.Paragraph>
          <Flex gap={8} wrap>
            <Tag color={p.state === 'open' ? 'orange' : 'green'}>
              {t(`visits.problemStates.${p.state}` as 'visits.problemStates.open')}
            </Tag>
            <Link to={`/customers/${p.customerId}`}>{p.customerName}</Link>
            <Typography.Text type="secondary">{t('visits.raisedFrom', { unit: p.originUnitName })}</Typography.Text>
            <Typography.Text type="secondary">{t('visits.heldBy', { unit: p.orgUnitName })}</Typography.Text>
            {p.recordId && <Link to={`/visits/records/${p.recordId}`}>{t('visits.openRecord')}</Link>}
          </Flex>
        </Card>
        <Card size="small" title={t('visits.trail')}>
          <Timeline
            items={p.steps.map((s) => ({
              children: `${dayjs(s.at).format('YYYY-MM-DD HH:mm')} ${s.actorName} ${t(`visits.steps.${s.action}` as 'visits.steps.raise')}${s.toUnitName ? ` → ${s.toUnitName}` : ''}${s.note && s.action !== 'raise' ? `：${s.note}` : ''}`,
            }))}
          />
        </Card>
        {p.state === 'open' && access.canApproveVisits && (
          <Card size="small">
            <Input.TextArea
              rows={2}
              value={note}
              onChange={(e) => setNote(e.target.value)}
              placeholder={t('visits.stepNote')}
              maxLength={2000}
            />
            <Flex gap={8} style={{ marginTop: 8 }}>
              <Button disabled={!note.trim()} loading={step.isPending} onClick={() => step.mutate('escalate')}>
                {t('visits.escalate')}
              </Button>
              <Button
                type="primary"
                disabled={!note.trim()}
                loading={step.isPending}
                onClick={() => step.mutate('resolve')}
              >
                {t('visits.resolve')}
              </Button>
            </Flex>
          </Card>
        )}
      </Space>
    </Page>
  );
}
