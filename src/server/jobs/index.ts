// Every scheduled job of the server, in one list (each is defined beside its feature).
import type { JobDefinition } from './job-runner.js';
import { nightlyAlertsJob } from '../modules/alerts/alerts.job.js';
import { monthlyRatingJob } from '../modules/ratings/ratings.job.js';
import { dashboardSnapshotsJob } from '../modules/dashboards/dashboards.job.js';
import { churnWinBacksJob } from '../modules/churn-cases/churn-cases.job.js';
import { contactMomentsJob } from '../modules/contact-moments/contact-moments.job.js';
import { ownershipPoolJob } from '../modules/ownership/ownership.job.js';
import { devPlanOverdueJob } from '../modules/prospects/prospects.job.js';
import { visitPlansJob, visitRemindersJob, visitWeeklySummaryJob } from '../modules/visits/visits.job.js';
import { complaintSlaJob } from '../modules/complaints/complaint-sla.job.js';
import { transactionPartitionsJob } from '../modules/transactions/partitions.job.js';
import { importPasswordsExpiryJob } from '../modules/imports/import-passwords.job.js';

export const JOBS: JobDefinition[] = [
  nightlyAlertsJob,
  monthlyRatingJob,
  dashboardSnapshotsJob,
  churnWinBacksJob,
  contactMomentsJob,
  visitPlansJob,
  visitRemindersJob,
  visitWeeklySummaryJob,
  devPlanOverdueJob,
  ownershipPoolJob,
  complaintSlaJob,
  transactionPartitionsJob,
  importPasswordsExpiryJob,
];
