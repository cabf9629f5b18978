// 满意度调查: the surveys of my subtree as cards; managers start one for a station or an area (a seeded
// sample per station, previewed first, with the questions to ask) and read the policy it follows.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router-dom';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Checkbox,
  DatePicker,
  Drawer,
  Empty,
  Flex,
  Form,
  Input,
  InputNumber,
  List,
  Progress,
  Radio,
  Spin,
  Tag,
  Typography,
} from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { useShowError } from '../../shared/errors.js';
import { Page } from '../../shared/page.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { useCurrentUser } from '../../shared/session.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { useSatisfactionPolicy, type SurveyItem } from './shared.js';

interface Values {
  name: string;
  orgUnitId: number;
  mode: 'size' | 'ratio' | 'all';
  sampleSize?: number;
  sampleRatio?: number;
  seed?: number;
  ask: string[];
  dueAt: Dayjs;
}

function SurveyCard({ s }: { s: SurveyItem }) {
  const { t } = useTranslation();
  return (
    <Link to={`/satisfaction/surveys/${s.id}`} style={{ color: 'inherit', display: 'block' }}>
      <Card size="small" hoverable data-testid={`survey-${s.id}`}>
        <Flex gap={6} wrap align="center">
          <Typography.Text strong>{s.name}</Typography.Text>
          <Tag color={s.state === 'open' ? 'blue' : 'default'}>{t(`satisfaction.states.${s.state as 'open'}`)}</Tag>
        </Flex>
        <Typography.Text type="secondary">
          {s.orgUnitName} · {t('satisfaction.due', { d: dayjs(s.dueAt).format('YYYY-MM-DD') })}
        </Typography.Text>
        <Progress
          percent={s.targets === 0 ? 0 : Math.round((s.answered / s.targets) * 100)}
          size="small"
          format={() => t('satisfaction.progress', { a: s.answered, t: s.targets })}
        />
      </Card>
    </Link>
  );
}

