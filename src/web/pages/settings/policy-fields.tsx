// The fields of each policy's form. Numbers show their unit; shares are entered as percentages and
// money as yuan with two decimals, while the form keeps the API's own values (0.2, 800).
import { useTranslation } from 'react-i18next';
import { useQuery } from '@tanstack/react-query';
import {
  Button,
  Card,
  Col,
  Flex,
  Form,
  Input,
  InputNumber,
  Radio,
  Row,
  Select,
  type FormInstance,
  type FormRule,
} from 'antd';
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { client, unwrap } from '../../api/client.js';
import { OwnershipFields } from './ownership-fields.js';
import { useAccess } from '../../access.js';
import {
  POLICY_LIMITS as L,
  POLICY_TEXT_LIMITS as TEXT,
  type PolicyBodies,
  type PolicyKind,
  type StarThresholds,
} from '../../../domain/policies.js';
import {
  benefitCodeRules,
  CUSTOMER_KINDS,
  fieldHelp,
  fieldLabel,
  kindLabel,
  numberFieldsOf,
  numberRules,
  shown,
  textRules,
  uniqueRule,
  unitOf,
  type LimitKey,
  type Unit,
} from './policy-format.js';

/** The star-rating form keeps its thresholds as rows, so a kind can be added, changed or removed. */
export interface ThresholdRow {
  kind: string;
  values: (number | null)[];
}
type StarForm = Omit<PolicyBodies['star_rating'], 'thresholds'> & { thresholds: ThresholdRow[] };
export type PolicyForm = Record<string, unknown> & { note?: string };

export function toForm(kind: PolicyKind, body: PolicyBodies[PolicyKind]): PolicyForm {
  if (kind !== 'star_rating') return structuredClone(body) as unknown as PolicyForm;
  const p = body as PolicyBodies['star_rating'];
  const rows = Object.entries(p.thresholds)
    .filter((e): e is [string, StarThresholds] => !!e[1])
    .sort(([a], [b]) => (a === 'default' ? -1 : b === 'default' ? 1 : 0))
    .map(([k, values]) => ({ kind: k, values: [...values] }));
  return { basis: p.basis, computeDay: p.computeDay, finalDay: p.finalDay, thresholds: rows };
}

export function fromForm(kind: PolicyKind, values: PolicyForm): PolicyBodies[PolicyKind] {
  const { note: _note, ...rest } = values;
  if (kind === 'star_rating') {
    const f = rest as unknown as StarForm;
    return {
      ...f,
      thresholds: Object.fromEntries(f.thresholds.map((r) => [r.kind, r.values])),
    } as PolicyBodies['star_rating'];
  }
  if (kind === 'benefits') {
    const benefits = (rest as unknown as PolicyBodies['benefits']).benefits.map(({ discountYuanPerTon, ...b }) => ({
      ...b,
      ...(discountYuanPerTon !== null && discountYuanPerTon !== undefined && { discountYuanPerTon }),
    }));
    return { benefits };
  }
  return rest as unknown as PolicyBodies[PolicyKind];
}

interface NumberInputProps {
  value?: number | null;
  onChange?: (v: number | null) => void;
  unit: Unit | null;
  id?: string;
  disabled?: boolean;
  testId?: string;
}

/** A number with its unit; a percentage field shows value × 100 and hands back the fraction. */
function NumberInput({ value, onChange, unit, id, disabled, testId }: NumberInputProps) {
  const { t } = useTranslation();
  const percent = unit === 'percent';
  const money = unit === 'yuan' || unit === 'yuanPerTon';
  return (
    <InputNumber<number>
      id={id}
      data-testid={testId}
      disabled={disabled}
      value={value === null || value === undefined ? null : shown(value, unit)}
      onChange={(v) => onChange?.(v === null ? null : percent ? Math.round(v * 1e6) / 1e8 : v)}
      precision={money ? 2 : undefined}
      step={money ? 10 : 1}
      suffix={unit ? (percent ? '%' : t(`settings.units.${unit}`)) : undefined}
      inputMode="decimal"
      style={{ width: '100%', maxWidth: 260 }}
    />
  );
}

/** A number field of the policy named like its limit, with label, help, unit and rules. */
function NumberField({
  name,
  limit,
  label,
  help,
  unit,
  required = true,
  testId,
}: {
  name: string | (string | number)[];
  limit: LimitKey;
  label?: string;
  help?: string;
  unit?: Unit | null;
  required?: boolean;
  testId?: string;
}) {
  const { t } = useTranslation();
  const u = unit === undefined ? unitOf(limit) : unit;
  const key = typeof name === 'string' ? name : limit;
  return (
    <Form.Item
      name={name}
      label={label ?? fieldLabel(t, key)}
      extra={(help ?? fieldHelp(t, key)) || undefined}
      rules={numberRules(t, L[limit], u, required)}
      validateFirst
    >
      <NumberInput unit={u} testId={testId ?? `policy-field-${key}`} />
    </Form.Item>
  );
}

