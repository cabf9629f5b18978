// Create or edit a customer in a drawer. A plate, phone or card already on file is shown with links
// before anything is created; an edit carries the version it started from, so a concurrent change
// comes back as a conflict with the latest record loaded, never as a silent overwrite.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Col,
  DatePicker,
  Divider,
  Drawer,
  Flex,
  Form,
  Input,
  List,
  Modal,
  Radio,
  Rate,
  Row,
  Select,
  Switch,
  Typography,
} from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { ApiError, client, unwrap, type ApiData, type paths } from '../../api/client.js';
import { useAccess } from '../../access.js';
import { useShowError } from '../../shared/errors.js';
import { OrgTreeSelect } from '../../shared/org-tree-select.js';
import { useIsPhone } from '../../shared/use-is-phone.js';
import { CUSTOMER_KINDS, type CustomerKind } from './labels.js';

export type Customer = ApiData<'/api/customers/{id}'>;
type CreateBody = paths['/api/customers']['post']['requestBody']['content']['application/json'];
type UpdateBody = paths['/api/customers/{id}']['patch']['requestBody']['content']['application/json'];

export type CustomerFormTarget =
  { mode: 'create'; orgUnitId?: number; plate?: string } | { mode: 'edit'; customer: Customer };

interface Values {
  kind: CustomerKind;
  orgUnitId?: number;
  name?: string;
  surname?: string;
  gender?: 'male' | 'female' | null;
  organisation?: string;
  ownerUserId?: number | null;
  phones?: { phone: string; label?: string; contactName?: string }[];
  vehicles?: { plate: string; model?: string }[];
  cards?: string[];
  tags?: string[];
  routes?: string;
  products?: string;
  fuelUse?: string;
  settlementMethod?: string;
  invoiceType?: string;
  demandVolume?: string;
  equipment?: string;
  birthday?: Dayjs | null;
  birthdayCalendar?: 'solar' | 'lunar';
  /** A lunar birthday as lunar year-month-day: 02-30 is one, so no date picker. */
  lunarBirthday?: string;
  otherStations?: string;
  whyUs?: string;
  satisfaction?: number | null;
  notes?: string;
  lookAfter?: boolean;
}

interface DuplicateMatch {
  on: 'plate' | 'phone' | 'card';
  value: string;
  customerId: number | null;
  code: string | null;
  name: string | null;
  inScope: boolean;
  orgUnitId: number;
  orgUnitName: string;
}

const TEXT_FIELDS = [
  'name',
  'surname',
  'organisation',
  'routes',
  'products',
  'fuelUse',
  'settlementMethod',
  'invoiceType',
  'demandVolume',
  'equipment',
  'otherStations',
  'whyUs',
  'notes',
] as const;

function valuesOf(c: Customer): Values {
  return {
    kind: c.kind as CustomerKind,
    orgUnitId: c.orgUnitId,
    ...Object.fromEntries(TEXT_FIELDS.map((f) => [f, c[f] ?? undefined])),
    gender: (c.gender as 'male' | 'female' | null) ?? null,
    ownerUserId: c.ownerUserId,
    phones: c.phones.map((p) => ({
      phone: p.phone,
      label: p.label ?? undefined,
      contactName: p.contactName ?? undefined,
    })),
    vehicles: c.vehicles.map((v) => ({ plate: v.plate, model: v.model ?? undefined })),
    cards: c.cards.map((x) => x.cardNo),
    tags: c.tags,
    birthday: c.birthday && c.birthdayCalendar !== 'lunar' ? dayjs(c.birthday) : null,
    birthdayCalendar: c.birthdayCalendar,
    lunarBirthday: c.birthdayCalendar === 'lunar' ? (c.birthday ?? undefined) : undefined,
    satisfaction: c.satisfaction,
    lookAfter: c.lookAfter,
  };
}

/** The request body: empty text becomes null, and masked phones are never sent back. */
function bodyOf(v: Values, sendPhones: boolean) {
  const text = Object.fromEntries(TEXT_FIELDS.map((f) => [f, v[f]?.trim() ? v[f]!.trim() : null]));
  return {
    ...text,
    kind: v.kind,
    ...(v.orgUnitId && { orgUnitId: v.orgUnitId }),
    gender: v.gender ?? null,
    ownerUserId: v.ownerUserId ?? null,
    ...(sendPhones && {
      phones: (v.phones ?? [])
        .filter((p) => p?.phone?.trim())
        .map((p) => ({
          phone: p.phone.trim(),
          label: p.label?.trim() || null,
          contactName: p.contactName?.trim() || null,
        })),
    }),
    vehicles: (v.vehicles ?? [])
      .filter((x) => x?.plate?.trim())
      .map((x) => ({ plate: x.plate.trim(), model: x.model?.trim() || null })),
    cards: (v.cards ?? []).map((c) => c.trim()).filter(Boolean),
    tags: (v.tags ?? []).map((c) => c.trim()).filter(Boolean),
    birthday:
      v.birthdayCalendar === 'lunar'
        ? v.lunarBirthday?.trim() || null
        : v.birthday
          ? v.birthday.format('YYYY-MM-DD')
          : null,
    birthdayCalendar: v.birthdayCalendar ?? 'solar',
    satisfaction: v.satisfaction || null,
    lookAfter: v.lookAfter ?? false,
  };
}

