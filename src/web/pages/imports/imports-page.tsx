// The import center: upload a CSV or XLSX file, say what it holds and which column is which
// (recognised from the usual Chinese headers, or a saved mapping), dry-run every row, then commit
// with a progress bar; the rows that were rejected come back as a downloadable report. An import
// left unfinished (the server restarted, the browser closed) is continued or cancelled from the list.
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Empty,
  Flex,
  Input,
  Popconfirm,
  Progress,
  Radio,
  Result,
  Row,
  Select,
  Space,
  Statistic,
  Steps,
  Table,
  Tag,
  Typography,
  Upload,
} from 'antd';
import {
  CloudUploadOutlined,
  DownloadOutlined,
  InboxOutlined,
  PlayCircleOutlined,
  SafetyOutlined,
} from '@ant-design/icons';
import dayjs from 'dayjs';
import { ApiError, client, unwrap, uploadFile, type ApiData, type paths } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { useShowError } from '../../shared/errors.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { Page } from '../../shared/page.js';
import { useIsPhone } from '../../shared/use-is-phone.js';

type Job = ApiData<'/api/imports/{id}'>;
type Kind = 'customers' | 'cards' | 'transactions' | 'topups' | 'org_units' | 'users';
type Inspect = paths['/api/imports/{id}/inspect']['post']['responses'][200]['content']['application/json'];
type Problem = ApiData<'/api/imports/{id}/problems'>[number];

const KINDS: Kind[] = ['customers', 'cards', 'transactions', 'topups', 'org_units', 'users'];
/** Org units and people: imported by whoever may create them by hand, counted as updates rather than fill-ins. */
const ONBOARDING = new Set<Kind>(['org_units', 'users']);
/** Canonical fields each kind can take, in the order offered. */
const FIELDS: Record<Kind, string[]> = {
  customers: [
    'name',
    'surname',
    'kind',
    'contactName',
    'phone',
    'plate',
    'model',
    'cardNo',
    'organisation',
    'birthday',
    'routes',
    'products',
    'settlementMethod',
    'invoiceType',
    'tags',
    'notes',
  ],
  cards: ['cardNo', 'name', 'contactName', 'phone', 'plate', 'model', 'kind', 'organisation', 'notes'],
  transactions: [
    'occurredAt',
    'externalId',
    'stationCode',
    'cardNo',
    'plate',
    'product',
    'volumeLitres',
    'unitPrice',
    'amount',
  ],
  topups: ['occurredAt', 'externalId', 'stationCode', 'cardNo', 'amount', 'bonus', 'payment'],
  org_units: ['unitCode', 'unitName', 'parentCode', 'unitKind', 'timeZone'],
  users: ['displayName', 'username', 'userUnitCode', 'roles', 'mobile'],
};
const REQUIRED: Record<Kind, string[]> = {
  customers: [],
  cards: ['cardNo'],
  transactions: ['occurredAt', 'volumeLitres'],
  topups: ['occurredAt', 'cardNo', 'amount'],
  org_units: ['unitCode', 'unitName'],
  users: ['displayName', 'username', 'userUnitCode', 'roles'],
};
const RUNNING = new Set(['committing', 'checking', 'uploading']);
/** Statuses nothing more happens in. */
const FINAL = new Set(['done', 'cancelled']);
const LIMITS = ['xlsxMb', 'sharedStringsMb', 'cellChars', 'columns', 'rows', 'memoryMb'] as const;

interface LimitDetails {
  limit?: string;
  value?: number;
  row?: number;
}

/** "文件超过限制：共享字符串总大小超过 64 MB（第 3 行）" from an IMPORT_LIMIT_EXCEEDED error's details. */
function useLimitText() {
  const { t } = useTranslation();
  return (details: unknown): string | null => {
    const d = (details ?? {}) as LimitDetails;
    const limit = LIMITS.find((l) => l === d.limit);
    if (!limit) return null;
    const what =
      t(`imports.limits.${limit}`, { value: d.value ?? '' }) + (d.row ? t('imports.limitRow', { row: d.row }) : '');
    return t('imports.limitExceeded', { what });
  };
}