const starOptions = (t: (k: 'settings.fields.starN', o: { n: number }) => string) =>
  [0, 1, 2, 3, 4].map((n) => ({ value: n, label: t('settings.fields.starN', { n }) }));

function KeyCustomerFields({ products }: { products: readonly string[] }) {
  const { t } = useTranslation();
  const access = useAccess();
  const offered = useQuery({
    queryKey: ['pump-products'],
    queryFn: () => unwrap(client.GET('/api/pump/products')),
    staleTime: Infinity,
    enabled: access.canReadCustomers,
  });
  const options = [...new Set([...(offered.data ?? []), ...products])].map((p) => ({ value: p, label: p }));
  return (
    <>
      <Form.Item
        name="products"
        label={t('settings.fields.products')}
        extra={t('settings.fields.productsHelp')}
        rules={[
          { required: true, type: 'array', min: 1, message: t('validation.required') },
          { type: 'array', max: TEXT.products, message: t('settings.v.listMax', { max: TEXT.products }) },
          {
            validator: (_r, v: string[] | undefined) =>
              (v ?? []).every((p) => p.trim().length > 0 && p.length <= TEXT.product)
                ? Promise.resolve()
                : Promise.reject(new Error(t('settings.v.text', { max: TEXT.product }))),
          },
        ]}
      >
        <Select
          mode="tags"
          options={options}
          tokenSeparators={[',', '，', '、']}
          style={{ maxWidth: 520 }}
          data-testid="policy-field-products"
        />
      </Form.Item>
      <Row gutter={16}>
        <Col xs={24} sm={12}>
          <NumberField name="minTransactionYuan" limit="minTransactionYuan" />
        </Col>
        <Col xs={24} sm={12}>
          <NumberField name="topShare" limit="topShare" />
        </Col>
      </Row>
    </>
  );
}

