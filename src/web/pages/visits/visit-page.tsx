// One planned visit (where the `visit` work item leads): the customer before the visit, the
// appointment step, and the record form; or a new visit from the customer card (/visits/new?customer=).
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Col, DatePicker, Form, Input, Result, Row, Spin, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { useMe } from '../../shared/session.js';
import { Page } from '../../shared/page.js';
import { useShowError } from '../../shared/errors.js';
import { PlanStateTag, VisitStateTag, useReasonText } from './labels.js';
import { RecordForm, VisitOverview } from './record-form.js';

function Appointment({ id, plannedAt }: { id: number; plannedAt: string }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const showError = useShowError();
  const { message } = App.useApp();
  const save = useMutation({
    mutationFn: (v: { at: Dayjs; note?: string }) =>
      unwrap(
        client.POST('/api/planned-visits/{id}/appointment', {
          params: { path: { id } },
          body: { at: v.at.toISOString(), ...(v.note?.trim() && { note: v.note.trim() }) },
        }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['visits'] });
      void qc.invalidateQueries({ queryKey: ['work'] });
      void message.success(t('common.saved'));
    },
    onError: (e) => showError(e),
  });
  return (
    <Card size="small" title={t('visits.appointment')}>
      <Typography.Paragraph type="secondary">{t('visits.appointmentHint')}</Typography.Paragraph>
      <Form layout="vertical" onFinish={(v) => save.mutate(v)} initialValues={{ at: dayjs(plannedAt) }}>
        <Form.Item name="at" label={t('visits.appointedAt')} rules={[{ required: true }]}>
          <DatePicker showTime={{ format: 'HH:mm', minuteStep: 15 }} format="YYYY-MM-DD HH:mm" />
        </Form.Item>
        <Form.Item name="note" label={t('visits.appointmentNote')}>
          <Input maxLength={1000} />
        </Form.Item>
        <Button htmlType="submit" loading={save.isPending} data-testid="appointment-save">
          {t('visits.saveAppointment')}
        </Button>
      </Form>
    </Card>
  );
}

export function PlannedVisitPage() {
  const { t } = useTranslation();
  const id = Number(useParams().id);
  const me = useMe();
  const reasonText = useReasonText();
  const q = useQuery({
    queryKey: ['visits', 'planned', id],
    queryFn: () => unwrap(client.GET('/api/planned-visits/{id}', { params: { path: { id } } })),
  });
  if (q.isLoading) return <Spin />;
  if (!q.data) return <Result status="404" title={t('notFound.title')} />;
  const v = q.data;
  const mine = me.data?.userId === v.ownerUserId;
  const open = v.state === 'planned' || v.state === 'appointed';
  return (
    <Page title={t('visits.recordNew', { name: v.customerName })}>
      <Typography.Paragraph>
        <VisitStateTag state={v.state} /> <PlanStateTag state={v.planState} />{' '}
        {dayjs(v.plannedAt).format('YYYY-MM-DD ddd HH:mm')} · {reasonText(v.reason, v.reasonDetail)} · {v.ownerName} ·{' '}
        <Link to={`/customers/${v.customerId}`}>{v.customerCode}</Link>
      </Typography.Paragraph>
      <Row gutter={[16, 16]}>
        <Col xs={24} md={10}>
          <VisitOverview customerId={v.customerId} />
          {mine && open && v.planState === 'approved' && (
            <div style={{ marginTop: 16 }}>
              <Appointment id={v.id} plannedAt={v.plannedAt} />
            </div>
          )}
        </Col>
        <Col xs={24} md={14}>
          {v.recordId ? (
            <Link to={`/visits/records/${v.recordId}`}>{t('visits.openRecord')}</Link>
          ) : open ? (
            <RecordForm customerId={v.customerId} plannedVisitId={v.id} />
          ) : null}
        </Col>
      </Row>
    </Page>
  );
}

export function NewVisitPage() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const customerId = Number(params.get('customer'));
  if (!Number.isSafeInteger(customerId) || customerId <= 0) return <Result status="404" title={t('notFound.title')} />;
  return (
    <Page title={t('visits.record')}>
      <Row gutter={[16, 16]}>
        <Col xs={24} md={10}>
          <VisitOverview customerId={customerId} />
        </Col>
        <Col xs={24} md={14}>
          <RecordForm customerId={customerId} />
        </Col>
      </Row>
    </Page>
  );
}