function reportHref(job: Job, phase: 'dry_run' | 'commit', format: 'csv' | 'xlsx') {
  return `/api/imports/${job.id}/report.${format}?phase=${phase}`;
}

/** Rows one action fixes, said once (e.g. card numbers a spreadsheet stored as numbers), as the server words them. */
function GroupedLines({ lines }: { lines: string[] | undefined }) {
  if (!lines?.length) return null;
  return (
    <Flex vertical gap={8} style={{ marginBottom: 12 }} data-testid="import-grouped">
      {lines.map((line) => (
        <Alert key={line} type="warning" showIcon title={line} />
      ))}
    </Flex>
  );
}

async function groupedLines(id: number, phase: 'dry_run' | 'commit'): Promise<string[]> {
  const r = await unwrap(client.GET('/api/imports/{id}/summaries', { params: { path: { id }, query: { phase } } }));
  return r.grouped;
}

function ProblemsTable({ problems }: { problems: Problem[] }) {
  const { t } = useTranslation();
  return (
    <div data-testid="import-problems">
      <Table<Problem>
        size="small"
        rowKey={(r, i) => `${r.row}-${r.field ?? ''}-${i}`}
        dataSource={problems}
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        scroll={{ x: 600 }}
        columns={[
          { title: t('imports.row'), dataIndex: 'row', width: 70 },
          {
            title: t('imports.severity'),
            dataIndex: 'severity',
            width: 90,
            render: (s: string) =>
              s === 'flag' ? (
                <Tag color="orange">{t('imports.flagged')}</Tag>
              ) : (
                <Tag color="red">{t('imports.rejected')}</Tag>
              ),
          },
          // The server words the problem and names the field in the user's language.
          { title: t('imports.field'), dataIndex: 'fieldLabel', width: 120, render: (f: string) => f || '—' },
          { title: t('imports.reason'), dataIndex: 'message' },
        ]}
      />
    </div>
  );
}

