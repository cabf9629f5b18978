// Turning API errors into words on the page: translated by code when the catalog knows it.
import { App, type FormInstance } from 'antd';
import { useCallback } from 'react';
import { ApiError } from '../api/client.js';
import { i18n } from '../i18n/index.js';

export function errorText(err: unknown): string {
  const code = err instanceof ApiError ? err.code : 'UNKNOWN';
  const key = `errors.${code}`;
  if (i18n.exists(key)) return i18n.t(key as 'errors.UNKNOWN', { code });
  // An error the catalog does not know yet: the server's own message is better than nothing.
  if (err instanceof ApiError && err.message) return err.message;
  return i18n.t('errors.UNKNOWN', { code });
}

/** `body.company.code` → ['company', 'code'], the form's name path when forms mirror request bodies. */
function namePathOf(field: string): string[] {
  return field
    .replace(/^(body|querystring|params)\.?/, '')
    .split('.')
    .filter(Boolean);
}

function hasPath(values: unknown, path: string[]): boolean {
  let cur: unknown = values;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || !(key in cur)) return false;
    cur = (cur as Record<string, unknown>)[key];
  }
  return true;
}

/** Show errors with antd: on the form field the server named, else as a message. */
export function useShowError() {
  const { message } = App.useApp();
  return useCallback(
    (err: unknown, form?: FormInstance) => {
      const text = errorText(err);
      if (form && err instanceof ApiError && err.field) {
        const path = namePathOf(err.field);
        if (path.length > 0 && hasPath(form.getFieldsValue(), path)) {
          form.setFields([{ name: path, errors: [text] }]);
          return;
        }
      }
      void message.error(text);
    },
    [message],
  );
}
