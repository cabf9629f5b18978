// At the pump, on a phone: type what you caught of the plate, greet the customer by name, record
// the fill-up in two taps (product, then litres). An unknown full plate becomes a step-1 record.
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Empty, Flex, Input, InputNumber, Spin, Tag, Typography, type InputRef } from 'antd';
import { CarOutlined, HeartOutlined, InboxOutlined, QuestionCircleOutlined, UserAddOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import relativeTime from 'dayjs/plugin/relativeTime.js';
import { client, unwrap, type ApiData } from '../../api/client.js';
import { parsePlate, plateSearchKey } from '../../../domain/plate.js';
import { useShowError } from '../../shared/errors.js';
import { useWorkCounts } from '../../shared/work.js';
import './pump.css';

dayjs.extend(relativeTime);

type Match = ApiData<'/api/pump/lookup'>[number];
type Question = 'ask_plate_model' | 'ask_name' | 'ask_organisation' | 'ask_phone' | 'ask_products' | 'ask_routes';

const VOLUMES = [20, 30, 40, 50, 100, 200] as const;
const DEBOUNCE_MS = 200;

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setV(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return v;
}

export function PumpPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const showError = useShowError();
  const queryClient = useQueryClient();
  const inputRef = useRef<InputRef>(null);
  const [typed, setTyped] = useState('');
  const [selected, setSelected] = useState<number | null>(null);
  const key = plateSearchKey(typed);
  const debounced = useDebounced(key, DEBOUNCE_MS);
  const searchable = debounced.length >= 2;

  const products = useQuery({
    queryKey: ['pump-products'],
    queryFn: () => unwrap(client.GET('/api/pump/products')),
    staleTime: Infinity,
  });
  const matches = useQuery({
    queryKey: ['pump-lookup', debounced],
    queryFn: () => unwrap(client.GET('/api/pump/lookup', { params: { query: { q: debounced, limit: 10 } } })),
    enabled: searchable,
    placeholderData: keepPreviousData,
  });
  const results = searchable ? (matches.data ?? []) : [];
  const fullPlate = parsePlate(key);
  const unknownPlate =
    searchable && !matches.isFetching && fullPlate.ok && !results.some((m) => m.plate === fullPlate.plate);

  useEffect(() => setSelected(null), [debounced]);
  const open = selected ?? results[0]?.vehicleId ?? null;

  const done = (text: string) => {
    void message.success(text);
    setTyped('');
    setSelected(null);
    void queryClient.invalidateQueries({ queryKey: ['pump-lookup'] });
    inputRef.current?.focus();
  };

  const record = async (
    body: {
      customerId?: number;
      vehicleId?: number;
      plate?: string;
      model?: string;
      product: string;
      volumeLitres: number;
    },
    plate: string,
  ) => {
    try {
      const r = await unwrap(client.POST('/api/pump/visits', { body }));
      const litres = body.volumeLitres;
      if (r.created) done(t('pump.recordedNew', { plate }));
      else if (r.elsewhere) done(t('pump.recordedElsewhere', { plate, product: body.product, litres }));
      else done(t('pump.recorded', { plate, product: body.product, litres }));
    } catch (err) {
      showError(err);
    }
  };

  return (
    <div className="fc-pump">
      <div className="fc-pump-search">
        <Input
          ref={inputRef}
          size="large"
          autoFocus
          allowClear
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          placeholder={t('pump.placeholder')}
          prefix={<CarOutlined />}
          suffix={matches.isFetching ? <Spin size="small" /> : null}
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          aria-label={t('pump.placeholder')}
          data-testid="pump-input"
        />
        <Flex justify="space-between" gap={8} wrap>
          <Typography.Text type="secondary" className="fc-pump-hint">
            {t('pump.hint')}
          </Typography.Text>
          <WorkCount />
        </Flex>
      </div>

      <Flex vertical gap={12} data-testid="pump-results">
        {results.map((m) => (
          <MatchCard
            key={m.vehicleId}
            match={m}
            open={open === m.vehicleId}
            onOpen={() => setSelected(m.vehicleId)}
            products={products.data ?? []}
            onRecord={(product, volumeLitres) =>
              record({ customerId: m.customerId, vehicleId: m.vehicleId, product, volumeLitres }, m.plate)
            }
          />
        ))}
        {unknownPlate && fullPlate.ok && (
          <NewPlateCard
            plate={fullPlate.plate}
            products={products.data ?? []}
            onRecord={(model, product, volumeLitres) =>
              record({ plate: fullPlate.plate, ...(model && { model }), product, volumeLitres }, fullPlate.plate)
            }
          />
        )}
        {searchable && !matches.isFetching && results.length === 0 && !unknownPlate && (
          <Empty description={t('pump.noMatch', { q: debounced })} />
        )}
      </Flex>
    </div>
  );
}

