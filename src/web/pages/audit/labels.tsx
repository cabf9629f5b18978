// How the audit log's codes and actors are shown, on the audit page and in a record's history.
import { useTranslation } from 'react-i18next';
import { Tooltip } from 'antd';
import { i18n } from '../../i18n/index.js';

/** An action or record-type code by its name in the catalog (test/platform/audit-catalog.test.ts keeps it complete). */
export function auditLabel(group: 'actions' | 'entities', code: string): string {
  const key = `audit.${group}.${code}`;
  return i18n.exists(key) ? i18n.t(key as 'audit.actions.create') : code;
}

/** The person's name, with the username recorded at the time in a tooltip when they differ. */
export function ActorName({ name, username }: { name: string | null; username: string }) {
  const { t } = useTranslation();
  if (!name || name === username) return <span>{username}</span>;
  return (
    <Tooltip title={t('audit.username', { name: username })}>
      <span data-username={username}>{name}</span>
    </Tooltip>
  );
}
