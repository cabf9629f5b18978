// One policy on the settings page: its form (read-only without policy.write) and its history — every
// version with when, who (the display name) and what it changed. Saving creates a new version.
import { useTranslation } from 'react-i18next';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import dayjs from 'dayjs';
import { Alert, App, Button, Card, Col, Empty, Form, Input, Row, Spin, Tag, Timeline, Typography } from 'antd';
import { ApiError, client, unwrap } from '../../api/client.js';
import { errorText, useShowError } from '../../shared/errors.js';
import { POLICY_TEXT_LIMITS, type PolicyBodies, type PolicyKind } from '../../../domain/policies.js';
import { fromForm, PolicyFields, toForm, type PolicyForm, type ThresholdRow } from './policy-fields.js';
import {
  changeLabel,
  changeValue,
  fetchHistory,
  formPathOf,
  historyKey,
  POLICIES_KEY,
  serverFieldText,
  type HistoryEntry,
  type PolicyVersion,
} from './policy-format.js';

const when = (at: string | null) => (at ? dayjs(at).format('YYYY-MM-DD HH:mm') : '');

// openapi-fetch types each kind's PUT path on its own; the body matches the kind by construction.
function savePolicy(kind: PolicyKind, body: PolicyBodies[PolicyKind], note: string | undefined) {
  const path = `/api/policies/${kind}` as '/api/policies/anomaly';
  return unwrap(client.PUT(path, { body: { body: body as never, ...(note && { note }) } }));
}

function History({ kind, entries }: { kind: PolicyKind; entries: HistoryEntry[] }) {
  const { t } = useTranslation();
  if (entries.length === 0)
    return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('settings.historyEmpty')} />;
  const complete = entries.length < 100;
  return (
    <Timeline
      data-testid={`policy-history-${kind}`}
      items={entries.map((e, i) => {
        const basis = (e.body as { basis?: string }).basis ?? 'volume';
        const basisChange = e.changes.find((c) => c.path[0] === 'basis');
        const beforeBasis = typeof basisChange?.before === 'string' ? basisChange.before : basis;
        return {
          key: e.versionId ?? i,
          content: (
            <div>
              <div data-testid={`policy-version-${e.versionId}`}>
                <Typography.Text strong>{t('settings.version', { id: e.versionId })}</Typography.Text>
                <Typography.Text type="secondary">
                  {' · '}
                  {when(e.createdAt)}
                  {' · '}
                </Typography.Text>
                <Typography.Text data-testid="policy-version-by">
                  {e.createdByName ?? t('settings.unknownUser')}
                </Typography.Text>
              </div>
              {e.note && <Typography.Paragraph style={{ margin: '2px 0' }}>「{e.note}」</Typography.Paragraph>}
              {complete && i === entries.length - 1 && (
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t('settings.fromDefault')}
                </Typography.Text>
              )}
              {e.changes.length === 0 ? (
                <Typography.Text type="secondary">{t('settings.noChanges')}</Typography.Text>
              ) : (
                <ul style={{ margin: 0, paddingInlineStart: 18, overflowWrap: 'anywhere' }}>
                  {e.changes.map((c) => (
                    <li key={JSON.stringify(c.path)}>
                      {changeLabel(t, c.path)}：{changeValue(t, c.path, c.before, beforeBasis)} →{' '}
                      {changeValue(t, c.path, c.after, basis)}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          ),
        };
      })}
    />
  );
}

export function PolicySection({
  kind,
  current,
  canWrite,
}: {
  kind: PolicyKind;
  current: PolicyVersion;
  canWrite: boolean;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const showError = useShowError();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<PolicyForm>();
  const history = useQuery({
    queryKey: historyKey(kind),
    queryFn: () => fetchHistory(kind),
  });
  const body = current.body as PolicyBodies[PolicyKind];
  const products = kind === 'key_customer' ? (body as PolicyBodies['key_customer']).products : [];

  const save = async (values: PolicyForm) => {
    try {
      await savePolicy(kind, fromForm(kind, values), values.note?.trim() || undefined);
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: POLICIES_KEY }),
        queryClient.invalidateQueries({ queryKey: historyKey(kind) }),
      ]);
      void message.success(t('settings.policySaved'));
    } catch (err) {
      const path = err instanceof ApiError && err.field ? formPathOf(err.field, thresholdKinds(form)) : null;
      if (!path || !(err instanceof ApiError)) return showError(err);
      const rule = (err.details as { rule?: unknown } | undefined)?.rule;
      const basis = String(form.getFieldValue('basis') ?? 'volume');
      form.setFields([{ name: path, errors: [serverFieldText(t, path, rule, basis) ?? errorText(err)] }]);
      form.scrollToField(path, { block: 'center' });
    }
  };

  return (
    <Row gutter={[16, 16]}>
      <Col xs={24} xl={14}>
        <Card
          title={t(`settings.tabs.${kind}`)}
          extra={
            current.versionId !== null && <Tag color="blue">{t('settings.version', { id: current.versionId })}</Tag>
          }
        >
          <Typography.Paragraph type="secondary">{t(`settings.intro.${kind}`)}</Typography.Paragraph>
          <Typography.Paragraph data-testid={`policy-in-force-${kind}`}>
            {current.versionId === null
              ? t('settings.defaultInForce')
              : t('settings.inForce', {
                  id: current.versionId,
                  who: current.createdByName ?? t('settings.unknownUser'),
                  when: when(current.createdAt),
                })}
          </Typography.Paragraph>
          {!canWrite && <Alert type="info" showIcon title={t('settings.readOnly')} style={{ marginBottom: 16 }} />}
          <Form<PolicyForm>
            key={`${kind}-${current.versionId ?? 'default'}`}
            form={form}
            layout="vertical"
            disabled={!canWrite}
            initialValues={toForm(kind, body)}
            onFinish={(v) => void save(v)}
            scrollToFirstError={{ block: 'center' }}
            data-testid={`policy-form-${kind}`}
          >
            <PolicyFields kind={kind} form={form} products={products} />
            {canWrite && (
              <>
                <Form.Item
                  name="note"
                  label={t('settings.note')}
                  extra={t('settings.noteHelp')}
                  rules={[
                    { max: POLICY_TEXT_LIMITS.note, message: t('settings.v.text', { max: POLICY_TEXT_LIMITS.note }) },
                  ]}
                >
                  <Input.TextArea
                    autoSize={{ minRows: 1, maxRows: 4 }}
                    maxLength={POLICY_TEXT_LIMITS.note}
                    data-testid={`policy-note-${kind}`}
                  />
                </Form.Item>
                <Button type="primary" htmlType="submit" data-testid={`policy-save-${kind}`}>
                  {t('common.save')}
                </Button>
              </>
            )}
          </Form>
        </Card>
      </Col>
      <Col xs={24} xl={10}>
        <Card title={t('settings.history')}>
          {history.isPending ? <Spin /> : <History kind={kind} entries={history.data ?? []} />}
        </Card>
      </Col>
    </Row>
  );
}

function thresholdKinds(form: ReturnType<typeof Form.useForm<PolicyForm>>[0]): string[] {
  const rows = form.getFieldValue('thresholds') as ThresholdRow[] | undefined;
  return (rows ?? []).map((r) => r.kind);
}
