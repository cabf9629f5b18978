import { describe, expect, it } from 'vitest';
import { DEFAULT_ROLES } from './permissions.js';
import {
  CASE_STEPS,
  CHURN_CASE_ACTIONS,
  CHURN_CASE_STATES,
  allowedActions,
  checkStep,
  checkSurvey,
  countsAsLost,
  dueDayProblem,
  isLevelAbove,
  lossRate,
  monthlyRate,
  needsSurvey,
  targetOf,
  type CaseActor,
  type CaseFacts,
  type ChurnCaseAction,
  type ChurnCaseState,
} from './churn-case-workflow.js';

// HQ /1/ → branch /1/2/ → area /1/2/3/ → station /1/2/3/4/; another branch /1/9/.
const STATION = '/1/2/3/4/';
const roleActor = (code: string, orgPath: string, userId = 100): CaseActor => ({
  permissions: DEFAULT_ROLES.find((r) => r.code === code)!.permissions,
  orgPath,
  userId,
});
const attendant = roleActor('attendant', STATION, 1);
const stationManager = roleActor('station_manager', STATION, 2);
const areaManager = roleActor('area_customer_manager', '/1/2/3/', 3);
const branchAdmin = roleActor('branch_customer_admin', '/1/2/', 4);
const otherBranch = roleActor('branch_customer_admin', '/1/9/', 5);
const salesRepAtArea = roleActor('sales_rep', '/1/2/3/', 6);
const auditor = roleActor('auditor', '/1/', 7);

const facts = (state: ChurnCaseState | null, over: Partial<CaseFacts> = {}): CaseFacts => ({
  state,
  category: 'non_natural',
  orgPath: STATION,
  assigneeUserId: null,
  ...over,
});

