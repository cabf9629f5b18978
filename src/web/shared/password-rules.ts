import type { FormRule } from 'antd';
import { i18n } from '../i18n/index.js';

// The server's policy (src/domain/password-policy.ts) decides; this only saves a round trip.
export const MIN_PASSWORD_LENGTH = 10;

export function newPasswordRules(): FormRule[] {
  return [
    { required: true, message: i18n.t('validation.required') },
    { min: MIN_PASSWORD_LENGTH, message: i18n.t('validation.passwordMin') },
  ];
}

/** "Confirm password" must equal the field `other`. */
export function confirmRules(other: string | (string | number)[]): FormRule[] {
  return [
    { required: true, message: i18n.t('validation.required') },
    ({ getFieldValue }) => ({
      validator: (_rule, value) =>
        !value || getFieldValue(other) === value
          ? Promise.resolve()
          : Promise.reject(new Error(i18n.t('validation.passwordMismatch'))),
    }),
  ];
}
