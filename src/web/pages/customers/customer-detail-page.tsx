// One customer: who he is, how far his profile has got and what to ask next, his phones, vehicles
// and cards, visits, and every change made to the record. Opening this page is an audited read.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Descriptions,
  Empty,
  Flex,
  List,
  Rate,
  Result,
  Row,
  Spin,
  Steps,
  Table,
  Tag,
  Timeline,
  Typography,
} from 'antd';
import {
  ArrowLeftOutlined,
  EditOutlined,
  HeartOutlined,
  QuestionCircleOutlined,
  RollbackOutlined,
} from '@ant-design/icons';
import dayjs from 'dayjs';
import { ApiError, client, unwrap } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { errorText, useShowError } from '../../shared/errors.js';
import { Page } from '../../shared/page.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { CustomerFormDrawer, type CustomerFormTarget } from './customer-form.js';
import type { CustomerKind, ProfileQuestion } from './labels.js';
import { PurchasesPanel } from './panels/purchases-panel.js';
import { RatingsPanel } from './panels/ratings-panel.js';
import {
  CustomerComplaints,
  complaintTimelineEntries,
  useCustomerComplaints,
} from '../complaints/customer-complaints.js';
import { ValuePanel } from './panels/value-panel.js';
import { OwnerBlock } from '../ownership/owner-block.js';
import { ActorName, auditLabel } from '../audit/labels.js';
import { i18n } from '../../i18n/index.js';

const HISTORY_ACTIONS = ['create', 'update', 'merge', 'merge_undo', 'visit', 'satisfaction'] as const;
type HistoryAction = (typeof HISTORY_ACTIONS)[number];
// The record's own words first (建档, 到站), then the audit log's name for any other action.
const historyAction = (action: string) =>
  (HISTORY_ACTIONS as readonly string[]).includes(action)
    ? i18n.t(`customers.historyActions.${action as HistoryAction}`)
    : auditLabel('actions', action);
const cardStatus = (status: string) =>
  i18n.exists(`customers.cardStatuses.${status}`)
    ? i18n.t(`customers.cardStatuses.${status}` as 'customers.cardStatuses.active')
    : status;
