// How the audit log's codes and actors are shown, on the audit page and in a record's history.
import { useTranslation } from 'react-i18next';
import { Tooltip } from 'antd';
import { i18n } from '../../i18n/index.js';

/** An action or record-type code by its name in the catalog (test/platform/audit-catalog.test.ts keeps it complete). */
export function auditLabel(group: 'actions' | 'entities', code: string): string {
  const key = `audit.${group}.${code}`;
  return i18n.exists(key) ? i18n.t(key as 'audit.actions.create') : code;
}

/** What the system writes under its own name: `demo` (the demo command), `job:<name>` (scheduled jobs). */
export function systemActorName(name: string): string | null {
  const key = name.startsWith('job:') ? 'job' : name;
  return i18n.exists(`audit.systemActors.${key}`)
    ? i18n.t(`audit.systemActors.${key}` as 'audit.systemActors.job')
    : null;
}

/**
 * The person's name, with the username recorded at the time in a tooltip when they differ. `system`
 * marks an actor without a user (a job, the demo command), named from the catalog.
 */
export function ActorName({ name, username, system }: { name: string | null; username: string; system?: boolean }) {
  const { t } = useTranslation();
  const shown = name ?? (system ? systemActorName(username) : null);
  if (!shown || shown === username) return <span className="fc-code">{username}</span>;
  return (
    <Tooltip title={t('audit.username', { name: username })}>
      <span data-username={username}>{shown}</span>
    </Tooltip>
  );
}
