import type { ColumnType, Generated } from 'kysely';

// Instants are ISO-8601 UTC strings on both engines (pg's timestamptz parser is set in connection.ts).
type Instant = ColumnType<string, string, string>;

// Mystery shoppers (migration 0030).
export interface MysteryFormTable {
  id: Generated<number>;
  code: string;
  version: number;
  state: string;
  title: string;
  pass_percent: number;
  definition: string;
  org_unit_id: number;
  created_by: number | null;
  created_at: Instant;
  updated_at: Instant;
  published_at: Instant | null;
}

export interface MysteryAssignmentTable {
  id: Generated<number>;
  form_id: number;
  org_unit_id: number;
  shopper_user_id: number;
  window_from: Instant;
  window_to: Instant;
  hour_from: number | null;
  hour_to: number | null;
  note: string | null;
  state: string;
  created_by: number | null;
  created_at: Instant;
  updated_at: Instant;
}

export interface MysteryVisitTable {
  id: Generated<number>;
  assignment_id: number;
  form_id: number;
  form_code: string;
  org_unit_id: number;
  shopper_user_id: number | null;
  visited_at: Instant;
  business_day: string;
  score_permille: number;
  passed: number;
  critical_failed: number;
  comment: string | null;
  recorded_at: Instant;
}

export interface MysteryAnswerTable {
  id: Generated<number>;
  visit_id: number;
  form_code: string;
  item_key: string;
  org_unit_id: number;
  business_day: string;
  value: number;
  earned100: number;
  failed: number;
  critical: number;
}

export interface MysteryPhotoTable {
  id: Generated<number>;
  assignment_id: number;
  item_key: string;
  storage_key: string;
  content_type: string;
  bytes: number;
  uploaded_by: number | null;
  uploaded_at: Instant;
}

export interface MysteryActionTable {
  id: Generated<number>;
  form_code: string;
  item_key: string;
  item_text: string;
  scope: string;
  org_unit_id: number;
  period_from: string;
  period_to: string;
  failed_stations: number;
  evaluated_stations: number;
  note: string | null;
  due_at: Instant;
  state: string;
  created_by: number | null;
  created_at: Instant;
  closed_at: Instant | null;
  closed_by: number | null;
  close_note: string | null;
}

export interface OrgLevelKindTable {
  code: string;
  name_zh: string;
  name_en: string;
  rank: number;
}

export interface OrgUnitTable {
  id: Generated<number>;
  parent_id: number | null;
  kind_code: string;
  code: string;
  name: string;
  time_zone: string;
  path: string;
  depth: number;
  version: Generated<number>;
  created_at: Instant;
  updated_at: Instant;
}

export interface RoleTable {
  id: Generated<number>;
  code: string;
  name_zh: string;
  name_en: string;
  builtin: number;
  version: Generated<number>;
  created_at: Instant;
  updated_at: Instant;
}

export interface RolePermissionTable {
  role_id: number;
  permission: string;
}

export interface AppUserTable {
  id: Generated<number>;
  username: string;
  display_name: string;
  org_unit_id: number;
  password_hash: string;
  locale: string;
  active: number;
  failed_logins: Generated<number>;
  locked_until: Instant | null;
  password_changed_at: Instant;
  version: Generated<number>;
  created_at: Instant;
  updated_at: Instant;
  /** Migration 0036: the person's phone, as an import of users gives it. */
  phone?: string | null;
  /** Migration 0037: 1 while the password is one someone else chose (an import's); cleared by changing it. */
  must_change_password: Generated<number>;
}

export interface UserRoleTable {
  user_id: number;
  role_id: number;
}

export interface SessionTable {
  id: string;
  user_id: number;
  csrf_token: string;
  created_at: Instant;
  last_seen_at: Instant;
  expires_at: Instant;
  ip: string | null;
  user_agent: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: Instant;
  actor_user_id: number | null;
  actor_name: string;
  action: string;
  entity: string;
  entity_id: string | null;
  org_unit_id: number | null;
  before_json: string | null;
  after_json: string | null;
  ip: string | null;
}

export interface SystemStateTable {
  key: string;
  value: string;
}

export interface JobRunTable {
  id: Generated<number>;
  job: string;
  period: string;
  status: string;
  started_at: Instant;
  finished_at: Instant | null;
  detail: string | null;
  heartbeat_at: Instant | null;
  runner: string | null;
}

