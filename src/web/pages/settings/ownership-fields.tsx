// The ownership policy's form: "1:15" and the capacities, the public pool's days per class and its
// limits, and who may look after a class of customer (the level of the owner's unit).
import { useTranslation } from 'react-i18next';
import { Button, Col, Form, Input, InputNumber, Row, Select, Switch, Typography } from 'antd';
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { POLICY_LIMITS as L, POLICY_TEXT_LIMITS as TEXT } from '../../../domain/policies.js';
import { CUSTOMER_KINDS, fieldHelp, fieldLabel, kindLabel, numberRules, textRules } from './policy-format.js';

const NUMBERS = [
  'minCustomersPerOwner',
  'maxCustomersPerOwner',
  'unitCapacity',
  'claimDailyCap',
  'coolingOffDays',
  'reminderDaysBefore',
  'unratedReturnDays',
] as const;
const LEVELS = ['hq', 'branch', 'area', 'station'] as const;

export function OwnershipFields() {
  const { t } = useTranslation();
  const levelOptions = LEVELS.map((l) => ({ value: l, label: t(`ownership.levels.${l}`) }));
  const kindOptions = CUSTOMER_KINDS.map((k) => ({ value: k, label: kindLabel(t, k) }));
  return (
    <>
      <Row gutter={16}>
        {NUMBERS.map((n) => (
          <Col xs={24} sm={12} key={n}>
            <Form.Item
              name={n}
              label={fieldLabel(t, n)}
              extra={fieldHelp(t, n) || undefined}
              rules={numberRules(t, L[n], null)}
            >
              <InputNumber min={L[n].min} max={L[n].max} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
        ))}
        <Col xs={24} sm={12}>
          <Form.Item
            name="exemptRecentPurchase"
            label={fieldLabel(t, 'exemptRecentPurchase')}
            extra={fieldHelp(t, 'exemptRecentPurchase')}
            valuePropName="checked"
          >
            <Switch />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item label={fieldLabel(t, 'returnDays')} extra={fieldHelp(t, 'returnDays')}>
        <Form.List name="returnDays">
          {(fields, { add, remove }) => (
            <>
              {fields.map((f) => (
                <Row gutter={12} key={f.key} wrap={false}>
                  <Col flex="1 1 0">
                    <Form.Item name={[f.name, 'code']} rules={textRules(t, TEXT.classCode)}>
                      <Input maxLength={TEXT.classCode} aria-label={t('settings.fields.classCode')} />
                    </Form.Item>
                  </Col>
                  <Col flex="1 1 0">
                    <Form.Item name={[f.name, 'days']} rules={numberRules(t, L.returnDays, 'day')}>
                      <InputNumber
                        min={1}
                        precision={0}
                        addonAfter={t('settings.units.day')}
                        aria-label={t('settings.fields.returnDays')}
                      />
                    </Form.Item>
                  </Col>
                  <Col flex="none">
                    <Button
                      type="text"
                      danger
                      icon={<DeleteOutlined />}
                      onClick={() => remove(f.name)}
                      aria-label={t('settings.remove')}
                    />
                  </Col>
                </Row>
              ))}
              <Button
                icon={<PlusOutlined />}
                onClick={() => add({ code: '', days: 30 })}
                disabled={fields.length >= TEXT.classes}
              >
                {t('settings.add')}
              </Button>
            </>
          )}
        </Form.List>
      </Form.Item>
      <Form.Item label={fieldLabel(t, 'maintenance')} extra={fieldHelp(t, 'maintenance')}>
        <Form.List name="maintenance">
          {(fields, { add, remove }) => (
            <>
              {fields.map((f) => (
                <Row gutter={[12, 0]} key={f.key} align="top">
                  <Col xs={12} sm={4}>
                    <Form.Item name={[f.name, 'code']} rules={textRules(t, 32)}>
                      <Input
                        maxLength={32}
                        placeholder={t('ownership.ruleCode')}
                        aria-label={t('ownership.ruleCode')}
                      />
                    </Form.Item>
                  </Col>
                  <Col xs={12} sm={4}>
                    <Form.Item name={[f.name, 'classCode']} rules={textRules(t, TEXT.classCode)}>
                      <Input
                        maxLength={TEXT.classCode}
                        placeholder={t('ownership.classAndAbove')}
                        aria-label={t('ownership.classAndAbove')}
                      />
                    </Form.Item>
                  </Col>
                  <Col xs={24} sm={7}>
                    <Form.Item name={[f.name, 'customerKinds']}>
                      <Select
                        mode="multiple"
                        options={kindOptions}
                        placeholder={t('ownership.anyKind')}
                        aria-label={t('ownership.customerKinds')}
                      />
                    </Form.Item>
                  </Col>
                  <Col xs={20} sm={8}>
                    <Form.Item
                      name={[f.name, 'ownerLevels']}
                      rules={[{ required: true, message: t('validation.required') }]}
                    >
                      <Select mode="tags" options={levelOptions} aria-label={t('ownership.ownerLevels')} />
                    </Form.Item>
                  </Col>
                  <Col xs={4} sm={1}>
                    <Button
                      type="text"
                      danger
                      icon={<DeleteOutlined />}
                      onClick={() => remove(f.name)}
                      aria-label={t('settings.remove')}
                    />
                  </Col>
                </Row>
              ))}
              {fields.length === 0 && (
                <Typography.Paragraph type="secondary">{t('ownership.noRules')}</Typography.Paragraph>
              )}
              <Button
                icon={<PlusOutlined />}
                onClick={() => add({ code: '', classCode: '', customerKinds: [], ownerLevels: ['hq', 'branch'] })}
                disabled={fields.length >= 20}
              >
                {t('settings.add')}
              </Button>
            </>
          )}
        </Form.List>
      </Form.Item>
    </>
  );
}