function NewSurvey({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const showError = useShowError();
  const isPhone = useIsPhone();
  const policy = useSatisfactionPolicy();
  const [form] = Form.useForm<Values>();
  const mode = Form.useWatch('mode', form);
  const [preview, setPreview] = useState<{ eligible: number; sample: number[] } | null>(null);
  const sampleOf = (v: Values) => ({
    orgUnitId: v.orgUnitId,
    ...(v.mode === 'size' && v.sampleSize && { sampleSize: v.sampleSize }),
    ...(v.mode === 'ratio' && v.sampleRatio && { sampleRatio: v.sampleRatio / 100 }),
    ...(v.seed && { seed: v.seed }),
  });
  const previewIt = useMutation({
    mutationFn: (v: Values) => unwrap(client.POST('/api/satisfaction/surveys/preview', { body: sampleOf(v) })),
    onSuccess: setPreview,
    onError: (e) => showError(e, form),
  });
  const create = useMutation({
    mutationFn: (v: Values) =>
      unwrap(
        client.POST('/api/satisfaction/surveys', {
          body: {
            name: v.name,
            ...sampleOf(v),
            askCsat: v.ask.includes('csat'),
            askNps: v.ask.includes('nps'),
            askCes: v.ask.includes('ces'),
            askText: v.ask.includes('text'),
            dueAt: v.dueAt.endOf('day').toISOString(),
          },
        }),
      ),
    onSuccess: (s) => {
      void message.success(t('satisfaction.saved'));
      navigate(`/satisfaction/surveys/${s.id}`);
    },
    onError: (e) => showError(e, form),
  });
  const p = policy.data?.body;
  return (
    <Drawer
      open={open}
      onClose={onClose}
      title={t('satisfaction.newSurvey')}
      size={isPhone ? '100%' : 480}
      destroyOnHidden
    >
      {p && (
        <Alert
          type="info"
          showIcon
          style={{ marginBottom: 12 }}
          message={t('satisfaction.policyText', {
            max: p.maxContacts,
            window: p.windowDays,
            cool: p.coolDownDays,
            attempts: p.unreachableAttempts,
            low: p.lowScoreMax,
          })}
        />
      )}
      <Form<Values>
        form={form}
        layout="vertical"
        initialValues={{
          orgUnitId: me?.orgUnitId,
          mode: 'size',
          sampleSize: 50,
          ask: ['text', ...(p?.askCsat ? ['csat'] : []), ...(p?.askNps ? ['nps'] : []), ...(p?.askCes ? ['ces'] : [])],
          dueAt: dayjs().add(14, 'day'),
        }}
        onFinish={(v) => create.mutate(v)}
        onValuesChange={() => setPreview(null)}
      >
        <Form.Item name="name" label={t('satisfaction.name')} rules={[{ required: true }]}>
          <Input maxLength={100} />
        </Form.Item>
        <Form.Item name="orgUnitId" label={t('satisfaction.unit')} rules={[{ required: true }]}>
          <OrgTreeSelect />
        </Form.Item>
        <Form.Item name="mode" label={t('satisfaction.sampleMode')}>
          <Radio.Group
            optionType="button"
            options={[
              { value: 'size', label: t('satisfaction.bySize') },
              { value: 'ratio', label: t('satisfaction.byRatio') },
              { value: 'all', label: t('satisfaction.all') },
            ]}
          />
        </Form.Item>
        {mode === 'size' && (
          <Form.Item name="sampleSize" label={t('satisfaction.sampleSize')} rules={[{ required: true }]}>
            <InputNumber min={1} max={100000} style={{ width: '100%' }} />
          </Form.Item>
        )}
        {mode === 'ratio' && (
          <Form.Item name="sampleRatio" label={t('satisfaction.sampleRatio')} rules={[{ required: true }]}>
            <InputNumber min={1} max={100} style={{ width: '100%' }} />
          </Form.Item>
        )}
        <Form.Item name="seed" label={t('satisfaction.seed')} extra={t('satisfaction.seedHelp')}>
          <InputNumber min={1} max={2147483647} style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item name="ask" label={t('satisfaction.questions')} extra={t('satisfaction.askRating')}>
          <Checkbox.Group
            style={{ display: 'flex', flexDirection: 'column', gap: 4 }}
            options={[
              { value: 'csat', label: t('satisfaction.askCsat') },
              { value: 'nps', label: t('satisfaction.askNps') },
              { value: 'ces', label: t('satisfaction.askCes') },
              { value: 'text', label: t('satisfaction.askText') },
            ]}
          />
        </Form.Item>
        <Form.Item name="dueAt" label={t('satisfaction.dueAt')} rules={[{ required: true }]}>
          <DatePicker style={{ width: '100%' }} />
        </Form.Item>
        {preview && (
          <Alert
            type="success"
            style={{ marginBottom: 12 }}
            message={t('satisfaction.eligible', { n: preview.eligible, m: preview.sample.length })}
          />
        )}
        <Flex gap={8} wrap>
          <Button
            loading={previewIt.isPending}
            onClick={() => void form.validateFields().then((v) => previewIt.mutate(v))}
          >
            {t('satisfaction.preview')}
          </Button>
          <Button type="primary" htmlType="submit" loading={create.isPending}>
            {t('satisfaction.create')}
          </Button>
        </Flex>
      </Form>
    </Drawer>
  );
}

export function SurveysPage() {
  const { t } = useTranslation();
  const access = useAccess();
  const [open, setOpen] = useState(false);
  const [state, setState] = useState<'open' | 'closed' | undefined>('open');
  const list = useQuery({
    queryKey: ['surveys', state],
    queryFn: () =>
      unwrap(
        client.GET('/api/satisfaction/surveys', {
          params: { query: { page: 1, pageSize: 100, ...(state && { state }) } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  return (
    <Page
      title={t('satisfaction.title')}
      extra={
        access.canManageSurveys && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)}>
            {t('satisfaction.newSurvey')}
          </Button>
        )
      }
    >
      <Radio.Group
        optionType="button"
        value={state ?? 'all'}
        onChange={(e) => setState(e.target.value === 'all' ? undefined : e.target.value)}
        options={[
          { value: 'open', label: t('satisfaction.states.open') },
          { value: 'closed', label: t('satisfaction.states.closed') },
          { value: 'all', label: t('satisfaction.all') },
        ]}
        style={{ marginBottom: 12 }}
      />
      {list.isPending ? (
        <Spin />
      ) : (list.data?.items.length ?? 0) === 0 ? (
        <Empty description={t('satisfaction.none')} />
      ) : (
        <List
          grid={{ gutter: 12, xs: 1, sm: 1, md: 2, lg: 3 }}
          dataSource={list.data?.items ?? []}
          renderItem={(s) => (
            <List.Item>
              <SurveyCard s={s} />
            </List.Item>
          )}
        />
      )}
      <NewSurvey open={open} onClose={() => setOpen(false)} />
    </Page>
  );
}