export interface CustomerTable {
  id: Generated<number>;
  org_unit_id: number;
  code: string;
  kind: string;
  name: string | null;
  surname: string | null;
  gender: string | null;
  organisation: string | null;
  parent_id: number | null;
  owner_user_id: number | null;
  routes: string | null;
  products: string | null;
  fuel_use: string | null;
  settlement_method: string | null;
  invoice_type: string | null;
  demand_volume: string | null;
  equipment: string | null;
  birthday: string | null;
  /** 'solar' or 'lunar': a lunar birthday's month and day are of the lunar calendar (migration 0025). */
  birthday_calendar: Generated<string>;
  other_stations: string | null;
  why_us: string | null;
  satisfaction: number | null;
  notes: string | null;
  look_after: Generated<number>;
  merged_into_id: number | null;
  last_visit_at: Instant | null;
  /** Days with at least one fill-up, and the mean gap between consecutive ones (kept on ingest). */
  visit_count: Generated<number>;
  first_visit_at: Instant | null;
  first_visit_day: string | null;
  last_visit_day: string | null;
  usual_interval_days: number | null;
  version: Generated<number>;
  created_by: number | null;
  created_at: Instant;
  updated_at: Instant;
  /** Ownership (0023): when the present owner took him, the owner's last follow-up, and the pool. */
  owner_since: Instant | null;
  last_follow_up_at: Instant | null;
  pool_since: Instant | null;
  pool_reason: string | null;
  pool_former_owner_id: number | null;
}

export interface CustomerPhoneTable {
  id: Generated<number>;
  customer_id: number;
  phone: string;
  kind: string;
  label: string | null;
  contact_name: string | null;
}

export interface VehicleTable {
  id: Generated<number>;
  customer_id: number;
  plate: string;
  plate_reversed: string;
  plate_kind: string;
  model: string | null;
  created_at: Instant;
  /** The customer's org unit, kept in step by triggers (0005-vehicle-unit). */
  org_unit_id: Generated<number | null>;
}

export interface FuelCardTable {
  id: Generated<number>;
  customer_id: number;
  card_no: string;
  status: Generated<string>;
  created_at: Instant;
}

export interface CustomerTagTable {
  customer_id: number;
  tag: string;
}

export interface VisitTable {
  id: Generated<number>;
  customer_id: number;
  org_unit_id: number;
  user_id: number | null;
  vehicle_id: number | null;
  at: Instant;
  product: string | null;
  volume_ml: number | null;
  note: string | null;
}

export interface CustomerMergeTable {
  id: Generated<number>;
  survivor_id: number;
  merged_id: number;
  snapshot: string;
  by_user_id: number | null;
  at: Instant;
  undone_at: Instant | null;
}

export interface CodeSequenceTable {
  prefix: string;
  last_value: number;
}

export interface AccessRequestTable {
  id: Generated<number>;
  requester_id: number;
  target_org_unit_id: number;
  reason: string;
  days: number;
  required_slots: string;
  /** 'read' (default) or 'write': what the grant lends. */
  mode: Generated<string>;
  status: string;
  valid_from: Instant | null;
  valid_until: Instant | null;
  created_at: Instant;
  decided_at: Instant | null;
}

export interface AccessApprovalTable {
  id: Generated<number>;
  request_id: number;
  approver_id: number;
  slot: string;
  decision: string;
  comment: string | null;
  at: Instant;
}

export interface ApiKeyTable {
  id: Generated<number>;
  org_unit_id: number;
  name: string;
  key_prefix: string;
  key_hash: string;
  created_by: number | null;
  created_at: Instant;
  revoked_at: Instant | null;
  last_used_at: Instant | null;
}

export interface IngestBatchTable {
  id: Generated<number>;
  source: string;
  api_key_id: number | null;
  user_id: number | null;
  received_at: Instant;
  finished_at: Instant | null;
  rows_received: Generated<number>;
  inserted: Generated<number>;
  duplicates: Generated<number>;
  rejected: Generated<number>;
  attached: Generated<number>;
  superseded: Generated<number>;
}

export interface FuelTransactionTable {
  id: Generated<number>;
  /** The sender's org unit (0: the system's own rows); with source and external id, the row's key. */
  namespace: number;
  source: string;
  external_id: string;
  occurred_at: Instant;
  business_day: string;
  org_unit_id: number;
  customer_id: number | null;
  card_no: string | null;
  plate: string | null;
  product: string;
  business_line: Generated<string>;
  volume_ml: number;
  unit_price_fen: number | null;
  amount_fen: number | null;
  payment: string | null;
  visit_id: number | null;
  ingest_batch_id: number | null;
  created_at: Instant;
}

