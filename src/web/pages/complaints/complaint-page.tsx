// One complaint: the chain as Steps (who owns each stage, who did it and when), the trail, evidence
// (upload while the case is open; served only to those who may read the case), possible duplicates to
// link or merge (with undo), and the step the reader may take now — the server says which.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Empty,
  Flex,
  Form,
  Image,
  Input,
  List,
  Modal,
  Rate,
  Spin,
  Steps,
  Tag,
  Timeline,
  Typography,
  Upload,
} from 'antd';
import { ArrowLeftOutlined, PaperClipOutlined, UploadOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { CallbackModal } from '../satisfaction/callback-modal.js';
import { client, unwrap, uploadFile } from '../../api/client.js';
import { errorText, useShowError } from '../../shared/errors.js';
import { Page } from '../../shared/page.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { STAGES, STATE_COLORS, named, type Complaint } from './labels.js';
import { SlaPanel } from './sla-panel.js';

const fmt = (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm');
type Action = 'verify' | 'review' | 'rectify' | 'callback' | 'archive' | 'return' | 'reassign';

function StepModal({ c, action, onClose }: { c: Complaint; action: Action; onClose: () => void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const showError = useShowError();
  const [form] = Form.useForm<{ note?: string; reason?: string; rating?: number; orgUnitId?: number }>();
  const send = useMutation({
    mutationFn: (v: { note?: string; reason?: string; rating?: number; orgUnitId?: number }) =>
      unwrap(
        client.POST('/api/complaints/{id}/steps', {
          params: { path: { id: c.id } },
          body: { action, version: c.version, ...v },
        }),
      ),
    onSuccess: (d) => {
      qc.setQueryData(['complaints', 'one', c.id], d);
      void qc.invalidateQueries({ queryKey: ['complaints', 'list'] });
      onClose();
    },
    onError: (e) => showError(e, form),
  });
  const needsReason = action === 'return' || action === 'reassign';
  return (
    <Modal
      open
      title={t(`complaints.actions.${action}`)}
      onCancel={onClose}
      onOk={() => form.submit()}
      confirmLoading={send.isPending}
      okButtonProps={{ 'data-testid': 'complaint-step-ok' } as never}
    >
      <Form form={form} layout="vertical" onFinish={(v) => send.mutate(v)}>
        {action === 'reassign' && (
          <Form.Item name="orgUnitId" label={t('complaints.unitTo')} rules={[{ required: true }]}>
            <OrgTreeSelect />
          </Form.Item>
        )}
        {needsReason ? (
          <Form.Item name="reason" label={t('complaints.reason')} rules={[{ required: true, whitespace: true }]}>
            <Input.TextArea rows={3} placeholder={t('complaints.reasonPlaceholder')} data-testid="complaint-reason" />
          </Form.Item>
        ) : (
          <Form.Item name="note" label={t('complaints.note')} rules={[{ required: true, whitespace: true }]}>
            <Input.TextArea rows={3} placeholder={t('complaints.notePlaceholder')} data-testid="complaint-note" />
          </Form.Item>
        )}
        {action === 'callback' && (
          <Form.Item
            name="rating"
            label={t('complaints.rating')}
            extra={t('complaints.ratingHelp')}
            rules={[{ required: true }]}
          >
            <Rate data-testid="complaint-rating" />
          </Form.Item>
        )}
      </Form>
    </Modal>
  );
}

export function ComplaintPage() {
  const { t } = useTranslation();
  const id = Number(useParams().id);
  const qc = useQueryClient();
  const { message } = App.useApp();
  const showError = useShowError();
  const [action, setAction] = useState<Action | null>(null);
  const [uploading, setUploading] = useState(false);
  const query = useQuery({
    queryKey: ['complaints', 'one', id],
    queryFn: () => unwrap(client.GET('/api/complaints/{id}', { params: { path: { id } } })),
    enabled: id > 0,
  });
  const link = useMutation({
    mutationFn: (v: { otherId: number; mode: 'link' | 'merge' | 'undo' }) =>
      v.mode === 'undo'
        ? unwrap(
            client.DELETE('/api/complaints/{id}/links/{otherId}', { params: { path: { id, otherId: v.otherId } } }),
          )
        : unwrap(
            client.POST('/api/complaints/{id}/links', {
              params: { path: { id } },
              body: { otherId: v.otherId, mode: v.mode },
            }),
          ),
    onSuccess: (d) => qc.setQueryData(['complaints', 'one', id], d),
    onError: (e) => showError(e),
  });
  const back = (
    <Link to="/complaints">
      <ArrowLeftOutlined /> {t('complaints.back')}
    </Link>
  );
  if (query.error)
    return (
      <Page title={t('complaints.title')} extra={back}>
        <Alert type="error" showIcon title={errorText(query.error)} />
      </Page>
    );
  const c = query.data;
  if (!c) return <Spin />;
  const stageIndex = (STAGES as readonly string[]).indexOf(c.state);
  const current = c.state === 'closed' ? STAGES.length : Math.max(0, stageIndex);
  const lastDone = (stage: string) => [...c.events].reverse().find((e) => e.action === stage);
  const upload = async (file: File) => {
    setUploading(true);
    try {
      await uploadFile(`/api/complaints/${c.id}/attachments?fileName=${encodeURIComponent(file.name)}`, file);
      void message.success(t('complaints.uploaded'));
      await qc.invalidateQueries({ queryKey: ['complaints', 'one', id] });
    } catch (e) {
      showError(e);
    } finally {
      setUploading(false);
    }
  };
  const stageActions = c.allowedActions.filter((a) => (STAGES as readonly string[]).includes(a)) as Action[];
  const otherActions = c.allowedActions.filter((a) => a === 'return' || a === 'reassign') as Action[];

  return (
    <Page title={c.caseNo} extra={back}>
      <Flex gap={6} wrap style={{ marginBottom: 12 }}>
        <Tag color={STATE_COLORS[c.state]} data-testid="complaint-state">
          {t(`complaints.states.${c.state as 'verify'}`)}
        </Tag>
        <Tag>{named(c.category)}</Tag>
        <Tag>{named(c.severity)}</Tag>
        {c.emergency && <Tag color="red">{t('complaints.emergency')}</Tag>}
        {c.overdue && <Tag color="red">{t('complaints.overdue')}</Tag>}
        {c.bouncing && <Tag color="volcano">{t('complaints.bouncing')}</Tag>}
        {c.returnCount > 0 && <Tag>{t('complaints.returns', { n: c.returnCount })}</Tag>}
        {c.reassignCount > 0 && <Tag>{t('complaints.reassigns', { n: c.reassignCount })}</Tag>}
        {c.reopenCount > 0 && <Tag color="orange">{t('complaints.reopens', { n: c.reopenCount })}</Tag>}
        {c.customerFlag && <Tag color="volcano">{t('complaints.customerFlag')}</Tag>}
      </Flex>
      {c.mergedIntoId !== null && (
        <Alert
          type="info"
          showIcon
          style={{ marginBottom: 12 }}
          title={<Link to={`/complaints/${c.mergedIntoId}`}>{t('complaints.mergedInto')}</Link>}
        />
      )}
      <SlaPanel id={c.id} />
      <Card size="small" style={{ marginBottom: 12 }}>
        <Steps
          direction="vertical"
          size="small"
          current={current}
          status={c.state === 'closed' ? 'finish' : 'process'}
          data-testid="complaint-steps"
          items={c.owners.map((o) => {
            const done = lastDone(o.stage);
            return {
              title: t(`complaints.stages.${o.stage as 'verify'}`),
              description: (
                <>
                  <div>
                    {t('complaints.ownerOf', { unit: o.unitName })} · {t(`complaints.levels.${o.level as 'station'}`)}
                  </div>
                  {done && (
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {done.actorName} · {fmt(done.at)}
                      {typeof done.detail.note === 'string' && ` · ${done.detail.note}`}
                      {typeof done.detail.rating === 'number' &&
                        ` · ${t('complaints.rated', { n: done.detail.rating })}`}
                    </Typography.Text>
                  )}
                  {o.stage === c.state && c.stageDueAt && (
                    <div>
                      <Typography.Text type={c.overdue ? 'danger' : 'secondary'} style={{ fontSize: 12 }}>
                        {t('complaints.dueAt', { at: fmt(c.stageDueAt) })}
                      </Typography.Text>
                    </div>
                  )}
                </>
              ),
            };
          })}
        />
        <Flex gap={8} wrap>
          {stageActions.map((a) => (
            <Button key={a} type="primary" onClick={() => setAction(a)} data-testid={`complaint-action-${a}`}>
              {t(`complaints.actions.${a}`)}
            </Button>
          ))}
          {otherActions.map((a) => (
            <Button key={a} onClick={() => setAction(a)} data-testid={`complaint-action-${a}`}>
              {t(`complaints.actions.${a}`)}
            </Button>
          ))}
          {c.allowedActions.length === 0 && c.state !== 'closed' && c.state !== 'merged' && (
            <Typography.Text type="secondary">{t('complaints.nothingToDo')}</Typography.Text>
          )}
        </Flex>
      </Card>
      <Card size="small" style={{ marginBottom: 12 }}>
        <Descriptions
          size="small"
          column={1}
          items={[
            { key: 'content', label: t('complaints.content'), children: c.content },
            {
              key: 'channel',
              label: t('complaints.channel'),
              children: t(`complaints.channels.${c.channel as 'station'}`),
            },
            { key: 'unit', label: t('complaints.unit'), children: c.orgUnitName },
            {
              key: 'who',
              label: t('complaints.complainant'),
              children: (
                <>
                  {c.customer ? (
                    <Link to={`/customers/${c.customer.id}`}>{c.customer.name ?? c.customer.code}</Link>
                  ) : (
                    c.complainantName
                  )}
                  {c.complainantPhone && ` · ${c.complainantPhone}`}
                  {c.plate && ` · ${c.plate}`}
                </>
              ),
            },
            ...(c.referenceNo
              ? [
                  {
                    key: 'ref',
                    label: t('complaints.referenceNo'),
                    children: `${c.referenceNo}${c.replyDeadline ? ` · ${t('complaints.replyBy', { at: fmt(c.replyDeadline) })}` : ''}`,
                  },
                ]
              : []),
            {
              key: 'taken',
              label: t('complaints.trailActions.take'),
              children: t('complaints.takenBy', { name: c.takenByName ?? '', at: fmt(c.takenAt) }),
            },
          ]}
        />
      </Card>
      <Card size="small" title={t('complaints.evidence')} style={{ marginBottom: 12 }}>
        {c.attachments.length === 0 ? (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('complaints.noEvidence')} />
        ) : (
          <Flex gap={8} wrap data-testid="complaint-evidence">
            {c.attachments.map((a) =>
              a.contentType.startsWith('image/') ? (
                <Image key={a.id} width={96} src={`/api/complaints/${c.id}/attachments/${a.id}`} alt={a.fileName} />
              ) : (
                <a key={a.id} href={`/api/complaints/${c.id}/attachments/${a.id}`} target="_blank" rel="noreferrer">
                  <PaperClipOutlined /> {a.fileName}
                </a>
              ),
            )}
          </Flex>
        )}
        {c.canAttach && (
          <div style={{ marginTop: 8 }}>
            <Upload
              accept="image/*,.pdf,.docx,.xlsx"
              showUploadList={false}
              beforeUpload={(file) => {
                void upload(file);
                return false;
              }}
            >
              <Button icon={<UploadOutlined />} loading={uploading} data-testid="complaint-upload">
                {t('complaints.upload')}
              </Button>
            </Upload>
            <div>
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {t('complaints.uploadHelp')}
              </Typography.Text>
            </div>
          </div>
        )}
      </Card>
      {c.state !== 'merged' && (
        <Card size="small" title={t('complaints.duplicates')} style={{ marginBottom: 12 }}>
          {c.duplicates.length === 0 && c.linked.length === 0 && c.merged.length === 0 ? (
            <Typography.Text type="secondary">{t('complaints.noDuplicates')}</Typography.Text>
          ) : (
            <List
              size="small"
              dataSource={[
                ...c.duplicates
                  .filter((d) => !c.linked.some((l) => l.id === d.id))
                  .map((d) => ({ ...d, kind: 'dup' as const })),
                ...c.linked.map((d) => ({ ...d, kind: 'linked' as const, reasons: [] as string[] })),
                ...c.merged.map((d) => ({ ...d, kind: 'merged' as const, reasons: [] as string[] })),
              ]}
              renderItem={(d) => (
                <List.Item
                  actions={
                    c.allowedActions.length > 0 || d.kind !== 'dup'
                      ? d.kind === 'dup'
                        ? [
                            <a key="l" onClick={() => link.mutate({ otherId: d.id, mode: 'link' })}>
                              {t('complaints.link')}
                            </a>,
                            <a key="m" onClick={() => link.mutate({ otherId: d.id, mode: 'merge' })}>
                              {t('complaints.merge')}
                            </a>,
                          ]
                        : [
                            <a key="u" onClick={() => link.mutate({ otherId: d.id, mode: 'undo' })}>
                              {d.kind === 'merged' ? t('complaints.unmerge') : t('complaints.unlink')}
                            </a>,
                          ]
                      : []
                  }
                >
                  <Link to={`/complaints/${d.id}`}>{d.caseNo}</Link>{' '}
                  {d.kind === 'dup' &&
                    d.reasons.map((r) => <Tag key={r}>{t(`complaints.dupReasons.${r as 'customer'}`)}</Tag>)}
                  {d.kind === 'linked' && <Tag color="blue">{t('complaints.linked')}</Tag>}
                  {d.kind === 'merged' && <Tag>{t('complaints.mergedCases')}</Tag>}
                </List.Item>
              )}
            />
          )}
        </Card>
      )}
      <Card size="small" title={t('complaints.trail')}>
        {c.events.length === 0 ? (
          <Empty description={t('complaints.noTrail')} />
        ) : (
          <Timeline
            data-testid="complaint-trail"
            items={c.events.map((e) => ({
              color: e.action === 'return' || e.action === 'reassign' || e.detail.reopened ? 'red' : 'blue',
              children: (
                <>
                  <Typography.Text strong>{t(`complaints.trailActions.${e.action as 'take'}`)}</Typography.Text>{' '}
                  {e.actorName} · {fmt(e.at)}
                  {e.unitName && <Typography.Text type="secondary"> · {e.unitName}</Typography.Text>}
                  {typeof e.detail.note === 'string' && <div>{e.detail.note}</div>}
                  {typeof e.detail.reason === 'string' && <div>{e.detail.reason}</div>}
                  {typeof e.detail.rating === 'number' && <div>{t('complaints.rated', { n: e.detail.rating })}</div>}
                  {e.detail.reopened === true && <Tag color="orange">{t('complaints.reopened')}</Tag>}
                </>
              ),
            }))}
          />
        )}
      </Card>
      {action === 'callback' ? (
        <CallbackModal id={c.id} version={c.version} onClose={() => setAction(null)} />
      ) : (
        action && <StepModal c={c} action={action} onClose={() => setAction(null)} />
      )}
    </Page>
  );
}
