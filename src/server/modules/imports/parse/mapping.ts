// Which column is which: the headers old archives, card systems and e-ledgers use, recognised so
// that most files need no mapping by hand. A mapping is header → field. Every customer field's own
// label (what the app calls it, src/domain/customer-labels.ts) maps to it as well.
import { CUSTOMER_FIELD_LABELS, LABEL_LOCALES } from '../../../../domain/customer-labels.js';

export type ImportKind = 'customers' | 'cards' | 'transactions' | 'topups' | 'org_units' | 'users';

/** The fields each kind of import takes, in the order the UI offers them. */
export const IMPORT_FIELDS: Record<ImportKind, readonly string[]> = {
  customers: [
    'name',
    'surname',
    'kind',
    'contactName',
    'phone',
    'phone2',
    'plate',
    'model',
    'cardNo',
    'organisation',
    'birthday',
    'routes',
    'products',
    'fuelUse',
    'settlementMethod',
    'invoiceType',
    'demandVolume',
    'equipment',
    'otherStations',
    'whyUs',
    'tags',
    'notes',
    'owner',
  ],
  cards: ['cardNo', 'name', 'contactName', 'phone', 'plate', 'model', 'kind', 'organisation', 'notes'],
  transactions: [
    'occurredAt',
    'occurredTime',
    'externalId',
    'stationCode',
    'cardNo',
    'plate',
    'product',
    'volumeLitres',
    'unitPrice',
    'amount',
    'payment',
  ],
  topups: ['occurredAt', 'occurredTime', 'externalId', 'stationCode', 'cardNo', 'amount', 'bonus', 'payment'],
  org_units: ['unitCode', 'unitName', 'parentCode', 'unitKind', 'timeZone'],
  users: ['displayName', 'username', 'userUnitCode', 'roles', 'mobile'],
};

export function requiredFields(kind: ImportKind): string[] {
  if (kind === 'transactions') return ['occurredAt', 'volumeLitres', 'product'];
  if (kind === 'topups') return ['occurredAt', 'cardNo', 'amount'];
  if (kind === 'cards') return ['cardNo'];
  if (kind === 'org_units') return ['unitCode', 'unitName'];
  if (kind === 'users') return ['displayName', 'username', 'userUnitCode', 'roles'];
  return [];
}

// Normalised header words (see `headerKey`) per field; the first field whose list holds the header wins.
const SYNONYMS: Record<string, string[]> = {
  name: [
    '客户名称',
    '客户姓名',
    '姓名',
    '名称',
    '客户',
    '客户名',
    '持卡人',
    '持卡人姓名',
    'name',
    'customername',
    'customer',
  ],
  surname: ['姓', '姓氏', 'surname', 'familyname', 'lastname'],
  kind: ['客户类型', '客户类别', '类型', '类别', '客户性质', 'kind', 'type', 'customertype'],
  contactName: ['联系人', '联系人姓名', '负责人', 'contact', 'contactname'],
  phone: [
    '手机',
    '手机号',
    '手机号码',
    '电话',
    '联系电话',
    '电话号码',
    '联系方式',
    '移动电话',
    'phone',
    'mobile',
    'tel',
    'telephone',
  ],
  phone2: ['电话2', '备用电话', '座机', '固定电话', '办公电话', 'phone2'],
  plate: ['车牌号', '车牌', '车牌号码', '车号', 'plate', 'plateno', 'licenseplate', 'vehicleplate'],
  model: ['车型', '车辆型号', '车辆类型', '品牌型号', 'model', 'vehiclemodel'],
  cardNo: ['加油卡号', '卡号', 'ic卡号', '加油卡', '油卡卡号', '卡片号', 'cardno', 'card', 'cardnumber'],
  organisation: [
    '单位',
    '单位名称',
    '所属单位',
    '工作单位',
    '公司',
    '公司名称',
    '企业名称',
    'organisation',
    'organization',
    'company',
  ],
  birthday: ['生日', '出生日期', '出生年月', 'birthday', 'dateofbirth', 'birthdate'],
  routes: ['路线', '运输路线', '常跑线路', '常跑路线', '线路', '跑哪条线', '行驶路线', 'routes', 'route'],
  products: ['常用油品', '需求油品', '用油品种', 'products'],
  fuelUse: ['用途', '用油用途', '消费用途', 'fueluse', 'use'],
  settlementMethod: ['结算方式', '付款方式', 'settlement', 'settlementmethod'],
  invoiceType: ['开票类型', '发票类型', 'invoice', 'invoicetype'],
  demandVolume: ['需求量', '月需求量', '用油量', '月用油量', 'demand', 'demandvolume'],
  equipment: ['设备', '设备情况', '运输情况', '车辆情况', 'equipment'],
  otherStations: ['其他加油站', '还在哪加油', '其他油站', 'otherstations'],
  whyUs: ['选择原因', '选择我站原因', 'whyus'],
  tags: ['标签', 'tags', 'tag'],
  notes: ['备注', '说明', '备注信息', 'notes', 'note', 'remark', 'remarks'],
  owner: ['负责人', '客户经理', '维护人', '归属人', '负责人用户名', 'owner', 'ownerusername'],
  occurredAt: [
    '交易时间',
    '充值时间',
    '时间',
    '交易日期',
    '日期',
    '加油时间',
    '消费时间',
    '发生时间',
    '充值日期',
    'occurredat',
    'time',
    'datetime',
    'date',
    'transactiontime',
  ],
  externalId: [
    '交易号',
    '流水号',
    '交易流水号',
    '充值流水号',
    '充值单号',
    '单号',
    '小票号',
    '交易编号',
    '订单号',
    'externalid',
    'id',
    'transactionid',
    'txnid',
  ],
  stationCode: [
    '站点编码',
    '油站编码',
    '加油站编码',
    '站号',
    '站点代码',
    '油站代码',
    '站编码',
    'stationcode',
    'station',
  ],
  product: ['油品', '油品名称', '商品', '商品名称', '品名', '油号', 'product', 'fuel', 'grade'],
  volumeLitres: [
    '数量(升)',
    '数量',
    '升数',
    '加油量',
    '加油量(升)',
    '油量',
    '油量(升)',
    '体积(升)',
    'volume',
    'volumelitres',
    'litres',
    'liters',
    'volume(l)',
  ],
  unitPrice: ['单价', '单价(元)', '价格', '单价(元/升)', 'unitprice', 'price'],
  amount: [
    '金额',
    '金额(元)',
    '交易金额',
    '消费金额',
    '实收金额',
    '应收金额',
    '充值金额',
    '充值额',
    'amount',
    'total',
    'amount(yuan)',
  ],
  bonus: ['赠送金额', '赠送', '赠额', '赠送额', '充值赠送', '返赠金额', 'bonus', 'gift', 'bonusamount'],
  payment: ['支付方式', '付款类型', '充值方式', 'payment', 'paymentmethod'],
  // Org units and users (onboarding a company); the kinds' own fields, so 名称 here is a unit's name.
  unitCode: ['单位编码', '机构编码', '组织编码', '部门编码', '编码', '代码', 'unitcode', 'orgcode', 'code'],
  unitName: ['单位名称', '机构名称', '组织名称', '部门名称', '名称', 'unitname', 'orgname', 'name'],
  parentCode: ['上级单位编码', '上级编码', '上级机构编码', '上级组织编码', '上级单位', '上级', 'parentcode', 'parent'],
  unitKind: ['单位类型', '机构类型', '组织类型', '层级', '级别', '类型', 'unitkind', 'kind', 'type', 'level'],
  timeZone: ['时区', 'timezone', 'tz'],
  displayName: ['姓名', '名字', '员工姓名', '显示名', '显示名称', 'displayname', 'fullname', 'name'],
  username: ['用户名', '账号', '帐号', '登录名', '登录账号', '工号', 'username', 'login', 'account', 'user'],
  userUnitCode: ['所属单位编码', '单位编码', '所属单位', '所属机构编码', '所在单位编码', 'unitcode', 'unit', 'orgcode'],
  roles: ['角色', '角色编码', '岗位角色', '岗位', 'roles', 'role'],
  mobile: ['手机号', '手机', '手机号码', '联系电话', '电话', '移动电话', 'phone', 'mobile', 'tel'],
};