const fmt = (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm');

export function CustomerDetailPage() {
  const { t } = useTranslation();
  const { id: idParam } = useParams();
  const id = Number(idParam);
  const access = useAccess();
  const isPhone = useIsPhone();
  const queryClient = useQueryClient();
  const { message, modal } = App.useApp();
  const showError = useShowError();
  const [editing, setEditing] = useState<CustomerFormTarget | null>(null);

  const customer = useQuery({
    queryKey: ['customer', id],
    queryFn: () => unwrap(client.GET('/api/customers/{id}', { params: { path: { id } } })),
    enabled: Number.isInteger(id) && id > 0,
    retry: (count, err) => !(err instanceof ApiError && err.status < 500) && count < 2,
  });
  // His complaints (those the reader may read) interleaved with the record's history on the timeline.
  const complaints = useCustomerComplaints(id, access.canTakeComplaints);
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ['customer', id] }),
      queryClient.invalidateQueries({ queryKey: ['customers'] }),
    ]);

  if (customer.isPending) return <Spin style={{ display: 'block', margin: '80px auto' }} />;
  if (customer.isError) {
    const scope = customer.error instanceof ApiError && customer.error.code === 'SCOPE_DENIED';
    return (
      <Result
        status={scope ? '403' : '404'}
        title={errorText(customer.error)}
        extra={
          <Flex gap={8} justify="center">
            <Link to="/customers">{t('customers.back')}</Link>
            {scope && <Link to="/access-requests">{t('access.request')}</Link>}
          </Flex>
        }
      />
    );
  }
  const c = customer.data;

  const undo = (mergeId: number) =>
    modal.confirm({
      title: t('customers.undoMerge'),
      content: t('customers.undoConfirm'),
      okText: t('common.confirm'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await unwrap(
            client.POST('/api/customers/{id}/merges/{mergeId}/undo', { params: { path: { id: c.id, mergeId } } }),
          );
          void message.success(t('customers.undone'));
          await refresh();
        } catch (err) {
          showError(err);
        }
      },
    });

  const question = c.nextQuestion as ProfileQuestion | null;
  const text = (v: string | null) => v ?? '—';

  return (
    <Page
      title={
        <Flex gap={8} align="center" wrap>
          <Link to="/customers" aria-label={t('customers.back')}>
            <ArrowLeftOutlined />
          </Link>
          <span data-testid="customer-title">{c.name ?? c.organisation ?? c.vehicles[0]?.plate ?? c.code}</span>
          <Typography.Text type="secondary" style={{ fontSize: 14 }}>
            {c.code}
          </Typography.Text>
        </Flex>
      }
      extra={
        access.canWriteCustomers &&
        !c.mergedIntoId && (
          <>
            <Link to={`/visits/new?customer=${c.id}`}>
              <Button data-testid="customer-record-visit">{t('visits.recordFromCard')}</Button>
            </Link>
            <Button
              type="primary"
              icon={<EditOutlined />}
              onClick={() => setEditing({ mode: 'edit', customer: c })}
              data-testid="customer-edit"
            >
              {t('common.edit')}
            </Button>
          </>
        )
      }
    >
      {c.mergedIntoId && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 16 }}
          title={
            <Link to={`/customers/${c.mergedIntoId}`}>{t('customers.mergedInto', { code: `#${c.mergedIntoId}` })}</Link>
          }
        />
      )}
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={14}>
          <Card size="small" title={t('customers.sections.basic')}>
            <Flex gap={8} wrap style={{ marginBottom: 12 }} align="center">
              {c.greeting && (
                <Typography.Title level={3} style={{ margin: 0, color: '#0b6bcb' }} data-testid="customer-greeting">
                  {c.greeting}
                </Typography.Title>
              )}
              <Tag color="blue">{t(`customers.kinds.${c.kind as CustomerKind}`)}</Tag>
              {c.lookAfter && (
                <Tag color="red" icon={<HeartOutlined />}>
                  {t('customers.lookAfterHint')}
                </Tag>
              )}
              {c.tags.map((x) => (
                <Tag key={x}>{x}</Tag>
              ))}
            </Flex>
            <Steps
              size="small"
              current={c.profileStep - 1}
              status={c.profileStep >= 3 && !question ? 'finish' : 'process'}
              items={[
                { title: t('customers.steps.s1') },
                { title: t('customers.steps.s2') },
                { title: t('customers.steps.s3') },
              ]}
              style={{ marginBottom: 12 }}
              data-testid="customer-steps"
            />
            {question ? (
              <Alert
                type="warning"
                showIcon
                icon={<QuestionCircleOutlined />}
                title={`${t('customers.nextQuestion')}: ${t(`customers.questions.${question}`)}`}
                style={{ marginBottom: 12 }}
              />
            ) : (
              <Alert type="success" showIcon title={t('customers.complete')} style={{ marginBottom: 12 }} />
            )}
            <Descriptions size="small" column={isPhone ? 1 : 2} bordered>
              <Descriptions.Item label={t('customers.orgUnit')}>{c.orgUnitName}</Descriptions.Item>
              <Descriptions.Item label={t('customers.owner')}>{text(c.ownerName)}</Descriptions.Item>
              <Descriptions.Item label={t('customers.organisation')}>{text(c.organisation)}</Descriptions.Item>
              <Descriptions.Item label={t('customers.gender')}>
                {c.gender ? t(`customers.genders.${c.gender as 'male' | 'female'}`) : '—'}
              </Descriptions.Item>
              <Descriptions.Item label={t('customers.products')}>{text(c.products)}</Descriptions.Item>
              <Descriptions.Item label={t('customers.routes')}>{text(c.routes)}</Descriptions.Item>
              <Descriptions.Item label={t('customers.fuelUse')}>{text(c.fuelUse)}</Descriptions.Item>
              <Descriptions.Item label={t('customers.demandVolume')}>{text(c.demandVolume)}</Descriptions.Item>
              <Descriptions.Item label={t('customers.settlementMethod')}>{text(c.settlementMethod)}</Descriptions.Item>
              <Descriptions.Item label={t('customers.invoiceType')}>{text(c.invoiceType)}</Descriptions.Item>
              <Descriptions.Item label={t('customers.birthday')}>
                {text(c.birthday)}
                {c.birthday && c.birthdayCalendar === 'lunar' ? `（${t('customers.lunar')}）` : ''}
              </Descriptions.Item>
              <Descriptions.Item label={t('customers.satisfaction')}>
                {c.satisfaction ? <Rate disabled value={c.satisfaction} /> : '—'}
              </Descriptions.Item>
              <Descriptions.Item label={t('customers.otherStations')}>{text(c.otherStations)}</Descriptions.Item>
              <Descriptions.Item label={t('customers.whyUs')}>{text(c.whyUs)}</Descriptions.Item>
              <Descriptions.Item label={t('customers.equipment')} span={isPhone ? 1 : 2}>
                {text(c.equipment)}
              </Descriptions.Item>
              <Descriptions.Item label={t('customers.notes')} span={isPhone ? 1 : 2}>
                <span style={{ whiteSpace: 'pre-wrap' }}>{text(c.notes)}</span>
              </Descriptions.Item>
              <Descriptions.Item label={t('customers.lastVisitAt')}>
                {c.lastVisitAt ? fmt(c.lastVisitAt) : '—'}
              </Descriptions.Item>
              <Descriptions.Item label={t('customers.createdAt')}>{fmt(c.createdAt)}</Descriptions.Item>
            </Descriptions>
          </Card>
        </Col>
        <Col xs={24} lg={10}>
          <Card size="small" title={t('customers.sections.contacts')}>
            <Typography.Text type="secondary">{t('customers.phones')}</Typography.Text>
            <List
              size="small"
              dataSource={c.phones}
              locale={{ emptyText: t('common.none') }}
              data-testid="customer-phones"
              renderItem={(p) => (
                <List.Item>
                  {access.canSeePhones ? (
                    <a href={`tel:${p.phone}`}>{p.phone}</a>
                  ) : (
                    <span title={t('customers.masked')}>{p.phone}</span>
                  )}
                  <Typography.Text type="secondary">
                    {[p.contactName, p.label].filter(Boolean).join(' · ')}
                  </Typography.Text>
                </List.Item>
              )}
            />
            <Typography.Text type="secondary">{t('customers.vehicles')}</Typography.Text>
            <List
              size="small"
              dataSource={c.vehicles}
              locale={{ emptyText: t('common.none') }}
              renderItem={(v) => (
                <List.Item>
                  <span>{v.plate}</span>
                  <Typography.Text type="secondary">{v.model ?? ''}</Typography.Text>
                </List.Item>
              )}
            />
            <Typography.Text type="secondary">{t('customers.cards')}</Typography.Text>
            <List
              size="small"
              dataSource={c.cards}
              locale={{ emptyText: t('common.none') }}
              renderItem={(x) => (
                <List.Item>
                  <span>{x.cardNo}</span>
                  <Tag color={x.status === 'active' ? 'green' : 'default'}>{cardStatus(x.status)}</Tag>
                </List.Item>
              )}
            />
          </Card>
        </Col>
        <Col xs={24}>
          <OwnerBlock customerId={c.id} />
        </Col>
        <Col xs={24}>
          <ValuePanel customerId={c.id} />
        </Col>
        <Col xs={24}>
          <PurchasesPanel customerId={c.id} />
        </Col>
        <Col xs={24}>
          <RatingsPanel customerId={c.id} />
        </Col>
        {access.canTakeComplaints && (
          <Col xs={24}>
            <CustomerComplaints customerId={c.id} />
          </Col>
        )}
        <Col xs={24} lg={14}>
          <Card size="small" title={t('customers.sections.visits')}>
            <Table
              size="small"
              rowKey="id"
              dataSource={c.visits}
              pagination={{ pageSize: 10, hideOnSinglePage: true }}
              locale={{ emptyText: <Empty description={t('customers.noVisits')} /> }}
              scroll={{ x: 560 }}
              data-testid="customer-visits"
              columns={[
                { title: t('customers.visitAt'), dataIndex: 'at', width: 140, render: fmt },
                { title: t('customers.plate'), dataIndex: 'plate', width: 100 },
                { title: t('customers.visitProduct'), dataIndex: 'product', width: 80 },
                { title: t('customers.visitVolume'), dataIndex: 'volumeLitres', width: 70, align: 'right' as const },
                { title: t('customers.visitStation'), dataIndex: 'orgUnitName', width: 120 },
                { title: t('customers.visitBy'), dataIndex: 'userName', width: 90 },
              ]}
            />
          </Card>
        </Col>
        <Col xs={24} lg={10}>
          <Card size="small" title={t('customers.sections.history')}>
            <Timeline
              data-testid="customer-history"
              items={[
                ...c.history.map((h) => ({
                  key: `history-${h.id}`,
                  at: h.at,
                  content: (
                    <>
                      <Typography.Text strong>{historyAction(h.action)}</Typography.Text> ·{' '}
                      <ActorName
                        name={h.actorDisplayName}
                        username={h.actorName}
                        system={h.actorDisplayName === null}
                      />
                      <div>
                        <Typography.Text type="secondary">{fmt(h.at)}</Typography.Text>
                      </div>
                    </>
                  ),
                })),
                ...complaintTimelineEntries(complaints.data?.items ?? []),
              ]
                .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))
                .map(({ key, content }) => ({ key, content }))}
            />
          </Card>
          {c.merges.length > 0 && (
            <Card size="small" title={t('customers.sections.merges')} style={{ marginTop: 16 }}>
              <List
                size="small"
                dataSource={c.merges}
                renderItem={(m) => (
                  <List.Item
                    actions={
                      access.canMergeCustomers && !m.undoneAt
                        ? [
                            <Button
                              key="undo"
                              size="small"
                              icon={<RollbackOutlined />}
                              onClick={() => undo(m.id)}
                              data-testid={`merge-undo-${m.id}`}
                            >
                              {t('customers.undoMerge')}
                            </Button>,
                          ]
                        : []
                    }
                  >
                    <Link to={`/customers/${m.mergedId}`}>{t('customers.mergedRecord', { id: m.mergedId })}</Link> ·{' '}
                    {fmt(m.at)}
                    {m.undoneAt && <Tag style={{ marginLeft: 8 }}>{t('customers.undone')}</Tag>}
                  </List.Item>
                )}
              />
            </Card>
          )}
        </Col>
      </Row>
      <CustomerFormDrawer
        target={editing}
        onClose={() => setEditing(null)}
        onSaved={() => {
          void message.success(t('common.saved'));
          setEditing(null);
          void refresh();
        }}
      />
    </Page>
  );
}