/**
 * PostgreSQL only (migration 0035): the key of each sale, which the month-partitioned
 * fuel_transaction cannot hold as a unique constraint, and where its row lives.
 */
export interface FuelTransactionKeyTable {
  namespace: number;
  source: string;
  external_id: string;
  txn_id: number;
  business_day: string;
}

export interface CustomerMergeTxnTable {
  merge_id: number;
  txn_id: number;
}

export interface CustomerMonthTable {
  customer_id: number;
  month: string;
  product: string;
  volume_ml: number;
  amount_fen: number;
  txn_count: number;
}

export interface StationDayTable {
  org_unit_id: number;
  day: string;
  product: string;
  volume_ml: number;
  amount_fen: number;
  txn_count: number;
  card_amount_fen: number;
}

export interface PolicyVersionTable {
  id: Generated<number>;
  kind: string;
  body: string;
  note: string | null;
  created_by: number | null;
  created_at: Instant;
}

export interface RatingBatchTable {
  id: Generated<number>;
  period: string;
  org_unit_id: number;
  status: string;
  policy_version_id: number | null;
  computed_at: Instant;
  proposed_by: number | null;
  proposed_at: Instant | null;
  low_approved_by: number | null;
  low_approved_at: Instant | null;
  high_reviewed_by: number | null;
  high_reviewed_at: Instant | null;
  high_approved_by: number | null;
  high_approved_at: Instant | null;
  finalized_at: Instant | null;
  note: string | null;
}

export interface CustomerRatingTable {
  id: Generated<number>;
  batch_id: number;
  customer_id: number;
  period: string;
  computed_stars: number;
  stars: number;
  class: string | null;
  basis_volume_ml: ColumnType<number, number | undefined, number>;
  basis_amount_fen: ColumnType<number, number | undefined, number>;
  status: string;
  benefits: string | null;
  note: string | null;
  updated_at: Instant;
}

export interface AlertTable {
  id: Generated<number>;
  customer_id: number;
  org_unit_id: number;
  kind: string;
  episode: string;
  assignee_user_id: number | null;
  status: string;
  detail: string | null;
  opened_at: Instant;
  closed_at: Instant | null;
  closed_by: number | null;
  contact_made: string | null;
  reason_found: string | null;
  action_taken: string | null;
  /** What the alert is about, shared by the rules (null on alerts raised before lapses were kept). */
  lapse: string | null;
  /** returned | recovered, when it resolved itself. */
  resolution: string | null;
  resolved_at: Instant | null;
  resolved_day: string | null;
  resolved_txn_id: number | null;
}

export interface ChurnModelFitTable {
  id: Generated<number>;
  org_unit_id: number;
  model: string;
  period: string;
  params: string;
  log_likelihood: number | null;
  customers: number;
  fitted_at: Instant;
}

export interface CustomerChurnScoreTable {
  customer_id: number;
  model: string;
  p_alive: number;
  expected_30d: number;
  scored_at: Instant;
}

export interface OutboxMessageTable {
  id: Generated<number>;
  customer_id: number | null;
  channel: string;
  template: string;
  payload: string;
  dedupe_key: string;
  status: string;
  created_at: Instant;
  sent_at: Instant | null;
  error: string | null;
}

export interface ImportJobTable {
  id: Generated<number>;
  org_unit_id: number;
  kind: string | null;
  file_name: string;
  file_size: number;
  file_sha256: string;
  format: string;
  sheet: string | null;
  mapping: string | null;
  status: string;
  rows_total: number | null;
  rows_done: Generated<number>;
  rows_ok: Generated<number>;
  rows_rejected: Generated<number>;
  rows_flagged: Generated<number>;
  created_count: Generated<number>;
  updated_count: Generated<number>;
  error: string | null;
  /** The file's row a resumed commit continues after (rows_done counts data rows only). */
  checkpoint_row: Generated<number>;
  unchanged_count: Generated<number>;
  error_code: string | null;
  /** JSON: what the failure names, e.g. the limit a file exceeded and its value. */
  error_details: string | null;
  /** The pass working on the job, and when it last said so. */
  runner: string | null;
  heartbeat_at: Instant | null;
  /** Empty rows skipped between the header and the last row of data. */
  skipped_count: Generated<number>;
  created_by: number | null;
  created_at: Instant;
  updated_at: Instant;
  finished_at: Instant | null;
  /** Migration 0037: when the job's undelivered initial passwords were deleted for being too old. */
  passwords_expired_at?: Instant | null;
}