describe('churn case workflow', () => {
  it('a natural loss is lost at once; a non-natural one walks open → reported → second attempt → lost', () => {
    expect(checkStep('open', facts(null, { category: 'natural' }), attendant)).toEqual({ ok: true, to: 'lost' });
    const path: [ChurnCaseAction, CaseActor, ChurnCaseState][] = [
      ['open', attendant, 'open'],
      ['report', stationManager, 'reported'],
      ['assign', areaManager, 'second_attempt'],
      ['confirm_lost', salesRepAtArea, 'lost'],
      ['win_back', attendant, 'won_back'],
    ];
    let state: ChurnCaseState | null = null;
    for (const [action, actor, expected] of path) {
      const r = checkStep(
        action,
        facts(state, { assigneeUserId: salesRepAtArea.userId }),
        action === 'win_back' ? 'system' : actor,
      );
      if (!r.ok) throw new Error(`${action}: ${r.message}`);
      expect(r.to).toBe(expected);
      state = r.to;
    }
  });

  it('refuses every step out of order, for an actor allowed everything', () => {
    const admin = roleActor('admin', '/1/', 42);
    const starts: Record<ChurnCaseAction, (ChurnCaseState | null)[]> = {
      open: [null],
      report: ['open'],
      assign: ['reported', 'second_attempt'],
      retain: ['second_attempt'],
      confirm_lost: ['second_attempt'],
      win_back: ['open', 'reported', 'second_attempt', 'lost'],
    };
    for (const action of CHURN_CASE_ACTIONS) {
      for (const state of [null, ...CHURN_CASE_STATES]) {
        const r = checkStep(action, facts(state, { assigneeUserId: 42 }), action === 'win_back' ? 'system' : admin);
        expect(r.ok, `${action} on ${state}`).toBe(starts[action].includes(state));
        if (!r.ok) expect(r.reason).toBe('order');
      }
    }
    // Nothing leads on from the final states but nothing, and retained is never "lost".
    for (const s of ['retained', 'won_back'] as const)
      expect(CHURN_CASE_ACTIONS.map((a) => targetOf(a, s, 'non_natural')).filter(Boolean)).toEqual([]);
  });

  it('lets whoever may close the alert open and report a case, in his own subtree only', () => {
    for (const actor of [attendant, stationManager, areaManager, branchAdmin]) {
      expect(checkStep('open', facts(null), actor).ok).toBe(true);
      expect(checkStep('report', facts('open'), actor).ok).toBe(true);
    }
    expect(checkStep('open', facts(null), otherBranch)).toMatchObject({ ok: false, reason: 'scope' });
    expect(checkStep('report', facts('open'), otherBranch)).toMatchObject({ ok: false, reason: 'scope' });
    // The auditor reads but does not write customer work.
    expect(checkStep('open', facts(null), auditor)).toMatchObject({ ok: false, reason: 'permission' });
  });

  it('keeps the second attempt to the level above: never an attendant, never the case’s own unit, never another branch', () => {
    const reported = facts('reported');
    expect(checkStep('assign', reported, attendant)).toMatchObject({ ok: false, reason: 'permission' });
    expect(checkStep('assign', reported, stationManager)).toMatchObject({ ok: false, reason: 'permission' });
    expect(checkStep('assign', reported, salesRepAtArea)).toMatchObject({ ok: false, reason: 'permission' });
    // A branch admin working at the station itself is not the level above it.
    expect(checkStep('assign', reported, roleActor('branch_customer_admin', STATION))).toMatchObject({
      ok: false,
      reason: 'level',
    });
    expect(checkStep('assign', reported, otherBranch)).toMatchObject({ ok: false, reason: 'scope' });
    expect(checkStep('assign', reported, areaManager)).toEqual({ ok: true, to: 'second_attempt' });
    expect(checkStep('assign', reported, branchAdmin)).toEqual({ ok: true, to: 'second_attempt' });
    // Someone else may be named later.
    expect(checkStep('assign', facts('second_attempt'), branchAdmin).ok).toBe(true);
  });

  it('takes the outcome of the second attempt from the person named or the level above, nobody else', () => {
    const sent = facts('second_attempt', { assigneeUserId: stationManager.userId });
    for (const action of ['retain', 'confirm_lost'] as const) {
      expect(checkStep(action, sent, stationManager).ok, `${action} by the assignee`).toBe(true);
      expect(checkStep(action, sent, areaManager).ok, `${action} by the level above`).toBe(true);
      expect(checkStep(action, sent, attendant), `${action} by another at the station`).toMatchObject({
        ok: false,
        reason: 'assignee',
      });
      expect(checkStep(action, sent, otherBranch)).toMatchObject({ ok: false, reason: 'scope' });
      expect(checkStep(action, sent, auditor)).toMatchObject({ ok: false, reason: 'permission' });
    }
  });

  it('records a win-back only from the system', () => {
    expect(checkStep('win_back', facts('lost'), branchAdmin)).toMatchObject({ ok: false, reason: 'system' });
    expect(checkStep('win_back', facts('lost'), 'system')).toEqual({ ok: true, to: 'won_back' });
    expect(checkStep('report', facts('open'), 'system')).toMatchObject({ ok: false, reason: 'permission' });
  });

  it('asks for an exit survey from every lost customer', () => {
    expect(needsSurvey('open', 'natural')).toBe(true);
    expect(needsSurvey('open', 'non_natural')).toBe(false);
    expect(needsSurvey('confirm_lost', 'non_natural')).toBe(true);
    // Every step that ends in "lost" needs it.
    for (const action of CHURN_CASE_ACTIONS) {
      for (const category of ['natural', 'non_natural'] as const) {
        const to = typeof CASE_STEPS[action].to === 'string' ? CASE_STEPS[action].to : CASE_STEPS[action].to[category];
        if (to === 'lost') expect(needsSurvey(action, category), `${action} ${category}`).toBe(true);
      }
    }
    expect(countsAsLost('open', 'lost')).toBe(true);
    expect(countsAsLost('confirm_lost', 'lost')).toBe(true);
    expect(countsAsLost('open', 'open')).toBe(false);
    expect(checkSurvey(facts('lost'), attendant).ok).toBe(true);
    expect(checkSurvey(facts('won_back'), attendant)).toMatchObject({ ok: false, reason: 'order' });
    expect(checkSurvey(facts('retained'), attendant)).toMatchObject({ ok: false, reason: 'order' });
    expect(checkSurvey(facts('lost'), otherBranch)).toMatchObject({ ok: false, reason: 'scope' });
    expect(checkSurvey(facts('lost'), auditor)).toMatchObject({ ok: false, reason: 'permission' });
  });

  it('offers each person exactly the steps he may take', () => {
    expect(allowedActions(facts('reported'), attendant)).toEqual([]);
    expect(allowedActions(facts('reported'), areaManager)).toEqual(['assign']);
    expect(allowedActions(facts('open'), attendant)).toEqual(['report']);
    expect(allowedActions(facts('second_attempt', { assigneeUserId: 2 }), stationManager)).toEqual([
      'retain',
      'confirm_lost',
    ]);
    expect(allowedActions(facts('second_attempt', { assigneeUserId: 2 }), branchAdmin)).toEqual([
      'assign',
      'retain',
      'confirm_lost',
    ]);
    expect(allowedActions(facts('lost'), branchAdmin)).toEqual([]);
  });

  it('knows the level above from the paths', () => {
    expect(isLevelAbove('/1/2/', '/1/2/3/4/')).toBe(true);
    expect(isLevelAbove('/1/2/3/4/', '/1/2/3/4/')).toBe(false);
    expect(isLevelAbove('/1/2/3/4/', '/1/2/')).toBe(false);
    // A prefix of digits is not an ancestor: /1/2/ is not above /1/23/.
    expect(isLevelAbove('/1/2/', '/1/23/')).toBe(false);
  });

  it('takes due days from tomorrow to a year ahead', () => {
    expect(dueDayProblem('2026-11-10', '2026-11-10')).toBe('past');
    expect(dueDayProblem('2026-11-09', '2026-11-10')).toBe('past');
    expect(dueDayProblem('2026-11-11', '2026-11-10')).toBeNull();
    expect(dueDayProblem('2027-11-10', '2026-11-10')).toBeNull();
    expect(dueDayProblem('2027-11-11', '2026-11-10')).toBe('too_far');
    expect(dueDayProblem('2027-02-29', '2026-11-10')).toBe('invalid');
    expect(dueDayProblem('2026-11-1', '2026-11-10')).toBe('invalid');
    expect(dueDayProblem('2028-02-29', '2027-11-10')).toBeNull();
  });

  it('turns a yearly rate into the monthly one that compounds to it', () => {
    const m = monthlyRate(0.1);
    expect(m).toBeCloseTo(0.008742, 6);
    expect(1 - Math.pow(1 - m, 12)).toBeCloseTo(0.1, 12);
    expect(monthlyRate(0)).toBe(0);
    expect(monthlyRate(1)).toBe(1);
    expect(lossRate(3, 0)).toBeNull();
    expect(lossRate(3, 300)).toBe(0.01);
  });
});
