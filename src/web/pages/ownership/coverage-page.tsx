// 客户覆盖: a unit's customers with and without an owner, its people against "1:15" and the maximum,
// one card per child unit to drill down (the unit lives in the address), and the bulk move of one
// person's customers to another with a preview first.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Empty,
  Flex,
  Form,
  Input,
  List,
  Modal,
  Row,
  Select,
  Spin,
  Statistic,
  Tag,
  Typography,
} from 'antd';
import { ArrowUpOutlined } from '@ant-design/icons';
import { Page } from '../../shared/page.js';
import { Chart } from '../../shared/chart.js';
import { errorText, useShowError } from '../../shared/errors.js';
import { fetchCoverage, previewReassign, reassign, type CoveragePerson, type ReassignInput } from './ownership-api.js';

const KINDS = ['individual', 'organisation', 'residential', 'commercial'] as const;

function ReassignModal({
  from,
  people,
  onClose,
}: {
  from: CoveragePerson;
  people: CoveragePerson[];
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const showError = useShowError();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<{ toUserId: number; kind?: string; reason: string }>();
  const [preview, setPreview] = useState<Awaited<ReturnType<typeof previewReassign>> | null>(null);
  const input = (): ReassignInput => {
    const v = form.getFieldsValue();
    return { fromUserId: from.userId, toUserId: v.toUserId, ...(v.kind && { kind: v.kind }) };
  };
  const check = useMutation({
    mutationFn: () => previewReassign(input()),
    onSuccess: setPreview,
    onError: (e) => showError(e),
  });
  const commit = useMutation({
    mutationFn: () => reassign({ ...input(), reason: form.getFieldValue('reason') as string }),
    onSuccess: async (r) => {
      void message.success(t('ownership.moved', { count: r.moved }));
      await queryClient.invalidateQueries({ queryKey: ['ownership'] });
      onClose();
    },
    onError: (e) => showError(e),
  });
  return (
    <Modal
      open
      title={t('ownership.reassignTitle', { name: from.displayName })}
      onCancel={onClose}
      footer={null}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" onValuesChange={() => setPreview(null)}>
        <Form.Item
          name="toUserId"
          label={t('ownership.reassignTo')}
          rules={[{ required: true, message: t('validation.required') }]}
        >
          <Select
            showSearch
            optionFilterProp="label"
            data-testid="reassign-to"
            options={people
              .filter((p) => p.userId !== from.userId)
              .map((p) => ({ value: p.userId, label: `${p.displayName}（${p.orgUnitName}，${p.owned}）` }))}
          />
        </Form.Item>
        <Form.Item name="kind" label={t('ownership.reassignKind')}>
          <Select
            allowClear
            placeholder={t('ownership.anyKind')}
            options={KINDS.map((k) => ({ value: k, label: t(`customers.kinds.${k}`) }))}
          />
        </Form.Item>
        <Form.Item
          name="reason"
          label={t('ownership.reason')}
          rules={[{ required: true, whitespace: true, message: t('validation.required') }]}
        >
          <Input.TextArea rows={2} maxLength={1000} placeholder={t('ownership.reasonPlaceholder')} />
        </Form.Item>
        {preview && (
          <Flex vertical gap={8} style={{ marginBottom: 12 }} data-testid="reassign-preview">
            <Alert
              type={preview.misfitCount > 0 ? 'error' : 'info'}
              showIcon
              title={t('ownership.previewResult', {
                count: preview.count,
                before: preview.toOwnedBefore,
                after: preview.toOwnedAfter,
              })}
              description={preview.sample.map((c) => c.name ?? c.code).join('、') || undefined}
            />
            {preview.misfitCount > 0 && (
              <Alert type="error" showIcon title={t('ownership.previewMisfits', { count: preview.misfitCount })} />
            )}
            {preview.overMaximum && <Alert type="warning" showIcon title={t('ownership.previewOver')} />}
          </Flex>
        )}
        <Flex gap={8} justify="end">
          <Button
            onClick={() => form.validateFields(['toUserId']).then(() => check.mutate())}
            loading={check.isPending}
            data-testid="reassign-preview-btn"
          >
            {t('ownership.preview')}
          </Button>
          <Button
            type="primary"
            disabled={!preview || preview.count === 0 || preview.misfitCount > 0}
            loading={commit.isPending}
            onClick={() => form.validateFields().then(() => commit.mutate())}
            data-testid="reassign-commit"
          >
            {t('ownership.commit')}
          </Button>
        </Flex>
      </Form>
    </Modal>
  );
}

export function CoveragePage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const unit = Number(params.get('unit')) || undefined;
  const q = useQuery({ queryKey: ['ownership', 'coverage', unit], queryFn: () => fetchCoverage(unit) });
  const [moving, setMoving] = useState<CoveragePerson | null>(null);
  const open = (id: number | null) => setParams(id ? { unit: String(id) } : {});
  const c = q.data;
  return (
    <Page
      title={c ? `${t('ownership.coverageTitle')} · ${c.unit.name}` : t('ownership.coverageTitle')}
      extra={
        c?.unit.parentId ? (
          <Button icon={<ArrowUpOutlined />} onClick={() => open(c.unit.parentId)}>
            {t('ownership.drillUp')}
          </Button>
        ) : undefined
      }
    >
      {q.error && <Alert type="error" showIcon title={errorText(q.error)} />}
      {!c && !q.error && <Spin />}
      {c && (
        <Flex vertical gap={16}>
          <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
            {t('ownership.coverageIntro', { min: c.minimum, max: c.maximum })}
          </Typography.Paragraph>
          <Row gutter={[12, 12]} data-testid="coverage-figures">
            {(['total', 'owned', 'unowned', 'inPool', 'employees', 'belowMinimum', 'overMaximum'] as const).map((k) => (
              <Col xs={12} sm={8} md={6} lg={3} key={k}>
                <Card size="small">
                  <Statistic
                    title={t(`ownership.${k}`)}
                    value={c[k]}
                    valueStyle={
                      (k === 'unowned' || k === 'belowMinimum' || k === 'overMaximum') && c[k] > 0
                        ? { color: '#cf1322' }
                        : undefined
                    }
                  />
                </Card>
              </Col>
            ))}
          </Row>
          <Card size="small" title={t('ownership.children')}>
            {c.children.length === 0 ? (
              <Empty description={t('ownership.noChildren')} />
            ) : (
              <>
                <Chart
                  height={Math.max(160, c.children.length * 36 + 60)}
                  option={{
                    tooltip: { trigger: 'axis' },
                    legend: {},
                    grid: { left: 8, right: 16, containLabel: true },
                    xAxis: { type: 'value' },
                    yAxis: { type: 'category', data: c.children.map((x) => x.name) },
                    series: (['owned', 'unowned', 'inPool'] as const).map((k) => ({
                      name: t(`ownership.${k}`),
                      type: 'bar',
                      stack: 'c',
                      data: c.children.map((x) => x[k]),
                    })),
                  }}
                />
                <List
                  dataSource={c.children}
                  renderItem={(x) => (
                    <List.Item
                      data-testid={`coverage-child-${x.id}`}
                      style={{ cursor: 'pointer' }}
                      onClick={() => open(x.id)}
                      actions={[<a key="open">{t('common.open', { defaultValue: '›' })}</a>]}
                    >
                      <Flex vertical>
                        <Typography.Text strong>{x.name}</Typography.Text>
                        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                          {t('ownership.total')} {x.total} · {t('ownership.unowned')} {x.unowned} ·{' '}
                          {t('ownership.inPool')} {x.inPool} · {t('ownership.belowMinimum')} {x.belowMinimum}/
                          {x.employees}
                        </Typography.Text>
                      </Flex>
                    </List.Item>
                  )}
                />
              </>
            )}
          </Card>
          <Card size="small" title={t('ownership.people')}>
            <List
              locale={{ emptyText: t('ownership.noPeople') }}
              dataSource={c.people}
              renderItem={(p) => (
                <List.Item
                  data-testid={`coverage-person-${p.userId}`}
                  actions={
                    p.owned > 0
                      ? [
                          <Button key="move" size="small" onClick={() => setMoving(p)}>
                            {t('ownership.reassign')}
                          </Button>,
                        ]
                      : []
                  }
                >
                  <Flex gap={6} wrap align="center">
                    <Typography.Text>{p.displayName}</Typography.Text>
                    <Typography.Text type="secondary">{p.orgUnitName}</Typography.Text>
                    <Tag>
                      {t('ownership.ownedCount')} {p.owned}
                    </Tag>
                    {p.flag && (
                      <Tag color={p.flag === 'over_maximum' ? 'orange' : 'red'}>{t(`ownership.flags.${p.flag}`)}</Tag>
                    )}
                  </Flex>
                </List.Item>
              )}
            />
          </Card>
        </Flex>
      )}
      {moving && c && <ReassignModal from={moving} people={c.people} onClose={() => setMoving(null)} />}
    </Page>
  );
}
