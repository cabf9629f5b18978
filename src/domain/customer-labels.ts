// What a customer's fields and coded values are called in each language the product speaks. The web
// catalogs (src/web/i18n) spread these into their `customers` section and the server's export writes
// them as column headers and cell values, so a spreadsheet says what the screen says.

export const LABEL_LOCALES = ['zh-CN', 'en-US'] as const;
export type LabelLocale = (typeof LABEL_LOCALES)[number];

/** A user's stored locale as one we have labels for; anything else reads Chinese, the default. */
export function labelLocale(locale: string | null | undefined): LabelLocale {
  return (LABEL_LOCALES as readonly string[]).includes(locale ?? '') ? (locale as LabelLocale) : 'zh-CN';
}

const FIELDS_ZH = {
  code: '客户编码',
  kind: '客户类型',
  name: '姓名/名称',
  surname: '姓',
  gender: '性别',
  organisation: '所在单位',
  parent: '上级单位',
  owner: '负责人',
  orgUnit: '所属机构',
  routes: '常跑线路',
  products: '常用油品',
  fuelUse: '用油情况',
  settlementMethod: '结算方式',
  invoiceType: '发票类型',
  demandVolume: '需求量',
  equipment: '车辆设备',
  birthday: '生日',
  otherStations: '常去的其他油站',
  whyUs: '选择我站的原因',
  satisfaction: '满意度',
  notes: '备注',
  lookAfter: '需关照',
  phones: '联系电话',
  phone: '电话',
  contactName: '联系人',
  vehicles: '车辆',
  plate: '车牌号',
  model: '车型',
  cards: '加油卡',
  cardNo: '卡号',
  tags: '标签',
  lastVisitAt: '最近到站',
  createdAt: '建档时间',
  profileStep: '建档进度',
};

export type CustomerFieldLabels = Record<keyof typeof FIELDS_ZH, string>;

export const CUSTOMER_FIELD_LABELS: Record<LabelLocale, CustomerFieldLabels> = {
  'zh-CN': FIELDS_ZH,
  'en-US': {
    code: 'Code',
    kind: 'Kind',
    name: 'Name',
    surname: 'Surname',
    gender: 'Gender',
    organisation: 'Organisation',
    parent: 'Parent organisation',
    owner: 'Owner',
    orgUnit: 'Org unit',
    routes: 'Usual routes',
    products: 'Usual products',
    fuelUse: 'Fuel use',
    settlementMethod: 'Settlement',
    invoiceType: 'Invoice type',
    demandVolume: 'Demand',
    equipment: 'Vehicles and equipment',
    birthday: 'Birthday',
    otherStations: 'Other stations used',
    whyUs: 'Why us',
    satisfaction: 'Satisfaction',
    notes: 'Notes',
    lookAfter: 'Look after',
    phones: 'Phones',
    phone: 'Phone',
    contactName: 'Contact',
    vehicles: 'Vehicles',
    plate: 'Plate',
    model: 'Model',
    cards: 'Fuel cards',
    cardNo: 'Card number',
    tags: 'Tags',
    lastVisitAt: 'Last visit',
    createdAt: 'Created',
    profileStep: 'Profile',
  },
};

export interface CustomerValueLabels {
  kinds: { individual: string; organisation: string; residential: string; commercial: string };
  genders: { male: string; female: string };
  /** The three-step profile (customer-profile.ts): s1 plate only, s2 primary archive, s3 full archive. */
  steps: { s1: string; s2: string; s3: string };
  /** fuel_card.status: 'active' is the only status written today; others show as their code. */
  cardStatuses: { active: string };
}

export const CUSTOMER_VALUE_LABELS: Record<LabelLocale, CustomerValueLabels> = {
  'zh-CN': {
    kinds: { individual: '个人', organisation: '单位', residential: '居民', commercial: '工商户' },
    genders: { male: '男', female: '女' },
    steps: { s1: '车牌车型', s2: '基本档案', s3: '完整档案' },
    cardStatuses: { active: '正常' },
  },
  'en-US': {
    kinds: {
      individual: 'Individual',
      organisation: 'Organisation',
      residential: 'Residential',
      commercial: 'Commercial',
    },
    genders: { male: 'Male', female: 'Female' },
    steps: { s1: 'Plate and model', s2: 'Primary archive', s3: 'Full archive' },
    cardStatuses: { active: 'Active' },
  },
};

/** Words only the export needs: its extra columns and how it writes lists, flags and stars. */
export interface CustomerExportWords {
  stars: string;
  ratingClass: string;
  ratingPeriod: string;
  starsValue: (n: number) => string;
  yes: string;
  no: string;
  /** Joins several phones, plates or cards in one cell. */
  listSeparator: string;
  /** Puts a detail (a vehicle's model, a phone's contact) after its value. */
  aside: (value: string, detail: string) => string;
  sheetName: string;
  fileName: string;
}

export const CUSTOMER_EXPORT_WORDS: Record<LabelLocale, CustomerExportWords> = {
  'zh-CN': {
    stars: '星级',
    ratingClass: '分类',
    ratingPeriod: '评级月份',
    starsValue: (n) => `${n} 星`,
    yes: '是',
    no: '否',
    listSeparator: '、',
    aside: (value, detail) => `${value}（${detail}）`,
    sheetName: '客户档案',
    fileName: '客户档案',
  },
  'en-US': {
    stars: 'Stars',
    ratingClass: 'Class',
    ratingPeriod: 'Rating month',
    starsValue: (n) => `${n} ${n === 1 ? 'star' : 'stars'}`,
    yes: 'Yes',
    no: 'No',
    listSeparator: '; ',
    aside: (value, detail) => `${value} (${detail})`,
    sheetName: 'Customers',
    fileName: 'customers',
  },
};

/** A coded value's label, or the code itself when it is one we do not know (never an empty cell). */
export function labelOf<T extends object>(labels: T, code: string | null | undefined): string {
  if (code === null || code === undefined || code === '') return '';
  return Object.prototype.hasOwnProperty.call(labels, code) ? String(labels[code as keyof T]) : code;
}