function StarRatingFields({ form }: { form: FormInstance<PolicyForm> }) {
  const { t } = useTranslation();
  const basis = (Form.useWatch('basis', form) as string | undefined) ?? 'volume';
  const rows = (Form.useWatch('thresholds', form) as ThresholdRow[] | undefined) ?? [];
  const unit: Unit = basis === 'amount' ? 'yuan' : 'litre';
  const used = new Set(rows.map((r) => r?.kind));
  const kindOptions = [...new Set([...CUSTOMER_KINDS, ...used])]
    .filter((k) => k !== 'default')
    .map((k) => ({ value: k, label: kindLabel(t, k), disabled: used.has(k) }));
  const thresholdRules = (row: number, i: number): FormRule[] => [
    ...numberRules(t, { ...L.threshold, money: unit === 'yuan' }, unit),
    ({ getFieldValue }) => ({
      validator: (_r, v: unknown) => {
        const prev = i > 0 ? (getFieldValue(['thresholds', row, 'values', i - 1]) as unknown) : null;
        return typeof v === 'number' && typeof prev === 'number' && v <= prev
          ? Promise.reject(new Error(t('settings.problems.thresholds_rise')))
          : Promise.resolve();
      },
    }),
  ];
  return (
    <>
      <Form.Item
        name="basis"
        label={t('settings.fields.basis')}
        extra={t('settings.fields.basisHelp')}
        rules={[{ required: true }]}
      >
        <Radio.Group
          optionType="button"
          options={[
            { value: 'volume', label: t('settings.fields.bases.volume') },
            { value: 'amount', label: t('settings.fields.bases.amount') },
          ]}
        />
      </Form.Item>
      <Form.Item label={t('settings.fields.thresholds')} extra={t('settings.fields.thresholdsHelp')} required>
        <Form.List name="thresholds">
          {(fields, { add, remove }) => (
            <>
              {fields.map((field) => {
                const isDefault = rows[field.name]?.kind === 'default';
                return (
                  <Card
                    key={field.key}
                    size="small"
                    style={{ marginBottom: 8 }}
                    data-testid={`threshold-row-${field.name}`}
                  >
                    <Flex gap={8} align="start">
                      <Form.Item
                        name={[field.name, 'kind']}
                        label={t('settings.fields.thresholdKind')}
                        style={{ flex: '1 1 auto', maxWidth: 260 }}
                        rules={[
                          { required: true, message: t('validation.select') },
                          uniqueRule(t, 'thresholds', field.name, 'kind', 'settings.v.kindUnique'),
                        ]}
                      >
                        {isDefault ? (
                          <Select disabled options={[{ value: 'default', label: kindLabel(t, 'default') }]} />
                        ) : (
                          <Select options={kindOptions} />
                        )}
                      </Form.Item>
                      {!isDefault && (
                        <Button
                          type="text"
                          danger
                          icon={<DeleteOutlined />}
                          onClick={() => remove(field.name)}
                          aria-label={t('settings.remove')}
                          style={{ marginTop: 30 }}
                        />
                      )}
                    </Flex>
                    <Row gutter={12}>
                      {[0, 1, 2, 3].map((i) => (
                        <Col xs={12} md={6} key={i}>
                          <Form.Item
                            name={[field.name, 'values', i]}
                            label={t('settings.fields.starN', { n: i + 1 })}
                            rules={thresholdRules(field.name, i)}
                            dependencies={i > 0 ? [['thresholds', field.name, 'values', i - 1]] : []}
                            validateFirst
                            style={{ marginBottom: 8 }}
                          >
                            <NumberInput unit={unit} testId={`threshold-${field.name}-${i}`} />
                          </Form.Item>
                        </Col>
                      ))}
                    </Row>
                  </Card>
                );
              })}
              {kindOptions.some((o) => !o.disabled) && (
                <Button
                  icon={<PlusOutlined />}
                  onClick={() =>
                    add({
                      kind: kindOptions.find((o) => !o.disabled)?.value,
                      values: [...(rows[0]?.values ?? [null, null, null, null])],
                    })
                  }
                >
                  {t('settings.fields.addThresholdKind')}
                </Button>
              )}
            </>
          )}
        </Form.List>
      </Form.Item>
      <Row gutter={16}>
        <Col xs={24} sm={12}>
          <NumberField name="computeDay" limit="computeDay" />
        </Col>
        <Col xs={24} sm={12}>
          <Form.Item
            name="finalDay"
            label={t('settings.fields.finalDay')}
            extra={t('settings.fields.finalDayHelp')}
            dependencies={['computeDay']}
            validateFirst
            rules={[
              ...numberRules(t, L.finalDay, null),
              ({ getFieldValue }) => ({
                validator: (_r, v: unknown) => {
                  const compute = getFieldValue('computeDay') as unknown;
                  return typeof v === 'number' && typeof compute === 'number' && v < compute
                    ? Promise.reject(new Error(t('settings.problems.final_before_compute')))
                    : Promise.resolve();
                },
              }),
            ]}
          >
            <NumberInput unit={null} testId="policy-field-finalDay" />
          </Form.Item>
        </Col>
      </Row>
    </>
  );
}

function ClassesFields() {
  const { t } = useTranslation();
  return (
    <Form.Item label={t('settings.fields.classes')} extra={t('settings.fields.classesHelp')} required>
      <Form.List
        name="classes"
        rules={[
          {
            validator: (_r, v: unknown[] | undefined) =>
              (v?.length ?? 0) < 1
                ? Promise.reject(new Error(t('validation.required')))
                : (v?.length ?? 0) > TEXT.classes
                  ? Promise.reject(new Error(t('settings.v.listMax', { max: TEXT.classes })))
                  : Promise.resolve(),
          },
        ]}
      >
        {(fields, { add, remove }, { errors }) => (
          <>
            <Row gutter={12} wrap={false} style={{ marginBottom: 4 }}>
              <Col flex="1 1 0">{t('settings.fields.classCode')}</Col>
              <Col flex="1 1 0">{t('settings.fields.classMinStars')}</Col>
              <Col flex="none" style={{ width: 32 }} />
            </Row>
            {fields.map((field) => (
              <Row gutter={12} key={field.key} align="top" wrap={false}>
                <Col flex="1 1 0">
                  <Form.Item
                    name={[field.name, 'code']}
                    rules={[...textRules(t, TEXT.classCode), uniqueRule(t, 'classes', field.name)]}
                  >
                    <Input
                      maxLength={TEXT.classCode}
                      aria-label={t('settings.fields.classCode')}
                      data-testid={`class-code-${field.name}`}
                    />
                  </Form.Item>
                </Col>
                <Col flex="1 1 0">
                  <Form.Item name={[field.name, 'minStars']} rules={numberRules(t, L.minStars, 'star')}>
                    <Select options={starOptions(t)} aria-label={t('settings.fields.classMinStars')} />
                  </Form.Item>
                </Col>
                <Col flex="none">
                  <Button
                    type="text"
                    danger
                    icon={<DeleteOutlined />}
                    onClick={() => remove(field.name)}
                    aria-label={t('settings.remove')}
                    disabled={fields.length <= 1}
                  />
                </Col>
              </Row>
            ))}
            <Form.ErrorList errors={errors} />
            {fields.length < TEXT.classes && (
              <Button icon={<PlusOutlined />} onClick={() => add({ code: '', minStars: 0 })}>
                {t('settings.fields.addClass')}
              </Button>
            )}
          </>
        )}
      </Form.List>
    </Form.Item>
  );
}

