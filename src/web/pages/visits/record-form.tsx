// Before a visit and the record of it: the customer's purchases, open alerts and earlier visits on one
// screen, then a compact form (three aspects shown, the rest folded, "same" by default), follow-ups,
// a problem to hand up, an optional check-in with the phone's position, photos. Under a minute.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  App,
  Button,
  Card,
  Collapse,
  DatePicker,
  Empty,
  Flex,
  Form,
  Input,
  List,
  Segmented,
  Space,
  Spin,
  Tag,
  Typography,
  Upload,
} from 'antd';
import { CameraOutlined, EnvironmentOutlined, MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { client, unwrap, uploadFile } from '../../api/client.js';
import { useShowError } from '../../shared/errors.js';
import { Chart } from '../../shared/chart.js';

const MAIN = ['price', 'delivery_timeliness', 'service'] as const;
const MORE = [
  'density',
  'colour',
  'delivery_quantity',
  'delivery_safety',
  'delivery_freight',
  'process_efficiency',
] as const;
type Aspect = (typeof MAIN)[number] | (typeof MORE)[number];
type Compared = 'better' | 'same' | 'worse';

export function VisitOverview({ customerId }: { customerId: number }) {
  const { t } = useTranslation();
  const q = useQuery({
    queryKey: ['visits', 'overview', customerId],
    queryFn: () => unwrap(client.GET('/api/visits/customers/{id}/overview', { params: { path: { id: customerId } } })),
  });
  if (q.isLoading || !q.data) return <Spin />;
  const o = q.data;
  return (
    <Card size="small" title={t('visits.before')} data-testid="visit-overview">
      <Typography.Text type="secondary">{t('visits.purchases')}</Typography.Text>
      {o.months.length === 0 ? (
        <Empty description={t('visits.noPurchases')} image={Empty.PRESENTED_IMAGE_SIMPLE} />
      ) : (
        <Chart
          height={160}
          option={{
            grid: { left: 40, right: 8, top: 10, bottom: 24 },
            tooltip: { trigger: 'axis' },
            xAxis: { type: 'category', data: o.months.map((m) => m.month.slice(2)) },
            yAxis: { type: 'value' },
            series: [
              { type: 'bar', data: o.months.map((m) => Math.round(m.volumeL)), itemStyle: { color: '#1677ff' } },
            ],
          }}
        />
      )}
      <Typography.Text type="secondary">{t('visits.openAlerts')}</Typography.Text>
      <div style={{ margin: '4px 0 8px' }}>
        {o.alerts.length === 0 ? (
          <Typography.Text>{t('visits.noAlerts')}</Typography.Text>
        ) : (
          o.alerts.map((a) => (
            <Tag key={a.id} color="red">
              {t(`alerts.kinds.${a.kind}` as 'alerts.kinds.cadence', { defaultValue: a.kind })}{' '}
              {dayjs(a.openedAt).format('MM-DD')}
            </Tag>
          ))
        )}
      </div>
      <Typography.Text type="secondary">{t('visits.earlier')}</Typography.Text>
      {o.records.length === 0 ? (
        <div>
          <Typography.Text>{t('visits.noEarlier')}</Typography.Text>
        </div>
      ) : (
        <List
          size="small"
          dataSource={o.records}
          renderItem={(r) => (
            <List.Item>
              <Link to={`/visits/records/${r.id}`}>
                {r.visitedDay} {r.userName ?? ''}
              </Link>
              <Typography.Text type="secondary" ellipsis style={{ maxWidth: 220 }}>
                {r.competitorsBetter ?? r.note ?? ''}
              </Typography.Text>
            </List.Item>
          )}
        />
      )}
    </Card>
  );
}

interface FormValues {
  aspects: Record<Aspect, Compared>;
  note?: string;
  competitorsBetter?: string;
  marketOutlook?: string;
  problem?: string;
  followUps?: { action: string; dueDay: Dayjs }[];
}

export function RecordForm({ customerId, plannedVisitId }: { customerId: number; plannedVisitId?: number }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const showError = useShowError();
  const { message } = App.useApp();
  const [form] = Form.useForm<FormValues>();
  const [checkIn, setCheckIn] = useState<{ lat: number; lng: number; accuracyM: number; at: string } | null>(null);
  const [locating, setLocating] = useState(false);
  const [locateError, setLocateError] = useState<string | null>(null);
  const [photos, setPhotos] = useState<File[]>([]);
  const locate = () => {
    if (!navigator.geolocation) return setLocateError('geolocation unavailable');
    setLocating(true);
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        setLocating(false);
        setLocateError(null);
        setCheckIn({
          lat: Math.round(pos.coords.latitude * 1e6) / 1e6,
          lng: Math.round(pos.coords.longitude * 1e6) / 1e6,
          accuracyM: Math.round(pos.coords.accuracy),
          at: new Date(pos.timestamp).toISOString(),
        });
      },
      (err) => {
        setLocating(false);
        setLocateError(err.message);
      },
      { enableHighAccuracy: true, timeout: 15_000 },
    );
  };
  const save = useMutation({
    mutationFn: async (v: FormValues) => {
      const assessment = Object.fromEntries(
        Object.entries(v.aspects ?? {})
          .filter(([, c]) => c)
          .map(([k, c]) => [k, { compared: c }]),
      );
      const rec = await unwrap(
        client.POST('/api/visit-records', {
          body: {
            customerId,
            ...(plannedVisitId && { plannedVisitId }),
            assessment,
            ...(v.note?.trim() && { note: v.note.trim() }),
            ...(v.competitorsBetter?.trim() && { competitorsBetter: v.competitorsBetter.trim() }),
            ...(v.marketOutlook?.trim() && { marketOutlook: v.marketOutlook.trim() }),
            ...(v.problem?.trim() && { problem: v.problem.trim() }),
            ...(checkIn && { checkIn }),
            followUps: (v.followUps ?? [])
              .filter((f) => f?.action?.trim())
              .map((f) => ({ action: f.action.trim(), dueDay: f.dueDay.format('YYYY-MM-DD') })),
          },
        }),
      );
      for (const file of photos) await uploadFile(`/api/visit-records/${rec.id}/photos`, file);
      return rec;
    },
    onSuccess: (rec) => {
      void qc.invalidateQueries({ queryKey: ['visits'] });
      void qc.invalidateQueries({ queryKey: ['work'] });
      void message.success(t('visits.saved'));
      navigate(`/visits/records/${rec.id}`);
    },
    onError: (e) => showError(e),
  });
  const compare = (a: Aspect) => (
    <Form.Item key={a} name={['aspects', a]} label={t(`visits.aspects.${a}`)} style={{ marginBottom: 8 }}>
      <Segmented
        data-testid={`aspect-${a}`}
        options={(['better', 'same', 'worse'] as const).map((c) => ({ value: c, label: t(`visits.compared.${c}`) }))}
      />
    </Form.Item>
  );
  return (
    <Card size="small" title={t('visits.record')}>
      <Form<FormValues>
        form={form}
        layout="vertical"
        onFinish={(v) => save.mutate(v)}
        initialValues={{ aspects: { price: 'same', delivery_timeliness: 'same', service: 'same' }, followUps: [] }}
      >
        {MAIN.map(compare)}
        <Collapse
          ghost
          size="small"
          items={[{ key: 'more', label: t('visits.moreAspects'), children: MORE.map(compare), forceRender: true }]}
        />
        <Form.Item name="competitorsBetter" label={t('visits.competitorsBetter')}>
          <Input.TextArea rows={2} maxLength={4000} data-testid="record-competitors" />
        </Form.Item>
        <Form.Item name="note" label={t('visits.note')}>
          <Input.TextArea rows={2} maxLength={4000} data-testid="record-note" />
        </Form.Item>
        <Collapse
          ghost
          size="small"
          items={[
            {
              key: 'outlook',
              label: t('visits.marketOutlook'),
              forceRender: true,
              children: (
                <Form.Item name="marketOutlook">
                  <Input.TextArea rows={2} maxLength={4000} />
                </Form.Item>
              ),
            },
          ]}
        />
        <Typography.Text strong>{t('visits.followUps')}</Typography.Text>
        <Form.List name="followUps">
          {(fields, { add, remove }) => (
            <>
              {fields.map((f) => (
                <Flex key={f.key} gap={6} align="baseline" wrap>
                  <Form.Item
                    name={[f.name, 'action']}
                    rules={[{ required: true, whitespace: true }]}
                    style={{ flex: 1, minWidth: 160 }}
                  >
                    <Input
                      placeholder={t('visits.followUpAction')}
                      maxLength={1000}
                      data-testid={`follow-up-${f.name}`}
                    />
                  </Form.Item>
                  <Form.Item name={[f.name, 'dueDay']} rules={[{ required: true }]}>
                    <DatePicker placeholder={t('visits.followUpDue')} />
                  </Form.Item>
                  <MinusCircleOutlined onClick={() => remove(f.name)} />
                </Flex>
              ))}
              <Button
                type="dashed"
                icon={<PlusOutlined />}
                onClick={() => add({ action: '', dueDay: dayjs().add(3, 'day') })}
                block
                data-testid="add-follow-up"
              >
                {t('visits.addFollowUp')}
              </Button>
            </>
          )}
        </Form.List>
        <Form.Item name="problem" label={t('visits.problem')} extra={t('visits.problemHint')} style={{ marginTop: 12 }}>
          <Input.TextArea rows={2} maxLength={4000} />
        </Form.Item>
        <Space direction="vertical" style={{ width: '100%', marginBottom: 12 }}>
          <Button icon={<EnvironmentOutlined />} loading={locating} onClick={locate} data-testid="check-in">
            {t('visits.checkInAsk')}
          </Button>
          {checkIn && (
            <Typography.Text type="success" data-testid="check-in-done">
              {t('visits.checkInDone', { lat: checkIn.lat, lng: checkIn.lng, acc: checkIn.accuracyM })}
            </Typography.Text>
          )}
          {locateError && (
            <Typography.Text type="warning">{t('visits.checkInFailed', { msg: locateError })}</Typography.Text>
          )}
          <Upload
            accept="image/*"
            multiple
            beforeUpload={(f) => {
              setPhotos((x) => [...x, f]);
              return false;
            }}
            onRemove={(f) => setPhotos((x) => x.filter((p) => p.name !== f.name))}
            listType="picture"
          >
            <Button icon={<CameraOutlined />}>{t('visits.addPhoto')}</Button>
          </Upload>
        </Space>
        <Button type="primary" htmlType="submit" block size="large" loading={save.isPending} data-testid="record-save">
          {t('visits.save')}
        </Button>
      </Form>
    </Card>
  );
}
