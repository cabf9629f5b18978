// 必访时刻: the moments that make contact tasks — price changes (entered or imported from a small
// CSV/XLSX file), weather and road warnings per unit, and the holidays ahead on the unit's calendar.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  DatePicker,
  Empty,
  Flex,
  Form,
  Input,
  InputNumber,
  List,
  Modal,
  Tabs,
  Tag,
  Typography,
  Upload,
} from 'antd';
import { UploadOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { ApiError, client, unwrap } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { errorText, useShowError } from '../../shared/errors.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { useMe } from '../../shared/session.js';
import { Page } from '../../shared/page.js';
import { yuan } from './labels.js';

interface PriceForm {
  orgUnitId: number;
  product: string;
  oldPrice: number;
  newPrice: number;
  effectiveAt: Dayjs;
  note?: string;
}

function PriceChangeModal({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<PriceForm>();
  const me = useMe().data;
  const qc = useQueryClient();
  const showError = useShowError();
  const [saving, setSaving] = useState(false);
  const submit = async (v: PriceForm) => {
    setSaving(true);
    try {
      await unwrap(
        client.POST('/api/price-changes', {
          body: {
            orgUnitId: v.orgUnitId,
            product: v.product.trim(),
            oldPriceFen: Math.round(v.oldPrice * 100),
            newPriceFen: Math.round(v.newPrice * 100),
            effectiveAt: v.effectiveAt.format(),
            note: v.note?.trim() || null,
          },
        }),
      );
      await qc.invalidateQueries({ queryKey: ['price-changes'] });
      form.resetFields();
      onClose();
    } catch (err) {
      showError(err, form);
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal
      open={open}
      title={t('moments.newPriceChange')}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('moments.save')}
      confirmLoading={saving}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" onFinish={submit} initialValues={{ orgUnitId: me?.orgUnitId }}>
        <Form.Item name="orgUnitId" label={t('moments.appliesTo')} rules={[{ required: true }]}>
          <OrgTreeSelect />
        </Form.Item>
        <Form.Item name="product" label={t('moments.product')} rules={[{ required: true, max: 32 }]}>
          <Input placeholder="0#柴油" data-testid="price-product" />
        </Form.Item>
        <Flex gap={12}>
          <Form.Item name="oldPrice" label={t('moments.oldPrice')} rules={[{ required: true }]}>
            <InputNumber min={0.01} step={0.01} precision={2} addonAfter={t('moments.yuanPerLitre')} />
          </Form.Item>
          <Form.Item name="newPrice" label={t('moments.newPrice')} rules={[{ required: true }]}>
            <InputNumber min={0.01} step={0.01} precision={2} addonAfter={t('moments.yuanPerLitre')} />
          </Form.Item>
        </Flex>
        <Form.Item name="effectiveAt" label={t('moments.effectiveAt')} rules={[{ required: true }]}>
          <DatePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" />
        </Form.Item>
        <Form.Item name="note" label={t('moments.note')}>
          <Input maxLength={500} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function fileProblem(t: TFunction, err: unknown) {
  const m = err instanceof ApiError && err.field ? /^file\.(\d+)\.(\w+)$/.exec(err.field) : null;
  return m ? t('moments.fileProblem', { row: m[1]!, field: m[2]! }) : errorText(err);
}

function PriceChanges() {
  const { t } = useTranslation();
  const access = useAccess();
  const me = useMe().data;
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [open, setOpen] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const list = useQuery({ queryKey: ['price-changes'], queryFn: () => unwrap(client.GET('/api/price-changes')) });
  const upload = async (file: File) => {
    setProblem(null);
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      let text = '';
      for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      const r = await unwrap(
        client.POST('/api/price-changes/import', {
          body: { orgUnitId: me!.orgUnitId, fileName: file.name, content: btoa(text) },
        }),
      );
      void message.success(t('moments.imported', { created: r.created, unchanged: r.unchanged }));
      await qc.invalidateQueries({ queryKey: ['price-changes'] });
    } catch (err) {
      setProblem(fileProblem(t, err));
    }
    return false;
  };
  return (
    <>
      {access.canWriteMoments && (
        <Flex gap={8} wrap style={{ marginBottom: 12 }}>
          <Button type="primary" onClick={() => setOpen(true)} data-testid="price-new">
            {t('moments.newPriceChange')}
          </Button>
          <Upload accept=".csv,.xlsx" showUploadList={false} beforeUpload={(f) => upload(f)}>
            <Button icon={<UploadOutlined />}>{t('moments.importFile')}</Button>
          </Upload>
          <Typography.Text type="secondary" style={{ alignSelf: 'center' }}>
            {t('moments.importHint')}
          </Typography.Text>
        </Flex>
      )}
      {problem && <Alert type="error" showIcon title={problem} style={{ marginBottom: 12 }} />}
      {(list.data ?? []).length === 0 ? (
        <Empty description={t('moments.noPriceChanges')} />
      ) : (
        <List
          dataSource={list.data}
          split={false}
          renderItem={(p) => (
            <List.Item style={{ padding: '4px 0', display: 'block' }}>
              <Card size="small">
                <Flex gap={6} wrap align="center">
                  <Typography.Text strong>{p.product}</Typography.Text>
                  <Tag color={p.newPriceFen > p.oldPriceFen ? 'red' : 'green'}>
                    {yuan(p.oldPriceFen)} → {yuan(p.newPriceFen)}
                  </Tag>
                  {p.source === 'import' && <Tag>{t('moments.imported_')}</Tag>}
                </Flex>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {[
                    t('moments.effectiveOn', { at: dayjs(p.effectiveAt).format('YYYY-MM-DD HH:mm') }),
                    p.orgUnitName,
                    p.createdByName,
                    p.note,
                  ]
                    .filter(Boolean)
                    .join(' · ')}
                </Typography.Text>
              </Card>
            </List.Item>
          )}
        />
      )}
      <PriceChangeModal open={open} onClose={() => setOpen(false)} />
    </>
  );
}

interface WeatherForm {
  orgUnitId: number;
  title: string;
  detail?: string;
  routeText?: string;
  days: [Dayjs, Dayjs];
}

function Weather() {
  const { t } = useTranslation();
  const access = useAccess();
  const me = useMe().data;
  const qc = useQueryClient();
  const showError = useShowError();
  const [form] = Form.useForm<WeatherForm>();
  const [open, setOpen] = useState(false);
  const list = useQuery({ queryKey: ['weather-warnings'], queryFn: () => unwrap(client.GET('/api/weather-warnings')) });
  const submit = async (v: WeatherForm) => {
    try {
      await unwrap(
        client.POST('/api/weather-warnings', {
          body: {
            orgUnitId: v.orgUnitId,
            title: v.title.trim(),
            detail: v.detail?.trim() || null,
            routeText: v.routeText?.trim() || null,
            startDay: v.days[0].format('YYYY-MM-DD'),
            endDay: v.days[1].format('YYYY-MM-DD'),
          },
        }),
      );
      await qc.invalidateQueries({ queryKey: ['weather-warnings'] });
      form.resetFields();
      setOpen(false);
    } catch (err) {
      showError(err, form);
    }
  };
  return (
    <>
      {access.canWriteMoments && (
        <Button type="primary" onClick={() => setOpen(true)} style={{ marginBottom: 12 }} data-testid="weather-new">
          {t('moments.newWeather')}
        </Button>
      )}
      {(list.data ?? []).length === 0 ? (
        <Empty description={t('moments.noWeather')} />
      ) : (
        <List
          dataSource={list.data}
          split={false}
          renderItem={(w) => (
            <List.Item style={{ padding: '4px 0', display: 'block' }}>
              <Card size="small">
                <Flex gap={6} wrap align="center">
                  <Typography.Text strong>{w.title}</Typography.Text>
                  {w.routeText && <Tag>{t('moments.route', { route: w.routeText })}</Tag>}
                </Flex>
                {w.detail && <div style={{ overflowWrap: 'anywhere' }}>{w.detail}</div>}
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {[
                    w.startDay === w.endDay ? w.startDay : `${w.startDay} – ${w.endDay}`,
                    w.orgUnitName,
                    w.createdByName,
                  ]
                    .filter(Boolean)
                    .join(' · ')}
                </Typography.Text>
              </Card>
            </List.Item>
          )}
        />
      )}
      <Modal
        open={open}
        title={t('moments.newWeather')}
        onCancel={() => setOpen(false)}
        onOk={() => form.submit()}
        okText={t('moments.save')}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" onFinish={submit} initialValues={{ orgUnitId: me?.orgUnitId }}>
          <Form.Item name="orgUnitId" label={t('moments.appliesTo')} rules={[{ required: true }]}>
            <OrgTreeSelect />
          </Form.Item>
          <Form.Item name="title" label={t('moments.weatherTitle')} rules={[{ required: true, max: 200 }]}>
            <Input placeholder={t('moments.weatherTitlePlaceholder')} />
          </Form.Item>
          <Form.Item name="days" label={t('moments.weatherDays')} rules={[{ required: true }]}>
            <DatePicker.RangePicker />
          </Form.Item>
          <Form.Item name="routeText" label={t('moments.routeText')} extra={t('moments.routeTextHelp')}>
            <Input maxLength={100} />
          </Form.Item>
          <Form.Item name="detail" label={t('moments.detail')}>
            <Input.TextArea rows={3} maxLength={2000} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}

function Holidays() {
  const { t, i18n } = useTranslation();
  const list = useQuery({
    queryKey: ['contact-holidays'],
    queryFn: () => unwrap(client.GET('/api/contact-moments/holidays')),
  });
  if ((list.data ?? []).length === 0) return <Empty description={t('moments.noHolidays')} />;
  return (
    <List
      dataSource={list.data}
      split={false}
      renderItem={(h) => (
        <List.Item style={{ padding: '4px 0', display: 'block' }}>
          <Card size="small">
            <Typography.Text strong>{h.name ?? t('moments.unnamedHoliday')}</Typography.Text>{' '}
            <Typography.Text type="secondary">
              {dayjs(h.day)
                .locale(i18n.language === 'en-US' ? 'en' : 'zh-cn')
                .format('YYYY-MM-DD ddd')}{' '}
              · {t('moments.inDays', { n: dayjs(h.day).diff(dayjs().startOf('day'), 'day') })}
            </Typography.Text>
          </Card>
        </List.Item>
      )}
    />
  );
}

export function ContactMomentsPage() {
  const { t } = useTranslation();
  return (
    <Page title={t('moments.momentsTitle')}>
      <Typography.Paragraph type="secondary">{t('moments.momentsIntro')}</Typography.Paragraph>
      <Tabs
        items={[
          { key: 'price', label: t('moments.kinds.price_change'), children: <PriceChanges /> },
          { key: 'weather', label: t('moments.kinds.weather'), children: <Weather /> },
          { key: 'holiday', label: t('moments.kinds.holiday'), children: <Holidays /> },
        ]}
      />
    </Page>
  );
}