export interface ImportFileChunkTable {
  job_id: number;
  seq: number;
  data: Buffer;
}

export interface ImportRowErrorTable {
  id: Generated<number>;
  job_id: number;
  phase: string;
  row_number: number;
  severity: string;
  field: string | null;
  message: string;
  cells: string | null;
}

/** Initial passwords an import of users generated, until its runner downloads them (migration 0036). */
export interface ImportCredentialTable {
  job_id: number;
  row_number: number;
  username: string;
  display_name: string;
  unit_code: string;
  password: string;
  created_at: Instant;
  /** Migration 0037: deleted by the import-passwords job after this (IMPORT_PASSWORD_TTL_HOURS). */
  expires_at: Instant | null;
}

export interface ImportMappingProfileTable {
  id: Generated<number>;
  name: string;
  kind: string;
  columns: string;
  created_by: number | null;
  created_at: Instant;
}

export interface CardTopupTable {
  id: Generated<number>;
  /** The sender's org unit (0: the system's own rows); with source and external id, the row's key. */
  namespace: number;
  source: string;
  external_id: string;
  occurred_at: Instant;
  business_day: string;
  org_unit_id: number;
  card_no: string;
  customer_id: number | null;
  amount_fen: number;
  bonus_fen: Generated<number>;
  payment: string | null;
  ingest_batch_id: number | null;
  created_at: Instant;
}
export interface StationDayTopupTable {
  org_unit_id: number;
  day: string;
  amount_fen: number;
  bonus_fen: number;
  topup_count: number;
}
export interface DashboardSnapshotTable {
  kind: string;
  org_unit_id: number;
  month: string;
  policy_key: string;
  computed_at: Instant;
  body: string;
}
/** Kinds of loss (natural or non-natural) and exit-survey reasons: rows HQ edits (migration 0021). */
export interface ChurnLossKindTable {
  code: string;
  category: string;
  name_zh: string;
  name_en: string;
  sort: Generated<number>;
  active: Generated<number>;
}

export interface ChurnReasonTable {
  code: string;
  name_zh: string;
  name_en: string;
  needs_text: Generated<number>;
  sort: Generated<number>;
  active: Generated<number>;
}

export interface ChurnCaseTable {
  id: Generated<number>;
  customer_id: number;
  org_unit_id: number;
  alert_id: number | null;
  category: string;
  loss_kind_code: string;
  state: string;
  note: string;
  baseline_day: string | null;
  opened_by: number | null;
  opened_at: Instant;
  report_text: string | null;
  reported_by: number | null;
  reported_at: Instant | null;
  assignee_user_id: number | null;
  due_day: string | null;
  assigned_by: number | null;
  assigned_at: Instant | null;
  outcome_note: string | null;
  outcome_by: number | null;
  outcome_at: Instant | null;
  lost_at: Instant | null;
  lost_day: string | null;
  lost_month: string | null;
  won_back_at: Instant | null;
  won_back_day: string | null;
  won_back_txn_id: number | null;
  updated_at: Instant;
  version: Generated<number>;
}

export interface ChurnCaseEventTable {
  id: Generated<number>;
  case_id: number;
  action: string;
  from_state: string | null;
  to_state: string;
  actor_user_id: number | null;
  actor_name: string;
  at: Instant;
  detail: string | null;
}

/** The work inbox's read model (migration 0022): one row per piece of work a module gives someone. */
export interface WorkItemTable {
  id: Generated<number>;
  kind: string;
  record_id: number;
  /** The one person it is for; null for a queue item any holder of `permission` over `org_path` may take. */
  assignee_user_id: number | null;
  permission: string | null;
  org_unit_id: number;
  org_path: string;
  customer_id: number | null;
  subject: string;
  due_at: Instant;
  /** open | done | cancelled */
  state: string;
  created_at: Instant;
  updated_at: Instant;
  done_at: Instant | null;
  /** '' unless one record waits in several queues (one row per role that fills an open approval slot). */
  queue_key: Generated<string>;
  /** Queue items: ",12,40," — holders of the permission who may not take it (the requester, who decided already). */
  excluded_user_ids: string | null;
}

export interface ExitSurveyTable {
  id: Generated<number>;
  case_id: number;
  customer_id: number;
  reason_code: string;
  free_text: string | null;
  recorded_by: number | null;
  recorded_at: Instant;
  updated_at: Instant;
}