function MatchCard({
  match: m,
  open,
  onOpen,
  products,
  onRecord,
}: {
  match: Match;
  open: boolean;
  onOpen: () => void;
  products: string[];
  onRecord: (product: string, litres: number) => Promise<void>;
}) {
  const { t } = useTranslation();
  const question = m.nextQuestion as Question | null;
  return (
    <Card
      size="small"
      className={`fc-pump-card${open ? ' is-open' : ''}`}
      onClick={open ? undefined : onOpen}
      data-testid={`pump-match-${m.plate}`}
    >
      <Flex justify="space-between" align="start" gap={8}>
        <div style={{ minWidth: 0 }}>
          <div className="fc-pump-plate">{m.plate}</div>
          {m.greeting || m.name ? (
            <div className="fc-pump-greeting" data-testid="pump-greeting">
              {m.greeting ?? m.name}
            </div>
          ) : (
            <div className="fc-pump-greeting is-unnamed">{t('pump.noName')}</div>
          )}
          {m.model && <Typography.Text type="secondary">{m.model}</Typography.Text>}
        </div>
        <Flex vertical align="end" gap={4}>
          <Tag color={m.profileStep >= 3 ? 'green' : m.profileStep === 2 ? 'blue' : 'orange'}>
            {t('pump.profile', { step: m.profileStep })}
          </Tag>
          <Link to={`/customers/${m.customerId}`} onClick={(e) => e.stopPropagation()}>
            {t('pump.open')}
          </Link>
        </Flex>
      </Flex>
      <Flex gap={4} wrap style={{ marginTop: 6 }}>
        {m.lookAfter && (
          <Tag color="red" icon={<HeartOutlined />} data-testid="pump-look-after">
            {t('pump.unhappyBefore')}
          </Tag>
        )}
        {m.unhappyBefore && (
          <Tag color="volcano" icon={<HeartOutlined />} data-testid="pump-complained-before">
            {t('pump.complainedBefore')}
          </Tag>
        )}
        {m.tags.map((tag) => (
          <Tag key={tag}>{tag}</Tag>
        ))}
        <Tag bordered={false}>
          {m.lastVisitAt ? t('pump.lastVisit', { when: dayjs(m.lastVisitAt).fromNow() }) : t('pump.never')}
        </Tag>
        {m.lastProduct && <Tag bordered={false}>{t('pump.lastProduct', { product: m.lastProduct })}</Tag>}
      </Flex>
      {m.notes && <div className="fc-pump-notes">{m.notes}</div>}
      {question && (
        <div className="fc-pump-question">
          <QuestionCircleOutlined /> {t('pump.askNext', { question: t(`customers.questions.${question}`) })}
        </div>
      )}
      {open && <RecordPanel products={products} preferred={m.lastProduct} onRecord={onRecord} />}
    </Card>
  );
}

function NewPlateCard({
  plate,
  products,
  onRecord,
}: {
  plate: string;
  products: string[];
  onRecord: (model: string, product: string, litres: number) => Promise<void>;
}) {
  const { t } = useTranslation();
  const [model, setModel] = useState('');
  return (
    <Card size="small" className="fc-pump-card is-open" data-testid="pump-new-plate">
      <Flex align="center" gap={8}>
        <UserAddOutlined style={{ fontSize: 20, color: '#0b6bcb' }} />
        <div>
          <div className="fc-pump-plate">{plate}</div>
          <Typography.Text type="secondary">{t('pump.newPlateHint')}</Typography.Text>
        </div>
      </Flex>
      <Input
        style={{ marginTop: 8 }}
        value={model}
        onChange={(e) => setModel(e.target.value)}
        placeholder={t('pump.modelPlaceholder')}
        maxLength={100}
        data-testid="pump-new-model"
      />
      <RecordPanel
        products={products}
        preferred={null}
        onRecord={(product, litres) => onRecord(model.trim(), product, litres)}
      />
    </Card>
  );
}

/** Two taps: a product chip, then a litres chip (or another amount). */
function RecordPanel({
  products,
  preferred,
  onRecord,
}: {
  products: string[];
  preferred: string | null;
  onRecord: (product: string, litres: number) => Promise<void>;
}) {
  const { t } = useTranslation();
  const [product, setProduct] = useState<string | null>(null);
  const [other, setOther] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const ordered =
    preferred && products.includes(preferred) ? [preferred, ...products.filter((p) => p !== preferred)] : products;
  const submit = async (litres: number) => {
    if (!product || busy) return;
    setBusy(true);
    try {
      await onRecord(product, litres);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="fc-pump-record" onClick={(e) => e.stopPropagation()}>
      <div className="fc-pump-label">{t('pump.chooseProduct')}</div>
      <Flex gap={8} wrap>
        {ordered.map((p) => (
          <Button
            key={p}
            className="fc-chip"
            autoInsertSpace={false}
            type={product === p ? 'primary' : 'default'}
            onClick={() => setProduct(p)}
            data-testid={`pump-product-${p}`}
          >
            {p}
          </Button>
        ))}
      </Flex>
      {product && (
        <>
          <div className="fc-pump-label">{t('pump.chooseVolume')}</div>
          <Flex gap={8} wrap>
            {VOLUMES.map((v) => (
              <Button
                key={v}
                className="fc-chip"
                loading={busy}
                onClick={() => void submit(v)}
                data-testid={`pump-volume-${v}`}
              >
                {v}
              </Button>
            ))}
            <InputNumber
              className="fc-chip-input"
              min={0.1}
              max={100000}
              value={other}
              onChange={(v) => setOther(v)}
              placeholder={t('pump.otherVolume')}
              inputMode="decimal"
            />
            <Button
              className="fc-chip"
              type="primary"
              disabled={!other}
              loading={busy}
              onClick={() => other && void submit(other)}
              data-testid="pump-volume-other"
            >
              {t('pump.recordOther')}
            </Button>
          </Flex>
        </>
      )}
    </div>
  );
}

/** The attendant's own work (follow-ups, contact tasks) is one tap away from the pump. */
function WorkCount() {
  const { t } = useTranslation();
  const counts = useWorkCounts();
  const n = counts.data?.total ?? 0;
  if (n === 0) return null;
  return (
    <Link to="/work" data-testid="pump-work-count">
      <Tag color={counts.data?.overdue ? 'red' : 'blue'} icon={<InboxOutlined />}>
        {t('work.pumpCount', { count: n })}
      </Tag>
    </Link>
  );
}
