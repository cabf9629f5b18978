import { beforeAll, describe, expect, it } from 'vitest';
import i18next, { type TFunction } from 'i18next';
import { zhCN } from '../../i18n/zh-CN.js';
import { enUS } from '../../i18n/en-US.js';
import { POLICY_LIMITS } from '../../../domain/policies.js';
import { changeLabel, changeValue, formPathOf, limitText, serverFieldText } from './policy-format.js';

let zh: TFunction;
let en: TFunction;

beforeAll(async () => {
  const i18n = i18next.createInstance();
  await i18n.init({
    resources: { 'zh-CN': { translation: zhCN }, 'en-US': { translation: enUS } },
    lng: 'zh-CN',
    interpolation: { escapeValue: false },
  });
  zh = i18n.getFixedT('zh-CN');
  en = i18n.getFixedT('en-US');
});

describe('policy settings words', () => {
  it('says what values a field takes, with its unit', () => {
    expect(limitText(zh, POLICY_LIMITS.graceDays, 'day')).toBe('请输入 0–60 天之间的整数');
    expect(limitText(zh, POLICY_LIMITS.discountRate, 'percent')).toBe('请输入 0–50% 之间的数');
    expect(limitText(zh, POLICY_LIMITS.computeDay, null)).toBe('请输入 1–28 之间的整数');
    expect(limitText(zh, POLICY_LIMITS.minMonthlyYuan, 'yuan')).toBe('请输入不小于 0 元的数');
    expect(limitText(en, POLICY_LIMITS.graceDays, 'day')).toBe('Enter a whole number from 0 to 60 days');
  });

  it('names a change and reads its values with units', () => {
    expect(changeLabel(zh, ['graceDays'])).toBe('宽限天数');
    expect(changeLabel(zh, ['thresholds', 'organisation'])).toBe('星级门槛（单位）');
    expect(changeLabel(zh, ['benefits', 'supply_priority', 'minStars'])).toBe('权益 supply_priority · 所需星级');
    expect(changeLabel(zh, ['classes', 'VIP', 'minStars'])).toBe('客户等级 VIP · 最低星级');
    expect(changeValue(zh, ['graceDays'], 5, 'volume')).toBe('5 天');
    expect(changeValue(zh, ['discountRate'], 0.07, 'volume')).toBe('7%');
    expect(changeValue(zh, ['minMonthlyYuan'], 2500.5, 'volume')).toBe('2,500.50 元');
    expect(changeValue(zh, ['thresholds', 'default'], [200, 1000, 3000, 8000], 'volume')).toBe(
      '200 / 1,000 / 3,000 / 8,000 升',
    );
    expect(changeValue(zh, ['thresholds', 'default'], [200, 1000, 3000, 8000], 'amount')).toBe(
      '200.00 / 1,000.00 / 3,000.00 / 8,000.00 元',
    );
    expect(changeValue(zh, ['basis'], 'amount', 'amount')).toBe('按金额（元）');
    expect(changeValue(zh, ['computeDay'], 3, 'volume')).toBe('每月 3 日');
    expect(changeValue(zh, ['classes', 'D', 'minStars'], null, 'volume')).toBe('—');
  });

  it('puts a server refusal on the form field it names', () => {
    expect(formPathOf('body.body.graceDays', [])).toEqual(['graceDays']);
    expect(formPathOf('body.body.thresholds.organisation.2', ['default', 'organisation'])).toEqual([
      'thresholds',
      1,
      'values',
      2,
    ]);
    expect(formPathOf('body.body.classes.3.code', [])).toEqual(['classes', 3, 'code']);
    expect(formPathOf('body.body.products.4', [])).toEqual(['products']);
    expect(formPathOf('body.note', [])).toEqual(['note']);
    expect(formPathOf('params.kind', [])).toBeNull();
    expect(serverFieldText(zh, ['minMonthlyYuan'], 'fen', 'volume')).toBe('金额最多保留两位小数');
    expect(serverFieldText(zh, ['graceDays'], undefined, 'volume')).toBe('请输入 0–60 天之间的整数');
    expect(serverFieldText(zh, ['thresholds', 0, 'values', 1], 'thresholds_rise', 'volume')).toBe(
      '门槛须从 1 星到 4 星逐级升高',
    );
    expect(serverFieldText(zh, ['classes', 0, 'code'], undefined, 'volume')).toBeNull();
  });
});
