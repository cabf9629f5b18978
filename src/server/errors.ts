// Stable error codes, one list. Clients switch on `code`; `message` is for people.
export const ERRORS = {
  VALIDATION_FAILED: 400,
  BAD_JSON: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  BODY_TOO_LARGE: 413,
  NOT_AUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  ACCOUNT_LOCKED: 423,
  ACCOUNT_DISABLED: 403,
  SESSION_EXPIRED: 401,
  API_KEY_INVALID: 401,
  CSRF_FAILED: 403,
  ORIGIN_DENIED: 403,
  PERMISSION_DENIED: 403,
  SCOPE_DENIED: 403,
  RATE_LIMITED: 429,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  SETUP_DONE: 409,
  SETUP_REQUIRED: 409,
  CONFLICT: 409,
  VERSION_CONFLICT: 409,
  DUPLICATE: 409,
  DUPLICATE_SUSPECTED: 409,
  ACCESS_NOT_NEEDED: 422,
  APPROVER_NOT_ELIGIBLE: 403,
  MERGE_NOT_UNDOABLE: 409,
  ORG_UNIT_IN_USE: 409,
  ORG_UNIT_CYCLE: 422,
  ORG_UNIT_ROOT: 422,
  ROLE_IN_USE: 409,
  ROLE_BUILTIN: 422,
  PASSWORD_TOO_SHORT: 422,
  PASSWORD_TOO_WEAK: 422,
  PASSWORD_CONTAINS_USERNAME: 422,
  PASSWORD_WRONG: 422,
  /** The session's password is an initial one: only /api/auth/me, changing the password and signing out. */
  PASSWORD_CHANGE_REQUIRED: 403,
  /** An import's initial passwords were not downloaded in time and were deleted: reset the users' passwords. */
  IMPORT_PASSWORDS_EXPIRED: 410,
  SELF_LOCKOUT: 422,
  IMPORT_LIMIT_EXCEEDED: 422,
  TARGET_EXCEEDS_RIGHTS: 403,
  LAST_ADMINISTRATOR: 409,
  /** The customer already has a live churn case, or the alert was already turned into one. */
  CHURN_CASE_EXISTS: 409,
  /** A churn-case step that only the level above the case's unit (or the person sent) may take. */
  CHURN_LEVEL_DENIED: 403,
  EXIT_SURVEY_REQUIRED: 422,
  ASSIGNEE_NOT_ELIGIBLE: 422,
  /** The owner's unit is not at a level that may look after a customer of this class (the ownership policy). */
  OWNER_LEVEL_DENIED: 422,
  /** A claim from the public pool over a limit: the daily cap, the cooling-off period, a capacity (库容). */
  POOL_CLAIM_DENIED: 422,
  /** A complaint stage taken by someone who does not own it (another unit, or not an owning role). */
  COMPLAINT_STAGE_DENIED: 403,
  /** Rectification without a photo or document of what was done. */
  COMPLAINT_EVIDENCE_REQUIRED: 422,
  /** A mystery-shopper visit recorded outside its assignment's window (dates or daily hours). */
  MYSTERY_OUTSIDE_WINDOW: 422,
  /** A mystery-shopper visit without the photo an item requires. */
  MYSTERY_PHOTO_REQUIRED: 422,
  /** A survey contact the contact rule refuses: surveyed too recently or too often (the policy's cool-down). */
  SURVEY_COOL_DOWN: 409,
  /** A complaint callback closed as unreachable before enough attempts on different days. */
  CALLBACK_ATTEMPTS_NEEDED: 422,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly field?: string,
    /** Extra machine-readable facts, e.g. the records a duplicate matched. */
    readonly details?: unknown,
  ) {
    super(message ?? code);
    this.status = ERRORS[code];
  }
}

export interface ErrorBody {
  error: { code: string; message: string; field?: string; details?: unknown };
}