export function ImportsPage() {
  const { t } = useTranslation();
  const access = useAccess();
  const isPhone = useIsPhone();
  const showError = useShowError();
  const limitText = useLimitText();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [orgUnitId, setOrgUnitId] = useState<number | undefined>();
  const [uploadPct, setUploadPct] = useState<number | null>(null);
  const [jobId, setJobId] = useState<number | null>(null);
  const [kind, setKind] = useState<Kind>('customers');
  const [sheet, setSheet] = useState<string | undefined>();
  const [inspect, setInspect] = useState<Inspect | null>(null);
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [saveAs, setSaveAs] = useState('');
  const [dryProblems, setDryProblems] = useState<Problem[] | null>(null);
  /** The dry run's grouped lines (rows one action fixes). */
  const [dryGrouped, setDryGrouped] = useState<string[]>([]);
  /** The dry run's figures as it ended: the forecast stays as it was once the commit starts counting. */
  const [forecast, setForecast] = useState<Job | null>(null);
  const [busy, setBusy] = useState(false);
  /** Why the file could not be read, shown beside it (a limit it exceeds, a damaged file). */
  const [fileError, setFileError] = useState<string | null>(null);
  /** A check resumed from the list: its problems are loaded when it ends. */
  const [awaitCheck, setAwaitCheck] = useState(false);

  /** A limit is named in words; anything else goes the usual way. */
  const fail = (err: unknown) => {
    const text = err instanceof ApiError && err.code === 'IMPORT_LIMIT_EXCEEDED' ? limitText(err.details) : null;
    if (text) void message.error(text);
    else showError(err);
    return text;
  };

  const job = useQuery({
    queryKey: ['import', jobId],
    queryFn: () => unwrap(client.GET('/api/imports/{id}', { params: { path: { id: jobId! } } })),
    enabled: jobId !== null,
    refetchInterval: (q) => (q.state.data && RUNNING.has(q.state.data.status) ? 800 : false),
  });
  const history = useQuery({
    queryKey: ['imports'],
    queryFn: () => unwrap(client.GET('/api/imports', { params: { query: { page: 1, pageSize: 20 } } })),
  });
  const current = job.data;
  const committed = current?.status === 'done';
  const step = !current
    ? 0
    : current.status === 'committing' || committed || current.status === 'failed'
      ? 3
      : dryProblems
        ? 2
        : 1;

  useEffect(() => {
    if (committed) void queryClient.invalidateQueries({ queryKey: ['imports'] });
  }, [committed, queryClient]);

  const loadDryProblems = async (id: number) => {
    setDryProblems(
      await unwrap(client.GET('/api/imports/{id}/problems', { params: { path: { id }, query: { phase: 'dry_run' } } })),
    );
    setDryGrouped(await groupedLines(id, 'dry_run'));
  };

  useEffect(() => {
    if (!awaitCheck || !current || current.status === 'checking') return;
    setAwaitCheck(false);
    if (current.status === 'checked') void loadDryProblems(current.id).catch(fail);
    void queryClient.invalidateQueries({ queryKey: ['imports'] });
  }, [awaitCheck, current?.status]);

  const loadInspect = async (id: number, k: Kind, s?: string): Promise<boolean> => {
    try {
      const r = await unwrap(
        client.POST('/api/imports/{id}/inspect', {
          params: { path: { id } },
          body: { kind: k, ...(s && { sheet: s }) },
        }),
      );
      setInspect(r);
      setSheet(r.sheet ?? undefined);
      setMapping(r.suggested);
      setDryProblems(null);
      setDryGrouped([]);
      setFileError(null);
      return true;
    } catch (err) {
      setFileError(fail(err) ?? (err instanceof Error ? err.message : null));
      return false;
    }
  };

  const upload = async (file: File) => {
    setUploadPct(0);
    try {
      const q = new URLSearchParams({ fileName: file.name, ...(orgUnitId && { orgUnitId: String(orgUnitId) }) });
      const created = await uploadFile<Job>(`/api/imports?${q.toString()}`, file, (f) =>
        setUploadPct(Math.round(f * 100)),
      );
      setJobId(created.id);
      queryClient.setQueryData(['import', created.id], created);
      await loadInspect(created.id, kind);
    } catch (err) {
      fail(err);
    } finally {
      setUploadPct(null);
    }
  };

  /** Continue a job from the list: an interrupted check or commit starts again where it can. */
  const resume = async (j: Job) => {
    try {
      const r = await unwrap(client.POST('/api/imports/{id}/resume', { params: { path: { id: j.id } } }));
      setJobId(r.id);
      queryClient.setQueryData(['import', r.id], r);
      const k = (r.kind ?? kind) as Kind;
      setKind(k);
      setDryProblems(null);
      if (await loadInspect(r.id, k, r.sheet ?? undefined)) {
        if (r.mapping) setMapping(r.mapping);
        if (r.status === 'checked') await loadDryProblems(r.id);
        else if (r.status === 'checking') setAwaitCheck(true);
      }
      void queryClient.invalidateQueries({ queryKey: ['imports'] });
    } catch (err) {
      fail(err);
    }
  };

  const cancel = async (id: number) => {
    try {
      await unwrap(client.POST('/api/imports/{id}/cancel', { params: { path: { id } } }));
      void message.success(t('imports.cancelled'));
      if (id === jobId) reset();
      void queryClient.invalidateQueries({ queryKey: ['imports'] });
    } catch (err) {
      fail(err);
    }
  };

  const missing = REQUIRED[kind].filter((f) => !Object.values(mapping).includes(f));
  const dryRun = async () => {
    if (!jobId) return;
    setBusy(true);
    try {
      await unwrap(
        client.PUT('/api/imports/{id}/mapping', {
          params: { path: { id: jobId } },
          body: { kind, mapping, ...(sheet && { sheet }), ...(saveAs.trim() && { saveAs: saveAs.trim() }) },
        }),
      );
      const r = await unwrap(client.POST('/api/imports/{id}/dry-run', { params: { path: { id: jobId } } }));
      queryClient.setQueryData(['import', jobId], r.job);
      setForecast(r.job);
      setDryProblems(r.problems);
      setDryGrouped(await groupedLines(jobId, 'dry_run'));
    } catch (err) {
      fail(err);
      void queryClient.invalidateQueries({ queryKey: ['import', jobId] });
    } finally {
      setBusy(false);
    }
  };
  const commit = async () => {
    if (!jobId) return;
    try {
      const r = await unwrap(client.POST('/api/imports/{id}/commit', { params: { path: { id: jobId } } }));
      queryClient.setQueryData(['import', jobId], r);
    } catch (err) {
      fail(err);
    }
  };
  function reset() {
    setJobId(null);
    setInspect(null);
    setMapping({});
    setDryProblems(null);
    setDryGrouped([]);
    setSaveAs('');
    setFileError(null);
    setAwaitCheck(false);
  }
  /** The job's own failure in words: a limit by name, else the server's message. */
  const jobError = (j: Job) => (j.errorCode === 'IMPORT_LIMIT_EXCEEDED' ? limitText(j.errorDetails) : null) ?? j.error;
  const cancelButton = (j: Job, label = t('imports.cancel')) => (
    <Popconfirm title={t('imports.cancelConfirm', { file: j.fileName })} onConfirm={() => void cancel(j.id)}>
      <Button danger size="small" data-testid={`import-cancel-${j.id}`}>
        {label}
      </Button>
    </Popconfirm>
  );

  const commitProblems = useQuery({
    queryKey: ['import-problems', jobId, 'commit'],
    queryFn: () =>
      unwrap(
        client.GET('/api/imports/{id}/problems', { params: { path: { id: jobId! }, query: { phase: 'commit' } } }),
      ),
    enabled: committed && jobId !== null,
  });
  const commitGrouped = useQuery({
    queryKey: ['import-grouped', jobId, 'commit'],
    queryFn: () => groupedLines(jobId!, 'commit'),
    enabled: committed && jobId !== null,
  });

  // Units and people only for whoever may create them by hand.
  const kindOptions = KINDS.filter(
    (k) => (k !== 'org_units' || access.canWriteOrg) && (k !== 'users' || access.canWriteUsers),
  ).map((k) => ({ value: k, label: t(`imports.kinds.${k}`) }));

  /** The new users' initial passwords, handed over once as a CSV file. */
  const takePasswords = async (j: Job) => {
    try {
      const r = await client.POST('/api/imports/{id}/passwords', {
        params: { path: { id: j.id } },
        parseAs: 'blob',
      });
      if (!r.response.ok) await unwrap(Promise.resolve(r));
      const url = URL.createObjectURL(r.data as Blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `import-${j.id}-passwords.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      fail(err);
    } finally {
      void queryClient.invalidateQueries({ queryKey: ['import', j.id] });
    }
  };

  const fieldOptions = useMemo(
    () =>
      FIELDS[kind].map((f) => ({
        value: f,
        label: `${t(`imports.fields.${f}`, { defaultValue: f })}${REQUIRED[kind].includes(f) ? ' *' : ''}`,
      })),
    [kind, t],
  );

  // Every row below the header is one of good, rejected, flagged or an empty row skipped.
  const counts = (j: Job) => (
    <Row gutter={[12, 12]}>
      <Col xs={12} md={8} xl={4}>
        <Statistic title={t('imports.rowsOk')} value={j.rowsOk} />
      </Col>
      <Col xs={12} md={8} xl={4}>
        <Statistic
          title={t('imports.rowsRejected')}
          value={j.rowsRejected}
          styles={{ content: { color: j.rowsRejected ? '#cf1322' : undefined } }}
        />
      </Col>
      <Col xs={12} md={8} xl={4}>
        <Statistic
          title={t('imports.rowsFlagged')}
          value={j.rowsFlagged}
          styles={{ content: { color: j.rowsFlagged ? '#d46b08' : undefined } }}
        />
      </Col>
      <Col xs={12} md={8} xl={4} data-testid="import-skipped">
        <Statistic title={t('imports.rowsSkipped')} value={j.skippedCount} />
      </Col>
      <Col xs={24} md={16} xl={8}>
        {kind === 'transactions' || kind === 'topups' ? (
          <Statistic
            title={t(kind === 'topups' ? 'imports.insertedTopups' : 'imports.inserted')}
            value={`${j.createdCount} / ${j.unchangedCount}`}
          />
        ) : (
          <Statistic
            title={t(ONBOARDING.has(kind) ? 'imports.createdChanged' : 'imports.createdUpdated')}
            value={`${j.createdCount} / ${j.updatedCount} / ${j.unchangedCount}`}
          />
        )}
      </Col>
      <Col span={24}>
        <Typography.Text type="secondary" data-testid="import-totals">
          {t('imports.totalsLine', {
            total: j.rowsOk + j.rowsRejected + j.rowsFlagged + j.skippedCount,
            ok: j.rowsOk,
            rejected: j.rowsRejected,
            flagged: j.rowsFlagged,
            skipped: j.skippedCount,
          })}
        </Typography.Text>
      </Col>
    </Row>
  );

  return (
    <Page title={t('imports.title')}>
      <Card size="small" style={{ marginBottom: 16 }}>
        <Steps
          size="small"
          current={step}
          orientation={isPhone ? 'vertical' : 'horizontal'}
          items={[
            { title: t('imports.stepUpload') },
            { title: t('imports.stepMap') },
            { title: t('imports.stepCheck') },
            { title: t('imports.stepCommit') },
          ]}
        />
      </Card>

      {!current && (
        <Card size="small" title={t('imports.stepUpload')}>
          <Flex vertical gap={12}>
            <Flex gap={8} wrap align="center">
              <Typography.Text>{t('imports.what')}</Typography.Text>
              <Radio.Group
                value={kind}
                onChange={(e) => setKind(e.target.value as Kind)}
                optionType="button"
                options={kindOptions}
              />
            </Flex>
            {access.canReadOrg && (
              <Flex gap={8} wrap align="center">
                <Typography.Text>{t('imports.orgUnit')}</Typography.Text>
                <OrgTreeSelect
                  allowClear
                  style={{ width: isPhone ? '100%' : 280 }}
                  value={orgUnitId}
                  onChange={(v) => setOrgUnitId(v ?? undefined)}
                  placeholder={t('imports.orgUnitHint')}
                />
              </Flex>
            )}
            <div data-testid="import-upload">
              <Upload.Dragger
                accept=".csv,.xlsx,.txt"
                multiple={false}
                showUploadList={false}
                beforeUpload={(file) => {
                  void upload(file);
                  return false;
                }}
                disabled={uploadPct !== null}
              >
                <p className="ant-upload-drag-icon">
                  <InboxOutlined />
                </p>
                <p className="ant-upload-text">{t('imports.drop')}</p>
                <p className="ant-upload-hint">{t('imports.dropHint')}</p>
              </Upload.Dragger>
            </div>
            {uploadPct !== null && <Progress percent={uploadPct} />}
          </Flex>
        </Card>
      )}

      {current && !inspect && (
        <Card
          size="small"
          title={
            <Space>
              <CloudUploadOutlined />
              {current.fileName}
            </Space>
          }
          extra={
            <Space>
              {!FINAL.has(current.status) && cancelButton(current)}
              <Button onClick={reset}>{t('imports.another')}</Button>
            </Space>
          }
          style={{ marginBottom: 16 }}
          data-testid="import-file-error"
        >
          {fileError && <Alert type="error" showIcon title={fileError} />}
        </Card>
      )}

      {current && inspect && (
        <Card
          size="small"
          title={
            <Space>
              <CloudUploadOutlined />
              {current.fileName}
              <Tag>{current.format.toUpperCase()}</Tag>
            </Space>
          }
          extra={
            <Space>
              {!FINAL.has(current.status) && cancelButton(current)}
              <Button onClick={reset}>{t('imports.another')}</Button>
            </Space>
          }
          style={{ marginBottom: 16 }}
        >
          <Flex gap={12} wrap align="center" style={{ marginBottom: 12 }}>
            <Radio.Group
              value={kind}
              disabled={current.status === 'committing' || committed}
              onChange={(e) => {
                const k = e.target.value as Kind;
                setKind(k);
                void loadInspect(current.id, k, sheet);
              }}
              optionType="button"
              options={kindOptions}
            />
            {inspect.sheets.length > 0 && (
              <Select
                style={{ width: 200 }}
                value={sheet}
                onChange={(s) => {
                  setSheet(s);
                  void loadInspect(current.id, kind, s);
                }}
                options={inspect.sheets.map((s) => ({ value: s, label: `${t('imports.sheet')}: ${s}` }))}
                data-testid="import-sheet"
              />
            )}
            {inspect.profiles.length > 0 && (
              <Select
                style={{ width: 200 }}
                placeholder={t('imports.useProfile')}
                onChange={(id: number) => setMapping(inspect.profiles.find((p) => p.id === id)?.columns ?? mapping)}
                options={inspect.profiles.map((p) => ({ value: p.id, label: p.name }))}
              />
            )}
          </Flex>
          <div data-testid="import-mapping">
            <Table
              size="small"
              rowKey="header"
              pagination={false}
              scroll={{ x: 640 }}
              dataSource={inspect.headers.map((header, i) => ({
                header,
                samples: inspect.sample.slice(0, 3).map((r) => r[i] ?? ''),
              }))}
              columns={[
                { title: t('imports.column'), dataIndex: 'header', width: 160 },
                {
                  title: t('imports.mapsTo'),
                  key: 'field',
                  width: 200,
                  render: (_v, r: { header: string }) => (
                    <span data-testid={`import-map-${r.header}`} style={{ display: 'block' }}>
                      <Select
                        allowClear
                        style={{ width: '100%' }}
                        placeholder={t('imports.ignore')}
                        value={mapping[r.header]}
                        options={fieldOptions}
                        onChange={(f?: string) =>
                          setMapping((m) => {
                            const next = { ...m };
                            if (f) next[r.header] = f;
                            else delete next[r.header];
                            return next;
                          })
                        }
                      />
                    </span>
                  ),
                },
                {
                  title: t('imports.sample'),
                  dataIndex: 'samples',
                  render: (s: string[]) => (
                    <Typography.Text type="secondary">{s.filter(Boolean).join(' · ')}</Typography.Text>
                  ),
                },
              ]}
            />
          </div>
          {current.status === 'check_failed' && (
            <Alert
              type="error"
              showIcon
              style={{ marginTop: 12 }}
              title={jobError(current) ?? t('imports.checkFailed')}
            />
          )}
          {current.status === 'checking' && (
            <Progress
              style={{ marginTop: 12 }}
              percent={current.rowsTotal ? Math.floor((current.rowsDone / current.rowsTotal) * 100) : 0}
              status="active"
            />
          )}
          {missing.length > 0 && (
            <Alert
              type="warning"
              showIcon
              style={{ marginTop: 12 }}
              title={t('imports.missing', {
                fields: missing.map((f) => t(`imports.fields.${f}`, { defaultValue: f })).join('、'),
              })}
            />
          )}
          <Flex gap={8} wrap style={{ marginTop: 12 }} align="center">
            <Input
              style={{ width: 220 }}
              placeholder={t('imports.saveAs')}
              value={saveAs}
              onChange={(e) => setSaveAs(e.target.value)}
              maxLength={100}
            />
            <Button
              type="primary"
              icon={<SafetyOutlined />}
              loading={busy}
              disabled={
                missing.length > 0 || current.status === 'committing' || current.status === 'checking' || committed
              }
              onClick={() => void dryRun()}
              data-testid="import-dry-run"
            >
              {t('imports.dryRun')}
            </Button>
          </Flex>
        </Card>
      )}

      {current && dryProblems && (
        <Card size="small" title={t('imports.forecast')} style={{ marginBottom: 16 }} data-testid="import-check">
          {(forecast?.id === current.id ? forecast : current.status === 'checked' ? current : null) &&
            counts(forecast?.id === current.id ? forecast : current)}
          <Flex gap={8} wrap style={{ margin: '12px 0' }}>
            <Button
              icon={<DownloadOutlined />}
              href={reportHref(current, 'dry_run', 'csv')}
              data-testid="import-report-csv"
            >
              {t('imports.reportCsv')}
            </Button>
            <Button icon={<DownloadOutlined />} href={reportHref(current, 'dry_run', 'xlsx')}>
              {t('imports.reportXlsx')}
            </Button>
            <Button
              type="primary"
              icon={<PlayCircleOutlined />}
              disabled={current.status !== 'checked' || current.rowsOk === 0}
              onClick={() => void commit()}
              data-testid="import-commit"
            >
              {t('imports.commit', { count: current.rowsOk })}
            </Button>
          </Flex>
          <GroupedLines lines={dryGrouped} />
          {dryProblems.length > 0 && <ProblemsTable problems={dryProblems} />}
        </Card>
      )}

      {current && (current.status === 'committing' || committed || current.status === 'failed') && (
        <Card size="small" title={t('imports.stepCommit')} style={{ marginBottom: 16 }}>
          {current.status === 'failed' ? (
            <Alert
              type="error"
              showIcon
              title={jobError(current) ?? t('imports.failed')}
              action={<Button onClick={() => void commit()}>{t('imports.resume')}</Button>}
            />
          ) : (
            <Progress
              percent={current.rowsTotal ? Math.floor((current.rowsDone / current.rowsTotal) * 100) : 0}
              status={committed ? 'success' : 'active'}
              data-testid="import-progress"
            />
          )}
          {committed && (
            <Result
              status="success"
              title={t('imports.done')}
              subTitle={t('imports.doneDetail', {
                ok: current.rowsOk,
                rejected: current.rowsRejected,
                flagged: current.rowsFlagged,
                skipped: current.skippedCount,
              })}
              extra={
                <Button
                  icon={<DownloadOutlined />}
                  href={reportHref(current, 'commit', 'csv')}
                  disabled={!commitProblems.data?.length}
                >
                  {t('imports.reportCsv')}
                </Button>
              }
            />
          )}
          {committed && current.kind === 'users' && current.createdCount > 0 && (
            <Alert
              style={{ marginTop: 12 }}
              type={current.passwordsWaiting ? 'warning' : 'info'}
              showIcon
              data-testid="import-passwords"
              title={
                current.passwordsWaiting
                  ? t('imports.passwordsWaiting', { count: current.passwordsWaiting })
                  : t('imports.passwordsTaken')
              }
              action={
                current.passwordsWaiting ? (
                  <Button icon={<DownloadOutlined />} onClick={() => void takePasswords(current)}>
                    {t('imports.passwordsDownload')}
                  </Button>
                ) : undefined
              }
            />
          )}
          {committed && (
            <div data-testid="import-outcome">
              <Typography.Title level={5}>{t('imports.outcome')}</Typography.Title>
              {counts(current)}
              <div style={{ marginTop: 12 }}>
                <GroupedLines lines={commitGrouped.data} />
              </div>
            </div>
          )}
        </Card>
      )}

      <Card size="small" title={t('imports.history')}>
        <Table<Job>
          size="small"
          rowKey="id"
          dataSource={history.data?.items ?? []}
          loading={history.isFetching}
          locale={{ emptyText: <Empty description={t('imports.historyEmpty')} /> }}
          pagination={false}
          scroll={{ x: 960 }}
          columns={[
            { title: t('imports.file'), dataIndex: 'fileName' },
            {
              title: t('imports.what'),
              dataIndex: 'kind',
              width: 100,
              render: (k: Kind | null) => (k ? t(`imports.kinds.${k}`) : '—'),
            },
            {
              title: t('imports.status'),
              dataIndex: 'status',
              width: 130,
              render: (s: string, j: Job) => (
                <Space size={4}>
                  {t(`imports.statuses.${s}`, { defaultValue: s })}
                  {RUNNING.has(s) && (
                    <Tag color={j.active ? 'processing' : 'warning'}>
                      {t(j.active ? 'imports.runningElsewhere' : 'imports.interrupted')}
                    </Tag>
                  )}
                </Space>
              ),
            },
            { title: t('imports.rowsOk'), dataIndex: 'rowsOk', width: 90 },
            { title: t('imports.rowsRejected'), dataIndex: 'rowsRejected', width: 90 },
            {
              title: t('imports.at'),
              dataIndex: 'createdAt',
              width: 150,
              render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm'),
            },
            {
              title: t('imports.actions'),
              key: 'actions',
              width: 190,
              render: (_v, j: Job) =>
                FINAL.has(j.status) ? null : (
                  <Space size={4}>
                    {!j.active && (
                      <Button
                        size="small"
                        type="link"
                        onClick={() => void resume(j)}
                        data-testid={`import-resume-${j.id}`}
                      >
                        {t('imports.continue')}
                      </Button>
                    )}
                    {cancelButton(j)}
                  </Space>
                ),
            },
          ]}
        />
      </Card>
    </Page>
  );
}