function OwnerSelect(props: {
  value?: number | null;
  onChange?: (v: number | null) => void;
  fallbackName?: string | null;
}) {
  const [q, setQ] = useState('');
  const users = useQuery({
    queryKey: ['users-pick', q],
    queryFn: () => unwrap(client.GET('/api/users', { params: { query: { page: 1, pageSize: 20, ...(q && { q }) } } })),
  });
  const options = (users.data?.items ?? []).map((u) => ({ value: u.id, label: `${u.displayName}（${u.username}）` }));
  if (props.value && !options.some((o) => o.value === props.value))
    options.unshift({ value: props.value, label: props.fallbackName ?? `#${props.value}` });
  return (
    <Select
      allowClear
      showSearch={{ filterOption: false, onSearch: setQ }}
      options={options}
      value={props.value ?? undefined}
      onChange={(v) => props.onChange?.(v ?? null)}
      loading={users.isFetching}
    />
  );
}

export function CustomerFormDrawer({
  target,
  onClose,
  onSaved,
}: {
  target: CustomerFormTarget | null;
  onClose: () => void;
  onSaved: (c: Customer, created: boolean) => void;
}) {
  const { t } = useTranslation();
  const access = useAccess();
  const isPhone = useIsPhone();
  const showError = useShowError();
  const { message } = App.useApp();
  const [form] = Form.useForm<Values>();
  const [saving, setSaving] = useState(false);
  const [duplicates, setDuplicates] = useState<DuplicateMatch[] | null>(null);
  const [version, setVersion] = useState<number | null>(null);
  const editing = target?.mode === 'edit' ? target.customer : null;
  const phonesEditable = !editing || access.canSeePhones;

  useEffect(() => {
    if (!target) return;
    form.resetFields();
    setDuplicates(null);
    if (target.mode === 'edit') {
      form.setFieldsValue(valuesOf(target.customer));
      setVersion(target.customer.version);
    } else {
      form.setFieldsValue({
        kind: 'individual',
        ...(target.orgUnitId && { orgUnitId: target.orgUnitId }),
        vehicles: target.plate ? [{ plate: target.plate }] : [],
        phones: [],
        lookAfter: false,
      });
      setVersion(null);
    }
  }, [target, form]);

  const save = async (confirmDuplicate = false) => {
    let values: Values;
    try {
      values = await form.validateFields();
    } catch {
      return;
    }
    setSaving(true);
    try {
      if (editing) {
        const body = { ...bodyOf(values, phonesEditable), version: version ?? editing.version } as UpdateBody;
        const saved = await unwrap(client.PATCH('/api/customers/{id}', { params: { path: { id: editing.id } }, body }));
        onSaved(saved, false);
      } else {
        const body = { ...bodyOf(values, true), ...(confirmDuplicate && { confirmDuplicate: true }) } as CreateBody;
        // No owner chosen: whoever creates the customer looks after him (the server's default).
        if (body.ownerUserId === null) delete body.ownerUserId;
        const saved = await unwrap(client.POST('/api/customers', { body }));
        setDuplicates(null);
        onSaved(saved, true);
      }
    } catch (err) {
      if (err instanceof ApiError && err.code === 'DUPLICATE_SUSPECTED' && Array.isArray(err.details)) {
        setDuplicates(err.details as DuplicateMatch[]);
      } else if (err instanceof ApiError && err.code === 'VERSION_CONFLICT' && editing) {
        // Load what the other person saved, so the user checks it before saving again.
        const latest = await unwrap(client.GET('/api/customers/{id}', { params: { path: { id: editing.id } } }));
        form.setFieldsValue(valuesOf(latest));
        setVersion(latest.version);
        void message.warning(t('customers.versionConflict'), 6);
      } else {
        showError(err, form);
      }
    } finally {
      setSaving(false);
    }
  };

  const half = isPhone ? 24 : 12;
  return (
    <Drawer
      open={!!target}
      onClose={onClose}
      size={isPhone ? '100%' : 720}
      title={editing ? `${t('customers.edit')} · ${editing.code}` : t('customers.create')}
      destroyOnHidden
      extra={
        <Button type="primary" loading={saving} onClick={() => void save()} data-testid="customer-save">
          {t('common.save')}
        </Button>
      }
    >
      <Form form={form} layout="vertical" requiredMark="optional" data-testid="customer-form">
        <Row gutter={12}>
          <Col span={half}>
            <Form.Item
              name="kind"
              label={t('customers.kind')}
              rules={[{ required: true, message: t('validation.select') }]}
            >
              <Select options={CUSTOMER_KINDS.map((k) => ({ value: k, label: t(`customers.kinds.${k}`) }))} />
            </Form.Item>
          </Col>
          <Col span={half}>
            <Form.Item name="orgUnitId" label={t('customers.orgUnit')}>
              <OrgTreeSelect allowClear />
            </Form.Item>
          </Col>
          <Col span={half}>
            <Form.Item name="name" label={t('customers.name')}>
              <Input maxLength={200} data-testid="customer-name" />
            </Form.Item>
          </Col>
          <Col span={isPhone ? 12 : 6}>
            <Form.Item name="surname" label={t('customers.surname')}>
              <Input maxLength={32} />
            </Form.Item>
          </Col>
          <Col span={isPhone ? 12 : 6}>
            <Form.Item name="gender" label={t('customers.gender')}>
              <Select
                allowClear
                options={(['male', 'female'] as const).map((g) => ({ value: g, label: t(`customers.genders.${g}`) }))}
              />
            </Form.Item>
          </Col>
          <Col span={half}>
            <Form.Item name="organisation" label={t('customers.organisation')}>
              <Input maxLength={200} />
            </Form.Item>
          </Col>
          {access.canReadUsers && (
            <Col span={half}>
              <Form.Item name="ownerUserId" label={t('customers.owner')}>
                <OwnerSelect fallbackName={editing?.ownerName} />
              </Form.Item>
            </Col>
          )}
        </Row>

        <Divider titlePlacement="start">{t('customers.sections.contacts')}</Divider>
        {phonesEditable ? (
          <Form.List name="phones">
            {(fields, { add, remove }) => (
              <>
                {fields.map((f) => (
                  <Flex key={f.key} gap={8} align="start">
                    <Form.Item
                      name={[f.name, 'phone']}
                      rules={[{ required: true, message: t('validation.required') }]}
                      style={{ flex: 2 }}
                    >
                      <Input
                        placeholder={t('customers.phone')}
                        inputMode="tel"
                        maxLength={40}
                        data-testid={`customer-phone-${f.name}`}
                      />
                    </Form.Item>
                    <Form.Item name={[f.name, 'contactName']} style={{ flex: 1 }}>
                      <Input placeholder={t('customers.contactName')} maxLength={100} />
                    </Form.Item>
                    <Button
                      type="text"
                      icon={<MinusCircleOutlined />}
                      onClick={() => remove(f.name)}
                      aria-label={t('common.delete')}
                    />
                  </Flex>
                ))}
                <Button
                  type="dashed"
                  icon={<PlusOutlined />}
                  onClick={() => add({ phone: '' })}
                  block
                  style={{ marginBottom: 16 }}
                  data-testid="customer-add-phone"
                >
                  {t('customers.addPhone')}
                </Button>
              </>
            )}
          </Form.List>
        ) : (
          <Alert
            type="info"
            showIcon
            style={{ marginBottom: 16 }}
            title={`${t('customers.phones')}: ${editing?.phones.map((p) => p.phone).join('、') || t('common.none')} (${t('customers.masked')})`}
          />
        )}
        <Form.List name="vehicles">
          {(fields, { add, remove }) => (
            <>
              {fields.map((f) => (
                <Flex key={f.key} gap={8} align="start">
                  <Form.Item
                    name={[f.name, 'plate']}
                    rules={[{ required: true, message: t('validation.required') }]}
                    style={{ flex: 1 }}
                  >
                    <Input placeholder={t('customers.plate')} maxLength={20} data-testid={`customer-plate-${f.name}`} />
                  </Form.Item>
                  <Form.Item name={[f.name, 'model']} style={{ flex: 1 }}>
                    <Input placeholder={t('customers.model')} maxLength={100} />
                  </Form.Item>
                  <Button
                    type="text"
                    icon={<MinusCircleOutlined />}
                    onClick={() => remove(f.name)}
                    aria-label={t('common.delete')}
                  />
                </Flex>
              ))}
              <Button
                type="dashed"
                icon={<PlusOutlined />}
                onClick={() => add({ plate: '' })}
                block
                style={{ marginBottom: 16 }}
                data-testid="customer-add-vehicle"
              >
                {t('customers.addVehicle')}
              </Button>
            </>
          )}
        </Form.List>
        <Row gutter={12}>
          <Col span={half}>
            <Form.Item name="cards" label={t('customers.cards')}>
              <Select mode="tags" tokenSeparators={[',', '，', ' ']} open={false} suffixIcon={null} />
            </Form.Item>
          </Col>
          <Col span={half}>
            <Form.Item name="tags" label={t('customers.tags')}>
              <Select mode="tags" tokenSeparators={[',', '，']} open={false} suffixIcon={null} />
            </Form.Item>
          </Col>
        </Row>

        <Divider titlePlacement="start">{t('customers.sections.profile')}</Divider>
        <Row gutter={12}>
          {(
            [
              'products',
              'routes',
              'fuelUse',
              'demandVolume',
              'settlementMethod',
              'invoiceType',
              'otherStations',
              'whyUs',
            ] as const
          ).map((f) => (
            <Col key={f} span={half}>
              <Form.Item name={f} label={t(`customers.${f}`)}>
                <Input maxLength={f === 'settlementMethod' || f === 'invoiceType' ? 32 : 500} />
              </Form.Item>
            </Col>
          ))}
          <Col span={24}>
            <Form.Item name="equipment" label={t('customers.equipment')}>
              <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} maxLength={2000} />
            </Form.Item>
          </Col>
          <Col span={half}>
            <Form.Item name="birthdayCalendar" label={t('customers.birthdayCalendar')} initialValue="solar">
              <Radio.Group
                optionType="button"
                options={[
                  { value: 'solar', label: t('customers.solar') },
                  { value: 'lunar', label: t('customers.lunar') },
                ]}
                data-testid="birthday-calendar"
              />
            </Form.Item>
          </Col>
          <Col span={half}>
            <Form.Item noStyle shouldUpdate={(a: Values, b: Values) => a.birthdayCalendar !== b.birthdayCalendar}>
              {({ getFieldValue }) =>
                getFieldValue('birthdayCalendar') === 'lunar' ? (
                  <Form.Item
                    name="lunarBirthday"
                    label={t('customers.birthday')}
                    extra={t('customers.lunarHelp')}
                    rules={[
                      { pattern: /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|30)$/, message: t('customers.lunarFormat') },
                    ]}
                  >
                    <Input placeholder="1980-08-15" data-testid="lunar-birthday" />
                  </Form.Item>
                ) : (
                  <Form.Item name="birthday" label={t('customers.birthday')}>
                    <DatePicker style={{ width: '100%' }} />
                  </Form.Item>
                )
              }
            </Form.Item>
          </Col>
          <Col span={half}>
            <Form.Item name="satisfaction" label={t('customers.satisfaction')}>
              <Rate />
            </Form.Item>
          </Col>
          <Col span={24}>
            <Form.Item name="notes" label={t('customers.notes')}>
              <Input.TextArea autoSize={{ minRows: 2, maxRows: 6 }} maxLength={5000} />
            </Form.Item>
          </Col>
          <Col span={24}>
            <Form.Item
              name="lookAfter"
              label={t('customers.lookAfter')}
              valuePropName="checked"
              extra={t('customers.lookAfterHint')}
            >
              <Switch />
            </Form.Item>
          </Col>
        </Row>
      </Form>
      <Modal
        open={!!duplicates}
        title={t('customers.duplicateTitle')}
        onCancel={() => setDuplicates(null)}
        footer={[
          <Button key="cancel" onClick={() => setDuplicates(null)}>
            {t('common.cancel')}
          </Button>,
          <Button
            key="anyway"
            danger
            loading={saving}
            onClick={() => void save(true)}
            data-testid="customer-create-anyway"
          >
            {t('customers.createAnyway')}
          </Button>,
        ]}
      >
        <Typography.Paragraph>{t('customers.duplicateIntro')}</Typography.Paragraph>
        <List
          size="small"
          dataSource={duplicates ?? []}
          data-testid="customer-duplicates"
          renderItem={(d) => (
            <List.Item>
              <Typography.Text type="secondary">{t(`customers.duplicateOn.${d.on}`)}</Typography.Text>&nbsp;{d.value}
              &nbsp;→&nbsp;
              {d.inScope && d.customerId ? (
                <Link to={`/customers/${d.customerId}`} onClick={onClose}>
                  {d.name ?? d.code} ({d.code})
                </Link>
              ) : (
                <Link to="/access-requests" onClick={onClose}>
                  {t('customers.duplicateElsewhere', { unit: d.orgUnitName })}
                </Link>
              )}
            </List.Item>
          )}
        />
      </Modal>
    </Drawer>
  );
}