function BenefitsFields() {
  const { t } = useTranslation();
  return (
    <Form.List name="benefits">
      {(fields, { add, remove }) => (
        <>
          {fields.length === 0 && (
            <div style={{ marginBottom: 12, color: 'rgba(0,0,0,0.45)' }}>{t('settings.fields.benefitsEmpty')}</div>
          )}
          {fields.map((field) => (
            <Card
              key={field.key}
              size="small"
              style={{ marginBottom: 12 }}
              title={`${t('settings.fields.benefit')} ${field.name + 1}`}
              extra={
                <Button
                  type="text"
                  danger
                  icon={<DeleteOutlined />}
                  onClick={() => remove(field.name)}
                  aria-label={t('settings.remove')}
                />
              }
            >
              <Row gutter={16}>
                <Col xs={24} md={12}>
                  <Form.Item
                    name={[field.name, 'code']}
                    label={t('settings.fields.benefitCode')}
                    extra={t('settings.fields.benefitCodeHelp')}
                    rules={[...benefitCodeRules(t, TEXT.benefitCode), uniqueRule(t, 'benefits', field.name)]}
                  >
                    <Input maxLength={TEXT.benefitCode} style={{ fontFamily: 'monospace' }} />
                  </Form.Item>
                </Col>
                <Col xs={24} md={12}>
                  <Form.Item
                    name={[field.name, 'nameZh']}
                    label={t('settings.fields.benefitNameZh')}
                    rules={textRules(t, TEXT.benefitName)}
                  >
                    <Input maxLength={TEXT.benefitName} />
                  </Form.Item>
                </Col>
                <Col xs={24} md={12}>
                  <Form.Item
                    name={[field.name, 'nameEn']}
                    label={t('settings.fields.benefitNameEn')}
                    rules={textRules(t, TEXT.benefitName)}
                  >
                    <Input maxLength={TEXT.benefitName} />
                  </Form.Item>
                </Col>
                <Col xs={12} md={6}>
                  <Form.Item
                    name={[field.name, 'minStars']}
                    label={t('settings.fields.benefitMinStars')}
                    rules={numberRules(t, L.minStars, 'star')}
                  >
                    <Select options={starOptions(t)} />
                  </Form.Item>
                </Col>
                <Col xs={12} md={6}>
                  <NumberField
                    name={[field.name, 'consecutiveMonths']}
                    limit="consecutiveMonths"
                    label={t('settings.fields.consecutiveMonths')}
                    help=""
                  />
                </Col>
                <Col xs={24} md={12}>
                  <NumberField
                    name={[field.name, 'discountYuanPerTon']}
                    limit="discountYuanPerTon"
                    label={t('settings.fields.discountYuanPerTon')}
                    help={t('settings.fields.discountYuanPerTonHelp')}
                    required={false}
                  />
                </Col>
              </Row>
            </Card>
          ))}
          {fields.length < TEXT.benefits && (
            <Button
              icon={<PlusOutlined />}
              onClick={() => add({ code: '', nameZh: '', nameEn: '', minStars: 3, consecutiveMonths: 3 })}
              style={{ marginBottom: 24 }}
            >
              {t('settings.fields.addBenefit')}
            </Button>
          )}
        </>
      )}
    </Form.List>
  );
}

function PlainFields({ names }: { names: LimitKey[] }) {
  return (
    <Row gutter={16}>
      {names.map((n) => (
        <Col xs={24} sm={12} key={n}>
          <NumberField name={n} limit={n} />
        </Col>
      ))}
    </Row>
  );
}

/** The fields of one policy kind's form. */
export function PolicyFields({
  kind,
  form,
  products,
}: {
  kind: PolicyKind;
  form: FormInstance<PolicyForm>;
  products: readonly string[];
}) {
  switch (kind) {
    case 'key_customer':
      return <KeyCustomerFields products={products} />;
    case 'star_rating':
      return <StarRatingFields form={form} />;
    case 'classes':
      return <ClassesFields />;
    case 'benefits':
      return <BenefitsFields />;
    case 'ownership':
      return <OwnershipFields />;
    case 'card':
    case 'anomaly':
    case 'contact':
      return <PlainFields names={numberFieldsOf(kind)} />;
  }
}
