// Star-rating vocabulary shared by the ratings page and the customer's rating history: the flow's
// steps in order, who may take the next one, figures as they are read, and errors in plain words.
import type { TFunction } from 'i18next';
import { ApiError, type ApiData } from '../../api/client.js';
import type { Access } from '../../access.js';
import { errorText } from '../../shared/errors.js';

export type Batch = ApiData<'/api/ratings/batches'>[number];
export type BatchDetail = ApiData<'/api/ratings/batches/{id}'>;
export type Rating = BatchDetail['ratings']['items'][number];
export type RatingStatus = Batch['status'];
export type RatingAction = NonNullable<Batch['nextAction']>;

/** Query keys: the batch list (any period) and one batch's page. */
export const BATCHES_KEY = ['rating-batches'] as const;
export const BATCH_KEY = ['rating-batch'] as const;

export const STATUSES: readonly RatingStatus[] = ['computed', 'proposed', 'low_approved', 'high_reviewed', 'final'];
export const STAR_VALUES = [4, 3, 2, 1, 0] as const;
/** 0 stars grey, then warmer with every star. */
export const STAR_COLORS = ['#bfbfbf', '#91caff', '#4096ff', '#fa8c16', '#d4380d'] as const;
export const STAR_TAG_COLORS = ['default', 'blue', 'geekblue', 'orange', 'volcano'] as const;
/** The stars HQ re-evaluates itself in the high review (the server's HIGH_STARS). */
export const HIGH_STARS = 3;

const ACCESS_OF_PERMISSION: Record<string, keyof Access> = {
  'rating.propose': 'canProposeRatings',
  'rating.approve': 'canApproveRatings',
  'rating.finalize': 'canFinalizeRatings',
};

/** The action the signed-in user may take next on the batch, or null (someone else's turn, or final). */
export function myAction(access: Access, b: Pick<Batch, 'nextAction' | 'nextPermission'>): RatingAction | null {
  if (!b.nextAction || !b.nextPermission) return null;
  const key = ACCESS_OF_PERMISSION[b.nextPermission];
  return key && access[key] ? b.nextAction : null;
}

export const stepIndex = (status: RatingStatus) => STATUSES.indexOf(status);

export const litres = (ml: number) => (ml / 1000).toLocaleString('zh-CN', { maximumFractionDigits: 1 });
export const yuan = (fen: number) =>
  (fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Customers the step concerns: the 1–2-star part for HQ marketing, the 3–4-star part for the review. */
export function customersOf(action: RatingAction, distribution: readonly number[], total: number): number {
  const d = (i: number) => distribution[i] ?? 0;
  if (action === 'approve_low') return d(1) + d(2);
  if (action === 'review_high') return d(3) + d(4);
  return total;
}

export function benefitName(t: TFunction, code: string): string {
  return code === 'supply_priority' || code === 'discount_5_per_ton' ? t(`ratings.benefitNames.${code}`) : code;
}

/** An error from the rating API in the words of the rating flow, else the general text. */
export function ratingErrorText(t: TFunction, err: unknown): string {
  if (!(err instanceof ApiError)) return errorText(err);
  if (err.code === 'CONFLICT') return t('ratings.errors.order');
  if (err.code === 'PERMISSION_DENIED') return t('ratings.errors.permission');
  if (err.code === 'SCOPE_DENIED') return t('ratings.errors.scope');
  if (err.code === 'VALIDATION_FAILED' && err.field) {
    if (err.field === 'body.period') return t('ratings.errors.period');
    if (/^body\.adjustments\.\d+\.stars$/.test(err.field)) return t('ratings.errors.adjustStars');
    if (/^body\.adjustments\.\d+\.customerId$/.test(err.field)) return t('ratings.errors.adjustCustomer');
    if (err.field === 'body.note') return t('ratings.errors.note');
  }
  return errorText(err);
}