export interface VisitPlanTable {
  id: Generated<number>;
  owner_user_id: number;
  org_unit_id: number;
  month: string;
  /** draft | submitted | approved | returned */
  state: string;
  submitted_at: Instant | null;
  decided_by: number | null;
  decided_at: Instant | null;
  decision_note: string | null;
  created_at: Instant;
  updated_at: Instant;
  version: Generated<number>;
}

export interface VisitPlanEventTable {
  id: Generated<number>;
  plan_id: number;
  action: string;
  from_state: string | null;
  to_state: string;
  actor_user_id: number | null;
  actor_name: string;
  note: string | null;
  at: Instant;
}

export interface PlannedVisitTable {
  id: Generated<number>;
  plan_id: number;
  customer_id: number;
  org_unit_id: number;
  owner_user_id: number;
  planned_day: string;
  planned_at: Instant;
  /** policy | alert | decline | manual */
  reason: string;
  reason_detail: string | null;
  /** planned | appointed | done | cancelled */
  state: string;
  appointed_at: Instant | null;
  appointment_note: string | null;
  record_id: number | null;
  created_at: Instant;
  updated_at: Instant;
}

export interface VisitReminderTable {
  id: Generated<number>;
  planned_visit_id: number;
  /** week_ahead | on_day */
  kind: string;
  due_at: Instant;
  sent_at: Instant | null;
}

export interface VisitRecordTable {
  id: Generated<number>;
  customer_id: number;
  org_unit_id: number;
  user_id: number | null;
  planned_visit_id: number | null;
  visited_at: Instant;
  visited_day: string;
  assessment: string;
  market_outlook: string | null;
  competitors_better: string | null;
  note: string | null;
  check_in_lat: number | null;
  check_in_lng: number | null;
  check_in_accuracy_m: number | null;
  check_in_at: Instant | null;
  created_at: Instant;
}

export interface VisitFollowUpTable {
  id: Generated<number>;
  record_id: number;
  customer_id: number;
  org_unit_id: number;
  owner_user_id: number | null;
  action: string;
  due_day: string;
  due_at: Instant;
  /** open | done */
  state: string;
  done_at: Instant | null;
  done_by: number | null;
  created_at: Instant;
}

export interface VisitPhotoTable {
  id: Generated<number>;
  record_id: number;
  storage_key: string;
  content_type: string;
  bytes: number;
  width: number | null;
  height: number | null;
  created_by: number | null;
  created_at: Instant;
}

export interface VisitProblemTable {
  id: Generated<number>;
  record_id: number | null;
  customer_id: number;
  origin_unit_id: number;
  org_unit_id: number;
  raised_by: number | null;
  text: string;
  /** open | resolved */
  state: string;
  raised_at: Instant;
  raised_day: string;
  resolved_at: Instant | null;
  updated_at: Instant;
}

export interface VisitProblemStepTable {
  id: Generated<number>;
  problem_id: number;
  /** raise | escalate | resolve */
  action: string;
  from_unit_id: number | null;
  to_unit_id: number | null;
  actor_user_id: number | null;
  actor_name: string;
  note: string | null;
  at: Instant;
}

export interface WeeklySummaryTable {
  id: Generated<number>;
  org_unit_id: number;
  week_start: string;
  body: string;
  generated_at: Instant;
}

/** A branch's monthly development plan (migration 0026). */
export interface DevPlanTable {
  id: Generated<number>;
  org_unit_id: number;
  month: string;
  /** draft | submitted | dept_approved | approved | dispatched */
  state: string;
  due_day: string;
  note: string | null;
  compiled_by: number | null;
  compiled_at: Instant;
  submitted_at: Instant | null;
  dept_approver_id: number | null;
  dept_approved_at: Instant | null;
  dept_note: string | null;
  leader_approver_id: number | null;
  leader_approved_at: Instant | null;
  leader_note: string | null;
  dispatched_by: number | null;
  dispatched_at: Instant | null;
  overdue_day: string | null;
  updated_at: Instant;
  version: Generated<number>;
}

export interface DevPlanEventTable {
  id: Generated<number>;
  plan_id: number;
  action: string;
  from_state: string | null;
  to_state: string;
  actor_user_id: number | null;
  actor_name: string;
  at: Instant;
  note: string | null;
}