/** What the app itself calls a field (in each language), plus the plural list labels of the archive. */
export function ownLabels(field: string): string[] {
  const plural: Record<string, string> = { phone: 'phones', plate: 'vehicles', cardNo: 'cards' };
  const out: string[] = [];
  for (const locale of LABEL_LOCALES) {
    const labels = CUSTOMER_FIELD_LABELS[locale] as Record<string, string>;
    if (labels[field]) out.push(labels[field]);
    const list = plural[field];
    if (list && labels[list]) out.push(labels[list]);
  }
  return out;
}

/** Header text as compared: no spaces, half-width brackets, lower case. */
export function headerKey(h: string): string {
  return h
    .normalize('NFKC') // full-width （升） → (升), Ａ → A
    .replace(/[\s_\-:：*]/g, '')
    .toLowerCase();
}

/**
 * A suggested mapping for these headers: each header matched against the field's usual names, a
 * field used at most once (the first column wins).
 */
export function suggestMapping(headers: readonly string[], kind: ImportKind): Record<string, string> {
  const fields = IMPORT_FIELDS[kind];
  const lookup = new Map<string, string>();
  // A field's own label wins over another field's synonym: 联系电话 is the app's label of the phones.
  for (const f of fields) for (const w of ownLabels(f)) if (!lookup.has(headerKey(w))) lookup.set(headerKey(w), f);
  for (const f of fields) for (const w of SYNONYMS[f] ?? []) if (!lookup.has(headerKey(w))) lookup.set(headerKey(w), f);
  const used = new Set<string>();
  const out: Record<string, string> = {};
  for (const h of headers) {
    if (!h || h in out) continue;
    const field = lookup.get(headerKey(h));
    if (field && !used.has(field)) {
      out[h] = field;
      used.add(field);
    }
  }
  // Units in the header ("加油量（升）", "数量(L)") after the plain names failed; a weight is not a volume.
  for (const h of headers) {
    if (!h || h in out) continue;
    if (/吨|公斤|kg|\(t\)/.test(headerKey(h))) continue;
    const bare = headerKey(h).replace(/\(.*\)$/, '');
    const field = lookup.get(bare);
    if (field && !used.has(field)) {
      out[h] = field;
      used.add(field);
    }
  }
  // E-ledgers often put the day and the time of day in two columns: 日期 + 时间.
  if (kind === 'transactions' || kind === 'topups') {
    const dateCol = headers.find((h) => DATE_ONLY.has(headerKey(h)));
    const timeCol = headers.find((h) => TIME_ONLY.has(headerKey(h)));
    if (dateCol && timeCol) {
      for (const h of Object.keys(out)) if (out[h] === 'occurredAt') delete out[h];
      out[dateCol] = 'occurredAt';
      out[timeCol] = 'occurredTime';
    }
  }
  return out;
}

const DATE_ONLY = new Set(['日期', '交易日期', '加油日期', '消费日期', '充值日期', 'date']);
const TIME_ONLY = new Set(['时间', '交易时刻', '时刻', 'time']);
