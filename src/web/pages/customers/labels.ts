// Customer vocabulary shared by the customer pages.
export const CUSTOMER_KINDS = ['individual', 'organisation', 'residential', 'commercial'] as const;
export type CustomerKind = (typeof CUSTOMER_KINDS)[number];

export const PROFILE_QUESTIONS = [
  'ask_plate_model',
  'ask_name',
  'ask_organisation',
  'ask_phone',
  'ask_products',
  'ask_routes',
] as const;
export type ProfileQuestion = (typeof PROFILE_QUESTIONS)[number];

export const STEP_COLORS: Record<number, string> = { 1: 'orange', 2: 'blue', 3: 'green' };
