// What the development-plan pages share: the API's shapes and the colours of stages and states.
import type { ApiData } from '../../api/client.js';

export type Prospect = ApiData<'/api/prospects/{id}'>;
export type ProspectItem = ApiData<'/api/prospects'>['items'][number];
export type Plan = ApiData<'/api/dev-plans/{id}'>;
export type PlanItem = ApiData<'/api/dev-plans'>['items'][number];
export type Board = ApiData<'/api/prospects/board'>;
export type Stage = ProspectItem['stage'];
export type Importance = ProspectItem['importance'];
export type PlanState = PlanItem['state'];

export const STAGES: readonly Stage[] = ['surveyed', 'dispatched', 'contacted', 'offered', 'signed', 'lost'];
export const IMPORTANCES: readonly Importance[] = ['important', 'secondary', 'general'];
export const PLAN_STATES: readonly PlanState[] = ['draft', 'submitted', 'dept_approved', 'approved', 'dispatched'];

export const STAGE_COLORS: Record<Stage, string> = {
  surveyed: 'default',
  dispatched: 'blue',
  contacted: 'geekblue',
  offered: 'purple',
  signed: 'green',
  lost: 'red',
};

export const IMPORTANCE_COLORS: Record<Importance, string> = {
  important: 'volcano',
  secondary: 'gold',
  general: 'default',
};

export const PLAN_STATE_COLORS: Record<PlanState, string> = {
  draft: 'default',
  submitted: 'orange',
  dept_approved: 'gold',
  approved: 'cyan',
  dispatched: 'green',
};

/** Chart colours of the importances, stacked in the progress board. */
export const IMPORTANCE_CHART: Record<Importance, string> = {
  important: '#fa541c',
  secondary: '#faad14',
  general: '#8c8c8c',
};
