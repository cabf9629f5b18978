// 系统设置: the customer numbering scheme and every policy HQ sets (key customers, star rating,
// classes, benefits, card, churn alerts), one tab each, with its history; `?tab=<kind>` opens one.
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Alert, Spin, Tabs } from 'antd';
import { useAccess } from '../../access.js';
import { errorText } from '../../shared/errors.js';
import { Page } from '../../shared/page.js';
import { POLICY_KINDS, type PolicyKind } from '../../../domain/policies.js';
import { CodeSchemeCard } from './code-scheme-card.js';
import { PolicySection } from './policy-section.js';
import { fetchPolicies, POLICIES_KEY } from './policy-format.js';

const TABS = ['codeScheme', ...POLICY_KINDS] as const;
type Tab = (typeof TABS)[number];

export function SettingsPage() {
  const { t } = useTranslation();
  const access = useAccess();
  const [params, setParams] = useSearchParams();
  const asked = params.get('tab');
  const tab: Tab = (TABS as readonly string[]).includes(asked ?? '') ? (asked as Tab) : 'codeScheme';
  const policies = useQuery({ queryKey: POLICIES_KEY, queryFn: fetchPolicies });

  const policyTab = (kind: PolicyKind) => {
    if (policies.error) return <Alert type="error" showIcon title={errorText(policies.error)} />;
    const current = policies.data?.find((p) => p.kind === kind);
    return current ? <PolicySection kind={kind} current={current} canWrite={access.canWritePolicy} /> : <Spin />;
  };

  return (
    <Page title={t('settings.title')}>
      <Tabs
        activeKey={tab}
        onChange={(key) => setParams(key === 'codeScheme' ? {} : { tab: key }, { replace: true })}
        destroyOnHidden
        items={TABS.map((key) => ({
          key,
          label: <span data-testid={`settings-tab-${key}`}>{t(`settings.tabs.${key}`)}</span>,
          children: key === 'codeScheme' ? <CodeSchemeCard canWrite={access.canWritePolicy} /> : policyTab(key),
        }))}
      />
    </Page>
  );
}