/** A prospect surveyed at a station, developed under a plan (migration 0026). */
export interface ProspectTable {
  id: Generated<number>;
  org_unit_id: number;
  branch_id: number;
  kind: string;
  name: string;
  organisation: string | null;
  contact_name: string | null;
  phone: string | null;
  /** JSON array of plates. */
  plates: string | null;
  vehicle_count: number | null;
  monthly_litres: number | null;
  products: string | null;
  demand: string | null;
  fuel_use: string | null;
  settlement_method: string | null;
  competitor: string | null;
  notes: string | null;
  importance: string;
  /** surveyed | dispatched | contacted | offered | signed | lost */
  stage: string;
  surveyed_by: number | null;
  surveyed_at: Instant;
  survey_day: string;
  plan_id: number | null;
  dispatch_unit_id: number | null;
  follower_user_id: number | null;
  dispatched_at: Instant | null;
  due_day: string | null;
  last_progress_at: Instant | null;
  overdue_day: string | null;
  customer_id: number | null;
  closed_at: Instant | null;
  updated_at: Instant;
  version: Generated<number>;
}

export interface ProspectEventTable {
  id: Generated<number>;
  prospect_id: number;
  action: string;
  from_stage: string | null;
  to_stage: string;
  day: string;
  due_day: string | null;
  note: string | null;
  actor_user_id: number | null;
  actor_name: string;
  at: Instant;
}

export interface DevPlanSampleTable {
  id: Generated<number>;
  plan_id: number;
  station_id: number;
  week: string;
  snapshot: string;
  picked_by: number | null;
  picked_at: Instant;
  finding: string | null;
  note: string | null;
  checked_by: number | null;
  checked_at: Instant | null;
}

export interface OwnershipChangeTable {
  id: Generated<number>;
  customer_id: number;
  org_unit_id: number;
  from_user_id: number | null;
  to_user_id: number | null;
  /** created | manual | reassign | pool_return | pool_claim */
  how: string;
  reason: string | null;
  changed_by: number | null;
  at: Instant;
}

export interface ComplaintCategoryTable {
  code: string;
  name_zh: string;
  name_en: string;
  emergency: number;
  sort: number;
  active: number;
}

export interface ComplaintSeverityTable {
  code: string;
  name_zh: string;
  name_en: string;
  stage_hours: number;
  sort: number;
  active: number;
}

export interface ComplaintNumberTable {
  month: string;
  last: number;
}

export interface ComplaintTable {
  id: Generated<number>;
  case_no: string;
  channel: string;
  category_code: string;
  severity_code: string;
  org_unit_id: number;
  customer_id: number | null;
  complainant_name: string | null;
  complainant_phone: string | null;
  plate: string | null;
  content: string;
  reference_no: string | null;
  reply_deadline: Instant | null;
  emergency: number;
  state: string;
  level_up: Generated<number>;
  owner_unit_id: number | null;
  stage_started_at: Instant;
  stage_due_at: Instant | null;
  return_count: Generated<number>;
  reassign_count: Generated<number>;
  reopen_count: Generated<number>;
  rating: number | null;
  customer_flag: Generated<number>;
  merged_into_id: number | null;
  merged_from_state: string | null;
  taken_by: number | null;
  taken_at: Instant;
  closed_at: Instant | null;
  updated_at: Instant;
  version: Generated<number>;
  sla_mode?: string | null;
  sla_allowance_ms?: number | null;
  sla_paused_ms?: number | null;
  sla_paused_at?: Instant | null;
  sla_pause_reason?: string | null;
  sla_warn50_at?: Instant | null;
  sla_warn75_at?: Instant | null;
  sla_warn90_at?: Instant | null;
  sla_supervise_at?: Instant | null;
  sla_next_at?: Instant | null;
  sla_fired: Generated<number>;
  supervised_at?: Instant | null;
  supervise_count: Generated<number>;
  hq_watch: Generated<number>;
}

export interface ComplaintSlaRuleTable {
  category_code: string;
  severity_code: string;
  unit: string;
  verify: number;
  review: number;
  rectify: number;
  callback: number;
  archive: number;
}

export interface ComplaintPauseTable {
  id: Generated<number>;
  complaint_id: number;
  stage: string;
  reason: string;
  note: string | null;
  started_at: Instant;
  started_by: number | null;
  ended_at: Instant | null;
  ended_by: number | null;
  paused_ms: number | null;
}

export interface ComplaintExtensionTable {
  id: Generated<number>;
  complaint_id: number;
  stage: string;
  unit: string;
  amount: number;
  reason: string;
  state: string;
  requested_by: number | null;
  requested_at: Instant;
  due_before: Instant | null;
  decided_by: number | null;
  decided_at: Instant | null;
  decision_note: string | null;
  due_after: Instant | null;
}

export interface ComplaintEventTable {
  id: Generated<number>;
  complaint_id: number;
  action: string;
  from_state: string | null;
  to_state: string;
  owner_unit_id: number | null;
  actor_user_id: number | null;
  actor_name: string;
  at: Instant;
  detail: string | null;
}

