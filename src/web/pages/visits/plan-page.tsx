// One visit plan, where the approval work item leads.
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router-dom';
import { Page } from '../../shared/page.js';
import { PlanView } from './plan-view.js';

export function VisitPlanPage() {
  const { t } = useTranslation();
  const id = Number(useParams().id);
  return (
    <Page title={t('visits.title')}>
      <PlanView id={id} />
    </Page>
  );
}
