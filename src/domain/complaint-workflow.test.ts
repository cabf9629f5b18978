import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  COMPLAINT_STAGES,
  DUPLICATE_WINDOW_DAYS,
  allowedActions,
  caseNumber,
  checkStep,
  duplicateReasons,
  isEmergency,
  outcomeOf,
  ownerUnit,
  stageDueAt,
  stageOwner,
  type ComplaintFacts,
  type ComplaintStage,
} from './complaint-workflow.js';

const station = { roleCodes: ['station_manager'], orgPath: '/1/2/3/4/' };
const facts = (state: ComplaintStage, over: Partial<ComplaintFacts> = {}): ComplaintFacts => {
  const o = stageOwner(state, { emergency: false, levelUp: 0 });
  return { state, ownerPath: '/1/2/3/4/', ownerRoles: o.roles, rectifyEvidence: 0, ...over };
};

describe('complaint workflow', () => {
  it('owns each stage at its level, emergencies at company level, reopened cases one level up', () => {
    expect(COMPLAINT_STAGES.map((s) => stageOwner(s, { emergency: false, levelUp: 0 }).level)).toEqual([
      'station',
      'area',
      'station',
      'area',
      'branch',
    ]);
    for (const s of COMPLAINT_STAGES) expect(stageOwner(s, { emergency: true, levelUp: 0 }).level).toBe('hq');
    expect(stageOwner('verify', { emergency: false, levelUp: 1 }).level).toBe('area');
    expect(stageOwner('archive', { emergency: false, levelUp: 5 }).level).toBe('hq');
    expect(stageOwner('callback', { emergency: false, levelUp: 0 }).roles).toContain('cs_agent');
  });

  it('picks the deepest unit of the chain at or above the owner level', () => {
    const chain = [
      { id: 1, rank: 1 },
      { id: 2, rank: 2 },
      { id: 3, rank: 3 },
      { id: 4, rank: 4 },
    ];
    expect(ownerUnit(chain, 4)!.id).toBe(4);
    expect(ownerUnit(chain, 3)!.id).toBe(3);
    expect(ownerUnit(chain.slice(0, 3), 4)!.id).toBe(3);
    expect(ownerUnit(chain, 1)!.id).toBe(1);
  });

  it('never lets a stage be skipped', () => {
    fc.assert(
      fc.property(fc.constantFrom(...COMPLAINT_STAGES), fc.constantFrom(...COMPLAINT_STAGES), (at, action) => {
        const r = checkStep(action, facts(at, { ownerRoles: ['station_manager'], rectifyEvidence: 1 }), station, {
          note: 'x',
          rating: 5,
        });
        expect(r.ok).toBe(at === action);
        if (!r.ok) expect(r.reason).toBe('order');
      }),
    );
  });

  it('refuses the wrong unit and the wrong role', () => {
    const r1 = checkStep(
      'verify',
      facts('verify'),
      { roleCodes: ['station_manager'], orgPath: '/1/2/3/5/' },
      { note: 'x' },
    );
    expect(r1).toMatchObject({ ok: false, reason: 'scope' });
    const r2 = checkStep('verify', facts('verify'), { roleCodes: ['attendant'], orgPath: '/1/2/3/4/' }, { note: 'x' });
    expect(r2).toMatchObject({ ok: false, reason: 'role' });
    const r3 = checkStep('verify', facts('verify'), { roleCodes: ['admin'], orgPath: '/1/' }, { note: 'x' });
    expect(r3.ok).toBe(true);
  });

  it('needs evidence to rectify, a rating to call back, a reason to return', () => {
    expect(checkStep('rectify', facts('rectify'), station, { note: 'fixed' })).toMatchObject({ reason: 'evidence' });
    expect(checkStep('rectify', facts('rectify', { rectifyEvidence: 1 }), station, { note: 'fixed' }).ok).toBe(true);
    const cb = facts('callback', { ownerRoles: ['cs_agent'] });
    const cs = { roleCodes: ['cs_agent'], orgPath: '/1/2/3/' };
    expect(checkStep('callback', cb, cs, { note: 'called' })).toMatchObject({ reason: 'rating' });
    expect(checkStep('callback', cb, cs, { note: 'called', rating: 6 })).toMatchObject({ reason: 'rating' });
    expect(checkStep('return', facts('verify'), station, { reason: 'x' })).toMatchObject({ reason: 'first_stage' });
    expect(checkStep('return', facts('rectify'), station, {})).toMatchObject({ reason: 'reason' });
    expect(allowedActions(facts('rectify'), station)).toEqual(['rectify', 'return']);
    expect(allowedActions(facts('verify'), { roleCodes: ['attendant'], orgPath: '/1/' })).toEqual([]);
  });

  it('reopens on a rating of 1 or 2, closes after archiving', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), (rating) => {
        const o = outcomeOf('callback', 'callback', { rating });
        expect(o.reopen).toBe(rating <= 2);
        expect(o.state).toBe(rating <= 2 ? 'verify' : 'archive');
      }),
    );
    expect(outcomeOf('archive', 'archive', {}).state).toBe('closed');
    expect(outcomeOf('return', 'review', { reason: 'x' }).state).toBe('verify');
  });

  it('flags safety, mass incidents, regulator and media cases as emergencies', () => {
    expect(isEmergency('station', true)).toBe(true);
    expect(isEmergency('regulator', false)).toBe(true);
    expect(isEmergency('media', false)).toBe(true);
    expect(isEmergency('hotline_400', false)).toBe(false);
  });

  it('finds duplicates within the window only, and says why', () => {
    const base = {
      customerId: 7,
      phone: '13800138000',
      plate: '冀A12345',
      orgUnitId: 4,
      category: 'service',
      takenAt: '2026-12-01T00:00:00Z',
    };
    expect(duplicateReasons(base, { ...base, takenAt: '2026-12-05T00:00:00Z' })).toEqual([
      'customer',
      'phone',
      'plate',
      'station_category',
    ]);
    expect(
      duplicateReasons(base, {
        ...base,
        customerId: null,
        phone: null,
        plate: null,
        orgUnitId: 5,
        takenAt: base.takenAt,
      }),
    ).toEqual([]);
    const late = new Date(Date.parse(base.takenAt) + (DUPLICATE_WINDOW_DAYS + 1) * 86_400_000).toISOString();
    expect(duplicateReasons(base, { ...base, takenAt: late })).toEqual([]);
  });

  it('numbers cases readably and computes a stage due time', () => {
    expect(caseNumber('2026-12', 123)).toBe('TS-202612-000123');
    expect(stageDueAt('verify', 2, '2026-12-01T00:00:00.000Z')).toBe('2026-12-01T02:00:00.000Z');
  });
});