export interface ComplaintAttachmentTable {
  id: Generated<number>;
  complaint_id: number;
  stage: string;
  storage_key: string;
  file_name: string;
  content_type: string;
  bytes: number;
  uploaded_by: number | null;
  uploaded_at: Instant;
}

export interface ComplaintLinkTable {
  id: Generated<number>;
  complaint_id: number;
  other_id: number;
  created_by: number | null;
  created_at: Instant;
}

export interface CalendarOverrideTable {
  id: Generated<number>;
  org_unit_id: number;
  day: string;
  kind: string;
  name: string | null;
  created_by: number | null;
  created_at: Instant;
}

export interface PriceChangeTable {
  id: Generated<number>;
  org_unit_id: number;
  product: string;
  old_price_fen: number;
  new_price_fen: number;
  effective_at: Instant;
  source: string;
  note: string | null;
  created_by: number | null;
  created_at: Instant;
}

export interface WeatherWarningTable {
  id: Generated<number>;
  org_unit_id: number;
  title: string;
  detail: string | null;
  route_text: string | null;
  start_day: string;
  end_day: string;
  created_by: number | null;
  created_at: Instant;
}

export interface ContactTaskTable {
  id: Generated<number>;
  customer_id: number;
  org_unit_id: number;
  moment_kind: string;
  moment_key: string;
  moment_day: string;
  price_change_id: number | null;
  weather_warning_id: number | null;
  title: string;
  assignee_user_id: number | null;
  contact_day: string;
  due_at: Instant;
  state: string;
  channel: string | null;
  outbox_message_id: number | null;
  outcome: string | null;
  note: string | null;
  done_by: number | null;
  done_at: Instant | null;
  created_at: Instant;
  updated_at: Instant;
}

// Satisfaction (migration 0031).
export interface SatisfactionPolicyTable {
  id: Generated<number>;
  body: string;
  note: string | null;
  created_by: number | null;
  created_at: Instant;
}

export interface SurveyContactTable {
  id: Generated<number>;
  customer_id: number | null;
  phone: string | null;
  org_unit_id: number;
  /** complaint_callback | survey | revisit */
  reason: string;
  source_id: number;
  contacted_at: Instant;
  created_by: number | null;
}

export interface ComplaintCallbackTable {
  id: Generated<number>;
  complaint_id: number;
  /** reached | unreachable */
  result: string;
  rating: number | null;
  csat: number | null;
  nps: number | null;
  ces: number | null;
  note: string | null;
  day: string;
  called_by: number | null;
  called_at: Instant;
}

export interface SurveyTable {
  id: Generated<number>;
  name: string;
  org_unit_id: number;
  /** open | closed */
  state: string;
  ask_csat: Generated<number>;
  ask_nps: Generated<number>;
  ask_ces: Generated<number>;
  ask_text: Generated<number>;
  sample_size: number | null;
  sample_ratio: number | null;
  seed: number;
  eligible: number;
  due_at: Instant;
  created_by: number | null;
  created_at: Instant;
  closed_at: Instant | null;
}

export interface SurveyTargetTable {
  id: Generated<number>;
  survey_id: number;
  customer_id: number;
  org_unit_id: number;
  phone: string;
  /** pending | answered | refused | unreachable */
  state: string;
  attempts: Generated<number>;
  rating: number | null;
  csat: number | null;
  nps: number | null;
  ces: number | null;
  comment: string | null;
  called_by: number | null;
  called_at: Instant | null;
}

export interface RevisitPlanTable {
  id: Generated<number>;
  customer_id: number | null;
  org_unit_id: number;
  planned_for: Instant;
  owner_user_id: number | null;
  purpose: string;
  /** manual | low_score */
  source: string;
  source_kind: string | null;
  source_id: number | null;
  /** planned | done | cancelled */
  state: string;
  reached: number | null;
  rating: number | null;
  outcome: string | null;
  done_by: number | null;
  done_at: Instant | null;
  created_by: number | null;
  created_at: Instant;
  version: Generated<number>;
}

export interface WebhookTable {
  id: Generated<number>;
  org_unit_id: number;
  name: string;
  url: string;
  secret: string;
  events: string;
  active: Generated<number>;
  consecutive_failures: Generated<number>;
  disabled_at: Instant | null;
  disabled_reason: string | null;
  created_by: number | null;
  created_at: Instant;
  updated_at: Instant;
}

