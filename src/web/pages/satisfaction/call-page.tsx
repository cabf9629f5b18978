// 满意度调查电话: the caller's form on a phone — whom to call (a tap dials), whether the contact rule
// allows it now, the questions the survey asks (five levels, CSAT, NPS, CES, comments) and the outcome.
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Flex, Form, Input, Radio, Spin, Tag, Typography } from 'antd';
import { ArrowLeftOutlined, PhoneOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { client, unwrap } from '../../api/client.js';
import { useShowError } from '../../shared/errors.js';
import { Page } from '../../shared/page.js';
import { TARGET_COLORS } from './shared.js';

interface Values {
  rating?: number;
  csat?: number;
  nps?: number;
  ces?: number;
  comment?: string;
}

const scale = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ value: from + i, label: String(from + i) }));

export function SurveyCallPage() {
  const { t } = useTranslation();
  const { id } = useParams();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const showError = useShowError();
  const [form] = Form.useForm<Values>();
  const q = useQuery({
    queryKey: ['survey-call', id],
    queryFn: () => unwrap(client.GET('/api/satisfaction/calls/{id}', { params: { path: { id: Number(id) } } })),
  });
  const record = useMutation({
    mutationFn: (body: { outcome: 'answered' | 'refused' | 'unreachable' } & Values) =>
      unwrap(client.POST('/api/satisfaction/calls/{id}/outcome', { params: { path: { id: Number(id) } }, body })),
    onSuccess: (c) => {
      qc.setQueryData(['survey-call', id], c);
      void qc.invalidateQueries({ queryKey: ['survey', String(c.surveyId)] });
      void message.success(t('satisfaction.saved'));
    },
    onError: (e) => showError(e, form),
  });
  const c = q.data;
  if (!c) return <Spin />;
  const done = c.state === 'answered' || c.state === 'refused';
  const blocked = !c.contact.ok;
  const answered = (v: Values) => {
    const body = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined && x !== '')) as Values;
    record.mutate({ outcome: 'answered', ...body });
  };
  return (
    <Page
      title={t('satisfaction.callTitle')}
      extra={
        <Link to={`/satisfaction/surveys/${c.surveyId}`}>
          <Button icon={<ArrowLeftOutlined />}>{c.surveyName}</Button>
        </Link>
      }
    >
      <Card size="small" style={{ marginBottom: 12 }}>
        <Flex gap={6} wrap align="center">
          <Typography.Text strong style={{ fontSize: 16 }}>
            {c.customerName}
          </Typography.Text>
          <Tag color={TARGET_COLORS[c.state]}>{t(`satisfaction.targetStates.${c.state as 'pending'}`)}</Tag>
        </Flex>
        <Typography.Text type="secondary">{c.orgUnitName}</Typography.Text>
        <div style={{ marginTop: 8 }}>
          <a href={`tel:${c.phone}`}>
            <Button icon={<PhoneOutlined />} size="large" block={false}>
              {c.phone}
            </Button>
          </a>
        </div>
        {c.attempts > 0 && (
          <Typography.Text type="secondary">{t('satisfaction.attempts', { n: c.attempts })}</Typography.Text>
        )}
      </Card>
      {blocked && c.contact.until && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 12 }}
          message={t(c.contact.reason === 'too_many' ? 'satisfaction.tooMany' : 'satisfaction.coolDown', {
            until: dayjs(c.contact.until).format('YYYY-MM-DD'),
          })}
        />
      )}
      <Form<Values>
        form={form}
        layout="vertical"
        disabled={done || !c.surveyOpen}
        initialValues={{
          rating: c.rating ?? undefined,
          csat: c.csat ?? undefined,
          nps: c.nps ?? undefined,
          ces: c.ces ?? undefined,
          comment: c.comment ?? undefined,
        }}
        onFinish={answered}
      >
        <Form.Item
          name="rating"
          label={t('satisfaction.ratingQ')}
          rules={[{ required: true, message: t('satisfaction.ratingRequired') }]}
        >
          <Radio.Group
            optionType="button"
            style={{ display: 'flex', flexWrap: 'wrap', gap: 4 }}
            options={[1, 2, 3, 4, 5].map((n) => ({ value: n, label: t(`satisfaction.level${n as 1}`) }))}
          />
        </Form.Item>
        {c.questions.askCsat && (
          <Form.Item name="csat" label={t('satisfaction.csatQ')}>
            <Radio.Group optionType="button" options={scale(1, 5)} />
          </Form.Item>
        )}
        {c.questions.askNps && (
          <Form.Item name="nps" label={t('satisfaction.npsQ')}>
            <Radio.Group
              optionType="button"
              style={{ display: 'flex', flexWrap: 'wrap', gap: 4 }}
              options={scale(0, 10)}
            />
          </Form.Item>
        )}
        {c.questions.askCes && (
          <Form.Item name="ces" label={t('satisfaction.cesQ')}>
            <Radio.Group
              optionType="button"
              style={{ display: 'flex', flexWrap: 'wrap', gap: 4 }}
              options={scale(1, 7)}
            />
          </Form.Item>
        )}
        {c.questions.askText && (
          <Form.Item name="comment" label={t('satisfaction.comment')}>
            <Input.TextArea rows={3} maxLength={2000} />
          </Form.Item>
        )}
        {!done && c.surveyOpen && (
          <Flex gap={8} wrap>
            <Button type="primary" htmlType="submit" loading={record.isPending} disabled={blocked}>
              {t('satisfaction.answered')}
            </Button>
            <Button onClick={() => record.mutate({ outcome: 'refused' })} disabled={blocked || record.isPending}>
              {t('satisfaction.refused')}
            </Button>
            <Button danger onClick={() => record.mutate({ outcome: 'unreachable' })} disabled={record.isPending}>
              {t('satisfaction.unreachable')}
            </Button>
          </Flex>
        )}
      </Form>
    </Page>
  );
}
