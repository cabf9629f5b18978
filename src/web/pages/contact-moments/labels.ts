// Shapes and labels shared by the must-contact pages.
import type { ApiData } from '../../api/client.js';

export type ContactTask = ApiData<'/api/contact-tasks/{id}'>;
export type CalendarYear = ApiData<'/api/calendar/{id}'>;
export type CalendarDay = CalendarYear['days'][number];

export const MOMENT_KINDS = ['price_change', 'holiday', 'weather', 'birthday'] as const;
export const OUTCOMES = ['phone', 'sms', 'wechat', 'visit', 'not_reached'] as const;
export const KIND_COLORS: Record<ContactTask['momentKind'], string> = {
  price_change: 'orange',
  holiday: 'red',
  weather: 'blue',
  birthday: 'magenta',
};

/** Yuan from fen, two decimals. */
export const yuan = (fen: number) => (fen / 100).toFixed(2);
