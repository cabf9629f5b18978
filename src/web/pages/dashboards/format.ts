// Number formats of the dashboards: litres from millilitres, yuan from fen, shares as percentages.
import type { ApiData } from '../../api/client.js';

export type Dashboard = ApiData<'/api/dashboards/unit/{id}'>;
export type KeyCustomers = ApiData<'/api/key-customers'>;
export type CardSuggestions = ApiData<'/api/card-suggestions'>;

export const BLUE = '#0b6bcb';
export const TEAL = '#13a8a8';
export const ORANGE = '#fa8c16';
export const GREY = '#d9d9d9';

export const litres = (ml: number) => Math.round(ml / 1000);
export const litresText = (ml: number) => litres(ml).toLocaleString('zh-CN');
export const yuanText = (fen: number, digits = 0) =>
  (fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: digits, maximumFractionDigits: Math.max(digits, 2) });
export const percent = (share: number | null | undefined, digits = 1) =>
  share === null || share === undefined ? '—' : `${(share * 100).toFixed(digits)}%`;
export const signedPercent = (g: number | null | undefined) =>
  g === null || g === undefined ? '—' : `${g > 0 ? '+' : ''}${(g * 100).toFixed(1)}%`;
export const growthColor = (g: number | null | undefined) =>
  g === null || g === undefined ? undefined : g < 0 ? '#cf1322' : '#389e0d';