export interface WebhookDeliveryTable {
  id: Generated<number>;
  webhook_id: number;
  event: string;
  payload: string;
  status: string;
  attempts: Generated<number>;
  next_attempt_at: Instant;
  lease_until: Instant | null;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: Instant | null;
  last_duration_ms: number | null;
  delivered_at: Instant | null;
  replay_of: number | null;
  created_at: Instant;
}

export interface Database {
  org_level_kind: OrgLevelKindTable;
  org_unit: OrgUnitTable;
  role: RoleTable;
  role_permission: RolePermissionTable;
  app_user: AppUserTable;
  user_role: UserRoleTable;
  session: SessionTable;
  audit_log: AuditLogTable;
  system_state: SystemStateTable;
  job_run: JobRunTable;
  webhook: WebhookTable;
  webhook_delivery: WebhookDeliveryTable;
  customer: CustomerTable;
  customer_phone: CustomerPhoneTable;
  vehicle: VehicleTable;
  fuel_card: FuelCardTable;
  customer_tag: CustomerTagTable;
  visit: VisitTable;
  customer_merge: CustomerMergeTable;
  code_sequence: CodeSequenceTable;
  access_request: AccessRequestTable;
  access_approval: AccessApprovalTable;
  api_key: ApiKeyTable;
  ingest_batch: IngestBatchTable;
  fuel_transaction: FuelTransactionTable;
  fuel_transaction_key: FuelTransactionKeyTable;
  customer_merge_txn: CustomerMergeTxnTable;
  customer_month: CustomerMonthTable;
  station_day: StationDayTable;
  card_topup: CardTopupTable;
  station_day_topup: StationDayTopupTable;
  dashboard_snapshot: DashboardSnapshotTable;
  policy_version: PolicyVersionTable;
  rating_batch: RatingBatchTable;
  customer_rating: CustomerRatingTable;
  alert: AlertTable;
  churn_model_fit: ChurnModelFitTable;
  customer_churn_score: CustomerChurnScoreTable;
  outbox_message: OutboxMessageTable;
  import_job: ImportJobTable;
  import_file_chunk: ImportFileChunkTable;
  import_row_error: ImportRowErrorTable;
  import_credential: ImportCredentialTable;
  import_mapping_profile: ImportMappingProfileTable;
  churn_loss_kind: ChurnLossKindTable;
  churn_reason: ChurnReasonTable;
  churn_case: ChurnCaseTable;
  churn_case_event: ChurnCaseEventTable;
  exit_survey: ExitSurveyTable;
  work_item: WorkItemTable;
  visit_plan: VisitPlanTable;
  visit_plan_event: VisitPlanEventTable;
  planned_visit: PlannedVisitTable;
  visit_reminder: VisitReminderTable;
  visit_record: VisitRecordTable;
  visit_follow_up: VisitFollowUpTable;
  visit_photo: VisitPhotoTable;
  visit_problem: VisitProblemTable;
  visit_problem_step: VisitProblemStepTable;
  weekly_summary: WeeklySummaryTable;
  dev_plan: DevPlanTable;
  dev_plan_event: DevPlanEventTable;
  prospect: ProspectTable;
  prospect_event: ProspectEventTable;
  dev_plan_sample: DevPlanSampleTable;
  ownership_change: OwnershipChangeTable;
  complaint_category: ComplaintCategoryTable;
  complaint_severity: ComplaintSeverityTable;
  complaint_number: ComplaintNumberTable;
  complaint: ComplaintTable;
  complaint_event: ComplaintEventTable;
  complaint_attachment: ComplaintAttachmentTable;
  complaint_link: ComplaintLinkTable;
  complaint_sla_rule: ComplaintSlaRuleTable;
  complaint_pause: ComplaintPauseTable;
  complaint_extension: ComplaintExtensionTable;
  calendar_override: CalendarOverrideTable;
  price_change: PriceChangeTable;
  weather_warning: WeatherWarningTable;
  contact_task: ContactTaskTable;
  mystery_form: MysteryFormTable;
  mystery_assignment: MysteryAssignmentTable;
  mystery_visit: MysteryVisitTable;
  mystery_answer: MysteryAnswerTable;
  mystery_photo: MysteryPhotoTable;
  mystery_action: MysteryActionTable;
  satisfaction_policy: SatisfactionPolicyTable;
  survey_contact: SurveyContactTable;
  complaint_callback: ComplaintCallbackTable;
  survey: SurveyTable;
  survey_target: SurveyTargetTable;
  revisit_plan: RevisitPlanTable;
}
